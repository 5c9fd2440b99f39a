package ui_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"

	"github.com/dockethq/docket/internal/database"
	"github.com/dockethq/docket/internal/ratelimit"
	"github.com/dockethq/docket/policy"
	"github.com/dockethq/docket/ui"
)

// loadOpenAPI loads and validates the document; the router finds operations
// on the given servers (the document's own server is the relative "/").
func loadOpenAPI(t *testing.T, servers ...string) (*openapi3.T, routers.Router) {
	t.Helper()
	doc, err := openapi3.NewLoader().LoadFromData(ui.OpenAPI())
	if err != nil {
		t.Fatalf("load openapi.json: %v", err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		t.Fatalf("openapi.json is not a valid OpenAPI 3 document: %v", err)
	}
	for _, u := range servers {
		doc.Servers = append(doc.Servers, &openapi3.Server{URL: u})
	}
	r, err := legacy.NewRouter(doc)
	if err != nil {
		t.Fatal(err)
	}
	return doc, r
}

// Every /api/v1 route registered in echo is in the document, and every
// operation of the document is a registered route.
func TestOpenAPIMatchesRoutes(t *testing.T) {
	e := newEnv(t, database.SQLite)
	doc, _ := loadOpenAPI(t)
	registered := map[string]bool{}
	for _, r := range e.ui.Echo().Routes() {
		if !strings.HasPrefix(r.Path, "/api/v1/") {
			continue
		}
		parts := strings.Split(r.Path, "/")
		for i, p := range parts {
			if strings.HasPrefix(p, ":") {
				parts[i] = "{" + p[1:] + "}"
			}
		}
		path := strings.Join(parts, "/")
		registered[r.Method+" "+path] = true
		item := doc.Paths.Value(path)
		if item == nil || item.GetOperation(r.Method) == nil {
			t.Errorf("route %s %s is not in openapi.json", r.Method, path)
		}
	}
	for path, item := range doc.Paths.Map() {
		for method := range item.Operations() {
			if !registered[method+" "+path] {
				t.Errorf("openapi.json has %s %s, which no route serves", method, path)
			}
		}
	}
	res := e.client().get("/api/v1/openapi.json")
	if res.StatusCode != http.StatusOK || !strings.HasPrefix(res.Header.Get("Content-Type"), "application/json") || res.Body != string(ui.OpenAPI()) {
		t.Errorf("GET /api/v1/openapi.json: %d %s", res.StatusCode, res.Header.Get("Content-Type"))
	}
}

// Real requests to the handlers, and their real answers, validate against the
// document: every documented status the intake API gives, and the staff reads.
func TestOpenAPIValidatesAnswers(t *testing.T) {
	e := newEnv(t, database.SQLite)
	key := e.issueKey("OpenAPI Flagger", "openapi@flagger.example")
	limited := e.issueKey("Limited Flagger", "limited@flagger.example")
	slow := e.server(ui.Config{Limits: ui.Limits{APIKey: ratelimit.Limit{Rate: 1, Per: time.Minute, Burst: 1}}})
	_, router := loadOpenAPI(t, e.srv.URL, slow.URL)
	staff := e.login(policy.Reviewer)

	check := func(srv *httptest.Server, c *client, method, path, auth, body string, want int, validRequest bool) string {
		t.Helper()
		build := func() *http.Request {
			req, _ := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
			if auth != "" {
				req.Header.Set("Authorization", "Bearer "+auth)
			}
			if body != "" {
				req.Header.Set("Content-Type", "application/json")
			}
			return req
		}
		res := c.do(build())
		if res.StatusCode != want {
			t.Fatalf("%s %s: %d, want %d: %s", method, path, res.StatusCode, want, res.Body)
		}
		req := build()
		route, params, err := router.FindRoute(req)
		if err != nil {
			t.Fatalf("%s %s: not in the document: %v", method, path, err)
		}
		opts := &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc, IncludeResponseStatus: true}
		in := &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route, Options: opts}
		if validRequest {
			if err := openapi3filter.ValidateRequest(context.Background(), in); err != nil {
				t.Errorf("%s %s: request does not match the document: %v", method, path, err)
			}
		}
		h := res.Header.Clone()
		err = openapi3filter.ValidateResponse(context.Background(), &openapi3filter.ResponseValidationInput{
			RequestValidationInput: in, Status: res.StatusCode, Header: h, Body: io.NopCloser(bytes.NewReader([]byte(res.Body))), Options: opts,
		})
		if err != nil {
			t.Errorf("%s %s → %d: answer does not match the document: %v\n%s", method, path, res.StatusCode, err, res.Body)
		}
		return res.Body
	}
	srv, c := e.srv, e.client()
	one := `{"category":"phishing","url":"https://yardboard.example/openapi-1","description":"Phishing.","reference":"OA-1"}`
	body := check(srv, c, "POST", "/api/v1/reports", key, one, http.StatusCreated, true)
	var receipt struct {
		Receipt string `json:"receipt"`
	}
	decodeJSON(t, &response{StatusCode: 201, Body: body}, &receipt)
	check(srv, c, "POST", "/api/v1/reports", key, `{"reports":[{"category":"spam","url":"https://yardboard.example/openapi-2","description":"Spam."}]}`, http.StatusOK, true)
	check(srv, c, "POST", "/api/v1/reports", key, `{"reports":[{"category":"spam","url":"https://yardboard.example/openapi-3","description":"Spam."},{"category":"spam","url":"","description":"no url"}]}`, http.StatusMultiStatus, true)
	check(srv, c, "POST", "/api/v1/reports", key, `{"reports":[{"category":"nope","url":"https://yardboard.example/","description":"x"}]}`, http.StatusUnprocessableEntity, true)
	check(srv, c, "POST", "/api/v1/reports", key, `{"category":"spam","url":"","description":"x"}`, http.StatusUnprocessableEntity, true)
	check(srv, c, "POST", "/api/v1/reports", "dkt_not_a_key", one, http.StatusUnauthorized, true)
	check(srv, c, "POST", "/api/v1/reports", key, `{"category":"spam","unknown":1}`, http.StatusBadRequest, false)
	check(srv, c, "GET", "/api/v1/reports/"+receipt.Receipt, key, "", http.StatusOK, true)
	check(srv, c, "GET", "/api/v1/reports/01JDQ4ZK8T3V6N0Y2C5X7B9M1P", key, "", http.StatusNotFound, true)
	check(slow, c, "POST", "/api/v1/reports", limited, `{"category":"spam","url":"https://yardboard.example/openapi-4","description":"x"}`, http.StatusCreated, true)
	check(slow, c, "POST", "/api/v1/reports", limited, `{"category":"spam","url":"https://yardboard.example/openapi-5","description":"x"}`, http.StatusTooManyRequests, true)
	check(srv, c, "GET", "/api/v1/openapi.json", "", "", http.StatusOK, true)
	check(srv, staff, "GET", "/api/v1/queues", "", "", http.StatusOK, true)
	check(srv, staff, "GET", "/api/v1/cases?limit=5", "", "", http.StatusOK, true)
	check(srv, staff, "GET", "/api/v1/cases/1", "", "", http.StatusOK, true)
	check(srv, e.client(), "GET", "/api/v1/queues", "", "", http.StatusUnauthorized, true)
}
