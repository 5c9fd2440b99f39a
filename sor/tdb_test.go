package sor_test

import (
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/dockethq/docket/sor"
)

// The documented examples (the API documentation's request and response, and
// the project's Cypress fixture; copied from ../shared/reference) pass.
func TestDocumentedExamplesPass(t *testing.T) {
	b, err := os.ReadFile("testdata/dsa-tdb-statement-examples.json")
	if err != nil {
		t.Fatal(err)
	}
	var ex map[string]json.RawMessage
	if err := json.Unmarshal(b, &ex); err != nil {
		t.Fatal(err)
	}
	n := 0
	for name, raw := range ex {
		if strings.HasPrefix(name, "_") {
			continue
		}
		var doc map[string]any
		if err := json.Unmarshal(raw, &doc); err != nil {
			t.Fatal(err)
		}
		if e := sor.Validate(doc); len(e) > 0 {
			t.Errorf("%s: %v", name, e)
		}
		n++
	}
	if n != 3 {
		t.Errorf("checked %d examples, want 3", n)
	}
}

func valid() sor.Statement {
	return sor.Statement{
		DecisionProvision: "DECISION_PROVISION_TOTAL_SUSPENSION", DecisionGround: "DECISION_GROUND_ILLEGAL_CONTENT",
		IllegalContentLegalGround: "Art. 3 Directive 2011/93/EU", IllegalContentExplanation: "The site hosted it.",
		ContentType: []string{"CONTENT_TYPE_OTHER"}, ContentTypeOther: "Website",
		Category: "STATEMENT_CATEGORY_PROTECTION_OF_MINORS", TerritorialScope: sor.EEA,
		ContentDate: "2026-11-01", ApplicationDate: "2026-11-02", DecisionFacts: "Facts.",
		SourceType: "SOURCE_ARTICLE_16", AutomatedDetection: "No", AutomatedDecision: "AUTOMATED_DECISION_NOT_AUTOMATED",
		PUID: "docket-decision-7",
	}
}

// Each documented rule, broken once, is reported under the field's name.
func TestRulesNameTheField(t *testing.T) {
	long := strings.Repeat("x", 501)
	for _, tc := range []struct {
		name  string
		edit  func(*sor.Statement)
		field string
	}{
		{"illegal ground needs legal ground", func(s *sor.Statement) { s.IllegalContentLegalGround = "" }, "illegal_content_legal_ground"},
		{"illegal ground needs explanation", func(s *sor.Statement) { s.IllegalContentExplanation = "" }, "illegal_content_explanation"},
		{"terms ground needs ground", func(s *sor.Statement) {
			s.DecisionGround = "DECISION_GROUND_INCOMPATIBLE_CONTENT"
			s.IncompatibleContentExplanation = "x"
		}, "incompatible_content_ground"},
		{"visibility other needs text", func(s *sor.Statement) {
			s.DecisionProvision, s.DecisionVisibility = "", []string{"DECISION_VISIBILITY_OTHER"}
		}, "decision_visibility_other"},
		{"monetary other needs text", func(s *sor.Statement) { s.DecisionMonetary = "DECISION_MONETARY_OTHER" }, "decision_monetary_other"},
		{"content type other needs text", func(s *sor.Statement) { s.ContentTypeOther = "" }, "content_type_other"},
		{"some decision", func(s *sor.Statement) { s.DecisionProvision = "" }, "decision_visibility"},
		{"bad provision", func(s *sor.Statement) { s.DecisionProvision = "DECISION_PROVISION_SOMEWHAT" }, "decision_provision"},
		{"legal ground length", func(s *sor.Statement) { s.IllegalContentLegalGround = long }, "illegal_content_legal_ground"},
		{"facts length", func(s *sor.Statement) { s.DecisionFacts = strings.Repeat("y", 5001) }, "decision_facts"},
		{"facts required", func(s *sor.Statement) { s.DecisionFacts = "" }, "decision_facts"},
		{"puid charset", func(s *sor.Statement) { s.PUID = "docket decision/7" }, "puid"},
		{"puid length", func(s *sor.Statement) { s.PUID = strings.Repeat("a", 501) }, "puid"},
		{"territory outside EEA", func(s *sor.Statement) { s.TerritorialScope = []string{"DE", "US"} }, "territorial_scope"},
		{"territory required", func(s *sor.Statement) { s.TerritorialScope = nil }, "territorial_scope"},
		{"category enum", func(s *sor.Statement) { s.Category = "STATEMENT_CATEGORY_PIRACY" }, "category"},
		{"keyword enum", func(s *sor.Statement) { s.CategorySpecification = []string{"KEYWORD_NOPE"} }, "category_specification"},
		{"date format", func(s *sor.Statement) { s.ApplicationDate = "2026-1-2" }, "application_date"},
		{"application date floor", func(s *sor.Statement) { s.ApplicationDate = "2019-12-31" }, "application_date"},
		{"content date floor", func(s *sor.Statement) { s.ContentDate = "1999-12-31" }, "content_date"},
		{"end before start", func(s *sor.Statement) { s.EndDateService = "2026-11-01" }, "end_date_service_restriction"},
		{"automated decision enum", func(s *sor.Statement) { s.AutomatedDecision = "Yes" }, "automated_decision"},
		{"automated detection enum", func(s *sor.Statement) { s.AutomatedDetection = "maybe" }, "automated_detection"},
		{"source type", func(s *sor.Statement) { s.SourceType = "" }, "source_type"},
		{"language", func(s *sor.Statement) { s.ContentLanguage = "en" }, "content_language"},
		{"reference url", func(s *sor.Statement) { s.DecisionGroundReferenceURL = "javascript:alert(1)" }, "decision_ground_reference_url"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st := valid()
			tc.edit(&st)
			e := st.Check()
			if len(e[tc.field]) == 0 {
				t.Fatalf("no error for %s; got %v", tc.field, e)
			}
			if !strings.Contains(e[tc.field][0], tc.field) {
				t.Errorf("message %q does not name %s", e[tc.field][0], tc.field)
			}
		})
	}
	if e := valid().Check(); len(e) > 0 {
		t.Errorf("valid statement: %v", e)
	}
}

// Fields that only apply under another field's value are ignored otherwise, as
// the API excludes them (the documentation's own example sends illegal_* with
// an incompatible ground).
func TestExcludedFieldsIgnored(t *testing.T) {
	st := valid()
	st.DecisionVisibilityOther = strings.Repeat("z", 900)
	if e := st.Check(); len(e) > 0 {
		t.Errorf("excluded field checked: %v", e)
	}
}

func TestBatches(t *testing.T) {
	for _, n := range []int{0, 1, 100, 101, 250} {
		var st []sor.Statement
		for i := range n {
			s := valid()
			s.PUID = fmt.Sprintf("docket-decision-%d", i)
			st = append(st, s)
		}
		bs := sor.Batches(st)
		if want := (n + 99) / 100; len(bs) != want {
			t.Fatalf("%d statements: %d batches, want %d", n, len(bs), want)
		}
		total := 0
		for _, b := range bs {
			if len(b.Statements) > sor.BatchSize {
				t.Errorf("batch of %d", len(b.Statements))
			}
			if e := sor.ValidateBatch(b); len(e) > 0 {
				t.Errorf("batch invalid: %v", e)
			}
			total += len(b.Statements)
		}
		if total != n {
			t.Errorf("lost statements: %d of %d", total, n)
		}
	}
	dup := sor.Batch{Statements: []sor.Statement{valid(), valid()}}
	if e := sor.ValidateBatch(dup); e["puid"] == nil {
		t.Errorf("duplicate puids in one call not reported: %v", e)
	}
	if e := sor.ValidateBatch(sor.Batch{}); e["statements"] == nil {
		t.Error("empty batch accepted")
	}
	b, _ := json.Marshal(sor.Batches([]sor.Statement{valid()})[0])
	if !strings.HasPrefix(string(b), `{"statements":[{`) {
		t.Errorf("batch JSON: %s", b)
	}
	if !slices.Contains(sor.EEA, "NO") || len(sor.EEA) != 30 {
		t.Errorf("EEA: %v", sor.EEA)
	}
}

func BenchmarkCheck(b *testing.B) {
	st := valid()
	for b.Loop() {
		if e := st.Check(); len(e) > 0 {
			b.Fatal(e)
		}
	}
}
