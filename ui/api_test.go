package ui_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dockethq/docket/internal/database"
	"github.com/dockethq/docket/policy"
	"github.com/dockethq/docket/users"
)

// The API's JSON, as a client reads it.
type apiCaseJSON struct {
	ID         int64  `json:"id"`
	Hostname   string `json:"hostname"`
	Category   string `json:"category"`
	State      string `json:"state"`
	Queue      string `json:"queue"`
	AssigneeID *int64 `json:"assignee_id"`
	Claimed    bool   `json:"claimed"`
	Version    int    `json:"version"`
	Reports    []struct {
		ID          int64  `json:"id"`
		PublicID    string `json:"public_id"`
		URL         string `json:"url"`
		Description string `json:"description"`
		Channel     string `json:"channel"`
		Reporter    struct {
			Kind  string  `json:"kind"`
			Name  string  `json:"name"`
			Email *string `json:"email"`
		} `json:"reporter"`
		ReceivedAt time.Time `json:"received_at"`
	} `json:"reports"`
	Notes []struct {
		Author    string    `json:"author"`
		Body      string    `json:"body"`
		CreatedAt time.Time `json:"created_at"`
	} `json:"notes"`
	Decisions []apiDecisionJSON `json:"decisions"`
}

type apiDecisionJSON struct {
	ID      int64  `json:"id"`
	Action  string `json:"action"`
	Grounds string `json:"grounds"`
	Status  string `json:"status"`
}

type apiListJSON struct {
	Cases []apiCaseJSON `json:"cases"`
	Next  string        `json:"next"`
}

type apiErrorJSON struct {
	Error  string            `json:"error"`
	Fields map[string]string `json:"fields"`
}

// apiSend sends a request with a JSON body (or none when body is empty) and,
// when csrf is set, the CSRF token in the X-CSRF-Token header, as an API client
// holding the session cookie would.
func (c *client) apiSend(method, path, contentType, body string, csrf bool) *response {
	c.e.t.Helper()
	req, err := http.NewRequest(method, c.e.srv.URL+path, strings.NewReader(body))
	if err != nil {
		c.e.t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	req.Header.Set("Accept", "application/json")
	if csrf {
		req.Header.Set("X-CSRF-Token", c.csrf())
	}
	return c.do(req)
}

// apiPost posts a JSON body with the CSRF header.
func (c *client) apiPost(path, body string) *response {
	c.e.t.Helper()
	ct := "application/json"
	if body == "" {
		ct = ""
	}
	return c.apiSend(http.MethodPost, path, ct, body, true)
}

// decode checks the status and that the answer is JSON, and decodes it into v.
func decode(t *testing.T, res *response, status int, v any) {
	t.Helper()
	if res.StatusCode != status {
		t.Fatalf("status %d, want %d: %s", res.StatusCode, status, res.Body)
	}
	if ct := res.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Fatalf("Content-Type %q, want JSON: %s", ct, res.Body)
	}
	if v != nil {
		if err := json.Unmarshal([]byte(res.Body), v); err != nil {
			t.Fatalf("decode %s: %v", res.Body, err)
		}
	}
}

// apiError checks that res is a JSON error with status and a message.
func apiError(t *testing.T, res *response, status int) apiErrorJSON {
	t.Helper()
	var e apiErrorJSON
	decode(t, res, status, &e)
	if e.Error == "" {
		t.Fatalf("status %d without an error message: %s", status, res.Body)
	}
	return e
}

// loginAs signs in with a fresh client as the given account.
func (e *env) loginAs(email, password string) *client {
	e.t.Helper()
	c := e.client()
	res := c.post("/login", url.Values{"email": {email}, "password": {password}})
	if res.StatusCode != http.StatusSeeOther {
		e.t.Fatalf("login as %s: %d %s", email, res.StatusCode, res.Body)
	}
	return c
}

// allCases lists every case the client can see in state, following cursors.
func allCases(t *testing.T, c *client, query string) []apiCaseJSON {
	t.Helper()
	var out []apiCaseJSON
	after := ""
	for i := 0; ; i++ {
		if i > 100 {
			t.Fatal("the cursor never ends")
		}
		var page apiListJSON
		decode(t, c.get("/api/v1/cases?limit=3&"+query+"&after="+url.QueryEscape(after)), http.StatusOK, &page)
		out = append(out, page.Cases...)
		if page.Next == "" {
			return out
		}
		after = page.Next
	}
}

func TestAPIAnonymous(t *testing.T) {
	e := newEnv(t, database.SQLite)
	c := e.client()
	for _, p := range []string{"/api/v1/queues", "/api/v1/cases", "/api/v1/cases/1"} {
		apiError(t, c.get(p), http.StatusUnauthorized)
	}
	apiError(t, c.apiPost("/api/v1/cases/1/claim", ""), http.StatusUnauthorized)
}

func TestAPIListAndRead(t *testing.T) {
	e := newEnv(t, database.SQLite)
	rev := e.login(policy.Reviewer)

	var qs struct {
		Queues []struct {
			Name string `json:"name"`
			Open int64  `json:"open"`
		} `json:"queues"`
	}
	decode(t, rev.get("/api/v1/queues"), http.StatusOK, &qs)
	var names []string
	var open int64
	for _, q := range qs.Queues {
		names = append(names, q.Name)
		open += q.Open
	}
	if !slices.Contains(names, "general") || slices.Contains(names, "restricted") {
		t.Errorf("reviewer's queues %v: want general, not restricted", names)
	}
	if open == 0 {
		t.Errorf("no open cases counted: %+v", qs)
	}

	// Pages follow each other without repeats, and add up to the open count.
	all := allCases(t, rev, "")
	seen := map[int64]bool{}
	for _, k := range all {
		if seen[k.ID] {
			t.Errorf("case %d listed twice across pages", k.ID)
		}
		seen[k.ID] = true
	}
	if int64(len(all)) != open {
		t.Errorf("listed %d open cases, queues count %d", len(all), open)
	}

	// Filters.
	var ph apiListJSON
	decode(t, rev.get("/api/v1/cases?category=phishing&sort=newest"), http.StatusOK, &ph)
	if len(ph.Cases) == 0 {
		t.Fatal("no phishing case in the demo data")
	}
	for _, k := range ph.Cases {
		if k.Category != "phishing" {
			t.Errorf("category filter returned %s case %d", k.Category, k.ID)
		}
	}
	var txt apiListJSON
	decode(t, rev.get("/api/v1/cases?q="+url.QueryEscape("PayPal")), http.StatusOK, &txt)
	if len(txt.Cases) != 1 || txt.Cases[0].Hostname != "secure-login-verify.example" {
		t.Errorf("text search for PayPal: %+v", txt.Cases)
	}

	// Bad parameters are 422 with the fields named.
	bad := apiError(t, rev.get("/api/v1/cases?state=nope&sort=sideways&category=x"), http.StatusUnprocessableEntity)
	for _, f := range []string{"state", "sort", "category"} {
		if bad.Fields[f] == "" {
			t.Errorf("no field error for %s: %+v", f, bad)
		}
	}
	for _, p := range []string{"limit=0", "limit=abc", "limit=201", "after=garbage", "queue=nosuch", "queue=restricted", "host=" + url.QueryEscape("bad host!")} {
		e := apiError(t, rev.get("/api/v1/cases?"+p), http.StatusUnprocessableEntity)
		if len(e.Fields) != 1 {
			t.Errorf("%s: fields %v, want one", p, e.Fields)
		}
	}

	// One case, in full.
	var k apiCaseJSON
	decode(t, rev.get("/api/v1/cases/"+itoa(ph.Cases[0].ID)), http.StatusOK, &k)
	if k.ID != ph.Cases[0].ID || k.Version < 1 || len(k.Reports) == 0 || k.Reports[0].PublicID == "" || k.Reports[0].URL == "" || k.Reports[0].Reporter.Kind == "" || k.Reports[0].ReceivedAt.IsZero() {
		t.Errorf("case JSON incomplete: %+v", k)
	}
	if k.Notes == nil || k.Decisions == nil {
		t.Errorf("empty lists should be [], not null: %s", rev.get("/api/v1/cases/"+itoa(k.ID)).Body)
	}

	// A missing case and a malformed id are 404 JSON.
	apiError(t, rev.get("/api/v1/cases/999999"), http.StatusNotFound)
	apiError(t, rev.get("/api/v1/cases/abc"), http.StatusNotFound)
}

func TestAPIWorkflow(t *testing.T) {
	e := newEnv(t, database.SQLite)
	ctx := context.Background()
	rev := e.login(policy.Reviewer)
	if _, err := e.users.Create(ctx, "test", users.NewUser{Email: "second@docket.example", Name: "Second Reviewer", Password: "a long enough password", Roles: []string{policy.Reviewer}}); err != nil {
		t.Fatal(err)
	}
	rev2 := e.loginAs("second@docket.example", "a long enough password")

	var list apiListJSON
	decode(t, rev.get("/api/v1/cases?state=new&limit=10"), http.StatusOK, &list)
	if len(list.Cases) < 3 {
		t.Fatalf("want 3 new cases in the demo data, have %d", len(list.Cases))
	}
	id, other, third := itoa(list.Cases[0].ID), itoa(list.Cases[1].ID), itoa(list.Cases[2].ID)
	base := "/api/v1/cases/" + id

	// Claim: 200 with the case, in review and held.
	var k apiCaseJSON
	decode(t, rev.apiPost(base+"/claim", ""), http.StatusOK, &k)
	if k.State != "in_review" || k.AssigneeID == nil || !k.Claimed || k.Version != list.Cases[0].Version+1 {
		t.Errorf("after claim: %+v", k)
	}
	// Someone else's claim is a 409 with the reason.
	if msg := apiError(t, rev2.apiPost(base+"/claim", ""), http.StatusConflict).Error; !strings.Contains(msg, "Someone else") {
		t.Errorf("second claim: %q", msg)
	}
	// The second reviewer cannot decide it either.
	apiError(t, rev2.apiPost(base+"/decide", `{"action":"warn","grounds":"ToS 4.2","explanation":"x"}`), http.StatusConflict)

	// A note: 201 with the case, the note in it.
	decode(t, rev.apiPost(base+"/notes", `{"body":"Checked the page: still live."}`), http.StatusCreated, &k)
	if n := len(k.Notes); n != 1 || k.Notes[0].Body != "Checked the page: still live." || k.Notes[0].Author != "Riley Reviewer" || k.Notes[0].CreatedAt.IsZero() {
		t.Errorf("notes after adding one: %+v", k.Notes)
	}
	// An empty note is 422 with the field.
	if f := apiError(t, rev.apiPost(base+"/notes", `{"body":"  "}`), http.StatusUnprocessableEntity).Fields; f["body"] == "" {
		t.Errorf("empty note: fields %v", f)
	}

	// Malformed bodies are 400 and change nothing.
	for _, body := range []string{`{"body":`, `{"body":"x"`, `not json`, `{"body":"x","extra":1}`, `{"body":5}`, `["x"]`, `{"body":"x"} {"body":"y"}`, `{"body":"x"} trailing`} {
		apiError(t, rev.apiPost(base+"/notes", body), http.StatusBadRequest)
	}
	if msg := apiError(t, rev.apiPost(base+"/notes", `{"body":"x","author_id":1}`), http.StatusBadRequest).Error; !strings.Contains(msg, "author_id") {
		t.Errorf("unknown field message %q does not name it", msg)
	}
	apiError(t, rev.apiPost(base+"/decide", `{"action":"warn","grounds":"g","explanation":"e","status":"final"}`), http.StatusBadRequest)
	apiError(t, rev.apiPost(base+"/decide", `{"action":"warn",`), http.StatusBadRequest)
	apiError(t, rev.apiPost(base+"/notes", ""), http.StatusUnsupportedMediaType)
	apiError(t, rev.apiSend(http.MethodPost, base+"/notes", "application/json", "", true), http.StatusBadRequest)
	apiError(t, rev.apiSend(http.MethodPost, base+"/notes", "text/plain", `{"body":"x"}`, true), http.StatusUnsupportedMediaType)
	apiError(t, rev.apiSend(http.MethodPost, base+"/notes", "application/x-www-form-urlencoded", "body=x", true), http.StatusUnsupportedMediaType)
	decode(t, rev.apiSend(http.MethodPost, base+"/notes", "application/json; charset=utf-8", `{"body":"second"}`, true), http.StatusCreated, &k)
	apiError(t, rev.apiPost(base+"/notes", `{"body":"`+strings.Repeat("a", 600<<10)+`"}`), http.StatusRequestEntityTooLarge)

	// Without the CSRF header: 403, nothing done.
	apiError(t, rev.apiSend(http.MethodPost, base+"/notes", "application/json", `{"body":"forged"}`, false), http.StatusForbidden)
	apiError(t, rev.apiSend(http.MethodPost, "/api/v1/cases/"+other+"/claim", "", "", false), http.StatusForbidden)
	decode(t, rev.get(base), http.StatusOK, &k)
	if len(k.Notes) != 2 {
		t.Errorf("notes after rejected requests: %+v", k.Notes)
	}

	// Decide warn: 200 with the case, decided, and the decision.
	var dec struct {
		Case     apiCaseJSON     `json:"case"`
		Decision apiDecisionJSON `json:"decision"`
	}
	decode(t, rev.apiPost(base+"/decide", `{"action":"warn","grounds":"ToS 4.2 (phishing)","explanation":"Your site hosts a phishing page."}`), http.StatusOK, &dec)
	if dec.Case.State != "decided" || dec.Decision.Action != "warn" || dec.Decision.Status != "final" || dec.Decision.ID == 0 ||
		len(dec.Case.Decisions) != 1 || dec.Case.Decisions[0].ID != dec.Decision.ID || dec.Case.AssigneeID != nil {
		t.Errorf("after decide: %+v", dec)
	}
	// Deciding again is a conflict: the case is decided.
	apiError(t, rev.apiPost(base+"/decide", `{"action":"warn","grounds":"g","explanation":"e"}`), http.StatusConflict)
	// Invalid decisions are 422 with fields.
	if f := apiError(t, rev.apiPost("/api/v1/cases/"+other+"/decide", `{"action":"ban","grounds":""}`), http.StatusUnprocessableEntity).Fields; f["action"] == "" || f["grounds"] == "" {
		t.Errorf("invalid decision: fields %v", f)
	}

	// Deciding an unclaimed case is a conflict, whether new or in review.
	apiError(t, rev.apiPost("/api/v1/cases/"+other+"/decide", `{"action":"warn","grounds":"g","explanation":"e"}`), http.StatusConflict)
	decode(t, rev2.apiPost("/api/v1/cases/"+third+"/claim", ""), http.StatusOK, nil)
	decode(t, rev2.apiPost("/api/v1/cases/"+third+"/release", ""), http.StatusOK, &k)
	if k.AssigneeID != nil || k.Claimed || k.State != "in_review" {
		t.Errorf("after release: %+v", k)
	}
	if msg := apiError(t, rev.apiPost("/api/v1/cases/"+third+"/decide", `{"action":"warn","grounds":"g","explanation":"e"}`), http.StatusConflict).Error; !strings.Contains(msg, "Claim") {
		t.Errorf("decide unclaimed: %q", msg)
	}
	// Releasing what one does not hold is a conflict too.
	apiError(t, rev.apiPost("/api/v1/cases/"+third+"/release", ""), http.StatusConflict)

	// Actions on a missing case are 404.
	apiError(t, rev.apiPost("/api/v1/cases/999999/claim", ""), http.StatusNotFound)
	apiError(t, rev.apiPost("/api/v1/cases/999999/notes", `{"body":"x"}`), http.StatusNotFound)

	// An auditor reads but may not act: 403 from the policy.
	aud := e.login(policy.Auditor)
	decode(t, aud.get(base), http.StatusOK, nil)
	apiError(t, aud.apiPost(base+"/notes", `{"body":"x"}`), http.StatusForbidden)
}

func TestAPIReporterEmail(t *testing.T) {
	e := newEnv(t, database.SQLite)
	res := e.client().post("/report", url.Values{"category": {"phishing"}, "url": {"https://lumenphoto.example/x"},
		"description": {"API-EMAIL-MARKER"}, "email": {"r@example.org"}, "name": {"R. Reporter"}, "detail_phishing_brand": {"Lumen"}, "good_faith": {"yes"}})
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("file report: %d %s", res.StatusCode, res.Body)
	}
	var id int64
	if err := e.db.R.Table("reports").Select("case_id").Where("description = ?", "API-EMAIL-MARKER").Scan(&id).Error; err != nil || id == 0 {
		t.Fatalf("no case for the report: %v", err)
	}
	for _, tc := range []struct {
		role string
		sees bool
	}{{policy.Reviewer, false}, {policy.Auditor, false}, {policy.SeniorReviewer, true}, {policy.Legal, true}} {
		c := e.login(tc.role)
		res := c.get("/api/v1/cases/" + itoa(id))
		var k apiCaseJSON
		decode(t, res, http.StatusOK, &k)
		if got := strings.Contains(res.Body, "r@example.org"); got != tc.sees {
			t.Errorf("%s: reporter email in case JSON %v, want %v", tc.role, got, tc.sees)
		}
		var email *string
		for _, r := range k.Reports {
			if r.Description == "API-EMAIL-MARKER" {
				email = r.Reporter.Email
			}
		}
		if tc.sees && (email == nil || *email != "r@example.org") {
			t.Errorf("%s: reporter email %v, want r@example.org", tc.role, email)
		}
		if !tc.sees && email != nil {
			t.Errorf("%s: reporter email field present: %q", tc.role, *email)
		}
		// Nor in the list.
		if list := c.get("/api/v1/cases?limit=200&state=all"); strings.Contains(list.Body, "r@example.org") && !tc.sees {
			t.Errorf("%s: reporter email in the case list", tc.role)
		}
	}
}

func TestAPIRestrictedQueue(t *testing.T) {
	e := newEnv(t, database.SQLite)
	res := e.client().post("/report", url.Values{"category": {"csam"}, "url": {"https://yardboard.example/x/1"}, "description": {"CSAM-RESTRICTED-MARKER"}, "good_faith": {"yes"}})
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("file csam report: %d", res.StatusCode)
	}
	var id int64
	e.db.R.Table("cases").Select("id").Where("category = 'csam'").Scan(&id)
	if id == 0 {
		t.Fatal("no csam case")
	}
	path := "/api/v1/cases/" + itoa(id)

	rev := e.login(policy.Reviewer)
	missing := rev.get("/api/v1/cases/999999")
	got := rev.get(path)
	apiError(t, got, http.StatusNotFound)
	if got.Body != missing.Body {
		t.Errorf("csam case answers %q, a missing case %q: they must not differ", got.Body, missing.Body)
	}
	for _, a := range []struct{ path, body string }{{"/claim", ""}, {"/release", ""}, {"/notes", `{"body":"x"}`}, {"/decide", `{"action":"warn","grounds":"g","explanation":"e"}`}} {
		got := rev.apiPost(path+a.path, a.body)
		apiError(t, got, http.StatusNotFound)
	}
	for _, k := range allCases(t, rev, "state=all") {
		if k.ID == id || k.Category == "csam" {
			t.Errorf("reviewer's list includes csam case %d", k.ID)
		}
	}
	var qs struct {
		Queues []struct {
			Name string `json:"name"`
		} `json:"queues"`
	}
	decode(t, rev.get("/api/v1/queues"), http.StatusOK, &qs)
	for _, q := range qs.Queues {
		if q.Name == "restricted" {
			t.Error("reviewer's queues include restricted")
		}
	}
	// Legal reads it, in the restricted queue, untouched by the refused
	// actions, and may claim it.
	legal := e.login(policy.Legal)
	var k apiCaseJSON
	decode(t, legal.get(path), http.StatusOK, &k)
	if k.Queue != "restricted" || len(k.Reports) != 1 || k.Reports[0].Description != "CSAM-RESTRICTED-MARKER" {
		t.Errorf("legal's view of the csam case: %+v", k)
	}
	if k.State != "new" || k.AssigneeID != nil || k.Version != 1 || len(k.Notes) != 0 || len(k.Decisions) != 0 {
		t.Errorf("the reviewer's refused actions changed the csam case: %+v", k)
	}
	var list apiListJSON
	decode(t, legal.get("/api/v1/cases?queue=restricted"), http.StatusOK, &list)
	if len(list.Cases) != 1 || list.Cases[0].ID != id {
		t.Errorf("legal's restricted queue: %+v", list.Cases)
	}
	decode(t, legal.apiPost(path+"/claim", ""), http.StatusOK, &k)
	if !k.Claimed {
		t.Errorf("legal's claim: %+v", k)
	}
}
