package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/dockethq/docket/audit"
	"github.com/dockethq/docket/cases"
	"github.com/dockethq/docket/edgesim"
	"github.com/dockethq/docket/internal/testdb"
	"github.com/dockethq/docket/notify"
	"github.com/dockethq/docket/policy"
	"github.com/dockethq/docket/users"
)

// TestTwoInstancesBehaveAsOne runs two `docket serve` processes on one
// PostgreSQL schema with one edge, and checks that together they behave as one
// Docket: a session from one works on the other; of 200 concurrent claims
// spread over both, each case has one winner; a role granted on one holds on
// the other; 1,000 directives decided through both reach the edge once each
// and in version order per hostname; the lease sweep runs once, not once per
// instance.
func TestTwoInstancesBehaveAsOne(t *testing.T) {
	if testing.Short() {
		t.Skip("starts two docket processes")
	}
	began := time.Now()
	phase := func(what string) { t.Logf("%6.1fs %s", time.Since(began).Seconds(), what) }
	db, dsn := testdb.PostgresSchema(t)
	ctx := context.Background()
	if err := notify.Migrate(ctx, db); err != nil {
		t.Fatal(err)
	}
	en, err := policy.NewEnforcer(db)
	if err != nil {
		t.Fatal(err)
	}
	us := users.NewService(db, en, time.Now)
	cs := cases.NewService(db, time.Now)

	// Staff: ten reviewers, an admin, and someone who is about to become an auditor.
	const password = "a long enough password"
	newUser := func(email string, roles ...string) *users.User {
		u, err := us.Create(ctx, "test", users.NewUser{Email: email, Name: email, Password: password, Roles: roles})
		if err != nil {
			t.Fatal(err)
		}
		return u
	}
	var reviewers []*users.User
	for i := range 10 {
		reviewers = append(reviewers, newUser(fmt.Sprintf("rev%d@docket.example", i), policy.Reviewer))
	}
	admin := newUser("admin@docket.example", policy.Admin)
	newcomer := newUser("newcomer@docket.example", policy.Reviewer)

	// Cases: 20 to fight over (one site each), and 125 sites × 8 categories
	// to decide, so that eight directives per hostname are queued at once
	// through both instances.
	const claimSites, decideSites = 20, 125
	cats := []cases.Category{cases.Phishing, cases.Malware, cases.Copyright, cases.Trademark, cases.Harassment, cases.Spam, cases.Other, cases.ViolentExtremism}
	type job struct {
		host string
		cat  cases.Category
	}
	var jobs []job
	var hosts []string
	for i := range claimSites {
		hosts = append(hosts, fmt.Sprintf("claim-%02d.example", i))
		jobs = append(jobs, job{hosts[i], cases.Phishing})
	}
	for i := range decideSites {
		h := fmt.Sprintf("site-%03d.example", i)
		hosts = append(hosts, h)
		for _, c := range cats {
			jobs = append(jobs, job{h, c})
		}
	}
	parallel(4, len(hosts), func(i int) {
		if _, _, err := cs.AddCustomer(ctx, "test", cases.Customer{Name: "Customer " + hosts[i]}, hosts[i]); err != nil {
			t.Error(err)
		}
	})
	caseOf := make([]int64, len(jobs))
	parallel(8, len(jobs), func(i int) {
		r, err := cs.FileReport(ctx, cases.NewReport{Channel: cases.ChannelWeb, ReporterKind: cases.ReporterPublic,
			Category: jobs[i].cat, URL: "https://" + jobs[i].host + "/x", Description: "It is bad.", GoodFaith: true})
		if err != nil {
			t.Error(err)
			return
		}
		caseOf[i] = r.CaseID
	})
	if t.Failed() {
		t.FailNow()
	}

	phase("data loaded")

	// The edge: an edge-sim that also writes down every directive it accepts,
	// in the order they arrive, before it answers.
	secret := edgesim.NewSecret()
	sim, err := edgesim.New([]string{secret})
	if err != nil {
		t.Fatal(err)
	}
	type arrival struct {
		ID      string
		Version int64
		Hosts   []string
	}
	var (
		arrMu    sync.Mutex
		arrivals []arrival
	)
	edge := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
		rec := httptest.NewRecorder()
		sim.Handler().ServeHTTP(rec, r)
		if r.URL.Path == edgesim.PathDirectives && rec.Code/100 == 2 {
			var p notify.Payload
			if err := json.Unmarshal(body, &p); err != nil {
				t.Errorf("edge: %v", err)
			}
			arrMu.Lock()
			arrivals = append(arrivals, arrival{p.ID, p.Version, p.Hostnames})
			arrMu.Unlock()
		}
		for k, v := range rec.Header() {
			w.Header()[k] = v
		}
		w.WriteHeader(rec.Code)
		w.Write(rec.Body.Bytes())
	}))
	defer edge.Close()

	// Two instances, started together as in a rolling deploy.
	env := []string{
		"DOCKET_DATABASE_URL=" + dsn,
		"DOCKET_EDGE_ENDPOINTS=" + edge.URL + edgesim.PathDirectives,
		"DOCKET_EDGE_SECRETS=" + secret,
		"DOCKET_TIMER_INTERVAL=1s",
		"DOCKET_LOG_LEVEL=warn",
	}
	var bases [2]string
	var procs [2]*exec.Cmd
	var wg sync.WaitGroup
	for i := range bases {
		wg.Go(func() { procs[i], bases[i] = serveProcess(t, fmt.Sprintf("docket-%d", i), env) })
	}
	wg.Wait()
	if procs[0] == nil || procs[1] == nil {
		t.FailNow()
	}

	phase("both instances serving")

	// Everyone signs in on one instance and works on both: sessions live in
	// the database.
	tr := &http.Transport{MaxIdleConnsPerHost: 64}
	defer tr.CloseIdleConnections()
	var sessions []*staffSession
	for i, u := range reviewers {
		sessions = append(sessions, signIn(t, tr, bases[i%2], u.Email, password))
	}

	// 200 concurrent claims: ten reviewers on each of 20 cases, spread over
	// both instances. One winner per case.
	codes := make([][]int, claimSites)
	for j := range codes {
		codes[j] = make([]int, len(sessions))
	}
	start := make(chan struct{})
	for i, s := range sessions {
		for j := range claimSites {
			wg.Go(func() {
				<-start
				codes[j][i], _ = s.do("POST", bases[(i+j)%2]+"/api/v1/cases/"+itoa(caseOf[j])+"/claim", nil)
			})
		}
	}
	close(start)
	wg.Wait()
	for j := range claimSites {
		winner := -1
		for i, code := range codes[j] {
			switch code {
			case http.StatusOK:
				if winner >= 0 {
					t.Errorf("case %d: claimed by reviewer %d and by reviewer %d", caseOf[j], winner, i)
				}
				winner = i
			case http.StatusConflict:
			default:
				t.Errorf("case %d: reviewer %d's claim answered %d", caseOf[j], i, code)
			}
		}
		var assignee *int64
		db.R.Table("cases").Select("assignee_id").Where("id = ?", caseOf[j]).Scan(&assignee)
		var claims int64
		db.R.Table("audit_events").Where("action = 'case.claim' AND object_id = ?", itoa(caseOf[j])).Count(&claims)
		switch {
		case winner < 0:
			t.Errorf("case %d: nobody won the claim", caseOf[j])
		case assignee == nil || *assignee != reviewers[winner].ID:
			t.Errorf("case %d: the database says assignee %v, the winner was user %d", caseOf[j], assignee, reviewers[winner].ID)
		case claims != 1:
			t.Errorf("case %d: %d claim events, want 1", caseOf[j], claims)
		}
	}

	phase("claims checked")

	// The lease sweep: the 20 claims lapse at once; one sweep on one instance
	// releases them all, and each release is audited once.
	if err := db.W.Exec("UPDATE cases SET claim_expires_at = ? WHERE id IN ?", time.Now().Add(-time.Minute), caseOf[:claimSites]).Error; err != nil {
		t.Fatal(err)
	}
	var lastTimerJob int64
	waitUntil(t, 30*time.Second, "the lapsed claims to be released", func() bool {
		var held int64
		db.R.Table("cases").Where("id IN ? AND assignee_id IS NOT NULL", caseOf[:claimSites]).Count(&held)
		db.R.Table("river_job").Select("COALESCE(MAX(id), 0)").Where("kind = 'timer' AND args->>'name' = 'expire_leases'").Scan(&lastTimerJob)
		return held == 0
	})
	// Let two more ticks pass, in which a second runner would show itself.
	waitUntil(t, 30*time.Second, "two more timer ticks", func() bool {
		var n int64
		db.R.Table("river_job").Where("kind = 'timer' AND args->>'name' = 'expire_leases' AND id > ? AND state = 'completed'", lastTimerJob).Count(&n)
		return n >= 2
	})
	var expired int64
	db.R.Table("audit_events").Where("action = 'case.lease_expired' AND actor = 'system'").Count(&expired)
	if expired != claimSites {
		t.Errorf("%d lease_expired events for %d lapsed claims", expired, claimSites)
	}
	var perCase []int64
	db.R.Raw("SELECT COUNT(*) FROM audit_events WHERE action = 'case.lease_expired' GROUP BY object_id HAVING COUNT(*) > 1").Scan(&perCase)
	if len(perCase) > 0 {
		t.Errorf("leases released more than once: %v", perCase)
	}
	var outputs []string
	db.R.Raw("SELECT metadata->>'output' FROM river_job WHERE kind = 'timer' AND args->>'name' = 'expire_leases' AND (metadata->'output'->>'handled')::int > 0").Scan(&outputs)
	var out struct{ Handled int }
	if len(outputs) == 1 {
		_ = json.Unmarshal([]byte(outputs[0]), &out)
	}
	if len(outputs) != 1 || out.Handled != claimSites {
		t.Errorf("timer runs that released leases: %v, want one run that released 20", outputs)
	}

	phase("lease sweep checked")

	// A role granted on instance 0 holds on instance 1 without a restart.
	adminSession := signIn(t, tr, bases[0], admin.Email, password)
	newcomerSession := signIn(t, tr, bases[1], newcomer.Email, password)
	if code, _ := newcomerSession.do("GET", bases[1]+"/admin/users", nil); code != http.StatusForbidden {
		t.Fatalf("a reviewer reading the user list: %d", code)
	}
	if code := adminSession.postForm(bases[0]+"/admin/users/"+itoa(newcomer.ID)+"/roles", url.Values{"roles": {policy.Reviewer, policy.Auditor}}); code != http.StatusSeeOther {
		t.Fatalf("grant auditor: %d", code)
	}
	waitUntil(t, 15*time.Second, "the other instance to know the new auditor", func() bool {
		code, _ := newcomerSession.do("GET", bases[1]+"/admin/users", nil)
		return code == http.StatusOK
	})

	phase("policy change seen")

	// 1,000 directives: every decide case is restricted through one instance
	// or the other, hostname by hostname, so the eight cases of a site are
	// decided at the same time on both. (The claims before are taken here
	// directly: claims over HTTP were tested above.)
	decide := caseOf[claimSites:]
	parallel(8, len(decide), func(k int) {
		a := cases.Actor{UserID: reviewers[k%len(reviewers)].ID}
		if _, err := cs.Claim(ctx, a, decide[k]); err != nil {
			t.Errorf("claim case %d: %v", decide[k], err)
		}
	})
	phase("decide cases claimed")
	parallel(16, len(decide), func(k int) {
		s := sessions[k%len(sessions)]
		path := bases[k%2] + "/api/v1/cases/" + itoa(decide[k])
		if code, body := s.do("POST", path+"/decide", map[string]string{"action": "restrict", "grounds": "AUP 3", "explanation": "Restricted."}); code != http.StatusOK {
			t.Errorf("restrict case %d: %d %s", decide[k], code, body)
		}
	})
	if t.Failed() {
		t.FailNow()
	}
	phase("restrictions decided")
	var directives []string
	db.R.Table("directives").Order("id").Pluck("id", &directives)
	if len(directives) != len(decide) {
		t.Fatalf("%d directives for %d restrictions", len(directives), len(decide))
	}
	waitUntil(t, 90*time.Second, "every delivery to finish", func() bool {
		var open int64
		db.R.Table("river_job").Where("kind = 'deliver_directive' AND state NOT IN ('completed', 'cancelled', 'discarded')").Count(&open)
		return open == 0
	})
	phase("deliveries finished")
	var undelivered int64
	db.R.Table("deliveries").Where("state <> 'delivered'").Count(&undelivered)
	if undelivered > 0 {
		t.Errorf("%d deliveries not delivered", undelivered)
	}

	arrMu.Lock()
	got := slices.Clone(arrivals)
	arrMu.Unlock()
	seen := map[string]int{}
	byHost := map[string][]int64{}
	for _, a := range got {
		seen[a.ID]++
		if seen[a.ID] == 2 {
			t.Errorf("directive %s (version %d of %v) reached the edge twice", a.ID, a.Version, a.Hosts)
		}
		for _, h := range a.Hosts {
			byHost[h] = append(byHost[h], a.Version)
		}
	}
	for _, id := range directives {
		if seen[id] == 0 {
			t.Errorf("directive %s never reached the edge", id)
		}
	}
	if len(seen) != len(directives) {
		t.Errorf("the edge accepted %d distinct directives, Docket issued %d", len(seen), len(directives))
	}
	want := []int64{1, 2, 3, 4, 5, 6, 7, 8}
	for i := range decideSites {
		h := fmt.Sprintf("site-%03d.example", i)
		if !slices.Equal(byHost[h], want) {
			t.Errorf("%s received versions %v in that order, want %v", h, byHost[h], want)
		}
		if st, _ := sim.Host(h); st.Version != 8 || st.State != edgesim.StateRestricted {
			t.Errorf("%s at the edge: %+v", h, st)
		}
	}
	// Both instances worked the queue.
	var workers []string
	db.R.Raw("SELECT DISTINCT attempted_by[array_length(attempted_by, 1)] FROM river_job WHERE kind = 'deliver_directive'").Scan(&workers)
	if len(workers) < 2 {
		t.Errorf("deliveries were worked by %v, want both instances", workers)
	}
	t.Logf("%d directives delivered once each, in order, by %d instances", len(seen), len(workers))

	// The instances' sealers chained every audit event the work above
	// committed (nobody else seals here), in turns: the chain verifies with
	// nothing left pending.
	waitUntil(t, 20*time.Second, "the sealers to chain every audit event", func() bool {
		var pending int64
		db.R.Raw(`SELECT COUNT(*) FROM audit_events WHERE seq = -1`).Scan(&pending)
		return pending == 0
	})
	if rep, err := audit.NewChain(db, audit.Options{}).Verify(ctx); err != nil || !rep.OK || rep.Events < int64(len(jobs)) {
		t.Errorf("audit chain after both instances' work: %+v %v", rep, err)
	}

	// The leader stops (a deploy); the other instance takes the timers over
	// and releases the next lapsed claim, once.
	var leader string
	db.R.Table("river_leader").Select("leader_id").Scan(&leader)
	stopped := slices.IndexFunc(procs[:], func(c *exec.Cmd) bool { return strings.Contains(leader, fmt.Sprintf("_pid%d_", c.Process.Pid)) })
	if stopped < 0 {
		t.Fatalf("the leader %q is neither instance", leader)
	}
	procs[stopped].Process.Signal(syscall.SIGTERM)
	exited := make(chan error, 1)
	go func() { exited <- procs[stopped].Wait() }()
	select {
	case <-exited:
	case <-time.After(60 * time.Second):
		procs[stopped].Process.Kill() // its log is printed as the test fails
		t.Fatalf("instance %d did not exit within 60 s of SIGTERM", stopped)
	}
	phase(fmt.Sprintf("leader (instance %d) stopped", stopped))
	relapse := caseOf[0]
	if _, err := cs.Claim(ctx, cases.Actor{UserID: reviewers[0].ID}, relapse); err != nil {
		t.Fatal(err)
	}
	db.W.Exec("UPDATE cases SET claim_expires_at = ? WHERE id = ?", time.Now().Add(-time.Minute), relapse)
	waitUntil(t, 60*time.Second, "the remaining instance to release the lapsed claim", func() bool {
		var held int64
		db.R.Table("cases").Where("id = ? AND assignee_id IS NOT NULL", relapse).Count(&held)
		return held == 0
	})
	phase("the other instance took the timers over")
	db.R.Table("river_leader").Select("leader_id").Scan(&leader)
	if !strings.Contains(leader, fmt.Sprintf("_pid%d_", procs[1-stopped].Process.Pid)) {
		t.Errorf("leader after the stop: %q", leader)
	}
	var releases int64
	db.R.Table("audit_events").Where("action = 'case.lease_expired' AND object_id = ?", itoa(relapse)).Count(&releases)
	if releases != 2 {
		t.Errorf("case %d: %d lease releases, want 2 (one before the stop, one after)", relapse, releases)
	}
}

// serveProcess starts `docket serve` (this test binary, re-entering main) and
// returns its URL. Its log goes to a file printed if the test fails.
func serveProcess(t *testing.T, name string, env []string) (*exec.Cmd, string) {
	t.Helper()
	outbox := t.TempDir()
	cmd := exec.Command(os.Args[0], "serve", "--listen", "127.0.0.1:0", "--outbox", outbox)
	cmd.Env = append(os.Environ(), append(env, "DOCKET_TEST_RUN_MAIN=1")...)
	logPath := filepath.Join(t.TempDir(), name+".log")
	logFile, err := os.Create(logPath)
	if err != nil {
		t.Error(err)
		return nil, ""
	}
	cmd.Stderr = logFile
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Error(err)
		return nil, ""
	}
	if err := cmd.Start(); err != nil {
		t.Error(err)
		return nil, ""
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
		logFile.Close()
		if t.Failed() {
			if b, _ := os.ReadFile(logPath); len(b) > 0 {
				t.Logf("%s log:\n%s", name, b[max(0, len(b)-4000):])
			}
		}
	})
	found := make(chan string, 1)
	go func() {
		lines := bufio.NewScanner(out)
		for lines.Scan() {
			if u, ok := strings.CutPrefix(lines.Text(), "Docket is running at "); ok {
				found <- u
			}
		}
	}()
	select {
	case u := <-found:
		return cmd, u
	case <-time.After(60 * time.Second):
		t.Errorf("%s did not start", name)
		return nil, ""
	}
}

// staffSession is a signed-in browser: its cookies (session, CSRF) are sent
// to every instance, as a load balancer would.
type staffSession struct {
	t    *testing.T
	hc   *http.Client
	csrf string
}

func signIn(t *testing.T, tr http.RoundTripper, base, email, password string) *staffSession {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	s := &staffSession{t: t, hc: &http.Client{Jar: jar, Transport: tr, Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
	res, err := s.hc.Get(base + "/login")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	u, _ := url.Parse(base)
	for _, c := range jar.Cookies(u) {
		if c.Name == "docket_csrf" {
			s.csrf = c.Value
		}
	}
	if code := s.postForm(base+"/login", url.Values{"email": {email}, "password": {password}}); code != http.StatusSeeOther {
		t.Fatalf("sign in %s: %d", email, code)
	}
	return s
}

func (s *staffSession) postForm(u string, form url.Values) int {
	form.Set("_csrf", s.csrf)
	res, err := s.hc.PostForm(u, form)
	if err != nil {
		s.t.Error(err)
		return 0
	}
	io.Copy(io.Discard, res.Body)
	res.Body.Close()
	return res.StatusCode
}

// do sends a JSON API request (body nil for none) and returns the status and body.
func (s *staffSession) do(method, u string, body any) (int, string) {
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, u, rd)
	req.Header.Set("X-CSRF-Token", s.csrf)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := s.hc.Do(req)
	if err != nil {
		s.t.Error(err)
		return 0, ""
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

// parallel runs fn(0…n-1) on workers goroutines.
func parallel(workers, n int, fn func(i int)) {
	next := make(chan int)
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for i := range next {
				fn(i)
			}
		})
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
}

// waitUntil polls cond until it holds or the time is up (then the test fails).
func waitUntil(t *testing.T, limit time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %s after %s", what, limit)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestTimerIntervalConfig(t *testing.T) {
	for _, v := range []string{"soon", "500ms", "-1m"} {
		t.Run(v, func(t *testing.T) {
			t.Setenv("DOCKET_DATABASE_URL", filepath.Join(t.TempDir(), "d.db"))
			t.Setenv("DOCKET_TIMER_INTERVAL", v)
			_, err := docket(t, "", "migrate", "status")
			if err == nil || !strings.Contains(err.Error(), "DOCKET_TIMER_INTERVAL") {
				t.Fatalf("err = %v, want it to name DOCKET_TIMER_INTERVAL", err)
			}
		})
	}
}
