package notify

import (
	"strings"
	"testing"
	"time"
)

func TestParseSMTPURL(t *testing.T) {
	ok := []struct {
		raw  string
		want smtpTarget
	}{
		{"smtp://mail.example.com", smtpTarget{Host: "mail.example.com", Port: 25, TLS: tlsOpportunistic}},
		{"smtp://127.0.0.1:2525", smtpTarget{Host: "127.0.0.1", Port: 2525, TLS: tlsOpportunistic}},
		{"smtp://user:p%40ss@mail.example.com:587", smtpTarget{Host: "mail.example.com", Port: 587, User: "user", Password: "p@ss", TLS: tlsOpportunistic}},
		{"smtp://mail.example.com:587?tls=required", smtpTarget{Host: "mail.example.com", Port: 587, TLS: tlsRequired}},
		{"smtp://localhost:25?tls=none", smtpTarget{Host: "localhost", Port: 25, TLS: tlsNone}},
		{"smtps://u:p@mail.example.com", smtpTarget{Host: "mail.example.com", Port: 465, User: "u", Password: "p", TLS: tlsImplicit}},
		{"smtp://[::1]:25", smtpTarget{Host: "::1", Port: 25, TLS: tlsOpportunistic}},
	}
	for _, c := range ok {
		got, err := parseSMTPURL(c.raw)
		if err != nil || got != c.want {
			t.Errorf("parseSMTPURL(%q) = %+v, %v; want %+v", c.raw, got, err, c.want)
		}
	}
	for _, raw := range []string{"mail.example.com", "http://mail.example.com", "smtp://", "smtp://host:0", "smtp://host:99999",
		"smtp://host/path", "smtp://host?tls=maybe", "smtps://host?tls=none", "smtp://host?foo=bar"} {
		if _, err := parseSMTPURL(raw); err == nil {
			t.Errorf("parseSMTPURL(%q) accepted", raw)
		}
	}
	_, err := parseSMTPURL("ftp://user:hunter2@host")
	if err == nil || strings.Contains(err.Error(), "hunter2") {
		t.Errorf("error shows the password: %v", err)
	}
}

func TestMailConfigValidate(t *testing.T) {
	if err := (MailConfig{}).Validate(); err != nil {
		t.Errorf("defaults: %v", err)
	}
	if err := (MailConfig{From: "Abuse <abuse@example.com>", SMTPURL: "smtp://localhost:25"}).Validate(); err != nil {
		t.Error(err)
	}
	if err := (MailConfig{From: "not an address"}).Validate(); err == nil {
		t.Error("bad From accepted")
	}
	if err := (MailConfig{SMTPURL: "smtp:/"}).Validate(); err == nil {
		t.Error("bad SMTP URL accepted")
	}
}

func TestScrub(t *testing.T) {
	who := []identity{{Name: "Zoë Martín", Email: "zoe@reporter.example"}, {Name: "Al", Email: ""}, {Name: "Anna", Email: "a@b.example"}}
	r := scrub(Rendered{Subject: "About ZOE@reporter.example", Body: "Reported by Zoë\n  Martín (zoe@Reporter.example); Savannah and Anna; Al was here."}, who)
	if strings.Contains(strings.ToLower(r.Subject+r.Body), "zoe") || strings.Contains(r.Body, "Zoë") || strings.Contains(r.Body, " Anna") {
		t.Errorf("scrubbed: %q / %q", r.Subject, r.Body)
	}
	if !strings.Contains(r.Body, "Savannah") || !strings.Contains(r.Body, "Al was here") {
		t.Errorf("scrub took ordinary words: %q", r.Body)
	}
}

func TestPreviews(t *testing.T) {
	ps, err := Previews()
	if err != nil {
		t.Fatal(err)
	}
	if len(ps) != len(Kinds) {
		t.Fatalf("%d previews", len(ps))
	}
	want := map[string][]string{
		KindReportAck:      {"Receipt id:", "What happens next"},
		KindReportOutcome:  {"What we decided", "Receipt id:"},
		KindCustomerAction: {"Grounds for the decision", "statement of reasons", "Reply to this message to appeal within 6 months"},
	}
	for _, p := range ps {
		if p.Subject == "" || strings.ContainsAny(p.Subject, "\r\n") || strings.HasPrefix(p.Body, "\n") {
			t.Errorf("%s: subject %q", p.Kind, p.Subject)
		}
		for _, w := range want[p.Kind] {
			if !strings.Contains(p.Body, w) {
				t.Errorf("%s preview lacks %q:\n%s", p.Kind, w, p.Body)
			}
		}
	}
	if _, err := Preview("nope"); err == nil {
		t.Error("unknown kind previewed")
	}
}

// TestSubjectIsOneLine: free text cannot add a header.
func TestSubjectIsOneLine(t *testing.T) {
	r, err := render(KindCustomerAction, actionData{Action: "Warning\r\nBcc: x@evil.example", Hostnames: []string{"a.example"}, CaseRef: "D-1-1"})
	if err != nil {
		t.Fatal(err)
	}
	if strings.ContainsAny(r.Subject, "\r\n") {
		t.Errorf("subject %q", r.Subject)
	}
}

func TestMessage(t *testing.T) {
	created := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	n := &Notice{ID: 7, Kind: KindReportAck, Recipient: "someone@example.org", Subject: "Grüße", Body: "Zoë\n", CreatedAt: created}
	m, err := message(DefaultMailFrom, n, created)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	if _, err := m.WriteTo(&b); err != nil {
		t.Fatal(err)
	}
	raw := b.String()
	for _, h := range []string{"From: \"Docket\" <abuse@docket.example>", "To: <someone@example.org>", "Message-ID: <notice-7-", "@docket.example>", "MIME-Version: 1.0", "Content-Type: text/plain; charset=UTF-8", "Date: "} {
		if !strings.Contains(raw, h) {
			t.Errorf("message lacks %q:\n%s", h, raw)
		}
	}
	if _, err := message(DefaultMailFrom, &Notice{Recipient: "not an address"}, created); err == nil {
		t.Error("bad recipient accepted")
	}
}
