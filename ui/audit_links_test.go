package ui_test

import (
	"net/http"
	"testing"

	"github.com/dockethq/docket/cases"
	"github.com/dockethq/docket/internal/database"
	"github.com/dockethq/docket/internal/testdb"
	"github.com/dockethq/docket/policy"
)

// timelineLinks selects links into any case, user or customer timeline.
const timelineLinks = `a[href^="/audit/cases/"], a[href^="/audit/users/"], a[href^="/audit/customers/"]`

// The case, customer and users pages link to the audit timelines, but only for
// the roles the policy lets read them: anyone else would follow it to a 403.
func TestAuditTimelineLinks(t *testing.T) {
	for _, d := range testdb.Dialects {
		t.Run(string(d), func(t *testing.T) { testAuditTimelineLinks(t, d) })
	}
}

func testAuditTimelineLinks(t *testing.T, d database.Dialect) {
	e := newEnv(t, d)
	// A case every staff role reads, with a customer, so every role sees both
	// pages and only the link differs.
	var row struct {
		ID         int64
		CustomerID int64
	}
	e.db.R.Table("cases").Select("id, customer_id").Where("queue = ? AND customer_id IS NOT NULL", cases.QueueGeneral).Order("id").Limit(1).Scan(&row)
	if row.ID == 0 {
		t.Fatal("no general case with a customer in the demo data")
	}
	caseTL, custTL := "/audit/cases/"+itoa(row.ID), "/audit/customers/"+itoa(row.CustomerID)
	revID := userID(t, e, demoEmail(policy.Reviewer))
	userTL := "/audit/users/" + itoa(revID)

	mayAudit := map[string]bool{policy.Admin: true, policy.Auditor: true}
	for _, role := range []string{policy.Reviewer, policy.SeniorReviewer, policy.Legal, policy.Leadership, policy.Admin, policy.Auditor} {
		c := e.login(role)
		want := 0
		if mayAudit[role] {
			want = 1
		}
		for _, pg := range []struct{ page, link string }{
			{"/cases/" + itoa(row.ID), caseTL},
			{"/customers/" + itoa(row.CustomerID), custTL},
		} {
			res := c.get(pg.page)
			if res.StatusCode != http.StatusOK {
				t.Fatalf("%s %s: %d", role, pg.page, res.StatusCode)
			}
			// Any timeline link at all, not only this one: the nav's /audit
			// entry is a separate, already tested, link.
			if n := res.doc(t).Find(timelineLinks).Length(); n != want {
				t.Errorf("%s %s: %d timeline links, want %d", role, pg.page, n, want)
			}
			if want == 1 {
				a := res.doc(t).Find("a#audit-timeline")
				if href, _ := a.Attr("href"); href != pg.link || a.Text() != "Audit timeline" {
					t.Errorf("%s %s: link %q %q, want %q", role, pg.page, href, a.Text(), pg.link)
				}
			}
		}
		// The users page is admins' and auditors' only; each row links to
		// that user's timeline.
		res := c.get("/admin/users")
		if !mayAudit[role] {
			if res.StatusCode != http.StatusForbidden {
				t.Errorf("%s /admin/users: %d, want 403", role, res.StatusCode)
			}
			continue
		}
		if res.StatusCode != http.StatusOK {
			t.Fatalf("%s /admin/users: %d", role, res.StatusCode)
		}
		if n := res.doc(t).Find(`a.audit-timeline[href="` + userTL + `"]`).Length(); n != 1 {
			t.Errorf("%s /admin/users: %d links to %s, want 1", role, n, userTL)
		}
	}

	// Following each link as an auditor opens that subject's timeline.
	aud := e.login(policy.Auditor)
	for link, title := range map[string]string{caseTL: "Case #" + itoa(row.ID) + " ", custTL: "Customer #" + itoa(row.CustomerID) + " ", userTL: "User #" + itoa(revID) + " "} {
		res := aud.get(link)
		if res.StatusCode != http.StatusOK {
			t.Fatalf("%s: %d", link, res.StatusCode)
		}
		if got := res.doc(t).Find("#audit-title").Text(); len(got) < len(title) || got[:len(title)] != title {
			t.Errorf("%s: title %q, want it to start %q", link, got, title)
		}
	}
}
