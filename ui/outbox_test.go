package ui_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/dockethq/docket/internal/database"
	"github.com/dockethq/docket/notify"
	"github.com/dockethq/docket/policy"
)

func TestOutbox(t *testing.T) {
	e := newEnv(t, database.SQLite)
	// A public report with an address is acknowledged.
	res := e.client().post("/report", url.Values{"category": {"copyright"}, "url": {"https://lumenphoto.example/gallery/9"},
		"description": {"My photo, used without permission."}, "name": {"Wanda Whistleblower"}, "email": {"wanda@reporter.example"}, "good_faith": {"yes"},
		"detail_copyright_work": {"Harbour at dawn (photo)"}, "detail_copyright_holder": {"Wanda Whistleblower"}, "detail_copyright_relationship": {"I am the rights holder"}})
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("file report: %d %s", res.StatusCode, res.Body)
	}
	receipt := strings.TrimPrefix(res.Header.Get("Location"), "/report/receipt/")
	// A final warning notifies the customer.
	id := caseIDFor(t, e, "lumenphoto.example", "copyright")
	rev := e.login(policy.Reviewer)
	rev.post("/cases/"+itoa(id)+"/claim", nil)
	if res := rev.post("/cases/"+itoa(id)+"/decide", url.Values{"action": {"warn"}, "grounds": {"AUP 4 (copyright)"}, "explanation": {"Remove the photo at /gallery/9 <now>."}}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("warn: %d %s", res.StatusCode, res.Body)
	}

	admin := e.login(policy.Admin)
	page := admin.get("/outbox")
	if page.StatusCode != http.StatusOK {
		t.Fatalf("admin /outbox: %d", page.StatusCode)
	}
	doc := page.doc(t)
	if !strings.Contains(doc.Find("table.notices").Text(), "We received your report "+receipt) {
		t.Errorf("the outbox does not list the acknowledgement:\n%s", doc.Find("main").Text())
	}
	if !strings.Contains(doc.Find("table.notices").Text(), "hello@lumenphoto.example") {
		t.Errorf("the outbox does not list the customer's notice")
	}
	// Admins may not read reporter contacts, so the outbox hides their addresses.
	if strings.Contains(page.Body, "wanda@reporter.example") || !strings.Contains(page.Body, "reporter (address hidden)") {
		t.Errorf("the outbox shows a reporter's address to an admin")
	}
	if n := doc.Find("details.preview").Length(); n != len(notify.Kinds) {
		t.Errorf("%d template previews, want %d", n, len(notify.Kinds))
	}
	if !strings.Contains(doc.Find("#preview-customer_action pre").Text(), "Reply to this message to appeal within 6 months") {
		t.Errorf("no customer notice preview")
	}
	if doc.Find(`nav.rail a[href="/outbox"]`).Length() != 1 {
		t.Errorf("no Outbox link in the admin's rail")
	}

	// The customer's notice, escaped, without the reporter.
	var cust notify.Notice
	e.db.R.Where("kind = ? AND topic = '' AND case_id = ?", notify.KindCustomerAction, id).Take(&cust) // not a forwarded report
	if cust.ID == 0 {
		t.Fatal("no customer notice")
	}
	detail := admin.get("/outbox/" + itoa(cust.ID))
	body := detail.doc(t).Find("pre.notice-body").Text()
	if detail.StatusCode != http.StatusOK || !strings.Contains(body, "AUP 4 (copyright)") || !strings.Contains(body, "Remove the photo at /gallery/9 <now>.") {
		t.Errorf("notice detail %d:\n%s", detail.StatusCode, body)
	}
	if !strings.Contains(detail.Body, "&lt;now&gt;") || strings.Contains(detail.Body, "<now>") {
		t.Errorf("notice text is not escaped")
	}
	if strings.Contains(strings.ToLower(detail.Body), "wanda") || strings.Contains(body, receipt) {
		t.Errorf("the customer's notice names the reporter:\n%s", body)
	}

	// Auditors read it too; reviewers do not.
	if res := e.login(policy.Auditor).get("/outbox/" + itoa(cust.ID)); res.StatusCode != http.StatusOK {
		t.Errorf("auditor: %d", res.StatusCode)
	}
	for _, p := range []string{"/outbox", "/outbox/" + itoa(cust.ID)} {
		if res := rev.get(p); res.StatusCode != http.StatusForbidden || strings.Contains(res.Body, "lumenphoto") {
			t.Errorf("reviewer %s: %d", p, res.StatusCode)
		}
	}
	if rev.get("/queue").doc(t).Find(`nav.rail a[href="/outbox"]`).Length() != 0 {
		t.Errorf("an Outbox link in the reviewer's rail")
	}
	if res := admin.get("/outbox?state=bogus"); res.StatusCode != http.StatusUnprocessableEntity {
		t.Errorf("bad filter: %d", res.StatusCode)
	}
	if res := admin.get("/outbox?state=pending"); !strings.Contains(res.Body, "hello@lumenphoto.example") {
		t.Errorf("pending filter does not list the unsent notice")
	}
	if res := admin.get("/outbox/999999"); res.StatusCode != http.StatusNotFound {
		t.Errorf("missing notice: %d", res.StatusCode)
	}
}
