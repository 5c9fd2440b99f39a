package apikeys

import (
	"context"
	"errors"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/dockethq/docket/internal/errs"
)

// MaxIdempotencyKey bounds an Idempotency-Key header.
const MaxIdempotencyKey = 255

type idempotencyRow struct {
	APIKeyID    int64  `gorm:"primaryKey;autoIncrement:false"`
	Key         string `gorm:"primaryKey"`
	RequestHash string
	Status      int
	Response    string
	CreatedAt   time.Time
}

func (idempotencyRow) TableName() string { return "idempotency_keys" }

// Stored is the first response given to an idempotency key.
type Stored struct {
	Status   int
	Response string
}

// ErrIdempotencyMismatch answers a key reused with a different request.
var ErrIdempotencyMismatch = errs.E(errs.Invalid, "Idempotency-Key reused with a different request.")

// ErrIdempotencyInFlight answers a key whose first request is still running.
var ErrIdempotencyInFlight = errs.E(errs.Conflict, "A request with this Idempotency-Key is still being processed; retry in a moment.")

// BeginIdempotent claims (apiKeyID, key) for a request whose body hashes to
// requestHash. It returns the stored first response when the same request was
// already answered (the caller replays it), nil when the caller now owns the
// key and must call FinishIdempotent or AbortIdempotent, ErrIdempotencyMismatch
// for a different request under the same key, and ErrIdempotencyInFlight while
// the first request is still running.
func (s *Service) BeginIdempotent(ctx context.Context, apiKeyID int64, key, requestHash string) (*Stored, error) {
	row := idempotencyRow{APIKeyID: apiKeyID, Key: key, RequestHash: requestHash, CreatedAt: s.now().UTC()}
	res := s.db.W.WithContext(ctx).Clauses(clause.OnConflict{DoNothing: true}).Create(&row)
	if res.Error != nil {
		return nil, res.Error
	}
	if res.RowsAffected == 1 {
		return nil, nil
	}
	var prev idempotencyRow
	err := s.db.W.WithContext(ctx).Where("api_key_id = ? AND key = ?", apiKeyID, key).Take(&prev).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, ErrIdempotencyInFlight // aborted just now; a retry will claim it
	}
	if err != nil {
		return nil, err
	}
	switch {
	case prev.RequestHash != requestHash:
		return nil, ErrIdempotencyMismatch
	case prev.Status == 0:
		return nil, ErrIdempotencyInFlight
	}
	return &Stored{Status: prev.Status, Response: prev.Response}, nil
}

// FinishIdempotent stores the response to replay for (apiKeyID, key).
func (s *Service) FinishIdempotent(ctx context.Context, apiKeyID int64, key string, status int, response string) error {
	return s.db.W.WithContext(ctx).Model(&idempotencyRow{}).Where("api_key_id = ? AND key = ?", apiKeyID, key).
		Updates(map[string]any{"status": status, "response": response}).Error
}

// AbortIdempotent releases a key whose request failed without an answer worth
// replaying (an internal error), so a retry runs again.
func (s *Service) AbortIdempotent(ctx context.Context, apiKeyID int64, key string) error {
	return s.db.W.WithContext(ctx).Where("api_key_id = ? AND key = ? AND status = 0", apiKeyID, key).Delete(&idempotencyRow{}).Error
}
