package cases_test

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/dockethq/docket/cases"
	"github.com/dockethq/docket/internal/database"
	"github.com/dockethq/docket/internal/errs"
	"github.com/dockethq/docket/internal/testdb"
)

// decided files a report on url and decides it as decider.
func decided(t *testing.T, s *cases.Service, decider cases.Actor, cat cases.Category, url string, act cases.DecisionAction) (*cases.Report, *cases.Decision) {
	t.Helper()
	r, _, d := fileDecided(t, s, decider, report(cat, url), cases.Proposal{Action: act, Grounds: "AUP 3.2", Explanation: "The page imitates a bank."})
	return r, d
}

func caseState(t *testing.T, db *database.DB, id int64) cases.State {
	t.Helper()
	var st cases.State
	if err := db.R.Table("cases").Select("state").Where("id = ?", id).Scan(&st).Error; err != nil {
		t.Fatal(err)
	}
	return st
}

func TestAppealLifecycle(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		s, clk := setup(t, db)
		ctx := context.Background()
		people := staff(t, db, 2)
		decider, reviewer := people[0], people[1]
		r, d := decided(t, s, decider, cases.Phishing, "https://acme.example/login", cases.Restrict)
		customer := cases.AppealLink{Purpose: cases.AppealPurposeCustomer, ID: d.ID}
		reporter := cases.AppealLink{Purpose: cases.AppealPurposeReporter, ID: r.ID}

		// A reporter may appeal only a decision not to act.
		if _, err := s.FileAppeal(ctx, reporter, "Please act."); errs.CodeOf(err) != errs.Conflict || !strings.Contains(err.Error(), "only a decision not to act") {
			t.Errorf("reporter appealed a restriction: %v", err)
		}
		// Grounds are required and capped; nothing is written on refusal.
		for _, g := range []string{"", "   ", strings.Repeat("x", cases.MaxAppealText+1), "bad\x00text"} {
			if _, err := s.FileAppeal(ctx, customer, g); errs.CodeOf(err) != errs.Invalid {
				t.Errorf("grounds %q: %v", g[:min(len(g), 10)], err)
			}
		}
		if n := count(t, db, "appeals"); n != 0 {
			t.Fatalf("%d appeals after refusals", n)
		}
		ap, err := s.FileAppeal(ctx, customer, "The page was a parody, clearly labelled.")
		if err != nil {
			t.Fatal(err)
		}
		if st := caseState(t, db, r.CaseID); st != cases.StateAppealed {
			t.Errorf("case %s after appeal", st)
		}
		if _, err := s.FileAppeal(ctx, customer, "Again."); errs.CodeOf(err) != errs.Conflict {
			t.Errorf("second appeal: %v", err)
		}
		if n := count(t, db, "appeals"); n != 1 {
			t.Errorf("%d appeals, want 1", n)
		}
		// The decider neither replies nor rules, whatever the policy grants.
		if err := s.ReplyAppeal(ctx, decider, ap.ID, "I stand by it."); errs.CodeOf(err) != errs.Forbidden {
			t.Errorf("decider replied: %v", err)
		}
		if _, err := s.ReverseAppeal(ctx, decider, ap.ID, "Fine."); errs.CodeOf(err) != errs.Forbidden || !strings.Contains(err.Error(), "You made the decision") {
			t.Errorf("decider reversed: %v", err)
		}
		if err := s.ReplyAppeal(ctx, reviewer, ap.ID, "Can you show the label?"); err != nil {
			t.Fatal(err)
		}
		if err := s.AppellantMessage(ctx, customer, "It is in the footer."); err != nil {
			t.Fatal(err)
		}
		if n := count(t, db, "appeal_messages"); n != 3 {
			t.Errorf("%d messages in the thread, want 3", n)
		}
		dirs := count(t, db, "directives")
		var before int64
		db.R.Table("hostname_versions").Select("version").Where("hostname = 'acme.example'").Scan(&before)
		clk.add(time.Hour)
		if _, err := s.ReverseAppeal(ctx, reviewer, ap.ID, "The label is there; we were wrong."); err != nil {
			t.Fatal(err)
		}
		var dir cases.Directive
		db.R.Order("version DESC").Where("case_id = ?", r.CaseID).Take(&dir)
		if count(t, db, "directives") != dirs+1 || dir.Type != "site.reinstate" || dir.Version <= before {
			t.Errorf("reversal directive %+v (was version %d)", dir, before)
		}
		var got cases.Decision
		db.R.Take(&got, d.ID)
		if got.Status != "reversed" || caseState(t, db, r.CaseID) != cases.StateInReview {
			t.Errorf("after reversal: decision %s, case %s", got.Status, caseState(t, db, r.CaseID))
		}
		var live int64
		db.R.Table("strikes").Where("decision_id = ? AND voided_at IS NULL", d.ID).Count(&live)
		if live != 0 {
			t.Errorf("the reversed decision still counts as %d live strike(s)", live)
		}
		if _, err := s.UpholdAppeal(ctx, reviewer, ap.ID, "Changed my mind."); errs.CodeOf(err) != errs.Conflict {
			t.Errorf("ruled twice: %v", err)
		}
		var events []string
		db.R.Table("audit_events").Where("object_type = 'case' AND object_id = ? AND action LIKE 'appeal.%'", strconv.FormatInt(r.CaseID, 10)).Order("id").Pluck("action", &events)
		if strings.Join(events, ",") != "appeal.filed,appeal.reply,appeal.message,appeal.reversed" {
			t.Errorf("audit trail %v", events)
		}
	})
}

func TestAppealUpheldAndWindow(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		s, clk := setup(t, db)
		ctx := context.Background()
		people := staff(t, db, 2)
		decider, reviewer := people[0], people[1]

		// A reporter appeals a decision not to act; the customer cannot.
		r, d := decided(t, s, decider, cases.Malware, "https://acme.example/dl.exe", cases.NoAction)
		if _, err := s.FileAppeal(ctx, cases.AppealLink{Purpose: cases.AppealPurposeCustomer, ID: d.ID}, "Nothing to appeal."); errs.CodeOf(err) != errs.Conflict {
			t.Errorf("customer appealed no action: %v", err)
		}
		ap, err := s.FileAppeal(ctx, cases.AppealLink{Purpose: cases.AppealPurposeReporter, ID: r.ID}, "The file is a known trojan.")
		if err != nil {
			t.Fatal(err)
		}
		dirs := count(t, db, "directives")
		if _, err := s.UpholdAppeal(ctx, reviewer, ap.ID, "The file is a benign installer."); err != nil {
			t.Fatal(err)
		}
		if count(t, db, "directives") != dirs || caseState(t, db, r.CaseID) != cases.StateClosed {
			t.Errorf("upheld: %d directives (was %d), case %s", count(t, db, "directives"), dirs, caseState(t, db, r.CaseID))
		}

		// Six months and more: the window closes after AppealWindow.
		r2, d2 := decided(t, s, decider, cases.Phishing, "https://shop.acme.example/x", cases.Warn)
		clk.add(cases.AppealWindow - time.Minute)
		link := cases.AppealLink{Purpose: cases.AppealPurposeCustomer, ID: d2.ID}
		sub, err := s.AppealFor(ctx, link)
		if err != nil || !sub.Deadline.After(clk.now()) {
			t.Fatalf("within the window: %v", err)
		}
		clk.add(2 * time.Minute)
		if _, err := s.FileAppeal(ctx, link, "Late."); errs.CodeOf(err) != errs.Conflict {
			t.Errorf("appeal after the window: %v", err)
		}
		if caseState(t, db, r2.CaseID) != cases.StateDecided {
			t.Errorf("late appeal changed the case")
		}
	})
}

// TestAppealSignersMayNotReview: legal and leadership who signed off a
// termination are deciders too.
func TestAppealSignersMayNotReview(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		s, _ := setup(t, db)
		ctx := context.Background()
		people := staff(t, db, 4)
		_, d := proposeTermination(t, s, people[0], "https://board.example.co.uk/t/9")
		approveBoth(t, s, roles(people[1], "legal"), roles(people[2], "leadership"), d)
		ap, err := s.FileAppeal(ctx, cases.AppealLink{Purpose: cases.AppealPurposeCustomer, ID: d.ID}, "We removed the posts.")
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range []cases.Actor{people[0], people[1], people[2]} {
			if _, err := s.ReverseAppeal(ctx, a, ap.ID, "Reinstated."); errs.CodeOf(err) != errs.Forbidden {
				t.Errorf("user %d took part in the decision and reversed it: %v", a.UserID, err)
			}
		}
		if _, err := s.ReverseAppeal(ctx, people[3], ap.ID, "Reinstated."); err != nil {
			t.Fatal(err)
		}
	})
}
