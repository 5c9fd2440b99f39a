package cases

import (
	"context"
	"errors"
	"strconv"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/dockethq/docket/audit"
)

// Timer-driven work on cases. These are sweeps over the database, run by a
// timer (notify.Timer, on one instance at a time): each finds what is due,
// changes it in a transaction that first re-checks it under a row lock, and
// audits it. A sweep that runs twice, or on two instances at once after a
// leader change, therefore changes each item once.

// sweepBatch bounds one sweep; the rest waits for the next tick.
const sweepBatch = 500

// ExpireLeases gives back the claims whose lease has lapsed, so the queue
// shows the case as free and a lapsed holder is no longer named on it. A lapsed
// claim is already no claim (anyone may take the case), so this changes what
// people see, not what they may do. Each release is audited as
// case.lease_expired by "system" and bumps the case version, so an open case
// page notices. It returns how many leases it released.
func (s *Service) ExpireLeases(ctx context.Context) (int, error) {
	now := s.now().UTC()
	var ids []int64
	err := s.db.R.WithContext(ctx).Model(&Case{}).
		Where("assignee_id IS NOT NULL AND claim_expires_at < ? AND state IN ?", now, openStates()).
		Order("claim_expires_at, id").Limit(sweepBatch).Pluck("id", &ids).Error
	if err != nil {
		return 0, err
	}
	n := 0
	for _, id := range ids {
		done, err := s.expireLease(ctx, id, now)
		if err != nil {
			return n, err
		}
		if done {
			n++
		}
	}
	return n, nil
}

// expireLease releases one lapsed claim if it is still lapsed under the row
// lock (the holder may have renewed it, or another sweep released it).
func (s *Service) expireLease(ctx context.Context, id int64, now time.Time) (bool, error) {
	done := false
	err := s.db.W.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var c Case
		if err := tx.Clauses(clause.Locking{Strength: "UPDATE"}).Take(&c, id).Error; err != nil {
			if errors.Is(err, gorm.ErrRecordNotFound) {
				return nil
			}
			return err
		}
		if c.AssigneeID == nil || c.ClaimExpiresAt == nil || !c.ClaimExpiresAt.Before(now) || !c.State.Open() {
			return nil
		}
		holder, until := *c.AssigneeID, c.ClaimExpiresAt.UTC()
		res := tx.Model(&Case{}).Where("id = ? AND version = ?", c.ID, c.Version).Updates(map[string]any{
			"assignee_id": nil, "claim_expires_at": nil, "version": c.Version + 1, "updated_at": now,
		})
		if res.Error != nil || res.RowsAffected != 1 {
			return res.Error
		}
		done = true
		return audit.Record(tx, now, "system", "case.lease_expired", "case", strconv.FormatInt(c.ID, 10),
			map[string]any{"assignee": holder, "lease_ended_at": until.Format(time.RFC3339)})
	})
	return done, err
}

func openStates() []State {
	var out []State
	for _, st := range States {
		if st.Open() {
			out = append(out, st)
		}
	}
	return out
}

// FlagOverdueEmergencies records each emergency restriction that passed its
// sign-off deadline unratified, once: decisions.overdue_flagged_at and an
// audit event decision.signoff_overdue by "system" on the case, at the time
// the deadline was found passed (the banner on every page says so meanwhile).
// It returns how many it flagged.
func (s *Service) FlagOverdueEmergencies(ctx context.Context) (int, error) {
	now := s.now().UTC()
	due := "emergency = ? AND status = 'final' AND ratified_at IS NULL AND signoff_due_at < ? AND overdue_flagged_at IS NULL"
	var ids []int64
	err := s.db.R.WithContext(ctx).Model(&Decision{}).Where(due, true, now).
		Order("signoff_due_at, id").Limit(sweepBatch).Pluck("id", &ids).Error
	if err != nil {
		return 0, err
	}
	n := 0
	for _, id := range ids {
		flagged := false
		err := s.db.W.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
			var d Decision
			if err := tx.Clauses(clause.Locking{Strength: "UPDATE"}).Where(due, true, now).Take(&d, id).Error; err != nil {
				if errors.Is(err, gorm.ErrRecordNotFound) {
					return nil // ratified, rejected or flagged meanwhile
				}
				return err
			}
			if err := tx.Model(&Decision{}).Where("id = ?", d.ID).Update("overdue_flagged_at", now).Error; err != nil {
				return err
			}
			flagged = true
			return audit.Record(tx, now, "system", "decision.signoff_overdue", "case", strconv.FormatInt(d.CaseID, 10),
				map[string]any{"decision": d.ID, "signoff_due_at": d.SignoffDueAt.UTC().Format(time.RFC3339)})
		})
		if err != nil {
			return n, err
		}
		if flagged {
			n++
		}
	}
	return n, nil
}
