package migrations_test

import (
	"context"
	"sync"
	"testing"

	"github.com/dockethq/docket/internal/database"
	"github.com/dockethq/docket/internal/testdb"
	"github.com/dockethq/docket/migrations"
	"github.com/dockethq/docket/notify"
)

// Instances started together on an empty PostgreSQL database each migrate at
// start; they must take turns, not fail on each other's half-made schema.
func TestConcurrentMigrationsTakeTurns(t *testing.T) {
	first, dsn := testdb.PostgresEmptySchema(t)
	dbs := []*database.DB{first}
	for range 3 {
		db, err := database.Open(context.Background(), dsn)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		dbs = append(dbs, db)
	}
	var wg sync.WaitGroup
	for i, db := range dbs {
		wg.Go(func() {
			if err := migrations.Up(context.Background(), db); err != nil {
				t.Errorf("instance %d: %v", i, err)
				return
			}
			if err := notify.Migrate(context.Background(), db); err != nil {
				t.Errorf("instance %d river: %v", i, err)
			}
		})
	}
	wg.Wait()
	var applied int64
	dbs[0].R.Table("goose_db_version").Where("version_id > 0").Count(&applied)
	p, _ := migrations.Provider(dbs[0])
	if int(applied) != len(p.ListSources()) {
		t.Errorf("%d migrations recorded, %d exist", applied, len(p.ListSources()))
	}
}
