package reconcile

import (
	"fmt"
	"testing"

	"github.com/dockethq/docket/cases"
)

func TestStateURL(t *testing.T) {
	for in, want := range map[string]string{
		"http://edge.example:8081/_edge/directives":      "http://edge.example:8081/_edge/state",
		"https://edge.example/pop1/_edge/directives?x=1": "https://edge.example/pop1/_edge/state",
		"https://config.example/hooks/docket/":           "https://config.example/hooks/docket/_edge/state",
		"http://127.0.0.1:9":                             "http://127.0.0.1:9/_edge/state",
	} {
		if got, err := StateURL(in); err != nil || got != want {
			t.Errorf("StateURL(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
}

// TestCompare covers every kind of drift and which a re-send repairs.
func TestCompare(t *testing.T) {
	dir := func(id string, v int64, typ, measure string) cases.Directive {
		return cases.Directive{ID: id, Version: v, Type: typ, Measure: measure}
	}
	want := map[string]cases.Directive{
		"same.example":    dir("A", 3, "site.restrict", "interstitial"),
		"missing.example": dir("B", 1, "site.terminate", ""),
		"stale.example":   dir("C", 5, "site.restrict", ""),
		"ahead.example":   dir("D", 2, "site.restrict", ""),
		"other.example":   dir("E", 4, "site.restrict", "block_url"),
		"lifted.example":  dir("F", 6, "site.reinstate", ""), // missing at the edge, which then serves it: in step
	}
	have := map[string]Applied{
		"same.example":       {Version: 3, Type: "site.interstitial", DirectiveID: "A"},
		"stale.example":      {Version: 4, Type: "site.terminate"},
		"ahead.example":      {Version: 9, Type: "site.restrict"},
		"other.example":      {Version: 4, Type: "site.restrict", DirectiveID: "X"},
		"unknown.example":    {Version: 1, Type: "site.terminate"},
		"reinstated.example": {Version: 2, Type: "site.reinstate"},
	}
	got := ""
	for _, d := range compare("t", want, have) {
		got += fmt.Sprintf("%s:%s:%v ", d.Hostname, d.Kind, d.Repairable())
	}
	if w := "ahead.example:ahead:false missing.example:missing:true other.example:wrong_type:false stale.example:stale:true unknown.example:unknown:false "; got != w {
		t.Errorf("drift\n got %s\nwant %s", got, w)
	}
}
