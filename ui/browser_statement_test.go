package ui_test

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/dockethq/docket/internal/database"
)

// TestBrowserStatementPreview: in the decide form the reviewer generates the
// statement of reasons (htmx), edits it, and restricts; the statement has the
// edit and passes the Transparency Database's rules.
func TestBrowserStatementPreview(t *testing.T) {
	ctx, ready := newBrowser(t, 90*time.Second)
	e := newEnv(t, database.SQLite)
	ready()
	base := e.srv.URL
	caseID := caseIDFor(t, e, "lumenphoto.example", "copyright")
	browserLogin(t, ctx, base, "reviewer@docket.example")
	if err := chromedp.Do(ctx, chromedp.Navigate(base+"/cases/"+itoa(caseID)), chromedp.WaitVisible(chromedp.ID("claim"))); err != nil {
		t.Fatal(err)
	}
	browserSubmit(t, ctx, "claim", "#claim")
	if err := chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS(`input[name="action"][value="restrict"]`), chromedp.NodeVisible),
		chromedp.SendKeys(chromedp.ID("grounds"), "Copyright Directive art. 17"),
		chromedp.SetValue(chromedp.ID("explanation"), "The gallery republishes an agency's photographs without a licence."),
		chromedp.SetValue(chromedp.ID("ground_type"), "illegal"),
		chromedp.Click(chromedp.CSS("#sor-draft summary"), chromedp.NodeVisible),
		chromedp.Click(chromedp.ID("sor-preview"), chromedp.NodeVisible),
		chromedp.WaitVisible(chromedp.ID("sor_facts")),
	); err != nil {
		t.Fatal(err)
	}
	if got, err := chromedp.Run(ctx, chromedp.Value(chromedp.ID("sor_ground"))); err != nil || got != "Copyright Directive art. 17" {
		t.Errorf("generated legal ground = %q (%v)", got, err)
	}
	browserScreenshot(t, ctx, "sor-preview")
	if err := chromedp.Do(ctx, chromedp.SetValue(chromedp.ID("sor_facts"), "Edited in the browser: the agency sent a notice.")); err != nil {
		t.Fatal(err)
	}
	browserSubmit(t, ctx, "restrict", `#decide-form button[type="submit"]`)
	if got := browserText(t, ctx, ".notice.ok"); !strings.Contains(got, "Decision recorded") {
		t.Fatalf("flash = %q", got)
	}
	var did int64
	e.db.R.Table("statements").Select("decision_id").Where("case_id = ?", caseID).Scan(&did)
	if err := chromedp.Do(ctx, chromedp.Navigate(base+"/statements/"+itoa(did)), chromedp.WaitVisible(chromedp.ID("statement-valid"))); err != nil {
		t.Fatalf("statement page: %v", err)
	}
	browserScreenshot(t, ctx, "sor-statement")
	legal, cancel := chromedp.NewContext(ctx, chromedp.WithNewBrowserContext())
	defer cancel()
	browserLogin(t, legal, base, "legal@docket.example")
	if err := chromedp.Do(legal, chromedp.Navigate(base+"/admin/sor?since=2000-01-01"), chromedp.WaitVisible(chromedp.ID("sor-list"))); err != nil {
		t.Fatalf("admin/sor: %v", err)
	}
	browserScreenshot(t, legal, "sor-admin")
	var body string
	e.db.R.Table("statements").Select("body").Where("case_id = ? AND status = 'final'", caseID).Scan(&body)
	if !strings.Contains(body, "Edited in the browser") || !strings.Contains(body, `"decision_ground":"DECISION_GROUND_ILLEGAL_CONTENT"`) {
		t.Errorf("statement = %s", body)
	}
}
