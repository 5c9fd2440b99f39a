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
	"github.com/dockethq/docket/internal/signedlink"
	"github.com/dockethq/docket/internal/testdb"
	"github.com/dockethq/docket/notify"
	"github.com/dockethq/docket/policy"
)

// legalOnly: legal downloads hotline exports; every other role is refused.
var legalOnly = map[string]outcome{
	policy.Anonymous: login, policy.Reviewer: forbid, policy.SeniorReviewer: forbid,
	policy.Leadership: forbid, policy.Admin: forbid, policy.Auditor: forbid,
}

// forwardMatrix: the customer's response link is public (the token is the
// credential; the matrix's made-up token answers 404, which is still "allowed").
var forwardMatrix = map[string]map[string]outcome{
	"GET /respond/:token":          public,
	"POST /respond/:token":         public,
	"GET /hotline-exports/:id":     legalOnly,
	"POST /sites/:id/origin":       adminOnly,
	"GET /admin/response-windows":  adminOnly,
	"POST /admin/response-windows": adminOnly,
}

func init() {
	for k, v := range forwardMatrix {
		matrix[k] = v
	}
}

func links(t *testing.T, e *env) *signedlink.Signer {
	t.Helper()
	l, err := signedlink.Load(context.Background(), e.db, time.Now)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// TestReportFormForwarding: the form's choices are stored and acted on; an
// anonymous copyright notice is refused with a field error keeping the input.
func TestReportFormForwarding(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		e := newEnv(t, db.Dialect)
		c := e.client()
		form := e.client().get("/report").doc(t)
		if form.Find(`select[name="forward_customer"]`).Length() != 1 || form.Find(`select[name="forward_hotline"] option[value="send_anonymously"]`).Length() != 1 {
			t.Fatalf("the form has no forwarding choices")
		}
		res := c.post("/report", url.Values{"category": {"copyright"}, "url": {"https://lumenphoto.example/p/1"}, "description": {"My photo."},
			"name": {"Rita Rights"}, "email": {"rita@rights.example"}, "good_faith": {"yes"}, "forward_customer": {"send_anonymously"}})
		if res.StatusCode != http.StatusUnprocessableEntity {
			t.Fatalf("anonymous copyright: %d", res.StatusCode)
		}
		doc := res.doc(t)
		if !strings.Contains(doc.Find("#forward_customer-err").Text(), "must name the complainant") ||
			doc.Find(`#forward_customer option[value="send_anonymously"][selected]`).Length() != 1 {
			t.Errorf("no field error, or the choice was lost:\n%s", doc.Find("#forwarding").Text())
		}
		res = c.post("/report", url.Values{"category": {"phishing"}, "url": {"https://lumenphoto.example/login"}, "description": {"Fake login, Paula Private."},
			"name": {"Paula Private"}, "email": {"paula@private.example"}, "good_faith": {"yes"}, "detail_phishing_brand": {"Example Bank"}, "forward_customer": {"send_anonymously"}})
		if res.StatusCode != http.StatusSeeOther {
			t.Fatalf("phishing: %d %s", res.StatusCode, res.Body)
		}
		var fw cases.Forward
		if err := e.db.R.Where("recipient = 'customer'").Order("id DESC").Take(&fw).Error; err != nil || !fw.Anonymous || fw.Address != "hello@lumenphoto.example" {
			t.Fatalf("forward: %+v, %v", fw, err)
		}
		var no notify.Notice
		e.db.R.Take(&no, *fw.NoticeID)
		if strings.Contains(no.Body, "Paula") || strings.Contains(no.Body, "paula@") || !strings.Contains(no.Body, "/respond/") {
			t.Errorf("anonymous forward:\n%s", no.Body)
		}
		// The case page's timeline says so.
		id := caseIDFor(t, e, "lumenphoto.example", "phishing")
		page := e.login(policy.Reviewer).get("/cases/" + itoa(id)).doc(t)
		if got := page.Find(`.timeline p.forward[data-recipient="customer"]`).Text(); !strings.Contains(got, "Forwarded to customer (anonymised)") {
			t.Errorf("timeline: %q", got)
		}
		if !strings.Contains(page.Find("#response-flag").Text(), "Waiting for the customer until") {
			t.Errorf("no waiting flag: %q", page.Find("#response-flag").Text())
		}
	})
}

// TestCustomerResponse: the signed link opens the page (valid), a tampered or
// expired link does not and changes nothing; an answer is attached, escaped on
// the case page, sends the case to review, and a link's answers are bounded.
func TestCustomerResponse(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		e := newEnv(t, db.Dialect)
		res := e.client().post("/report", url.Values{"category": {"phishing"}, "url": {"https://lumenphoto.example/bank"}, "description": {"Fake bank."},
			"name": {"Nora Named"}, "email": {"nora@named.example"}, "good_faith": {"yes"}, "detail_phishing_brand": {"Example Bank"}, "forward_customer": {"send"}})
		if res.StatusCode != http.StatusSeeOther {
			t.Fatalf("file: %d", res.StatusCode)
		}
		id := caseIDFor(t, e, "lumenphoto.example", "phishing")
		l := links(t, e)
		tok := l.Sign(notify.RespondPurpose, id, time.Hour)
		cust := e.client()
		page := cust.get("/respond/" + tok)
		if page.StatusCode != http.StatusOK || !strings.Contains(page.Body, "https://lumenphoto.example/bank") {
			t.Fatalf("respond page: %d\n%s", page.StatusCode, page.Body)
		}
		if strings.Contains(page.Body, "Nora") || strings.Contains(page.Body, "nora@") {
			t.Errorf("the response page shows the reporter")
		}
		version := func() (v int, st cases.State) {
			var c cases.Case
			e.db.R.Take(&c, id)
			return c.Version, c.State
		}
		v0, _ := version()
		bad := []struct {
			tok  string
			want int
		}{
			{tok[:len(tok)-2] + "xx", http.StatusNotFound},
			{l.Sign("appeal", id, time.Hour), http.StatusNotFound},
			{l.SignUntil(notify.RespondPurpose, id, time.Now().Add(-time.Minute)), http.StatusGone},
		}
		for _, b := range bad {
			if r := cust.get("/respond/" + b.tok); r.StatusCode != b.want {
				t.Errorf("GET bad link: %d, want %d", r.StatusCode, b.want)
			}
			if r := cust.post("/respond/"+b.tok, url.Values{"kind": {"removed"}, "body": {"done"}}); r.StatusCode != b.want {
				t.Errorf("POST bad link: %d, want %d", r.StatusCode, b.want)
			}
		}
		if v, _ := version(); v != v0 {
			t.Errorf("bad links changed the case (version %d → %d)", v0, v)
		}
		if r := cust.post("/respond/"+tok, url.Values{"kind": {"removed"}, "body": {""}}); r.StatusCode != http.StatusUnprocessableEntity {
			t.Errorf("empty answer: %d", r.StatusCode)
		}
		xss := `<script>alert("x")</script> removed`
		if r := cust.post("/respond/"+tok, url.Values{"kind": {"removed"}, "body": {xss}}); r.StatusCode != http.StatusSeeOther {
			t.Fatalf("answer: %d %s", r.StatusCode, r.Body)
		}
		if _, st := version(); st != cases.StateInReview {
			t.Errorf("after a claimed remedy the case is %s, want in_review", st)
		}
		cp := e.login(policy.Reviewer).get("/cases/" + itoa(id))
		if strings.Contains(cp.Body, xss) || !strings.Contains(cp.doc(t).Find(".customer-response .description").Text(), xss) {
			t.Errorf("the customer's answer is missing or not escaped on the case page")
		}
		// One link sends at most MaxResponsesPerLink answers a day.
		for i := 1; i < cases.MaxResponsesPerLink; i++ {
			if r := cust.post("/respond/"+tok, url.Values{"kind": {"other"}, "body": {"more"}}); r.StatusCode != http.StatusSeeOther {
				t.Fatalf("answer %d: %d", i+1, r.StatusCode)
			}
		}
		if r := cust.post("/respond/"+tok, url.Values{"kind": {"other"}, "body": {"one too many"}}); r.StatusCode != http.StatusTooManyRequests {
			t.Errorf("answer beyond the bound: %d", r.StatusCode)
		}
		// The named forward shows the reporter to the customer, not to admins in the outbox.
		var fw cases.Forward
		e.db.R.Where("case_id = ? AND recipient = 'customer'", id).Take(&fw)
		var no notify.Notice
		e.db.R.Take(&no, *fw.NoticeID)
		if fw.Anonymous || !strings.Contains(no.Body, "nora@named.example") {
			t.Fatalf("named forward: %+v\n%s", fw, no.Body)
		}
		ob := e.login(policy.Admin).get("/outbox/" + itoa(no.ID))
		if ob.StatusCode != http.StatusOK || strings.Contains(ob.Body, "nora@named.example") || strings.Contains(ob.Body, "Nora Named") {
			t.Errorf("the outbox shows a named forward's reporter to an admin: %d", ob.StatusCode)
		}
		var n int64
		e.db.R.Model(&cases.CustomerResponse{}).Where("case_id = ?", id).Count(&n)
		if n != cases.MaxResponsesPerLink {
			t.Errorf("%d answers stored, want %d", n, cases.MaxResponsesPerLink)
		}
	})
}

// TestHotlineExportDownload: a csam report's export is downloadable by legal as JSON.
func TestHotlineExportDownload(t *testing.T) {
	e := newEnv(t, database.SQLite)
	if r := e.client().post("/report", url.Values{"category": {"csam"}, "url": {"https://yardboard.example/x/9"}, "description": {"Images."}, "good_faith": {"yes"}}); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("file: %d", r.StatusCode)
	}
	var ex cases.HotlineExport
	if err := e.db.R.Order("id DESC").Take(&ex).Error; err != nil {
		t.Fatal(err)
	}
	res := e.login(policy.Legal).get("/hotline-exports/" + itoa(ex.ID))
	if res.StatusCode != http.StatusOK || !strings.HasPrefix(res.Header.Get("Content-Type"), "application/json") ||
		!strings.Contains(res.Body, `"https://yardboard.example/x/9"`) || !strings.Contains(res.Header.Get("Content-Disposition"), "attachment") {
		t.Errorf("export: %d %s\n%s", res.StatusCode, res.Header.Get("Content-Type"), res.Body)
	}
	id := caseIDFor(t, e, "yardboard.example", "csam")
	if e.login(policy.Legal).get("/cases/"+itoa(id)).doc(t).Find(`a[href="/hotline-exports/`+itoa(ex.ID)+`"]`).Length() != 1 {
		t.Errorf("no export link on the case page")
	}
}

// TestAPIForward: the API's forward object takes the same choices and refusals.
func TestAPIForward(t *testing.T) {
	e := newEnv(t, database.SQLite)
	key := e.issueKey("Rights Org", "desk@rights.example")
	res := e.bearer(key, http.MethodPost, "/api/v1/reports", `{"category": "copyright", "url": "https://lumenphoto.example/a", "description": "Ours.", "forward": {"customer": "send_anonymously"}}`)
	if res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(res.Body, "forward_customer") {
		t.Errorf("anonymous copyright by API: %d %s", res.StatusCode, res.Body)
	}
	res = e.bearer(key, http.MethodPost, "/api/v1/reports", `{"category": "phishing", "url": "https://lumenphoto.example/b", "description": "Kit.", "forward": {"customer": "do_not_send"}}`)
	if res.StatusCode != http.StatusCreated {
		t.Fatalf("phishing by API: %d %s", res.StatusCode, res.Body)
	}
	var n int64
	e.db.R.Model(&cases.Forward{}).Count(&n)
	var ch cases.ForwardChoiceRow
	e.db.R.Where("recipient = 'customer'").Order("report_id DESC").Take(&ch)
	if n != 0 || ch.Choice != cases.DoNotSend {
		t.Errorf("%d forwards, choice %q; want none and do_not_send", n, ch.Choice)
	}
}
