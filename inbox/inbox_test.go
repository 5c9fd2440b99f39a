package inbox_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dockethq/docket/cases"
	"github.com/dockethq/docket/inbox"
	"github.com/dockethq/docket/internal/database"
	"github.com/dockethq/docket/internal/errs"
	"github.com/dockethq/docket/internal/testdb"
	"github.com/dockethq/docket/notify"
)

// SharedMail is ../shared/testdata/mail from the project root;
// DOCKET_TEST_SHARED names the shared folder elsewhere.
func sharedMail(t testing.TB) string {
	t.Helper()
	base := filepath.Join("..", "..", "shared")
	if v := os.Getenv("DOCKET_TEST_SHARED"); v != "" {
		base = v
	}
	dir := filepath.Join(base, "testdata", "mail")
	if _, err := os.Stat(dir); err != nil {
		testdb.Unavailable(t, "shared test data "+dir, err)
	}
	return dir
}

func sample(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(sharedMail(t), name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

type env struct {
	db    *database.DB
	cases *cases.Service
	in    *inbox.Service
}

var clock = func() time.Time { return time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC) }

// newCases wires cases with notices (so acknowledgements would be written if
// any were sent).
func newCases(t testing.TB, db *database.DB) *cases.Service {
	t.Helper()
	cs := cases.NewService(db, clock)
	if err := notify.Migrate(context.Background(), db); err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	if _, err := notify.New(notify.Config{Mail: notify.MailConfig{Outbox: t.TempDir()}}, db, cs, log, clock); err != nil {
		t.Fatal(err)
	}
	return cs
}

// newEnv wires cases, notices (so acknowledgements would be written if any
// were sent) and the inbox on db, with customers serving some sample hosts.
func newEnv(t *testing.T, db *database.DB) *env {
	t.Helper()
	ctx := context.Background()
	cs := newCases(t, db)
	if _, _, err := cs.AddCustomer(ctx, "test", cases.Customer{Name: "John Doe Hosting"}, "john-doe.tld", "example.net"); err != nil {
		t.Fatal(err)
	}
	return &env{db: db, cases: cs, in: inbox.NewService(db, cs, clock)}
}

type filed struct {
	PublicID      string
	Category      cases.Category
	URL           string
	Host          string
	SiteID        *int64
	CaseID        *int64
	Status        cases.ReportStatus
	Channel       cases.Channel
	Description   string
	ReporterKind  cases.ReporterKind
	ReporterName  string
	ReporterEmail string
}

func (e *env) reports(t *testing.T, receipts []string) []filed {
	t.Helper()
	var out []filed
	err := e.db.R.Table("reports").Select("reports.public_id, reports.category, reports.url, reports.host, reports.site_id, reports.case_id, reports.status, reports.channel, reports.description, reporters.kind AS reporter_kind, reporters.name AS reporter_name, reporters.email AS reporter_email").
		Joins("JOIN reporters ON reporters.id = reports.reporter_id").Where("reports.public_id IN ?", receipts).Order("reports.id").Scan(&out).Error
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func (e *env) stored(t *testing.T, id int64) inbox.Mail {
	t.Helper()
	var m inbox.Mail
	if err := e.db.R.Take(&m, id).Error; err != nil {
		t.Fatal(err)
	}
	return m
}

// Every sample lands as the reports it carries; what Docket cannot file by
// itself waits with the reason; every message is stored byte for byte.
func TestSamplesBecomeReports(t *testing.T) {
	sharedMail(t)
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		e := newEnv(t, db)
		ctx := context.Background()
		type exp struct {
			status   string
			category cases.Category
			url      string
			onSite   bool // on a served site, so in a case; else not hosted, no case
			name     string
			email    string
			reason   string
			inDesc   string
		}
		for file, w := range map[string]exp{
			"xarf-abuseio-netcraft-fraud-phishing-uri.eml": {status: inbox.StatusFiled, category: cases.Phishing,
				url:    "http://john-doe.tld/ints.cancellation.form.your.pc.is.now.connected/to.ituneserver.with.ssl2active.applecustomers.webformlogin2/",
				onSite: true, name: "Netcraft Takedown Service", email: "takedown@netcraft.com", inDesc: "Reference: takedown-response+0527363@netcraft.com."},
			"arf-rfc5965-B2-extended.eml": {status: inbox.StatusFiled, category: cases.Spam, url: "http://example.net/earn_money.html", onSite: true,
				email: "abusedesk@example.com", inDesc: "Observed: 2005-03-08T18:00:00Z."},
			"arf-abuseio-aol-fbl-v0.1.eml": {status: inbox.StatusFiled, category: cases.Spam, url: "http://server.domain5.tld/", email: "scomp@aol.net",
				inDesc: "Reported-Domain: server.domain5.tld"},
			"arf-rfc5965-B1-minimal.eml":               {status: inbox.StatusParsed, reason: "names no URL or hostname"},
			"arf-rfc6591-authfailure-dkim.eml":         {status: inbox.StatusParsed, reason: "authentication-failure"},
			"xarf-v0.2-abuseio-blocklistde-regbot.eml": {status: inbox.StatusParsed, reason: "names only an IP address (10.0.2.150)"},
		} {
			raw := sample(t, file)
			res, err := e.in.Ingest(ctx, raw, inbox.Source{Channel: "stdin"})
			if err != nil {
				t.Fatalf("%s: %v", file, err)
			}
			m := e.stored(t, res.Mail.ID)
			if !bytes.Equal(m.Raw, raw) || m.Size != int64(len(raw)) || len(m.SHA256) != 64 {
				t.Errorf("%s: raw not stored whole (%d of %d bytes)", file, len(m.Raw), len(raw))
			}
			if m.Status != w.status || !strings.Contains(m.Reason, w.reason) {
				t.Errorf("%s: status %s (%q), want %s with %q", file, m.Status, m.Reason, w.status, w.reason)
			}
			if w.status != inbox.StatusFiled {
				if len(res.Receipts) != 0 {
					t.Errorf("%s: receipts %v, want none", file, res.Receipts)
				}
				continue
			}
			rs := e.reports(t, res.Receipts)
			if len(rs) != 1 {
				t.Fatalf("%s: %d reports, want 1", file, len(rs))
			}
			r := rs[0]
			if r.Category != w.category || r.URL != w.url || r.Channel != cases.ChannelEmail || (r.SiteID != nil) != w.onSite {
				t.Errorf("%s: filed %s %s on %s (site %v)", file, r.Category, r.URL, r.Channel, r.SiteID)
			}
			// A report about a host the provider does not serve (the AOL feedback
			// loop names server.domain5.tld) is kept as not hosted and opens no case.
			wantStatus := cases.ReportNotHosted
			if w.onSite {
				wantStatus = cases.ReportFiled
			}
			if r.Status != wantStatus || (r.CaseID != nil) != w.onSite {
				t.Errorf("%s: report %s in case %v, want %s (case: %v)", file, r.Status, r.CaseID, wantStatus, w.onSite)
			}
			if r.ReporterKind != cases.ReporterNetwork || r.ReporterName != w.name || r.ReporterEmail != w.email {
				t.Errorf("%s: reporter %s %q <%s>, want network %q <%s>", file, r.ReporterKind, r.ReporterName, r.ReporterEmail, w.name, w.email)
			}
			if !strings.Contains(r.Description, w.inDesc) || !strings.Contains(r.Description, "inbound mail #") {
				t.Errorf("%s: description lacks %q:\n%s", file, w.inDesc, r.Description)
			}
		}
		// Network senders get no acknowledgement by email (robots; loops).
		var acks int64
		db.R.Table("notices").Where("kind = 'report_ack'").Count(&acks)
		if acks != 0 {
			t.Errorf("%d acknowledgements sent to network reporters", acks)
		}
		queue, err := e.in.List(ctx, "", 50, true)
		if err != nil || len(queue) != 3 {
			t.Errorf("queue has %d messages (%v), want 3", len(queue), err)
		}
		for _, m := range queue {
			if m.Raw != nil {
				t.Errorf("the list loads raw bytes")
			}
		}
		if n, _ := e.in.Waiting(ctx, true); n != 3 {
			t.Errorf("waiting = %d", n)
		}
	})
}

// The same bytes twice are one message: a retried delivery files nothing new.
func TestDuplicateDelivery(t *testing.T) {
	raw := sample(t, "xarf-abuseio-netcraft-fraud-phishing-uri.eml")
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		e := newEnv(t, db)
		ctx := context.Background()
		first, err := e.in.Ingest(ctx, raw, inbox.Source{Channel: "smtp"})
		if err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		results := make([]*inbox.Result, 4)
		for i := range results {
			wg.Add(1)
			go func() {
				defer wg.Done()
				results[i], _ = e.in.Ingest(ctx, raw, inbox.Source{Channel: "smtp"})
			}()
		}
		wg.Wait()
		for _, r := range results {
			if r == nil || !r.Duplicate || r.Mail.ID != first.Mail.ID || len(r.Receipts) != 1 || r.Receipts[0] != first.Receipts[0] {
				t.Fatalf("again: %+v, want duplicate of %d with %v", r, first.Mail.ID, first.Receipts)
			}
		}
		var n, mails int64
		db.R.Table("reports").Count(&n)
		db.R.Table("inbound_mail").Count(&mails)
		if mails != 1 {
			t.Errorf("%d inbound rows", mails)
		}
		var reports int64
		db.R.Table("reports").Where("channel = 'email'").Count(&reports)
		if reports != 1 {
			t.Errorf("%d email reports, want 1", reports)
		}
	})
}

// Broken mail is kept whole and queued as unparsed, never dropped; mail over
// the size limit is refused and nothing is stored.
func TestBrokenMailIsKept(t *testing.T) {
	netcraft := sample(t, "xarf-abuseio-netcraft-fraud-phishing-uri.eml")
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		e := newEnv(t, db)
		ctx := context.Background()
		for name, raw := range map[string][]byte{
			"truncated": netcraft[:len(netcraft)/2],
			"garbage":   []byte(" \x00\xff not a message at all"),
			"human":     []byte("From: Jane <jane@example.org>\r\nSubject: <script>alert(1)</script>\r\n\r\nThere is phishing at http://john-doe.tld/x\r\n"),
		} {
			res, err := e.in.Ingest(ctx, raw, inbox.Source{Channel: "stdin"})
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			m := e.stored(t, res.Mail.ID)
			if m.Status != inbox.StatusUnparsed || m.Reason == "" || !bytes.Equal(m.Raw, raw) || len(res.Receipts) != 0 {
				t.Errorf("%s: status %s reason %q raw equal %v", name, m.Status, m.Reason, bytes.Equal(m.Raw, raw))
			}
		}
		var before int64
		db.R.Table("inbound_mail").Count(&before)
		_, err := e.in.Ingest(ctx, make([]byte, 25<<20+1), inbox.Source{Channel: "stdin"})
		if !errors.Is(err, inbox.ErrTooLarge) || errs.CodeOf(err) != errs.Invalid {
			t.Errorf("oversized: %v", err)
		}
		var after int64
		db.R.Table("inbound_mail").Count(&after)
		if after != before {
			t.Errorf("an oversized message was stored")
		}
	})
}

// A reviewer files a waiting message as a report or dismisses it; both are
// audited, a dismissed message cannot be filed, and bad input changes nothing.
func TestFileAndDismiss(t *testing.T) {
	regbot := sample(t, "xarf-v0.2-abuseio-blocklistde-regbot.eml")
	b1 := sample(t, "arf-rfc5965-B1-minimal.eml")
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		e := newEnv(t, db)
		ctx := context.Background()
		var uid int64
		db.W.Exec("INSERT INTO users (email, name, password_hash, created_at) VALUES ('r@docket.example', 'R', 'x', ?)", clock())
		db.R.Table("users").Select("id").Where("email = 'r@docket.example'").Scan(&uid)
		who := inbox.Actor{UserID: uid}
		a, _ := e.in.Ingest(ctx, regbot, inbox.Source{Channel: "maildir"})
		b, _ := e.in.Ingest(ctx, b1, inbox.Source{Channel: "maildir"})

		if _, err := e.in.File(ctx, who, a.Mail.ID, inbox.Filing{Category: "nonsense", URL: ""}); errs.CodeOf(err) != errs.Invalid {
			t.Errorf("bad filing: %v", err)
		}
		if m := e.stored(t, a.Mail.ID); m.Status != inbox.StatusParsed {
			t.Errorf("bad filing changed status to %s", m.Status)
		}
		rep, err := e.in.File(ctx, who, a.Mail.ID, inbox.Filing{Category: cases.Spam, URL: "https://forum.john-doe.tld/profile.php", Description: "Forum spam bot registrations from our customer's forum."})
		if err != nil {
			t.Fatal(err)
		}
		rs := e.reports(t, []string{rep.PublicID})
		if len(rs) != 1 || rs[0].SiteID == nil || rs[0].ReporterKind != cases.ReporterNetwork || rs[0].ReporterEmail != "autogenerated@blocklist.de" {
			t.Errorf("filed %+v", rs)
		}
		v, err := e.in.Get(ctx, a.Mail.ID, true)
		if err != nil || v.Mail.Status != inbox.StatusFiled || len(v.Reports) != 1 || v.Reports[0].PublicID != rep.PublicID || *v.Mail.HandledBy != uid {
			t.Fatalf("after filing: %+v %v", v, err)
		}
		if got := v.Events[len(v.Events)-1]; got.Action != "mail.filed" || got.Actor != "user:"+itoa(uid) {
			t.Errorf("last event %+v", got)
		}

		if err := e.in.Dismiss(ctx, who, b.Mail.ID, "  "); errs.CodeOf(err) != errs.Invalid {
			t.Errorf("empty reason: %v", err)
		}
		if err := e.in.Dismiss(ctx, who, b.Mail.ID, "Test message from the RFC, no URL."); err != nil {
			t.Fatal(err)
		}
		v, _ = e.in.Get(ctx, b.Mail.ID, true)
		if v.Mail.Status != inbox.StatusDismissed || !strings.Contains(v.Mail.Reason, "no URL") || v.Events[len(v.Events)-1].Action != "mail.dismissed" {
			t.Errorf("after dismissing: %+v", v.Mail)
		}
		if _, err := e.in.File(ctx, who, b.Mail.ID, inbox.Filing{Category: cases.Spam, URL: "http://example.net/"}); errs.CodeOf(err) != errs.Conflict {
			t.Errorf("filing a dismissed message: %v", err)
		}
		if err := e.in.Dismiss(ctx, who, b.Mail.ID, "again"); errs.CodeOf(err) != errs.Conflict {
			t.Errorf("dismissing twice: %v", err)
		}
		if _, err := e.in.Get(ctx, 999999, true); !errors.Is(err, inbox.ErrNotFound) {
			t.Errorf("missing: %v", err)
		}
		if n, _ := e.in.Waiting(ctx, true); n != 0 {
			t.Errorf("waiting = %d", n)
		}
	})
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// Mail about child sexual abuse material is read only by those who may read
// the restricted queue: elsewhere it does not exist.
func TestRestrictedMail(t *testing.T) {
	raw := []byte("From: Hotline <reports@hotline.example>\r\nSubject: CSAM report\r\nMessage-ID: <csam-1@hotline.example>\r\n" +
		"MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nSee the attached report.\r\n" +
		"--b\r\nContent-Type: application/json\r\n\r\n" +
		`{"xarf_version":"4.0.0","report_id":"9f0c","timestamp":"2025-02-01T10:00:00Z","reporter":{"org":"Hotline","contact":"reports@hotline.example","domain":"hotline.example"},"sender":{"org":"Hotline","contact":"reports@hotline.example","domain":"hotline.example"},"source_identifier":"203.0.113.9","category":"content","type":"csam","url":"http://john-doe.tld/gallery/1"}` +
		"\r\n--b--\r\n")
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		e := newEnv(t, db)
		ctx := context.Background()
		res, err := e.in.Ingest(ctx, raw, inbox.Source{Channel: "smtp"})
		if err != nil || res.Mail.Status != inbox.StatusFiled || !res.Mail.Restricted {
			t.Fatalf("ingest: %v %+v", err, res.Mail)
		}
		var queue string
		db.R.Table("cases").Select("cases.queue").Joins("JOIN reports ON reports.case_id = cases.id").Where("reports.public_id = ?", res.Receipts[0]).Scan(&queue)
		if queue != cases.QueueRestricted {
			t.Errorf("csam report in queue %q", queue)
		}
		if _, err := e.in.Get(ctx, res.Mail.ID, false); !errors.Is(err, inbox.ErrNotFound) {
			t.Errorf("restricted mail read without the restricted queue: %v", err)
		}
		if v, err := e.in.Get(ctx, res.Mail.ID, true); err != nil || v.Mail.ID != res.Mail.ID {
			t.Errorf("restricted mail with the restricted queue: %v", err)
		}
		if all, _ := e.in.List(ctx, "all", 50, false); len(all) != 0 {
			t.Errorf("list shows %d restricted messages", len(all))
		}
		if err := e.in.Dismiss(ctx, inbox.Actor{UserID: 1}, res.Mail.ID, "x"); !errors.Is(err, inbox.ErrNotFound) {
			t.Errorf("dismiss without the restricted queue: %v", err)
		}
	})
}
