package cases

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/dockethq/docket/audit"
	"github.com/dockethq/docket/internal/errs"
)

// Actor is the signed-in person acting on a case. Can asks the policy about
// non-route objects (e.g. "case/escalated", "decide"); the cases package never
// knows role names.
type Actor struct {
	UserID int64
	Can    func(obj, act string) bool
	System string // set for Docket itself or a link holder ("system", "customer"): the audit subject
}

// Subject is the actor as recorded in audit events.
func (a Actor) Subject() string {
	if a.System != "" {
		return a.System
	}
	return "user:" + strconv.FormatInt(a.UserID, 10)
}

func (a Actor) can(obj, act string) bool { return a.Can != nil && a.Can(obj, act) }

// LeaseDuration is how long a claim lasts without activity; every action by the
// holder renews it.
const LeaseDuration = 30 * time.Minute

// ErrClaimed is returned when someone else holds a live claim on the case.
type ClaimedError struct {
	By    int64
	Until time.Time
}

func (e *ClaimedError) Error() string {
	return fmt.Sprintf("Someone else (user %d) is working on this case until %s.", e.By, e.Until.UTC().Format("15:04 UTC"))
}

func (e *ClaimedError) Unwrap() error { return &errs.Error{Code: errs.Conflict, Message: e.Error()} }

var errNotClaimed = errs.E(errs.Conflict, "Claim this case before acting on it.")

// change is one guarded action on one case.
type change struct {
	action  Action
	details map[string]any
	// do performs the action's own writes; it may modify c, whose state,
	// version and lease are then saved.
	do func(tx *gorm.DB, c *Case, now time.Time) error
}

// apply runs a change in a transaction: it locks the case, asks the state machine,
// checks the claim, runs the change, saves the new state with a bumped version and
// renewed lease, and records an audit event. On any error nothing is written.
func (s *Service) apply(ctx context.Context, a Actor, caseID int64, ch change) (*Case, error) {
	var out Case
	err := s.db.W.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		c, err := s.applyTx(tx, a, caseID, ch)
		if c != nil {
			out = *c
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	s.committedAction(ch.action, &out, ch.details)
	return &out, nil
}

func (s *Service) applyTx(tx *gorm.DB, a Actor, caseID int64, ch change) (*Case, error) {
	now := s.now().UTC()
	var c Case
	// FOR UPDATE serializes actions on one case on PostgreSQL; on SQLite the
	// single writer connection and immediate transactions already do.
	if err := tx.Clauses(clause.Locking{Strength: "UPDATE"}).Take(&c, caseID).Error; err != nil {
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return nil, ErrCaseNotFound
		}
		return nil, err
	}
	to, err := Next(c.State, ch.action)
	if err != nil {
		return &c, err
	}
	if requiresClaim(ch.action) && !c.HeldBy(a.UserID, now) {
		if c.ClaimedByOther(a.UserID, now) {
			return &c, &ClaimedError{By: *c.AssigneeID, Until: *c.ClaimExpiresAt}
		}
		return &c, errNotClaimed
	}
	from := c.State
	if ch.do != nil {
		if err := ch.do(tx, &c, now); err != nil {
			return &c, err
		}
	}
	c.State = to
	if c.HeldBy(a.UserID, now) && to.Open() {
		exp := now.Add(LeaseDuration)
		c.ClaimExpiresAt = &exp
	}
	if !to.Open() {
		c.AssigneeID, c.ClaimExpiresAt = nil, nil
		if c.ClosedAt == nil && to == StateClosed {
			c.ClosedAt = &now
		}
	}
	c.Version++
	c.UpdatedAt = now
	res := tx.Model(&Case{}).Where("id = ? AND version = ?", c.ID, c.Version-1).Updates(map[string]any{
		"state": c.State, "assignee_id": c.AssigneeID, "claim_expires_at": c.ClaimExpiresAt, "version": c.Version,
		"updated_at": c.UpdatedAt, "closed_at": c.ClosedAt, "escalated_at": c.EscalatedAt, "close_reason": c.CloseReason,
		"merged_into": c.MergedInto, "queue": c.Queue, "priority": c.Priority, "queue_rank": c.QueueRank,
		"report_count": c.ReportCount, "reporter_count": c.ReporterCount, "flagger_report_count": c.FlaggerReportCount,
		"category": c.Category, "prior_actions": c.PriorActions,
	})
	if res.Error != nil {
		return &c, res.Error
	}
	if res.RowsAffected != 1 {
		return &c, errs.E(errs.Conflict, "This case changed while you were acting on it. Reload it and try again.")
	}
	details := map[string]any{"from": from, "to": to}
	for k, v := range ch.details {
		details[k] = v
	}
	return &c, audit.Record(tx, now, a.Subject(), "case."+string(ch.action), "case", strconv.FormatInt(c.ID, 10), details)
}

// Claim takes the case for the actor: a lease that ends after LeaseDuration
// without activity. Of two reviewers claiming at once, exactly one succeeds.
func (s *Service) Claim(ctx context.Context, a Actor, caseID int64) (*Case, error) {
	return s.apply(ctx, a, caseID, change{action: ActClaim, do: func(tx *gorm.DB, c *Case, now time.Time) error {
		if c.ClaimedByOther(a.UserID, now) {
			return &ClaimedError{By: *c.AssigneeID, Until: *c.ClaimExpiresAt}
		}
		exp := now.Add(LeaseDuration)
		c.AssigneeID, c.ClaimExpiresAt = &a.UserID, &exp
		return nil
	}})
}

// Release gives the actor's claim back.
func (s *Service) Release(ctx context.Context, a Actor, caseID int64) (*Case, error) {
	return s.apply(ctx, a, caseID, change{action: ActRelease, do: func(tx *gorm.DB, c *Case, now time.Time) error {
		c.AssigneeID, c.ClaimExpiresAt = nil, nil
		return nil
	}})
}

// Reassign gives the claim to another active user, whoever holds it now.
func (s *Service) Reassign(ctx context.Context, a Actor, caseID, to int64) (*Case, error) {
	return s.apply(ctx, a, caseID, change{action: ActReassign, details: map[string]any{"assignee": to}, do: func(tx *gorm.DB, c *Case, now time.Time) error {
		var n int64
		if err := tx.Table("users").Where("id = ? AND disabled = ?", to, false).Count(&n).Error; err != nil {
			return err
		}
		if n == 0 {
			return &errs.Error{Code: errs.Invalid, Message: "Choose an active user to assign the case to.", Fields: map[string]string{"assignee": "No such active user."}}
		}
		exp := now.Add(LeaseDuration)
		c.AssigneeID, c.ClaimExpiresAt = &to, &exp
		return nil
	}})
}

// Note is an internal note on a case, never shown outside the abuse team.
type Note struct {
	ID        int64
	CaseID    int64
	AuthorID  int64
	Body      string
	CreatedAt time.Time
}

// MaxNote bounds a note's length.
const MaxNote = 20000

func checkText(field, s string, max int, what string) (string, error) {
	s = strings.TrimSpace(s)
	switch {
	case s == "":
		return "", &errs.Error{Code: errs.Invalid, Message: "Write " + what + ".", Fields: map[string]string{field: "Write " + what + "."}}
	case !utf8.ValidString(s) || strings.IndexFunc(s, badControl) >= 0:
		return "", &errs.Error{Code: errs.Invalid, Message: "The text contains characters that are not plain text.", Fields: map[string]string{field: "Paste plain text."}}
	case utf8.RuneCountInString(s) > max:
		return "", &errs.Error{Code: errs.Invalid, Message: fmt.Sprintf("Keep it under %d characters.", max), Fields: map[string]string{field: fmt.Sprintf("Keep it under %d characters.", max)}}
	}
	return s, nil
}

// AddNote adds an internal note. Notes are allowed in every state.
func (s *Service) AddNote(ctx context.Context, a Actor, caseID int64, body string) (*Case, error) {
	body, err := checkText("body", body, MaxNote, "a note")
	if err != nil {
		return nil, err
	}
	return s.apply(ctx, a, caseID, change{action: ActNote, do: func(tx *gorm.DB, c *Case, now time.Time) error {
		return tx.Create(&Note{CaseID: c.ID, AuthorID: a.UserID, Body: body, CreatedAt: now}).Error
	}})
}

// Escalate asks a senior reviewer to decide; the reason becomes a note and the
// actor's claim is released so a senior can take it.
func (s *Service) Escalate(ctx context.Context, a Actor, caseID int64, reason string) (*Case, error) {
	reason, err := checkText("reason", reason, MaxNote, "why the case needs a senior reviewer")
	if err != nil {
		return nil, err
	}
	return s.apply(ctx, a, caseID, change{action: ActEscalate, details: map[string]any{"reason": reason}, do: func(tx *gorm.DB, c *Case, now time.Time) error {
		if c.EscalatedAt != nil {
			return errs.E(errs.Conflict, "This case is already escalated.")
		}
		c.EscalatedAt = &now
		if c.HeldBy(a.UserID, now) {
			c.AssigneeID, c.ClaimExpiresAt = nil, nil
		}
		return tx.Create(&Note{CaseID: c.ID, AuthorID: a.UserID, Body: "Escalated: " + reason, CreatedAt: now}).Error
	}})
}

// DecisionAction is what a decision does to the customer's service.
type DecisionAction string

const (
	NoAction  DecisionAction = "no_action"
	Warn      DecisionAction = "warn"
	Restrict  DecisionAction = "restrict"
	Terminate DecisionAction = "terminate"
	Reinstate DecisionAction = "reinstate"
)

// Decision is an outcome proposed or taken on a case.
type Decision struct {
	ID          int64
	CaseID      int64
	Action      DecisionAction
	Grounds     string
	Explanation string
	Status      string // proposed, final, rejected
	ProposerID  int64
	CreatedAt   time.Time
	FinalAt     *time.Time
	Hostnames   string // JSON array
	Evidence    string
	// An emergency restriction acts at once and must be ratified by legal and
	// leadership before SignoffDueAt.
	Emergency    bool
	SignoffDueAt *time.Time
	RatifiedAt   *time.Time
	// Measure narrows a restriction (edge.go): "" is the whole site,
	// "interstitial" a warning page in front of it, "block_url" only URLs.
	Measure string
	URLs    string // JSON array, for block_url
	// LastsSeconds is how long the measure lasts once final (0: until
	// changed); ExpiresAt is when it is lifted, set when it becomes final.
	LastsSeconds int64
	ExpiresAt    *time.Time
	// GroundType is "illegal" (a legal ground) or "terms" (a contractual
	// one); Automated is none, partial or full (migration 00036). Both feed
	// the statement of reasons and the transparency report.
	GroundType string
	Automated  string `gorm:"default:none"` // decisions made elsewhere (reinstate) leave it to the column default
}

// AwaitingSignoff reports whether d still needs sign-offs: a proposal, or an
// emergency restriction not yet ratified.
func (d *Decision) AwaitingSignoff() bool {
	return d.Status == "proposed" || (d.Emergency && d.Status == "final" && d.RatifiedAt == nil)
}

// HostnameList decodes Hostnames.
func (d *Decision) HostnameList() []string {
	var hs []string
	_ = json.Unmarshal([]byte(d.Hostnames), &hs)
	return hs
}

// Proposal is a reviewer's decision on a case.
type Proposal struct {
	Action      DecisionAction
	Grounds     string   // the policy clause or legal basis
	Explanation string   // what the customer and the public will read
	Hostnames   []string // for restrict and terminate: the customer's hostnames affected; default the case's site
	Evidence    string   // references (report ids, URLs, archive links), one per line
	Emergency   bool     // restrict at once in a csam or threat case; sign-off follows
	URLs        []string // for block_url: the URLs the edge answers 451 for
	// Lasts is how long an interstitial, block, restriction or termination
	// lasts once final; zero means until another decision changes it.
	Lasts time.Duration
	// GroundType ("illegal" or "terms") and Automated ("none", "partial",
	// "full"; empty means none) go into the statement of reasons.
	GroundType string
	Automated  string
	// Statement holds the reviewer's edits of the statement of reasons'
	// draft (statements.go); nil keeps the generated draft.
	Statement *StatementEdit
	// RequireGround makes GroundType required for warn, restrict and
	// terminate (the decide form sets it; older callers leave it off).
	RequireGround bool
}

// EmergencyDeadline is how long legal and leadership have to ratify an
// emergency restriction before it is flagged overdue.
var EmergencyDeadline = 24 * time.Hour

// Decide records a decision. no_action, warn and restrict are final at once;
// terminate becomes a proposal waiting for legal and leadership sign-off. The
// actor must hold the claim, and an escalated case needs a senior reviewer.
func (s *Service) Decide(ctx context.Context, a Actor, caseID int64, p Proposal) (*Case, *Decision, error) {
	f := map[string]string{}
	if !slices.Contains(DecisionActions, p.Action) {
		f["action"] = "Choose no action, warn, interstitial, block URLs, restrict or terminate."
	}
	measure := p.checkMeasure(f)
	var err error
	if p.Grounds, err = checkText("grounds", p.Grounds, 2000, "the grounds (policy clause or legal basis)"); err != nil {
		f["grounds"] = err.(*errs.Error).Fields["grounds"]
	}
	if p.Action != NoAction && p.Action != "" {
		if p.Explanation, err = checkText("explanation", p.Explanation, 5000, "the explanation the customer will read"); err != nil {
			f["explanation"] = err.(*errs.Error).Fields["explanation"]
		}
	}
	p.checkGround(f)
	if err := errs.Fields(f); err != nil {
		return nil, nil, err
	}
	act := ActDecide
	if p.Action == Terminate {
		act = ActPropose
	}
	var d Decision
	c, err := s.apply(ctx, a, caseID, change{action: act, details: map[string]any{"decision": p.Action, "grounds": p.Grounds}, do: func(tx *gorm.DB, c *Case, now time.Time) error {
		if c.EscalatedAt != nil && !a.can("case/escalated", "decide") {
			return errs.E(errs.Forbidden, "This case is escalated: a senior reviewer decides it.")
		}
		if p.Emergency {
			switch {
			case p.Action != Restrict || measure != "":
				return errs.E(errs.Invalid, "Only a restriction can be an emergency action.")
			case c.Category != CSAM && c.Category != Threat:
				return errs.E(errs.Invalid, "Emergency restriction is for child abuse material and threats of violence.")
			case !a.can("case/emergency", "restrict"):
				return errs.E(errs.Forbidden, "Emergency restriction is for senior reviewers.")
			}
		}
		d = Decision{CaseID: c.ID, Action: p.Action, Grounds: p.Grounds, Explanation: p.Explanation, Status: "final",
			ProposerID: a.UserID, CreatedAt: now, FinalAt: &now, Hostnames: "[]", Evidence: strings.TrimSpace(p.Evidence),
			Measure: measure, URLs: "[]", LastsSeconds: int64(p.Lasts / time.Second), GroundType: p.GroundType, Automated: p.Automated}
		d.Action = p.Action.stored()
		if p.Action == BlockURL {
			urls, hs, err := blockedURLs(tx, c, p.URLs)
			if err != nil {
				return err
			}
			b, _ := json.Marshal(urls)
			d.URLs = string(b)
			b, _ = json.Marshal(hs)
			d.Hostnames = string(b)
		} else if d.Action == Restrict || d.Action == Terminate {
			hs, err := affectedHostnames(tx, c, p.Hostnames)
			if err != nil {
				return err
			}
			b, _ := json.Marshal(hs)
			d.Hostnames = string(b)
		}
		if p.Action == Terminate {
			d.Status, d.FinalAt = "proposed", nil
		} else {
			d.setExpiry(now)
		}
		if p.Emergency {
			due := now.Add(EmergencyDeadline)
			d.Emergency, d.SignoffDueAt = true, &due
		}
		if err := tx.Create(&d).Error; err != nil {
			return err
		}
		if err := s.saveStatement(tx, a, c, &d, p.Statement, now); err != nil {
			return err
		}
		if d.Action == Restrict {
			if err := s.queueDirective(tx, c, &d, now); err != nil {
				return err
			}
		}
		if d.Status != "final" {
			return nil
		}
		if err := s.recordStrike(tx, c, &d, now); err != nil {
			return err
		}
		if s.onFinal != nil {
			return s.onFinal(tx, c, &d)
		}
		return nil
	}})
	if err != nil {
		return nil, nil, err
	}
	return c, &d, nil
}

// Close closes an undecided case (spam, duplicate, not ours) or a decided one,
// with a reason.
func (s *Service) Close(ctx context.Context, a Actor, caseID int64, reason string) (*Case, error) {
	reason, err := checkText("reason", reason, 2000, "why the case is closed")
	if err != nil {
		return nil, err
	}
	return s.apply(ctx, a, caseID, change{action: ActClose, details: map[string]any{"reason": reason}, do: func(tx *gorm.DB, c *Case, now time.Time) error {
		c.CloseReason = reason
		return nil
	}})
}

// BulkResult says what happened to each case of a bulk action.
type BulkResult struct {
	Closed []int64
	Failed map[int64]string // case id → why not
}

// BulkClose closes many cases with one reason, e.g. a spam flood. Each case is
// its own transaction: one that cannot be closed does not block the others.
func (s *Service) BulkClose(ctx context.Context, a Actor, ids []int64, reason string) (*BulkResult, error) {
	reason, err := checkText("reason", reason, 2000, "why the cases are closed")
	if err != nil {
		return nil, err
	}
	if len(ids) == 0 || len(ids) > 500 {
		return nil, &errs.Error{Code: errs.Invalid, Message: "Select between 1 and 500 cases.", Fields: map[string]string{"ids": "Select between 1 and 500 cases."}}
	}
	r := &BulkResult{Failed: map[int64]string{}}
	for _, id := range ids {
		if _, err := s.Close(ctx, a, id, reason); err != nil {
			if e, ok := errs.As(err); ok {
				r.Failed[id] = e.Message
				continue
			}
			return r, err
		}
		r.Closed = append(r.Closed, id)
	}
	return r, nil
}

// Merge moves every report of case from into case into, and closes from. Both
// must be about the same site (or unknown host).
func (s *Service) Merge(ctx context.Context, a Actor, from, into int64) (*Case, error) {
	if from == into {
		return nil, errs.E(errs.Invalid, "A case cannot be merged into itself.")
	}
	var out *Case
	err := s.db.W.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var target Case
		if err := tx.Clauses(clause.Locking{Strength: "UPDATE"}).Take(&target, into).Error; err != nil {
			return errs.E(errs.NotFound, "There is no case %d to merge into.", into)
		}
		_, err := s.applyTx(tx, a, from, change{action: ActMerge, details: map[string]any{"into": into}, do: func(tx *gorm.DB, c *Case, now time.Time) error {
			if c.GroupKey != target.GroupKey {
				return errs.E(errs.Invalid, "Only cases about the same site can be merged (%s is not %s).", c.Hostname, target.Hostname)
			}
			if err := tx.Model(&Report{}).Where("case_id = ?", c.ID).Update("case_id", into).Error; err != nil {
				return err
			}
			c.MergedInto, c.CloseReason = &into, fmt.Sprintf("Merged into case %d.", into)
			return nil
		}})
		if err != nil {
			return err
		}
		out, err = s.applyTx(tx, a, into, change{action: ActAddReport, details: map[string]any{"merged_from": from}, do: func(tx *gorm.DB, c *Case, now time.Time) error {
			return recount(tx, c)
		}})
		return err
	})
	return out, err
}

// Split moves one report out of a case into the open case for the same site and
// another category, opening it if needed: for a report filed under the wrong category.
func (s *Service) Split(ctx context.Context, a Actor, caseID, reportID int64, to Category) (*Case, error) {
	info, ok := to.Info()
	if !ok {
		return nil, &errs.Error{Code: errs.Invalid, Message: "Choose the category the report belongs to.", Fields: map[string]string{"category": "Choose a category."}}
	}
	var out *Case
	err := s.db.W.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var rep Report
		_, err := s.applyTx(tx, a, caseID, change{action: ActSplit, details: map[string]any{"report": reportID, "category": to}, do: func(tx *gorm.DB, c *Case, now time.Time) error {
			if c.Category == to {
				return errs.E(errs.Invalid, "The report is already in a %s case; choose another category.", to.Label())
			}
			if err := tx.Where("id = ? AND case_id = ?", reportID, c.ID).Take(&rep).Error; err != nil {
				return errs.E(errs.NotFound, "That report is not in this case.")
			}
			if c.ReportCount <= 1 {
				return errs.E(errs.Invalid, "This is the case's only report: close the case or change nothing.")
			}
			var site *Site
			if c.SiteID != nil {
				site = &Site{ID: *c.SiteID, CustomerID: *c.CustomerID, Hostname: c.Hostname}
			}
			target, opened, err := openCase(tx, site, c.Hostname, info, now)
			if err != nil {
				return err
			}
			if err := tx.Model(&Report{}).Where("id = ?", reportID).Updates(map[string]any{"case_id": target.ID, "category": to}).Error; err != nil {
				return err
			}
			if err := recount(tx, target); err != nil {
				return err
			}
			target.Version++
			if err := tx.Model(target).Select("report_count", "reporter_count", "flagger_report_count", "prior_actions", "priority", "queue_rank", "queue", "version").Updates(target).Error; err != nil {
				return err
			}
			if opened {
				if err := audit.Record(tx, now, a.Subject(), "case.opened", "case", strconv.FormatInt(target.ID, 10), map[string]any{"split_from": c.ID, "category": to}); err != nil {
					return err
				}
			}
			out = target
			return recount(tx, c)
		}})
		return err
	})
	return out, err
}

// recount recomputes a case's counts from its reports, then rescores it.
func recount(tx *gorm.DB, c *Case) error {
	var k struct {
		Reports, Reporters, Flagger int
	}
	err := tx.Table("reports").Joins("JOIN reporters ON reporters.id = reports.reporter_id").
		Where("reports.case_id = ?", c.ID).
		Select("COUNT(*) AS reports, COUNT(DISTINCT reports.reporter_key) AS reporters, " +
			"COALESCE(SUM(CASE WHEN reporters.kind = 'trusted_flagger' THEN 1 ELSE 0 END), 0) AS flagger").
		Scan(&k).Error
	if err != nil {
		return err
	}
	c.ReportCount, c.ReporterCount, c.FlaggerReportCount = k.Reports, k.Reporters, k.Flagger
	return rescore(tx, c)
}
