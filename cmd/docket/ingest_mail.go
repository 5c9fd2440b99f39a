package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/emersion/go-mbox"

	"github.com/dockethq/docket/inbox"
	"github.com/dockethq/docket/intake/abusemail"
)

// cmdIngestMail reads abuse mail into Docket: one message from stdin, every
// new message of a Maildir, or every message of an mbox file. Each message is
// stored whole and its reports filed; what cannot be filed waits in the
// unparsed-mail queue. Only an outage (the database) fails the command.
func cmdIngestMail(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	var maildirPath, mboxPath string
	cfg, rest, err := parse("ingest-mail", args, stderr, func(fs *flag.FlagSet) {
		fs.StringVar(&maildirPath, "maildir", "", "ingest every message in DIR/new, then move it to DIR/cur flagged seen (:2,S)")
		fs.StringVar(&mboxPath, "mbox", "", "ingest every message of an mbox FILE")
	})
	if err != nil {
		return err
	}
	if len(rest) > 0 || (maildirPath != "" && mboxPath != "") {
		return errors.New("usage: docket ingest-mail [--maildir DIR | --mbox FILE]  (default: one message from stdin)")
	}
	a, err := open(ctx, cfg, stderr)
	if err != nil {
		return err
	}
	defer a.db.Close()
	in := inbox.NewService(a.db, a.cases, time.Now)
	switch {
	case maildirPath != "":
		return ingestMaildir(ctx, in, maildirPath, stdout)
	case mboxPath != "":
		return ingestMbox(ctx, in, mboxPath, stdout)
	default:
		raw, err := io.ReadAll(io.LimitReader(stdin, abusemail.MaxSize+1))
		if err != nil {
			return fmt.Errorf("read stdin: %w", err)
		}
		_, err = ingestOne(ctx, in, raw, "stdin", "stdin", stdout)
		return err
	}
}

// ingestOne ingests one message and prints what became of it. It reports
// whether the message is now safely stored (false: refused as too large).
func ingestOne(ctx context.Context, in *inbox.Service, raw []byte, channel, label string, stdout io.Writer) (bool, error) {
	res, err := in.Ingest(ctx, raw, inbox.Source{Channel: channel})
	if errors.Is(err, inbox.ErrTooLarge) {
		fmt.Fprintf(stdout, "%s: refused, %d bytes is over the %d MB limit; not stored\n", label, len(raw), abusemail.MaxSize>>20)
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("%s: %w", label, err)
	}
	m := res.Mail
	switch {
	case res.Duplicate:
		fmt.Fprintf(stdout, "%s: already received as #%d (%s)%s\n", label, m.ID, m.Status, receiptList(res.Receipts))
	case m.Status == inbox.StatusFiled:
		fmt.Fprintf(stdout, "%s: #%d filed%s", label, m.ID, receiptList(res.Receipts))
		if m.Reason != "" {
			fmt.Fprintf(stdout, "; not filed: %s", m.Reason)
		}
		fmt.Fprintln(stdout)
	default:
		fmt.Fprintf(stdout, "%s: kept as %s #%d (%s)\n", label, m.Status, m.ID, m.Reason)
	}
	return true, nil
}

func receiptList(rs []string) string {
	if len(rs) == 0 {
		return ""
	}
	return ": receipts " + strings.Join(rs, " ")
}

// ingestMaildir ingests DIR/new in name order (Maildir names start with the
// delivery time). Each message is moved to cur with the seen flag only after
// it is stored, so a re-run picks up exactly what was not; a crash between
// the two is caught by the inbox's duplicate check.
func ingestMaildir(ctx context.Context, in *inbox.Service, dir string, stdout io.Writer) error {
	entries, err := os.ReadDir(filepath.Join(dir, "new"))
	if err != nil {
		return fmt.Errorf("maildir %s: %w", dir, err)
	}
	if _, err := os.Stat(filepath.Join(dir, "cur")); err != nil {
		return fmt.Errorf("maildir %s: %w", dir, err)
	}
	names := make([]string, 0, len(entries))
	for _, e := range entries {
		if !e.IsDir() && !strings.HasPrefix(e.Name(), ".") {
			names = append(names, e.Name())
		}
	}
	sort.Strings(names)
	for _, name := range names {
		if err := ctx.Err(); err != nil {
			return err
		}
		path := filepath.Join(dir, "new", name)
		raw, err := readCapped(path)
		if err != nil {
			return err
		}
		stored, err := ingestOne(ctx, in, raw, "maildir", name, stdout)
		if err != nil {
			return err
		}
		if !stored {
			continue // refused: left in new/ for the operator to see
		}
		// The key is the name up to the info part (":2,…"), which messages in
		// new/ should not have but sometimes do.
		key, _, _ := strings.Cut(name, ":")
		if err := os.Rename(path, filepath.Join(dir, "cur", key+":2,S")); err != nil {
			return fmt.Errorf("maildir: mark %s seen: %w", name, err)
		}
	}
	if len(names) == 0 {
		fmt.Fprintf(stdout, "no new messages in %s\n", dir)
	}
	return nil
}

func readCapped(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(io.LimitReader(f, abusemail.MaxSize+1))
}

// ingestMbox ingests every message of an mbox file (mboxrd/mboxo "From "
// separators). A re-run reports the messages already received.
func ingestMbox(ctx context.Context, in *inbox.Service, path string, stdout io.Writer) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("mbox: %w", err)
	}
	defer f.Close()
	r := mbox.NewReader(f)
	for i := 1; ; i++ {
		if err := ctx.Err(); err != nil {
			return err
		}
		msg, err := r.NextMessage()
		if err == io.EOF {
			if i == 1 {
				fmt.Fprintf(stdout, "no messages in %s\n", path)
			}
			return nil
		}
		if err != nil {
			return fmt.Errorf("mbox %s, message %d: %w", path, i, err)
		}
		raw, err := io.ReadAll(io.LimitReader(msg, abusemail.MaxSize+1))
		if err != nil {
			return fmt.Errorf("mbox %s, message %d: %w", path, i, err)
		}
		if _, err := ingestOne(ctx, in, raw, "mbox", fmt.Sprintf("message %d", i), stdout); err != nil {
			return err
		}
	}
}

// baseHost is the host of Docket's URL, for the SMTP greeting.
func baseHost(base string) string {
	if u, err := url.Parse(base); err == nil && u.Hostname() != "" {
		return u.Hostname()
	}
	return "docket"
}
