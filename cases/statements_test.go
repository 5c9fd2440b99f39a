package cases_test

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/dockethq/docket/cases"
	"github.com/dockethq/docket/internal/database"
	"github.com/dockethq/docket/internal/errs"
	"github.com/dockethq/docket/internal/testdb"
	"github.com/dockethq/docket/sor"
)

var allQueues = []string{cases.QueueGeneral, cases.QueueRestricted, cases.QueuePriority, cases.QueueEnterprise}

func statementOf(t *testing.T, s *cases.Service, a cases.Actor, d *cases.Decision) *cases.StatementView {
	t.Helper()
	v, err := s.StatementForDecision(context.Background(), a, d.ID, allQueues)
	if err != nil {
		t.Fatal(err)
	}
	if v == nil {
		t.Fatalf("decision %d (%s) has no statement", d.ID, d.Effective())
	}
	return v
}

// Every kind of restricting decision gets a final statement that passes the
// Transparency Database's rules, with the action mapped as documented.
func TestStatementEveryKind(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		s, clk := setup(t, db)
		ctx := context.Background()
		people := staff(t, db, 3)
		rev := people[0]
		check := func(d *cases.Decision, want func(sor.Statement) string) *cases.StatementView {
			t.Helper()
			v := statementOf(t, s, rev, d)
			if len(v.Problems) > 0 {
				t.Errorf("%s: invalid statement: %v", d.Effective(), v.Problems)
			}
			if v.Statement.Status != "final" || v.Statement.FinalAt == nil {
				t.Errorf("%s: statement %s", d.Effective(), v.Statement.Status)
			}
			if v.TDB.PUID != cases.PUID(d.ID) || v.Statement.PUID != v.TDB.PUID {
				t.Errorf("%s: puid %q / %q", d.Effective(), v.TDB.PUID, v.Statement.PUID)
			}
			if msg := want(v.TDB); msg != "" {
				t.Errorf("%s: %s", d.Effective(), msg)
			}
			return v
		}

		_, _, d := fileDecided(t, s, rev, report(cases.Phishing, "https://acme.example/login"), cases.Proposal{
			Action: cases.Restrict, Grounds: "AUP 3.2 phishing", Explanation: "A fake bank login.", GroundType: "terms",
			Hostnames: []string{"acme.example", "shop.acme.example"}, Lasts: 48 * time.Hour})
		check(d, func(st sor.Statement) string {
			switch {
			case st.DecisionProvision != "DECISION_PROVISION_TOTAL_SUSPENSION":
				return "provision " + st.DecisionProvision
			case st.EndDateService != "2026-11-27":
				return "end date " + st.EndDateService
			case st.DecisionGround != "DECISION_GROUND_INCOMPATIBLE_CONTENT" || st.IncompatibleContentGround != "AUP 3.2 phishing":
				return "ground " + st.DecisionGround
			case st.SourceType != "SOURCE_ARTICLE_16" || st.AutomatedDecision != "AUTOMATED_DECISION_NOT_AUTOMATED":
				return "source/automated " + st.SourceType + st.AutomatedDecision
			case len(st.TerritorialScope) != 30 || st.Category != "STATEMENT_CATEGORY_SCAMS_AND_FRAUD":
				return fmt.Sprint("scope/category ", st.TerritorialScope, st.Category)
			}
			return ""
		})
		clk.add(time.Minute)

		_, _, d = fileDecided(t, s, rev, report(cases.Malware, "https://shop.acme.example/x.exe"), cases.Proposal{
			Action: cases.Interstitial, Grounds: "Criminal Code s. 202a", Explanation: "Malware download.", GroundType: "illegal", Automated: "partial"})
		check(d, func(st sor.Statement) string {
			if !slices.Equal(st.DecisionVisibility, []string{"DECISION_VISIBILITY_CONTENT_LABELLED"}) || st.DecisionProvision != "" {
				return fmt.Sprint("visibility ", st.DecisionVisibility)
			}
			if st.AutomatedDecision != "AUTOMATED_DECISION_PARTIALLY" || st.AutomatedDetection != "Yes" || st.IllegalContentLegalGround != "Criminal Code s. 202a" {
				return "automation/ground"
			}
			return ""
		})

		_, _, d = fileDecided(t, s, rev, report(cases.Copyright, "https://acme.example/film.mp4"), cases.Proposal{
			Action: cases.BlockURL, Grounds: "Copyright Directive art. 17", Explanation: "A pirated film.", GroundType: "illegal",
			URLs: []string{"https://acme.example/film.mp4"}})
		check(d, func(st sor.Statement) string {
			if !slices.Equal(st.DecisionVisibility, []string{"DECISION_VISIBILITY_CONTENT_DISABLED"}) {
				return fmt.Sprint("visibility ", st.DecisionVisibility)
			}
			if !slices.Equal(st.CategorySpecification, []string{"KEYWORD_COPYRIGHT_INFRINGEMENT"}) {
				return fmt.Sprint("keywords ", st.CategorySpecification)
			}
			return ""
		})

		senior := cases.Actor{UserID: rev.UserID, Can: func(string, string) bool { return true }}
		_, _, d = fileDecided(t, s, senior, report(cases.CSAM, "https://board.example.co.uk/img/1"), cases.Proposal{
			Action: cases.Restrict, Emergency: true, Grounds: "Directive 2011/93/EU art. 5", Explanation: "Child abuse material.", GroundType: "illegal"})
		check(d, func(st sor.Statement) string {
			if st.DecisionProvision != "DECISION_PROVISION_TOTAL_SUSPENSION" || st.Category != "STATEMENT_CATEGORY_PROTECTION_OF_MINORS" {
				return "emergency " + st.DecisionProvision + " " + st.Category
			}
			if !strings.Contains(st.DecisionFacts, "emergency") {
				return "facts: " + st.DecisionFacts
			}
			return ""
		})

		// Terminate: a draft while waiting, final with the last sign-off.
		_, d = proposeTermination(t, s, people[0], "https://board.example.co.uk/t/9")
		v := statementOf(t, s, rev, d)
		if v.Statement.Status != "draft" || v.Statement.FinalAt != nil {
			t.Errorf("proposal's statement: %s", v.Statement.Status)
		}
		clk.add(26 * time.Hour)
		approveBoth(t, s, roles(people[1], "legal"), roles(people[2], "leadership"), d)
		v = statementOf(t, s, rev, d)
		if v.Statement.Status != "final" || v.TDB.ApplicationDate != "2026-11-26" {
			t.Errorf("after sign-off: %s applied %s", v.Statement.Status, v.TDB.ApplicationDate)
		}
		if v.TDB.DecisionProvision != "DECISION_PROVISION_TOTAL_TERMINATION" || v.TDB.DecisionAccount != "DECISION_ACCOUNT_TERMINATED" {
			t.Errorf("termination mapped to %s / %s", v.TDB.DecisionProvision, v.TDB.DecisionAccount)
		}
		// proposeTermination gives no ground type: the statement says what is missing, by name.
		if len(v.Problems["decision_ground"]) == 0 {
			t.Errorf("no ground type, but no decision_ground error: %v", v.Problems)
		}
		// Legal mends it before export; nobody else may, and not after export.
		fix := v.Edit()
		fix.GroundType = "illegal"
		if _, err := s.EditStatement(ctx, cases.Actor{UserID: rev.UserID}, v.Statement.ID, allQueues, fix); errs.CodeOf(err) != errs.Forbidden {
			t.Errorf("a reviewer mended a final statement: %v", err)
		}
		if v, err := s.EditStatement(ctx, roles(people[1], "legal"), v.Statement.ID, allQueues, fix); err != nil || len(v.Problems) > 0 {
			t.Fatalf("legal's fix: %v %v", err, v)
		}
		var gt string
		db.R.Table("decisions").Select("ground_type").Where("id = ?", d.ID).Scan(&gt)
		if gt != "illegal" {
			t.Errorf("decisions.ground_type = %q after the fix", gt)
		}
		if _, err := s.EditStatement(ctx, roles(people[1], "legal"), v.Statement.ID, allQueues, fix); errs.CodeOf(err) != errs.Conflict {
			t.Errorf("edit of a valid final statement: %v", err)
		}

		// Warn and no action restrict nothing: no statement.
		_, _, d = fileDecided(t, s, rev, report(cases.Spam, "https://shop.acme.example/spam"), cases.Proposal{
			Action: cases.Warn, Grounds: "AUP 2", Explanation: "Spam pages.", GroundType: "terms"})
		if v, err := s.StatementForDecision(ctx, rev, d.ID, allQueues); err != nil || v != nil {
			t.Errorf("warning has a statement: %v %v", v, err)
		}
	})
}

// Each category maps to a TDB category and yields a valid statement.
func TestStatementEachCategory(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		s, clk := setup(t, db)
		rev := staff(t, db, 1)[0]
		for i, info := range cases.Categories {
			clk.add(time.Minute)
			n := report(info.Category, fmt.Sprintf("https://acme.example/c/%d", i))
			_, _, d := fileDecided(t, s, rev, n, cases.Proposal{Action: cases.Restrict, Grounds: "Ground " + strconv.Itoa(i),
				Explanation: "Why.", GroundType: []string{"illegal", "terms"}[i%2]})
			v := statementOf(t, s, rev, d)
			if len(v.Problems) > 0 {
				t.Errorf("%s: %v", info.Category, v.Problems)
			}
			if v.TDB.Category != cases.CategoryTDB(info.Category) || !slices.Contains(sor.Categories, v.TDB.Category) {
				t.Errorf("%s → %s", info.Category, v.TDB.Category)
			}
			if v.TDB.DecisionProvision != "DECISION_PROVISION_PARTIAL_SUSPENSION" {
				t.Errorf("%s: one of two sites restricted: %s", info.Category, v.TDB.DecisionProvision)
			}
		}
	})
}

// A trusted flagger's notice is the source, named; the ground's text is kept
// to the TDB's lengths by a clear error naming the field.
func TestStatementSourceAndMissingField(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		s, _ := setup(t, db)
		ctx := context.Background()
		rev := staff(t, db, 1)[0]
		n := report(cases.Phishing, "https://acme.example/pay")
		n.ReporterKind, n.ReporterName, n.Channel = cases.ReporterTrustedFlagger, "Anti-Phishing Working Group", cases.ChannelAPI
		_, _, d := fileDecided(t, s, rev, n, cases.Proposal{Action: cases.Restrict, Grounds: strings.Repeat("g", 600),
			Explanation: "Fake payment page.", GroundType: "illegal"})
		v := statementOf(t, s, rev, d)
		if v.TDB.SourceType != "SOURCE_TRUSTED_FLAGGER" || v.TDB.SourceIdentity != "Anti-Phishing Working Group" {
			t.Errorf("source %s (%s)", v.TDB.SourceType, v.TDB.SourceIdentity)
		}
		if msg := v.Problems["illegal_content_legal_ground"]; len(msg) == 0 || !strings.Contains(msg[0], "500") {
			t.Errorf("600-character legal ground: %v", v.Problems)
		}

		// An edit that empties a conditional field is refused, naming it.
		r := claimed(t, s, rev, report(cases.Phishing, "https://shop.acme.example/pay"))
		_, _, err := s.Decide(ctx, rev, r.CaseID, cases.Proposal{Action: cases.Restrict, Grounds: "Fraud Act", Explanation: "Fake.",
			GroundType: "illegal", Statement: &cases.StatementEdit{Facts: "Facts.", Ground: "", Explanation: "x", Scope: "EEA", Redress: "Appeal.", ContentTypeOther: "Website"}})
		e, ok := errs.As(err)
		if !ok || !strings.Contains(e.Fields["sor_ground"], "illegal_content_legal_ground") {
			t.Fatalf("empty legal ground: %v (%+v)", err, e)
		}
		// A territorial scope outside the EEA is refused by name too.
		_, _, err = s.Decide(ctx, rev, r.CaseID, cases.Proposal{Action: cases.Restrict, Grounds: "Fraud Act", Explanation: "Fake.",
			GroundType: "illegal", Statement: &cases.StatementEdit{Facts: "Facts.", Ground: "Fraud Act", Explanation: "x", Scope: "DE US", Redress: "Appeal.", ContentTypeOther: "Website"}})
		if e, ok := errs.As(err); !ok || !strings.Contains(e.Fields["sor_scope"], "territorial_scope") {
			t.Fatalf("scope US: %v", err)
		}
		// The reviewer's edits are taken with the decision.
		_, d, err = s.Decide(ctx, rev, r.CaseID, cases.Proposal{Action: cases.Restrict, Grounds: "Fraud Act", Explanation: "Fake.",
			GroundType: "illegal", Statement: &cases.StatementEdit{Facts: "Edited facts.", Ground: "Fraud Act 2006 s. 2",
				Explanation: "It imitates a bank.", Scope: "de, at", Redress: "Appeal within 6 months.", ContentTypeOther: "Website"}})
		if err != nil {
			t.Fatal(err)
		}
		v = statementOf(t, s, rev, d)
		if v.TDB.DecisionFacts != "Edited facts." || !slices.Equal(v.TDB.TerritorialScope, []string{"AT", "DE"}) || v.Statement.Redress != "Appeal within 6 months." {
			t.Errorf("edits lost: %+v", v.TDB)
		}
		if len(v.Problems) > 0 {
			t.Errorf("edited statement invalid: %v", v.Problems)
		}
		var n2 int64
		db.R.Table("audit_events").Where("action = 'statement.created' AND object_id = ? AND details LIKE ?", strconv.FormatInt(r.CaseID, 10), "%decision_facts%").Count(&n2)
		if n2 != 1 {
			t.Errorf("edited creation audited %d times", n2)
		}
	})
}

// A termination's draft is edited by the proposer and sign-off givers only,
// audited; once final it cannot change, and the final statement keeps the edits.
func TestStatementEditBeforeFinal(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		s, _ := setup(t, db)
		ctx := context.Background()
		people := staff(t, db, 4)
		proposer, legal, lead := people[0], roles(people[1], "legal"), roles(people[2], "leadership")
		other := cases.Actor{UserID: people[3].UserID, Can: func(string, string) bool { return false }}
		_, d := proposeTermination(t, s, proposer, "https://board.example.co.uk/t/2")
		v := statementOf(t, s, proposer, d)
		if !v.CanEdit {
			t.Error("proposer may not edit the draft")
		}
		e := v.Edit()
		if e.Ground != "AUP 1.1 incitement" {
			t.Errorf("the grounds are not offered for editing: %+v", e)
		}
		e.Facts = "The forum hosted <script>alert(1)</script> calls to violence."
		// The proposal had no ground type: an edit must give one, and is refused by name otherwise.
		if _, err := s.EditStatement(ctx, proposer, v.Statement.ID, allQueues, e); err == nil || !strings.Contains(err.Error(), "decision_ground") {
			t.Errorf("edit without a ground type: %v", err)
		}
		e.GroundType = "terms"
		if _, err := s.EditStatement(ctx, other, v.Statement.ID, allQueues, e); errs.CodeOf(err) != errs.Forbidden {
			t.Errorf("another reviewer edited: %v", err)
		}
		if _, err := s.EditStatement(ctx, proposer, v.Statement.ID, []string{"none"}, e); errs.CodeOf(err) != errs.NotFound {
			t.Errorf("edited outside readable queues: %v", err)
		}
		if _, err := s.EditStatement(ctx, proposer, v.Statement.ID, allQueues, e); err != nil {
			t.Fatal(err)
		}
		e.Scope = "EEA"
		e.Redress = "Write to legal@host.example."
		if _, err := s.EditStatement(ctx, legal, v.Statement.ID, allQueues, e); err != nil {
			t.Fatal(err)
		}
		var evs []string
		db.R.Table("audit_events").Where("action = 'statement.edited' AND object_id = ?", strconv.FormatInt(d.CaseID, 10)).Order("id").Pluck("details", &evs)
		if len(evs) != 2 || !strings.Contains(evs[0], "decision_facts") || !strings.Contains(evs[1], "redress") {
			t.Errorf("edits audited: %v", evs)
		}
		approveBoth(t, s, legal, lead, d)
		v = statementOf(t, s, proposer, d)
		if v.Statement.Status != "final" || v.TDB.DecisionFacts != e.Facts || v.Statement.Redress != e.Redress {
			t.Errorf("final statement lost edits: %s %q", v.Statement.Status, v.TDB.DecisionFacts)
		}
		if v.CanEdit {
			t.Error("final statement editable")
		}
		if _, err := s.EditStatement(ctx, proposer, v.Statement.ID, allQueues, e); errs.CodeOf(err) != errs.Conflict {
			t.Errorf("edited a final statement: %v", err)
		}
		if txt := v.Text(); !strings.Contains(txt, "Redress: Write to legal@host.example.") || !strings.Contains(txt, "European Economic Area") {
			t.Errorf("text form:\n%s", txt)
		}
	})
}

// Exports validate, batch by 100 and keep PUIDs across runs.
func TestStatementExport(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		s, clk := setup(t, db)
		ctx := context.Background()
		rev := staff(t, db, 1)[0]
		serve(t, s, "site%d.example", 101)
		start := clk.now()
		for i := range 101 {
			clk.add(time.Second)
			fileDecided(t, s, rev, report(cases.Spam, fmt.Sprintf("https://site%d.example/", i)), cases.Proposal{
				Action: cases.Restrict, Grounds: "AUP 2 spam", Explanation: "Spam.", GroundType: "terms"})
		}
		// One without a ground type: left out, named.
		clk.add(time.Second)
		fileDecided(t, s, rev, report(cases.Spam, "https://acme.example/spam"), cases.Proposal{Action: cases.Restrict, Grounds: "AUP 2", Explanation: "Spam."})
		res, err := s.ExportStatements(ctx, "test", start, time.Time{})
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Batches) != 2 || len(res.Batches[0].Statements) != 100 || len(res.Batches[1].Statements) != 1 {
			t.Fatalf("batches: %d", len(res.Batches))
		}
		if len(res.Invalid) != 1 || len(res.Invalid[0].Problems["decision_ground"]) == 0 {
			t.Errorf("invalid: %+v", res.Invalid)
		}
		var first []string
		for _, b := range res.Batches {
			if e := sor.ValidateBatch(b); len(e) > 0 {
				t.Errorf("batch: %v", e)
			}
			for _, st := range b.Statements {
				first = append(first, st.PUID)
			}
		}
		var exported int64
		db.R.Table("statements").Where("exported_at IS NOT NULL AND export_batch = ?", res.Batch).Count(&exported)
		if exported != 101 {
			t.Errorf("%d marked exported", exported)
		}
		var at1 []time.Time
		db.R.Table("statements").Where("exported_at IS NOT NULL").Order("id").Pluck("exported_at", &at1)
		clk.add(time.Hour)
		res2, err := s.ExportStatements(ctx, "test", start, time.Time{})
		if err != nil {
			t.Fatal(err)
		}
		var again []string
		for _, b := range res2.Batches {
			for _, st := range b.Statements {
				again = append(again, st.PUID)
			}
		}
		if !slices.Equal(first, again) {
			t.Error("re-export changed the PUIDs")
		}
		var at2 []time.Time
		db.R.Table("statements").Where("exported_at IS NOT NULL").Order("id").Pluck("exported_at", &at2)
		if len(at1) != len(at2) || !at1[0].Equal(at2[0]) {
			t.Error("re-export moved the first export's time")
		}
		// A period after everything is empty.
		res3, err := s.ExportStatements(ctx, "test", clk.now(), time.Time{})
		if err != nil || len(res3.Batches) != 0 {
			t.Errorf("later period: %v %d", err, len(res3.Batches))
		}
	})
}
