package cases_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"gorm.io/gorm"

	"github.com/dockethq/docket/cases"
	"github.com/dockethq/docket/internal/database"
	"github.com/dockethq/docket/internal/errs"
	"github.com/dockethq/docket/internal/testdb"
)

// A submission files every report or none: a failure after some were written
// (here: in the hook, as a spent challenge would) leaves nothing behind.
func TestFileSubmissionAllOrNothing(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		s, _ := setup(t, db)
		ctx := context.Background()
		// Served hosts, so the reports open cases (unserved ones get none).
		if _, _, err := s.AddCustomer(ctx, "test", cases.Customer{Name: "Sub"}, "a.example", "b.example"); err != nil {
			t.Fatal(err)
		}
		sub := s.NewSubmissionID()
		ns := []cases.NewReport{report(cases.Phishing, "https://a.example/1"), report(cases.Phishing, "https://b.example/2"), report(cases.Phishing, "https://a.example/3")}
		for i := range ns {
			ns[i].SubmissionID = sub
		}
		before := []int64{count(t, db, "reports"), count(t, db, "cases"), count(t, db, "reporters"), count(t, db, "audit_events")}
		boom := errors.New("boom")
		_, err := s.FileSubmission(ctx, ns, func(tx *gorm.DB, rs []*cases.Report) error {
			if len(rs) != 3 || rs[0].ID == 0 {
				t.Errorf("hook got %d reports", len(rs))
			}
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatalf("err = %v", err)
		}
		after := []int64{count(t, db, "reports"), count(t, db, "cases"), count(t, db, "reporters"), count(t, db, "audit_events")}
		for i := range before {
			if before[i] != after[i] {
				t.Fatalf("a failed submission left rows: %v → %v", before, after)
			}
		}
		rs, err := s.FileSubmission(ctx, ns, nil)
		if err != nil || len(rs) != 3 {
			t.Fatalf("file: %v", err)
		}
		if rs[0].CaseID != rs[2].CaseID || rs[0].CaseID == rs[1].CaseID {
			t.Errorf("grouping: cases %d %d %d", rs[0].CaseID, rs[1].CaseID, rs[2].CaseID)
		}
		got, err := s.SubmissionReceipts(ctx, rs[1].PublicID)
		if err != nil || len(got) != 3 || got[0].PublicID != rs[0].PublicID {
			t.Errorf("receipts of the submission: %v %+v", err, got)
		}
		// A bad URL anywhere refuses the lot, naming the line.
		bad := append(ns[:1:1], report(cases.Phishing, "ftp://x"))
		_, err = s.FileSubmission(ctx, bad, nil)
		if e, ok := errs.As(err); !ok || !strings.HasPrefix(e.Fields["url"], "Line 2:") {
			t.Errorf("bad line: %v", err)
		}
	})
}

func TestNoticeRequirements(t *testing.T) {
	n := report(cases.Copyright, "https://a.example/")
	n.Notice = true
	e, _ := errs.As(n.Validate())
	for _, f := range []string{"name", "email", "detail_copyright_work", "detail_copyright_holder", "detail_copyright_relationship"} {
		if e == nil || e.Fields[f] == "" {
			t.Errorf("notice without %s accepted", f)
		}
	}
	// The API (no Notice) may leave details out but not send unknown ones.
	n = report(cases.Copyright, "https://a.example/")
	if err := n.Validate(); err != nil {
		t.Errorf("API report without details: %v", err)
	}
	n.Details = cases.Details{"colour": "red"}
	if e, _ := errs.As(n.Validate()); e == nil || e.Fields["details"] == "" {
		t.Errorf("unknown detail accepted")
	}
	// csam may be anonymous.
	n = report(cases.CSAM, "https://a.example/")
	n.Notice = true
	if err := n.Validate(); err != nil {
		t.Errorf("anonymous csam notice: %v", err)
	}
}
