package ui

import (
	"context"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
)

// HTTPObserver counts requests (the metrics package's). route is the router's
// pattern, never the raw path.
type HTTPObserver interface {
	ObserveHTTP(route, method string, status int, d time.Duration)
}

// routesOps registers the operational routes: /readyz for load balancers
// (public, like /healthz; policy rows in migration 00023). Metrics are not
// served here but on their own listen address (DOCKET_METRICS_LISTEN).
func (s *Server) routesOps() {
	s.echo.GET("/readyz", s.readyz)
}

// dropBadRequestID keeps a proxy's X-Request-ID only when it is a short token;
// anything else (long, or with characters a log reader could be fooled by) is
// dropped and the RequestID middleware makes a fresh one.
func dropBadRequestID(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		h := c.Request().Header
		if id := h.Get(echo.HeaderXRequestID); id != "" && !goodRequestID(id) {
			h.Del(echo.HeaderXRequestID)
		}
		return next(c)
	}
}

func goodRequestID(id string) bool {
	if len(id) > 128 {
		return false
	}
	for _, r := range id {
		ok := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_.:/+=", r)
		if !ok {
			return false
		}
	}
	return true
}

// probe tells the routes load balancers poll, whose successes are not worth an
// info line each.
func probe(route string) bool { return route == "/healthz" || route == "/readyz" }

func (s *Server) readyz(c echo.Context) error {
	if s.ready != nil {
		s.ready.ServeHTTP(c.Response(), c.Request())
		return nil
	}
	ctx, cancel := context.WithTimeout(c.Request().Context(), time.Second)
	defer cancel()
	if err := s.db.Ping(ctx); err != nil {
		s.log.WarnContext(ctx, "not ready", "check", "database", "err", err)
		return c.String(http.StatusServiceUnavailable, "database: failing\n")
	}
	return c.String(http.StatusOK, "database: ok\n")
}
