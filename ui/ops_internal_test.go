package ui

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
)

// FuzzRequestID: whatever a client sends as X-Request-ID, the id Docket logs
// and echoes is a short token, and a good one is kept as sent.
func FuzzRequestID(f *testing.F) {
	for _, s := range []string{"", "lb-1", "a b", "x\ny", "\"quoted\"", "ünïcode", string(make([]byte, 300))} {
		f.Add(s)
	}
	e := echo.New()
	e.Use(dropBadRequestID, middleware.RequestID())
	e.GET("/", func(c echo.Context) error { return c.NoContent(http.StatusNoContent) })
	f.Fuzz(func(t *testing.T, sent string) {
		req := httptest.NewRequest(http.MethodGet, "/", nil)
		req.Header[echo.HeaderXRequestID] = []string{sent}
		rec := httptest.NewRecorder()
		e.ServeHTTP(rec, req)
		got := rec.Header().Get(echo.HeaderXRequestID)
		if got == "" || !goodRequestID(got) {
			t.Fatalf("sent %q, logged %q", sent, got)
		}
		if sent != "" && goodRequestID(sent) && got != sent {
			t.Fatalf("a good id %q was replaced by %q", sent, got)
		}
	})
}
