// Package metrics is Docket's Prometheus instrumentation. It owns its own
// registry (never the global one, so tests can build several). Counters move
// where things happen — the HTTP middleware, the cases service's committed
// events, the delivery workers — and the numbers only the database knows (queue
// depth, oldest case, SLA breaches, deliveries and jobs by state) are read by a
// collector on scrape, with a short timeout and a cache so a scrape stays cheap
// and every instance reports the same values.
package metrics

import (
	"context"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/dockethq/docket/cases"
	"github.com/dockethq/docket/internal/database"
)

// Metrics holds Docket's metrics and the registry that exposes them.
type Metrics struct {
	reg *prometheus.Registry

	httpRequests *prometheus.CounterVec
	httpDuration *prometheus.HistogramVec
	reports      *prometheus.CounterVec
	claims       prometheus.Counter
	decisions    *prometheus.CounterVec
	delivered    *prometheus.CounterVec
	deadLetters  *prometheus.CounterVec
	latency      prometheus.Histogram
	notices      *prometheus.CounterVec
}

// New registers Docket's metrics; db (when not nil) backs the gauges read on
// scrape.
func New(db *database.DB, now func() time.Time) *Metrics {
	m := &Metrics{reg: prometheus.NewRegistry()}
	m.httpRequests = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "docket_http_requests_total",
		Help: "HTTP requests by route pattern, method and status.",
	}, []string{"route", "method", "status"})
	m.httpDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "docket_http_request_duration_seconds",
		Help:    "HTTP request latency by route pattern and method.",
		Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
	}, []string{"route", "method"})
	m.reports = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "docket_reports_received_total",
		Help: "Reports filed, by channel (web, api, email) and category.",
	}, []string{"channel", "category"})
	m.claims = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "docket_claims_total",
		Help: "Cases claimed.",
	})
	m.decisions = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "docket_decisions_total",
		Help: "Decisions recorded, by action (terminate counts when proposed; reinstate when a decision is reversed).",
	}, []string{"action"})
	m.delivered = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "docket_directive_deliveries_delivered_total",
		Help: "Directive deliveries that reached their target, by target.",
	}, []string{"target"})
	m.deadLetters = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "docket_directive_deliveries_dead_lettered_total",
		Help: "Directive deliveries given up after the delivery horizon, by target.",
	}, []string{"target"})
	m.latency = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:    "docket_directive_delivery_latency_seconds",
		Help:    "Time from a delivery being queued (with its decision) to the target accepting it.",
		Buckets: []float64{.01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 300, 3600},
	})
	m.notices = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "docket_notices_total",
		Help: "Email notices by outcome (sent, dead).",
	}, []string{"outcome"})
	m.reg.MustRegister(m.httpRequests, m.httpDuration, m.reports, m.claims, m.decisions,
		m.delivered, m.deadLetters, m.latency, m.notices,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	if db != nil {
		m.reg.MustRegister(newDBCollector(db, now))
	}
	return m
}

// Registry is the registry the metrics live in.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// Handler serves the metrics in the Prometheus exposition format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg, Timeout: 10 * time.Second})
}

// ObserveHTTP counts one request. route must be the router's pattern
// (/cases/:id), never the raw path, so the number of series stays bounded.
func (m *Metrics) ObserveHTTP(route, method string, status int, d time.Duration) {
	if route == "" {
		route = "unmatched"
	}
	m.httpRequests.WithLabelValues(route, method, strconv.Itoa(status)).Inc()
	m.httpDuration.WithLabelValues(route, method).Observe(d.Seconds())
}

// CaseEvent counts a committed report or case action (register it with
// cases.Service.OnCommitted).
func (m *Metrics) CaseEvent(ev cases.Event) {
	switch {
	case ev.Action == cases.ActAddReport && ev.Report != nil:
		m.reports.WithLabelValues(string(ev.Report.Channel), string(ev.Report.Category)).Inc()
	case ev.Action == cases.ActClaim:
		m.claims.Inc()
	}
	if ev.Decision != "" {
		m.decisions.WithLabelValues(string(ev.Decision)).Inc()
	}
}

// Delivered counts a delivery that reached its target after waiting queued.
func (m *Metrics) Delivered(t string, queued time.Duration) {
	m.delivered.WithLabelValues(target(t)).Inc()
	m.latency.Observe(queued.Seconds())
}

// DeadLettered counts a delivery given up.
func (m *Metrics) DeadLettered(t string) { m.deadLetters.WithLabelValues(target(t)).Inc() }

// NoticeSent counts a notice sent (or written to the outbox).
func (m *Metrics) NoticeSent() { m.notices.WithLabelValues("sent").Inc() }

// NoticeDead counts a notice given up.
func (m *Metrics) NoticeDead() { m.notices.WithLabelValues("dead").Inc() }

// Serve serves h on ln until ctx is done: the separate metrics listener.
func Serve(ctx context.Context, ln net.Listener, h http.Handler) error {
	return serve(ctx, ln, h)
}
