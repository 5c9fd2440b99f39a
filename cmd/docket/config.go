package main

import (
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/mail"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/dockethq/docket/cases"
	"github.com/dockethq/docket/internal/database"
	"github.com/dockethq/docket/internal/reqlog"
	"github.com/dockethq/docket/notify"
)

// config is Docket's configuration: flags, each with an environment fallback.
// README.md has the table; keep the two in step.
type config struct {
	DatabaseURL string
	Listen      string
	BaseURL     string
	LogFormat   string
	LogLevel    string
	AutoMigrate bool

	EdgeEndpoints   string // comma-separated URLs
	EdgeSecrets     string // comma-separated whsec_ secrets
	NATSURL         string
	DeliveryHorizon time.Duration
	RescueAfter     time.Duration
	TimerInterval   time.Duration // how often background sweeps look for due work

	SMTPURL  string // notices by SMTP; empty: .eml files in Outbox
	MailFrom string
	Outbox   string

	// Intake (cmd/docket/intake.go has the parsed forms).
	RateLimitReport string // RATE/PERIOD[+BURST] per client address on POST /report
	RateLimitStatus string // the same on POST /status
	RateLimitAPI    string // per API key on POST /api/v1/reports
	TrustedProxies  string // comma-separated CIDRs whose X-Forwarded-For is believed
	DuplicateWindow time.Duration
	SMTPListen      string        // email intake by SMTP (serve); empty: off
	SMTPRecipients  string        // comma-separated addresses or @domains the listener accepts; empty: any
	EvidenceURL     string        // gocloud.dev/blob bucket URL for report evidence
	MetricsListen   string        // separate address for /metrics (and /readyz); empty: no metrics
	ShutdownGrace   time.Duration // SIGTERM: how long in-flight requests and running jobs get
	StrikeThreshold int           // live strike weight from which termination is suggested; 0 never

	baseURLDerived bool // BaseURL was not given and follows the listen address
	intake         intakeConfig
	audit          auditConfig
}

// bind registers the common flags on fs with defaults taken from the environment.
func (c *config) bind(fs *flag.FlagSet) {
	fs.StringVar(&c.DatabaseURL, "database-url", env("DOCKET_DATABASE_URL", "docket.db"), "SQLite file path or postgres:// URL (DOCKET_DATABASE_URL)")
	fs.StringVar(&c.Listen, "listen", env("DOCKET_LISTEN", "127.0.0.1:8080"), "address to serve HTTP on (DOCKET_LISTEN)")
	fs.StringVar(&c.BaseURL, "base-url", env("DOCKET_BASE_URL", ""), "public URL of this Docket; https:// turns on Secure cookies (DOCKET_BASE_URL; default http://<listen>)")
	fs.StringVar(&c.LogFormat, "log-format", env("DOCKET_LOG_FORMAT", "auto"), "log format: text, json, or auto: JSON for docket serve, text with --demo and for the other commands (DOCKET_LOG_FORMAT)")
	fs.StringVar(&c.LogLevel, "log-level", env("DOCKET_LOG_LEVEL", "info"), "log level: debug, info, warn, error (DOCKET_LOG_LEVEL)")
	fs.BoolVar(&c.AutoMigrate, "migrate", env("DOCKET_AUTO_MIGRATE", "true") == "true", "apply pending migrations at start (DOCKET_AUTO_MIGRATE)")
	fs.StringVar(&c.EdgeEndpoints, "edge-endpoints", env("DOCKET_EDGE_ENDPOINTS", ""), "comma-separated edge URLs that receive signed directives (DOCKET_EDGE_ENDPOINTS)")
	fs.StringVar(&c.EdgeSecrets, "edge-secrets", env("DOCKET_EDGE_SECRETS", ""), "comma-separated whsec_ signing secrets; give two while rotating (DOCKET_EDGE_SECRETS)")
	fs.StringVar(&c.NATSURL, "nats-url", env("DOCKET_NATS_URL", ""), "NATS server; directives also go to the JetStream KV bucket edge_config (DOCKET_NATS_URL)")
	horizon, err := time.ParseDuration(env("DOCKET_DELIVERY_HORIZON", "24h"))
	if err != nil {
		horizon = -1 // reported by validate
	}
	fs.DurationVar(&c.DeliveryHorizon, "delivery-horizon", horizon, "how long to retry a delivery before dead-lettering it (DOCKET_DELIVERY_HORIZON)")
	rescue, err := time.ParseDuration(env("DOCKET_DELIVERY_RESCUE_AFTER", "1m"))
	if err != nil {
		rescue = -1
	}
	fs.DurationVar(&c.RescueAfter, "delivery-rescue-after", rescue, "retry a delivery left running by a crashed instance after this long (DOCKET_DELIVERY_RESCUE_AFTER)")
	timers, err := time.ParseDuration(env("DOCKET_TIMER_INTERVAL", "1m"))
	if err != nil {
		timers = -1
	}
	fs.DurationVar(&c.TimerInterval, "timer-interval", timers, "how often background sweeps (lapsed claims, overdue emergency sign-offs) look for due work, on one instance of all (DOCKET_TIMER_INTERVAL)")
	fs.StringVar(&c.SMTPURL, "smtp-url", env("DOCKET_SMTP_URL", ""), "SMTP relay for notices: smtp://user:pass@host:587, smtp://host:25 (?tls=required|none) or smtps://; empty writes .eml files to the outbox folder (DOCKET_SMTP_URL)")
	fs.StringVar(&c.MailFrom, "mail-from", env("DOCKET_MAIL_FROM", notify.DefaultMailFrom), "sender of notices (DOCKET_MAIL_FROM)")
	fs.StringVar(&c.SMTPListen, "smtp-listen", env("DOCKET_SMTP_LISTEN", ""), "host:port to receive abuse mail by SMTP on (serve; DOCKET_SMTP_LISTEN; default off)")
	fs.StringVar(&c.SMTPRecipients, "smtp-recipients", env("DOCKET_SMTP_RECIPIENTS", ""), "comma-separated addresses or @domains the SMTP listener accepts mail for (DOCKET_SMTP_RECIPIENTS; default any)")
	fs.StringVar(&c.MetricsListen, "metrics-listen", env("DOCKET_METRICS_LISTEN", ""), "address to serve Prometheus /metrics (and /readyz) on, e.g. 127.0.0.1:9090; empty: no metrics (DOCKET_METRICS_LISTEN)")
	grace, err := time.ParseDuration(env("DOCKET_SHUTDOWN_GRACE", "30s"))
	if err != nil {
		grace = -1
	}
	fs.DurationVar(&c.ShutdownGrace, "shutdown-grace", grace, "on SIGTERM, how long in-flight requests and running jobs get before Docket exits (DOCKET_SHUTDOWN_GRACE)")
	threshold, err := strconv.Atoi(env("DOCKET_STRIKE_THRESHOLD", strconv.Itoa(cases.DefaultStrikePolicy.Threshold)))
	if err != nil {
		threshold = -1 // reported by validate
	}
	fs.IntVar(&c.StrikeThreshold, "strike-threshold", threshold, "live strike weight from which a case suggests termination; 0 never (DOCKET_STRIKE_THRESHOLD)")
	fs.StringVar(&c.Outbox, "outbox", env("DOCKET_OUTBOX", ""), "folder for notices as .eml files when no SMTP relay is set (DOCKET_OUTBOX; default outbox/ next to the SQLite file, else ./outbox)")
	c.bindIntake(fs)
	c.bindAudit(fs)
	fs.StringVar(&c.EvidenceURL, "evidence-url", env("DOCKET_EVIDENCE_URL", ""), "where report evidence files are stored: file:///dir?create_dir=1 or s3://bucket?endpoint=…&region=… (DOCKET_EVIDENCE_URL; default evidence-files/ next to the SQLite file, else ./evidence-files)")
}

func env(key, def string) string {
	if v, ok := os.LookupEnv(key); ok {
		return v
	}
	return def
}

// validate checks every value and says plainly which one is wrong.
func (c *config) validate() error {
	if _, _, err := database.ParseURL(c.DatabaseURL); err != nil {
		return fmt.Errorf("DOCKET_DATABASE_URL / --database-url: %w", err)
	}
	if _, _, err := net.SplitHostPort(c.Listen); err != nil {
		return fmt.Errorf("DOCKET_LISTEN / --listen: %q is not host:port (e.g. 127.0.0.1:8080)", c.Listen)
	}
	if c.BaseURL == "" {
		c.BaseURL, c.baseURLDerived = "http://"+c.Listen, true
	}
	u, err := url.Parse(c.BaseURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("DOCKET_BASE_URL / --base-url: %q is not an http(s) URL", c.BaseURL)
	}
	c.BaseURL = strings.TrimRight(c.BaseURL, "/")
	if c.LogFormat != "text" && c.LogFormat != "json" && c.LogFormat != "auto" {
		return fmt.Errorf("DOCKET_LOG_FORMAT / --log-format: %q is neither text nor json (nor auto)", c.LogFormat)
	}
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(c.LogLevel)); err != nil {
		return fmt.Errorf("DOCKET_LOG_LEVEL / --log-level: %q is not debug, info, warn or error", c.LogLevel)
	}
	if c.RescueAfter <= 0 {
		return fmt.Errorf("DOCKET_DELIVERY_RESCUE_AFTER / --delivery-rescue-after: give a positive duration such as 1m")
	}
	if c.TimerInterval < time.Second {
		return fmt.Errorf("DOCKET_TIMER_INTERVAL / --timer-interval: give a duration of a second or more, such as 1m")
	}
	if c.StrikeThreshold < 0 {
		return fmt.Errorf("DOCKET_STRIKE_THRESHOLD / --strike-threshold: give a whole number, 0 or more (0 never suggests termination)")
	}
	if c.DeliveryHorizon <= 0 {
		return fmt.Errorf("DOCKET_DELIVERY_HORIZON / --delivery-horizon: give a positive duration such as 24h")
	}
	for _, e := range c.endpoints() {
		u, err := url.Parse(e)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fmt.Errorf("DOCKET_EDGE_ENDPOINTS / --edge-endpoints: %q is not an http(s) URL", e)
		}
	}
	for _, s := range c.secrets() {
		if !strings.HasPrefix(s, "whsec_") {
			return fmt.Errorf("DOCKET_EDGE_SECRETS / --edge-secrets: secrets start with whsec_")
		}
	}
	if len(c.endpoints()) > 0 && len(c.secrets()) == 0 {
		return fmt.Errorf("DOCKET_EDGE_SECRETS / --edge-secrets: edge endpoints need a signing secret (whsec_…)")
	}
	if c.SMTPURL != "" {
		if err := (notify.MailConfig{SMTPURL: c.SMTPURL}).Validate(); err != nil {
			return fmt.Errorf("DOCKET_SMTP_URL / --smtp-url: %w", err)
		}
	}
	if err := (notify.MailConfig{From: c.MailFrom}).Validate(); err != nil {
		return fmt.Errorf("DOCKET_MAIL_FROM / --mail-from: %w", err)
	}
	if c.SMTPListen != "" {
		if _, _, err := net.SplitHostPort(c.SMTPListen); err != nil {
			return fmt.Errorf("DOCKET_SMTP_LISTEN / --smtp-listen: %q is not host:port (e.g. 127.0.0.1:2525)", c.SMTPListen)
		}
	}
	for _, r := range c.smtpRecipients() {
		addr := r
		if strings.HasPrefix(r, "@") {
			addr = "postmaster" + r // a domain: check it as an address in it
		}
		if a, err := mail.ParseAddress(addr); err != nil || a.Address != addr || strings.Count(addr, "@") != 1 {
			return fmt.Errorf("DOCKET_SMTP_RECIPIENTS / --smtp-recipients: %q is not an address like abuse@example.net or a domain like @example.net", r)
		}
	}
	if c.Outbox == "" {
		c.Outbox = "outbox"
		if d, path, _ := database.ParseURL(c.DatabaseURL); d == database.SQLite {
			c.Outbox = filepath.Join(filepath.Dir(path), "outbox")
		}
	}
	if c.EvidenceURL == "" {
		// Not "evidence": run from the source tree, that is the Go package's folder.
		dir := "evidence-files"
		if d, path, _ := database.ParseURL(c.DatabaseURL); d == database.SQLite {
			dir = filepath.Join(filepath.Dir(path), "evidence-files")
		}
		abs, err := filepath.Abs(dir)
		if err != nil {
			return fmt.Errorf("DOCKET_EVIDENCE_URL / --evidence-url: %w", err)
		}
		c.EvidenceURL = (&url.URL{Scheme: "file", Path: filepath.ToSlash(abs), RawQuery: "create_dir=1"}).String()
	}
	if u, err := url.Parse(c.EvidenceURL); err != nil || (u.Scheme != "file" && u.Scheme != "s3") {
		return fmt.Errorf("DOCKET_EVIDENCE_URL / --evidence-url: %q is not a file:// or s3:// URL", c.EvidenceURL)
	}
	if c.MetricsListen != "" {
		if _, _, err := net.SplitHostPort(c.MetricsListen); err != nil {
			return fmt.Errorf("DOCKET_METRICS_LISTEN / --metrics-listen: %q is not host:port (e.g. 127.0.0.1:9090)", c.MetricsListen)
		}
	}
	if c.ShutdownGrace <= 0 {
		return fmt.Errorf("DOCKET_SHUTDOWN_GRACE / --shutdown-grace: give a positive duration such as 30s")
	}
	if c.NATSURL != "" && !strings.HasPrefix(c.NATSURL, "nats://") && !strings.HasPrefix(c.NATSURL, "tls://") {
		return fmt.Errorf("DOCKET_NATS_URL / --nats-url: %q is not a nats:// URL", c.NATSURL)
	}
	if err := c.validateAudit(); err != nil {
		return err
	}
	return c.validateIntake()
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// mail is the notices' configuration.
func (c *config) mail() notify.MailConfig {
	return notify.MailConfig{SMTPURL: c.SMTPURL, From: c.MailFrom, Outbox: c.Outbox, BaseURL: c.BaseURL}
}

func (c *config) smtpRecipients() []string { return splitList(c.SMTPRecipients) }

func (c *config) endpoints() []string { return splitList(c.EdgeEndpoints) }
func (c *config) secrets() []string   { return splitList(c.EdgeSecrets) }

func (c *config) logger(w io.Writer) *slog.Logger {
	var lvl slog.Level
	_ = lvl.UnmarshalText([]byte(c.LogLevel))
	opts := &slog.HandlerOptions{Level: lvl}
	// reqlog adds the request id to records logged with a request's (or its job's) context.
	if c.LogFormat == "json" {
		return slog.New(reqlog.Handler(slog.NewJSONHandler(w, opts)))
	}
	return slog.New(reqlog.Handler(slog.NewTextHandler(w, opts)))
}

// secure reports whether cookies must be Secure: whenever users reach Docket over HTTPS.
func (c *config) secure() bool { return strings.HasPrefix(c.BaseURL, "https://") }
