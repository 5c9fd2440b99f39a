package benchgen_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/dockethq/docket/audit"
	"github.com/dockethq/docket/cases"
	"github.com/dockethq/docket/internal/benchgen"
	"github.com/dockethq/docket/internal/database"
	"github.com/dockethq/docket/internal/testdb"
	"github.com/dockethq/docket/policy"
	"github.com/dockethq/docket/users"
)

func TestMain(m *testing.M) {
	testdb.FastPasswords()
	m.Run()
}

// TestGenerate loads a small data set and checks that it is what filing the
// reports through the app would have produced.
func TestGenerate(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		en, err := policy.NewEnforcer(db)
		if err != nil {
			t.Fatal(err)
		}
		now := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
		us := users.NewService(db, en, func() time.Time { return now })
		for _, u := range [][2]string{{"a@docket.example", policy.Reviewer}, {"b@docket.example", policy.SeniorReviewer}, {"c@docket.example", policy.Legal}, {"d@docket.example", policy.Leadership}} {
			if _, err := us.Create(ctx, "test", users.NewUser{Email: u[0], Name: u[0], Password: "a long enough password", Roles: []string{u[1]}}); err != nil {
				t.Fatal(err)
			}
		}
		var progress strings.Builder
		res, err := benchgen.Generate(ctx, db, benchgen.Options{Cases: 3000, Reports: 15000, Seed: 7, Now: now, Progress: &progress})
		if err != nil {
			t.Fatalf("Generate: %v\n%s", err, progress.String())
		}
		if res.Rows["cases"] != 3000 || res.Rows["reports"] != 15000 || res.Rows["reporters"] != 15000 {
			t.Fatalf("rows: %v", res.Rows)
		}
		if res.Rows["decisions"] == 0 || res.Rows["notes"] == 0 {
			t.Fatalf("no workflow rows: %v", res.Rows)
		}
		if open := float64(res.OpenCases) / 3000; open < 0.08 || open > 0.25 {
			t.Errorf("open share %.2f", open)
		}
		if res.LargestCase < 200 {
			t.Errorf("largest case has %d reports; want a flood", res.LargestCase)
		}
		// The generated audit events continue the hash chain.
		if rep, err := audit.NewChain(db, audit.Options{}).Verify(ctx); err != nil || !rep.OK || rep.Events < res.Rows["audit_events"] {
			t.Errorf("audit chain after Generate: %+v %v", rep, err)
		}

		zero := func(what, q string) {
			t.Helper()
			var n int64
			if err := db.R.Raw(q).Scan(&n).Error; err != nil {
				t.Fatalf("%s: %v", what, err)
			}
			if n != 0 {
				t.Errorf("%s: %d rows wrong", what, n)
			}
		}
		zero("report_count", `SELECT COUNT(*) FROM cases WHERE report_count <> (SELECT COUNT(*) FROM reports WHERE reports.case_id = cases.id)`)
		zero("reporter_count", `SELECT COUNT(*) FROM cases WHERE reporter_count <> (SELECT COUNT(DISTINCT reporter_key) FROM reports WHERE reports.case_id = cases.id)`)
		zero("flagger_report_count", `SELECT COUNT(*) FROM cases WHERE flagger_report_count <> (SELECT COUNT(*) FROM reports JOIN reporters ON reporters.id = reports.reporter_id WHERE reports.case_id = cases.id AND reporters.kind = 'trusted_flagger')`)
		zero("reporter_key", `SELECT COUNT(*) FROM reports JOIN reporters ON reporters.id = reports.reporter_id WHERE reports.reporter_key <> CASE WHEN reporters.email <> '' THEN 'email:' || reporters.email ELSE 'reporter:' || reporters.id END`)
		zero("report.filed events", `SELECT (SELECT COUNT(*) FROM reports) - (SELECT COUNT(*) FROM audit_events WHERE action = 'report.filed')`)
		zero("case.opened events", `SELECT (SELECT COUNT(*) FROM cases) - (SELECT COUNT(*) FROM audit_events WHERE action = 'case.opened')`)
		zero("first report opens the case", `SELECT COUNT(*) FROM cases WHERE opened_at <> (SELECT MIN(received_at) FROM reports WHERE reports.case_id = cases.id)`)
		zero("open per group", `SELECT COUNT(*) FROM (SELECT group_key, category FROM cases WHERE state <> 'closed' GROUP BY group_key, category HAVING COUNT(*) > 1) x`)
		zero("closed_at", `SELECT COUNT(*) FROM cases WHERE (state = 'closed') <> (closed_at IS NOT NULL)`)
		zero("csam routing", `SELECT COUNT(*) FROM cases WHERE (category = 'csam') <> (queue = 'restricted')`)
		zero("sign-offs of final terminations", `SELECT COUNT(*) FROM decisions WHERE action = 'terminate' AND status = 'final' AND (SELECT COUNT(DISTINCT user_id) FROM signoffs WHERE decision_id = decisions.id AND user_id <> decisions.proposer_id) <> 2`)
		zero("sign-off roles", `SELECT COUNT(*) FROM signoffs WHERE NOT EXISTS (SELECT 1 FROM casbin_rule WHERE ptype = 'g' AND v0 = 'user:' || signoffs.user_id AND v1 = signoffs.role)`)
		zero("directives", `SELECT (SELECT COUNT(*) FROM decisions WHERE status = 'final' AND action IN ('restrict', 'terminate')) - (SELECT COUNT(*) FROM directives)`)
		zero("directive versions", `SELECT COUNT(*) FROM hostname_versions WHERE version <> (SELECT MAX(version) FROM directives WHERE directives.hostnames = '["' || hostname_versions.hostname || '"]')`)
		zero("directive hosts", `SELECT (SELECT COUNT(*) FROM directives) - (SELECT COUNT(*) FROM directive_hosts)`)
		zero("pending sign-off", `SELECT COUNT(*) FROM cases WHERE state = 'pending_signoff' AND NOT EXISTS (SELECT 1 FROM decisions WHERE decisions.case_id = cases.id AND status = 'proposed')`)
		zero("decisions", `SELECT COUNT(*) FROM cases WHERE state IN ('decided', 'pending_signoff', 'appealed') AND NOT EXISTS (SELECT 1 FROM decisions WHERE decisions.case_id = cases.id)`)

		var all []cases.Case
		if err := db.R.Find(&all).Error; err != nil {
			t.Fatal(err)
		}
		byQueue := map[string]int{}
		for _, c := range all {
			info, _ := c.Category.Info()
			p := info.Severity + 2*min(max(c.ReporterCount-1, 0), 20) + 5*min(c.PriorActions, 5)
			if c.FlaggerReportCount > 0 {
				p += 25
			}
			if c.Priority != p || c.QueueRank != int64(c.Priority)*21600-c.OpenedAt.Unix() {
				t.Fatalf("case %d: priority %d rank %d, want %d and %d", c.ID, c.Priority, c.QueueRank, p, int64(p)*21600-c.OpenedAt.Unix())
			}
			if c.Version < c.ReportCount || c.Severity != info.Severity || !c.SLADueAt.Equal(c.OpenedAt.Add(info.SLA)) {
				t.Fatalf("case %d: version %d for %d reports, severity %d, sla %s", c.ID, c.Version, c.ReportCount, c.Severity, c.SLADueAt)
			}
			if c.State.Open() {
				byQueue[c.Queue]++
			}
		}
		if byQueue[cases.QueueGeneral] == 0 || byQueue[cases.QueuePriority] == 0 || byQueue[cases.QueueEnterprise] == 0 {
			t.Errorf("open cases per queue: %v", byQueue)
		}

		// The app works on the data: the queue pages through, a report joins an
		// open case, and new rows get fresh ids (sequences moved on PostgreSQL).
		cs := cases.NewService(db, func() time.Time { return now })
		page, err := cs.Search(ctx, cases.Filter{Queues: cases.Queues, Queue: cases.QueueGeneral, Limit: 50})
		if err != nil || len(page.Items) != 50 || page.Next == "" {
			t.Fatalf("queue: %v, %+v", err, page)
		}
		for i := 1; i < len(page.Items); i++ {
			if page.Items[i].QueueRank > page.Items[i-1].QueueRank {
				t.Fatal("queue out of order")
			}
		}
		top := page.Items[0].Case
		rep, err := cs.FileReport(ctx, cases.NewReport{Channel: cases.ChannelWeb, ReporterKind: cases.ReporterPublic, Category: top.Category,
			URL: "https://" + top.Hostname + "/again", Description: "Still there.", GoodFaith: true})
		if err != nil {
			t.Fatalf("FileReport on case %d (%s %s, %s): %v", top.ID, top.Hostname, top.Category, top.State, err)
		}
		if rep.CaseID != top.ID {
			t.Errorf("report went to case %d, want the open case %d", rep.CaseID, top.ID)
		}
		// Only a served host opens a case (others are kept as not hosted), so
		// the new host joins as a new customer's site first: fresh ids there too.
		if _, _, err := cs.AddCustomer(ctx, "test", cases.Customer{Name: "Brand New Ltd"}, "brand-new-host.example"); err != nil {
			t.Fatalf("new customer: %v", err)
		}
		rep, err = cs.FileReport(ctx, cases.NewReport{Channel: cases.ChannelWeb, ReporterKind: cases.ReporterPublic, Category: cases.Spam,
			URL: "https://brand-new-host.example/", Description: "Spam.", GoodFaith: true})
		if err != nil || rep.Status != cases.ReportFiled || rep.SiteID == nil || rep.CaseID <= all[len(all)-1].ID {
			t.Fatalf("new case: %v, %+v", err, rep)
		}
		if db.Dialect == database.SQLite {
			var bad []map[string]any
			if err := db.R.Raw("PRAGMA foreign_key_check").Scan(&bad).Error; err != nil || len(bad) > 0 {
				t.Fatalf("foreign keys: %v %v", err, bad)
			}
		}
	})
}

// TestDeterministic: the same seed gives the same data.
func TestDeterministic(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	sum := func() string {
		db := testdb.Open(t, database.SQLite)
		if _, err := benchgen.Generate(ctx, db, benchgen.Options{Cases: 500, Reports: 2000, Seed: 3, Now: now}); err != nil {
			t.Fatal(err)
		}
		var s string
		if err := db.R.Raw(`SELECT group_concat(id || ':' || hostname || ':' || report_count || ':' || state || ':' || priority, ',') FROM cases`).Scan(&s).Error; err != nil {
			t.Fatal(err)
		}
		var u string
		if err := db.R.Raw(`SELECT group_concat(public_id || url, ',') FROM (SELECT public_id, url FROM reports ORDER BY id LIMIT 100)`).Scan(&u).Error; err != nil {
			t.Fatal(err)
		}
		return s + u
	}
	if sum() != sum() {
		t.Fatal("two runs with the same seed differ")
	}
}
