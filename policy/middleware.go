package policy

import (
	"sync"

	"github.com/labstack/echo/v4"
)

// Middleware asks the enforcer about every routed request: subject returns the
// request's casbin subject ("anonymous" or "user:<id>"), and deny renders a refusal
// (a redirect to sign in, or 403). Requests that matched no route pass through to
// echo's 404/405 handlers, which reveal nothing.
func (en *Enforcer) Middleware(subject func(echo.Context) string, deny func(c echo.Context, subject string) error) echo.MiddlewareFunc {
	var (
		once   sync.Once
		routed map[string]bool // method + " " + path of every registered route
	)
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			// Routes are registered after the middleware, so index them on first use.
			once.Do(func() {
				routed = make(map[string]bool)
				for _, r := range c.Echo().Routes() {
					routed[r.Method+" "+r.Path] = true
				}
			})
			if !routed[c.Request().Method+" "+c.Path()] {
				return next(c)
			}
			sub := subject(c)
			ok, err := en.Allowed(sub, c.Path(), c.Request().Method)
			if err != nil {
				return err
			}
			if !ok {
				return deny(c, sub)
			}
			return next(c)
		}
	}
}
