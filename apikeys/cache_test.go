package apikeys_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/dockethq/docket/apikeys"
	"github.com/dockethq/docket/internal/database"
	"github.com/dockethq/docket/internal/testdb"
	"github.com/dockethq/docket/policy"
)

// Keys are read again from the database at most every apikeys.CacheFor, but
// a revoked key stops working at once on every Service of the process (the
// server and the admin pages may hold different ones), its neighbours keep
// working, and a copy older than CacheFor is read anew.
func TestRevokedKeyStopsWorkingDespiteTheCache(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		var mu sync.Mutex
		at := time.Now()
		clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return at }
		advance := func(d time.Duration) { mu.Lock(); at = at.Add(d); mu.Unlock() }
		en, err := policy.NewEnforcer(db)
		if err != nil {
			t.Fatal(err)
		}
		a := apikeys.NewService(db, en, clock)
		b := apikeys.NewService(db, en, clock) // another instance
		f, err := a.CreateFlagger(ctx, "user:1", "Unit", "unit@cache.example")
		if err != nil {
			t.Fatal(err)
		}
		k1, full1, err := a.IssueKey(ctx, "user:1", f.ID, "one", []string{apikeys.ScopeReportsWrite})
		if err != nil {
			t.Fatal(err)
		}
		k2, full2, err := a.IssueKey(ctx, "user:1", f.ID, "two", []string{apikeys.ScopeReportsWrite})
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range []*apikeys.Service{a, b} {
			for _, full := range []string{full1, full2} {
				if _, err := s.Authenticate(ctx, full); err != nil {
					t.Fatalf("a live key: %v", err)
				}
			}
		}
		// Cached: a wrong secret with a live key's prefix is still refused.
		wrong := full1[:len(full1)-1] + "x"
		if wrong == full1 {
			wrong = full1[:len(full1)-1] + "y"
		}
		if _, err := a.Authenticate(ctx, wrong); !errors.Is(err, apikeys.ErrInvalidKey) {
			t.Fatalf("a wrong secret: %v", err)
		}

		if _, err := a.Revoke(ctx, "user:1", k1.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := a.Authenticate(ctx, full1); !errors.Is(err, apikeys.ErrInvalidKey) {
			t.Fatalf("the revoking instance still accepts the revoked key: %v", err)
		}
		if _, err := a.Authenticate(ctx, full2); err != nil {
			t.Fatalf("the other key: %v", err)
		}
		if _, err := b.Authenticate(ctx, full1); !errors.Is(err, apikeys.ErrInvalidKey) {
			t.Fatalf("another Service still accepts the revoked key: %v", err)
		}
		// A revocation this process did not see (another instance): the
		// copy is used for CacheFor at most.
		if err := db.W.Exec("UPDATE api_keys SET revoked_at = ? WHERE id = ?", clock(), k2.ID).Error; err != nil {
			t.Fatal(err)
		}
		advance(apikeys.CacheFor)
		if _, err := a.Authenticate(ctx, full2); !errors.Is(err, apikeys.ErrInvalidKey) {
			t.Fatalf("a key revoked elsewhere is accepted after %v: %v", apikeys.CacheFor, err)
		}
	})
}
