package ui_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dockethq/docket/apikeys"
	"github.com/dockethq/docket/audit"
	"github.com/dockethq/docket/cases"
	"github.com/dockethq/docket/edgesim"
	"github.com/dockethq/docket/internal/database"
	"github.com/dockethq/docket/internal/demo"
	"github.com/dockethq/docket/internal/testdb"
	"github.com/dockethq/docket/notify"
	"github.com/dockethq/docket/policy"
	"github.com/dockethq/docket/reconcile"
	"github.com/dockethq/docket/ui"
	"github.com/dockethq/docket/users"
)

// edgeMatrix: every staff role reads the reconciliation; only admins re-send.
var edgeMatrix = map[string]map[string]outcome{
	"GET /edge/reconcile":         staffOnly,
	"POST /edge/reconcile/resend": adminOnly,
}

func init() {
	for k, v := range edgeMatrix {
		matrix[k] = v
	}
}

// fileCase files a public report and returns its case id.
func (e *env) fileCase(cat cases.Category, u string) int64 {
	e.t.Helper()
	r, err := e.cases.FileReport(context.Background(), cases.NewReport{Channel: cases.ChannelWeb, ReporterKind: cases.ReporterPublic, Category: cat, URL: u, Description: "Reported.", GoodFaith: true})
	if err != nil {
		e.t.Fatal(err)
	}
	return r.CaseID
}

func (e *env) userID(role string) int64 {
	e.t.Helper()
	for _, a := range demo.Accounts {
		if a.Role == role {
			var id int64
			e.db.R.Table("users").Where("email = ?", a.Email).Select("id").Scan(&id)
			return id
		}
	}
	e.t.Fatalf("no demo account for %s", role)
	return 0
}

// TestDecideGraduatedOnCasePage: the decision form offers the graduated
// actions, the reports' URLs and an expiry; a bad block re-renders with 422
// and the typed input; a good one stores the measure, its directive with the
// expiry and the lift job, and puts a strike on the customer's record.
func TestDecideGraduatedOnCasePage(t *testing.T) {
	for _, d := range testdb.Dialects {
		t.Run(string(d), func(t *testing.T) {
			e := newEnv(t, d)
			id := e.fileCase(cases.Malware, "https://lumenphoto.example/dl/setup.exe")
			c := e.login(policy.Reviewer)
			if res := c.post("/cases/"+itoa(id)+"/claim", nil); res.StatusCode != http.StatusSeeOther {
				t.Fatalf("claim: %d", res.StatusCode)
			}
			page := c.get("/cases/" + itoa(id)).doc(t)
			for _, sel := range []string{`#decide-form input[name=action][value=interstitial]`, `#decide-form input[name=action][value=block_url]`,
				`#decide-form input[name=urls][value="https://lumenphoto.example/dl/setup.exe"]`, `#decide-form select[name=lasts] option[value="24h"]`} {
				if page.Find(sel).Length() != 1 {
					t.Errorf("case page lacks %s", sel)
				}
			}
			res := c.post("/cases/"+itoa(id)+"/decide", url.Values{"action": {"block_url"}, "grounds": {"AUP 3.1 malware"}, "explanation": {"Malware download."}})
			if res.StatusCode != http.StatusUnprocessableEntity {
				t.Fatalf("block without URLs: %d", res.StatusCode)
			}
			doc := res.doc(t)
			if doc.Find(`#block-urls.invalid`).Length() != 1 || doc.Find(`#grounds`).AttrOr("value", "") != "AUP 3.1 malware" {
				t.Errorf("the refused form does not show the error or keep the input")
			}
			res = c.post("/cases/"+itoa(id)+"/decide", url.Values{"action": {"block_url"}, "grounds": {"AUP 3.1 malware"}, "explanation": {"Malware download."},
				"urls": {"https://lumenphoto.example/dl/setup.exe"}, "lasts": {"24h"}})
			if res.StatusCode != http.StatusSeeOther {
				t.Fatalf("block: %d %s", res.StatusCode, res.Body)
			}
			var dec cases.Decision
			e.db.R.Where("case_id = ?", id).Take(&dec)
			if dec.Effective() != cases.BlockURL || dec.ExpiresAt == nil || dec.ExpiresAt.Sub(*dec.FinalAt) != 24*time.Hour {
				t.Errorf("decision: %+v", dec)
			}
			var dir cases.Directive
			e.db.R.Where("decision_id = ?", dec.ID).Take(&dir)
			if dir.EdgeType() != "site.block_url" || dir.URLs != `["https://lumenphoto.example/dl/setup.exe"]` || dir.ExpiresAt == nil {
				t.Errorf("directive: %+v", dir)
			}
			var lifts int64
			e.db.R.Table("river_job").Where("kind = 'lift_expired_directive' AND state = 'scheduled'").Count(&lifts)
			if lifts != 1 {
				t.Errorf("%d lift jobs scheduled, want 1", lifts)
			}
			cp := c.get("/cases/" + itoa(id)).doc(t)
			if !strings.Contains(cp.Find(".decision").Text(), "block specific URLs") || cp.Find(".decision .expiry").Length() != 1 {
				t.Errorf("timeline: %q", cp.Find(".decision").Text())
			}
			var cust int64
			e.db.R.Table("customers").Where("name = 'Lumen Photo Co'").Select("id").Scan(&cust)
			cu := c.get("/customers/" + itoa(cust)).doc(t)
			if got := strings.TrimSpace(cu.Find("#strike-total").Text()); got != "4" || cu.Find(`#strike-ledger tr[data-case="`+itoa(id)+`"]`).Length() != 1 {
				t.Errorf("customer page strike total %q", got)
			}
		})
	}
}

// TestRepeatOffenderSuggestsTermination: past the threshold the case page and
// the sign-off brief show the ledger and the case page suggests termination;
// nothing is decided by it.
func TestRepeatOffenderSuggestsTermination(t *testing.T) {
	for _, d := range testdb.Dialects {
		t.Run(string(d), func(t *testing.T) {
			e := newEnv(t, d)
			ctx := context.Background()
			rev := cases.Actor{UserID: e.userID(policy.Reviewer), Can: func(string, string) bool { return true }}
			sp := cases.DefaultStrikePolicy
			sp.Threshold = 8
			e.cases.SetStrikePolicy(sp)
			for _, cat := range []cases.Category{cases.Phishing, cases.Malware} { // 4 points each
				id := e.fileCase(cat, "https://lumenphoto.example/"+string(cat))
				e.cases.Claim(ctx, rev, id)
				if _, _, err := e.cases.Decide(ctx, rev, id, cases.Proposal{Action: cases.Warn, Grounds: "AUP", Explanation: "Phishing."}); err != nil {
					t.Fatal(err)
				}
			}
			id := e.fileCase(cases.Harassment, "https://lumenphoto.example/c")
			var before int64
			e.db.R.Table("decisions").Count(&before)
			c := e.login(policy.Reviewer)
			page := c.get("/cases/" + itoa(id)).doc(t)
			if page.Find("#suggest-termination").Length() != 1 || strings.TrimSpace(page.Find("#strike-total").Text()) != "8" {
				t.Fatalf("no suggestion at the threshold: %q", page.Find("#strikes").Text())
			}
			var after int64
			e.db.R.Table("decisions").Count(&after)
			if after != before {
				t.Error("showing the suggestion decided something")
			}
			var st cases.State
			e.db.R.Table("cases").Where("id = ?", id).Select("state").Scan(&st)
			if st != cases.StateNew {
				t.Errorf("case state %s", st)
			}
			// Below the threshold, no banner.
			sp.Threshold = 9
			e.cases.SetStrikePolicy(sp)
			if c.get("/cases/"+itoa(id)).doc(t).Find("#suggest-termination").Length() != 0 {
				t.Error("suggestion below the threshold")
			}
			// The sign-off brief shows the ledger too.
			e.cases.Claim(ctx, rev, id)
			_, dec, err := e.cases.Decide(ctx, rev, id, cases.Proposal{Action: cases.Terminate, Grounds: "Repeat offender", Explanation: "Terminated.", Lasts: 30 * 24 * time.Hour})
			if err != nil {
				t.Fatal(err)
			}
			brief := e.login(policy.Legal).get("/signoffs/" + itoa(dec.ID)).doc(t)
			if got := brief.Find("#lasts").Text(); !strings.HasPrefix(got, "30 days from approval") {
				t.Errorf("brief expiry: %q", got)
			}
			if strings.TrimSpace(brief.Find("#strike-total").Text()) != "8" || brief.Find("#strike-ledger tbody tr").Length() != 2 {
				t.Errorf("brief ledger: %q", brief.Find("#strikes").Text())
			}
		})
	}
}

// newEdgeEnv is newEnv with a real edge-sim behind the delivery queue, the
// queue worked, and the reconciler configured. lose swaps in an empty edge.
func newEdgeEnv(t *testing.T, d database.Dialect) (*env, string, func() *edgesim.Sim, func() *edgesim.Sim) {
	t.Helper()
	sec := edgesim.NewSecret()
	var cur atomic.Pointer[edgesim.Sim]
	lose := func() *edgesim.Sim {
		s, err := edgesim.New([]string{sec})
		if err != nil {
			t.Fatal(err)
		}
		cur.Store(s)
		return s
	}
	lose()
	edge := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { cur.Load().Handler().ServeHTTP(w, r) }))
	t.Cleanup(edge.Close)
	endpoint := edge.URL + edgesim.PathDirectives

	db := testdb.Open(t, d)
	en, err := policy.NewEnforcer(db)
	if err != nil {
		t.Fatal(err)
	}
	cs := cases.NewService(db, time.Now)
	us := users.NewService(db, en, time.Now)
	if _, err := demo.Seed(context.Background(), db, us, time.Now); err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	if err := notify.Migrate(context.Background(), db); err != nil {
		t.Fatal(err)
	}
	n, err := notify.New(notify.Config{Endpoints: []string{endpoint}, Secrets: []string{sec},
		Mail: notify.MailConfig{Outbox: t.TempDir()}}, db, cs, log, time.Now) // mail stays out of the source tree
	if err != nil {
		t.Fatal(err)
	}
	if err := n.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		stop, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		n.Stop(stop)
	})
	rec := reconcile.New(reconcile.Config{Endpoints: []string{endpoint}}, db, n.Resend, time.Now)
	s, err := ui.New(ui.Config{Replay: n.Replay, Reconciler: rec}, db, cs, us, en, log, time.Now)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(s.Handler())
	t.Cleanup(srv.Close)
	e := &env{t: t, db: db, srv: srv, ui: s, cases: cs, users: us, keys: apikeys.NewService(db, en, time.Now)}
	return e, endpoint, func() *edgesim.Sim { return cur.Load() }, lose
}

// TestReconcilePageFindsDriftAndResends: an edge that lost its state shows as
// drift on the page (auditors read, without the button); an admin's re-send
// repairs it at the edge and is audited.
func TestReconcilePageFindsDriftAndResends(t *testing.T) {
	for _, d := range testdb.Dialects {
		t.Run(string(d), func(t *testing.T) {
			e, endpoint, sim, lose := newEdgeEnv(t, d)
			ctx := context.Background()
			rev := cases.Actor{UserID: e.userID(policy.Reviewer), Can: func(string, string) bool { return true }}
			id := e.fileCase(cases.Phishing, "https://lumenphoto.example/login")
			e.cases.Claim(ctx, rev, id)
			if _, _, err := e.cases.Decide(ctx, rev, id, cases.Proposal{Action: cases.Interstitial, Grounds: "AUP", Explanation: "Phishing."}); err != nil {
				t.Fatal(err)
			}
			wait := func(host string, v int64) {
				t.Helper()
				wctx, cancel := context.WithTimeout(ctx, 20*time.Second)
				defer cancel()
				if err := sim().WaitFor(wctx, host, v); err != nil {
					t.Fatal(err)
				}
			}
			wait("lumenphoto.example", 1)
			row := `section[data-target="` + endpoint + `"] tr[data-host="lumenphoto.example"]`
			admin := e.login(policy.Admin)
			if admin.get("/edge/reconcile").doc(t).Find(row).Length() != 0 {
				t.Error("drift listed while the edge is in step")
			}
			lose()
			aud := e.login(policy.Auditor).get("/edge/reconcile")
			doc := aud.doc(t)
			if aud.StatusCode != http.StatusOK || doc.Find(row+`[data-kind="missing"]`).Length() != 1 || doc.Find(`form[action="/edge/reconcile/resend"]`).Length() != 0 {
				t.Fatalf("auditor's view: %d\n%s", aud.StatusCode, doc.Find("main").Text())
			}
			page := admin.get("/edge/reconcile").doc(t)
			if page.Find(row+` form[action="/edge/reconcile/resend"] button`).Length() != 1 {
				t.Fatal("admin has no re-send button on the drift row")
			}
			res := admin.post("/edge/reconcile/resend", url.Values{"target": {endpoint}, "hostname": {"lumenphoto.example"}})
			if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/edge/reconcile" {
				t.Fatalf("resend: %d", res.StatusCode)
			}
			wait("lumenphoto.example", 1)
			if st, _ := sim().Host("lumenphoto.example"); st.Type != edgesim.TypeInterstitial {
				t.Errorf("repaired state: %+v", st)
			}
			var n int64
			e.db.R.Model(&audit.Event{}).Where("action = 'directive.resent' AND actor = ?", "user:"+itoa(e.userID(policy.Admin))).Count(&n)
			if n != 1 {
				t.Errorf("%d resend audit events, want 1", n)
			}
			// A target that is not configured is refused.
			if res := admin.post("/edge/reconcile/resend", url.Values{"target": {"http://elsewhere.example/"}}); res.StatusCode != http.StatusNotFound {
				t.Errorf("unknown target: %d", res.StatusCode)
			}
		})
	}
}

// TestAPIDecideBlockURL: the JSON API takes the graduated fields and answers
// with the action as chosen and its expiry.
func TestAPIDecideBlockURL(t *testing.T) {
	e := newEnv(t, database.SQLite)
	id := e.fileCase(cases.Malware, "https://lumenphoto.example/dl/x.exe")
	c := e.login(policy.Reviewer)
	if res := c.apiPost("/api/v1/cases/"+itoa(id)+"/claim", ""); res.StatusCode != http.StatusOK {
		t.Fatalf("claim: %d %s", res.StatusCode, res.Body)
	}
	res := c.apiPost("/api/v1/cases/"+itoa(id)+"/decide", `{"action":"block_url","grounds":"AUP 3","explanation":"Malware.","urls":["https://lumenphoto.example/dl/x.exe"],"lasts_seconds":3600}`)
	if res.StatusCode != http.StatusOK || !strings.Contains(res.Body, `"action":"block_url"`) || !strings.Contains(res.Body, `"urls":["https://lumenphoto.example/dl/x.exe"]`) || !strings.Contains(res.Body, `"expires_at":`) {
		t.Fatalf("decide: %d %s", res.StatusCode, res.Body)
	}
	id2 := e.fileCase(cases.Phishing, "https://lumenphoto.example/login")
	c.apiPost("/api/v1/cases/"+itoa(id2)+"/claim", "")
	res = c.apiPost("/api/v1/cases/"+itoa(id2)+"/decide", `{"action":"interstitial","grounds":"AUP","explanation":"Phishing.","lasts_seconds":9223372036854775807}`)
	if res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(res.Body, `"lasts"`) {
		t.Errorf("overlong expiry: %d %s", res.StatusCode, res.Body)
	}
}
