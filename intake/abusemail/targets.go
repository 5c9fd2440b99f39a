package abusemail

import (
	"net/netip"
	"net/url"
	"regexp"
	"strings"

	"github.com/dockethq/docket/cases"
)

// targets collects what a report points at, deduplicated and capped.
type targets struct {
	urls, domains, ips []string
	seen               map[string]bool
}

func (t *targets) full() bool { return len(t.urls)+len(t.domains)+len(t.ips) >= maxTargets }

func (t *targets) once(k string) bool {
	if t.seen == nil {
		t.seen = map[string]bool{}
	}
	if t.seen[k] {
		return false
	}
	t.seen[k] = true
	return true
}

// add classifies one value a report names: an http(s) URL, an IP address, a
// hostname, or (typ says so) a URL without a scheme. Anything else (mailto:,
// an email address, free text) is not a target.
func (t *targets) add(v, typ string) {
	v = strings.Trim(strings.TrimSpace(v), "<>\"'")
	if v == "" || t.full() || strings.ContainsAny(v, " \t\r\n") {
		return
	}
	if a, err := netip.ParseAddr(strings.Trim(v, "[]")); err == nil {
		if t.once("ip:" + a.String()) {
			t.ips = append(t.ips, a.String())
		}
		return
	}
	lower := strings.ToLower(v)
	if !strings.Contains(lower, "://") && (typ == "uri" || typ == "url") && strings.Contains(v, "/") {
		v, lower = "http://"+v, "http://"+lower
	}
	if strings.HasPrefix(lower, "http://") || strings.HasPrefix(lower, "https://") {
		u, err := url.Parse(v)
		if err != nil || u.Hostname() == "" {
			return
		}
		if t.once("url:" + v) {
			t.urls = append(t.urls, v)
		}
		return
	}
	if strings.Contains(lower, ":") || strings.Contains(lower, "@") || strings.Contains(lower, "/") {
		return // mailto:, an address, a path
	}
	if isHostname(lower) && t.once("host:"+strings.TrimSuffix(lower, ".")) {
		t.domains = append(t.domains, strings.TrimSuffix(lower, "."))
	}
}

var hostRE = regexp.MustCompile(`^([a-z0-9_]([a-z0-9_-]{0,62})?\.)+[a-z0-9-]{2,63}\.?$|^xn--`)

func isHostname(s string) bool {
	return len(s) <= 253 && strings.Contains(s, ".") && hostRE.MatchString(s)
}

// urlsIn finds http(s) URLs in free text (the reported message's body).
var urlRE = regexp.MustCompile(`https?://[^\s<>"'()\[\]{}]+`)

// One URL per host: a spam message links its site many times over.
func (t *targets) scan(text string, limit int) {
	hosts := map[string]bool{}
	for _, u := range urlRE.FindAllString(text, 200) {
		u = strings.TrimRight(u, ".,;:!?")
		p, err := url.Parse(u)
		if err != nil || hosts[strings.ToLower(p.Hostname())] {
			continue
		}
		if len(hosts) >= limit {
			return
		}
		hosts[strings.ToLower(p.Hostname())] = true
		t.add(u, "")
	}
}

// categoryFor maps a sender's type words to a Docket category: the most
// specific word first (X-ARF "abuse/malware-attack", XARF v4
// "content/phishing", an ARF Feedback-Type), Other when nothing fits.
func categoryFor(words ...string) cases.Category {
	for _, w := range words {
		w = strings.ToLower(w)
		switch {
		case w == "":
			continue
		case strings.Contains(w, "csam") || strings.Contains(w, "csem") || strings.Contains(w, "child"):
			return cases.CSAM
		case strings.Contains(w, "phish"):
			return cases.Phishing
		case strings.Contains(w, "brand") || strings.Contains(w, "trademark"):
			return cases.Trademark
		case strings.Contains(w, "copyright") || strings.Contains(w, "dmca") || strings.Contains(w, "piracy"):
			return cases.Copyright
		case strings.Contains(w, "malware") || strings.Contains(w, "virus") || strings.Contains(w, "trojan") ||
			strings.Contains(w, "botnet") || w == "bot" || strings.Contains(w, "ransomware") || strings.Contains(w, "cryptojack"):
			return cases.Malware
		case strings.Contains(w, "fraud") || strings.Contains(w, "scam"):
			return cases.Phishing
		case strings.Contains(w, "spam") || strings.Contains(w, "regbot") || w == "messaging" || strings.Contains(w, "bulk"):
			return cases.Spam
		case strings.Contains(w, "harass") || strings.Contains(w, "doxx"):
			return cases.Harassment
		case strings.Contains(w, "terror") || strings.Contains(w, "extremis"):
			return cases.ViolentExtremism
		}
	}
	return cases.Other
}

// arfCategory maps an ARF Feedback-Type (RFC 5965 §7.3, RFC 6591) and says
// whether it is a complaint at all.
func arfCategory(ft string) (cases.Category, string) {
	switch strings.ToLower(strings.TrimSpace(ft)) {
	case "abuse":
		return cases.Spam, ""
	case "fraud":
		return cases.Phishing, ""
	case "virus":
		return cases.Malware, ""
	case "not-spam":
		return cases.Spam, "This ARF report says a message is not spam; it is not a complaint."
	case "auth-failure":
		return cases.Other, "This ARF report is an authentication-failure (DKIM/SPF/DMARC) diagnostic, not a complaint about content."
	default:
		return cases.Other, ""
	}
}

// URLsIn lists up to n http(s) URLs in a message's body, one per host: what
// a reviewer most likely files a hand-written complaint against.
func URLsIn(raw []byte, n int) []string {
	var t targets
	body := raw[headerEnd(raw):]
	t.scan(string(body[:min(len(body), 1<<20)]), n)
	return t.urls
}
