package intake

import (
	"net/netip"
	"strings"
	"testing"
)

func FuzzNormalizeURL(f *testing.F) {
	for _, tc := range urlCases {
		f.Add(tc.in)
	}
	// Extra seeds so byte-level mutation reaches more of the IDNA tables.
	for _, s := range []string{
		"http://مثال.إختبار/", "http://a\u200cb.example/", "http://क्\u200dष.example/",
		"http://ＥＸＡＭＰＬＥ。ｃｏｍ:８０/", "http://①.com/", "http://ǅ.example/",
		"http://xn--fa-hia.de/", "https://ß.example/", "https://😀.ws/", "http://0x7f.1/",
		"//a.b.c.kobe.jp:1/%zz?%", "http://a%2ecom/", "HTTPS:\\\\Example.com\\a",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		got, err := NormalizeURL(in)
		if err != nil {
			e, ok := err.(*Error)
			if !ok || e.Field != "url" || !plainSentence.MatchString(e.Message) {
				t.Fatalf("NormalizeURL(%q): unexpected error %#v", in, err)
			}
			return
		}
		h := got.Host
		if h == "" || strings.HasSuffix(h, ".") {
			t.Fatalf("NormalizeURL(%q): bad Host %q", in, h)
		}
		for i := 0; i < len(h); i++ {
			if c := h[i]; c >= 0x80 || ('A' <= c && c <= 'Z') {
				t.Fatalf("NormalizeURL(%q): Host %q is not lowercase ASCII", in, h)
			}
		}
		// The only colons allowed in Host are those of an IPv6 address.
		if strings.Contains(h, ":") {
			if a, err := netip.ParseAddr(h); err != nil || !a.Is6() {
				t.Fatalf("NormalizeURL(%q): Host %q has a port", in, h)
			}
		}
		if !strings.HasPrefix(got.URL, "http://") && !strings.HasPrefix(got.URL, "https://") {
			t.Fatalf("NormalizeURL(%q): URL %q has the wrong scheme", in, got.URL)
		}
		if strings.ContainsAny(got.URL, "# \t\n\\\"<>") || len(got.URL) > maxInputLen {
			t.Fatalf("NormalizeURL(%q): URL %q is not properly escaped", in, got.URL)
		}
		for i := 0; i < len(got.URL); i++ {
			if c := got.URL[i]; c < 0x21 || c >= 0x7f {
				t.Fatalf("NormalizeURL(%q): URL %q is not ASCII", in, got.URL)
			}
		}
		if r := got.RegistrableDomain; r != "" && h != r && !strings.HasSuffix(h, "."+r) {
			t.Fatalf("NormalizeURL(%q): RegistrableDomain %q is not a parent of %q", in, r, h)
		}
		again, err := NormalizeURL(got.URL)
		if err != nil || again != got {
			t.Fatalf("NormalizeURL(%q) = %+v\nNormalizeURL(%q) = %+v, %v; not idempotent", in, got, got.URL, again, err)
		}
		if host, err := NormalizeHost(h); err != nil || host != h {
			t.Fatalf("NormalizeHost(%q) = %q, %v; want it unchanged", h, host, err)
		}
		// Callers rebuild a URL from a stored host to get its registrable domain.
		if rt, err := NormalizeURL("http://" + h); err != nil || rt.Host != h || rt.RegistrableDomain != got.RegistrableDomain {
			t.Fatalf("NormalizeURL(%q) = %+v, %v; want Host %q", "http://"+h, rt, err, h)
		}
		parents := ParentDomains(h)
		if parents[0] != h || (got.RegistrableDomain != "" && parents[len(parents)-1] != got.RegistrableDomain) {
			t.Fatalf("ParentDomains(%q) = %q, registrable domain %q", h, parents, got.RegistrableDomain)
		}
	})
}
