package ui

import (
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/dockethq/docket/cases"
	"github.com/dockethq/docket/internal/errs"
)

type adminQueuesPage struct {
	Rules      []cases.QueueRule
	Queues     []string
	Categories []cases.CategoryInfo
	Flash      string
}

func (s *Server) renderQueues(c echo.Context, status int, v view) error {
	rules, err := s.cases.QueueRules(c.Request().Context())
	if err != nil {
		return err
	}
	v.Title = "Queue routing"
	v.Data = adminQueuesPage{Rules: rules, Queues: cases.Queues, Categories: cases.Categories, Flash: s.popFlash(c)}
	return s.render(c, status, "admin_queues", v)
}

func (s *Server) adminQueues(c echo.Context) error { return s.renderQueues(c, http.StatusOK, view{}) }

func (s *Server) adminQueuesCreate(c echo.Context) error {
	form, err := c.FormParams()
	if err != nil {
		return echo.NewHTTPError(http.StatusBadRequest, "The form could not be read.")
	}
	pos, _ := strconv.Atoi(form.Get("position"))
	sev, err := strconv.Atoi(form.Get("min_severity"))
	if form.Get("min_severity") == "" {
		sev, err = 0, nil
	}
	if err != nil {
		return s.renderQueues(c, http.StatusUnprocessableEntity, view{Message: "Please correct the highlighted fields.", Errors: map[string]string{"min_severity": "Enter a number from 0 to 100."}, Form: form})
	}
	_, err = s.cases.AddQueueRule(c.Request().Context(), s.actor(c), cases.QueueRule{
		Position: pos, Category: cases.Category(form.Get("category")), MinSeverity: sev,
		Plan: form.Get("plan"), TrustedFlagger: form.Get("trusted_flagger") == "yes", Queue: form.Get("queue"),
	})
	if e, ok := errs.As(err); ok && e.Code == errs.Invalid {
		return s.renderQueues(c, http.StatusUnprocessableEntity, view{Message: e.Message, Errors: e.Fields, Form: form})
	}
	if err != nil {
		return err
	}
	s.flash(c, "Routing rule added. It applies to cases opened or updated from now on.")
	return c.Redirect(http.StatusSeeOther, "/admin/queues")
}

func (s *Server) adminQueuesDelete(c echo.Context) error {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil {
		return errs.E(errs.NotFound, "There is no such routing rule.")
	}
	if err := s.cases.DeleteQueueRule(c.Request().Context(), s.actor(c), id); err != nil {
		return err
	}
	s.flash(c, "Routing rule removed.")
	return c.Redirect(http.StatusSeeOther, "/admin/queues")
}
