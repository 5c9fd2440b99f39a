package cases

// Appeals (DSA Art. 20, DESIGN §3): the customer — or a reporter, against a
// decision not to act — contests a final decision through a signed link for
// AppealWindow after it. An appeal moves the case to appealed; a reviewer who
// took no part in the decision upholds it (nothing changes at the edge) or
// reverses it (a restriction or termination is undone by a newer
// site.reinstate directive, and the case goes back to review). The rule that
// the decider never reviews holds here whatever the policy grants.

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/dockethq/docket/audit"
	"github.com/dockethq/docket/internal/errs"
)

// AppealWindow is how long after a decision its appeal link works: at least
// six months.
const AppealWindow = 183 * 24 * time.Hour

// MaxAppealText bounds the grounds of an appeal and every message of its thread.
const MaxAppealText = 5000

// Signed-link purposes. A customer's link names the decision; a reporter's
// names one of their reports (the decision is the case's).
const (
	AppealPurposeCustomer = "appeal-customer"
	AppealPurposeReporter = "appeal-reporter"
)

// Appellants.
const (
	AppellantCustomer = "customer"
	AppellantReporter = "reporter"
)

// Appeal states.
const (
	AppealOpen     = "open"
	AppealUpheld   = "upheld"
	AppealReversed = "reversed"
)

// Appeal is one appellant's complaint about one decision.
type Appeal struct {
	ID           int64
	CaseID       int64
	DecisionID   int64
	Appellant    string // customer, reporter
	AppellantKey string // "customer" or "reporter:<reporter id>": one appeal each per decision
	ReporterID   *int64
	ReportID     *int64
	Grounds      string
	State        string // open, upheld, reversed
	ReviewerID   *int64
	Outcome      string // the reviewer's statement to the appellant
	OpenedAt     time.Time
	DecidedAt    *time.Time
}

// AppealMessage is one message of an appeal's thread.
type AppealMessage struct {
	ID        int64
	AppealID  int64
	Author    string // appellant, staff
	UserID    *int64
	Body      string
	CreatedAt time.Time
}

// AppealLink is what a signed appeal link names.
type AppealLink struct {
	Purpose string // AppealPurposeCustomer or AppealPurposeReporter
	ID      int64  // a decision id, or a report id
}

// AppealEvent is what the notices hook is told: an appeal filed, a message from
// either side, an appeal upheld or reversed.
type AppealEvent struct {
	Kind     string // filed, message, reply, upheld, reversed
	Appeal   *Appeal
	Case     *Case
	Decision *Decision
	Body     string // the reply, for reply
}

// OnAppeal registers fn to run inside each appeal's transactions (notices to
// the appellant and, on a reversal, to everyone concerned).
func (s *Service) OnAppeal(fn func(tx *gorm.DB, ev AppealEvent) error) { s.onAppeal = fn }

// AppealSubject is what an appellant sees through their link: the decision and
// its statement of reasons, and their appeal if they filed one.
type AppealSubject struct {
	Appellant string
	Case      Case
	Decision  Decision
	Deadline  time.Time // the last moment to appeal
	Appeal    *Appeal
	Messages  []AppealMessage
	key       string
	reporter  *int64
	report    *int64
}

// AppealFor resolves a signed link to the decision it lets someone appeal.
func (s *Service) AppealFor(ctx context.Context, l AppealLink) (*AppealSubject, error) {
	return s.appealSubject(s.db.R.WithContext(ctx), l)
}

var errNoAppealable = errs.E(errs.NotFound, "This link does not open a decision that can be appealed.")

func (s *Service) appealSubject(db *gorm.DB, l AppealLink) (*AppealSubject, error) {
	sub := AppealSubject{}
	switch l.Purpose {
	case AppealPurposeCustomer:
		if err := db.Take(&sub.Decision, l.ID).Error; err != nil {
			return nil, errNoAppealable
		}
		sub.Appellant, sub.key = AppellantCustomer, AppellantCustomer
	case AppealPurposeReporter:
		var rep Report
		if err := db.Take(&rep, l.ID).Error; err != nil {
			return nil, errNoAppealable
		}
		// The decision a reporter contests is the case's latest final one.
		err := db.Where("case_id = ? AND status IN ? AND action <> ?", rep.CaseID, []string{"final", "reversed"}, Reinstate).
			Order("id DESC").Take(&sub.Decision).Error
		if err != nil {
			return nil, errs.E(errs.NotFound, "There is no decision on this report to appeal yet.")
		}
		sub.Appellant, sub.key = AppellantReporter, "reporter:"+strconv.FormatInt(rep.ReporterID, 10)
		sub.reporter, sub.report = &rep.ReporterID, &rep.ID
	default:
		return nil, errNoAppealable
	}
	if sub.Decision.FinalAt == nil {
		return nil, errNoAppealable
	}
	if err := db.Take(&sub.Case, sub.Decision.CaseID).Error; err != nil {
		return nil, err
	}
	sub.Deadline = sub.Decision.FinalAt.Add(AppealWindow)
	var ap Appeal
	err := db.Where("decision_id = ? AND appellant_key = ?", sub.Decision.ID, sub.key).Take(&ap).Error
	switch {
	case err == nil:
		sub.Appeal = &ap
		if err := db.Where("appeal_id = ?", ap.ID).Order("id").Find(&sub.Messages).Error; err != nil {
			return nil, err
		}
	case !errors.Is(err, gorm.ErrRecordNotFound):
		return nil, err
	}
	return &sub, nil
}

// Appealable says why an appellant may not appeal d, or nil.
func Appealable(appellant string, d *Decision) error {
	switch {
	case d.Status == "reversed":
		return errs.E(errs.Conflict, "This decision has already been reversed; there is nothing left to appeal.")
	case d.Status != "final":
		return errNoAppealable
	case appellant == AppellantReporter && d.Action != NoAction:
		return errs.E(errs.Conflict, "A reporter may appeal only a decision not to act; this decision was to %s.", humanAction(d.Action))
	case appellant == AppellantCustomer && !slices.Contains([]DecisionAction{Warn, Restrict, Terminate}, d.Action):
		return errs.E(errs.Conflict, "This decision took no action against your service, so there is nothing to appeal.")
	}
	return nil
}

func humanAction(a DecisionAction) string {
	return map[DecisionAction]string{Warn: "warn", Restrict: "restrict the site", Terminate: "terminate the service", NoAction: "take no action"}[a]
}

func appellantActor(sub *AppealSubject) Actor {
	if sub.reporter != nil {
		return Actor{System: "reporter:" + strconv.FormatInt(*sub.reporter, 10)}
	}
	return Actor{System: "customer:" + strconv.FormatInt(ptrOr(sub.Case.CustomerID), 10)}
}

func ptrOr(p *int64) int64 {
	if p == nil {
		return 0
	}
	return *p
}

// FileAppeal files the appellant's appeal with their grounds: one per decision
// per appellant, within AppealWindow of the decision. The case moves to
// appealed in the same transaction.
func (s *Service) FileAppeal(ctx context.Context, l AppealLink, grounds string) (*Appeal, error) {
	grounds, err := checkText("grounds", grounds, MaxAppealText, "why you think the decision is wrong")
	if err != nil {
		return nil, err
	}
	var ap Appeal
	err = s.db.W.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		sub, err := s.appealSubject(tx, l)
		if err != nil {
			return err
		}
		now := s.now().UTC()
		if sub.Appeal != nil {
			return errs.E(errs.Conflict, "You have already appealed this decision; your appeal is %s.", sub.Appeal.State)
		}
		if !now.Before(sub.Deadline) {
			return errs.E(errs.Conflict, "The time to appeal this decision ended on %s.", sub.Deadline.Format("2 January 2006"))
		}
		if err := Appealable(sub.Appellant, &sub.Decision); err != nil {
			return err
		}
		a := appellantActor(sub)
		_, err = s.applyTx(tx, a, sub.Case.ID, change{action: ActAppeal, details: map[string]any{"decision": sub.Decision.ID, "appellant": sub.Appellant},
			do: func(tx *gorm.DB, c *Case, now time.Time) error {
				ap = Appeal{CaseID: c.ID, DecisionID: sub.Decision.ID, Appellant: sub.Appellant, AppellantKey: sub.key,
					ReporterID: sub.reporter, ReportID: sub.report, Grounds: grounds, State: AppealOpen, OpenedAt: now}
				if err := tx.Create(&ap).Error; err != nil {
					if errors.Is(err, gorm.ErrDuplicatedKey) {
						return errs.E(errs.Conflict, "You have already appealed this decision.")
					}
					return err
				}
				if err := tx.Create(&AppealMessage{AppealID: ap.ID, Author: "appellant", Body: grounds, CreatedAt: now}).Error; err != nil {
					return err
				}
				if err := audit.Record(tx, now, a.Subject(), "appeal.filed", "case", strconv.FormatInt(c.ID, 10), map[string]any{"appeal": ap.ID, "decision": sub.Decision.ID, "appellant": sub.Appellant}); err != nil {
					return err
				}
				return s.appealHook(tx, "filed", &ap, c, &sub.Decision, "")
			}})
		return err
	})
	if err != nil {
		return nil, err
	}
	return &ap, nil
}

func (s *Service) appealHook(tx *gorm.DB, kind string, ap *Appeal, c *Case, d *Decision, body string) error {
	if s.onAppeal == nil {
		return nil
	}
	return s.onAppeal(tx, AppealEvent{Kind: kind, Appeal: ap, Case: c, Decision: d, Body: body})
}

// AppellantMessage adds the appellant's message to their open appeal's thread.
func (s *Service) AppellantMessage(ctx context.Context, l AppealLink, body string) error {
	body, err := checkText("body", body, MaxAppealText, "your message")
	if err != nil {
		return err
	}
	return s.db.W.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		sub, err := s.appealSubject(tx, l)
		if err != nil {
			return err
		}
		if sub.Appeal == nil || sub.Appeal.State != AppealOpen {
			return errs.E(errs.Conflict, "Messages can be added only while the appeal is open.")
		}
		now := s.now().UTC()
		if err := tx.Create(&AppealMessage{AppealID: sub.Appeal.ID, Author: "appellant", Body: body, CreatedAt: now}).Error; err != nil {
			return err
		}
		if err := s.touch(tx, sub.Case.ID, now); err != nil {
			return err
		}
		return audit.Record(tx, now, appellantActor(sub).Subject(), "appeal.message", "case", strconv.FormatInt(sub.Case.ID, 10), map[string]any{"appeal": sub.Appeal.ID})
	})
}

// touch bumps a case's version without changing its state, so open case pages
// learn that something (an appeal's thread) changed.
func (s *Service) touch(tx *gorm.DB, caseID int64, now time.Time) error {
	return tx.Model(&Case{}).Where("id = ?", caseID).Updates(map[string]any{"version": gorm.Expr("version + 1"), "updated_at": now}).Error
}

// lockAppeal loads an appeal for review, refusing anyone who took part in the
// decision under appeal: its proposer and everyone who signed it off.
func (s *Service) lockAppeal(tx *gorm.DB, a Actor, id int64) (*Appeal, *Decision, error) {
	var ap Appeal
	if err := tx.Clauses(clause.Locking{Strength: "UPDATE"}).Take(&ap, id).Error; err != nil {
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return nil, nil, errs.E(errs.NotFound, "There is no such appeal.")
		}
		return nil, nil, err
	}
	var d Decision
	if err := tx.Take(&d, ap.DecisionID).Error; err != nil {
		return nil, nil, err
	}
	if err := reviewBar(tx, a.UserID, &d); err != nil {
		return nil, nil, err
	}
	if ap.State != AppealOpen {
		return nil, nil, errs.E(errs.Conflict, "This appeal was already %s.", ap.State)
	}
	return &ap, &d, nil
}

// reviewBar says why userID may not review an appeal of d — they proposed it,
// or signed it off — or nil. It holds whatever the policy grants.
func reviewBar(db *gorm.DB, userID int64, d *Decision) error {
	if d.ProposerID == userID {
		return errs.E(errs.Forbidden, "You made the decision under appeal: someone else must review the appeal.")
	}
	var so []Signoff
	if err := db.Where("decision_id = ? AND user_id = ?", d.ID, userID).Find(&so).Error; err != nil {
		return err
	}
	if len(so) > 0 {
		return errs.E(errs.Forbidden, "You signed off the decision under appeal (as %s): someone else must review the appeal.", so[0].Role)
	}
	return nil
}

// ReplyAppeal adds a reviewer's reply to an appeal's thread; it is mailed to the
// appellant with a link to answer.
func (s *Service) ReplyAppeal(ctx context.Context, a Actor, id int64, body string) error {
	body, err := checkText("body", body, MaxAppealText, "your reply to the appellant")
	if err != nil {
		return err
	}
	return s.db.W.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		ap, d, err := s.lockAppeal(tx, a, id)
		if err != nil {
			return err
		}
		now := s.now().UTC()
		uid := a.UserID
		if err := tx.Create(&AppealMessage{AppealID: ap.ID, Author: "staff", UserID: &uid, Body: body, CreatedAt: now}).Error; err != nil {
			return err
		}
		if err := s.touch(tx, ap.CaseID, now); err != nil {
			return err
		}
		if err := audit.Record(tx, now, a.Subject(), "appeal.reply", "case", strconv.FormatInt(ap.CaseID, 10), map[string]any{"appeal": ap.ID}); err != nil {
			return err
		}
		var c Case
		if err := tx.Take(&c, ap.CaseID).Error; err != nil {
			return err
		}
		return s.appealHook(tx, "reply", ap, &c, d, body)
	})
}

// UpholdAppeal rejects an appeal: the decision stands and nothing changes at
// the edge. The last open appeal of a case closes it.
func (s *Service) UpholdAppeal(ctx context.Context, a Actor, id int64, outcome string) (*Appeal, error) {
	return s.resolveAppeal(ctx, a, id, outcome, AppealUpheld)
}

// ReverseAppeal grants an appeal: the decision is reversed — a restriction or
// termination by a reinstate decision and a newer site.reinstate directive —
// and the case goes back to review, all in one transaction. Other open appeals
// of the same decision are granted with it.
func (s *Service) ReverseAppeal(ctx context.Context, a Actor, id int64, outcome string) (*Appeal, error) {
	return s.resolveAppeal(ctx, a, id, outcome, AppealReversed)
}

func (s *Service) resolveAppeal(ctx context.Context, a Actor, id int64, outcome, verdict string) (*Appeal, error) {
	outcome, err := checkText("outcome", outcome, MaxAppealText, "the outcome the appellant will read")
	if err != nil {
		return nil, err
	}
	var out Appeal
	err = s.db.W.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		ap, d, err := s.lockAppeal(tx, a, id)
		if err != nil {
			return err
		}
		now := s.now().UTC()
		uid := a.UserID
		decided := []Appeal{*ap}
		if verdict == AppealReversed {
			var others []Appeal
			if err := tx.Where("decision_id = ? AND state = ? AND id <> ?", d.ID, AppealOpen, ap.ID).Order("id").Find(&others).Error; err != nil {
				return err
			}
			decided = append(decided, others...)
		}
		for i := range decided {
			decided[i].State, decided[i].ReviewerID, decided[i].Outcome, decided[i].DecidedAt = verdict, &uid, outcome, &now
			if err := tx.Model(&Appeal{}).Where("id = ?", decided[i].ID).Updates(map[string]any{
				"state": verdict, "reviewer_id": uid, "outcome": outcome, "decided_at": now}).Error; err != nil {
				return err
			}
		}
		var stillOpen int64
		if err := tx.Model(&Appeal{}).Where("case_id = ? AND state = ?", ap.CaseID, AppealOpen).Count(&stillOpen).Error; err != nil {
			return err
		}
		details := map[string]any{"appeal": ap.ID, "decision": d.ID, "verdict": verdict}
		var c *Case
		do := func(tx *gorm.DB, cc *Case, now time.Time) error {
			c = cc
			if verdict == AppealUpheld {
				cc.CloseReason = "Appeal upheld: the decision stands."
				return nil
			}
			return s.reverseDecision(tx, a, cc, d, "Reversed on appeal: "+outcome, now)
		}
		var cur Case
		if err := tx.Take(&cur, ap.CaseID).Error; err != nil {
			return err
		}
		switch {
		case cur.State == StateAppealed && verdict == AppealReversed:
			_, err = s.applyTx(tx, a, ap.CaseID, change{action: ActOverturn, details: details, do: do})
		case cur.State == StateAppealed && stillOpen == 0:
			_, err = s.applyTx(tx, a, ap.CaseID, change{action: ActResolve, details: details, do: do})
		default:
			// Other appeals of the case stay open, so it stays appealed.
			c = &cur
			if verdict == AppealReversed {
				err = s.reverseDecision(tx, a, c, d, "Reversed on appeal: "+outcome, now)
			}
			if err == nil {
				err = s.touch(tx, ap.CaseID, now)
			}
		}
		if err != nil {
			return err
		}
		if err := audit.Record(tx, now, a.Subject(), "appeal."+verdict, "case", strconv.FormatInt(ap.CaseID, 10), details); err != nil {
			return err
		}
		for i := range decided {
			if err := s.appealHook(tx, verdict, &decided[i], c, d, outcome); err != nil {
				return err
			}
		}
		out = decided[0]
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &out, nil
}

// reverseDecision marks d reversed; a restriction or termination in force is
// undone by a reinstate decision whose directive outranks it at the edge (the
// same path as Reverse).
func (s *Service) reverseDecision(tx *gorm.DB, a Actor, c *Case, d *Decision, why string, now time.Time) error {
	if d.Status != "final" {
		return nil // already reversed by other means: nothing is left in force
	}
	if err := tx.Model(d).Update("status", "reversed").Error; err != nil {
		return err
	}
	d.Status = "reversed"
	// A decision reversed on appeal no longer counts against the customer.
	if err := voidStrike(tx, d.ID, now); err != nil {
		return err
	}
	if d.Action != Restrict && d.Action != Terminate {
		return nil
	}
	re := Decision{CaseID: c.ID, Action: Reinstate, Grounds: "Appeal against decision " + strconv.FormatInt(d.ID, 10), Explanation: why,
		Status: "final", ProposerID: a.UserID, CreatedAt: now, FinalAt: &now, Hostnames: d.Hostnames}
	if err := tx.Create(&re).Error; err != nil {
		return err
	}
	return s.queueDirective(tx, c, &re, now)
}

// AppealRow is one appeal in the appeals queue.
type AppealRow struct {
	Appeal
	Hostname       string
	Category       Category
	Queue          string
	DecisionAction DecisionAction
}

// Appeals lists appeals in state (open, upheld, reversed; empty: all) on cases in
// the queues the viewer may read, oldest first for open ones.
func (s *Service) Appeals(ctx context.Context, queues []string, state string, limit int) ([]AppealRow, error) {
	var rows []AppealRow
	q := s.db.R.WithContext(ctx).Table("appeals").
		Select("appeals.*, cases.hostname, cases.category, cases.queue, decisions.action AS decision_action").
		Joins("JOIN cases ON cases.id = appeals.case_id").
		Joins("JOIN decisions ON decisions.id = appeals.decision_id").
		Where("cases.queue IN ?", queues)
	if state != "" {
		q = q.Where("appeals.state = ?", state)
	}
	if state == AppealOpen {
		q = q.Order("appeals.opened_at, appeals.id")
	} else {
		q = q.Order("appeals.opened_at DESC, appeals.id DESC")
	}
	if len(queues) == 0 {
		return nil, nil
	}
	return rows, q.Limit(limit).Scan(&rows).Error
}

// AppealView is an appeal with everything its reviewer needs.
type AppealView struct {
	Appeal   Appeal
	Case     Case
	Customer *Customer
	Decision Decision
	Signoffs []Signoff
	Messages []AppealMessage
}

// AppealDetail returns an appeal if its case is in a readable queue.
func (s *Service) AppealDetail(ctx context.Context, id int64, queues []string) (*AppealView, error) {
	db := s.db.R.WithContext(ctx)
	var v AppealView
	if err := db.Take(&v.Appeal, id).Error; err != nil {
		return nil, errs.E(errs.NotFound, "There is no such appeal, or you may not see it.")
	}
	if err := db.Where("id = ? AND queue IN ?", v.Appeal.CaseID, queues).Take(&v.Case).Error; err != nil || len(queues) == 0 {
		return nil, errs.E(errs.NotFound, "There is no such appeal, or you may not see it.")
	}
	if v.Case.CustomerID != nil {
		v.Customer = &Customer{}
		if err := db.Take(v.Customer, *v.Case.CustomerID).Error; err != nil {
			return nil, err
		}
	}
	if err := db.Take(&v.Decision, v.Appeal.DecisionID).Error; err != nil {
		return nil, err
	}
	if err := db.Where("decision_id = ?", v.Decision.ID).Order("id").Find(&v.Signoffs).Error; err != nil {
		return nil, err
	}
	return &v, db.Where("appeal_id = ?", id).Order("id").Find(&v.Messages).Error
}

// CaseAppeals lists a case's appeals, for the case page.
func (s *Service) CaseAppeals(ctx context.Context, caseID int64) ([]Appeal, error) {
	var out []Appeal
	return out, s.db.R.WithContext(ctx).Where("case_id = ?", caseID).Order("id").Find(&out).Error
}

// OpenAppealCount counts open appeals in readable queues, for the nav badge.
func (s *Service) OpenAppealCount(ctx context.Context, queues []string) (int64, error) {
	if len(queues) == 0 {
		return 0, nil
	}
	var n int64
	err := s.db.R.WithContext(ctx).Table("appeals").Joins("JOIN cases ON cases.id = appeals.case_id").
		Where("appeals.state = ? AND cases.queue IN ?", AppealOpen, queues).Count(&n).Error
	return n, err
}

// ReviewBar says why userID may not review an appeal of d (the invariant only;
// the policy decides the rest), or nil: for showing buttons.
func (s *Service) ReviewBar(ctx context.Context, userID int64, d *Decision) error {
	return reviewBar(s.db.R.WithContext(ctx), userID, d)
}
