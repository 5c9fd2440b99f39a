package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/dockethq/docket/apikeys"
	"github.com/dockethq/docket/edgesim"
	"github.com/dockethq/docket/internal/database"
	"github.com/dockethq/docket/internal/testdb"
	"github.com/dockethq/docket/policy"
	"github.com/dockethq/docket/pow"
)

// process is `docket serve` running as a child process (this test binary
// re-entering main, as in crash_test.go), with its log captured.
type process struct {
	cmd     *exec.Cmd
	base    string
	metrics chan string // the metrics listener's URL, when it has one
	mu      sync.Mutex
	logs    bytes.Buffer
	done    chan error
}

func (p *process) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.logs.Write(b)
}

func (p *process) log() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.logs.String()
}

func startDocket(t *testing.T, env []string, args ...string) *process {
	t.Helper()
	p := &process{done: make(chan error, 1), metrics: make(chan string, 1)}
	p.cmd = exec.Command(os.Args[0], append([]string{"serve", "--listen", "127.0.0.1:0"}, args...)...)
	p.cmd.Env = append(os.Environ(), append(env, "DOCKET_TEST_RUN_MAIN=1")...)
	p.cmd.Stderr = p
	out, err := p.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.done <- p.cmd.Wait() }()
	t.Cleanup(func() { p.cmd.Process.Kill(); <-p.done; p.done <- nil })
	found := make(chan string, 1)
	go func() {
		lines := bufio.NewScanner(out)
		for lines.Scan() {
			if u, ok := strings.CutPrefix(lines.Text(), "Docket is running at "); ok {
				found <- u
			}
			if u, ok := strings.CutPrefix(lines.Text(), "Metrics at "); ok {
				p.metrics <- u
			}
		}
	}()
	select {
	case p.base = <-found:
		return p
	case err := <-p.done:
		p.done <- err
		t.Fatalf("docket exited before serving: %v\n%s", err, p.log())
	case <-time.After(60 * time.Second):
		t.Fatalf("docket did not start\n%s", p.log())
	}
	return nil
}

// stop sends SIGTERM and waits for the exit.
func (p *process) stop(t *testing.T, within time.Duration) error {
	t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-p.done:
		p.done <- err
		return err
	case <-time.After(within):
		t.Fatalf("docket did not exit within %s of SIGTERM\n%s", within, p.log())
	}
	return nil
}

// issueFlaggerKey registers a trusted flagger and returns a key, before Docket
// starts (a running instance reloads the policy only after its own changes).
func issueFlaggerKey(t *testing.T, dbURL string) string {
	t.Helper()
	t.Setenv("DOCKET_DATABASE_URL", dbURL)
	if out, err := docket(t, "", "migrate", "up"); err != nil {
		t.Fatalf("migrate: %v\n%s", err, out)
	}
	ctx := context.Background()
	db, err := database.Open(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	en, err := policy.NewEnforcer(db)
	if err != nil {
		t.Fatal(err)
	}
	keys := apikeys.NewService(db, en, time.Now)
	f, err := keys.CreateFlagger(ctx, "test", "Load Flagger", "load@flagger.example")
	if err != nil {
		t.Fatal(err)
	}
	_, full, err := keys.IssueKey(ctx, "test", f.ID, "load", apikeys.AllScopes)
	if err != nil {
		t.Fatal(err)
	}
	return full
}

// TestSIGTERMUnderLoad: flaggers file batches of reports while Docket gets
// SIGTERM. Docket exits cleanly within its grace, and every report in a 2xx
// answer is in the database after a restart.
func TestSIGTERMUnderLoad(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) { testSIGTERMUnderLoad(t, filepath.Join(t.TempDir(), "term.db")) })
	t.Run("postgres", func(t *testing.T) { testSIGTERMUnderLoad(t, postgresSchemaURL(t)) })
}

// postgresSchemaURL is a DOCKET_DATABASE_URL for a fresh PostgreSQL schema,
// dropped when the test ends.
func postgresSchemaURL(t *testing.T) string {
	t.Helper()
	admin, err := database.Open(context.Background(), testdb.PostgresURL())
	if err != nil {
		testdb.Unavailable(t, "PostgreSQL", err)
	}
	schema := fmt.Sprintf("t_ops_%d", time.Now().UnixNano())
	if err := admin.W.Exec("CREATE SCHEMA " + schema).Error; err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		admin.W.Exec("DROP SCHEMA IF EXISTS " + schema + " CASCADE")
		admin.Close()
	})
	u, _ := url.Parse(testdb.PostgresURL())
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

func testSIGTERMUnderLoad(t *testing.T, dbPath string) {
	key := issueFlaggerKey(t, dbPath)
	// A load test, not a test of the per-key limit: every answer is 2xx or a shutdown's.
	// The outbox is the test's: on PostgreSQL it defaults to ./outbox, the source tree.
	env := []string{"DOCKET_DATABASE_URL=" + dbPath, "DOCKET_LOG_LEVEL=warn", "DOCKET_SHUTDOWN_GRACE=20s", "DOCKET_RATE_LIMIT_API=off",
		"DOCKET_OUTBOX=" + t.TempDir()}
	p := startDocket(t, env, "--demo")

	var (
		mu       sync.Mutex
		receipts []string
		ok       = make(chan struct{}, 1000)
		wg       sync.WaitGroup
	)
	hc := &http.Client{Timeout: 30 * time.Second}
	// Each filer reports subdomains of a demo site of its own: served hosts, so
	// every report is on a case, without all eight waiting on one site's lock.
	sites := []string{"northwind-outfitters.example", "lumenphoto.example", "secure-login-verify.example", "kestrel.example",
		"yardboard.example", "cheap-pills-now.example", "shop.northwind-outfitters.example", "media.yardboard.example"}
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				var batch []map[string]string
				for j := 0; j < 25; j++ {
					batch = append(batch, map[string]string{"category": "phishing",
						"url": fmt.Sprintf("https://load%d.%s/%d/%d", w, sites[w], i, j), "description": "Load test report."})
				}
				body, _ := json.Marshal(map[string]any{"reports": batch})
				req, _ := http.NewRequest(http.MethodPost, p.base+"/api/v1/reports", bytes.NewReader(body))
				req.Header.Set("Authorization", "Bearer "+key)
				req.Header.Set("Content-Type", "application/json")
				res, err := hc.Do(req)
				if err != nil {
					return // the listener is closed: Docket is shutting down
				}
				b, _ := io.ReadAll(res.Body)
				res.Body.Close()
				if res.StatusCode < 200 || res.StatusCode > 299 {
					if res.StatusCode >= 500 {
						t.Errorf("status %d during shutdown: %s", res.StatusCode, b)
					}
					continue
				}
				var out struct {
					Results []struct{ Receipt string }
				}
				if err := json.Unmarshal(b, &out); err != nil {
					t.Errorf("2xx with a body that is not the batch answer: %v: %s", err, b)
					return
				}
				mu.Lock()
				for _, r := range out.Results {
					if r.Receipt != "" {
						receipts = append(receipts, r.Receipt)
					}
				}
				mu.Unlock()
				select {
				case ok <- struct{}{}:
				default:
				}
			}
		}()
	}
	answered := time.After(90 * time.Second)
	for i := 0; i < 20; i++ { // some answered batches, then the signal with more in flight
		select {
		case <-ok:
		case <-answered:
			p.cmd.Process.Kill() // the filers' requests fail and they return
			wg.Wait()
			t.Fatalf("only %d batches answered with 2xx before the deadline\n%s", i, p.log())
		}
	}
	start := time.Now()
	if err := p.stop(t, 30*time.Second); err != nil {
		t.Fatalf("docket exited with %v after SIGTERM\n%s", err, p.log())
	}
	t.Logf("exited %s after SIGTERM", time.Since(start).Round(time.Millisecond))
	wg.Wait()
	if len(receipts) < 20*25 {
		t.Fatalf("only %d receipts", len(receipts))
	}

	startDocket(t, env) // the restart: it must come up on what was left
	db, err := database.Open(context.Background(), dbPath)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	found := map[string]bool{}
	for i := 0; i < len(receipts); i += 500 {
		var ids []string
		db.R.Table("reports").Where("public_id IN ?", receipts[i:min(i+500, len(receipts))]).Pluck("public_id", &ids)
		for _, id := range ids {
			found[id] = true
		}
	}
	var missing []string
	for _, r := range receipts {
		if !found[r] {
			missing = append(missing, r)
		}
	}
	if len(missing) > 0 {
		t.Fatalf("%d of %d acknowledged reports are not in the database after the restart, e.g. %s", len(missing), len(receipts), missing[0])
	}
	t.Logf("%d acknowledged reports, all present after restart", len(receipts))
}

// TestLogsHoldNoSecrets runs Docket with JSON logs at debug level through a
// sign-in (and a failed one), a session, an API key (and a bad one) and an
// anonymous report with a name and an email, and checks that none of those
// strings reaches the log; and that the request id of the report follows it
// into the job that sends the acknowledgement.
func TestLogsHoldNoSecrets(t *testing.T) {
	dir := t.TempDir()
	dbPath := filepath.Join(dir, "logs.db")
	key := issueFlaggerKey(t, dbPath)
	const password = "Secret-Marker-Passw0rd-7731"
	const wrongPassword = "Wrong-Marker-Passw0rd-9902"
	t.Setenv("DOCKET_PASSWORD", password)
	if out, err := docket(t, "", "user", "add", "--email", "lee.marker@example.org", "--name", "Lee Marker", "--roles", "admin,senior_reviewer"); err != nil {
		t.Fatalf("user add: %v\n%s", err, out)
	}
	env := []string{"DOCKET_DATABASE_URL=" + dbPath, "DOCKET_LOG_FORMAT=json", "DOCKET_LOG_LEVEL=debug", "DOCKET_OUTBOX=" + filepath.Join(dir, "outbox")}
	p := startDocket(t, env)

	jar, _ := cookiejar.New(nil)
	hc := &http.Client{Jar: jar, Timeout: 10 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	get := func(path string) *http.Response {
		res, err := hc.Get(p.base + path)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, res.Body)
		res.Body.Close()
		return res
	}
	get("/login")
	u, _ := url.Parse(p.base)
	cookie := func(name string) string {
		for _, c := range jar.Cookies(u) {
			if c.Name == name {
				return c.Value
			}
		}
		return ""
	}
	csrf := cookie("docket_csrf")
	post := func(path string, form url.Values) *http.Response {
		form.Set("_csrf", csrf)
		res, err := hc.PostForm(p.base+path, form)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, res.Body)
		res.Body.Close()
		return res
	}
	if res := post("/login", url.Values{"email": {"lee.marker@example.org"}, "password": {wrongPassword}}); res.StatusCode == http.StatusSeeOther {
		t.Fatal("signed in with the wrong password")
	}
	if res := post("/login", url.Values{"email": {"lee.marker@example.org"}, "password": {password}}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("login: %d", res.StatusCode)
	}
	session := cookie("docket_session")
	if session == "" {
		t.Fatal("no session cookie")
	}
	if res := get("/queue"); res.StatusCode != http.StatusOK {
		t.Fatalf("queue: %d", res.StatusCode)
	}
	const reporterName, reporterEmail = "Anonymous Marker Person", "anon.marker.person@example.org"
	anon := &http.Client{Timeout: 10 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	// An anonymous browser: no session, its own CSRF cookie. It opens the form
	// and solves its proof-of-work challenge as the page's script would.
	token, solution := solveFormChallenge(t, anon, p.base, csrf)
	req, _ := http.NewRequest(http.MethodPost, p.base+"/report", strings.NewReader(url.Values{"_csrf": {csrf}, "category": {"phishing"},
		"url": {"https://logs-marker.yardboard.example/login"}, "description": {"Phishing."}, "good_faith": {"yes"}, "name": {reporterName}, "email": {reporterEmail},
		"detail_phishing_brand": {"Marker Bank"}, "pow_token": {token}, "pow_solution": {solution}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.AddCookie(&http.Cookie{Name: "docket_csrf", Value: csrf})
	res, err := anon.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("anonymous report: %d\n%s", res.StatusCode, p.log())
	}
	reportReq := res.Header.Get("X-Request-ID")
	for _, k := range []string{key, "dkt_bogus_marker_key_5521"} {
		req, _ := http.NewRequest(http.MethodPost, p.base+"/api/v1/reports", strings.NewReader(`{"category":"spam","url":"https://logs-marker.yardboard.example/spam","description":"Spam."}`))
		req.Header.Set("Authorization", "Bearer "+k)
		req.Header.Set("Content-Type", "application/json")
		res, err := anon.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
	}
	// Wait for the acknowledgement to be written (its job logs "notice sent").
	deadline := time.Now().Add(20 * time.Second)
	for !strings.Contains(p.log(), `"notice sent"`) && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
	}
	if err := p.stop(t, 30*time.Second); err != nil {
		t.Fatalf("exit: %v", err)
	}
	logs := p.log()
	if os.Getenv("DOCKET_TEST_SHOW_LOGS") != "" {
		t.Log(logs)
	}
	for name, secret := range map[string]string{
		"password": password, "wrong password": wrongPassword, "session token": session, "CSRF token": csrf,
		"API key": key, "API key secret part": key[len(key)-16:], "bad API key": "dkt_bogus_marker_key_5521",
		"reporter's name": reporterName, "reporter's email": reporterEmail, "reporter's email user": "anon.marker.person",
	} {
		if strings.Contains(logs, secret) {
			t.Errorf("the log holds the %s", name)
		}
	}
	var httpLine, jobLine bool
	for _, line := range strings.Split(strings.TrimSpace(logs), "\n") {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Errorf("a log line is not JSON: %q", line)
			continue
		}
		if rec["request_id"] == reportReq && rec["msg"] == "http" && rec["route"] == "/report" {
			httpLine = true
		}
		if rec["request_id"] == reportReq && rec["msg"] == "notice sent" {
			jobLine = true
		}
	}
	if reportReq == "" || !httpLine || !jobLine {
		t.Errorf("request id %q: on the request's log line %v, on its job's %v\n%s", reportReq, httpLine, jobLine, logs)
	}
}

// TestMetricsListener: with DOCKET_METRICS_LISTEN the metrics (and probes) are
// served on their own address, never on the public one.
func TestMetricsListener(t *testing.T) {
	dbPath := filepath.Join(t.TempDir(), "metrics.db")
	p := startDocket(t, []string{"DOCKET_DATABASE_URL=" + dbPath, "DOCKET_LOG_LEVEL=warn", "DOCKET_METRICS_LISTEN=127.0.0.1:0"}, "--demo")
	var metricsURL string
	select {
	case metricsURL = <-p.metrics:
	case <-time.After(10 * time.Second):
		t.Fatal("no metrics listener announced")
	}
	get := func(u string) (int, string) {
		res, err := (&http.Client{Timeout: 30 * time.Second}).Get(u)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(b)
	}
	if code, body := get(p.base + "/readyz"); code != http.StatusOK || !strings.Contains(body, "database: ok") || !strings.Contains(body, "job queue: ok") {
		t.Errorf("/readyz on the web listener: %d %q", code, body)
	}
	if code, _ := get(p.base + "/metrics"); code != http.StatusNotFound {
		t.Errorf("/metrics on the public listener: %d, want 404", code)
	}
	get(p.base + "/report")
	code, body := get(metricsURL)
	if code != http.StatusOK {
		t.Fatalf("/metrics: %d", code)
	}
	for _, want := range []string{
		`docket_http_requests_total{method="GET",route="/report",status="200"} 1`,
		"docket_queue_open_cases{queue=\"general\"}", "docket_jobs{state=\"available\"}", "docket_metrics_db_up 1", "go_goroutines",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	if code, body := get(strings.TrimSuffix(metricsURL, "/metrics") + "/readyz"); code != http.StatusOK || !strings.Contains(body, "database: ok") {
		t.Errorf("/readyz on the metrics listener: %d %q", code, body)
	}
}

// restrictKestrel signs in as the demo senior reviewer and restricts the
// malware site's case through the web UI; timeout bounds each request.
func restrictKestrel(t *testing.T, base, dbPath string, timeout time.Duration) {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	hc := &http.Client{Jar: jar, Timeout: timeout, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := hc.Get(base + "/login")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	u, _ := url.Parse(base)
	var csrf string
	for _, c := range jar.Cookies(u) {
		if c.Name == "docket_csrf" {
			csrf = c.Value
		}
	}
	post := func(path string, form url.Values) int {
		form.Set("_csrf", csrf)
		res, err := hc.PostForm(base+path, form)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode
	}
	if code := post("/login", url.Values{"email": {"senior@docket.example"}, "password": {"docket-demo-password"}}); code != http.StatusSeeOther {
		t.Fatalf("login: %d", code)
	}
	db, err := database.Open(context.Background(), dbPath)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var caseID int64
	db.R.Table("cases").Select("id").Where("hostname = 'files.kestrel.example'").Scan(&caseID)
	path := "/cases/" + itoa(caseID)
	if code := post(path+"/claim", url.Values{}); code != http.StatusSeeOther {
		t.Fatalf("claim: %d", code)
	}
	if code := post(path+"/decide", url.Values{"action": {"restrict"}, "grounds": {"AUP 5"}, "explanation": {"Malware."}}); code != http.StatusSeeOther {
		t.Fatalf("decide: %d", code)
	}
}

// TestSIGTERMReturnsRunningJobs: a delivery is stuck on a slow edge when
// Docket gets SIGTERM. Docket exits once its grace is up, the delivery goes back
// to the queue, and after a restart it reaches the edge.
func TestSIGTERMReturnsRunningJobs(t *testing.T) {
	secret := edgesim.NewSecret()
	sim, err := edgesim.New([]string{secret})
	if err != nil {
		t.Fatal(err)
	}
	var slow atomic.Bool
	slow.Store(true)
	arrived := make(chan struct{}, 10)
	edge := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if slow.Load() {
			io.Copy(io.Discard, r.Body) // so the server notices when the client hangs up
			arrived <- struct{}{}
			select { // hangs until the sender gives up
			case <-r.Context().Done():
			case <-time.After(20 * time.Second):
			}
			http.Error(w, "too late", http.StatusServiceUnavailable)
			return
		}
		sim.Handler().ServeHTTP(w, r)
	}))
	defer edge.Close()
	dbPath := filepath.Join(t.TempDir(), "jobs.db")
	env := []string{"DOCKET_DATABASE_URL=" + dbPath, "DOCKET_LOG_LEVEL=warn", "DOCKET_SHUTDOWN_GRACE=1s",
		"DOCKET_EDGE_ENDPOINTS=" + edge.URL + edgesim.PathDirectives, "DOCKET_EDGE_SECRETS=" + secret}
	p := startDocket(t, env, "--demo")
	restrictKestrel(t, p.base, dbPath, 10*time.Second)
	select {
	case <-arrived:
	case <-time.After(20 * time.Second):
		t.Fatal("the delivery never reached the edge")
	}
	start := time.Now()
	p.stop(t, 15*time.Second) // the grace, then the cancelled job's return; not the edge's 20 s
	t.Logf("exited %s after SIGTERM", time.Since(start).Round(time.Millisecond))

	db, err := database.Open(context.Background(), dbPath)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var states []string
	db.R.Table("river_job").Where("kind = 'deliver_directive'").Pluck("state", &states)
	if len(states) != 1 || states[0] == "running" || states[0] == "completed" || states[0] == "cancelled" || states[0] == "discarded" {
		t.Fatalf("the cut-short delivery's job is %v, want it back on the queue", states)
	}
	t.Logf("job state %v", states)
	slow.Store(false)
	startDocket(t, env)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := sim.WaitFor(ctx, "files.kestrel.example", 1); err != nil {
		t.Fatalf("the returned delivery never reached the edge after the restart: %v", err)
	}
	t.Logf("delivered %s after SIGTERM", time.Since(start).Round(time.Millisecond))
}

// TestOpsConfigErrors: the new settings say plainly what is wrong, and a
// metrics address that is taken stops Docket at start.
func TestOpsConfigErrors(t *testing.T) {
	t.Setenv("DOCKET_DATABASE_URL", filepath.Join(t.TempDir(), "c.db"))
	for env, value := range map[string]string{"DOCKET_SHUTDOWN_GRACE": "soon", "DOCKET_METRICS_LISTEN": "9090", "DOCKET_LOG_FORMAT": "yaml"} {
		t.Run(env, func(t *testing.T) {
			t.Setenv(env, value)
			if _, err := docket(t, "", "migrate", "status"); err == nil || !strings.Contains(err.Error(), env) {
				t.Errorf("%s=%s: %v", env, value, err)
			}
		})
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	_, err = docket(t, "", "serve", "--listen", "127.0.0.1:0", "--metrics-listen", ln.Addr().String())
	if err == nil || !strings.Contains(err.Error(), "DOCKET_METRICS_LISTEN") {
		t.Errorf("serve with the metrics address taken: %v", err)
	}
}

// powInput is the report form's challenge field.
var powInput = regexp.MustCompile(`id="pow_token" value="([^"]+)" data-bits="(\d+)"`)

// solveFormChallenge opens the report form (with the CSRF cookie csrf) and
// returns its proof-of-work token and a solution.
func solveFormChallenge(t *testing.T, hc *http.Client, base, csrf string) (token, solution string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, base+"/report", nil)
	req.AddCookie(&http.Cookie{Name: "docket_csrf", Value: csrf})
	res, err := hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	m := powInput.FindSubmatch(b)
	if m == nil {
		t.Fatalf("no challenge on the report form: %d\n%s", res.StatusCode, b)
	}
	bits, _ := strconv.Atoi(string(m[2]))
	token = html.UnescapeString(string(m[1]))
	return token, pow.Solve(token, bits)
}
