package ui_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/dockethq/docket/internal/database"
	"github.com/dockethq/docket/internal/demo"
	"github.com/dockethq/docket/internal/testdb"
	"github.com/dockethq/docket/policy"
	"github.com/dockethq/docket/sor"
)

func init() {
	for k, v := range statementMatrix {
		matrix[k] = v
	}
}

// sorExporters: admins and legal export, auditors read; statement readers:
// everyone who takes part in decisions, and auditors.
var (
	sorExporters = map[string]outcome{
		policy.Anonymous: login, policy.Reviewer: forbid, policy.SeniorReviewer: forbid, policy.Leadership: forbid,
	}
	statementReaders = map[string]outcome{policy.Anonymous: login, policy.Admin: forbid}
	statementEditors = map[string]outcome{policy.Anonymous: login, policy.Admin: forbid, policy.Auditor: forbid}
)

var statementMatrix = map[string]map[string]outcome{
	"POST /cases/:id/statement/preview": claimers,
	"GET /statements/:id":               statementReaders,
	"POST /statements/:id":              statementEditors,
	"GET /admin/sor":                    sorExporters,
	"GET /admin/sor/export":             sorExporters,
	"GET /admin/sor/:id":                sorExporters,
}

func TestStatementsOverHTTP(t *testing.T) {
	for _, d := range testdb.Dialects {
		t.Run(string(d), func(t *testing.T) { testStatementsOverHTTP(t, d) })
	}
}

func testStatementsOverHTTP(t *testing.T, d database.Dialect) {
	e := newEnv(t, d)
	rev := e.login(policy.Reviewer)
	caseID := caseIDFor(t, e, "lumenphoto.example", "copyright")
	path := "/cases/" + itoa(caseID)
	if res := rev.post(path+"/claim", nil); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("claim: %d", res.StatusCode)
	}
	page := rev.get(path)
	if page.doc(t).Find("#decide-form select#ground_type").Length() != 1 || page.doc(t).Find("#decide-form #sor-preview").Length() != 1 {
		t.Fatal("decide form lacks the ground type or the statement preview")
	}
	form := url.Values{"action": {"restrict"}, "grounds": {"Copyright Directive art. 17"}, "ground_type": {"illegal"}, "automated": {"none"},
		"explanation": {"The gallery republishes an agency's photographs without a licence."}}

	// The preview renders the generated draft as editable fields.
	prev := rev.post(path+"/statement/preview", form)
	if prev.StatusCode != http.StatusOK || !strings.Contains(prev.doc(t).Find("#sor_ground").Text(), "Copyright Directive art. 17") ||
		prev.doc(t).Find(`input[name="sor_present"]`).Length() != 1 || !strings.Contains(prev.doc(t).Find("#sor-text").Text(), "European Economic Area") {
		t.Fatalf("preview: %d\n%s", prev.StatusCode, prev.Body)
	}
	if strings.Contains(prev.Body, "<html") {
		t.Error("the preview is a fragment, not a page")
	}
	if res := rev.post(path+"/statement/preview", url.Values{"action": {"warn"}}); !strings.Contains(res.Body, "sor-none") {
		t.Errorf("preview of a warning: %s", res.Body)
	}

	// The ground type is required by the form; the edited draft is checked by field.
	bad := url.Values{}
	for k, v := range form {
		bad[k] = v
	}
	bad.Set("ground_type", "")
	if res := rev.post(path+"/decide", bad); res.StatusCode != http.StatusUnprocessableEntity || res.doc(t).Find("#decide-form .invalid #ground_type").Length() != 1 {
		t.Errorf("no ground type: %d", res.StatusCode)
	}
	xss := `<script>alert("sor")</script>`
	form.Set("sor_present", "1")
	form.Set("sor_facts", "Facts "+xss)
	form.Set("sor_ground", "")
	form.Set("sor_explanation", "Explained "+xss)
	form.Set("sor_scope", "EEA")
	form.Set("sor_content_type_other", "Website")
	form.Set("sor_redress", "Appeal "+xss)
	res := rev.post(path+"/decide", form)
	if res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(res.doc(t).Find("#sor-fields .invalid").Text(), "illegal_content_legal_ground") {
		t.Fatalf("empty legal ground: %d %s", res.StatusCode, res.doc(t).Find(".notice").Text())
	}
	if got := res.doc(t).Find("#sor_facts").Text(); got != "Facts "+xss {
		t.Errorf("typed facts not kept: %q", got)
	}
	form.Set("sor_ground", "Copyright Directive art. 17 "+xss)
	if res := rev.post(path+"/decide", form); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("restrict: %d %s", res.StatusCode, res.doc(t).Find(".notice").Text())
	}
	var did int64
	e.db.R.Table("decisions").Select("id").Where("case_id = ? AND status = 'final'", caseID).Scan(&did)

	// The statement page shows it escaped, final, valid.
	sp := rev.get("/statements/" + itoa(did))
	if sp.StatusCode != http.StatusOK || strings.Contains(sp.Body, xss) || !strings.Contains(sp.Body, "&lt;script&gt;") {
		t.Fatalf("statement page: %d, raw script %v", sp.StatusCode, strings.Contains(sp.Body, xss))
	}
	if sp.doc(t).Find("#statement-valid").Length() != 1 || sp.doc(t).Find("#statement-form").Length() != 0 {
		t.Errorf("final statement: valid %d, form %d", sp.doc(t).Find("#statement-valid").Length(), sp.doc(t).Find("#statement-form").Length())
	}
	if !strings.Contains(sp.doc(t).Find("#statement-text").Text(), "Facts "+xss) {
		t.Errorf("text: %s", sp.doc(t).Find("#statement-text").Text())
	}
	if e := rev.post("/statements/"+itoa(did), url.Values{"sor_facts": {"late"}}); e.StatusCode != http.StatusConflict {
		t.Errorf("edit of a final statement: %d", e.StatusCode)
	}
	if cp := rev.get(path); cp.doc(t).Find(`a.statement-link[href="/statements/`+itoa(did)+`"]`).Length() != 1 {
		t.Error("case page does not link the statement")
	}

	// The export page lists it as valid; the single and the batch download validate.
	legal := e.login(policy.Legal)
	ap := legal.get("/admin/sor?since=2000-01-01")
	if ap.StatusCode != http.StatusOK || !strings.Contains(ap.doc(t).Find("#sor-list").Text(), "docket-decision-"+itoa(did)) {
		t.Fatalf("admin/sor: %d\n%s", ap.StatusCode, ap.doc(t).Find("main").Text())
	}
	if strings.Contains(ap.Body, xss) {
		t.Error("admin/sor shows raw script")
	}
	one := legal.get("/admin/sor/" + itoa(did))
	var doc map[string]any
	if err := json.Unmarshal([]byte(one.Body), &doc); err != nil || one.StatusCode != http.StatusOK {
		t.Fatalf("single JSON: %d %v", one.StatusCode, err)
	}
	if errs := sor.Validate(doc); len(errs) > 0 || doc["puid"] != "docket-decision-"+itoa(did) {
		t.Errorf("single JSON invalid: %v %v", errs, doc["puid"])
	}
	batch := legal.get("/admin/sor/export?since=2000-01-01&page=1")
	var b sor.Batch
	if err := json.Unmarshal([]byte(batch.Body), &b); err != nil || batch.StatusCode != http.StatusOK || len(b.Statements) == 0 {
		t.Fatalf("batch JSON: %d %v", batch.StatusCode, err)
	}
	if errs := sor.ValidateBatch(b); len(errs) > 0 {
		t.Errorf("batch invalid: %v", errs)
	}
	if res := legal.get("/admin/sor/export?since=2000-01-01&page=9"); res.StatusCode != http.StatusNotFound {
		t.Errorf("batch 9: %d", res.StatusCode)
	}
	if res := legal.get("/admin/sor?since=yesterday"); res.StatusCode != http.StatusUnprocessableEntity {
		t.Errorf("bad date: %d", res.StatusCode)
	}
	var exported int64
	e.db.R.Table("statements").Where("exported_at IS NOT NULL").Count(&exported)
	if exported == 0 {
		t.Error("the batch download did not record the export")
	}
}

// A termination's draft is edited by the proposer and legal while it waits,
// audited, refused to others, and final with the last sign-off; the customer's
// notice carries the edited text.
func TestStatementDraftOverHTTP(t *testing.T) {
	e := newEnv(t, database.SQLite)
	rev := e.login(policy.Reviewer)
	caseID := caseIDFor(t, e, "lumenphoto.example", "copyright")
	path := "/cases/" + itoa(caseID)
	rev.post(path+"/claim", nil)
	res := rev.post(path+"/decide", url.Values{"action": {"terminate"}, "grounds": {"Terms §4.1 repeat infringement"}, "ground_type": {"terms"},
		"automated": {"partial"}, "explanation": {"Repeated copyright infringement after warnings."}})
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("propose: %d %s", res.StatusCode, res.doc(t).Find(".notice").Text())
	}
	var did int64
	e.db.R.Table("decisions").Select("id").Where("case_id = ? AND status = 'proposed'", caseID).Scan(&did)
	sp := rev.get("/statements/" + itoa(did))
	if sp.doc(t).Find("#statement-form").Length() != 1 || sp.doc(t).Find("#statement-draft").Length() != 1 {
		t.Fatalf("proposer sees no edit form: %d", sp.StatusCode)
	}
	edit := url.Values{"sor_facts": {"Edited by the proposer."}, "sor_ground": {"Terms §4.1"}, "sor_explanation": {"Three notices in a month."},
		"sor_scope": {"EEA"}, "sor_content_type_other": {"Website"}, "sor_redress": {"Appeal within six months."}}
	if res := e.login(policy.SeniorReviewer).post("/statements/"+itoa(did), clone(edit)); res.StatusCode != http.StatusForbidden {
		t.Errorf("a reviewer who neither proposed nor signs off edited: %d", res.StatusCode)
	}
	if res := rev.post("/statements/"+itoa(did), clone(edit)); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("proposer edit: %d %s", res.StatusCode, res.Body)
	}
	legal := e.login(policy.Legal)
	if sg := legal.get("/signoffs/" + itoa(did)); sg.doc(t).Find(`#statement-link[href="/statements/`+itoa(did)+`"]`).Length() != 1 {
		t.Error("the sign-off page does not link the statement")
	}
	edit.Set("sor_facts", "Edited by legal.")
	if res := legal.post("/statements/"+itoa(did), clone(edit)); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("legal's edit: %d", res.StatusCode)
	}
	edit.Set("sor_scope", "DE XX")
	if res := legal.post("/statements/"+itoa(did), clone(edit)); res.StatusCode != http.StatusUnprocessableEntity ||
		!strings.Contains(res.doc(t).Find("#statement-form .invalid").Text(), "territorial_scope") {
		t.Errorf("bad scope: %d", res.StatusCode)
	}
	var edits int64
	e.db.R.Table("audit_events").Where("action = 'statement.edited' AND object_id = ?", itoa(caseID)).Count(&edits)
	if edits != 2 {
		t.Errorf("%d edits audited, want 2", edits)
	}
	if res := approve(legal, did, "legal", demo.Password); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("legal approves: %d %s", res.StatusCode, res.doc(t).Find(".notice").Text())
	}
	if res := approve(e.login(policy.Leadership), did, "leadership", demo.Password); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("leadership approves: %d", res.StatusCode)
	}
	sp = rev.get("/statements/" + itoa(did))
	if sp.doc(t).Find("#statement-status").Text() != "final" || sp.doc(t).Find("#statement-form").Length() != 0 ||
		!strings.Contains(sp.doc(t).Find("#statement-text").Text(), "Edited by legal.") {
		t.Errorf("after sign-off: %s", sp.doc(t).Find("main").Text())
	}
	var bodies []string
	e.db.R.Table("notices").Where("case_id = ? AND kind = 'customer_action'", caseID).Pluck("body", &bodies)
	if len(bodies) == 1 && !strings.Contains(strings.Join(strings.Fields(bodies[0]), " "), "Edited by legal.") {
		t.Errorf("customer notice lacks the statement:\n%s", bodies[0])
	}
}

// clone copies a form: client.post writes its own CSRF token into it.
func clone(v url.Values) url.Values {
	out := url.Values{}
	for k, vs := range v {
		if k != "_csrf" {
			out[k] = append([]string(nil), vs...)
		}
	}
	return out
}

// A final statement that breaks a rule (a decision made without a ground type)
// is listed as invalid, and legal mends it before export.
func TestStatementMendOverHTTP(t *testing.T) {
	e := newEnv(t, database.SQLite)
	rev := e.login(policy.Reviewer)
	_, did, _ := restrictOverHTTP(t, e, rev) // posts no ground_type, as API-era callers do
	legal := e.login(policy.Legal)
	ap := legal.get("/admin/sor?since=2000-01-01")
	if !strings.Contains(ap.doc(t).Find("#sor-list").Text(), "decision_ground") {
		t.Fatalf("invalid statement not flagged: %s", ap.doc(t).Find("main").Text())
	}
	if res := legal.get("/admin/sor/" + itoa(did)); res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(res.Body, "decision_ground") {
		t.Errorf("single JSON of an invalid statement: %d %s", res.StatusCode, res.Body)
	}
	sp := legal.get("/statements/" + itoa(did))
	if sp.doc(t).Find("#statement-form select#sor_ground_type").Length() != 1 {
		t.Fatalf("legal cannot mend: %s", sp.doc(t).Find("main").Text())
	}
	if res := rev.post("/statements/"+itoa(did), url.Values{"sor_ground_type": {"terms"}}); res.StatusCode != http.StatusForbidden {
		t.Errorf("reviewer mended: %d", res.StatusCode)
	}
	form := url.Values{"sor_ground_type": {"terms"}, "sor_facts": {sp.doc(t).Find("#sor_facts").Text()},
		"sor_ground": {"AUP 4.1 copyright"}, "sor_explanation": {"Photographs without a licence."}, "sor_scope": {"EEA"},
		"sor_content_type_other": {"Website"}, "sor_redress": {"Appeal within six months."}}
	if res := legal.post("/statements/"+itoa(did), form); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("mend: %d %s", res.StatusCode, res.doc(t).Find(".notice").Text())
	}
	if res := legal.get("/admin/sor/" + itoa(did)); res.StatusCode != http.StatusOK {
		t.Errorf("mended statement: %d %s", res.StatusCode, res.Body)
	}
}

// The JSON API's decide takes the ground type and automation too.
func TestStatementFromAPI(t *testing.T) {
	e := newEnv(t, database.SQLite)
	rev := e.login(policy.Reviewer)
	caseID := caseIDFor(t, e, "lumenphoto.example", "copyright")
	base := "/api/v1/cases/" + itoa(caseID)
	if res := rev.apiPost(base+"/claim", ""); res.StatusCode != http.StatusOK {
		t.Fatalf("claim: %d %s", res.StatusCode, res.Body)
	}
	res := rev.apiPost(base+"/decide", `{"action":"restrict","grounds":"AUP 4.1","explanation":"No licence.","ground_type":"terms","automated":"full"}`)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("decide: %d %s", res.StatusCode, res.Body)
	}
	var body string
	e.db.R.Table("statements").Select("body").Where("case_id = ?", caseID).Scan(&body)
	var st sor.Statement
	if err := json.Unmarshal([]byte(body), &st); err != nil {
		t.Fatal(err)
	}
	if st.AutomatedDecision != "AUTOMATED_DECISION_FULLY" || st.DecisionGround != "DECISION_GROUND_INCOMPATIBLE_CONTENT" || len(st.Check()) > 0 {
		t.Errorf("statement from the API: %+v %v", st, st.Check())
	}
	if res := rev.apiPost(base+"/decide", `{"action":"warn","grounds":"g","explanation":"e","ground_type":"maybe"}`); res.StatusCode == http.StatusOK {
		t.Errorf("bad ground type accepted")
	}
}
