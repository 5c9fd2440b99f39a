package sor_test

import (
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/dockethq/docket/sor"
)

// FuzzValidate runs the rule table over arbitrary JSON documents (a legal
// officer may paste or import anything): it must answer with errors keyed by
// field names, never panic, and answer the same twice.
func FuzzValidate(f *testing.F) {
	b, err := os.ReadFile("testdata/dsa-tdb-statement-examples.json")
	if err != nil {
		f.Fatal(err)
	}
	var ex map[string]json.RawMessage
	if err := json.Unmarshal(b, &ex); err != nil {
		f.Fatal(err)
	}
	for name, raw := range ex {
		if !strings.HasPrefix(name, "_") {
			f.Add(string(raw))
		}
	}
	f.Add(`{}`)
	f.Add(`{"decision_ground":"DECISION_GROUND_ILLEGAL_CONTENT","territorial_scope":[1,null,{}],"end_date_service_restriction":"2019-02-30"}`)
	f.Add(`{"puid":"` + strings.Repeat("x", 600) + `","category":["a"],"decision_visibility":"DECISION_VISIBILITY_OTHER"}`)
	f.Fuzz(func(t *testing.T, in string) {
		var doc map[string]any
		if json.Unmarshal([]byte(in), &doc) != nil {
			return
		}
		e := sor.Validate(doc)
		for field, msgs := range e {
			if field == "" || len(msgs) == 0 {
				t.Fatalf("an error without a field or message: %q %v", field, msgs)
			}
		}
		if again := sor.Validate(doc); len(again) != len(e) {
			t.Fatalf("two answers for one document: %v then %v", e, again)
		}
	})
}
