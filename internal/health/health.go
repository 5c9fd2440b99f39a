// Package health answers readiness probes: whether this instance can do its
// work now (the database answers, the job queue's tables are there, NATS when
// configured is connected). A load balancer asks every second, so results are
// cached briefly and every check has a short timeout.
package health

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Check is one dependency.
type Check struct {
	Name string
	Fn   func(ctx context.Context) error
}

// Timeout bounds each check; CacheFor is how long a result is reused.
const (
	Timeout  = time.Second
	CacheFor = time.Second
)

// Readiness runs the checks for /readyz.
type Readiness struct {
	checks   []Check
	log      *slog.Logger
	draining atomic.Bool

	mu   sync.Mutex
	at   time.Time
	last []result
}

type result struct {
	name string
	err  error
}

// New returns a readiness probe over checks.
func New(log *slog.Logger, checks ...Check) *Readiness {
	return &Readiness{checks: checks, log: log}
}

// Add appends checks (before serving).
func (r *Readiness) Add(checks ...Check) { r.checks = append(r.checks, checks...) }

// Drain makes the probe fail from now on: the instance is shutting down and a
// load balancer should stop sending it requests.
func (r *Readiness) Drain() { r.draining.Store(true) }

// Check runs (or reuses) the checks and returns the first failure.
func (r *Readiness) Check(ctx context.Context) error {
	for _, res := range r.run(ctx) {
		if res.err != nil {
			return fmt.Errorf("%s: %w", res.name, res.err)
		}
	}
	return nil
}

func (r *Readiness) run(ctx context.Context) []result {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.last != nil && time.Since(r.at) < CacheFor {
		return r.last
	}
	out := make([]result, len(r.checks))
	var wg sync.WaitGroup
	for i, c := range r.checks {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cctx, cancel := context.WithTimeout(ctx, Timeout)
			defer cancel()
			out[i] = result{name: c.Name, err: c.Fn(cctx)}
		}()
	}
	wg.Wait()
	for _, res := range out {
		if res.err != nil && r.log != nil {
			r.log.WarnContext(ctx, "not ready", "check", res.name, "err", res.err)
		}
	}
	r.last, r.at = out, time.Now()
	return out
}

// ServeHTTP answers 200 with one "name: ok" line per check, or 503 naming what
// is failing. The reasons go to the log, not to the (public) response.
func (r *Readiness) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	var b strings.Builder
	status := http.StatusOK
	if r.draining.Load() {
		status = http.StatusServiceUnavailable
		b.WriteString("shutting down\n")
	}
	for _, res := range r.run(req.Context()) {
		if res.err != nil {
			status = http.StatusServiceUnavailable
			fmt.Fprintf(&b, "%s: failing\n", res.name)
		} else {
			fmt.Fprintf(&b, "%s: ok\n", res.name)
		}
	}
	w.WriteHeader(status)
	_, _ = w.Write([]byte(b.String()))
}
