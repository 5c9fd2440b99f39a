package cases_test

import (
	"context"
	"testing"

	"github.com/dockethq/docket/cases"
)

// Shared steps of the claim → decide → sign-off path. Each fails the test at
// once when a step is refused, so a test that uses them asserts only what it
// is about.

// claimCase claims case id as a.
func claimCase(t *testing.T, s *cases.Service, a cases.Actor, id int64) {
	t.Helper()
	if _, err := s.Claim(context.Background(), a, id); err != nil {
		t.Fatalf("claim case %d: %v", id, err)
	}
}

// claimed files n and claims the case it opens as a.
func claimed(t *testing.T, s *cases.Service, a cases.Actor, n cases.NewReport) *cases.Report {
	t.Helper()
	r, err := s.FileReport(context.Background(), n)
	if err != nil {
		t.Fatal(err)
	}
	claimCase(t, s, a, r.CaseID)
	return r
}

// mustDecide decides p on case id as a.
func mustDecide(t *testing.T, s *cases.Service, a cases.Actor, id int64, p cases.Proposal) (*cases.Case, *cases.Decision) {
	t.Helper()
	c, d, err := s.Decide(context.Background(), a, id, p)
	if err != nil {
		t.Fatalf("decide %s on case %d: %v", p.Action, id, err)
	}
	return c, d
}

// fileDecided files n, claims its case as a and decides p on it.
func fileDecided(t *testing.T, s *cases.Service, a cases.Actor, n cases.NewReport, p cases.Proposal) (*cases.Report, *cases.Case, *cases.Decision) {
	t.Helper()
	r := claimed(t, s, a, n)
	c, d := mustDecide(t, s, a, r.CaseID, p)
	return r, c, d
}

// roles gives an actor sign-off rights in the given roles only.
func roles(a cases.Actor, rs ...string) cases.Actor {
	return cases.Actor{UserID: a.UserID, Can: func(obj, act string) bool {
		for _, r := range rs {
			if obj == "signoff/"+r && act == "give" {
				return true
			}
		}
		return false
	}}
}

// proposeTermination files a violent-extremism report on url and proposes
// terminating board.example.co.uk as proposer; the proposal waits for sign-off.
func proposeTermination(t *testing.T, s *cases.Service, proposer cases.Actor, url string) (*cases.Case, *cases.Decision) {
	t.Helper()
	r := claimed(t, s, proposer, report(cases.ViolentExtremism, url))
	c, d := mustDecide(t, s, proposer, r.CaseID, cases.Proposal{
		Action: cases.Terminate, Grounds: "AUP 1.1 incitement", Explanation: "Service ends for incitement to violence.",
		Hostnames: []string{"board.example.co.uk"}, Evidence: "report " + r.PublicID,
	})
	if c.State != cases.StatePendingSignoff || d.Status != "proposed" {
		t.Fatalf("after proposing: %s / %s", c.State, d.Status)
	}
	return c, d
}

// approveBoth gives decision d the legal approval as legal, then the
// leadership approval as lead.
func approveBoth(t *testing.T, s *cases.Service, legal, lead cases.Actor, d *cases.Decision) {
	t.Helper()
	ctx := context.Background()
	if _, err := s.SignOff(ctx, legal, d.ID, "legal", "approve", ""); err != nil {
		t.Fatalf("legal approval of decision %d: %v", d.ID, err)
	}
	if _, err := s.SignOff(ctx, lead, d.ID, "leadership", "approve", ""); err != nil {
		t.Fatalf("leadership approval of decision %d: %v", d.ID, err)
	}
}
