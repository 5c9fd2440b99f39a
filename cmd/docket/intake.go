package main

import (
	"flag"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/dockethq/docket/cases"
	"github.com/dockethq/docket/internal/database"
	"github.com/dockethq/docket/internal/ratelimit"
	"github.com/dockethq/docket/ui"
)

// intakeConfig is the parsed form of the intake flags.
type intakeConfig struct {
	report, status, api ratelimit.Limit
	proxies             []*net.IPNet
}

func (c *config) bindIntake(fs *flag.FlagSet) {
	fs.StringVar(&c.RateLimitReport, "rate-limit-report", env("DOCKET_RATE_LIMIT_REPORT", "10/1m+20"), "public report form posts per client address (IPv6: per /64), RATE/PERIOD[+BURST] or off (DOCKET_RATE_LIMIT_REPORT)")
	fs.StringVar(&c.RateLimitStatus, "rate-limit-status", env("DOCKET_RATE_LIMIT_STATUS", "30/1m+30"), "status lookups per client address, RATE/PERIOD[+BURST] or off (DOCKET_RATE_LIMIT_STATUS)")
	fs.StringVar(&c.RateLimitAPI, "rate-limit-api", env("DOCKET_RATE_LIMIT_API", "600/1m+600"), "POST /api/v1/reports requests per API key (a batch is one), RATE/PERIOD[+BURST] or off (DOCKET_RATE_LIMIT_API)")
	fs.StringVar(&c.TrustedProxies, "trusted-proxies", env("DOCKET_TRUSTED_PROXIES", ""), "comma-separated CIDRs of proxies whose X-Forwarded-For gives the client address; empty: the connection's address (DOCKET_TRUSTED_PROXIES)")
	window, err := time.ParseDuration(env("DOCKET_DUPLICATE_WINDOW", cases.DefaultDuplicateWindow.String()))
	if err != nil {
		window = -1 // reported by validate
	}
	fs.DurationVar(&c.DuplicateWindow, "duplicate-window", window, "a reporter's repeat of a report (same URL and category) within this is linked as a duplicate; 0 turns it off (DOCKET_DUPLICATE_WINDOW)")
}

func (c *config) validateIntake() error {
	var err error
	for _, f := range []struct {
		name, value string
		dst         *ratelimit.Limit
	}{
		{"DOCKET_RATE_LIMIT_REPORT / --rate-limit-report", c.RateLimitReport, &c.intake.report},
		{"DOCKET_RATE_LIMIT_STATUS / --rate-limit-status", c.RateLimitStatus, &c.intake.status},
		{"DOCKET_RATE_LIMIT_API / --rate-limit-api", c.RateLimitAPI, &c.intake.api},
	} {
		if *f.dst, err = ratelimit.Parse(f.value); err != nil {
			return fmt.Errorf("%s: %w", f.name, err)
		}
	}
	c.intake.proxies = nil
	for _, p := range splitList(c.TrustedProxies) {
		if !strings.Contains(p, "/") {
			if strings.Contains(p, ":") {
				p += "/128"
			} else {
				p += "/32"
			}
		}
		_, n, err := net.ParseCIDR(p)
		if err != nil {
			return fmt.Errorf("DOCKET_TRUSTED_PROXIES / --trusted-proxies: %q is not an address or CIDR such as 10.0.0.0/8", p)
		}
		c.intake.proxies = append(c.intake.proxies, n)
	}
	if c.DuplicateWindow < 0 || c.DuplicateWindow > 30*24*time.Hour {
		return fmt.Errorf("DOCKET_DUPLICATE_WINDOW / --duplicate-window: give a duration from 0 (off) to 720h, such as 24h")
	}
	return nil
}

// limits is the web layer's rate limiting. On PostgreSQL the counts live in the
// database, so several instances enforce one limit; on SQLite (one instance) in
// memory.
func (c *config) limits(db *database.DB) ui.Limits {
	l := ui.Limits{Form: c.intake.report, Status: c.intake.status, APIKey: c.intake.api, TrustedProxies: c.intake.proxies}
	if db.Dialect == database.Postgres {
		l.Store = ratelimit.NewDB(db)
	}
	return l
}
