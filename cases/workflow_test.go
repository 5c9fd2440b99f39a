package cases_test

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dockethq/docket/cases"
	"github.com/dockethq/docket/internal/database"
	"github.com/dockethq/docket/internal/errs"
	"github.com/dockethq/docket/internal/testdb"
	"github.com/dockethq/docket/policy"
	"github.com/dockethq/docket/users"
)

func TestMain(m *testing.M) {
	testdb.FastPasswords()
	m.Run()
}

// staff creates n reviewers and returns them as actors allowed everything.
func staff(t *testing.T, db *database.DB, n int) []cases.Actor {
	t.Helper()
	en, err := policy.NewEnforcer(db)
	if err != nil {
		t.Fatal(err)
	}
	us := users.NewService(db, en, time.Now)
	var out []cases.Actor
	for i := range n {
		u, err := us.Create(context.Background(), "test", users.NewUser{
			Email: fmt.Sprintf("r%d@docket.example", i), Name: fmt.Sprintf("Reviewer %d", i),
			Password: "a long enough password", Roles: []string{policy.Reviewer},
		})
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, cases.Actor{UserID: u.ID, Can: func(string, string) bool { return true }})
	}
	return out
}

// snapshot is what a refused action must leave untouched.
type snapshot struct {
	c                              cases.Case
	notes, decisions, events, reps int64
}

func snap(t *testing.T, db *database.DB, id int64) snapshot {
	t.Helper()
	var s snapshot
	if err := db.R.Take(&s.c, id).Error; err != nil {
		t.Fatal(err)
	}
	db.R.Table("notes").Count(&s.notes)
	db.R.Table("decisions").Count(&s.decisions)
	db.R.Table("audit_events").Count(&s.events)
	db.R.Table("reports").Where("case_id = ?", id).Count(&s.reps)
	return s
}

// TestEveryStateAndAction drives each action the service implements from each
// state: allowed pairs succeed and land in the machine's target state; all others
// return *TransitionError and change nothing.
func TestEveryStateAndAction(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		s, clk := setup(t, db)
		ctx := context.Background()
		actors := staff(t, db, 2)
		me, other := actors[0], actors[1]
		n := 0
		// fresh opens a case with two reports and a same-site sibling (for merge),
		// puts it in state st and gives me the claim.
		fresh := func(st cases.State) (id, sibling, rep int64) {
			n++
			url := fmt.Sprintf("https://acme.example/p%d", n)
			cat := []cases.Category{cases.Phishing, cases.Malware, cases.Copyright, cases.Trademark, cases.Harassment, cases.Threat, cases.Spam, cases.Other}
			if n > len(cat)/2 {
				// acme.example has one open case per category; use fresh sites.
				if _, _, err := s.AddCustomer(ctx, "test", cases.Customer{Name: fmt.Sprintf("C%d", n)}, fmt.Sprintf("site%d.example", n)); err != nil {
					t.Fatal(err)
				}
				url = fmt.Sprintf("https://site%d.example/x", n)
			}
			a, err := s.FileReport(ctx, report(cases.Phishing, url))
			if err != nil {
				t.Fatal(err)
			}
			if _, err := s.FileReport(ctx, report(cases.Phishing, url+"/2")); err != nil {
				t.Fatal(err)
			}
			b, err := s.FileReport(ctx, report(cases.Malware, url))
			if err != nil {
				t.Fatal(err)
			}
			exp := clk.now().Add(time.Hour)
			if err := db.W.Exec("UPDATE cases SET state = ?, assignee_id = ?, claim_expires_at = ? WHERE id = ?", st, me.UserID, exp, a.CaseID).Error; err != nil {
				t.Fatal(err)
			}
			return a.CaseID, b.CaseID, a.ID
		}
		do := map[cases.Action]func(id, sibling, report int64) error{
			cases.ActClaim:    func(id, _, _ int64) error { _, err := s.Claim(ctx, me, id); return err },
			cases.ActRelease:  func(id, _, _ int64) error { _, err := s.Release(ctx, me, id); return err },
			cases.ActReassign: func(id, _, _ int64) error { _, err := s.Reassign(ctx, me, id, other.UserID); return err },
			cases.ActNote:     func(id, _, _ int64) error { _, err := s.AddNote(ctx, me, id, "a note"); return err },
			cases.ActEscalate: func(id, _, _ int64) error { _, err := s.Escalate(ctx, me, id, "hard call"); return err },
			cases.ActDecide: func(id, _, _ int64) error {
				_, _, err := s.Decide(ctx, me, id, cases.Proposal{Action: cases.Warn, Grounds: "AUP 3.1", Explanation: "Remove the page."})
				return err
			},
			cases.ActPropose: func(id, _, _ int64) error {
				_, _, err := s.Decide(ctx, me, id, cases.Proposal{Action: cases.Terminate, Grounds: "AUP 1", Explanation: "Service ends."})
				return err
			},
			cases.ActClose: func(id, _, _ int64) error { _, err := s.Close(ctx, me, id, "spam"); return err },
			cases.ActMerge: func(id, sib, _ int64) error { _, err := s.Merge(ctx, me, id, sib); return err },
			cases.ActSplit: func(id, _, rep int64) error { _, err := s.Split(ctx, me, id, rep, cases.Copyright); return err },
		}
		for _, st := range cases.States {
			for _, act := range cases.Actions {
				fn, ok := do[act]
				if !ok {
					continue // approve, reject, appeal, resolve: sign-off and appeals issues
				}
				t.Run(string(st)+"/"+string(act), func(t *testing.T) {
					id, sib, rep := fresh(st)
					before := snap(t, db, id)
					err := fn(id, sib, rep)
					want, allowed := cases.Next(st, act)
					if allowed != nil {
						var te *cases.TransitionError
						if !errors.As(err, &te) || te.From != st || te.Action != act {
							t.Fatalf("err = %v, want a TransitionError", err)
						}
						if errs.CodeOf(err) != errs.Conflict {
							t.Errorf("code = %s, want conflict", errs.CodeOf(err))
						}
						if after := snap(t, db, id); !reflect.DeepEqual(after, before) {
							t.Errorf("a refused %s changed the case:\nbefore %+v\nafter  %+v", act, before, after)
						}
						return
					}
					if err != nil {
						t.Fatalf("allowed %s from %s failed: %v", act, st, err)
					}
					after := snap(t, db, id)
					if after.c.State != want {
						t.Errorf("state = %s, want %s", after.c.State, want)
					}
					if after.c.Version != before.c.Version+1 || after.events <= before.events {
						t.Errorf("version %d→%d, events %d→%d: every change bumps the version and is audited", before.c.Version, after.c.Version, before.events, after.events)
					}
				})
			}
		}
	})
}

// TestMachineTable checks Next for every pair against the design's diagram, so a
// change to the workflow is a deliberate edit here too.
func TestMachineTable(t *testing.T) {
	allowed := map[string]cases.State{
		"new/claim": cases.StateInReview, "in_review/claim": cases.StateInReview, "appealed/claim": cases.StateAppealed,
		"in_review/release": cases.StateInReview, "appealed/release": cases.StateAppealed,
		"new/reassign": cases.StateInReview, "in_review/reassign": cases.StateInReview, "appealed/reassign": cases.StateAppealed,
		"new/note": cases.StateNew, "in_review/note": cases.StateInReview, "pending_signoff/note": cases.StatePendingSignoff,
		"decided/note": cases.StateDecided, "closed/note": cases.StateClosed, "appealed/note": cases.StateAppealed,
		"new/escalate": cases.StateInReview, "in_review/escalate": cases.StateInReview,
		"in_review/decide": cases.StateDecided, "in_review/propose": cases.StatePendingSignoff,
		"pending_signoff/approve": cases.StateDecided, "pending_signoff/reject": cases.StateInReview,
		"new/close": cases.StateClosed, "in_review/close": cases.StateClosed, "decided/close": cases.StateClosed,
		"new/merge": cases.StateClosed, "in_review/merge": cases.StateClosed,
		"new/split": cases.StateNew, "in_review/split": cases.StateInReview,
		"decided/appeal": cases.StateAppealed, "closed/appeal": cases.StateAppealed, "appealed/appeal": cases.StateAppealed, "appealed/resolve": cases.StateClosed,
		"new/add_report": cases.StateNew, "in_review/add_report": cases.StateInReview,
		"pending_signoff/add_report": cases.StatePendingSignoff, "appealed/add_report": cases.StateAppealed,
		"decided/revoke":     cases.StateInReview,
		"new/await_customer": cases.StateNew, "in_review/await_customer": cases.StateInReview,
		"new/customer_respond": cases.StateInReview, "in_review/customer_respond": cases.StateInReview,
		"pending_signoff/customer_respond": cases.StatePendingSignoff,
		"new/response_expired":             cases.StateNew, "in_review/response_expired": cases.StateInReview,
		"appealed/overturn": cases.StateInReview,
	}
	for _, st := range cases.States {
		for _, a := range cases.Actions {
			key := string(st) + "/" + string(a)
			got, err := cases.Next(st, a)
			want, ok := allowed[key]
			if ok && (err != nil || got != want) {
				t.Errorf("%s = %s, %v; want %s", key, got, err, want)
			}
			if !ok && err == nil {
				t.Errorf("%s is allowed (→ %s) but not in the design", key, got)
			}
			if !ok && err != nil && err.Error() == "" {
				t.Errorf("%s: empty error message", key)
			}
		}
	}
}

// TestConcurrentClaims has 50 reviewers claim one case at the same moment:
// exactly one wins, the rest are told who holds it.
func TestConcurrentClaims(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		s, _ := setup(t, db)
		ctx := context.Background()
		r, err := s.FileReport(ctx, report(cases.Phishing, "https://acme.example/"))
		if err != nil {
			t.Fatal(err)
		}
		actors := staff(t, db, 50)
		var wins atomic.Int32
		var wg sync.WaitGroup
		start := make(chan struct{})
		errc := make(chan error, len(actors))
		for _, a := range actors {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				_, err := s.Claim(ctx, a, r.CaseID)
				var ce *cases.ClaimedError
				switch {
				case err == nil:
					wins.Add(1)
				case errors.As(err, &ce):
				default:
					errc <- err
				}
			}()
		}
		close(start)
		wg.Wait()
		close(errc)
		for err := range errc {
			t.Errorf("claim failed with an unexpected error: %v", err)
		}
		if wins.Load() != 1 {
			t.Fatalf("%d claimers won, want exactly 1", wins.Load())
		}
		var c cases.Case
		db.R.Take(&c, r.CaseID)
		if c.AssigneeID == nil || c.State != cases.StateInReview || c.Version != 2 {
			t.Errorf("after the race: assignee %v, state %s, version %d", c.AssigneeID, c.State, c.Version)
		}
	})
}

func TestLeaseExpires(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		s, clk := setup(t, db)
		ctx := context.Background()
		r, _ := s.FileReport(ctx, report(cases.Phishing, "https://acme.example/"))
		a := staff(t, db, 2)
		if _, err := s.Claim(ctx, a[0], r.CaseID); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Claim(ctx, a[1], r.CaseID); errs.CodeOf(err) != errs.Conflict {
			t.Fatalf("second claim during the lease: %v", err)
		}
		// Activity renews the lease.
		clk.add(20 * time.Minute)
		if _, err := s.AddNote(ctx, a[0], r.CaseID, "looking"); err != nil {
			t.Fatal(err)
		}
		clk.add(20 * time.Minute)
		if _, err := s.Claim(ctx, a[1], r.CaseID); errs.CodeOf(err) != errs.Conflict {
			t.Fatalf("claim 20 min after the holder's note: %v", err)
		}
		clk.add(cases.LeaseDuration)
		if _, err := s.Claim(ctx, a[1], r.CaseID); err != nil {
			t.Fatalf("claim after the lease lapsed: %v", err)
		}
		// The first holder lost the claim and cannot decide any more.
		_, _, err := s.Decide(ctx, a[0], r.CaseID, cases.Proposal{Action: cases.Warn, Grounds: "x", Explanation: "y"})
		var ce *cases.ClaimedError
		if !errors.As(err, &ce) || ce.By != a[1].UserID {
			t.Fatalf("decide by the former holder: %v", err)
		}
	})
}

func TestEscalatedCaseNeedsSenior(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		s, _ := setup(t, db)
		ctx := context.Background()
		r, _ := s.FileReport(ctx, report(cases.Threat, "https://acme.example/"))
		a := staff(t, db, 2)
		junior := cases.Actor{UserID: a[0].UserID, Can: func(obj, act string) bool { return false }}
		senior := a[1]
		if _, err := s.Claim(ctx, junior, r.CaseID); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Escalate(ctx, junior, r.CaseID, "credible threat?"); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Claim(ctx, junior, r.CaseID); err != nil {
			t.Fatal(err)
		}
		if _, _, err := s.Decide(ctx, junior, r.CaseID, cases.Proposal{Action: cases.NoAction, Grounds: "not credible"}); errs.CodeOf(err) != errs.Forbidden {
			t.Fatalf("junior decided an escalated case: %v", err)
		}
		if _, err := s.Release(ctx, junior, r.CaseID); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Claim(ctx, senior, r.CaseID); err != nil {
			t.Fatal(err)
		}
		c, d, err := s.Decide(ctx, senior, r.CaseID, cases.Proposal{Action: cases.Restrict, Grounds: "AUP 2", Explanation: "Restricted."})
		if err != nil || c.State != cases.StateDecided || d.Status != "final" {
			t.Fatalf("senior decide: %v %+v %+v", err, c, d)
		}
	})
}

func TestBulkCloseMergeSplit(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		s, _ := setup(t, db)
		ctx := context.Background()
		a := staff(t, db, 1)[0]
		var ids []int64
		serve(t, s, "spam%d.example", 5)
		for i := range 5 {
			r, err := s.FileReport(ctx, report(cases.Spam, fmt.Sprintf("https://spam%d.example/", i)))
			if err != nil {
				t.Fatal(err)
			}
			ids = append(ids, r.CaseID)
		}
		if _, err := s.Close(ctx, a, ids[0], "already handled"); err != nil {
			t.Fatal(err)
		}
		res, err := s.BulkClose(ctx, a, ids, "spam flood")
		if err != nil || len(res.Closed) != 4 || len(res.Failed) != 1 || res.Failed[ids[0]] == "" {
			t.Fatalf("bulk close: %+v, %v", res, err)
		}
		if _, err := s.BulkClose(ctx, a, ids, " "); errs.CodeOf(err) != errs.Invalid {
			t.Fatalf("bulk close without a reason: %v", err)
		}

		// Merge: the phishing case's reports join the malware case about the same site.
		p1, _ := s.FileReport(ctx, report(cases.Phishing, "https://acme.example/a"))
		p2, _ := s.FileReport(ctx, report(cases.Phishing, "https://acme.example/b"))
		m, _ := s.FileReport(ctx, report(cases.Malware, "https://acme.example/c"))
		into, err := s.Merge(ctx, a, p1.CaseID, m.CaseID)
		if err != nil || into.ReportCount != 3 {
			t.Fatalf("merge: %+v, %v", into, err)
		}
		var src cases.Case
		db.R.Take(&src, p1.CaseID)
		if src.State != cases.StateClosed || src.MergedInto == nil || *src.MergedInto != m.CaseID {
			t.Errorf("merged case: %+v", src)
		}
		other, _ := s.FileReport(ctx, report(cases.Malware, "https://board.example.co.uk/"))
		if _, err := s.Merge(ctx, a, other.CaseID, m.CaseID); errs.CodeOf(err) != errs.Invalid {
			t.Errorf("merging cases about different sites: %v", err)
		}

		// Split: one report moves to a copyright case for the same site.
		if _, err := s.Claim(ctx, a, m.CaseID); err != nil {
			t.Fatal(err)
		}
		nc, err := s.Split(ctx, a, m.CaseID, p2.ID, cases.Copyright)
		if err != nil || nc.Category != cases.Copyright || nc.ReportCount != 1 || nc.Hostname != "acme.example" {
			t.Fatalf("split: %+v, %v", nc, err)
		}
		var left cases.Case
		db.R.Take(&left, m.CaseID)
		if left.ReportCount != 2 {
			t.Errorf("after split the source has %d reports, want 2", left.ReportCount)
		}
	})
}

// TestKeysetPagination walks every page while reports keep arriving: each case
// that existed when the walk began is seen exactly once.
func TestKeysetPagination(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		s, clk := setup(t, db)
		ctx := context.Background()
		existing := map[int64]bool{}
		serve(t, s, "p%d.example", 40)
		for i := range 40 {
			r, err := s.FileReport(ctx, report(cases.Spam, fmt.Sprintf("https://p%d.example/", i)))
			if err != nil {
				t.Fatal(err)
			}
			existing[r.CaseID] = true
			if i%3 == 0 {
				clk.add(time.Second) // some share a timestamp: the id breaks ties
			}
		}
		queues := []string{cases.QueueGeneral}
		for _, sort := range []cases.Sort{cases.SortNewest, cases.SortPriority, cases.SortSLA} {
			seen := map[int64]int{}
			after, pages := "", 0
			for {
				p, err := s.Search(ctx, cases.Filter{Queues: queues, Sort: sort, After: after, Limit: 7})
				if err != nil {
					t.Fatal(err)
				}
				for _, it := range p.Items {
					seen[it.ID]++
				}
				pages++
				// New cases arrive between pages, and (for stable orders) new
				// reports join cases already on the list.
				clk.add(time.Second)
				if _, err := s.FileReport(ctx, report(cases.Spam, fmt.Sprintf("https://new-%s-%d.example/", sort, pages))); err != nil {
					t.Fatal(err)
				}
				if sort != cases.SortPriority {
					if _, err := s.FileReport(ctx, report(cases.Spam, fmt.Sprintf("https://p%d.example/again", pages))); err != nil {
						t.Fatal(err)
					}
				}
				if p.Next == "" {
					break
				}
				after = p.Next
			}
			for id := range existing {
				if seen[id] != 1 {
					t.Errorf("sort %s: case %d seen %d times", sort, id, seen[id])
				}
			}
			for id, n := range seen {
				if n > 1 {
					t.Errorf("sort %s: case %d seen %d times", sort, id, n)
				}
			}
		}
		if _, err := s.Search(ctx, cases.Filter{Queues: queues, After: "garbage"}); errs.CodeOf(err) != errs.Invalid {
			t.Errorf("bad cursor: %v", err)
		}
	})
}
