package notify_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/dockethq/docket/cases"
	"github.com/dockethq/docket/edgesim"
	"github.com/dockethq/docket/internal/database"
	"github.com/dockethq/docket/internal/signedlink"
	"github.com/dockethq/docket/internal/testdb"
	"github.com/dockethq/docket/notify"
)

var appealLinkRE = regexp.MustCompile(`https://docket\.test/appeal/([A-Za-z0-9_.-]+)`)

// appealToken finds the appeal link in a notice and checks what it names.
func appealToken(t *testing.T, db *database.DB, body, purpose string, id int64) string {
	t.Helper()
	m := appealLinkRE.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no appeal link in:\n%s", body)
	}
	s, err := signedlink.Load(context.Background(), db, time.Now)
	if err != nil {
		t.Fatal(err)
	}
	got, exp, err := s.Verify(purpose, m[1])
	if err != nil || got != id || exp.Before(time.Now().Add(cases.AppealWindow-time.Hour)) {
		t.Fatalf("appeal link names %d until %s (%v), want %d for six months", got, exp, err, id)
	}
	return m[1]
}

// TestAppealLinksInNotices: the customer's notice of action and a reporter's
// outcome of a decision not to act carry signed appeal links; an outcome of a
// restriction offers the reporter none.
func TestAppealLinksInNotices(t *testing.T) {
	db := testdb.Open(t, database.SQLite)
	dir := t.TempDir()
	f := setup(t, db, notify.Config{Mail: notify.MailConfig{Outbox: dir, BaseURL: "https://docket.test/"}})
	acme(t, f)
	ctx := context.Background()
	r := file(t, f, "", "nina@reporter.example", "https://acme.example/a")
	f.cases.Claim(ctx, f.actor, r.CaseID)
	if _, _, err := f.cases.Decide(ctx, f.actor, r.CaseID, cases.Proposal{Action: cases.NoAction, Grounds: "Not phishing"}); err != nil {
		t.Fatal(err)
	}
	var outcome email
	waitFor(t, "the outcome", 15*time.Second, func() bool {
		for _, m := range to(t, outbox(t, dir), "nina@reporter.example") {
			if strings.Contains(m.Subject, "outcome") {
				outcome = m
				return true
			}
		}
		return false
	})
	appealToken(t, db, outcome.Body, cases.AppealPurposeReporter, r.ID)

	r2, err := f.cases.FileReport(ctx, cases.NewReport{Channel: cases.ChannelWeb, ReporterKind: cases.ReporterPublic,
		ReporterEmail: "omar@reporter.example", Category: cases.Malware, URL: "https://acme.example/b", Description: "A trojan.", GoodFaith: true})
	if err != nil {
		t.Fatal(err)
	}
	f.cases.Claim(ctx, f.actor, r2.CaseID)
	_, d, err := f.cases.Decide(ctx, f.actor, r2.CaseID, cases.Proposal{Action: cases.Warn, Grounds: "AUP 3.2", Explanation: "Remove the page."})
	if err != nil {
		t.Fatal(err)
	}
	var cust, out2 email
	waitFor(t, "the warning's notices", 15*time.Second, func() bool {
		all := outbox(t, dir)
		c, o := to(t, all, "ops@acme.example"), to(t, all, "omar@reporter.example")
		// The customer has the malware report forwarded (its default) and
		// then the notice of action; only the notice of action is appealable.
		if len(c) == 2 && len(o) == 2 {
			var fwd int
			for _, m := range c {
				if strings.HasPrefix(m.Subject, "Abuse report about acme.example") {
					fwd++
					if strings.Contains(m.Body, "/appeal/") {
						t.Errorf("a forwarded report offers an appeal:\n%s", m.Body)
					}
				} else {
					cust = m
				}
			}
			if fwd != 1 || cust.Subject == "" {
				t.Fatalf("customer got %d forwards and notice %q, want the forward and one notice of action", fwd, cust.Subject)
			}
			for _, m := range o {
				if strings.Contains(m.Subject, "outcome") {
					out2 = m
				}
			}
			return true
		}
		return false
	})
	appealToken(t, db, cust.Body, cases.AppealPurposeCustomer, d.ID)
	if strings.Contains(out2.Body, "/appeal/") {
		t.Errorf("a reporter is offered an appeal against a warning:\n%s", out2.Body)
	}
}

// TestAppealThroughEdgeSim: an upheld appeal changes nothing at the edge; a
// reversed one reinstates the site end to end, over HTTP to a real edge-sim,
// and everyone concerned is told.
func TestAppealThroughEdgeSim(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		sec := edgesim.NewSecret()
		sim, err := edgesim.New([]string{sec})
		if err != nil {
			t.Fatal(err)
		}
		srv := httptest.NewServer(sim.Handler())
		defer srv.Close()
		dir := t.TempDir()
		f := setup(t, db, notify.Config{Endpoints: []string{srv.URL + edgesim.PathDirectives}, Secrets: []string{sec},
			Mail: notify.MailConfig{Outbox: dir, BaseURL: "https://docket.test"}})
		acme(t, f)
		ctx := context.Background()
		wait, cancel := context.WithTimeout(ctx, 15*time.Second)
		defer cancel()
		reviewer := staffActors(t, db, 1)[0]

		restrict := func(url string) (*cases.Report, *cases.Decision) {
			t.Helper()
			r := file(t, f, "Pia Reporter", "pia@reporter.example", url)
			f.cases.Claim(ctx, f.actor, r.CaseID)
			_, d, err := f.cases.Decide(ctx, f.actor, r.CaseID, cases.Proposal{Action: cases.Restrict, Grounds: "AUP 3.2", Explanation: "A fake bank login."})
			if err != nil {
				t.Fatal(err)
			}
			return r, d
		}

		// Upheld: the restriction stays, no new directive.
		r, d := restrict("https://acme.example/login")
		if err := sim.WaitFor(wait, "acme.example", 1); err != nil {
			t.Fatal(err)
		}
		if code, _ := siteStatus(t, srv.URL, "acme.example"); code != http.StatusForbidden {
			t.Fatalf("restricted site answers %d", code)
		}
		ap, err := f.cases.FileAppeal(ctx, cases.AppealLink{Purpose: cases.AppealPurposeCustomer, ID: d.ID}, "It is our own bank's page.")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.cases.UpholdAppeal(ctx, reviewer, ap.ID, "It is not your bank."); err != nil {
			t.Fatal(err)
		}
		var dirs int64
		db.R.Table("directives").Where("case_id = ?", r.CaseID).Count(&dirs)
		if h, _ := sim.Host("acme.example"); dirs != 1 || h.Version != 1 || h.State != edgesim.StateRestricted {
			t.Errorf("after an upheld appeal: %d directives, edge %+v", dirs, h)
		}

		// Reversed: a newer reinstate directive, and the site serves again.
		_, d2 := restrict("https://acme.example/other-login")
		if err := sim.WaitFor(wait, "acme.example", 2); err != nil {
			t.Fatal(err)
		}
		ap2, err := f.cases.FileAppeal(ctx, cases.AppealLink{Purpose: cases.AppealPurposeCustomer, ID: d2.ID}, "That page was removed last week.")
		if err != nil {
			t.Fatal(err)
		}
		if err := f.cases.ReplyAppeal(ctx, reviewer, ap2.ID, "When exactly was it removed?"); err != nil {
			t.Fatal(err)
		}
		if _, err := f.cases.ReverseAppeal(ctx, reviewer, ap2.ID, "Our check was of a cached copy; the page was gone."); err != nil {
			t.Fatal(err)
		}
		if err := sim.WaitFor(wait, "acme.example", 3); err != nil {
			t.Fatalf("the edge never applied the reinstatement: %v", err)
		}
		if code, _ := siteStatus(t, srv.URL, "acme.example"); code != http.StatusOK {
			t.Errorf("reinstated site answers %d", code)
		}
		// The customer hears each step; the reporter that the site is back.
		waitFor(t, "the appeal's notices", 15*time.Second, func() bool {
			var got int
			for _, m := range to(t, outbox(t, dir), "ops@acme.example") {
				for _, s := range []string{"We received your appeal", "A reply to your appeal", "was granted", "was not granted"} {
					if strings.Contains(m.Subject, s) {
						got++
					}
				}
			}
			restored := false
			for _, m := range to(t, outbox(t, dir), "pia@reporter.example") {
				restored = restored || strings.Contains(m.Body, "We restored our service to the site.")
			}
			return got == 5 && restored // two appeals filed, one reply, one outcome each way
		})
		for _, m := range to(t, outbox(t, dir), "ops@acme.example") {
			if strings.Contains(m.Subject, "A reply to your appeal") {
				if !strings.Contains(m.Body, "When exactly was it removed?") {
					t.Errorf("reply notice:\n%s", m.Body)
				}
				appealToken(t, db, m.Body, cases.AppealPurposeCustomer, d2.ID)
			}
			mustNotContain(t, "customer's appeal notice", m.Body, "Pia Reporter", "pia@reporter.example")
		}
	})
}
