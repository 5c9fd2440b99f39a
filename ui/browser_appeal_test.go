package ui_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/dockethq/docket/cases"
	"github.com/dockethq/docket/edgesim"
	"github.com/dockethq/docket/internal/database"
	"github.com/dockethq/docket/internal/demo"
	"github.com/dockethq/docket/internal/testdb"
	"github.com/dockethq/docket/notify"
	"github.com/dockethq/docket/policy"
	"github.com/dockethq/docket/ui"
	"github.com/dockethq/docket/users"
)

// newAppealEdgeEnv is newEnv with deliveries worked, to a real edge-sim over HTTP,
// and notices whose links point at this server.
func newAppealEdgeEnv(t *testing.T, d database.Dialect) (*env, *edgesim.Sim, string) {
	t.Helper()
	ctx := context.Background()
	db := testdb.Open(t, d)
	en, err := policy.NewEnforcer(db)
	if err != nil {
		t.Fatal(err)
	}
	cs := cases.NewService(db, time.Now)
	us := users.NewService(db, en, time.Now)
	if _, err := demo.Seed(ctx, db, us, time.Now); err != nil {
		t.Fatal(err)
	}
	if err := notify.Migrate(ctx, db); err != nil {
		t.Fatal(err)
	}
	sec := edgesim.NewSecret()
	sim, err := edgesim.New([]string{sec})
	if err != nil {
		t.Fatal(err)
	}
	edge := httptest.NewServer(sim.Handler())
	t.Cleanup(edge.Close)
	var h http.Handler = http.NotFoundHandler()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { h.ServeHTTP(w, r) }))
	t.Cleanup(srv.Close)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	n, err := notify.New(notify.Config{Endpoints: []string{edge.URL + edgesim.PathDirectives}, Secrets: []string{sec},
		Mail: notify.MailConfig{Outbox: t.TempDir(), BaseURL: srv.URL}}, db, cs, log, time.Now)
	if err != nil {
		t.Fatal(err)
	}
	if err := n.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		stop, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		n.Stop(stop)
	})
	s, err := ui.New(ui.Config{Replay: n.Replay}, db, cs, us, en, log, time.Now)
	if err != nil {
		t.Fatal(err)
	}
	h = s.Handler()
	return &env{t: t, db: db, srv: srv, ui: s, cases: cs, users: us}, sim, edge.URL
}

func edgeStatus(t *testing.T, edgeURL, host string) int {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, edgeURL+"/", nil)
	req.Host = host
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	return res.StatusCode
}

// TestBrowserAppeal: a reviewer restricts a site and edge-sim serves it as
// restricted; the customer opens the appeal link from their notice of action
// and appeals; a different reviewer reverses the decision; the site serves
// again in edge-sim, and the customer's page shows the outcome.
func TestBrowserAppeal(t *testing.T) {
	ctx, ready := newBrowser(t, 90*time.Second)
	e, sim, edgeURL := newAppealEdgeEnv(t, database.SQLite)
	ready()
	base := e.srv.URL
	caseID, did, _ := restrictOverHTTP(t, e, e.login(policy.Reviewer))
	wait, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := sim.WaitFor(wait, "lumenphoto.example", 1); err != nil {
		t.Fatal(err)
	}
	if code := edgeStatus(t, edgeURL, "lumenphoto.example"); code != http.StatusForbidden {
		t.Fatalf("restricted site answers %d", code)
	}

	// The customer's notice of action carries the link.
	var body string
	e.db.R.Table("notices").Select("body").Where("kind = ? AND case_id = ?", notify.KindCustomerAction, caseID).Scan(&body)
	link := regexp.MustCompile(regexp.QuoteMeta(base) + `/appeal/[A-Za-z0-9_.-]+`).FindString(body)
	if link == "" {
		t.Fatalf("no appeal link in the customer's notice:\n%s", body)
	}
	grounds := "We hold a licence from the agency, dated March 2026; copy attached on request."
	if err := chromedp.Do(ctx, chromedp.Navigate(link), chromedp.WaitVisible(chromedp.ID("appeal-grounds"))); err != nil {
		t.Fatalf("open the appeal link: %v", err)
	}
	if got := browserText(t, ctx, "#appeal-reasons"); !strings.Contains(got, "without a licence") {
		t.Errorf("statement of reasons = %q", got)
	}
	browserScreenshot(t, ctx, "appeal-1-customer")
	if err := chromedp.Do(ctx, chromedp.SetValue(chromedp.ID("appeal-grounds"), grounds)); err != nil {
		t.Fatal(err)
	}
	browserSubmit(t, ctx, "submit the appeal", `#appeal-form button[type="submit"]`)
	if got := browserText(t, ctx, ".notice.ok"); !strings.Contains(got, "Your appeal has been received") {
		t.Errorf("flash = %q", got)
	}
	if got := browserText(t, ctx, "#appeal-state"); !strings.Contains(got, "open") {
		t.Errorf("appeal state = %q", got)
	}

	// A senior reviewer, who did not decide, reverses it.
	tab, cancelTab := chromedp.NewContext(ctx, chromedp.WithNewBrowserContext())
	defer cancelTab()
	browserLogin(t, tab, base, "senior@docket.example")
	if got := browserText(t, tab, `nav.rail a[href="/appeals"] .badge`); got != "1" {
		t.Errorf("appeals badge = %q", got)
	}
	browserSubmit(t, tab, "open the appeals queue", `nav.rail a[href="/appeals"]`)
	var apID int64
	e.db.R.Table("appeals").Select("id").Where("decision_id = ?", did).Scan(&apID)
	browserSubmit(t, tab, "open the appeal", chromedp.CSS(`#appeals a[href="/appeals/`+itoa(apID)+`"]`))
	if got := browserText(t, tab, "#appeal-thread"); !strings.Contains(got, grounds) {
		t.Errorf("thread = %q", got)
	}
	if err := chromedp.Do(tab, chromedp.SetValue(chromedp.ID("appeal-outcome"), "The licence is genuine; the restriction is lifted.")); err != nil {
		t.Fatal(err)
	}
	browserScreenshot(t, tab, "appeal-2-reviewer")
	browserSubmit(t, tab, "reverse", "#appeal-reverse")
	if got := browserText(t, tab, ".notice.ok"); !strings.Contains(got, "Appeal granted") {
		t.Errorf("flash = %q", got)
	}
	if err := sim.WaitFor(wait, "lumenphoto.example", 2); err != nil {
		t.Fatalf("the edge never applied the reinstatement: %v", err)
	}
	if code := edgeStatus(t, edgeURL, "lumenphoto.example"); code != http.StatusOK {
		t.Errorf("reinstated site answers %d", code)
	}

	// The customer sees the outcome behind the same link.
	if err := chromedp.Do(ctx, chromedp.Navigate(link), chromedp.WaitVisible(chromedp.ID("appeal-outcome"))); err != nil {
		t.Fatal(err)
	}
	if got := browserText(t, ctx, "#appeal-outcome"); !strings.Contains(got, "restriction is lifted") {
		t.Errorf("outcome = %q", got)
	}
}
