package ui

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/dockethq/docket/cases"
	"github.com/dockethq/docket/internal/errs"
)

func (s *Server) home(c echo.Context) error {
	return s.render(c, http.StatusOK, "home", view{Title: "Report abuse"})
}

func (s *Server) reportForm(c echo.Context) error {
	form := c.Request().URL.Query()
	return s.render(c, http.StatusOK, "report", view{Title: "Report abuse", Form: form})
}

// reportSubmit files a public report. On invalid input it re-renders the form
// with 422, keeping what was typed; on success it redirects to the receipt so a
// reload cannot file the report twice.
func (s *Server) reportSubmit(c echo.Context) error {
	form, err := c.FormParams()
	if err != nil {
		return echo.NewHTTPError(http.StatusBadRequest, "The form could not be read. Reload the page and try again.")
	}
	rep, err := s.cases.FileReport(c.Request().Context(), cases.NewReport{
		Channel:       cases.ChannelWeb,
		ReporterKind:  cases.ReporterPublic,
		ReporterName:  form.Get("name"),
		ReporterEmail: form.Get("email"),
		Category:      cases.Category(form.Get("category")),
		URL:           form.Get("url"),
		Description:   form.Get("description"),
		GoodFaith:     form.Get("good_faith") == "yes",
		Forward:       forwardFromForm(form),
	})
	if e, ok := errs.As(err); ok && e.Code == errs.Invalid {
		return s.render(c, http.StatusUnprocessableEntity, "report", view{Title: "Report abuse", Errors: e.Fields, Message: e.Message, Form: form})
	}
	if err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/report/receipt/"+rep.PublicID)
}

func (s *Server) receipt(c echo.Context) error {
	r, err := s.cases.Receipt(c.Request().Context(), c.Param("id"))
	if err != nil {
		return err
	}
	return s.render(c, http.StatusOK, "receipt", view{Title: "Report received", Data: r})
}
