package cases_test

import (
	"context"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/dockethq/docket/audit"
	"github.com/dockethq/docket/cases"
	"github.com/dockethq/docket/internal/database"
	"github.com/dockethq/docket/internal/testdb"
)

// Restrictions of one hostname decided at the same moment (one case per
// category, as two instances would) get distinct versions 1…n, including the
// very first directives for the hostname, when it has no version row yet.
func TestConcurrentFirstDirectivesGetDistinctVersions(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		s, _ := setup(t, db)
		ctx := context.Background()
		a := staff(t, db, 1)[0]
		cats := []cases.Category{cases.Phishing, cases.Malware, cases.Spam, cases.Copyright, cases.Trademark, cases.Harassment, cases.Other, cases.ViolentExtremism}
		var ids []int64
		for _, cat := range cats {
			r, err := s.FileReport(ctx, report(cat, "https://shop.acme.example/x"))
			if err != nil {
				t.Fatal(err)
			}
			if _, err := s.Claim(ctx, a, r.CaseID); err != nil {
				t.Fatal(err)
			}
			ids = append(ids, r.CaseID)
		}
		var wg sync.WaitGroup
		start := make(chan struct{})
		for _, id := range ids {
			wg.Go(func() {
				<-start
				if _, _, err := s.Decide(ctx, a, id, cases.Proposal{Action: cases.Restrict, Grounds: "AUP", Explanation: "Restricted."}); err != nil {
					t.Errorf("restrict case %d: %v", id, err)
				}
			})
		}
		close(start)
		wg.Wait()
		var versions []int64
		db.R.Table("directive_hosts").Where("hostname = ?", "shop.acme.example").Order("version").Pluck("version", &versions)
		want := []int64{1, 2, 3, 4, 5, 6, 7, 8}
		if !slices.Equal(versions, want) {
			t.Errorf("versions of shop.acme.example = %v, want %v", versions, want)
		}
		var last int64
		db.R.Table("hostname_versions").Select("version").Where("hostname = ?", "shop.acme.example").Scan(&last)
		if last != 8 {
			t.Errorf("hostname_versions says %d, want 8", last)
		}
	})
}

// The lease sweep releases lapsed claims once each, audited, and leaves live
// claims, closed cases and a renewed lease alone.
func TestExpireLeases(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		s, clk := setup(t, db)
		ctx := context.Background()
		a := staff(t, db, 2)
		var ids []int64
		for _, cat := range []cases.Category{cases.Phishing, cases.Malware, cases.Spam} {
			r, err := s.FileReport(ctx, report(cat, "https://acme.example/"))
			if err != nil {
				t.Fatal(err)
			}
			if _, err := s.Claim(ctx, a[0], r.CaseID); err != nil {
				t.Fatal(err)
			}
			ids = append(ids, r.CaseID)
		}
		if n, err := s.ExpireLeases(ctx); err != nil || n != 0 {
			t.Fatalf("sweep with live leases: %d, %v", n, err)
		}
		clk.add(cases.LeaseDuration - time.Minute)
		// The holder renews one lease; another case is closed.
		if _, err := s.AddNote(ctx, a[0], ids[1], "still on it"); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Close(ctx, a[0], ids[2], "spam"); err != nil {
			t.Fatal(err)
		}
		clk.add(2 * time.Minute)
		before := snap(t, db, ids[0])
		var wg sync.WaitGroup
		total := make(chan int, 2)
		for range 2 { // two instances sweeping at once after a leader change
			wg.Go(func() {
				n, err := s.ExpireLeases(ctx)
				if err != nil {
					t.Error(err)
				}
				total <- n
			})
		}
		wg.Wait()
		close(total)
		sum := 0
		for n := range total {
			sum += n
		}
		if sum != 1 {
			t.Errorf("the sweeps released %d leases, want 1", sum)
		}
		var c cases.Case
		db.R.Take(&c, ids[0])
		if c.AssigneeID != nil || c.ClaimExpiresAt != nil || c.Version != before.c.Version+1 || c.State != cases.StateInReview {
			t.Errorf("lapsed case after the sweep: assignee %v, lease %v, version %d (was %d), state %s", c.AssigneeID, c.ClaimExpiresAt, c.Version, before.c.Version, c.State)
		}
		var evs []audit.Event
		db.R.Where("action = 'case.lease_expired'").Find(&evs)
		if len(evs) != 1 || evs[0].Actor != "system" || evs[0].ObjectID != strconv.FormatInt(ids[0], 10) {
			t.Errorf("lease_expired events: %+v", evs)
		}
		var renewed cases.Case
		db.R.Take(&renewed, ids[1])
		if renewed.AssigneeID == nil || *renewed.AssigneeID != a[0].UserID {
			t.Errorf("the renewed lease was released")
		}
		// The case is free: another reviewer claims it without waiting.
		if _, err := s.Claim(ctx, a[1], ids[0]); err != nil {
			t.Errorf("claim after the sweep: %v", err)
		}
		if n, _ := s.ExpireLeases(ctx); n != 0 {
			t.Errorf("a second sweep released %d more", n)
		}
	})
}

// The overdue sweep records an unratified emergency restriction past its
// deadline once, and leaves ratified and in-time ones alone.
func TestFlagOverdueEmergencies(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		s, clk := setup(t, db)
		ctx := context.Background()
		people := staff(t, db, 3)
		senior := people[0]
		emergency := func(cat cases.Category, url string) *cases.Decision {
			t.Helper()
			r, err := s.FileReport(ctx, report(cat, url))
			if err != nil {
				t.Fatal(err)
			}
			if _, err := s.Claim(ctx, senior, r.CaseID); err != nil {
				t.Fatal(err)
			}
			_, d, err := s.Decide(ctx, senior, r.CaseID, cases.Proposal{Action: cases.Restrict, Grounds: "Imminent threat", Explanation: "Restricted pending review.", Emergency: true})
			if err != nil {
				t.Fatal(err)
			}
			return d
		}
		late := emergency(cases.Threat, "https://acme.example/t")
		ratified := emergency(cases.CSAM, "https://acme.example/c")
		for _, r := range []string{"legal", "leadership"} {
			if _, err := s.SignOff(ctx, roles(people[map[string]int{"legal": 1, "leadership": 2}[r]], r), ratified.ID, r, "approve", ""); err != nil {
				t.Fatal(err)
			}
		}
		if n, err := s.FlagOverdueEmergencies(ctx); err != nil || n != 0 {
			t.Fatalf("before the deadline: %d, %v", n, err)
		}
		clk.add(cases.EmergencyDeadline + time.Minute)
		inTime := emergency(cases.Threat, "https://board.example.co.uk/t")
		if n, err := s.FlagOverdueEmergencies(ctx); err != nil || n != 1 {
			t.Fatalf("after the deadline: %d, %v", n, err)
		}
		if n, _ := s.FlagOverdueEmergencies(ctx); n != 0 {
			t.Errorf("flagged again: %d", n)
		}
		var evs []audit.Event
		db.R.Where("action = 'decision.signoff_overdue'").Find(&evs)
		if len(evs) != 1 || evs[0].Actor != "system" || evs[0].ObjectID != strconv.FormatInt(late.CaseID, 10) {
			t.Errorf("overdue events: %+v", evs)
		}
		var flagged []int64
		db.R.Table("decisions").Where("overdue_flagged_at IS NOT NULL").Pluck("id", &flagged)
		if !slices.Equal(flagged, []int64{late.ID}) {
			t.Errorf("flagged decisions %v, want only %d (not ratified %d nor in-time %d)", flagged, late.ID, ratified.ID, inTime.ID)
		}
	})
}
