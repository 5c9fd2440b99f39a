package main

import (
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/url"
	"os"
	"strings"

	"github.com/dockethq/docket/internal/database"
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

	baseURLDerived bool // BaseURL was not given and follows the listen address
}

// bind registers the common flags on fs with defaults taken from the environment.
func (c *config) bind(fs *flag.FlagSet) {
	fs.StringVar(&c.DatabaseURL, "database-url", env("DOCKET_DATABASE_URL", "docket.db"), "SQLite file path or postgres:// URL (DOCKET_DATABASE_URL)")
	fs.StringVar(&c.Listen, "listen", env("DOCKET_LISTEN", "127.0.0.1:8080"), "address to serve HTTP on (DOCKET_LISTEN)")
	fs.StringVar(&c.BaseURL, "base-url", env("DOCKET_BASE_URL", ""), "public URL of this Docket; https:// turns on Secure cookies (DOCKET_BASE_URL; default http://<listen>)")
	fs.StringVar(&c.LogFormat, "log-format", env("DOCKET_LOG_FORMAT", "text"), "log format: text or json (DOCKET_LOG_FORMAT)")
	fs.StringVar(&c.LogLevel, "log-level", env("DOCKET_LOG_LEVEL", "info"), "log level: debug, info, warn, error (DOCKET_LOG_LEVEL)")
	fs.BoolVar(&c.AutoMigrate, "migrate", env("DOCKET_AUTO_MIGRATE", "true") == "true", "apply pending migrations at start (DOCKET_AUTO_MIGRATE)")
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
	if c.LogFormat != "text" && c.LogFormat != "json" {
		return fmt.Errorf("DOCKET_LOG_FORMAT / --log-format: %q is neither text nor json", c.LogFormat)
	}
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(c.LogLevel)); err != nil {
		return fmt.Errorf("DOCKET_LOG_LEVEL / --log-level: %q is not debug, info, warn or error", c.LogLevel)
	}
	return nil
}

func (c *config) logger(w io.Writer) *slog.Logger {
	var lvl slog.Level
	_ = lvl.UnmarshalText([]byte(c.LogLevel))
	opts := &slog.HandlerOptions{Level: lvl}
	if c.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// secure reports whether cookies must be Secure: whenever users reach Docket over HTTPS.
func (c *config) secure() bool { return strings.HasPrefix(c.BaseURL, "https://") }
