package ui_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/dockethq/docket/internal/database"
	"github.com/dockethq/docket/internal/testdb"
	"github.com/dockethq/docket/policy"
)

// outcome is what a role gets from a route.
type outcome int

const (
	allow  outcome = iota // the handler ran
	login                 // anonymous, sent to sign in
	forbid                // signed in, refused with 403
)

func (o outcome) String() string { return [...]string{"allow", "login", "forbid"}[o] }

var roles = []string{policy.Anonymous, policy.Reviewer, policy.SeniorReviewer, policy.Legal, policy.Leadership, policy.Admin, policy.Auditor}

// flagger is the column of a trusted flagger's API key (Authorization: Bearer,
// no cookies). Unlike the roles, a route without a flagger entry is refused
// (403, also on pages: the key is authenticated, signing in would not help).
const flagger = "flagger key"

// flaggerAPI: only trusted flaggers' keys; staff are refused, anonymous callers
// must authenticate.
var flaggerAPI = map[string]outcome{
	policy.Anonymous: login, policy.Reviewer: forbid, policy.SeniorReviewer: forbid, policy.Legal: forbid,
	policy.Leadership: forbid, policy.Admin: forbid, policy.Auditor: forbid, flagger: allow,
}

// staffOnly: anonymous must sign in, every staff role may.
var staffOnly = map[string]outcome{policy.Anonymous: login}

// adminOnly: anonymous must sign in, only admins may.
var adminOnly = map[string]outcome{
	policy.Anonymous: login, policy.Reviewer: forbid, policy.SeniorReviewer: forbid,
	policy.Legal: forbid, policy.Leadership: forbid, policy.Auditor: forbid,
}

// public: everyone.
var public = map[string]outcome{}

// caseWorkers: reviewers (and seniors, who inherit) work cases; everyone else is refused.
var caseWorkers = map[string]outcome{
	policy.Anonymous: login, policy.Legal: forbid, policy.Leadership: forbid, policy.Admin: forbid, policy.Auditor: forbid,
}

// claimers: reviewers and legal (who handle the restricted queue) take cases.
var claimers = map[string]outcome{
	policy.Anonymous: login, policy.Leadership: forbid, policy.Admin: forbid, policy.Auditor: forbid,
}

// noteTakers: everyone who works on cases, leadership included; admins and auditors do not.
var noteTakers = map[string]outcome{policy.Anonymous: login, policy.Admin: forbid, policy.Auditor: forbid}

// reassigners: senior reviewers and admins.
var reassigners = map[string]outcome{
	policy.Anonymous: login, policy.Reviewer: forbid, policy.Legal: forbid, policy.Leadership: forbid, policy.Auditor: forbid,
}

// signers: legal and leadership.
var signers = map[string]outcome{
	policy.Anonymous: login, policy.Reviewer: forbid, policy.SeniorReviewer: forbid, policy.Admin: forbid, policy.Auditor: forbid,
}

// adminOrAuditor: admins change, auditors read.
var adminOrAuditor = map[string]outcome{
	policy.Anonymous: login, policy.Reviewer: forbid, policy.SeniorReviewer: forbid, policy.Legal: forbid, policy.Leadership: forbid,
}

// seniorOnly: senior reviewers.
var seniorOnly = map[string]outcome{
	policy.Anonymous: login, policy.Reviewer: forbid, policy.Legal: forbid, policy.Leadership: forbid, policy.Admin: forbid, policy.Auditor: forbid,
}

// matrix is the expected outcome of every route for every role; a role missing
// from a row is allowed (the flagger column: refused). Every registered route must have a row, and every row a
// route: adding a route without deciding who may use it fails this test.
var matrix = map[string]map[string]outcome{
	"GET /":                       public,
	"GET /healthz":                public,
	"GET /static/*":               public,
	"GET /report":                 public,
	"POST /report":                public,
	"GET /report/receipt/:id":     public,
	"GET /login":                  public,
	"POST /login":                 public,
	"POST /logout":                staffOnly,
	"GET /queue":                  staffOnly,
	"GET /cases/:id":              staffOnly,
	"GET /admin/users":            adminOrAuditor,
	"POST /admin/users/:id/roles": adminOnly,
	"GET /admin/policy":           adminOrAuditor,
	"POST /admin/policy":          adminOnly,
	"POST /admin/policy/delete":   adminOnly,
	"POST /admin/users":           adminOnly,

	"GET /search":                   staffOnly,
	"GET /customers/:id":            staffOnly,
	"GET /cases/:id/status":         staffOnly,
	"POST /cases/:id/claim":         claimers,
	"POST /cases/:id/release":       claimers,
	"POST /cases/:id/reassign":      reassigners,
	"POST /cases/:id/notes":         noteTakers,
	"POST /cases/:id/escalate":      caseWorkers,
	"POST /cases/:id/decide":        claimers,
	"POST /cases/:id/close":         caseWorkers,
	"POST /cases/:id/merge":         caseWorkers,
	"POST /cases/:id/split":         caseWorkers,
	"POST /cases/:id/reverse":       seniorOnly,
	"POST /cases/bulk-close":        seniorOnly,
	"GET /signoffs":                 signers,
	"GET /signoffs/:id":             signers,
	"POST /signoffs/:id/approve":    signers,
	"POST /signoffs/:id/reject":     signers,
	"GET /deliveries":               staffOnly,
	"POST /deliveries/:id/replay":   adminOnly,
	"GET /outbox":                   adminOrAuditor,
	"GET /outbox/:id":               adminOrAuditor,
	"GET /admin/queues":             adminOnly,
	"POST /admin/queues":            adminOnly,
	"POST /admin/queues/:id/delete": adminOnly,

	"GET /api/v1/queues":             staffOnly,
	"GET /api/v1/cases":              staffOnly,
	"GET /api/v1/cases/:id":          staffOnly,
	"POST /api/v1/cases/:id/claim":   claimers,
	"POST /api/v1/cases/:id/release": claimers,
	"POST /api/v1/cases/:id/notes":   noteTakers,
	"POST /api/v1/cases/:id/decide":  claimers,

	"POST /api/v1/reports":                 flaggerAPI,
	"GET /api/v1/reports/:id":              flaggerAPI,
	"GET /admin/flaggers":                  adminOnly,
	"POST /admin/flaggers":                 adminOnly,
	"POST /admin/flaggers/keys/:id/revoke": adminOnly,
}

func TestAuthorizationMatrix(t *testing.T) {
	for _, d := range testdb.Dialects {
		t.Run(string(d), func(t *testing.T) { testMatrix(t, d) })
	}
}

func testMatrix(t *testing.T, d database.Dialect) {
	e := newEnv(t, d)
	var receipt string
	if err := e.db.R.Table("reports").Select("public_id").Order("id").Limit(1).Scan(&receipt).Error; err != nil || receipt == "" {
		t.Fatalf("no demo report: %v", err)
	}
	params := strings.NewReplacer(":id", "1", "*", "docket.css")
	// Key 1 is revoked by an admin's request to /admin/flaggers/keys/1/revoke
	// along the way; the flagger column uses a second key.
	e.issueKey("Matrix Flagger", "matrix@flagger.example")
	apiKey := e.issueKey("Matrix Flagger 2", "matrix2@flagger.example")

	seen := map[string]bool{}
	for _, r := range e.ui.Echo().Routes() {
		key := r.Method + " " + r.Path
		seen[key] = true
		row, ok := matrix[key]
		if !ok {
			t.Errorf("route %s has no row in the authorization matrix", key)
			continue
		}
		path := params.Replace(r.Path)
		if r.Path == "/report/receipt/:id" {
			path = "/report/receipt/" + receipt
		}
		for _, role := range append(roles[:len(roles):len(roles)], flagger) {
			want, ok := row[role]
			if !ok && role == flagger {
				want = forbid
			} // else the zero value: allow
			var res *response
			if role == flagger {
				res = e.bearer(apiKey, r.Method, path, "")
			} else {
				c := e.login(role)
				switch r.Method {
				case http.MethodGet:
					res = c.get(path)
				case http.MethodPost:
					res = c.post(path, url.Values{})
				default:
					t.Fatalf("matrix test does not know method %s", r.Method)
				}
			}
			got := classify(res)
			if got != want {
				t.Errorf("%s as %s: %s (status %d, location %q), want %s", key, role, got, res.StatusCode, res.Header.Get("Location"), want)
			}
			if res.StatusCode >= 500 {
				t.Errorf("%s as %s: status %d", key, role, res.StatusCode)
			}
		}
	}
	for key := range matrix {
		if !seen[key] {
			t.Errorf("matrix row %s matches no registered route", key)
		}
	}
}

// classify tells what happened from the outside: a refusal is a 403, a request
// to sign in is a redirect to /login or /login?next=…; anything else means the
// handler ran.
func classify(res *response) outcome {
	loc := res.Header.Get("Location")
	switch {
	case res.StatusCode == http.StatusForbidden && !strings.Contains(res.Body, "form has expired"):
		return forbid
	case res.StatusCode == http.StatusUnauthorized:
		return login
	case res.StatusCode == http.StatusSeeOther && (loc == "/login" || strings.HasPrefix(loc, "/login?next=")):
		return login
	}
	return allow
}

// TestRestrictedQueue checks that the csam queue is hidden from every role but legal,
// on the queue page and on the case page.
func TestRestrictedQueue(t *testing.T) {
	e := newEnv(t, database.SQLite)
	c := e.client()
	res := c.post("/report", url.Values{"category": {"csam"}, "url": {"https://yardboard.example/x/1"}, "description": {"CSAM-RESTRICTED-MARKER"}, "good_faith": {"yes"}})
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("file csam report: %d", res.StatusCode)
	}
	var id int64
	e.db.R.Table("cases").Select("id").Where("category = 'csam'").Scan(&id)
	for _, role := range roles[1:] {
		c := e.login(role)
		q := c.get("/queue?queue=restricted")
		cs := c.get("/cases/" + itoa(id))
		visible := strings.Contains(cs.Body, "CSAM-RESTRICTED-MARKER")
		inQueue := q.doc(t).Find(`a[href="/cases/`+itoa(id)+`"]`).Length() > 0
		want := role == policy.Legal
		if visible != want || inQueue != want {
			t.Errorf("%s: case page shows csam report %v, queue lists it %v; want %v", role, visible, inQueue, want)
		}
		if !want && cs.StatusCode != http.StatusNotFound {
			t.Errorf("%s: csam case page status %d, want 404", role, cs.StatusCode)
		}
	}
}
