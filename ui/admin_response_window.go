package ui

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/dockethq/docket/cases"
	"github.com/dockethq/docket/internal/errs"
)

// The response window per category: how long a case forwarded to its customer
// waits for an answer before it returns to the top of the queue.

type adminWindowsPage struct {
	Windows []cases.WindowSetting
	Flash   string
}

func (s *Server) renderWindows(c echo.Context, status int, v view) error {
	ws, err := s.cases.ResponseWindows(c.Request().Context())
	if err != nil {
		return err
	}
	v.Title = "Response windows"
	v.Data = adminWindowsPage{Windows: ws, Flash: s.popFlash(c)}
	return s.render(c, status, "admin_response_windows", v)
}

func (s *Server) adminWindows(c echo.Context) error { return s.renderWindows(c, http.StatusOK, view{}) }

func (s *Server) adminWindowsSave(c echo.Context) error {
	form, err := c.FormParams()
	if err != nil {
		return echo.NewHTTPError(http.StatusBadRequest, "The form could not be read.")
	}
	hours := map[cases.Category]string{}
	for _, ci := range cases.Categories {
		if v, ok := form[cases.WindowField(ci.Category)]; ok && len(v) == 1 {
			hours[ci.Category] = v[0]
		}
	}
	err = s.cases.SetResponseWindows(c.Request().Context(), subject(c), hours)
	if e, ok := errs.As(err); ok && e.Code == errs.Invalid {
		return s.renderWindows(c, http.StatusUnprocessableEntity, view{Message: e.Message, Errors: e.Fields, Form: form})
	}
	if err != nil {
		return err
	}
	s.flash(c, "Response windows saved. They apply to cases forwarded from now on.")
	return c.Redirect(http.StatusSeeOther, "/admin/response-windows")
}
