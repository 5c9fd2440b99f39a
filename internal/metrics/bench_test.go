package metrics_test

import (
	"context"
	"io"
	"net/http/httptest"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/dockethq/docket/internal/benchgen"
	"github.com/dockethq/docket/internal/database"
	"github.com/dockethq/docket/internal/metrics"
	"github.com/dockethq/docket/internal/testdb"
	"github.com/dockethq/docket/migrations"
	"github.com/dockethq/docket/notify"
)

// benchDB is a database with a generated data set: DOCKET_BENCH_CASES and
// DOCKET_BENCH_REPORTS set its size; on SQLite DOCKET_BENCH_SQLITE_FILE keeps it
// between runs. Call it from the top-level benchmark: a sub-benchmark's body
// runs more than once, with cleanups in between.
func benchDB(b *testing.B, d database.Dialect) *database.DB {
	ctx := context.Background()
	cases, _ := strconv.Atoi(os.Getenv("DOCKET_BENCH_CASES"))
	reports, _ := strconv.Atoi(os.Getenv("DOCKET_BENCH_REPORTS"))
	if cases == 0 {
		cases, reports = 2000, 10000
	}
	var db *database.DB
	if f := os.Getenv("DOCKET_BENCH_SQLITE_FILE"); f != "" && d == database.SQLite {
		var err error
		if db, err = database.Open(ctx, f); err != nil {
			b.Fatal(err)
		}
		if err := migrations.Up(ctx, db); err != nil {
			b.Fatal(err)
		}
	} else {
		db = testdb.Open(b, d)
	}
	if err := notify.Migrate(ctx, db); err != nil {
		b.Fatal(err)
	}
	var n int64
	db.R.Table("cases").Count(&n)
	if n == 0 {
		if _, err := benchgen.Generate(ctx, db, benchgen.Options{Cases: cases, Reports: reports, Seed: 1}); err != nil {
			b.Fatal(err)
		}
		analyze := "ANALYZE"
		if d == database.Postgres {
			analyze = "ANALYZE cases, deliveries, notices, river_job" // this schema's, not the whole server's
		}
		db.W.Exec(analyze)
	}
	return db
}

// BenchmarkScrape times one uncached /metrics scrape (every database gauge
// read afresh) on a generated data set. Run by hand:
//
//	DOCKET_BENCH_CASES=200000 DOCKET_BENCH_REPORTS=1000000 go test -run '^$' -bench Scrape -benchtime 20x ./internal/metrics/
func BenchmarkScrape(b *testing.B) {
	parent := b
	dbs := map[database.Dialect]*database.DB{}
	for _, d := range testdb.Dialects {
		b.Run(string(d), func(b *testing.B) {
			if dbs[d] == nil {
				dbs[d] = benchDB(parent, d) // cleaned up when the whole benchmark ends
			}
			db := dbs[d]
			old := metrics.CacheFor
			metrics.CacheFor = 0
			defer func() { metrics.CacheFor = old }()
			h := metrics.New(db, time.Now).Handler()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
				if rec.Code != 200 {
					b.Fatal(rec.Code)
				}
				io.Copy(io.Discard, rec.Body)
			}
		})
	}
}
