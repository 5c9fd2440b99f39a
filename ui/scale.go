package ui

// Names of the audit events the background sweeps record (cases/timers.go).
func init() {
	actionLabels["case.lease_expired"] = "Claim lapsed and released"
	actionLabels["decision.signoff_overdue"] = "Emergency restriction past its sign-off deadline"
}
