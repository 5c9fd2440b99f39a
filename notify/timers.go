package notify

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
)

// Timer is background work that runs every so often on exactly one instance,
// however many `docket serve` processes share the database: lapsed claims,
// overdue sign-offs, response windows, scheduled lifts. It rides on River's
// periodic jobs, which only the elected leader enqueues; a unique key per
// (timer, period) keeps a second insert out even while leadership changes
// hands, and a timer job is never retried (the next tick is the retry).
//
// Run should be a sweep over the database that re-checks each item under a
// row lock before changing it (cases.Service.ExpireLeases is the pattern), so
// that the rare double run after a crash changes nothing twice. It returns how
// many items it handled, which is logged and kept as the job's output.
//
// Register timers with AddTimer before Start.
type Timer struct {
	Name  string        // unique; the job's argument, in logs and river_job
	Every time.Duration // at least a second
	Run   func(ctx context.Context) (int, error)
}

// timerArgs is the River job of one tick of one timer.
type timerArgs struct {
	Name string `json:"name"`
}

func (timerArgs) Kind() string { return "timer" }

// timerOutput is what a tick records on its job (river_job.metadata.output).
type timerOutput struct {
	Handled int `json:"handled"`
}

type timerWorker struct {
	river.WorkerDefaults[timerArgs]
	n *Notifier
}

func (w *timerWorker) Work(ctx context.Context, job *river.Job[timerArgs]) error {
	w.n.timersMu.Lock()
	t, ok := w.n.timers[job.Args.Name]
	w.n.timersMu.Unlock()
	if !ok {
		// An instance of an older or newer release may have enqueued a timer
		// this one does not know; leave it to the next tick.
		return river.JobCancel(fmt.Errorf("no timer %q on this instance", job.Args.Name))
	}
	n, err := t.Run(ctx)
	if n > 0 || err != nil {
		w.n.log.Info("timer ran", "timer", t.Name, "handled", n, "err", err)
	}
	if rerr := river.RecordOutput(ctx, timerOutput{Handled: n}); rerr != nil && err == nil {
		err = rerr
	}
	return err
}

// AddTimer registers t. Only serve starts the client, so only serving
// instances take part in running timers.
func (n *Notifier) AddTimer(t Timer) error {
	if t.Name == "" || t.Run == nil {
		return errors.New("notify: a timer needs a name and a function")
	}
	if t.Every < time.Second {
		return fmt.Errorf("notify: timer %s: run it at most once a second", t.Name)
	}
	n.timersMu.Lock()
	defer n.timersMu.Unlock()
	if _, dup := n.timers[t.Name]; dup {
		return fmt.Errorf("notify: timer %s registered twice", t.Name)
	}
	n.timers[t.Name] = t
	_, err := n.river.PeriodicJobs().AddSafely(river.NewPeriodicJob(river.PeriodicInterval(t.Every),
		func() (river.JobArgs, *river.InsertOpts) {
			return timerArgs{Name: t.Name}, &river.InsertOpts{
				MaxAttempts: 1,
				UniqueOpts: river.UniqueOpts{ByArgs: true, ByPeriod: t.Every,
					ByState: append(rivertype.UniqueOptsByStateDefault(), rivertype.JobStateDiscarded)},
			}
		}, &river.PeriodicJobOpts{ID: "timer:" + t.Name, RunOnStart: true}))
	return err
}
