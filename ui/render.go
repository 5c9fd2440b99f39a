package ui

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"net"
	"net/http"
	"net/url"
	"path"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/dockethq/docket/cases"
	"github.com/dockethq/docket/internal/errs"
	"github.com/dockethq/docket/notify"
	"github.com/dockethq/docket/users"
)

//go:embed templates/*.html
var templateFS embed.FS

// pages holds every page template, each parsed once at start together with the
// layout and partials.
type pages struct {
	byName map[string]*template.Template
}

var funcs = template.FuncMap{
	"categoryLabel": func(c cases.Category) string { return c.Label() },
	"categories":    func() []cases.CategoryInfo { return cases.Categories },
	"ago":           ago,
	"until":         until,
	"timestamp":     func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04 UTC") },
	"iso":           func(t time.Time) string { return t.UTC().Format(time.RFC3339) },
	"overdue":       func(t, now time.Time) bool { return now.After(t) },
	"contains": func(list []string, v string) bool {
		for _, x := range list {
			if x == v {
				return true
			}
		}
		return false
	},
	"join":        strings.Join,
	"actionLabel": actionLabel,
	"humanize":    func(s any) string { return strings.ReplaceAll(fmt.Sprint(s), "_", " ") },
}

// actionLabels names audit actions for people; unknown actions show as recorded.
var actionLabels = map[string]string{
	"case.opened":      "Case opened",
	"report.filed":     "Report filed",
	"customer.created": "Customer created",
	"site.created":     "Site created",
	"user.created":     "User created",
	"user.roles_set":   "Roles changed",
	"case.claim":       "Claimed",
	"case.release":     "Released",
	"case.reassign":    "Reassigned",
	"case.escalate":    "Escalated",
	"case.close":       "Closed",
	"case.merge":       "Merged into another case",
	"case.split":       "A report moved out",
	"case.add_report":  "Reports merged in",
	"case.rerouted":    "Moved to another queue",
	"case.note":        "Note added",
	"case.decide":      "Decided",
	"case.propose":     "Termination proposed",
	"mail.received":    "Mail received",
	"mail.ingested":    "Mail read",
	"mail.filed":       "Filed as a report",
	"mail.dismissed":   "Dismissed",
}

func actionLabel(a string) string {
	if l, ok := actionLabels[a]; ok {
		return l
	}
	return a
}

func parsePages() (*pages, error) {
	p := &pages{byName: map[string]*template.Template{}}
	files, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		return nil, err
	}
	for _, f := range files {
		name := strings.TrimSuffix(path.Base(f), ".html")
		if strings.HasPrefix(name, "_") {
			continue // layout and partials
		}
		t, err := template.New(name).Funcs(funcs).ParseFS(templateFS, "templates/_*.html", f)
		if err != nil {
			return nil, fmt.Errorf("parse template %s: %w", f, err)
		}
		p.byName[name] = t
	}
	return p, nil
}

// view is the data every page gets.
type view struct {
	Title   string
	User    *users.User
	Roles   []string
	CSRF    string
	Errors  map[string]string // field → message
	Message string            // a page-level error or notice
	Form    url.Values        // what the user typed, to re-render after an error
	Now     time.Time
	Path    string // the route pattern, to mark the current page in navigation
	Nav     nav
	Data    any
}

// nav is what the staff shell's rail shows: links by permission, and badges.
type nav struct {
	Signoffs, Search, Queues, Users, Policy, Deliveries, Outbox, Flaggers bool
	DeadDeliveries                                                        int64
	PendingSignoffs                                                       int
	OverdueEmergencies                                                    int64 // emergency restrictions past their sign-off deadline
	Mail                                                                  bool  // the unparsed-mail queue
	WaitingMail                                                           int64
	Appeals                                                               bool
	OpenAppeals                                                           int64
	Audit                                                                 bool // the auditors' timelines
	SOR                                                                   bool // statements of reasons export
	AuditChain                                                            bool // the audit chain page
}

func (v view) Field(name string) string { return v.Form.Get(name) }

// render executes a page into a buffer first, so a template error becomes a clean
// 500 instead of half a page.
func (s *Server) render(c echo.Context, status int, page string, v view) error {
	t, ok := s.pages.byName[page]
	if !ok {
		return fmt.Errorf("no page template %q", page)
	}
	v.User = currentUser(c)
	if v.User != nil {
		v.Roles = s.users.Roles(v.User)
		v.Nav = nav{
			Signoffs: s.can(c, "/signoffs", http.MethodGet), Search: s.can(c, "/search", http.MethodGet),
			Queues: s.can(c, "/admin/queues", http.MethodGet), Users: s.can(c, "/admin/users", http.MethodGet),
			Policy: s.can(c, "/admin/policy", http.MethodGet), Deliveries: s.can(c, "/deliveries", http.MethodGet),
			Outbox: s.can(c, "/outbox", http.MethodGet), Flaggers: s.can(c, "/admin/flaggers", http.MethodGet),
			Audit: s.can(c, "/audit", http.MethodGet),
		}
		v.Nav.SOR = s.can(c, "/admin/sor", http.MethodGet)
		v.Nav.AuditChain = s.can(c, "/audit/chain", http.MethodGet)
		if v.Nav.Appeals = s.can(c, "/appeals", http.MethodGet); v.Nav.Appeals {
			v.Nav.OpenAppeals, _ = s.cases.OpenAppealCount(c.Request().Context(), s.readableQueues(c))
		}
		if v.Nav.Deliveries {
			v.Nav.DeadDeliveries, _ = notify.DeadCount(c.Request().Context(), s.db)
		}
		if v.Nav.Mail = s.can(c, "/mail", http.MethodGet); v.Nav.Mail {
			v.Nav.WaitingMail, _ = s.inbox.Waiting(c.Request().Context(), s.seeRestricted(c))
		}
		if v.Nav.Signoffs {
			v.Nav.PendingSignoffs = s.pendingCount(c)
			v.Nav.OverdueEmergencies, _ = s.cases.OverdueEmergencies(c.Request().Context())
		}
	}
	if tok, ok := c.Get("csrf").(string); ok {
		v.CSRF = tok
	}
	v.Now = s.now()
	v.Path = c.Path()
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout", v); err != nil {
		return fmt.Errorf("render %s: %w", page, err)
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.HTMLBlob(status, buf.Bytes())
}

// handleError turns any error into a plain page with the right status. Only
// internal errors are logged in full; users never see their detail.
func (s *Server) handleError(err error, c echo.Context) {
	if c.Response().Committed {
		return
	}
	status, msg := http.StatusInternalServerError, "Something went wrong on our side. It has been logged; please try again."
	var he *echo.HTTPError
	switch {
	case errors.As(err, &he):
		status = he.Code
		switch m := he.Message.(type) {
		case string:
			msg = m
		default:
			msg = http.StatusText(status)
		}
		if status == http.StatusNotFound {
			msg = "There is no page at this address."
		}
		if status == http.StatusRequestEntityTooLarge {
			msg = "What you sent is too large. Shorten the text and try again."
		}
	default:
		if e, ok := errs.As(err); ok && e.Code != errs.Internal {
			msg = e.Message
			switch e.Code {
			case errs.Invalid:
				status = http.StatusUnprocessableEntity
			case errs.NotFound:
				status = http.StatusNotFound
			case errs.Conflict:
				status = http.StatusConflict
			case errs.Forbidden:
				status = http.StatusForbidden
			}
		}
	}
	if status >= 500 {
		s.log.Error("request failed", "err", err, "route", c.Path(), "request_id", c.Response().Header().Get(echo.HeaderXRequestID))
	}
	if c.Request().Method == http.MethodHead {
		_ = c.NoContent(status)
		return
	}
	if isAPI(c) {
		body := map[string]any{"error": msg}
		if e, ok := errs.As(err); ok && len(e.Fields) > 0 {
			body["fields"] = e.Fields
		}
		_ = c.JSON(status, body)
		return
	}
	if rerr := s.render(c, status, "error", view{Title: http.StatusText(status), Message: msg}); rerr != nil {
		s.log.Error("render error page", "err", rerr)
		_ = c.String(status, msg)
	}
}

func ago(t, now time.Time) string {
	return human(now.Sub(t))
}

func until(t, now time.Time) string {
	d := t.Sub(now)
	if d < 0 {
		return human(-d) + " overdue"
	}
	return human(d) + " left"
}

func human(d time.Duration) string {
	switch {
	case d < time.Minute:
		return "<1m"
	case d < time.Hour:
		return fmt.Sprintf("%dm", int(d.Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh", int(d.Hours()))
	default:
		return fmt.Sprintf("%dd", int(d.Hours()/24))
	}
}

func urlQueryEscape(s string) string { return url.QueryEscape(s) }

// safeNext accepts only a local path for the post-login redirect, so /login
// cannot be used to bounce a user to another site.
func safeNext(next string) string {
	if next == "" || !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.ContainsAny(next, "\\\r\n") {
		return ""
	}
	return next
}

func listen(addr string) (net.Listener, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w", addr, err)
	}
	return ln, nil
}
