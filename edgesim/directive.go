// Package edgesim is a small reference edge config service (DESIGN §5): it
// accepts Docket's edge directives over HTTP, signed per the Standard Webhooks
// spec, or from a NATS JetStream KV bucket; applies them idempotently per
// hostname; and serves demo customer sites, answering 451 "Service terminated"
// or 403 "Site restricted" for hosts a directive has acted on.
//
// `docket edge-sim` runs it; the demo and the end-to-end tests talk to it.
package edgesim

import (
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"
)

// Directive types (DESIGN §5).
const (
	TypeTerminate = "site.terminate"
	TypeRestrict  = "site.restrict"
	TypeReinstate = "site.reinstate"
	// TypeInterstitial puts a warning page, with a link to continue, in front
	// of the site (suspected phishing, say).
	TypeInterstitial = "site.interstitial"
	// TypeBlockURL answers 451 for the directive's URLs only; the rest of the
	// site is served.
	TypeBlockURL = "site.block_url"
)

// Directive is what Docket tells the edge to do to hostnames: the HTTP body of
// POST /_edge/directives and the value of each key in the KV bucket. Ids are
// strings on the wire.
//
//	{"id":"01J…","type":"site.terminate","version":7,"customer_id":"12",
//	 "hostnames":["example.net","www.example.net"],"case_id":"3","decision_id":"5",
//	 "reason_code":"violent_extremism","issued_at":"2026-11-25T10:00:00Z"}
type Directive struct {
	ID         string    `json:"id"`   // ULID
	Type       string    `json:"type"` // TypeTerminate, TypeRestrict or TypeReinstate
	Version    int64     `json:"version"`
	CustomerID string    `json:"customer_id"`
	Hostnames  []string  `json:"hostnames"`
	CaseID     string    `json:"case_id"`
	DecisionID string    `json:"decision_id"`
	ReasonCode string    `json:"reason_code"`
	IssuedAt   time.Time `json:"issued_at"`
	// URLs lists the blocked URLs of a TypeBlockURL (absolute http or https
	// URLs on the directive's hostnames); no other type carries them.
	URLs []string `json:"urls,omitempty"`
	// ExpiresAt, when set, is when the measure ends: Docket then sends a newer
	// reinstate, and the edge stops enforcing it by itself meanwhile.
	ExpiresAt *time.Time `json:"expires_at,omitempty"`
}

// Validate reports what is wrong with d, if anything: an edge refuses a
// directive it cannot act on unambiguously.
func (d Directive) Validate() error {
	var problems []string
	if strings.TrimSpace(d.ID) == "" {
		problems = append(problems, "id is empty")
	}
	switch d.Type {
	case TypeTerminate, TypeRestrict, TypeReinstate, TypeInterstitial, TypeBlockURL:
	case "":
		problems = append(problems, "type is empty")
	default:
		problems = append(problems, fmt.Sprintf("unknown type %q (want %s, %s, %s, %s or %s)", d.Type, TypeTerminate, TypeRestrict, TypeInterstitial, TypeBlockURL, TypeReinstate))
	}
	switch {
	case d.Type == TypeBlockURL && len(d.URLs) == 0:
		problems = append(problems, "urls is empty (site.block_url needs the URLs to block)")
	case d.Type != TypeBlockURL && len(d.URLs) > 0:
		problems = append(problems, "urls is only for site.block_url")
	}
	for _, u := range d.URLs {
		if _, err := parseBlocked(u, d.Hostnames); err != nil {
			problems = append(problems, err.Error())
		}
	}
	if d.Version < 1 {
		problems = append(problems, "version must be 1 or more")
	}
	if len(d.Hostnames) == 0 {
		problems = append(problems, "hostnames is empty")
	}
	for _, h := range d.Hostnames {
		if !validHost(normHost(h)) {
			problems = append(problems, fmt.Sprintf("%q is not a hostname", h))
		}
	}
	if len(problems) > 0 {
		return errors.New(strings.Join(problems, "; "))
	}
	return nil
}

// normHost is the form hostnames are kept in: lower case, without a trailing dot.
func normHost(h string) string {
	return strings.TrimSuffix(strings.ToLower(strings.TrimSpace(h)), ".")
}

// validHost accepts DNS names (punycode for IDNs) made of letters, digits,
// hyphens and underscores: a subset of what a NATS KV key allows, so every
// hostname is usable as a key.
func validHost(h string) bool {
	if h == "" || len(h) > 253 {
		return false
	}
	for label := range strings.SplitSeq(h, ".") {
		if label == "" || len(label) > 63 {
			return false
		}
		for _, c := range label {
			if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
				return false
			}
		}
	}
	return true
}

// blocked is a URL the edge answers 451 for: a host, an escaped path and,
// when given, a query that must match exactly.
type blocked struct {
	host, path, query string
}

// parseBlocked parses one URL of a block_url directive; its host must be one
// of hostnames.
func parseBlocked(raw string, hostnames []string) (blocked, error) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return blocked{}, fmt.Errorf("%q is not an absolute http or https URL", raw)
	}
	b := blocked{host: normHost(u.Hostname()), path: u.EscapedPath(), query: u.RawQuery}
	if b.path == "" {
		b.path = "/"
	}
	if !slices.ContainsFunc(hostnames, func(h string) bool { return normHost(h) == b.host }) {
		return blocked{}, fmt.Errorf("%q is not on one of the hostnames", raw)
	}
	return b, nil
}

// matches reports whether a request for host, escaped path and query is
// for this blocked URL. A blocked URL without a query blocks every query.
func (b blocked) matches(host, path, query string) bool {
	if path == "" {
		path = "/"
	}
	return b.host == host && b.path == path && (b.query == "" || b.query == query)
}
