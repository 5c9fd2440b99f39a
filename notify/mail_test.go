package notify_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"io"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"github.com/dockethq/docket/cases"
	"github.com/dockethq/docket/internal/database"
	"github.com/dockethq/docket/internal/testdb"
	"github.com/dockethq/docket/notify"
)

// email is a message as a mail client would read it.
type email struct {
	Header  mail.Header
	To      string
	Subject string
	Body    string
}

func parseEmail(t *testing.T, raw []byte) email {
	t.Helper()
	m, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("not an RFC 5322 message: %v\n%s", err, raw)
	}
	var r io.Reader = m.Body
	switch strings.ToLower(m.Header.Get("Content-Transfer-Encoding")) {
	case "quoted-printable":
		r = quotedprintable.NewReader(r)
	case "base64":
		r = base64.NewDecoder(base64.StdEncoding, r)
	}
	body, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	subject, err := new(mime.WordDecoder).DecodeHeader(m.Header.Get("Subject"))
	if err != nil {
		t.Fatal(err)
	}
	to, err := m.Header.AddressList("To")
	if err != nil || len(to) != 1 {
		t.Fatalf("To: %q (%v)", m.Header.Get("To"), err)
	}
	return email{Header: m.Header, To: to[0].Address, Subject: subject, Body: strings.ReplaceAll(string(body), "\r\n", "\n")}
}

// outbox reads every .eml file in dir.
func outbox(t *testing.T, dir string) []email {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(dir, "*.eml"))
	var out []email
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, parseEmail(t, b))
	}
	return out
}

func waitOutbox(t *testing.T, dir string, n int) []email {
	t.Helper()
	waitFor(t, "notices in the outbox", 15*time.Second, func() bool {
		files, _ := filepath.Glob(filepath.Join(dir, "*.eml"))
		return len(files) >= n
	})
	return outbox(t, dir)
}

func to(t *testing.T, ms []email, addr string) []email {
	t.Helper()
	var out []email
	for _, m := range ms {
		if m.To == addr {
			out = append(out, m)
		}
	}
	return out
}

func one(t *testing.T, ms []email, addr string) email {
	t.Helper()
	got := to(t, ms, addr)
	if len(got) != 1 {
		t.Fatalf("%d messages to %s, want 1", len(got), addr)
	}
	return got[0]
}

// acme is a customer with a contact address, besides setup's forum.
func acme(t *testing.T, f *fixture) {
	t.Helper()
	if _, _, err := f.cases.AddCustomer(context.Background(), "test", cases.Customer{Name: "Acme Hosting", ContactEmail: "ops@acme.example"}, "acme.example"); err != nil {
		t.Fatal(err)
	}
}

func file(t *testing.T, f *fixture, name, addr, url string) *cases.Report {
	t.Helper()
	r, err := f.cases.FileReport(context.Background(), cases.NewReport{Channel: cases.ChannelWeb, ReporterKind: cases.ReporterPublic,
		ReporterName: name, ReporterEmail: addr, Category: cases.Phishing, URL: url, Description: "A fake bank login.", GoodFaith: true,
		// These tests are about acknowledgements and notices of action; forwarding is forward_test.go's.
		Forward: cases.ForwardChoices{Customer: cases.DoNotSend, Origin: cases.DoNotSend}})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func noticeRows(t *testing.T, db *database.DB) []notify.Notice {
	t.Helper()
	var ns []notify.Notice
	if err := db.R.Order("id").Find(&ns).Error; err != nil {
		t.Fatal(err)
	}
	return ns
}

func mustNotContain(t *testing.T, what, text string, secrets ...string) {
	t.Helper()
	for _, s := range secrets {
		if strings.Contains(strings.ToLower(text), strings.ToLower(s)) {
			t.Errorf("%s reveals %q:\n%s", what, s, text)
		}
	}
}

// TestNoticesToOutbox: acknowledgements, outcomes and the customer's notice of
// action, written as .eml files by the River worker, on both databases.
func TestNoticesToOutbox(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		dir := t.TempDir()
		f := setup(t, db, notify.Config{Mail: notify.MailConfig{Outbox: dir, BaseURL: "https://docket.test/"}})
		acme(t, f)
		ctx := context.Background()

		// A web report with an address is acknowledged with its receipt id.
		r1 := file(t, f, "Wanda Whistleblower", "wanda@reporter.example", "https://acme.example/login")
		ack := one(t, waitOutbox(t, dir, 1), "wanda@reporter.example")
		if !strings.Contains(ack.Subject, r1.PublicID) || !strings.Contains(ack.Body, "Receipt id:  "+r1.PublicID) ||
			!strings.Contains(ack.Body, "https://docket.test/report/receipt/"+r1.PublicID) || !strings.Contains(ack.Body, "What happens next") {
			t.Errorf("acknowledgement:\nSubject: %s\n%s", ack.Subject, ack.Body)
		}
		for _, h := range []string{"From", "To", "Subject", "Date", "Message-Id", "Mime-Version", "Content-Type"} {
			if ack.Header.Get(h) == "" {
				t.Errorf("acknowledgement lacks a %s header", h)
			}
		}
		if ct := strings.ToLower(ack.Header.Get("Content-Type")); !strings.HasPrefix(ct, "text/plain") || !strings.Contains(ct, "charset=utf-8") {
			t.Errorf("Content-Type = %q", ct)
		}
		if from, _ := ack.Header.AddressList("From"); len(from) != 1 || from[0].String() != `"Docket" <abuse@docket.example>` {
			t.Errorf("From = %q", ack.Header.Get("From"))
		}

		// Without an address there is nobody to acknowledge.
		r2 := file(t, f, "", "", "https://acme.example/login2")
		// A second reporter put her own address into the URL.
		r3 := file(t, f, "Rita Second", "rita@reporter.example", "https://acme.example/login?ref=rita@reporter.example")
		waitOutbox(t, dir, 2)
		if r1.CaseID != r2.CaseID || r1.CaseID != r3.CaseID {
			t.Fatalf("reports landed in cases %d, %d, %d", r1.CaseID, r2.CaseID, r3.CaseID)
		}
		var acks int64
		db.R.Model(&notify.Notice{}).Where("kind = ?", notify.KindReportAck).Count(&acks)
		var forR2 int64
		db.R.Model(&notify.Notice{}).Where("report_id = ?", r2.ID).Count(&forR2)
		if acks != 2 || forR2 != 0 {
			t.Errorf("%d acknowledgements, %d for the report without an address", acks, forR2)
		}

		// A final warning: the customer's notice of action and each reporter's outcome.
		if _, err := f.cases.Claim(ctx, f.actor, r1.CaseID); err != nil {
			t.Fatal(err)
		}
		_, d, err := f.cases.Decide(ctx, f.actor, r1.CaseID, cases.Proposal{Action: cases.Warn,
			Grounds:     "Acceptable Use Policy §3.2 (fraud and phishing)",
			Explanation: "The page at /login imitates a bank sign-in form. Reported by Wanda Whistleblower (WANDA@reporter.example)."})
		if err != nil {
			t.Fatal(err)
		}
		all := waitOutbox(t, dir, 5)
		if len(all) != 5 {
			t.Fatalf("%d messages in the outbox, want 5", len(all))
		}
		cust := one(t, all, "ops@acme.example")
		for _, want := range []string{"Action:      Warning", "acme.example", "Acceptable Use Policy §3.2 (fraud and phishing)",
			"imitates a bank sign-in form", "Reply to this message to appeal within 6 months", "https://acme.example/login2"} {
			if !strings.Contains(cust.Body, want) {
				t.Errorf("customer notice lacks %q:\n%s", want, cust.Body)
			}
		}
		if !strings.HasPrefix(cust.Subject, "Warning: acme.example") {
			t.Errorf("customer subject = %q", cust.Subject)
		}
		mustNotContain(t, "customer notice", cust.Subject+"\n"+cust.Body,
			"wanda@reporter.example", "Wanda", "Whistleblower", "rita@reporter.example", "Rita Second", "reporter.example", r1.PublicID, r3.PublicID)

		outcomes := to(t, all, "wanda@reporter.example")
		if len(outcomes) != 2 {
			t.Fatalf("%d messages to the first reporter, want acknowledgement and outcome", len(outcomes))
		}
		for _, o := range append(outcomes, to(t, all, "rita@reporter.example")...) {
			if !strings.HasPrefix(o.Subject, "The outcome") {
				continue
			}
			if !strings.Contains(o.Body, "We warned the operator of the site") || !strings.Contains(o.Body, "imitates a bank sign-in form") {
				t.Errorf("outcome to %s:\n%s", o.To, o.Body)
			}
			if o.To == "wanda@reporter.example" {
				if !strings.Contains(o.Body, r1.PublicID) {
					t.Errorf("outcome lacks the receipt id:\n%s", o.Body)
				}
				mustNotContain(t, "outcome to the first reporter", o.Body, "rita", r3.PublicID, r2.PublicID)
			} else {
				if !strings.Contains(o.Body, r3.PublicID) {
					t.Errorf("outcome lacks the receipt id:\n%s", o.Body)
				}
				mustNotContain(t, "outcome to the second reporter", o.Body, "wanda", "Whistleblower", r1.PublicID, r2.PublicID)
			}
		}

		// Files are written before the worker records them sent: wait for that.
		waitFor(t, "every notice marked sent", 10*time.Second, func() bool {
			var unsent int64
			db.R.Model(&notify.Notice{}).Where("state <> 'sent'").Count(&unsent)
			return unsent == 0
		})
		ns := noticeRows(t, db)
		kinds := map[string]int{}
		for _, n := range ns {
			kinds[n.Kind]++
			if n.State != "sent" || n.Attempts != 1 || n.SentAt == nil || n.LastError != "" {
				t.Errorf("notice %d (%s) = %+v", n.ID, n.Kind, n)
			}
			if n.Kind == notify.KindCustomerAction && (n.CaseID == nil || *n.CaseID != d.CaseID) {
				t.Errorf("customer notice case = %v", n.CaseID)
			}
		}
		if kinds[notify.KindReportAck] != 2 || kinds[notify.KindReportOutcome] != 2 || kinds[notify.KindCustomerAction] != 1 {
			t.Errorf("notices by kind = %v", kinds)
		}
	})
}

// TestNoAction: reporters hear the outcome; the customer gets no notice of action.
func TestNoticesNoAction(t *testing.T) {
	db := testdb.Open(t, database.SQLite)
	dir := t.TempDir()
	f := setup(t, db, notify.Config{Mail: notify.MailConfig{Outbox: dir}})
	acme(t, f)
	ctx := context.Background()
	r := file(t, f, "", "someone@reporter.example", "https://acme.example/x")
	f.cases.Claim(ctx, f.actor, r.CaseID)
	if _, _, err := f.cases.Decide(ctx, f.actor, r.CaseID, cases.Proposal{Action: cases.NoAction, Grounds: "Not a violation"}); err != nil {
		t.Fatal(err)
	}
	all := waitOutbox(t, dir, 2)
	if len(to(t, all, "ops@acme.example")) != 0 {
		t.Error("the customer was notified of no action")
	}
	var outcome bool
	for _, m := range to(t, all, "someone@reporter.example") {
		outcome = outcome || strings.Contains(m.Body, "decided to take no action")
	}
	if !outcome {
		t.Errorf("no outcome said no action: %+v", all)
	}
}

// TestRolledBackDecisionQueuesNoNotice: when the decision's transaction fails
// after the notices were written (here: a trigger refuses the customer's notice,
// after the reporters' outcomes went in), no notice row, job or message is left.
func TestRolledBackDecisionQueuesNoNotice(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		dir := t.TempDir()
		f := setup(t, db, notify.Config{Mail: notify.MailConfig{Outbox: dir}})
		acme(t, f)
		ctx := context.Background()
		r := file(t, f, "Wanda Whistleblower", "wanda@reporter.example", "https://acme.example/login")
		waitOutbox(t, dir, 1)
		refuse := []string{`CREATE TRIGGER refuse_customer_notice BEFORE INSERT ON notices
			WHEN NEW.kind = 'customer_action' BEGIN SELECT RAISE(ABORT, 'customer notice refused'); END`}
		if db.Dialect == database.Postgres {
			refuse = []string{`CREATE FUNCTION refuse_customer_notice() RETURNS trigger AS $$
				BEGIN IF NEW.kind = 'customer_action' THEN RAISE EXCEPTION 'customer notice refused'; END IF; RETURN NEW; END
				$$ LANGUAGE plpgsql`,
				`CREATE TRIGGER refuse_customer_notice BEFORE INSERT ON notices FOR EACH ROW EXECUTE FUNCTION refuse_customer_notice()`}
		}
		for _, q := range refuse {
			if err := db.W.Exec(q).Error; err != nil {
				t.Fatal(err)
			}
		}
		f.cases.Claim(ctx, f.actor, r.CaseID)
		_, _, err := f.cases.Decide(ctx, f.actor, r.CaseID, cases.Proposal{Action: cases.Warn, Grounds: "AUP", Explanation: "A fake bank login."})
		if err == nil || !strings.Contains(err.Error(), "customer notice refused") {
			t.Fatalf("decide: %v", err)
		}
		// Nor does a decision that fails before its notices are written leave any.
		if _, _, err := f.cases.Decide(ctx, f.actor, r.CaseID, cases.Proposal{Action: cases.Restrict, Grounds: "AUP", Explanation: "x", Hostnames: []string{"board.example"}}); err == nil {
			t.Fatal("restricting another customer's hostname succeeded")
		}
		time.Sleep(500 * time.Millisecond)
		ns := noticeRows(t, db)
		if len(ns) != 1 || ns[0].Kind != notify.KindReportAck {
			t.Errorf("notices after rolled-back decisions: %+v", ns)
		}
		var jobs, decisions int64
		db.R.Table("river_job").Where("kind = 'send_notice'").Count(&jobs)
		db.R.Table("decisions").Count(&decisions)
		if jobs != 1 || decisions != 0 {
			t.Errorf("%d notice jobs (want 1), %d decisions (want 0)", jobs, decisions)
		}
		if got := outbox(t, dir); len(got) != 1 {
			t.Errorf("%d messages in the outbox, want only the acknowledgement", len(got))
		}
	})
}

// smtpServer is a real SMTP server (emersion/go-smtp) that records what it is given.
type smtpServer struct {
	addr string
	mu   sync.Mutex
	msgs []smtpMessage
}

type smtpMessage struct {
	User, From string
	To         []string
	Data       []byte
}

func (s *smtpServer) messages() []smtpMessage {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]smtpMessage(nil), s.msgs...)
}

type smtpSession struct {
	srv *smtpServer
	m   smtpMessage
}

func (s *smtpSession) AuthMechanisms() []string { return []string{sasl.Plain} }
func (s *smtpSession) Auth(mech string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(identity, user, pass string) error {
		if user != "docket" || pass != "s3cret/pass" {
			return errors.New("invalid credentials")
		}
		s.m.User = user
		return nil
	}), nil
}
func (s *smtpSession) Mail(from string, _ *smtp.MailOptions) error { s.m.From = from; return nil }
func (s *smtpSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.m.To = append(s.m.To, to)
	return nil
}
func (s *smtpSession) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	s.m.Data = b
	s.srv.mu.Lock()
	s.srv.msgs = append(s.srv.msgs, s.m)
	s.srv.mu.Unlock()
	return nil
}
func (s *smtpSession) Reset()        { s.m = smtpMessage{User: s.m.User} }
func (s *smtpSession) Logout() error { return nil }

func startSMTP(t *testing.T) *smtpServer {
	t.Helper()
	rec := &smtpServer{}
	srv := smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) { return &smtpSession{srv: rec}, nil }))
	srv.Domain = "localhost"
	srv.AllowInsecureAuth = true // a test server without TLS
	srv.ReadTimeout, srv.WriteTimeout = 10*time.Second, 10*time.Second
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	rec.addr = ln.Addr().String()
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return rec
}

// TestNoticeOverSMTP: with a relay configured, the customer's notice of action
// is sent by SMTP (with AUTH PLAIN) and nothing goes to the outbox folder.
func TestNoticeOverSMTP(t *testing.T) {
	srv := startSMTP(t)
	db := testdb.Open(t, database.SQLite)
	dir := t.TempDir()
	f := setup(t, db, notify.Config{Mail: notify.MailConfig{
		SMTPURL: "smtp://docket:s3cret%2Fpass@" + srv.addr, From: "Abuse Desk <abuse@host.example>", Outbox: dir,
	}})
	acme(t, f)
	ctx := context.Background()
	r := file(t, f, "Wanda Whistleblower", "", "https://acme.example/login")
	f.cases.Claim(ctx, f.actor, r.CaseID)
	_, d, err := f.cases.Decide(ctx, f.actor, r.CaseID, cases.Proposal{Action: cases.Restrict, Grounds: "AUP §3.2", Explanation: "A fake bank sign-in page."})
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the notice at the SMTP server", 15*time.Second, func() bool { return len(srv.messages()) == 1 })
	m := srv.messages()[0]
	if m.User != "docket" || m.From != "abuse@host.example" || len(m.To) != 1 || m.To[0] != "ops@acme.example" {
		t.Errorf("SMTP envelope: user %q, from %q, to %v", m.User, m.From, m.To)
	}
	e := parseEmail(t, m.Data)
	if e.To != "ops@acme.example" || !strings.HasPrefix(e.Subject, "Restriction: acme.example [D-") {
		t.Errorf("To %q, Subject %q", e.To, e.Subject)
	}
	for _, want := range []string{"Action:      Restriction", "acme.example", "AUP §3.2", "A fake bank sign-in page.", "appeal within 6 months"} {
		if !strings.Contains(e.Body, want) {
			t.Errorf("body lacks %q:\n%s", want, e.Body)
		}
	}
	mustNotContain(t, "customer notice", e.Body, "Wanda", "Whistleblower")
	if from, _ := e.Header.AddressList("From"); len(from) != 1 || from[0].Address != "abuse@host.example" {
		t.Errorf("From = %q", e.Header.Get("From"))
	}
	waitFor(t, "the notice marked sent", 5*time.Second, func() bool {
		var n notify.Notice
		db.R.Where("case_id = ? AND kind = ?", d.CaseID, notify.KindCustomerAction).Take(&n)
		return n.State == "sent"
	})
	if files, _ := filepath.Glob(filepath.Join(dir, "*.eml")); len(files) != 0 {
		t.Errorf("outbox folder used with SMTP configured: %v", files)
	}
}

// TestNoticeDeadAfterHorizon: a relay that never answers is retried until the
// delivery horizon, then the notice is dead with the last error.
func TestNoticeDeadAfterHorizon(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now
	db := testdb.Open(t, database.SQLite)
	f := setup(t, db, notify.Config{Horizon: 1500 * time.Millisecond, Mail: notify.MailConfig{SMTPURL: "smtp://" + addr}})
	file(t, f, "", "wanda@reporter.example", "https://acme.example/login")
	var n notify.Notice
	waitFor(t, "the notice dead-lettered", 20*time.Second, func() bool {
		db.R.Where("kind = ?", notify.KindReportAck).Take(&n)
		return n.State == "dead"
	})
	if n.Attempts < 1 || !strings.Contains(n.LastError, "gave up after") || n.SentAt != nil {
		t.Errorf("dead notice = %+v", n)
	}
}
