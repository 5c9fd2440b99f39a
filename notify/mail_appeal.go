package notify

import (
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/dockethq/docket/cases"
)

// tmplAppeal renders every appeal notice: filed, a reviewer's reply, the
// outcome. Appeal notices are stored under the kinds the notices table knows —
// the customer's as customer_action, a reporter's as report_outcome — so the
// outbox keeps a reporter's address from those who may not read it.
const tmplAppeal = "appeal_update"

// appealData fills appeal_update.tmpl.
type appealData struct {
	Subject      string
	Intro        string
	Hostname     string
	Decision     string
	CaseRef      string
	MessageTitle string
	Message      string
	ThreadURL    string
	Open         bool
}

// appealURL signs a link for an appeal page, or "" when Docket's public URL is
// not configured (the notice then says to reply instead).
func (n *Notifier) appealURL(purpose string, id int64, until time.Time) string {
	base := strings.TrimRight(n.cfg.Mail.BaseURL, "/")
	if base == "" || n.cfg.Links == nil {
		return ""
	}
	return base + "/appeal/" + n.cfg.Links.SignUntil(purpose, id, until)
}

// reporterAppealURL is the link in a reporter's outcome: only a decision not to
// act can be appealed by a reporter.
func (n *Notifier) reporterAppealURL(d *cases.Decision, reportID int64, decided time.Time) string {
	if d.Action != cases.NoAction {
		return ""
	}
	return n.appealURL(cases.AppealPurposeReporter, reportID, decided.Add(cases.AppealWindow))
}

func mailDate(t time.Time) string { return t.UTC().Format("2 January 2006") }

var decisionNames = map[cases.DecisionAction]string{
	cases.NoAction: "No action", cases.Warn: "Warning", cases.Restrict: "Restriction",
	cases.Terminate: "Termination of service", cases.Reinstate: "Reinstatement",
}

// noticeAppeal runs in an appeal's transaction: the appellant hears that the
// appeal was received, each reviewer's reply, and the outcome; a reversal of a
// restriction or termination also tells the case's reporters the site is back.
func (n *Notifier) noticeAppeal(tx *gorm.DB, ev cases.AppealEvent) error {
	ap, c, d := ev.Appeal, ev.Case, ev.Decision
	var reps []caseReport
	err := tx.Table("reports").
		Select("reports.id, reports.public_id, reports.url, reports.category, reporters.name, reporters.email").
		Joins("JOIN reporters ON reporters.id = reports.reporter_id").
		Where("reports.case_id = ?", c.ID).Order("reports.received_at, reports.id").Scan(&reps).Error
	if err != nil {
		return fmt.Errorf("reports of case %d: %w", c.ID, err)
	}
	var who []identity
	for _, r := range reps {
		who = append(who, identity{Name: r.Name, Email: r.Email})
	}

	// The appellant's address and link.
	var to, kind, url string
	// A fresh link lets the thread continue even near the end of the window.
	until := n.now().UTC().Add(60 * 24 * time.Hour)
	if d.FinalAt != nil && d.FinalAt.Add(cases.AppealWindow).After(until) {
		until = d.FinalAt.Add(cases.AppealWindow)
	}
	if ap.Appellant == cases.AppellantCustomer {
		kind = KindCustomerAction
		if c.CustomerID != nil {
			var cust cases.Customer
			if err := tx.Take(&cust, *c.CustomerID).Error; err != nil {
				return err
			}
			to = cust.ContactEmail
		}
		url = n.appealURL(cases.AppealPurposeCustomer, d.ID, until)
	} else {
		kind = KindReportOutcome
		if ap.ReporterID != nil {
			var rep cases.Reporter
			if err := tx.Take(&rep, *ap.ReporterID).Error; err != nil {
				return err
			}
			to = rep.Email
		}
		if ap.ReportID != nil {
			url = n.appealURL(cases.AppealPurposeReporter, *ap.ReportID, until)
		}
	}
	if ap.Appellant == cases.AppellantReporter {
		// A reporter may read their own name, never another reporter's.
		var others []identity
		for _, w := range who {
			if !strings.EqualFold(strings.TrimSpace(w.Email), strings.TrimSpace(to)) {
				others = append(others, w)
			}
		}
		who = others
	}
	data := appealData{Hostname: c.Hostname, Decision: decisionNames[d.Action], CaseRef: caseRef(c.ID, d.ID), ThreadURL: url, Open: ev.Kind == "filed" || ev.Kind == "reply"}
	switch ev.Kind {
	case "filed":
		data.Subject = "We received your appeal about " + c.Hostname
		data.Intro = "We received your appeal against our decision. Someone other than the person who decided will review it, and we will write to you when it is decided."
	case "reply":
		data.Subject = "A reply to your appeal about " + c.Hostname
		data.Intro = "The person reviewing your appeal has written to you."
		data.MessageTitle, data.Message = "Their message", ev.Body
	case cases.AppealUpheld:
		data.Subject = "Your appeal about " + c.Hostname + " was not granted"
		data.Intro = "We reviewed your appeal and decided that our decision stands. You may have the right to seek redress in court or through an out-of-court dispute settlement body."
		data.MessageTitle, data.Message = "Why", ev.Body
	case cases.AppealReversed:
		data.Subject = "Your appeal about " + c.Hostname + " was granted"
		data.Intro = "We reviewed your appeal and reversed our decision."
		if d.Action == cases.Restrict || d.Action == cases.Terminate {
			data.Intro += " We are restoring our service to the site."
		}
		if d.Action == cases.NoAction {
			data.Intro += " The reports are being reviewed again."
		}
		data.MessageTitle, data.Message = "Why", ev.Body
	default:
		return nil
	}
	if strings.TrimSpace(to) != "" {
		out, err := render(tmplAppeal, data)
		if err != nil {
			return err
		}
		out.Kind = kind
		var report *int64
		if ap.ReportID != nil {
			r := *ap.ReportID
			report = &r
		}
		if err := n.queueNotice(tx, kind, to, scrub(out, who), &c.ID, report); err != nil {
			return err
		}
	}

	// Everyone concerned hears that a restriction or termination was lifted.
	if ev.Kind != cases.AppealReversed || ap.Appellant != cases.AppellantCustomer || (d.Action != cases.Restrict && d.Action != cases.Terminate) {
		return nil
	}
	seen := map[string]bool{}
	for _, r := range reps {
		e := strings.ToLower(strings.TrimSpace(r.Email))
		if e == "" || seen[e] {
			continue
		}
		seen[e] = true
		var receipts []string
		for _, x := range reps {
			if strings.EqualFold(strings.TrimSpace(x.Email), e) {
				receipts = append(receipts, x.PublicID)
			}
		}
		out, err := render(KindReportOutcome, outcomeData{ReceiptIDs: receipts, Hostname: c.Hostname, Category: c.Category.Label(),
			Outcome:     outcomeText(cases.Reinstate),
			Explanation: "The operator of the site appealed our decision, and on review we reversed it.",
			DecidedAt:   mailTime(n.now())})
		if err != nil {
			return err
		}
		id := r.ID
		if err := n.queueNotice(tx, KindReportOutcome, r.Email, scrub(out, who), &c.ID, &id); err != nil {
			return err
		}
	}
	return nil
}
