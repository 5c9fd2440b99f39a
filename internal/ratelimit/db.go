package ratelimit

import (
	"context"
	"sync/atomic"
	"time"

	"github.com/dockethq/docket/internal/database"
	"gorm.io/gorm"
)

// DB is a Store in the rate_limits table (migration 00017), shared by every
// Docket instance on the same database. An allowed request costs one UPSERT;
// a refused one a second read, for Retry-After.
type DB struct {
	db    *database.DB
	calls atomic.Uint64
}

// NewDB returns a Store on db.
func NewDB(db *database.DB) *DB { return &DB{db: db} }

// sweepEvery is how many requests pass between deletions of keys whose TAT has
// passed (such a key is the same as an absent one).
const sweepEvery = 1000

// Allow implements Store.
func (s *DB) Allow(ctx context.Context, key string, l Limit, now time.Time) (Decision, error) {
	if l.Off() {
		return Decision{Allowed: true}, nil
	}
	greatest := "GREATEST"
	if s.db.Dialect == database.SQLite {
		greatest = "MAX"
	}
	us := now.UnixMicro()
	T, tol := l.interval().Microseconds(), l.tolerance().Microseconds()
	db := s.db.W.WithContext(ctx)
	if s.calls.Add(1)%sweepEvery == 0 {
		if err := db.Exec("DELETE FROM rate_limits WHERE tat < ?", us).Error; err != nil {
			return Decision{}, err
		}
	}
	// The first request of a key is always allowed (a burst is at least one).
	var tats []int64
	upsert := func(tx *gorm.DB) error {
		return tx.Raw(`INSERT INTO rate_limits (key, tat) VALUES (?, ?)
		ON CONFLICT (key) DO UPDATE SET tat = `+greatest+`(rate_limits.tat, ?) + ?
		WHERE `+greatest+`(rate_limits.tat, ?) + ? - ? <= ?
		RETURNING tat`, key, us+T, us, T, us, T, us, tol).Scan(&tats).Error
	}
	var err error
	if s.db.Dialect == database.Postgres {
		// Every allowed request writes here; waiting for its WAL flush would
		// add a disk sync to each one. A counter lost in a crash costs a client
		// a few extra requests, nothing else, so this commit does not wait
		// (synchronous_commit = off for this transaction only; other
		// transactions' durability is unchanged).
		err = db.Transaction(func(tx *gorm.DB) error {
			if err := tx.Exec("SET LOCAL synchronous_commit = off").Error; err != nil {
				return err
			}
			return upsert(tx)
		})
	} else {
		err = upsert(db)
	}
	if err != nil {
		return Decision{}, err
	}
	if len(tats) == 1 {
		return Decision{Allowed: true}, nil
	}
	var tat int64
	if err := db.Raw("SELECT tat FROM rate_limits WHERE key = ?", key).Scan(&tat).Error; err != nil {
		return Decision{}, err
	}
	_, d := gcra(time.UnixMicro(tat), now, l)
	if d.Allowed { // the TAT moved back in the meantime (a sweep): try again later, briefly
		d = Decision{RetryAfter: time.Second}
	}
	return d, nil
}
