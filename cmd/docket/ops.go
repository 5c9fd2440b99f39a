package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"

	"github.com/dockethq/docket/internal/health"
	"github.com/dockethq/docket/internal/metrics"
)

// readiness is /readyz: the database answers, the job queue's table is there,
// and NATS, when directives go there, is connected.
func (a *app) readiness() *health.Readiness {
	// The read pool: on SQLite the one writer connection may be busy with a
	// long write, which is no reason to take the instance out of rotation.
	r := health.New(a.log, health.Check{Name: "database", Fn: func(ctx context.Context) error {
		var one int
		return a.db.R.WithContext(ctx).Raw("SELECT 1").Scan(&one).Error
	}})
	r.Add(a.notifier.ReadyChecks()...)
	return r
}

// serveMetrics runs the separate metrics listener: /metrics for Prometheus,
// /readyz and /healthz for probes that should not touch the public address.
// It listens before returning (a taken port stops Docket at start) and serves
// in the background until ctx is done.
func serveMetrics(ctx context.Context, addr string, m *metrics.Metrics, ready http.Handler, log *slog.Logger) (string, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return "", fmt.Errorf("DOCKET_METRICS_LISTEN / --metrics-listen: %w", err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", m.Handler())
	mux.Handle("GET /readyz", ready)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte("ok\n")) })
	go func() {
		if err := metrics.Serve(ctx, ln, mux); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("metrics listener", "err", err)
		}
	}()
	return ln.Addr().String(), nil
}
