package intake

import (
	"errors"
	"reflect"
	"regexp"
	"strings"
	"testing"
)

type urlCase struct {
	name string
	in   string
	want Target // zero when an error is expected
	err  string // expected error message; "" when success is expected
}

var longURL = "http://example.com/" + strings.Repeat("a", 3000-len("http://example.com/"))

var urlCases = []urlCase{
	// Hosts.
	{"plain", "http://example.com/", Target{"http://example.com/", "example.com", "example.com"}, ""},
	{"https", "https://www.example.com/a", Target{"https://www.example.com/a", "www.example.com", "example.com"}, ""},
	{"empty path gets slash", "https://example.com", Target{"https://example.com/", "example.com", "example.com"}, ""},
	{"uppercase", "HTTP://WWW.EXAMPLE.COM/Path", Target{"http://www.example.com/Path", "www.example.com", "example.com"}, ""},
	{"idna unicode", "http://Bücher.example/", Target{"http://xn--bcher-kva.example/", "xn--bcher-kva.example", "xn--bcher-kva.example"}, ""},
	{"idna uppercase accent", "https://ÉXAMPLE.com/", Target{"https://xn--xample-9ua.com/", "xn--xample-9ua.com", "xn--xample-9ua.com"}, ""},
	{"idna percent-encoded", "http://b%C3%BCcher.example/", Target{"http://xn--bcher-kva.example/", "xn--bcher-kva.example", "xn--bcher-kva.example"}, ""},
	{"idna non-transitional sharp s", "http://faß.de/", Target{"http://xn--fa-hia.de/", "xn--fa-hia.de", "xn--fa-hia.de"}, ""},
	{"idna cjk", "http://www.食狮.中国/", Target{"http://www.xn--85x722f.xn--fiqs8s/", "www.xn--85x722f.xn--fiqs8s", "xn--85x722f.xn--fiqs8s"}, ""},
	{"punycode kept", "http://xn--bcher-kva.example/", Target{"http://xn--bcher-kva.example/", "xn--bcher-kva.example", "xn--bcher-kva.example"}, ""},
	{"punycode uppercase", "http://XN--BCHER-KVA.Example/", Target{"http://xn--bcher-kva.example/", "xn--bcher-kva.example", "xn--bcher-kva.example"}, ""},
	{"fullwidth dots", "http://example。com/", Target{"http://example.com/", "example.com", "example.com"}, ""},
	{"fullwidth letters", "http://ｅｘａｍｐｌｅ．ｃｏｍ/", Target{"http://example.com/", "example.com", "example.com"}, ""},
	{"trailing dot", "http://example.com./", Target{"http://example.com/", "example.com", "example.com"}, ""},
	{"trailing fullwidth dot", "http://example.com。/", Target{"http://example.com/", "example.com", "example.com"}, ""},
	{"co.uk", "http://a.b.example.co.uk/", Target{"http://a.b.example.co.uk/", "a.b.example.co.uk", "example.co.uk"}, ""},
	{"private suffix", "https://evil.blogspot.com/", Target{"https://evil.blogspot.com/", "evil.blogspot.com", "evil.blogspot.com"}, ""},
	{"public suffix only", "http://co.uk/", Target{"http://co.uk/", "co.uk", ""}, ""},
	{"underscore", "http://my_site.example.com/", Target{"http://my_site.example.com/", "my_site.example.com", "example.com"}, ""},
	{"hyphens in 3rd and 4th place", "https://r3---sn-abc.googlevideo.com/", Target{"https://r3---sn-abc.googlevideo.com/", "r3---sn-abc.googlevideo.com", "googlevideo.com"}, ""},

	// Ports.
	{"http default port", "http://example.com:80/x", Target{"http://example.com/x", "example.com", "example.com"}, ""},
	{"https default port", "https://example.com:443/x", Target{"https://example.com/x", "example.com", "example.com"}, ""},
	{"http port 443 kept", "http://example.com:443/", Target{"http://example.com:443/", "example.com", "example.com"}, ""},
	{"other port", "https://example.com:8443/x", Target{"https://example.com:8443/x", "example.com", "example.com"}, ""},
	{"port leading zeros", "http://example.com:0080/", Target{"http://example.com/", "example.com", "example.com"}, ""},
	{"empty port", "http://example.com:/", Target{"http://example.com/", "example.com", "example.com"}, ""},
	{"bare host and port", "example.com:8080/x", Target{"http://example.com:8080/x", "example.com", "example.com"}, ""},

	// Userinfo.
	{"userinfo dropped", "http://user:pass@evil.com/login", Target{"http://evil.com/login", "evil.com", "evil.com"}, ""},
	{"userinfo disguise", "https://www.bank.com@evil.example/", Target{"https://evil.example/", "evil.example", "evil.example"}, ""},
	{"backslash ends host", `http://evil.com\@good.com/`, Target{"http://evil.com/@good.com/", "evil.com", "evil.com"}, ""},

	// IP literals.
	{"ipv4", "http://192.0.2.1/a", Target{"http://192.0.2.1/a", "192.0.2.1", ""}, ""},
	{"ipv4 with port", "192.0.2.1:8080", Target{"http://192.0.2.1:8080/", "192.0.2.1", ""}, ""},
	{"ipv4 trailing dot", "http://192.0.2.1./", Target{"http://192.0.2.1/", "192.0.2.1", ""}, ""},
	{"ipv4 hex", "http://0xc0.0x00.0x02.0x01/", Target{"http://192.0.2.1/", "192.0.2.1", ""}, ""},
	{"ipv4 single number", "http://3221225985/", Target{"http://192.0.2.1/", "192.0.2.1", ""}, ""},
	{"ipv4 octal", "http://0300.0250.0.01/", Target{"http://192.168.0.1/", "192.168.0.1", ""}, ""},
	{"ipv4 short", "http://127.1/", Target{"http://127.0.0.1/", "127.0.0.1", ""}, ""},
	{"ipv6", "http://[2001:DB8:0:0:0:0:0:1]/x", Target{"http://[2001:db8::1]/x", "2001:db8::1", ""}, ""},
	{"ipv6 with port", "https://[2001:db8::1]:8443/", Target{"https://[2001:db8::1]:8443/", "2001:db8::1", ""}, ""},
	{"ipv6 default port", "https://[::1]:443", Target{"https://[::1]/", "::1", ""}, ""},
	{"ipv6 bare", "2001:db8::1", Target{"http://[2001:db8::1]/", "2001:db8::1", ""}, ""},
	{"ipv6 bare with path", "fe80::1/x?y", Target{"http://[fe80::1]/x?y", "fe80::1", ""}, ""},
	{"ipv6 unbracketed in url", "https://2001:db8::1/x", Target{"https://[2001:db8::1]/x", "2001:db8::1", ""}, ""},
	{"ipv6 mapped ipv4", "http://[::ffff:192.0.2.1]/", Target{"http://[::ffff:192.0.2.1]/", "::ffff:192.0.2.1", ""}, ""},

	// Scheme-less and scheme variants.
	{"bare host", "Example.COM", Target{"http://example.com/", "example.com", "example.com"}, ""},
	{"bare host and path", "Example.COM/x", Target{"http://example.com/x", "example.com", "example.com"}, ""},
	{"scheme-relative", "//example.com/x", Target{"http://example.com/x", "example.com", "example.com"}, ""},
	{"missing slashes", "https:example.com/x", Target{"https://example.com/x", "example.com", "example.com"}, ""},
	{"extra slashes", "https:///example.com/x", Target{"https://example.com/x", "example.com", "example.com"}, ""},
	{"surrounding whitespace", " \t https://example.com/ \n", Target{"https://example.com/", "example.com", "example.com"}, ""},

	// Path and query.
	{"path and query kept", "https://example.com/a/b/../c;p?x=1&y=2&x=3", Target{"https://example.com/a/b/../c;p?x=1&y=2&x=3", "example.com", "example.com"}, ""},
	{"query kept empty", "https://example.com/?", Target{"https://example.com/?", "example.com", "example.com"}, ""},
	{"query without path", "https://example.com?q=1", Target{"https://example.com/?q=1", "example.com", "example.com"}, ""},
	{"query slashes", "https://example.com/r?u=http://x.test/?a", Target{"https://example.com/r?u=http://x.test/?a", "example.com", "example.com"}, ""},
	{"encoded slash kept", "https://example.com/a%2fb", Target{"https://example.com/a%2Fb", "example.com", "example.com"}, ""},
	{"unicode path escaped", "https://example.com/ü?q=ü", Target{"https://example.com/%C3%BC?q=%C3%BC", "example.com", "example.com"}, ""},
	{"unsafe chars escaped", `https://example.com/<a>"{b}|^` + "`" + `?a[]=<1>`, Target{"https://example.com/%3Ca%3E%22%7Bb%7D%7C%5E%60?a%5B%5D=%3C1%3E", "example.com", "example.com"}, ""},
	{"stray percent", "https://example.com/100%/?p=5%", Target{"https://example.com/100%25/?p=5%25", "example.com", "example.com"}, ""},
	{"fragment dropped", "https://example.com/a?b=c#frag", Target{"https://example.com/a?b=c", "example.com", "example.com"}, ""},
	{"fragment with question mark", "https://example.com/a#x?y", Target{"https://example.com/a", "example.com", "example.com"}, ""},
	{"backslash in path", `https://example.com/a\b`, Target{"https://example.com/a/b", "example.com", "example.com"}, ""},

	// Garbage.
	{"empty", "", Target{}, msgEmptyURL},
	{"blank", "   ", Target{}, msgEmptyURL},
	{"javascript", "javascript:alert(1)", Target{}, msgScheme},
	{"javascript mixed case", "JaVaScRiPt:alert(1)", Target{}, msgScheme},
	{"javascript slashes", "javascript://example.com/%0aalert(1)", Target{}, msgScheme},
	{"data", "data:text/html,<script>", Target{}, msgScheme},
	{"ftp", "ftp://x.com", Target{}, msgScheme},
	{"file", "file:///etc/passwd", Target{}, msgScheme},
	{"mailto", "mailto:abuse@example.com", Target{}, msgScheme},
	{"no host", "http://", Target{}, msgNoHost},
	{"no host with path", "https:///", Target{}, msgNoHost},
	{"only userinfo", "http://user@/", Target{}, msgNoHost},
	{"only path", "/just/a/path", Target{}, msgNoHost},
	{"inner space", "http://exa mple.com", Target{}, msgBadChars},
	{"space in path", "http://example.com/a b", Target{}, msgBadChars},
	{"nbsp", "http://example.com/a\u00a0b", Target{}, msgBadChars},
	{"empty label", "http://a..b.com", Target{}, msgBadDomain},
	{"dots only", "http://../", Target{}, msgBadDomain},
	{"two trailing dots", "http://example.com../", Target{}, msgBadDomain},
	{"leading dot", "http://.example.com/", Target{}, msgBadDomain},
	{"leading hyphen", "http://-foo-.com", Target{}, msgBadDomain},
	{"bad character in host", "http://exa<mple.com/", Target{}, msgBadDomain},
	{"fullwidth slash in host", "http://example.com／evil.test/", Target{}, msgBadDomain},
	{"bad punycode", "http://xn--a.example/", Target{}, msgBadDomain},
	{"ascii punycode", "http://xn--abc-.example/", Target{}, msgBadDomain},
	{"long label", "http://" + strings.Repeat("a", 64) + ".com/", Target{}, msgBadDomain},
	{"long host", "http://" + strings.Repeat("abcdefghi.", 26) + "com/", Target{}, msgBadDomain},
	{"bidi violation", "http://\u05d0a.example/", Target{}, msgBadDomain},
	{"localhost", "localhost", Target{}, msgOneLabel},
	{"localhost with port", "localhost:8080", Target{}, msgOneLabel},
	{"single label url", "http://intranet/", Target{}, msgOneLabel},
	{"single label trailing dot", "http://com./", Target{}, msgOneLabel},
	{"too long", longURL, Target{}, msgTooLong},
	{"too long after escaping", "http://example.com/" + strings.Repeat("ü", 700), Target{}, msgTooLong},
	{"newline", "http://example.com/\nSet-Cookie:x", Target{}, msgBadChars},
	{"tab", "http://exam\tple.com/", Target{}, msgBadChars},
	{"nul", "http://example.com/\x00", Target{}, msgBadChars},
	{"del", "http://example.com/\x7f", Target{}, msgBadChars},
	{"c1 control", "http://example.com/\u0085x", Target{}, msgBadChars},
	{"bidi override", "http://example.com/\u202egnp.exe", Target{}, msgBadChars},
	{"invalid utf8", "http://example.com/\xff", Target{}, msgBadText},
	{"bad port", "http://example.com:80a/", Target{}, msgBadPort},
	{"port too large", "http://example.com:65536/", Target{}, msgBadPort},
	{"port zero", "http://example.com:0/", Target{}, msgBadPort},
	{"bad ipv6", "http://[2001:db8::g]/", Target{}, msgBadIP},
	{"ipv6 zone", "http://[fe80::1%25eth0]/", Target{}, msgBadIP},
	{"ipv4 in brackets", "http://[192.0.2.1]/", Target{}, msgBadIP},
	{"unclosed bracket", "http://[::1/", Target{}, msgBadIP},
	{"ipv4 out of range", "http://256.1.1.1/", Target{}, msgBadIP},
	{"ipv4 five parts", "http://1.2.3.4.5/", Target{}, msgBadIP},
	{"numeric tld", "http://example.123/", Target{}, msgBadIP},
	{"bad host escape", "http://exa%zzmple.com/", Target{}, msgBadDomain},
	{"escaped slash in host", "http://evil.com%2Fgood.com/", Target{}, msgBadDomain},
}

// plainSentence is what a reporter may be shown: one capitalized sentence,
// with no Go error prefixes or formatting artifacts.
var plainSentence = regexp.MustCompile(`^[A-Z][A-Za-z0-9 ,.:/'-]*[a-z0-9]\.$`)

func checkUserError(t *testing.T, err error, field, wantMsg, input string) {
	t.Helper()
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("error %v (%T) is not *intake.Error", err, err)
	}
	if e.Field != field {
		t.Errorf("Field = %q, want %q", e.Field, field)
	}
	if e.Error() != e.Message {
		t.Errorf("Error() = %q, want Message %q", e.Error(), e.Message)
	}
	if wantMsg != "" && e.Message != wantMsg {
		t.Errorf("Message = %q, want %q", e.Message, wantMsg)
	}
	if !plainSentence.MatchString(e.Message) {
		t.Errorf("Message %q is not a plain sentence", e.Message)
	}
	for _, bad := range []string{"idna", "net/url", "parse", "invalid character", "%!"} {
		if strings.Contains(strings.ToLower(e.Message), bad) {
			t.Errorf("Message %q leaks internal wording %q", e.Message, bad)
		}
	}
	if in := strings.TrimSpace(input); len(in) > 3 && strings.Contains(e.Message, in) {
		t.Errorf("Message %q echoes the input", e.Message)
	}
}

func TestNormalizeURL(t *testing.T) {
	for _, tc := range urlCases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := NormalizeURL(tc.in)
			if tc.err != "" {
				if err == nil {
					t.Fatalf("NormalizeURL(%q) = %+v, want error %q", tc.in, got, tc.err)
				}
				checkUserError(t, err, "url", tc.err, tc.in)
				if got != (Target{}) {
					t.Errorf("got non-zero Target %+v with error", got)
				}
				return
			}
			if err != nil {
				t.Fatalf("NormalizeURL(%q) error: %v", tc.in, err)
			}
			if got != tc.want {
				t.Errorf("NormalizeURL(%q)\n got %+v\nwant %+v", tc.in, got, tc.want)
			}
			again, err := NormalizeURL(got.URL)
			if err != nil || again != got {
				t.Errorf("NormalizeURL(%q) = %+v, %v; not idempotent", got.URL, again, err)
			}
		})
	}
}

func TestNormalizeHost(t *testing.T) {
	tests := []struct {
		in, want, err string
	}{
		{"Example.COM", "example.com", ""},
		{" www.Example.com. ", "www.example.com", ""},
		{"Bücher.example", "xn--bcher-kva.example", ""},
		{"ÉXAMPLE.com", "xn--xample-9ua.com", ""},
		{"xn--bcher-kva.example", "xn--bcher-kva.example", ""},
		{"example。com", "example.com", ""},
		{"192.0.2.1", "192.0.2.1", ""},
		{"0xc0000201", "192.0.2.1", ""},
		{"2001:DB8::1", "2001:db8::1", ""},
		{"[2001:db8::1]", "2001:db8::1", ""},
		{"", "", msgEmptyHost},
		{"localhost", "", msgOneLabel},
		{"exa mple.com", "", msgBadChars},
		{"..", "", msgBadDomain},
		{"-foo-.com", "", msgBadDomain},
		{"a..b.com", "", msgBadDomain},
		{"example.com:8080", "", msgHostOnly},
		{"https://example.com", "", msgHostOnly},
		{"example.com/path", "", msgHostOnly},
		{"user@example.com", "", msgHostOnly},
		{"[192.0.2.1]", "", msgBadIP},
		{"[fe80::1%eth0]", "", msgBadIP},
		{"exa%41mple.com", "", msgBadDomain},
	}
	for _, tc := range tests {
		got, err := NormalizeHost(tc.in)
		if tc.err != "" {
			if err == nil {
				t.Errorf("NormalizeHost(%q) = %q, want error %q", tc.in, got, tc.err)
				continue
			}
			checkUserError(t, err, "host", tc.err, tc.in)
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("NormalizeHost(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
}

func TestParentDomains(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{"a.b.example.co.uk", []string{"a.b.example.co.uk", "b.example.co.uk", "example.co.uk"}},
		{"example.com", []string{"example.com"}},
		{"www.example.com", []string{"www.example.com", "example.com"}},
		{"x.evil.blogspot.com", []string{"x.evil.blogspot.com", "evil.blogspot.com"}},
		{"co.uk", []string{"co.uk"}},
		{"192.0.2.1", []string{"192.0.2.1"}},
		{"2001:db8::1", []string{"2001:db8::1"}},
		{"a.b.c.kobe.jp", []string{"a.b.c.kobe.jp", "b.c.kobe.jp"}},
	}
	for _, tc := range tests {
		if got := ParentDomains(tc.in); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("ParentDomains(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
