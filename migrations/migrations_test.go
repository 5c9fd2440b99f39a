package migrations_test

import (
	"context"
	"io/fs"
	"slices"
	"testing"

	"github.com/dockethq/docket/internal/database"
	"github.com/dockethq/docket/internal/testdb"
	"github.com/dockethq/docket/migrations"
)

// Both dialect folders must hold the same versions, or one engine would end up
// with a schema the other lacks.
func TestDialectsHaveSameVersions(t *testing.T) {
	names := func(d database.Dialect) []string {
		m, err := fs.Glob(migrations.FS(d), "*.sql")
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	s, p := names(database.SQLite), names(database.Postgres)
	if len(s) == 0 || !slices.Equal(s, p) {
		t.Fatalf("sqlite migrations %v differ from postgres migrations %v", s, p)
	}
}

// TestUpDownUp migrates all the way up, all the way down (the schema must be
// empty again), and up again, on each dialect.
func TestUpDownUp(t *testing.T) {
	for _, d := range testdb.Dialects {
		t.Run(string(d), func(t *testing.T) {
			ctx := context.Background()
			db := testdb.OpenEmpty(t, d)
			p, err := migrations.Provider(db)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := p.Up(ctx); err != nil {
				t.Fatalf("up: %v", err)
			}
			want := len(p.ListSources())
			if v, _ := p.GetDBVersion(ctx); v != p.ListSources()[want-1].Version {
				t.Fatalf("version after up = %d", v)
			}
			tables := userTables(t, db)
			for _, tb := range []string{"users", "casbin_rule", "sessions", "customers", "sites", "reporters", "cases", "reports", "audit_events"} {
				if !slices.Contains(tables, tb) {
					t.Errorf("table %s missing after up; have %v", tb, tables)
				}
			}
			if _, err := p.DownTo(ctx, 0); err != nil {
				t.Fatalf("down: %v", err)
			}
			if left := userTables(t, db); len(left) != 0 {
				t.Errorf("tables left after migrating down: %v", left)
			}
			if _, err := p.Up(ctx); err != nil {
				t.Fatalf("up again: %v", err)
			}
		})
	}
}

// userTables lists the application's tables, leaving out goose's own.
func userTables(t *testing.T, db *database.DB) []string {
	t.Helper()
	var names []string
	q := "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
	if db.Dialect == database.Postgres {
		q = "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()"
	}
	if err := db.R.Raw(q).Scan(&names).Error; err != nil {
		t.Fatal(err)
	}
	return slices.DeleteFunc(names, func(n string) bool { return n == "goose_db_version" })
}
