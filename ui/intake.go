package ui

// Intake hardening (issue 7): rate limits on the public form, the status lookup
// and the flaggers' API; the public status page; the API's OpenAPI document.

import (
	_ "embed"
	"net"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/dockethq/docket/cases"
	"github.com/dockethq/docket/internal/errs"
	"github.com/dockethq/docket/internal/ratelimit"
)

// Limits configures the intake rate limits. A zero Limit is no limit (the zero
// Limits, as in most tests, limits nothing); cmd/docket sets the defaults.
type Limits struct {
	Form   ratelimit.Limit // POST /report, per client address (IPv6: per /64)
	Status ratelimit.Limit // POST /status, per client address
	APIKey ratelimit.Limit // POST /api/v1/reports, per API key (a batch is one request)
	// Store holds the counts: nil is one in this process. Several instances on
	// one PostgreSQL database share ratelimit.NewDB.
	Store ratelimit.Store
	// TrustedProxies are the proxies whose X-Forwarded-For is believed. Without
	// any, the client address is the connection's, whatever headers say, so a
	// forged header cannot dodge a limit.
	TrustedProxies []*net.IPNet
}

func (l *Limits) ipExtractor() echo.IPExtractor {
	if len(l.TrustedProxies) == 0 {
		return echo.ExtractIPDirect()
	}
	opts := []echo.TrustOption{echo.TrustLoopback(false), echo.TrustLinkLocal(false), echo.TrustPrivateNet(false)}
	for _, n := range l.TrustedProxies {
		opts = append(opts, echo.TrustIPRange(n))
	}
	return echo.ExtractIPFromXFFHeader(opts...)
}

// rateLimit throttles the intake routes. It runs after the policy, so the API
// key of a request is known and refused requests cost nothing here.
func (s *Server) rateLimit(next echo.HandlerFunc) echo.HandlerFunc {
	if s.limits.Store == nil {
		s.limits.Store = ratelimit.NewMemory(0)
	}
	return func(c echo.Context) error {
		var key string
		var l ratelimit.Limit
		switch c.Request().Method + " " + c.Path() {
		case "POST /report":
			key, l = "form:"+ratelimit.ClientKey(c.RealIP()), s.limits.Form
		case "POST /status":
			key, l = "status:"+ratelimit.ClientKey(c.RealIP()), s.limits.Status
		case "POST /api/v1/reports":
			if k := currentKey(c); k != nil {
				key, l = "apikey:"+strconv.FormatInt(k.ID, 10), s.limits.APIKey
			}
		}
		if key == "" || l.Off() {
			return next(c)
		}
		d, err := s.limits.Store.Allow(c.Request().Context(), key, l, s.now())
		if err != nil {
			return err
		}
		if d.Allowed {
			return next(c)
		}
		secs := d.RetryAfterSeconds()
		c.Response().Header().Set("Retry-After", strconv.Itoa(secs))
		wait := "in " + strconv.Itoa(secs) + " seconds"
		if secs >= 120 {
			wait = "in " + strconv.Itoa((secs+59)/60) + " minutes"
		}
		if isAPI(c) {
			return apiJSON(c, http.StatusTooManyRequests, map[string]any{"error": "Too many requests with this API key; retry " + wait + " (Retry-After).", "retry_after": secs})
		}
		// Keep what the person typed: after the wait they send it again as is.
		form, _ := c.FormParams()
		page, title := "report", "Report abuse"
		if c.Path() == "/status" {
			page, title = "status", "Report status"
		}
		return s.render(c, http.StatusTooManyRequests, page, view{Title: title, Form: form,
			Message: "Too many requests from your network in a short time. Please wait a moment and send it again " + wait + "; what you typed is kept below."})
	}
}

func (s *Server) routesIntake() {
	s.echo.GET("/status", s.statusForm)
	s.echo.POST("/status", s.statusLookup)
	s.echo.GET("/api/v1/openapi.json", s.openAPI)
}

// statusForm is the reporter's status lookup: receipt id and email.
func (s *Server) statusForm(c echo.Context) error {
	return s.render(c, http.StatusOK, "status", view{Title: "Report status", Form: c.Request().URL.Query()})
}

// statusLookup answers a lookup. The email travels in a POST body, never a URL
// (so never in a log or a browser's history). A wrong receipt id and a wrong
// email get the same page, status and words.
func (s *Server) statusLookup(c echo.Context) error {
	form, err := c.FormParams()
	if err != nil {
		return echo.NewHTTPError(http.StatusBadRequest, "The form could not be read. Reload the page and try again.")
	}
	id, email := form.Get("receipt"), form.Get("email")
	f := map[string]string{}
	if len(id) == 0 || len(id) > 64 {
		f["receipt"] = "Enter the receipt id from your confirmation, like 01JDQ4ZK8T3V6N0Y2C5X7B9M1P."
	}
	if len(email) == 0 || len(email) > 254 {
		f["email"] = "Enter the email address you gave with the report."
	}
	if len(f) > 0 {
		return s.render(c, http.StatusUnprocessableEntity, "status", view{Title: "Report status", Errors: f, Form: form})
	}
	r, err := s.cases.Lookup(c.Request().Context(), id, email)
	if errs.CodeOf(err) == errs.NotFound {
		return s.render(c, http.StatusNotFound, "status", view{Title: "Report status", Form: form, Message: cases.ErrNoSuchReceipt.Error()})
	}
	if err != nil {
		return err
	}
	form.Del("email")
	return s.render(c, http.StatusOK, "status", view{Title: "Report status", Form: form, Data: r})
}

//go:embed openapi.json
var openAPIDoc []byte

// OpenAPI returns the API's OpenAPI 3 document (ui/openapi.json).
func OpenAPI() []byte { return openAPIDoc }

func (s *Server) openAPI(c echo.Context) error {
	c.Response().Header().Set("Cache-Control", "public, max-age=300")
	return c.Blob(http.StatusOK, echo.MIMEApplicationJSON, openAPIDoc)
}
