package ui

import (
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/dockethq/docket/cases"
	"github.com/dockethq/docket/internal/errs"
	"github.com/dockethq/docket/users"
)

type signoffsPage struct {
	Pending []cases.Pending
	Flash   string
}

// signoffs is the inbox of legal and leadership: every termination waiting for them.
func (s *Server) signoffs(c echo.Context) error {
	ps, err := s.cases.PendingSignoffs(c.Request().Context(), s.readableQueues(c))
	if err != nil {
		return err
	}
	return s.render(c, http.StatusOK, "signoffs", view{Title: "Sign-offs", Data: signoffsPage{Pending: ps, Flash: s.popFlash(c)}})
}

type briefPage struct {
	P         *cases.Pending
	V         *cases.CaseView
	Sources   map[cases.ReporterKind]int
	Names     map[int64]string
	Hostnames []string
	Roles     []string // the sign-off roles the viewer may give
	Proposer  string
	Mine      bool // the viewer proposed it
	Given     string
	Flash     string
	Ledger    *cases.Ledger // the customer's live strikes
}

// signoffBrief is the one-screen brief a lawyer or an executive decides from.
func (s *Server) signoffBrief(c echo.Context) error {
	return s.renderBrief(c, http.StatusOK, view{})
}

func (s *Server) renderBrief(c echo.Context, status int, v view) error {
	ctx := c.Request().Context()
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil {
		return errs.E(errs.NotFound, "There is no such proposal.")
	}
	queues := s.readableQueues(c)
	p, err := s.cases.Proposal(ctx, id, queues)
	if err != nil {
		return err
	}
	cv, err := s.cases.Get(ctx, p.Case.ID, queues)
	if err != nil {
		return err
	}
	u := currentUser(c)
	b := briefPage{P: p, V: cv, Sources: map[cases.ReporterKind]int{}, Names: map[int64]string{},
		Hostnames: p.Decision.HostnameList(), Mine: p.Decision.ProposerID == u.ID, Flash: s.popFlash(c)}
	for _, r := range cv.Reports {
		b.Sources[r.ReporterKind]++
	}
	if p.Case.CustomerID != nil {
		if b.Ledger, err = s.cases.Strikes(ctx, *p.Case.CustomerID, queues); err != nil {
			return err
		}
	}
	us, err := s.users.List(ctx)
	if err != nil {
		return err
	}
	for _, x := range us {
		b.Names[x.ID] = x.Name
	}
	b.Proposer = b.Names[p.Decision.ProposerID]
	for _, r := range cases.SignoffRoles {
		if s.can(c, "signoff/"+r, "give") && !p.Approved(r) {
			b.Roles = append(b.Roles, r)
		}
	}
	for _, so := range p.Signoffs {
		if so.UserID == u.ID {
			b.Given = so.Role
		}
	}
	v.Title = "Sign-off: " + p.Case.Hostname
	v.Data = b
	return s.render(c, status, "signoff", v)
}

// stepUp checks the password typed into a sign-off form: the gravest act in
// Docket is not taken on an unattended, signed-in laptop.
func (s *Server) stepUp(c echo.Context) error {
	u := currentUser(c)
	if _, err := s.users.Authenticate(c.Request().Context(), u.Email, c.FormValue("password")); err != nil {
		if err == users.ErrBadCredentials {
			return &errs.Error{Code: errs.Invalid, Message: "Re-enter your password to sign off.", Fields: map[string]string{"password": "That is not your password."}}
		}
		return err
	}
	return nil
}

func (s *Server) signoffVerdict(verdict string) echo.HandlerFunc {
	return func(c echo.Context) error {
		id, err := strconv.ParseInt(c.Param("id"), 10, 64)
		if err != nil {
			return errs.E(errs.NotFound, "There is no such proposal.")
		}
		ctx := c.Request().Context()
		// Only proposals on cases the viewer may read.
		if _, err := s.cases.Proposal(ctx, id, s.readableQueues(c)); err != nil {
			return err
		}
		form, _ := c.FormParams()
		role := form.Get("role")
		err = s.stepUp(c)
		if err == nil {
			_, err = s.cases.SignOff(ctx, s.actor(c), id, role, verdict, form.Get("comment"))
		}
		if e, ok := errs.As(err); ok && e.Code != errs.Internal && e.Code != errs.NotFound {
			status := map[errs.Code]int{errs.Invalid: http.StatusUnprocessableEntity, errs.Forbidden: http.StatusForbidden}[e.Code]
			if status == 0 {
				status = http.StatusConflict
			}
			form.Del("password")
			return s.renderBrief(c, status, view{Message: e.Message, Errors: e.Fields, Form: form})
		}
		if err != nil {
			return err
		}
		msg := "You approved as " + role + "."
		if verdict == "reject" {
			msg = "You rejected the proposal; the case is back in review."
		}
		s.flash(c, msg)
		return c.Redirect(http.StatusSeeOther, "/signoffs/"+strconv.FormatInt(id, 10))
	}
}

// pendingCount is the badge on the Sign-offs link, for those who sign off.
func (s *Server) pendingCount(c echo.Context) int {
	if !s.can(c, "/signoffs", http.MethodGet) {
		return 0
	}
	n, err := s.cases.PendingCountFor(c.Request().Context(), currentUser(c).ID, s.readableQueues(c))
	if err != nil {
		return 0
	}
	return int(n)
}
