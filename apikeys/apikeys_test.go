package apikeys_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/dockethq/docket/apikeys"
	"github.com/dockethq/docket/internal/database"
	"github.com/dockethq/docket/internal/errs"
	"github.com/dockethq/docket/internal/testdb"
	"github.com/dockethq/docket/policy"
)

func newService(t *testing.T, db *database.DB) (*apikeys.Service, *policy.Enforcer) {
	t.Helper()
	en, err := policy.NewEnforcer(db)
	if err != nil {
		t.Fatal(err)
	}
	return apikeys.NewService(db, en, time.Now), en
}

func TestIssueAuthenticateRevoke(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		s, en := newService(t, db)
		f, err := s.CreateFlagger(ctx, "user:1", "  Referral Unit ", "Desk@Referral.example")
		if err != nil {
			t.Fatal(err)
		}
		if f.Name != "Referral Unit" || f.Email != "desk@referral.example" {
			t.Fatalf("flagger = %+v", f)
		}
		if _, err := s.CreateFlagger(ctx, "user:1", "Again", "desk@referral.example"); errs.CodeOf(err) != errs.Conflict {
			t.Fatalf("duplicate flagger: %v", err)
		}
		var kind string
		db.R.Table("reporters").Select("kind").Where("id = ?", f.ID).Scan(&kind)
		if kind != "trusted_flagger" {
			t.Fatalf("reporter kind %q", kind)
		}

		k, full, err := s.IssueKey(ctx, "user:1", f.ID, "production", []string{apikeys.ScopeReportsRead, apikeys.ScopeReportsWrite})
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(full, "dkt_") || len(full) != 4+43 || !strings.HasPrefix(full, k.Prefix) || len(k.Prefix) != 12 {
			t.Fatalf("key %q prefix %q", full, k.Prefix)
		}
		if k.Scopes != "reports:write,reports:read" {
			t.Fatalf("scopes %q", k.Scopes)
		}

		// Only the hash is stored: no column of any key row holds the key.
		var rows []map[string]any
		if err := db.R.Table("api_keys").Find(&rows).Error; err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256([]byte(full))
		for _, r := range rows {
			for col, v := range r {
				if s, ok := v.(string); ok && strings.Contains(s, full[len(k.Prefix):]) {
					t.Fatalf("column %s holds the key", col)
				}
			}
			if r["hash"] != hex.EncodeToString(sum[:]) {
				t.Fatalf("hash %v", r["hash"])
			}
		}
		var leaked int64
		db.R.Table("audit_events").Where("details LIKE ?", "%"+full[len(k.Prefix):]+"%").Count(&leaked)
		if leaked != 0 {
			t.Fatal("the key is in the audit log")
		}

		// The grant is written with the key and the enforcer knows it.
		sub := policy.APIKeySubject(k.ID)
		if ok, _ := en.Allowed(sub, "/api/v1/reports", "POST"); !ok {
			t.Fatal("a new key may not file reports")
		}
		if ok, _ := en.Allowed(sub, "/queue", "GET"); ok {
			t.Fatal("a key may read the queue")
		}
		if ok, _ := en.Allowed(sub, "/report", "GET"); ok {
			t.Fatal("a key inherits anonymous")
		}

		got, err := s.Authenticate(ctx, full)
		if err != nil || got.ID != k.ID || got.LastUsedAt == nil {
			t.Fatalf("authenticate: %+v, %v", got, err)
		}
		var used int64
		db.R.Table("api_keys").Where("id = ? AND last_used_at IS NOT NULL", k.ID).Count(&used)
		if used != 1 {
			t.Fatal("last_used_at not written")
		}
		for _, bad := range []string{"", "dkt_", full[:len(full)-1] + "A", strings.ToUpper(full), "xyz_" + full[4:], full + "x"} {
			if bad == full {
				continue
			}
			if _, err := s.Authenticate(ctx, bad); !errors.Is(err, apikeys.ErrInvalidKey) {
				t.Errorf("authenticate %q: %v", bad, err)
			}
		}

		if _, err := s.Revoke(ctx, "user:1", k.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Authenticate(ctx, full); !errors.Is(err, apikeys.ErrInvalidKey) {
			t.Fatalf("revoked key authenticates: %v", err)
		}
		if ok, _ := en.Allowed(sub, "/api/v1/reports", "POST"); ok {
			t.Fatal("a revoked key keeps its grant")
		}
		var grants int64
		db.R.Table("casbin_rule").Where("ptype = 'g' AND v0 = ?", sub).Count(&grants)
		if grants != 0 {
			t.Fatalf("%d grants left", grants)
		}
		if _, err := s.Revoke(ctx, "user:1", k.ID); err != nil {
			t.Fatalf("revoking twice: %v", err)
		}
		if _, err := s.Revoke(ctx, "user:1", 9999); errs.CodeOf(err) != errs.NotFound {
			t.Fatalf("revoke unknown: %v", err)
		}

		var actions []string
		db.R.Table("audit_events").Where("action IN ?", []string{"flagger.created", "apikey.issued", "apikey.revoked"}).Order("id").Pluck("action", &actions)
		if strings.Join(actions, ",") != "flagger.created,apikey.issued,apikey.revoked" {
			t.Fatalf("audit: %v", actions)
		}
	})
}

func TestIssueKeyValidates(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		s, _ := newService(t, db)
		if _, err := s.CreateFlagger(ctx, "user:1", "", "not-an-email"); err == nil {
			t.Fatal("invalid flagger accepted")
		} else if e, _ := errs.As(err); e.Fields["name"] == "" || e.Fields["email"] == "" {
			t.Fatalf("fields %v", e.Fields)
		}
		f, err := s.CreateFlagger(ctx, "user:1", "Unit", "unit@example.org")
		if err != nil {
			t.Fatal(err)
		}
		_, _, err = s.IssueKey(ctx, "user:1", f.ID, "", []string{"reports:delete"})
		if e, ok := errs.As(err); !ok || e.Fields["key_name"] == "" || e.Fields["scopes"] == "" {
			t.Fatalf("invalid key accepted: %v", err)
		}
		if _, _, err := s.IssueKey(ctx, "user:1", f.ID+100, "x", apikeys.AllScopes); errs.CodeOf(err) != errs.NotFound {
			t.Fatalf("key for unknown flagger: %v", err)
		}
		k, _, err := s.IssueKey(ctx, "user:1", f.ID, "read only", []string{apikeys.ScopeReportsRead})
		if err != nil {
			t.Fatal(err)
		}
		if k.HasScope(apikeys.ScopeReportsWrite) || !k.HasScope(apikeys.ScopeReportsRead) {
			t.Fatalf("scopes %q", k.Scopes)
		}
	})
}

func TestIdempotency(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		s, _ := newService(t, db)
		f, _ := s.CreateFlagger(ctx, "user:1", "Unit", "unit@example.org")
		k, _, err := s.IssueKey(ctx, "user:1", f.ID, "k", apikeys.AllScopes)
		if err != nil {
			t.Fatal(err)
		}
		if st, err := s.BeginIdempotent(ctx, k.ID, "a", "h1"); st != nil || err != nil {
			t.Fatalf("first begin: %v %v", st, err)
		}
		if _, err := s.BeginIdempotent(ctx, k.ID, "a", "h1"); !errors.Is(err, apikeys.ErrIdempotencyInFlight) {
			t.Fatalf("in flight: %v", err)
		}
		if err := s.FinishIdempotent(ctx, k.ID, "a", 207, `{"x":1}`); err != nil {
			t.Fatal(err)
		}
		if st, err := s.BeginIdempotent(ctx, k.ID, "a", "h1"); err != nil || st == nil || st.Status != 207 || st.Response != `{"x":1}` {
			t.Fatalf("replay: %+v %v", st, err)
		}
		if _, err := s.BeginIdempotent(ctx, k.ID, "a", "h2"); !errors.Is(err, apikeys.ErrIdempotencyMismatch) {
			t.Fatalf("mismatch: %v", err)
		}
		if st, err := s.BeginIdempotent(ctx, k.ID, "b", "h1"); st != nil || err != nil {
			t.Fatalf("other key: %v %v", st, err)
		}
		if err := s.AbortIdempotent(ctx, k.ID, "b"); err != nil {
			t.Fatal(err)
		}
		if st, err := s.BeginIdempotent(ctx, k.ID, "b", "h1"); st != nil || err != nil {
			t.Fatalf("after abort: %v %v", st, err)
		}
	})
}
