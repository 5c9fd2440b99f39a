// Package secrets keeps the keys Docket makes for itself — the HMAC key of
// signed links, the form challenge key — in the database, so every instance on
// one database signs and verifies with the same key and nothing needs to be
// configured. Operators who want to rotate a key delete its row; links signed
// with the old key stop working, which is the point of rotating.
package secrets

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/dockethq/docket/internal/database"
)

// Size is the length of a generated key: 256 bits, the HMAC-SHA256 block-safe size.
const Size = 32

type row struct {
	Name      string `gorm:"primaryKey"`
	Value     []byte
	CreatedAt time.Time
}

func (row) TableName() string { return "app_secrets" }

// Get returns the key called name, creating a random one the first time. Two
// instances starting at once both insert with ON CONFLICT DO NOTHING and then
// read the row that won, so they always agree.
func Get(ctx context.Context, db *database.DB, name string) ([]byte, error) {
	if name == "" {
		return nil, errors.New("secrets: empty name")
	}
	key := make([]byte, Size)
	if _, err := rand.Read(key); err != nil {
		return nil, err
	}
	w := db.W.WithContext(ctx)
	err := w.Clauses(clause.OnConflict{DoNothing: true}).
		Create(&row{Name: name, Value: key, CreatedAt: time.Now().UTC()}).Error
	if err != nil {
		return nil, fmt.Errorf("secrets: store %s: %w", name, err)
	}
	var r row
	if err := w.Take(&r, "name = ?", name).Error; err != nil {
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return nil, fmt.Errorf("secrets: %s vanished after insert", name)
		}
		return nil, fmt.Errorf("secrets: load %s: %w", name, err)
	}
	if len(r.Value) < Size {
		return nil, fmt.Errorf("secrets: %s is %d bytes, want at least %d", name, len(r.Value), Size)
	}
	return r.Value, nil
}
