package ratelimit_test

import (
	"context"
	"testing"
	"time"

	"github.com/dockethq/docket/internal/database"
	"github.com/dockethq/docket/internal/ratelimit"
	"github.com/dockethq/docket/internal/testdb"
)

func TestParse(t *testing.T) {
	for in, want := range map[string]ratelimit.Limit{
		"10/1m+20": {10, time.Minute, 20},
		"600/1m":   {600, time.Minute, 600},
		" 5/10s ":  {5, 10 * time.Second, 5},
		"off":      {},
		"0":        {},
	} {
		got, err := ratelimit.Parse(in)
		if err != nil || got != want {
			t.Errorf("Parse(%q) = %+v, %v; want %+v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "10", "10/", "/1m", "x/1m", "10/1x", "10/1m+", "10/1m+0", "-1/1m", "10/0s", "10/48h", "10/1m+x"} {
		if l, err := ratelimit.Parse(in); err == nil {
			t.Errorf("Parse(%q) = %+v, want an error", in, l)
		}
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{"10/1m+20", "off", "1/1s", "1000000/1s+1000000"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		l, err := ratelimit.Parse(s)
		if err != nil {
			return
		}
		if l.Off() {
			return
		}
		again, err := ratelimit.Parse(l.String())
		if err != nil || again != l {
			t.Fatalf("Parse(%q) = %+v, but its String %q parses to %+v, %v", s, l, l.String(), again, err)
		}
	})
}

func TestClientKey(t *testing.T) {
	for in, want := range map[string]string{
		"192.0.2.7":            "192.0.2.7",
		"::ffff:192.0.2.7":     "192.0.2.7",
		"2001:db8:1:2:3:4:5:6": "2001:db8:1:2::/64",
		"2001:db8:1:2:ffff::1": "2001:db8:1:2::/64",
		"fe80::1%eth0":         "fe80::/64",
		"not an address":       "not an address",
	} {
		if got := ratelimit.ClientKey(in); got != want {
			t.Errorf("ClientKey(%q) = %q, want %q", in, got, want)
		}
	}
}

// exercise runs the same script against a store: a burst of 3, then refusals
// with a Retry-After that shrinks as time passes, another key unaffected, and
// one request more per interval.
func exercise(t *testing.T, s ratelimit.Store) {
	t.Helper()
	ctx := context.Background()
	l := ratelimit.Limit{Rate: 6, Per: time.Minute, Burst: 3} // one per 10 s
	now := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	allow := func(key string, at time.Time) ratelimit.Decision {
		t.Helper()
		d, err := s.Allow(ctx, key, l, at)
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	for i := range 3 {
		if d := allow("a", now); !d.Allowed {
			t.Fatalf("request %d of the burst refused", i+1)
		}
	}
	d := allow("a", now)
	if d.Allowed || d.RetryAfter != 10*time.Second || d.RetryAfterSeconds() != 10 {
		t.Fatalf("4th request: %+v, want refused for 10s", d)
	}
	if d := allow("a", now.Add(4*time.Second)); d.Allowed || d.RetryAfter != 6*time.Second {
		t.Fatalf("4 s later: %+v, want refused for 6s", d)
	}
	if d := allow("b", now); !d.Allowed {
		t.Fatal("another key was refused")
	}
	if d := allow("a", now.Add(10*time.Second)); !d.Allowed {
		t.Fatal("after one interval: refused")
	}
	if d := allow("a", now.Add(10*time.Second)); d.Allowed {
		t.Fatal("two requests in one interval after the burst")
	}
	// After a long quiet spell the whole burst is back, no more.
	later := now.Add(time.Hour)
	for i := range 3 {
		if d := allow("a", later); !d.Allowed {
			t.Fatalf("after an hour, request %d refused", i+1)
		}
	}
	if d := allow("a", later); d.Allowed {
		t.Fatal("burst larger than 3 after a quiet spell")
	}
}

func TestMemory(t *testing.T) { exercise(t, ratelimit.NewMemory(0)) }

func TestMemoryBounded(t *testing.T) {
	m := ratelimit.NewMemory(100)
	l := ratelimit.Limit{Rate: 1, Per: time.Hour, Burst: 1}
	now := time.Now()
	for i := range 1000 {
		if d, _ := m.Allow(context.Background(), string(rune(i+1000)), l, now); !d.Allowed {
			t.Fatalf("new key %d refused", i)
		}
	}
	if m.Len() > 100 {
		t.Errorf("memory store holds %d keys, max 100", m.Len())
	}
}

func TestDB(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *database.DB) { exercise(t, ratelimit.NewDB(db)) })
}
