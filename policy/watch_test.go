package policy_test

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/dockethq/docket/internal/database"
	"github.com/dockethq/docket/internal/testdb"
	"github.com/dockethq/docket/policy"
)

// A role granted through one instance, or by anything else that writes
// casbin_rule, reaches another instance's cache through Watch, and so does
// taking it away again.
func TestWatchFollowsChangesMadeElsewhere(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		here, there := newEnforcer(t, db), newEnforcer(t, db)
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		go there.Watch(ctx, 20*time.Millisecond, slog.New(slog.NewTextHandler(io.Discard, nil)))

		const user = 4242
		waitFor := func(want bool) {
			t.Helper()
			deadline := time.Now().Add(10 * time.Second)
			for there.HasRole(user, policy.Admin) != want {
				if time.Now().After(deadline) {
					t.Fatalf("the other instance still says admin=%v after 10 s (version %d)", !want, there.Version())
				}
				time.Sleep(10 * time.Millisecond)
			}
		}
		v0 := there.Version()
		setRoles(t, db, here, user, policy.Admin)
		if !here.HasRole(user, policy.Admin) {
			t.Fatal("the changing instance does not see its own change")
		}
		waitFor(true)
		if there.Version() <= v0 {
			t.Errorf("version did not move: %d → %d", v0, there.Version())
		}
		setRoles(t, db, here, user, policy.Reviewer)
		waitFor(false)
		if !there.HasRole(user, policy.Reviewer) {
			t.Error("the new role did not arrive")
		}
		// Raw SQL, as an operator would type it, is noticed too.
		if err := db.W.Exec("DELETE FROM casbin_rule WHERE v0 = 'user:4242'").Error; err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(10 * time.Second)
		for there.HasRole(user, policy.Reviewer) {
			if time.Now().After(deadline) {
				t.Fatal("a deletion by SQL never reached the cache")
			}
			time.Sleep(10 * time.Millisecond)
		}
	})
}
