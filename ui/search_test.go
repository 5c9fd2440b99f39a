package ui_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"github.com/dockethq/docket/cases"
	"github.com/dockethq/docket/internal/database"
	"github.com/dockethq/docket/internal/demo"
	"github.com/dockethq/docket/internal/testdb"
	"github.com/dockethq/docket/policy"
)

// resultIDs lists the case ids in a search page's results table, in order.
func resultIDs(t *testing.T, r *response) []int64 {
	t.Helper()
	var ids []int64
	r.doc(t).Find(`#results tr[data-case]`).Each(func(_ int, s *goquery.Selection) {
		id, err := strconv.ParseInt(s.AttrOr("data-case", ""), 10, 64)
		if err != nil {
			t.Fatalf("bad data-case %q", s.AttrOr("data-case", ""))
		}
		ids = append(ids, id)
	})
	return ids
}

// caseID finds one case by category and hostname.
func (e *env) caseID(cat cases.Category, host string) int64 {
	e.t.Helper()
	var id int64
	if err := e.db.R.Table("cases").Select("id").Where("category = ? AND hostname = ?", cat, host).Order("id").Limit(1).Scan(&id).Error; err != nil || id == 0 {
		e.t.Fatalf("no %s case on %s: %v", cat, host, err)
	}
	return id
}

func (e *env) customerID(name string) int64 {
	e.t.Helper()
	var id int64
	if err := e.db.R.Table("customers").Select("id").Where("name = ?", name).Scan(&id).Error; err != nil || id == 0 {
		e.t.Fatalf("no customer %q: %v", name, err)
	}
	return id
}

func TestSearchFilters(t *testing.T) {
	for _, d := range testdb.Dialects {
		t.Run(string(d), func(t *testing.T) { testSearchFilters(t, d) })
	}
}

func testSearchFilters(t *testing.T, d database.Dialect) {
	e := newEnv(t, d)
	c := e.login(policy.Reviewer)
	ve := e.caseID(cases.ViolentExtremism, "yardboard.example")
	threat := e.caseID(cases.Threat, "www.yardboard.example")
	copyright := e.caseID(cases.Copyright, "lumenphoto.example")
	oldSpam := e.caseID(cases.Spam, "cheap-pills-now.example")

	get := func(q string) []int64 {
		t.Helper()
		res := c.get("/search?" + q)
		if res.StatusCode != http.StatusOK {
			t.Fatalf("/search?%s: %d\n%s", q, res.StatusCode, res.Body)
		}
		return resultIDs(t, res)
	}
	only := func(q string, want ...int64) {
		t.Helper()
		got := get(q)
		slices.Sort(got)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Errorf("/search?%s: cases %v, want %v", q, got, want)
		}
	}

	// No filter: every open case the reviewer may read.
	if n := len(get("")); n < 6 {
		t.Errorf("unfiltered search lists %d cases", n)
	}
	// A host finds its cases and those of its subdomains; a pasted URL means its host.
	only("host=yardboard.example", ve, threat)
	only("host=YARDBOARD.example.", ve, threat)
	only("host="+url.QueryEscape("https://www.yardboard.example/pol/thread/1"), threat)
	only("category=copyright", copyright)
	only("category=violent_extremism&host=yardboard.example", ve)
	// Words in a description, and the reporter's name, case-insensitively.
	only("q=manifesto", ve)
	only("q=MANIFESTO&category=threat")
	only("reporter=Counter-Extremism", ve)
	only("reporter=counter-extremism+referral", ve)
	// A reporter's exact email only for those who may read reporter contacts:
	// otherwise a search would confirm who reported what.
	if _, err := e.cases.FileReport(context.Background(), cases.NewReport{Channel: cases.ChannelWeb, ReporterKind: cases.ReporterPublic,
		ReporterEmail: "whistle@reporter.example", Category: cases.Copyright, URL: "https://lumenphoto.example/x", Description: "Mine.", GoodFaith: true}); err != nil {
		t.Fatal(err)
	}
	only("reporter=whistle%40reporter.example")
	senior := e.login(policy.SeniorReviewer)
	if got := resultIDs(t, senior.get("/search?reporter=Whistle%40Reporter.example")); !slices.Equal(got, []int64{copyright}) {
		t.Errorf("senior reviewer searching by reporter email: %v, want [%d]", got, copyright)
	}
	// The customer, by name or by number.
	only("customer=yardboard", ve, threat)
	only("customer="+itoa(e.customerID("Lumen Photo Co")), copyright)
	// Dates: the old spam case was opened nine days ago; "to" includes its whole day.
	day := func(ago time.Duration) string { return time.Now().UTC().Add(-ago).Format(time.DateOnly) }
	if got := get("category=spam&to=" + day(9*24*time.Hour)); !slices.Equal(got, []int64{oldSpam}) {
		t.Errorf("spam up to nine days ago: %v, want [%d]", got, oldSpam)
	}
	if got := get("category=spam&from=" + day(0)); slices.Contains(got, oldSpam) {
		t.Errorf("spam from today lists the nine-day-old case")
	}
	// States: closed cases are found with state=closed or all, not by default.
	r := e.reviewerActor(policy.Reviewer)
	if _, err := e.cases.Close(context.Background(), r, oldSpam, "spam flood"); err != nil {
		t.Fatal(err)
	}
	if slices.Contains(get("category=spam"), oldSpam) {
		t.Errorf("a closed case is listed among open cases")
	}
	only("category=spam&state=closed", oldSpam)
	if !slices.Contains(get("category=spam&state=all"), oldSpam) {
		t.Errorf("state=all does not list the closed case")
	}

	// The form keeps what was typed, so a search can be refined and shared.
	res := c.get("/search?host=yardboard.example&q=manifesto&category=violent_extremism&sort=sla")
	doc := res.doc(t)
	if doc.Find(`#f-host`).AttrOr("value", "") != "yardboard.example" || doc.Find(`#f-q`).AttrOr("value", "") != "manifesto" ||
		doc.Find(`#f-category option[selected]`).AttrOr("value", "") != "violent_extremism" || doc.Find(`#f-sort option[selected]`).AttrOr("value", "") != "sla" {
		t.Errorf("search form does not keep the filter")
	}
	if doc.Find(`#f-queue option[value=restricted]`).Length() != 0 {
		t.Errorf("a reviewer is offered the restricted queue")
	}
	if doc.Find(`#results a[href="/customers/`+itoa(e.customerID("Yardboard LLC"))+`"]`).Length() == 0 {
		t.Errorf("results do not link to the customer")
	}
}

// reviewerActor returns an actor for the demo account of role who may do anything
// the service asks about.
func (e *env) reviewerActor(role string) cases.Actor {
	e.t.Helper()
	for _, a := range demo.Accounts {
		if a.Role == role {
			u, err := e.users.ByEmail(context.Background(), a.Email)
			if err != nil {
				e.t.Fatal(err)
			}
			return cases.Actor{UserID: u.ID, Can: func(string, string) bool { return true }}
		}
	}
	e.t.Fatalf("no demo account for %s", role)
	return cases.Actor{}
}

func TestSearchBadInput(t *testing.T) {
	for _, d := range testdb.Dialects {
		t.Run(string(d), func(t *testing.T) {
			e := newEnv(t, d)
			c := e.login(policy.Reviewer)
			tests := []struct{ query, field string }{
				{"from=2024-13-01", "from"},
				{"to=yesterday", "to"},
				{"from=2024-05-02&to=2024-05-01", "to"},
				{"category=nope", "category"},
				{"state=sleeping", "state"},
				{"sort=random", "sort"},
				{"host=" + url.QueryEscape("not a host!"), "host"},
				{"host=%FF", "host"},
				{"q=%FF%FE", "q"},
				{"reporter=a%00b", "reporter"},
				{"q=" + strings.Repeat("x", 201), "q"},
				{"customer=nobody-has-this-name", "customer"},
				{"customer=-3", "customer"},
				{"queue=restricted", "queue"},
				{"queue=nonexistent", "queue"},
				{"limit=0", "limit"},
			}
			for _, tc := range tests {
				res := c.get("/search?" + tc.query)
				if res.StatusCode != http.StatusUnprocessableEntity {
					t.Errorf("%s: status %d, want 422", tc.query, res.StatusCode)
					continue
				}
				doc := res.doc(t)
				if doc.Find(`#e-`+tc.field+`, .field-error`).Length() == 0 || doc.Find(`#results tr[data-case]`).Length() != 0 {
					t.Errorf("%s: no field error for %s, or results shown", tc.query, tc.field)
				}
				if tc.field != "limit" && doc.Find(`#e-`+tc.field).Length() != 1 {
					t.Errorf("%s: no error under the %s field", tc.query, tc.field)
				}
			}
			// A mangled cursor: a clear message, never a 500.
			for _, after := range []string{"garbage", "eyJpIjowfQ", "%FF", "eyJpIjoiMSJ9", "eyJyIjoxLCJ0IjoibiIsImkiOjF9"} {
				res := c.get("/search?after=" + after)
				if res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(res.Body, "page link is not valid") {
					t.Errorf("after=%s: status %d, want 422 with a message", after, res.StatusCode)
				}
			}
		})
	}
}

// TestSearchPagination walks every page of a search while new reports arrive:
// each case that existed when the walk began is listed exactly once.
func TestSearchPagination(t *testing.T) {
	for _, d := range testdb.Dialects {
		t.Run(string(d), func(t *testing.T) {
			e := newEnv(t, d)
			ctx := context.Background()
			file := func(host string) {
				t.Helper()
				_, err := e.cases.FileReport(ctx, cases.NewReport{Channel: cases.ChannelWeb, ReporterKind: cases.ReporterPublic, Category: cases.Spam,
					URL: "https://" + host + "/offer", Description: "x", GoodFaith: true})
				if err != nil {
					t.Fatal(err)
				}
			}
			for i := range 30 {
				e.serve(fmt.Sprintf("spam-%02d.example", i))
				file(fmt.Sprintf("spam-%02d.example", i))
			}
			var want []int64
			e.db.R.Table("cases").Where("category = 'spam' AND state <> 'closed'").Pluck("id", &want)
			if len(want) < 32 {
				t.Fatalf("%d spam cases, want 30 plus the demo's", len(want))
			}

			c := e.login(policy.Reviewer)
			seen := map[int64]int{}
			next, pages := "/search?category=spam&sort=newest&limit=7", 0
			for next != "" {
				pages++
				if pages > 20 {
					t.Fatal("pagination does not end")
				}
				res := c.get(next)
				if res.StatusCode != http.StatusOK {
					t.Fatalf("GET %s: %d\n%s", next, res.StatusCode, res.Body)
				}
				ids := resultIDs(t, res)
				if len(ids) == 0 || len(ids) > 7 {
					t.Fatalf("page %d has %d cases", pages, len(ids))
				}
				for _, id := range ids {
					seen[id]++
				}
				next = res.doc(t).Find(`a[rel=next]`).AttrOr("href", "")
				if next != "" {
					u, err := url.Parse(next)
					if err != nil || u.Path != "/search" || u.Query().Get("category") != "spam" || u.Query().Get("sort") != "newest" || u.Query().Get("limit") != "7" || u.Query().Get("after") == "" {
						t.Fatalf("next link %q does not carry the filter and cursor", next)
					}
				}
				// Meanwhile: a new case (newer than the walk) and another report on a
				// case already listed.
				file(fmt.Sprintf("late-%02d.example", pages))
				file(fmt.Sprintf("spam-%02d.example", 29-pages))
			}
			if pages != 5 {
				t.Errorf("walked %d pages of 7, want 5 for %d cases", pages, len(want))
			}
			for _, id := range want {
				if seen[id] != 1 {
					t.Errorf("case %d listed %d times", id, seen[id])
				}
			}
			for id, n := range seen {
				if n != 1 {
					t.Errorf("case %d listed %d times", id, n)
				}
			}
		})
	}
}

// TestSearchRestricted checks that a csam case shows nowhere in search or on the
// customer page for anyone but legal, whatever the filter.
func TestSearchRestricted(t *testing.T) {
	e := newEnv(t, database.SQLite)
	res := e.client().post("/report", url.Values{"category": {"csam"}, "url": {"https://yardboard.example/x/1"}, "description": {"CSAM-RESTRICTED-MARKER"}, "good_faith": {"yes"}})
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("file csam report: %d", res.StatusCode)
	}
	csam := e.caseID(cases.CSAM, "yardboard.example")
	// A decision on it, so the customer's decision history has a restricted entry.
	legal := e.reviewerActor(policy.Legal)
	ctx := context.Background()
	if _, err := e.cases.Claim(ctx, legal, csam); err != nil {
		t.Fatal(err)
	}
	if _, _, err := e.cases.Decide(ctx, legal, csam, cases.Proposal{Action: cases.Restrict, Grounds: "RESTRICTED-GROUNDS", Explanation: "Removed."}); err != nil {
		t.Fatal(err)
	}
	yard := itoa(e.customerID("Yardboard LLC"))
	link := `a[href="/cases/` + itoa(csam) + `"]`
	for _, role := range []string{policy.Reviewer, policy.SeniorReviewer, policy.Legal, policy.Leadership, policy.Admin, policy.Auditor} {
		c := e.login(role)
		want := role == policy.Legal
		for _, q := range []string{"state=all", "category=csam&state=all", "q=CSAM-RESTRICTED-MARKER&state=all", "host=yardboard.example&state=all", "customer=" + yard + "&state=all&sort=newest"} {
			res := c.get("/search?" + q)
			if res.StatusCode != http.StatusOK {
				t.Errorf("%s /search?%s: %d", role, q, res.StatusCode)
				continue
			}
			if got := res.doc(t).Find(link).Length() > 0; got != want {
				t.Errorf("%s /search?%s lists the csam case: %v, want %v", role, q, got, want)
			}
		}
		res := c.get("/search?queue=restricted&state=all")
		if want != (res.StatusCode == http.StatusOK) || (!want && res.doc(t).Find(link).Length() > 0) {
			t.Errorf("%s /search?queue=restricted: %d", role, res.StatusCode)
		}
		cp := c.get("/customers/" + yard)
		doc := cp.doc(t)
		if cp.StatusCode != http.StatusOK {
			t.Fatalf("%s customer page: %d", role, cp.StatusCode)
		}
		shown := doc.Find(link).Length() > 0 || strings.Contains(cp.Body, "RESTRICTED-GROUNDS")
		if shown != want {
			t.Errorf("%s: customer page shows the csam case or its decision: %v, want %v", role, shown, want)
		}
		actions, decided := "0", "0"
		if want {
			actions, decided = "1", "1"
		}
		if got := strings.TrimSpace(doc.Find("#count-actions").Text()); got != actions {
			t.Errorf("%s: actions taken %s, want %s", role, got, actions)
		}
		if got := strings.TrimSpace(doc.Find("#count-decided").Text()); got != decided {
			t.Errorf("%s: decided %s, want %s", role, got, decided)
		}
	}
}

func TestCustomerPage(t *testing.T) {
	for _, d := range testdb.Dialects {
		t.Run(string(d), func(t *testing.T) {
			e := newEnv(t, d)
			c := e.login(policy.Reviewer)
			id := itoa(e.customerID("Yardboard LLC"))
			ve := e.caseID(cases.ViolentExtremism, "yardboard.example")
			threat := e.caseID(cases.Threat, "www.yardboard.example")

			res := c.get("/customers/" + id)
			if res.StatusCode != http.StatusOK {
				t.Fatalf("customer page: %d\n%s", res.StatusCode, res.Body)
			}
			doc := res.doc(t)
			if h := doc.Find("h1").Text(); h != "Yardboard LLC" {
				t.Errorf("heading %q", h)
			}
			for _, s := range []string{"free", "admin@yardboard.example"} {
				if !strings.Contains(doc.Find(".facts").Text(), s) {
					t.Errorf("customer facts lack %q", s)
				}
			}
			var sites []string
			doc.Find("#customer-sites li").Each(func(_ int, s *goquery.Selection) { sites = append(sites, strings.TrimSpace(s.Text())) })
			if !slices.Equal(sites, []string{"media.yardboard.example", "www.yardboard.example", "yardboard.example"}) {
				t.Errorf("sites %v", sites)
			}
			if href := doc.Find("#customer-sites a").Last().AttrOr("href", ""); href != "/search?state=all&host=yardboard.example" {
				t.Errorf("site link %q", href)
			} else if ids := resultIDs(t, c.get(href)); !slices.Equal(ids, []int64{ve, threat}) {
				t.Errorf("site link lists %v, want [%d %d]", ids, ve, threat)
			}
			var listed []int64
			doc.Find("#customer-cases tr[data-case]").Each(func(_ int, s *goquery.Selection) {
				n, _ := strconv.ParseInt(s.AttrOr("data-case", ""), 10, 64)
				listed = append(listed, n)
			})
			// Newest first: the threat report (5 h ago) opened after the forum case (14 h ago).
			if !slices.Equal(listed, []int64{threat, ve}) {
				t.Errorf("cases %v, want [%d %d]", listed, threat, ve)
			}
			if got := strings.TrimSpace(doc.Find("#count-open").Text()); got != "2" {
				t.Errorf("open cases %s, want 2", got)
			}
			if doc.Find("#customer-decisions").Length() != 0 {
				t.Errorf("decisions shown before any were made")
			}

			// A warning on the threat case appears in the history and the counts.
			ctx := context.Background()
			r := e.reviewerActor(policy.Reviewer)
			if _, err := e.cases.Claim(ctx, r, threat); err != nil {
				t.Fatal(err)
			}
			if _, _, err := e.cases.Decide(ctx, r, threat, cases.Proposal{Action: cases.Warn, Grounds: "AUP 3.1 threats", Explanation: "Remove the thread."}); err != nil {
				t.Fatal(err)
			}
			doc = c.get("/customers/" + id).doc(t)
			row := doc.Find("#customer-decisions tbody tr")
			if row.Length() != 1 || !strings.Contains(row.Text(), "warn") || !strings.Contains(row.Text(), "AUP 3.1 threats") || row.Find(`a[href="/cases/`+itoa(threat)+`"]`).Length() != 1 {
				t.Errorf("decision history: %q", row.Text())
			}
			for sel, want := range map[string]string{"#count-open": "1", "#count-decided": "1", "#count-actions": "1"} {
				if got := strings.TrimSpace(doc.Find(sel).Text()); got != want {
					t.Errorf("%s = %s, want %s", sel, got, want)
				}
			}
			// The decided case is still listed: the page shows every state.
			if doc.Find(`#customer-cases a[href="/cases/`+itoa(threat)+`"]`).Length() != 1 {
				t.Errorf("decided case not listed")
			}

			for _, bad := range []string{"/customers/999999", "/customers/abc", "/customers/0"} {
				if res := c.get(bad); res.StatusCode != http.StatusNotFound {
					t.Errorf("%s: %d, want 404", bad, res.StatusCode)
				}
			}
			if res := c.get("/customers/" + id + "?after=garbage"); res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(res.Body, "page link is not valid") {
				t.Errorf("customer page with a bad cursor: %d", res.StatusCode)
			}
		})
	}
}

// TestCustomerPagePagination pages through a customer with many cases.
func TestCustomerPagePagination(t *testing.T) {
	e := newEnv(t, database.SQLite)
	ctx := context.Background()
	cust, _, err := e.cases.AddCustomer(ctx, "test", cases.Customer{Name: "Many Sites Ltd"}, func() []string {
		var h []string
		for i := range 55 {
			h = append(h, fmt.Sprintf("site-%02d.many.example", i))
		}
		return h
	}()...)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 55 {
		if _, err := e.cases.FileReport(ctx, cases.NewReport{Channel: cases.ChannelWeb, ReporterKind: cases.ReporterPublic, Category: cases.Spam,
			URL: fmt.Sprintf("https://site-%02d.many.example/", i), Description: "x", GoodFaith: true}); err != nil {
			t.Fatal(err)
		}
	}
	c := e.login(policy.Reviewer)
	seen := map[string]bool{}
	next, pages := "/customers/"+itoa(cust.ID), 0
	for next != "" && pages < 5 {
		pages++
		doc := c.get(next).doc(t)
		doc.Find("#customer-cases tr[data-case]").Each(func(_ int, s *goquery.Selection) { seen[s.AttrOr("data-case", "")] = true })
		next = doc.Find(`a[rel=next]`).AttrOr("href", "")
	}
	if pages != 2 || len(seen) != 55 {
		t.Errorf("%d pages, %d distinct cases; want 2 and 55", pages, len(seen))
	}
}
