package ui_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/dockethq/docket/evidence"
	"github.com/dockethq/docket/internal/database"
)

// TestBrowserReportForm fills the report form in a real browser with
// JavaScript on: the chosen category's fields appear, the proof of work runs in
// a worker and fills the hidden field, a screenshot is uploaded, and the
// receipt page lists both addresses.
func TestBrowserReportForm(t *testing.T) {
	ctx, ready := newBrowser(t, 90*time.Second)
	e := newEnv(t, database.SQLite)
	shot := filepath.Join(t.TempDir(), "screenshot.png")
	if err := os.WriteFile(shot, pngBytes(t), 0o644); err != nil {
		t.Fatal(err)
	}
	ready()
	base := e.srv.URL

	if err := chromedp.Do(ctx,
		chromedp.Navigate(base+"/report"),
		chromedp.WaitVisible(chromedp.ID("category")),
		chromedp.SetValue(chromedp.ID("category"), "copyright"),
		chromedp.Evaluate[chromedp.Void](`document.getElementById("category").dispatchEvent(new Event("change"))`),
		chromedp.WaitVisible(chromedp.ID("detail_copyright_work")),
	); err != nil {
		t.Fatalf("choose a category: %v", err)
	}
	hidden, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.getElementById("details-phishing").hidden && !document.getElementById("details-copyright").hidden`))
	if err != nil || !hidden {
		t.Errorf("only the chosen category's fields should show (ok=%v, err=%v)", hidden, err)
	}
	if err := chromedp.Do(ctx,
		chromedp.SetValue(chromedp.ID("url"), "https://www.lumenphoto.example/stolen/1\nhttps://www.lumenphoto.example/stolen/2"),
		chromedp.SetValue(chromedp.ID("description"), "My photograph, copied without a licence."),
		chromedp.SendKeys(chromedp.ID("detail_copyright_work"), "Harbour at dawn"),
		chromedp.SendKeys(chromedp.ID("detail_copyright_holder"), "Ada Photographer"),
		chromedp.SetValue(chromedp.ID("detail_copyright_relationship"), "I am the rights holder"),
		chromedp.SendKeys(chromedp.ID("name"), "Ada Photographer"),
		chromedp.SendKeys(chromedp.ID("email"), "ada@photographer.example"),
		chromedp.Click(chromedp.ID("good_faith"), chromedp.NodeVisible),
		chromedp.SetUploadFiles(chromedp.ID("evidence"), []string{shot}),
		// The worker's answer lands in the hidden field; its status is announced.
		chromedp.Poll[chromedp.Void](`document.getElementById("pow_solution").value !== ""`),
	); err != nil {
		t.Fatalf("fill the form and wait for the check: %v", err)
	}
	status, _ := chromedp.Run(ctx, chromedp.Text(chromedp.ID("pow-status")))
	if !strings.Contains(status, "done") {
		t.Errorf("status after the check: %q", status)
	}
	browserScreenshot(t, ctx, "form-1-filled")
	browserSubmit(t, ctx, "send the report", `form[action="/report"] button[type="submit"]`)
	if err := chromedp.Do(ctx, chromedp.WaitVisible(chromedp.ID("receipt-id"))); err != nil {
		t.Fatalf("wait for the receipt: %v", err)
	}
	rows, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll("table.submission tbody tr").length`))
	if err != nil || rows != 2 {
		t.Fatalf("receipt lists %d addresses (err %v), want 2", rows, err)
	}
	browserScreenshot(t, ctx, "form-2-receipt")
	var evs []evidence.Evidence
	e.db.R.Find(&evs)
	if len(evs) != 2 || evs[0].ContentType != "image/png" || evs[0].OriginalName != "screenshot.png" {
		t.Errorf("evidence rows: %+v", evs)
	}
	var solved int64
	e.db.R.Table("form_challenges_spent").Count(&solved)
	if solved != 1 {
		t.Errorf("%d challenges spent, want 1", solved)
	}
}
