package ui_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/dockethq/docket/internal/database"
	"github.com/dockethq/docket/policy"
)

func TestDeliveriesPageAndReplay(t *testing.T) {
	e := newEnv(t, database.SQLite)
	id := caseIDFor(t, e, "files.kestrel.example", "malware")
	rev := e.login(policy.Reviewer)
	rev.post("/cases/"+itoa(id)+"/claim", nil)
	if res := rev.post("/cases/"+itoa(id)+"/decide", url.Values{"action": {"restrict"}, "grounds": {"AUP 5"}, "explanation": {"Malware removed from service."}}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("restrict: %d", res.StatusCode)
	}
	page := rev.get("/deliveries")
	if !strings.Contains(page.Body, "site.restrict") || !strings.Contains(page.Body, "files.kestrel.example") || !strings.Contains(page.Body, "pending") {
		t.Fatalf("deliveries page does not show the pending directive")
	}
	// Dead-lettered: a badge on every staff page, and admins may replay.
	var did int64
	e.db.R.Table("deliveries").Select("id").Scan(&did)
	e.db.W.Exec("UPDATE deliveries SET state = 'dead', last_error = 'edge answered 503' WHERE id = ?", did)
	if !strings.Contains(rev.get("/queue").Body, "1 dead-lettered delivery") {
		t.Errorf("no dead-letter badge for the reviewer")
	}
	if strings.Contains(rev.get("/deliveries?state=dead").Body, "/replay") {
		t.Errorf("a reviewer is offered replay")
	}
	admin := e.login(policy.Admin)
	if !strings.Contains(admin.get("/deliveries?state=dead").Body, `action="/deliveries/`+itoa(did)+`/replay"`) {
		t.Fatalf("no replay button for the admin")
	}
	if res := admin.post("/deliveries/"+itoa(did)+"/replay", nil); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("replay: %d", res.StatusCode)
	}
	var state string
	e.db.R.Table("deliveries").Select("state").Where("id = ?", did).Scan(&state)
	if state != "pending" {
		t.Errorf("after replay: %s", state)
	}
	var jobs int64
	e.db.R.Table("river_job").Where("kind = 'deliver_directive'").Count(&jobs)
	if jobs != 2 {
		t.Errorf("%d delivery jobs, want the original and the replay", jobs)
	}
	if res := e.login(policy.Reviewer).get("/deliveries?state=bogus"); res.StatusCode != http.StatusUnprocessableEntity {
		t.Errorf("bad filter: %d", res.StatusCode)
	}
}
