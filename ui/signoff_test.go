package ui_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/dockethq/docket/internal/database"
	"github.com/dockethq/docket/internal/demo"
	"github.com/dockethq/docket/policy"
	"github.com/dockethq/docket/users"
)

func (e *env) addUser(email string, roles ...string) *client {
	e.t.Helper()
	if _, err := e.users.Create(context.Background(), "test", users.NewUser{Email: email, Name: email, Password: "a long enough password", Roles: roles}); err != nil {
		e.t.Fatal(err)
	}
	return e.loginAs(email, "a long enough password")
}

// propose claims the forum case as c and proposes its termination; it returns
// the case and decision ids.
func propose(t *testing.T, e *env, c *client) (caseID, decisionID int64) {
	t.Helper()
	caseID = caseIDFor(t, e, "yardboard.example", "violent_extremism")
	path := "/cases/" + itoa(caseID)
	if res := c.post(path+"/claim", nil); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("claim: %d", res.StatusCode)
	}
	res := c.post(path+"/decide", url.Values{
		"action": {"terminate"}, "grounds": {"AUP 1.1: incitement to violence"},
		"explanation": {"We have ended service for yardboard.example: it hosted and promoted an attacker's manifesto and calls for further attacks."},
		"hostnames":   {"yardboard.example", "www.yardboard.example", "media.yardboard.example"},
		"evidence":    {"CERU-2026-1182\nCERU-2026-1190"},
	})
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("propose: %d %s", res.StatusCode, res.doc(t).Find(".notice, .field-error").Text())
	}
	e.db.R.Table("decisions").Select("id").Where("case_id = ? AND status = 'proposed'", caseID).Scan(&decisionID)
	if decisionID == 0 {
		t.Fatal("no proposal recorded")
	}
	return caseID, decisionID
}

func approve(c *client, decisionID int64, role, password string) *response {
	return c.post("/signoffs/"+itoa(decisionID)+"/approve", url.Values{"role": {role}, "password": {password}})
}

// TestSignoffInvariantsOverHTTP tries to break each rule through the web layer.
func TestSignoffInvariantsOverHTTP(t *testing.T) {
	e := newEnv(t, database.SQLite)
	// A reviewer who also holds legal proposes, then tries to approve.
	proposer := e.addUser("rev-legal@docket.example", policy.Reviewer, policy.Legal)
	caseID, did := propose(t, e, proposer)
	res := approve(proposer, did, "legal", "a long enough password")
	if res.StatusCode != http.StatusForbidden || !strings.Contains(res.Body, "You proposed this termination") {
		t.Errorf("proposer approving: %d %q", res.StatusCode, res.doc(t).Find(".notice").Text())
	}
	// A plain reviewer may not reach sign-off at all.
	if res := approve(e.login(policy.Reviewer), did, "legal", demo.Password); res.StatusCode != http.StatusForbidden {
		t.Errorf("reviewer approving: %d", res.StatusCode)
	}
	// Legal cannot sign as leadership.
	legal := e.login(policy.Legal)
	if res := approve(legal, did, "leadership", demo.Password); res.StatusCode != http.StatusForbidden {
		t.Errorf("legal as leadership: %d", res.StatusCode)
	}
	// The step-up: a wrong password changes nothing.
	if res := approve(legal, did, "legal", "not my password"); res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(res.Body, "That is not your password") {
		t.Errorf("wrong password: %d", res.StatusCode)
	}
	var n int64
	e.db.R.Table("signoffs").Count(&n)
	if n != 0 {
		t.Fatalf("%d sign-offs after refusals", n)
	}
	// Someone with both roles approves as legal, then cannot add leadership.
	both := e.addUser("both@docket.example", policy.Legal, policy.Leadership)
	if res := approve(both, did, "legal", "a long enough password"); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("legal approval: %d %q", res.StatusCode, res.doc(t).Find(".notice").Text())
	}
	if res := approve(both, did, "leadership", "a long enough password"); res.StatusCode != http.StatusForbidden || !strings.Contains(res.Body, "already signed off") {
		t.Errorf("second role by the same person: %d", res.StatusCode)
	}
	// The reviewer sees where the proposal stands on the case page.
	page := proposer.get("/cases/" + itoa(caseID))
	if !strings.Contains(page.Body, "Waiting for sign-off") || !strings.Contains(page.doc(t).Find("ul.signoffs").Text(), "legal approved") {
		t.Errorf("case page does not show the sign-off state")
	}
	// Leadership, a third person, approves: final, and a directive is queued.
	if res := approve(e.login(policy.Leadership), did, "leadership", demo.Password); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("leadership approval: %d %q", res.StatusCode, res.doc(t).Find(".notice").Text())
	}
	var state, dtype, hosts string
	e.db.R.Table("cases").Select("state").Where("id = ?", caseID).Scan(&state)
	row := e.db.R.Table("directives").Select("type, hostnames").Where("decision_id = ?", did).Row()
	_ = row.Scan(&dtype, &hosts)
	if state != "decided" || dtype != "site.terminate" || !strings.Contains(hosts, "media.yardboard.example") {
		t.Errorf("after both approvals: case %s, directive %q %s", state, dtype, hosts)
	}
	var audited int64
	e.db.R.Table("audit_events").Where("action IN ('signoff.approve', 'directive.queued') AND object_id = ?", itoa(caseID)).Count(&audited)
	if audited != 3 {
		t.Errorf("%d audit events for the sign-offs and the directive, want 3", audited)
	}
}

func TestSignoffRejectOverHTTP(t *testing.T) {
	e := newEnv(t, database.SQLite)
	rev := e.login(policy.Reviewer)
	caseID, did := propose(t, e, rev)
	lead := e.login(policy.Leadership)
	inbox := lead.get("/signoffs")
	if !strings.Contains(inbox.Body, "yardboard.example") || !strings.Contains(inbox.Body, `href="/signoffs/`+itoa(did)+`"`) {
		t.Fatalf("inbox does not list the proposal")
	}
	brief := lead.get("/signoffs/" + itoa(did))
	for _, want := range []string{"AUP 1.1", "manifesto", "media.yardboard.example", "CERU-2026-1182", "Yardboard LLC", "Riley Reviewer"} {
		if !strings.Contains(brief.Body, want) {
			t.Errorf("brief lacks %q", want)
		}
	}
	res := lead.post("/signoffs/"+itoa(did)+"/reject", url.Values{"role": {"leadership"}, "password": {demo.Password}, "comment": {"Ask the operator to remove the manifesto first."}})
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("reject: %d", res.StatusCode)
	}
	var state string
	e.db.R.Table("cases").Select("state").Where("id = ?", caseID).Scan(&state)
	if state != "in_review" {
		t.Errorf("after reject: %s", state)
	}
	if !strings.Contains(rev.get("/cases/"+itoa(caseID)).Body, "Ask the operator to remove the manifesto first.") {
		t.Errorf("the reviewer does not see the rejection's reason")
	}
}

func TestEmergencyRestrictOverHTTP(t *testing.T) {
	e := newEnv(t, database.SQLite)
	id := caseIDFor(t, e, "www.yardboard.example", "threat")
	path := "/cases/" + itoa(id)
	rev := e.login(policy.Reviewer)
	rev.post(path+"/claim", nil)
	if strings.Contains(rev.get(path).Body, `name="emergency"`) {
		t.Errorf("a reviewer is offered emergency restriction")
	}
	rev.post(path+"/release", nil)
	senior := e.login(policy.SeniorReviewer)
	senior.post(path+"/claim", nil)
	if !strings.Contains(senior.get(path).Body, `name="emergency"`) {
		t.Fatalf("a senior reviewer is not offered emergency restriction")
	}
	res := senior.post(path+"/decide", url.Values{"action": {"restrict"}, "grounds": {"Specific threat"}, "explanation": {"Restricted while we review."}, "emergency": {"yes"}})
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("emergency restrict: %d %s", res.StatusCode, res.doc(t).Find(".notice").Text())
	}
	var dtype string
	e.db.R.Table("directives").Select("type").Where("case_id = ?", id).Scan(&dtype)
	if dtype != "site.restrict" {
		t.Errorf("directive = %q", dtype)
	}
	legal := e.login(policy.Legal)
	if !strings.Contains(legal.get("/signoffs").Body, "emergency restriction") {
		t.Errorf("the inbox does not list the emergency restriction")
	}
	// Past the deadline, every page of the sign-off roles says so; others do not see it.
	e.db.W.Exec("UPDATE decisions SET signoff_due_at = ? WHERE case_id = ?", time.Now().Add(-time.Hour).UTC(), id)
	if !strings.Contains(legal.get("/queue").doc(t).Find(".overdue-banner").Text(), "past the sign-off deadline") {
		t.Errorf("no overdue banner for legal")
	}
	if strings.Contains(rev.get("/queue").Body, "overdue-banner") {
		t.Errorf("a reviewer sees the sign-off banner")
	}
}
