package main

// docket doctor: the effective configuration, where each value came from
// (secrets masked), and a check of every dependency Docket would use, in plain
// sentences. It exits non-zero when something is wrong.

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/dockethq/docket/audit"
	"github.com/dockethq/docket/evidence"
	"github.com/dockethq/docket/internal/database"
	"github.com/dockethq/docket/notify"
)

// envName finds a flag's environment variable in its usage text, which names
// it in parentheses by convention (config.bind).
var envName = regexp.MustCompile(`\((DOCKET_[A-Z0-9_]+)`)

func cmdDoctor(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var cfg config
	fs := flag.NewFlagSet("docket doctor", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfg.bind(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	cfgErr := cfg.validate()

	fmt.Fprintln(stdout, "Configuration (flag, else environment, else default):")
	setByFlag := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { setByFlag[f.Name] = true })
	tw := tabwriter.NewWriter(stdout, 2, 4, 2, ' ', 0)
	fs.VisitAll(func(f *flag.Flag) {
		env := ""
		if m := envName.FindStringSubmatch(f.Usage); m != nil {
			env = m[1]
		}
		source := "default"
		if setByFlag[f.Name] {
			source = "flag --" + f.Name
		} else if _, ok := os.LookupEnv(env); ok && env != "" {
			source = "environment " + env
		}
		val := f.Value.String()
		switch f.Name {
		case "base-url":
			val = cfg.BaseURL
			if cfg.baseURLDerived {
				source = "default (from --listen)"
			}
		case "outbox":
			val = cfg.Outbox
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\n", f.Name, mask(f.Name, val), source)
	})
	tw.Flush()

	d := &doctor{out: stdout}
	fmt.Fprintln(stdout, "\nChecks:")
	if cfgErr != nil {
		d.fail("configuration", cfgErr.Error())
		return d.verdict()
	}
	d.ok("configuration", "every value is valid")
	d.database(ctx, &cfg)
	for _, e := range cfg.endpoints() {
		d.edge(ctx, e)
	}
	if len(cfg.endpoints()) == 0 && cfg.NATSURL == "" {
		d.warn("edge", "no edge endpoints and no NATS: decisions are recorded but no directive leaves Docket (DOCKET_EDGE_ENDPOINTS, DOCKET_NATS_URL)")
	}
	if cfg.NATSURL != "" {
		d.check("nats "+maskURL(cfg.NATSURL), "connected; JetStream answers", func(ctx context.Context) error { return notify.CheckNATS(ctx, cfg.NATSURL) })
	}
	if cfg.SMTPURL != "" {
		d.check("smtp "+maskURL(cfg.SMTPURL), "the relay accepted a connection (and the sign-in, if configured)", func(ctx context.Context) error { return notify.CheckSMTP(ctx, cfg.SMTPURL) })
	} else {
		d.check("outbox "+cfg.Outbox, "writable; with no SMTP relay (DOCKET_SMTP_URL) notices are written here as .eml files", func(context.Context) error { return notify.CheckOutbox(cfg.Outbox) })
	}
	d.check("evidence "+maskURL(cfg.EvidenceURL), "the bucket answers", func(ctx context.Context) error { return evidence.Check(ctx, cfg.EvidenceURL) })
	if !cfg.secure() {
		if host, _, _ := net.SplitHostPort(cfg.Listen); !isLoopback(host) {
			d.warn("base url", "Docket listens beyond this machine but its base URL is not https://: cookies are not marked Secure; serve it behind HTTPS and set DOCKET_BASE_URL=https://…")
		}
	}
	return d.verdict()
}

// mask hides secrets: edge signing secrets entirely, passwords inside URLs.
func mask(name, val string) string {
	if val == "" {
		return "(not set)"
	}
	lower := strings.ToLower(name)
	if strings.Contains(lower, "secret") || strings.Contains(lower, "password") || strings.Contains(lower, "token") {
		n := len(splitList(val))
		return fmt.Sprintf("%d secret(s), masked", n)
	}
	if strings.Contains(val, "://") {
		parts := splitList(val)
		for i, p := range parts {
			parts[i] = maskURL(p)
		}
		return strings.Join(parts, ",")
	}
	return val
}

// maskURL hides a URL's password, and for NATS a user name alone too (NATS
// takes a token there).
func maskURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.User == nil {
		return database.Redact(raw)
	}
	if _, ok := u.User.Password(); !ok && (u.Scheme == "nats" || u.Scheme == "tls") {
		u.User = url.User("xxxxx")
		return u.String()
	}
	return database.Redact(raw)
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

type doctor struct {
	out      io.Writer
	problems int
}

func (d *doctor) line(mark, what, msg string) {
	fmt.Fprintf(d.out, "  %-4s  %s: %s\n", mark, what, msg)
}
func (d *doctor) ok(what, msg string)   { d.line("ok", what, msg) }
func (d *doctor) warn(what, msg string) { d.line("warn", what, msg) }
func (d *doctor) fail(what, msg string) {
	d.problems++
	d.line("FAIL", what, msg)
}

// check runs fn with a timeout and reports it.
func (d *doctor) check(what, okMsg string, fn func(ctx context.Context) error) bool {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := fn(ctx); err != nil {
		d.fail(what, err.Error())
		return false
	}
	d.ok(what, okMsg)
	return true
}

func (d *doctor) verdict() error {
	if d.problems == 0 {
		fmt.Fprintln(d.out, "\nNo problems found.")
		return nil
	}
	fmt.Fprintf(d.out, "\n%d problem(s) found.\n", d.problems)
	return fmt.Errorf("doctor found %d problem(s)", d.problems)
}

func (d *doctor) database(ctx context.Context, cfg *config) {
	dialect, path, _ := database.ParseURL(cfg.DatabaseURL)
	what := "database " + maskURL(cfg.DatabaseURL)
	if dialect == database.SQLite {
		if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
			d.warn(what, "no database file yet; docket serve creates and migrates it (or run: docket migrate up)")
			return
		}
	}
	octx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	db, err := database.Open(octx, cfg.DatabaseURL)
	if err != nil {
		d.fail(what, err.Error())
		return
	}
	defer db.Close()
	d.ok(what, string(dialect)+" answers")
	// goose would create its table to answer; the doctor changes nothing.
	q := "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'goose_db_version'"
	if dialect == database.Postgres {
		q = "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = current_schema() AND table_name = 'goose_db_version'"
	}
	var tables int64
	if err := db.R.WithContext(octx).Raw(q).Scan(&tables).Error; err != nil {
		d.fail("schema", err.Error())
		return
	}
	if tables == 0 {
		if cfg.AutoMigrate {
			d.warn("schema", "the database is empty; docket serve creates the schema at start (DOCKET_AUTO_MIGRATE=true)")
		} else {
			d.fail("schema", "the database is empty and DOCKET_AUTO_MIGRATE=false: run docket migrate up")
		}
		return
	}
	current, latest, pending, err := schemaState(octx, db)
	switch {
	case err != nil:
		d.fail("schema", err.Error())
	case current > latest:
		d.fail("schema", fmt.Sprintf("the database is at version %d, newer than this docket knows (%d): run the Docket version that migrated it", current, latest))
	case pending > 0 && cfg.AutoMigrate:
		d.warn("schema", fmt.Sprintf("%d migration(s) pending; docket serve applies them at start (DOCKET_AUTO_MIGRATE=true)", pending))
	case pending > 0:
		d.fail("schema", fmt.Sprintf("%d migration(s) pending and DOCKET_AUTO_MIGRATE=false: run docket migrate up", pending))
	default:
		d.ok("schema", fmt.Sprintf("current (version %d)", current))
	}
	if current == 0 {
		return // no tables yet: the job queue check would only repeat it
	}
	if current >= 35 {
		switch v, err := audit.LastVerification(octx, db.R); {
		case err != nil:
			d.fail("audit verification", err.Error())
		case v == nil:
			d.ok("audit verification", "none yet (serve's checkpoint timer verifies every --audit-checkpoint-interval; or run docket audit verify)")
		case !v.OK:
			d.fail("audit verification", fmt.Sprintf("the audit chain was found BROKEN on %s by %s: %s (see /audit/chain; keep a backup as evidence)", v.At.UTC().Format(time.RFC3339), v.Actor, v.Problem))
		default:
			d.ok("audit verification", fmt.Sprintf("intact on %s (%s, to seq %d)", v.At.UTC().Format(time.RFC3339), v.Actor, v.HeadSeq))
		}
	}
	if dialect == database.Postgres && current >= 41 {
		// Events wait for a serve's sealer (audit/seal.go); a backlog means
		// none runs, and verification fails once it is PendingGrace old.
		switch n, _, age, err := audit.Unsealed(octx, db.R); {
		case err != nil:
			d.fail("audit chain", err.Error())
		case n > 0 && age > audit.PendingGrace:
			d.fail("audit chain", fmt.Sprintf("%d audit events not sealed into the chain, the oldest for %s: is any docket serve running? (docket audit verify seals them)", n, age.Round(time.Second)))
		case n > 0 && age > 10*time.Second:
			d.warn("audit chain", fmt.Sprintf("%d audit events waiting %s for a sealer (docket serve seals every --audit-seal-interval)", n, age.Round(time.Second)))
		default:
			d.ok("audit chain", "events are being sealed")
		}
	}
	if err := notify.CheckJobQueue(octx, db); err != nil {
		if cfg.AutoMigrate {
			d.warn("job queue", err.Error())
		} else {
			d.fail("job queue", err.Error())
		}
	} else {
		d.ok("job queue", "River's tables are migrated")
	}
}

// edge asks an endpoint for its headers: any HTTP answer means it is reachable
// (it will answer POSTs of signed directives; a 405 to HEAD is fine).
func (d *doctor) edge(ctx context.Context, endpoint string) {
	label := endpoint
	if u, err := url.Parse(endpoint); err == nil {
		u.User, u.RawQuery = nil, ""
		label = u.String()
	}
	d.check("edge "+label, "reachable", func(ctx context.Context) error {
		req, err := http.NewRequestWithContext(ctx, http.MethodHead, endpoint, nil)
		if err != nil {
			return err
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			var ue *url.Error
			if errors.As(err, &ue) {
				err = ue.Err // the URL is already in the label
			}
			return fmt.Errorf("not reachable: %v", err)
		}
		res.Body.Close()
		if res.StatusCode >= 500 {
			return fmt.Errorf("answers %d: the edge is up but failing", res.StatusCode)
		}
		return nil
	})
}
