package audit_test

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/dockethq/docket/audit"
	"github.com/dockethq/docket/internal/benchgen"
	"github.com/dockethq/docket/internal/database"
	"github.com/dockethq/docket/internal/demo"
	"github.com/dockethq/docket/internal/testdb"
	"github.com/dockethq/docket/policy"
	"github.com/dockethq/docket/users"
)

// TestMeasureTimelines times timelines and exports on a generated data set
// (50,000 cases, about 340,000 audit events) on both databases. It is a
// measurement, not a check: it runs only when asked (NOTES-auditor.md).
//
//	DOCKET_AUDIT_MEASURE=1 go test -run TestMeasureTimelines -v ./audit/
func TestMeasureTimelines(t *testing.T) {
	if os.Getenv("DOCKET_AUDIT_MEASURE") == "" {
		t.Skip("a measurement: set DOCKET_AUDIT_MEASURE=1 to run it")
	}
	for _, d := range []database.Dialect{database.Postgres, database.SQLite} {
		t.Run(string(d), func(t *testing.T) {
			db := testdb.Open(t, d)
			ctx := context.Background()
			en, _ := policy.NewEnforcer(db)
			us := users.NewService(db, en, time.Now)
			if _, err := demo.Seed(ctx, db, us, time.Now); err != nil {
				t.Fatal(err)
			}
			start := time.Now()
			res, err := benchgen.Generate(ctx, db, benchgen.Options{Cases: 50_000, Reports: 150_000})
			if err != nil {
				t.Fatal(err)
			}
			var n int64
			db.R.Table("audit_events").Count(&n)
			t.Logf("generated in %s: %d audit events (%v)", time.Since(start), n, res.Rows["audit_events"])
			if d == database.Postgres {
				db.W.Exec("ANALYZE") // as autovacuum would, after a bulk load
			}
			var bigCust, caseID, user int64
			db.R.Table("cases").Select("customer_id").Where("customer_id IS NOT NULL").Group("customer_id").Order("COUNT(*) DESC").Limit(1).Scan(&bigCust)
			db.R.Table("cases").Select("id").Where("queue = 'general'").Order("report_count DESC").Limit(1).Scan(&caseID)
			db.R.Table("audit_events").Select("CAST(substr(actor, 6) AS BIGINT)").Where("actor LIKE 'user:%'").Group("actor").Order("COUNT(*) DESC").Limit(1).Scan(&user)
			qs := []string{"general", "priority", "enterprise"}
			for name, q := range map[string]audit.Query{
				"case":               {Scope: audit.ScopeCase, ID: caseID},
				"user":               {Scope: audit.ScopeUser, ID: user},
				"user decision.":     {Scope: audit.ScopeUser, ID: user, Action: "decision."},
				"customer":           {Scope: audit.ScopeCustomer, ID: bigCust},
				"customer oldest":    {Scope: audit.ScopeCustomer, ID: bigCust, Oldest: true},
				"customer actor sys": {Scope: audit.ScopeCustomer, ID: bigCust, Actor: "system"},
			} {
				q.Queues = qs
				t0 := time.Now()
				p, err := audit.Timeline(ctx, db.R, q)
				if err != nil {
					t.Fatal(err)
				}
				first := time.Since(t0)
				t0 = time.Now()
				k := 0
				if _, err := audit.Each(ctx, db.R, q, func(audit.Event) error { k++; return nil }); err != nil {
					t.Fatal(err)
				}
				t.Logf("%-20s first page %3d events in %8s; export %6d events in %8s", name, len(p.Events), first, k, time.Since(t0))
			}
		})
	}
}
