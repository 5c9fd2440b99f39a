package metrics

import (
	"context"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/dockethq/docket/audit"
	"github.com/dockethq/docket/cases"
	"github.com/dockethq/docket/internal/database"
)

// CacheFor is how long a scrape's database reads are reused: several
// Prometheus servers or a dashboard refreshing do not multiply the queries.
// (A variable so tests need not wait it out.)
var CacheFor = 5 * time.Second

// queryTimeout bounds a scrape's database reads; a slow database shows up as
// docket_metrics_db_up 0 rather than as a hung scrape.
const queryTimeout = 2 * time.Second

var (
	descOpen      = prometheus.NewDesc("docket_queue_open_cases", "Open cases per queue (queue depth).", []string{"queue"}, nil)
	descOldest    = prometheus.NewDesc("docket_queue_oldest_case_age_seconds", "Age of the oldest open case per queue (0 when the queue is empty).", []string{"queue"}, nil)
	descBreached  = prometheus.NewDesc("docket_queue_sla_breached_cases", "Open cases past their SLA, per queue.", []string{"queue"}, nil)
	descDeliv     = prometheus.NewDesc("docket_directive_deliveries", "Directive deliveries by state (pending, delivered, superseded, dead).", []string{"state"}, nil)
	descNotices   = prometheus.NewDesc("docket_notices", "Email notices by state (pending, sent, dead).", []string{"state"}, nil)
	descJobs      = prometheus.NewDesc("docket_jobs", "Job queue (River) jobs not yet finished, by state.", []string{"state"}, nil)
	descUnsealed  = prometheus.NewDesc("docket_audit_unsealed_events", "Committed audit events waiting to be sealed into the hash chain (PostgreSQL; 0 on SQLite, which chains as it writes).", nil, nil)
	descUnsealAge = prometheus.NewDesc("docket_audit_oldest_unsealed_age_seconds", "Age of the oldest audit event waiting for its seal; past a few seconds no sealer is running (audit.PendingGrace makes it a verification failure).", nil, nil)
	descVerifyOK  = prometheus.NewDesc("docket_audit_last_verification_ok", "1 when the latest audit chain verification (page, CLI or the checkpoint timer) found the chain intact, 0 when it found it broken: alert on 0. Absent before the first.", nil, nil)
	descVerifyAge = prometheus.NewDesc("docket_audit_last_verification_age_seconds", "Age of the latest audit chain verification.", nil, nil)
	descDBUp      = prometheus.NewDesc("docket_metrics_db_up", "1 when the last scrape's database reads succeeded.", nil, nil)
)

// openStates is cases.OpenStates as the SQL literal the partial indexes were
// created with (SQLite uses a partial index only for the same literal list).
var openStates = func() string {
	q := make([]string, len(cases.OpenStates))
	for i, s := range cases.OpenStates {
		q[i] = "'" + string(s) + "'"
	}
	return "(" + strings.Join(q, ", ") + ")"
}()

// jobStates are River's states of a job that still has work ahead.
var jobStates = []string{"available", "scheduled", "retryable", "running", "pending"}

type dbCollector struct {
	db  *database.DB
	now func() time.Time

	mu    sync.Mutex
	at    time.Time
	cache []prometheus.Metric
}

func newDBCollector(db *database.DB, now func() time.Time) *dbCollector {
	return &dbCollector{db: db, now: now}
}

func (c *dbCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descOpen, descOldest, descBreached, descDeliv, descNotices, descJobs, descUnsealed, descUnsealAge, descVerifyOK, descVerifyAge, descDBUp} {
		ch <- d
	}
}

func (c *dbCollector) Collect(ch chan<- prometheus.Metric) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cache == nil || time.Since(c.at) > CacheFor {
		c.cache, c.at = c.read(), time.Now()
	}
	for _, m := range c.cache {
		ch <- m
	}
}

// read queries the database once for every gauge. Per-queue reads go through
// the partial indexes on open cases (queue, opened_at) and (queue, sla_due_at),
// so they cost the same with 1,000 or 1,000,000 closed cases.
func (c *dbCollector) read() []prometheus.Metric {
	ctx, cancel := context.WithTimeout(context.Background(), queryTimeout)
	defer cancel()
	db := c.db.R.WithContext(ctx)
	now := c.now().UTC()
	var out []prometheus.Metric
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		out = append(out, prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...))
	}
	fail := func(err error) []prometheus.Metric {
		slog.Default().Warn("metrics: database read failed", "err", err)
		return []prometheus.Metric{prometheus.MustNewConstMetric(descDBUp, prometheus.GaugeValue, 0)}
	}
	for _, q := range cases.Queues {
		// Three statements, one index each: COUNT on (queue, state), the oldest
		// as the first row of (queue, opened_at), breaches as a range of
		// (queue, sla_due_at). One statement asking for all three made SQLite
		// visit every open case's row.
		var n, breached int64
		if err := db.Raw("SELECT COUNT(*) FROM cases WHERE queue = ? AND state IN "+openStates, q).Scan(&n).Error; err != nil {
			return fail(err)
		}
		var oldest []time.Time
		if err := db.Raw("SELECT opened_at FROM cases WHERE queue = ? AND state IN "+openStates+" ORDER BY opened_at LIMIT 1", q).Scan(&oldest).Error; err != nil {
			return fail(err)
		}
		if err := db.Raw("SELECT COUNT(*) FROM cases WHERE queue = ? AND state IN "+openStates+" AND sla_due_at < ?", q, now).Scan(&breached).Error; err != nil {
			return fail(err)
		}
		age := 0.0
		if len(oldest) == 1 {
			age = max(0, now.Sub(oldest[0]).Seconds())
		}
		gauge(descOpen, float64(n), q)
		gauge(descOldest, age, q)
		gauge(descBreached, float64(breached), q)
	}
	byState := func(d *prometheus.Desc, sql string, states []string) error {
		var rows []struct {
			State string
			N     int64
		}
		if err := db.Raw(sql).Scan(&rows).Error; err != nil {
			return err
		}
		got := map[string]int64{}
		for _, r := range rows {
			got[r.State] = r.N
		}
		for _, s := range states {
			gauge(d, float64(got[s]), s)
		}
		return nil
	}
	if err := byState(descDeliv, "SELECT state, COUNT(*) AS n FROM deliveries GROUP BY state", []string{"pending", "delivered", "superseded", "dead"}); err != nil {
		return fail(err)
	}
	if err := byState(descNotices, "SELECT state, COUNT(*) AS n FROM notices GROUP BY state", []string{"pending", "sent", "dead"}); err != nil {
		return fail(err)
	}
	if err := byState(descJobs, "SELECT state, COUNT(*) AS n FROM river_job WHERE state IN ('"+strings.Join(jobStates, "', '")+"') GROUP BY state", jobStates); err != nil {
		return fail(err)
	}
	unsealed, _, age, err := audit.Unsealed(ctx, db)
	if err != nil {
		return fail(err)
	}
	gauge(descUnsealed, float64(unsealed))
	gauge(descUnsealAge, age.Seconds())
	v, err := audit.LastVerification(ctx, db)
	if err != nil {
		return fail(err)
	}
	if v != nil {
		ok := 0.0
		if v.OK {
			ok = 1
		}
		gauge(descVerifyOK, ok)
		gauge(descVerifyAge, max(0, now.Sub(v.At).Seconds()))
	}
	gauge(descDBUp, 1)
	return out
}

// target is a delivery target as a label: an edge URL without credentials or
// query (a token in a URL stays out of the metrics), or nats:<bucket>.
func target(t string) string {
	u, err := url.Parse(t)
	if err != nil || u.Host == "" {
		return t
	}
	u.User, u.RawQuery, u.Fragment = nil, "", ""
	return u.String()
}

func serve(ctx context.Context, ln net.Listener, h http.Handler) error {
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second, WriteTimeout: 30 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
		shut, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		return srv.Shutdown(shut)
	}
}
