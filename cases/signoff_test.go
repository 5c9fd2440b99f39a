package cases_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/dockethq/docket/cases"
	"github.com/dockethq/docket/internal/database"
	"github.com/dockethq/docket/internal/errs"
	"github.com/dockethq/docket/internal/testdb"
)

func TestSignoffInvariants(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		s, _ := setup(t, db)
		ctx := context.Background()
		people := staff(t, db, 4)
		proposer := people[0]
		both := roles(people[1], "legal", "leadership") // holds both roles
		legal := roles(people[2], "legal")
		lead := roles(people[3], "leadership")
		c, d := proposeTermination(t, s, proposer, "https://board.example.co.uk/t/1")

		// The proposer cannot sign off, even holding the role.
		if _, err := s.SignOff(ctx, roles(proposer, "legal", "leadership"), d.ID, "legal", "approve", ""); errs.CodeOf(err) != errs.Forbidden {
			t.Errorf("proposer signed off: %v", err)
		}
		// Without the role, no sign-off in it.
		if _, err := s.SignOff(ctx, legal, d.ID, "leadership", "approve", ""); errs.CodeOf(err) != errs.Forbidden {
			t.Errorf("legal signed off as leadership: %v", err)
		}
		// Someone holding both roles gives one sign-off only.
		if _, err := s.SignOff(ctx, both, d.ID, "legal", "approve", ""); err != nil {
			t.Fatal(err)
		}
		if _, err := s.SignOff(ctx, both, d.ID, "leadership", "approve", ""); errs.CodeOf(err) != errs.Forbidden {
			t.Errorf("one person gave both sign-offs: %v", err)
		}
		// A second legal approval adds nothing.
		if _, err := s.SignOff(ctx, legal, d.ID, "legal", "approve", ""); errs.CodeOf(err) != errs.Conflict {
			t.Errorf("second legal approval: %v", err)
		}
		var dirs int64
		db.R.Table("directives").Count(&dirs)
		if dirs != 0 {
			t.Fatalf("a directive was queued with one sign-off")
		}
		// The leadership approval, from a third person, makes it final and queues the directive.
		fin, err := s.SignOff(ctx, lead, d.ID, "leadership", "approve", "")
		if err != nil || fin.Status != "final" {
			t.Fatalf("final approval: %+v %v", fin, err)
		}
		var cs cases.Case
		db.R.Take(&cs, c.ID)
		if cs.State != cases.StateDecided {
			t.Errorf("case state = %s", cs.State)
		}
		ds, err := s.Directives(ctx, c.ID)
		if err != nil || len(ds) != 1 || ds[0].Type != "site.terminate" || ds[0].Version != 1 || ds[0].DecisionID != d.ID {
			t.Fatalf("directives: %+v %v", ds, err)
		}
		var hs []string
		_ = json.Unmarshal([]byte(ds[0].Hostnames), &hs)
		if len(hs) != 1 || hs[0] != "board.example.co.uk" {
			t.Errorf("hostnames = %v", hs)
		}
		if _, err := s.SignOff(ctx, roles(people[3], "legal"), d.ID, "legal", "approve", ""); errs.CodeOf(err) != errs.Conflict {
			t.Errorf("sign-off after final: %v", err)
		}
	})
}

func TestSignoffRejectReturnsToReview(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		s, _ := setup(t, db)
		ctx := context.Background()
		people := staff(t, db, 3)
		c, d := proposeTermination(t, s, people[0], "https://board.example.co.uk/t/2")
		if _, err := s.SignOff(ctx, roles(people[1], "legal"), d.ID, "legal", "reject", " "); errs.CodeOf(err) != errs.Invalid {
			t.Errorf("reject without a comment: %v", err)
		}
		if _, err := s.SignOff(ctx, roles(people[1], "legal"), d.ID, "legal", "reject", "Evidence does not show incitement by the operator."); err != nil {
			t.Fatal(err)
		}
		var cs cases.Case
		db.R.Take(&cs, c.ID)
		var st string
		db.R.Table("decisions").Select("status").Where("id = ?", d.ID).Scan(&st)
		if cs.State != cases.StateInReview || st != "rejected" {
			t.Errorf("after reject: case %s, decision %s", cs.State, st)
		}
		if _, err := s.SignOff(ctx, roles(people[2], "leadership"), d.ID, "leadership", "approve", ""); errs.CodeOf(err) != errs.Conflict {
			t.Errorf("approval of a rejected proposal: %v", err)
		}
	})
}

// TestDirectiveVersionsGrow: each restrict or terminate on a hostname carries a
// version above the last.
func TestDirectiveVersionsGrow(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		s, _ := setup(t, db)
		ctx := context.Background()
		a := staff(t, db, 1)[0]
		var versions []int64
		for _, cat := range []cases.Category{cases.Phishing, cases.Malware, cases.Spam} {
			r := claimed(t, s, a, report(cat, "https://acme.example/x"))
			mustDecide(t, s, a, r.CaseID, cases.Proposal{Action: cases.Restrict, Grounds: "AUP", Explanation: "Restricted."})
			ds, _ := s.Directives(ctx, r.CaseID)
			if len(ds) != 1 || ds[0].Type != "site.restrict" {
				t.Fatalf("directives for case %d: %+v", r.CaseID, ds)
			}
			versions = append(versions, ds[0].Version)
		}
		if versions[0] != 1 || versions[1] != 2 || versions[2] != 3 {
			t.Errorf("versions = %v, want 1, 2, 3", versions)
		}
		// Restricting a host Docket does not serve is refused: nothing to act on.
		// Such reports open no case now; cases from before that still exist.
		r := hostCase(t, db, "not-ours.example")
		claimCase(t, s, a, r)
		if _, _, err := s.Decide(ctx, a, r, cases.Proposal{Action: cases.Restrict, Grounds: "AUP", Explanation: "x"}); errs.CodeOf(err) != errs.Invalid {
			t.Errorf("restrict an unknown host: %v", err)
		}
		// Hostnames must be the customer's.
		r2 := claimed(t, s, a, report(cases.Threat, "https://acme.example/"))
		if _, _, err := s.Decide(ctx, a, r2.CaseID, cases.Proposal{Action: cases.Terminate, Grounds: "AUP", Explanation: "x", Hostnames: []string{"board.example.co.uk"}}); errs.CodeOf(err) != errs.Invalid {
			t.Errorf("terminate another customer's hostname: %v", err)
		}
	})
}

func TestEmergencyRestrict(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		s, clk := setup(t, db)
		ctx := context.Background()
		people := staff(t, db, 3)
		senior := people[0] // Can: everything
		junior := cases.Actor{UserID: people[0].UserID, Can: func(string, string) bool { return false }}
		emergency := func(a cases.Actor, cat cases.Category, url string) (*cases.Report, *cases.Decision, error) {
			r := claimed(t, s, senior, report(cat, url))
			_, d, err := s.Decide(ctx, a, r.CaseID, cases.Proposal{Action: cases.Restrict, Grounds: "Imminent threat", Explanation: "Restricted pending review.", Emergency: true})
			return r, d, err
		}
		if _, _, err := emergency(junior, cases.Threat, "https://acme.example/t"); errs.CodeOf(err) != errs.Forbidden {
			t.Errorf("emergency by a non-senior: %v", err)
		}
		if _, _, err := emergency(senior, cases.Phishing, "https://acme.example/p"); errs.CodeOf(err) != errs.Invalid {
			t.Errorf("emergency in a phishing case: %v", err)
		}
		r, d, err := emergency(senior, cases.Threat, "https://board.example.co.uk/t")
		if err != nil || !d.Emergency || d.Status != "final" || d.SignoffDueAt == nil {
			t.Fatalf("emergency restrict: %+v %v", d, err)
		}
		ds, _ := s.Directives(ctx, r.CaseID)
		if len(ds) != 1 || ds[0].Type != "site.restrict" {
			t.Fatalf("directive: %+v", ds)
		}
		if n, _ := s.OverdueEmergencies(ctx); n != 0 {
			t.Errorf("overdue right away: %d", n)
		}
		clk.add(cases.EmergencyDeadline + time.Minute)
		if n, _ := s.OverdueEmergencies(ctx); n != 1 {
			t.Errorf("overdue after the deadline: %d", n)
		}
		pending, _ := s.PendingSignoffs(ctx, []string{cases.QueueGeneral})
		if len(pending) != 1 || pending[0].Decision.ID != d.ID {
			t.Errorf("inbox: %+v", pending)
		}
		// Legal rejects: the restriction is undone with a newer reinstate directive.
		if _, err := s.SignOff(ctx, roles(people[1], "legal"), d.ID, "legal", "reject", "Not a credible threat."); err != nil {
			t.Fatal(err)
		}
		ds, _ = s.Directives(ctx, r.CaseID)
		if len(ds) != 2 || ds[0].Type != "site.reinstate" || ds[0].Version != ds[1].Version+1 {
			t.Fatalf("after reject: %+v", ds)
		}
		var c cases.Case
		db.R.Take(&c, r.CaseID)
		if c.State != cases.StateInReview {
			t.Errorf("case after a revoked emergency: %s", c.State)
		}
		if n, _ := s.OverdueEmergencies(ctx); n != 0 {
			t.Errorf("a rejected emergency still counts as overdue")
		}
		// Another one is ratified by both.
		r2, d2, err := emergency(senior, cases.CSAM, "https://acme.example/c")
		if err != nil {
			t.Fatal(err)
		}
		var c2 cases.Case
		db.R.Take(&c2, r2.CaseID)
		if c2.State != cases.StateDecided {
			t.Fatalf("emergency restricted case state: %s", c2.State)
		}
		approveBoth(t, s, roles(people[1], "legal"), roles(people[2], "leadership"), d2)
		var rat cases.Decision
		db.R.Take(&rat, d2.ID)
		if rat.RatifiedAt == nil {
			t.Errorf("not ratified")
		}
		var c3 cases.Case
		db.R.Take(&c3, r2.CaseID)
		if c3.State != cases.StateDecided {
			t.Errorf("ratified case state: %s", c3.State)
		}
	})
}

func TestReverseSendsReinstate(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		s, _ := setup(t, db)
		ctx := context.Background()
		a := staff(t, db, 1)[0]
		r, _ := s.FileReport(ctx, report(cases.Malware, "https://acme.example/x"))
		if _, err := s.Reverse(ctx, a, r.CaseID, "mistake"); errs.CodeOf(err) != errs.Conflict {
			t.Errorf("reverse an undecided case: %v", err)
		}
		claimCase(t, s, a, r.CaseID)
		mustDecide(t, s, a, r.CaseID, cases.Proposal{Action: cases.Restrict, Grounds: "AUP", Explanation: "x"})
		d, err := s.Reverse(ctx, a, r.CaseID, "Wrong site: the malware was on a neighbour.")
		if err != nil || d.Action != cases.Reinstate {
			t.Fatalf("reverse: %+v %v", d, err)
		}
		ds, _ := s.Directives(ctx, r.CaseID)
		if len(ds) != 2 || ds[0].Type != "site.reinstate" || ds[0].Version != ds[1].Version+1 {
			t.Fatalf("directives: %+v", ds)
		}
		var c cases.Case
		db.R.Take(&c, r.CaseID)
		if c.State != cases.StateInReview {
			t.Errorf("state after reversal: %s", c.State)
		}
		if _, err := s.Reverse(ctx, a, r.CaseID, "again"); err == nil {
			t.Errorf("reversed twice")
		}
	})
}

// hostCase inserts an open phishing case about a host Docket does not serve, as
// FileReport opened them before reports about such hosts stopped opening cases.
func hostCase(t *testing.T, db *database.DB, host string) int64 {
	t.Helper()
	now := time.Now().UTC()
	c := cases.Case{GroupKey: "host:" + host, Hostname: host, Category: cases.Phishing, Severity: 60, Priority: 60,
		Queue: cases.QueueGeneral, State: cases.StateNew, SLADueAt: now.Add(time.Hour), OpenedAt: now, UpdatedAt: now, Version: 1}
	if err := db.W.Create(&c).Error; err != nil {
		t.Fatal(err)
	}
	return c.ID
}
