package cases

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"slices"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/dockethq/docket/intake"
	"github.com/dockethq/docket/internal/errs"
)

// OpenStates are the states a case is in while it needs the team; the queue index
// is partial on exactly these.
var OpenStates = []State{StateNew, StateInReview, StatePendingSignoff, StateAppealed}

// openStatesSQL is OpenStates as SQL literals. SQLite uses a partial index only
// when the query repeats the index's predicate, which it cannot see through
// bound parameters (BENCHMARKS.md §1).
const openStatesSQL = "('new', 'in_review', 'pending_signoff', 'appealed')"

// Sort orders search results.
type Sort string

const (
	SortPriority Sort = "priority" // highest priority (with ageing) first
	SortSLA      Sort = "sla"      // soonest due first; overdue on top
	SortNewest   Sort = "newest"   // most recently opened first
)

// Filter selects cases. Zero fields match everything; Queues bounds what the
// viewer may see at all and is never empty for a real viewer.
type Filter struct {
	Queues     []string // readable queues (from the policy)
	Queue      string
	State      string // a State, "open" (default) or "all"
	Category   Category
	Host       string
	CustomerID int64
	Reporter   string // part of a reporter's name, or (with ContactVisible) their exact email
	// ContactVisible lets Reporter match emails: only for viewers who may read
	// reporter contacts, else a search would confirm who reported what.
	ContactVisible bool
	Text           string // words in a report's description
	From, To       time.Time
	Sort           Sort
	After          string // cursor from the previous page
	Limit          int
}

// QueueItem is one row of a queue or search result.
type QueueItem struct {
	Case
	CustomerName string
	AssigneeName string
}

// Page is one page of results and the cursor of the next, if any.
type Page struct {
	Items []QueueItem
	Next  string
}

type cursor struct {
	Rank int64     `json:"r,omitempty"`
	At   time.Time `json:"t,omitempty"`
	ID   int64     `json:"i"`
}

func (c cursor) encode() string {
	b, _ := json.Marshal(c)
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeCursor(s string) (cursor, error) {
	var c cursor
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err == nil {
		err = json.Unmarshal(b, &c)
	}
	if err != nil || c.ID <= 0 {
		return c, &errs.Error{Code: errs.Invalid, Message: "That page link is not valid; start from the first page.", Fields: map[string]string{"after": "Invalid cursor."}}
	}
	return c, nil
}

// Search lists cases with keyset (cursor) pagination: each page continues after
// the last row of the previous one, so page 1000 costs what page 1 costs and no
// case is skipped or repeated while new reports arrive.
func (s *Service) Search(ctx context.Context, f Filter) (*Page, error) {
	if len(f.Queues) == 0 {
		return &Page{}, nil
	}
	if f.Limit <= 0 || f.Limit > 200 {
		f.Limit = 50
	}
	q := s.db.R.WithContext(ctx).Table("cases").
		Select("cases.*, COALESCE(customers.name, '') AS customer_name, COALESCE(users.name, '') AS assignee_name").
		Joins("LEFT JOIN customers ON customers.id = cases.customer_id").
		Joins("LEFT JOIN users ON users.id = cases.assignee_id").
		Where("cases.queue IN ?", f.Queues)
	q, err := f.apply(q)
	if err != nil {
		return nil, err
	}
	if f.After != "" {
		c, err := decodeCursor(f.After)
		if err != nil {
			return nil, err
		}
		switch f.Sort {
		case SortSLA:
			q = q.Where("(cases.sla_due_at, cases.id) > (?, ?)", c.At, c.ID)
		case SortNewest:
			q = q.Where("(cases.opened_at, cases.id) < (?, ?)", c.At, c.ID)
		default:
			// Row values are index bounds on both engines; the OR form is a filter.
			q = q.Where("(cases.queue_rank, cases.id) < (?, ?)", c.Rank, c.ID)
		}
	}
	switch f.Sort {
	case SortSLA:
		q = q.Order("cases.sla_due_at, cases.id")
	case SortNewest:
		q = q.Order("cases.opened_at DESC, cases.id DESC")
	default:
		q = q.Order("cases.queue_rank DESC, cases.id DESC")
	}
	var items []QueueItem
	if err := q.Limit(f.Limit + 1).Scan(&items).Error; err != nil {
		return nil, err
	}
	p := &Page{Items: items}
	if len(items) > f.Limit {
		p.Items = items[:f.Limit]
		last := p.Items[f.Limit-1]
		c := cursor{ID: last.ID, Rank: last.QueueRank}
		switch f.Sort {
		case SortSLA:
			c.At = last.SLADueAt
		case SortNewest:
			c.At = last.OpenedAt
		}
		p.Next = c.encode()
	}
	return p, nil
}

// apply adds f's conditions to q.
func (f *Filter) apply(q *gorm.DB) (*gorm.DB, error) {
	fields := map[string]string{}
	switch f.State {
	case "", "open":
		q = q.Where("cases.state IN " + openStatesSQL)
	case "all":
	default:
		st := State(f.State)
		if _, ok := stateLabel[st]; !ok {
			fields["state"] = "Unknown state."
		}
		q = q.Where("cases.state = ?", st)
	}
	if f.Queue != "" {
		q = q.Where("cases.queue = ?", f.Queue)
	}
	if f.Category != "" {
		if _, ok := f.Category.Info(); !ok {
			fields["category"] = "Unknown category."
		}
		q = q.Where("cases.category = ?", f.Category)
	}
	if h := strings.TrimSpace(f.Host); h != "" {
		host, err := intake.NormalizeHost(h)
		if err != nil {
			fields["host"] = err.Error()
		}
		q = q.Where("(cases.hostname = ? OR cases.hostname LIKE ? ESCAPE '\\')", host, "%."+escapeLike(host))
	}
	if f.CustomerID != 0 {
		q = q.Where("cases.customer_id = ?", f.CustomerID)
	}
	if r := strings.TrimSpace(f.Reporter); r != "" {
		email := "" // matches no reporter: emails are never empty strings in a match
		if f.ContactVisible {
			email = strings.ToLower(r)
		}
		q = q.Where("EXISTS (SELECT 1 FROM reports JOIN reporters ON reporters.id = reports.reporter_id WHERE reports.case_id = cases.id AND ((reporters.email = ? AND reporters.email <> '') OR LOWER(reporters.name) LIKE ? ESCAPE '\\'))",
			email, "%"+escapeLike(strings.ToLower(r))+"%")
	}
	if t := strings.TrimSpace(f.Text); t != "" {
		q = q.Where("EXISTS (SELECT 1 FROM reports WHERE reports.case_id = cases.id AND LOWER(reports.description) LIKE ? ESCAPE '\\')", "%"+escapeLike(strings.ToLower(t))+"%")
	}
	if !f.From.IsZero() {
		q = q.Where("cases.opened_at >= ?", f.From.UTC())
	}
	if !f.To.IsZero() {
		q = q.Where("cases.opened_at < ?", f.To.UTC())
	}
	switch f.Sort {
	case "", SortPriority, SortSLA, SortNewest:
	default:
		fields["sort"] = "Sort by priority, sla or newest."
	}
	return q, errs.Fields(fields)
}

func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

// OpenCount counts the open cases in each of the given queues.
func (s *Service) OpenCount(ctx context.Context, queues []string) (map[string]int64, error) {
	var rows []struct {
		Queue string
		N     int64
	}
	err := s.db.R.WithContext(ctx).Table("cases").Select("queue, COUNT(*) AS n").
		Where("state IN "+openStatesSQL+" AND queue IN ?", queues).Group("queue").Scan(&rows).Error
	out := map[string]int64{}
	for _, r := range rows {
		out[r.Queue] = r.N
	}
	return out, err
}

// Neighbours returns the cases just before and after c in its queue's priority
// order (0 where there is none), for "previous" and "next" on the case page.
func (s *Service) Neighbours(ctx context.Context, c *Case, queues []string) (prev, next int64, err error) {
	if !slices.Contains(queues, c.Queue) || !c.State.Open() {
		return 0, 0, nil
	}
	q := func() *gorm.DB {
		return s.db.R.WithContext(ctx).Table("cases").Select("id").
			Where("queue = ? AND state IN "+openStatesSQL, c.Queue)
	}
	err = q().Where("(queue_rank, id) < (?, ?)", c.QueueRank, c.ID).
		Order("queue_rank DESC, id DESC").Limit(1).Scan(&next).Error
	if err != nil {
		return 0, 0, err
	}
	err = q().Where("(queue_rank, id) > (?, ?)", c.QueueRank, c.ID).
		Order("queue_rank, id").Limit(1).Scan(&prev).Error
	return prev, next, err
}
