package inbox

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"gorm.io/gorm"

	"github.com/dockethq/docket/audit"
	"github.com/dockethq/docket/cases"
	"github.com/dockethq/docket/intake/abusemail"
	"github.com/dockethq/docket/internal/errs"
)

// ErrNotFound is a message that does not exist.
var ErrNotFound = errs.E(errs.NotFound, "There is no such message.")

// List returns messages without their raw bytes, newest first: those waiting
// for a human when status is empty, else those in status (or all for "all").
// Restricted (csam) messages only when seeRestricted.
func (s *Service) List(ctx context.Context, status string, limit int, seeRestricted bool) ([]Mail, error) {
	q := s.db.R.WithContext(ctx).Omit("raw").Order("received_at DESC, id DESC").Limit(limit)
	if !seeRestricted {
		q = q.Where("restricted = ?", false)
	}
	switch {
	case status == "":
		q = q.Where("status IN ?", QueueStatuses)
	case status == "all":
	case slices.Contains(Statuses, status):
		q = q.Where("status = ?", status)
	default:
		return nil, errs.E(errs.Invalid, "Filter by %s or all.", strings.Join(Statuses, ", "))
	}
	var ms []Mail
	return ms, q.Find(&ms).Error
}

// Waiting counts the messages waiting for a human (the rail's badge).
func (s *Service) Waiting(ctx context.Context, seeRestricted bool) (int64, error) {
	var n int64
	q := s.db.R.WithContext(ctx).Model(&Mail{}).Where("status IN ?", QueueStatuses)
	if !seeRestricted {
		q = q.Where("restricted = ?", false)
	}
	err := q.Count(&n).Error
	return n, err
}

// FiledReport is a report a message produced, for the message page.
type FiledReport struct {
	ID       int64
	PublicID string
	CaseID   int64
	Category cases.Category
	URL      string
}

// View is a message with what it produced and what Docket read in it.
type View struct {
	Mail    Mail
	Reports []FiledReport
	Parsed  *abusemail.Message // nil when not even the header could be read
	Events  []audit.Event
}

// Get returns a message whole. A restricted message the viewer may not see
// is not found, like a csam case.
func (s *Service) Get(ctx context.Context, id int64, seeRestricted bool) (*View, error) {
	db := s.db.R.WithContext(ctx)
	var v View
	err := db.Take(&v.Mail, id).Error
	if errors.Is(err, gorm.ErrRecordNotFound) || (err == nil && v.Mail.Restricted && !seeRestricted) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	err = db.Table("inbound_mail_reports").
		Select("reports.id, reports.public_id, reports.case_id, reports.category, reports.url").
		Joins("JOIN reports ON reports.id = inbound_mail_reports.report_id").
		Where("inbound_mail_reports.inbound_mail_id = ?", id).Order("reports.id").Scan(&v.Reports).Error
	if err != nil {
		return nil, err
	}
	v.Parsed, _ = abusemail.Parse(v.Mail.Raw)
	v.Events, err = audit.ForObject(ctx, db, "inbound_mail", strconv.FormatInt(id, 10))
	return &v, err
}

// Actor is the reviewer handling a message.
type Actor struct {
	UserID int64
	// SeeRestricted: the reviewer may read the restricted (csam) queue.
	SeeRestricted bool
}

func (a Actor) subject() string { return "user:" + strconv.FormatInt(a.UserID, 10) }

// Filing is what a reviewer decides a message reports.
type Filing struct {
	Category    cases.Category
	URL         string
	Description string
}

// File files a message as a report on the reviewer's word: the category and
// URL they chose, the message's sender as the network reporter. The message
// is then filed; the report goes through FileReport like any other.
func (s *Service) File(ctx context.Context, a Actor, id int64, f Filing) (*cases.Report, error) {
	m, err := s.head(ctx, id, a.SeeRestricted)
	if err != nil {
		return nil, err
	}
	if m.Status == StatusDismissed {
		return nil, errs.E(errs.Conflict, "This message was dismissed; it cannot be filed.")
	}
	desc := strings.TrimSpace(f.Description)
	if desc == "" {
		desc = "Filed from inbound mail #" + strconv.FormatInt(m.ID, 10) + " (subject: " + m.Subject + ")."
	}
	rep, err := s.cases.FileReport(ctx, cases.NewReport{
		Channel: cases.ChannelEmail, ReporterKind: cases.ReporterNetwork,
		ReporterName: clip(m.FromName, cases.MaxName), ReporterEmail: validEmail(m.FromEmail),
		Category: f.Category, URL: f.URL, Description: desc,
	})
	if err != nil {
		return nil, err
	}
	by := a.UserID
	reason := "Filed by a reviewer as " + string(f.Category) + " on " + rep.URL + "."
	if err := s.settle(ctx, m, StatusFiled, reason, []*cases.Report{rep}, &by, a.subject(), "mail.filed", f.Category == cases.CSAM); err != nil {
		return nil, err
	}
	return rep, nil
}

// MaxDismissReason bounds a dismissal's reason.
const MaxDismissReason = 2000

// Dismiss sets a waiting message aside with the reviewer's reason. The message
// stays stored; only its status changes.
func (s *Service) Dismiss(ctx context.Context, a Actor, id int64, reason string) error {
	reason = strings.TrimSpace(reason)
	switch {
	case reason == "":
		return errs.Fields(map[string]string{"reason": "Say why this message needs no report."})
	case utf8.RuneCountInString(reason) > MaxDismissReason || !utf8.ValidString(reason):
		return errs.Fields(map[string]string{"reason": "Keep the reason under 2,000 characters of plain text."})
	}
	m, err := s.head(ctx, id, a.SeeRestricted)
	if err != nil {
		return err
	}
	if !slices.Contains(QueueStatuses, m.Status) {
		return errs.E(errs.Conflict, "This message is %s; only waiting messages can be dismissed.", m.Status)
	}
	by := a.UserID
	return s.settle(ctx, m, StatusDismissed, "Dismissed: "+reason, nil, &by, a.subject(), "mail.dismissed", false)
}

// head reads a message without its raw bytes.
func (s *Service) head(ctx context.Context, id int64, seeRestricted bool) (*Mail, error) {
	var m Mail
	err := s.db.W.WithContext(ctx).Omit("raw").Take(&m, id).Error
	if errors.Is(err, gorm.ErrRecordNotFound) || (err == nil && m.Restricted && !seeRestricted) {
		return nil, ErrNotFound
	}
	return &m, err
}
