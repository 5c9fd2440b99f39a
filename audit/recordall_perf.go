package audit

// Temporary stand-in (branch perf) for the hash-chained RecordAll of branch
// chain, with its signature; replaced by that one at merge.

import (
	"fmt"

	"gorm.io/gorm"
)

// RecordAll appends evs inside tx in one statement, in order. Details must
// already be JSON ("" is stored as {}); At is stored in UTC.
func RecordAll(tx *gorm.DB, evs []Event) error {
	if len(evs) == 0 {
		return nil
	}
	for i := range evs {
		evs[i].At = evs[i].At.UTC()
		if evs[i].Details == "" {
			evs[i].Details = "{}"
		}
	}
	if err := tx.Create(&evs).Error; err != nil {
		return fmt.Errorf("audit %d events: %w", len(evs), err)
	}
	return nil
}
