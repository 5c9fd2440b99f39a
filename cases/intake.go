package cases

// Intake rules shared by every channel (issue 7): a report about a host the
// provider does not serve gets a receipt and an answer but no case; a report the
// same reporter already sent about the same URL (and category) within the window is linked to
// the first one instead of being counted again.

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"strconv"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/dockethq/docket/audit"
	"github.com/dockethq/docket/intake"
	"github.com/dockethq/docket/internal/errs"
)

// ReportStatus is what became of a report when it was filed.
type ReportStatus string

const (
	ReportFiled     ReportStatus = "filed"      // attached to a case
	ReportNotHosted ReportStatus = "not_hosted" // about a host the provider does not serve: no case
	ReportDuplicate ReportStatus = "duplicate"  // a repeat of DuplicateOf: no case of its own, counts nothing
)

// DefaultDuplicateWindow is how long a repeat of a report counts as a duplicate.
const DefaultDuplicateWindow = 24 * time.Hour

// SetDuplicateWindow sets how long after a report the same reporter's report
// about the same URL is linked to it as a duplicate; 0 turns deduplication off.
func (s *Service) SetDuplicateWindow(d time.Duration) { s.dupWindow = d }

// Match is a URL resolved the way every channel resolves it: normalized, then
// host → site → customer. Site is nil when the provider does not serve the host.
type Match struct {
	Target intake.Target
	Site   *Site
}

// Match normalizes raw and finds the site that serves it (the most specific
// site serving the host or a parent domain). A URL that cannot be normalized is
// errs.Invalid with a field error on "url".
func (s *Service) Match(ctx context.Context, raw string) (*Match, error) {
	t, err := intake.NormalizeURL(raw)
	if err != nil {
		return nil, errs.Fields(map[string]string{"url": err.Error()})
	}
	site, err := findSite(s.db.R.WithContext(ctx), t.Host)
	if err != nil {
		return nil, err
	}
	return &Match{Target: t, Site: site}, nil
}

// knownReporterKey is reporterKey for a reporter who can be recognized across
// reports (by email, or an existing row such as a flagger's), else "".
func knownReporterKey(r *Reporter) string {
	if r.Email == "" && r.ID == 0 {
		return ""
	}
	return reporterKey(r)
}

// findOriginal returns the first report since since by the reporter key about
// the same normalized URL and category that is not itself a duplicate, or nil.
// Another category is another claim (a correction, or a second problem), so it
// is not a duplicate.
func findOriginal(tx *gorm.DB, key string, t intake.Target, cat Category, since time.Time) (*Report, error) {
	var rs []Report
	err := tx.Where("reporter_key = ? AND host = ? AND received_at >= ? AND url = ? AND category = ? AND duplicate_of IS NULL", key, t.Host, since, t.URL, cat).
		Order("received_at, id").Limit(1).Find(&rs).Error
	if err != nil || len(rs) == 0 {
		return nil, err
	}
	return &rs[0], nil
}

// fileWithoutCase stores a report that opens no case: a duplicate of orig, or
// (orig nil) a report about a host the provider does not serve. It runs inside
// FileReport's transaction, hooks and audit included.
func (s *Service) fileWithoutCase(tx *gorm.DB, rep *Report, n NewReport, t intake.Target, reporter *Reporter, orig *Report, now time.Time) error {
	*rep = Report{
		PublicID: newPublicID(now), ReporterID: reporter.ID, Channel: n.Channel,
		Category: n.Category, URL: t.URL, Host: t.Host, Description: n.Description,
		GoodFaith: n.GoodFaith, ReceivedAt: now.Truncate(time.Microsecond), ReporterKey: reporterKey(reporter), Status: ReportNotHosted,
	}
	if orig != nil {
		rep.Status, rep.DuplicateOf, rep.SiteID = ReportDuplicate, &orig.ID, orig.SiteID
	}
	// case_id stays NULL (the Go zero value would be a reference to case 0).
	if err := tx.Omit("CaseID").Create(rep).Error; err != nil {
		return err
	}
	if s.onReport != nil {
		if err := s.onReport(tx, rep, reporter); err != nil {
			return err
		}
	}
	actor := "reporter:" + strconv.FormatInt(reporter.ID, 10)
	if orig != nil {
		details := map[string]any{"report": rep.PublicID, "duplicate_of": orig.PublicID, "channel": rep.Channel, "url": rep.URL}
		if orig.CaseID != 0 {
			// On the case's timeline, so a reviewer sees the reporter insisting.
			return audit.Record(tx, now, actor, "report.duplicate", "case", strconv.FormatInt(orig.CaseID, 10), details)
		}
		return audit.Record(tx, now, actor, "report.duplicate", "report", rep.PublicID, details)
	}
	return audit.Record(tx, now, actor, "report.not_hosted", "report", rep.PublicID, map[string]any{"channel": rep.Channel, "url": rep.URL, "host": rep.Host})
}

// Receipt is what the public may see about a report they filed.
type Receipt struct {
	PublicID    string
	Category    Category
	URL         string
	Host        string
	ReceivedAt  time.Time
	Status      ReportStatus
	DuplicateOf string // the original's receipt id, for a duplicate
	CaseState   State  // of the case the report (or its original) is in; "" without one
	// Outcome is the final decision, once there is one; only Lookup fills it.
	Outcome *Outcome `gorm:"-"`
}

// Outcome is what the public may learn of a decision: the action and the
// explanation written for the public, nothing of who decided or why internally.
type Outcome struct {
	Action      DecisionAction
	Explanation string
	DecidedAt   time.Time
}

// NotHosted reports whether the report is about a host the provider does not serve.
func (r *Receipt) NotHosted() bool { return r.Status == ReportNotHosted }

// RegistrableDomain is the domain whose registrar a reporter of a host we do not
// serve can ask who hosts it.
func (r *Receipt) RegistrableDomain() string {
	if t, err := intake.NormalizeURL(r.URL); err == nil && t.RegistrableDomain != "" {
		return t.RegistrableDomain
	}
	return r.Host
}

// APIStatus is the report's state for the API: the case's state, or not_hosted.
func (r *Receipt) APIStatus() string {
	if r.NotHosted() {
		return string(ReportNotHosted)
	}
	return string(r.CaseState)
}

// StateText says in plain words where the report stands.
func (r *Receipt) StateText() string {
	if r.NotHosted() {
		return "Not hosted here: we do not serve " + r.Host + ", so we cannot act on it."
	}
	switch r.CaseState {
	case StateNew:
		return "Received: waiting for review."
	case StateInReview, StatePendingSignoff:
		return "Under review."
	case StateDecided:
		return "Decided."
	case StateAppealed:
		return "Decided, and the decision is being reviewed again on appeal."
	case StateClosed:
		return "Closed."
	}
	return "Received."
}

// ActionText says in plain words what a decision did.
func (o *Outcome) ActionText() string {
	switch o.Action {
	case NoAction:
		return "We found no breach of our rules and took no action."
	case Warn:
		return "We warned the site's operator."
	case Restrict:
		return "We restricted access to the site."
	case Terminate:
		return "We stopped serving the site."
	case Reinstate:
		return "An earlier action was reversed and the site is served again."
	}
	return string(o.Action)
}

// ErrNoSuchReceipt answers every lookup that does not match, whichever half
// was wrong, so the answer cannot tell whether a receipt id exists.
var ErrNoSuchReceipt = errs.E(errs.NotFound, "There is no report with that receipt id and email address.")

// receipts selects receipts; a duplicate follows its original into its case.
func (s *Service) receipts(ctx context.Context) *gorm.DB {
	return s.db.R.WithContext(ctx).Table("reports").
		Select("reports.public_id, reports.category, reports.url, reports.host, reports.received_at, reports.status, orig.public_id AS duplicate_of, COALESCE(cases.state, '') AS case_state").
		Joins("LEFT JOIN reports orig ON orig.id = reports.duplicate_of").
		Joins("LEFT JOIN cases ON cases.id = COALESCE(orig.case_id, reports.case_id)")
}

func normReceipt(id string) string { return strings.ToUpper(strings.TrimSpace(id)) }

// Receipt looks up a report by its receipt id.
func (s *Service) Receipt(ctx context.Context, publicID string) (*Receipt, error) {
	var r Receipt
	err := s.receipts(ctx).Where("reports.public_id = ?", normReceipt(publicID)).Take(&r).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, errs.E(errs.NotFound, "There is no report with that receipt id.")
	}
	return &r, err
}

// FiledReceipt is the receipt of a report FileReport has just returned, built
// without reading it back; false for a duplicate, whose status is that of its
// original's case.
func (r *Report) FiledReceipt() (*Receipt, bool) {
	if r.Status == ReportDuplicate {
		return nil, false
	}
	return &Receipt{PublicID: r.PublicID, Category: r.Category, URL: r.URL, Host: r.Host, ReceivedAt: r.ReceivedAt, Status: r.Status, CaseState: r.CaseState}, true
}

// ReceiptFor is Receipt for a report filed as reporterID (a trusted flagger's
// own reports): anyone else's report answers not found.
func (s *Service) ReceiptFor(ctx context.Context, publicID string, reporterID int64) (*Receipt, error) {
	var r Receipt
	err := s.receipts(ctx).Where("reports.public_id = ? AND reports.reporter_id = ?", normReceipt(publicID), reporterID).Take(&r).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, errs.E(errs.NotFound, "There is no report with that receipt id.")
	}
	return &r, err
}

// Lookup is the reporter's status lookup: the receipt id and the email the
// report was filed with give the report's state and, once final, the outcome.
// A wrong id, a wrong email and a report filed without an email all answer
// ErrNoSuchReceipt; the addresses are compared in constant time.
func (s *Service) Lookup(ctx context.Context, publicID, email string) (*Receipt, error) {
	var row struct {
		ID     int64
		CaseID *int64
		DupOf  *int64
		Email  string
	}
	db := s.db.R.WithContext(ctx)
	err := db.Table("reports").Select("reports.id, reports.case_id, reports.duplicate_of AS dup_of, reporters.email").
		Joins("JOIN reporters ON reporters.id = reports.reporter_id").
		Where("reports.public_id = ?", normReceipt(publicID)).Take(&row).Error
	if err != nil && !errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, err
	}
	given := sha256.Sum256([]byte(strings.ToLower(strings.TrimSpace(email))))
	stored := sha256.Sum256([]byte("\x00no report")) // never equal to a typed address
	if err == nil && row.Email != "" {
		stored = sha256.Sum256([]byte(row.Email))
	}
	if subtle.ConstantTimeCompare(given[:], stored[:]) != 1 {
		return nil, ErrNoSuchReceipt
	}
	r, err := s.Receipt(ctx, publicID)
	if err != nil {
		return nil, err
	}
	caseID := row.CaseID
	if row.DupOf != nil {
		if err := db.Table("reports").Select("case_id").Where("id = ?", *row.DupOf).Scan(&caseID).Error; err != nil {
			return nil, err
		}
	}
	if caseID != nil && (r.CaseState == StateDecided || r.CaseState == StateClosed || r.CaseState == StateAppealed) {
		var ds []Decision
		if err := db.Where("case_id = ? AND status = 'final'", *caseID).Order("id DESC").Limit(1).Find(&ds).Error; err != nil {
			return nil, err
		}
		if len(ds) == 1 {
			r.Outcome = &Outcome{Action: ds[0].Action, Explanation: ds[0].Explanation, DecidedAt: ds[0].CreatedAt}
			if ds[0].FinalAt != nil {
				r.Outcome.DecidedAt = *ds[0].FinalAt
			}
		}
	}
	return r, nil
}
