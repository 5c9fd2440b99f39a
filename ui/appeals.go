package ui

import (
	"errors"
	"net/http"
	"net/url"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/dockethq/docket/cases"
	"github.com/dockethq/docket/internal/errs"
	"github.com/dockethq/docket/internal/signedlink"
)

// routesAppeals registers the appeal pages: the public page behind a signed
// link, and the reviewers' appeals queue and appeal view.
func (s *Server) routesAppeals() {
	e := s.echo
	e.GET("/appeal/:token", s.appealPublic)
	e.POST("/appeal/:token", s.appealPublicPost)
	e.GET("/appeals", s.appealsQueue)
	e.GET("/appeals/:id", s.appealView)
	e.POST("/appeals/:id/reply", s.appealReply)
	e.POST("/appeals/:id/uphold", s.appealResolve(cases.AppealUpheld))
	e.POST("/appeals/:id/reverse", s.appealResolve(cases.AppealReversed))
}

func init() {
	actionLabels["case.appeal"] = "Appealed"
	actionLabels["case.resolve"] = "Appeal upheld, case closed"
	actionLabels["case.overturn"] = "Decision reversed on appeal"
	actionLabels["appeal.filed"] = "Appeal filed"
	actionLabels["appeal.message"] = "Appellant wrote"
	actionLabels["appeal.reply"] = "Reply to the appellant"
	actionLabels["appeal.upheld"] = "Appeal upheld"
	actionLabels["appeal.reversed"] = "Appeal granted"
}

// appealLink checks a token as a customer's or a reporter's appeal link.
func (s *Server) appealLink(token string) (cases.AppealLink, error) {
	expired := false
	for _, p := range []string{cases.AppealPurposeCustomer, cases.AppealPurposeReporter} {
		id, _, err := s.links.Verify(p, token)
		switch {
		case err == nil:
			return cases.AppealLink{Purpose: p, ID: id}, nil
		case errors.Is(err, signedlink.ErrExpired):
			expired = true
		}
	}
	if expired {
		return cases.AppealLink{}, echo.NewHTTPError(http.StatusGone, "This appeal link has expired. The time to appeal is at least six months after the decision; if you believe you are still within it, reply to the notice we sent you.")
	}
	return cases.AppealLink{}, errs.E(errs.NotFound, "This appeal link is not valid. Check that you copied the whole address from our message.")
}

type appealPublicPage struct {
	S       *cases.AppealSubject
	Token   string
	Action  string
	Appeal  bool // the appellant may file an appeal now
	Blocked string
	Flash   string
}

func (s *Server) appealPublic(c echo.Context) error {
	return s.renderAppealPublic(c, http.StatusOK, view{})
}

func (s *Server) renderAppealPublic(c echo.Context, status int, v view) error {
	token := c.Param("token")
	l, err := s.appealLink(token)
	if err != nil {
		return err
	}
	sub, err := s.cases.AppealFor(c.Request().Context(), l)
	if err != nil {
		return err
	}
	p := appealPublicPage{S: sub, Token: token, Action: humanDecision(sub.Decision.Action), Flash: s.popFlash(c)}
	if sub.Appeal == nil {
		if err := cases.Appealable(sub.Appellant, &sub.Decision); err != nil {
			p.Blocked = err.Error()
		} else if !s.now().Before(sub.Deadline) {
			p.Blocked = "The time to appeal this decision has ended."
		} else {
			p.Appeal = true
		}
	}
	v.Title, v.Data = "Appeal a decision about "+sub.Case.Hostname, p
	return s.render(c, status, "appeal_public", v)
}

func humanDecision(a cases.DecisionAction) string {
	return map[cases.DecisionAction]string{cases.NoAction: "No action", cases.Warn: "Warning", cases.Restrict: "Restriction",
		cases.Terminate: "Termination of service", cases.Reinstate: "Reinstatement"}[a]
}

// appealPublicPost files the appeal, or adds a message to an open one.
func (s *Server) appealPublicPost(c echo.Context) error {
	l, err := s.appealLink(c.Param("token"))
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	form, _ := c.FormParams()
	msg := "Your appeal has been received. We will write to you when it is decided."
	if form.Has("body") {
		err = s.cases.AppellantMessage(ctx, l, form.Get("body"))
		msg = "Your message has been added to the appeal."
	} else {
		_, err = s.cases.FileAppeal(ctx, l, form.Get("grounds"))
	}
	if e, ok := errs.As(err); ok && e.Code != errs.Internal && e.Code != errs.NotFound {
		return s.renderAppealPublic(c, errStatus(e), view{Message: e.Message, Errors: e.Fields, Form: form})
	}
	if err != nil {
		return err
	}
	s.flash(c, msg)
	return c.Redirect(http.StatusSeeOther, "/appeal/"+url.PathEscape(c.Param("token")))
}

func errStatus(e *errs.Error) int {
	switch e.Code {
	case errs.Invalid:
		return http.StatusUnprocessableEntity
	case errs.Forbidden:
		return http.StatusForbidden
	case errs.NotFound:
		return http.StatusNotFound
	}
	return http.StatusConflict
}

type appealsPage struct {
	Rows  []cases.AppealRow
	State string
}

// appealsQueue lists appeals: open ones oldest first.
func (s *Server) appealsQueue(c echo.Context) error {
	state := c.QueryParam("state")
	switch state {
	case "":
		state = cases.AppealOpen
	case cases.AppealOpen, cases.AppealUpheld, cases.AppealReversed, "all":
	default:
		return errs.E(errs.Invalid, "Choose open, upheld, reversed or all appeals.")
	}
	q := state
	if q == "all" {
		q = ""
	}
	rows, err := s.cases.Appeals(c.Request().Context(), s.readableQueues(c), q, 500)
	if err != nil {
		return err
	}
	return s.render(c, http.StatusOK, "appeals", view{Title: "Appeals", Data: appealsPage{Rows: rows, State: state}})
}

type appealPage struct {
	V        *cases.AppealView
	Names    map[int64]string
	Bar      string // why the viewer may not review, if they took part in the decision
	CanReply bool
	CanRule  bool
	Flash    string
	Action   string // the decision under appeal, for people
}

// Name is the name of the user id points to.
func (p appealPage) Name(id *int64) string {
	if id == nil {
		return ""
	}
	return p.Names[*id]
}

func (s *Server) appealView(c echo.Context) error { return s.renderAppeal(c, http.StatusOK, view{}) }

func (s *Server) renderAppeal(c echo.Context, status int, v view) error {
	ctx := c.Request().Context()
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil {
		return errs.E(errs.NotFound, "There is no such appeal.")
	}
	av, err := s.cases.AppealDetail(ctx, id, s.readableQueues(c))
	if err != nil {
		return err
	}
	us, err := s.users.List(ctx)
	if err != nil {
		return err
	}
	p := appealPage{V: av, Names: map[int64]string{}, Flash: s.popFlash(c), Action: humanDecision(av.Decision.Action)}
	for _, u := range us {
		p.Names[u.ID] = u.Name
	}
	if av.Appeal.State == cases.AppealOpen {
		if err := s.cases.ReviewBar(ctx, currentUser(c).ID, &av.Decision); err != nil {
			p.Bar = err.Error()
		} else {
			p.CanReply = s.can(c, "/appeals/:id/reply", http.MethodPost)
			p.CanRule = s.can(c, "/appeals/:id/uphold", http.MethodPost) && s.can(c, "/appeals/:id/reverse", http.MethodPost)
		}
	}
	v.Title, v.Data = "Appeal "+strconv.FormatInt(id, 10)+" · "+av.Case.Hostname, p
	return s.render(c, status, "appeal", v)
}

// appealAct runs a reviewer's action on an appeal the viewer may read.
func (s *Server) appealAct(c echo.Context, done string, fn func(id int64) error) error {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil {
		return errs.E(errs.NotFound, "There is no such appeal.")
	}
	if _, err := s.cases.AppealDetail(c.Request().Context(), id, s.readableQueues(c)); err != nil {
		return err
	}
	if err := fn(id); err != nil {
		if e, ok := errs.As(err); ok && e.Code != errs.Internal && e.Code != errs.NotFound {
			form, _ := c.FormParams()
			return s.renderAppeal(c, errStatus(e), view{Message: e.Message, Errors: e.Fields, Form: form})
		}
		return err
	}
	s.flash(c, done)
	return c.Redirect(http.StatusSeeOther, "/appeals/"+strconv.FormatInt(id, 10))
}

func (s *Server) appealReply(c echo.Context) error {
	return s.appealAct(c, "Reply sent to the appellant.", func(id int64) error {
		return s.cases.ReplyAppeal(c.Request().Context(), s.actor(c), id, c.FormValue("body"))
	})
}

func (s *Server) appealResolve(verdict string) echo.HandlerFunc {
	return func(c echo.Context) error {
		done := "Appeal upheld: the decision stands."
		if verdict == cases.AppealReversed {
			done = "Appeal granted: the decision is reversed and the case is back in review."
		}
		return s.appealAct(c, done, func(id int64) error {
			var err error
			if verdict == cases.AppealReversed {
				_, err = s.cases.ReverseAppeal(c.Request().Context(), s.actor(c), id, c.FormValue("outcome"))
			} else {
				_, err = s.cases.UpholdAppeal(c.Request().Context(), s.actor(c), id, c.FormValue("outcome"))
			}
			return err
		})
	}
}
