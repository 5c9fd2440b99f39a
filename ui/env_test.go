package ui_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"github.com/dockethq/docket/apikeys"
	"github.com/dockethq/docket/cases"
	"github.com/dockethq/docket/evidence"
	"github.com/dockethq/docket/internal/database"
	"github.com/dockethq/docket/internal/demo"
	"github.com/dockethq/docket/internal/testdb"
	"github.com/dockethq/docket/notify"
	"github.com/dockethq/docket/policy"
	"github.com/dockethq/docket/pow"
	"github.com/dockethq/docket/ui"
	"github.com/dockethq/docket/users"
)

func TestMain(m *testing.M) {
	testdb.FastPasswords()
	m.Run()
}

// env is a running Docket on a fresh database, loaded with the demo data set.
type env struct {
	t     *testing.T
	db    *database.DB
	srv   *httptest.Server
	ui    *ui.Server
	cases *cases.Service
	users *users.Service
	keys  *apikeys.Service
	// evidenceDir is the folder of the evidence bucket.
	evidenceDir string
}

func newEnv(t *testing.T, d database.Dialect) *env {
	t.Helper()
	db := testdb.Open(t, d)
	en, err := policy.NewEnforcer(db)
	if err != nil {
		t.Fatal(err)
	}
	cs := cases.NewService(db, time.Now)
	us := users.NewService(db, en, time.Now)
	if _, err := demo.Seed(context.Background(), db, us, time.Now); err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	// Deliveries are enqueued (to one unreachable edge) but not worked here.
	if err := notify.Migrate(context.Background(), db); err != nil {
		t.Fatal(err)
	}
	n, err := notify.New(notify.Config{Endpoints: []string{"http://127.0.0.1:9/edge"}, Secrets: []string{"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"},
		Mail: notify.MailConfig{Outbox: t.TempDir()}}, db, cs, log, time.Now) // mail stays out of the source tree
	if err != nil {
		t.Fatal(err)
	}
	evDir := t.TempDir()
	ev, err := evidence.Open(context.Background(), "file://"+filepath.ToSlash(evDir)+"?create_dir=1", db, time.Now)
	if err != nil {
		t.Fatal(err)
	}
	s, err := ui.New(ui.Config{Replay: n.Replay, Evidence: ev}, db, cs, us, en, log, time.Now)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(s.Handler())
	t.Cleanup(srv.Close)
	return &env{t: t, db: db, srv: srv, ui: s, cases: cs, users: us, keys: apikeys.NewService(db, en, time.Now), evidenceDir: evDir}
}

// client is a browser-like HTTP client: it keeps cookies, does not follow
// redirects, and sends the CSRF token with every form.
type client struct {
	e   *env
	hc  *http.Client
	jar *cookiejar.Jar
}

func (e *env) client() *client {
	jar, _ := cookiejar.New(nil)
	return &client{e: e, jar: jar, hc: &http.Client{
		Jar:           jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		Timeout:       30 * time.Second,
	}}
}

// login signs in as the demo account of role (or does nothing for anonymous).
func (e *env) login(role string) *client {
	e.t.Helper()
	c := e.client()
	if role == policy.Anonymous {
		return c
	}
	for _, a := range demo.Accounts {
		if a.Role == role {
			res := c.post("/login", url.Values{"email": {a.Email}, "password": {demo.Password}})
			if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/queue" {
				e.t.Fatalf("login as %s: %d %s", role, res.StatusCode, res.Body)
			}
			return c
		}
	}
	e.t.Fatalf("no demo account for role %q", role)
	return nil
}

type response struct {
	StatusCode int
	Header     http.Header
	Body       string
}

func (r *response) doc(t *testing.T) *goquery.Document {
	t.Helper()
	d, err := goquery.NewDocumentFromReader(strings.NewReader(r.Body))
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func (c *client) do(req *http.Request) *response {
	c.e.t.Helper()
	res, err := c.hc.Do(req)
	if err != nil {
		c.e.t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return &response{StatusCode: res.StatusCode, Header: res.Header, Body: string(b)}
}

func (c *client) get(path string) *response {
	c.e.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, c.e.srv.URL+path, nil)
	return c.do(req)
}

// csrf returns the token a page would embed: the CSRF cookie's value. It fetches
// a page first if the cookie is not set yet.
func (c *client) csrf() string {
	u, _ := url.Parse(c.e.srv.URL)
	for i := 0; i < 2; i++ {
		for _, k := range c.jar.Cookies(u) {
			if k.Name == "docket_csrf" {
				return k.Value
			}
		}
		c.get("/healthz")
	}
	c.e.t.Fatal("no CSRF cookie")
	return ""
}

func (c *client) post(path string, form url.Values) *response {
	c.e.t.Helper()
	if form == nil {
		form = url.Values{}
	}
	if form.Get("_csrf") == "" {
		form.Set("_csrf", c.csrf())
	}
	if path == "/report" && form.Get("pow_token") == "" {
		form = c.withPoW(form)
	}
	req, _ := http.NewRequest(http.MethodPost, c.e.srv.URL+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return c.do(req)
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// issueKey registers a trusted flagger and returns a new key of it with every scope.
func (e *env) issueKey(name, email string) string {
	e.t.Helper()
	ctx := context.Background()
	f, err := e.keys.CreateFlagger(ctx, "test", name, email)
	if err != nil {
		e.t.Fatal(err)
	}
	_, full, err := e.keys.IssueKey(ctx, "test", f.ID, "test key", apikeys.AllScopes)
	if err != nil {
		e.t.Fatal(err)
	}
	return full
}

// bearer sends a request authenticated by an API key only (no cookies); a
// non-empty body is sent as JSON. headers are "Name", "value" pairs.
func (e *env) bearer(key, method, path, body string, headers ...string) *response {
	e.t.Helper()
	req, _ := http.NewRequest(method, e.srv.URL+path, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+key)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	return e.client().do(req)
}

// withPoW returns a copy of a report form with a fresh challenge from the form
// page, solved as the page's script would (the caller's values stay unchanged,
// so they can be sent again).
func (c *client) withPoW(form url.Values) url.Values {
	c.e.t.Helper()
	return c.withPoWFrom(c.e.srv.URL, form)
}

// withPoWFrom is withPoW with the challenge of the server at base (another
// instance on the env's database).
func (c *client) withPoWFrom(base string, form url.Values) url.Values {
	c.e.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, base+"/report", nil)
	page := c.do(req)
	in := page.doc(c.e.t).Find("#pow_token")
	token, _ := in.Attr("value")
	bits, _ := in.Attr("data-bits")
	n, err := strconv.Atoi(bits)
	if token == "" || err != nil {
		c.e.t.Fatalf("no challenge on the report form: token %q bits %q", token, bits)
	}
	out := url.Values{}
	for k, v := range form {
		out[k] = append([]string(nil), v...)
	}
	out.Set("pow_token", token)
	out.Set("pow_solution", pow.Solve(token, n))
	return out
}
