package ui

import (
	"net/http"
	"slices"
	"strconv"

	"github.com/labstack/echo/v4"
	"gorm.io/gorm"

	"github.com/dockethq/docket/cases"
	"github.com/dockethq/docket/internal/errs"
	"github.com/dockethq/docket/policy"
)

type adminPolicyPage struct {
	Rules   []policy.Rule
	Roles   []string
	CanEdit bool
	Flash   string
}

func (s *Server) renderPolicy(c echo.Context, status int, v view) error {
	rules, err := policy.Rules(s.db.R.WithContext(c.Request().Context()))
	if err != nil {
		return err
	}
	v.Title = "Access policy"
	v.Data = adminPolicyPage{Rules: rules, Roles: append(slices.Clone(policy.Roles), "staff", policy.Anonymous),
		CanEdit: s.can(c, "/admin/policy", http.MethodPost), Flash: s.popFlash(c)}
	return s.render(c, status, "admin_policy", v)
}

func (s *Server) adminPolicy(c echo.Context) error { return s.renderPolicy(c, http.StatusOK, view{}) }

// policyChange runs a policy edit in a transaction and reloads the enforcer.
func (s *Server) policyChange(c echo.Context, done string, fn func(tx *gorm.DB) error) error {
	err := s.db.W.WithContext(c.Request().Context()).Transaction(fn)
	if e, ok := errs.As(err); ok && e.Code != errs.Internal {
		form, _ := c.FormParams()
		status := http.StatusConflict
		switch e.Code {
		case errs.Invalid:
			status = http.StatusUnprocessableEntity
		case errs.NotFound:
			status = http.StatusNotFound
		}
		return s.renderPolicy(c, status, view{Message: e.Message, Errors: e.Fields, Form: form})
	}
	if err != nil {
		return err
	}
	if err := s.enforcer.Reload(); err != nil {
		return err
	}
	s.flash(c, done)
	return c.Redirect(http.StatusSeeOther, "/admin/policy")
}

func (s *Server) adminPolicyAdd(c echo.Context) error {
	r := policy.Rule{Kind: c.FormValue("kind"), Role: c.FormValue("role"), Object: c.FormValue("object"), Action: c.FormValue("action")}
	return s.policyChange(c, "Rule added: "+r.Describe()+".", func(tx *gorm.DB) error {
		return policy.AddRule(tx, s.now(), subject(c), r)
	})
}

func (s *Server) adminPolicyDelete(c echo.Context) error {
	id, _ := strconv.ParseInt(c.FormValue("id"), 10, 64)
	return s.policyChange(c, "Rule removed.", func(tx *gorm.DB) error {
		return policy.DeleteRule(tx, s.now(), subject(c), id)
	})
}

// adminUserRoles replaces a user's roles. Granting yourself a sign-off role while
// terminations are waiting is allowed (an admin may also be counsel) but recorded
// as such in the audit event, with the proposals in flight.
func (s *Server) adminUserRoles(c echo.Context) error {
	ctx := c.Request().Context()
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil {
		return errs.E(errs.NotFound, "No such user.")
	}
	target, err := s.users.Get(ctx, id)
	if err != nil {
		return err
	}
	form, _ := c.FormParams()
	roles := form["roles"]
	if len(roles) == 0 {
		p, err := s.adminUsersData(c)
		if err != nil {
			return err
		}
		return s.render(c, http.StatusUnprocessableEntity, "admin_users", view{Title: "Users", Data: p, Message: "Keep at least one role."})
	}
	me := currentUser(c)
	extra := map[string]any{}
	if me.ID == target.ID {
		extra["self_grant"] = true
		if !slices.Contains(roles, policy.Admin) {
			p, _ := s.adminUsersData(c)
			return s.render(c, http.StatusConflict, "admin_users", view{Title: "Users", Data: p, Message: "You cannot remove your own admin role; ask another admin."})
		}
	}
	if slices.ContainsFunc(roles, func(r string) bool { return slices.Contains(cases.SignoffRoles, r) }) {
		pending, err := s.cases.PendingSignoffs(ctx, cases.Queues)
		if err != nil {
			return err
		}
		var ids []int64
		for _, p := range pending {
			ids = append(ids, p.Decision.ID)
		}
		if len(ids) > 0 {
			extra["signoff_role_while_in_flight"] = ids
		}
	}
	err = s.db.W.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		return policy.SetUserRoles(tx, s.now(), subject(c), target.ID, roles, extra)
	})
	if e, ok := errs.As(err); ok && e.Code == errs.Invalid {
		p, perr := s.adminUsersData(c)
		if perr != nil {
			return perr
		}
		return s.render(c, http.StatusUnprocessableEntity, "admin_users", view{Title: "Users", Data: p, Message: e.Message, Errors: e.Fields})
	}
	if err != nil {
		return err
	}
	if err := s.enforcer.Reload(); err != nil {
		return err
	}
	s.flash(c, "Roles of "+target.Email+" updated.")
	return c.Redirect(http.StatusSeeOther, "/admin/users")
}
