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
	"github.com/dockethq/docket/notify"
)

// BenchmarkScrape times one uncached /metrics scrape (every database gauge
// read afresh) on a generated data set. Run by hand:
//
//	DOCKET_BENCH_CASES=200000 DOCKET_BENCH_REPORTS=1000000 go test -run '^$' -bench Scrape -benchtime 20x ./internal/metrics/
func BenchmarkScrape(b *testing.B) {
	cases, _ := strconv.Atoi(os.Getenv("DOCKET_BENCH_CASES"))
	reports, _ := strconv.Atoi(os.Getenv("DOCKET_BENCH_REPORTS"))
	if cases == 0 {
		cases, reports = 2000, 10000
	}
	for _, d := range testdb.Dialects {
		b.Run(string(d), func(b *testing.B) {
			db := testdb.Open(b, d)
			ctx := context.Background()
			if err := notify.Migrate(ctx, db); err != nil {
				b.Fatal(err)
			}
			if _, err := benchgen.Generate(ctx, db, benchgen.Options{Cases: cases, Reports: reports, Seed: 1}); err != nil {
				b.Fatal(err)
			}
			analyze := "ANALYZE"
			if d == database.Postgres {
				analyze = "ANALYZE cases, deliveries, notices, river_job" // this schema's, not the whole server's
			}
			db.W.Exec(analyze)
			old := metrics.CacheFor
			metrics.CacheFor = 0
			defer func() { metrics.CacheFor = old }()
			m := metrics.New(db, time.Now)
			h := m.Handler()
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
