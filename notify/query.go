package notify

import (
	"context"

	"github.com/dockethq/docket/cases"
	"github.com/dockethq/docket/internal/database"
)

// DirectiveView is a directive with its deliveries, for the deliveries page.
type DirectiveView struct {
	Directive  cases.Directive
	Hostname   string // the case's hostname
	Deliveries []Delivery
}

// Recent lists the newest directives (optionally only those with a delivery in
// state), with their deliveries.
func Recent(ctx context.Context, db *database.DB, state string, limit int) ([]DirectiveView, error) {
	q := db.R.WithContext(ctx).Model(&cases.Directive{})
	if state != "" {
		q = q.Where("EXISTS (SELECT 1 FROM deliveries WHERE deliveries.directive_id = directives.id AND deliveries.state = ?)", state)
	}
	var ds []cases.Directive
	if err := q.Order("issued_at DESC, id DESC").Limit(limit).Find(&ds).Error; err != nil {
		return nil, err
	}
	out := make([]DirectiveView, 0, len(ds))
	for _, d := range ds {
		v := DirectiveView{Directive: d}
		if err := db.R.WithContext(ctx).Where("directive_id = ?", d.ID).Order("id").Find(&v.Deliveries).Error; err != nil {
			return nil, err
		}
		db.R.WithContext(ctx).Table("cases").Select("hostname").Where("id = ?", d.CaseID).Scan(&v.Hostname)
		out = append(out, v)
	}
	return out, nil
}

// Attempts lists a delivery's attempts, oldest first.
func Attempts(ctx context.Context, db *database.DB, deliveryID int64) ([]Attempt, error) {
	var as []Attempt
	err := db.R.WithContext(ctx).Where("delivery_id = ?", deliveryID).Order("id").Find(&as).Error
	return as, err
}

// DeadCount counts dead-lettered deliveries, for the header badge.
func DeadCount(ctx context.Context, db *database.DB) (int64, error) {
	var n int64
	err := db.R.WithContext(ctx).Model(&Delivery{}).Where("state = 'dead'").Count(&n).Error
	return n, err
}
