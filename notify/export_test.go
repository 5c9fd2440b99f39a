package notify

import (
	"context"
)

// RetryJobsOfKind makes every job of kind available now, as if its time had
// come (tests of scheduled jobs).
func (n *Notifier) RetryJobsOfKind(ctx context.Context, kind string) (int, error) {
	var ids []int64
	if err := n.db.R.WithContext(ctx).Table("river_job").Where("kind = ?", kind).Pluck("id", &ids).Error; err != nil {
		return 0, err
	}
	for _, id := range ids {
		if _, err := n.river.JobRetry(ctx, id); err != nil {
			return 0, err
		}
	}
	return len(ids), nil
}
