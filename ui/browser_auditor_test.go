package ui_test

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/dockethq/docket/audit"
	"github.com/dockethq/docket/internal/database"
	"github.com/dockethq/docket/internal/demo"
	"github.com/dockethq/docket/policy"
)

// TestBrowserAuditorTimeline: an auditor signs in, opens Audit from the rail,
// picks a case's timeline, filters it, sees details (markup as inert text) and
// follows an actor to their own timeline.
func TestBrowserAuditorTimeline(t *testing.T) {
	ctx, ready := newBrowser(t, 60*time.Second)
	e := newEnv(t, database.SQLite)
	rev := e.login(policy.Reviewer)
	caseID, _, _ := restrictOverHTTP(t, e, rev)
	if err := audit.Record(e.db.W, time.Now(), "system", "case.escalate", "case", itoa(caseID), map[string]any{"reason": browserXSSPayload}); err != nil {
		t.Fatal(err)
	}
	ready()
	base := e.srv.URL
	if err := chromedp.Do(ctx,
		chromedp.Navigate(base+"/login"),
		chromedp.WaitVisible(chromedp.ID("password")),
		chromedp.SendKeys(chromedp.ID("email"), demoEmail(policy.Auditor)),
		chromedp.SendKeys(chromedp.ID("password"), demo.Password),
	); err != nil {
		t.Fatalf("fill the sign-in form: %v", err)
	}
	browserSubmit(t, ctx, "sign in", `form[action="/login"] button[type="submit"]`)
	browserSubmit(t, ctx, "open Audit", `nav.rail a[href="/audit"]`)
	if err := chromedp.Do(ctx,
		chromedp.SetValue(chromedp.ID("a-scope"), "case"),
		chromedp.SendKeys(chromedp.ID("a-id"), itoa(caseID)),
		chromedp.SendKeys(chromedp.ID("a-action"), "case."),
	); err != nil {
		t.Fatalf("fill the timeline form: %v", err)
	}
	browserSubmit(t, ctx, "show the timeline", `#audit-pick button[type="submit"]`)
	if p := browserPath(t, ctx); p != "/audit/cases/"+itoa(caseID)+"?action=case.&order=newest" {
		t.Errorf("timeline at %s", p)
	}
	actions, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`Array.from(document.querySelectorAll("#audit-events tr[data-action]"), r => r.dataset.action)`))
	if err != nil || len(actions) == 0 {
		t.Fatalf("no events listed: %v", err)
	}
	for _, a := range actions {
		if !strings.HasPrefix(a, "case.") {
			t.Errorf("filtered on case. but lists %s", a)
		}
	}
	text, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`tr[data-action="case.escalate"] .details dd`)))
	if err != nil || !strings.Contains(text, "<script>window.__xss=1</script>") {
		t.Errorf("details text %q (%v)", text, err)
	}
	if xss, err := chromedp.Run(ctx, chromedp.Evaluate[string](`typeof window.__xss`)); err != nil || xss != "undefined" {
		t.Errorf("typeof window.__xss = %q (%v): markup in details ran", xss, err)
	}
	browserScreenshot(t, ctx, "audit-case-timeline")
	browserSubmit(t, ctx, "follow the actor", `tr[data-action="case.claim"] .actor a`)
	if title, err := chromedp.Run(ctx, chromedp.Text(chromedp.ID("audit-title"))); err != nil || !strings.HasPrefix(title, "User #") {
		t.Errorf("actor link led to %q (%v)", title, err)
	}
}
