package ui_test

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	dto "github.com/prometheus/client_model/go"

	"github.com/dockethq/docket/apikeys"
	"github.com/dockethq/docket/audit"
	"github.com/dockethq/docket/cases"
	"github.com/dockethq/docket/edgesim"
	"github.com/dockethq/docket/internal/database"
	"github.com/dockethq/docket/internal/demo"
	"github.com/dockethq/docket/internal/health"
	"github.com/dockethq/docket/internal/metrics"
	"github.com/dockethq/docket/internal/testdb"
	"github.com/dockethq/docket/notify"
	"github.com/dockethq/docket/policy"
	"github.com/dockethq/docket/ui"
	"github.com/dockethq/docket/users"
)

// opsMatrix: /readyz is public like /healthz (load balancers do not sign in).
var opsMatrix = map[string]map[string]outcome{
	"GET /readyz": public,
}

func init() {
	for k, v := range opsMatrix {
		matrix[k] = v
	}
}

// opsEnv is newEnv with metrics wired the way docket serve wires them, and
// deliveries worked against a real reference edge.
type opsEnv struct {
	*env
	metrics *metrics.Metrics
	sim     *edgesim.Sim
	scrape  *httptest.Server
}

func newOpsEnv(t *testing.T, d database.Dialect) *opsEnv {
	t.Helper()
	secret := edgesim.NewSecret()
	sim, err := edgesim.New([]string{secret})
	if err != nil {
		t.Fatal(err)
	}
	edge := httptest.NewServer(sim.Handler())
	t.Cleanup(edge.Close)

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
	if err := notify.Migrate(context.Background(), db); err != nil {
		t.Fatal(err)
	}
	m := metrics.New(db, time.Now)
	cs.OnCommitted(m.CaseEvent)
	n, err := notify.New(notify.Config{Endpoints: []string{edge.URL + edgesim.PathDirectives}, Secrets: []string{secret},
		Mail: notify.MailConfig{Outbox: t.TempDir()}, Observer: m}, db, cs, log, time.Now)
	if err != nil {
		t.Fatal(err)
	}
	if err := n.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		n.Stop(ctx)
	})
	s, err := ui.New(ui.Config{Replay: n.Replay, Metrics: m}, db, cs, us, en, log, time.Now)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(s.Handler())
	t.Cleanup(srv.Close)
	scrape := httptest.NewServer(m.Handler())
	t.Cleanup(scrape.Close)
	return &opsEnv{
		env:     &env{t: t, db: db, srv: srv, ui: s, cases: cs, users: us, keys: apikeys.NewService(db, en, time.Now)},
		metrics: m, sim: sim, scrape: scrape,
	}
}

// scrapeMetrics reads /metrics as Prometheus would.
func (e *opsEnv) scrapeMetrics(t *testing.T) map[string]*dto.MetricFamily {
	t.Helper()
	res, err := http.Get(e.scrape.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(res.Body)
	if err != nil {
		t.Fatalf("parse /metrics: %v", err)
	}
	return fams
}

// value is the value of the series of family name whose labels include want
// (name=value pairs); -1 when there is no such series.
func value(fams map[string]*dto.MetricFamily, name string, want ...string) float64 {
	f, ok := fams[name]
	if !ok {
		return -1
	}
next:
	for _, m := range f.GetMetric() {
		for i := 0; i+1 < len(want); i += 2 {
			found := false
			for _, l := range m.GetLabel() {
				if l.GetName() == want[i] && l.GetValue() == want[i+1] {
					found = true
				}
			}
			if !found {
				continue next
			}
		}
		switch {
		case m.Counter != nil:
			return m.Counter.GetValue()
		case m.Gauge != nil:
			return m.Gauge.GetValue()
		case m.Histogram != nil:
			return float64(m.Histogram.GetSampleCount())
		}
	}
	return -1
}

// TestMetricsMove files reports and decides a case through the web UI and the
// flagger API, and checks that every metric the issue names is exposed and moves.
func TestMetricsMove(t *testing.T) {
	for _, d := range testdb.Dialects {
		t.Run(string(d), func(t *testing.T) { testMetricsMove(t, d) })
	}
}

func testMetricsMove(t *testing.T, d database.Dialect) {
	defer func(old time.Duration) { metrics.CacheFor = old }(metrics.CacheFor)
	metrics.CacheFor = 100 * time.Millisecond
	e := newOpsEnv(t, d)
	// A customer's new site: only reports about served hosts open cases.
	e.serve("metrics-new.example")
	before := e.scrapeMetrics(t)
	for _, name := range []string{
		"docket_queue_open_cases", "docket_queue_oldest_case_age_seconds", "docket_queue_sla_breached_cases",
		"docket_directive_deliveries", "docket_notices", "docket_jobs", "docket_metrics_db_up",
		"docket_audit_unsealed_events", "docket_audit_oldest_unsealed_age_seconds",
	} {
		if _, ok := before[name]; !ok {
			t.Errorf("/metrics has no %s before any traffic", name)
		}
	}
	if v := value(before, "docket_metrics_db_up"); v != 1 {
		t.Fatalf("docket_metrics_db_up = %v", v)
	}
	var open int64
	e.db.R.Table("cases").Where("queue = 'general' AND state IN ?", cases.OpenStates).Count(&open)
	if v := value(before, "docket_queue_open_cases", "queue", "general"); v != float64(open) {
		t.Errorf("general queue depth %v, database says %d", v, open)
	}
	if v := value(before, "docket_queue_oldest_case_age_seconds", "queue", "general"); v <= 0 {
		t.Errorf("oldest general case age %v, want > 0 (the demo has open cases)", v)
	}

	anon := e.client()
	res := anon.post("/report", url.Values{"category": {"phishing"}, "url": {"https://metrics-new.example/login"},
		"description": {"A phishing kit."}, "good_faith": {"yes"}, "name": {"Rita Reporter"}, "email": {"reporter@example.org"}, "detail_phishing_brand": {"Example Bank"}})
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("file report: %d %s", res.StatusCode, res.Body)
	}
	key := e.issueKey("Metrics Flagger", "metrics@flagger.example")
	if res := e.bearer(key, http.MethodPost, "/api/v1/reports", `{"category":"malware","url":"https://metrics-new.example/x.exe","description":"Malware."}`); res.StatusCode != http.StatusCreated {
		t.Fatalf("flagger report: %d %s", res.StatusCode, res.Body)
	}

	senior := e.login(policy.SeniorReviewer)
	var caseID int64
	e.db.R.Table("cases").Select("id").Where("hostname = 'files.kestrel.example'").Scan(&caseID)
	path := "/cases/" + itoa(caseID)
	if res := senior.post(path+"/claim", nil); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("claim: %d", res.StatusCode)
	}
	if res := senior.post(path+"/decide", url.Values{"action": {"restrict"}, "grounds": {"AUP 5"}, "explanation": {"Malware."}}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("decide: %d %s", res.StatusCode, res.Body)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := e.sim.WaitFor(ctx, "files.kestrel.example", 1); err != nil {
		t.Fatalf("directive not delivered: %v", err)
	}
	var after map[string]*dto.MetricFamily
	for {
		// The delivered counter moves just after the edge's answer; the
		// database gauges are cached for a few seconds.
		after = e.scrapeMetrics(t)
		if value(after, "docket_directive_deliveries_delivered_total") == 1 && value(after, "docket_directive_deliveries", "state", "delivered") == 1 {
			break
		}
		select {
		case <-ctx.Done():
			t.Fatalf("delivery metrics never moved: delivered_total %v, deliveries{delivered} %v",
				value(after, "docket_directive_deliveries_delivered_total"), value(after, "docket_directive_deliveries", "state", "delivered"))
		case <-time.After(200 * time.Millisecond):
		}
	}
	checks := []struct {
		name   string
		labels []string
		want   float64
	}{
		{"docket_reports_received_total", []string{"channel", "web", "category", "phishing"}, 1},
		{"docket_reports_received_total", []string{"channel", "api", "category", "malware"}, 1},
		{"docket_claims_total", nil, 1},
		{"docket_decisions_total", []string{"action", "restrict"}, 1},
		{"docket_directive_delivery_latency_seconds", nil, 1},
		{"docket_http_requests_total", []string{"route", "/report", "method", "POST", "status", "303"}, 1},
		{"docket_http_requests_total", []string{"route", "/api/v1/reports", "method", "POST", "status", "201"}, 1},
		{"docket_http_requests_total", []string{"route", "/cases/:id/decide", "method", "POST", "status", "303"}, 1},
		{"docket_http_request_duration_seconds", []string{"route", "/cases/:id/claim", "method", "POST"}, 1},
		{"docket_directive_deliveries", []string{"state", "pending"}, 0},
	}
	for _, c := range checks {
		if got := value(after, c.name, c.labels...); got != c.want {
			t.Errorf("%s%v = %v, want %v", c.name, c.labels, got, c.want)
		}
	}
	// Route patterns, never raw paths: the case id is not a label value.
	for _, m := range after["docket_http_requests_total"].GetMetric() {
		for _, l := range m.GetLabel() {
			if l.GetName() == "route" && strings.Contains(l.GetValue(), itoa(caseID)) {
				t.Errorf("route label %q holds a raw path", l.GetValue())
			}
		}
	}
	// The new site has no case yet: both reports opened cases in
	// the general queue, which the depth gauge shows (once its cache expires).
	var openNow int64
	e.db.R.Table("cases").Where("queue = 'general' AND state IN ?", cases.OpenStates).Count(&openNow)
	if openNow == open {
		t.Fatalf("test set-up: the general queue did not change (%d)", open)
	}
	for v := value(after, "docket_queue_open_cases", "queue", "general"); v != float64(openNow); v = value(after, "docket_queue_open_cases", "queue", "general") {
		select {
		case <-ctx.Done():
			t.Fatalf("general queue depth %v, database says %d", v, openNow)
		case <-time.After(250 * time.Millisecond):
		}
		after = e.scrapeMetrics(t)
	}
	if v := value(after, "docket_notices_total", "outcome", "sent"); v < 1 {
		t.Errorf("notices sent %v, want the reporter's acknowledgement at least", v)
	}
	// Nothing seals in this test's server (serve's sealer does): on
	// PostgreSQL the traffic's audit events wait, and the gauge says so
	// until they are sealed. SQLite chains as it writes.
	unsealed := func() (float64, float64) {
		m := e.scrapeMetrics(t)
		return value(m, "docket_audit_unsealed_events"), value(m, "docket_audit_oldest_unsealed_age_seconds")
	}
	if n, age := unsealed(); d == database.Postgres && (n < 5 || age <= 0) || d != database.Postgres && (n != 0 || age != 0) {
		t.Errorf("%s before sealing: %v unsealed events, the oldest %v s old", d, n, age)
	}
	if _, err := audit.Seal(ctx, e.db.W); err != nil {
		t.Fatal(err)
	}
	for n, age := unsealed(); n != 0 || age != 0; n, age = unsealed() {
		select {
		case <-ctx.Done():
			t.Fatalf("after sealing: %v unsealed events, the oldest %v s old", n, age)
		case <-time.After(150 * time.Millisecond):
		}
	}

	// The latest verification's verdict: absent before the first, 1 while
	// intact, 0 once the checkpoint timer finds the chain broken.
	verdict := func() float64 { return value(e.scrapeMetrics(t), "docket_audit_last_verification_ok") }
	if v := verdict(); v != -1 {
		t.Errorf("docket_audit_last_verification_ok = %v before any verification, want it absent", v)
	}
	ch := audit.NewChain(e.db, audit.Options{})
	if rep, err := ch.VerifyAndStore(ctx, "system:test"); err != nil || !rep.OK {
		t.Fatalf("verify: %+v %v", rep, err)
	}
	waitMetric := func(want float64) {
		for v := verdict(); v != want; v = verdict() {
			select {
			case <-ctx.Done():
				t.Fatalf("docket_audit_last_verification_ok = %v, want %v", v, want)
			case <-time.After(150 * time.Millisecond):
			}
		}
	}
	waitMetric(1)
	e.db.W.Exec(`UPDATE audit_events SET details = '{"edited":true}' WHERE seq = 2`)
	if _, _, err := ch.Checkpoint(ctx, true, "system:checkpoint"); err == nil {
		t.Fatal("a checkpoint was signed over an edited chain")
	}
	waitMetric(0)
}

// TestReadyz checks /readyz on the web listener (public, database only when
// nothing else is wired) and the readiness checks docket serve wires, with a
// real NATS server and with an unreachable one.
func TestReadyz(t *testing.T) {
	e := newEnv(t, database.SQLite)
	res := e.client().get("/readyz")
	if res.StatusCode != http.StatusOK || res.Body != "database: ok\n" {
		t.Fatalf("/readyz: %d %q", res.StatusCode, res.Body)
	}

	natsURL := "nats://127.0.0.1:4222"
	if c, err := net.DialTimeout("tcp", "127.0.0.1:4222", time.Second); err != nil {
		testdb.Unavailable(t, "NATS", err)
	} else {
		c.Close()
	}
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	deadURL := "nats://" + ln.Addr().String()
	ln.Close() // nothing listens there now
	for _, tc := range []struct {
		url, want string
		code      int
	}{
		{natsURL, "database: ok\njob queue: ok\nnats: ok\n", http.StatusOK},
		{deadURL, "database: ok\njob queue: ok\nnats: failing\n", http.StatusServiceUnavailable},
	} {
		n, err := notify.New(notify.Config{NATSURL: tc.url, Mail: notify.MailConfig{Outbox: t.TempDir()}}, e.db, e.cases, slog.New(slog.NewTextHandler(io.Discard, nil)), time.Now)
		if err != nil {
			t.Fatal(err)
		}
		r := health.New(nil, health.Check{Name: "database", Fn: e.db.Ping})
		r.Add(n.ReadyChecks()...)
		rec := httptest.NewRecorder()
		r.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/readyz", nil))
		if rec.Code != tc.code || rec.Body.String() != tc.want {
			t.Errorf("readiness with NATS at %s: %d %q, want %d %q", tc.url, rec.Code, rec.Body.String(), tc.code, tc.want)
		}
		if tc.code == http.StatusOK {
			r.Drain()
			rec := httptest.NewRecorder()
			r.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/readyz", nil))
			if rec.Code != http.StatusServiceUnavailable || !strings.HasPrefix(rec.Body.String(), "shutting down") {
				t.Errorf("draining: %d %q", rec.Code, rec.Body.String())
			}
		}
		stop, cancel := context.WithTimeout(context.Background(), time.Second)
		n.Stop(stop)
		cancel()
	}
}

// TestRequestID: a proxy's short request id is kept and echoed; a long or odd
// one is replaced.
func TestRequestID(t *testing.T) {
	e := newEnv(t, database.SQLite)
	for _, tc := range []struct {
		sent string
		kept bool
	}{
		{"lb-7f3a9c2e-0001", true},
		{strings.Repeat("a", 200), false},
		{"evil\" level=ERROR msg=forged", false},
	} {
		req, _ := http.NewRequest(http.MethodGet, e.srv.URL+"/healthz", nil)
		req.Header.Set("X-Request-ID", tc.sent)
		res := e.client().do(req)
		got := res.Header.Get("X-Request-ID")
		if (got == tc.sent) != tc.kept || got == "" {
			t.Errorf("sent %q, got %q; kept want %v", tc.sent, got, tc.kept)
		}
	}
}
