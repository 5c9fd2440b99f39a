package ui

import (
	"net/http"
	"slices"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/dockethq/docket/cases"
)

type queueTab struct {
	Name   string
	Open   int64
	Active bool
}

type queuePage struct {
	Tabs      []queueTab
	Queue     string
	Sort      string
	Page      *cases.Page
	First     bool // the first page, which refreshes itself
	BulkClose bool // the viewer may bulk-close
	Flash     string
}

// queue shows one queue's open cases, ordered by priority (with ageing) or SLA,
// a page at a time.
func (s *Server) queue(c echo.Context) error {
	ctx := c.Request().Context()
	readable := s.readableQueues(c)
	q := c.QueryParam("queue")
	if q == "" || !slices.Contains(readable, q) {
		q = cases.QueueGeneral
		if len(readable) > 0 && !slices.Contains(readable, q) {
			q = readable[0]
		}
	}
	sort := cases.Sort(c.QueryParam("sort"))
	if sort != cases.SortSLA && sort != cases.SortNewest {
		sort = cases.SortPriority
	}
	page, err := s.cases.Search(ctx, cases.Filter{Queues: readable, Queue: q, Sort: sort, After: c.QueryParam("after"), Limit: 50})
	if err != nil {
		return err
	}
	counts, err := s.cases.OpenCount(ctx, readable)
	if err != nil {
		return err
	}
	p := queuePage{Queue: q, Sort: string(sort), Page: page, First: c.QueryParam("after") == "",
		BulkClose: s.can(c, "/cases/bulk-close", http.MethodPost), Flash: s.popFlash(c)}
	for _, name := range readable {
		p.Tabs = append(p.Tabs, queueTab{Name: name, Open: counts[name], Active: name == q})
	}
	return s.render(c, http.StatusOK, "queue", view{Title: "Review queue", Data: p})
}

func (s *Server) caseID(c echo.Context) (int64, error) {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil || id <= 0 {
		return 0, cases.ErrCaseNotFound
	}
	return id, nil
}

// flash messages survive one redirect, in the session.
func (s *Server) flash(c echo.Context, msg string) {
	s.sessions.Put(c.Request().Context(), "flash", msg)
}

func (s *Server) popFlash(c echo.Context) string {
	return s.sessions.PopString(c.Request().Context(), "flash")
}
