package cases

import (
	"fmt"
	"slices"

	"github.com/dockethq/docket/internal/errs"
)

// States of a case (DESIGN §3). StateNew and StateClosed are in model.go.
const (
	StateInReview       State = "in_review"
	StatePendingSignoff State = "pending_signoff"
	StateDecided        State = "decided"
	StateAppealed       State = "appealed"
)

// States lists every state in workflow order.
var States = []State{StateNew, StateInReview, StatePendingSignoff, StateDecided, StateClosed, StateAppealed}

// Open reports whether a case in s still needs work from the abuse team.
func (s State) Open() bool { return s != StateDecided && s != StateClosed }

// Action is something done to a case that the state machine guards.
type Action string

const (
	ActClaim     Action = "claim"    // take the case (a lease); a new case moves to review
	ActRelease   Action = "release"  // give the claim back
	ActReassign  Action = "reassign" // give the claim to someone else
	ActNote      Action = "note"     // internal note; allowed in every state
	ActEscalate  Action = "escalate" // ask a senior reviewer to decide
	ActDecide    Action = "decide"   // no_action, warn, interstitial, block_url or restrict: final at once
	ActPropose   Action = "propose"  // terminate: needs sign-off
	ActApprove   Action = "approve"  // the last sign-off makes a proposal final
	ActReject    Action = "reject"   // a sign-off refused: back to review
	ActClose     Action = "close"    // with a reason (spam flood, duplicate, not ours, done)
	ActMerge     Action = "merge"    // this case's reports move to another case, which stays
	ActSplit     Action = "split"    // a report moves out of this case into a new one
	ActAppeal    Action = "appeal"   // the customer or reporter contests the decision
	ActResolve   Action = "resolve"  // the last open appeal is upheld: the decision stands, the case closes
	ActOverturn  Action = "overturn" // an appeal is granted: the decision is reversed, the case back in review
	ActAddReport Action = "add_report"
	ActRevoke    Action = "revoke" // an emergency restriction refused at sign-off: back to review
	// Forwarding (forward.go): the case waits for the customer's answer, which
	// sends it to review; or the window passes unanswered.
	ActAwaitCustomer   Action = "await_customer"
	ActCustomerRespond Action = "customer_respond"
	ActResponseExpired Action = "response_expired"
)

// Actions lists every action, for tests and for the UI.
var Actions = []Action{ActClaim, ActRelease, ActReassign, ActNote, ActEscalate, ActDecide, ActPropose, ActApprove, ActReject, ActClose, ActMerge, ActSplit, ActAppeal, ActResolve, ActAddReport, ActRevoke, ActAwaitCustomer, ActCustomerRespond, ActResponseExpired, ActOverturn}

// transitions is the whole workflow: for each action, the states it may start
// from and the state it leads to. Nothing else in Docket decides a case's state.
var transitions = map[Action]map[State]State{
	ActClaim:     {StateNew: StateInReview, StateInReview: StateInReview, StateAppealed: StateAppealed},
	ActRelease:   {StateInReview: StateInReview, StateAppealed: StateAppealed},
	ActReassign:  {StateNew: StateInReview, StateInReview: StateInReview, StateAppealed: StateAppealed},
	ActNote:      {StateNew: StateNew, StateInReview: StateInReview, StatePendingSignoff: StatePendingSignoff, StateDecided: StateDecided, StateClosed: StateClosed, StateAppealed: StateAppealed},
	ActEscalate:  {StateNew: StateInReview, StateInReview: StateInReview},
	ActDecide:    {StateInReview: StateDecided},
	ActPropose:   {StateInReview: StatePendingSignoff},
	ActApprove:   {StatePendingSignoff: StateDecided},
	ActReject:    {StatePendingSignoff: StateInReview},
	ActClose:     {StateNew: StateClosed, StateInReview: StateClosed, StateDecided: StateClosed},
	ActMerge:     {StateNew: StateClosed, StateInReview: StateClosed},
	ActSplit:     {StateNew: StateNew, StateInReview: StateInReview},
	ActAppeal:    {StateDecided: StateAppealed, StateClosed: StateAppealed, StateAppealed: StateAppealed},
	ActResolve:   {StateAppealed: StateClosed},
	ActAddReport: {StateNew: StateNew, StateInReview: StateInReview, StatePendingSignoff: StatePendingSignoff, StateAppealed: StateAppealed},
	ActRevoke:    {StateDecided: StateInReview},
	// Waiting for the customer is a flag beside new or in review, not a state:
	// reviewers may still act on a forwarded case before the customer answers.
	ActAwaitCustomer:   {StateNew: StateNew, StateInReview: StateInReview},
	ActCustomerRespond: {StateNew: StateInReview, StateInReview: StateInReview, StatePendingSignoff: StatePendingSignoff},
	ActResponseExpired: {StateNew: StateNew, StateInReview: StateInReview},
	ActOverturn:        {StateAppealed: StateInReview},
}

// needsClaim lists the actions only the holder of a live claim may take.
var needsClaim = []Action{ActRelease, ActDecide, ActPropose, ActSplit}

// TransitionError says an action is not allowed in a case's current state. It
// unwraps to an errs.Conflict, so the UI shows its message with 409.
type TransitionError struct {
	From   State
	Action Action
}

func (e *TransitionError) Error() string {
	return fmt.Sprintf("This case is %s; it cannot be %s now.", stateLabel[e.From], actionPast[e.Action])
}

func (e *TransitionError) Unwrap() error {
	return &errs.Error{Code: errs.Conflict, Message: e.Error()}
}

var stateLabel = map[State]string{
	StateNew: "new", StateInReview: "in review", StatePendingSignoff: "waiting for sign-off",
	StateDecided: "decided", StateClosed: "closed", StateAppealed: "under appeal",
}

var actionPast = map[Action]string{
	ActClaim: "claimed", ActRelease: "released", ActReassign: "reassigned", ActNote: "annotated",
	ActEscalate: "escalated", ActDecide: "decided", ActPropose: "proposed for termination",
	ActApprove: "approved", ActReject: "rejected", ActClose: "closed", ActMerge: "merged",
	ActSplit: "split", ActAppeal: "appealed", ActResolve: "resolved", ActAddReport: "given new reports",
	ActRevoke: "revoked", ActAwaitCustomer: "sent to the customer", ActCustomerRespond: "answered by the customer",
	ActResponseExpired: "flagged as unanswered", ActOverturn: "overturned on appeal",
}

// Label is the human name of s.
func (s State) Label() string {
	if l, ok := stateLabel[s]; ok {
		return l
	}
	return string(s)
}

// Next returns the state action leads to from s, or a *TransitionError.
func Next(s State, a Action) (State, error) {
	to, ok := transitions[a][s]
	if !ok {
		return s, &TransitionError{From: s, Action: a}
	}
	return to, nil
}

// Allowed lists the actions the state machine allows from s.
func Allowed(s State) []Action {
	var out []Action
	for _, a := range Actions {
		if _, ok := transitions[a][s]; ok {
			out = append(out, a)
		}
	}
	return out
}

func requiresClaim(a Action) bool { return slices.Contains(needsClaim, a) }

// fromStates lists the states action a may start from, for conditional updates.
func fromStates(a Action) []State {
	var out []State
	for _, s := range States {
		if _, ok := transitions[a][s]; ok {
			out = append(out, s)
		}
	}
	return out
}
