package ui

import (
	"cmp"
	"net/http"
	"slices"

	"github.com/labstack/echo/v4"

	"github.com/dockethq/docket/internal/errs"
	"github.com/dockethq/docket/notify"
)

// noticeRow is a notice as the outbox shows it: a reporter's address only to
// those who may read reporter contacts.
type noticeRow struct {
	notify.Notice
	KindLabel string
	To        string
}

type outboxPage struct {
	Notices  []noticeRow
	State    string
	States   []string
	Notice   *noticeRow // the detail view
	Previews []previewRow
}

type previewRow struct {
	notify.Rendered
	KindLabel string
}

func (s *Server) noticeRow(c echo.Context, n notify.Notice) noticeRow {
	r := noticeRow{Notice: n, KindLabel: notify.KindLabel(cmp.Or(n.Topic, n.Kind)), To: n.Recipient}
	if notify.ToReporter(n.Kind) && !s.can(c, "reporter/contact", "read") {
		r.To = "reporter (address hidden)"
	}
	return r
}

// outbox lists the notices sent or waiting, and previews each template.
func (s *Server) outbox(c echo.Context) error {
	state := c.QueryParam("state")
	if state != "" && !slices.Contains(notify.NoticeStates, state) {
		return errs.E(errs.Invalid, "Filter by pending, sent or dead.")
	}
	ns, err := notify.Notices(c.Request().Context(), s.db, state, 200)
	if err != nil {
		return err
	}
	p := outboxPage{State: state, States: notify.NoticeStates}
	for _, n := range ns {
		p.Notices = append(p.Notices, s.noticeRow(c, n))
	}
	pv, err := notify.Previews()
	if err != nil {
		return err
	}
	for _, r := range pv {
		p.Previews = append(p.Previews, previewRow{Rendered: r, KindLabel: notify.KindLabel(r.Kind)})
	}
	return s.render(c, http.StatusOK, "outbox", view{Title: "Outbox", Data: p})
}

// outboxNotice shows one notice's text as it was sent.
func (s *Server) outboxNotice(c echo.Context) error {
	id, ok := parseID(c, "id")
	if !ok {
		return errs.E(errs.NotFound, "There is no such notice.")
	}
	n, err := notify.GetNotice(c.Request().Context(), s.db, id)
	if err != nil {
		return err
	}
	row := s.noticeRow(c, *n)
	if n.Topic != "" && !s.can(c, "reporter/contact", "read") {
		if row.Body, err = notify.WithholdReporter(c.Request().Context(), s.db, n); err != nil {
			return err
		}
	}
	return s.render(c, http.StatusOK, "outbox", view{Title: "Notice " + c.Param("id"), Data: outboxPage{Notice: &row}})
}
