package ui_test

import (
	"bufio"
	"encoding/csv"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"github.com/dockethq/docket/audit"
	"github.com/dockethq/docket/internal/database"
	"github.com/dockethq/docket/internal/demo"
	"github.com/dockethq/docket/internal/testdb"
	"github.com/dockethq/docket/policy"
)

func init() {
	for _, p := range []string{"/audit", "/audit/cases/:id", "/audit/users/:id", "/audit/customers/:id"} {
		matrix["GET "+p] = adminOrAuditor
		if p != "/audit" {
			matrix["GET "+p+"/export.csv"] = adminOrAuditor
			matrix["GET "+p+"/export.jsonl"] = adminOrAuditor
		}
	}
}

// eventIDs are the events a timeline page lists, in its order.
func eventIDs(t *testing.T, res *response) []int64 {
	t.Helper()
	var out []int64
	res.doc(t).Find("#audit-events tr[data-event]").Each(func(_ int, s *goquery.Selection) {
		v, _ := s.Attr("data-event")
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			t.Fatalf("data-event %q", v)
		}
		out = append(out, n)
	})
	return out
}

// readAll follows a timeline's next-page links and returns every event listed.
func readAll(t *testing.T, c *client, path string) []int64 {
	t.Helper()
	var out []int64
	for range 1000 {
		res := c.get(path)
		if res.StatusCode != http.StatusOK {
			t.Fatalf("%s: %d %s", path, res.StatusCode, res.doc(t).Find(".notice").Text())
		}
		out = append(out, eventIDs(t, res)...)
		next, ok := res.doc(t).Find(`.pager a[rel="next"]`).Attr("href")
		if !ok {
			return out
		}
		path = next
	}
	t.Fatal("no last page")
	return nil
}

// exportIDs downloads a timeline's CSV and JSON Lines exports and returns the
// event ids of each, checking they agree and are attachments.
func exportIDs(t *testing.T, c *client, path, query string) []int64 {
	t.Helper()
	var got [2][]int64
	for i, f := range []string{"csv", "jsonl"} {
		res := c.get(path + "/export." + f + query)
		if res.StatusCode != http.StatusOK || !strings.HasPrefix(res.Header.Get("Content-Disposition"), "attachment;") {
			t.Fatalf("export %s: %d %q", f, res.StatusCode, res.Header.Get("Content-Disposition"))
		}
		if f == "csv" {
			rows, err := csv.NewReader(strings.NewReader(res.Body)).ReadAll()
			if err != nil || len(rows) == 0 || rows[0][0] != "id" {
				t.Fatalf("csv: %v %v", err, rows)
			}
			for _, r := range rows[1:] {
				n, _ := strconv.ParseInt(r[0], 10, 64)
				if !json.Valid([]byte(r[6])) {
					t.Errorf("csv details not JSON: %q", r[6])
				}
				got[i] = append(got[i], n)
			}
			continue
		}
		sc := bufio.NewScanner(strings.NewReader(res.Body))
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			var e struct {
				ID      int64           `json:"id"`
				Details json.RawMessage `json:"details"`
			}
			if err := json.Unmarshal(sc.Bytes(), &e); err != nil || e.ID == 0 {
				t.Fatalf("jsonl line %q: %v", sc.Text(), err)
			}
			got[i] = append(got[i], e.ID)
		}
	}
	if !slices.Equal(got[0], got[1]) {
		t.Errorf("csv %v and jsonl %v differ", got[0], got[1])
	}
	return got[0]
}

func mustID(t *testing.T, s string) int64 {
	t.Helper()
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		t.Fatalf("id %q", s)
	}
	return n
}

func userID(t *testing.T, e *env, email string) int64 {
	t.Helper()
	var id int64
	e.db.R.Table("users").Select("id").Where("email = ?", email).Scan(&id)
	if id == 0 {
		t.Fatalf("no user %s", email)
	}
	return id
}

func demoEmail(role string) string {
	for _, a := range demo.Accounts {
		if a.Role == role {
			return a.Email
		}
	}
	return ""
}

func TestAuditorTimelinesOverHTTP(t *testing.T) {
	for _, d := range testdb.Dialects {
		t.Run(string(d), func(t *testing.T) { testAuditorTimelines(t, d) })
	}
}

func testAuditorTimelines(t *testing.T, d database.Dialect) {
	e := newEnv(t, d)
	rev := e.login(policy.Reviewer)
	caseID, _, _ := restrictOverHTTP(t, e, rev)
	xss := `<img src=x onerror=alert(1)> checked the gallery`
	// Details are whatever the recording code put there: here, text someone typed.
	if err := audit.Record(e.db.W, time.Now(), "system", "case.escalate", "case", itoa(caseID), map[string]any{"reason": xss}); err != nil {
		t.Fatal(err)
	}
	if res := rev.post("/cases/"+itoa(caseID)+"/notes", url.Values{"body": {xss}}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("note: %d", res.StatusCode)
	}
	aud := e.login(policy.Auditor)

	// The entry page picks a timeline and keeps the filters.
	res := aud.get("/audit?scope=case&id=" + itoa(caseID) + "&action=case.&order=oldest")
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/audit/cases/"+itoa(caseID)+"?action=case.&order=oldest" {
		t.Errorf("pick a case: %d %q", res.StatusCode, res.Header.Get("Location"))
	}
	if res := aud.get("/audit?scope=customer&id=nobody-is-called-this"); res.StatusCode != http.StatusUnprocessableEntity {
		t.Errorf("unknown customer name: %d", res.StatusCode)
	}
	if res := aud.get("/audit"); res.StatusCode != http.StatusOK || res.doc(t).Find(`nav a[href="/audit"]`).Length() != 1 {
		t.Errorf("entry page: %d, or no nav link", res.StatusCode)
	}
	if res := rev.get("/queue"); res.doc(t).Find(`nav a[href="/audit"]`).Length() != 0 {
		t.Errorf("reviewers see the audit link")
	}

	// The case timeline has exactly the case's events, newest first, and
	// shows details escaped.
	path := "/audit/cases/" + itoa(caseID)
	var want []int64
	e.db.R.Table("audit_events").Where("object_type = 'case' AND object_id = ?", itoa(caseID)).Order("id DESC").Pluck("id", &want)
	page := aud.get(path)
	if page.StatusCode != http.StatusOK {
		t.Fatalf("case timeline: %d", page.StatusCode)
	}
	if got := eventIDs(t, page); !slices.Equal(got, want) {
		t.Errorf("case timeline %v, want %v", got, want)
	}
	if strings.Contains(page.Body, "<img src=x") || !strings.Contains(page.doc(t).Find(`tr[data-action="case.escalate"] .details dd`).Text(), xss) {
		t.Errorf("note details not shown escaped")
	}
	revID := userID(t, e, demoEmail(policy.Reviewer))
	if href, _ := page.doc(t).Find(`tr[data-action="case.claim"] .actor a`).Attr("href"); href != "/audit/users/"+itoa(revID) {
		t.Errorf("actor link %q", href)
	}

	// Small pages: no gaps, no duplicates; both orders; the export is the
	// same view whole.
	if got := readAll(t, aud, path+"?limit=2"); !slices.Equal(got, want) {
		t.Errorf("paged %v, want %v", got, want)
	}
	oldest := slices.Clone(want)
	slices.Reverse(oldest)
	if got := readAll(t, aud, path+"?limit=3&order=oldest"); !slices.Equal(got, oldest) {
		t.Errorf("paged oldest first %v, want %v", got, oldest)
	}
	if got := exportIDs(t, aud, path, "?limit=2"); !slices.Equal(got, want) {
		t.Errorf("export %v, want %v", got, want)
	}

	// An export that reaches its bound says where to continue, and the rest
	// follows from there.
	defer func(n int) { audit.ExportLimit = n }(audit.ExportLimit)
	audit.ExportLimit = 2
	res = aud.get(path + "/export.csv?order=oldest")
	rows, err := csv.NewReader(strings.NewReader(res.Body)).ReadAll()
	if err != nil || len(rows) != 4 || rows[3][3] != "export.truncated" {
		t.Fatalf("limited csv export: %v %v", err, rows)
	}
	var cont struct{ Continue string }
	if err := json.Unmarshal([]byte(rows[3][6]), &cont); err != nil || !strings.HasPrefix(cont.Continue, path+"/export.csv?") {
		t.Fatalf("continue %q: %v", rows[3][6], err)
	}
	res = aud.get(path + "/export.jsonl?order=oldest")
	if lines := strings.Split(strings.TrimSpace(res.Body), "\n"); len(lines) != 3 || !strings.Contains(lines[2], `"truncated":true`) {
		t.Errorf("limited jsonl export: %q", res.Body)
	}
	audit.ExportLimit = 1000
	rest := exportIDs(t, aud, path, strings.TrimPrefix(strings.Replace(cont.Continue, "/export.csv", "", 1), path))
	first := []int64{mustID(t, rows[1][0]), mustID(t, rows[2][0])}
	if got := append(first, rest...); !slices.Equal(got, oldest) {
		t.Errorf("export in two parts %v, want %v", got, oldest)
	}

	// Filters narrow the page and the export alike.
	var decisions []int64
	e.db.R.Table("audit_events").Where("object_type = 'case' AND object_id = ? AND action LIKE 'decision.%'", itoa(caseID)).Order("id DESC").Pluck("id", &decisions)
	var byRev []int64
	e.db.R.Table("audit_events").Where("object_type = 'case' AND object_id = ? AND actor = ?", itoa(caseID), "user:"+itoa(revID)).Order("id DESC").Pluck("id", &byRev)
	for q, want := range map[string][]int64{
		"?action=case.note":              want[:1],
		"?action=decision.":              decisions,
		"?actor=user:" + itoa(revID):     byRev,
		"?object_type=site":              nil,
		"?from=2000-01-01&to=2000-01-02": nil,
	} {
		if got := readAll(t, aud, path+q); !slices.Equal(got, want) {
			t.Errorf("%s: %v, want %v", q, got, want)
		}
		if got := exportIDs(t, aud, path, q); !slices.Equal(got, want) {
			t.Errorf("export %s: %v, want %v", q, got, want)
		}
	}
	for _, q := range []string{"?from=yesterday", "?from=2026-02-02&to=2026-02-01", "?order=sideways", "?limit=500", "?after=x"} {
		if res := aud.get(path + q); res.StatusCode != http.StatusUnprocessableEntity {
			t.Errorf("%s: %d", q, res.StatusCode)
		}
		if res := aud.get(path + "/export.csv" + q); res.StatusCode != http.StatusUnprocessableEntity {
			t.Errorf("export %s: %d", q, res.StatusCode)
		}
	}

	// A csam case: 404 to auditors and admins, who may not read the
	// restricted queue; its events stay out of the reviewer's and the
	// customer's timelines; someone who also reads the queue sees them.
	pub := e.client()
	if res := pub.post("/report", url.Values{"category": {"csam"}, "url": {"https://lumenphoto.example/x/1"}, "description": {"CSAM-MARKER"}, "good_faith": {"yes"}}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("file csam report: %d", res.StatusCode)
	}
	csam := caseIDFor(t, e, "lumenphoto.example", "csam")
	legal := e.login(policy.Legal)
	if res := legal.post("/cases/"+itoa(csam)+"/claim", nil); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("legal claims the csam case: %d", res.StatusCode)
	}
	legalID := userID(t, e, demoEmail(policy.Legal))
	var customer int64
	e.db.R.Table("cases").Select("customer_id").Where("id = ?", csam).Scan(&customer)
	adm := e.login(policy.Admin)
	both := e.addUser("auditor-legal@docket.example", policy.Auditor, policy.Legal)
	for _, c := range []*client{aud, adm} {
		for _, p := range []string{"/audit/cases/" + itoa(csam), "/audit/cases/" + itoa(csam) + "/export.csv", "/audit/cases/" + itoa(csam) + "/export.jsonl"} {
			if res := c.get(p); res.StatusCode != http.StatusNotFound || strings.Contains(res.Body, "CSAM-MARKER") {
				t.Errorf("%s: %d, want 404", p, res.StatusCode)
			}
		}
		if res := c.get("/audit?scope=case&id=" + itoa(csam)); res.StatusCode != http.StatusSeeOther {
			t.Errorf("picking the csam case: %d", res.StatusCode) // the timeline answers 404
		}
	}
	csamEvents := func(c *client, p string) int {
		n := 0
		for _, id := range append(readAll(t, c, p), exportIDs(t, c, p, "")...) {
			var obj string
			e.db.R.Table("audit_events").Select("object_type || '/' || object_id").Where("id = ?", id).Scan(&obj)
			if obj == "case/"+itoa(csam) {
				n++
			}
		}
		return n
	}
	for _, p := range []string{"/audit/users/" + itoa(legalID), "/audit/customers/" + itoa(customer)} {
		if n := csamEvents(aud, p); n != 0 {
			t.Errorf("%s shows the auditor %d events of the csam case", p, n)
		}
		if n := csamEvents(both, p); n == 0 {
			t.Errorf("%s hides the csam case from an auditor who reads the restricted queue", p)
		}
	}
	if res := both.get("/audit/cases/" + itoa(csam)); res.StatusCode != http.StatusOK {
		t.Errorf("auditor with legal: csam timeline %d", res.StatusCode)
	}

	// The user timeline has what the user did and what was done to them;
	// the customer timeline its own, its sites' and its cases' events.
	var wantUser []int64
	e.db.R.Table("audit_events").Where("(actor = ? OR (object_type = 'user' AND object_id = ?))", "user:"+itoa(revID), itoa(revID)).Order("id DESC").Pluck("id", &wantUser)
	if got := readAll(t, aud, "/audit/users/"+itoa(revID)+"?limit=7"); !slices.Equal(got, wantUser) || len(got) == 0 {
		t.Errorf("user timeline %v, want %v", got, wantUser)
	}
	var wantCust []int64
	e.db.R.Table("audit_events").Where(`(object_type = 'customer' AND object_id = ?)
		OR (object_type = 'site' AND object_id IN (SELECT CAST(id AS TEXT) FROM sites WHERE customer_id = ?))
		OR (object_type = 'case' AND object_id IN (SELECT CAST(id AS TEXT) FROM cases WHERE customer_id = ? AND category <> 'csam'))`,
		itoa(customer), customer, customer).Order("id DESC").Pluck("id", &wantCust)
	custPage := aud.get("/audit/customers/" + itoa(customer))
	if got := readAll(t, aud, "/audit/customers/"+itoa(customer)+"?limit=5"); !slices.Equal(got, wantCust) {
		t.Errorf("customer timeline %v, want %v", got, wantCust)
	}
	if custPage.doc(t).Find(`a[href="/audit/cases/`+itoa(caseID)+`"]`).Length() == 0 {
		t.Errorf("the customer timeline does not link the case's timeline")
	}
	for _, p := range []string{"/audit/users/999999", "/audit/customers/999999", "/audit/cases/999999", "/audit/cases/abc"} {
		if res := aud.get(p); res.StatusCode != http.StatusNotFound {
			t.Errorf("%s: %d", p, res.StatusCode)
		}
	}
}
