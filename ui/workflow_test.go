package ui_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/dockethq/docket/internal/database"
	"github.com/dockethq/docket/policy"
)

func caseIDFor(t *testing.T, e *env, host, category string) int64 {
	t.Helper()
	var id int64
	e.db.R.Table("cases").Select("id").Where("hostname = ? AND category = ? AND state <> 'closed'", host, category).Scan(&id)
	if id == 0 {
		t.Fatalf("no open %s case for %s", category, host)
	}
	return id
}

func TestCaseActionsOverHTTP(t *testing.T) {
	e := newEnv(t, database.SQLite)
	id := caseIDFor(t, e, "lumenphoto.example", "copyright")
	path := "/cases/" + itoa(id)
	rev := e.login(policy.Reviewer)
	if res := rev.post(path+"/claim", nil); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("claim: %d", res.StatusCode)
	}
	page := rev.get(path)
	if !strings.Contains(page.doc(t).Find(".held").Text(), "You hold this case") || !strings.Contains(page.Body, "You claimed this case.") {
		t.Errorf("after claim the page does not say so")
	}
	// A second reviewer is refused in plain words, with 409.
	senior := e.login(policy.SeniorReviewer)
	res := senior.post(path+"/claim", nil)
	if res.StatusCode != http.StatusConflict || !strings.Contains(res.doc(t).Find(".notice.error").Text(), "Someone else") {
		t.Fatalf("second claim: %d %q", res.StatusCode, res.doc(t).Find(".notice.error").Text())
	}
	// Deciding without the required fields keeps what was typed and says why.
	res = rev.post(path+"/decide", url.Values{"action": {"warn"}, "grounds": {"Copyright policy §2"}})
	if res.StatusCode != http.StatusUnprocessableEntity || res.doc(t).Find("#grounds").AttrOr("value", "") != "Copyright policy §2" {
		t.Fatalf("decide without explanation: %d", res.StatusCode)
	}
	res = rev.post(path+"/decide", url.Values{"action": {"warn"}, "grounds": {"Copyright policy §2"}, "explanation": {"Remove the photos."}})
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("decide: %d", res.StatusCode)
	}
	// The state machine refuses what no longer applies, plainly.
	res = rev.post(path+"/escalate", url.Values{"reason": {"late"}})
	if res.StatusCode != http.StatusConflict || !strings.Contains(res.Body, "This case is decided; it cannot be escalated now.") {
		t.Fatalf("escalate a decided case: %d %q", res.StatusCode, res.doc(t).Find(".notice.error").Text())
	}
	var state string
	e.db.R.Table("cases").Select("state").Where("id = ?", id).Scan(&state)
	if state != "decided" {
		t.Errorf("state = %s", state)
	}
	// Decided cases leave the open queue.
	if strings.Contains(rev.get("/queue").Body, `href="/cases/`+itoa(id)+`"`) {
		t.Errorf("decided case still in the queue")
	}
}

func TestReporterContactVisibility(t *testing.T) {
	e := newEnv(t, database.SQLite)
	f := validReport()
	f.Set("email", "whistle@reporter.example")
	if res := e.client().post("/report", f); res.StatusCode != http.StatusSeeOther {
		t.Fatal(res.StatusCode)
	}
	id := caseIDFor(t, e, "secure-login-verify.example", "phishing")
	for role, want := range map[string]bool{policy.Reviewer: false, policy.SeniorReviewer: true, policy.Legal: true, policy.Leadership: false, policy.Auditor: false, policy.Admin: false} {
		body := e.login(role).get("/cases/" + itoa(id)).Body
		if got := strings.Contains(body, "whistle@reporter.example"); got != want {
			t.Errorf("%s sees the reporter's email: %v, want %v", role, got, want)
		}
	}
}

func TestAdminRoutingRule(t *testing.T) {
	e := newEnv(t, database.SQLite)
	admin := e.login(policy.Admin)
	res := admin.post("/admin/queues", url.Values{"position": {"5"}, "plan": {"business"}, "queue": {"enterprise"}})
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("add rule: %d\n%s", res.StatusCode, res.doc(t).Find(".notice").Text())
	}
	bad := admin.post("/admin/queues", url.Values{"queue": {"restricted"}, "min_severity": {"x"}})
	if bad.StatusCode != http.StatusUnprocessableEntity {
		t.Errorf("bad rule: %d", bad.StatusCode)
	}
	var audited int64
	e.db.R.Table("audit_events").Where("action = 'queue_rule.created' AND actor = 'user:5'").Count(&audited)
	if audited != 1 {
		t.Errorf("rule creation audited %d times", audited)
	}
	// A new report about a business customer's site lands in the enterprise queue.
	f := validReport()
	f.Set("url", "https://northwind-outfitters.example/login")
	if res := e.client().post("/report", f); res.StatusCode != http.StatusSeeOther {
		t.Fatal(res.StatusCode)
	}
	var queue string
	e.db.R.Table("cases").Select("queue").Where("hostname = 'northwind-outfitters.example'").Scan(&queue)
	if queue != "enterprise" {
		t.Errorf("queue = %q, want enterprise", queue)
	}
	// csam cannot be routed out of the restricted queue by any rule.
	admin.post("/admin/queues", url.Values{"position": {"1"}, "category": {"csam"}, "queue": {"general"}})
	f.Set("category", "csam")
	f.Del("_csrf") // a new client has a new token
	if res := e.client().post("/report", f); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("csam report: %d %s", res.StatusCode, res.doc(t).Find(".notice, .field-error").Text())
	}
	e.db.R.Table("cases").Select("queue").Where("hostname = 'northwind-outfitters.example' AND category = 'csam'").Scan(&queue)
	if queue != "restricted" {
		t.Errorf("csam queue = %q", queue)
	}
}

func TestBulkClose(t *testing.T) {
	e := newEnv(t, database.SQLite)
	a := caseIDFor(t, e, "cheap-pills-now.example", "spam")
	b := caseIDFor(t, e, "shop.northwind-outfitters.example", "spam")
	senior := e.login(policy.SeniorReviewer)
	if !strings.Contains(senior.get("/queue").Body, `action="/cases/bulk-close"`) {
		t.Errorf("no bulk-close form for a senior reviewer")
	}
	if strings.Contains(e.login(policy.Reviewer).get("/queue").Body, `name="ids"`) {
		t.Errorf("a reviewer is offered bulk close")
	}
	res := senior.post("/cases/bulk-close", url.Values{"ids": {itoa(a), itoa(b)}, "reason": {"spam flood"}})
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("bulk close: %d", res.StatusCode)
	}
	if body := senior.get("/queue").Body; !strings.Contains(body, "Closed 2 cases.") {
		t.Errorf("no confirmation")
	}
	var n int64
	e.db.R.Table("cases").Where("id IN ? AND state = 'closed' AND close_reason = 'spam flood'", []int64{a, b}).Count(&n)
	if n != 2 {
		t.Errorf("%d cases closed", n)
	}
}

func TestReverseOverHTTP(t *testing.T) {
	e := newEnv(t, database.SQLite)
	id := caseIDFor(t, e, "files.kestrel.example", "malware")
	path := "/cases/" + itoa(id)
	senior := e.login(policy.SeniorReviewer)
	senior.post(path+"/claim", nil)
	if res := senior.post(path+"/decide", url.Values{"action": {"restrict"}, "grounds": {"AUP 5"}, "explanation": {"Malware."}}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("restrict: %d", res.StatusCode)
	}
	if strings.Contains(e.login(policy.Reviewer).get(path).Body, `action="`+path+`/reverse"`) {
		t.Errorf("a reviewer is offered reversal")
	}
	if !strings.Contains(senior.get(path).Body, `action="`+path+`/reverse"`) {
		t.Fatalf("no reversal for the senior reviewer")
	}
	if res := senior.post(path+"/reverse", url.Values{"reason": {"Wrong host."}}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("reverse: %d %s", res.StatusCode, res.doc(t).Find(".notice").Text())
	}
	var types []string
	e.db.R.Table("directives").Where("case_id = ?", id).Order("version").Pluck("type", &types)
	if strings.Join(types, ",") != "site.restrict,site.reinstate" {
		t.Errorf("directives = %v", types)
	}
}
