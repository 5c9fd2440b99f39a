package ui_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/dockethq/docket/internal/database"
	"github.com/dockethq/docket/internal/demo"
)

// browserLogin signs a tab in as email.
func browserLogin(t *testing.T, ctx context.Context, base, email string) {
	t.Helper()
	if err := chromedp.Do(ctx,
		chromedp.Navigate(base+"/login"),
		chromedp.WaitVisible(chromedp.ID("password")),
		chromedp.SendKeys(chromedp.ID("email"), email),
		chromedp.SendKeys(chromedp.ID("password"), demo.Password),
	); err != nil {
		t.Fatalf("fill the sign-in form: %v", err)
	}
	browserSubmit(t, ctx, "sign in as "+email, `form[action="/login"] button[type="submit"]`)
}

func browserText(t *testing.T, ctx context.Context, sel string) string {
	t.Helper()
	s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
	if err != nil {
		t.Fatalf("read %s: %v", sel, err)
	}
	return s
}

// TestBrowserClaimNoteDecide: a reviewer claims a case, a second reviewer's
// session sees it claimed (and is told when it changes), the first adds a note and
// decides "warn", and the case leaves the open queue.
func TestBrowserClaimNoteDecide(t *testing.T) {
	ctx, ready := newBrowser(t, 90*time.Second)
	e := newEnv(t, database.SQLite)
	ready()
	base := e.srv.URL
	var caseID int64
	e.db.R.Table("cases").Select("id").Where("hostname = 'secure-login-verify.example'").Scan(&caseID)
	caseURL := base + "/cases/" + itoa(caseID)

	// A second, separate browser session for the senior reviewer.
	other, cancel := chromedp.NewContext(ctx, chromedp.WithNewBrowserContext())
	defer cancel()

	browserLogin(t, ctx, base, "reviewer@docket.example")
	if err := chromedp.Do(ctx, chromedp.WaitVisible(chromedp.CSS(`a[href="/cases/`+itoa(caseID)+`"]`))); err != nil {
		t.Fatalf("the phishing case is not in the reviewer's queue: %v", err)
	}
	browserSubmit(t, ctx, "open the case", chromedp.CSS(`a[href="/cases/`+itoa(caseID)+`"]`))
	browserSubmit(t, ctx, "claim", "#claim")
	if got := browserText(t, ctx, ".held"); !strings.Contains(got, "You hold this case") {
		t.Fatalf("after claiming: %q", got)
	}

	browserLogin(t, other, base, "senior@docket.example")
	if err := chromedp.Do(other, chromedp.Navigate(caseURL), chromedp.WaitVisible(chromedp.CSS(".notice.warn"))); err != nil {
		t.Fatalf("second session: %v", err)
	}
	if got := browserText(t, other, ".notice.warn"); !strings.Contains(got, "Riley Reviewer is working on this case") {
		t.Errorf("second session sees %q", got)
	}
	if n, _ := chromedp.Run(other, chromedp.Evaluate[int](`document.querySelectorAll("#claim").length`)); n != 0 {
		t.Errorf("second session is offered a Claim button on a claimed case")
	}

	// The note, then the decision.
	if err := chromedp.Do(ctx, chromedp.SetValue(chromedp.ID("note-body"), "Kit matches the one from last week.")); err != nil {
		t.Fatal(err)
	}
	browserSubmit(t, ctx, "add note", `form[action$="/notes"] button[type="submit"]`)
	if got := browserText(t, ctx, ".timeline .note .description"); got != "Kit matches the one from last week." {
		t.Errorf("note on the timeline: %q", got)
	}
	// The other session learns of the change without reloading.
	if err := chromedp.Do(other, chromedp.WaitVisible(chromedp.CSS("#case-status .notice"))); err != nil {
		t.Fatalf("second session was not told of the change: %v", err)
	}

	if err := chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS(`input[name="action"][value="warn"]`), chromedp.NodeVisible),
		chromedp.SendKeys(chromedp.ID("grounds"), "AUP 4.2 (phishing)"),
		chromedp.SetValue(chromedp.ID("explanation"), "Your site hosts a phishing page; remove it within 24 hours."),
		chromedp.SetValue(chromedp.ID("ground_type"), "terms"),
	); err != nil {
		t.Fatal(err)
	}
	browserScreenshot(t, ctx, "5-case-decide")
	browserSubmit(t, ctx, "decide warn", `#decide-form button[type="submit"]`)
	if p := browserPath(t, ctx); p != "/queue" {
		t.Fatalf("after deciding: at %s, want /queue", p)
	}
	if got := browserText(t, ctx, ".notice.ok"); !strings.Contains(got, "Decision recorded: warn") {
		t.Errorf("flash = %q", got)
	}
	if n, _ := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll('a[href="/cases/`+itoa(caseID)+`"]').length`)); n != 0 {
		t.Errorf("the decided case is still in the open queue")
	}
	browserScreenshot(t, ctx, "6-queue-after")
	var state string
	e.db.R.Table("cases").Select("state").Where("id = ?", caseID).Scan(&state)
	if state != "decided" {
		t.Errorf("case state = %s, want decided", state)
	}
}
