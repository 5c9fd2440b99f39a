package ui_test

import (
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/dockethq/docket/internal/database"
)

// TestBrowserTransparency opens the public transparency page in a real
// browser: the server-rendered SVG charts are there, laid out, titled and
// labelled with the same numbers as the tables; the CSV link downloads a file
// with the documented header; a period the wrong way round is refused with
// the reason beside the field.
func TestBrowserTransparency(t *testing.T) {
	ctx, ready := newBrowser(t, 60*time.Second)
	e := newEnv(t, database.SQLite)
	ready()
	base := e.srv.URL

	if err := chromedp.Do(ctx, chromedp.Navigate(base+"/"), chromedp.Click(`a[href="/transparency"]`, chromedp.NodeVisible), chromedp.WaitVisible(chromedp.ID("chart-categories"))); err != nil {
		t.Fatalf("open the transparency page from the home page: %v", err)
	}
	browserScreenshot(t, ctx, "transparency")
	titles, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll("svg.chart > title")].map(t => t.textContent)`))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"Notices received by category and channel", "Notices received by source", "Decisions by type and ground", "Decisions by automated help", "Appeals"}
	if !slices.Equal(titles, want) {
		t.Errorf("chart titles %q, want %q", titles, want)
	}
	laidOut, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`[...document.querySelectorAll("svg.chart")].every(s => {
		const r = s.getBoundingClientRect(); return r.width > 300 && r.height > 40 && s.getAttribute("role") === "img" })`))
	if err != nil || !laidOut {
		t.Errorf("charts are not laid out as images: %v %v", laidOut, err)
	}
	bars, err := chromedp.Run(ctx, chromedp.Evaluate[int](`[...document.querySelectorAll("#chart-categories rect")].filter(r => r.getBBox().width > 0).length`))
	if err != nil || bars == 0 {
		t.Errorf("the category chart draws no bars (the demo's notices are this year's): %d %v", bars, err)
	}
	// Each category's bar is labelled with its name and its total, as in the table.
	type label struct{ Name, Value, Table string }
	labels, err := chromedp.Run(ctx, chromedp.Evaluate[[]label](`[...document.querySelectorAll("#chart-categories g.bar")].map((g, i) => ({
		Name: g.querySelector("text.label").textContent,
		Value: g.querySelector("text.value").textContent,
		Table: document.querySelectorAll("#table-categories tbody tr")[i].lastElementChild.textContent }))`))
	if err != nil {
		t.Fatal(err)
	}
	if len(labels) < 10 || labels[0].Name != "Phishing or fraud" {
		t.Errorf("category labels %+v", labels)
	}
	for _, l := range labels {
		if l.Value != l.Table {
			t.Errorf("chart says %s: %s, the table %s", l.Name, l.Value, l.Table)
		}
	}

	// The CSV link downloads the figures.
	type download struct {
		Status            int
		Type, Disposition string
		Body              string
	}
	dl, err := chromedp.Run(ctx, chromedp.Evaluate[download](`fetch(document.getElementById("download-csv").href).then(async r => ({
		Status: r.status, Type: r.headers.get("Content-Type"), Disposition: r.headers.get("Content-Disposition"), Body: await r.text() }))`, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(dl.Body, "\n")
	if dl.Status != http.StatusOK || !strings.HasPrefix(dl.Type, "text/csv") || !strings.Contains(dl.Disposition, "attachment") || lines[0] != "section,key,subkey,value" {
		t.Fatalf("csv download: %d %q %q, first line %q", dl.Status, dl.Type, dl.Disposition, lines[0])
	}
	total, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector('[data-figure="notices/total/"]').dataset.value`))
	if err != nil || !slices.Contains(lines, "notices,total,,"+total) {
		t.Errorf("csv has no line notices,total,,%s (%v)", total, err)
	}
	isDownload, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.getElementById("download-csv").hasAttribute("download")`))
	if err != nil || !isDownload {
		t.Errorf("the CSV link is not a download link: %v", err)
	}

	// A period the wrong way round: 400, the reason next to the end date.
	if err := chromedp.Do(ctx, chromedp.SetValue(chromedp.ID("from"), "2026-03-01"), chromedp.SetValue(chromedp.ID("to"), "2026-02-01")); err != nil {
		t.Fatal(err)
	}
	res, err := chromedp.RunResponse(ctx, chromedp.Click(`.period-form button[type=submit]`, chromedp.NodeVisible))
	if err != nil {
		t.Fatal(err)
	}
	if res.Status != http.StatusBadRequest {
		t.Errorf("bad period: status %d, want 400", res.Status)
	}
	msg, err := chromedp.Run(ctx, chromedp.Text(chromedp.ID("to-err")))
	if err != nil || !strings.Contains(msg, "must be after the start") {
		t.Errorf("bad period message %q (%v)", msg, err)
	}
}
