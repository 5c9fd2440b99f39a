package intake

import (
	"bufio"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// pslDir holds the publicsuffix.org test vectors, shared with other packages.
var pslDir = filepath.Join("..", "..", "shared", "testdata", "psl")

// pslSkip lists vectors that cannot match golang.org/x/net/publicsuffix's
// embedded list, keyed by input, with the reason. Empty: every vector in the
// pinned files matches the list compiled into x/net v0.62.0.
var pslSkip = map[string]string{}

// pslVector is one checkPublicSuffix(input, expected) call; a nil pointer is
// the JavaScript null of the original test file.
type pslVector struct {
	line     int
	input    *string
	expected *string
}

var checkCall = regexp.MustCompile(`^checkPublicSuffix\((null|'[^']*'),\s*(null|'[^']*')\);?$`)

func pslArg(s string) *string {
	if s == "null" {
		return nil
	}
	s = strings.Trim(s, "'")
	return &s
}

// readPSL parses both formats: test_psl.txt has checkPublicSuffix(...) calls,
// tests.txt has "<input> <expected>" pairs. '//' and '#' lines are comments.
func readPSL(t *testing.T, name string) []pslVector {
	t.Helper()
	f, err := os.Open(filepath.Join(pslDir, name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []pslVector
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "//") || strings.HasPrefix(line, "#") {
			continue
		}
		if m := checkCall.FindStringSubmatch(line); m != nil {
			out = append(out, pslVector{n, pslArg(m[1]), pslArg(m[2])})
			continue
		}
		fields := strings.Fields(line)
		if len(fields) != 2 || strings.Contains(line, "checkPublicSuffix") {
			t.Fatalf("%s:%d: cannot parse %q", name, n, line)
		}
		out = append(out, pslVector{n, pslArg(fields[0]), pslArg(fields[1])})
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// checkPublicSuffix mirrors the reference helper: lowercase and IDNA-encode
// the input, then return its registrable domain, or nil for null input,
// invalid input, and hosts that are a public suffix themselves.
func checkPublicSuffix(input *string) *string {
	if input == nil {
		return nil
	}
	ascii, err := profile.ToASCII(*input)
	if err != nil {
		return nil
	}
	if reg := registrableDomain(ascii); reg != "" {
		return &reg
	}
	return nil
}

func TestPublicSuffixVectors(t *testing.T) {
	if _, err := os.Stat(pslDir); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("public suffix vectors missing in CI: %v", err)
		}
		t.Skipf("public suffix vectors not available: %v", err)
	}
	show := func(p *string) string {
		if p == nil {
			return "null"
		}
		return *p
	}
	var first []string
	for _, name := range []string{"psl-tests.txt", "psl-test_psl.txt"} {
		vectors := readPSL(t, name)
		// The two files are the same vectors in two formats; a mismatch
		// means one was updated without the other.
		var pairs []string
		for _, v := range vectors {
			pairs = append(pairs, show(v.input)+" "+show(v.expected))
		}
		if first == nil {
			first = pairs
		} else if strings.Join(first, "\n") != strings.Join(pairs, "\n") {
			t.Errorf("%s: vectors differ from psl-tests.txt", name)
		}
		// Both files carry the same 78 vectors; a parser that drops some of
		// them must not pass quietly.
		if len(vectors) < 70 {
			t.Fatalf("%s: parsed only %d vectors", name, len(vectors))
		}
		skipped := 0
		for _, v := range vectors {
			in := show(v.input)
			if reason, ok := pslSkip[in]; ok {
				t.Logf("%s:%d: skipping %q: %s", name, v.line, in, reason)
				skipped++
				continue
			}
			var want *string
			if v.expected != nil {
				w, err := profile.ToASCII(*v.expected)
				if err != nil {
					t.Fatalf("%s:%d: expected %q is not a valid domain: %v", name, v.line, *v.expected, err)
				}
				want = &w
			}
			got := checkPublicSuffix(v.input)
			if show(got) != show(want) {
				t.Errorf("%s:%d: checkPublicSuffix(%q) = %s, want %s", name, v.line, in, show(got), show(want))
			}

			// The public API must agree: a registrable domain when there is
			// one, and otherwise an error or an empty RegistrableDomain.
			if v.input == nil {
				continue
			}
			target, err := NormalizeURL("http://" + *v.input + "/")
			switch {
			case want != nil && err != nil:
				t.Errorf("%s:%d: NormalizeURL(%q) error %v, want registrable domain %s", name, v.line, in, err, *want)
			case err == nil && target.RegistrableDomain != show(want) && !(want == nil && target.RegistrableDomain == ""):
				t.Errorf("%s:%d: NormalizeURL(%q).RegistrableDomain = %q, want %s", name, v.line, in, target.RegistrableDomain, show(want))
			}
		}
		t.Logf("%s: %d vectors checked, %d skipped", name, len(vectors)-skipped, skipped)
	}
}
