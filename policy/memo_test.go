package policy_test

import (
	"testing"

	"github.com/dockethq/docket/internal/database"
	"github.com/dockethq/docket/internal/testdb"
	"github.com/dockethq/docket/policy"
)

// Allowed remembers its answers, but a Reload (a role granted or taken away)
// is followed at once, both ways.
func TestAllowedFollowsReload(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		en := newEnforcer(t, db)
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
		for range 2 { // the second answer comes from the memo
			if allowed() {
				t.Fatal("allowed before any role")
			}
		}
		setRoles(t, db, en, user, policy.Admin)
		for range 2 {
			if !allowed() {
				t.Fatal("not allowed after the admin role was granted and reloaded")
			}
		}
		setRoles(t, db, en, user, policy.Reviewer)
		for range 2 {
			if allowed() {
				t.Fatal("still allowed after the admin role was taken away and reloaded")
			}
		}
	})
}
