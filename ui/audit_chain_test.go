package ui_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/dockethq/docket/audit"
	"github.com/dockethq/docket/internal/database"
	"github.com/dockethq/docket/internal/testdb"
	"github.com/dockethq/docket/policy"
)

func init() {
	for k, v := range chainMatrix {
		matrix[k] = v
	}
}

// chainReaders: auditors and admins, nobody else.
var chainReaders = map[string]outcome{
	policy.Anonymous: login, policy.Reviewer: forbid, policy.SeniorReviewer: forbid, policy.Legal: forbid, policy.Leadership: forbid,
}

var chainMatrix = map[string]map[string]outcome{
	"GET /audit/chain":              chainReaders,
	"POST /audit/chain/verify":      chainReaders,
	"GET /audit/chain/export.jsonl": chainReaders,
}

func TestAuditChainPage(t *testing.T) {
	for _, d := range testdb.Dialects {
		t.Run(string(d), func(t *testing.T) {
			e := newEnv(t, d)
			if e.login(policy.Reviewer).get("/queue").doc(t).Find(`a[href="/audit/chain"]`).Length() != 0 {
				t.Error("a reviewer's rail links to the audit chain")
			}
			c := e.login(policy.Auditor)
			res := c.get("/audit/chain")
			if res.StatusCode != http.StatusOK {
				t.Fatalf("chain page: %d %s", res.StatusCode, res.Body)
			}
			doc := res.doc(t)
			if got := doc.Find("#chain-verification").Text(); !strings.Contains(got, "never") {
				t.Errorf("before any verification: %q", got)
			}
			// Nothing has sealed the demo's events yet on PostgreSQL (serve's
			// sealer does): the page says they wait, and raises no alarm.
			if pending := doc.Find("#chain-pending").Text(); d == database.Postgres && !strings.Contains(pending, "waiting for their seal") ||
				d != database.Postgres && pending != "" {
				t.Errorf("%s: pending events shown as %q", d, pending)
			}
			if got := doc.Find("#chain-events .error-text").Text(); got != "" {
				t.Errorf("an untouched chain with pending events reads as %q", got)
			}
			if doc.Find(`a[href="/audit/chain"][aria-current="page"]`).Length() != 1 {
				t.Error("the rail does not mark the chain page")
			}
			res = c.post("/audit/chain/verify", nil)
			if res.StatusCode != http.StatusSeeOther {
				t.Fatalf("verify: %d %s", res.StatusCode, res.Body)
			}
			doc = c.get("/audit/chain").doc(t)
			if got := doc.Find(".notice").Text(); !strings.Contains(got, "audit chain intact") {
				t.Errorf("flash after verifying: %q", got)
			}
			if got := doc.Find("#chain-verification").Text(); !strings.Contains(got, "intact") || !strings.Contains(got, "user:") {
				t.Errorf("last verification: %q", got)
			}
			var head int64
			e.db.R.Raw(`SELECT seq FROM audit_chain`).Scan(&head)
			if got := doc.Find("#chain-head").Text(); head == 0 || got != itoa(head) {
				t.Errorf("head shown as seq %q, the database has %d", got, head)
			}

			res = c.get("/audit/chain/export.jsonl")
			if res.StatusCode != http.StatusOK || !strings.HasPrefix(res.Header.Get("Content-Type"), "application/jsonl") ||
				!strings.Contains(res.Header.Get("Content-Disposition"), "attachment") {
				t.Fatalf("export: %d %v", res.StatusCode, res.Header)
			}
			rep, err := audit.VerifyExport(strings.NewReader(res.Body), nil)
			if err != nil || !rep.OK || rep.Events == 0 {
				t.Fatalf("the downloaded export does not verify: %+v %v", rep, err)
			}
			var exported int64
			e.db.R.Table("audit_events").Where("action = 'audit.exported'").Count(&exported)
			if exported != 1 {
				t.Errorf("%d audit.exported events", exported)
			}
			if res := c.get("/audit/chain/export.jsonl?since=-4"); res.StatusCode != http.StatusUnprocessableEntity && res.StatusCode != http.StatusBadRequest {
				t.Errorf("export with a bad since: %d", res.StatusCode)
			}

			// Tampering shows on the next verification, naming the event.
			var id int64
			e.db.R.Raw(`SELECT id FROM audit_events WHERE seq = 3`).Scan(&id)
			e.db.W.Exec(`UPDATE audit_events SET details = '{}' WHERE id = ?`, id)
			c.post("/audit/chain/verify", nil)
			doc = c.get("/audit/chain").doc(t)
			want := "event " + itoa(id) + " (seq 3): hash does not match its contents (edited?)"
			if got := doc.Find("#chain-verification").Text(); !strings.Contains(got, "broken") || !strings.Contains(got, want) {
				t.Errorf("after tampering: %q, want %q", got, want)
			}
			if got := doc.Find(".notice.error").Text(); !strings.Contains(got, want) {
				t.Errorf("flash after tampering: %q", got)
			}
		})
	}
}
