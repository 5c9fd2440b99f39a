package notify

import (
	"context"

	"github.com/dockethq/docket/internal/health"
)

// ReadyChecks are what deliveries need to make progress, for /readyz: the job
// queue's table answers, and, when directives go to NATS, the server does.
func (n *Notifier) ReadyChecks() []health.Check {
	checks := []health.Check{{Name: "job queue", Fn: func(ctx context.Context) error {
		var one int
		return n.db.R.WithContext(ctx).Raw("SELECT 1 FROM river_job LIMIT 1").Scan(&one).Error
	}}}
	if n.cfg.NATSURL != "" {
		checks = append(checks, health.Check{Name: "nats", Fn: n.sender.pingNATS})
	}
	return checks
}
