package ui_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/dockethq/docket/internal/database"
	"github.com/dockethq/docket/internal/demo"
	"github.com/dockethq/docket/internal/testdb"
	"github.com/dockethq/docket/policy"
)

// browserULID matches a ULID in Crockford base32, as receipts show them.
var browserULID = regexp.MustCompile(`^[0-7][0-9A-HJKMNP-TV-Z]{25}$`)

// browserXSSPayload would set window.__xss if the case page rendered a
// description as HTML instead of text.
const browserXSSPayload = `<script>window.__xss=1</script><img src=x onerror="window.__xss=2">`

// browserExecPath returns the browser binary: $DOCKET_TEST_CHROMIUM, else
// /usr/bin/chromium. Without one the test skips, or fails under CI=true.
func browserExecPath(t *testing.T) string {
	t.Helper()
	path := os.Getenv("DOCKET_TEST_CHROMIUM")
	if path == "" {
		path = "/usr/bin/chromium"
	}
	fi, err := os.Stat(path)
	if err == nil && fi.IsDir() {
		err = errors.New(path + " is a directory")
	}
	if err != nil {
		testdb.Unavailable(t, "Chromium", err)
	}
	return path
}

// newBrowser starts a headless Chromium with a fresh profile in the background
// and returns a tab's context, cancelled (and the browser stopped) when the test
// ends or after timeout. Call ready before the first action: it waits for the
// browser. The pages' uncaught exceptions and Content Security Policy
// violations fail the test; other console errors and warnings are logged.
func newBrowser(t *testing.T, timeout time.Duration) (ctx context.Context, ready func()) {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(browserExecPath(t)),
		chromedp.NoSandbox,
		chromedp.Headless,
		chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.NoFirstRun,
		chromedp.WindowSize(1280, 900),
		chromedp.UserDataDir(t.TempDir()),
	)
	timeoutCtx, cancelTimeout := context.WithTimeout(context.Background(), timeout)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(timeoutCtx, opts...)
	tabCtx, cancelTab := chromedp.NewContext(allocCtx)

	var (
		mu       sync.Mutex
		messages []chromedp.ConsoleMessage
	)
	consoleCtx, stopConsole := context.WithCancel(tabCtx)
	consoleDone := make(chan struct{})
	started := make(chan error, 1)
	go func() {
		defer close(consoleDone)
		// Chromium takes a while to start: let it, while the test sets up.
		err := chromedp.Do(tabCtx)
		started <- err
		if err != nil {
			return
		}
		for m, err := range chromedp.Console(consoleCtx) {
			if err != nil {
				return
			}
			if m.IsException() || m.Type == chromedp.ConsoleError || m.Type == chromedp.ConsoleWarning {
				mu.Lock()
				messages = append(messages, m)
				mu.Unlock()
			}
		}
	}()

	t.Cleanup(func() {
		stopConsole()
		select {
		case <-consoleDone:
		case <-time.After(5 * time.Second):
		}
		mu.Lock()
		for _, m := range messages {
			msg := m.String()
			if m.URL != "" {
				msg += " at " + m.URL
			}
			switch {
			case m.IsException(), strings.Contains(m.Text, "Content Security Policy"):
				t.Errorf("browser console: %s", msg)
			case strings.HasSuffix(m.URL, "/favicon.ico"):
				// Browsers ask for it on their own; Docket has none.
			default:
				t.Logf("browser console: %s", msg)
			}
		}
		mu.Unlock()
		// Closing the tab and then the allocator waits for Chromium to exit,
		// before t.TempDir removes the profile.
		cancelTab()
		cancelAlloc()
		cancelTimeout()
	})
	return tabCtx, func() {
		t.Helper()
		if err := <-started; err != nil {
			t.Fatalf("start Chromium: %v", err)
		}
	}
}

// browserScreenshot saves a full-page PNG named name to
// $DOCKET_TEST_SCREENSHOTS, if that is set.
func browserScreenshot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	dir := os.Getenv("DOCKET_TEST_SCREENSHOTS")
	if dir == "" {
		return
	}
	buf, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot %s: %v", name, err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, name+".png")
	if err := os.WriteFile(path, buf, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s", path)
}

// browserPath returns the path and query of the tab's current location.
func browserPath(t *testing.T, ctx context.Context) string {
	t.Helper()
	loc, err := chromedp.Run(ctx, chromedp.Location())
	if err != nil {
		t.Fatalf("location: %v", err)
	}
	u, err := url.Parse(loc)
	if err != nil {
		t.Fatalf("location %q: %v", loc, err)
	}
	return u.RequestURI()
}

// browserSubmit clicks sel and waits for the page it leads to, failing on a
// non-2xx final response.
func browserSubmit(t *testing.T, ctx context.Context, what string, sel chromedp.CSS) {
	t.Helper()
	res, err := chromedp.RunResponse(ctx, chromedp.Click(sel, chromedp.NodeVisible))
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	if res.Status < 200 || res.Status > 299 {
		t.Fatalf("%s: landed on %s with status %d", what, res.URL, res.Status)
	}
}

// TestBrowserReportToQueue walks the main path in a real browser: the public
// files a report, a reviewer signs in, finds it in the queue, opens the case and
// sees the description as inert text, then signs out.
func TestBrowserReportToQueue(t *testing.T) {
	ctx, ready := newBrowser(t, 60*time.Second)
	e := newEnv(t, database.SQLite)
	ready()
	base := e.srv.URL

	rnd := make([]byte, 5)
	_, _ = rand.Read(rnd)
	host := "browser-test-" + hex.EncodeToString(rnd) + ".example"
	reportURL := "https://" + host + "/login"
	e.serve(host)
	description := "Fake bank login page collecting passwords. Payload: " + browserXSSPayload

	// 1. The public files a report.
	if err := chromedp.Do(ctx,
		chromedp.Navigate(base+"/report"),
		chromedp.WaitVisible(chromedp.ID("category")),
		chromedp.SetValue(chromedp.ID("category"), "phishing"),
		// SetValue fires no change event; the form's script shows the category's fields on one.
		chromedp.Evaluate[chromedp.Void](`document.getElementById("category").dispatchEvent(new Event("change"))`),
		chromedp.SendKeys(chromedp.ID("detail_phishing_brand"), "Example Bank"),
		chromedp.SendKeys(chromedp.ID("url"), reportURL),
		// Typing is slow (a few protocol calls a key): set the long field.
		chromedp.SetValue(chromedp.ID("description"), description),
		chromedp.SendKeys(chromedp.ID("name"), "Browser Test"),
		chromedp.SendKeys(chromedp.ID("email"), "browser-test@reporter.example"),
		chromedp.Click(chromedp.ID("good_faith"), chromedp.NodeVisible),
	); err != nil {
		t.Fatalf("fill the report form: %v", err)
	}
	for id, want := range map[string]string{"category": "phishing", "url": reportURL, "description": description} {
		got, err := chromedp.Run(ctx, chromedp.Value(chromedp.ID(id)))
		if err != nil {
			t.Fatalf("read #%s: %v", id, err)
		}
		if got != want {
			t.Fatalf("#%s holds %q, want %q", id, got, want)
		}
	}
	if checked, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.getElementById("good_faith").checked`)); err != nil || !checked {
		t.Fatalf("good faith box not ticked (checked=%v, err=%v)", checked, err)
	}
	browserScreenshot(t, ctx, "1-report-form")

	browserSubmit(t, ctx, "send the report", `form[action="/report"] button[type="submit"]`)
	if err := chromedp.Do(ctx, chromedp.WaitVisible(chromedp.ID("receipt-id"))); err != nil {
		t.Fatalf("wait for the receipt: %v", err)
	}
	receiptID, err := chromedp.Run(ctx, chromedp.Text(chromedp.ID("receipt-id")))
	if err != nil {
		t.Fatalf("read the receipt id: %v", err)
	}
	receiptID = strings.TrimSpace(receiptID)
	if !browserULID.MatchString(receiptID) {
		t.Fatalf("receipt id %q is not a 26-character ULID", receiptID)
	}
	if p := browserPath(t, ctx); p != "/report/receipt/"+receiptID {
		t.Errorf("receipt page is at %s, want /report/receipt/%s", p, receiptID)
	}
	browserScreenshot(t, ctx, "2-receipt")

	// 2. A reviewer signs in and finds the new case in the queue.
	var reviewer string
	for _, a := range demo.Accounts {
		if a.Role == policy.Reviewer {
			reviewer = a.Email
		}
	}
	if reviewer == "" {
		t.Fatal("the demo data has no reviewer account")
	}
	if err := chromedp.Do(ctx,
		chromedp.Navigate(base+"/login"),
		chromedp.WaitVisible(chromedp.ID("password")),
		chromedp.SendKeys(chromedp.ID("email"), reviewer),
		chromedp.SendKeys(chromedp.ID("password"), demo.Password),
	); err != nil {
		t.Fatalf("fill the sign-in form: %v", err)
	}
	browserSubmit(t, ctx, "sign in as "+reviewer, `form[action="/login"] button[type="submit"]`)
	if p := browserPath(t, ctx); p != "/queue" {
		t.Fatalf("signed in to %s, want /queue", p)
	}
	if err := chromedp.Do(ctx, chromedp.WaitVisible(chromedp.CSS("table.grid tbody tr"))); err != nil {
		t.Fatalf("wait for the queue table: %v", err)
	}
	browserScreenshot(t, ctx, "3-queue")

	type link struct {
		Text string `json:"text"`
		Href string `json:"href"`
	}
	links, err := chromedp.Run(ctx, chromedp.Evaluate[[]link](`Array.from(
		document.querySelectorAll('table.grid tbody tr a[href^="/cases/"]'),
		a => ({text: a.textContent.trim(), href: a.getAttribute("href")}))`))
	if err != nil {
		t.Fatalf("read the queue links: %v", err)
	}
	var caseHref string
	for _, l := range links {
		if l.Text == host {
			caseHref = l.Href
		}
	}
	if caseHref == "" {
		t.Fatalf("no queue row links %s; the links are %v", host, links)
	}
	browserSubmit(t, ctx, "open the case", chromedp.CSS(`table.grid a[href="`+caseHref+`"]`))
	if p := browserPath(t, ctx); p != caseHref {
		t.Fatalf("case link led to %s, want %s", p, caseHref)
	}

	// 3. The description is shown as text, and its markup does not run.
	desc := chromedp.CSS(`#report-` + receiptID + ` .description`)
	if err := chromedp.Do(ctx, chromedp.WaitVisible(desc)); err != nil {
		t.Fatalf("wait for the report %s on the case page: %v", receiptID, err)
	}
	text, err := chromedp.Run(ctx, chromedp.Text(desc))
	if err != nil {
		t.Fatalf("read the description: %v", err)
	}
	if !strings.Contains(text, "<script>window.__xss=1</script>") || !strings.Contains(text, `<img src=x onerror="window.__xss=2">`) {
		t.Errorf("description does not show the markup as text: %q", text)
	}
	elems, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll('.description script, .description img, .description [onerror]').length`))
	if err != nil {
		t.Fatalf("count elements in the description: %v", err)
	}
	if elems != 0 {
		t.Errorf("the description holds %d script/img elements: it was rendered as HTML", elems)
	}
	xss, err := chromedp.Run(ctx, chromedp.Evaluate[string](`typeof window.__xss`))
	if err != nil {
		t.Fatalf("evaluate window.__xss: %v", err)
	}
	if xss != "undefined" {
		t.Errorf("typeof window.__xss = %q: the description's script ran", xss)
	}
	browserScreenshot(t, ctx, "4-case")

	// 4. Signing out ends the session: the queue sends the browser to sign in.
	browserSubmit(t, ctx, "sign out", `form[action="/logout"] button[type="submit"]`)
	if p := browserPath(t, ctx); !strings.HasPrefix(p, "/login") {
		t.Fatalf("signed out to %s, want /login", p)
	}
	if _, err := chromedp.Run(ctx, chromedp.NavigateResponse(base+"/queue")); err != nil {
		t.Fatalf("open /queue after signing out: %v", err)
	}
	if p := browserPath(t, ctx); !strings.HasPrefix(p, "/login") {
		t.Fatalf("/queue after signing out is at %s, want a redirect to /login", p)
	}
	if err := chromedp.Do(ctx, chromedp.WaitVisible(chromedp.ID("password"))); err != nil {
		t.Fatalf("no sign-in form after signing out: %v", err)
	}
}
