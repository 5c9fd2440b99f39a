package demo_test

import (
	"context"
	"testing"
	"time"

	"github.com/dockethq/docket/audit"
	"github.com/dockethq/docket/cases"
	"github.com/dockethq/docket/internal/database"
	"github.com/dockethq/docket/internal/demo"
	"github.com/dockethq/docket/internal/testdb"
	"github.com/dockethq/docket/policy"
	"github.com/dockethq/docket/transparency"
	"github.com/dockethq/docket/users"
)

// seedDemo is what `docket seed-demo` does: the history only on first seeding.
func seedDemo(t *testing.T, db *database.DB, now func() time.Time) bool {
	t.Helper()
	ctx := context.Background()
	en, err := policy.NewEnforcer(db)
	if err != nil {
		t.Fatal(err)
	}
	us := users.NewService(db, en, now)
	seeded, err := demo.Seed(ctx, db, us, now)
	if err != nil {
		t.Fatal(err)
	}
	if seeded {
		if err := demo.SeedHistory(ctx, db, us, now); err != nil {
			t.Fatal(err)
		}
	}
	return seeded
}

// TestSeedHistory: the history holds decisions of every kind over months, a
// termination signed off by two other people, one appeal reversed with the
// site reinstated and one upheld; the transparency report is not empty, the
// audit chain verifies, and a second seeding adds nothing.
func TestSeedHistory(t *testing.T) {
	testdb.FastPasswords()
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		now := time.Now().UTC()
		clock := func() time.Time { return now }
		if !seedDemo(t, db, clock) {
			t.Fatal("the first seeding reports nothing seeded")
		}

		var ds []cases.Decision
		if err := db.R.Order("id").Find(&ds).Error; err != nil {
			t.Fatal(err)
		}
		months := map[string]bool{}
		byAction := map[cases.DecisionAction][]cases.Decision{}
		for _, d := range ds {
			if d.FinalAt == nil {
				t.Errorf("decision %d (%s) is not final: %s", d.ID, d.Action, d.Status)
				continue
			}
			if !d.FinalAt.Before(now) {
				t.Errorf("decision %d is final at %s, not in the past", d.ID, d.FinalAt)
			}
			months[d.FinalAt.UTC().Format("2006-01")] = true
			byAction[d.Effective()] = append(byAction[d.Effective()], d)
		}
		for _, a := range cases.DecisionActions {
			if len(byAction[a]) == 0 {
				t.Errorf("no %s decision in the history", a)
			}
		}
		if len(months) < 4 {
			t.Errorf("decisions in %d calendar months (%v), want at least 4", len(months), months)
		}

		// The termination: proposed by the senior reviewer, signed off by two others.
		senior, legal, lead := userID(t, db, policy.SeniorReviewer), userID(t, db, policy.Legal), userID(t, db, policy.Leadership)
		if n := len(byAction[cases.Terminate]); n != 1 {
			t.Fatalf("%d terminations, want 1", n)
		}
		term := byAction[cases.Terminate][0]
		if term.ProposerID != senior {
			t.Errorf("termination proposed by user %d, want the senior reviewer %d", term.ProposerID, senior)
		}
		var sos []cases.Signoff
		db.R.Where("decision_id = ?", term.ID).Find(&sos)
		got := map[string]int64{}
		for _, so := range sos {
			if so.Verdict != "approve" || so.UserID == term.ProposerID {
				t.Errorf("sign-off %+v: want an approval by someone other than the proposer", so)
			}
			got[so.Role] = so.UserID
		}
		if got["legal"] != legal || got["leadership"] != lead || len(sos) != 2 {
			t.Errorf("termination sign-offs %+v, want legal by %d and leadership by %d", sos, legal, lead)
		}
		var st cases.Statement
		if err := db.R.Where("decision_id = ?", term.ID).Take(&st).Error; err != nil {
			t.Errorf("no statement of reasons for the termination: %v", err)
		}

		// The appeals: one reversed by someone who did not decide, with the
		// site reinstated by a newer decision and directive; one upheld.
		var aps []cases.Appeal
		db.R.Order("id").Find(&aps)
		states := map[string]int{}
		for _, ap := range aps {
			states[ap.State]++
			var d cases.Decision
			db.R.Take(&d, ap.DecisionID)
			if ap.ReviewerID == nil || *ap.ReviewerID == d.ProposerID {
				t.Errorf("appeal %d reviewed by %v, the decision's proposer is %d", ap.ID, ap.ReviewerID, d.ProposerID)
			}
			if ap.State != cases.AppealReversed {
				continue
			}
			if d.Status != "reversed" {
				t.Errorf("reversed appeal %d: decision %d is %s", ap.ID, d.ID, d.Status)
			}
			var re cases.Decision
			if err := db.R.Where("case_id = ? AND action = ?", d.CaseID, cases.Reinstate).Take(&re).Error; err != nil {
				t.Fatalf("reversed appeal %d: no reinstate decision: %v", ap.ID, err)
			}
			if re.FinalAt == nil || !re.FinalAt.After(*d.FinalAt) {
				t.Errorf("reinstate decision %d final at %v, not after the reversed decision's %v", re.ID, re.FinalAt, d.FinalAt)
			}
			var dirs []cases.Directive
			db.R.Where("case_id = ?", d.CaseID).Order("version").Find(&dirs)
			if len(dirs) == 0 {
				t.Fatalf("reversed appeal %d: no directives", ap.ID)
			}
			last := dirs[len(dirs)-1]
			if len(dirs) < 2 || last.Type != "site.reinstate" || last.DecisionID != re.ID ||
				last.Version <= dirs[0].Version || !last.IssuedAt.After(dirs[0].IssuedAt) {
				t.Errorf("reversed appeal %d: directives %+v, want a newer site.reinstate after the restriction", ap.ID, dirs)
			}
		}
		if states[cases.AppealReversed] != 1 || states[cases.AppealUpheld] != 1 || len(aps) != 2 {
			t.Errorf("appeals by state %v, want one reversed and one upheld", states)
		}

		// The transparency report for the last six months has figures.
		today := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC)
		rep, err := transparency.Compute(ctx, db, transparency.Period{From: today.AddDate(0, -6, 0), To: today.AddDate(0, 0, 1)}, now)
		if err != nil {
			t.Fatal(err)
		}
		if rep.Decisions.Total == 0 || rep.Notices.Total == 0 || rep.Appeals.Received != 2 || rep.Appeals.Reversed != 1 || rep.Appeals.Upheld != 1 {
			t.Errorf("transparency: %d decisions, %d notices, appeals %+v", rep.Decisions.Total, rep.Notices.Total, rep.Appeals)
		}

		if _, err := audit.Seal(ctx, db.W); err != nil {
			t.Fatal(err)
		}
		vr, err := audit.NewChain(db, audit.Options{}).Verify(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if !vr.OK {
			t.Errorf("audit chain: %s", vr.Summary())
		}

		// Seeding again, as a second `docket seed-demo` does, adds nothing.
		before := counts(t, db)
		if seedDemo(t, db, func() time.Time { return now.Add(time.Hour) }) {
			t.Error("the second seeding reports seeded")
		}
		if after := counts(t, db); after != before {
			t.Errorf("rows after a second seeding %v, before %v", after, before)
		}
	})
}

func userID(t *testing.T, db *database.DB, role string) int64 {
	t.Helper()
	for _, a := range demo.Accounts {
		if a.Role == role {
			var id int64
			if err := db.R.Raw("SELECT id FROM users WHERE email = ?", a.Email).Scan(&id).Error; err != nil || id == 0 {
				t.Fatalf("demo account %s: %v", a.Email, err)
			}
			return id
		}
	}
	t.Fatalf("no demo account with role %s", role)
	return 0
}

// counts are the rows the demo writes, table by table.
func counts(t *testing.T, db *database.DB) [9]int64 {
	t.Helper()
	var out [9]int64
	for i, table := range []string{"customers", "sites", "reports", "cases", "decisions", "appeals", "statements", "directives", "audit_events"} {
		if err := db.R.Raw("SELECT COUNT(*) FROM " + table).Scan(&out[i]).Error; err != nil {
			t.Fatal(err)
		}
	}
	return out
}
