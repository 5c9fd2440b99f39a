package notify

import (
	"context"
	"fmt"
	"time"

	"github.com/riverqueue/river"

	"github.com/dockethq/docket/cases"
	"github.com/dockethq/docket/internal/reqlog"
)

type deliverWorker struct {
	river.WorkerDefaults[deliverArgs]
	n *Notifier
}

// Work makes one attempt at one delivery.
func (w *deliverWorker) Work(ctx context.Context, job *river.Job[deliverArgs]) error {
	n := w.n
	ctx = reqlog.WithRequestID(ctx, job.Args.RequestID)
	db := n.db.W.WithContext(ctx)
	var del Delivery
	if err := db.Take(&del, job.Args.DeliveryID).Error; err != nil {
		return river.JobCancel(fmt.Errorf("delivery %d: %w", job.Args.DeliveryID, err))
	}
	if del.State != "pending" {
		return nil // delivered or replayed meanwhile: nothing to do twice
	}
	var dir cases.Directive
	if err := db.Take(&dir, "id = ?", del.DirectiveID).Error; err != nil {
		return err
	}
	now := n.now().UTC()
	if now.Sub(del.CreatedAt) > n.cfg.Horizon {
		err := fmt.Errorf("gave up after %s: %s", n.cfg.Horizon, del.LastError)
		db.Model(&del).Updates(map[string]any{"state": "dead", "last_error": err.Error()})
		n.log.ErrorContext(ctx, "directive dead-lettered", "directive", dir.ID, "target", del.Target, "attempts", del.Attempts)
		if n.cfg.Observer != nil {
			n.cfg.Observer.DeadLettered(del.Target)
		}
		return river.JobCancel(err)
	}
	// Per-hostname order: wait while an older directive for one of these
	// hostnames is still pending to the same target.
	// Driven from this directive's hostnames through the (hostname, version)
	// index, so the check costs the same with 10 or 10,000 deliveries waiting.
	var older int64
	err := db.Raw(`SELECT COUNT(*) FROM (SELECT 1 FROM directive_hosts mine
		JOIN directive_hosts theirs ON theirs.hostname = mine.hostname AND theirs.version < mine.version
		JOIN deliveries ON deliveries.directive_id = theirs.directive_id AND deliveries.target = ? AND deliveries.state = 'pending'
		WHERE mine.directive_id = ? LIMIT 1) AS blocking`, del.Target, dir.ID).Scan(&older).Error
	if err != nil {
		return err
	}
	if older > 0 {
		return river.JobSnooze(500 * time.Millisecond)
	}
	p, err := NewPayload(&dir)
	if err != nil {
		return river.JobCancel(err)
	}
	start := time.Now()
	status, sendErr := n.sender.send(ctx, del.Target, p)
	at := n.now().UTC()
	a := Attempt{DeliveryID: del.ID, At: at, HTTPStatus: status, DurationMS: time.Since(start).Milliseconds()}
	upd := map[string]any{"attempts": del.Attempts + 1, "last_status": status, "last_attempt_at": at}
	if sendErr != nil {
		a.Error = truncate(sendErr.Error(), 500)
		upd["last_error"] = a.Error
	} else {
		upd["state"], upd["delivered_at"], upd["last_error"] = "delivered", at, ""
	}
	if err := db.Create(&a).Error; err != nil {
		return err
	}
	if err := db.Model(&del).Updates(upd).Error; err != nil {
		return err
	}
	if sendErr != nil {
		return sendErr // River retries with backoff
	}
	if n.cfg.Observer != nil {
		n.cfg.Observer.Delivered(del.Target, at.Sub(del.CreatedAt))
	}
	if del.Attempts > 0 {
		// This target just recovered: wake the deliveries waiting on a retry
		// timer rather than let each sleep out its backoff.
		n.wakeTarget(ctx, del.Target)
	}
	if del.Attempts == 0 {
		n.log.DebugContext(ctx, "directive delivered", "directive", dir.ID, "target", del.Target, "version", dir.Version)
	}
	return nil
}

// wakeTarget makes the retryable delivery jobs of a target available now, at
// most once every few seconds per target (every recovered delivery would ask).
func (n *Notifier) wakeTarget(ctx context.Context, target string) {
	n.wakeMu.Lock()
	if last, ok := n.woken[target]; ok && time.Since(last) < 5*time.Second {
		n.wakeMu.Unlock()
		return
	}
	n.woken[target] = time.Now()
	n.wakeMu.Unlock()
	var ids []int64
	err := n.db.W.WithContext(ctx).Model(&Delivery{}).
		Where("target = ? AND state = 'pending' AND attempts > 0 AND job_id <> 0", target).
		Order("id").Limit(10000).Pluck("job_id", &ids).Error
	if err != nil {
		n.log.Warn("wake deliveries", "target", target, "err", err)
		return
	}
	for _, id := range ids {
		// A job that is running or already available is left as it is.
		_, _ = n.river.JobRetry(ctx, id)
	}
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}
