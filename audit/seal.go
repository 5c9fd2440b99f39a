package audit

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"gorm.io/gorm"
)

// PendingGrace is how long a committed event on PostgreSQL may wait for its
// seal before Verify counts it as a fault rather than as work in progress. A
// serving instance seals about once a second, so minutes mean no sealer ran.
const PendingGrace = 5 * time.Minute

// sealBatch bounds one sealing transaction: the head's lock is held for one
// batch, never for a whole backlog.
const sealBatch = 5000

// Seal chains the committed events still waiting for their place in the
// chain (PostgreSQL; elsewhere events are chained as they are written) and
// returns how many it chained. It runs audit_chain_seal (migration 00041) in
// transactions of sealBatch rows until none are left. Safe to call from any
// number of instances at once: they take turns on the head's row lock.
func Seal(ctx context.Context, db *gorm.DB) (int64, error) {
	if db.Dialector.Name() != "postgres" {
		return 0, nil
	}
	var total int64
	for {
		var n int64
		if err := db.WithContext(ctx).Raw(`SELECT audit_chain_seal(?)`, sealBatch).Scan(&n).Error; err != nil {
			return total, fmt.Errorf("seal the audit chain: %w", err)
		}
		total += n
		if n < sealBatch {
			return total, nil
		}
	}
}

// pendingWhere selects the events waiting for Seal. The second clause
// repeats the partial index's predicate (audit_events_unchained_idx), so the
// index serves the query however long the log; audit_chain_seal (migration
// 00041) selects the same rows.
const pendingWhere = `seq = -1 AND (seq IS NULL OR seq <= 0)`

// Unsealed counts the committed events waiting for Seal and says how long the
// oldest has waited (by stored_at, the database's clock). Zero on SQLite,
// which chains as it writes.
func Unsealed(ctx context.Context, db *gorm.DB) (n int64, oldestID int64, age time.Duration, err error) {
	if db.Dialector.Name() != "postgres" {
		return 0, 0, 0, nil
	}
	var row struct {
		ID  int64
		N   int64
		Age float64
	}
	err = db.WithContext(ctx).Raw(`SELECT COALESCE(MIN(id), 0) AS id, COUNT(*) AS n, COALESCE(EXTRACT(EPOCH FROM clock_timestamp() - MIN(stored_at)), 0) AS age
		FROM audit_events WHERE ` + pendingWhere).Scan(&row).Error
	if err != nil {
		return 0, 0, 0, fmt.Errorf("count unsealed audit events: %w", err)
	}
	return row.N, row.ID, time.Duration(max(0, row.Age) * float64(time.Second)), nil
}

// Seal is Seal on the chain's database.
func (c *Chain) Seal(ctx context.Context) (int64, error) { return Seal(ctx, c.db.W) }

// RunSealer seals every interval until ctx ends (PostgreSQL; it returns at
// once elsewhere). Failures are logged and retried at the next tick: events
// wait, committed, and nothing is lost.
func RunSealer(ctx context.Context, db *gorm.DB, every time.Duration, log *slog.Logger) {
	if db.Dialector.Name() != "postgres" {
		return
	}
	t := time.NewTicker(every)
	defer t.Stop()
	failing := false
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		n, err := Seal(ctx, db)
		switch {
		case err != nil && ctx.Err() == nil:
			if !failing {
				log.Error("audit sealer", "err", err)
			}
			failing = true
		case err == nil:
			if failing {
				log.Info("audit sealer recovered", "sealed", n)
			}
			failing = false
		}
	}
}
