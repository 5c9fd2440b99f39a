package notify

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strconv"

	"github.com/riverqueue/river"
	"gorm.io/gorm"

	"github.com/dockethq/docket/audit"
	"github.com/dockethq/docket/cases"
)

// liftArgs is the River job that lifts an expiring measure: scheduled at the
// directive's expiry, inserted in the directive's own transaction, so the lift
// happens once (River's row lock) and survives restarts and crashes.
type liftArgs struct {
	DirectiveID string `json:"directive_id"`
}

func (liftArgs) Kind() string { return "lift_expired_directive" }

func (n *Notifier) scheduleLift(tx *gorm.DB, sqlTx *sql.Tx, d *cases.Directive) error {
	if d.ExpiresAt == nil || d.Type == "site.reinstate" {
		return nil
	}
	_, err := n.river.InsertTx(tx.Statement.Context, sqlTx, liftArgs{DirectiveID: d.ID}, &river.InsertOpts{ScheduledAt: *d.ExpiresAt})
	if err != nil {
		return fmt.Errorf("schedule the lift of directive %s: %w", d.ID, err)
	}
	return nil
}

type liftWorker struct {
	river.WorkerDefaults[liftArgs]
	n *Notifier
}

// Work queues the reinstate directive; its deliveries are enqueued in the
// same transaction by the OnDirective hook.
func (w *liftWorker) Work(ctx context.Context, job *river.Job[liftArgs]) error {
	d, err := w.n.cases.LiftExpired(ctx, job.Args.DirectiveID)
	if err != nil {
		return err
	}
	if d != nil {
		w.n.log.Info("expired measure lifted", "directive", job.Args.DirectiveID, "reinstate", d.ID, "version", d.Version)
	}
	return nil
}

// ErrUnknownTarget is returned by Resend for a target not configured.
var ErrUnknownTarget = errors.New("that edge target is not configured")

// Resend delivers a directive to one target again: its delivery goes back to
// pending with a fresh job (or is created, for a target added since). The
// directive keeps its id and version, so an edge that has it ignores it and an
// edge that lost it or holds an older version applies it; nothing new is
// decided. Audited in the same transaction.
func (n *Notifier) Resend(ctx context.Context, actor, directiveID, target string) error {
	if !slices.Contains(n.cfg.Targets(), target) {
		return ErrUnknownTarget
	}
	return n.db.W.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		now := n.now().UTC()
		var dir cases.Directive
		if err := tx.Take(&dir, "id = ?", directiveID).Error; err != nil {
			return cases.ErrNoDirective
		}
		var del Delivery
		err := tx.Where("directive_id = ? AND target = ?", directiveID, target).Take(&del).Error
		switch {
		case errors.Is(err, gorm.ErrRecordNotFound):
			del = Delivery{DirectiveID: dir.ID, Target: target, State: "pending", CreatedAt: now}
			if err := tx.Create(&del).Error; err != nil {
				return err
			}
		case err != nil:
			return err
		default:
			if err := tx.Model(&del).Updates(map[string]any{"state": "pending", "created_at": now}).Error; err != nil {
				return err
			}
		}
		sqlTx, ok := tx.Statement.ConnPool.(*sql.Tx)
		if !ok {
			return errors.New("notify: resend outside a transaction")
		}
		job, err := n.river.InsertTx(ctx, sqlTx, deliverArgs{DeliveryID: del.ID}, nil)
		if err != nil {
			return err
		}
		if err := tx.Model(&Delivery{}).Where("id = ?", del.ID).Update("job_id", job.Job.ID).Error; err != nil {
			return err
		}
		return audit.Record(tx, now, actor, "directive.resent", "case", strconv.FormatInt(dir.CaseID, 10),
			map[string]any{"directive": dir.ID, "version": dir.Version, "target": target, "delivery": del.ID})
	})
}

// Targets lists the configured delivery targets.
func (n *Notifier) Targets() []string { return n.cfg.Targets() }
