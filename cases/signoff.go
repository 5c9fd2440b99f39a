package cases

import (
	"context"
	"crypto/rand"
	"errors"
	"slices"
	"strconv"
	"time"

	"github.com/oklog/ulid/v2"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/dockethq/docket/audit"
	"github.com/dockethq/docket/intake"
	"github.com/dockethq/docket/internal/errs"
)

// Sign-off roles. A termination needs an approval in each, from two people who
// are not the proposer.
const (
	SignoffLegal      = "legal"
	SignoffLeadership = "leadership"
)

// SignoffRoles lists the roles whose approval a termination needs.
var SignoffRoles = []string{SignoffLegal, SignoffLeadership}

// Signoff is one approval or rejection of a proposed termination.
type Signoff struct {
	ID         int64
	DecisionID int64
	CaseID     int64
	Role       string
	UserID     int64
	Verdict    string // approve, reject
	Comment    string
	CreatedAt  time.Time
}

// Directive is what the edge must do to hostnames (DESIGN §5). It is written in
// the same transaction as the decision that causes it.
type Directive struct {
	ID         string // ULID
	Type       string // site.terminate, site.restrict, site.reinstate
	Version    int64  // greater than any earlier directive's for these hostnames
	CustomerID *int64
	Hostnames  string // JSON array
	CaseID     int64
	DecisionID int64
	ReasonCode string
	IssuedAt   time.Time
	Status     string
	Measure    string     // refines site.restrict: interstitial, block_url (see EdgeType)
	URLs       string     // JSON array, for block_url
	ExpiresAt  *time.Time // when the measure is lifted (a newer reinstate then)
}

// affectedHostnames checks the hostnames of a restrict or terminate against the
// customer's sites; none given means the case's own site.
func affectedHostnames(tx *gorm.DB, c *Case, given []string) ([]string, error) {
	if c.SiteID == nil {
		return nil, errs.E(errs.Invalid, "Docket does not serve %s, so there is nothing to restrict or terminate; close the case instead.", c.Hostname)
	}
	if len(given) == 0 {
		return []string{c.Hostname}, nil
	}
	var owned []string
	if err := tx.Model(&Site{}).Where("customer_id = ?", *c.CustomerID).Pluck("hostname", &owned).Error; err != nil {
		return nil, err
	}
	var out []string
	for _, h := range given {
		n, err := intake.NormalizeHost(h)
		if err != nil || !slices.Contains(owned, n) {
			return nil, &errs.Error{Code: errs.Invalid, Message: "Choose hostnames of this customer's sites.", Fields: map[string]string{"hostnames": h + " is not one of the customer's sites."}}
		}
		if !slices.Contains(out, n) {
			out = append(out, n)
		}
	}
	slices.Sort(out)
	return out, nil
}

// queueDirective writes the directive for a final restrict or terminate, with a
// version above every earlier one for its hostnames. The edge delivery picks it
// up from the table.
func (s *Service) queueDirective(tx *gorm.DB, c *Case, d *Decision, now time.Time) error {
	typ := map[DecisionAction]string{Restrict: "site.restrict", Terminate: "site.terminate", Reinstate: "site.reinstate"}[d.Action]
	if typ == "" {
		return nil
	}
	hosts := slices.Sorted(slices.Values(d.HostnameList()))
	// Make sure every hostname has a row before locking: FOR UPDATE locks only
	// rows that exist, so two first directives for one hostname (two cases of
	// different categories, decided at once on two instances) would both read
	// nothing and both take version 1. INSERT … DO NOTHING waits for a
	// concurrent insert of the same hostname to commit; then the locking read
	// sees its version. Sorted hostnames keep the lock order the same in every
	// transaction, so two directives sharing hostnames cannot deadlock.
	for _, h := range hosts {
		if err := tx.Table("hostname_versions").Clauses(clause.OnConflict{DoNothing: true}).Create(map[string]any{"hostname": h, "version": 0}).Error; err != nil {
			return err
		}
	}
	var current []struct {
		Hostname string
		Version  int64
	}
	if err := tx.Table("hostname_versions").Clauses(clause.Locking{Strength: "UPDATE"}).Where("hostname IN ?", hosts).Order("hostname").Scan(&current).Error; err != nil {
		return err
	}
	var v int64
	for _, cur := range current {
		v = max(v, cur.Version)
	}
	v++
	for _, h := range hosts {
		err := tx.Table("hostname_versions").Clauses(clause.OnConflict{
			Columns:   []clause.Column{{Name: "hostname"}},
			DoUpdates: clause.Assignments(map[string]any{"version": v}),
		}).Create(map[string]any{"hostname": h, "version": v}).Error
		if err != nil {
			return err
		}
	}
	dir := Directive{
		ID: ulid.MustNew(ulid.Timestamp(now), rand.Reader).String(), Type: typ, Version: v,
		CustomerID: c.CustomerID, Hostnames: d.Hostnames, CaseID: c.ID, DecisionID: d.ID,
		ReasonCode: string(c.Category), IssuedAt: now, Status: "queued",
		Measure: d.Measure, URLs: d.URLs, ExpiresAt: d.ExpiresAt,
	}
	if dir.URLs == "" {
		dir.URLs = "[]"
	}
	if err := tx.Create(&dir).Error; err != nil {
		return err
	}
	for _, h := range hosts {
		if err := tx.Table("directive_hosts").Create(map[string]any{"directive_id": dir.ID, "hostname": h, "version": v}).Error; err != nil {
			return err
		}
	}
	if s.onDirective != nil {
		if err := s.onDirective(tx, &dir); err != nil {
			return err
		}
	}
	return audit.Record(tx, now, "system", "directive.queued", "case", strconv.FormatInt(c.ID, 10), map[string]any{"directive": dir.ID, "type": dir.EdgeType(), "version": v, "hostnames": hosts, "expires_at": dir.ExpiresAt})
}

// SignOff records a legal or leadership verdict on a proposed termination. The
// rules here hold whatever the policy grants: nobody signs off their own
// proposal; one person gives at most one sign-off per proposal (so legal and
// leadership are two people, even when someone holds both roles); a rejection
// needs a comment and returns the case to review; the second approval makes the
// decision final and queues the directive, in the same transaction.
func (s *Service) SignOff(ctx context.Context, a Actor, decisionID int64, role, verdict, comment string) (*Decision, error) {
	if !slices.Contains(SignoffRoles, role) {
		return nil, &errs.Error{Code: errs.Invalid, Message: "Sign off as legal or leadership.", Fields: map[string]string{"role": "Choose legal or leadership."}}
	}
	if verdict != "approve" && verdict != "reject" {
		return nil, errs.E(errs.Invalid, "Approve or reject.")
	}
	if verdict == "reject" {
		var err error
		if comment, err = checkText("comment", comment, MaxNote, "why you reject the proposal"); err != nil {
			return nil, err
		}
	}
	if !a.can("signoff/"+role, "give") {
		return nil, errs.E(errs.Forbidden, "You cannot sign off as %s.", role)
	}
	var d Decision
	err := s.db.W.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		now := s.now().UTC()
		if err := tx.Clauses(clause.Locking{Strength: "UPDATE"}).Take(&d, decisionID).Error; err != nil {
			if errors.Is(err, gorm.ErrRecordNotFound) {
				return errs.E(errs.NotFound, "There is no such proposal.")
			}
			return err
		}
		if !d.AwaitingSignoff() {
			return errs.E(errs.Conflict, "This proposal is no longer waiting for sign-off (it is %s).", d.Status)
		}
		if d.ProposerID == a.UserID {
			return errs.E(errs.Forbidden, "You proposed this decision: two other people must sign it off.")
		}
		var prior []Signoff
		if err := tx.Where("decision_id = ?", d.ID).Find(&prior).Error; err != nil {
			return err
		}
		for _, p := range prior {
			if p.UserID == a.UserID {
				return errs.E(errs.Forbidden, "You have already signed off this proposal as %s; the other sign-off must come from someone else.", p.Role)
			}
			if p.Role == role && p.Verdict == "approve" {
				return errs.E(errs.Conflict, "%s has already approved this proposal.", role)
			}
		}
		so := Signoff{DecisionID: d.ID, CaseID: d.CaseID, Role: role, UserID: a.UserID, Verdict: verdict, Comment: comment, CreatedAt: now}
		if err := tx.Create(&so).Error; err != nil {
			if errors.Is(err, gorm.ErrDuplicatedKey) {
				return errs.E(errs.Conflict, "Someone signed off at the same moment; reload and check.")
			}
			return err
		}
		details := map[string]any{"decision": d.ID, "role": role, "verdict": verdict}
		if err := audit.Record(tx, now, a.Subject(), "signoff."+verdict, "case", strconv.FormatInt(d.CaseID, 10), details); err != nil {
			return err
		}
		approvals := 1
		for _, p := range prior {
			if p.Verdict == "approve" && p.Role != role {
				approvals++
			}
		}
		switch {
		case d.Emergency && verdict == "reject":
			// The restriction already acts at the edge: undo it with a newer directive.
			d.Status = "rejected"
			if err := tx.Model(&d).Update("status", d.Status).Error; err != nil {
				return err
			}
			_, err := s.applyTx(tx, a, d.CaseID, change{action: ActRevoke, details: details, do: func(tx *gorm.DB, c *Case, now time.Time) error {
				undo := Decision{ID: d.ID, Action: Reinstate, Hostnames: d.Hostnames}
				if err := s.queueDirective(tx, c, &undo, now); err != nil {
					return err
				}
				if err := voidStrike(tx, d.ID, now); err != nil {
					return err
				}
				return tx.Create(&Note{CaseID: c.ID, AuthorID: a.UserID, Body: "Emergency restriction revoked (" + role + "): " + comment, CreatedAt: now}).Error
			}})
			return err
		case d.Emergency && approvals == len(SignoffRoles):
			d.RatifiedAt = &now
			if err := tx.Model(&d).Update("ratified_at", now).Error; err != nil {
				return err
			}
			return audit.Record(tx, now, a.Subject(), "decision.ratified", "case", strconv.FormatInt(d.CaseID, 10), details)
		case verdict == "reject":
			d.Status = "rejected"
			if err := tx.Model(&d).Update("status", d.Status).Error; err != nil {
				return err
			}
			_, err := s.applyTx(tx, a, d.CaseID, change{action: ActReject, details: details, do: func(tx *gorm.DB, c *Case, now time.Time) error {
				return tx.Create(&Note{CaseID: c.ID, AuthorID: a.UserID, Body: "Termination rejected (" + role + "): " + comment, CreatedAt: now}).Error
			}})
			return err
		case approvals == len(SignoffRoles):
			d.Status, d.FinalAt = "final", &now
			d.setExpiry(now)
			if err := tx.Model(&d).Updates(map[string]any{"status": d.Status, "final_at": d.FinalAt, "expires_at": d.ExpiresAt}).Error; err != nil {
				return err
			}
			_, err := s.applyTx(tx, a, d.CaseID, change{action: ActApprove, details: details, do: func(tx *gorm.DB, c *Case, now time.Time) error {
				if err := s.queueDirective(tx, c, &d, now); err != nil {
					return err
				}
				if err := s.recordStrike(tx, c, &d, now); err != nil {
					return err
				}
				if err := s.finalizeStatement(tx, a, c, &d, now); err != nil {
					return err
				}
				if s.onFinal != nil {
					return s.onFinal(tx, c, &d)
				}
				return nil
			}})
			return err
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &d, nil
}

// Pending is a proposal waiting for sign-off, with what is in so far.
type Pending struct {
	Decision Decision
	Case     Case
	Customer *Customer
	Signoffs []Signoff
}

// Approved reports whether role has approved.
func (p *Pending) Approved(role string) bool {
	for _, s := range p.Signoffs {
		if s.Role == role && s.Verdict == "approve" {
			return true
		}
	}
	return false
}

// PendingSignoffs lists proposals waiting for sign-off, oldest first, in the
// queues the viewer may read.
func (s *Service) PendingSignoffs(ctx context.Context, queues []string) ([]Pending, error) {
	db := s.db.R.WithContext(ctx)
	var ds []Decision
	err := db.Joins("JOIN cases ON cases.id = decisions.case_id").
		Where("(decisions.status = 'proposed' OR (decisions.emergency = ? AND decisions.status = 'final' AND decisions.ratified_at IS NULL)) AND cases.queue IN ?", true, queues).
		Order("decisions.created_at, decisions.id").Find(&ds).Error
	if err != nil || len(ds) == 0 {
		return nil, err
	}
	out := make([]Pending, 0, len(ds))
	for _, d := range ds {
		p, err := s.pending(db, d)
		if err != nil {
			return nil, err
		}
		out = append(out, *p)
	}
	return out, nil
}

// Proposal returns one decision with its case and sign-offs, if the case is in a
// readable queue.
func (s *Service) Proposal(ctx context.Context, decisionID int64, queues []string) (*Pending, error) {
	db := s.db.R.WithContext(ctx)
	var d Decision
	err := db.Joins("JOIN cases ON cases.id = decisions.case_id").
		Where("decisions.id = ? AND cases.queue IN ?", decisionID, queues).Take(&d).Error
	if err != nil {
		return nil, errs.E(errs.NotFound, "There is no such proposal, or you may not see it.")
	}
	return s.pending(db, d)
}

func (s *Service) pending(db *gorm.DB, d Decision) (*Pending, error) {
	p := Pending{Decision: d}
	if err := db.Take(&p.Case, d.CaseID).Error; err != nil {
		return nil, err
	}
	if p.Case.CustomerID != nil {
		p.Customer = &Customer{}
		if err := db.Take(p.Customer, *p.Case.CustomerID).Error; err != nil {
			return nil, err
		}
	}
	return &p, db.Where("decision_id = ?", d.ID).Order("id").Find(&p.Signoffs).Error
}

// OverdueEmergencies counts emergency restrictions past their sign-off deadline.
func (s *Service) OverdueEmergencies(ctx context.Context) (int64, error) {
	var n int64
	err := s.db.R.WithContext(ctx).Model(&Decision{}).
		Where("emergency = ? AND status = 'final' AND ratified_at IS NULL AND signoff_due_at < ?", true, s.now().UTC()).
		Count(&n).Error
	return n, err
}

// Directives lists the directives queued for a case, newest first (by version
// among those issued at the same instant).
func (s *Service) Directives(ctx context.Context, caseID int64) ([]Directive, error) {
	var ds []Directive
	err := s.db.R.WithContext(ctx).Where("case_id = ?", caseID).Order("issued_at DESC, version DESC").Find(&ds).Error
	return ds, err
}

// Reverse undoes a final restrict or terminate decided by mistake: a reinstate
// decision, a site.reinstate directive with a newer version for the same
// hostnames, and the case back in review, in one transaction. (Appeals will use
// the same path.)
func (s *Service) Reverse(ctx context.Context, a Actor, caseID int64, reason string) (*Decision, error) {
	reason, err := checkText("reason", reason, 2000, "why the decision is reversed")
	if err != nil {
		return nil, err
	}
	var out Decision
	_, err = s.apply(ctx, a, caseID, change{action: ActRevoke, details: map[string]any{"reason": reason}, do: func(tx *gorm.DB, c *Case, now time.Time) error {
		var last Decision
		err := tx.Where("case_id = ? AND status = 'final' AND action IN ?", c.ID, []DecisionAction{Restrict, Terminate}).
			Order("id DESC").Take(&last).Error
		if err != nil {
			return errs.E(errs.Conflict, "This case has no restriction or termination in force to reverse.")
		}
		out = Decision{CaseID: c.ID, Action: Reinstate, Grounds: "Reversal of decision " + strconv.FormatInt(last.ID, 10), Explanation: reason,
			Status: "final", ProposerID: a.UserID, CreatedAt: now, FinalAt: &now, Hostnames: last.Hostnames}
		if err := tx.Create(&out).Error; err != nil {
			return err
		}
		if err := tx.Model(&last).Update("status", "reversed").Error; err != nil {
			return err
		}
		if err := voidStrike(tx, last.ID, now); err != nil {
			return err
		}
		return s.queueDirective(tx, c, &out, now)
	}})
	if err != nil {
		return nil, err
	}
	return &out, nil
}

// PendingCountFor counts the proposals waiting for sign-off that userID could
// still sign (not proposed by them, not signed by them), in readable queues: the
// badge on every page of the sign-off roles, so one query.
func (s *Service) PendingCountFor(ctx context.Context, userID int64, queues []string) (int64, error) {
	var n int64
	err := s.db.R.WithContext(ctx).Model(&Decision{}).
		Joins("JOIN cases ON cases.id = decisions.case_id").
		Where("(decisions.status = 'proposed' OR (decisions.emergency = ? AND decisions.status = 'final' AND decisions.ratified_at IS NULL)) AND cases.queue IN ?", true, queues).
		Where("decisions.proposer_id <> ?", userID).
		Where("NOT EXISTS (SELECT 1 FROM signoffs WHERE signoffs.decision_id = decisions.id AND signoffs.user_id = ?)", userID).
		Count(&n).Error
	return n, err
}
