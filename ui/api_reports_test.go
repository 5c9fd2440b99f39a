package ui_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/dockethq/docket/internal/database"
	"github.com/dockethq/docket/internal/testdb"
	"github.com/dockethq/docket/policy"
)

type reportsResult struct {
	Results []struct {
		Index   int               `json:"index"`
		Receipt string            `json:"receipt"`
		Error   string            `json:"error"`
		Fields  map[string]string `json:"fields"`
	} `json:"results"`
}

type reportOut struct {
	Receipt    string `json:"receipt"`
	Category   string `json:"category"`
	URL        string `json:"url"`
	ReceivedAt string `json:"received_at"`
	Status     string `json:"status"`
}

func decodeJSON(t *testing.T, res *response, v any) {
	t.Helper()
	if err := json.Unmarshal([]byte(res.Body), v); err != nil {
		t.Fatalf("status %d body %q: %v", res.StatusCode, res.Body, err)
	}
}

func TestFlaggerReportsAPI(t *testing.T) {
	for _, d := range testdb.Dialects {
		t.Run(string(d), func(t *testing.T) { testFlaggerReportsAPI(t, d) })
	}
}

func testFlaggerReportsAPI(t *testing.T, d database.Dialect) {
	e := newEnv(t, d)
	key := e.issueKey("Referral Unit", "desk@referral.example")
	countReports := func() int64 {
		var n int64
		e.db.R.Table("reports").Count(&n)
		return n
	}

	// One report: 201 with its receipt; the case is marked as a flagger's and
	// routed to the priority queue by the demo's routing rule.
	e.serve("quietharbor.example")
	res := e.bearer(key, "POST", "/api/v1/reports", `{"category":"malware","url":"https://quietharbor.example/dl/setup.exe","description":"Serves a trojan.","reference":"REF-1"}`)
	if res.StatusCode != http.StatusCreated {
		t.Fatalf("one report: %d %s", res.StatusCode, res.Body)
	}
	var one reportOut
	decodeJSON(t, res, &one)
	if one.Receipt == "" || one.Category != "malware" || one.Status == "" || one.ReceivedAt == "" {
		t.Fatalf("one report: %s", res.Body)
	}
	var c struct {
		FlaggerReportCount int
		Queue              string
		Channel            string
		Kind               string
		Description        string
	}
	e.db.R.Table("reports").
		Select("cases.flagger_report_count, cases.queue, reports.channel, reporters.kind, reports.description").
		Joins("JOIN cases ON cases.id = reports.case_id").Joins("JOIN reporters ON reporters.id = reports.reporter_id").
		Where("reports.public_id = ?", one.Receipt).Scan(&c)
	if c.FlaggerReportCount < 1 || c.Queue != "priority" || c.Channel != "api" || c.Kind != "trusted_flagger" || !strings.Contains(c.Description, "REF-1") {
		t.Fatalf("filed report's case: %+v", c)
	}

	// Its status, for the flagger only.
	res = e.bearer(key, "GET", "/api/v1/reports/"+one.Receipt, "")
	var st reportOut
	decodeJSON(t, res, &st)
	if res.StatusCode != http.StatusOK || st.Receipt != one.Receipt || st.Status != one.Status || st.URL != one.URL {
		t.Fatalf("status: %d %s", res.StatusCode, res.Body)
	}
	other := e.issueKey("Other Unit", "desk@other.example")
	if res := e.bearer(other, "GET", "/api/v1/reports/"+one.Receipt, ""); res.StatusCode != http.StatusNotFound {
		t.Fatalf("another flagger's report: %d %s", res.StatusCode, res.Body)
	}
	if res := e.bearer(key, "GET", "/api/v1/reports/01JUNKJUNKJUNKJUNKJUNKJUNK", ""); res.StatusCode != http.StatusNotFound {
		t.Fatalf("unknown receipt: %d", res.StatusCode)
	}

	// A batch of three with one invalid item: 207, the field path names it.
	batch := `{"reports":[
		{"category":"phishing","url":"https://yardboard.example/a","description":"Phishing A"},
		{"category":"phishing","url":"","description":"no url"},
		{"category":"spam","url":"https://yardboard.example/c","description":"Spam C"}]}`
	before := countReports()
	res = e.bearer(key, "POST", "/api/v1/reports", batch, "Idempotency-Key", "batch-1")
	if res.StatusCode != http.StatusMultiStatus {
		t.Fatalf("batch: %d %s", res.StatusCode, res.Body)
	}
	var br reportsResult
	decodeJSON(t, res, &br)
	if len(br.Results) != 3 || br.Results[0].Receipt == "" || br.Results[2].Receipt == "" || br.Results[1].Receipt != "" ||
		br.Results[1].Index != 1 || br.Results[1].Fields["reports[1].url"] == "" || br.Results[1].Error == "" {
		t.Fatalf("batch results: %s", res.Body)
	}
	if n := countReports(); n != before+2 {
		t.Fatalf("batch filed %d reports, want 2", n-before)
	}

	// The same key and body: the same answer, nothing filed again.
	again := e.bearer(key, "POST", "/api/v1/reports", batch, "Idempotency-Key", "batch-1")
	if again.StatusCode != http.StatusMultiStatus || again.Body != res.Body || again.Header.Get("Idempotent-Replayed") != "true" {
		t.Fatalf("retry: %d %s", again.StatusCode, again.Body)
	}
	if n := countReports(); n != before+2 {
		t.Fatalf("retry filed %d more reports", n-before-2)
	}
	// The same key with another body: 422.
	res = e.bearer(key, "POST", "/api/v1/reports", strings.Replace(batch, "Spam C", "Spam D", 1), "Idempotency-Key", "batch-1")
	if res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(res.Body, "Idempotency-Key reused with a different request") {
		t.Fatalf("reused key: %d %s", res.StatusCode, res.Body)
	}
	// Another flagger may use the same Idempotency-Key for its own request.
	if res := e.bearer(other, "POST", "/api/v1/reports", batch, "Idempotency-Key", "batch-1"); res.StatusCode != http.StatusMultiStatus || res.Header.Get("Idempotent-Replayed") != "" {
		t.Fatalf("other flagger, same idempotency key: %d %s", res.StatusCode, res.Body)
	}

	// All valid: 200; all invalid: 422.
	res = e.bearer(key, "POST", "/api/v1/reports", `{"reports":[{"category":"spam","url":"https://yardboard.example/e","description":"E"}]}`)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("all valid: %d %s", res.StatusCode, res.Body)
	}
	res = e.bearer(key, "POST", "/api/v1/reports", `{"reports":[{"category":"nope","url":"https://yardboard.example/e","description":"E"},{"url":"x"}]}`)
	decodeJSON(t, res, &br)
	if res.StatusCode != http.StatusUnprocessableEntity || br.Results[0].Fields["reports[0].category"] == "" || br.Results[1].Fields["reports[1].description"] == "" {
		t.Fatalf("all invalid: %d %s", res.StatusCode, res.Body)
	}
	// One invalid report: 422 with plain field names.
	res = e.bearer(key, "POST", "/api/v1/reports", `{"category":"spam","url":"","description":"x"}`)
	var ve struct {
		Error  string            `json:"error"`
		Fields map[string]string `json:"fields"`
	}
	decodeJSON(t, res, &ve)
	if res.StatusCode != http.StatusUnprocessableEntity || ve.Fields["url"] == "" {
		t.Fatalf("one invalid: %d %s", res.StatusCode, res.Body)
	}

	// Malformed requests.
	for _, tc := range []struct {
		body, ctype string
		status      int
	}{
		{`{"category":`, "application/json", http.StatusBadRequest},
		{`not json`, "application/json", http.StatusBadRequest},
		{`{"category":"spam","colour":"red"}`, "application/json", http.StatusBadRequest},
		{`{"category":"spam","reports":[]}`, "application/json", http.StatusBadRequest},
		{`{"reports":[]}`, "application/json", http.StatusUnprocessableEntity},
		{`{"reports":[` + strings.Repeat(`{},`, 1000) + `{}]}`, "application/json", http.StatusUnprocessableEntity},
		{`{"category":"spam"}`, "text/plain", http.StatusUnsupportedMediaType},
	} {
		req, _ := http.NewRequest("POST", e.srv.URL+"/api/v1/reports", strings.NewReader(tc.body))
		req.Header.Set("Authorization", "Bearer "+key)
		req.Header.Set("Content-Type", tc.ctype)
		res := e.client().do(req)
		if res.StatusCode != tc.status || !strings.Contains(res.Header.Get("Content-Type"), "application/json") {
			t.Errorf("%.40s: %d %s, want %d", tc.body, res.StatusCode, res.Body, tc.status)
		}
	}

	// No key material is stored in the clear.
	secret := key[12:]
	for _, tbl := range []string{"api_keys", "audit_events", "casbin_rule", "idempotency_keys", "reporters", "reports"} {
		var rows []map[string]any
		e.db.R.Table(tbl).Find(&rows)
		for _, r := range rows {
			for col, v := range r {
				if s, ok := v.(string); ok && strings.Contains(s, secret) {
					t.Errorf("%s.%s holds the key", tbl, col)
				}
			}
		}
	}

	// A bad or revoked key is 401 JSON, not a redirect.
	for _, bad := range []string{"dkt_nope", "Basic Zm9vOmJhcg=="} {
		req, _ := http.NewRequest("POST", e.srv.URL+"/api/v1/reports", strings.NewReader(`{}`))
		req.Header.Set("Authorization", "Bearer "+bad)
		if strings.HasPrefix(bad, "Basic") {
			req.Header.Set("Authorization", bad)
		}
		req.Header.Set("Content-Type", "application/json")
		if res := e.client().do(req); res.StatusCode != http.StatusUnauthorized || !strings.Contains(res.Body, `"error"`) {
			t.Errorf("%s: %d %s", bad, res.StatusCode, res.Body)
		}
	}
	var keyID int64
	e.db.R.Table("api_keys").Select("id").Where("prefix = ?", key[:12]).Scan(&keyID)
	if _, err := e.keys.Revoke(context.Background(), "test", keyID); err != nil {
		t.Fatal(err)
	}
	if res := e.bearer(key, "GET", "/api/v1/reports/"+one.Receipt, ""); res.StatusCode != http.StatusUnauthorized {
		t.Fatalf("revoked key: %d %s", res.StatusCode, res.Body)
	}
	if res := e.bearer(key, "POST", "/api/v1/reports", batch, "Idempotency-Key", "batch-1"); res.StatusCode != http.StatusUnauthorized {
		t.Fatalf("revoked key, replay: %d %s", res.StatusCode, res.Body)
	}
}

// A key lacking a scope is refused that half of the API.
func TestFlaggerKeyScopes(t *testing.T) {
	e := newEnv(t, database.SQLite)
	ctx := context.Background()
	f, err := e.keys.CreateFlagger(ctx, "test", "Reader", "reader@example.org")
	if err != nil {
		t.Fatal(err)
	}
	_, readOnly, err := e.keys.IssueKey(ctx, "test", f.ID, "read only", []string{"reports:read"})
	if err != nil {
		t.Fatal(err)
	}
	if res := e.bearer(readOnly, "POST", "/api/v1/reports", `{"category":"spam","url":"https://yardboard.example/","description":"x"}`); res.StatusCode != http.StatusForbidden {
		t.Fatalf("read-only key files: %d %s", res.StatusCode, res.Body)
	}
}

// A staff session cannot use the flagger API, and a key cannot use staff pages
// or the staff API; a key's POST needs no CSRF token, a session's still does.
func TestFlaggerKeyBoundaries(t *testing.T) {
	e := newEnv(t, database.SQLite)
	key := e.issueKey("Unit", "unit@example.org")
	if res := e.bearer(key, "GET", "/queue", ""); res.StatusCode != http.StatusForbidden {
		t.Fatalf("key on /queue: %d", res.StatusCode)
	}
	if res := e.bearer(key, "GET", "/api/v1/cases", ""); res.StatusCode != http.StatusForbidden || !strings.Contains(res.Body, `"error"`) {
		t.Fatalf("key on staff API: %d %s", res.StatusCode, res.Body)
	}
	admin := e.login(policy.Admin)
	req, _ := http.NewRequest("POST", e.srv.URL+"/api/v1/reports", strings.NewReader(`{"category":"spam","url":"https://yardboard.example/","description":"x"}`))
	req.Header.Set("Content-Type", "application/json")
	if res := admin.do(req); res.StatusCode != http.StatusForbidden {
		t.Fatalf("admin session files a flagger report: %d %s", res.StatusCode, res.Body)
	}
	// A session with a made-up bearer header gains nothing: 401.
	req, _ = http.NewRequest("POST", e.srv.URL+"/admin/users", strings.NewReader(url.Values{"email": {"x@example.org"}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Authorization", "Bearer dkt_fake")
	if res := admin.do(req); res.StatusCode != http.StatusUnauthorized {
		t.Fatalf("session + fake bearer: %d", res.StatusCode)
	}
}

// The admin page registers a flagger, issues a key shown once, and revokes it.
func TestAdminFlaggers(t *testing.T) {
	e := newEnv(t, database.SQLite)
	admin := e.login(policy.Admin)
	res := admin.post("/admin/flaggers", url.Values{"action": {"create"}, "name": {"Hotline"}, "email": {"bad"}})
	if res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(res.Body, "contact email") {
		t.Fatalf("invalid flagger: %d", res.StatusCode)
	}
	res = admin.post("/admin/flaggers", url.Values{"action": {"create"}, "name": {"Hotline"}, "email": {"desk@hotline.example"}})
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("create flagger: %d %s", res.StatusCode, res.Body)
	}
	var fid int64
	e.db.R.Table("flaggers").Select("reporter_id").Scan(&fid)
	res = admin.post("/admin/flaggers", url.Values{"action": {"issue"}, "flagger": {itoa(fid)}, "key_name": {"prod"}, "scopes": {"reports:write", "reports:read"}})
	if res.StatusCode != http.StatusCreated {
		t.Fatalf("issue key: %d %s", res.StatusCode, res.Body)
	}
	key := strings.TrimSpace(res.doc(t).Find("#new-key").Text())
	if !strings.HasPrefix(key, "dkt_") || !strings.Contains(res.Body, "shown only once") {
		t.Fatalf("issued key %q not shown", key)
	}
	page := admin.get("/admin/flaggers")
	if page.StatusCode != http.StatusOK || strings.Contains(page.Body, key) || !strings.Contains(page.Body, key[:12]) || !strings.Contains(page.Body, "Hotline") {
		t.Fatalf("flaggers page: %d (key shown again: %v)", page.StatusCode, strings.Contains(page.Body, key))
	}
	if !strings.Contains(page.Body, `href="/admin/flaggers"`) {
		t.Fatal("no rail link")
	}
	if res := e.bearer(key, "POST", "/api/v1/reports", `{"category":"spam","url":"https://yardboard.example/","description":"x"}`); res.StatusCode != http.StatusCreated {
		t.Fatalf("issued key files: %d %s", res.StatusCode, res.Body)
	}
	var kid int64
	e.db.R.Table("api_keys").Select("id").Scan(&kid)
	if res := admin.post("/admin/flaggers/keys/"+itoa(kid)+"/revoke", nil); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("revoke: %d", res.StatusCode)
	}
	if res := e.bearer(key, "POST", "/api/v1/reports", `{"category":"spam","url":"https://yardboard.example/","description":"x"}`); res.StatusCode != http.StatusUnauthorized {
		t.Fatalf("revoked key files: %d", res.StatusCode)
	}
	if rev := admin.get("/admin/flaggers"); !strings.Contains(rev.Body, "Revoked key") {
		t.Fatal("no revoke notice")
	}
	if res := e.login(policy.Reviewer).get("/admin/flaggers"); res.StatusCode != http.StatusForbidden {
		t.Fatalf("reviewer sees flaggers: %d", res.StatusCode)
	}
}
