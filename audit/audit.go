// Package audit records every change Docket makes as an append-only event, written
// in the same transaction as the change itself so neither can exist without the other.
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
	e := Event{At: at.UTC(), Actor: actor, Action: action, ObjectType: objectType, ObjectID: objectID, Details: d}
	if err := tx.Create(&e).Error; err != nil {
		return fmt.Errorf("audit %s: %w", action, err)
	}
	return nil
}

// ForObject lists the events about one object, oldest first.
func ForObject(ctx context.Context, db *gorm.DB, objectType, objectID string) ([]Event, error) {
	var evs []Event
	err := db.WithContext(ctx).Where("object_type = ? AND object_id = ?", objectType, objectID).Order("id").Find(&evs).Error
	return evs, err
}
