package edgesim

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
)

// Test secrets: 24-byte keys, as the spec recommends at least.
var (
	secretA = "whsec_" + "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	secretB = "whsec_" + "QmVhcmVyIG9mIHRoZSBuZXcga2V5IDI0"
	secretC = "whsec_" + "Tm90IGEgc2VjcmV0IG9mIHRoaXMgZWRnZQ=="
)

func newEdge(t *testing.T, secrets ...string) (*Sim, *httptest.Server) {
	t.Helper()
	s, err := New(secrets)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(s.Handler())
	t.Cleanup(srv.Close)
	return s, srv
}

func directive(typ string, version int64, hosts ...string) Directive {
	return Directive{
		ID: fmt.Sprintf("01JDIRECTIVE%014d", version), Type: typ, Version: version, CustomerID: "12",
		Hostnames: hosts, CaseID: "3", DecisionID: "5", ReasonCode: "violent_extremism",
		IssuedAt: time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC),
	}
}

func mustJSON(t testing.TB, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Error(err)
	}
	return b
}

// deliver signs body with secret, the library's way, and POSTs it to the edge.
// It reports problems with t.Error, not t.Fatal, so goroutines may call it.
func deliver(t testing.TB, srv *httptest.Server, secret, msgID string, ts time.Time, signed, sent []byte) (int, map[string]any) {
	t.Helper()
	wh, err := standardwebhooks.NewWebhook(secret)
	if err != nil {
		t.Error(err)
		return 0, nil
	}
	sig, err := wh.Sign(msgID, ts, signed)
	if err != nil {
		t.Error(err)
		return 0, nil
	}
	req, err := http.NewRequest(http.MethodPost, srv.URL+PathDirectives, bytes.NewReader(sent))
	if err != nil {
		t.Error(err)
		return 0, nil
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(standardwebhooks.HeaderWebhookID, msgID)
	req.Header.Set(standardwebhooks.HeaderWebhookTimestamp, strconv.FormatInt(ts.Unix(), 10))
	req.Header.Set(standardwebhooks.HeaderWebhookSignature, sig)
	return do(t, req)
}

func do(t testing.TB, req *http.Request) (int, map[string]any) {
	t.Helper()
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Error(err)
		return 0, nil
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	var out map[string]any
	if err := json.Unmarshal(b, &out); err != nil {
		t.Errorf("%s %s: %d, body is not JSON: %q", req.Method, req.URL.Path, res.StatusCode, b)
	}
	return res.StatusCode, out
}

func send(t testing.TB, srv *httptest.Server, secret string, d Directive) (int, map[string]any) {
	t.Helper()
	b := mustJSON(t, d)
	return deliver(t, srv, secret, "msg_"+d.ID, time.Now(), b, b)
}

// site GETs / of host from the edge.
func site(t testing.TB, srv *httptest.Server, host string) (int, string, http.Header) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, srv.URL+"/", nil)
	if err != nil {
		t.Error(err)
		return 0, "", nil
	}
	req.Host = host
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Error(err)
		return 0, "", nil
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b), res.Header
}

func hosts(v any) []string {
	out := []string{}
	list, _ := v.([]any)
	for _, h := range list {
		out = append(out, h.(string))
	}
	return out
}

func TestDirectiveJSON(t *testing.T) {
	want := `{"id":"01JDIRECTIVE00000000000007","type":"site.terminate","version":7,"customer_id":"12","hostnames":["example.net","www.example.net"],"case_id":"3","decision_id":"5","reason_code":"violent_extremism","issued_at":"2026-11-25T10:00:00Z"}`
	if got := string(mustJSON(t, directive(TypeTerminate, 7, "example.net", "www.example.net"))); got != want {
		t.Errorf("JSON:\n got %s\nwant %s", got, want)
	}
	var d Directive
	if err := json.Unmarshal([]byte(want), &d); err != nil || d.Version != 7 || d.IssuedAt.Hour() != 10 || len(d.Hostnames) != 2 {
		t.Errorf("round trip: %+v, %v", d, err)
	}
}

func TestTerminateServes451(t *testing.T) {
	s, srv := newEdge(t, secretA)
	if code, _, _ := site(t, srv, "example.net"); code != http.StatusOK {
		t.Fatalf("before any directive: %d, want 200", code)
	}
	code, body := send(t, srv, secretA, directive(TypeTerminate, 7, "example.net", "WWW.Example.NET."))
	if code != http.StatusOK || fmt.Sprint(hosts(body["applied"])) != "[example.net www.example.net]" || len(hosts(body["ignored"])) != 0 {
		t.Fatalf("deliver: %d %v", code, body)
	}
	st := s.State()["www.example.net"]
	if st.State != StateTerminated || st.Version != 7 || st.Type != TypeTerminate || st.DirectiveID != "01JDIRECTIVE00000000000007" || st.AppliedAt.IsZero() {
		t.Errorf("state: %+v", st)
	}

	code, page, h := site(t, srv, "www.example.net:8443") // the port is not part of the name
	if code != http.StatusUnavailableForLegalReasons {
		t.Fatalf("terminated site: %d, want 451", code)
	}
	for _, want := range []string{"<!doctype html>", "<title>Service terminated</title>", "terminated by its hosting provider", "violent_extremism", "www.example.net", "</html>"} {
		if !strings.Contains(page, want) {
			t.Errorf("451 page lacks %q:\n%s", want, page)
		}
	}
	if ct := h.Get("Content-Type"); ct != "text/html; charset=utf-8" || h.Get("Cache-Control") != "no-store" {
		t.Errorf("headers: %v", h)
	}

	code, page, _ = site(t, srv, "other.example")
	if code != http.StatusOK || !strings.Contains(page, "<title>other.example — served by edge-sim</title>") || !strings.HasPrefix(page, "<!doctype html>") {
		t.Errorf("other host: %d\n%s", code, page)
	}

	// GET /_edge/state is the same as State().
	req, _ := http.NewRequest(http.MethodGet, srv.URL+PathState, nil)
	code, state := do(t, req)
	if code != http.StatusOK || state["example.net"].(map[string]any)["state"] != StateTerminated || len(state) != 2 {
		t.Errorf("state endpoint: %d %v", code, state)
	}
	req, _ = http.NewRequest(http.MethodGet, srv.URL+PathHealth, nil)
	if code, _ := do(t, req); code != http.StatusOK {
		t.Errorf("healthz: %d", code)
	}
}

func TestRestrictServes403(t *testing.T) {
	_, srv := newEdge(t, secretA)
	if code, body := send(t, srv, secretA, directive(TypeRestrict, 1, "shop.example")); code != http.StatusOK {
		t.Fatalf("deliver: %d %v", code, body)
	}
	code, page, _ := site(t, srv, "shop.example")
	if code != http.StatusForbidden || !strings.Contains(page, "<title>Site restricted</title>") || !strings.Contains(page, "violent_extremism") {
		t.Errorf("restricted: %d\n%s", code, page)
	}
}

func TestRejectedDeliveriesApplyNothing(t *testing.T) {
	s, srv := newEdge(t, secretA)
	d := directive(TypeTerminate, 1, "example.net")
	b := mustJSON(t, d)
	tampered := bytes.Replace(b, []byte(`"version":1`), []byte(`"version":9`), 1)
	tests := []struct {
		name   string
		secret string
		ts     time.Time
		sent   []byte
		want   string
	}{
		{"wrong secret", secretC, time.Now(), b, "no matching signature"},
		{"replayed timestamp 10 minutes old", secretA, time.Now().Add(-10 * time.Minute), b, "5 minutes"},
		{"timestamp 10 minutes ahead", secretA, time.Now().Add(10 * time.Minute), b, "5 minutes"},
		{"tampered body", secretA, time.Now(), tampered, "no matching signature"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, body := deliver(t, srv, tc.secret, "msg_1", tc.ts, b, tc.sent)
			if code != http.StatusUnauthorized || !strings.Contains(fmt.Sprint(body["error"]), tc.want) {
				t.Errorf("%d %v, want 401 mentioning %q", code, body, tc.want)
			}
		})
	}
	t.Run("missing headers", func(t *testing.T) {
		req, _ := http.NewRequest(http.MethodPost, srv.URL+PathDirectives, bytes.NewReader(b))
		if code, body := do(t, req); code != http.StatusUnauthorized || !strings.Contains(fmt.Sprint(body["error"]), "missing") {
			t.Errorf("%d %v", code, body)
		}
	})
	t.Run("timestamp not a number", func(t *testing.T) {
		req, _ := http.NewRequest(http.MethodPost, srv.URL+PathDirectives, bytes.NewReader(b))
		req.Header.Set("webhook-id", "msg_1")
		req.Header.Set("webhook-timestamp", "2026-11-25T10:00:00Z")
		req.Header.Set("webhook-signature", "v1,AAAA")
		if code, body := do(t, req); code != http.StatusUnauthorized {
			t.Errorf("%d %v", code, body)
		}
	})
	if st := s.State(); len(st) != 0 {
		t.Errorf("rejected deliveries changed the state: %v", st)
	}
	if code, _, _ := site(t, srv, "example.net"); code != http.StatusOK {
		t.Errorf("site: %d, want 200", code)
	}
}

func TestRotationAcceptsEitherSecret(t *testing.T) {
	s, srv := newEdge(t, secretA, secretB)
	if code, body := send(t, srv, secretA, directive(TypeTerminate, 1, "old.example")); code != http.StatusOK {
		t.Errorf("old secret: %d %v", code, body)
	}
	if code, body := send(t, srv, secretB, directive(TypeTerminate, 1, "new.example")); code != http.StatusOK {
		t.Errorf("new secret: %d %v", code, body)
	}
	if code, body := send(t, srv, secretC, directive(TypeTerminate, 1, "other.example")); code != http.StatusUnauthorized {
		t.Errorf("third secret: %d %v", code, body)
	}
	// A sender mid-rotation may put both signatures in one header.
	b := mustJSON(t, directive(TypeRestrict, 2, "both.example"))
	ts := time.Now()
	var sigs []string
	for _, sec := range []string{secretC, secretB} {
		wh, _ := standardwebhooks.NewWebhook(sec)
		sig, _ := wh.Sign("msg_both", ts, b)
		sigs = append(sigs, sig)
	}
	req, _ := http.NewRequest(http.MethodPost, srv.URL+PathDirectives, bytes.NewReader(b))
	req.Header.Set("webhook-id", "msg_both")
	req.Header.Set("webhook-timestamp", strconv.FormatInt(ts.Unix(), 10))
	req.Header.Set("webhook-signature", strings.Join(sigs, " "))
	if code, body := do(t, req); code != http.StatusOK {
		t.Errorf("two signatures: %d %v", code, body)
	}
	if n := len(s.State()); n != 3 {
		t.Errorf("state has %d hosts, want 3: %v", n, s.State())
	}
}

func TestVersionsAndIdempotence(t *testing.T) {
	s, srv := newEdge(t, secretA)
	newer := directive(TypeRestrict, 8, "example.net")
	if code, body := send(t, srv, secretA, newer); code != http.StatusOK || len(hosts(body["applied"])) != 1 {
		t.Fatalf("restrict v8: %d %v", code, body)
	}
	before := s.State()["example.net"]

	// An older directive arriving late is ignored for every host that has a newer one.
	code, body := send(t, srv, secretA, directive(TypeTerminate, 7, "example.net", "www.example.net"))
	if code != http.StatusOK || fmt.Sprint(hosts(body["applied"])) != "[www.example.net]" || fmt.Sprint(hosts(body["ignored"])) != "[example.net]" {
		t.Fatalf("terminate v7: %d %v", code, body)
	}
	if st := s.State()["example.net"]; !reflect.DeepEqual(st, before) {
		t.Errorf("older version changed state: %+v -> %+v", before, st)
	}
	if code, _, _ := site(t, srv, "example.net"); code != http.StatusForbidden {
		t.Errorf("site after older terminate: %d, want 403", code)
	}

	// The same directive again (a retry) is harmless.
	for range 2 {
		code, body = send(t, srv, secretA, newer)
		if code != http.StatusOK || len(hosts(body["applied"])) != 0 || fmt.Sprint(hosts(body["ignored"])) != "[example.net]" {
			t.Fatalf("duplicate: %d %v", code, body)
		}
	}
	if st := s.State()["example.net"]; !reflect.DeepEqual(st, before) {
		t.Errorf("duplicate changed state: %+v -> %+v", before, st)
	}

	// Reinstate with a newer version: the sites answer 200 again.
	code, body = send(t, srv, secretA, directive(TypeReinstate, 9, "example.net", "www.example.net"))
	if code != http.StatusOK || len(hosts(body["applied"])) != 2 {
		t.Fatalf("reinstate v9: %d %v", code, body)
	}
	for _, h := range []string{"example.net", "www.example.net"} {
		if code, page, _ := site(t, srv, h); code != http.StatusOK || !strings.Contains(page, h+" — served by edge-sim") {
			t.Errorf("%s after reinstate: %d", h, code)
		}
		if st := s.State()[h]; st.State != StateActive || st.Version != 9 {
			t.Errorf("%s state after reinstate: %+v", h, st)
		}
	}
	// And the terminate it overtook stays ignored.
	if _, body := send(t, srv, secretA, directive(TypeTerminate, 7, "www.example.net")); len(hosts(body["ignored"])) != 1 {
		t.Errorf("old terminate after reinstate: %v", body)
	}
}

func TestBadRequests(t *testing.T) {
	s, srv := newEdge(t, secretA)
	signed := func(body string) (int, map[string]any) {
		return deliver(t, srv, secretA, "msg_bad", time.Now(), []byte(body), []byte(body))
	}
	good := string(mustJSON(t, directive(TypeTerminate, 1, "example.net")))
	tests := []struct{ name, body, want string }{
		{"malformed JSON", `{"id":`, "malformed"},
		{"trailing garbage", good + "x", "malformed"},
		{"unknown type", strings.Replace(good, TypeTerminate, "site.suspend", 1), "unknown type"},
		{"numeric ids", strings.Replace(good, `"case_id":"3"`, `"case_id":3`, 1), "malformed"},
		{"no hostnames", strings.Replace(good, `["example.net"]`, `[]`, 1), "hostnames"},
		{"bad hostname", strings.Replace(good, `"example.net"`, `"exa mple.net"`, 1), "not a hostname"},
		{"version zero", strings.Replace(good, `"version":1`, `"version":0`, 1), "version"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if code, body := signed(tc.body); code != http.StatusBadRequest || !strings.Contains(fmt.Sprint(body["error"]), tc.want) {
				t.Errorf("%d %v, want 400 mentioning %q", code, body, tc.want)
			}
		})
	}
	t.Run("body over 64 KiB", func(t *testing.T) {
		d := directive(TypeTerminate, 1, "example.net")
		d.ReasonCode = strings.Repeat("x", MaxBody)
		if code, body := send(t, srv, secretA, d); code != http.StatusRequestEntityTooLarge {
			t.Errorf("%d %v", code, body)
		}
	})
	t.Run("GET directives", func(t *testing.T) {
		req, _ := http.NewRequest(http.MethodGet, srv.URL+PathDirectives, nil)
		if code, _ := do(t, req); code != http.StatusMethodNotAllowed {
			t.Errorf("%d", code)
		}
	})
	t.Run("unknown edge path", func(t *testing.T) {
		req, _ := http.NewRequest(http.MethodGet, srv.URL+"/_edge/nope", nil)
		if code, _ := do(t, req); code != http.StatusNotFound {
			t.Errorf("%d", code)
		}
	})
	if st := s.State(); len(st) != 0 {
		t.Errorf("bad requests changed the state: %v", st)
	}
}

func TestNewRejectsBadSecrets(t *testing.T) {
	for _, secrets := range [][]string{
		nil,
		{""},
		{"whsec_"},
		{"MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"}, // no prefix
		{"whsec_not base64!"},
		{"whsec_dGVzdA=="}, // 4 bytes
		{secretA, "whsec_"},
	} {
		if _, err := New(secrets); err == nil {
			t.Errorf("New(%q) accepted", secrets)
		}
	}
	sec := NewSecret()
	if _, err := New([]string{sec}); err != nil || !strings.HasPrefix(sec, "whsec_") {
		t.Errorf("NewSecret %q: %v", sec, err)
	}
}

func TestConcurrentDeliveries(t *testing.T) {
	s, srv := newEdge(t, secretA, secretB)
	const n = 40
	hostsAll := []string{"a.example", "b.example", "c.example"}
	var wg sync.WaitGroup
	// Deliveries of versions 1..n in no particular order, with readers alongside.
	for v := int64(n); v >= 1; v-- {
		wg.Go(func() {
			typ := []string{TypeTerminate, TypeRestrict, TypeReinstate}[v%3]
			if v == n {
				typ = TypeTerminate
			}
			sec := []string{secretA, secretB}[v%2]
			if code, body := send(t, srv, sec, directive(typ, v, hostsAll...)); code != http.StatusOK {
				t.Errorf("v%d: %d %v", v, code, body)
			}
		})
		wg.Go(func() { site(t, srv, hostsAll[v%3]) })
		wg.Go(func() { _ = s.State() })
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, h := range hostsAll {
		if err := s.WaitFor(ctx, h, n); err != nil {
			t.Fatal(err)
		}
	}
	wg.Wait()
	for _, h := range hostsAll {
		if st := s.State()[h]; st.Version != n || st.State != StateTerminated {
			t.Errorf("%s: %+v, want version %d terminated", h, st, n)
		}
		if code, _, _ := site(t, srv, h); code != http.StatusUnavailableForLegalReasons {
			t.Errorf("%s: %d", h, code)
		}
	}
}

func TestWaitFor(t *testing.T) {
	s, err := New([]string{secretA})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- s.WaitFor(context.Background(), "Example.net", 2) }()
	if _, err := s.Apply(directive(TypeRestrict, 1, "example.net")); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Apply(directive(TypeTerminate, 2, "example.net")); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := s.WaitFor(ctx, "example.net", 3); err == nil {
		t.Error("WaitFor with a cancelled context returned nil")
	}
	if err := s.WaitFor(ctx, "example.net", 2); err != nil {
		t.Errorf("WaitFor an applied version: %v", err)
	}
	if _, err := s.Apply(Directive{Type: "site.nope"}); err == nil {
		t.Error("Apply accepted an invalid directive")
	}
}
