package main

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-maildir"
	"github.com/emersion/go-mbox"
	"github.com/emersion/go-smtp"

	"github.com/dockethq/docket/cases"
	"github.com/dockethq/docket/inbox"
	"github.com/dockethq/docket/internal/database"
	"github.com/dockethq/docket/internal/testdb"
	"github.com/dockethq/docket/notify"
)

// sharedMailDir is ../shared/testdata/mail from the project root;
// DOCKET_TEST_SHARED names the shared folder elsewhere.
func sharedMailDir(t *testing.T) string {
	t.Helper()
	base := filepath.Join("..", "..", "..", "shared")
	if v := os.Getenv("DOCKET_TEST_SHARED"); v != "" {
		base = v
	}
	dir := filepath.Join(base, "testdata", "mail")
	if _, err := os.Stat(dir); err != nil {
		testdb.Unavailable(t, "shared test data "+dir, err)
	}
	return dir
}

func samples(t *testing.T) [][]byte {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(sharedMailDir(t), "*.eml"))
	slices.Sort(files)
	var out [][]byte
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, b)
	}
	if len(out) < 6 {
		t.Fatalf("%d samples", len(out))
	}
	return out
}

// The command itself: one message on stdin, unreadable mail kept (exit 0),
// the database down fails.
func TestIngestMailStdin(t *testing.T) {
	netcraft, err := os.ReadFile(filepath.Join(sharedMailDir(t), "xarf-abuseio-netcraft-fraud-phishing-uri.eml"))
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv("DOCKET_DATABASE_URL", filepath.Join(t.TempDir(), "mail.db"))
	out, err := docket(t, string(netcraft), "ingest-mail")
	if err != nil || !strings.Contains(out, "stdin: #1 filed: receipts ") {
		t.Fatalf("stdin: %v\n%s", err, out)
	}
	out, err = docket(t, string(netcraft), "ingest-mail")
	if err != nil || !strings.Contains(out, "already received as #1 (filed)") {
		t.Fatalf("again: %v\n%s", err, out)
	}
	out, err = docket(t, "this is not\x00 mail", "ingest-mail")
	if err != nil || !strings.Contains(out, "kept as unparsed #2 (") {
		t.Fatalf("garbage: %v\n%s", err, out)
	}
	if _, err := docket(t, "", "ingest-mail", "--maildir", "a", "--mbox", "b"); err == nil {
		t.Error("both --maildir and --mbox accepted")
	}
	t.Setenv("DOCKET_DATABASE_URL", "postgres://postgres@127.0.0.1:1/nothing?sslmode=disable&connect_timeout=2")
	if _, err := docket(t, string(netcraft), "ingest-mail"); err == nil {
		t.Error("ingest with the database down succeeded")
	}
}

func newInbox(t *testing.T, db *database.DB) *inbox.Service {
	t.Helper()
	cs := cases.NewService(db, time.Now)
	if err := notify.Migrate(context.Background(), db); err != nil {
		t.Fatal(err)
	}
	if _, err := notify.New(notify.Config{Mail: notify.MailConfig{Outbox: t.TempDir()}}, db, cs, slog.New(slog.NewTextHandler(io.Discard, nil)), time.Now); err != nil {
		t.Fatal(err)
	}
	return inbox.NewService(db, cs, time.Now)
}

// A Maildir: every message in new/ is ingested and moved to cur/ flagged
// seen, so a re-run finds nothing new.
func TestIngestMaildir(t *testing.T) {
	raws := samples(t)
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		in := newInbox(t, db)
		dir := filepath.Join(t.TempDir(), "Maildir")
		md := maildir.Dir(dir)
		if err := md.Init(); err != nil {
			t.Fatal(err)
		}
		for _, raw := range raws {
			d, err := maildir.NewDelivery(dir)
			if err != nil {
				t.Fatal(err)
			}
			d.Write(raw)
			if err := d.Close(); err != nil {
				t.Fatal(err)
			}
		}
		var out bytes.Buffer
		if err := ingestMaildir(context.Background(), in, dir, &out); err != nil {
			t.Fatal(err)
		}
		if n := strings.Count(out.String(), " filed: receipts "); n != 3 {
			t.Errorf("%d filed, want 3:\n%s", n, out.String())
		}
		if n := strings.Count(out.String(), "kept as parsed #"); n != 3 {
			t.Errorf("%d kept, want 3:\n%s", n, out.String())
		}
		if left, _ := os.ReadDir(filepath.Join(dir, "new")); len(left) != 0 {
			t.Errorf("%d messages left in new/", len(left))
		}
		keys, err := md.Keys()
		if err != nil || len(keys) != len(raws) {
			t.Fatalf("keys %v %v", keys, err)
		}
		for _, k := range keys {
			if fl, err := md.Flags(k); err != nil || !slices.Contains(fl, maildir.FlagSeen) {
				t.Errorf("%s flags %v %v", k, fl, err)
			}
		}
		out.Reset()
		if err := ingestMaildir(context.Background(), in, dir, &out); err != nil || !strings.Contains(out.String(), "no new messages") {
			t.Errorf("re-run: %v\n%s", err, out.String())
		}
		var stored int64
		db.R.Table("inbound_mail").Where("source = 'maildir'").Count(&stored)
		if stored != int64(len(raws)) {
			t.Errorf("%d stored", stored)
		}
		if err := ingestMaildir(context.Background(), in, filepath.Join(dir, "missing"), &out); err == nil {
			t.Error("a missing Maildir is not an error")
		}
	})
}

// An mbox: every message is ingested; a re-run files nothing twice.
func TestIngestMbox(t *testing.T) {
	raws := samples(t)
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		in := newInbox(t, db)
		path := filepath.Join(t.TempDir(), "abuse.mbox")
		f, err := os.Create(path)
		if err != nil {
			t.Fatal(err)
		}
		w := mbox.NewWriter(f)
		for _, raw := range raws {
			mw, err := w.CreateMessage("sender@example.net", time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
			if err != nil {
				t.Fatal(err)
			}
			mw.Write(raw)
		}
		w.Close()
		f.Close()
		var out bytes.Buffer
		if err := ingestMbox(context.Background(), in, path, &out); err != nil {
			t.Fatal(err)
		}
		if n := strings.Count(out.String(), " filed: receipts "); n != 3 {
			t.Errorf("%d filed, want 3:\n%s", n, out.String())
		}
		out.Reset()
		if err := ingestMbox(context.Background(), in, path, &out); err != nil || strings.Count(out.String(), "already received") != len(raws) {
			t.Errorf("re-run: %v\n%s", err, out.String())
		}
		var reports int64
		db.R.Table("reports").Where("channel = 'email'").Count(&reports)
		if reports != 3 {
			t.Errorf("%d email reports, want 3", reports)
		}
	})
}

func TestSMTPConfigErrors(t *testing.T) {
	for env, tc := range map[string][2]string{
		"DOCKET_SMTP_LISTEN":     {"2525", "not host:port"},
		"DOCKET_SMTP_RECIPIENTS": {"abuse@example.net, @bad domain", "not an address"},
	} {
		t.Run(env, func(t *testing.T) {
			t.Setenv("DOCKET_DATABASE_URL", filepath.Join(t.TempDir(), "d.db"))
			t.Setenv(env, tc[0])
			if _, err := docket(t, "", "migrate", "status"); err == nil || !strings.Contains(err.Error(), env) || !strings.Contains(err.Error(), tc[1]) {
				t.Fatalf("err = %v, want %s and %q", err, env, tc[1])
			}
		})
	}
	t.Setenv("DOCKET_DATABASE_URL", filepath.Join(t.TempDir(), "ok.db"))
	t.Setenv("DOCKET_SMTP_RECIPIENTS", "abuse@example.net,@abuse.example.org")
	if _, err := docket(t, "", "migrate", "status"); err != nil {
		t.Fatalf("good recipients refused: %v", err)
	}
}

// serve --smtp-listen receives mail by SMTP: a message sent to the address it
// prints is in the database once the server has answered.
func TestServeSMTP(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join(sharedMailDir(t), "xarf-abuseio-netcraft-fraud-phishing-uri.eml"))
	if err != nil {
		t.Fatal(err)
	}
	dbPath := filepath.Join(t.TempDir(), "smtp.db")
	t.Setenv("DOCKET_DATABASE_URL", dbPath)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"serve", "--listen", "127.0.0.1:0", "--smtp-listen", "127.0.0.1:0"}, strings.NewReader(""), pw, io.Discard)
		pw.Close()
	}()
	var addr string
	lines := bufio.NewScanner(pr)
	noBanner := closeAfter(pr, 60*time.Second)
	for addr == "" && lines.Scan() {
		addr, _ = strings.CutPrefix(lines.Text(), "Receiving abuse mail by SMTP at ")
		if addr == lines.Text() {
			addr = ""
		}
	}
	noBanner.Stop()
	if addr == "" {
		cancel()
		t.Fatalf("no SMTP banner (%v)", waitRun(done, 20*time.Second))
	}
	go io.Copy(io.Discard, pr)
	c, err := smtpDial(addr)
	if err != nil {
		t.Fatal(err)
	}
	if err := c(raw); err != nil {
		t.Fatalf("send: %v", err)
	}
	db, err := database.Open(context.Background(), dbPath)
	if err != nil {
		t.Fatal(err)
	}
	var status string
	db.R.Table("inbound_mail").Select("status").Where("source = 'smtp'").Scan(&status)
	db.Close()
	if status != inbox.StatusFiled {
		t.Errorf("status %q after SMTP delivery, want filed", status)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("serve: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("serve did not stop")
	}
}

// smtpDial returns a function that delivers one message to addr in plain text.
func smtpDial(addr string) (func(raw []byte) error, error) {
	return func(raw []byte) error {
		c, err := smtp.Dial(addr)
		if err != nil {
			return err
		}
		defer c.Close()
		if err := c.Hello("relay.test"); err != nil {
			return err
		}
		if err := c.Mail("takedown@netcraft.com", nil); err != nil {
			return err
		}
		if err := c.Rcpt("abuse@docket.example", nil); err != nil {
			return err
		}
		w, err := c.Data()
		if err != nil {
			return err
		}
		if _, err := w.Write(raw); err != nil {
			return err
		}
		if err := w.Close(); err != nil {
			return err
		}
		return c.Quit()
	}, nil
}
