package ui

import (
	"net/http"
	"net/url"

	"github.com/labstack/echo/v4"

	"github.com/dockethq/docket/internal/errs"
)

func (s *Server) loginForm(c echo.Context) error {
	if currentUser(c) != nil {
		return c.Redirect(http.StatusSeeOther, "/queue")
	}
	v := view{Title: "Sign in", Form: url.Values{"next": {safeNext(c.QueryParam("next"))}}}
	if c.QueryParam("signed_out") != "" {
		v.Data = "You are signed out."
	}
	return s.render(c, http.StatusOK, "login", v)
}

func (s *Server) loginSubmit(c echo.Context) error {
	ctx := c.Request().Context()
	email, password := c.FormValue("email"), c.FormValue("password")
	next := safeNext(c.FormValue("next"))
	u, err := s.users.Authenticate(ctx, email, password)
	if e, ok := errs.As(err); ok && e.Code == errs.Invalid {
		s.log.Info("sign-in refused", "route", c.Path()) // never the email or password
		return s.render(c, http.StatusUnprocessableEntity, "login", view{Title: "Sign in", Message: e.Message, Form: url.Values{"email": {email}, "next": {next}}})
	}
	if err != nil {
		return err
	}
	// A new token on privilege change stops session fixation.
	if err := s.sessions.RenewToken(ctx); err != nil {
		return err
	}
	s.sessions.Put(ctx, "user_id", u.ID)
	if next == "" {
		next = "/queue"
	}
	return c.Redirect(http.StatusSeeOther, next)
}

func (s *Server) logout(c echo.Context) error {
	if err := s.sessions.Destroy(c.Request().Context()); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/login?signed_out=1")
}
