package policy_test

import (
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/dockethq/docket/internal/database"
	"github.com/dockethq/docket/policy"
)

// newEnforcer opens an enforcer on db.
func newEnforcer(t *testing.T, db *database.DB) *policy.Enforcer {
	t.Helper()
	en, err := policy.NewEnforcer(db)
	if err != nil {
		t.Fatal(err)
	}
	return en
}

// setRoles gives user exactly roles in one transaction, as the admin pages do,
// and reloads en, the instance that made the change.
func setRoles(t *testing.T, db *database.DB, en *policy.Enforcer, user int64, roles ...string) {
	t.Helper()
	err := db.W.Transaction(func(tx *gorm.DB) error {
		return policy.SetUserRoles(tx, time.Now(), "test", user, roles)
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := en.Reload(); err != nil {
		t.Fatal(err)
	}
}
