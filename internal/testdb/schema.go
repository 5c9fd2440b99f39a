package testdb

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"testing"

	"github.com/dockethq/docket/internal/database"
	"github.com/dockethq/docket/migrations"
)

// PostgresSchema is Open for PostgreSQL that also returns the URL of the new
// schema (search_path set), for tests that start `docket serve` processes on
// it. The schema is dropped when the test ends, after cleanups registered
// later (such as stopping those processes) have run.
func PostgresSchema(t testing.TB) (*database.DB, string) {
	t.Helper()
	db, dsn := PostgresEmptySchema(t)
	if err := migrations.Up(context.Background(), db); err != nil {
		t.Fatalf("migrate postgres: %v", err)
	}
	return db, dsn
}

// PostgresEmptySchema is PostgresSchema without the migrations.
func PostgresEmptySchema(t testing.TB) (*database.DB, string) {
	t.Helper()
	ctx := context.Background()
	admin, err := database.Open(ctx, PostgresURL())
	if err != nil {
		Unavailable(t, "PostgreSQL", err)
	}
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	schema := "t_" + hex.EncodeToString(b)
	if err := admin.W.Exec("CREATE SCHEMA " + schema).Error; err != nil {
		admin.Close()
		t.Fatalf("create schema: %v", err)
	}
	u, _ := url.Parse(PostgresURL())
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	db, err := database.Open(ctx, u.String())
	if err != nil {
		t.Fatalf("open postgres schema %s: %v", schema, err)
	}
	t.Cleanup(func() {
		db.Close()
		_ = admin.W.Exec("DROP SCHEMA " + schema + " CASCADE").Error
		admin.Close()
	})
	return db, u.String()
}
