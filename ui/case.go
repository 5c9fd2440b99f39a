package ui

import (
	"fmt"
	"html/template"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/dockethq/docket/cases"
	"github.com/dockethq/docket/evidence"
	"github.com/dockethq/docket/internal/errs"
	"github.com/dockethq/docket/users"
)

// entry is one item of a case's timeline.
type entry struct {
	At     time.Time
	Kind   string // report, note, decision, event
	Report *cases.ReportView
	Note   *cases.NoteView
	Dec    *cases.Decision
	Signed []cases.Signoff // a decision's sign-offs so far
	Event  string
	Actor  string
	// Forwarding (forward.go)
	Forward  *cases.Forward
	Response *cases.CustomerResponse
}

type casePage struct {
	V            *cases.CaseView
	Timeline     []entry
	Can          map[string]bool // action → shown
	Contact      bool            // reporter contact details visible
	Held         bool            // the viewer holds the claim
	HeldByOther  string          // the name of another holder
	Assignee     string
	Users        []users.User // for reassign
	Categories   []cases.CategoryInfo
	Score        int
	Flash        string
	DecisionActs []cases.DecisionAction
	Prev, Next   int64                         // neighbours in the queue, for j/k
	Emergency    bool                          // the viewer may restrict at once (csam, threat)
	Evidence     map[int64][]evidence.Evidence // by report id
	URLs         []string                      // the reports' URLs, for blocking specific ones
	Lasts        []lastsChoice                 // expiry choices
	Ledger       *cases.Ledger                 // the customer's live strikes
	Suggest      bool                          // the ledger has reached the threshold: suggest termination
	Forwarding   *cases.Forwarding
	Exports      bool   // the viewer may download hotline exports
	AuditURL     string // the case's audit timeline, for those the policy lets read it
	Appeals      []cases.Appeal
}

type lastsChoice = struct {
	Value string
	Label string
}

func (s *Server) caseView(c echo.Context) error {
	return s.renderCase(c, http.StatusOK, "", nil)
}

// renderCase shows the case page, with an error message and the typed form
// values after a refused action.
func (s *Server) renderCase(c echo.Context, status int, msg string, fields map[string]string) error {
	ctx := c.Request().Context()
	id, err := s.caseID(c)
	if err != nil {
		return err
	}
	v, err := s.cases.Get(ctx, id, s.readableQueues(c))
	if err != nil {
		return err
	}
	u := currentUser(c)
	now := s.now()
	p := casePage{V: v, Contact: s.can(c, "reporter/contact", "read"), Categories: cases.Categories,
		Score: v.Case.Score(now), Flash: s.popFlash(c),
		DecisionActs: cases.DecisionActions, URLs: reportURLs(v), Lasts: lastsChoices}
	if v.Case.CustomerID != nil {
		if p.Ledger, err = s.cases.Strikes(ctx, *v.Case.CustomerID, s.readableQueues(c)); err != nil {
			return err
		}
		// A suggestion only, on cases still to decide; nothing acts on it.
		p.Suggest = p.Ledger.Suggest() && v.Case.State.Open() && v.Case.State != cases.StatePendingSignoff
	}
	p.Held = v.Case.HeldBy(u.ID, now)
	if v.Case.AssigneeID != nil {
		if a, err := s.users.Get(ctx, *v.Case.AssigneeID); err == nil {
			p.Assignee = a.Name
			if v.Case.ClaimedByOther(u.ID, now) {
				p.HeldByOther = a.Name
			}
		}
	}
	p.Can = map[string]bool{}
	state := v.Case.State
	for _, a := range []cases.Action{cases.ActClaim, cases.ActRelease, cases.ActReassign, cases.ActNote, cases.ActEscalate, cases.ActDecide, cases.ActClose, cases.ActMerge, cases.ActSplit} {
		if _, err := cases.Next(state, a); err != nil {
			continue
		}
		route := "/cases/:id/" + string(a)
		if a == cases.ActNote {
			route = "/cases/:id/notes"
		}
		p.Can[string(a)] = s.can(c, route, http.MethodPost)
	}
	// Buttons only for what would succeed now: claim-bound actions need the claim.
	if p.Held {
		p.Can[string(cases.ActClaim)] = false
	} else {
		for _, a := range []cases.Action{cases.ActRelease, cases.ActDecide, cases.ActSplit} {
			p.Can[string(a)] = false
		}
		if p.HeldByOther != "" {
			p.Can[string(cases.ActClaim)] = false
		}
	}
	if v.Case.EscalatedAt != nil && !s.can(c, "case/escalated", "decide") {
		p.Can[string(cases.ActDecide)] = false
	}
	p.Emergency = (v.Case.Category == cases.CSAM || v.Case.Category == cases.Threat) && s.can(c, "case/emergency", "restrict")
	all, err := s.users.List(ctx) // for the reassign list and the timeline's names
	if err != nil {
		return err
	}
	if p.Can[string(cases.ActReassign)] {
		p.Users = all
	}
	// Reversal: only where a restriction or termination is in force.
	if state == cases.StateDecided && s.can(c, "/cases/:id/reverse", http.MethodPost) {
		for _, d := range v.Decisions {
			if d.Status == "final" && (d.Action == cases.Restrict || d.Action == cases.Terminate) {
				p.Can["reverse"] = true
			}
		}
	}
	if s.evidence != nil {
		if p.Evidence, err = s.evidence.ForCase(ctx, id); err != nil {
			return err
		}
	}
	p.Timeline = timeline(v, actorNames(all))
	if p.Forwarding, p.Timeline, err = s.withForwarding(ctx, id, p.Timeline); err != nil {
		return err
	}
	p.Exports = s.can(c, "/hotline-exports/:id", http.MethodGet)
	// Asked of the policy with the timeline's own route, so the link is shown
	// exactly to those who would not get a 403 from following it.
	if s.can(c, "/audit/cases/:id", http.MethodGet) {
		p.AuditURL = "/audit/cases/" + strconv.FormatInt(id, 10)
	}
	if p.Appeals, err = s.cases.CaseAppeals(ctx, id); err != nil {
		return err
	}
	if p.Prev, p.Next, err = s.cases.Neighbours(ctx, &v.Case, s.readableQueues(c)); err != nil {
		return err
	}
	view := view{Title: v.Case.Hostname + " · case " + strconv.FormatInt(id, 10), Data: p, Message: msg, Errors: fields}
	if f, err := c.FormParams(); err == nil && c.Request().Method == http.MethodPost {
		view.Form = f
	}
	return s.render(c, status, "case", view)
}

// actorNames maps audit actors (user:<id>) to names for the timeline.
func actorNames(us []users.User) map[string]string {
	names := map[string]string{}
	for _, u := range us {
		names["user:"+strconv.FormatInt(u.ID, 10)] = u.Name
	}
	return names
}

func timeline(v *cases.CaseView, names map[string]string) []entry {
	var t []entry
	for i := range v.Reports {
		t = append(t, entry{At: v.Reports[i].ReceivedAt, Kind: "report", Report: &v.Reports[i]})
	}
	for i := range v.Notes {
		t = append(t, entry{At: v.Notes[i].CreatedAt, Kind: "note", Note: &v.Notes[i]})
	}
	for i := range v.Decisions {
		e := entry{At: v.Decisions[i].CreatedAt, Kind: "decision", Dec: &v.Decisions[i]}
		for _, so := range v.Signoffs {
			if so.DecisionID == v.Decisions[i].ID {
				e.Signed = append(e.Signed, so)
			}
		}
		t = append(t, e)
	}
	for _, e := range v.Events {
		// Reports, notes and decisions are shown in full above; the audit trail
		// adds who claimed, released, escalated, closed.
		if e.Action == "report.filed" || e.Action == "report.evidence" || e.Action == "case.note" || e.Action == "case.decide" || e.Action == "case.propose" ||
			e.Action == "case.approve" || e.Action == "case.reject" {
			continue
		}
		actor := e.Actor
		switch {
		case names[actor] != "":
			actor = names[actor]
		case strings.HasPrefix(actor, "reporter:"):
			actor = "a reporter"
		case strings.HasPrefix(actor, "customer:"):
			actor = "the customer"
		}
		t = append(t, entry{At: e.At, Kind: "event", Event: e.Action, Actor: actor})
	}
	sort.SliceStable(t, func(i, j int) bool { return t[i].At.Before(t[j].At) })
	return t
}

// caseStatus answers the case page's poll: nothing while the version it was
// rendered at is current, else a notice of who changed what.
func (s *Server) caseStatus(c echo.Context) error {
	id, err := s.caseID(c)
	if err != nil {
		return err
	}
	st, err := s.cases.Status(c.Request().Context(), id, s.readableQueues(c))
	if err != nil {
		return err
	}
	seen, _ := strconv.Atoi(c.QueryParam("v"))
	if st.Version == seen {
		return c.NoContent(http.StatusNoContent)
	}
	what := "changed"
	if st.LastAction != "" {
		what = actionLabel(st.LastAction) + " by " + st.LastActor
	}
	return c.HTML(http.StatusOK, `<div class="notice warn" role="status">This case has changed since you opened it (`+
		template.HTMLEscapeString(what)+`). <a href="/cases/`+strconv.FormatInt(id, 10)+`">Reload</a></div>`)
}

// act runs a case action from a form: on success it redirects with a flash; on
// a refused action it re-renders the case page with the reason.
func (s *Server) act(c echo.Context, done string, fn func(id int64, a cases.Actor) error) error {
	id, err := s.caseID(c)
	if err != nil {
		return err
	}
	// Only cases the viewer may read can be acted on.
	if _, err := s.cases.Get(c.Request().Context(), id, s.readableQueues(c)); err != nil {
		return err
	}
	if err := fn(id, s.actor(c)); err != nil {
		if e, ok := errs.As(err); ok && e.Code != errs.Internal && e.Code != errs.NotFound {
			status := http.StatusConflict
			switch e.Code {
			case errs.Invalid:
				status = http.StatusUnprocessableEntity
			case errs.Forbidden:
				status = http.StatusForbidden
			}
			return s.renderCase(c, status, e.Message, e.Fields)
		}
		return err
	}
	s.flash(c, done)
	next := "/cases/" + strconv.FormatInt(id, 10)
	if c.FormValue("then") == "queue" {
		next = "/queue"
	}
	return c.Redirect(http.StatusSeeOther, next)
}

func (s *Server) caseClaim(c echo.Context) error {
	return s.act(c, "You claimed this case.", func(id int64, a cases.Actor) error {
		_, err := s.cases.Claim(c.Request().Context(), a, id)
		return err
	})
}

func (s *Server) caseRelease(c echo.Context) error {
	return s.act(c, "You released this case.", func(id int64, a cases.Actor) error {
		_, err := s.cases.Release(c.Request().Context(), a, id)
		return err
	})
}

func (s *Server) caseReassign(c echo.Context) error {
	return s.act(c, "Case reassigned.", func(id int64, a cases.Actor) error {
		to, err := strconv.ParseInt(c.FormValue("assignee"), 10, 64)
		if err != nil {
			return &errs.Error{Code: errs.Invalid, Message: "Choose who to assign the case to.", Fields: map[string]string{"assignee": "Choose a user."}}
		}
		_, err = s.cases.Reassign(c.Request().Context(), a, id, to)
		return err
	})
}

func (s *Server) caseNote(c echo.Context) error {
	return s.act(c, "Note added.", func(id int64, a cases.Actor) error {
		_, err := s.cases.AddNote(c.Request().Context(), a, id, c.FormValue("body"))
		return err
	})
}

func (s *Server) caseEscalate(c echo.Context) error {
	return s.act(c, "Escalated to a senior reviewer.", func(id int64, a cases.Actor) error {
		_, err := s.cases.Escalate(c.Request().Context(), a, id, c.FormValue("reason"))
		return err
	})
}

func (s *Server) caseDecide(c echo.Context) error {
	action := cases.DecisionAction(c.FormValue("action"))
	msg := "Decision recorded: " + strings.ReplaceAll(string(action), "_", " ") + "."
	emergency := c.FormValue("emergency") == "yes"
	switch {
	case action == cases.Terminate:
		msg = "Termination proposed: it now needs legal and leadership sign-off."
	case emergency:
		msg = "Restricted now. Legal and leadership must ratify it within " + cases.EmergencyDeadline.String() + "."
	}
	return s.act(c, msg, func(id int64, a cases.Actor) error {
		form, _ := c.FormParams()
		lasts, err := parseLasts(form.Get("lasts"))
		if err != nil {
			return err
		}
		p := cases.Proposal{
			Action: action, Grounds: form.Get("grounds"), Explanation: form.Get("explanation"),
			Hostnames: form["hostnames"], Evidence: form.Get("evidence"), Emergency: emergency,
			URLs: form["urls"], Lasts: lasts,
		}
		if action != cases.BlockURL {
			p.URLs = nil // ticked boxes of another choice say nothing
		}
		statementFields(form, &p)
		_, _, err = s.cases.Decide(c.Request().Context(), a, id, p)
		return err
	})
}

func (s *Server) caseClose(c echo.Context) error {
	return s.act(c, "Case closed.", func(id int64, a cases.Actor) error {
		_, err := s.cases.Close(c.Request().Context(), a, id, c.FormValue("reason"))
		return err
	})
}

func (s *Server) caseMerge(c echo.Context) error {
	into, _ := strconv.ParseInt(strings.TrimPrefix(strings.TrimSpace(c.FormValue("into")), "#"), 10, 64)
	return s.act(c, fmt.Sprintf("Merged into case %d.", into), func(id int64, a cases.Actor) error {
		if into <= 0 {
			return &errs.Error{Code: errs.Invalid, Message: "Enter the number of the case to merge into.", Fields: map[string]string{"into": "Enter a case number."}}
		}
		// The target must be readable too: no merging into a case one cannot see.
		if _, err := s.cases.Get(c.Request().Context(), into, s.readableQueues(c)); err != nil {
			return errs.E(errs.Invalid, "There is no case %d that you can see.", into)
		}
		_, err := s.cases.Merge(c.Request().Context(), a, id, into)
		return err
	})
}

func (s *Server) caseReverse(c echo.Context) error {
	return s.act(c, "Decision reversed: the edge is told to reinstate the site.", func(id int64, a cases.Actor) error {
		_, err := s.cases.Reverse(c.Request().Context(), a, id, c.FormValue("reason"))
		return err
	})
}

func (s *Server) caseSplit(c echo.Context) error {
	return s.act(c, "Report moved to its own case.", func(id int64, a cases.Actor) error {
		rid, _ := strconv.ParseInt(c.FormValue("report"), 10, 64)
		_, err := s.cases.Split(c.Request().Context(), a, id, rid, cases.Category(c.FormValue("category")))
		return err
	})
}

// casesBulkClose closes the cases ticked on the queue page with one reason.
func (s *Server) casesBulkClose(c echo.Context) error {
	form, err := c.FormParams()
	if err != nil {
		return echo.NewHTTPError(http.StatusBadRequest, "The form could not be read.")
	}
	var ids []int64
	for _, v := range form["ids"] {
		if id, err := strconv.ParseInt(v, 10, 64); err == nil && id > 0 {
			ids = append(ids, id)
		}
	}
	// Only cases the viewer may read; others are reported as not found.
	readable := s.readableQueues(c)
	var ok []int64
	skipped := 0
	for _, id := range ids {
		if _, err := s.cases.Get(c.Request().Context(), id, readable); err == nil {
			ok = append(ok, id)
		} else {
			skipped++
		}
	}
	res, err := s.cases.BulkClose(c.Request().Context(), s.actor(c), ok, form.Get("reason"))
	if e, isErr := errs.As(err); isErr && e.Code == errs.Invalid {
		s.flash(c, e.Message)
		return c.Redirect(http.StatusSeeOther, "/queue")
	}
	if err != nil {
		return err
	}
	msg := fmt.Sprintf("Closed %d cases.", len(res.Closed))
	if n := len(res.Failed) + skipped; n > 0 {
		msg += fmt.Sprintf(" %d could not be closed (already decided, closed or not visible).", n)
	}
	s.flash(c, msg)
	return c.Redirect(http.StatusSeeOther, "/queue")
}
