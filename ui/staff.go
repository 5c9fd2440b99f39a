package ui

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/dockethq/docket/cases"
)

type queuePage struct {
	Items []cases.QueueItem
	Total int64
}

func (s *Server) queue(c echo.Context) error {
	items, total, err := s.cases.Queue(c.Request().Context(), cases.QueueFilter{Queues: s.readableQueues(c), Limit: 100})
	if err != nil {
		return err
	}
	return s.render(c, http.StatusOK, "queue", view{Title: "Review queue", Data: queuePage{Items: items, Total: total}})
}

func (s *Server) caseView(c echo.Context) error {
	id, ok := parseID(c, "id")
	if !ok {
		return cases.ErrCaseNotFound
	}
	v, err := s.cases.Get(c.Request().Context(), id, s.readableQueues(c))
	if err != nil {
		return err
	}
	return s.render(c, http.StatusOK, "case", view{Title: "Case " + c.Param("id"), Data: v})
}
