package ui

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/dockethq/docket/cases"
	"github.com/dockethq/docket/inbox"
	"github.com/dockethq/docket/intake/abusemail"
	"github.com/dockethq/docket/internal/errs"
)

// routesMail registers email intake's unparsed-mail queue (policy rows in
// migration 00020, matrix rows in mail_test.go).
func (s *Server) routesMail() {
	e := s.echo
	e.GET("/mail", s.mailQueue)
	e.GET("/mail/:id", s.mailMessage)
	e.POST("/mail/:id/file", s.mailFile)
	e.POST("/mail/:id/dismiss", s.mailDismiss)
}

type mailQueuePage struct {
	Mail     []inbox.Mail
	Status   string
	Statuses []string
	Flash    string
}

func (s *Server) mailQueue(c echo.Context) error {
	status := c.QueryParam("status")
	ms, err := s.inbox.List(c.Request().Context(), status, 200, s.seeRestricted(c))
	if err != nil {
		return err
	}
	return s.render(c, http.StatusOK, "mail", view{Title: "Unparsed mail", Data: mailQueuePage{Mail: ms, Status: status, Statuses: inbox.Statuses, Flash: s.popFlash(c)}})
}

// rawShown bounds the source shown on the page; the stored message is whole.
const rawShown = 512 << 10

type mailMessagePage struct {
	V        *inbox.View
	Header   string // the raw header block, as text
	Source   string // the raw message as text (escaped by the template, never rendered)
	Cut      bool   // Source is the first rawShown bytes only
	CanFile  bool
	Waiting  bool
	Flash    string
	Defaults url.Values
}

func (s *Server) mailPage(c echo.Context, id int64) (*mailMessagePage, error) {
	v, err := s.inbox.Get(c.Request().Context(), id, s.seeRestricted(c))
	if err != nil {
		return nil, err
	}
	raw := v.Mail.Raw
	p := &mailMessagePage{V: v, CanFile: s.can(c, "/mail/:id/file", http.MethodPost) && v.Mail.Status != inbox.StatusDismissed, Flash: s.popFlash(c)}
	p.Waiting = v.Mail.Status == inbox.StatusParsed || v.Mail.Status == inbox.StatusUnparsed
	head := raw[:abusemail.HeaderEnd(raw)]
	p.Header = strings.ToValidUTF8(string(head[:min(len(head), rawShown)]), "\uFFFD")
	p.Cut = len(raw) > rawShown
	p.Source = strings.ToValidUTF8(string(raw[:min(len(raw), rawShown)]), "\uFFFD")
	// What the form starts with: Docket's reading of the message, if any.
	p.Defaults = url.Values{}
	if v.Parsed != nil && len(v.Parsed.Reports) > 0 {
		r := v.Parsed.Reports[0]
		p.Defaults.Set("category", string(r.Category))
		switch {
		case len(r.URLs) > 0:
			p.Defaults.Set("url", r.URLs[0])
		case len(r.Domains) > 0:
			p.Defaults.Set("url", "http://"+r.Domains[0]+"/")
		}
		p.Defaults.Set("description", r.Description)
	} else {
		if us := abusemail.URLsIn(raw, 1); len(us) > 0 {
			p.Defaults.Set("url", us[0])
		}
		p.Defaults.Set("description", "Filed from inbound mail #"+strconv.FormatInt(v.Mail.ID, 10)+": "+v.Mail.Subject)
	}
	return p, nil
}

func (s *Server) mailMessage(c echo.Context) error {
	id, ok := parseID(c, "id")
	if !ok {
		return inbox.ErrNotFound
	}
	p, err := s.mailPage(c, id)
	if err != nil {
		return err
	}
	return s.render(c, http.StatusOK, "mail_message", view{Title: "Mail #" + c.Param("id"), Data: p, Form: p.Defaults})
}

// mailRerender shows the message page again with the reviewer's input and
// the error (422 for field errors, else the error's own status).
func (s *Server) mailRerender(c echo.Context, id int64, form url.Values, err error) error {
	e, ok := errs.As(err)
	if !ok || e.Code != errs.Invalid {
		return err
	}
	p, perr := s.mailPage(c, id)
	if perr != nil {
		return perr
	}
	return s.render(c, http.StatusUnprocessableEntity, "mail_message", view{Title: "Mail #" + c.Param("id"), Data: p, Form: form, Errors: e.Fields, Message: e.Message})
}

func (s *Server) mailFile(c echo.Context) error {
	id, ok := parseID(c, "id")
	if !ok {
		return inbox.ErrNotFound
	}
	form, err := c.FormParams()
	if err != nil {
		return echo.NewHTTPError(http.StatusBadRequest, "The form could not be read.")
	}
	rep, err := s.inbox.File(c.Request().Context(), s.mailActor(c), id, inbox.Filing{
		Category: cases.Category(form.Get("category")), URL: form.Get("url"), Description: form.Get("description"),
	})
	if err != nil {
		return s.mailRerender(c, id, form, err)
	}
	s.flash(c, "Filed as report "+rep.PublicID+".")
	return c.Redirect(http.StatusSeeOther, "/mail/"+strconv.FormatInt(id, 10))
}

func (s *Server) mailDismiss(c echo.Context) error {
	id, ok := parseID(c, "id")
	if !ok {
		return inbox.ErrNotFound
	}
	form, err := c.FormParams()
	if err != nil {
		return echo.NewHTTPError(http.StatusBadRequest, "The form could not be read.")
	}
	if err := s.inbox.Dismiss(c.Request().Context(), s.mailActor(c), id, form.Get("reason")); err != nil {
		return s.mailRerender(c, id, form, err)
	}
	s.flash(c, "Dismissed mail #"+strconv.FormatInt(id, 10)+".")
	return c.Redirect(http.StatusSeeOther, "/mail")
}

func (s *Server) mailActor(c echo.Context) inbox.Actor {
	if u := currentUser(c); u != nil {
		return inbox.Actor{UserID: u.ID, SeeRestricted: s.seeRestricted(c)}
	}
	return inbox.Actor{}
}

// seeRestricted: mail about csam is for those who may read the restricted queue.
func (s *Server) seeRestricted(c echo.Context) bool {
	return s.can(c, "queue/"+cases.QueueRestricted, "read")
}
