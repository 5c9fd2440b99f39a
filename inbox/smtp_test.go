package inbox_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"strings"
	"testing"

	"github.com/emersion/go-smtp"

	"github.com/dockethq/docket/inbox"
	"github.com/dockethq/docket/internal/database"
	"github.com/dockethq/docket/internal/testdb"
)

// A real SMTP client delivers over loopback: the message is stored and its
// report filed before the server answers 250; a stranger's recipient and an
// oversized message are refused and store nothing.
func TestSMTPListener(t *testing.T) {
	raw := sample(t, "xarf-abuseio-netcraft-fraud-phishing-uri.eml")
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		e := newEnv(t, db)
		l, err := e.in.ListenSMTP(inbox.SMTPConfig{Addr: "127.0.0.1:0", Domain: "docket.test", Recipients: []string{"abuse@docket.example", "@abuse.docket.example"}},
			slog.New(slog.NewTextHandler(io.Discard, nil)))
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- l.Serve(ctx) }()
		defer func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("serve: %v", err)
			}
		}()

		if err := send(l.Addr(), "takedown-response+0317484@netcraft.com", []string{"abuse@docket.example"}, bytes.NewReader(raw)); err != nil {
			t.Fatalf("send: %v", err)
		}
		// SendMail returned after 250: the message is committed now.
		var m inbox.Mail
		if err := db.R.Order("id DESC").Take(&m).Error; err != nil {
			t.Fatal(err)
		}
		crlf := bytes.ReplaceAll(raw, []byte("\n"), []byte("\r\n"))
		if m.Source != "smtp" || m.EnvelopeFrom != "takedown-response+0317484@netcraft.com" || m.Status != inbox.StatusFiled || !bytes.Equal(m.Raw, crlf) {
			t.Errorf("stored %s from %q status %s (raw equal %v)", m.Source, m.EnvelopeFrom, m.Status, bytes.Equal(m.Raw, crlf))
		}
		var reports int64
		db.R.Table("reports").Where("channel = 'email' AND category = 'phishing'").Count(&reports)
		if reports != 1 {
			t.Errorf("%d phishing reports by email, want 1", reports)
		}
		// A second delivery of the same message (a sender's retry) is accepted and files nothing.
		if err := send(l.Addr(), "x@netcraft.com", []string{"Desk@Abuse.Docket.Example"}, bytes.NewReader(raw)); err != nil {
			t.Fatalf("resend: %v", err)
		}
		db.R.Table("reports").Where("channel = 'email'").Count(&reports)
		if reports != 1 {
			t.Errorf("%d email reports after a retry, want 1", reports)
		}

		var se *smtp.SMTPError
		err = send(l.Addr(), "a@b.example", []string{"postmaster@elsewhere.example"}, strings.NewReader("Subject: x\r\n\r\nx\r\n"))
		if !errors.As(err, &se) || se.Code != 550 {
			t.Errorf("stranger recipient: %v", err)
		}
		big := append([]byte("Subject: big\r\n\r\n"), bytes.Repeat([]byte("0123456789abcdef\r\n"), (25<<20)/18+10)...)
		err = send(l.Addr(), "a@b.example", []string{"abuse@docket.example"}, bytes.NewReader(big))
		if !errors.As(err, &se) || se.Code != 552 {
			t.Errorf("oversized: %v", err)
		}
		var n int64
		db.R.Table("inbound_mail").Count(&n)
		if n != 1 {
			t.Errorf("%d messages stored, want 1", n)
		}
	})
}

// send delivers one message in plain text, as a relay on a private network
// would (go-smtp's SendMail insists on STARTTLS).
func send(addr, from string, to []string, r io.Reader) error {
	c, err := smtp.Dial(addr)
	if err != nil {
		return err
	}
	defer c.Close()
	if err := c.Hello("relay.test"); err != nil {
		return err
	}
	if err := c.Mail(from, nil); err != nil {
		return err
	}
	for _, a := range to {
		if err := c.Rcpt(a, nil); err != nil {
			return err
		}
	}
	w, err := c.Data()
	if err != nil {
		return err
	}
	if _, err := io.Copy(w, r); err != nil {
		w.Close()
		return err
	}
	if err := w.Close(); err != nil {
		return err
	}
	return c.Quit()
}
