package ui_test

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/dockethq/docket/internal/database"
	"github.com/dockethq/docket/internal/demo"
)

// TestBrowserAuditChain: an auditor signs in, follows the rail to the audit
// chain, runs a verification and sees the chain intact.
func TestBrowserAuditChain(t *testing.T) {
	ctx, ready := newBrowser(t, 60*time.Second)
	e := newEnv(t, database.SQLite)
	ready()
	base := e.srv.URL
	if err := chromedp.Do(ctx,
		chromedp.Navigate(base+"/login"),
		chromedp.WaitVisible(chromedp.ID("email")),
		chromedp.SendKeys(chromedp.ID("email"), "auditor@docket.example"),
		chromedp.SendKeys(chromedp.ID("password"), demo.Password),
	); err != nil {
		t.Fatalf("fill the sign-in form: %v", err)
	}
	browserSubmit(t, ctx, "sign in", `form button[type="submit"]`)
	browserSubmit(t, ctx, "open the audit chain", `nav a[href="/audit/chain"]`)
	if p := browserPath(t, ctx); p != "/audit/chain" {
		t.Fatalf("landed on %s", p)
	}
	browserSubmit(t, ctx, "verify", `form[action="/audit/chain/verify"] button[type="submit"]`)
	got, err := chromedp.Run(ctx, chromedp.Text(chromedp.ID("chain-verification")))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(got, "intact") || !strings.Contains(got, "events to seq") {
		t.Errorf("last verification reads %q", got)
	}
	browserScreenshot(t, ctx, "audit-chain")
}
