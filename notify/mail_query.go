package notify

import (
	"context"
	"errors"

	"gorm.io/gorm"

	"github.com/dockethq/docket/internal/database"
	"github.com/dockethq/docket/internal/errs"
)

// NoticeStates lists the states a notice can be in, for filters.
var NoticeStates = []string{"pending", "sent", "dead"}

// Notices lists the newest notices, optionally only those in state.
func Notices(ctx context.Context, db *database.DB, state string, limit int) ([]Notice, error) {
	q := db.R.WithContext(ctx).Model(&Notice{})
	if state != "" {
		q = q.Where("state = ?", state)
	}
	var ns []Notice
	err := q.Order("created_at DESC, id DESC").Limit(limit).Find(&ns).Error
	return ns, err
}

// GetNotice returns one notice.
func GetNotice(ctx context.Context, db *database.DB, id int64) (*Notice, error) {
	var no Notice
	err := db.R.WithContext(ctx).Take(&no, id).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, errs.E(errs.NotFound, "There is no such notice.")
	}
	if err != nil {
		return nil, err
	}
	return &no, nil
}
