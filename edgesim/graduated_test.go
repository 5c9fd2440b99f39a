package edgesim

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// get fetches path of host from the edge with client c.
func get(t *testing.T, c *http.Client, srv *httptest.Server, host, path string) (int, string, http.Header) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, srv.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Host = host
	res, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b), res.Header
}

func TestInterstitialWarnsThenContinues(t *testing.T) {
	_, srv := newEdge(t, secretA)
	d := directive(TypeInterstitial, 1, "login.example")
	d.ReasonCode = "phishing"
	if code, body := send(t, srv, secretA, d); code != http.StatusOK || len(hosts(body["applied"])) != 1 {
		t.Fatalf("deliver: %d %v", code, body)
	}
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar}
	code, page, _ := get(t, c, srv, "login.example", "/account?x=1")
	if code != http.StatusOK || !strings.Contains(page, "<title>Warning: suspected harmful site</title>") || !strings.Contains(page, "phishing") {
		t.Fatalf("interstitial: %d\n%s", code, page)
	}
	cont := "/account?_edge_continue=" + d.ID + "&amp;x=1"
	if !strings.Contains(page, `href="`+cont+`"`) {
		t.Fatalf("no continue link %q:\n%s", cont, page)
	}
	// Following the link (the client follows the 303 with the cookie) shows the site.
	code, page, _ = get(t, c, srv, "login.example", "/account?_edge_continue="+d.ID+"&x=1")
	if code != http.StatusOK || !strings.Contains(page, "login.example — served by edge-sim") {
		t.Fatalf("after continue: %d\n%s", code, page)
	}
	// A visitor without the cookie is still warned, and a forged continue for
	// another directive does not pass.
	code, page, _ = get(t, http.DefaultClient, srv, "login.example", "/?_edge_continue=01JOTHER")
	if code != http.StatusOK || !strings.Contains(page, "Warning: suspected harmful site") {
		t.Errorf("forged continue: %d", code)
	}
}

func TestBlockURLBlocksOnlyThoseURLs(t *testing.T) {
	s, srv := newEdge(t, secretA)
	d := directive(TypeBlockURL, 3, "files.example", "cdn.example")
	d.URLs = []string{"https://files.example/payload.exe", "http://cdn.example/a/b?id=7"}
	if code, body := send(t, srv, secretA, d); code != http.StatusOK {
		t.Fatalf("deliver: %d %v", code, body)
	}
	if st := s.State()["files.example"]; st.State != StateURLsBlocked || fmt.Sprint(st.URLs) != "[https://files.example/payload.exe]" {
		t.Errorf("state: %+v", st)
	}
	for _, tc := range []struct {
		host, path string
		want       int
	}{
		{"files.example", "/payload.exe", http.StatusUnavailableForLegalReasons},
		{"files.example", "/payload.exe?v=2", http.StatusUnavailableForLegalReasons}, // no query given: every query
		{"files.example", "/", http.StatusOK},
		{"files.example", "/payload.exe.txt", http.StatusOK},
		{"cdn.example", "/a/b?id=7", http.StatusUnavailableForLegalReasons},
		{"cdn.example", "/a/b?id=8", http.StatusOK},
		{"cdn.example", "/payload.exe", http.StatusOK},
	} {
		code, page, _ := get(t, http.DefaultClient, srv, tc.host, tc.path)
		if code != tc.want {
			t.Errorf("%s%s: %d, want %d", tc.host, tc.path, code, tc.want)
		}
		if code == http.StatusUnavailableForLegalReasons && !strings.Contains(page, "<title>Content blocked</title>") {
			t.Errorf("%s%s: page\n%s", tc.host, tc.path, page)
		}
	}
}

func TestExpiryHonouredByTheEdge(t *testing.T) {
	s, err := New([]string{secretA})
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	now := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	s.Now = func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	srv := httptest.NewServer(s.Handler())
	defer srv.Close()
	d := directive(TypeRestrict, 1, "shop.example")
	exp := now.Add(time.Hour)
	d.ExpiresAt = &exp
	if code, body := send(t, srv, secretA, d); code != http.StatusOK {
		t.Fatalf("deliver: %d %v", code, body)
	}
	if code, _, _ := site(t, srv, "shop.example"); code != http.StatusForbidden {
		t.Errorf("before expiry: %d, want 403", code)
	}
	mu.Lock()
	now = exp
	mu.Unlock()
	if code, _, _ := site(t, srv, "shop.example"); code != http.StatusOK {
		t.Errorf("at expiry: %d, want 200", code)
	}
	if st := s.State()["shop.example"]; st.ExpiresAt == nil || !st.ExpiresAt.Equal(exp) || st.Version != 1 {
		t.Errorf("state keeps the applied directive: %+v", st)
	}
}

func TestGraduatedDirectivesValidated(t *testing.T) {
	s, srv := newEdge(t, secretA)
	for _, tc := range []struct {
		name string
		d    func() Directive
		want string
	}{
		{"block_url without urls", func() Directive { return directive(TypeBlockURL, 1, "a.example") }, "urls is empty"},
		{"urls on a restrict", func() Directive {
			d := directive(TypeRestrict, 1, "a.example")
			d.URLs = []string{"https://a.example/x"}
			return d
		}, "only for site.block_url"},
		{"url on another host", func() Directive {
			d := directive(TypeBlockURL, 1, "a.example")
			d.URLs = []string{"https://b.example/x"}
			return d
		}, "not on one of the hostnames"},
		{"relative url", func() Directive {
			d := directive(TypeBlockURL, 1, "a.example")
			d.URLs = []string{"/x"}
			return d
		}, "not an absolute"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if code, body := send(t, srv, secretA, tc.d()); code != http.StatusBadRequest || !strings.Contains(fmt.Sprint(body["error"]), tc.want) {
				t.Errorf("%d %v, want 400 mentioning %q", code, body, tc.want)
			}
		})
	}
	if len(s.State()) != 0 {
		t.Errorf("invalid directives changed the state: %v", s.State())
	}
}

// FuzzDirective: whatever arrives as a directive body, the edge either
// refuses it or applies it, never panics, and then serves every URL of it.
func FuzzDirective(f *testing.F) {
	f.Add(`{"id":"01J","type":"site.block_url","version":2,"hostnames":["a.example"],"urls":["https://a.example/x?y=1"]}`, "/x", "y=1")
	f.Add(`{"id":"01J","type":"site.interstitial","version":1,"hostnames":["a.example"],"expires_at":"2026-12-01T10:00:00Z"}`, "/", "_edge_continue=01J")
	f.Add(`{"id":"01J","type":"site.block_url","version":1,"hostnames":["a.example"],"urls":["http://a.example"]}`, "", "")
	f.Fuzz(func(t *testing.T, body, path, query string) {
		s, err := New([]string{secretA})
		if err != nil {
			t.Fatal(err)
		}
		var d Directive
		if json.Unmarshal([]byte(body), &d) != nil {
			return
		}
		if _, err := s.Apply(d); err != nil {
			if len(s.State()) != 0 {
				t.Fatalf("a refused directive changed the state: %v", s.State())
			}
			return
		}
		for _, u := range d.URLs {
			if _, err := parseBlocked(u, d.Hostnames); err != nil {
				t.Fatalf("applied a directive with an unparseable URL %q: %v", u, err)
			}
		}
		h := s.Handler()
		for _, host := range d.Hostnames {
			req := httptest.NewRequest(http.MethodGet, "http://edge.test/", nil)
			req.Host = host
			req.URL.Path, req.URL.RawQuery = "/"+strings.TrimPrefix(path, "/"), query
			h.ServeHTTP(httptest.NewRecorder(), req)
		}
	})
}

// TestKVBlockURLAppliesPerKey: a block_url in the KV bucket blocks, for each
// key, only the URLs on that key's hostname.
func TestKVBlockURLAppliesPerKey(t *testing.T) {
	js, bucket := testBucket(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	kv, err := OpenBucket(ctx, js, bucket)
	if err != nil {
		t.Fatal(err)
	}
	s, srv := newEdge(t, secretA)
	done := make(chan error, 1)
	go func() { done <- s.WatchKeyValue(ctx, kv) }()
	d := directive(TypeBlockURL, 4, "files.example", "cdn.example")
	d.URLs = []string{"https://files.example/a.exe", "https://cdn.example/b.exe"}
	put(t, kv, "files.example", mustJSON(t, d))
	if err := s.WaitFor(ctx, "files.example", 4); err != nil {
		t.Fatal(err)
	}
	if st, _ := s.Host("files.example"); fmt.Sprint(st.URLs) != "[https://files.example/a.exe]" {
		t.Errorf("state: %+v", st)
	}
	if _, ok := s.Host("cdn.example"); ok {
		t.Error("a key applied to another hostname")
	}
	if code, _, _ := get(t, http.DefaultClient, srv, "files.example", "/a.exe"); code != http.StatusUnavailableForLegalReasons {
		t.Errorf("blocked URL: %d", code)
	}
	cancel()
	<-done
}
