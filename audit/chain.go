package audit

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"strconv"
	"time"

	"gorm.io/gorm"
)

// Log is the name of the one chain Docket keeps (the audit_events table). The
// head and checkpoint tables are keyed by log so another append-only log can
// get its own chain without a schema change.
const Log = "audit_events"

// hashVersion starts every hashed encoding; a change of encoding gets a new
// version so old and new rows stay verifiable side by side.
const hashVersion = "docket-audit-event-v1"

// timeLayout is how At enters the hash: UTC with nine fraction digits, so a
// value reads back the same from SQLite (which keeps what it was given) and
// PostgreSQL (microseconds); Record truncates to microseconds before storing.
const timeLayout = "2006-01-02T15:04:05.000000000Z"

// ErrNoHead means the chain's head row is missing: the schema predates the
// chain (run docket migrate up) or the row was deleted.
var ErrNoHead = errors.New("audit chain head missing (run: docket migrate up)")

// HashEvent is the hash of e given the previous event's hash: SHA-256 over a
// versioned encoding of prev and every stored field, each length-prefixed so no
// two different events encode alike. Exported for offline verifiers and tests.
func HashEvent(prev string, e Event) string {
	h := sha256.New()
	field := func(h hash.Hash, s string) {
		var n [8]byte
		binary.BigEndian.PutUint64(n[:], uint64(len(s)))
		h.Write(n[:])
		h.Write([]byte(s))
	}
	field(h, hashVersion)
	field(h, prev)
	field(h, strconv.FormatInt(e.ID, 10))
	field(h, strconv.FormatInt(e.Seq, 10))
	field(h, e.At.UTC().Format(timeLayout))
	field(h, e.Actor)
	field(h, e.Action)
	field(h, e.ObjectType)
	field(h, e.ObjectID)
	field(h, e.Details)
	return hex.EncodeToString(h.Sum(nil))
}

// head is the chain's head row.
type head struct {
	Seq         int64
	Hash        string
	LegacyUntil int64
}

// appendEvents chains and inserts evs inside tx. On SQLite it moves the head
// and hashes here. On PostgreSQL it inserts them pending (seq = -1) and Seal
// chains them after they commit (seal.go): holding the head's row lock in the
// writer's transaction, or even only in its COMMIT, makes every audited
// commit across all instances wait for the one before it.
func appendEvents(tx *gorm.DB, evs []Event) error {
	for i := range evs {
		e := &evs[i]
		e.At = e.At.UTC().Truncate(time.Microsecond)
		if e.Details == "" {
			e.Details = "{}"
		}
	}
	if tx.Dialector.Name() == "postgres" {
		// Chained after commit by Seal (migration 00041): seq = -1 marks
		// the row pending, and ID comes back from the insert.
		for i := range evs {
			evs[i].ID, evs[i].Seq, evs[i].PrevHash, evs[i].Hash = 0, -1, "", ""
		}
		return tx.Create(&evs).Error
	}
	n := int64(len(evs))
	var row struct {
		Seq    int64
		Hash   string
		NextID int64
	}
	for attempt := 0; ; attempt++ {
		// SQLite has one writer: this transaction holds the database from its
		// BEGIN IMMEDIATE to its commit, so the head and MAX(id) stay put.
		res := tx.Raw(`UPDATE audit_chain SET seq = seq + ? WHERE log = ? AND legacy_until = 0
			RETURNING seq, hash, (SELECT COALESCE(MAX(id), 0) + 1 FROM audit_events) AS next_id`, n, Log).Scan(&row)
		if res.Error != nil {
			return fmt.Errorf("lock the audit chain: %w", res.Error)
		}
		if res.RowsAffected == 1 {
			break
		}
		if attempt > 0 {
			return ErrNoHead
		}
		// Either no head, or rows from before the chain are still unchained
		// (a process started without migrating): chain them first, here.
		if err := chainLegacyAll(tx); err != nil {
			return err
		}
	}
	prev := row.Hash
	seq := row.Seq - n
	for i := range evs {
		e := &evs[i]
		seq++
		e.ID, e.Seq, e.PrevHash = row.NextID+int64(i), seq, prev
		e.Hash = HashEvent(prev, *e)
		prev = e.Hash
	}
	if err := tx.Exec(`UPDATE audit_chain SET hash = ? WHERE log = ?`, prev, Log).Error; err != nil {
		return fmt.Errorf("move the audit chain head: %w", err)
	}
	return tx.Create(&evs).Error
}

// legacyBatch is how many pre-chain rows one transaction of ChainLegacy chains.
const legacyBatch = 2000

// ChainLegacy chains the events written before the chain existed (migration
// 00035 recorded the largest id then), once, in id order, in transactions of
// legacyBatch rows so a large log neither holds one huge transaction nor
// starts over after a crash. migrations.Up runs it; it returns at once when
// there is nothing to do. It returns how many rows it chained.
func ChainLegacy(ctx context.Context, db *gorm.DB) (int64, error) {
	var total int64
	for {
		var done bool
		var n int64
		err := db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
			var err error
			n, done, err = chainLegacyBatch(tx)
			return err
		})
		total += n
		if err != nil || done {
			return total, err
		}
	}
}

// chainLegacyAll is ChainLegacy inside a caller's transaction.
func chainLegacyAll(tx *gorm.DB) error {
	for {
		_, done, err := chainLegacyBatch(tx)
		if err != nil || done {
			return err
		}
	}
}

func chainLegacyBatch(tx *gorm.DB) (int64, bool, error) {
	var h head
	// A no-op update to take the head's lock before reading it.
	res := tx.Raw(`UPDATE audit_chain SET seq = seq WHERE log = ? RETURNING seq, hash, legacy_until`, Log).Scan(&h)
	if res.Error != nil {
		return 0, false, fmt.Errorf("lock the audit chain: %w", res.Error)
	}
	if res.RowsAffected == 0 {
		return 0, false, ErrNoHead
	}
	if h.LegacyUntil == 0 {
		return 0, true, nil
	}
	var evs []Event
	if err := tx.Where("seq IS NULL AND id <= ?", h.LegacyUntil).Order("id").Limit(legacyBatch).Find(&evs).Error; err != nil {
		return 0, false, fmt.Errorf("read legacy audit events: %w", err)
	}
	prev, seq := h.Hash, h.Seq
	for i := range evs {
		e := &evs[i]
		seq++
		e.Seq, e.PrevHash = seq, prev
		e.Hash = HashEvent(prev, *e) // At and Details exactly as read back
		prev = e.Hash
		if err := tx.Exec(`UPDATE audit_events SET seq = ?, prev_hash = ?, hash = ? WHERE id = ?`, e.Seq, e.PrevHash, e.Hash, e.ID).Error; err != nil {
			return 0, false, fmt.Errorf("chain legacy audit event %d: %w", e.ID, err)
		}
	}
	legacy := h.LegacyUntil
	done := len(evs) < legacyBatch
	if done {
		legacy = 0
	}
	if err := tx.Exec(`UPDATE audit_chain SET seq = ?, hash = ?, legacy_until = ? WHERE log = ?`, seq, prev, legacy, Log).Error; err != nil {
		return 0, false, fmt.Errorf("move the audit chain head: %w", err)
	}
	return int64(len(evs)), done, nil
}
