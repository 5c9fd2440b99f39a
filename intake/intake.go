// Package intake normalizes the URLs and host names that people submit in
// abuse reports, so that reports about the same site can be grouped and so
// that only web addresses a browser could actually open get into a case.
package intake

import (
	"net/netip"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/net/idna"
	"golang.org/x/net/publicsuffix"
)

// maxInputLen is the longest input, and output URL, in bytes.
const maxInputLen = 2048

// Target is a reported URL after normalization.
type Target struct {
	URL               string // normalized absolute URL
	Host              string // lowercase ASCII (A-label) host, no trailing dot, no port, no brackets
	RegistrableDomain string // eTLD+1; empty for IPs and public suffixes
}

// Error is a validation failure whose Message can be shown to the reporter
// as is. Messages never echo the input back.
type Error struct {
	Field   string
	Message string
}

func (e *Error) Error() string { return e.Message }

// Messages are plain sentences meant for the person filling in the form.
const (
	msgEmptyURL  = "Enter the web address you want to report."
	msgEmptyHost = "Enter a host name, e.g. example.com."
	msgTooLong   = "The address is too long."
	msgBadText   = "The address contains characters that are not valid text."
	msgBadChars  = "The address must not contain spaces or invisible control characters."
	msgScheme    = "Only http and https URLs can be reported."
	msgNoHost    = "The address is missing a domain name, e.g. example.com."
	msgOneLabel  = "The address must include a domain, e.g. example.com."
	msgBadDomain = "The address does not contain a valid domain name."
	msgBadIP     = "The address contains an IP address that is not valid."
	msgBadPort   = "The port number in the address is not valid."
	msgHostOnly  = "Enter only a host name, e.g. example.com, without http://, a port or a path."
)

// The profile follows what browsers do (UTS #46 non-transitional, Bidi and
// joiner rules) rather than idna.Lookup: Lookup's CheckHyphens rejects real
// hosts such as "r3---sn-abc.googlevideo.com", and its STD3 rule rejects '_',
// which browsers resolve. Label syntax and DNS lengths are checked by
// checkLabels instead, after the one permitted trailing dot is removed.
var profile = idna.New(
	idna.MapForLookup(),
	idna.BidiRule(),
	idna.Transitional(false),
	idna.CheckHyphens(false),
	idna.StrictDomainName(false),
)

// NormalizeURL parses what a reporter typed: an http or https URL, or a bare
// host with an optional port, path and query (http:// is then assumed).
func NormalizeURL(raw string) (Target, error) {
	fail := func(msg string) (Target, error) {
		return Target{}, &Error{Field: "url", Message: msg}
	}
	s := strings.TrimSpace(raw)
	if s == "" {
		return fail(msgEmptyURL)
	}
	if msg := checkText(s); msg != "" {
		return fail(msg)
	}

	// The fragment never reaches the server, so it is not part of the target.
	if i := strings.IndexByte(s, '#'); i >= 0 {
		s = s[:i]
	}
	query, hasQuery := "", false
	if i := strings.IndexByte(s, '?'); i >= 0 {
		s, query, hasQuery = s[:i], s[i+1:], true
	}
	// Browsers treat '\' like '/' before the query in http(s) URLs, so
	// "http://evil.com\@good.com" must be read as a path on evil.com.
	s = strings.ReplaceAll(s, `\`, "/")
	// "fe80::1/x" would otherwise look like a URL with scheme "fe80".
	if i := strings.IndexByte(s+"/", '/'); i > 0 {
		if _, ok := parseIPv6(s[:i]); ok {
			s = "[" + s[:i] + "]" + s[i:]
		}
	}

	scheme, rest, msg := splitScheme(s)
	if msg != "" {
		return fail(msg)
	}
	authority, path := rest, "/"
	if i := strings.IndexByte(rest, '/'); i >= 0 {
		authority, path = rest[:i], rest[i:]
	}
	// Userinfo is dropped: it is never part of the site being reported and is
	// a common way to disguise the real host ("http://bank.com@evil.com").
	if i := strings.LastIndexByte(authority, '@'); i >= 0 {
		authority = authority[i+1:]
	}
	// Reporters paste IPv6 addresses without brackets; browsers need them,
	// but the intent is clear.
	if _, ok := parseIPv6(authority); ok {
		authority = "[" + authority + "]"
	}
	hostPart, port, msg := splitPort(authority)
	if msg != "" {
		return fail(msg)
	}
	if hostPart == "" {
		return fail(msgNoHost)
	}
	var host, urlHost string
	if strings.HasPrefix(hostPart, "[") {
		a, ok := parseIPv6(hostPart[1 : len(hostPart)-1])
		if !ok {
			return fail(msgBadIP)
		}
		host, urlHost = a, "["+a+"]"
	} else {
		decoded, ok := percentDecode(hostPart)
		if !ok {
			return fail(msgBadDomain)
		}
		h, msg := normalizeName(decoded)
		if msg != "" {
			return fail(msg)
		}
		host, urlHost = h, h
	}

	if port != "" && !(scheme == "http" && port == "80") && !(scheme == "https" && port == "443") {
		urlHost += ":" + port
	}
	var b strings.Builder
	b.WriteString(scheme)
	b.WriteString("://")
	b.WriteString(urlHost)
	b.WriteString(escape(path, "/"))
	if hasQuery {
		b.WriteByte('?')
		b.WriteString(escape(query, "/?"))
	}
	// Escaping can grow the input; cap the output too so that the result
	// always normalizes again.
	if b.Len() > maxInputLen {
		return fail(msgTooLong)
	}
	return Target{URL: b.String(), Host: host, RegistrableDomain: registrableDomain(host)}, nil
}

// NormalizeHost normalizes a bare host name or IP address with the same rules
// as the host in NormalizeURL. IPv6 addresses may be given with or without
// brackets and are returned without them.
func NormalizeHost(raw string) (string, error) {
	fail := func(msg string) (string, error) {
		return "", &Error{Field: "host", Message: msg}
	}
	s := strings.TrimSpace(raw)
	if s == "" {
		return fail(msgEmptyHost)
	}
	if msg := checkText(s); msg != "" {
		return fail(msg)
	}
	if strings.HasPrefix(s, "[") && strings.HasSuffix(s, "]") {
		a, ok := parseIPv6(s[1 : len(s)-1])
		if !ok {
			return fail(msgBadIP)
		}
		return a, nil
	}
	if strings.ContainsAny(s, "/?#@:\\") {
		if a, ok := parseIPv6(s); ok {
			return a, nil
		}
		return fail(msgHostOnly)
	}
	h, msg := normalizeName(s)
	if msg != "" {
		return fail(msg)
	}
	return h, nil
}

// ParentDomains returns host and each parent domain down to and including its
// registrable domain, most specific first. host should already be normalized.
// For IPs and hosts without a registrable domain it returns just [host].
func ParentDomains(host string) []string {
	reg := registrableDomain(host)
	if reg == "" || !strings.HasSuffix(host, reg) {
		return []string{host}
	}
	out := []string{host}
	for h := host; h != reg; {
		i := strings.IndexByte(h, '.')
		if i < 0 {
			break
		}
		h = h[i+1:]
		out = append(out, h)
	}
	return out
}

func registrableDomain(host string) string {
	if _, err := netip.ParseAddr(host); err == nil {
		return ""
	}
	reg, err := publicsuffix.EffectiveTLDPlusOne(host)
	if err != nil {
		return ""
	}
	return reg
}

// checkText rejects input that is not printable UTF-8 text. Whitespace and
// control characters inside an address are usually a copy-paste accident or
// an attempt to make the address display differently from what it is.
func checkText(s string) string {
	if len(s) > maxInputLen {
		return msgTooLong
	}
	if !utf8.ValidString(s) {
		return msgBadText
	}
	for _, r := range s {
		if unicode.IsControl(r) || unicode.IsSpace(r) || isBidiControl(r) {
			return msgBadChars
		}
	}
	return ""
}

func isBidiControl(r rune) bool {
	return r == '\u200e' || r == '\u200f' || r == '\u061c' ||
		(r >= '\u202a' && r <= '\u202e') || (r >= '\u2066' && r <= '\u2069')
}

// splitScheme returns the lowercased scheme and everything after "scheme://".
// Input without a scheme gets http, which is what browsers assume too.
func splitScheme(s string) (scheme, rest, msg string) {
	if strings.HasPrefix(s, "//") {
		return "http", strings.TrimLeft(s, "/"), ""
	}
	i := strings.IndexByte(s, ':')
	if i < 0 || !isSchemeSyntax(s[:i]) {
		return "http", s, ""
	}
	cand, after := s[:i], s[i+1:]
	switch lower := strings.ToLower(cand); {
	case lower == "http" || lower == "https":
		// Browsers accept any number of slashes after an http(s) scheme.
		return lower, strings.TrimLeft(after, "/"), ""
	case strings.Contains(cand, ".") || startsWithPort(after):
		// "example.com:8080/x" or "localhost:8080": a host and port, not a scheme.
		return "http", s, ""
	default:
		return "", "", msgScheme
	}
}

func isSchemeSyntax(s string) bool {
	if s == "" || !isAlpha(s[0]) {
		return false
	}
	for i := 1; i < len(s); i++ {
		c := s[i]
		if !isAlpha(c) && !isDigit(c) && c != '+' && c != '-' && c != '.' {
			return false
		}
	}
	return true
}

func startsWithPort(s string) bool {
	n := 0
	for n < len(s) && isDigit(s[n]) {
		n++
	}
	return n > 0 && (n == len(s) || s[n] == '/')
}

// splitPort splits "host:port" or "[v6]:port" and canonicalizes the port.
func splitPort(hp string) (host, port, msg string) {
	if strings.HasPrefix(hp, "[") {
		end := strings.IndexByte(hp, ']')
		if end < 0 {
			return "", "", msgBadIP
		}
		host, hp = hp[:end+1], hp[end+1:]
		if hp == "" {
			return host, "", ""
		}
		if hp[0] != ':' {
			return "", "", msgBadIP
		}
		port = hp[1:]
	} else if i := strings.LastIndexByte(hp, ':'); i >= 0 {
		host, port = hp[:i], hp[i+1:]
	} else {
		return hp, "", ""
	}
	if port == "" {
		return host, "", "" // "example.com:" means the default port
	}
	for i := 0; i < len(port); i++ {
		if !isDigit(port[i]) {
			return "", "", msgBadPort
		}
	}
	port = strings.TrimLeft(port, "0")
	n, err := strconv.Atoi(port)
	if err != nil || n < 1 || n > 65535 {
		return "", "", msgBadPort
	}
	return host, port, ""
}

func parseIPv6(s string) (string, bool) {
	a, err := netip.ParseAddr(s)
	// Zones only mean something on the reporter's own machine.
	if err != nil || !a.Is6() || a.Zone() != "" {
		return "", false
	}
	return a.String(), true
}

// normalizeName turns a (percent-decoded) host that is not a bracketed IPv6
// literal into its canonical ASCII form.
func normalizeName(h string) (string, string) {
	if h == "" {
		return "", msgNoHost
	}
	// Percent-decoding can yield invalid UTF-8, which the idna package
	// replaces with U+FFFD instead of rejecting.
	if !utf8.ValidString(h) {
		return "", msgBadDomain
	}
	ascii, err := profile.ToASCII(h)
	if err != nil {
		return "", msgBadDomain
	}
	// Only after mapping: "example.com。" ends in a dot too.
	ascii = strings.TrimSuffix(ascii, ".")
	if ascii == "" {
		return "", msgNoHost
	}
	// Browsers read hosts whose last label is a number as IPv4, including
	// forms like "0x7f.1" or "2130706433"; treat them the same way so that
	// obfuscated IPs are caught and grouped.
	if endsInNumber(ascii) {
		a, ok := parseIPv4(ascii)
		if !ok {
			return "", msgBadIP
		}
		return a.String(), ""
	}
	if msg := checkLabels(ascii); msg != "" {
		return "", msg
	}
	if !strings.Contains(ascii, ".") {
		return "", msgOneLabel
	}
	return ascii, ""
}

// checkLabels enforces DNS host syntax on the ASCII form: letters, digits,
// '-' and '_' (browsers resolve '_'), no leading or trailing hyphen, and DNS
// length limits.
func checkLabels(ascii string) string {
	if len(ascii) > 253 {
		return msgBadDomain
	}
	for label := range strings.SplitSeq(ascii, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return msgBadDomain
		}
		for i := 0; i < len(label); i++ {
			c := label[i]
			if !('a' <= c && c <= 'z') && !isDigit(c) && c != '-' && c != '_' {
				return msgBadDomain
			}
		}
	}
	return ""
}

// endsInNumber mirrors the WHATWG URL "ends in a number" check.
func endsInNumber(h string) bool {
	last := h[strings.LastIndexByte(h, '.')+1:]
	if last == "" {
		return false
	}
	allDigits := true
	for i := 0; i < len(last); i++ {
		if !isDigit(last[i]) {
			allDigits = false
			break
		}
	}
	if allDigits {
		return true
	}
	_, ok := parseIPv4Number(last)
	return ok
}

// parseIPv4 is the WHATWG IPv4 parser: 1 to 4 parts, each decimal, octal
// (leading 0) or hex (0x), the last part filling the remaining bytes.
func parseIPv4(h string) (netip.Addr, bool) {
	parts := strings.Split(h, ".")
	if len(parts) > 4 {
		return netip.Addr{}, false
	}
	nums := make([]uint64, len(parts))
	for i, p := range parts {
		n, ok := parseIPv4Number(p)
		if !ok {
			return netip.Addr{}, false
		}
		nums[i] = n
	}
	for _, n := range nums[:len(nums)-1] {
		if n > 255 {
			return netip.Addr{}, false
		}
	}
	last := nums[len(nums)-1]
	if last >= 1<<(8*(5-len(nums))) {
		return netip.Addr{}, false
	}
	v := last
	for i, n := range nums[:len(nums)-1] {
		v += n << (8 * (3 - i))
	}
	return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)}), true
}

func parseIPv4Number(s string) (uint64, bool) {
	if s == "" {
		return 0, false
	}
	base := uint64(10)
	switch {
	case len(s) >= 2 && (s[:2] == "0x" || s[:2] == "0X"):
		base, s = 16, s[2:]
	case len(s) >= 2 && s[0] == '0':
		base, s = 8, s[1:]
	}
	var n uint64
	for i := 0; i < len(s); i++ {
		d, ok := digitVal(s[i])
		if !ok || d >= base {
			return 0, false
		}
		n = n*base + d
		if n > 1<<32 {
			return 0, false // too large for any part; also stops overflow
		}
	}
	return n, true
}

func digitVal(c byte) (uint64, bool) {
	switch {
	case isDigit(c):
		return uint64(c - '0'), true
	case 'a' <= c && c <= 'f':
		return uint64(c-'a') + 10, true
	case 'A' <= c && c <= 'F':
		return uint64(c-'A') + 10, true
	}
	return 0, false
}

// percentDecode decodes %XX escapes; it reports false for a malformed escape.
func percentDecode(s string) (string, bool) {
	if !strings.Contains(s, "%") {
		return s, true
	}
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		if s[i] != '%' {
			b = append(b, s[i])
			continue
		}
		if i+2 >= len(s) || !isHex(s[i+1]) || !isHex(s[i+2]) {
			return "", false
		}
		hi, _ := digitVal(s[i+1])
		lo, _ := digitVal(s[i+2])
		b = append(b, byte(hi<<4|lo))
		i += 2
	}
	return string(b), true
}

// escape percent-encodes every byte that RFC 3986 does not allow in a path
// or query (extra lists the allowed delimiters beyond pchar). Existing %XX
// escapes are kept, with the hex uppercased, and a stray '%' becomes %25, so
// the result is a valid URL that means what the reporter typed.
func escape(s, extra string) string {
	const hexDigits = "0123456789ABCDEF"
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '%' && i+2 < len(s) && isHex(s[i+1]) && isHex(s[i+2]):
			b.WriteByte('%')
			b.WriteByte(upperHex(s[i+1]))
			b.WriteByte(upperHex(s[i+2]))
			i += 2
		case isPchar(c) || strings.IndexByte(extra, c) >= 0:
			b.WriteByte(c)
		default:
			b.WriteByte('%')
			b.WriteByte(hexDigits[c>>4])
			b.WriteByte(hexDigits[c&0xf])
		}
	}
	return b.String()
}

// isPchar reports whether c is unreserved, a sub-delim, ':' or '@'.
func isPchar(c byte) bool {
	if isAlpha(c) || isDigit(c) {
		return true
	}
	return strings.IndexByte("-._~!$&'()*+,;=:@", c) >= 0
}

func upperHex(c byte) byte {
	if 'a' <= c && c <= 'f' {
		return c - 'a' + 'A'
	}
	return c
}

func isAlpha(c byte) bool { return ('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z') }
func isDigit(c byte) bool { return '0' <= c && c <= '9' }
func isHex(c byte) bool   { _, ok := digitVal(c); return ok }
