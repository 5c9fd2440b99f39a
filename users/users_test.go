package users_test

import (
	"context"
	"testing"
	"time"

	"github.com/dockethq/docket/internal/database"
	"github.com/dockethq/docket/internal/errs"
	"github.com/dockethq/docket/internal/testdb"
	"github.com/dockethq/docket/policy"
	"github.com/dockethq/docket/users"
)

func TestMain(m *testing.M) {
	testdb.FastPasswords()
	m.Run()
}

func TestCreateAndAuthenticate(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		en, err := policy.NewEnforcer(db)
		if err != nil {
			t.Fatal(err)
		}
		s := users.NewService(db, en, time.Now)
		u, err := s.Create(ctx, "test", users.NewUser{Email: " Ada@Example.ORG ", Name: "Ada", Password: "correct horse battery", Roles: []string{policy.Admin, policy.Legal}})
		if err != nil {
			t.Fatal(err)
		}
		if u.Email != "ada@example.org" || u.PasswordHash == "correct horse battery" {
			t.Errorf("stored user %+v", u)
		}
		if got, err := s.Authenticate(ctx, "ADA@example.org", "correct horse battery"); err != nil || got.ID != u.ID {
			t.Errorf("Authenticate: %v, %v", got, err)
		}
		for _, pw := range []string{"", "correct horse batter", "Correct horse battery"} {
			if _, err := s.Authenticate(ctx, "ada@example.org", pw); err != users.ErrBadCredentials {
				t.Errorf("Authenticate(%q) = %v, want bad credentials", pw, err)
			}
		}
		if _, err := s.Authenticate(ctx, "nobody@example.org", "x"); err != users.ErrBadCredentials {
			t.Errorf("unknown user: %v", err)
		}
		if err := db.W.Exec("UPDATE users SET disabled = ? WHERE id = ?", true, u.ID).Error; err != nil {
			t.Fatal(err)
		}
		if _, err := s.Authenticate(ctx, "ada@example.org", "correct horse battery"); err != users.ErrBadCredentials {
			t.Errorf("disabled user signed in: %v", err)
		}
		if roles := s.Roles(u); len(roles) != 2 || roles[0] != policy.Legal || roles[1] != policy.Admin {
			t.Errorf("roles = %v", roles)
		}
		if !en.HasRole(u.ID, "staff") {
			t.Errorf("admin does not inherit staff")
		}
		_, err = s.Create(ctx, "test", users.NewUser{Email: "ada@example.org", Name: "Ada 2", Password: "another long password", Roles: []string{policy.Reviewer}})
		if errs.CodeOf(err) != errs.Conflict {
			t.Errorf("duplicate email: %v", err)
		}
		// A failed create leaves no half-made user or role grant behind.
		var n int64
		db.R.Table("users").Count(&n)
		var g int64
		db.R.Table("casbin_rule").Where("v0 LIKE 'user:%'").Count(&g)
		if n != 1 || g != 2 {
			t.Errorf("%d users, %d grants after a failed create; want 1 and 2", n, g)
		}
	})
}
