package ui

import (
	"encoding/xml"
	"io"
	"strings"
	"testing"
	"time"
)

// TestSVGBarChart checks that a chart is well-formed XML, escapes its text,
// prints every number and survives bars that are all zero.
func TestSVGBarChart(t *testing.T) {
	out := string(svgBarChart("c1", `Title <b>&`, `Desc "q"`, []string{"A", "B"}, []svgBar{
		{Label: `<script>x</script>`, Segments: []svgSegment{{"A", 1200}, {"B", 34}}},
		{Label: "zero", Segments: []svgSegment{{"A", 0}, {"B", 0}}},
	}))
	dec := xml.NewDecoder(strings.NewReader(out))
	for {
		if _, err := dec.Token(); err == io.EOF {
			break
		} else if err != nil {
			t.Fatalf("not well-formed: %v\n%s", err, out)
		}
	}
	for _, want := range []string{`role="img"`, `<title id="c1-title">Title &lt;b&gt;&amp;</title>`, `&lt;script&gt;x&lt;/script&gt;`, `>1,234</text>`, `: 1,200</title>`, `>0</text>`} {
		if !strings.Contains(out, want) {
			t.Errorf("chart lacks %s:\n%s", want, out)
		}
	}
	if strings.Contains(out, "<script>") || strings.Contains(out, "NaN") {
		t.Errorf("chart has raw markup or NaN:\n%s", out)
	}
	empty := string(svgBarChart("c2", "t", "d", nil, []svgBar{{Label: "x", Segments: []svgSegment{{"x", 0}}}}))
	if strings.Contains(empty, "NaN") || strings.Contains(empty, "Inf") {
		t.Errorf("all-zero chart: %s", empty)
	}
}

func TestDisplayFigure(t *testing.T) {
	for _, c := range []struct{ key, sub, val, want string }{
		{"total", "", "1234567", "1,234,567"},
		{"total", "", "12", "12"},
		{"median_time_to_decision_seconds", "", "", "—"},
		{"median_time_to_decision_seconds", "", "93784.5", "1 d 2 h 3 min"},
		{"median_time_to_decision_seconds", "", "7200", "2 h 0 min"},
		{"median_time_to_decision_seconds", "", "75", "1 min 15 s"},
		{"median_time_to_decision_seconds", "", "2.5", "2.5 s"},
		{"median_time_to_decision_seconds", "count", "1000", "1,000"},
		{"automated_share_percent", "", "12.5", "12.5 %"},
	} {
		if got := displayFigure(c.key, c.sub, c.val); got != c.want {
			t.Errorf("displayFigure(%q, %q, %q) = %q, want %q", c.key, c.sub, c.val, got, c.want)
		}
	}
	if got := humanDuration(-90 * time.Second); got != "−1 min 30 s" {
		t.Errorf("negative: %q", got)
	}
}
