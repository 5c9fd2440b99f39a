package ui_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/dockethq/docket/internal/database"
	"github.com/dockethq/docket/policy"
)

func rows(t *testing.T, e *env) map[string]int64 {
	t.Helper()
	m := map[string]int64{}
	for _, tb := range []string{"reports", "cases", "reporters", "audit_events"} {
		var n int64
		if err := e.db.R.Table(tb).Count(&n).Error; err != nil {
			t.Fatal(err)
		}
		m[tb] = n
	}
	return m
}

func validReport() url.Values {
	return url.Values{
		"category":    {"phishing"},
		"url":         {"https://Secure-Login-Verify.example./bank"},
		"description": {"Fake bank login page."},
		"email":       {"Someone@Example.org"},
		"name":        {"Rita Reporter"},
		"good_faith":  {"yes"},
		// Phishing asks which brand is impersonated.
		"detail_phishing_brand": {"Example Bank"},
	}
}

func TestReportFlow(t *testing.T) {
	e := newEnv(t, database.SQLite)
	c := e.client()
	form := c.get("/report")
	if form.StatusCode != http.StatusOK || form.doc(t).Find(`form[action="/report"] input[name=_csrf]`).Length() != 1 {
		t.Fatalf("GET /report: %d, form with CSRF field missing", form.StatusCode)
	}
	res := c.post("/report", validReport())
	loc := res.Header.Get("Location")
	if res.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc, "/report/receipt/") {
		t.Fatalf("POST /report: %d → %q\n%s", res.StatusCode, loc, res.Body)
	}
	rc := c.get(loc)
	id := strings.TrimSpace(rc.doc(t).Find("#receipt-id").Text())
	if rc.StatusCode != http.StatusOK || id != strings.TrimPrefix(loc, "/report/receipt/") || len(id) != 26 {
		t.Fatalf("receipt page: %d, id %q", rc.StatusCode, id)
	}
	if !strings.Contains(rc.Body, "https://secure-login-verify.example/bank") {
		t.Errorf("receipt does not show the normalized URL")
	}
	if strings.Contains(rc.Body, "someone@example.org") {
		t.Errorf("receipt page shows the reporter's email")
	}
	// The report joined the demo's open phishing case for that site.
	var caseReports int64
	e.db.R.Table("reports").Where("case_id = (SELECT case_id FROM reports WHERE public_id = ?)", id).Count(&caseReports)
	if caseReports != 3 {
		t.Errorf("case has %d reports, want the demo's 2 plus this one", caseReports)
	}
	if c.get("/report/receipt/01ARZ3NDEKTSV4RRFFQ69G5FAV").StatusCode != http.StatusNotFound {
		t.Errorf("unknown receipt is not 404")
	}
}

func TestReportBadInput(t *testing.T) {
	e := newEnv(t, database.SQLite)
	c := e.client()
	with := func(k, v string) url.Values {
		f := validReport()
		f.Set(k, v)
		return f
	}
	tests := []struct {
		name  string
		form  url.Values
		field string // the field whose error must be shown
	}{
		{"empty form", url.Values{}, "url"},
		{"1 MB description", with("description", strings.Repeat("x", 1<<20)), "description"},
		{"javascript: URL", with("url", "javascript:alert(document.domain)"), "url"},
		{"data: URL", with("url", "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg=="), "url"},
		{"script in URL", with("url", `"><script>alert(1)</script>`), "url"},
		{"unknown category", with("category", "<b>x</b>"), "category"},
		{"no good faith", with("good_faith", ""), "good_faith"},
	}
	before := rows(t, e)
	for _, tc := range tests {
		res := c.post("/report", tc.form)
		if res.StatusCode != http.StatusUnprocessableEntity {
			t.Errorf("%s: status %d, want 422", tc.name, res.StatusCode)
			continue
		}
		doc := res.doc(t)
		if msg := doc.Find("#" + tc.field + "-err .field-error, .field.invalid .field-error").Text(); msg == "" {
			t.Errorf("%s: no field error shown", tc.name)
		}
		if doc.Find("script:not([src])").Length() != 0 || strings.Contains(res.Body, "<script>alert") {
			t.Errorf("%s: the payload is echoed unescaped", tc.name)
		}
	}
	// What the user typed is kept, so a long description is not lost on error.
	res := c.post("/report", with("url", "javascript:x"))
	if got := res.doc(t).Find("#description").Text(); got != "Fake bank login page." {
		t.Errorf("description after an error = %q, want it kept", got)
	}
	// A body over the limit is refused before it is parsed.
	huge := with("description", strings.Repeat("y", 3<<20))
	if res := c.post("/report", huge); res.StatusCode != http.StatusRequestEntityTooLarge || !strings.Contains(res.Body, "too large") {
		t.Errorf("3 MB body: status %d", res.StatusCode)
	}
	// Without the CSRF token, nothing is filed.
	noToken := validReport()
	noToken.Set("_csrf", "forged")
	if res := c.post("/report", noToken); res.StatusCode != http.StatusForbidden {
		t.Errorf("forged CSRF token: status %d, want 403", res.StatusCode)
	}
	if after := rows(t, e); after["reports"] != before["reports"] || after["cases"] != before["cases"] || after["reporters"] != before["reporters"] || after["audit_events"] != before["audit_events"] {
		t.Errorf("rejected reports changed the database: before %v after %v", before, after)
	}
}

func TestHTMLInReportIsEscaped(t *testing.T) {
	e := newEnv(t, database.SQLite)
	payload := `<script>alert("xss")</script><img src=x onerror=alert(1)>`
	f := validReport()
	f.Set("description", payload)
	f.Set("url", "https://escape-test.example/p?q=<b>")
	e.serve("escape-test.example")
	if res := e.client().post("/report", f); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("POST /report: %d", res.StatusCode)
	}
	var id int64
	e.db.R.Table("cases").Select("id").Where("hostname = 'escape-test.example'").Scan(&id)
	page := e.login(policy.Reviewer).get("/cases/" + itoa(id))
	doc := page.doc(t)
	if got := doc.Find(".report .description").Last().Text(); got != payload {
		t.Errorf("description text = %q, want the payload as text", got)
	}
	if doc.Find(".report img").Length() != 0 || doc.Find("script:not([src])").Length() != 0 {
		t.Errorf("payload became markup on the case page")
	}
}

func TestLoginLogout(t *testing.T) {
	e := newEnv(t, database.SQLite)
	c := e.client()
	if res := c.get("/queue"); res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/login?next=%2Fqueue" {
		t.Fatalf("anonymous /queue: %d %q", res.StatusCode, res.Header.Get("Location"))
	}
	bad := c.post("/login", url.Values{"email": {"reviewer@docket.example"}, "password": {"wrong password!"}})
	if bad.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(bad.Body, "do not match") {
		t.Fatalf("wrong password: %d", bad.StatusCode)
	}
	unknown := c.post("/login", url.Values{"email": {"nobody@docket.example"}, "password": {"wrong password!"}})
	if unknown.StatusCode != bad.StatusCode || unknown.doc(t).Find(".notice").Text() != bad.doc(t).Find(".notice").Text() {
		t.Errorf("unknown email and wrong password answer differently")
	}
	// An off-site next= is ignored.
	res := c.post("/login", url.Values{"email": {"REVIEWER@docket.example"}, "password": {"docket-demo-password"}, "next": {"//evil.example/"}})
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/queue" {
		t.Fatalf("login: %d → %q", res.StatusCode, res.Header.Get("Location"))
	}
	var sessionCookie *http.Cookie
	for _, k := range res.Header.Values("Set-Cookie") {
		if strings.HasPrefix(k, "docket_session=") {
			sessionCookie, _ = http.ParseSetCookie(k)
		}
	}
	if sessionCookie == nil || !sessionCookie.HttpOnly || sessionCookie.SameSite != http.SameSiteLaxMode {
		t.Errorf("session cookie flags: %+v", sessionCookie)
	}
	// Trusted-flagger reports route the forum case to the priority queue.
	q := c.get("/queue?queue=priority")
	doc := q.doc(t)
	if q.StatusCode != http.StatusOK || doc.Find("table.grid tbody tr").Length() == 0 {
		t.Fatalf("queue: %d", q.StatusCode)
	}
	// The forum case (violent extremism, many reports, a trusted flagger) leads.
	first := doc.Find("table.grid tbody tr").First()
	if !strings.Contains(first.Text(), "yardboard.example") || !strings.Contains(first.Text(), "Violent extremism") || !strings.Contains(first.Text(), "Yardboard LLC") {
		t.Errorf("first queue row = %q", strings.Join(strings.Fields(first.Text()), " "))
	}
	href, _ := first.Find("a").Attr("href")
	cs := c.get(href)
	if cs.StatusCode != http.StatusOK || cs.doc(t).Find(".report").Length() != 8 {
		t.Errorf("case page %s: %d with %d reports, want 8", href, cs.StatusCode, cs.doc(t).Find(".report").Length())
	}
	if out := c.post("/logout", nil); out.StatusCode != http.StatusSeeOther {
		t.Fatalf("logout: %d", out.StatusCode)
	}
	if res := c.get("/queue"); res.StatusCode != http.StatusSeeOther {
		t.Errorf("after logout /queue: %d, want a redirect to sign in", res.StatusCode)
	}
}

func TestAdminCreatesUser(t *testing.T) {
	e := newEnv(t, database.SQLite)
	admin := e.login(policy.Admin)
	res := admin.post("/admin/users", url.Values{"email": {"new@docket.example"}, "name": {"New Person"}, "password": {"a long enough password"}, "roles": {"reviewer", "legal"}})
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("create user: %d\n%s", res.StatusCode, res.Body)
	}
	c := e.client()
	if r := c.post("/login", url.Values{"email": {"new@docket.example"}, "password": {"a long enough password"}}); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("new user cannot sign in: %d", r.StatusCode)
	}
	dup := admin.post("/admin/users", url.Values{"email": {"new@docket.example"}, "name": {"Again"}, "password": {"a long enough password"}, "roles": {"reviewer"}})
	if dup.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(dup.Body, "already") {
		t.Errorf("duplicate email: %d", dup.StatusCode)
	}
	bad := admin.post("/admin/users", url.Values{"email": {"x"}, "name": {""}, "password": {"short"}, "roles": {"superuser"}})
	if bad.StatusCode != http.StatusUnprocessableEntity || bad.doc(t).Find(".field-error").Length() < 4 {
		t.Errorf("invalid user: %d with %d field errors", bad.StatusCode, bad.doc(t).Find(".field-error").Length())
	}
	var audited int64
	e.db.R.Table("audit_events").Where("action IN ('user.created', 'user.roles_set') AND actor = ?", "user:5").Count(&audited)
	if audited != 2 {
		t.Errorf("%d audit events for the new user by the admin (user:5), want 2", audited)
	}
}
