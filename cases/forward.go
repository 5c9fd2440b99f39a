package cases

// Forwarding (issue 8, "the customer's side"): an infrastructure provider rarely
// hosts the content itself, so its first move on most reports is to tell the
// site's owner — and, for a pass-through site, the origin host — and give them
// time to act. The reporter chooses, per recipient, whether we forward their
// report with their name, without it, or not at all. This file holds the rules
// (choices, defaults, the response window, the customer's answer); notify
// renders and sends the messages inside the filing transaction.

import (
	"context"
	"errors"
	"fmt"
	"net/mail"
	"slices"
	"strconv"
	"strings"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/dockethq/docket/audit"
	"github.com/dockethq/docket/internal/errs"
)

// Recipient is someone a report can be forwarded to.
type Recipient string

const (
	RecipientCustomer Recipient = "customer" // the site's owner (customers.contact_email)
	RecipientOrigin   Recipient = "origin"   // the origin host behind a pass-through site
	RecipientHotline  Recipient = "hotline"  // csam only: the national hotline / NCMEC export
)

// Recipients lists every recipient in the order the form shows them.
var Recipients = []Recipient{RecipientCustomer, RecipientOrigin, RecipientHotline}

// ForwardChoice is what the reporter chose for one recipient.
type ForwardChoice string

const (
	Send            ForwardChoice = "send"             // with the reporter's name and email
	SendAnonymously ForwardChoice = "send_anonymously" // the report, never who sent it
	DoNotSend       ForwardChoice = "do_not_send"
)

// ForwardChoices are a report's choices for each recipient.
type ForwardChoices struct {
	Customer ForwardChoice
	Origin   ForwardChoice
	Hotline  ForwardChoice
}

// For returns the choice for r.
func (f ForwardChoices) For(r Recipient) ForwardChoice {
	switch r {
	case RecipientCustomer:
		return f.Customer
	case RecipientOrigin:
		return f.Origin
	case RecipientHotline:
		return f.Hotline
	}
	return DoNotSend
}

func (f *ForwardChoices) set(r Recipient, c ForwardChoice) {
	switch r {
	case RecipientCustomer:
		f.Customer = c
	case RecipientOrigin:
		f.Origin = c
	case RecipientHotline:
		f.Hotline = c
	}
}

// NeedsIdentity reports whether notices in category must name the complainant:
// a copyright or trademark notice the owner cannot answer is no notice at all.
func NeedsIdentity(c Category) bool { return c == Copyright || c == Trademark }

// DefaultForward is what a report in category gets for every recipient the
// reporter (or API client) said nothing about: anonymous forwarding, except that
// copyright and trademark complaints name the complainant, and csam goes to the
// hotline but not to the site's owner (who should not be warned before the
// evidence is preserved).
func DefaultForward(c Category) ForwardChoices {
	d := ForwardChoices{Customer: SendAnonymously, Origin: SendAnonymously, Hotline: DoNotSend}
	switch {
	case NeedsIdentity(c):
		d.Customer, d.Origin = Send, Send
	case c == CSAM:
		d.Customer, d.Origin, d.Hotline = DoNotSend, DoNotSend, Send
	}
	return d
}

// ForwardField is the form field (and API field path suffix) of a recipient.
func ForwardField(r Recipient) string { return "forward_" + string(r) }

// resolveForward fills unset choices with the category's defaults and checks the
// rest, returning field errors keyed by ForwardField.
func resolveForward(c Category, in ForwardChoices) (ForwardChoices, map[string]string) {
	out := DefaultForward(c)
	f := map[string]string{}
	for _, r := range Recipients {
		v := ForwardChoice(strings.TrimSpace(string(in.For(r))))
		switch v {
		case "":
			continue
		case Send, SendAnonymously, DoNotSend:
		default:
			f[ForwardField(r)] = "Choose send, send without my name, or do not send."
			continue
		}
		if r == RecipientHotline && c != CSAM {
			continue // only csam goes to the hotline; the choice means nothing here
		}
		if v == SendAnonymously && NeedsIdentity(c) {
			f[ForwardField(r)] = "A copyright or trademark notice must name the complainant: choose send with my name, or do not send."
			continue
		}
		out.set(r, v)
	}
	return out, f
}

// ForwardChoiceRow is one stored choice.
type ForwardChoiceRow struct {
	ReportID  int64
	Recipient Recipient
	Choice    ForwardChoice
}

func (ForwardChoiceRow) TableName() string { return "forward_choices" }

func saveForwardChoices(tx *gorm.DB, reportID int64, f ForwardChoices) error {
	rows := make([]ForwardChoiceRow, 0, len(Recipients))
	for _, r := range Recipients {
		rows = append(rows, ForwardChoiceRow{ReportID: reportID, Recipient: r, Choice: f.For(r)})
	}
	return tx.Create(&rows).Error
}

// Forward records one report sent to one recipient.
type Forward struct {
	ID              int64
	ReportID        int64
	CaseID          int64
	Recipient       Recipient
	Address         string // an email address, or "hotline export"
	Anonymous       bool
	NoticeID        *int64
	HotlineExportID *int64
	CreatedAt       time.Time
}

// RecordForward writes f and audits it, in the filing transaction.
func RecordForward(tx *gorm.DB, f *Forward) error {
	if err := tx.Create(f).Error; err != nil {
		return fmt.Errorf("record forward: %w", err)
	}
	// The audit trail names the recipient kind, never the reporter.
	return audit.Record(tx, f.CreatedAt, "system", "case.forwarded", "case", strconv.FormatInt(f.CaseID, 10),
		map[string]any{"recipient": f.Recipient, "anonymous": f.Anonymous, "report_id": f.ReportID})
}

// HotlineExport is the hotline's copy of a csam report (a JSON document).
type HotlineExport struct {
	ID        int64
	ReportID  int64
	CaseID    int64
	Payload   string
	CreatedAt time.Time
}

// Response flags of a case (cases.response_flag).
const (
	ResponseAwaiting   = "awaiting"
	ResponseResponded  = "responded"
	ResponseNoResponse = "no_response"
)

// defaultWindows are used for a category without a response_windows row.
var defaultWindows = map[Category]time.Duration{
	Phishing: 24 * time.Hour, Malware: 24 * time.Hour,
	Copyright: 72 * time.Hour, Trademark: 72 * time.Hour,
}

// ResponseWindow is how long a forwarded case in c waits for the customer: the
// response_windows row, else a default (24 h for phishing and malware, 72 h for
// everything else).
func ResponseWindow(tx *gorm.DB, c Category) (time.Duration, error) {
	var hours []int
	if err := tx.Table("response_windows").Where("category = ?", c).Limit(1).Pluck("hours", &hours).Error; err != nil {
		return 0, err
	}
	if len(hours) == 1 && hours[0] > 0 {
		return time.Duration(hours[0]) * time.Hour, nil
	}
	if d, ok := defaultWindows[c]; ok {
		return d, nil
	}
	return 72 * time.Hour, nil
}

// systemActor acts for Docket itself (timers, the customer's link).
func systemActor(subject string) Actor { return Actor{System: subject} }

// StartResponseWindow runs in the transaction that forwards a report to the
// customer: the case waits until due, unless a window is already running or has
// run (one window per case: a second report on a waiting case does not extend
// it). It reports whether the window started and when it ends (to the second,
// as stored), so the caller schedules the timer for exactly that instant.
func (s *Service) StartResponseWindow(tx *gorm.DB, caseID int64, due time.Time) (time.Time, bool, error) {
	started := false
	due = due.UTC().Truncate(time.Second)
	_, err := s.applyTx(tx, systemActor("system"), caseID, change{action: ActAwaitCustomer,
		details: map[string]any{"response_due_at": due.UTC()},
		do: func(tx *gorm.DB, c *Case, now time.Time) error {
			if c.ResponseFlag != "" {
				return errNoWindow
			}
			started = true
			d := due
			c.ResponseFlag, c.ResponseDueAt = ResponseAwaiting, &d
			return tx.Model(&Case{}).Where("id = ?", c.ID).
				Updates(map[string]any{"response_flag": c.ResponseFlag, "response_due_at": c.ResponseDueAt}).Error
		}})
	if errors.Is(err, errNoWindow) {
		return due, false, nil
	}
	var te *TransitionError
	if errors.As(err, &te) {
		return due, false, nil // a case past review gets the message but no window
	}
	return due, started, err
}

// errNoWindow stops applyTx without writing when no window starts.
var errNoWindow = errors.New("no response window")

// ExpireResponseWindow is the timer set for due: if the case still waits for
// the customer (no response, not decided or closed, and the window is the one
// the timer was set for), it is flagged no_response and put at the top of its
// queue. It reports whether it did so; any second run for the same window finds
// the flag changed and does nothing, so the case is re-queued exactly once.
func (s *Service) ExpireResponseWindow(ctx context.Context, caseID int64, due time.Time) (bool, error) {
	expired := false
	err := s.db.W.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		_, err := s.applyTx(tx, systemActor("system"), caseID, change{action: ActResponseExpired,
			details: map[string]any{"response_due_at": due.UTC()},
			do: func(tx *gorm.DB, c *Case, now time.Time) error {
				if c.ResponseFlag != ResponseAwaiting || c.ResponseDueAt == nil || !c.ResponseDueAt.Equal(due.UTC().Truncate(time.Second)) || now.Before(due) {
					return errNoWindow
				}
				var top []int64
				if err := tx.Model(&Case{}).Where("queue = ? AND state IN ? AND id <> ?", c.Queue, []State{StateNew, StateInReview}, c.ID).
					Order("queue_rank DESC").Limit(1).Pluck("queue_rank", &top).Error; err != nil {
					return err
				}
				if len(top) == 1 && top[0] >= c.QueueRank {
					c.QueueRank = top[0] + 1
				}
				c.ResponseFlag = ResponseNoResponse
				expired = true
				// Conditional on the flag, so two runs racing cannot both win.
				res := tx.Model(&Case{}).Where("id = ? AND response_flag = ?", c.ID, ResponseAwaiting).
					Update("response_flag", ResponseNoResponse)
				if res.Error == nil && res.RowsAffected != 1 {
					return errNoWindow
				}
				return res.Error
			}})
		if errors.Is(err, errNoWindow) {
			expired = false
			return nil
		}
		var te *TransitionError
		if errors.As(err, &te) {
			expired = false
			return nil // decided, closed or waiting for sign-off: the window no longer matters
		}
		if err == nil && expired {
			// The audit name the issue asks for, beside applyTx's case.response_expired.
			return audit.Record(tx, s.now().UTC(), "system", "case.response_window_expired", "case", strconv.FormatInt(caseID, 10),
				map[string]any{"response_due_at": due.UTC()})
		}
		return err
	})
	return expired && err == nil, err
}

// Kinds of customer response.
var ResponseKinds = []string{"removed", "disputed", "other"}

// ResponseKindLabel names a response kind for people.
func ResponseKindLabel(k string) string {
	switch k {
	case "removed":
		return "Removed or fixed the content"
	case "disputed":
		return "Disputes the report"
	}
	return "Other"
}

// CustomerResponse is the customer's answer through the signed link.
type CustomerResponse struct {
	ID        int64
	CaseID    int64
	Kind      string
	Body      string
	TokenHash string `json:"-"`
	CreatedAt time.Time
}

// MaxResponse bounds a customer's answer; MaxResponsesPerLink bounds how many
// answers one link may send in a day.
const (
	MaxResponse         = 5000
	MaxResponsesPerLink = 5
)

// ErrTooManyResponses is returned when a link has been used too often.
var ErrTooManyResponses = errs.E(errs.Conflict, "This link has been used too many times today. Reply to our message instead.")

// Respond attaches the customer's answer to the case and stops its window. A
// claimed remedy ("removed") sends a new case to review, where a reviewer checks
// it; the case is never closed on the customer's word.
func (s *Service) Respond(ctx context.Context, caseID int64, tokenHash, kind, body string) (*CustomerResponse, error) {
	f := map[string]string{}
	if !slices.Contains(ResponseKinds, kind) {
		f["kind"] = "Choose what you did about the report."
	}
	body, err := checkText("body", body, MaxResponse, "what you did, or why you disagree")
	if e, ok := errs.As(err); ok {
		for k, v := range e.Fields {
			f[k] = v
		}
	}
	if err := errs.Fields(f); err != nil {
		return nil, err
	}
	var out CustomerResponse
	err = s.db.W.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		now := s.now().UTC()
		var used int64
		if err := tx.Model(&CustomerResponse{}).Where("token_hash = ? AND created_at > ?", tokenHash, now.Add(-24*time.Hour)).Count(&used).Error; err != nil {
			return err
		}
		if used >= MaxResponsesPerLink {
			return ErrTooManyResponses
		}
		_, err := s.applyTx(tx, systemActor("customer"), caseID, change{action: ActCustomerRespond,
			details: map[string]any{"kind": kind},
			do: func(tx *gorm.DB, c *Case, now time.Time) error {
				out = CustomerResponse{CaseID: c.ID, Kind: kind, Body: body, TokenHash: tokenHash, CreatedAt: now}
				if err := tx.Create(&out).Error; err != nil {
					return err
				}
				if c.ResponseFlag == ResponseAwaiting || c.ResponseFlag == "" {
					c.ResponseFlag = ResponseResponded
					return tx.Model(&Case{}).Where("id = ?", c.ID).Update("response_flag", c.ResponseFlag).Error
				}
				return nil
			}})
		return err
	})
	if err != nil {
		return nil, err
	}
	return &out, nil
}

// ResponsePage is what the customer's link shows: the reported URLs and the
// category, and nothing about who reported or about anyone else's sites.
type ResponsePage struct {
	CaseID        int64
	Hostname      string
	Category      Category
	URLs          []string
	State         State
	ResponseDueAt *time.Time
	Responses     []CustomerResponse
}

// ForResponse loads the response page of a case.
func (s *Service) ForResponse(ctx context.Context, caseID int64) (*ResponsePage, error) {
	db := s.db.R.WithContext(ctx)
	var c Case
	if err := db.Take(&c, caseID).Error; err != nil {
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return nil, ErrCaseNotFound
		}
		return nil, err
	}
	p := &ResponsePage{CaseID: c.ID, Hostname: c.Hostname, Category: c.Category, State: c.State, ResponseDueAt: c.ResponseDueAt}
	// Only the reports that were forwarded to the customer.
	err := db.Table("reports").Distinct("reports.url").
		Joins("JOIN forwards ON forwards.report_id = reports.id AND forwards.recipient = ?", RecipientCustomer).
		Where("reports.case_id = ?", caseID).Limit(50).Pluck("reports.url", &p.URLs).Error
	if err != nil {
		return nil, err
	}
	if err := db.Where("case_id = ?", caseID).Order("id").Find(&p.Responses).Error; err != nil {
		return nil, err
	}
	return p, nil
}

// Forwarding is what the case page shows about forwarding.
type Forwarding struct {
	Forwards  []Forward
	Responses []CustomerResponse
	Exports   []HotlineExport
}

// Forwarding lists a case's forwards, customer responses and hotline exports.
// The caller has already checked that the viewer may read the case.
func (s *Service) Forwarding(ctx context.Context, caseID int64) (*Forwarding, error) {
	db := s.db.R.WithContext(ctx)
	var f Forwarding
	if err := db.Where("case_id = ?", caseID).Order("id").Find(&f.Forwards).Error; err != nil {
		return nil, err
	}
	if err := db.Where("case_id = ?", caseID).Order("id").Find(&f.Responses).Error; err != nil {
		return nil, err
	}
	if err := db.Select("id, report_id, case_id, created_at").Where("case_id = ?", caseID).Order("id").Find(&f.Exports).Error; err != nil {
		return nil, err
	}
	return &f, nil
}

// GetHotlineExport returns an export if its case is in a readable queue.
func (s *Service) GetHotlineExport(ctx context.Context, id int64, queues []string) (*HotlineExport, error) {
	var h HotlineExport
	err := s.db.R.WithContext(ctx).Table("hotline_exports").Select("hotline_exports.*").
		Joins("JOIN cases ON cases.id = hotline_exports.case_id").
		Where("hotline_exports.id = ? AND cases.queue IN ?", id, queues).Take(&h).Error
	if errors.Is(err, gorm.ErrRecordNotFound) || len(queues) == 0 {
		return nil, errs.E(errs.NotFound, "There is no such export, or you may not see it.")
	}
	return &h, err
}

// SetSiteOrigin records the origin hosting provider behind a pass-through site
// and the address its abuse desk reads (both may be empty to clear them).
func (s *Service) SetSiteOrigin(ctx context.Context, actor string, siteID int64, host, email string) (*Site, error) {
	host, email = strings.TrimSpace(strings.ToLower(host)), strings.TrimSpace(strings.ToLower(email))
	f := map[string]string{}
	if len(host) > 253 || strings.ContainsAny(host, " /\t\r\n") {
		f["origin_host"] = "Enter a hostname like origin.example.net, or leave it empty."
	}
	if email != "" {
		if a, err := mail.ParseAddress(email); err != nil || a.Address != email {
			f["origin_abuse_email"] = "Enter an email address like abuse@example.net, or leave it empty."
		}
	}
	if err := errs.Fields(f); err != nil {
		return nil, err
	}
	var site Site
	err := s.db.W.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Clauses(clause.Locking{Strength: "UPDATE"}).Take(&site, siteID).Error; err != nil {
			if errors.Is(err, gorm.ErrRecordNotFound) {
				return errs.E(errs.NotFound, "There is no such site.")
			}
			return err
		}
		before := map[string]any{"origin_host": site.OriginHost, "origin_abuse_email": site.OriginAbuseEmail}
		site.OriginHost, site.OriginAbuseEmail = host, email
		if err := tx.Model(&site).Updates(map[string]any{"origin_host": host, "origin_abuse_email": email}).Error; err != nil {
			return err
		}
		return audit.Record(tx, s.now().UTC(), actor, "site.origin_set", "site", strconv.FormatInt(site.ID, 10),
			map[string]any{"before": before, "after": map[string]any{"origin_host": host, "origin_abuse_email": email}})
	})
	if err != nil {
		return nil, err
	}
	return &site, nil
}

// WindowSetting is one category's response window, for the admin page.
type WindowSetting struct {
	Category Category
	Label    string
	Hours    int
}

// MaxWindowHours bounds a response window (90 days), as the table's CHECK does.
const MaxWindowHours = 2160

// ResponseWindows lists every category's window in hours.
func (s *Service) ResponseWindows(ctx context.Context) ([]WindowSetting, error) {
	db := s.db.R.WithContext(ctx)
	out := make([]WindowSetting, 0, len(Categories))
	for _, ci := range Categories {
		d, err := ResponseWindow(db, ci.Category)
		if err != nil {
			return nil, err
		}
		out = append(out, WindowSetting{Category: ci.Category, Label: ci.Label, Hours: int(d / time.Hour)})
	}
	return out, nil
}

// WindowField is the admin form's field for category c.
func WindowField(c Category) string { return "hours_" + string(c) }

// SetResponseWindows sets the windows given as hours by category (the form's
// text); every value is checked before any is written, and the change is
// audited with before and after.
func (s *Service) SetResponseWindows(ctx context.Context, actor string, hours map[Category]string) error {
	want := map[Category]int{}
	f := map[string]string{}
	for c, v := range hours {
		if _, ok := c.Info(); !ok {
			continue
		}
		n, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil || n < 1 || n > MaxWindowHours {
			f[WindowField(c)] = fmt.Sprintf("Enter a whole number of hours from 1 to %d.", MaxWindowHours)
			continue
		}
		want[c] = n
	}
	if err := errs.Fields(f); err != nil {
		return err
	}
	return s.db.W.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		before, after := map[Category]int{}, map[Category]int{}
		for _, ci := range Categories {
			n, ok := want[ci.Category]
			if !ok {
				continue
			}
			d, err := ResponseWindow(tx, ci.Category)
			if err != nil {
				return err
			}
			if int(d/time.Hour) == n {
				continue
			}
			before[ci.Category], after[ci.Category] = int(d/time.Hour), n
			err = tx.Exec(`INSERT INTO response_windows (category, hours) VALUES (?, ?)
				ON CONFLICT (category) DO UPDATE SET hours = excluded.hours`, ci.Category, n).Error
			if err != nil {
				return err
			}
		}
		if len(after) == 0 {
			return nil
		}
		return audit.Record(tx, s.now().UTC(), actor, "response_windows.set", "settings", "response_windows",
			map[string]any{"before": before, "after": after})
	})
}
