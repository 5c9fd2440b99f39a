package ui

import (
	"net/http"

	"github.com/labstack/echo/v4"
)

func (s *Server) home(c echo.Context) error {
	return s.render(c, http.StatusOK, "home", view{Title: "Report abuse"})
}
