package cases

// Event is a change that has committed, for observers such as the metrics: they
// hear about it only after the transaction is durable, so a rolled-back claim or
// report is never counted.
type Event struct {
	// Action is the case action, or ActAddReport for a filed report.
	Action Action
	Case   *Case
	Report *Report // a filed report
	// Decision is the decision's action for decide, propose (terminate) and a
	// reversal (reinstate); empty otherwise.
	Decision DecisionAction
}

// OnCommitted registers fn to run after each committed report or case action.
// fn must be quick and cannot fail the change; it runs on the caller's goroutine.
func (s *Service) OnCommitted(fn func(Event)) { s.observers = append(s.observers, fn) }

func (s *Service) committed(ev Event) {
	for _, fn := range s.observers {
		fn(ev)
	}
}

// committedAction reports a case action applied by apply.
func (s *Service) committedAction(action Action, c *Case, details map[string]any) {
	if len(s.observers) == 0 {
		return
	}
	ev := Event{Action: action, Case: c}
	if d, ok := details["decision"].(DecisionAction); ok {
		ev.Decision = d
	}
	if action == ActRevoke {
		ev.Decision = Reinstate
	}
	s.committed(ev)
}
