package ui_test

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/dockethq/docket/cases"
	"github.com/dockethq/docket/internal/database"
	"github.com/dockethq/docket/internal/ratelimit"
	"github.com/dockethq/docket/internal/testdb"
	"github.com/dockethq/docket/policy"
	"github.com/dockethq/docket/ui"
	"github.com/dockethq/docket/users"
)

// intakeMatrix: the status lookup is public (a key has no business there); the
// OpenAPI document is public and readable with a flagger's key.
var intakeMatrix = map[string]map[string]outcome{
	"GET /status":              public,
	"POST /status":             public,
	"GET /api/v1/openapi.json": {flagger: allow},
}

func init() {
	for k, v := range intakeMatrix {
		matrix[k] = v
	}
}

// serve makes the hosts served, by a customer of their own: only reports about
// served hosts open cases.
func (e *env) serve(hosts ...string) {
	e.t.Helper()
	if _, _, err := e.cases.AddCustomer(context.Background(), "test", cases.Customer{Name: "Customer of " + hosts[0]}, hosts...); err != nil {
		e.t.Fatal(err)
	}
}

// server starts another ui.Server on e's database with cfg, as a second
// instance behind the same load balancer would be.
func (e *env) server(cfg ui.Config) *httptest.Server {
	e.t.Helper()
	en, err := policy.NewEnforcer(e.db)
	if err != nil {
		e.t.Fatal(err)
	}
	us := users.NewService(e.db, en, time.Now)
	s, err := ui.New(cfg, e.db, e.cases, us, en, slog.New(slog.NewTextHandler(io.Discard, nil)), time.Now)
	if err != nil {
		e.t.Fatal(err)
	}
	srv := httptest.NewServer(s.Handler())
	e.t.Cleanup(srv.Close)
	return srv
}

func count(t *testing.T, db *database.DB, table, where string, args ...any) int64 {
	t.Helper()
	var n int64
	if err := db.R.Table(table).Where(where, args...).Count(&n).Error; err != nil {
		t.Fatal(err)
	}
	return n
}

// A report about a host Docket does not serve: a receipt that says so, a
// status lookup that says so, an acknowledgement that says so, and no case.
func TestNotHostedReport(t *testing.T) {
	for _, d := range testdb.Dialects {
		t.Run(string(d), func(t *testing.T) {
			e := newEnv(t, d)
			casesBefore := count(t, e.db, "cases", "1 = 1")
			f := validReport()
			f.Set("url", "https://www.Elsewhere-Hosting.example/phish")
			res := e.client().post("/report", f)
			if res.StatusCode != http.StatusSeeOther {
				t.Fatalf("POST /report: %d", res.StatusCode)
			}
			receipt := strings.TrimPrefix(res.Header.Get("Location"), "/report/receipt/")
			if n := count(t, e.db, "cases", "1 = 1"); n != casesBefore {
				t.Errorf("a report about a host not served opened a case: %d cases, were %d", n, casesBefore)
			}
			if n := count(t, e.db, "reports", "public_id = ? AND status = 'not_hosted' AND case_id IS NULL", receipt); n != 1 {
				t.Errorf("report %s not stored as not_hosted without a case", receipt)
			}
			page := e.client().get("/report/receipt/" + receipt)
			doc := page.doc(t)
			if page.StatusCode != http.StatusOK || !strings.Contains(doc.Find("#not-hosted").Text(), "We do not serve www.elsewhere-hosting.example") ||
				!strings.Contains(page.Body, "registrar of <strong>elsewhere-hosting.example</strong>") {
				t.Errorf("receipt page does not say the host is not served here: %d %s", page.StatusCode, doc.Find("main").Text())
			}
			if st := doc.Find("#receipt-status").Text(); !strings.Contains(st, "Not hosted here") {
				t.Errorf("receipt status %q", st)
			}
			res = e.client().post("/status", url.Values{"receipt": {strings.ToLower(receipt)}, "email": {"someone@example.org"}})
			if res.StatusCode != http.StatusOK || !strings.Contains(res.doc(t).Find("#status-state").Text(), "we do not serve www.elsewhere-hosting.example") {
				t.Errorf("status lookup: %d %s", res.StatusCode, res.doc(t).Find("main").Text())
			}
			var body string
			e.db.R.Table("notices").Select("body").Where("kind = 'report_ack' AND report_id = (SELECT id FROM reports WHERE public_id = ?)", receipt).Scan(&body)
			if !strings.Contains(body, "We do not serve www.elsewhere-hosting.example") || !strings.Contains(body, "registrar of elsewhere-hosting.example") ||
				strings.Contains(body, "will review your report") {
				t.Errorf("acknowledgement does not say the host is not served here:\n%s", body)
			}
			// Staff pages still work with a case-less report in the database.
			rev := e.login(policy.Reviewer)
			for _, p := range []string{"/queue", "/search?q=elsewhere-hosting.example", "/search?q=" + receipt} {
				if r := rev.get(p); r.StatusCode != http.StatusOK {
					t.Errorf("GET %s: %d", p, r.StatusCode)
				}
			}
			var noticeID int64
			e.db.R.Table("notices").Select("id").Where("kind = 'report_ack' AND case_id IS NULL").Order("id DESC").Limit(1).Scan(&noticeID)
			admin := e.login(policy.Admin)
			for _, p := range []string{"/outbox", "/outbox/" + strconv.FormatInt(noticeID, 10)} {
				if r := admin.get(p); r.StatusCode != http.StatusOK {
					t.Errorf("GET %s: %d", p, r.StatusCode)
				}
			}
			// The API says not_hosted too.
			key := e.issueKey("NH Flagger", "nh@flagger.example")
			res = e.bearer(key, "POST", "/api/v1/reports", `{"category":"spam","url":"https://elsewhere-hosting.example/x","description":"Spam."}`)
			var out struct{ Receipt, Status string }
			decodeJSON(t, res, &out)
			if res.StatusCode != http.StatusCreated || out.Status != "not_hosted" || out.Receipt == "" {
				t.Errorf("API not hosted: %d %s", res.StatusCode, res.Body)
			}
		})
	}
}

// The status lookup answers the report's state and outcome to the receipt id
// with its email, and the very same page to a wrong id, a wrong email, or a
// report filed without one.
func TestStatusLookup(t *testing.T) {
	for _, d := range testdb.Dialects {
		t.Run(string(d), func(t *testing.T) {
			e := newEnv(t, d)
			e.serve("lookup-test.example")
			f := validReport()
			f.Set("url", "https://lookup-test.example/login")
			f.Set("email", "Reporter@Lookup.example")
			res := e.client().post("/report", f)
			receipt := strings.TrimPrefix(res.Header.Get("Location"), "/report/receipt/")
			// Only a csam report may come without a name and email (DSA Art. 16).
			anon := validReport()
			anon.Set("category", "csam")
			anon.Set("url", "https://lookup-test.example/other")
			anon.Del("email")
			anon.Del("name")
			res = e.client().post("/report", anon)
			anonReceipt := strings.TrimPrefix(res.Header.Get("Location"), "/report/receipt/")
			if receipt == "" || anonReceipt == "" {
				t.Fatal("reports not filed")
			}

			c := e.client()
			lookup := func(id, email string) *response {
				t.Helper()
				return c.post("/status", url.Values{"receipt": {id}, "email": {email}})
			}
			res = lookup(receipt, " reporter@lookup.EXAMPLE ")
			doc := res.doc(t)
			if res.StatusCode != http.StatusOK || !strings.Contains(doc.Find("#status-state").Text(), "waiting for review") || doc.Find("#status-outcome").Length() != 0 {
				t.Fatalf("lookup before a decision: %d %s", res.StatusCode, doc.Find("main").Text())
			}
			// Nothing about anyone else: the other report, the customer, reviewers.
			for _, leak := range []string{anonReceipt, "Customer of", "Riley", "reviewer@"} {
				if strings.Contains(res.Body, leak) {
					t.Errorf("status page shows %q", leak)
				}
			}

			var caseID int64
			e.db.R.Table("reports").Select("case_id").Where("public_id = ?", receipt).Scan(&caseID)
			rev := e.login(policy.Reviewer)
			path := "/cases/" + strconv.FormatInt(caseID, 10)
			rev.post(path+"/claim", nil)
			if r := rev.post(path+"/decide", url.Values{"action": {"warn"}, "grounds": {"AUP 4.2 internal note"}, "explanation": {"The login page was removed after our warning."}}); r.StatusCode != http.StatusSeeOther {
				t.Fatalf("decide: %d", r.StatusCode)
			}
			res = lookup(receipt, "reporter@lookup.example")
			doc = res.doc(t)
			if !strings.Contains(doc.Find("#status-state").Text(), "Decided") || !strings.Contains(doc.Find("#status-outcome").Text(), "We warned the site's operator") ||
				doc.Find("#status-explanation").Text() != "The login page was removed after our warning." || strings.Contains(res.Body, "AUP 4.2 internal note") {
				t.Errorf("lookup after a decision: %s", doc.Find("main").Text())
			}

			// Every failing lookup gets the same page, but for the echoed receipt id.
			var bodies []string
			for _, q := range [][2]string{
				{receipt, "other@lookup.example"},                         // wrong email
				{"01JDQ4ZK8T3V6N0Y2C5X7B9M1P", "reporter@lookup.example"}, // no such receipt
				{anonReceipt, ""},                        // no email given: a 422 field error, not a lookup
				{anonReceipt, "reporter@lookup.example"}, // filed without an email
			} {
				r := lookup(q[0], q[1])
				if q[1] == "" {
					if r.StatusCode != http.StatusUnprocessableEntity {
						t.Errorf("empty email: %d", r.StatusCode)
					}
					continue
				}
				if r.StatusCode != http.StatusNotFound || !strings.Contains(r.Body, cases.ErrNoSuchReceipt.Error()) {
					t.Errorf("lookup %v: %d", q, r.StatusCode)
				}
				bodies = append(bodies, strings.ReplaceAll(strings.ReplaceAll(r.Body, q[0], "ID"), q[1], "EMAIL"))
			}
			for i := 1; i < len(bodies); i++ {
				if bodies[i] != bodies[0] {
					t.Errorf("failing lookups %d and 0 differ:\n%s\n---\n%s", i, bodies[i], bodies[0])
				}
			}
		})
	}
}

// A repeat by the same reporter is linked to the first report and counts
// nothing; its receipt points to the original.
func TestDuplicateReportReceipt(t *testing.T) {
	for _, d := range testdb.Dialects {
		t.Run(string(d), func(t *testing.T) {
			e := newEnv(t, d)
			e.serve("dup-test.example")
			f := validReport()
			f.Set("url", "https://dup-test.example/x")
			first := strings.TrimPrefix(e.client().post("/report", f).Header.Get("Location"), "/report/receipt/")
			f.Set("url", "https://DUP-test.example:443/x")
			f.Del("_csrf")
			res := e.client().post("/report", f)
			second := strings.TrimPrefix(res.Header.Get("Location"), "/report/receipt/")
			if first == "" || second == "" || first == second {
				t.Fatalf("receipts %q %q", first, second)
			}
			if n := count(t, e.db, "cases", "hostname = 'dup-test.example' AND report_count = 1"); n != 1 {
				t.Errorf("the duplicate was counted on the case")
			}
			page := e.client().get("/report/receipt/" + second)
			if !strings.Contains(page.doc(t).Find("#duplicate").Text(), first) {
				t.Errorf("duplicate's receipt does not name the original %s: %s", first, page.doc(t).Find("main").Text())
			}
			key := e.issueKey("Dup Flagger", "dup@flagger.example")
			body := `{"category":"spam","url":"https://dup-test.example/y","description":"Spam."}`
			var a, b struct {
				Receipt     string `json:"receipt"`
				Status      string `json:"status"`
				DuplicateOf string `json:"duplicate_of"`
			}
			decodeJSON(t, e.bearer(key, "POST", "/api/v1/reports", body), &a)
			decodeJSON(t, e.bearer(key, "POST", "/api/v1/reports", body), &b)
			if a.DuplicateOf != "" || b.DuplicateOf != a.Receipt || b.Status != a.Status || b.Status != "new" {
				t.Errorf("API duplicate: first %+v, second %+v", a, b)
			}
		})
	}
}

// The flood test: 1,000 form posts from one address are throttled (429 with
// Retry-After, the typed text kept) while another address still files; a
// forged X-Forwarded-For from an untrusted peer changes nothing.
func TestFormFlood(t *testing.T) {
	e := newEnv(t, database.SQLite)
	e.serve("flood-test.example")
	_, lo, _ := net.ParseCIDR("127.0.0.1/32")
	// Every post carries a solved challenge, as a flooder's script could: the
	// limit holds even so. One bit of work keeps 1,000 solutions cheap.
	// 10 an hour, not a minute: the flood must not earn a token back while it
	// runs (at 10 a minute a loaded machine taking over 6 s let a 21st through).
	proxied := e.server(ui.Config{PoWBits: 1, Limits: ui.Limits{Form: ratelimit.Limit{Rate: 10, Per: time.Hour, Burst: 20}, TrustedProxies: []*net.IPNet{lo}}})
	direct := e.server(ui.Config{PoWBits: 1, Limits: ui.Limits{Form: ratelimit.Limit{Rate: 10, Per: time.Minute, Burst: 20}}})

	posts := 0
	post := func(srv *httptest.Server, c *client, xff, desc string) *response {
		t.Helper()
		posts++
		f := validReport()
		// A page of its own each time: no deduplication, every post is a new report.
		f.Set("url", "https://flood-test.example/p"+strconv.Itoa(posts))
		f.Set("description", desc)
		f.Set("_csrf", c.csrf())
		f = c.withPoWFrom(srv.URL, f)
		req, _ := http.NewRequest(http.MethodPost, srv.URL+"/report", strings.NewReader(f.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("X-Forwarded-For", xff)
		return c.do(req)
	}
	before := count(t, e.db, "reports", "1 = 1")
	flooder := e.client()
	filed, throttled := 0, 0
	var last *response
	for i := range 1000 {
		res := post(proxied, flooder, "203.0.113.9", "flood "+strconv.Itoa(i))
		switch res.StatusCode {
		case http.StatusSeeOther:
			filed++
		case http.StatusTooManyRequests:
			throttled++
			last = res
		default:
			t.Fatalf("flood request %d: %d", i, res.StatusCode)
		}
	}
	if filed != 20 || throttled != 980 {
		t.Errorf("flood: %d filed, %d throttled; want the burst of 20 filed", filed, throttled)
	}
	if n := count(t, e.db, "reports", "1 = 1") - before; n != 20 {
		t.Errorf("flood stored %d reports", n)
	}
	if ra, err := strconv.Atoi(last.Header.Get("Retry-After")); err != nil || ra < 1 || ra > 360 {
		t.Errorf("Retry-After %q", last.Header.Get("Retry-After"))
	}
	if got := last.doc(t).Find("#description").Text(); got != "flood 999" {
		t.Errorf("throttled form lost the typed text: %q", got)
	}
	// Another address behind the same proxy still files; so does the same /64... not.
	if res := post(proxied, e.client(), "198.51.100.7", "honest"); res.StatusCode != http.StatusSeeOther {
		t.Errorf("another address: %d, want the report filed", res.StatusCode)
	}
	// Without trusted proxies the header is ignored: rotating it does not help.
	c := e.client()
	filed = 0
	for i := range 40 {
		if post(direct, c, "192.0.2."+strconv.Itoa(i), "rotating").StatusCode == http.StatusSeeOther {
			filed++
		}
	}
	if filed != 20 {
		t.Errorf("forged X-Forwarded-For: %d of 40 filed, want 20", filed)
	}
}

// Per-key limits on the API: one key is refused with 429, Retry-After and a
// JSON error; its neighbour key files on.
func TestAPIKeyRateLimit(t *testing.T) {
	e := newEnv(t, database.SQLite)
	a, b := e.issueKey("Busy Flagger", "busy@flagger.example"), e.issueKey("Calm Flagger", "calm@flagger.example")
	srv := e.server(ui.Config{Limits: ui.Limits{APIKey: ratelimit.Limit{Rate: 5, Per: time.Minute, Burst: 5}}})
	send := func(key string, i int) *response {
		t.Helper()
		req, _ := http.NewRequest(http.MethodPost, srv.URL+"/api/v1/reports",
			strings.NewReader(`{"category":"spam","url":"https://yardboard.example/r`+strconv.Itoa(i)+`","description":"x"}`))
		req.Header.Set("Authorization", "Bearer "+key)
		req.Header.Set("Content-Type", "application/json")
		return e.client().do(req)
	}
	for i := range 5 {
		if res := send(a, i); res.StatusCode != http.StatusCreated {
			t.Fatalf("request %d: %d %s", i, res.StatusCode, res.Body)
		}
	}
	res := send(a, 5)
	var out struct {
		Error      string `json:"error"`
		RetryAfter int    `json:"retry_after"`
	}
	decodeJSON(t, res, &out)
	if res.StatusCode != http.StatusTooManyRequests || res.Header.Get("Retry-After") != "12" || out.RetryAfter != 12 || !strings.Contains(out.Error, "retry in 12 seconds") {
		t.Errorf("6th request: %d Retry-After %q %s", res.StatusCode, res.Header.Get("Retry-After"), res.Body)
	}
	if res := send(b, 0); res.StatusCode != http.StatusCreated {
		t.Errorf("neighbour key: %d %s", res.StatusCode, res.Body)
	}
}

// Two instances on one database share the database store: the limit holds
// across them.
func TestRateLimitAcrossInstances(t *testing.T) {
	for _, d := range testdb.Dialects {
		t.Run(string(d), func(t *testing.T) {
			e := newEnv(t, d)
			e.serve("shared-test.example")
			cfg := ui.Config{Limits: ui.Limits{Form: ratelimit.Limit{Rate: 1, Per: time.Hour, Burst: 3}, Store: ratelimit.NewDB(e.db)}}
			one, two := e.server(cfg), e.server(ui.Config{Limits: ui.Limits{Form: cfg.Limits.Form, Store: ratelimit.NewDB(e.db)}})
			posts := 0
			post := func(srv *httptest.Server) int {
				t.Helper()
				posts++
				c := e.client()
				f := validReport()
				// A page of its own each time: no deduplication.
				f.Set("url", "https://shared-test.example/"+strconv.Itoa(posts))
				f.Set("_csrf", c.csrf())
				f = c.withPoWFrom(srv.URL, f)
				req, _ := http.NewRequest(http.MethodPost, srv.URL+"/report", strings.NewReader(f.Encode()))
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				return c.do(req).StatusCode
			}
			got := []int{post(one), post(two), post(one), post(two), post(one)}
			want := []int{303, 303, 303, 429, 429}
			for i := range want {
				if got[i] != want[i] {
					t.Errorf("statuses across two instances %v, want %v", got, want)
					break
				}
			}
		})
	}
}
