package cases_test

import (
	"context"
	"testing"
	"time"

	"github.com/dockethq/docket/cases"
	"github.com/dockethq/docket/internal/database"
	"github.com/dockethq/docket/internal/testdb"
)

// The same reporter and URL within the window: linked, not counted. Outside
// the window, another category, or an anonymous reporter: a report of its own.
func TestDuplicates(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		s, clk := setup(t, db)
		ctx := context.Background()
		file := func(cat cases.Category, url, email string) *cases.Report {
			t.Helper()
			n := report(cat, url)
			n.ReporterEmail = email
			r, err := s.FileReport(ctx, n)
			if err != nil {
				t.Fatal(err)
			}
			return r
		}
		caseOf := func(id int64) cases.Case {
			var c cases.Case
			db.R.Take(&c, id)
			return c
		}
		first := file(cases.Phishing, "https://acme.example/login", "a@reporter.example")
		before := caseOf(first.CaseID)
		clk.add(23 * time.Hour)
		dup := file(cases.Phishing, "HTTPS://ACME.example:443/login", "A@Reporter.example")
		if dup.Status != cases.ReportDuplicate || dup.DuplicateOf == nil || *dup.DuplicateOf != first.ID || dup.CaseID != 0 {
			t.Fatalf("repeat within the window: %+v", dup)
		}
		if after := caseOf(first.CaseID); after.ReportCount != before.ReportCount || after.Priority != before.Priority || after.Version != before.Version {
			t.Errorf("a duplicate changed the case: %+v → %+v", before, after)
		}
		r, err := s.Receipt(ctx, dup.PublicID)
		if err != nil || r.DuplicateOf != first.PublicID || r.CaseState != cases.StateNew || r.APIStatus() != "new" {
			t.Errorf("duplicate's receipt: %+v, %v", r, err)
		}
		if n := count(t, db, "audit_events WHERE action = 'report.duplicate' AND object_type = 'case'"); n != 1 {
			t.Errorf("%d report.duplicate events on the case", n)
		}
		// Another category is another claim; an anonymous reporter cannot repeat.
		if r := file(cases.Malware, "https://acme.example/login", "a@reporter.example"); r.Status != cases.ReportFiled {
			t.Errorf("other category: %s", r.Status)
		}
		a1, a2 := file(cases.Spam, "https://acme.example/x", ""), file(cases.Spam, "https://acme.example/x", "")
		if a1.Status != cases.ReportFiled || a2.Status != cases.ReportFiled {
			t.Errorf("anonymous repeats: %s, %s", a1.Status, a2.Status)
		}
		// Past the window (from the original, not the duplicate) it counts again.
		clk.add(2 * time.Hour)
		again := file(cases.Phishing, "https://acme.example/login", "a@reporter.example")
		if again.Status != cases.ReportFiled || again.CaseID != first.CaseID {
			t.Errorf("outside the window: %+v", again)
		}
		if c := caseOf(first.CaseID); c.ReportCount != before.ReportCount+1 {
			t.Errorf("report count %d, want %d", c.ReportCount, before.ReportCount+1)
		}
		// Window off: every repeat is a report.
		s.SetDuplicateWindow(0)
		if r := file(cases.Phishing, "https://acme.example/login", "a@reporter.example"); r.Status != cases.ReportFiled {
			t.Errorf("window off: %s", r.Status)
		}
	})
}

// A report about a host not served: kept with a receipt, no case, audited.
func TestNotHosted(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		s, _ := setup(t, db)
		ctx := context.Background()
		cs := count(t, db, "cases")
		r, err := s.FileReport(ctx, report(cases.Phishing, "https://login.not-ours.example.co.uk/"))
		if err != nil {
			t.Fatal(err)
		}
		if r.Status != cases.ReportNotHosted || r.CaseID != 0 || count(t, db, "cases") != cs {
			t.Fatalf("not hosted: %+v", r)
		}
		rc, err := s.Receipt(ctx, r.PublicID)
		if err != nil || !rc.NotHosted() || rc.APIStatus() != "not_hosted" || rc.RegistrableDomain() != "example.co.uk" || rc.CaseState != "" {
			t.Errorf("receipt: %+v %v", rc, err)
		}
		if n := count(t, db, "audit_events WHERE action = 'report.not_hosted'"); n != 1 {
			t.Errorf("%d report.not_hosted events", n)
		}
		m, err := s.Match(ctx, "https://login.not-ours.example.co.uk/")
		if err != nil || m.Site != nil || m.Target.Host != "login.not-ours.example.co.uk" {
			t.Errorf("Match: %+v %v", m, err)
		}
	})
}
