package notify

import (
	"strings"
	"testing"
)

// FuzzScrubText: whatever the description, an anonymous reporter's address
// (ASCII, as the form accepts it) never survives scrubbing, and text without
// it comes back unchanged.
func FuzzScrubText(f *testing.F) {
	f.Add("Write to JANE.DOE@example.org or jane.doe@Example.org.\n-- Jane Doe", "Jane Doe", "jane.doe@example.org")
	f.Add("no identity here", "Bob", "b@x.io")
	f.Add("Annabel wrote: anna@x.io", "Anna", "anna@x.io")
	f.Fuzz(func(t *testing.T, text, name, email string) {
		email = strings.ToLower(strings.TrimSpace(email))
		if email == "" || !strings.Contains(email, "@") || strings.ContainsFunc(email, func(r rune) bool { return r > 0x7e || r < 0x21 }) {
			return
		}
		out := scrubText(text, identity{Name: name, Email: email})
		if strings.Contains(strings.ToLower(out), email) {
			t.Fatalf("scrubbed text still holds %q:\n%s", email, out)
		}
		lower := strings.ToLower(text)
		local, _, _ := strings.Cut(email, "@")
		if !strings.Contains(lower, email) && !strings.Contains(lower, local) && (strings.TrimSpace(name) == "" || !strings.Contains(lower, strings.ToLower(strings.Fields(name + " x")[0]))) {
			if out != text {
				t.Fatalf("text without the identity changed:\n%q\n%q", text, out)
			}
		}
	})
}
