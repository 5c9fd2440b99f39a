package edgesim

import (
	"bytes"
	"encoding/json"
	"errors"
	"html/template"
	"io"
	"net"
	"net/http"
	"strings"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
)

// Paths the edge reserves for itself; every other path belongs to the sites.
const (
	PathDirectives = "/_edge/directives"
	PathState      = "/_edge/state"
	PathHealth     = "/_edge/healthz"
)

// MaxBody is the largest directive body accepted.
const MaxBody = 64 << 10

// Handler serves the edge's endpoints and, for every other request, the
// customer site named by the Host header.
func (s *Sim) Handler() http.Handler { return http.HandlerFunc(s.serveHTTP) }

func (s *Sim) serveHTTP(w http.ResponseWriter, r *http.Request) {
	switch r.URL.Path {
	case PathDirectives:
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", http.MethodPost)
			writeJSON(w, http.StatusMethodNotAllowed, errorBody("use POST"))
			return
		}
		s.serveDirective(w, r)
	case PathState:
		if !allowGet(w, r) {
			return
		}
		writeJSON(w, http.StatusOK, s.State())
	case PathHealth:
		if !allowGet(w, r) {
			return
		}
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	default:
		if strings.HasPrefix(r.URL.Path, "/_edge/") {
			writeJSON(w, http.StatusNotFound, errorBody("no such edge endpoint"))
			return
		}
		s.serveSite(w, r)
	}
}

func allowGet(w http.ResponseWriter, r *http.Request) bool {
	if r.Method == http.MethodGet || r.Method == http.MethodHead {
		return true
	}
	w.Header().Set("Allow", "GET, HEAD")
	writeJSON(w, http.StatusMethodNotAllowed, errorBody("use GET"))
	return false
}

// serveDirective checks the signature before it looks at the body, then
// parses, validates and applies the directive.
func (s *Sim) serveDirective(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBody))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			writeJSON(w, http.StatusRequestEntityTooLarge, errorBody("body is over 64 KiB"))
			return
		}
		writeJSON(w, http.StatusBadRequest, errorBody("could not read the body"))
		return
	}
	if err := s.verify(body, r.Header); err != nil {
		msg := verifyMessage(err)
		s.log().Warn("edge-sim: rejected delivery", "webhook_id", r.Header.Get(standardwebhooks.HeaderWebhookID), "reason", msg, "remote", r.RemoteAddr)
		writeJSON(w, http.StatusUnauthorized, errorBody(msg))
		return
	}
	var d Directive
	if err := json.Unmarshal(body, &d); err != nil {
		writeJSON(w, http.StatusBadRequest, errorBody("malformed directive JSON: "+err.Error()))
		return
	}
	res, err := s.Apply(d)
	if err != nil {
		writeJSON(w, http.StatusBadRequest, errorBody("invalid directive: "+err.Error()))
		return
	}
	s.log().Info("edge-sim: directive", "source", "http", "id", d.ID, "type", d.Type, "version", d.Version, "applied", res.Applied, "ignored", res.Ignored)
	writeJSON(w, http.StatusOK, res)
}

// verify accepts the body if any secret's webhook verifies it, with the
// library's timestamp tolerance (5 minutes either way).
func (s *Sim) verify(body []byte, h http.Header) error {
	var first error
	for _, wh := range s.hooks {
		err := wh.Verify(body, h)
		if err == nil {
			return nil
		}
		if first == nil {
			first = err
		}
	}
	return first
}

func verifyMessage(err error) string {
	switch {
	case errors.Is(err, standardwebhooks.ErrRequiredHeaders):
		return "missing webhook-id, webhook-timestamp or webhook-signature header"
	case errors.Is(err, standardwebhooks.ErrInvalidHeaders):
		return "webhook-timestamp is not a Unix time in seconds"
	case errors.Is(err, standardwebhooks.ErrMessageTooOld), errors.Is(err, standardwebhooks.ErrMessageTooNew):
		return "webhook-timestamp is more than 5 minutes from now"
	case errors.Is(err, standardwebhooks.ErrNoMatchingSignature):
		return "no matching signature"
	}
	return "signature verification failed"
}

func errorBody(msg string) map[string]string { return map[string]string{"error": msg} }

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status, b = http.StatusInternalServerError, []byte(`{"error":"internal error"}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(append(b, '\n'))
}

// siteHost is the hostname of a request: its Host header without the port.
func siteHost(hostport string) string {
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		hostport = h
	}
	return normHost(strings.Trim(hostport, "[]"))
}

type pageData struct {
	Host     string
	Continue string // the interstitial's link onwards
	HostState
}

// The interstitial's continue link carries the directive id; the cookie
// remembers the visitor's choice for that directive only, so a newer
// interstitial warns again.
const (
	paramContinue = "_edge_continue"
	cookieAck     = "_edge_ack"
)

func (s *Sim) serveSite(w http.ResponseWriter, r *http.Request) {
	host := siteHost(r.Host)
	if host == "" {
		http.Error(w, "This edge serves sites by name: send a Host header.", http.StatusBadRequest)
		return
	}
	st, _ := s.Host(host)
	if st.Expired(s.now()) {
		st.State = StateActive // Docket's reinstate is on its way; the edge does not wait for it
	}
	status, page := http.StatusOK, pageActive
	data := pageData{Host: host, HostState: st}
	switch st.State {
	case StateTerminated:
		status, page = http.StatusUnavailableForLegalReasons, pageTerminated
	case StateRestricted:
		status, page = http.StatusForbidden, pageRestricted
	case StateURLsBlocked:
		for _, u := range st.URLs {
			if b, err := parseBlocked(u, []string{host}); err == nil && b.matches(host, r.URL.EscapedPath(), r.URL.RawQuery) {
				status, page = http.StatusUnavailableForLegalReasons, pageBlocked
			}
		}
	case StateInterstitial:
		if ack, err := r.Cookie(cookieAck); err == nil && ack.Value == st.DirectiveID {
			break // the visitor has read the warning and chose to continue
		}
		if q := r.URL.Query(); q.Get(paramContinue) == st.DirectiveID {
			// Remember the choice for this directive only, then show what was asked for.
			http.SetCookie(w, &http.Cookie{Name: cookieAck, Value: st.DirectiveID, Path: "/", HttpOnly: true, SameSite: http.SameSiteLaxMode})
			q.Del(paramContinue)
			to := *r.URL
			to.RawQuery = q.Encode()
			w.Header().Set("Cache-Control", "no-store")
			http.Redirect(w, r, to.RequestURI(), http.StatusSeeOther)
			return
		}
		q := r.URL.Query()
		q.Set(paramContinue, st.DirectiveID)
		to := *r.URL
		to.RawQuery = q.Encode()
		data.Continue = to.RequestURI()
		// 200: a warning, not a refusal; the visitor may go on.
		page = pageInterstitial
	}
	var buf bytes.Buffer
	if err := pages.ExecuteTemplate(&buf, page, data); err != nil {
		http.Error(w, "edge-sim: page template: "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	// A directive takes effect at once: nothing in between may keep the old page.
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

const (
	pageActive     = "active"
	pageRestricted = "restricted"
	pageTerminated = "terminated"
	pageBlocked    = "blocked"
	// pageInterstitial warns before the site.
	pageInterstitial = "interstitial"
)

var pages = template.Must(template.New("pages").Parse(`
{{define "head"}}<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>{{.}}</title>
<style>
body{font:16px/1.5 system-ui,sans-serif;margin:0;background:#f6f6f4;color:#1d1d1b}
main{max-width:40rem;margin:12vh auto;padding:2rem;background:#fff;border:1px solid #ddd;border-radius:6px}
h1{margin-top:0;font-size:1.6rem}
code{background:#eee;padding:0 .3em;border-radius:3px}
.meta{color:#666;font-size:.85rem}
</style>
</head>
<body>
<main>
{{end}}
{{define "foot"}}</main>
</body>
</html>
{{end}}
{{define "terminated"}}{{template "head" "Service terminated"}}<h1>Service terminated</h1>
<p>The service for <strong>{{.Host}}</strong> has been terminated by its hosting provider.</p>
<p>Reason: <code>{{.ReasonCode}}</code></p>
<p class="meta">Directive {{.DirectiveID}}, version {{.Version}}, applied {{.AppliedAt.Format "2006-01-02 15:04:05 MST"}}.</p>
{{template "foot"}}{{end}}
{{define "restricted"}}{{template "head" "Site restricted"}}<h1>Site restricted</h1>
<p>Access to <strong>{{.Host}}</strong> has been restricted by its hosting provider.</p>
<p>Reason: <code>{{.ReasonCode}}</code></p>
<p class="meta">Directive {{.DirectiveID}}, version {{.Version}}, applied {{.AppliedAt.Format "2006-01-02 15:04:05 MST"}}.</p>
{{template "foot"}}{{end}}
{{define "blocked"}}{{template "head" "Content blocked"}}<h1>Content blocked</h1>
<p>This page on <strong>{{.Host}}</strong> has been blocked by its hosting provider. The rest of the site is not affected.</p>
<p>Reason: <code>{{.ReasonCode}}</code></p>
<p class="meta">Directive {{.DirectiveID}}, version {{.Version}}, applied {{.AppliedAt.Format "2006-01-02 15:04:05 MST"}}.</p>
{{template "foot"}}{{end}}
{{define "interstitial"}}{{template "head" "Warning: suspected harmful site"}}<h1>Warning: suspected harmful site</h1>
<p><strong>{{.Host}}</strong> has been reported for <code>{{.ReasonCode}}</code>. Do not enter passwords, payment details or personal information here.</p>
<p><a href="about:blank" rel="nofollow">Leave</a> · <a href="{{.Continue}}" id="continue" rel="nofollow">Continue to the site anyway</a></p>
<p class="meta">Directive {{.DirectiveID}}, version {{.Version}}, applied {{.AppliedAt.Format "2006-01-02 15:04:05 MST"}}.</p>
{{template "foot"}}{{end}}
{{define "active"}}{{template "head" (printf "%s — served by edge-sim" .Host)}}<h1>{{.Host}} — served by edge-sim</h1>
<p>This is a demo site, served by edge-sim, Docket's reference edge.</p>
{{template "foot"}}{{end}}
`))
