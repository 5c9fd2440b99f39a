package notify_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dockethq/docket/cases"
	"github.com/dockethq/docket/edgesim"
	"github.com/dockethq/docket/internal/database"
	"github.com/dockethq/docket/internal/testdb"
	"github.com/dockethq/docket/notify"
)

// Run by hand, once each:
//
//	go test -run '^$' -bench 'Delivery' -benchtime 1x ./notify/
//
// DOCKET_BENCH_DECISIONS (default 1000) and DOCKET_BENCH_BACKLOG (default
// 10000) size the runs. Figures go to BENCHMARKS.md.

func benchN(name string, def int) int {
	if n, err := strconv.Atoi(os.Getenv(name)); err == nil && n > 0 {
		return n
	}
	return def
}

// benchFixture is a notifier on dialect d delivering to an edge-sim with n sites.
func benchFixture(b *testing.B, d database.Dialect, n int, down *atomic.Bool) (*fixture, *edgesim.Sim, []string, string) {
	b.Helper()
	sec := edgesim.NewSecret()
	sim, _ := edgesim.New([]string{sec})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if down != nil && down.Load() {
			http.Error(w, "down", http.StatusServiceUnavailable)
			return
		}
		sim.Handler().ServeHTTP(w, r)
	}))
	b.Cleanup(srv.Close)
	db := testdb.Open(b, d)
	f := setup(b, db, notify.Config{Endpoints: []string{srv.URL + edgesim.PathDirectives}, Secrets: []string{sec}})
	hosts := make([]string, n)
	for i := range hosts {
		hosts[i] = fmt.Sprintf("site%05d.bench.example", i)
	}
	if _, _, err := f.cases.AddCustomer(context.Background(), "bench", cases.Customer{Name: "Bench"}, hosts...); err != nil {
		b.Fatal(err)
	}
	return f, sim, hosts, srv.URL
}

func (f *fixture) restrictHost(b *testing.B, host string) {
	ctx := context.Background()
	r, err := f.cases.FileReport(ctx, cases.NewReport{Channel: cases.ChannelWeb, ReporterKind: cases.ReporterPublic, Category: cases.Malware, URL: "https://" + host + "/", Description: "bad", GoodFaith: true})
	if err != nil {
		b.Fatal(err)
	}
	if _, err := f.cases.Claim(ctx, f.actor, r.CaseID); err != nil {
		b.Fatal(err)
	}
	if _, _, err := f.cases.Decide(ctx, f.actor, r.CaseID, cases.Proposal{Action: cases.Restrict, Grounds: "AUP", Explanation: "x", Hostnames: []string{host}}); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkDeliveryLatency: decision committed → edge applied, one decision at a
// time, against the baseline of POSTing the same kind of body to the same edge.
func BenchmarkDeliveryLatency(b *testing.B) {
	for _, d := range testdb.Dialects {
		b.Run(string(d), func(b *testing.B) {
			n := benchN("DOCKET_BENCH_DECISIONS", 1000)
			f, sim, hosts, edgeURL := benchFixture(b, d, n, nil)
			lat := make([]time.Duration, 0, n)
			b.ResetTimer()
			for _, h := range hosts {
				start := time.Now()
				f.restrictHost(b, h)
				committed := time.Now()
				ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
				if err := sim.WaitFor(ctx, h, 1); err != nil {
					b.Fatal(err)
				}
				cancel()
				lat = append(lat, time.Since(committed))
				_ = start
			}
			b.StopTimer()
			// Baseline: one unsigned POST round trip to the same server (refused
			// for its signature, but the same network path and handler entry).
			base := make([]time.Duration, 0, 200)
			for range 200 {
				s := time.Now()
				res, err := http.Post(edgeURL+edgesim.PathDirectives, "application/json", bytes.NewReader([]byte(`{}`)))
				if err == nil {
					res.Body.Close()
				}
				base = append(base, time.Since(s))
			}
			p50, p99 := pct(lat, 50), pct(lat, 99)
			b.ReportMetric(float64(p50.Microseconds())/1000, "p50_ms")
			b.ReportMetric(float64(p99.Microseconds())/1000, "p99_ms")
			b.ReportMetric(float64(p50)/float64(pct(base, 50)), "p50_vs_raw_post")
		})
	}
}

// BenchmarkBacklogDrain: the edge is down while N directives queue; then it comes
// back, and the time until all are applied is measured.
func BenchmarkBacklogDrain(b *testing.B) {
	for _, d := range testdb.Dialects {
		b.Run(string(d), func(b *testing.B) {
			n := benchN("DOCKET_BENCH_BACKLOG", 10000)
			var down atomic.Bool
			down.Store(true)
			f, sim, hosts, _ := benchFixture(b, d, n, &down)
			for _, h := range hosts {
				f.restrictHost(b, h)
			}
			b.ResetTimer()
			start := time.Now()
			down.Store(false)
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
			defer cancel()
			for _, h := range hosts {
				if err := sim.WaitFor(ctx, h, 1); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(time.Since(start).Seconds(), "drain_s")
			b.ReportMetric(float64(n)/time.Since(start).Seconds(), "directives/s")
		})
	}
}

func pct(ds []time.Duration, p int) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	if len(s) == 0 {
		return 0
	}
	return s[min(len(s)-1, len(s)*p/100)]
}
