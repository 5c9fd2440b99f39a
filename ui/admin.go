package ui

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/dockethq/docket/internal/errs"
	"github.com/dockethq/docket/policy"
	"github.com/dockethq/docket/users"
)

type userRow struct {
	User  users.User
	Roles []string
}

type adminUsersPage struct {
	Users     []userRow
	RoleNames []string
	Flash     string
	CanEdit   bool
	CanAudit  bool // the viewer may read each user's audit timeline
}

func (s *Server) adminUsersData(c echo.Context) (adminUsersPage, error) {
	us, err := s.users.List(c.Request().Context())
	if err != nil {
		return adminUsersPage{}, err
	}
	p := adminUsersPage{RoleNames: policy.Roles, Flash: s.popFlash(c), CanEdit: s.can(c, "/admin/users", http.MethodPost),
		// There is no page per user: each row links to that user's timeline,
		// asked of the timeline's own route so it never leads to a 403.
		CanAudit: s.can(c, "/audit/users/:id", http.MethodGet)}
	for _, u := range us {
		p.Users = append(p.Users, userRow{User: u, Roles: s.users.Roles(&u)})
	}
	return p, nil
}

func (s *Server) adminUsers(c echo.Context) error {
	p, err := s.adminUsersData(c)
	if err != nil {
		return err
	}
	return s.render(c, http.StatusOK, "admin_users", view{Title: "Users", Data: p})
}

func (s *Server) adminUsersCreate(c echo.Context) error {
	form, err := c.FormParams()
	if err != nil {
		return echo.NewHTTPError(http.StatusBadRequest, "The form could not be read.")
	}
	_, err = s.users.Create(c.Request().Context(), subject(c), users.NewUser{
		Email: form.Get("email"), Name: form.Get("name"), Password: form.Get("password"), Roles: form["roles"],
	})
	if e, ok := errs.As(err); ok && (e.Code == errs.Invalid || e.Code == errs.Conflict) {
		p, perr := s.adminUsersData(c)
		if perr != nil {
			return perr
		}
		form.Del("password")
		return s.render(c, http.StatusUnprocessableEntity, "admin_users", view{Title: "Users", Data: p, Errors: e.Fields, Message: e.Message, Form: form})
	}
	if err != nil {
		return err
	}
	s.flash(c, "Created "+form.Get("email")+".")
	return c.Redirect(http.StatusSeeOther, "/admin/users")
}
