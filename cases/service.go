package cases

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"net/mail"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/oklog/ulid/v2"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/dockethq/docket/audit"
	"github.com/dockethq/docket/intake"
	"github.com/dockethq/docket/internal/database"
	"github.com/dockethq/docket/internal/errs"
)

// Service files reports, groups them into cases and reads the queue.
type Service struct {
	db          *database.DB
	now         func() time.Time
	onDirective func(tx *gorm.DB, d *Directive) error
	onReport    func(tx *gorm.DB, r *Report, rep *Reporter) error
	onFinal     func(tx *gorm.DB, c *Case, d *Decision) error
	dupWindow   time.Duration // see SetDuplicateWindow
	observers   []func(Event) // after commit (observe.go)
	strikes     StrikePolicy
	onAppeal    func(tx *gorm.DB, ev AppealEvent) error
	group       grouper   // FileReportGrouped's queue (group.go)
	sites       siteCache // sitecache.go
}

// OnReportFiled registers fn to run inside the transaction that files each
// report (notices: the reporter's acknowledgement).
func (s *Service) OnReportFiled(fn func(tx *gorm.DB, r *Report, rep *Reporter) error) {
	s.onReport = fn
}

// OnDecisionFinal registers fn to run inside the transaction in which a decision
// becomes final (notices: the outcome to reporters, the action to the customer).
func (s *Service) OnDecisionFinal(fn func(tx *gorm.DB, c *Case, d *Decision) error) { s.onFinal = fn }

// OnDirective registers fn to run inside the transaction that writes each
// directive (the notify wiring enqueues its deliveries there), so the directive
// and its delivery jobs commit or roll back together.
func (s *Service) OnDirective(fn func(tx *gorm.DB, d *Directive) error) { s.onDirective = fn }

// NewService returns a cases service. now is injected so SLAs and ages are testable.
func NewService(db *database.DB, now func() time.Time) *Service {
	return &Service{db: db, now: now, dupWindow: DefaultDuplicateWindow, strikes: DefaultStrikePolicy}
}

// Limits on free text, so one report cannot fill the database or a reviewer's screen.
const (
	MaxDescription = 10000
	MaxName        = 200
)

// NewReport is a report as submitted, before validation.
type NewReport struct {
	Channel Channel
	// ReporterID files the report as an existing reporter (a trusted flagger's
	// registered row) instead of creating one; ReporterKind must match its kind.
	ReporterID int64
	// Reporter is ReporterID's row when the caller has just read it (the API
	// reads its flagger), so filing need not read it again.
	Reporter      *Reporter
	ReporterKind  ReporterKind
	ReporterName  string
	ReporterEmail string
	Category      Category
	URL           string
	Description   string
	GoodFaith     bool
	// Details answers the category's extra questions (CategoryDetails).
	Details Details
	// Notice holds the report to what a DSA Art. 16 notice must contain (the
	// public form sets it): the sender's name and email unless the category is
	// csam, and the category's required details. Other callers (the API's
	// registered flaggers, the demo) leave it off and may omit them.
	Notice bool
	// SubmissionID groups the reports of one form submission (one per URL).
	SubmissionID string
	// Forward is the reporter's choice per recipient; empty fields get the
	// category's defaults (DefaultForward).
	Forward ForwardChoices
}

// validate checks n and returns the normalized target, or field errors keyed by
// form field name.
func (n *NewReport) validate() (intake.Target, error) {
	f := map[string]string{}
	var t intake.Target
	if _, ok := n.Category.Info(); !ok {
		f["category"] = "Choose what the report is about."
	}
	if strings.TrimSpace(n.URL) == "" {
		f["url"] = "Enter the address (URL) of the page you are reporting."
	} else if target, err := intake.NormalizeURL(n.URL); err != nil {
		f["url"] = err.Error()
	} else {
		t = target
	}
	n.Description = strings.TrimSpace(n.Description)
	switch {
	case n.Description == "":
		f["description"] = "Describe what is wrong with this page."
	case !utf8.ValidString(n.Description):
		f["description"] = "The description contains characters that are not valid text."
	case utf8.RuneCountInString(n.Description) > MaxDescription:
		f["description"] = fmt.Sprintf("Keep the description under %d characters (it has %d).", MaxDescription, utf8.RuneCountInString(n.Description))
	case strings.IndexFunc(n.Description, badControl) >= 0:
		f["description"] = "The description contains control characters; paste it as plain text."
	}
	n.ReporterName = strings.TrimSpace(n.ReporterName)
	if utf8.RuneCountInString(n.ReporterName) > MaxName || strings.IndexFunc(n.ReporterName, unicode.IsControl) >= 0 || !utf8.ValidString(n.ReporterName) {
		f["name"] = fmt.Sprintf("Enter a name of up to %d characters.", MaxName)
	}
	n.ReporterEmail = strings.ToLower(strings.TrimSpace(n.ReporterEmail))
	if n.ReporterEmail != "" {
		if a, err := mail.ParseAddress(n.ReporterEmail); err != nil || a.Address != n.ReporterEmail || len(n.ReporterEmail) > 254 {
			f["email"] = "Enter an email address like name@example.com, or leave it empty."
		}
	}
	// DSA Art. 16(2)(c): a notice names its sender by name and email, except
	// for child sexual abuse material, whose reporters may stay anonymous.
	if n.Notice && n.Category != CSAM && n.Category != "" {
		if n.ReporterName == "" && f["name"] == "" {
			f["name"] = "Enter your name (the law asks for it on reports other than child sexual abuse material)."
		}
		if n.ReporterEmail == "" {
			f["email"] = "Enter your email address (the law asks for it on reports other than child sexual abuse material)."
		}
	}
	if n.Details == nil {
		n.Details = Details{}
	}
	validateDetails(n.Category, n.Details, n.Notice, f)
	if n.Channel == ChannelWeb && !n.GoodFaith {
		f["good_faith"] = "Confirm that you believe the information in this report is accurate and complete."
	}
	fw, ff := resolveForward(n.Category, n.Forward)
	n.Forward = fw
	for k, v := range ff {
		f[k] = v
	}
	return t, errs.Fields(f)
}

// badControl matches control characters other than ordinary line breaks and tabs.
func badControl(r rune) bool {
	return unicode.IsControl(r) && r != '\n' && r != '\r' && r != '\t'
}

// newPublicID returns a receipt id: a ULID, sortable and unguessable (80 random bits).
func newPublicID(now time.Time) string {
	return ulid.MustNew(ulid.Timestamp(now), rand.Reader).String()
}

// FileReport validates a report, matches it to a site and attaches it to the
// open case for that site and category, opening one if there is none. A report
// about a host the provider does not serve, or a repeat by the same reporter of
// a report about the same URL within the duplicate window, is stored with its
// receipt but opens or counts towards no case (see intake.go). Everything —
// reporter, report, case, audit events — is written in one transaction.
func (s *Service) FileReport(ctx context.Context, n NewReport) (*Report, error) {
	f, err := s.prepareFiling(ctx, n, false)
	if err != nil {
		return nil, err
	}
	return s.writeFiling(ctx, *f)
}

// filing is a report validated and looked up, ready to be written.
type filing struct {
	n        NewReport
	target   intake.Target
	info     CategoryInfo
	now      time.Time
	site     *Site
	reporter Reporter
	orig     *Report
	// dupLater: the duplicate check (orig) is still to be done, by the
	// group transaction for all its reports at once, or by writeFiling.
	dupLater bool
}

// prepareFiling validates n and reads what filing it needs (outside any write
// transaction, unless ctx holds an outer one). With dupLater, the duplicate
// check is left to the group transaction (findOriginals).
func (s *Service) prepareFiling(ctx context.Context, n NewReport, dupLater bool) (*filing, error) {
	target, err := n.validate()
	if err != nil {
		return nil, err
	}
	info, _ := n.Category.Info()
	now := s.now().UTC()
	// Sites are only ever added, so the lookup needs no place in the write
	// transaction (on SQLite, the one writer connection is held for less).
	r := s.db.R.WithContext(ctx)
	if o := outer(ctx); o != nil {
		// Inside a transaction filing several reports, read in it: it sees
		// the reports filed before this one, and waiting for a second
		// connection while holding one could exhaust the pool.
		r = o.tx
	}
	var site *Site
	if outer(ctx) != nil {
		site, err = findSite(r, target.Host)
	} else {
		site, err = s.siteFor(ctx, target.Host)
	}
	if err != nil {
		return nil, err
	}
	// So are the reporter's row (a flagger's) and the duplicate check: a race
	// between two identical reports at once files both, which only counts the
	// same reporter twice in report_count, never in reporter_count.
	reporter := Reporter{Kind: n.ReporterKind, Name: n.ReporterName, Email: n.ReporterEmail, CreatedAt: now}
	if n.ReporterID != 0 && n.Reporter != nil && n.Reporter.ID == n.ReporterID {
		reporter = *n.Reporter
	} else if n.ReporterID != 0 {
		if err := r.Take(&reporter, n.ReporterID).Error; err != nil {
			return nil, fmt.Errorf("reporter %d: %w", n.ReporterID, err)
		}
	}
	if n.ReporterID != 0 {
		if reporter.Kind != n.ReporterKind {
			return nil, fmt.Errorf("reporter %d is %s, not %s", n.ReporterID, reporter.Kind, n.ReporterKind)
		}
	}
	// Only a reporter we can recognize again (an email, a registered
	// flagger) can repeat a report; an anonymous one is new every time.
	f := &filing{n: n, target: target, info: info, now: now, site: site, reporter: reporter}
	if dupLater {
		f.dupLater = s.checksDuplicates(&reporter)
		return f, nil
	}
	if err := s.findOriginalOf(r, f); err != nil {
		return nil, err
	}
	return f, nil
}

// checksDuplicates reports whether a report by r can be a duplicate.
func (s *Service) checksDuplicates(r *Reporter) bool {
	return knownReporterKey(r) != "" && s.dupWindow > 0
}

// findOriginalOf sets f.orig: the report f repeats, if any.
func (s *Service) findOriginalOf(r *gorm.DB, f *filing) error {
	f.dupLater = false
	if !s.checksDuplicates(&f.reporter) {
		return nil
	}
	var err error
	f.orig, err = findOriginal(r, knownReporterKey(&f.reporter), f.target, f.n.Category, f.now.Add(-s.dupWindow))
	return err
}

// writeFiling writes f in one transaction (a part of the outer one if ctx
// holds one). f is a copy: a rolled-back attempt leaves the caller's intact.
func (s *Service) writeFiling(ctx context.Context, f filing) (*Report, error) {
	if f.dupLater {
		// Left to a group transaction that failed, or a group of one: on
		// the read pool, before the write transaction, as prepareFiling does.
		r := s.db.R.WithContext(ctx)
		if o := outer(ctx); o != nil {
			r = o.tx
		}
		if err := s.findOriginalOf(r, &f); err != nil {
			return nil, err
		}
	}
	n, target, info, now, site, orig := f.n, f.target, f.info, f.now, f.site, f.orig
	reporter := f.reporter
	var rep Report
	err := s.writer(ctx).Transaction(func(tx *gorm.DB) error {
		if reporter.ID == 0 {
			if err := tx.Create(&reporter).Error; err != nil {
				return err
			}
		}
		if orig != nil || site == nil {
			return s.fileWithoutCase(tx, &rep, n, target, &reporter, orig, now)
		}
		c, opened, err := openCase(tx, site, target.Host, info, now)
		if err != nil {
			return err
		}
		if _, err := Next(c.State, ActAddReport); err != nil {
			return err // cannot happen: openCase only returns open cases
		}
		rep = Report{
			PublicID: newPublicID(now), CaseID: c.ID, ReporterID: reporter.ID, Channel: n.Channel,
			Category: n.Category, URL: target.URL, Host: target.Host, Description: n.Description,
			GoodFaith: n.GoodFaith, ReceivedAt: now.Truncate(time.Microsecond), ReporterKey: reporterKey(&reporter), Status: ReportFiled,
			Details: encodeDetails(n.Details), SubmissionID: n.SubmissionID, CaseState: c.State,
		}
		if site != nil {
			rep.SiteID = &site.ID
		}
		// Whether the reporter reported in this case before: one index
		// entry is enough (a count would walk all of a flagger's reports).
		var earlier []int64
		if err := tx.Model(&Report{}).Where("case_id = ? AND reporter_key = ?", c.ID, rep.ReporterKey).Limit(1).Pluck("id", &earlier).Error; err != nil {
			return err
		}
		seen := len(earlier)
		if err := tx.Create(&rep).Error; err != nil {
			return err
		}
		rep.Forward = n.Forward
		if err := saveForwardChoices(tx, rep.ID, rep.Forward); err != nil {
			return err
		}
		c.ReportCount++
		if seen == 0 {
			c.ReporterCount++
		}
		if n.ReporterKind == ReporterTrustedFlagger {
			c.FlaggerReportCount++
		}
		queueBefore := c.Queue
		// Priority and queue depend on the distinct reporters, whether a
		// flagger reported, the customer and the rules: a report that changes
		// neither count (a flagger's next URL on the same site) leaves them
		// be until the next one that does, saving three queries.
		if seen == 0 || (n.ReporterKind == ReporterTrustedFlagger && c.FlaggerReportCount == 1) || opened {
			if err := rescore(tx, c); err != nil {
				return err
			}
		}
		c.UpdatedAt = now
		if !opened {
			c.Version++
		}
		if err := tx.Model(c).Select("report_count", "reporter_count", "flagger_report_count", "prior_actions", "priority", "queue_rank", "queue", "version", "updated_at").Updates(c).Error; err != nil {
			return err
		}
		if s.onReport != nil {
			if err := s.onReport(tx, &rep, &reporter); err != nil {
				return err
			}
		}
		actor := "reporter:" + strconv.FormatInt(reporter.ID, 10)
		caseID := strconv.FormatInt(c.ID, 10)
		if opened {
			if err := audit.Record(tx, now, actor, "case.opened", "case", caseID, map[string]any{"hostname": c.Hostname, "category": c.Category, "queue": c.Queue}); err != nil {
				return err
			}
		} else if c.Queue != queueBefore {
			if err := audit.Record(tx, now, actor, "case.rerouted", "case", caseID, map[string]any{"from": queueBefore, "to": c.Queue}); err != nil {
				return err
			}
		}
		return audit.Record(tx, now, actor, "report.filed", "case", caseID, map[string]any{"report": rep.PublicID, "channel": rep.Channel, "url": rep.URL})
	})
	if err != nil {
		return nil, err
	}
	if o := outer(ctx); o != nil {
		o.events = append(o.events, Event{Action: ActAddReport, Report: &rep})
	} else {
		s.committed(Event{Action: ActAddReport, Report: &rep})
	}
	return &rep, nil
}

// reporterKey identifies a reporter across reports: by email when given (one
// person filing twice counts once), else by the reporter row.
func reporterKey(r *Reporter) string {
	if r.Email != "" {
		return "email:" + r.Email
	}
	return "reporter:" + strconv.FormatInt(r.ID, 10)
}

// rescore recomputes what depends on the customer and the counts: the customer's
// record, priority, queue rank and queue.
func rescore(tx *gorm.DB, c *Case) error {
	in, err := loadScoreInputs(tx, c)
	if err != nil {
		return err
	}
	rules, err := loadRules(tx)
	if err != nil {
		return err
	}
	applyScore(c, in, rules)
	return nil
}

// scoreInputs is what rescore reads about a case's customer.
type scoreInputs struct {
	plan  string
	prior int // the customer's earlier actions (Case.PriorActions); 0 without a customer
}

func loadScoreInputs(tx *gorm.DB, c *Case) (scoreInputs, error) {
	var in scoreInputs
	if c.CustomerID == nil {
		return in, nil
	}
	var cust Customer
	if err := tx.Select("plan").Take(&cust, *c.CustomerID).Error; err != nil {
		return in, err
	}
	in.plan = cust.Plan
	var n int64
	err := tx.Table("decisions").Joins("JOIN cases ON cases.id = decisions.case_id").
		Where("cases.customer_id = ? AND cases.id <> ? AND decisions.status = 'final' AND decisions.action IN ('warn', 'restrict', 'terminate')", *c.CustomerID, c.ID).
		Count(&n).Error
	in.prior = int(n)
	return in, err
}

// applyScore is rescore with what it reads already read.
func applyScore(c *Case, in scoreInputs, rules []QueueRule) {
	plan := in.plan
	if c.CustomerID != nil {
		c.PriorActions = in.prior
	}
	c.Priority = priority(c)
	r := rank(c.Priority, c.OpenedAt)
	if c.ResponseFlag == ResponseNoResponse && c.QueueRank > r {
		// Re-queued at the top when the customer let the window pass: a later
		// report must not bury the case again (ExpireResponseWindow).
		r = c.QueueRank
	}
	c.QueueRank = r
	c.Queue = route(rules, c, plan)
}

// findSite returns the most specific site serving host or one of its parent
// domains (a report about a.b.example.com belongs to example.com if that is the
// site we serve), or nil when the provider does not serve it.
func findSite(tx *gorm.DB, host string) (*Site, error) {
	candidates := intake.ParentDomains(host)
	var sites []Site
	if err := tx.Where("hostname IN ?", candidates).Find(&sites).Error; err != nil {
		return nil, err
	}
	for _, h := range candidates {
		for i := range sites {
			if sites[i].Hostname == h {
				return &sites[i], nil
			}
		}
	}
	return nil, nil
}

// openCase returns the open case for the site (or unknown host) and category,
// creating it if needed, locked for update. The partial unique index on
// (group_key, category) decides races between concurrent reports.
func openCase(tx *gorm.DB, site *Site, host string, info CategoryInfo, now time.Time) (*Case, bool, error) {
	c := Case{
		GroupKey: "host:" + host, Hostname: host, Category: info.Category, Severity: info.Severity,
		Priority: info.Severity, Queue: info.Queue, State: StateNew, SLADueAt: now.Add(info.SLA),
		OpenedAt: now, UpdatedAt: now, Version: 1,
	}
	if site != nil {
		c.GroupKey = "site:" + strconv.FormatInt(site.ID, 10)
		c.SiteID, c.CustomerID, c.Hostname = &site.ID, &site.CustomerID, site.Hostname
	}
	if site != nil {
		// Most reports join an open case: look first, insert only if none.
		var open []Case
		err := tx.Clauses(clause.Locking{Strength: "UPDATE"}).
			Where("group_key = ? AND category = ? AND state <> ?", c.GroupKey, c.Category, StateClosed).Limit(1).Find(&open).Error
		if err != nil {
			return nil, false, err
		}
		if len(open) == 1 {
			return &open[0], false, nil
		}
	}
	res := tx.Clauses(clause.OnConflict{
		Columns: []clause.Column{{Name: "group_key"}, {Name: "category"}},
		// Must match the partial index's predicate word for word (SQLite checks).
		TargetWhere: clause.Where{Exprs: []clause.Expression{clause.Expr{SQL: "state <> 'closed'"}}},
		DoNothing:   true,
	}).Create(&c)
	if res.Error != nil {
		return nil, false, res.Error
	}
	if res.RowsAffected == 1 {
		return &c, true, nil
	}
	var existing Case
	err := tx.Clauses(clause.Locking{Strength: "UPDATE"}).
		Where("group_key = ? AND category = ? AND state <> ?", c.GroupKey, c.Category, StateClosed).
		Take(&existing).Error
	if err != nil {
		return nil, false, fmt.Errorf("find open case %s/%s: %w", c.GroupKey, c.Category, err)
	}
	return &existing, false, nil
}

// ReportView is a report with its reporter, as a reviewer sees it.
type ReportView struct {
	Report
	ReporterKind  ReporterKind
	ReporterName  string
	ReporterEmail string // shown only to roles that may read reporter contacts
}

// NoteView is a note with its author's name.
type NoteView struct {
	Note
	AuthorName string
}

// CaseView is everything the case page shows.
type CaseView struct {
	Case      Case
	Site      *Site
	Customer  *Customer
	Sites     []Site // all the customer's sites, for choosing what a decision affects
	Reports   []ReportView
	Notes     []NoteView
	Decisions []Decision
	Signoffs  []Signoff
	Events    []audit.Event
}

// ErrCaseNotFound is returned for a case that does not exist or that the viewer
// may not read: the two are indistinguishable on purpose.
var ErrCaseNotFound = errs.E(errs.NotFound, "There is no such case, or you may not see it.")

// Get returns a case with its site, customer, reports and history, if it is in
// one of the queues the viewer may read.
func (s *Service) Get(ctx context.Context, id int64, queues []string) (*CaseView, error) {
	db := s.db.R.WithContext(ctx)
	var v CaseView
	err := db.Where("id = ? AND queue IN ?", id, queues).Take(&v.Case).Error
	if errors.Is(err, gorm.ErrRecordNotFound) || len(queues) == 0 {
		return nil, ErrCaseNotFound
	}
	if err != nil {
		return nil, err
	}
	if v.Case.SiteID != nil {
		v.Site = &Site{}
		if err := db.Take(v.Site, *v.Case.SiteID).Error; err != nil {
			return nil, err
		}
	}
	if v.Case.CustomerID != nil {
		v.Customer = &Customer{}
		if err := db.Take(v.Customer, *v.Case.CustomerID).Error; err != nil {
			return nil, err
		}
		if err := db.Where("customer_id = ?", *v.Case.CustomerID).Order("hostname").Find(&v.Sites).Error; err != nil {
			return nil, err
		}
	}
	err = db.Table("reports").
		Select("reports.*, reporters.kind AS reporter_kind, reporters.name AS reporter_name, reporters.email AS reporter_email").
		Joins("JOIN reporters ON reporters.id = reports.reporter_id").
		Where("reports.case_id = ?", id).
		Order("reports.received_at, reports.id").
		Scan(&v.Reports).Error
	if err != nil {
		return nil, err
	}
	err = db.Table("notes").Select("notes.*, users.name AS author_name").
		Joins("JOIN users ON users.id = notes.author_id").
		Where("notes.case_id = ?", id).Order("notes.id").Scan(&v.Notes).Error
	if err != nil {
		return nil, err
	}
	if err := db.Where("case_id = ?", id).Order("id").Find(&v.Decisions).Error; err != nil {
		return nil, err
	}
	if err := db.Where("case_id = ?", id).Order("id").Find(&v.Signoffs).Error; err != nil {
		return nil, err
	}
	v.Events, err = audit.ForObject(ctx, db, "case", strconv.FormatInt(id, 10))
	return &v, err
}

// Status is what the case page's poll needs: the version, and the last change.
type Status struct {
	Version    int
	LastAction string
	LastActor  string
}

// Status returns a case's version and its latest audit event, if the case is in
// a readable queue. Cheap on purpose: open case pages ask every ten seconds.
func (s *Service) Status(ctx context.Context, id int64, queues []string) (*Status, error) {
	db := s.db.R.WithContext(ctx)
	var st Status
	err := db.Table("cases").Select("version").Where("id = ? AND queue IN ?", id, queues).Take(&st).Error
	if errors.Is(err, gorm.ErrRecordNotFound) || len(queues) == 0 {
		return nil, ErrCaseNotFound
	}
	if err != nil {
		return nil, err
	}
	var ev audit.Event
	err = db.Where("object_type = 'case' AND object_id = ?", strconv.FormatInt(id, 10)).Order("id DESC").Limit(1).Find(&ev).Error
	st.LastAction, st.LastActor = ev.Action, ev.Actor
	return &st, err
}
