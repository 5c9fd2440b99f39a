package notify

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net/mail"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/riverqueue/river"
	gomail "github.com/wneessen/go-mail"

	"github.com/dockethq/docket/internal/reqlog"
)

type mailWorker struct {
	river.WorkerDefaults[noticeArgs]
	n *Notifier
}

// errBadAddress marks a notice that can never be sent (a malformed recipient or
// sender): it is dead at once rather than retried until the horizon.
var errBadAddress = errors.New("bad address")

// Work makes one attempt at one notice: by SMTP when a relay is configured, else
// as an .eml file in the outbox folder. A failure is returned so River retries
// with the notifier's backoff; past the delivery horizon the notice is dead.
func (w *mailWorker) Work(ctx context.Context, job *river.Job[noticeArgs]) error {
	n := w.n
	ctx = reqlog.WithRequestID(ctx, job.Args.RequestID)
	db := n.db.W.WithContext(ctx)
	var no Notice
	if err := db.Take(&no, job.Args.NoticeID).Error; err != nil {
		return river.JobCancel(fmt.Errorf("notice %d: %w", job.Args.NoticeID, err))
	}
	if no.State != "pending" {
		return nil
	}
	now := n.now().UTC()
	if now.Sub(no.CreatedAt) > n.cfg.Horizon {
		err := fmt.Errorf("gave up after %s: %s", n.cfg.Horizon, no.LastError)
		db.Model(&no).Updates(map[string]any{"state": "dead", "last_error": truncate(err.Error(), 500)})
		n.log.ErrorContext(ctx, "notice dead-lettered", "notice", no.ID, "kind", no.Kind, "attempts", no.Attempts)
		n.observeNotice(false)
		return river.JobCancel(scrubRecipient(err, no.Recipient))
	}
	sendErr := n.sendNotice(ctx, &no, now)
	upd := map[string]any{"attempts": no.Attempts + 1}
	if sendErr != nil {
		upd["last_error"] = truncate(sendErr.Error(), 500)
		if errors.Is(sendErr, errBadAddress) {
			upd["state"] = "dead"
		}
	} else {
		upd["state"], upd["sent_at"], upd["last_error"] = "sent", n.now().UTC(), ""
	}
	if err := db.Model(&no).Updates(upd).Error; err != nil {
		return err
	}
	// River logs a job's error: the recipient (perhaps a reporter) stays out of it.
	sendErr = scrubRecipient(sendErr, no.Recipient)
	if errors.Is(sendErr, errBadAddress) {
		n.log.ErrorContext(ctx, "notice cannot be sent", "notice", no.ID, "kind", no.Kind, "err", sendErr)
		n.observeNotice(false)
		return river.JobCancel(sendErr)
	}
	if sendErr == nil {
		n.observeNotice(true)
		n.log.DebugContext(ctx, "notice sent", "notice", no.ID, "kind", no.Kind)
	}
	return sendErr
}

func (n *Notifier) observeNotice(sent bool) {
	switch {
	case n.cfg.Observer == nil:
	case sent:
		n.cfg.Observer.NoticeSent()
	default:
		n.cfg.Observer.NoticeDead()
	}
}

// scrubRecipient replaces the recipient's address in err's text (an SMTP
// server's rejection quotes it) so the error can be logged.
func scrubRecipient(err error, recipient string) error {
	if err == nil {
		return nil
	}
	msg := err.Error()
	addr := recipient
	if a, perr := mail.ParseAddress(recipient); perr == nil {
		addr = a.Address
	}
	if strings.TrimSpace(addr) == "" || !strings.Contains(strings.ToLower(msg), strings.ToLower(addr)) && !strings.Contains(msg, recipient) {
		return err
	}
	msg = strings.ReplaceAll(msg, recipient, "<recipient>")
	msg = replaceFold(msg, addr, "<recipient>")
	return &scrubbedError{msg: msg, err: err}
}

type scrubbedError struct {
	msg string
	err error
}

func (e *scrubbedError) Error() string { return e.msg }
func (e *scrubbedError) Unwrap() error { return e.err }

// replaceFold replaces every case-insensitive occurrence of old in s.
func replaceFold(s, old, with string) string {
	if old == "" {
		return s
	}
	lower, lo := strings.ToLower(s), strings.ToLower(old)
	var b strings.Builder
	for {
		i := strings.Index(lower, lo)
		if i < 0 {
			b.WriteString(s)
			return b.String()
		}
		b.WriteString(s[:i])
		b.WriteString(with)
		s, lower = s[i+len(old):], lower[i+len(lo):]
	}
}

// sendNotice sends or files one notice.
func (n *Notifier) sendNotice(ctx context.Context, no *Notice, now time.Time) error {
	mc := n.cfg.Mail
	m, err := message(mc.from(), no, now)
	if err != nil {
		return err
	}
	if mc.SMTPURL == "" {
		return writeEML(mc.outbox(), no, m)
	}
	t, err := parseSMTPURL(mc.SMTPURL)
	if err != nil {
		return fmt.Errorf("%w: %v", errBadAddress, err) // a configuration error: no retry fixes it
	}
	c, err := smtpClient(t)
	if err != nil {
		return err
	}
	if err := c.DialAndSendWithContext(ctx, m); err != nil {
		return fmt.Errorf("smtp %s:%d: %w", t.Host, t.Port, err)
	}
	return nil
}

// message builds the RFC 5322 message of a notice. The Message-ID depends only
// on the notice, so a retried notice is recognisably the same message.
func message(from string, no *Notice, now time.Time) (*gomail.Msg, error) {
	sender, err := mail.ParseAddress(from)
	if err != nil {
		return nil, fmt.Errorf("%w: sender %q: %v", errBadAddress, from, err)
	}
	to, err := mail.ParseAddress(no.Recipient)
	if err != nil {
		return nil, fmt.Errorf("%w: recipient %q: %v", errBadAddress, no.Recipient, err)
	}
	m := gomail.NewMsg(gomail.WithNoDefaultUserAgent())
	m.FromMailAddress(sender)
	m.ToMailAddress(to)
	m.Subject(no.Subject)
	m.SetDateWithValue(now)
	domain := sender.Address[strings.LastIndexByte(sender.Address, '@')+1:]
	m.SetMessageIDWithValue(fmt.Sprintf("notice-%d-%d@%s", no.ID, no.CreatedAt.Unix(), domain))
	m.SetGenHeader("Auto-Submitted", "auto-generated")
	m.SetBodyString(gomail.TypeTextPlain, no.Body)
	return m, nil
}

// emlName is the outbox file of a notice: sortable by time, one per notice, so a
// retry overwrites rather than duplicates.
func emlName(no *Notice) string {
	kind := no.Kind
	if no.Topic != "" {
		kind = no.Topic
	}
	return fmt.Sprintf("%s-notice-%d-%s.eml", no.CreatedAt.UTC().Format("20060102T150405Z"), no.ID, strings.ReplaceAll(kind, "_", "-"))
}

// writeEML writes the message into dir, atomically: a reader of the folder never
// sees half a message.
func writeEML(dir string, no *Notice, m *gomail.Msg) error {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return fmt.Errorf("outbox folder: %w", err)
	}
	f, err := os.CreateTemp(dir, ".notice-*.tmp")
	if err != nil {
		return fmt.Errorf("outbox: %w", err)
	}
	defer os.Remove(f.Name())
	if _, err := m.WriteTo(f); err != nil {
		f.Close()
		return fmt.Errorf("outbox: %w", err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("outbox: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("outbox: %w", err)
	}
	if err := os.Chmod(f.Name(), 0o640); err != nil {
		return fmt.Errorf("outbox: %w", err)
	}
	if err := os.Rename(f.Name(), filepath.Join(dir, emlName(no))); err != nil {
		return fmt.Errorf("outbox: %w", err)
	}
	return nil
}

// smtpClient builds a go-mail client for the relay. Plain connections are allowed
// (a relay on localhost, a test server); credentials are sent in the clear only
// to localhost, which go-mail's PLAIN and LOGIN refuse otherwise.
func smtpClient(t smtpTarget) (*gomail.Client, error) {
	opts := []gomail.Option{
		gomail.WithPort(t.Port),
		gomail.WithTimeout(10 * time.Second),
		gomail.WithTLSConfig(&tls.Config{ServerName: t.Host, MinVersion: tls.VersionTLS12}),
	}
	switch t.TLS {
	case tlsImplicit:
		opts = append(opts, gomail.WithSSL())
	case tlsRequired:
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSMandatory))
	case tlsNone:
		opts = append(opts, gomail.WithTLSPolicy(gomail.NoTLS))
	default:
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSOpportunistic))
	}
	if t.User != "" {
		opts = append(opts, gomail.WithUsername(t.User), gomail.WithPassword(t.Password),
			gomail.WithOpportunisticSMTPAuth(gomail.SMTPAuthPlain, gomail.SMTPAuthLogin))
	}
	c, err := gomail.NewClient(t.Host, opts...)
	if err != nil {
		return nil, fmt.Errorf("smtp client: %w", err)
	}
	return c, nil
}
