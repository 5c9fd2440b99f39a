package notify_test

import (
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/dockethq/docket/audit"
	"github.com/dockethq/docket/cases"
	"github.com/dockethq/docket/edgesim"
	"github.com/dockethq/docket/internal/database"
	"github.com/dockethq/docket/internal/testdb"
	"github.com/dockethq/docket/notify"
	"github.com/dockethq/docket/reconcile"
)

// simEdge is a real edge-sim over HTTP whose state can be lost: lose swaps in
// a fresh simulator behind the same URL, as after a crash without persistence.
type simEdge struct {
	srv *httptest.Server
	sec string
	sim atomic.Pointer[edgesim.Sim]
}

func newSimEdge(t *testing.T) *simEdge {
	t.Helper()
	e := &simEdge{sec: edgesim.NewSecret()}
	e.lose(t)
	e.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { e.sim.Load().Handler().ServeHTTP(w, r) }))
	t.Cleanup(e.srv.Close)
	return e
}

func (e *simEdge) lose(t *testing.T) *edgesim.Sim {
	t.Helper()
	s, err := edgesim.New([]string{e.sec})
	if err != nil {
		t.Fatal(err)
	}
	e.sim.Store(s)
	return s
}

func (e *simEdge) endpoint() string { return e.srv.URL + edgesim.PathDirectives }

func (e *simEdge) wait(t *testing.T, host string, version int64) edgesim.HostState {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := e.sim.Load().WaitFor(ctx, host, version); err != nil {
		t.Fatalf("the edge never applied %s version %d: %v", host, version, err)
	}
	st, _ := e.sim.Load().Host(host)
	return st
}

// get fetches path of host from the edge.
func (e *simEdge) get(t *testing.T, host, path string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, e.srv.URL+path, nil)
	req.Host = host
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

// decide files a report on url in cat, claims the case and decides p on it.
func (f *fixture) decide(t *testing.T, cat cases.Category, url string, p cases.Proposal) (int64, *cases.Decision) {
	t.Helper()
	ctx := context.Background()
	r, err := f.cases.FileReport(ctx, cases.NewReport{Channel: cases.ChannelWeb, ReporterKind: cases.ReporterPublic, Category: cat, URL: url, Description: "bad", GoodFaith: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.cases.Claim(ctx, f.actor, r.CaseID); err != nil {
		t.Fatal(err)
	}
	if p.Grounds == "" {
		p.Grounds, p.Explanation = "AUP 4.2", "Your site breaks the acceptable use policy."
	}
	_, d, err := f.cases.Decide(ctx, f.actor, r.CaseID, p)
	if err != nil {
		t.Fatal(err)
	}
	return r.CaseID, d
}

// TestGraduatedActionsAtEdgeSim: an interstitial, a URL block and a
// restriction, each decided in Docket, reach a real edge-sim over signed HTTP
// and change what the site serves, each in its own way.
func TestGraduatedActionsAtEdgeSim(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		e := newSimEdge(t)
		f := setup(t, db, notify.Config{Endpoints: []string{e.endpoint()}, Secrets: []string{e.sec}})

		f.decide(t, cases.Phishing, "https://board.example/login", cases.Proposal{Action: cases.Interstitial})
		if st := e.wait(t, "board.example", 1); st.Type != edgesim.TypeInterstitial || st.State != edgesim.StateInterstitial {
			t.Fatalf("interstitial state: %+v", st)
		}
		code, page := e.get(t, "board.example", "/login")
		if code != http.StatusOK || !strings.Contains(page, "Warning: suspected harmful site") || !strings.Contains(page, "_edge_continue=") {
			t.Errorf("interstitial page: %d\n%s", code, page)
		}
		if code, _ := e.get(t, "www.board.example", "/"); code != http.StatusOK {
			t.Errorf("the other hostname is untouched: %d", code)
		}

		_, d := f.decide(t, cases.Malware, "https://www.board.example/files/payload.exe", cases.Proposal{Action: cases.BlockURL,
			URLs: []string{"https://WWW.board.example/files/payload.exe"}})
		if d.Action != cases.Restrict || d.Effective() != cases.BlockURL || d.Hostnames != `["www.board.example"]` || d.URLs != `["https://www.board.example/files/payload.exe"]` {
			t.Errorf("block decision: %+v", d)
		}
		if st := e.wait(t, "www.board.example", 1); st.Type != edgesim.TypeBlockURL || len(st.URLs) != 1 {
			t.Fatalf("block state: %+v", st)
		}
		if code, page := e.get(t, "www.board.example", "/files/payload.exe"); code != http.StatusUnavailableForLegalReasons || !strings.Contains(page, "Content blocked") {
			t.Errorf("blocked URL: %d", code)
		}
		for _, path := range []string{"/", "/files/", "/files/readme.txt"} {
			if code, _ := e.get(t, "www.board.example", path); code != http.StatusOK {
				t.Errorf("%s on a host with a URL block: %d, want 200", path, code)
			}
		}

		f.decide(t, cases.Copyright, "https://board.example/film.mkv", cases.Proposal{Action: cases.Restrict})
		if st := e.wait(t, "board.example", 2); st.State != edgesim.StateRestricted {
			t.Fatalf("restrict state: %+v", st)
		}
		if code, _ := e.get(t, "board.example", "/login"); code != http.StatusForbidden {
			t.Errorf("restricted site: %d, want 403", code)
		}
	})
}

// TestExpiringRestrictionIsLifted: a restriction decided with a two-second
// expiry is lifted at the edge by a newer site.reinstate queued by the job
// scheduled for that moment; a measure already overtaken by a later decision
// (here a reversal) is left alone at its expiry.
func TestExpiringRestrictionIsLifted(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		e := newSimEdge(t)
		f := setup(t, db, notify.Config{Endpoints: []string{e.endpoint()}, Secrets: []string{e.sec}})
		ctx := context.Background()
		start := time.Now()
		_, d := f.decide(t, cases.Malware, "https://board.example/x", cases.Proposal{Action: cases.Restrict, Lasts: 2 * time.Second})
		if d.ExpiresAt == nil || d.ExpiresAt.Sub(*d.FinalAt) != 2*time.Second {
			t.Fatalf("decision expiry: %+v", d)
		}
		st := e.wait(t, "board.example", 1)
		if st.State != edgesim.StateRestricted || st.ExpiresAt == nil || st.ExpiresAt.Sub(*d.ExpiresAt).Abs() > time.Millisecond {
			t.Errorf("applied restriction: %+v (want expiry %s)", st, d.ExpiresAt)
		}
		// A second measure, reversed at once: its expiry must not reinstate anything.
		other, _ := f.decide(t, cases.Phishing, "https://www.board.example/y", cases.Proposal{Action: cases.Interstitial, Lasts: 2 * time.Second})
		if _, err := f.cases.Reverse(ctx, f.actor, other, "Reported by mistake."); err != nil {
			t.Fatal(err)
		}
		e.wait(t, "www.board.example", 2) // versions grow per hostname

		st = e.wait(t, "board.example", 2)
		t.Logf("lift applied at the edge %s after the expiry", st.AppliedAt.Sub(*d.ExpiresAt).Round(time.Millisecond))
		if st.Type != edgesim.TypeReinstate || st.State != edgesim.StateActive {
			t.Errorf("after expiry: %+v", st)
		}
		if time.Since(start) < 2*time.Second {
			t.Errorf("lifted before the expiry")
		}
		if code, _ := e.get(t, "board.example", "/x"); code != http.StatusOK {
			t.Errorf("site after the lift: %d", code)
		}
		var lift cases.Directive
		if err := db.R.Where("decision_id = ? AND type = 'site.reinstate'", d.ID).Take(&lift).Error; err != nil || lift.Hostnames != `["board.example"]` {
			t.Errorf("lift directive: %+v %v", lift, err)
		}
		waitFor(t, "the overtaken expiry to be skipped", 20*time.Second, func() bool {
			var n int64
			db.R.Model(&audit.Event{}).Where("action = 'directive.expiry_skipped'").Count(&n)
			return n == 1
		})
		var n int64
		db.R.Model(&cases.Directive{}).Where("type = 'site.reinstate'").Count(&n)
		if n != 2 { // the reversal's and the lift's
			t.Errorf("%d reinstate directives, want 2", n)
		}
		if st, _ := e.sim.Load().Host("www.board.example"); st.Version != 2 {
			t.Errorf("www.board.example moved on to %+v", st)
		}
	})
}

func natsURL() string {
	if u := os.Getenv("DOCKET_TEST_NATS_URL"); u != "" {
		return u
	}
	return "nats://127.0.0.1:4222"
}

// TestReconcileDriftAndRepair: an edge-sim that lost its state, then was sent
// a stale version, and a KV bucket missing a key show up as drift; re-sending
// the desired state repairs both edges, end to end, and is audited.
func TestReconcileDriftAndRepair(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		url := natsURL()
		nc, err := nats.Connect(url)
		if err != nil {
			testdb.Unavailable(t, "NATS", err)
			return
		}
		defer nc.Close()
		js, _ := jetstream.New(nc)
		b := make([]byte, 4)
		_, _ = rand.Read(b)
		bucket := fmt.Sprintf("edge_config_reconcile_%x", b)
		defer cleanupBucket(t, url, bucket)

		e := newSimEdge(t)
		f := setup(t, db, notify.Config{Endpoints: []string{e.endpoint()}, Secrets: []string{e.sec}, NATSURL: url, Bucket: bucket})
		rec := reconcile.New(reconcile.Config{Endpoints: []string{e.endpoint()}, NATSURL: url, Bucket: bucket}, db, f.n.Resend, time.Now)
		ctx := context.Background()

		f.decide(t, cases.Malware, "https://board.example/x", cases.Proposal{Action: cases.Restrict, Hostnames: []string{"board.example", "www.board.example"}})
		f.decide(t, cases.Phishing, "https://board.example/login", cases.Proposal{Action: cases.Interstitial})
		e.wait(t, "board.example", 2)
		delivered := func() bool {
			var n int64
			db.R.Model(&notify.Delivery{}).Where("state <> 'delivered'").Count(&n)
			return n == 0
		}
		waitFor(t, "every delivery", 20*time.Second, delivered)
		rep, err := rec.Run(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(rep.Targets) != 2 || rep.DriftCount() != 0 || rep.Targets[0].Checked != 2 {
			t.Fatalf("in step, the report says %+v", rep)
		}

		// The edge restarts empty and then gets only the first, older directive.
		fresh := e.lose(t)
		var first cases.Directive
		db.R.Where("version = 1").Take(&first)
		p, _ := notify.NewPayload(&first)
		stale := edgesim.Directive{ID: p.ID, Type: p.Type, Version: p.Version, Hostnames: []string{"board.example"}, ReasonCode: p.ReasonCode}
		if _, err := fresh.Apply(stale); err != nil {
			t.Fatal(err)
		}
		// And the KV bucket loses a key.
		kv, err := js.KeyValue(ctx, bucket)
		if err != nil {
			t.Fatal(err)
		}
		if err := kv.Purge(ctx, "www.board.example"); err != nil {
			t.Fatal(err)
		}

		rep, err = rec.Run(ctx)
		if err != nil {
			t.Fatal(err)
		}
		kinds := func(tg reconcile.Target) string {
			var out []string
			for _, d := range tg.Drift {
				out = append(out, d.Hostname+":"+d.Kind)
			}
			return strings.Join(out, " ")
		}
		if got := kinds(rep.Targets[0]); got != "board.example:stale www.board.example:missing" || rep.Targets[0].Target != e.endpoint() {
			t.Errorf("HTTP drift: %q", got)
		}
		if got := kinds(rep.Targets[1]); got != "www.board.example:missing" || rep.Targets[1].Target != "nats:"+bucket {
			t.Errorf("KV drift: %q", got)
		}
		if d := rep.Targets[0].Drift[0]; d.Want.Version != 2 || d.Want.EdgeType() != "site.interstitial" || d.Have.Version != 1 || !d.Repairable() {
			t.Errorf("stale row: %+v want %+v have %+v", d, d.Want, d.Have)
		}

		if _, err := rec.Repair(ctx, "user:1", "http://elsewhere.example/_edge/directives", ""); err == nil {
			t.Error("Repair accepted a target that is not configured")
		}
		for _, tg := range []string{e.endpoint(), "nats:" + bucket} {
			if n, err := rec.Repair(ctx, "user:1", tg, ""); err != nil || n == 0 {
				t.Fatalf("repair %s: %d %v", tg, n, err)
			}
		}
		if st := e.wait(t, "board.example", 2); st.Type != edgesim.TypeInterstitial {
			t.Errorf("repaired board.example: %+v", st)
		}
		e.wait(t, "www.board.example", 1)
		waitFor(t, "the re-sent deliveries", 20*time.Second, delivered)
		rep, err = rec.Run(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if rep.DriftCount() != 0 {
			t.Errorf("after repair: %q / %q", kinds(rep.Targets[0]), kinds(rep.Targets[1]))
		}
		var resent int64
		db.R.Model(&audit.Event{}).Where("action = 'directive.resent' AND actor = 'user:1'").Count(&resent)
		if resent != 3 {
			t.Errorf("%d directive.resent audit events, want 3", resent)
		}
		// Nothing new was decided: no directive beyond the two decisions'.
		var n int64
		db.R.Model(&cases.Directive{}).Count(&n)
		if n != 2 {
			t.Errorf("%d directives after repair, want 2", n)
		}
	})
}
