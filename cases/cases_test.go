package cases_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dockethq/docket/audit"
	"github.com/dockethq/docket/cases"
	"github.com/dockethq/docket/internal/database"
	"github.com/dockethq/docket/internal/errs"
	"github.com/dockethq/docket/internal/testdb"
)

// clock is a settable time source for tests.
type clock struct{ t time.Time }

func (c *clock) now() time.Time      { return c.t }
func (c *clock) add(d time.Duration) { c.t = c.t.Add(d) }
func newClock() *clock               { return &clock{t: time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)} }
func count(t *testing.T, db *database.DB, table string) int64 {
	t.Helper()
	var n int64
	if err := db.R.Table(table).Count(&n).Error; err != nil {
		t.Fatal(err)
	}
	return n
}

func setup(t *testing.T, db *database.DB) (*cases.Service, *clock) {
	t.Helper()
	clk := newClock()
	s := cases.NewService(db, clk.now)
	ctx := context.Background()
	if _, _, err := s.AddCustomer(ctx, "test", cases.Customer{Name: "Acme"}, "acme.example", "shop.acme.example"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.AddCustomer(ctx, "test", cases.Customer{Name: "Forum"}, "board.example.co.uk"); err != nil {
		t.Fatal(err)
	}
	return s, clk
}

// serve adds a customer serving the n hostnames fmt.Sprintf(pattern, i): only
// reports about served hosts open cases.
func serve(t *testing.T, s *cases.Service, pattern string, n int) {
	t.Helper()
	hosts := make([]string, n)
	for i := range hosts {
		hosts[i] = fmt.Sprintf(pattern, i)
	}
	if _, _, err := s.AddCustomer(context.Background(), "test", cases.Customer{Name: "Hosts " + pattern}, hosts...); err != nil {
		t.Fatal(err)
	}
}

func report(cat cases.Category, url string) cases.NewReport {
	return cases.NewReport{Channel: cases.ChannelWeb, ReporterKind: cases.ReporterPublic, Category: cat, URL: url, Description: "It is bad.", GoodFaith: true}
}

func TestGrouping(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		s, clk := setup(t, db)
		ctx := context.Background()
		file := func(n cases.NewReport) *cases.Report {
			t.Helper()
			r, err := s.FileReport(ctx, n)
			if err != nil {
				t.Fatalf("FileReport(%s): %v", n.URL, err)
			}
			clk.add(time.Minute)
			return r
		}
		a := file(report(cases.Phishing, "https://ACME.example/login"))
		b := file(report(cases.Phishing, "http://acme.example.:80/other?x=1"))
		if a.CaseID != b.CaseID {
			t.Errorf("same host and category: cases %d and %d, want one", a.CaseID, b.CaseID)
		}
		c := file(report(cases.Malware, "https://acme.example/dl.exe"))
		if c.CaseID == a.CaseID {
			t.Errorf("different category shares case %d", c.CaseID)
		}
		// A subdomain we do not list belongs to the site of its parent domain.
		d := file(report(cases.Phishing, "https://deep.sub.acme.example/"))
		if d.CaseID != a.CaseID {
			t.Errorf("subdomain of acme.example: case %d, want %d", d.CaseID, a.CaseID)
		}
		// A listed subdomain is its own site, hence its own case.
		e := file(report(cases.Phishing, "https://shop.acme.example/"))
		if e.CaseID == a.CaseID {
			t.Errorf("shop.acme.example shares acme.example's case")
		}
		// A host we do not serve gets a receipt but no case (intake_test.go).
		f := file(report(cases.Spam, "unknown.example/x"))
		if f.CaseID != 0 || f.SiteID != nil || f.Status != cases.ReportNotHosted {
			t.Errorf("unknown host: case %d, site %v, status %s", f.CaseID, f.SiteID, f.Status)
		}
		// IDNA: the unicode and punycode spellings are one host.
		h := file(report(cases.Spam, "https://bücher.example/"))
		i := file(report(cases.Spam, "https://xn--bcher-kva.example/"))
		if h.CaseID != i.CaseID || h.Host != "xn--bcher-kva.example" {
			t.Errorf("IDNA: cases %d, %d, host %q", h.CaseID, i.CaseID, h.Host)
		}

		v, err := s.Get(ctx, a.CaseID, []string{cases.QueueGeneral})
		if err != nil {
			t.Fatal(err)
		}
		if v.Case.ReportCount != 3 || len(v.Reports) != 3 {
			t.Errorf("case %d: report_count %d, %d reports; want 3", a.CaseID, v.Case.ReportCount, len(v.Reports))
		}
		if v.Customer == nil || v.Customer.Name != "Acme" || v.Site.Hostname != "acme.example" {
			t.Errorf("case %d: customer %+v site %+v", a.CaseID, v.Customer, v.Site)
		}
		if want := 60 + 2*2; v.Case.Priority != want {
			t.Errorf("priority = %d, want %d", v.Case.Priority, want)
		}
		if v.Case.SLADueAt.Sub(v.Case.OpenedAt) != 12*time.Hour {
			t.Errorf("phishing SLA = %v, want 12h", v.Case.SLADueAt.Sub(v.Case.OpenedAt))
		}
		var actions []string
		for _, e := range v.Events {
			actions = append(actions, e.Action)
		}
		if got := strings.Join(actions, ","); got != "case.opened,report.filed,report.filed,report.filed" {
			t.Errorf("audit trail = %s", got)
		}
	})
}

func TestClosedCaseIsNotReused(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		s, _ := setup(t, db)
		ctx := context.Background()
		a, err := s.FileReport(ctx, report(cases.Phishing, "https://acme.example/"))
		if err != nil {
			t.Fatal(err)
		}
		if err := db.W.Exec("UPDATE cases SET state = 'closed' WHERE id = ?", a.CaseID).Error; err != nil {
			t.Fatal(err)
		}
		b, err := s.FileReport(ctx, report(cases.Phishing, "https://acme.example/"))
		if err != nil {
			t.Fatal(err)
		}
		if b.CaseID == a.CaseID {
			t.Fatalf("a report on a closed case was attached to it instead of opening a new case")
		}
	})
}

// TestConcurrentReports files reports about one site from many goroutines: they
// must all land in one case with an exact count, on both engines.
func TestConcurrentReports(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		s, _ := setup(t, db)
		const n = 24
		var wg sync.WaitGroup
		ids := make([]int64, n)
		errc := make(chan error, n)
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				r, err := s.FileReport(context.Background(), report(cases.ViolentExtremism, "https://board.example.co.uk/t/1"))
				if err != nil {
					errc <- err
					return
				}
				ids[i] = r.CaseID
			}()
		}
		wg.Wait()
		close(errc)
		for err := range errc {
			t.Fatalf("concurrent FileReport: %v", err)
		}
		for _, id := range ids {
			if id != ids[0] {
				t.Fatalf("concurrent reports opened several cases: %v", ids)
			}
		}
		v, err := s.Get(context.Background(), ids[0], []string{cases.QueueGeneral})
		if err != nil {
			t.Fatal(err)
		}
		if v.Case.ReportCount != n || len(v.Reports) != n {
			t.Fatalf("report_count = %d with %d reports, want %d", v.Case.ReportCount, len(v.Reports), n)
		}
	})
}

func TestBadReportsChangeNothing(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		s, _ := setup(t, db)
		ctx := context.Background()
		big := strings.Repeat("a", 1<<20)
		tests := []struct {
			name  string
			r     cases.NewReport
			field string
		}{
			{"empty", cases.NewReport{Channel: cases.ChannelWeb, ReporterKind: cases.ReporterPublic}, "url"},
			{"no category", cases.NewReport{Channel: cases.ChannelWeb, ReporterKind: cases.ReporterPublic, URL: "https://acme.example", Description: "x", GoodFaith: true}, "category"},
			{"javascript url", report(cases.Phishing, "javascript:alert(document.cookie)"), "url"},
			{"data url", report(cases.Phishing, "data:text/html,<script>alert(1)</script>"), "url"},
			{"1 MB description", func() cases.NewReport { r := report(cases.Spam, "https://acme.example"); r.Description = big; return r }(), "description"},
			{"control characters", func() cases.NewReport {
				r := report(cases.Spam, "https://acme.example")
				r.Description = "a\x00b"
				return r
			}(), "description"},
			{"invalid utf-8", func() cases.NewReport {
				r := report(cases.Spam, "https://acme.example")
				r.Description = "a\xffb"
				return r
			}(), "description"},
			{"no good faith", func() cases.NewReport { r := report(cases.Spam, "https://acme.example"); r.GoodFaith = false; return r }(), "good_faith"},
			{"bad email", func() cases.NewReport {
				r := report(cases.Spam, "https://acme.example")
				r.ReporterEmail = "not an email"
				return r
			}(), "email"},
			{"unknown category", report("nonsense", "https://acme.example"), "category"},
		}
		before := map[string]int64{}
		tables := []string{"reports", "cases", "reporters", "audit_events"}
		for _, tb := range tables {
			before[tb] = count(t, db, tb)
		}
		for _, tc := range tests {
			_, err := s.FileReport(ctx, tc.r)
			e, ok := errs.As(err)
			if !ok || e.Code != errs.Invalid {
				t.Errorf("%s: err = %v, want a validation error", tc.name, err)
				continue
			}
			if e.Fields[tc.field] == "" {
				t.Errorf("%s: no message for field %q in %v", tc.name, tc.field, e.Fields)
			}
		}
		for _, tb := range tables {
			if n := count(t, db, tb); n != before[tb] {
				t.Errorf("table %s went from %d to %d rows after rejected reports", tb, before[tb], n)
			}
		}
	})
}

func TestQueueOrderAndVisibility(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		s, clk := setup(t, db)
		ctx := context.Background()
		for _, r := range []cases.NewReport{
			report(cases.Spam, "https://acme.example"),
			report(cases.Copyright, "https://acme.example"),
			report(cases.CSAM, "https://board.example.co.uk/x"),
			report(cases.ViolentExtremism, "https://board.example.co.uk/y"),
			report(cases.Copyright, "https://shop.acme.example"),
		} {
			if _, err := s.FileReport(ctx, r); err != nil {
				t.Fatal(err)
			}
			clk.add(time.Minute)
		}
		page, err := s.Search(ctx, cases.Filter{Queues: []string{cases.QueueGeneral}})
		if err != nil {
			t.Fatal(err)
		}
		items := page.Items
		counts, err := s.OpenCount(ctx, []string{cases.QueueGeneral, cases.QueueRestricted})
		if err != nil {
			t.Fatal(err)
		}
		total := counts[cases.QueueGeneral]
		var got []string
		for _, it := range items {
			got = append(got, string(it.Category)+"@"+it.Hostname)
		}
		want := "violent_extremism@board.example.co.uk,copyright@acme.example,copyright@shop.acme.example,spam@acme.example"
		if strings.Join(got, ",") != want || total != 4 {
			t.Errorf("general queue = %v (total %d), want %s", got, total, want)
		}
		if items[0].CustomerName != "Forum" {
			t.Errorf("customer name = %q", items[0].CustomerName)
		}
		// The csam case is only visible to a viewer who may read the restricted queue.
		allPage, err := s.Search(ctx, cases.Filter{Queues: []string{cases.QueueGeneral, cases.QueueRestricted}})
		all := allPage.Items
		if err != nil || len(all) != 5 || all[0].Category != cases.CSAM || counts[cases.QueueRestricted] != 1 {
			t.Errorf("queue with restricted: %d items, first %v, err %v", len(all), all[0].Category, err)
		}
		if _, err := s.Get(ctx, all[0].ID, []string{cases.QueueGeneral}); !errors.Is(err, cases.ErrCaseNotFound) {
			t.Errorf("csam case read without the restricted queue: err = %v", err)
		}
		if none, _ := s.Search(ctx, cases.Filter{}); len(none.Items) != 0 {
			t.Errorf("no queues readable, yet %d items", len(none.Items))
		}
	})
}

func TestReceipt(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		s, _ := setup(t, db)
		ctx := context.Background()
		r, err := s.FileReport(ctx, report(cases.Phishing, "https://acme.example/login"))
		if err != nil {
			t.Fatal(err)
		}
		got, err := s.Receipt(ctx, strings.ToLower(r.PublicID))
		if err != nil || got.PublicID != r.PublicID || got.URL != "https://acme.example/login" || got.CaseState != cases.StateNew {
			t.Fatalf("Receipt = %+v, %v", got, err)
		}
		if _, err := s.Receipt(ctx, "nope"); errs.CodeOf(err) != errs.NotFound {
			t.Fatalf("unknown receipt: %v", err)
		}
		evs, err := audit.ForObject(ctx, db.R, "case", "1")
		if err != nil || len(evs) == 0 {
			t.Fatalf("audit events: %v, %v", evs, err)
		}
	})
}
