// Package audit records every change Docket makes as an append-only event, written
// in the same transaction as the change itself so neither can exist without the other.
//
// The events form a hash chain (chain.go): each carries its place in the log
// (seq), the previous event's hash and its own hash over every stored field, so
// editing, deleting or inserting a row directly in the database breaks the
// chain where it happened, and Verify names the event.
package audit

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"gorm.io/gorm"
)

// Event is one audit record.
type Event struct {
	ID         int64
	At         time.Time
	Actor      string // user:<id>, reporter:<id>, system
	Action     string // e.g. report.filed, case.opened, user.created
	ObjectType string
	ObjectID   string
	Details    string // JSON object
	Seq        int64  // place in the chain, from 1; set by Record
	PrevHash   string // hex SHA-256 of the event before ("" for seq 1); set by Record
	Hash       string // hex SHA-256 of PrevHash and this event's fields; set by Record
}

func (Event) TableName() string { return "audit_events" }

// Record appends an event inside tx. details is marshalled to JSON; pass nil for none.
func Record(tx *gorm.DB, at time.Time, actor, action, objectType, objectID string, details any) error {
	d := "{}"
	if details != nil {
		b, err := json.Marshal(details)
		if err != nil {
			return fmt.Errorf("audit %s: %w", action, err)
		}
		d = string(b)
	}
	evs := []Event{{At: at, Actor: actor, Action: action, ObjectType: objectType, ObjectID: objectID, Details: d}}
	if err := RecordAll(tx, evs); err != nil {
		return fmt.Errorf("audit %s: %w", action, err)
	}
	return nil
}

// RecordAll appends evs, in order, inside tx: one lock of the chain head and
// one multi-row insert for all of them, for callers that write many events in
// one transaction (group commit). RecordAll sets each event's ID, and on
// SQLite its Seq, PrevHash and Hash (values given are ignored); on PostgreSQL
// those three are given by Seal after the transaction commits (seal.go says
// why) and Seq reads -1 until then. At is stored in UTC truncated to microseconds, the precision both
// databases keep; an empty Details is stored as "{}".
func RecordAll(tx *gorm.DB, evs []Event) error {
	if len(evs) == 0 {
		return nil
	}
	if _, inTx := tx.Statement.ConnPool.(gorm.TxCommitter); !inTx {
		// The head update and the insert must commit together, or a crash
		// between them would leave a gap that reads as tampering.
		return tx.Transaction(func(tx *gorm.DB) error { return appendEvents(tx, evs) })
	}
	return appendEvents(tx, evs)
}

// ForObject lists the events about one object, oldest first.
func ForObject(ctx context.Context, db *gorm.DB, objectType, objectID string) ([]Event, error) {
	var evs []Event
	err := db.WithContext(ctx).Where("object_type = ? AND object_id = ?", objectType, objectID).Order("id").Find(&evs).Error
	return evs, err
}
