package policy_test

import (
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/dockethq/docket/internal/database"
	"github.com/dockethq/docket/internal/testdb"
	"github.com/dockethq/docket/policy"
)

// Allowed remembers its answers, but a Reload (a role granted or taken away)
// is followed at once, both ways.
func TestAllowedFollowsReload(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		en, err := policy.NewEnforcer(db)
		if err != nil {
			t.Fatal(err)
		}
		const user = 4343
		sub := policy.Subject(user)
		allowed := func() bool {
			t.Helper()
			ok, err := en.Allowed(sub, "/admin/policy", "POST")
			if err != nil {
				t.Fatal(err)
			}
			return ok
		}
		setRoles := func(roles ...string) {
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
		for range 2 { // the second answer comes from the memo
			if allowed() {
				t.Fatal("allowed before any role")
			}
		}
		setRoles(policy.Admin)
		for range 2 {
			if !allowed() {
				t.Fatal("not allowed after the admin role was granted and reloaded")
			}
		}
		setRoles(policy.Reviewer)
		for range 2 {
			if allowed() {
				t.Fatal("still allowed after the admin role was taken away and reloaded")
			}
		}
	})
}
