// Package ratelimit throttles intake: per client IP on the public forms, per
// API key on the flaggers' API. Both stores run the same generic cell rate
// algorithm (GCRA): one number per key, the theoretical arrival time (TAT) of
// the next request. A request at now is allowed when TAT - now ≤ burst ×
// interval, and moves TAT to max(TAT, now) + interval. Memory keeps TATs in a
// bounded map (one instance, SQLite); DB keeps them in the rate_limits table
// with one UPSERT per allowed request, so a limit holds across every instance
// sharing a PostgreSQL database.
package ratelimit

import (
	"context"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Limit is Rate requests per Per, with bursts of up to Burst at once. A zero
// Rate is no limit.
type Limit struct {
	Rate  int
	Per   time.Duration
	Burst int
}

// Off reports whether l limits nothing.
func (l Limit) Off() bool { return l.Rate <= 0 || l.Per <= 0 }

// interval is the time one request costs.
func (l Limit) interval() time.Duration { return l.Per / time.Duration(l.Rate) }

// tolerance is how far ahead of now the TAT may run: the burst.
func (l Limit) tolerance() time.Duration {
	return time.Duration(max(l.Burst, 1)) * l.interval()
}

// String is the form Parse reads.
func (l Limit) String() string {
	if l.Off() {
		return "off"
	}
	return fmt.Sprintf("%d/%s+%d", l.Rate, l.Per, l.Burst)
}

// Parse reads a limit written RATE/PERIOD[+BURST] — "10/1m+20" is ten a minute
// with bursts of twenty; the burst defaults to the rate — or "off" (also "0").
func Parse(s string) (Limit, error) {
	s = strings.TrimSpace(s)
	if s == "off" || s == "0" {
		return Limit{}, nil
	}
	bad := fmt.Errorf("rate limit %q: write RATE/PERIOD[+BURST], e.g. 10/1m+20 (ten a minute, bursts of twenty), or off", s)
	rate, rest, ok := strings.Cut(s, "/")
	if !ok {
		return Limit{}, bad
	}
	per, burst, hasBurst := strings.Cut(rest, "+")
	var l Limit
	var err error
	if l.Rate, err = strconv.Atoi(rate); err != nil || l.Rate < 1 || l.Rate > 1_000_000 {
		return Limit{}, bad
	}
	if l.Per, err = time.ParseDuration(per); err != nil || l.Per < time.Second || l.Per > 24*time.Hour {
		return Limit{}, fmt.Errorf("rate limit %q: the period must be from 1s to 24h", s)
	}
	l.Burst = l.Rate
	if hasBurst {
		if l.Burst, err = strconv.Atoi(burst); err != nil || l.Burst < 1 || l.Burst > 1_000_000 {
			return Limit{}, bad
		}
	}
	if l.interval() <= 0 {
		return Limit{}, fmt.Errorf("rate limit %q: more than one request per nanosecond", s)
	}
	return l, nil
}

// Decision is the answer to one request.
type Decision struct {
	Allowed bool
	// RetryAfter is how long until the request would be allowed (when refused).
	RetryAfter time.Duration
}

// RetryAfterSeconds is RetryAfter rounded up to whole seconds, at least 1, for
// the Retry-After header.
func (d Decision) RetryAfterSeconds() int {
	s := int((d.RetryAfter + time.Second - 1) / time.Second)
	return max(s, 1)
}

// Store decides whether the request identified by key may go ahead at now.
type Store interface {
	Allow(ctx context.Context, key string, l Limit, now time.Time) (Decision, error)
}

// gcra applies one request at now to the TAT tat (zero: never seen). It
// returns the new TAT and the decision; a refused request leaves TAT as it was.
func gcra(tat, now time.Time, l Limit) (time.Time, Decision) {
	if tat.Before(now) {
		tat = now
	}
	next := tat.Add(l.interval())
	if over := next.Sub(now) - l.tolerance(); over > 0 {
		return tat, Decision{RetryAfter: over}
	}
	return next, Decision{Allowed: true}
}

// Memory is a Store in this process. It holds at most Max keys: when full, it
// first forgets keys whose TAT has passed (they are the same as new ones), then
// arbitrary keys — a flood of distinct clients can only make the limit looser
// for some of them, never lock anyone out.
type Memory struct {
	Max int
	mu  sync.Mutex
	tat map[string]time.Time
}

// NewMemory returns a Memory store of up to max keys (100,000 if max ≤ 0).
func NewMemory(max int) *Memory {
	if max <= 0 {
		max = 100_000
	}
	return &Memory{Max: max, tat: map[string]time.Time{}}
}

// Allow implements Store.
func (m *Memory) Allow(_ context.Context, key string, l Limit, now time.Time) (Decision, error) {
	if l.Off() {
		return Decision{Allowed: true}, nil
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	tat, seen := m.tat[key]
	if !seen && len(m.tat) >= m.Max {
		m.evict(now)
	}
	next, d := gcra(tat, now, l)
	if d.Allowed {
		m.tat[key] = next
	}
	return d, nil
}

func (m *Memory) evict(now time.Time) {
	for k, t := range m.tat {
		if !t.After(now) {
			delete(m.tat, k)
		}
	}
	for k := range m.tat {
		if len(m.tat) < m.Max {
			break
		}
		delete(m.tat, k)
	}
}

// Len is the number of keys held, for tests.
func (m *Memory) Len() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.tat)
}

// ClientKey is the part of a client address a limit counts by: an IPv4 address
// (or IPv4-mapped IPv6) as is, an IPv6 address by its /64, since one subscriber
// usually holds a whole /64 and could otherwise rotate addresses at will. A
// string that is not an address is used as is.
func ClientKey(ip string) string {
	a, err := netip.ParseAddr(strings.TrimSpace(ip))
	if err != nil {
		return ip
	}
	a = a.Unmap().WithZone("")
	if a.Is4() {
		return a.String()
	}
	p, _ := a.Prefix(64)
	return p.String()
}
