// Command docket runs Docket, the trust-and-safety case system, and its chores:
//
//	docket serve [--demo]          serve the web UI (and load demo data)
//	docket migrate up|down|status  manage the schema
//	docket user add                create a staff user with roles
//	docket seed-demo               load the demo data set
//	docket ingest-mail             read abuse mail from stdin, a Maildir or an mbox
//
// Every flag has an environment fallback; `docket <command> -h` lists them.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/dockethq/docket/cases"
	"github.com/dockethq/docket/evidence"
	"github.com/dockethq/docket/inbox"
	"github.com/dockethq/docket/internal/database"
	"github.com/dockethq/docket/internal/demo"
	"github.com/dockethq/docket/internal/metrics"
	"github.com/dockethq/docket/migrations"
	"github.com/dockethq/docket/notify"
	"github.com/dockethq/docket/policy"
	"github.com/dockethq/docket/reconcile"
	"github.com/dockethq/docket/ui"
	"github.com/dockethq/docket/users"
)

const usage = `Docket — trust-and-safety case system.

Usage:
  docket serve [--demo] [flags]        serve the web UI
  docket migrate up|down|status        manage the database schema
  docket user add --email E --name N --roles r1,r2   create a staff user (password from DOCKET_PASSWORD or stdin)
  docket seed-demo                     load the demo data set
  docket bench [--cases N --reports N] load a large data set (if empty) and time the pages over HTTP
  docket edge-sim --secret whsec_… [--listen A --nats-url U]   run the reference edge (demo sites, applies directives)
  docket import sites [--dry-run] FILE.csv|FILE.json   load customers and their hostnames (idempotent upsert)
  docket ingest-mail [--maildir DIR | --mbox FILE]   read abuse mail (ARF, X-ARF) from stdin, a Maildir or an mbox
  docket backup --to FILE              consistent online backup (SQLite: VACUUM INTO; PostgreSQL: pg_dump), checked
  docket restore --from FILE [--force] check a backup and restore it while Docket is stopped
  docket doctor                        print the effective configuration (secrets masked) and check every dependency
  docket export sor --since YYYY-MM-DD [--until D] [--out DIR|-]   statements of reasons for the DSA Transparency Database, batches of 100
  docket audit verify|export|checkpoint   check the audit log's hash chain, export it (JSON lines), sign a checkpoint

Run "docket <command> -h" for the flags of a command.
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	if err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "docket:", err)
		}
		var st interface{ ExitStatus() int }
		if errors.As(err, &st) {
			os.Exit(st.ExitStatus())
		}
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return errors.New("no command given")
	}
	cmd, args := args[0], args[1:]
	switch cmd {
	case "serve":
		return cmdServe(ctx, args, stdout, stderr)
	case "migrate":
		return cmdMigrate(ctx, args, stdout, stderr)
	case "user":
		if len(args) == 0 || args[0] != "add" {
			return errors.New(`usage: docket user add --email E --name N --roles reviewer[,admin…]`)
		}
		return cmdUserAdd(ctx, args[1:], stdin, stdout, stderr)
	case "seed-demo":
		return cmdSeedDemo(ctx, args, stdout, stderr)
	case "bench":
		return cmdBench(ctx, args, stdout, stderr)
	case "edge-sim":
		return cmdEdgeSim(ctx, args, stdout, stderr)
	case "import":
		return cmdImport(ctx, args, stdin, stdout, stderr)
	case "ingest-mail":
		return cmdIngestMail(ctx, args, stdin, stdout, stderr)
	case "backup":
		return cmdBackup(ctx, args, stdout, stderr)
	case "restore":
		return cmdRestore(ctx, args, stdout, stderr)
	case "doctor":
		return cmdDoctor(ctx, args, stdout, stderr)
	case "export":
		return cmdExport(ctx, args, stdout, stderr)
	case "audit":
		return cmdAudit(ctx, args, stdout, stderr)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	default:
		fmt.Fprint(stderr, usage)
		return fmt.Errorf("unknown command %q", cmd)
	}
}

// app is the wired object graph; only this package builds it.
type app struct {
	cfg      config
	log      *slog.Logger
	db       *database.DB
	enforcer *policy.Enforcer
	cases    *cases.Service
	users    *users.Service
	notifier *notify.Notifier
	metrics  *metrics.Metrics
}

func parse(name string, args []string, stderr io.Writer, extra func(*flag.FlagSet)) (config, []string, error) {
	var cfg config
	fs := flag.NewFlagSet("docket "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfg.bind(fs)
	if extra != nil {
		extra(fs)
	}
	if err := fs.Parse(args); err != nil {
		return cfg, nil, err
	}
	if err := cfg.validate(); err != nil {
		return cfg, nil, err
	}
	return cfg, fs.Args(), nil
}

// open connects, migrates if configured, and wires the services.
func open(ctx context.Context, cfg config, stderr io.Writer) (*app, error) {
	log := cfg.logger(stderr)
	db, err := database.Open(ctx, cfg.DatabaseURL)
	if err != nil {
		return nil, err
	}
	if cfg.AutoMigrate {
		if err := migrations.Up(ctx, db); err != nil {
			db.Close()
			return nil, err
		}
	}
	en, err := policy.NewEnforcer(db)
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("%w (has the schema been migrated? run: docket migrate up)", err)
	}
	if cfg.AutoMigrate {
		if err := notify.Migrate(ctx, db); err != nil {
			db.Close()
			return nil, err
		}
	}
	now := time.Now
	a := &app{
		cfg: cfg, log: log, db: db, enforcer: en,
		cases: cases.NewService(db, now),
		users: users.NewService(db, en, now),
	}
	a.cases.SetDuplicateWindow(cfg.DuplicateWindow)
	a.metrics = metrics.New(db, now)
	a.cases.OnCommitted(a.metrics.CaseEvent)
	sp := cases.DefaultStrikePolicy
	sp.Threshold = cfg.StrikeThreshold
	a.cases.SetStrikePolicy(sp)
	// Every instance enqueues deliveries with its decisions; serve also works them.
	a.notifier, err = notify.New(notify.Config{
		Endpoints: cfg.endpoints(), Secrets: cfg.secrets(), NATSURL: cfg.NATSURL, Horizon: cfg.DeliveryHorizon, RescueAfter: cfg.RescueAfter,
		Mail: cfg.mail(), Observer: a.metrics,
	}, db, a.cases, log, now)
	if err != nil {
		db.Close()
		return nil, err
	}
	return a, nil
}

func cmdServe(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var withDemo bool
	cfg, _, err := parse("serve", args, stderr, func(fs *flag.FlagSet) {
		fs.BoolVar(&withDemo, "demo", false, "load the demo data set (customers, cases, one account per role) if the database is empty")
	})
	if err != nil {
		return err
	}
	if cfg.LogFormat == "auto" && !withDemo {
		cfg.LogFormat = "json" // production: one JSON object a line, for the log shipper
	}
	start := time.Now()
	// The demo brings its own edge, so a new user sees a site go dark after sign-off.
	var demoEdge string
	if withDemo && len(cfg.endpoints()) == 0 {
		if demoEdge, err = startDemoEdge(ctx, &cfg); err != nil {
			return err
		}
	}
	a, err := open(ctx, cfg, stderr)
	if err != nil {
		return err
	}
	defer a.db.Close()
	slog.SetDefault(a.log) // libraries that log to the default logger, in the same format
	var historySeeded bool
	if withDemo {
		seeded, err := demo.Seed(ctx, a.db, a.users, time.Now)
		if err != nil {
			return fmt.Errorf("demo data: %w", err)
		}
		// History only on first seeding: Seed leaves a seeded database alone,
		// and so must this, or every restart would add five months again.
		if seeded {
			if err := demo.SeedHistory(ctx, a.db, a.users, time.Now); err != nil {
				return err
			}
			historySeeded = true
		}
	}
	in := inbox.NewService(a.db, a.cases, time.Now)
	ready := a.readiness()
	rec := reconcile.New(reconcile.Config{Endpoints: cfg.endpoints(), NATSURL: cfg.NATSURL}, a.db, a.notifier.Resend, time.Now)
	if historySeeded {
		// The history was decided before this process's delivery pipeline
		// existed, so its directives were never queued: send the edge what
		// it should serve, as an operator would from /edge/reconcile, so the
		// demo edge shows the terminated site dark and nothing reads as drift.
		for _, target := range rec.Targets() {
			if n, err := rec.Repair(ctx, "system:demo", target, ""); err != nil {
				a.log.Warn("demo: send the history's directives to the edge", "target", target, "err", err)
			} else if n > 0 {
				a.log.Info("demo: the history's directives are on their way to the edge", "target", target, "directives", n)
			}
		}
	}
	uiCfg := ui.Config{SecureCookies: cfg.secure(), Replay: a.notifier.Replay, Metrics: a.metrics, Ready: ready, ShutdownGrace: cfg.ShutdownGrace, Reconciler: rec}
	uiCfg.Limits = cfg.limits(a.db)
	uiCfg.Inbox = in
	ev, err := evidence.Open(ctx, cfg.EvidenceURL, a.db, time.Now)
	if err != nil {
		return fmt.Errorf("DOCKET_EVIDENCE_URL / --evidence-url: %w", err)
	}
	defer ev.Close()
	uiCfg.Evidence = ev
	uiCfg.AuditChain = cfg.chain(a.db)
	srv, err := ui.New(uiCfg, a.db, a.cases, a.users, a.enforcer, a.log, time.Now)
	if err != nil {
		return err
	}
	if err := a.startScaleOut(ctx); err != nil {
		return err
	}
	if cfg.MetricsListen != "" {
		addr, err := serveMetrics(ctx, cfg.MetricsListen, a.metrics, ready, a.log)
		if err != nil {
			return err
		}
		a.log.Info("metrics are served", "url", "http://"+addr+"/metrics")
		fmt.Fprintf(stdout, "Metrics at http://%s/metrics\n", addr)
	}
	// Jobs run on a context SIGTERM does not cancel: shutdown stops them in
	// order below, after the HTTP server has drained.
	if err := a.notifier.Start(context.WithoutCancel(ctx)); err != nil {
		return fmt.Errorf("start deliveries: %w", err)
	}
	stopping := make(chan time.Time, 1)
	go func() {
		<-ctx.Done()
		stopping <- time.Now()
		ready.Drain() // a load balancer polling /readyz stops sending requests
		a.log.Info("shutting down", "grace", cfg.ShutdownGrace.String())
	}()
	defer func() {
		// The HTTP side has drained: running jobs get what is left of the grace,
		// then are cancelled and go back to the queue.
		deadline := time.Now().Add(cfg.ShutdownGrace)
		select {
		case t := <-stopping:
			deadline = t.Add(cfg.ShutdownGrace)
		default:
		}
		stop, cancel := context.WithDeadline(context.Background(), deadline)
		defer cancel()
		if err := a.notifier.Stop(stop); err != nil {
			a.log.Warn("stop jobs", "err", err)
		}
		a.log.Info("stopped")
	}()
	smtpAddr := ""
	if cfg.SMTPListen != "" {
		l, err := in.ListenSMTP(inbox.SMTPConfig{Addr: cfg.SMTPListen, Domain: baseHost(cfg.BaseURL), Recipients: cfg.smtpRecipients()}, a.log)
		if err != nil {
			return err
		}
		smtpCtx, stopSMTP := context.WithCancel(ctx)
		smtpDone := make(chan struct{})
		go func() {
			defer close(smtpDone)
			if err := l.Serve(smtpCtx); err != nil {
				a.log.Error("smtp listener", "err", err)
			}
		}()
		// Sessions in progress commit or refuse before the database closes.
		defer func() { stopSMTP(); <-smtpDone }()
		smtpAddr = l.Addr()
		a.log.Info("receiving abuse mail by SMTP", "listen", smtpAddr)
	}
	return srv.Serve(ctx, cfg.Listen, func(addr string) {
		if cfg.baseURLDerived {
			cfg.BaseURL = "http://" + addr // the real port, when --listen asked for :0
		}
		a.log.Info("docket is serving", "url", cfg.BaseURL, "listen", addr, "database", string(a.db.Dialect), "started_in", time.Since(start).Round(time.Millisecond).String())
		fmt.Fprintf(stdout, "\nDocket is running at %s\n", cfg.BaseURL)
		if smtpAddr != "" {
			fmt.Fprintf(stdout, "Receiving abuse mail by SMTP at %s\n", smtpAddr)
		}
		if withDemo {
			printDemoAccounts(stdout)
		}
		if demoEdge != "" {
			fmt.Fprintf(stdout, "\nDemo edge (edge-sim) at %s: its state at %s/_edge/state; a customer site by Host header:\n  curl -i -H 'Host: yardboard.example' %s/\n", demoEdge, demoEdge, demoEdge)
		}
	})
}

func printDemoAccounts(w io.Writer) {
	fmt.Fprintf(w, "\nDemo accounts (password for all: %s):\n", demo.Password)
	for _, acc := range demo.Accounts {
		fmt.Fprintf(w, "  %-16s %s\n", acc.Role, acc.Email)
	}
	fmt.Fprintln(w, "\nThese passwords are public: never load the demo into a real deployment.")
}

func cmdMigrate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cfg, rest, err := parse("migrate", args, stderr, nil)
	if err != nil {
		return err
	}
	if len(rest) != 1 {
		return errors.New("usage: docket migrate up|down|status")
	}
	db, err := database.Open(ctx, cfg.DatabaseURL)
	if err != nil {
		return err
	}
	defer db.Close()
	p, err := migrations.Provider(db)
	if err != nil {
		return err
	}
	switch rest[0] {
	case "up":
		res, err := p.Up(ctx)
		for _, r := range res {
			fmt.Fprintf(stdout, "applied %s (%s)\n", r.Source.Path, r.Duration.Round(time.Millisecond))
		}
		if err == nil && len(res) == 0 {
			fmt.Fprintln(stdout, "schema is up to date")
		}
		return err
	case "down":
		r, err := p.Down(ctx)
		if r != nil && r.Source != nil {
			fmt.Fprintf(stdout, "rolled back %s\n", r.Source.Path)
		}
		return err
	case "status":
		st, err := p.Status(ctx)
		if err != nil {
			return err
		}
		for _, s := range st {
			when := "pending"
			if !s.AppliedAt.IsZero() {
				when = "applied " + s.AppliedAt.UTC().Format(time.RFC3339)
			}
			fmt.Fprintf(stdout, "%-40s %s\n", s.Source.Path, when)
		}
		return nil
	default:
		return fmt.Errorf("unknown migrate action %q: use up, down or status", rest[0])
	}
}

func cmdUserAdd(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	var email, name, roles string
	cfg, _, err := parse("user add", args, stderr, func(fs *flag.FlagSet) {
		fs.StringVar(&email, "email", "", "email address (sign-in name)")
		fs.StringVar(&name, "name", "", "full name")
		fs.StringVar(&roles, "roles", "", "comma-separated roles: "+strings.Join(policy.Roles, ", "))
	})
	if err != nil {
		return err
	}
	// The password never goes on the command line, where ps and shell history see it.
	password, ok := os.LookupEnv("DOCKET_PASSWORD")
	if !ok {
		fmt.Fprint(stderr, "password (from stdin): ")
		b, err := io.ReadAll(io.LimitReader(stdin, 4096))
		if err != nil {
			return err
		}
		password = strings.TrimRight(string(b), "\r\n")
	}
	a, err := open(ctx, cfg, stderr)
	if err != nil {
		return err
	}
	defer a.db.Close()
	var rs []string
	for _, r := range strings.Split(roles, ",") {
		if r = strings.TrimSpace(r); r != "" {
			rs = append(rs, r)
		}
	}
	u, err := a.users.Create(ctx, "system:cli", users.NewUser{Email: email, Name: name, Password: password, Roles: rs})
	if err != nil {
		return describe(err)
	}
	fmt.Fprintf(stdout, "created user %d %s with roles %s\n", u.ID, u.Email, strings.Join(a.users.Roles(u), ", "))
	return nil
}

func cmdSeedDemo(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cfg, _, err := parse("seed-demo", args, stderr, nil)
	if err != nil {
		return err
	}
	a, err := open(ctx, cfg, stderr)
	if err != nil {
		return err
	}
	defer a.db.Close()
	seeded, err := demo.Seed(ctx, a.db, a.users, time.Now)
	if err != nil {
		return err
	}
	if seeded {
		// Only on first seeding, as in serve --demo: a second run adds nothing.
		if err := demo.SeedHistory(ctx, a.db, a.users, time.Now); err != nil {
			return err
		}
		fmt.Fprintln(stdout, "demo data loaded")
	} else {
		fmt.Fprintln(stdout, "demo data already present; nothing changed")
	}
	printDemoAccounts(stdout)
	return nil
}
