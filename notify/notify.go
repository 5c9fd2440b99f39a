// Package notify carries Docket's decisions outward. A directive row (written by
// cases in the decision's transaction) gets one delivery per edge target, each a
// River job inserted in that same transaction, so a crash neither loses nor
// invents a delivery. Workers POST the directive to HTTP edges, signed per the
// Standard Webhooks spec, or put it into a NATS JetStream KV bucket; they retry
// with backoff and jitter up to a horizon, then dead-letter. A delivery waits
// while an older directive for one of its hostnames is still on its way to the
// same target, so an edge never sees a newer version overtaken by an older one.
package notify

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/riverdriver/riverdatabasesql"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivermigrate"
	"github.com/riverqueue/river/rivertype"
	"gorm.io/gorm"

	"github.com/dockethq/docket/cases"
	"github.com/dockethq/docket/internal/database"
	"github.com/dockethq/docket/internal/reqlog"
	"github.com/dockethq/docket/internal/signedlink"
)

// Config says where directives go.
type Config struct {
	Endpoints []string      // HTTP edge endpoints (POST)
	Secrets   []string      // whsec_… signing secrets; two during rotation
	NATSURL   string        // when set, directives also go to the KV bucket
	Bucket    string        // NATS KV bucket, default edge_config
	Horizon   time.Duration // how long to keep retrying before dead-lettering; default 24h
	// PollInterval is how often workers look for new jobs (River polls on both
	// engines here); default 100ms, which bounds delivery latency.
	PollInterval time.Duration
	// RescueAfter is when a delivery job left running by a crashed instance is
	// picked up again; default one minute (an attempt takes at most ten seconds).
	RescueAfter time.Duration
	Mail        MailConfig // notices by email (mail.go)
	// Observer hears about outcomes (the metrics count them); optional.
	Observer Observer
	// Links signs the links in notices (customers' responses, appeals); nil
	// loads the database's key.
	Links *signedlink.Signer
}

// Observer hears about deliveries and notices as they finish.
type Observer interface {
	Delivered(target string, queued time.Duration) // queued: from the decision's commit to the target's 2xx
	DeadLettered(target string)
	NoticeSent()
	NoticeDead()
}

func (c *Config) defaults() {
	if c.Bucket == "" {
		c.Bucket = "edge_config"
	}
	if c.Horizon == 0 {
		c.Horizon = 24 * time.Hour
	}
	if c.PollInterval == 0 {
		c.PollInterval = 100 * time.Millisecond
	}
	if c.RescueAfter == 0 {
		c.RescueAfter = time.Minute
	}
}

// Targets lists the delivery targets of the configuration.
func (c *Config) Targets() []string {
	t := append([]string(nil), c.Endpoints...)
	if c.NATSURL != "" {
		t = append(t, "nats:"+c.Bucket)
	}
	return t
}

// Notifier enqueues and works deliveries.
type Notifier struct {
	cfg    Config
	db     *database.DB
	river  *river.Client[*sql.Tx]
	sender *sender
	cases  *cases.Service
	links  *signedlink.Signer
	log    *slog.Logger
	now    func() time.Time

	wakeMu sync.Mutex
	woken  map[string]time.Time // target → when its waiting deliveries were last woken

	timersMu sync.Mutex
	timers   map[string]Timer // by name (timers.go)
}

func driver(db *database.DB) riverdriver.Driver[*sql.Tx] {
	if db.Dialect == database.Postgres {
		return riverdatabasesql.New(db.SQL())
	}
	return riversqlite.New(db.SQL())
}

// Migrate creates or updates River's job tables.
func Migrate(ctx context.Context, db *database.DB) error {
	m, err := rivermigrate.New(driver(db), nil)
	if err != nil {
		return fmt.Errorf("river migrator: %w", err)
	}
	if db.Dialect != database.Postgres {
		if _, err := m.Migrate(ctx, rivermigrate.DirectionUp, nil); err != nil {
			return fmt.Errorf("river migrations: %w", err)
		}
		return nil
	}
	// Instances starting together take turns: the first applies River's
	// migrations while holding an advisory lock on a connection of its own,
	// the others wait for it and find nothing to do. (One transaction around
	// all of them cannot work: a River migration uses an enum value an
	// earlier one adds.)
	conn, err := db.SQL().Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	const key = "hashtext('docket.river_migrate')"
	if _, err := conn.ExecContext(ctx, "SELECT pg_advisory_lock("+key+")"); err != nil {
		return fmt.Errorf("river migrations lock: %w", err)
	}
	defer conn.ExecContext(context.WithoutCancel(ctx), "SELECT pg_advisory_unlock("+key+")")
	if _, err := m.Migrate(ctx, rivermigrate.DirectionUp, nil); err != nil {
		return fmt.Errorf("river migrations: %w", err)
	}
	return nil
}

// New builds a notifier and registers its enqueue hook on cs. Call Start to
// work deliveries (an instance that only enqueues need not).
func New(cfg Config, db *database.DB, cs *cases.Service, log *slog.Logger, now func() time.Time) (*Notifier, error) {
	cfg.defaults()
	s, err := newSender(cfg)
	if err != nil {
		return nil, err
	}
	if cfg.Links == nil {
		if cfg.Links, err = signedlink.Load(context.Background(), db, now); err != nil {
			return nil, fmt.Errorf("signed links: %w", err)
		}
	}
	n := &Notifier{cfg: cfg, db: db, sender: s, cases: cs, links: cfg.Links, log: log, now: now, woken: map[string]time.Time{}, timers: map[string]Timer{}}
	workers := river.NewWorkers()
	if err := river.AddWorkerSafely(workers, &deliverWorker{n: n}); err != nil {
		return nil, err
	}
	if err := river.AddWorkerSafely(workers, &mailWorker{n: n}); err != nil {
		return nil, err
	}
	if err := river.AddWorkerSafely(workers, &timerWorker{n: n}); err != nil {
		return nil, err
	}
	if err := river.AddWorkerSafely(workers, &liftWorker{n: n}); err != nil {
		return nil, err
	}
	if err := river.AddWorkerSafely(workers, &windowWorker{n: n}); err != nil {
		return nil, err
	}
	n.river, err = river.NewClient(driver(db), &river.Config{
		Queues:            map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: 50}},
		Workers:           workers,
		FetchPollInterval: cfg.PollInterval,
		FetchCooldown:     cfg.PollInterval / 2,
		PollOnly:          true, // database/sql and SQLite have no LISTEN/NOTIFY
		MaxAttempts:       1000, // the horizon, not a count, ends retries
		RetryPolicy:       backoff{},
		JobTimeout:        min(30*time.Second, cfg.RescueAfter/2), // River wants it below RescueStuckJobsAfter
		// A job a crashed instance left running is retried after this.
		RescueStuckJobsAfter: cfg.RescueAfter,
		Logger:               log,
		ID:                   clientID(),
	})
	if err != nil {
		return nil, fmt.Errorf("river client: %w", err)
	}
	cs.OnDirective(n.enqueue)
	cs.OnReportFiled(func(tx *gorm.DB, r *cases.Report, rep *cases.Reporter) error {
		if err := n.noticeReportFiled(tx, r, rep); err != nil {
			return err
		}
		return n.forwardReport(tx, r, rep)
	})
	cs.OnDecisionFinal(n.noticeDecisionFinal)
	cs.OnAppeal(n.noticeAppeal)
	return n, nil
}

// Start works deliveries until ctx is done or Stop is called.
func (n *Notifier) Start(ctx context.Context) error { return n.river.Start(ctx) }

// Stop stops fetching jobs and lets running ones finish until ctx is done;
// then it cancels what still runs, which River puts back on the queue to be
// retried (by this instance after a restart, or by another one).
func (n *Notifier) Stop(ctx context.Context) error {
	defer n.sender.close()
	err := n.river.Stop(ctx)
	if err == nil || ctx.Err() == nil {
		return err
	}
	hard, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if herr := n.river.StopAndCancel(hard); herr != nil {
		return fmt.Errorf("jobs still running after cancelling them: %w", herr)
	}
	return fmt.Errorf("running jobs were cancelled and returned to the queue: %w", err)
}

// deliverArgs is the River job: one delivery of one directive to one target.
type deliverArgs struct {
	DeliveryID int64 `json:"delivery_id"`
	// RequestID is the request that caused the delivery, for the worker's logs.
	RequestID string `json:"request_id,omitempty"`
}

func (deliverArgs) Kind() string { return "deliver_directive" }

// Delivery is one directive's way to one target.
type Delivery struct {
	ID            int64
	DirectiveID   string
	Target        string
	State         string // pending, delivered, superseded, dead
	JobID         int64
	Attempts      int
	LastStatus    int
	LastError     string
	LastAttemptAt *time.Time
	DeliveredAt   *time.Time
	CreatedAt     time.Time
}

// Attempt is one try of a delivery.
type Attempt struct {
	ID         int64
	DeliveryID int64
	At         time.Time
	HTTPStatus int
	Error      string
	DurationMS int64 `gorm:"column:duration_ms"`
}

func (Attempt) TableName() string { return "delivery_attempts" }

// enqueue runs inside the directive's transaction: a delivery row and a River
// job per target.
func (n *Notifier) enqueue(tx *gorm.DB, d *cases.Directive) error {
	sqlTx, ok := tx.Statement.ConnPool.(*sql.Tx)
	if !ok {
		return errors.New("notify: enqueue outside a transaction")
	}
	for _, target := range n.cfg.Targets() {
		del := Delivery{DirectiveID: d.ID, Target: target, State: "pending", CreatedAt: d.IssuedAt}
		if err := tx.Create(&del).Error; err != nil {
			return err
		}
		res, err := n.river.InsertTx(tx.Statement.Context, sqlTx, deliverArgs{DeliveryID: del.ID, RequestID: reqlog.RequestID(tx.Statement.Context)}, nil)
		if err != nil {
			return fmt.Errorf("enqueue delivery: %w", err)
		}
		if err := tx.Model(&del).Update("job_id", res.Job.ID).Error; err != nil {
			return err
		}
	}
	return n.scheduleLift(tx, sqlTx, d)
}

// Replay puts a dead-lettered delivery back on the queue.
func (n *Notifier) Replay(ctx context.Context, deliveryID int64) error {
	return n.db.W.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		res := tx.Model(&Delivery{}).Where("id = ? AND state = 'dead'", deliveryID).
			Updates(map[string]any{"state": "pending", "created_at": n.now().UTC()})
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected != 1 {
			return errors.New("only a dead-lettered delivery can be replayed")
		}
		sqlTx := tx.Statement.ConnPool.(*sql.Tx)
		job, err := n.river.InsertTx(ctx, sqlTx, deliverArgs{DeliveryID: deliveryID, RequestID: reqlog.RequestID(ctx)}, nil)
		if err != nil {
			return err
		}
		return tx.Model(&Delivery{}).Where("id = ?", deliveryID).Update("job_id", job.Job.ID).Error
	})
}

// backoff retries after 1s, 2s, 4s… capped at 50 s, with ±20% jitter so a
// recovering edge is not hit by every retry at once. The cap keeps any
// delivery within a minute of an edge's recovery even if nothing wakes it (see
// wakeTarget, which usually does so at once).
type backoff struct{}

func (backoff) NextRetry(job *rivertype.JobRow) time.Time {
	d := time.Second << min(job.Attempt-1, 10)
	d = min(d, 50*time.Second)
	jitter := time.Duration(float64(d) * (rand.Float64()*0.4 - 0.2))
	return time.Now().Add(d + jitter)
}

// clientID names this process among the instances sharing the job queue (in
// river_leader and river_job.attempted_by): host, process id and start time,
// so an operator can tell which process is the leader.
func clientID() string {
	host, _ := os.Hostname()
	host = strings.NewReplacer(".", "_", ":", "_").Replace(host)
	if len(host) > 50 {
		host = host[:50]
	}
	return fmt.Sprintf("%s_pid%d_%s", host, os.Getpid(), time.Now().UTC().Format("20060102T150405.000000"))
}
