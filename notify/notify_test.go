package notify_test

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/dockethq/docket/cases"
	"github.com/dockethq/docket/internal/database"
	"github.com/dockethq/docket/internal/testdb"
	"github.com/dockethq/docket/notify"
	"github.com/dockethq/docket/policy"
	"github.com/dockethq/docket/users"
)

func TestMain(m *testing.M) {
	testdb.FastPasswords()
	m.Run()
}

func secret() string {
	b := make([]byte, 24)
	_, _ = rand.Read(b)
	return "whsec_" + base64.StdEncoding.EncodeToString(b)
}

// edge is a real HTTP receiver that verifies signatures with the official
// library and records what it applied, in order.
type edge struct {
	srv  *httptest.Server
	hook *standardwebhooks.Webhook
	mu   sync.Mutex
	got  []notify.Payload
	down atomic.Bool
	bad  atomic.Int32 // requests refused for a bad signature
}

func newEdge(t *testing.T, sec string) *edge {
	e := &edge{}
	var err error
	if e.hook, err = standardwebhooks.NewWebhook(sec); err != nil {
		t.Fatal(err)
	}
	e.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if e.down.Load() {
			http.Error(w, "maintenance", http.StatusServiceUnavailable)
			return
		}
		body, _ := io.ReadAll(r.Body)
		if err := e.hook.Verify(body, r.Header); err != nil {
			e.bad.Add(1)
			http.Error(w, "bad signature", http.StatusUnauthorized)
			return
		}
		var p notify.Payload
		if err := json.Unmarshal(body, &p); err != nil {
			http.Error(w, "bad json", http.StatusBadRequest)
			return
		}
		e.mu.Lock()
		e.got = append(e.got, p)
		e.mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(e.srv.Close)
	return e
}

func (e *edge) payloads() []notify.Payload {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]notify.Payload(nil), e.got...)
}

func waitFor(t *testing.T, what string, d time.Duration, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

type fixture struct {
	db    *database.DB
	cases *cases.Service
	n     *notify.Notifier
	actor cases.Actor
}

func setup(t testing.TB, db *database.DB, cfg notify.Config) *fixture {
	t.Helper()
	ctx := context.Background()
	if err := notify.Migrate(ctx, db); err != nil {
		t.Fatal(err)
	}
	cs := cases.NewService(db, time.Now)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	n, err := notify.New(cfg, db, cs, log, time.Now)
	if err != nil {
		t.Fatal(err)
	}
	if err := n.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		stop, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		n.Stop(stop)
	})
	en, _ := policy.NewEnforcer(db)
	u, err := users.NewService(db, en, time.Now).Create(ctx, "test", users.NewUser{Email: "r@docket.example", Name: "R", Password: "a long enough password", Roles: []string{"reviewer"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := cs.AddCustomer(ctx, "test", cases.Customer{Name: "Forum"}, "board.example", "www.board.example"); err != nil {
		t.Fatal(err)
	}
	return &fixture{db: db, cases: cs, n: n, actor: cases.Actor{UserID: u.ID, Can: func(string, string) bool { return true }}}
}

// staffActors creates n more users, for sign-offs.
func staffActors(t *testing.T, db *database.DB, n int) []cases.Actor {
	t.Helper()
	en, _ := policy.NewEnforcer(db)
	us := users.NewService(db, en, time.Now)
	var out []cases.Actor
	for i := range n {
		u, err := us.Create(context.Background(), "test", users.NewUser{Email: fmt.Sprintf("s%d@docket.example", i), Name: "S", Password: "a long enough password", Roles: []string{"legal"}})
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, cases.Actor{UserID: u.ID})
	}
	return out
}

// signer may sign off in role only.
func signer(a cases.Actor, role string) cases.Actor {
	return cases.Actor{UserID: a.UserID, Can: func(obj, act string) bool { return obj == "signoff/"+role && act == "give" }}
}

func cleanupBucket(t *testing.T, url, bucket string) {
	nc, err := nats.Connect(url)
	if err != nil {
		return
	}
	defer nc.Close()
	js, _ := jetstream.New(nc)
	js.DeleteKeyValue(context.Background(), bucket)
}

// restrict makes a final restrict decision on a new case about the forum.
func (f *fixture) restrict(t *testing.T, cat cases.Category) int64 {
	t.Helper()
	ctx := context.Background()
	r, err := f.cases.FileReport(ctx, cases.NewReport{Channel: cases.ChannelWeb, ReporterKind: cases.ReporterPublic, Category: cat, URL: "https://board.example/x", Description: "bad", GoodFaith: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.cases.Claim(ctx, f.actor, r.CaseID); err != nil {
		t.Fatal(err)
	}
	if _, _, err := f.cases.Decide(ctx, f.actor, r.CaseID, cases.Proposal{Action: cases.Restrict, Grounds: "AUP", Explanation: "Restricted.", Hostnames: []string{"board.example", "www.board.example"}}); err != nil {
		t.Fatal(err)
	}
	return r.CaseID
}

func TestDeliverSignedOverHTTP(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		sec := secret()
		e := newEdge(t, sec)
		// Two secrets during rotation: the edge knows only the new one.
		f := setup(t, db, notify.Config{Endpoints: []string{e.srv.URL}, Secrets: []string{secret(), sec}})
		caseID := f.restrict(t, cases.Phishing)
		waitFor(t, "the directive at the edge", 10*time.Second, func() bool { return len(e.payloads()) == 1 })
		p := e.payloads()[0]
		if p.Type != "site.restrict" || p.Version != 1 || p.CaseID != fmt.Sprint(caseID) || len(p.Hostnames) != 2 || p.ReasonCode != "phishing" {
			t.Errorf("payload = %+v", p)
		}
		// The edge has it before the worker records the success: wait for that.
		var d notify.Delivery
		waitFor(t, "the delivery marked delivered", 10*time.Second, func() bool {
			d = notify.Delivery{}
			db.R.Where("directive_id = ?", p.ID).Take(&d)
			return d.State == "delivered"
		})
		if d.Attempts != 1 || d.LastStatus != http.StatusNoContent {
			t.Errorf("delivery row = %+v", d)
		}
		if e.bad.Load() != 0 {
			t.Errorf("%d requests failed verification", e.bad.Load())
		}
	})
}

// TestEdgeOutage: the edge is down while three decisions on the same hostnames
// are made; when it comes back every directive arrives, in version order.
func TestEdgeOutage(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		sec := secret()
		e := newEdge(t, sec)
		e.down.Store(true)
		f := setup(t, db, notify.Config{Endpoints: []string{e.srv.URL}, Secrets: []string{sec}})
		for _, cat := range []cases.Category{cases.Phishing, cases.Malware, cases.Spam} {
			f.restrict(t, cat)
		}
		waitFor(t, "failed attempts", 10*time.Second, func() bool {
			var n int64
			db.R.Table("delivery_attempts").Where("http_status = 503").Count(&n)
			return n >= 1
		})
		e.down.Store(false)
		waitFor(t, "three directives at the edge", 30*time.Second, func() bool { return len(e.payloads()) >= 3 })
		got := e.payloads()
		for i, p := range got {
			if p.Version != int64(i+1) {
				t.Fatalf("edge received versions out of order: %v", versions(got))
			}
		}
		// The edge applies before the worker records the success: wait for it.
		waitFor(t, "every delivery marked delivered", 10*time.Second, func() bool {
			var pending int64
			db.R.Table("deliveries").Where("state <> 'delivered'").Count(&pending)
			return pending == 0
		})
	})
}

func versions(ps []notify.Payload) []int64 {
	var v []int64
	for _, p := range ps {
		v = append(v, p.Version)
	}
	return v
}

// TestRollbackEnqueuesNothing: a decision whose transaction fails leaves no
// delivery and sends nothing.
func TestRollbackEnqueuesNothing(t *testing.T) {
	db := testdb.Open(t, database.SQLite)
	sec := secret()
	e := newEdge(t, sec)
	f := setup(t, db, notify.Config{Endpoints: []string{e.srv.URL}, Secrets: []string{sec}})
	ctx := context.Background()
	r, _ := f.cases.FileReport(ctx, cases.NewReport{Channel: cases.ChannelWeb, ReporterKind: cases.ReporterPublic, Category: cases.Phishing, URL: "https://board.example/", Description: "bad", GoodFaith: true})
	f.cases.Claim(ctx, f.actor, r.CaseID)
	// Restricting another customer's hostname fails inside the transaction.
	if _, _, err := f.cases.Decide(ctx, f.actor, r.CaseID, cases.Proposal{Action: cases.Restrict, Grounds: "AUP", Explanation: "x", Hostnames: []string{"elsewhere.example"}}); err == nil {
		t.Fatal("decide succeeded")
	}
	time.Sleep(500 * time.Millisecond)
	var n int64
	db.R.Table("deliveries").Count(&n)
	if n != 0 || len(e.payloads()) != 0 {
		t.Errorf("%d deliveries, %d at the edge after a rolled-back decision", n, len(e.payloads()))
	}
}

func TestDeliverToNATSKV(t *testing.T) {
	url := os.Getenv("DOCKET_TEST_NATS_URL")
	if url == "" {
		url = "nats://127.0.0.1:4222"
	}
	nc, err := nats.Connect(url, nats.Timeout(2*time.Second))
	if err != nil {
		testdb.Unavailable(t, "NATS", err)
	}
	defer nc.Close()
	js, _ := jetstream.New(nc)
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	bucket := fmt.Sprintf("edge_config_test_%x", b)
	t.Cleanup(func() { js.DeleteKeyValue(context.Background(), bucket) })

	db := testdb.Open(t, database.SQLite)
	f := setup(t, db, notify.Config{NATSURL: url, Bucket: bucket})
	f.restrict(t, cases.Malware)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var kv jetstream.KeyValue
	waitFor(t, "the bucket", 10*time.Second, func() bool {
		kv, err = js.KeyValue(ctx, bucket)
		return err == nil
	})
	waitFor(t, "the KV value", 10*time.Second, func() bool {
		_, err := kv.Get(ctx, "www.board.example")
		return err == nil
	})
	e, _ := kv.Get(ctx, "board.example")
	var p notify.Payload
	if err := json.Unmarshal(e.Value(), &p); err != nil || p.Type != "site.restrict" || p.Version != 1 {
		t.Errorf("KV value = %s (%v)", e.Value(), err)
	}
}
