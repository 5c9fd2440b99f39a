package ui_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/dockethq/docket/cases"
	"github.com/dockethq/docket/internal/database"
	"github.com/dockethq/docket/notify"
	"github.com/dockethq/docket/policy"
)

// TestBrowserCustomerRespondsThenAppeals is issue 8's customer journey end to
// end: a report on a served site is forwarded to its owner; in the browser the
// owner opens the response link from that email and disputes the report; a
// reviewer restricts the site anyway and edge-sim serves it as restricted; the
// owner opens the appeal link from their notice of action and appeals; a
// senior reviewer, who did not decide, sees the earlier answer on the case
// and reverses; edge-sim serves the site again.
func TestBrowserCustomerRespondsThenAppeals(t *testing.T) {
	ctx, ready := newBrowser(t, 90*time.Second)
	e, sim, edgeURL := newAppealEdgeEnv(t, database.SQLite)
	const host = "lumenphoto.example"
	base := e.srv.URL

	// A named copyright notice (the public form's rules: name, email, the
	// category's details, the proof of work the env's client solves) is
	// forwarded to the customer.
	reported := "https://" + host + "/gallery/porto-2025"
	res := e.client().post("/report", url.Values{"category": {"copyright"}, "url": {reported},
		"description": {"My photographs of Porto, republished without a licence."},
		"name":        {"Ines Imagem"}, "email": {"ines@imagem.example"}, "good_faith": {"yes"}, "forward_customer": {"send"},
		cases.DetailKey(cases.Copyright, "work"): {"Porto at dusk, a series of twelve"}, cases.DetailKey(cases.Copyright, "holder"): {"Ines Imagem"},
		cases.DetailKey(cases.Copyright, "relationship"): {"I am the rights holder"}})
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("file the report: %d\n%s", res.StatusCode, res.doc(t).Find(".notice, .field-error").Text())
	}
	var caseID int64
	e.db.R.Table("reports").Select("case_id").Where("url = ?", reported).Scan(&caseID)
	if caseID == 0 || caseID != caseIDFor(t, e, host, "copyright") {
		t.Fatalf("the report joined case %d, not the site's open copyright case", caseID)
	}
	var fw cases.Forward
	if err := e.db.R.Where("case_id = ? AND recipient = 'customer'", caseID).Order("id DESC").Take(&fw).Error; err != nil || fw.NoticeID == nil {
		t.Fatalf("no forward to the customer: %+v, %v", fw, err)
	}
	var fwd notify.Notice
	e.db.R.Take(&fwd, *fw.NoticeID)
	if fwd.Recipient != "hello@lumenphoto.example" || !strings.Contains(fwd.Body, reported) {
		t.Fatalf("forwarded notice to %q:\n%s", fwd.Recipient, fwd.Body)
	}
	respondLink := regexp.MustCompile(regexp.QuoteMeta(base) + `/respond/[A-Za-z0-9_.-]+`).FindString(fwd.Body)
	if respondLink == "" {
		t.Fatalf("no response link in the forwarded notice:\n%s", fwd.Body)
	}

	// The customer answers through the link, without an account.
	ready()
	if err := chromedp.Do(ctx, chromedp.Navigate(respondLink), chromedp.WaitVisible(chromedp.ID("body"))); err != nil {
		t.Fatalf("open the response link: %v", err)
	}
	if got := browserText(t, ctx, "main h1"); got != "Respond to an abuse report" {
		t.Errorf("response page heading = %q", got)
	}
	if got := browserText(t, ctx, "main .lead strong"); got != host {
		t.Errorf("response page names host %q", got)
	}
	if got := browserText(t, ctx, "main dl.receipt"); !strings.Contains(got, "R-"+itoa(caseID)) || !strings.Contains(got, reported) {
		t.Errorf("response page receipt = %q", got)
	}
	if got := browserText(t, ctx, "main"); strings.Contains(got, "Ines") || strings.Contains(got, "ines@") {
		t.Errorf("the response page shows the reporter: %q", got)
	}
	answer := "We licensed these photographs from the agency in 2025; the invoice is on file."
	if err := chromedp.Do(ctx,
		chromedp.Click(`main input[name="kind"][value="disputed"]`, chromedp.NodeVisible),
		chromedp.SetValue(chromedp.ID("body"), answer)); err != nil {
		t.Fatal(err)
	}
	browserScreenshot(t, ctx, "customer-1-respond")
	browserSubmit(t, ctx, "send the answer", `main form.form button[type="submit"]`)
	if got := browserPath(t, ctx); !strings.HasSuffix(got, "?done=1") {
		t.Errorf("after answering the customer is at %s", got)
	}
	if got := browserText(t, ctx, "#response-received"); !strings.Contains(got, "Your answer is attached to the case") {
		t.Errorf("confirmation = %q", got)
	}
	if got := browserText(t, ctx, "main article.note"); !strings.Contains(got, "Disputes the report") || !strings.Contains(got, answer) {
		t.Errorf("answers so far = %q", got)
	}
	var resp cases.CustomerResponse
	if err := e.db.R.Where("case_id = ?", caseID).Take(&resp).Error; err != nil || resp.Kind != "disputed" || resp.Body != answer {
		t.Fatalf("stored answer: %+v, %v", resp, err)
	}

	// A reviewer restricts the site regardless; the edge applies it.
	restricted, did, _ := restrictOverHTTP(t, e, e.login(policy.Reviewer))
	if restricted != caseID {
		t.Fatalf("restricted case %d, not %d", restricted, caseID)
	}
	wait, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := sim.WaitFor(wait, host, 1); err != nil {
		t.Fatal(err)
	}
	if code := edgeStatus(t, edgeURL, host); code != http.StatusForbidden && code != http.StatusUnavailableForLegalReasons {
		t.Fatalf("restricted site answers %d", code)
	}

	// The notice of action (not the forward, which shares its kind) carries
	// the appeal link.
	var action string
	e.db.R.Table("notices").Select("body").
		Where("kind = ? AND case_id = ? AND (topic = '' OR topic IS NULL)", notify.KindCustomerAction, caseID).
		Order("id DESC").Limit(1).Scan(&action)
	appealLink := regexp.MustCompile(regexp.QuoteMeta(base) + `/appeal/[A-Za-z0-9_.-]+`).FindString(action)
	if appealLink == "" {
		t.Fatalf("no appeal link in the customer's notice of action:\n%s", action)
	}
	if err := chromedp.Do(ctx, chromedp.Navigate(appealLink), chromedp.WaitVisible(chromedp.ID("appeal-grounds"))); err != nil {
		t.Fatalf("open the appeal link: %v", err)
	}
	if got := browserText(t, ctx, "#appeal-host"); got != host {
		t.Errorf("appeal page host = %q", got)
	}
	if got := browserText(t, ctx, "#appeal-reasons"); !strings.Contains(got, "without a licence") {
		t.Errorf("statement of reasons = %q", got)
	}
	grounds := "As we answered when the report was forwarded: the agency licensed these photographs to us in 2025."
	if err := chromedp.Do(ctx, chromedp.SetValue(chromedp.ID("appeal-grounds"), grounds)); err != nil {
		t.Fatal(err)
	}
	browserScreenshot(t, ctx, "customer-2-appeal")
	browserSubmit(t, ctx, "submit the appeal", `#appeal-form button[type="submit"]`)
	if got := browserText(t, ctx, ".notice.ok"); !strings.Contains(got, "Your appeal has been received") {
		t.Errorf("flash = %q", got)
	}
	if got := browserText(t, ctx, "#appeal-state"); !strings.Contains(got, "Your appeal is open") {
		t.Errorf("appeal state = %q", got)
	}

	// A senior reviewer, not the decider, reads the case and reverses.
	var apID int64
	e.db.R.Table("appeals").Select("id").Where("decision_id = ?", did).Scan(&apID)
	if apID == 0 {
		t.Fatal("no appeal stored")
	}
	tab, cancelTab := chromedp.NewContext(ctx, chromedp.WithNewBrowserContext())
	defer cancelTab()
	browserLogin(t, tab, base, "senior@docket.example")
	if err := chromedp.Do(tab, chromedp.Navigate(base+"/cases/"+itoa(caseID)), chromedp.WaitVisible(`.customer-response`)); err != nil {
		t.Fatalf("open the case: %v", err)
	}
	if got := browserText(t, tab, ".customer-response"); !strings.Contains(got, "Disputes the report") || !strings.Contains(got, answer) {
		t.Errorf("the case page's customer response = %q", got)
	}
	if err := chromedp.Do(tab, chromedp.Navigate(base+"/appeals"), chromedp.WaitVisible(`#appeals`)); err != nil {
		t.Fatal(err)
	}
	browserSubmit(t, tab, "open the appeal", chromedp.CSS(`#appeals a[href="/appeals/`+itoa(apID)+`"]`))
	if got := browserText(t, tab, "#appeal-thread"); !strings.Contains(got, grounds) {
		t.Errorf("thread = %q", got)
	}
	if err := chromedp.Do(tab, chromedp.SetValue(chromedp.ID("appeal-outcome"), "The licence checks out; the restriction is lifted.")); err != nil {
		t.Fatal(err)
	}
	browserScreenshot(t, tab, "customer-3-reverse")
	browserSubmit(t, tab, "reverse", "#appeal-reverse")
	if got := browserText(t, tab, ".notice.ok"); !strings.Contains(got, "Appeal granted") {
		t.Errorf("flash = %q", got)
	}
	if got := browserText(t, tab, "#appeal-state"); got != "reversed" {
		t.Errorf("appeal state for staff = %q", got)
	}
	if err := sim.WaitFor(wait, host, 2); err != nil {
		t.Fatalf("the edge never applied the reinstatement: %v", err)
	}
	if code := edgeStatus(t, edgeURL, host); code != http.StatusOK {
		t.Errorf("reinstated site answers %d", code)
	}

	// Behind the same link the customer sees the outcome.
	if err := chromedp.Do(ctx, chromedp.Navigate(appealLink), chromedp.WaitVisible(chromedp.ID("appeal-outcome"))); err != nil {
		t.Fatal(err)
	}
	if got := browserText(t, ctx, "#appeal-state"); !strings.Contains(got, "the decision is reversed") {
		t.Errorf("appeal state = %q", got)
	}
	if got := browserText(t, ctx, "#appeal-outcome"); !strings.Contains(got, "restriction is lifted") {
		t.Errorf("outcome = %q", got)
	}
}
