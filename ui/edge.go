package ui

import (
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/dockethq/docket/cases"
	"github.com/dockethq/docket/internal/errs"
	"github.com/dockethq/docket/reconcile"
)

// routesEdge registers edge reconciliation: all staff read it, admins re-send.
func (s *Server) routesEdge() {
	s.echo.GET("/edge/reconcile", s.edgeReconcile)
	s.echo.POST("/edge/reconcile/resend", s.edgeResend)
}

type reconcilePage struct {
	R         *reconcile.Report
	CanResend bool
	Flash     string
	None      bool // no edge target configured
}

// edgeReconcile compares Docket's desired state with every edge, live.
func (s *Server) edgeReconcile(c echo.Context) error {
	p := reconcilePage{CanResend: s.can(c, "/edge/reconcile/resend", http.MethodPost), Flash: s.popFlash(c)}
	if s.reconciler == nil || len(s.reconciler.Targets()) == 0 {
		p.None = true
		return s.render(c, http.StatusOK, "reconcile", view{Title: "Edge reconciliation", Data: p})
	}
	r, err := s.reconciler.Run(c.Request().Context())
	if err != nil {
		return err
	}
	p.R = r
	return s.render(c, http.StatusOK, "reconcile", view{Title: "Edge reconciliation", Data: p})
}

// edgeResend re-sends the desired directive for one hostname, or every
// repairable one, to one target.
func (s *Server) edgeResend(c echo.Context) error {
	if s.reconciler == nil {
		return reconcile.ErrNoTarget
	}
	target, host := c.FormValue("target"), strings.TrimSpace(c.FormValue("hostname"))
	n, err := s.reconciler.Repair(c.Request().Context(), s.actor(c).Subject(), target, host)
	var e *errs.Error
	switch {
	case errors.As(err, &e) && e.Code == errs.Conflict:
		s.flash(c, e.Message)
	case err != nil:
		return err
	case n == 0:
		s.flash(c, "Nothing to re-send: the edge already holds the desired state, or it is drift a re-send cannot repair.")
	default:
		s.flash(c, "Re-sent "+strconv.Itoa(n)+" desired "+plural(n, "directive", "directives")+" to "+target+".")
	}
	return c.Redirect(http.StatusSeeOther, "/edge/reconcile")
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// Expiry choices on the decision form, shortest first.
var lastsChoices = []struct {
	Value string
	Label string
}{
	{"", "until changed"}, {"1h", "1 hour"}, {"24h", "1 day"}, {"168h", "7 days"}, {"720h", "30 days"}, {"2160h", "90 days"},
}

// parseLasts reads the decision form's expiry: a Go duration from the list,
// or empty.
func parseLasts(v string) (time.Duration, error) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		return 0, &errs.Error{Code: errs.Invalid, Message: "Choose how long the measure lasts.", Fields: map[string]string{"lasts": "Choose one of the durations."}}
	}
	return d, nil
}

// reportURLs are the distinct URLs of a case's reports, for the block form.
func reportURLs(v *cases.CaseView) []string {
	var out []string
	seen := map[string]bool{}
	for _, r := range v.Reports {
		if !seen[r.URL] {
			seen[r.URL] = true
			out = append(out, r.URL)
		}
	}
	return out
}
