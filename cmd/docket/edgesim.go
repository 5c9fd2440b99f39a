package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/dockethq/docket/edgesim"
)

// edgeSecrets is the repeatable --secret flag. It starts as the list from
// DOCKET_EDGE_SECRETS; the first --secret replaces that list.
type edgeSecrets struct {
	list    []string
	fromEnv bool
}

func (e *edgeSecrets) String() string { return fmt.Sprintf("%d secret(s)", len(e.list)) }

func (e *edgeSecrets) Set(v string) error {
	if e.fromEnv {
		e.list, e.fromEnv = nil, false
	}
	e.list = append(e.list, v)
	return nil
}

// cmdEdgeSim runs edge-sim, the reference edge (DESIGN §5): it serves demo
// sites, verifies signed directives and applies them, optionally from NATS KV too.
func cmdEdgeSim(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var listen, natsURL, bucket string
	secrets := edgeSecrets{fromEnv: true}
	for _, s := range strings.Split(env("DOCKET_EDGE_SECRETS", ""), ",") {
		if s = strings.TrimSpace(s); s != "" {
			secrets.list = append(secrets.list, s)
		}
	}
	fs := flag.NewFlagSet("docket edge-sim", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&listen, "listen", env("DOCKET_EDGE_LISTEN", "127.0.0.1:8090"), "address to serve HTTP on (DOCKET_EDGE_LISTEN)")
	fs.Var(&secrets, "secret", "signing secret whsec_…; repeat for a rotation (DOCKET_EDGE_SECRETS, comma-separated)")
	fs.StringVar(&natsURL, "nats-url", env("DOCKET_NATS_URL", ""), "also apply directives from this NATS server's JetStream KV, e.g. nats://127.0.0.1:4222 (DOCKET_NATS_URL)")
	fs.StringVar(&bucket, "bucket", edgesim.DefaultBucket, "NATS KV bucket to watch")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("edge-sim takes no arguments, got %q", fs.Args())
	}
	if _, _, err := net.SplitHostPort(listen); err != nil {
		return fmt.Errorf("DOCKET_EDGE_LISTEN / --listen: %q is not host:port (e.g. 127.0.0.1:8090)", listen)
	}
	if len(secrets.list) == 0 {
		return fmt.Errorf("DOCKET_EDGE_SECRETS / --secret: give the signing secret Docket uses, e.g. --secret %s", edgesim.NewSecret())
	}
	sim, err := edgesim.New(secrets.list)
	if err != nil {
		return fmt.Errorf("DOCKET_EDGE_SECRETS / --secret: %w", err)
	}
	sim.Log = slog.New(slog.NewTextHandler(stderr, nil))

	ln, err := net.Listen("tcp", listen)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: sim.Handler(), ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second, WriteTimeout: 30 * time.Second, IdleTimeout: 2 * time.Minute}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	errc := make(chan error, 2)
	go func() { errc <- srv.Serve(ln) }()
	if natsURL != "" {
		go func() {
			if err := sim.WatchKVBucket(ctx, natsURL, bucket); err != nil {
				errc <- err
			}
		}()
	}
	url := "http://" + ln.Addr().String()
	fmt.Fprintf(stdout, "\nedge-sim is running at %s\n", url)
	fmt.Fprintf(stdout, "  directives: POST %s%s (Standard Webhooks, %d secret(s))\n", url, edgesim.PathDirectives, len(secrets.list))
	fmt.Fprintf(stdout, "  state:      GET  %s%s\n", url, edgesim.PathState)
	if natsURL != "" {
		fmt.Fprintf(stdout, "  NATS KV:    bucket %s at %s\n", bucket, natsURL)
	}
	fmt.Fprintf(stdout, "  sites:      any other request, by Host header (try: curl -H 'Host: example.net' %s/)\n", url)

	var runErr error
	select {
	case runErr = <-errc:
	case <-ctx.Done():
	}
	cancel()
	shut, stop := context.WithTimeout(context.Background(), 10*time.Second)
	defer stop()
	if err := srv.Shutdown(shut); err != nil && !errors.Is(err, http.ErrServerClosed) && runErr == nil {
		runErr = err
	}
	if errors.Is(runErr, http.ErrServerClosed) {
		runErr = nil
	}
	return runErr
}

// startDemoEdge runs an edge-sim inside the demo, on a free port, and points the
// configuration at it with a fresh secret.
func startDemoEdge(ctx context.Context, cfg *config) (string, error) {
	secret := edgesim.NewSecret()
	sim, err := edgesim.New([]string{secret})
	if err != nil {
		return "", err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("demo edge: %w", err)
	}
	srv := &http.Server{Handler: sim.Handler(), ReadHeaderTimeout: 5 * time.Second}
	go srv.Serve(ln)
	go func() {
		<-ctx.Done()
		srv.Close()
	}()
	base := "http://" + ln.Addr().String()
	cfg.EdgeEndpoints, cfg.EdgeSecrets = base+edgesim.PathDirectives, secret
	return base, nil
}
