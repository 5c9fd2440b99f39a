package audit

import (
	"context"
	"crypto/ed25519"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"sort"
	"time"

	"gorm.io/gorm"

	"github.com/dockethq/docket/internal/database"
)

// Options configure a Chain.
type Options struct {
	// Key signs checkpoints. Nil: a key kept in app_secrets, made on first use.
	Key ed25519.PrivateKey
	// Trusted are further public keys whose checkpoints verify (keys used
	// before a rotation).
	Trusted Keys
	Now     func() time.Time
}

// Chain verifies, checkpoints and exports the audit chain of one database.
type Chain struct {
	db   *database.DB
	opts Options
	now  func() time.Time
}

// NewChain returns the chain of db.
func NewChain(db *database.DB, opts Options) *Chain {
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	return &Chain{db: db, opts: opts, now: now}
}

// Problem is the first broken link Verify found.
type Problem struct {
	EventID      int64  // the event at fault, when there is one
	Seq          int64  // where in the chain
	CheckpointID int64  // the checkpoint at fault or contradicted, when there is one
	Kind         string // edited, deleted, inserted, relinked, head, checkpoint, legacy
	Message      string // a sentence naming the event and what is wrong
}

// Report is the result of a verification.
type Report struct {
	OK          bool
	Events      int64  // events whose hash and link were checked
	HeadSeq     int64  // the chain's head when the walk started
	HeadHash    string // its hash
	Checkpoints int    // checkpoints whose signature and hash were checked
	Last        *Checkpoint
	Problem     *Problem
	Pending     int64    // committed events not sealed into the chain yet (PostgreSQL), all younger than PendingGrace
	Notes       []string // things worth knowing that are not failures
	Took        time.Duration
}

// Summary is a one-line description of r.
func (r *Report) Summary() string {
	if !r.OK {
		return "audit chain BROKEN: " + r.Problem.Message
	}
	s := fmt.Sprintf("audit chain intact: %d events checked, head at seq %d, %d checkpoints verified", r.Events, r.HeadSeq, r.Checkpoints)
	if r.Last != nil {
		s += fmt.Sprintf(" (last at seq %d, %s)", r.Last.Seq, r.Last.At.UTC().Format(time.RFC3339))
	}
	return s
}

// walker checks events fed in seq order, and the checkpoints between them.
type walker struct {
	prevSeq, prevID int64
	prevHash        string
	n               int64
	cps             []Checkpoint // signature-checked, sorted by seq, not yet reached
	checked         int
	lastMatch       *Checkpoint
}

func (w *walker) event(e Event) *Problem {
	want := w.prevSeq + 1
	switch {
	case e.Seq < want:
		return &Problem{EventID: e.ID, Seq: e.Seq, Kind: "inserted",
			Message: fmt.Sprintf("event %d (seq %d) repeats a seq already in the chain (inserted?)", e.ID, e.Seq)}
	case e.Seq > want:
		missing := fmt.Sprintf("seq %d", want)
		if e.Seq-1 > want {
			missing = fmt.Sprintf("seq %d to %d", want, e.Seq-1)
		}
		after := "the start of the chain"
		if w.prevID != 0 {
			after = fmt.Sprintf("event %d (seq %d)", w.prevID, w.prevSeq)
		}
		return &Problem{EventID: e.ID, Seq: want, Kind: "deleted",
			Message: fmt.Sprintf("%s missing (deleted?): %s is followed by event %d (seq %d)", missing, after, e.ID, e.Seq)}
	case e.PrevHash != w.prevHash:
		what := "the chain's start"
		if w.prevID != 0 {
			what = fmt.Sprintf("event %d (seq %d)", w.prevID, w.prevSeq)
		}
		return &Problem{EventID: e.ID, Seq: e.Seq, Kind: "relinked",
			Message: fmt.Sprintf("event %d (seq %d) does not link to %s: its prev_hash is not that event's hash (%s edited and rehashed, or this one forged?)", e.ID, e.Seq, what, what)}
	case HashEvent(e.PrevHash, e) != e.Hash:
		return &Problem{EventID: e.ID, Seq: e.Seq, Kind: "edited",
			Message: fmt.Sprintf("event %d (seq %d): hash does not match its contents (edited?)", e.ID, e.Seq)}
	}
	w.prevSeq, w.prevID, w.prevHash = e.Seq, e.ID, e.Hash
	w.n++
	return w.matchCheckpoints(e.ID, e.Seq, e.Hash)
}

// matchCheckpoints checks the pending checkpoints up to the event just walked.
func (w *walker) matchCheckpoints(id, seq int64, hash string) *Problem {
	for len(w.cps) > 0 && w.cps[0].Seq <= seq {
		cp := w.cps[0]
		w.cps = w.cps[1:]
		if cp.Seq < seq {
			continue // at a seq this walk did not see; a gap there is reported as such
		}
		if cp.Hash != hash {
			since := "the start of the chain"
			if w.lastMatch != nil {
				since = fmt.Sprintf("checkpoint %d (seq %d)", w.lastMatch.ID, w.lastMatch.Seq)
			}
			return &Problem{EventID: id, Seq: seq, CheckpointID: cp.ID, Kind: "checkpoint",
				Message: fmt.Sprintf("event %d (seq %d) does not match checkpoint %d signed %s: the chain between %s and seq %d was rewritten (edited and recomputed?)",
					id, seq, cp.ID, cp.At.UTC().Format(time.RFC3339), since, seq)}
		}
		w.checked++
		c := cp
		w.lastMatch = &c
	}
	return nil
}

// Verify walks the whole chain and reports the first broken link. It reads in
// keyset pages, so memory stays flat however long the log is. It only reads:
// on PostgreSQL events committed since the last Seal are counted as pending
// (a fault once older than PendingGrace), so callers that want them checked
// too call Seal first, as VerifyAndStore and Checkpoint do.
func (c *Chain) Verify(ctx context.Context) (*Report, error) {
	return c.verify(ctx, nil)
}

// pageSize is how many events one read of a walk fetches.
const pageSize = 2000

type eventRow struct {
	ID         int64
	At         time.Time
	Actor      string
	Action     string
	ObjectType string
	ObjectID   string
	Details    string
	Seq        sql.NullInt64
	PrevHash   sql.NullString
	Hash       sql.NullString
}

func (r eventRow) event() Event {
	return Event{ID: r.ID, At: r.At, Actor: r.Actor, Action: r.Action, ObjectType: r.ObjectType, ObjectID: r.ObjectID,
		Details: r.Details, Seq: r.Seq.Int64, PrevHash: r.PrevHash.String, Hash: r.Hash.String}
}

// verify walks from a checkpoint already trusted (nil: from the start).
func (c *Chain) verify(ctx context.Context, from *Checkpoint) (*Report, error) {
	start := time.Now()
	rep := &Report{}
	fail := func(p *Problem) (*Report, error) {
		rep.Problem, rep.Took = p, time.Since(start)
		return rep, nil
	}
	db := c.db.R.WithContext(ctx)
	keys, err := c.TrustedKeys(ctx)
	if err != nil {
		return nil, err
	}
	// Checkpoints first, then the head: a checkpoint signed after the head was
	// read may legitimately be past it, one signed before may not.
	var cps []Checkpoint
	if err := db.Where("log = ?", Log).Order("seq, id").Find(&cps).Error; err != nil {
		return nil, fmt.Errorf("read checkpoints: %w", err)
	}
	var h head
	res := db.Raw(`SELECT seq, hash, legacy_until FROM audit_chain WHERE log = ?`, Log).Scan(&h)
	if res.Error != nil {
		return nil, fmt.Errorf("read the audit chain head: %w", res.Error)
	}
	if res.RowsAffected == 0 {
		return fail(&Problem{Kind: "head", Message: "the audit chain's head row is missing (deleted?, or the schema predates the chain: run docket migrate up)"})
	}
	rep.HeadSeq, rep.HeadHash = h.Seq, h.Hash
	if h.LegacyUntil > 0 {
		return fail(&Problem{Kind: "legacy", Message: fmt.Sprintf("events up to id %d, written before the chain existed, are not chained yet: run docket migrate up", h.LegacyUntil)})
	}
	for _, cp := range cps {
		if p := checkSignature(cp, keys); p != nil {
			return fail(p)
		}
		if cp.Seq > h.Seq {
			return fail(&Problem{Seq: cp.Seq, CheckpointID: cp.ID, Kind: "deleted",
				Message: fmt.Sprintf("checkpoint %d vouches for seq %d but the chain ends at seq %d: events were removed from its end (deleted, and the head moved back?)", cp.ID, cp.Seq, h.Seq)})
		}
		cp := cp
		rep.Last = &cp
	}
	w := &walker{}
	if from != nil {
		w.prevSeq, w.prevHash = from.Seq, from.Hash
		var id int64
		db.Raw(`SELECT id FROM audit_events WHERE seq = ?`, from.Seq).Scan(&id)
		w.prevID = id
		w.lastMatch = from
		rep.Checkpoints = 1
	}
	for _, cp := range cps {
		if cp.Seq > w.prevSeq {
			w.cps = append(w.cps, cp)
		}
	}
	sort.SliceStable(w.cps, func(i, j int) bool { return w.cps[i].Seq < w.cps[j].Seq })
	// Keyset pages on seq alone (an index range); the last seq of a page is
	// read again so that a duplicated seq (possible only if someone dropped
	// the unique index) is never skipped at a page boundary.
	lastSeq, lastID := w.prevSeq, int64(0)
	if from != nil {
		lastID = math.MaxInt64 // after the checkpoint's event, not beside it
	}
	for {
		var rows []eventRow
		err := db.Raw(`SELECT id, at, actor, action, object_type, object_id, details, seq, prev_hash, hash FROM audit_events
			WHERE seq >= ? AND seq <= ? AND seq > 0 ORDER BY seq, id LIMIT ?`, lastSeq, h.Seq, pageSize).Scan(&rows).Error
		if err != nil {
			return nil, fmt.Errorf("read audit events after seq %d: %w", lastSeq, err)
		}
		fresh := 0
		for _, r := range rows {
			if r.Seq.Int64 < lastSeq || (r.Seq.Int64 == lastSeq && r.ID <= lastID) {
				continue // seen on the previous page
			}
			fresh++
			if p := w.event(r.event()); p != nil {
				rep.Events, rep.Checkpoints = w.n, rep.Checkpoints+w.checked
				return fail(p)
			}
			lastSeq, lastID = r.Seq.Int64, r.ID
		}
		if len(rows) < pageSize || fresh == 0 {
			break
		}
	}
	rep.Events, rep.Checkpoints = w.n, rep.Checkpoints+w.checked
	if w.prevSeq < h.Seq {
		after := "the start of the chain"
		if w.prevID != 0 {
			after = fmt.Sprintf("event %d (seq %d)", w.prevID, w.prevSeq)
		}
		return fail(&Problem{Seq: w.prevSeq + 1, Kind: "deleted",
			Message: fmt.Sprintf("seq %d to %d missing (deleted?): the chain's head is at seq %d but nothing follows %s", w.prevSeq+1, h.Seq, h.Seq, after)})
	}
	if w.prevHash != h.Hash {
		return fail(&Problem{EventID: w.prevID, Seq: h.Seq, Kind: "head",
			Message: fmt.Sprintf("the chain's head hash does not match event %d (seq %d) (head or last event edited?)", w.prevID, h.Seq)})
	}
	// One statement, one snapshot: an event past the head as it is now was not
	// written by Record, which moves the head in the same transaction.
	var past []struct{ ID, Seq int64 }
	if err := db.Raw(`SELECT e.id, e.seq FROM audit_events e JOIN audit_chain c ON c.log = ? WHERE e.seq > c.seq AND e.seq > 0 ORDER BY e.seq LIMIT 1`, Log).Scan(&past).Error; err != nil {
		return nil, err
	}
	if len(past) > 0 {
		return fail(&Problem{EventID: past[0].ID, Seq: past[0].Seq, Kind: "inserted",
			Message: fmt.Sprintf("event %d (seq %d) is past the chain's head (inserted?)", past[0].ID, past[0].Seq)})
	}
	// On PostgreSQL seq = -1 is an event waiting for Seal: a young one is
	// work in progress; one older than PendingGrace means no sealer ran (or
	// someone inserted it by hand long ago).
	outside := `seq IS NULL OR seq <= 0`
	if db.Dialector.Name() == "postgres" {
		outside = `seq IS NULL OR seq = 0 OR seq < -1`
		n, id, age, err := Unsealed(ctx, db)
		if err != nil {
			return nil, err
		}
		if n > 0 {
			if age > PendingGrace {
				return fail(&Problem{EventID: id, Kind: "unsealed",
					Message: fmt.Sprintf("%d events are not sealed into the chain, the oldest stored %s ago (no docket serve sealing? or inserted by hand?)", n, age.Round(time.Second))})
			}
			rep.Pending = n
			rep.Notes = append(rep.Notes, fmt.Sprintf("%d recent events are not sealed into the chain yet (the next seal chains them)", n))
		}
	}
	var loose []int64
	if err := db.Raw(`SELECT id FROM audit_events WHERE ` + outside + ` ORDER BY id LIMIT 1`).Scan(&loose).Error; err != nil {
		return nil, err
	}
	if len(loose) > 0 {
		return fail(&Problem{EventID: loose[0], Kind: "inserted",
			Message: fmt.Sprintf("event %d is not in the chain (inserted?)", loose[0])})
	}
	if len(cps) == 0 {
		rep.Notes = append(rep.Notes, "no checkpoints yet: run docket audit checkpoint, or wait for the timer")
	}
	rep.OK, rep.Took = true, time.Since(start)
	return rep, nil
}

// Verification is one stored verification result.
type Verification struct {
	ID          int64
	Log         string
	At          time.Time
	Actor       string
	OK          bool
	Events      int64
	HeadSeq     int64
	Checkpoints int
	Problem     string
	TookMs      int64
}

func (Verification) TableName() string { return "audit_verifications" }

// VerifyAndStore seals, runs Verify and keeps the result for the chain page.
func (c *Chain) VerifyAndStore(ctx context.Context, actor string) (*Report, error) {
	if _, err := c.Seal(ctx); err != nil {
		return nil, err
	}
	rep, err := c.Verify(ctx)
	if err != nil {
		return nil, err
	}
	return rep, c.store(ctx, actor, rep)
}

// store keeps rep as the latest verification, for the chain page, the
// metrics and the doctor.
func (c *Chain) store(ctx context.Context, actor string, rep *Report) error {
	v := Verification{Log: Log, At: c.now().UTC(), Actor: actor, OK: rep.OK, Events: rep.Events, HeadSeq: rep.HeadSeq,
		Checkpoints: rep.Checkpoints, TookMs: rep.Took.Milliseconds()}
	if rep.Problem != nil {
		v.Problem = rep.Problem.Message
	}
	if err := c.db.W.WithContext(ctx).Create(&v).Error; err != nil {
		return fmt.Errorf("store the verification: %w", err)
	}
	return nil
}

// LastVerification is the latest stored verification, nil before the first.
func LastVerification(ctx context.Context, db *gorm.DB) (*Verification, error) {
	var v Verification
	err := db.WithContext(ctx).Where("log = ?", Log).Order("id DESC").Limit(1).Take(&v).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read the last audit verification: %w", err)
	}
	return &v, nil
}

// Status is what the chain page shows without walking the chain.
type Status struct {
	HeadSeq      int64
	HeadHash     string
	LegacyUntil  int64
	Events       int64 // rows in audit_events, chained or not
	Pending      int64 // of those, committed and waiting for Seal (PostgreSQL)
	Last         *Checkpoint
	Checkpoints  int64
	Verification *Verification // the last one, if any
	PublicKey    string        // hex, "" before the first checkpoint made the key
	KeyID        string
}

// Status reads the head, the last checkpoint and the last verification.
func (c *Chain) Status(ctx context.Context) (*Status, error) {
	db := c.db.R.WithContext(ctx)
	st := &Status{}
	// One statement, so the head and the counts are one snapshot: a seal in
	// between would otherwise make sealed rows look missing.
	var h struct {
		Seq, LegacyUntil, Events, Pending int64
		Hash                              string
	}
	if err := db.Raw(`SELECT seq, hash, legacy_until, (SELECT COUNT(*) FROM audit_events) AS events,
		(SELECT COUNT(*) FROM audit_events WHERE `+pendingWhere+`) AS pending
		FROM audit_chain WHERE log = ?`, Log).Scan(&h).Error; err != nil {
		return nil, err
	}
	st.HeadSeq, st.HeadHash, st.LegacyUntil, st.Events = h.Seq, h.Hash, h.LegacyUntil, h.Events
	if db.Dialector.Name() == "postgres" {
		st.Pending = h.Pending // on SQLite such a row is outside the chain
	}
	if err := db.Model(&Checkpoint{}).Where("log = ?", Log).Count(&st.Checkpoints).Error; err != nil {
		return nil, err
	}
	var cp Checkpoint
	if err := db.Where("log = ?", Log).Order("seq DESC, id DESC").Limit(1).Take(&cp).Error; err == nil {
		st.Last = &cp
	} else if !errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, err
	}
	var err error
	if st.Verification, err = LastVerification(ctx, c.db.R); err != nil {
		return nil, err
	}
	var pub ed25519.PublicKey
	if c.opts.Key != nil {
		pub = c.opts.Key.Public().(ed25519.PublicKey)
	} else if priv, err := databaseKey(ctx, c, false); err == nil && priv != nil {
		pub = priv.Public().(ed25519.PublicKey)
	}
	if pub != nil {
		st.PublicKey, st.KeyID = fmt.Sprintf("%x", []byte(pub)), KeyID(pub)
	}
	return st, nil
}
