package cases_test

import (
	"context"
	"testing"
	"time"

	"github.com/dockethq/docket/cases"
	"github.com/dockethq/docket/internal/database"
	"github.com/dockethq/docket/internal/errs"
	"github.com/dockethq/docket/internal/testdb"
)

// decideOn files a report, claims its case and decides p; it returns the case id.
func decideOn(t *testing.T, s *cases.Service, a cases.Actor, cat cases.Category, url string, p cases.Proposal) (int64, *cases.Decision, error) {
	t.Helper()
	r := claimed(t, s, a, report(cat, url))
	if p.Grounds == "" {
		p.Grounds, p.Explanation = "AUP 4", "Explained."
	}
	_, d, err := s.Decide(context.Background(), a, r.CaseID, p)
	return r.CaseID, d, err
}

func customerID(t *testing.T, db *database.DB, name string) int64 {
	t.Helper()
	var id int64
	if err := db.R.Table("customers").Where("name = ?", name).Select("id").Scan(&id).Error; err != nil || id == 0 {
		t.Fatalf("customer %s: %v", name, err)
	}
	return id
}

// TestStrikeLedger: final actions write weighted strikes; the ledger counts
// live ones only (not expired, not reversed); the threshold suggests and
// nothing more.
func TestStrikeLedger(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		s, clk := setup(t, db)
		ctx := context.Background()
		a := staff(t, db, 1)[0]
		acme := customerID(t, db, "Acme")
		all := []string{cases.QueueGeneral, cases.QueueRestricted}

		if _, _, err := decideOn(t, s, a, cases.Spam, "https://acme.example/spam", cases.Proposal{Action: cases.NoAction}); err != nil {
			t.Fatal(err)
		}
		if _, _, err := decideOn(t, s, a, cases.Phishing, "https://acme.example/login", cases.Proposal{Action: cases.Warn}); err != nil {
			t.Fatal(err)
		}
		clk.add(24 * time.Hour)
		if _, _, err := decideOn(t, s, a, cases.Malware, "https://shop.acme.example/x.exe", cases.Proposal{Action: cases.BlockURL, URLs: []string{"https://shop.acme.example/x.exe"}}); err != nil {
			t.Fatal(err)
		}
		l, err := s.Strikes(ctx, acme, all)
		if err != nil {
			t.Fatal(err)
		}
		if l.Total != 8 || len(l.Strikes) != 2 || l.Suggest() || l.Threshold != 10 {
			t.Fatalf("ledger after warn and block: %+v", l)
		}
		if st := l.Strikes[0]; st.Action != cases.BlockURL || st.Weight != 4 || st.Category != cases.Malware || st.Hostname != "shop.acme.example" ||
			!st.ExpiresAt.Equal(clk.now().Add(365*24*time.Hour)) {
			t.Errorf("newest strike: %+v", st)
		}
		if count(t, db, "strikes") != 2 {
			t.Errorf("no action wrote a strike")
		}

		// A restriction reversed by mistake takes its strike off the ledger.
		restricted, _, err := decideOn(t, s, a, cases.Copyright, "https://acme.example/film", cases.Proposal{Action: cases.Restrict})
		if err != nil {
			t.Fatal(err)
		}
		if l, _ := s.Strikes(ctx, acme, all); l.Total != 10 || !l.Suggest() {
			t.Errorf("at the threshold: %+v", l)
		}
		if _, err := s.Reverse(ctx, a, restricted, "Licensed after all."); err != nil {
			t.Fatal(err)
		}
		if l, _ := s.Strikes(ctx, acme, all); l.Total != 8 || l.Suggest() {
			t.Errorf("after the reversal: %+v", l)
		}

		// An interstitial reaches the threshold: a suggestion, and nothing applied.
		before := count(t, db, "directives")
		if _, _, err := decideOn(t, s, a, cases.Harassment, "https://acme.example/doxx", cases.Proposal{Action: cases.Interstitial}); err != nil {
			t.Fatal(err)
		}
		l, _ = s.Strikes(ctx, acme, all)
		if l.Total != 11 || !l.Suggest() {
			t.Fatalf("over the threshold: %+v", l)
		}
		var terminations int64
		db.R.Table("decisions").Where("action = 'terminate'").Count(&terminations)
		if terminations != 0 || count(t, db, "directives") != before+1 {
			t.Errorf("the suggestion acted: %d terminations, %d directives", terminations, count(t, db, "directives")-before)
		}
		// Viewers who may not read a queue see the total but not the entries.
		if l, _ := s.Strikes(ctx, acme, nil); l.Total != 11 || len(l.Strikes) != 0 || l.Hidden != 3 {
			t.Errorf("ledger for a viewer of no queue: %+v", l)
		}

		// A year after the warn it stops counting; the day-later block still counts.
		clk.add(364*24*time.Hour - time.Minute)
		if l, _ := s.Strikes(ctx, acme, all); l.Total != 11 {
			t.Errorf("just before the first expiry: %+v", l)
		}
		clk.add(2 * time.Minute)
		if l, _ := s.Strikes(ctx, acme, all); l.Total != 7 || len(l.Strikes) != 2 {
			t.Errorf("after the warn expired: %+v", l)
		}

		// A configurable policy: threshold and weights.
		s.SetStrikePolicy(cases.StrikePolicy{Weights: map[cases.Category]int{cases.Harassment: 20}, Lifetime: time.Hour, Threshold: 25})
		if _, _, err := decideOn(t, s, a, cases.Harassment, "https://shop.acme.example/doxx", cases.Proposal{Action: cases.Warn}); err != nil {
			t.Fatal(err)
		}
		if l, _ := s.Strikes(ctx, acme, all); l.Total != 27 || !l.Suggest() || l.Threshold != 25 {
			t.Errorf("with a custom policy: %+v", l)
		}
	})
}

// TestGraduatedDecisionsRefused: bad graduated decisions get field errors and
// change nothing.
func TestGraduatedDecisionsRefused(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		s, _ := setup(t, db)
		ctx := context.Background()
		a := staff(t, db, 1)[0]
		r, err := s.FileReport(ctx, report(cases.Malware, "https://acme.example/x.exe"))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.Claim(ctx, a, r.CaseID); err != nil {
			t.Fatal(err)
		}
		before := snap(t, db, r.CaseID)
		for _, tc := range []struct {
			name  string
			p     cases.Proposal
			field string
		}{
			{"block without URLs", cases.Proposal{Action: cases.BlockURL}, "urls"},
			{"block another customer's URL", cases.Proposal{Action: cases.BlockURL, URLs: []string{"https://board.example.co.uk/x"}}, "urls"},
			{"block something that is not a URL", cases.Proposal{Action: cases.BlockURL, URLs: []string{"javascript:alert(1)"}}, "urls"},
			{"a warning that expires", cases.Proposal{Action: cases.Warn, Lasts: time.Hour}, "lasts"},
			{"an expiry over a year", cases.Proposal{Action: cases.Restrict, Lasts: 400 * 24 * time.Hour}, "lasts"},
			{"an unknown action", cases.Proposal{Action: "suspend"}, "action"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				tc.p.Grounds, tc.p.Explanation = "AUP", "Explained."
				_, _, err := s.Decide(ctx, a, r.CaseID, tc.p)
				e, ok := errs.As(err)
				if !ok || e.Code != errs.Invalid || e.Fields[tc.field] == "" {
					t.Fatalf("err = %v, want a field error on %s", err, tc.field)
				}
				if after := snap(t, db, r.CaseID); after.c.Version != before.c.Version || after.c.State != before.c.State || after.decisions != before.decisions || after.events != before.events {
					t.Errorf("a refused decision changed something: %+v → %+v", before, after)
				}
			})
		}
		if count(t, db, "strikes") != 0 || count(t, db, "directives") != 0 {
			t.Error("a refused decision wrote a strike or a directive")
		}
		// An emergency restriction cannot be a narrower measure.
		_, _, err = s.Decide(ctx, a, r.CaseID, cases.Proposal{Action: cases.Interstitial, Grounds: "x", Explanation: "y", Emergency: true})
		if e, ok := errs.As(err); !ok || e.Code != errs.Invalid {
			t.Errorf("emergency interstitial: %v", err)
		}
	})
}

// TestTerminationExpiryCountsFromSignoff: a termination's expiry starts when it
// becomes final, and its directive carries it.
func TestTerminationExpiryCountsFromSignoff(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		s, clk := setup(t, db)
		ctx := context.Background()
		actors := staff(t, db, 3)
		_, d, err := decideOn(t, s, actors[0], cases.ViolentExtremism, "https://acme.example/m", cases.Proposal{Action: cases.Terminate, Lasts: 30 * 24 * time.Hour})
		if err != nil {
			t.Fatal(err)
		}
		if d.ExpiresAt != nil || d.LastsSeconds != 30*24*3600 {
			t.Fatalf("proposal: %+v", d)
		}
		clk.add(3 * time.Hour)
		if _, err := s.SignOff(ctx, actors[1], d.ID, cases.SignoffLegal, "approve", ""); err != nil {
			t.Fatal(err)
		}
		d, err = s.SignOff(ctx, actors[2], d.ID, cases.SignoffLeadership, "approve", "")
		if err != nil {
			t.Fatal(err)
		}
		want := clk.now().Add(30 * 24 * time.Hour)
		if d.ExpiresAt == nil || !d.ExpiresAt.Equal(want) {
			t.Errorf("final expiry %v, want %v", d.ExpiresAt, want)
		}
		var dir cases.Directive
		if err := db.R.Take(&dir).Error; err != nil || dir.ExpiresAt == nil || !dir.ExpiresAt.Equal(want) || dir.EdgeType() != "site.terminate" {
			t.Errorf("directive: %+v %v", dir, err)
		}
	})
}
