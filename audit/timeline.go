package audit

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/dockethq/docket/internal/errs"
)

// Scope is what a timeline is about.
type Scope string

const (
	ScopeCase     Scope = "case"     // the case's events, its reports' and the mail that filed them
	ScopeUser     Scope = "user"     // what a staff user did, and what was done to their account
	ScopeCustomer Scope = "customer" // the customer, its sites and the cases on them
)

// Scopes lists the scopes in the order the UI offers them.
var Scopes = []Scope{ScopeCase, ScopeUser, ScopeCustomer}

// Query selects a timeline and filters it. Zero filter fields match everything.
type Query struct {
	Scope Scope
	ID    int64
	// Queues are the queues the viewer may read (from the policy). Events
	// about a case in any other queue are left out, and a case timeline of
	// such a case is not found. Empty: the viewer sees nothing.
	Queues []string
	// Restricted is whether the viewer may read restricted content outside
	// cases: mail marked restricted and csam reports that joined no case.
	Restricted bool

	Action     string // a prefix: "decision." or "case.note"
	Actor      string // exact ("user:3", "system"), or a prefix ending in ':' ("reporter:")
	ObjectType string
	From, To   time.Time // at >= From, at < To
	Oldest     bool      // oldest first; default newest first
	After      int64     // the cursor: the id of the previous page's last event
	Limit      int
}

// Page is one page of a timeline.
type Page struct {
	Events []Event
	Next   int64 // the cursor of the next page; 0 when this is the last
}

// MaxPage bounds a page; ExportLimit bounds an export (a var so tests can
// lower it). An export that reaches it says so in its last line.
const MaxPage = 200

var ExportLimit = 100_000

// ErrNoTimeline is returned for a case, user or customer that does not exist or
// that the viewer may not see; the two are indistinguishable on purpose.
var ErrNoTimeline = errs.E(errs.NotFound, "There is no such timeline, or you may not see it.")

// Subject is what a timeline is about, for its heading.
type Subject struct {
	Scope Scope
	ID    int64
	Title string
}

// Describe checks that the timeline's subject exists and is visible to the
// viewer, and names it. A case in a queue the viewer may not read is not found.
func Describe(ctx context.Context, db *gorm.DB, q Query) (*Subject, error) {
	db = db.WithContext(ctx)
	s := &Subject{Scope: q.Scope, ID: q.ID}
	var row struct{ A, B, C string }
	var err error
	switch q.Scope {
	case ScopeCase:
		if len(q.Queues) == 0 {
			return nil, ErrNoTimeline
		}
		err = db.Table("cases").Select("hostname AS a, category AS b, state AS c").Where("id = ? AND queue IN ?", q.ID, q.Queues).Take(&row).Error
		s.Title = fmt.Sprintf("Case #%d · %s · %s · %s", q.ID, row.A, strings.ReplaceAll(row.B, "_", " "), strings.ReplaceAll(row.C, "_", " "))
	case ScopeUser:
		err = db.Table("users").Select("name AS a, email AS b").Where("id = ?", q.ID).Take(&row).Error
		s.Title = fmt.Sprintf("User #%d · %s <%s>", q.ID, row.A, row.B)
	case ScopeCustomer:
		err = db.Table("customers").Select("name AS a").Where("id = ?", q.ID).Take(&row).Error
		s.Title = fmt.Sprintf("Customer #%d · %s", q.ID, row.A)
	default:
		return nil, ErrNoTimeline
	}
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, ErrNoTimeline
	}
	if err != nil {
		return nil, err
	}
	return s, nil
}

// Validate checks the filters; the field names are the UI's query parameters.
func (q *Query) Validate() error {
	fields := map[string]string{}
	if !validScope(q.Scope) {
		fields["scope"] = "Choose a case, a user or a customer."
	}
	if q.ID <= 0 {
		fields["id"] = "Enter a number."
	}
	if len(q.Action) > 100 {
		fields["action"] = "Keep this under 100 characters."
	}
	if len(q.Actor) > 100 {
		fields["actor"] = "Keep this under 100 characters."
	}
	if len(q.ObjectType) > 50 {
		fields["object_type"] = "Keep this under 50 characters."
	}
	if !q.From.IsZero() && !q.To.IsZero() && !q.From.Before(q.To) {
		fields["to"] = "The end date is before the start date."
	}
	if q.After < 0 {
		fields["after"] = "That page link is not valid; start from the first page."
	}
	if q.Limit < 0 || q.Limit > MaxPage {
		fields["limit"] = fmt.Sprintf("Show from 1 to %d events a page.", MaxPage)
	}
	return errs.Fields(fields)
}

func validScope(s Scope) bool {
	for _, x := range Scopes {
		if s == x {
			return true
		}
	}
	return false
}

// Timeline returns one page of a timeline, keyset-paginated on the event id
// (the order events were written in): each page continues after the last
// event of the previous one, so no event is skipped or repeated while new ones
// are written. The caller checks the subject with Describe first.
func Timeline(ctx context.Context, db *gorm.DB, q Query) (*Page, error) {
	if err := q.Validate(); err != nil {
		return nil, err
	}
	limit := q.Limit
	if limit == 0 {
		limit = 50
	}
	if len(q.Queues) == 0 {
		return &Page{}, nil
	}
	var evs []Event
	if err := q.where(db.WithContext(ctx)).Limit(limit + 1).Find(&evs).Error; err != nil {
		return nil, err
	}
	p := &Page{Events: evs}
	if len(evs) > limit {
		p.Events = evs[:limit]
		p.Next = p.Events[limit-1].ID
	}
	return p, nil
}

// Each calls fn for every event of the filtered timeline from q.After on, up
// to ExportLimit events, in one query read row by row (paging would run the
// scope's query once a page: quadratic for a busy user); it returns the cursor
// to continue from when it stopped at the limit (0 when it reached the end).
// fn's error stops it.
func Each(ctx context.Context, db *gorm.DB, q Query, fn func(Event) error) (more int64, err error) {
	q.Limit = 0
	if err := q.Validate(); err != nil {
		return 0, err
	}
	if len(q.Queues) == 0 {
		return 0, nil
	}
	rows, err := q.where(db.WithContext(ctx)).Limit(ExportLimit + 1).Rows()
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	n, last := 0, int64(0)
	for rows.Next() {
		if n == ExportLimit {
			return last, nil
		}
		var e Event
		if err := rows.Scan(&e.ID, &e.At, &e.Actor, &e.Action, &e.ObjectType, &e.ObjectID, &e.Details); err != nil {
			return 0, err
		}
		if err := fn(e); err != nil {
			return 0, err
		}
		n, last = n+1, e.ID
	}
	return 0, rows.Err()
}

// where builds the query: the scope, the viewer's visibility, the filters, the
// order and the cursor.
func (q *Query) where(db *gorm.DB) *gorm.DB {
	id := strconv.FormatInt(q.ID, 10)
	// The columns are named: another migration may add some (the hash chain).
	t := db.Table("audit_events").Select("id, at, actor, action, object_type, object_id, details")
	switch q.Scope {
	case ScopeCase:
		// Reports are audited on their case, except those that joined no case
		// (duplicates of a case-less report, not hosted): by their receipt.
		// Mail is audited on itself; it belongs here when it filed a report now
		// in this case.
		t = t.Where(`(object_type = 'case' AND object_id = ?)
			OR (object_type = 'report' AND object_id IN (SELECT public_id FROM reports WHERE case_id = ?))
			OR (object_type = 'inbound_mail' AND object_id IN (SELECT CAST(mr.inbound_mail_id AS TEXT) FROM inbound_mail_reports mr JOIN reports r ON r.id = mr.report_id WHERE r.case_id = ?))`,
			id, q.ID, q.ID)
	case ScopeUser:
		t = t.Where("actor = ? OR (object_type = 'user' AND object_id = ?)", "user:"+id, id)
	case ScopeCustomer:
		// A strike is audited on the customer; decisions, directives and
		// appeals on the case.
		// Its cases' reports and mail belong here as on the case timeline.
		cs := "SELECT id FROM cases WHERE customer_id = @c OR site_id IN (SELECT id FROM sites WHERE customer_id = @c)"
		t = t.Where(`(object_type = 'customer' AND object_id = @s)
			OR (object_type = 'site' AND object_id IN (SELECT CAST(id AS TEXT) FROM sites WHERE customer_id = @c))
			OR (object_type = 'case' AND object_id IN (SELECT CAST(id AS TEXT) FROM cases WHERE customer_id = @c OR site_id IN (SELECT id FROM sites WHERE customer_id = @c)))
			OR (object_type = 'report' AND object_id IN (SELECT public_id FROM reports WHERE case_id IN (`+cs+`)))
			OR (object_type = 'inbound_mail' AND object_id IN (SELECT CAST(mr.inbound_mail_id AS TEXT) FROM inbound_mail_reports mr JOIN reports r ON r.id = mr.report_id WHERE r.case_id IN (`+cs+`)))`,
			sql.Named("s", id), sql.Named("c", q.ID))
	}
	t = q.visible(t)
	if q.Action != "" {
		t = t.Where(`action LIKE ? ESCAPE '\'`, escapeLike(strings.ToLower(q.Action))+"%")
	}
	if a := q.Actor; a != "" {
		if strings.HasSuffix(a, ":") {
			t = t.Where(`actor LIKE ? ESCAPE '\'`, escapeLike(a)+"%")
		} else {
			t = t.Where("actor = ?", a)
		}
	}
	if q.ObjectType != "" {
		t = t.Where("object_type = ?", q.ObjectType)
	}
	if !q.From.IsZero() {
		t = t.Where("at >= ?", q.From.UTC())
	}
	if !q.To.IsZero() {
		t = t.Where("at < ?", q.To.UTC())
	}
	if q.Oldest {
		if q.After > 0 {
			t = t.Where("id > ?", q.After)
		}
		return t.Order("id")
	}
	if q.After > 0 {
		t = t.Where("id < ?", q.After)
	}
	return t.Order("id DESC")
}

// visible leaves out events about what the viewer may not read: cases in
// other queues (and the strikes their decisions recorded on the customer),
// reports of those cases and, without Restricted, restricted mail and csam
// reports that joined no case. Each test is a primary-key or unique-index
// lookup per event; CASE keeps PostgreSQL from casting an id that is not a
// number.
func (q *Query) visible(t *gorm.DB) *gorm.DB {
	strikeCase := "json_extract(audit_events.details, '$.case')"
	if t.Dialector.Name() == "postgres" {
		strikeCase = "CAST(CAST(audit_events.details AS jsonb) ->> 'case' AS BIGINT)"
	}
	t = t.Where(`NOT EXISTS (SELECT 1 FROM cases hc WHERE hc.id = CASE
			WHEN audit_events.object_type = 'case' THEN CAST(audit_events.object_id AS BIGINT)
			WHEN audit_events.action = 'strike.recorded' THEN `+strikeCase+` END
		AND hc.queue NOT IN ?)`, q.Queues)
	hideReport := "hc.queue NOT IN ?"
	args := []any{q.Queues}
	if !q.Restricted {
		hideReport = "(hr.category = 'csam' OR " + hideReport + ")"
		t = t.Where(`NOT EXISTS (SELECT 1 FROM inbound_mail hm WHERE hm.id = CASE
			WHEN audit_events.object_type = 'inbound_mail' THEN CAST(audit_events.object_id AS BIGINT) END AND hm.restricted)`)
	}
	return t.Where(`NOT EXISTS (SELECT 1 FROM reports hr LEFT JOIN cases hc ON hc.id = hr.case_id
		WHERE audit_events.object_type = 'report' AND hr.public_id = audit_events.object_id AND `+hideReport+`)`, args...)
}

func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

// Detail is one key and value of an event's details, for people.
type Detail struct {
	Key, Value string
}

// DetailList reads an event's JSON details as a list sorted by key: strings as
// they are, anything else as compact JSON. Details that are not a JSON object
// come back whole under the key "details".
func (e Event) DetailList() []Detail {
	var m map[string]json.RawMessage
	if err := json.Unmarshal([]byte(e.Details), &m); err != nil {
		if e.Details == "" {
			return nil
		}
		return []Detail{{"details", e.Details}}
	}
	out := make([]Detail, 0, len(m))
	for k, raw := range m {
		s := string(raw)
		if len(raw) > 0 && raw[0] == '"' {
			_ = json.Unmarshal(raw, &s)
		}
		out = append(out, Detail{k, s})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out
}

// UserNames returns the names of the users among the events' actors and
// objects, by user id, for links that say who.
func UserNames(ctx context.Context, db *gorm.DB, evs []Event) (map[int64]string, error) {
	ids := map[int64]bool{}
	for _, e := range evs {
		if id, ok := UserID(e.Actor); ok {
			ids[id] = true
		}
		if e.ObjectType == "user" {
			if id, err := strconv.ParseInt(e.ObjectID, 10, 64); err == nil {
				ids[id] = true
			}
		}
	}
	out := map[int64]string{}
	if len(ids) == 0 {
		return out, nil
	}
	list := make([]int64, 0, len(ids))
	for id := range ids {
		list = append(list, id)
	}
	var rows []struct {
		ID   int64
		Name string
	}
	err := db.WithContext(ctx).Table("users").Select("id, name").Where("id IN ?", list).Scan(&rows).Error
	for _, r := range rows {
		out[r.ID] = r.Name
	}
	return out, err
}

// UserID reads a "user:<id>" actor.
func UserID(actor string) (int64, bool) {
	s, ok := strings.CutPrefix(actor, "user:")
	if !ok {
		return 0, false
	}
	id, err := strconv.ParseInt(s, 10, 64)
	return id, err == nil && id > 0
}
