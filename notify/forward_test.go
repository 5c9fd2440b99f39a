package notify_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dockethq/docket/audit"
	"github.com/dockethq/docket/cases"
	"github.com/dockethq/docket/internal/database"
	"github.com/dockethq/docket/internal/errs"
	"github.com/dockethq/docket/internal/signedlink"
	"github.com/dockethq/docket/internal/testdb"
	"github.com/dockethq/docket/notify"
)

// clock is an injectable clock tests move by hand.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// fwdFixture is a notifier on an injected clock with a site that has an origin host.
type fwdFixture struct {
	db    *database.DB
	cases *cases.Service
	n     *notify.Notifier
	clk   *clock
}

func setupForward(t *testing.T, db *database.DB, cfg notify.Config) *fwdFixture {
	t.Helper()
	ctx := context.Background()
	if err := notify.Migrate(ctx, db); err != nil {
		t.Fatal(err)
	}
	clk := &clock{t: time.Now().UTC().Truncate(time.Second)}
	cs := cases.NewService(db, clk.now)
	n, err := notify.New(cfg, db, cs, slog.New(slog.NewTextHandler(io.Discard, nil)), clk.now)
	if err != nil {
		t.Fatal(err)
	}
	if err := n.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		stop, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		n.Stop(stop)
	})
	_, sites, err := cs.AddCustomer(ctx, "test", cases.Customer{Name: "Acme Hosting", ContactEmail: "ops@acme.example"}, "acme.example")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cs.SetSiteOrigin(ctx, "test", sites[0].ID, "origin.example.net", "abuse@origin.example.net"); err != nil {
		t.Fatal(err)
	}
	return &fwdFixture{db: db, cases: cs, n: n, clk: clk}
}

func (f *fwdFixture) file(t *testing.T, cat cases.Category, name, email, desc string, fw cases.ForwardChoices) *cases.Report {
	t.Helper()
	r, err := f.cases.FileReport(context.Background(), cases.NewReport{Channel: cases.ChannelWeb, ReporterKind: cases.ReporterPublic,
		ReporterName: name, ReporterEmail: email, Category: cat, URL: "https://acme.example/login", Description: desc,
		GoodFaith: true, Forward: fw})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// TestForwardingChoices: each choice for each recipient gives exactly the
// expected messages at a real SMTP server, and an anonymous reporter's name and
// address are in no byte of any message forwarded without their name.
func TestForwardingChoices(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		srv := startSMTP(t)
		f := setupForward(t, db, notify.Config{Mail: notify.MailConfig{SMTPURL: "smtp://docket:s3cret%2Fpass@" + srv.addr,
			BaseURL: "https://docket.test"}})
		type reporter struct{ name, email, marker string }
		anonA := reporter{"Wanda Whistleblower", "wanda.whistle@reporter.example", "MARKER-A"}
		namedB := reporter{"Bartholomew Named", "bart@reporter.example", "MARKER-B"}
		anonC := reporter{"Carla Quietly", "carla.quiet@reporter.example", "MARKER-C"}
		desc := func(r reporter) string {
			// The reporter's own name and address in the text, in another case, as a signature.
			return r.marker + " A fake bank login. Reach me at " + strings.ToUpper(r.email) + ".\n-- " + r.name + " (" + strings.Split(r.email, "@")[0] + ")"
		}
		f.file(t, cases.Phishing, anonA.name, anonA.email, desc(anonA), cases.ForwardChoices{Customer: cases.SendAnonymously, Origin: cases.Send})
		f.file(t, cases.Phishing, namedB.name, namedB.email, desc(namedB), cases.ForwardChoices{Customer: cases.Send, Origin: cases.DoNotSend})
		f.file(t, cases.Phishing, anonC.name, anonC.email, desc(anonC), cases.ForwardChoices{Customer: cases.DoNotSend, Origin: cases.SendAnonymously})

		// 3 acknowledgements + A to customer and origin, B to customer, C to origin.
		waitFor(t, "7 messages at the SMTP server", 20*time.Second, func() bool { return len(srv.messages()) >= 7 })
		time.Sleep(300 * time.Millisecond)
		msgs := srv.messages()
		if len(msgs) != 7 {
			t.Fatalf("%d messages, want 7", len(msgs))
		}
		got := map[string]int{} // marker → recipient
		for _, m := range msgs {
			e := parseEmail(t, m.Data)
			if e.To == anonA.email || e.To == namedB.email || e.To == anonC.email {
				continue // acknowledgements
			}
			var who *reporter
			for _, r := range []*reporter{&anonA, &namedB, &anonC} {
				if strings.Contains(e.Body, r.marker) {
					who = r
				}
			}
			if who == nil {
				t.Fatalf("a message to %s with no report in it:\n%s", e.To, e.Body)
			}
			got[who.marker+"→"+e.To]++
			anonymous := who != &namedB && !(who == &anonA && e.To == "abuse@origin.example.net")
			if anonymous && testing.Verbose() {
				t.Logf("anonymous forward to %s:\n%s", e.To, e.Body)
			}
			if anonymous {
				for _, secret := range []string{who.name, "Wanda", "Whistleblower", "Carla", "Quietly", who.email, strings.Split(who.email, "@")[0]} {
					if strings.Contains(strings.ToLower(string(m.Data)), strings.ToLower(secret)) || strings.Contains(strings.ToLower(e.Body), strings.ToLower(secret)) {
						t.Errorf("anonymous forward to %s reveals %q:\n%s", e.To, secret, m.Data)
					}
				}
				if !strings.Contains(e.Body, "asked us not to share who they are") {
					t.Errorf("anonymous forward does not say so:\n%s", e.Body)
				}
			} else if !strings.Contains(e.Body, who.name) || !strings.Contains(e.Body, who.email) {
				t.Errorf("named forward to %s lacks the reporter:\n%s", e.To, e.Body)
			}
			if e.To == "ops@acme.example" && !strings.Contains(e.Body, "https://docket.test/respond/") {
				t.Errorf("customer forward has no response link:\n%s", e.Body)
			}
			if e.To == "abuse@origin.example.net" && strings.Contains(e.Body, "/respond/") {
				t.Errorf("origin forward carries the customer's link:\n%s", e.Body)
			}
		}
		want := map[string]int{"MARKER-A→ops@acme.example": 1, "MARKER-A→abuse@origin.example.net": 1,
			"MARKER-B→ops@acme.example": 1, "MARKER-C→abuse@origin.example.net": 1}
		if len(got) != len(want) {
			t.Errorf("forwards %v, want %v", got, want)
		}
		for k, v := range want {
			if got[k] != v {
				t.Errorf("forwards %v, want %v", got, want)
			}
		}
		var fws []cases.Forward
		db.R.Order("id").Find(&fws)
		if len(fws) != 4 {
			t.Fatalf("%d forwards recorded, want 4", len(fws))
		}
		anon := 0
		for _, fw := range fws {
			if fw.NoticeID == nil {
				t.Errorf("forward %d without a notice", fw.ID)
			}
			if fw.Anonymous {
				anon++
			}
		}
		if anon != 2 {
			t.Errorf("%d anonymous forwards recorded, want 2", anon)
		}
	})
}

// TestForwardCopyrightNotAnonymous: a copyright notice cannot be forwarded
// without the complainant's name; the refusal is a field error and files nothing.
func TestForwardCopyrightNotAnonymous(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		f := setupForward(t, db, notify.Config{Mail: notify.MailConfig{Outbox: t.TempDir()}})
		for _, cat := range []cases.Category{cases.Copyright, cases.Trademark} {
			_, err := f.cases.FileReport(context.Background(), cases.NewReport{Channel: cases.ChannelWeb, ReporterKind: cases.ReporterPublic,
				ReporterName: "Rights Holder", ReporterEmail: "legal@rights.example", Category: cat, URL: "https://acme.example/film",
				Description: "Our film.", GoodFaith: true, Forward: cases.ForwardChoices{Customer: cases.SendAnonymously}})
			e, ok := errs.As(err)
			if !ok || e.Code != errs.Invalid || e.Fields["forward_customer"] == "" {
				t.Fatalf("%s anonymous: err = %v, want a field error on forward_customer", cat, err)
			}
		}
		var n int64
		db.R.Table("reports").Count(&n)
		if n != 0 {
			t.Errorf("%d reports filed after refusals", n)
		}
		// Without a choice, copyright defaults to naming the complainant.
		if d := cases.DefaultForward(cases.Copyright); d.Customer != cases.Send {
			t.Errorf("copyright default %+v", d)
		}
	})
}

// TestHotlineExport: a csam report becomes a JSON export for the hotline (named
// or not as chosen), and no email anywhere carries its URL.
func TestHotlineExport(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		srv := startSMTP(t)
		f := setupForward(t, db, notify.Config{Mail: notify.MailConfig{SMTPURL: "smtp://docket:s3cret%2Fpass@" + srv.addr}})
		f.file(t, cases.CSAM, "Helper Named", "named@reporter.example", "Abuse images in a gallery.", cases.ForwardChoices{})
		r2 := f.file(t, cases.CSAM, "Hidden Helper", "hidden.helper@reporter.example", "Images. Hidden Helper", cases.ForwardChoices{Hotline: cases.SendAnonymously})
		f.file(t, cases.CSAM, "", "", "Not to the hotline, please.", cases.ForwardChoices{Hotline: cases.DoNotSend})
		var ex []cases.HotlineExport
		db.R.Order("id").Find(&ex)
		if len(ex) != 2 {
			t.Fatalf("%d hotline exports, want 2", len(ex))
		}
		var h notify.HotlineReport
		if err := json.Unmarshal([]byte(ex[0].Payload), &h); err != nil {
			t.Fatal(err)
		}
		if h.Schema != "docket.hotline-export/1" || h.WebPageIncident.URLs[0] != "https://acme.example/login" || h.Reporter.Name != "Helper Named" ||
			h.IncidentSummary.IncidentType != "child_sexual_abuse_material" || len(h.Hashes) == 0 || h.Hashes[0].Value == "" {
			t.Errorf("export: %+v", h)
		}
		if ex[1].ReportID != r2.ID || strings.Contains(ex[1].Payload, "Hidden") || strings.Contains(ex[1].Payload, "hidden.helper") {
			t.Errorf("anonymous export reveals the reporter:\n%s", ex[1].Payload)
		}
		waitFor(t, "the two acknowledgements", 15*time.Second, func() bool { return len(srv.messages()) >= 2 })
		time.Sleep(300 * time.Millisecond)
		for _, m := range srv.messages() {
			if strings.Contains(string(m.Data), "acme.example/login") || m.To[0] == "ops@acme.example" {
				t.Errorf("an email to %v carries the csam report:\n%s", m.To, m.Data)
			}
		}
		if len(srv.messages()) != 2 {
			t.Errorf("%d messages, want only the 2 acknowledgements", len(srv.messages()))
		}
	})
}

var respondLink = regexp.MustCompile(`/respond/([A-Za-z0-9_.\-]+)`)

func countEvents(t *testing.T, db *database.DB, caseID int64, action string) int64 {
	t.Helper()
	var n int64
	db.R.Model(&audit.Event{}).Where("object_type = 'case' AND object_id = ? AND action = ?", strconv.FormatInt(caseID, 10), action).Count(&n)
	return n
}

// TestResponseWindow: forwarding to the customer starts a window whose River
// job is scheduled for its end; with the clock moved past it, the case is flagged
// no_response and put at the top of its queue exactly once, however often the
// job runs; a case the customer answered is left alone.
func TestResponseWindow(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		dir := t.TempDir()
		f := setupForward(t, db, notify.Config{Mail: notify.MailConfig{Outbox: dir, BaseURL: "https://docket.test"}})
		ctx := context.Background()
		if _, _, err := f.cases.AddCustomer(ctx, "test", cases.Customer{Name: "Busy", ContactEmail: "ops@busy.example"}, "busy.example", "other.example"); err != nil {
			t.Fatal(err)
		}
		// A higher-priority case in the same queue, which the unanswered case must overtake.
		if _, err := f.cases.FileReport(ctx, cases.NewReport{Channel: cases.ChannelWeb, ReporterKind: cases.ReporterPublic, Category: cases.Threat,
			URL: "https://other.example/", Description: "A threat.", GoodFaith: true, Forward: cases.ForwardChoices{Customer: cases.DoNotSend}}); err != nil {
			t.Fatal(err)
		}
		quiet := f.file(t, cases.Phishing, "", "", "Fake login.", cases.ForwardChoices{})
		answered, err := f.cases.FileReport(ctx, cases.NewReport{Channel: cases.ChannelWeb, ReporterKind: cases.ReporterPublic, Category: cases.Phishing,
			URL: "https://busy.example/x", Description: "Fake login too.", GoodFaith: true})
		if err != nil {
			t.Fatal(err)
		}
		get := func(id int64) cases.Case {
			var c cases.Case
			if err := db.R.Take(&c, id).Error; err != nil {
				t.Fatal(err)
			}
			return c
		}
		c := get(quiet.CaseID)
		if c.ResponseFlag != cases.ResponseAwaiting || c.ResponseDueAt == nil || !c.ResponseDueAt.Equal(f.clk.now().Add(24*time.Hour)) {
			t.Fatalf("after forwarding: flag %q, due %v (now %v)", c.ResponseFlag, c.ResponseDueAt, f.clk.now())
		}
		var jobs int64
		db.R.Table("river_job").Where("kind = 'response_window'").Count(&jobs)
		if jobs != 2 {
			t.Fatalf("%d response_window jobs, want 2", jobs)
		}

		// The customer of the second case answers through the link in the email.
		msgs := waitOutbox(t, dir, 3) // acme: customer and origin; busy: customer
		var tok string
		for _, m := range to(t, msgs, "ops@busy.example") {
			if mm := respondLink.FindStringSubmatch(m.Body); mm != nil {
				tok = mm[1]
			}
		}
		links, err := signedlink.Load(ctx, db, f.clk.now)
		if err != nil {
			t.Fatal(err)
		}
		id, _, err := links.Verify(notify.RespondPurpose, tok)
		if err != nil || id != answered.CaseID {
			t.Fatalf("response link %q: case %d, %v", tok, id, err)
		}
		if _, err := f.cases.Respond(ctx, id, "h", "removed", "We took the page down."); err != nil {
			t.Fatal(err)
		}
		if a := get(answered.CaseID); a.State != cases.StateInReview || a.ResponseFlag != cases.ResponseResponded {
			t.Errorf("answered case: state %s, flag %q", a.State, a.ResponseFlag)
		}

		// Early: nothing happens.
		if ok, err := f.n.ExpireResponseWindow(ctx, quiet.CaseID, *c.ResponseDueAt); ok || err != nil {
			t.Fatalf("expired before its time: %v, %v", ok, err)
		}
		f.clk.add(25 * time.Hour)
		// Run both jobs now, twice.
		for i := 0; i < 2; i++ {
			if n, err := f.n.RetryJobsOfKind(ctx, "response_window"); err != nil || n != 2 {
				t.Fatalf("retry jobs: %d, %v", n, err)
			}
			waitFor(t, "the window jobs to complete", 15*time.Second, func() bool {
				var done int64
				db.R.Table("river_job").Where("kind = 'response_window' AND state = 'completed'").Count(&done)
				return done == 2
			})
		}
		if ok, err := f.n.ExpireResponseWindow(ctx, quiet.CaseID, *c.ResponseDueAt); ok || err != nil {
			t.Errorf("a third run expired again: %v, %v", ok, err)
		}
		q := get(quiet.CaseID)
		if q.ResponseFlag != cases.ResponseNoResponse || q.State != cases.StateNew {
			t.Errorf("unanswered case: flag %q, state %s", q.ResponseFlag, q.State)
		}
		var top cases.Case
		db.R.Where("queue = ? AND state IN ?", q.Queue, []cases.State{cases.StateNew, cases.StateInReview}).Order("queue_rank DESC").Take(&top)
		if top.ID != quiet.CaseID {
			t.Errorf("top of the queue is case %d, want the unanswered %d", top.ID, quiet.CaseID)
		}
		// A later report on the unanswered case keeps it at the top.
		f.file(t, cases.Phishing, "", "", "Still there.", cases.ForwardChoices{Customer: cases.DoNotSend})
		if later := get(quiet.CaseID); later.ReportCount < 2 || later.QueueRank < q.QueueRank {
			t.Errorf("after another report: %d reports, rank %d (was %d)", later.ReportCount, later.QueueRank, q.QueueRank)
		}
		if n := countEvents(t, db, quiet.CaseID, "case.response_window_expired"); n != 1 {
			t.Errorf("%d expiry events, want exactly 1", n)
		}
		if n := countEvents(t, db, answered.CaseID, "case.response_window_expired"); n != 0 {
			t.Errorf("the answered case expired too (%d events)", n)
		}
		if a := get(answered.CaseID); a.ResponseFlag != cases.ResponseResponded {
			t.Errorf("answered case flag %q after the window", a.ResponseFlag)
		}
		// The link expires 14 days after the window.
		f.clk.add(15 * 24 * time.Hour)
		if _, _, err := links.Verify(notify.RespondPurpose, tok); !errors.Is(err, signedlink.ErrExpired) {
			t.Errorf("old link: %v, want expired", err)
		}
	})
}

// TestNoForwardWithoutCase: a report about a host the provider does not serve,
// and a repeat of a report already forwarded, are filed (and acknowledged)
// without a case, so nothing is forwarded for them.
func TestNoForwardWithoutCase(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		f := setupForward(t, db, notify.Config{Mail: notify.MailConfig{Outbox: t.TempDir(), BaseURL: "https://docket.test"}})
		ctx := context.Background()
		fileAt := func(url string) *cases.Report {
			t.Helper()
			r, err := f.cases.FileReport(ctx, cases.NewReport{Channel: cases.ChannelWeb, ReporterKind: cases.ReporterPublic,
				ReporterName: "Nora Reporter", ReporterEmail: "nora@reporter.example", Category: cases.Phishing, URL: url,
				Description: "A fake bank login.", GoodFaith: true})
			if err != nil {
				t.Fatalf("file %s: %v", url, err)
			}
			return r
		}
		orig := fileAt("https://acme.example/login")
		elsewhere := fileAt("https://elsewhere.example/login")
		again := fileAt("https://acme.example/login")
		if orig.Status != cases.ReportFiled || elsewhere.Status != cases.ReportNotHosted || again.Status != cases.ReportDuplicate ||
			elsewhere.CaseID != 0 || again.CaseID != 0 {
			t.Fatalf("statuses %s %s %s, cases %d %d", orig.Status, elsewhere.Status, again.Status, elsewhere.CaseID, again.CaseID)
		}
		count := func(table, where string, args ...any) int64 {
			t.Helper()
			var n int64
			if err := db.R.Table(table).Where(where, args...).Count(&n).Error; err != nil {
				t.Fatal(err)
			}
			return n
		}
		// The original went to the customer and the origin (phishing's default).
		if n := count("forwards", "report_id = ?", orig.ID); n != 2 {
			t.Errorf("original forwarded %d times, want 2", n)
		}
		for _, r := range []*cases.Report{elsewhere, again} {
			if n := count("forwards", "report_id = ?", r.ID); n != 0 {
				t.Errorf("%s report forwarded %d times", r.Status, n)
			}
			if n := count("notices", "report_id = ? AND kind <> ?", r.ID, notify.KindReportAck); n != 0 {
				t.Errorf("%s report: %d notices besides the acknowledgement", r.Status, n)
			}
			if n := count("notices", "report_id = ? AND kind = ?", r.ID, notify.KindReportAck); n != 1 {
				t.Errorf("%s report: %d acknowledgements, want 1", r.Status, n)
			}
		}
	})
}
