package main

import (
	"context"
	"fmt"
	"time"

	"github.com/dockethq/docket/audit"
	"github.com/dockethq/docket/notify"
)

// policyPollInterval is how soon a policy change made on another instance
// holds on this one.
const policyPollInterval = 2 * time.Second

// timers are the background sweeps of a serving instance. However many
// instances serve, River runs each on one of them (notify.Timer). A new timer
// (response windows, scheduled lifts…) is one more line here.
func (a *app) timers() []notify.Timer {
	every := a.cfg.TimerInterval
	return []notify.Timer{
		{Name: "expire_leases", Every: every, Run: a.cases.ExpireLeases},
		{Name: "flag_overdue_emergencies", Every: every, Run: a.cases.FlagOverdueEmergencies},
		{Name: "audit_checkpoint", Every: a.cfg.audit.CheckpointEvery, Run: a.checkpointTimer},
	}
}

// startScaleOut registers the timers and keeps the policy cache in step with
// changes made elsewhere: what lets several `docket serve` processes on one
// PostgreSQL database behave as one. Call it before the notifier starts.
func (a *app) startScaleOut(ctx context.Context) error {
	for _, t := range a.timers() {
		if err := a.notifier.AddTimer(t); err != nil {
			return fmt.Errorf("timer %s: %w", t.Name, err)
		}
	}
	go a.enforcer.Watch(ctx, policyPollInterval, a.log)
	go audit.RunSealer(ctx, a.db.W, a.cfg.audit.SealEvery, a.log)
	return nil
}
