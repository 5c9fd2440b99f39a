package ui_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/dockethq/docket/cases"
	"github.com/dockethq/docket/internal/database"
	"github.com/dockethq/docket/internal/demo"
	"github.com/dockethq/docket/internal/signedlink"
	"github.com/dockethq/docket/internal/testdb"
	"github.com/dockethq/docket/policy"
)

func init() {
	for k, v := range appealMatrix {
		matrix[k] = v
	}
}

// appealReaders: everyone who reads cases except admins; appealReviewers:
// reviewers (and seniors) and legal, who decide cases.
var (
	appealReaders   = map[string]outcome{policy.Anonymous: login, policy.Admin: forbid}
	appealReviewers = map[string]outcome{policy.Anonymous: login, policy.Leadership: forbid, policy.Admin: forbid, policy.Auditor: forbid}
)

var appealMatrix = map[string]map[string]outcome{
	"GET /appeal/:token":        public,
	"POST /appeal/:token":       public,
	"GET /appeals":              appealReaders,
	"GET /appeals/:id":          appealReaders,
	"POST /appeals/:id/reply":   appealReviewers,
	"POST /appeals/:id/uphold":  appealReviewers,
	"POST /appeals/:id/reverse": appealReviewers,
}

// restrictOverHTTP claims the lumenphoto.example copyright case as c and
// restricts it; it returns the case, decision and first report ids.
func restrictOverHTTP(t *testing.T, e *env, c *client) (caseID, decisionID, reportID int64) {
	t.Helper()
	caseID = caseIDFor(t, e, "lumenphoto.example", "copyright")
	path := "/cases/" + itoa(caseID)
	if res := c.post(path+"/claim", nil); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("claim: %d", res.StatusCode)
	}
	res := c.post(path+"/decide", url.Values{"action": {"restrict"}, "grounds": {"AUP 4.1 copyright"},
		"explanation": {"The gallery republishes an agency's photographs without a licence."}})
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("restrict: %d %s", res.StatusCode, res.doc(t).Find(".notice").Text())
	}
	e.db.R.Table("decisions").Select("id").Where("case_id = ? AND status = 'final'", caseID).Scan(&decisionID)
	e.db.R.Table("reports").Select("id").Where("case_id = ?", caseID).Order("id").Limit(1).Scan(&reportID)
	return caseID, decisionID, reportID
}

func (e *env) signer() *signedlink.Signer {
	e.t.Helper()
	s, err := signedlink.Load(context.Background(), e.db, time.Now)
	if err != nil {
		e.t.Fatal(err)
	}
	return s
}

func (e *env) count(table string) int64 {
	var n int64
	e.db.R.Table(table).Count(&n)
	return n
}

func TestAppealOverHTTP(t *testing.T) {
	for _, d := range testdb.Dialects {
		t.Run(string(d), func(t *testing.T) { testAppealOverHTTP(t, d) })
	}
}

func testAppealOverHTTP(t *testing.T, d database.Dialect) {
	e := newEnv(t, d)
	rev := e.login(policy.Reviewer)
	caseID, did, rid := restrictOverHTTP(t, e, rev)
	links := e.signer()
	tok := links.SignUntil(cases.AppealPurposeCustomer, did, time.Now().Add(cases.AppealWindow))
	pub := e.client()

	// The customer's link opens the decision and its statement of reasons.
	page := pub.get("/appeal/" + tok)
	if page.StatusCode != http.StatusOK || !strings.Contains(page.doc(t).Find("#appeal-reasons").Text(), "without a licence") ||
		page.doc(t).Find("#appeal-form").Length() != 1 {
		t.Fatalf("appeal page: %d\n%s", page.StatusCode, page.Body)
	}
	// Tampered, expired and other-purpose links open nothing and change nothing.
	tampered := tok[:len(tok)-2] + map[bool]string{true: "AA", false: "BB"}[!strings.HasSuffix(tok, "AA")]
	expired := links.SignUntil(cases.AppealPurposeCustomer, did, time.Now().Add(-time.Minute))
	other := links.Sign("respond", did, time.Hour)
	for name, c := range map[string]struct {
		tok    string
		status int
		says   string
	}{
		"tampered": {tampered, http.StatusNotFound, "not valid"},
		"expired":  {expired, http.StatusGone, "expired"},
		"purpose":  {other, http.StatusNotFound, "not valid"},
	} {
		for _, res := range []*response{pub.get("/appeal/" + c.tok), pub.post("/appeal/"+c.tok, url.Values{"grounds": {"Let me appeal."}})} {
			if res.StatusCode != c.status || !strings.Contains(res.Body, c.says) {
				t.Errorf("%s link: %d, want %d saying %q", name, res.StatusCode, c.status, c.says)
			}
		}
	}
	// A reporter may not appeal a restriction.
	rtok := links.SignUntil(cases.AppealPurposeReporter, rid, time.Now().Add(time.Hour))
	if res := pub.get("/appeal/" + rtok); !strings.Contains(res.doc(t).Find("#appeal-blocked").Text(), "only a decision not to act") {
		t.Errorf("reporter's page on a restriction: %d %s", res.StatusCode, res.doc(t).Find("main").Text())
	}
	if res := pub.post("/appeal/"+rtok, url.Values{"grounds": {"More, please."}}); res.StatusCode != http.StatusConflict {
		t.Errorf("reporter appealing a restriction: %d", res.StatusCode)
	}
	// Grounds are validated and the form keeps what was typed.
	res := pub.post("/appeal/"+tok, url.Values{"grounds": {strings.Repeat("long ", 1100)}})
	if res.StatusCode != http.StatusUnprocessableEntity || res.doc(t).Find("#appeal-grounds").Text() == "" {
		t.Errorf("too long grounds: %d", res.StatusCode)
	}
	if n := e.count("appeals"); n != 0 {
		t.Fatalf("%d appeals after refusals", n)
	}
	xss := `<script>alert("grounds")</script> We hold the licence.`
	if res := pub.post("/appeal/"+tok, url.Values{"grounds": {xss}}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("appeal: %d %s", res.StatusCode, res.doc(t).Find(".notice").Text())
	}
	page = pub.get("/appeal/" + tok)
	if strings.Contains(page.Body, `<script>alert("grounds")`) || !strings.Contains(page.doc(t).Find(".note .description").Text(), xss) {
		t.Errorf("grounds not shown escaped:\n%s", page.Body)
	}
	if res := pub.post("/appeal/"+tok, url.Values{"grounds": {"Once more."}}); res.StatusCode != http.StatusConflict {
		t.Errorf("second appeal: %d", res.StatusCode)
	}
	var apID int64
	e.db.R.Table("appeals").Select("id").Where("decision_id = ?", did).Scan(&apID)
	ap := "/appeals/" + itoa(apID)

	// The decider sees the appeal but may not rule on it, whatever the policy says.
	if !strings.Contains(rev.get("/appeals").Body, `href="`+ap+`"`) {
		t.Errorf("the appeals queue does not list the appeal")
	}
	if !strings.Contains(rev.get(ap).doc(t).Find("#appeal-bar").Text(), "You made the decision") {
		t.Errorf("the decider's appeal page does not say why they cannot review")
	}
	for _, act := range []string{"reverse", "uphold", "reply"} {
		res := rev.post(ap+"/"+act, url.Values{"outcome": {"I was right."}, "body": {"I was right."}})
		if res.StatusCode != http.StatusForbidden || !strings.Contains(res.doc(t).Find(".notice.error").Text(), "You made the decision under appeal") {
			t.Errorf("decider %s: %d %q", act, res.StatusCode, res.doc(t).Find(".notice").Text())
		}
	}
	// Another reviewer replies (escaped), then reverses: a newer reinstate directive.
	senior := e.login(policy.SeniorReviewer)
	if res := senior.post(ap+"/reply", url.Values{"body": {`<img src=x onerror=alert(1)> Send the licence.`}}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("reply: %d", res.StatusCode)
	}
	if body := senior.get(ap).Body; strings.Contains(body, "<img src=x") || !strings.Contains(body, "&lt;img src=x") {
		t.Errorf("reply not escaped on the staff page:\n%s", body)
	}
	if body := pub.get("/appeal/" + tok).Body; strings.Contains(body, "<img src=x") || !strings.Contains(body, "Send the licence.") {
		t.Errorf("reply not shown escaped to the appellant")
	}
	var restrictV int64
	e.db.R.Table("directives").Select("version").Where("decision_id = ?", did).Scan(&restrictV)
	if res := senior.post(ap+"/reverse", url.Values{"outcome": {"The licence checks out."}}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("reverse: %d %s", res.StatusCode, res.doc(t).Find(".notice").Text())
	}
	var dtype string
	var v int64
	_ = e.db.R.Table("directives").Select("type, version").Where("case_id = ?", caseID).Order("version DESC").Limit(1).Row().Scan(&dtype, &v)
	if dtype != "site.reinstate" || v <= restrictV {
		t.Errorf("after reversal: %s v%d (restriction was v%d)", dtype, v, restrictV)
	}
	casePage := senior.get("/cases/" + itoa(caseID))
	if !strings.Contains(casePage.doc(t).Find("#case-appeals").Text(), "reversed") || !strings.Contains(casePage.Body, "Appeal granted") {
		t.Errorf("case page does not show the appeal and its outcome")
	}
	if !strings.Contains(pub.get("/appeal/"+tok).doc(t).Find("#appeal-outcome").Text(), "The licence checks out.") {
		t.Errorf("the appellant does not see the outcome")
	}
}

// TestAppealSignersRefusedOverHTTP: legal and leadership who signed off a
// termination may not review its appeal, even holding a reviewing role.
func TestAppealSignersRefusedOverHTTP(t *testing.T) {
	e := newEnv(t, database.SQLite)
	proposer := e.login(policy.Reviewer)
	_, did := propose(t, e, proposer)
	legal := e.login(policy.Legal)
	if res := approve(legal, did, "legal", demo.Password); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("legal: %d", res.StatusCode)
	}
	lead := e.addUser("lead-rev@docket.example", policy.Leadership, policy.Reviewer)
	if res := approve(lead, did, "leadership", "a long enough password"); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("leadership: %d %s", res.StatusCode, res.doc(t).Find(".notice").Text())
	}
	tok := e.signer().Sign(cases.AppealPurposeCustomer, did, time.Hour)
	if res := e.client().post("/appeal/"+tok, url.Values{"grounds": {"We took the manifesto down."}}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("appeal: %d %s", res.StatusCode, res.doc(t).Find(".notice").Text())
	}
	var apID int64
	e.db.R.Table("appeals").Select("id").Scan(&apID)
	for who, c := range map[string]*client{"legal signer": legal, "leadership signer": lead} {
		res := c.post("/appeals/"+itoa(apID)+"/reverse", url.Values{"outcome": {"Reinstated."}})
		if res.StatusCode != http.StatusForbidden || !strings.Contains(res.Body, "You signed off the decision under appeal") {
			t.Errorf("%s reversing: %d %q", who, res.StatusCode, res.doc(t).Find(".notice").Text())
		}
	}
	var state string
	e.db.R.Table("appeals").Select("state").Where("id = ?", apID).Scan(&state)
	if state != "open" {
		t.Errorf("appeal %s after refusals", state)
	}
	// Someone who took no part upholds it: nothing new at the edge.
	dirs := e.count("directives")
	if res := e.login(policy.SeniorReviewer).post("/appeals/"+itoa(apID)+"/uphold", url.Values{"outcome": {"The manifesto is still linked."}}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("uphold: %d %s", res.StatusCode, res.doc(t).Find(".notice").Text())
	}
	if e.count("directives") != dirs {
		t.Errorf("an upheld appeal queued a directive")
	}
}

// TestRestrictedAppeals: an appeal about a csam case is seen only by those who
// may read the restricted queue.
func TestRestrictedAppeals(t *testing.T) {
	e := newEnv(t, database.SQLite)
	if res := e.client().post("/report", url.Values{"category": {"csam"}, "url": {"https://yardboard.example/x/9"}, "description": {"abuse material"}, "good_faith": {"yes"}}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("report: %d", res.StatusCode)
	}
	caseID := caseIDFor(t, e, "yardboard.example", "csam")
	legal := e.login(policy.Legal)
	legal.post("/cases/"+itoa(caseID)+"/claim", nil)
	if res := legal.post("/cases/"+itoa(caseID)+"/decide", url.Values{"action": {"restrict"}, "grounds": {"Law"}, "explanation": {"Restricted."}}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("restrict: %d %s", res.StatusCode, res.doc(t).Find(".notice").Text())
	}
	var did int64
	e.db.R.Table("decisions").Select("id").Where("case_id = ?", caseID).Scan(&did)
	if res := e.client().post("/appeal/"+e.signer().Sign(cases.AppealPurposeCustomer, did, time.Hour), url.Values{"grounds": {"Not ours."}}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("appeal: %d", res.StatusCode)
	}
	var apID int64
	e.db.R.Table("appeals").Select("id").Scan(&apID)
	ap := "/appeals/" + itoa(apID)
	for _, role := range []string{policy.Reviewer, policy.SeniorReviewer, policy.Leadership, policy.Auditor} {
		c := e.login(role)
		if res := c.get(ap); res.StatusCode != http.StatusNotFound {
			t.Errorf("%s opens a restricted appeal: %d", role, res.StatusCode)
		}
		if strings.Contains(c.get("/appeals").Body, `href="`+ap+`"`) {
			t.Errorf("%s sees a restricted appeal in the queue", role)
		}
		if res := c.post(ap+"/uphold", url.Values{"outcome": {"x"}}); res.StatusCode != http.StatusNotFound && res.StatusCode != http.StatusForbidden {
			t.Errorf("%s rules on a restricted appeal: %d", role, res.StatusCode)
		}
	}
	if res := legal.get(ap); res.StatusCode != http.StatusOK || !strings.Contains(res.Body, "Not ours.") {
		t.Errorf("legal cannot open the restricted appeal: %d", res.StatusCode)
	}
}

// TestReporterAppealOverHTTP: a reporter appeals a decision not to act through
// their link; the customer's link to the same decision offers no appeal.
func TestReporterAppealOverHTTP(t *testing.T) {
	e := newEnv(t, database.SQLite)
	rev := e.login(policy.Reviewer)
	caseID := caseIDFor(t, e, "lumenphoto.example", "copyright")
	rev.post("/cases/"+itoa(caseID)+"/claim", nil)
	if res := rev.post("/cases/"+itoa(caseID)+"/decide", url.Values{"action": {"no_action"}, "grounds": {"Licensed use"}}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("no action: %d", res.StatusCode)
	}
	var did, rid int64
	e.db.R.Table("decisions").Select("id").Where("case_id = ?", caseID).Scan(&did)
	e.db.R.Table("reports").Select("id").Where("case_id = ?", caseID).Order("id").Limit(1).Scan(&rid)
	links := e.signer()
	pub := e.client()
	ctok := links.Sign(cases.AppealPurposeCustomer, did, time.Hour)
	if res := pub.get("/appeal/" + ctok); res.doc(t).Find("#appeal-form").Length() != 0 || res.doc(t).Find("#appeal-blocked").Length() != 1 {
		t.Errorf("the customer is offered an appeal against no action")
	}
	rtok := links.Sign(cases.AppealPurposeReporter, rid, time.Hour)
	page := pub.get("/appeal/" + rtok)
	if page.doc(t).Find("#appeal-form").Length() != 1 || !strings.Contains(page.doc(t).Find("#appeal-action").Text(), "No action") {
		t.Fatalf("reporter's appeal page:\n%s", page.doc(t).Find("main").Text())
	}
	if strings.Contains(page.Body, "Lumen Photo Co") || strings.Contains(page.Body, "hello@lumenphoto.example") {
		t.Errorf("the reporter's page names the customer")
	}
	if res := pub.post("/appeal/"+rtok, url.Values{"grounds": {"The photos are mine and unlicensed."}}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("reporter appeal: %d %s", res.StatusCode, res.doc(t).Find(".notice").Text())
	}
	var state string
	e.db.R.Table("cases").Select("state").Where("id = ?", caseID).Scan(&state)
	if state != "appealed" {
		t.Errorf("case %s after the reporter's appeal", state)
	}
	var apID int64
	e.db.R.Table("appeals").Select("id").Scan(&apID)
	if res := e.login(policy.SeniorReviewer).post("/appeals/"+itoa(apID)+"/reverse", url.Values{"outcome": {"We will review the reports again."}}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("reverse: %d", res.StatusCode)
	}
	e.db.R.Table("cases").Select("state").Where("id = ?", caseID).Scan(&state)
	var dirs int64
	e.db.R.Table("directives").Where("case_id = ?", caseID).Count(&dirs)
	if state != "in_review" || dirs != 0 {
		t.Errorf("after reversing no action: case %s, %d directives", state, dirs)
	}
}
