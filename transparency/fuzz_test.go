package transparency_test

import (
	"testing"
	"time"

	"github.com/dockethq/docket/transparency"
)

// FuzzParsePeriod: the period comes from a public URL. Whatever it is, the
// answer is a valid period (start before end, at most MaxRange years, not in
// the future) or an error naming from or to.
func FuzzParsePeriod(f *testing.F) {
	now := time.Date(2026, 12, 2, 7, 0, 0, 0, time.UTC)
	f.Add("2026-01-01", "2026-07-01")
	f.Add("", "")
	f.Add("1999-12-31", "2000-01-02")
	f.Add("2026-02-30", "x")
	f.Add("0001-01-01", "9999-12-31")
	f.Add("2026-01-01T00:00:00Z", "2026-13-01")
	f.Fuzz(func(t *testing.T, from, to string) {
		p, err := transparency.ParsePeriod(from, to, now)
		if err != nil {
			return
		}
		if !p.To.After(p.From) || p.To.After(p.From.AddDate(transparency.MaxRange, 0, 0)) || p.To.After(now.AddDate(0, 0, 2)) || p.From.Year() < 2000 {
			t.Fatalf("ParsePeriod(%q, %q) = %v, accepted", from, to, p)
		}
	})
}
