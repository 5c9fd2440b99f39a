package cases

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/dockethq/docket/audit"
	"github.com/dockethq/docket/internal/errs"
)

// Queues a case can be routed to. Each is a policy object (queue/<name>, read),
// so who sees which queue is decided by the policy, not here.
const (
	QueuePriority   = "priority"
	QueueEnterprise = "enterprise"
)

// Queues lists every queue in the order the UI shows them.
var Queues = []string{QueueGeneral, QueuePriority, QueueEnterprise, QueueRestricted}

// QueueRule routes matching cases to a queue. Empty fields match anything; the
// rule with the lowest Position that matches wins, else QueueGeneral.
type QueueRule struct {
	ID             int64
	Position       int
	Category       Category
	MinSeverity    int
	Plan           string
	TrustedFlagger bool
	Queue          string
	CreatedAt      time.Time
}

func (r *QueueRule) matches(c *Case, plan string) bool {
	return (r.Category == "" || r.Category == c.Category) &&
		c.Severity >= r.MinSeverity &&
		(r.Plan == "" || strings.EqualFold(r.Plan, plan)) &&
		(!r.TrustedFlagger || c.FlaggerReportCount > 0)
}

// route picks c's queue. CSAM always goes to the restricted queue, whatever the
// rules say: a routing edit must never expose it.
func route(rules []QueueRule, c *Case, plan string) string {
	if c.Category == CSAM {
		return QueueRestricted
	}
	for i := range rules {
		if rules[i].matches(c, plan) {
			return rules[i].Queue
		}
	}
	return QueueGeneral
}

func loadRules(tx *gorm.DB) ([]QueueRule, error) {
	var rules []QueueRule
	err := tx.Order("position, id").Find(&rules).Error
	return rules, err
}

// QueueRules lists the routing rules in the order they apply.
func (s *Service) QueueRules(ctx context.Context) ([]QueueRule, error) {
	return loadRules(s.db.R.WithContext(ctx))
}

// AddQueueRule adds a routing rule; it applies to cases opened or updated from now on.
func (s *Service) AddQueueRule(ctx context.Context, actor Actor, r QueueRule) (*QueueRule, error) {
	f := map[string]string{}
	if r.Category != "" {
		if _, ok := r.Category.Info(); !ok {
			f["category"] = "Choose a category or leave it empty for any."
		}
	}
	if !slices.Contains(Queues, r.Queue) || r.Queue == QueueRestricted {
		f["queue"] = "Choose one of the general, priority or enterprise queues (csam always goes to restricted)."
	}
	if r.MinSeverity < 0 || r.MinSeverity > 100 {
		f["min_severity"] = "Severity is between 0 and 100."
	}
	r.Plan = strings.TrimSpace(r.Plan)
	if len(r.Plan) > 50 {
		f["plan"] = "Keep the plan name under 50 characters."
	}
	if err := errs.Fields(f); err != nil {
		return nil, err
	}
	now := s.now().UTC()
	r.CreatedAt = now
	err := s.db.W.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Create(&r).Error; err != nil {
			return err
		}
		return audit.Record(tx, now, actor.Subject(), "queue_rule.created", "queue_rule", strconv.FormatInt(r.ID, 10), map[string]any{"after": r})
	})
	return &r, err
}

// DeleteQueueRule removes a routing rule, auditing what it was.
func (s *Service) DeleteQueueRule(ctx context.Context, actor Actor, id int64) error {
	now := s.now().UTC()
	return s.db.W.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var r QueueRule
		if err := tx.Take(&r, id).Error; err != nil {
			return errs.E(errs.NotFound, "There is no such routing rule.")
		}
		if err := tx.Delete(&QueueRule{}, id).Error; err != nil {
			return err
		}
		return audit.Record(tx, now, actor.Subject(), "queue_rule.deleted", "queue_rule", strconv.FormatInt(id, 10), map[string]any{"before": r})
	})
}
