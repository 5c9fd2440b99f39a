package cases_test

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"testing"

	"gorm.io/gorm"

	"github.com/dockethq/docket/cases"
	"github.com/dockethq/docket/internal/database"
	"github.com/dockethq/docket/internal/testdb"
)

// A group transaction (multi-row statements, cases/groupwrite.go) leaves the
// database as filing the same reports one by one in the same order does: the
// same cases with the same counts, priority, queue and version, the same audit
// events on each case's timeline, the same forward choices, each receipt on
// its own row. The mix: reports joining existing cases and opening new ones,
// several in one case, a reporter seen before and a new one, a flagger's first
// report rerouting its case, a duplicate and a host not served. (Only the
// order of one group's audit events among each other may differ: the group
// writes its own last, in one statement; they were all written at once.)
func TestGroupWriteSameAsOneByOne(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		s, _ := setup(t, db)
		ctx := context.Background()
		serve(t, s, "eqa%d.example", 4)
		serve(t, s, "eqb%d.example", 4)
		flagger := cases.Reporter{Kind: cases.ReporterTrustedFlagger, Name: "Flag Co", Email: "abuse@flag.example"}
		if err := db.W.Create(&flagger).Error; err != nil {
			t.Fatal(err)
		}
		public := func(email, u string, cat cases.Category) cases.NewReport {
			n := report(cat, u)
			n.ReporterEmail = email
			return n
		}
		flag := func(u string, cat cases.Category) cases.NewReport {
			return cases.NewReport{Channel: cases.ChannelAPI, ReporterID: flagger.ID, ReporterKind: cases.ReporterTrustedFlagger,
				Category: cat, URL: u, Description: "Seen in a campaign.", Forward: cases.ForwardChoices{Customer: cases.SendAnonymously}}
		}
		// Before the group, in both sets: open cases (host 0 and 1), one
		// of them already reported by alice.
		for _, set := range []string{"eqa", "eqb"} {
			for _, n := range []cases.NewReport{
				public("alice@example.org", "https://"+set+"0.example/seed", cases.Phishing),
				public("", "https://"+set+"1.example/seed", cases.Spam),
			} {
				if _, err := s.FileReport(ctx, n); err != nil {
					t.Fatal(err)
				}
			}
		}
		// A rule the seeded cases were not scored with: the flagger's first
		// report reroutes its case.
		if _, err := s.AddQueueRule(ctx, cases.Actor{System: "test"}, cases.QueueRule{TrustedFlagger: true, Queue: cases.QueuePriority}); err != nil {
			t.Fatal(err)
		}
		group := func(set string) []cases.NewReport {
			h := func(i int, path string) string { return fmt.Sprintf("https://%s%d.example/%s", set, i, path) }
			return []cases.NewReport{
				public("alice@example.org", h(0, "a"), cases.Phishing), // seen before: no new reporter
				public("bob@example.org", h(0, "b"), cases.Phishing),   // a new reporter
				public("bob@example.org", h(0, "c"), cases.Phishing),   // seen in this group
				flag(h(1, "d"), cases.Spam),                            // first flagger: rerouted
				flag(h(1, "e"), cases.Spam),
				flag(h(2, "f"), cases.Malware), // opens a case
				public("carol@example.org", h(2, "g"), cases.Malware),
				flag(h(3, "h"), cases.Phishing),                                           // opens another
				public("alice@example.org", h(0, "seed"), cases.Phishing),                 // a duplicate
				public("dave@example.org", "https://"+set+".unserved.test/x", cases.Spam), // not hosted
			}
		}
		// One by one, in the order the group files them (by host and
		// category), then the other set as one group.
		one := group("eqa")
		sort.SliceStable(one, func(a, b int) bool {
			return hostOf(one[a].URL)+" "+string(one[a].Category) < hostOf(one[b].URL)+" "+string(one[b].Category)
		})
		for _, n := range one {
			if _, err := s.FileReport(ctx, n); err != nil {
				t.Fatalf("%s: %v", n.URL, err)
			}
		}
		ns := group("eqb")
		reps, errs := s.FileReports(ctx, ns)
		for i := range ns {
			if errs[i] != nil {
				t.Fatalf("%s: %v", ns[i].URL, errs[i])
			}
			var row struct {
				PublicID, URL string
				CaseID        *int64
			}
			if err := db.R.Table("reports").Select("public_id, url, case_id").Where("id = ?", reps[i].ID).Take(&row).Error; err != nil {
				t.Fatalf("report %d (%s): %v", reps[i].ID, ns[i].URL, err)
			}
			if row.PublicID != reps[i].PublicID || row.URL != reps[i].URL {
				t.Errorf("report %d is %s %s, the answer says %s %s", reps[i].ID, row.PublicID, row.URL, reps[i].PublicID, reps[i].URL)
			}
			if reps[i].Status == cases.ReportFiled && (row.CaseID == nil || *row.CaseID != reps[i].CaseID) {
				t.Errorf("%s: case %v, the answer says %d", ns[i].URL, row.CaseID, reps[i].CaseID)
			}
		}
		a, b := groupSnapshot(t, db, "eqa"), groupSnapshot(t, db, "eqb")
		if len(a) != 5 {
			t.Errorf("%d cases for the one-by-one set, want 5:\n%s", len(a), strings.Join(a, "\n"))
		}
		if strings.Join(a, "\n") != strings.Join(b, "\n") {
			t.Errorf("one by one:\n%s\ngrouped:\n%s", strings.Join(a, "\n"), strings.Join(b, "\n"))
		}
	})
}

func hostOf(u string) string {
	u = strings.TrimPrefix(u, "https://")
	return u[:strings.IndexByte(u, '/')]
}

// groupSnapshot describes the cases of the hosts starting with set, with their
// reports' forward choices and their audit timelines, with the set's name
// and the ids taken out.
func groupSnapshot(t *testing.T, db *database.DB, set string) []string {
	t.Helper()
	var cs []cases.Case
	if err := db.R.Where("hostname LIKE ?", set+"%").Order("hostname, category").Find(&cs).Error; err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, c := range cs {
		line := fmt.Sprintf("%s %s reports=%d reporters=%d flagger=%d priority=%d queue=%s rank=%d version=%d state=%s",
			strings.TrimPrefix(c.Hostname, set), c.Category, c.ReportCount, c.ReporterCount, c.FlaggerReportCount, c.Priority, c.Queue, c.QueueRank, c.Version, c.State)
		var n int64
		db.R.Table("reports").Where("case_id = ?", c.ID).Count(&n)
		var fc []string
		db.R.Table("forward_choices").Joins("JOIN reports ON reports.id = forward_choices.report_id").
			Where("reports.case_id = ?", c.ID).Order("reports.url, forward_choices.recipient").
			Pluck("forward_choices.recipient || '=' || forward_choices.choice", &fc)
		var acts []string
		db.R.Table("audit_events").Where("object_type = 'case' AND object_id = ?", fmt.Sprint(c.ID)).Order("id").Pluck("action", &acts)
		sort.Strings(acts)
		out = append(out, fmt.Sprintf("%s rows=%d\n  forward %s\n  audit %s", line, n, strings.Join(fc, " "), strings.Join(acts, " ")))
	}
	var others []string
	db.R.Table("reports").Where("host LIKE ? AND case_id IS NULL", set+"%").Order("url").Pluck("status", &others)
	return append(out, "without a case: "+strings.Join(others, " "))
}

// The duplicate check left to the group transaction is still made when that
// transaction fails and its reports are filed again one by one.
func TestGroupDuplicateCheckSurvivesTheFallback(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		s, _ := setup(t, db)
		ctx := context.Background()
		serve(t, s, "dup%d.example", 2)
		first := report(cases.Spam, "https://dup0.example/x")
		first.ReporterEmail = "erin@example.org"
		orig, err := s.FileReport(ctx, first)
		if err != nil {
			t.Fatal(err)
		}
		s.OnReportFiled(func(tx *gorm.DB, r *cases.Report, rep *cases.Reporter) error {
			if strings.HasSuffix(r.URL, "/bad") {
				return errors.New("boom")
			}
			return nil
		})
		again := first
		reps, errs_ := s.FileReports(ctx, []cases.NewReport{again, report(cases.Spam, "https://dup1.example/bad"), report(cases.Spam, "https://dup1.example/ok")})
		if errs_[0] != nil || reps[0].Status != cases.ReportDuplicate || reps[0].DuplicateOf == nil || *reps[0].DuplicateOf != orig.ID {
			t.Errorf("the repeat: %v %+v, want a duplicate of %d", errs_[0], reps[0], orig.ID)
		}
		if errs_[1] == nil || errs_[2] != nil {
			t.Errorf("the others: %v, %v", errs_[1], errs_[2])
		}
		// And in a group that commits.
		s.OnReportFiled(nil)
		reps, errs_ = s.FileReports(ctx, []cases.NewReport{again, report(cases.Spam, "https://dup1.example/fine")})
		if errs_[0] != nil || reps[0].Status != cases.ReportDuplicate || *reps[0].DuplicateOf != orig.ID || errs_[1] != nil || reps[1].Status != cases.ReportFiled {
			t.Errorf("in a group: %v %+v, %v %+v", errs_[0], reps[0], errs_[1], reps[1])
		}
	})
}
