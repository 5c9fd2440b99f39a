// Package transparency computes the public transparency report for a period:
// notices received, decisions taken, time to decision, automated help and
// appeals (DSA Art. 15 and 24). Every figure is a plain SQL count over the
// tables the workflow writes, valid on SQLite and PostgreSQL; medians are
// computed here, in Go, over the exact durations, so both databases give the
// same answer for the same rows. The definitions are in Methodology, which the
// page shows as is.
package transparency

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/dockethq/docket/cases"
	"github.com/dockethq/docket/internal/database"
	"github.com/dockethq/docket/internal/errs"
)

// DateLayout is how periods are written in URLs and files: a UTC date.
const DateLayout = "2006-01-02"

// MaxRange is the longest period one report covers; longer ones aggregate too
// many rows for a public, unauthenticated page.
const MaxRange = 5 // years

// Period is [From, To): from midnight UTC of the first day up to, not
// including, midnight UTC of the end date.
type Period struct {
	From, To time.Time
}

// String is "2026-01-01..2026-07-01", the cache key and the file name part.
func (p Period) String() string {
	return p.From.Format(DateLayout) + ".." + p.To.Format(DateLayout)
}

// LastDay is the last day the period includes.
func (p Period) LastDay() time.Time { return p.To.AddDate(0, 0, -1) }

// Default is the year to date: 1 January of now's year (UTC) up to the end of
// today, so today's notices count and the page is never empty in January.
func Default(now time.Time) Period {
	now = now.UTC()
	to := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC).AddDate(0, 0, 1)
	return Period{From: time.Date(now.Year(), 1, 1, 0, 0, 0, 0, time.UTC), To: to}
}

// ParsePeriod reads the from and to query parameters (YYYY-MM-DD, UTC; to is
// exclusive). Without to, the period ends tonight; without from, it starts on
// 1 January of the year of its last day. The errors name the parameter.
func ParsePeriod(from, to string, now time.Time) (Period, error) {
	def := Default(now)
	p := def
	fields := map[string]string{}
	parse := func(name, v string) (time.Time, bool) {
		t, err := time.Parse(DateLayout, v)
		if err != nil {
			fields[name] = fmt.Sprintf("%q is not a date; write it as YYYY-MM-DD, e.g. 2026-01-01.", v)
			return time.Time{}, false
		}
		return t, true
	}
	if to != "" {
		if t, ok := parse("to", to); ok {
			p.To = t
		}
	}
	if from != "" {
		if t, ok := parse("from", from); ok {
			p.From = t
		}
	} else {
		p.From = time.Date(p.To.AddDate(0, 0, -1).Year(), 1, 1, 0, 0, 0, 0, time.UTC)
	}
	if len(fields) > 0 {
		return p, &errs.Error{Code: errs.Invalid, Message: "The period is not valid: " + firstField(fields), Fields: fields}
	}
	switch {
	case !p.To.After(p.From):
		fields["to"] = fmt.Sprintf("The end (%s) must be after the start (%s): the end date is not included.", p.To.Format(DateLayout), p.From.Format(DateLayout))
	case p.To.After(p.From.AddDate(MaxRange, 0, 0)):
		fields["to"] = fmt.Sprintf("A report covers at most %d years; choose an end on or before %s.", MaxRange, p.From.AddDate(MaxRange, 0, 0).Format(DateLayout))
	case p.To.After(def.To):
		fields["to"] = fmt.Sprintf("The end cannot be later than %s (tomorrow): the report does not count the future.", def.To.Format(DateLayout))
	case p.From.Year() < 2000:
		fields["from"] = "The start must be in the year 2000 or later."
	}
	if len(fields) > 0 {
		return p, &errs.Error{Code: errs.Invalid, Message: "The period is not valid: " + firstField(fields), Fields: fields}
	}
	return p, nil
}

func firstField(f map[string]string) string {
	for _, k := range []string{"from", "to"} {
		if m, ok := f[k]; ok {
			return k + ": " + m
		}
	}
	return ""
}

// Count is one labelled figure.
type Count struct {
	Key   string `json:"key"`
	Label string `json:"label"`
	N     int64  `json:"count"`
}

// CategoryRow is the notices about one category, by channel (in Channels
// order) and by source (in Sources order).
type CategoryRow struct {
	Category  string  `json:"category"`
	Label     string  `json:"label"`
	Total     int64   `json:"total"`
	ByChannel []Count `json:"by_channel"`
	BySource  []Count `json:"by_source"`
}

// ActionRow is the decisions of one type, by ground (in Grounds order).
type ActionRow struct {
	Action   string  `json:"action"`
	Label    string  `json:"label"`
	Total    int64   `json:"total"`
	ByGround []Count `json:"by_ground"`
}

// Notices are the reports received in the period.
type Notices struct {
	Total      int64         `json:"total"`
	ByStatus   []Count       `json:"by_status"`
	BySource   []Count       `json:"by_source"`
	ByChannel  []Count       `json:"by_channel"`
	ByCategory []CategoryRow `json:"by_category"`
}

// Median is a median duration over N values; Seconds is nil when N is 0.
type Median struct {
	N       int      `json:"count"`
	Seconds *float64 `json:"seconds"`
}

// Decisions are the decisions that became final in the period.
type Decisions struct {
	Total          int64       `json:"total"` // reinstatements excluded
	ByAction       []ActionRow `json:"by_action"`
	ByGround       []Count     `json:"by_ground"`
	Automated      []Count     `json:"by_automated"`
	AutomatedShare *float64    `json:"automated_share_percent"` // nil without decisions
	Reversed       int64       `json:"later_reversed"`
	Revoked        int64       `json:"later_revoked"`
	Reinstatements int64       `json:"reinstatements"`
	TimeToDecision Median      `json:"median_time_to_decision"`
	TimeToAction   Median      `json:"median_time_to_action"`
}

// Appeals are the appeals received and decided in the period.
type Appeals struct {
	Received     int64   `json:"received"`
	ByAppellant  []Count `json:"received_by_appellant"`
	Upheld       int64   `json:"upheld"`
	Reversed     int64   `json:"reversed"`
	OpenAtEnd    int64   `json:"open_at_end"`
	TimeToDecide Median  `json:"median_time_to_decide"`
}

// Report is the transparency report for one period.
type Report struct {
	From        string    `json:"from"` // YYYY-MM-DD, inclusive
	To          string    `json:"to"`   // YYYY-MM-DD, exclusive
	GeneratedAt time.Time `json:"generated_at"`
	Notices     Notices   `json:"notices"`
	Decisions   Decisions `json:"decisions"`
	Appeals     Appeals   `json:"appeals"`
}

// The dimensions, in the order the report lists them. A value found in the
// database but missing here is appended, so totals always add up.
var (
	Statuses = []Count{{Key: "filed", Label: "Filed into a case"}, {Key: "not_hosted", Label: "Not hosted by us"}, {Key: "duplicate", Label: "Duplicate of an earlier notice"}}
	Sources  = []Count{{Key: "trusted_flagger", Label: "Trusted flaggers"}, {Key: "public", Label: "Public"}, {Key: "network", Label: "Abuse networks (email feeds)"}}
	Channels = []Count{{Key: "web", Label: "Web form"}, {Key: "api", Label: "API"}, {Key: "email", Label: "Email"}}
	Actions  = []Count{{Key: "no_action", Label: "No action"}, {Key: "warn", Label: "Warning"}, {Key: "interstitial", Label: "Interstitial warning page"},
		{Key: "block_url", Label: "URLs blocked"}, {Key: "restrict", Label: "Site restricted"}, {Key: "terminate", Label: "Service terminated"}}
	Grounds    = []Count{{Key: "illegal", Label: "Illegal content (law)"}, {Key: "terms", Label: "Terms of service"}, {Key: "unspecified", Label: "No ground recorded"}}
	Automation = []Count{{Key: "none", Label: "No automated means"}, {Key: "partial", Label: "Partly automated"}, {Key: "full", Label: "Fully automated"}}
	Appellants = []Count{{Key: "customer", Label: "Customers"}, {Key: "reporter", Label: "Reporters"}}
)

// actioning are the decisions that act against a site: time to action is
// measured over these.
var actioning = map[string]bool{"warn": true, "interstitial": true, "block_url": true, "restrict": true, "terminate": true}

// counter accumulates counts by key and lists them in a dimension's order.
type counter map[string]int64

func (c counter) list(dim []Count) []Count {
	out := make([]Count, 0, len(dim))
	seen := map[string]bool{}
	for _, d := range dim {
		out = append(out, Count{Key: d.Key, Label: d.Label, N: c[d.Key]})
		seen[d.Key] = true
	}
	var extra []string
	for k := range c {
		if !seen[k] {
			extra = append(extra, k)
		}
	}
	slices.Sort(extra)
	for _, k := range extra {
		out = append(out, Count{Key: k, Label: k, N: c[k]})
	}
	return out
}

// Compute reads the report for p. now is the generation time it records.
func Compute(ctx context.Context, db *database.DB, p Period, now time.Time) (*Report, error) {
	r := &Report{From: p.From.Format(DateLayout), To: p.To.Format(DateLayout), GeneratedAt: now.UTC().Truncate(time.Second)}
	if err := notices(ctx, db, p, &r.Notices); err != nil {
		return nil, fmt.Errorf("transparency: notices: %w", err)
	}
	if err := decisions(ctx, db, p, &r.Decisions); err != nil {
		return nil, fmt.Errorf("transparency: decisions: %w", err)
	}
	if err := appeals(ctx, db, p, &r.Appeals); err != nil {
		return nil, fmt.Errorf("transparency: appeals: %w", err)
	}
	return r, nil
}

func notices(ctx context.Context, db *database.DB, p Period, n *Notices) error {
	// One pass over the period's reports, grouped by every dimension at once;
	// the breakdowns are sums of these groups.
	var groups []struct {
		Category, Channel, Status, Kind string
		N                               int64
	}
	err := db.R.WithContext(ctx).Raw(`SELECT r.category, r.channel, r.status, rp.kind, COUNT(*) AS n
		FROM reports r JOIN reporters rp ON rp.id = r.reporter_id
		WHERE r.received_at >= ? AND r.received_at < ?
		GROUP BY r.category, r.channel, r.status, rp.kind`, p.From, p.To).Scan(&groups).Error
	if err != nil {
		return err
	}
	status, source, channel := counter{}, counter{}, counter{}
	byCat, catSource := map[string]counter{}, map[string]counter{}
	for _, g := range groups {
		n.Total += g.N
		status[g.Status] += g.N
		source[g.Kind] += g.N
		channel[g.Channel] += g.N
		if byCat[g.Category] == nil {
			byCat[g.Category] = counter{}
		}
		byCat[g.Category][g.Channel] += g.N
		if catSource[g.Category] == nil {
			catSource[g.Category] = counter{}
		}
		catSource[g.Category][g.Kind] += g.N
	}
	n.ByStatus, n.BySource, n.ByChannel = status.list(Statuses), source.list(Sources), channel.list(Channels)
	cats := make([]Count, 0, len(cases.Categories))
	for _, c := range cases.Categories {
		cats = append(cats, Count{Key: string(c.Category), Label: c.Label})
	}
	totals := counter{}
	for k, c := range byCat {
		for _, v := range c {
			totals[k] += v
		}
	}
	for _, c := range totals.list(cats) {
		n.ByCategory = append(n.ByCategory, CategoryRow{Category: c.Key, Label: c.Label, Total: c.N, ByChannel: byCat[c.Key].list(Channels), BySource: catSource[c.Key].list(Sources)})
	}
	return nil
}

// decisionKey is how a decision is listed: a restriction by its measure.
func decisionKey(action, measure string) string {
	if action == "restrict" && measure != "" {
		return measure
	}
	return action
}

func groundKey(g string) string {
	if g == "" {
		return "unspecified"
	}
	return g
}

func decisions(ctx context.Context, db *database.DB, p Period, d *Decisions) error {
	var groups []struct {
		Action, Measure, GroundType, Automated, Status string
		N                                              int64
	}
	err := db.R.WithContext(ctx).Raw(`SELECT action, measure, ground_type, automated, status, COUNT(*) AS n
		FROM decisions WHERE final_at >= ? AND final_at < ?
		GROUP BY action, measure, ground_type, automated, status`, p.From, p.To).Scan(&groups).Error
	if err != nil {
		return err
	}
	byAction := map[string]counter{}
	ground, auto := counter{}, counter{}
	for _, g := range groups {
		if g.Action == string(cases.Reinstate) {
			d.Reinstatements += g.N
			continue
		}
		k := decisionKey(g.Action, g.Measure)
		d.Total += g.N
		if byAction[k] == nil {
			byAction[k] = counter{}
		}
		byAction[k][groundKey(g.GroundType)] += g.N
		ground[groundKey(g.GroundType)] += g.N
		auto[g.Automated] += g.N
		switch g.Status {
		case "reversed":
			d.Reversed += g.N
		case "rejected":
			d.Revoked += g.N
		}
	}
	totals := counter{}
	for k, c := range byAction {
		for _, v := range c {
			totals[k] += v
		}
	}
	for _, a := range totals.list(Actions) {
		d.ByAction = append(d.ByAction, ActionRow{Action: a.Key, Label: a.Label, Total: a.N, ByGround: byAction[a.Key].list(Grounds)})
	}
	d.ByGround, d.Automated = ground.list(Grounds), auto.list(Automation)
	if d.Total > 0 {
		share := Percent(d.Total-auto["none"], d.Total)
		d.AutomatedShare = &share
	}

	// Time to decision: from the first notice of the decision's case to the
	// moment the decision became final.
	type timing struct {
		action, measure  string
		finalAt, firstAt Time
	}
	var times []timing
	err = scanRows(ctx, db, func(sc func(...any) error) error {
		var x timing
		if err := sc(&x.action, &x.measure, &x.finalAt, &x.firstAt); err != nil {
			return err
		}
		times = append(times, x)
		return nil
	}, `SELECT d.action, d.measure, d.final_at,
			(SELECT MIN(r.received_at) FROM reports r WHERE r.case_id = d.case_id) AS first_at
		FROM decisions d WHERE d.final_at >= ? AND d.final_at < ? AND d.action <> ?`, p.From, p.To, cases.Reinstate)
	if err != nil {
		return err
	}
	var all, acted []time.Duration
	for _, t := range times {
		if !t.firstAt.Valid {
			continue // a case without reports (all split away): nothing to measure from
		}
		dur := t.finalAt.T.Sub(t.firstAt.T)
		all = append(all, dur)
		if actioning[decisionKey(t.action, t.measure)] {
			acted = append(acted, dur)
		}
	}
	d.TimeToDecision, d.TimeToAction = MedianOf(all), MedianOf(acted)
	return nil
}

func appeals(ctx context.Context, db *database.DB, p Period, a *Appeals) error {
	var received []struct {
		Appellant string
		N         int64
	}
	err := db.R.WithContext(ctx).Raw(`SELECT appellant, COUNT(*) AS n FROM appeals
		WHERE opened_at >= ? AND opened_at < ? GROUP BY appellant`, p.From, p.To).Scan(&received).Error
	if err != nil {
		return err
	}
	by := counter{}
	for _, r := range received {
		a.Received += r.N
		by[r.Appellant] += r.N
	}
	a.ByAppellant = by.list(Appellants)
	type appealTimes struct {
		state               string
		openedAt, decidedAt Time
	}
	var decided []appealTimes
	err = scanRows(ctx, db, func(sc func(...any) error) error {
		var x appealTimes
		if err := sc(&x.state, &x.openedAt, &x.decidedAt); err != nil {
			return err
		}
		decided = append(decided, x)
		return nil
	}, `SELECT state, opened_at, decided_at FROM appeals
		WHERE decided_at >= ? AND decided_at < ?`, p.From, p.To)
	if err != nil {
		return err
	}
	var durs []time.Duration
	for _, x := range decided {
		switch x.state {
		case "upheld":
			a.Upheld++
		case "reversed":
			a.Reversed++
		}
		durs = append(durs, x.decidedAt.T.Sub(x.openedAt.T))
	}
	a.TimeToDecide = MedianOf(durs)
	err = db.R.WithContext(ctx).Raw(`SELECT COUNT(*) FROM appeals
		WHERE opened_at < ? AND (decided_at IS NULL OR decided_at >= ?)`, p.To, p.To).Scan(&a.OpenAtEnd).Error
	return err
}

// scanRows runs q and calls each with a scan function per row. Rows are
// scanned by database/sql, not gorm, so Time can read either driver's value.
func scanRows(ctx context.Context, db *database.DB, each func(scan func(...any) error) error, q string, args ...any) error {
	rows, err := db.R.WithContext(ctx).Raw(q, args...).Rows()
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		if err := each(rows.Scan); err != nil {
			return err
		}
	}
	return rows.Err()
}

// MedianOf is the median of ds: the middle value, or for an even count the
// mean of the two middle values (rounded toward zero to the nanosecond).
func MedianOf(ds []time.Duration) Median {
	m := Median{N: len(ds)}
	if len(ds) == 0 {
		return m
	}
	s := slices.Clone(ds)
	slices.SortFunc(s, cmp.Compare)
	mid := len(s) / 2
	v := s[mid]
	if len(s)%2 == 0 {
		lo := s[mid-1]
		v = lo + (v-lo)/2
	}
	secs := v.Seconds()
	m.Seconds = &secs
	return m
}

// Percent is 100·n/of rounded to one decimal (half away from zero).
func Percent(n, of int64) float64 {
	if of == 0 {
		return 0
	}
	// Integer arithmetic, so the result does not depend on float rounding of
	// the quotient: tenths of a percent, rounded half up.
	tenths := (n*2000 + of) / (2 * of)
	return float64(tenths) / 10
}

// Time scans a timestamp from either database: PostgreSQL and typed SQLite
// columns give a time.Time, an aggregate over a SQLite column (MIN) gives the
// text the driver wrote.
type Time struct {
	T     time.Time
	Valid bool
}

// sqliteLayouts are the glebarez/go-sqlite formats for times stored as text.
var sqliteLayouts = []string{
	"2006-01-02 15:04:05.999999999-07:00",
	"2006-01-02T15:04:05.999999999-07:00",
	"2006-01-02 15:04:05.999999999",
	"2006-01-02T15:04:05.999999999",
	"2006-01-02T15:04:05.999999999Z07:00",
}

// Scan implements sql.Scanner.
func (t *Time) Scan(v any) error {
	switch x := v.(type) {
	case nil:
		*t = Time{}
		return nil
	case time.Time:
		*t = Time{T: x.UTC(), Valid: true}
		return nil
	case []byte:
		return t.Scan(string(x))
	case string:
		for _, l := range sqliteLayouts {
			if p, err := time.Parse(l, x); err == nil {
				*t = Time{T: p.UTC(), Valid: true}
				return nil
			}
		}
		return fmt.Errorf("transparency: cannot read %q as a time", x)
	}
	return fmt.Errorf("transparency: cannot read a %T as a time", v)
}

// Row is one line of the CSV file: section, key, subkey, value.
type Row struct {
	Section, Key, Subkey, Value string
}

// ID names a figure, "section/key/subkey"; the page marks each figure with it.
func (r Row) ID() string { return r.Section + "/" + r.Key + "/" + r.Subkey }

func i64(n int64) string { return strconv.FormatInt(n, 10) }

func optFloat(f *float64) string {
	if f == nil {
		return ""
	}
	return strconv.FormatFloat(*f, 'f', -1, 64)
}

// Rows flattens the report into the CSV layout (documented in Methodology and
// stable: new figures only ever add rows).
func (r *Report) Rows() []Row {
	var out []Row
	add := func(sec, key, sub, val string) { out = append(out, Row{sec, key, sub, val}) }
	add("period", "from", "", r.From)
	add("period", "to", "", r.To)
	n := r.Notices
	add("notices", "total", "", i64(n.Total))
	for _, c := range n.ByStatus {
		add("notices", "status", c.Key, i64(c.N))
	}
	for _, c := range n.BySource {
		add("notices", "source", c.Key, i64(c.N))
	}
	for _, c := range n.ByChannel {
		add("notices", "channel", c.Key, i64(c.N))
	}
	for _, c := range n.ByCategory {
		add("notices_by_category", c.Category, "total", i64(c.Total))
		for _, ch := range c.ByChannel {
			add("notices_by_category", c.Category, ch.Key, i64(ch.N))
		}
	}
	for _, c := range n.ByCategory {
		for _, src := range c.BySource {
			add("notices_by_category_source", c.Category, src.Key, i64(src.N))
		}
	}
	d := r.Decisions
	add("decisions", "total", "", i64(d.Total))
	for _, c := range d.ByGround {
		add("decisions", "ground", c.Key, i64(c.N))
	}
	for _, c := range d.Automated {
		add("decisions", "automated", c.Key, i64(c.N))
	}
	add("decisions", "automated_share_percent", "", optFloat(d.AutomatedShare))
	add("decisions", "later_reversed", "", i64(d.Reversed))
	add("decisions", "later_revoked", "", i64(d.Revoked))
	add("decisions", "reinstatements", "", i64(d.Reinstatements))
	add("decisions", "median_time_to_decision_seconds", "", optFloat(d.TimeToDecision.Seconds))
	add("decisions", "median_time_to_decision_seconds", "count", strconv.Itoa(d.TimeToDecision.N))
	add("decisions", "median_time_to_action_seconds", "", optFloat(d.TimeToAction.Seconds))
	add("decisions", "median_time_to_action_seconds", "count", strconv.Itoa(d.TimeToAction.N))
	for _, a := range d.ByAction {
		add("decisions_by_action", a.Action, "total", i64(a.Total))
		for _, g := range a.ByGround {
			add("decisions_by_action", a.Action, g.Key, i64(g.N))
		}
	}
	a := r.Appeals
	add("appeals", "received", "", i64(a.Received))
	for _, c := range a.ByAppellant {
		add("appeals", "received_by", c.Key, i64(c.N))
	}
	add("appeals", "upheld", "", i64(a.Upheld))
	add("appeals", "reversed", "", i64(a.Reversed))
	add("appeals", "open_at_end", "", i64(a.OpenAtEnd))
	add("appeals", "median_time_to_decide_seconds", "", optFloat(a.TimeToDecide.Seconds))
	add("appeals", "median_time_to_decide_seconds", "count", strconv.Itoa(a.TimeToDecide.N))
	return out
}

// CSVHeader is the first line of the CSV file.
var CSVHeader = []string{"section", "key", "subkey", "value"}
