// Package inbox is email intake: every message Docket receives (stdin, a
// Maildir, an mbox, the SMTP listener) is stored whole in inbound_mail first,
// then read by intake/abusemail, and each report it carries is filed through
// cases.Service.FileReport as a network reporter's email report — the same
// normalization as every other channel. What cannot be filed by itself (not a
// report, broken, names only an IP address) waits in the "unparsed mail" queue
// for a reviewer, who files it as a report or dismisses it. Nothing is dropped.
package inbox

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/mail"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"gorm.io/gorm"

	"github.com/dockethq/docket/audit"
	"github.com/dockethq/docket/cases"
	"github.com/dockethq/docket/intake"
	"github.com/dockethq/docket/intake/abusemail"
	"github.com/dockethq/docket/internal/database"
	"github.com/dockethq/docket/internal/errs"
)

// Statuses of an inbound message.
const (
	StatusFiled     = "filed"     // its reports were filed
	StatusParsed    = "parsed"    // read, but Docket could not file it by itself
	StatusUnparsed  = "unparsed"  // not a report Docket can read, or broken
	StatusDismissed = "dismissed" // a reviewer set it aside
)

// Statuses lists them for filters.
var Statuses = []string{StatusUnparsed, StatusParsed, StatusFiled, StatusDismissed}

// QueueStatuses are the statuses that wait for a human.
var QueueStatuses = []string{StatusParsed, StatusUnparsed}

// interrupted is the reason a message carries between being stored and its
// reports being filed: if Docket stops in between, a reviewer sees it.
const interrupted = "Received, but Docket stopped before it finished filing this message's reports. Check its receipts before filing it again."

// Mail is one inbound message.
type Mail struct {
	ID           int64
	ReceivedAt   time.Time
	Source       string // smtp, stdin, maildir, mbox
	EnvelopeFrom string
	FromName     string
	FromEmail    string
	Subject      string
	MessageID    string
	Format       string
	Size         int64
	SHA256       string `gorm:"column:sha256"`
	Raw          []byte
	Status       string
	Reason       string
	Restricted   bool // about csam: only for those who may read the restricted queue
	HandledBy    *int64
	HandledAt    *time.Time
}

// TableName is the table of inbound messages.
func (Mail) TableName() string { return "inbound_mail" }

type mailReport struct {
	InboundMailID int64
	ReportID      int64
}

func (mailReport) TableName() string { return "inbound_mail_reports" }

// Service stores inbound mail, files its reports and runs the queue.
type Service struct {
	db    *database.DB
	cases *cases.Service
	now   func() time.Time
}

// NewService returns an inbox filing through cs.
func NewService(db *database.DB, cs *cases.Service, now func() time.Time) *Service {
	return &Service{db: db, cases: cs, now: now}
}

// Source says how a message arrived.
type Source struct {
	Channel      string // smtp, stdin, maildir, mbox
	EnvelopeFrom string // SMTP MAIL FROM, if any
}

// Result is what became of one message.
type Result struct {
	Mail      *Mail
	Receipts  []string // receipt ids of the reports filed
	Duplicate bool     // the same bytes were received before; nothing new was done
}

// ErrTooLarge refuses a message over abusemail.MaxSize: it is not stored.
var ErrTooLarge = errs.E(errs.Invalid, "The message is larger than %d MB; Docket does not accept it.", abusemail.MaxSize>>20)

// Ingest stores raw and files the reports it carries. The message is
// committed before anything else happens, so a failure later leaves it in
// the queue rather than lost. The same bytes twice (a retried SMTP delivery,
// a Maildir re-run after a crash) are recognized by their SHA-256 and not
// filed again. Only an outage returns an error; mail Docket cannot read is a
// result (status unparsed), not an error.
func (s *Service) Ingest(ctx context.Context, raw []byte, src Source) (*Result, error) {
	if len(raw) > abusemail.MaxSize {
		return nil, ErrTooLarge
	}
	sum := sha256.Sum256(raw)
	digest := hex.EncodeToString(sum[:])
	if m, err := s.bySHA(ctx, digest); err != nil || m != nil {
		if err != nil {
			return nil, err
		}
		rs, err := s.receipts(ctx, m.ID)
		return &Result{Mail: m, Receipts: rs, Duplicate: true}, err
	}
	msg, perr := abusemail.Parse(raw)
	now := s.now().UTC()
	m := &Mail{
		ReceivedAt: now, Source: src.Channel, EnvelopeFrom: clip(src.EnvelopeFrom, 500), Size: int64(len(raw)),
		SHA256: digest, Raw: raw, Status: StatusUnparsed, Reason: interrupted, Format: abusemail.FormatPlain,
	}
	if msg != nil {
		m.FromName, m.FromEmail, m.Subject, m.MessageID, m.Format = msg.FromName, clip(msg.FromEmail, 320), msg.Subject, msg.MessageID, msg.Format
		for _, r := range msg.Reports {
			if r.Category == cases.CSAM {
				m.Restricted = true
			}
		}
	}
	err := s.db.W.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Create(m).Error; err != nil {
			return err
		}
		return audit.Record(tx, now, "system:mail", "mail.received", "inbound_mail", strconv.FormatInt(m.ID, 10),
			map[string]any{"source": m.Source, "size": m.Size, "sha256": digest, "from": m.FromEmail})
	})
	if err != nil {
		// Two deliveries of the same bytes at once: the unique index keeps one.
		if again, ferr := s.bySHA(ctx, digest); ferr == nil && again != nil {
			rs, rerr := s.receipts(ctx, again.ID)
			return &Result{Mail: again, Receipts: rs, Duplicate: true}, rerr
		}
		return nil, fmt.Errorf("store inbound mail: %w", err)
	}

	res := &Result{Mail: m}
	var skipped []string
	var filed []*cases.Report
	if perr != nil {
		var pe *abusemail.Error
		if errors.As(perr, &pe) {
			skipped = append(skipped, pe.Reason)
		} else {
			skipped = append(skipped, "The message cannot be read.")
		}
	} else {
		for i := range msg.Reports {
			reps, why, err := s.fileParsed(ctx, m, &msg.Reports[i])
			if err != nil {
				return nil, err // an outage: the message stays queued with the interrupted reason
			}
			filed = append(filed, reps...)
			skipped = append(skipped, why...)
		}
	}
	status := StatusUnparsed
	switch {
	case len(filed) > 0:
		status = StatusFiled
	case perr == nil:
		status = StatusParsed
	}
	reason := strings.Join(skipped, " ")
	if err := s.settle(ctx, m, status, reason, filed, nil, "system:mail", "mail.ingested", false); err != nil {
		return nil, err
	}
	for _, r := range filed {
		res.Receipts = append(res.Receipts, r.PublicID)
	}
	return res, nil
}

// fileParsed files one parsed report, once per target it names. It returns
// the reports filed and, for what it could not file, why.
func (s *Service) fileParsed(ctx context.Context, m *Mail, r *abusemail.Report) ([]*cases.Report, []string, error) {
	if r.NotAbuse != "" {
		return nil, []string{r.NotAbuse}, nil
	}
	urls := targetURLs(r)
	if len(urls) == 0 {
		if len(r.IPs) > 0 {
			return nil, []string{fmt.Sprintf("The %s report names only an IP address (%s); Docket matches reports to sites by URL or hostname.", r.Type, strings.Join(r.IPs, ", "))}, nil
		}
		return nil, []string{fmt.Sprintf("The %s report names no URL or hostname.", r.Type)}, nil
	}
	var out []*cases.Report
	var why []string
	for _, u := range urls {
		rep, err := s.cases.FileReport(ctx, cases.NewReport{
			Channel: cases.ChannelEmail, ReporterKind: cases.ReporterNetwork,
			ReporterName: clip(r.ReporterName, cases.MaxName), ReporterEmail: validEmail(r.ReporterEmail),
			Category: r.Category, URL: u, Description: description(m, r),
		})
		if e, ok := errs.As(err); ok && e.Code == errs.Invalid {
			msg := e.Message
			for _, f := range e.Fields {
				msg = f
				break
			}
			why = append(why, fmt.Sprintf("Could not file %s: %s", u, msg))
			continue
		}
		if err != nil {
			return nil, nil, err
		}
		out = append(out, rep)
	}
	return out, why, nil
}

// targetURLs is what a report is filed against: each URL, and each domain no
// URL already covers (as http://domain/).
func targetURLs(r *abusemail.Report) []string {
	var out []string
	var hosts []string
	for _, u := range r.URLs {
		if t, err := intake.NormalizeURL(u); err == nil {
			hosts = append(hosts, t.Host)
		}
		out = append(out, u)
	}
	for _, d := range r.Domains {
		covered := false
		for _, h := range hosts {
			if h == d || strings.HasSuffix(h, "."+d) {
				covered = true
			}
		}
		if !covered {
			out = append(out, "http://"+d+"/")
		}
	}
	return out
}

// description is what the report says, with where it came from.
func description(m *Mail, r *abusemail.Report) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Received by email (inbound mail #%d).", m.ID)
	if r.Reference != "" {
		fmt.Fprintf(&b, " Reference: %s.", r.Reference)
	}
	if !r.Time.IsZero() {
		fmt.Fprintf(&b, " Observed: %s.", r.Time.UTC().Format(time.RFC3339))
	}
	b.WriteString("\n")
	b.WriteString(r.Description)
	d := b.String()
	if utf8.RuneCountInString(d) > cases.MaxDescription {
		d = string([]rune(d)[:cases.MaxDescription-1]) + "…"
	}
	return d
}

// settle records the outcome of a message in one transaction: status,
// reason, the reports it produced, the audit event.
func (s *Service) settle(ctx context.Context, m *Mail, status, reason string, filed []*cases.Report, by *int64, actor, action string, restrict bool) error {
	now := s.now().UTC()
	return s.db.W.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		upd := map[string]any{"status": status, "reason": clip(reason, 4000)}
		if by != nil {
			upd["handled_by"], upd["handled_at"] = *by, now
		}
		if restrict {
			upd["restricted"] = true
		}
		// Conditional on the status the caller saw: of a reviewer filing and
		// another dismissing at once, one wins and the other is told.
		res := tx.Model(&Mail{}).Where("id = ? AND status = ?", m.ID, m.Status).Updates(upd)
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return errs.E(errs.Conflict, "This message changed while you were looking at it. Reload the page.")
		}
		var receipts []string
		for _, r := range filed {
			if err := tx.Create(&mailReport{InboundMailID: m.ID, ReportID: r.ID}).Error; err != nil {
				return err
			}
			receipts = append(receipts, r.PublicID)
		}
		m.Status, m.Reason = status, clip(reason, 4000)
		return audit.Record(tx, now, actor, action, "inbound_mail", strconv.FormatInt(m.ID, 10),
			map[string]any{"status": status, "reason": m.Reason, "receipts": receipts})
	})
}

func (s *Service) bySHA(ctx context.Context, digest string) (*Mail, error) {
	var ms []Mail
	if err := s.db.W.WithContext(ctx).Omit("raw").Where("sha256 = ?", digest).Limit(1).Find(&ms).Error; err != nil {
		return nil, err
	}
	if len(ms) == 0 {
		return nil, nil
	}
	return &ms[0], nil
}

func (s *Service) receipts(ctx context.Context, id int64) ([]string, error) {
	var rs []string
	err := s.db.W.WithContext(ctx).Table("inbound_mail_reports").Select("reports.public_id").
		Joins("JOIN reports ON reports.id = inbound_mail_reports.report_id").
		Where("inbound_mail_reports.inbound_mail_id = ?", id).Order("reports.id").Scan(&rs).Error
	return rs, err
}

func validEmail(e string) string {
	e = strings.ToLower(strings.TrimSpace(e))
	if a, err := mail.ParseAddress(e); err != nil || a.Address != e || len(e) > 254 {
		return ""
	}
	return e
}

func clip(s string, n int) string {
	if utf8.RuneCountInString(s) > n {
		return string([]rune(s)[:n])
	}
	return s
}
