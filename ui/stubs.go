package ui

import "github.com/labstack/echo/v4"

// Handlers being written; each moves to its own file.
func (s *Server) search(c echo.Context) error       { return echo.ErrNotImplemented }
func (s *Server) customerView(c echo.Context) error { return echo.ErrNotImplemented }
func (s *Server) apiQueues(c echo.Context) error    { return echo.ErrNotImplemented }
func (s *Server) apiCases(c echo.Context) error     { return echo.ErrNotImplemented }
func (s *Server) apiCase(c echo.Context) error      { return echo.ErrNotImplemented }
func (s *Server) apiClaim(c echo.Context) error     { return echo.ErrNotImplemented }
func (s *Server) apiRelease(c echo.Context) error   { return echo.ErrNotImplemented }
func (s *Server) apiNote(c echo.Context) error      { return echo.ErrNotImplemented }
func (s *Server) apiDecide(c echo.Context) error    { return echo.ErrNotImplemented }
