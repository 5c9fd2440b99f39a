// Package testdb gives tests a fresh, migrated database on each dialect: a new
// SQLite file per test, and a new PostgreSQL schema per test. Without PostgreSQL a
// test skips on a laptop but fails under CI=true, where it must run.
package testdb

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/alexedwards/argon2id"

	"github.com/dockethq/docket/internal/database"
	"github.com/dockethq/docket/migrations"
	"github.com/dockethq/docket/users"
)

// Dialects lists the databases every store test runs on.
var Dialects = []database.Dialect{database.SQLite, database.Postgres}

// PostgresURL is the server tests use; DOCKET_TEST_POSTGRES_URL overrides it.
func PostgresURL() string {
	if u := os.Getenv("DOCKET_TEST_POSTGRES_URL"); u != "" {
		return u
	}
	return "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"
}

// CI reports whether tests run in CI, where a missing service is a failure.
func CI() bool { return os.Getenv("CI") == "true" }

// Unavailable skips the test, or fails it under CI.
func Unavailable(t testing.TB, what string, err error) {
	t.Helper()
	if CI() {
		t.Fatalf("%s is required under CI=true: %v", what, err)
	}
	t.Skipf("%s not available (%v); set CI=true to make this a failure", what, err)
}

// FastPasswords makes argon2id cheap for the rest of the test binary: tests
// create many users and the production cost (64 MiB, 3 passes) only slows them.
func FastPasswords() {
	users.Params = &argon2id.Params{Memory: 1024, Iterations: 1, Parallelism: 1, SaltLength: 16, KeyLength: 32}
}

// Open returns a fresh, migrated database of dialect d, closed and removed when
// the test ends.
func Open(t testing.TB, d database.Dialect) *database.DB {
	t.Helper()
	db := OpenEmpty(t, d)
	if err := migrations.Up(context.Background(), db); err != nil {
		t.Fatalf("migrate %s: %v", d, err)
	}
	return db
}

// OpenEmpty is Open without the migrations.
func OpenEmpty(t testing.TB, d database.Dialect) *database.DB {
	t.Helper()
	ctx := context.Background()
	switch d {
	case database.SQLite:
		db, err := database.Open(ctx, filepath.Join(t.TempDir(), "docket.db"))
		if err != nil {
			t.Fatalf("open sqlite: %v", err)
		}
		t.Cleanup(func() { db.Close() })
		return db
	case database.Postgres:
		db, _ := PostgresEmptySchema(t)
		return db
	}
	t.Fatalf("unknown dialect %q", d)
	return nil
}

// Each runs fn as a subtest on every dialect, each with its own fresh database.
func Each(t *testing.T, fn func(t *testing.T, db *database.DB)) {
	t.Helper()
	for _, d := range Dialects {
		t.Run(string(d), func(t *testing.T) {
			fn(t, Open(t, d))
		})
	}
}
