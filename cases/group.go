package cases

// Group commit (issue 7). A report filed on its own is one short transaction
// whose cost is mostly the commit (and, on SQLite, the wait for the one writer
// connection). FileReportGrouped lets concurrent callers share that cost: their
// reports queue up while a transaction is being written, and the next
// transaction files all of them. Nobody waits for a timer: with one caller at
// a time every report is filed at once, alone, exactly as FileReport does.

import (
	"context"
	"fmt"
	"hash/fnv"
	"sort"
	"sync"

	"gorm.io/gorm"

	"github.com/dockethq/docket/internal/database"
)

// GroupMax caps the reports one group transaction files, so a burst does not
// hold the writer (or the reports' case rows) for long.
const GroupMax = 100

type groupItem struct {
	ctx  context.Context
	f    *filing
	rep  *Report
	err  error
	done chan struct{}
}

// grouper is the queue of reports waiting for the next group transaction,
// one per lane. A report's lane is decided by its case (site and category), so
// two lanes' transactions never update the same case row and never wait for
// each other's commit (on PostgreSQL; SQLite has one lane). running[i] says
// whether a goroutine drains lane i; there is none while it is empty.
type grouper struct {
	mu      sync.Mutex
	queues  [][]*groupItem
	running []bool
}

// groupWriters is how many group transactions may run at once, one per lane:
// one on SQLite, whose one writer connection serializes them anyway; two on
// PostgreSQL, so that round trips and commits overlap. (On the 2-core test
// machine 4 and 8 were slower than 2: smaller groups, more statements.)
func (s *Service) groupWriters() int {
	if s.db.Dialect == database.Postgres {
		return 2
	}
	return 1
}

// lane is the queue for f: by the case it joins (or, without a site, the
// host), so reports about one case always share a lane.
func (s *Service) lane(f *filing) int {
	n := s.groupWriters()
	if n == 1 {
		return 0
	}
	h := fnv.New32a()
	if f.site != nil {
		h.Write([]byte(siteGroupKey(f.site)))
	} else {
		h.Write([]byte(f.target.Host))
	}
	h.Write([]byte{0})
	h.Write([]byte(f.n.Category))
	return int(h.Sum32() % uint32(n))
}

// FileReportGrouped files a report like FileReport, with the same answer and
// the same error for it, but possibly in one transaction with the reports of
// concurrent callers. It returns after that transaction committed. When the
// shared transaction fails (one of its reports conflicts, a hook fails), each
// of its reports is filed again on its own, so one bad report never fails
// its neighbours. Invalid reports are answered before they join a group.
func (s *Service) FileReportGrouped(ctx context.Context, n NewReport) (*Report, error) {
	if outer(ctx) != nil {
		return s.FileReport(ctx, n)
	}
	// Validated and its site looked up here, on the caller's goroutine and
	// the read pool; the duplicate check is one statement for the whole
	// group, in its transaction. (Like two concurrent FileReports, two
	// identical reports in one group are both filed as originals.)
	f, err := s.prepareFiling(ctx, n, true)
	if err != nil {
		return nil, err
	}
	it := &groupItem{ctx: ctx, f: f, done: make(chan struct{})}
	l := s.lane(f)
	g := &s.group
	g.mu.Lock()
	if g.queues == nil {
		g.queues, g.running = make([][]*groupItem, s.groupWriters()), make([]bool, s.groupWriters())
	}
	g.queues[l] = append(g.queues[l], it)
	if !g.running[l] {
		g.running[l] = true
		go s.drainGroup(l)
	}
	g.mu.Unlock()
	// Not abandoned when ctx ends: the report may be committing, and the
	// caller must not be told it was not filed when it was.
	<-it.done
	return it.rep, it.err
}

// drainGroup files what is queued in lane l, up to GroupMax reports a
// transaction, until the lane is empty.
func (s *Service) drainGroup(l int) {
	g := &s.group
	for {
		g.mu.Lock()
		k := min(len(g.queues[l]), GroupMax)
		if k == 0 {
			g.running[l] = false
			g.mu.Unlock()
			return
		}
		batch := make([]*groupItem, k)
		copy(batch, g.queues[l])
		g.queues[l] = g.queues[l][k:]
		g.mu.Unlock()
		s.fileGroup(batch)
	}
}

// fileGroup files batch in one transaction, or each report on its own when
// that fails, and answers every caller.
func (s *Service) fileGroup(batch []*groupItem) {
	defer func() {
		// A panic would otherwise leave the callers waiting forever and
		// take the process down (it is not a request goroutine).
		p := recover()
		for _, it := range batch {
			if p != nil && it.rep == nil && it.err == nil {
				it.err = fmt.Errorf("filing a report panicked: %v", p)
			}
			select {
			case <-it.done:
			default:
				close(it.done)
			}
		}
	}()
	if len(batch) == 1 {
		it := batch[0]
		it.rep, it.err = s.writeFiling(context.WithoutCancel(it.ctx), *it.f)
		return
	}
	reps := make([]*Report, len(batch))
	// Filed in the order of the case rows they lock (by host and category),
	// so two groups at once (PostgreSQL) do not deadlock on each other.
	order := make([]int, len(batch))
	keys := make([]string, len(batch))
	for i, it := range batch {
		order[i] = i
		keys[i] = it.f.target.Host + " " + string(it.f.n.Category)
	}
	sort.SliceStable(order, func(a, b int) bool { return keys[order[a]] < keys[order[b]] })
	fs := make([]filing, len(order))
	ctxs := make([]context.Context, len(order))
	for j, i := range order {
		fs[j], ctxs[j] = *batch[i].f, context.WithoutCancel(batch[i].ctx)
	}
	var events []Event
	err := s.db.W.WithContext(context.Background()).Transaction(func(tx *gorm.DB) error {
		// No savepoint per report: if one fails, the whole transaction is
		// rolled back and every report filed again on its own.
		rs, evs, err := s.writeGroup(tx.Session(&gorm.Session{DisableNestedTransaction: true}), fs, ctxs)
		if err != nil {
			return err
		}
		for j, i := range order {
			reps[i] = rs[j]
		}
		events = evs
		return nil
	})
	if err != nil {
		for _, it := range batch {
			it.rep, it.err = s.writeFiling(context.WithoutCancel(it.ctx), *it.f)
		}
		return
	}
	for _, ev := range events {
		s.committed(ev)
	}
	for i, it := range batch {
		it.rep = reps[i]
	}
}

// FileReports files independent reports (an API batch) with FileReport's
// answer for each, in input order: an invalid report gets its validation
// error and is not written; the others are filed up to GroupMax to a
// transaction, and each again on its own when its transaction fails, so the
// batch is never all-or-nothing.
func (s *Service) FileReports(ctx context.Context, ns []NewReport) ([]*Report, []error) {
	reps, errors := make([]*Report, len(ns)), make([]error, len(ns))
	var items []*groupItem
	var at []int
	for i, n := range ns {
		f, err := s.prepareFiling(ctx, n, true)
		if err != nil {
			errors[i] = err
			continue
		}
		items = append(items, &groupItem{ctx: ctx, f: f, done: make(chan struct{})})
		at = append(at, i)
	}
	for start := 0; start < len(items); start += GroupMax {
		s.fileGroup(items[start:min(start+GroupMax, len(items))])
	}
	for j, it := range items {
		reps[at[j]], errors[at[j]] = it.rep, it.err
	}
	return reps, errors
}
