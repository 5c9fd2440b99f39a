package ui_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/dockethq/docket/internal/database"
	"github.com/dockethq/docket/policy"
)

func TestAdminEditsPolicy(t *testing.T) {
	e := newEnv(t, database.SQLite)
	admin := e.login(policy.Admin)
	auditor := e.login(policy.Auditor)
	if res := auditor.get("/admin/policy"); res.StatusCode != http.StatusOK || strings.Contains(res.Body, `action="/admin/policy"`) {
		t.Errorf("auditor: %d, or offered the edit form", res.StatusCode)
	}
	// Auditors may read the policy; a new rule lets them read the restricted queue.
	if res := auditor.get("/queue?queue=restricted"); strings.Contains(res.Body, `aria-current="page">restricted`) {
		t.Fatalf("auditor reads the restricted queue before the rule")
	}
	res := admin.post("/admin/policy", url.Values{"kind": {"p"}, "role": {"auditor"}, "object": {"queue/restricted"}, "action": {"read"}})
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("add rule: %d %s", res.StatusCode, res.doc(t).Find(".notice").Text())
	}
	if res := auditor.get("/queue?queue=restricted"); !strings.Contains(res.Body, `aria-current="page">restricted`) {
		t.Errorf("the new rule did not take effect")
	}
	var ev struct{ Details string }
	e.db.R.Table("audit_events").Select("details").Where("action = 'policy.rule_added'").Scan(&ev)
	if !strings.Contains(ev.Details, `"after":{`) || !strings.Contains(ev.Details, "queue/restricted") {
		t.Errorf("audit details = %s", ev.Details)
	}
	// Bad rules are refused with field errors.
	if res := admin.post("/admin/policy", url.Values{"kind": {"p"}, "role": {"root"}, "object": {"a b"}, "action": {"DELETE"}}); res.StatusCode != http.StatusUnprocessableEntity || res.doc(t).Find(".field-error").Length() != 3 {
		t.Errorf("bad rule: %d", res.StatusCode)
	}
	// The rules that keep the policy editable cannot be removed.
	var id int64
	e.db.R.Table("casbin_rule").Select("id").Where("ptype = 'p' AND v0 = 'admin' AND v1 = '/admin/policy' AND v2 = 'POST'").Scan(&id)
	if res := admin.post("/admin/policy/delete", url.Values{"id": {itoa(id)}}); res.StatusCode != http.StatusConflict {
		t.Errorf("removing a protected rule: %d", res.StatusCode)
	}
	// Removing an ordinary rule takes effect and is audited.
	e.db.R.Table("casbin_rule").Select("id").Where("ptype = 'p' AND v0 = 'auditor' AND v1 = 'queue/restricted'").Scan(&id)
	if res := admin.post("/admin/policy/delete", url.Values{"id": {itoa(id)}}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("remove rule: %d", res.StatusCode)
	}
	if res := auditor.get("/queue?queue=restricted"); strings.Contains(res.Body, `aria-current="page">restricted`) {
		t.Errorf("the removed rule still applies")
	}
	var removed int64
	e.db.R.Table("audit_events").Where("action = 'policy.rule_removed'").Count(&removed)
	if removed != 1 {
		t.Errorf("%d removal events", removed)
	}
}

// TestSelfGrantIsAudited: an admin may give themselves legal while a termination
// waits, but the audit event says so.
func TestSelfGrantIsAudited(t *testing.T) {
	e := newEnv(t, database.SQLite)
	_, did := propose(t, e, e.login(policy.Reviewer))
	admin := e.login(policy.Admin)
	var adminID int64
	e.db.R.Table("users").Select("id").Where("email = 'admin@docket.example'").Scan(&adminID)
	res := admin.post("/admin/users/"+itoa(adminID)+"/roles", url.Values{"roles": {"admin", "legal"}})
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("self-grant: %d %s", res.StatusCode, res.doc(t).Find(".notice").Text())
	}
	var details string
	e.db.R.Table("audit_events").Select("details").Where("action = 'user.roles_set' AND object_id = ?", itoa(adminID)).Order("id DESC").Limit(1).Scan(&details)
	var d map[string]any
	_ = json.Unmarshal([]byte(details), &d)
	if d["self_grant"] != true || d["signoff_role_while_in_flight"] == nil || !strings.Contains(details, itoa(did)) {
		t.Errorf("audit details = %s", details)
	}
	// An admin cannot strip their own admin role (locking everyone out is one step away).
	if res := admin.post("/admin/users/"+itoa(adminID)+"/roles", url.Values{"roles": {"legal"}}); res.StatusCode != http.StatusConflict {
		t.Errorf("self-demotion: %d", res.StatusCode)
	}
}
