package ui_test

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/dockethq/docket/internal/database"
	"github.com/dockethq/docket/internal/demo"
)

// TestBrowserTermination: a reviewer proposes termination and cannot approve it;
// legal approves; leadership approves; the case is decided and a directive row
// exists. Each person uses a separate browser session.
func TestBrowserTermination(t *testing.T) {
	ctx, ready := newBrowser(t, 90*time.Second)
	e := newEnv(t, database.SQLite)
	ready()
	base := e.srv.URL
	caseID := caseIDFor(t, e, "yardboard.example", "violent_extremism")

	browserLogin(t, ctx, base, "reviewer@docket.example")
	if err := chromedp.Do(ctx, chromedp.Navigate(base+"/cases/"+itoa(caseID)), chromedp.WaitVisible(chromedp.ID("claim"))); err != nil {
		t.Fatal(err)
	}
	browserSubmit(t, ctx, "claim", "#claim")
	if err := chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS(`input[name="action"][value="terminate"]`), chromedp.NodeVisible),
		chromedp.SendKeys(chromedp.ID("grounds"), "AUP 1.1: incitement to violence"),
		chromedp.SetValue(chromedp.ID("explanation"), "Service for yardboard.example has ended: the site hosted an attacker's manifesto and calls for more attacks."),
		chromedp.Click(chromedp.CSS(`input[name="hostnames"][value="www.yardboard.example"]`), chromedp.NodeVisible),
		chromedp.SetValue(chromedp.ID("evidence"), "CERU-2026-1182"),
		chromedp.SetValue(chromedp.ID("ground_type"), "illegal"),
	); err != nil {
		t.Fatal(err)
	}
	browserSubmit(t, ctx, "propose termination", `#decide-form button[type="submit"]`)
	if got := browserText(t, ctx, ".notice.ok"); !strings.Contains(got, "Termination proposed") {
		t.Fatalf("flash = %q", got)
	}
	// The proposer has no way to approve: no Sign-offs link, and the inbox is refused.
	if n, _ := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll('nav.rail a[href="/signoffs"]').length`)); n != 0 {
		t.Errorf("the reviewer's rail links to sign-offs")
	}
	res, err := chromedp.RunResponse(ctx, chromedp.Navigate(base+"/signoffs"))
	if err != nil || res.Status != 403 {
		t.Errorf("reviewer opening /signoffs: %v %v", res, err)
	}
	var did int64
	e.db.R.Table("decisions").Select("id").Where("case_id = ? AND status = 'proposed'", caseID).Scan(&did)

	for i, who := range []struct{ email, role string }{{"legal@docket.example", "legal"}, {"leadership@docket.example", "leadership"}} {
		tab, cancel := chromedp.NewContext(ctx, chromedp.WithNewBrowserContext())
		browserLogin(t, tab, base, who.email)
		if got := browserText(t, tab, `nav.rail a[href="/signoffs"] .badge`); got != "1" {
			t.Errorf("%s: badge = %q, want 1", who.role, got)
		}
		browserSubmit(t, tab, "open the inbox", `nav.rail a[href="/signoffs"]`)
		browserSubmit(t, tab, "open the brief", chromedp.CSS(`a[href="/signoffs/`+itoa(did)+`"]`))
		if got := browserText(t, tab, ".statement"); !strings.Contains(got, "manifesto") {
			t.Errorf("%s: statement = %q", who.role, got)
		}
		if i == 0 {
			browserScreenshot(t, tab, "7-signoff-brief")
		}
		if err := chromedp.Do(tab, chromedp.SendKeys(chromedp.ID("approve-password"), demo.Password)); err != nil {
			t.Fatal(err)
		}
		browserSubmit(t, tab, who.role+" approves", `#approve-form button[type="submit"]`)
		if got := browserText(t, tab, ".notice.ok"); got != "You approved as "+who.role+"." {
			t.Errorf("%s: flash = %q", who.role, got)
		}
		cancel()
	}
	var state string
	var directives int64
	e.db.R.Table("cases").Select("state").Where("id = ?", caseID).Scan(&state)
	e.db.R.Table("directives").Where("case_id = ? AND type = 'site.terminate'", caseID).Count(&directives)
	if state != "decided" || directives != 1 {
		t.Errorf("after both sign-offs: state %s, %d directives", state, directives)
	}
}
