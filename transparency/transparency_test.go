package transparency_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/dockethq/docket/cases"
	"github.com/dockethq/docket/internal/database"
	"github.com/dockethq/docket/internal/errs"
	"github.com/dockethq/docket/internal/testdb"
	"github.com/dockethq/docket/transparency"
)

// sqliteTime is how the SQLite driver writes a time.Time; PostgreSQL reads
// the same text as a timestamptz.
const sqliteTime = "2006-01-02 15:04:05.999999999-07:00"

// column is a column to load and its PostgreSQL type (SQLite needs no cast).
type column struct{ name, pgType string }

// load inserts rows into table with one statement per 10,000 rows: the rows
// travel as one JSON array that the database unpacks (json_each on SQLite,
// jsonb_array_elements on PostgreSQL), which takes seconds for 100,000 rows on
// either, where row-by-row inserts would take minutes.
func load(t testing.TB, db *database.DB, table string, cols []column, rows [][]any) {
	t.Helper()
	names := make([]string, len(cols))
	sel := make([]string, len(cols))
	for i, c := range cols {
		names[i] = c.name
		if db.Dialect == database.Postgres {
			sel[i] = fmt.Sprintf("(value->>%d)::%s", i, c.pgType)
		} else {
			sel[i] = fmt.Sprintf("value->>%d", i)
		}
	}
	from := "json_each(?)"
	if db.Dialect == database.Postgres {
		from = "jsonb_array_elements(CAST(? AS jsonb)) AS value"
	}
	q := "INSERT INTO " + table + " (" + strings.Join(names, ", ") + ") SELECT " + strings.Join(sel, ", ") + " FROM " + from
	for start := 0; start < len(rows); start += 10000 {
		batch := rows[start:min(start+10000, len(rows))]
		for _, r := range batch {
			for i, v := range r {
				if tm, ok := v.(time.Time); ok {
					r[i] = tm.UTC().Format(sqliteTime)
				}
			}
		}
		b, err := json.Marshal(batch)
		if err != nil {
			t.Fatal(err)
		}
		if err := db.W.Exec(q, string(b)).Error; err != nil {
			t.Fatalf("load %s: %v", table, err)
		}
	}
}

var (
	userCols     = []column{{"id", "bigint"}, {"email", "text"}, {"name", "text"}, {"password_hash", "text"}, {"created_at", "timestamptz"}}
	reporterCols = []column{{"id", "bigint"}, {"kind", "text"}, {"created_at", "timestamptz"}}
	caseCols     = []column{{"id", "bigint"}, {"group_key", "text"}, {"hostname", "text"}, {"category", "text"}, {"severity", "integer"}, {"priority", "integer"},
		{"queue", "text"}, {"state", "text"}, {"sla_due_at", "timestamptz"}, {"opened_at", "timestamptz"}, {"updated_at", "timestamptz"}}
	reportCols = []column{{"id", "bigint"}, {"public_id", "text"}, {"case_id", "bigint"}, {"reporter_id", "bigint"}, {"channel", "text"}, {"category", "text"},
		{"url", "text"}, {"host", "text"}, {"description", "text"}, {"good_faith", "boolean"}, {"received_at", "timestamptz"}, {"status", "text"}, {"duplicate_of", "bigint"}}
	decisionCols = []column{{"id", "bigint"}, {"case_id", "bigint"}, {"action", "text"}, {"measure", "text"}, {"grounds", "text"}, {"status", "text"},
		{"proposer_id", "bigint"}, {"created_at", "timestamptz"}, {"final_at", "timestamptz"}, {"ground_type", "text"}, {"automated", "text"}}
	appealCols = []column{{"id", "bigint"}, {"case_id", "bigint"}, {"decision_id", "bigint"}, {"appellant", "text"}, {"appellant_key", "text"},
		{"grounds", "text"}, {"state", "text"}, {"reviewer_id", "bigint"}, {"opened_at", "timestamptz"}, {"decided_at", "timestamptz"}}
)

// dataset is what generate wrote, for sanity checks.
type dataset struct {
	reports, cases, decisions, appeals int
}

var (
	spanStart = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	spanEnd   = time.Date(2026, 7, 1, 0, 0, 0, 0, time.UTC)
)

// pick returns one of options by weight.
func pick[T any](r *rand.Rand, options []T, weights []int) T {
	total := 0
	for _, w := range weights {
		total += w
	}
	n := r.IntN(total)
	for i, w := range weights {
		if n < w {
			return options[i]
		}
		n -= w
	}
	return options[len(options)-1]
}

// expSeconds is an exponentially distributed duration with the given mean,
// whole seconds (both databases then store exactly the same instants).
func expSeconds(r *rand.Rand, mean time.Duration) time.Duration {
	return time.Duration(r.ExpFloat64()*mean.Seconds()) * time.Second
}

// generate writes a data set over January 2025 to June 2026: nReports
// notices (filed, not hosted, duplicates) from every kind of reporter and
// channel, cases, decisions of every type, ground and automation, some
// reversed or revoked with their reinstatements, some still proposed, and
// appeals open, upheld and reversed. Some events fall exactly on the
// boundaries of the test periods.
func generate(t testing.TB, db *database.DB, nReports int, seed uint64, boundaries []time.Time) dataset {
	t.Helper()
	r := rand.New(rand.NewPCG(seed, 7))
	span := spanEnd.Sub(spanStart)
	at := func() time.Time {
		return spanStart.Add(time.Duration(r.Int64N(int64(span/time.Second))) * time.Second)
	}
	load(t, db, "users", userCols, [][]any{{1, "reviewer@test.example", "Reviewer", "x", spanStart}})

	kinds := []string{"public", "trusted_flagger", "network"}
	var reporters [][]any
	kindOf := map[int]string{}
	for i := 1; i <= 2000; i++ {
		k := pick(r, kinds, []int{60, 15, 25})
		kindOf[i] = k
		reporters = append(reporters, []any{i, k, spanStart})
	}
	load(t, db, "reporters", reporterCols, reporters)

	nCases := nReports / 4
	type caseInfo struct {
		opened time.Time
		cat    string
		host   string
	}
	cs := make([]caseInfo, nCases+1)
	var caseRows [][]any
	for i := 1; i <= nCases; i++ {
		cat := string(cases.Categories[r.IntN(len(cases.Categories))].Category)
		opened := at()
		if len(boundaries) > 0 && i%997 == 0 {
			opened = boundaries[i%len(boundaries)] // exactly on a boundary
		}
		host := "site" + strconv.Itoa(i) + ".example"
		cs[i] = caseInfo{opened, cat, host}
		caseRows = append(caseRows, []any{i, "host:" + host, host, cat, 50, 50, "general", "closed", opened, opened, opened})
	}
	// A few cases have no report left (all moved away): nothing to measure
	// their decisions' time from.
	empty := map[int]bool{}
	for i := 1; i <= 5; i++ {
		empty[i*101] = true
	}
	load(t, db, "cases", caseCols, caseRows)

	channelFor := func(kind string) string {
		switch kind {
		case "trusted_flagger":
			return pick(r, []string{"api", "web", "email"}, []int{85, 10, 5})
		case "network":
			return pick(r, []string{"email", "api", "web"}, []int{90, 5, 5})
		}
		return pick(r, []string{"web", "email", "api"}, []int{85, 14, 1})
	}
	var reports [][]any
	reportAt := map[int]time.Time{}
	id := 0
	addReport := func(caseID any, cat, host, status string, received time.Time, dupOf any) {
		id++
		rep := 1 + r.IntN(2000)
		reports = append(reports, []any{id, "R" + strconv.Itoa(id), caseID, rep, channelFor(kindOf[rep]), cat, "https://" + host + "/p/" + strconv.Itoa(id), host,
			"generated", true, received, status, dupOf})
		reportAt[id] = received
	}
	for i := 1; i <= nCases; i++ {
		if !empty[i] {
			addReport(i, cs[i].cat, cs[i].host, "filed", cs[i].opened, nil)
		}
	}
	for id < nReports {
		switch n := r.IntN(100); {
		case n < 10:
			cat := string(cases.Categories[r.IntN(len(cases.Categories))].Category)
			addReport(nil, cat, "elsewhere"+strconv.Itoa(r.IntN(5000))+".example", "not_hosted", at(), nil)
		case n < 20:
			orig := 1 + r.IntN(id)
			o := reports[orig-1]
			addReport(nil, o[5].(string), o[7].(string), "duplicate", reportAt[orig].Add(expSeconds(r, 2*time.Hour)), orig)
		default:
			c := 1 + r.IntN(nCases)
			for empty[c] {
				c = 1 + r.IntN(nCases)
			}
			addReport(c, cs[c].cat, cs[c].host, "filed", cs[c].opened.Add(expSeconds(r, 36*time.Hour)), nil)
		}
	}
	load(t, db, "reports", reportCols, reports)

	var decisions, appeals [][]any
	did, aid := 0, 0
	for i := 1; i <= nCases; i++ {
		if r.IntN(100) < 25 {
			continue // still open, or closed without a decision
		}
		did++
		action := pick(r, []string{"no_action", "warn", "restrict", "terminate"}, []int{35, 25, 32, 8})
		measure := ""
		if action == "restrict" {
			measure = pick(r, []string{"", "interstitial", "block_url"}, []int{50, 25, 25})
		}
		ground := pick(r, []string{"illegal", "terms", ""}, []int{40, 50, 10})
		if action == "no_action" {
			ground = ""
		}
		automated := pick(r, []string{"none", "partial", "full"}, []int{80, 15, 5})
		final := cs[i].opened.Add(expSeconds(r, 20*time.Hour))
		if len(boundaries) > 0 && i%1009 == 0 {
			final = boundaries[i%len(boundaries)]
		}
		status := "final"
		var finalAt any = final
		switch n := r.IntN(100); {
		case n < 3:
			status, finalAt = "proposed", nil
		case n < 11:
			status = "reversed"
		case n < 13 && action == "restrict":
			status = "rejected" // an emergency restriction revoked at sign-off
		}
		decisions = append(decisions, []any{did, i, action, measure, "AUP", status, 1, cs[i].opened, finalAt, ground, automated})
		decision := did
		if status == "reversed" && (action == "restrict" || action == "terminate") {
			did++
			re := final.Add(expSeconds(r, 3*24*time.Hour))
			decisions = append(decisions, []any{did, i, "reinstate", "", "Reversal", "final", 1, re, re, "", "none"})
		}
		if status == "proposed" || r.IntN(100) >= 20 {
			continue
		}
		aid++
		appellant, key := "customer", "customer"
		if action == "no_action" {
			appellant, key = "reporter", "reporter:"+strconv.Itoa(1+r.IntN(2000))
		}
		opened := final.Add(expSeconds(r, 2*24*time.Hour))
		state := pick(r, []string{"open", "upheld", "reversed"}, []int{15, 55, 30})
		var decided any
		if state != "open" {
			decided = opened.Add(expSeconds(r, 5*24*time.Hour))
			if len(boundaries) > 0 && aid%211 == 0 {
				decided = boundaries[aid%len(boundaries)]
				if !decided.(time.Time).After(opened) {
					decided = opened.Add(time.Hour)
				}
			}
		}
		appeals = append(appeals, []any{aid, i, decision, appellant, key, "I disagree", state, 1, opened, decided})
	}
	load(t, db, "decisions", decisionCols, decisions)
	load(t, db, "appeals", appealCols, appeals)
	return dataset{reports: len(reports), cases: nCases, decisions: len(decisions), appeals: len(appeals)}
}

// expected computes every figure of the report with queries of its own: one
// count per figure, the medians by ordering the durations in SQL.
func expected(t *testing.T, db *database.DB, p transparency.Period) map[string]string {
	t.Helper()
	want := map[string]string{}
	count := func(q string, args ...any) int64 {
		t.Helper()
		var n int64
		if err := db.R.Raw(q, args...).Scan(&n).Error; err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		return n
	}
	set := func(id string, v int64) { want[id] = strconv.FormatInt(v, 10) }
	from, to := p.From, p.To
	want["period/from/"] = from.Format("2006-01-02")
	want["period/to/"] = to.Format("2006-01-02")

	inPeriod := "received_at >= ? AND received_at < ?"
	set("notices/total/", count("SELECT COUNT(*) FROM reports WHERE "+inPeriod, from, to))
	for _, s := range transparency.Statuses {
		set("notices/status/"+s.Key, count("SELECT COUNT(*) FROM reports WHERE status = ? AND "+inPeriod, s.Key, from, to))
	}
	for _, s := range transparency.Sources {
		set("notices/source/"+s.Key, count("SELECT COUNT(*) FROM reports WHERE reporter_id IN (SELECT id FROM reporters WHERE kind = ?) AND "+inPeriod, s.Key, from, to))
	}
	for _, c := range transparency.Channels {
		set("notices/channel/"+c.Key, count("SELECT COUNT(*) FROM reports WHERE channel = ? AND "+inPeriod, c.Key, from, to))
	}
	for _, cat := range cases.Categories {
		k := string(cat.Category)
		set("notices_by_category/"+k+"/total", count("SELECT COUNT(*) FROM reports WHERE category = ? AND "+inPeriod, k, from, to))
		for _, c := range transparency.Channels {
			set("notices_by_category/"+k+"/"+c.Key, count("SELECT COUNT(*) FROM reports WHERE category = ? AND channel = ? AND "+inPeriod, k, c.Key, from, to))
		}
		for _, s := range transparency.Sources {
			set("notices_by_category_source/"+k+"/"+s.Key, count("SELECT COUNT(*) FROM reports r WHERE r.category = ? AND EXISTS (SELECT 1 FROM reporters p WHERE p.id = r.reporter_id AND p.kind = ?) AND r."+inPeriod, k, s.Key, from, to))
		}
	}

	final := "final_at IS NOT NULL AND final_at >= ? AND final_at < ?"
	total := count("SELECT COUNT(*) FROM decisions WHERE action <> 'reinstate' AND "+final, from, to)
	set("decisions/total/", total)
	groundCond := map[string]string{"illegal": "ground_type = 'illegal'", "terms": "ground_type = 'terms'", "unspecified": "ground_type = ''"}
	for _, g := range transparency.Grounds {
		set("decisions/ground/"+g.Key, count("SELECT COUNT(*) FROM decisions WHERE action <> 'reinstate' AND "+groundCond[g.Key]+" AND "+final, from, to))
	}
	var automated int64
	for _, a := range transparency.Automation {
		n := count("SELECT COUNT(*) FROM decisions WHERE action <> 'reinstate' AND automated = ? AND "+final, a.Key, from, to)
		set("decisions/automated/"+a.Key, n)
		if a.Key != "none" {
			automated += n
		}
	}
	want["decisions/automated_share_percent/"] = ""
	if total > 0 {
		want["decisions/automated_share_percent/"] = strconv.FormatFloat(math.Round(1000*float64(automated)/float64(total))/10, 'f', -1, 64)
	}
	set("decisions/later_reversed/", count("SELECT COUNT(*) FROM decisions WHERE status = 'reversed' AND action <> 'reinstate' AND "+final, from, to))
	set("decisions/later_revoked/", count("SELECT COUNT(*) FROM decisions WHERE status = 'rejected' AND "+final, from, to))
	set("decisions/reinstatements/", count("SELECT COUNT(*) FROM decisions WHERE action = 'reinstate' AND "+final, from, to))
	actionCond := map[string]string{
		"no_action": "action = 'no_action'", "warn": "action = 'warn'", "terminate": "action = 'terminate'",
		"restrict": "action = 'restrict' AND measure = ''", "interstitial": "action = 'restrict' AND measure = 'interstitial'",
		"block_url": "action = 'restrict' AND measure = 'block_url'",
	}
	for _, a := range transparency.Actions {
		set("decisions_by_action/"+a.Key+"/total", count("SELECT COUNT(*) FROM decisions WHERE "+actionCond[a.Key]+" AND "+final, from, to))
		for _, g := range transparency.Grounds {
			set("decisions_by_action/"+a.Key+"/"+g.Key, count("SELECT COUNT(*) FROM decisions WHERE "+actionCond[a.Key]+" AND "+groundCond[g.Key]+" AND "+final, from, to))
		}
	}

	// Medians: the durations in whole seconds, computed and ordered by the
	// database, the middle one or two taken with OFFSET.
	epoch := func(col string) string {
		if db.Dialect == database.Postgres {
			return "CAST(EXTRACT(EPOCH FROM " + col + ") AS BIGINT)"
		}
		return "unixepoch(" + col + ")"
	}
	median := func(id, durations string, args ...any) {
		t.Helper()
		n := count("SELECT COUNT(*) FROM ("+durations+") x", args...)
		want[id+"/count"] = strconv.FormatInt(n, 10)
		want[id+"/"] = ""
		if n == 0 {
			return
		}
		at := func(off int64) int64 {
			return count("SELECT dur FROM ("+durations+") x ORDER BY dur LIMIT 1 OFFSET "+strconv.FormatInt(off, 10), args...)
		}
		v := float64(at(n / 2))
		if n%2 == 0 {
			v = (float64(at(n/2-1)) + v) / 2
		}
		want[id+"/"] = strconv.FormatFloat(v, 'f', -1, 64)
	}
	toDecision := "SELECT " + epoch("d.final_at") + " - " + epoch("f.first") + ` AS dur FROM decisions d
		JOIN (SELECT case_id, MIN(received_at) AS first FROM reports WHERE case_id IS NOT NULL GROUP BY case_id) f ON f.case_id = d.case_id
		WHERE d.action <> 'reinstate' AND d.final_at >= ? AND d.final_at < ?`
	median("decisions/median_time_to_decision_seconds", toDecision, from, to)
	median("decisions/median_time_to_action_seconds", toDecision+" AND d.action IN ('warn', 'restrict', 'terminate')", from, to)

	set("appeals/received/", count("SELECT COUNT(*) FROM appeals WHERE opened_at >= ? AND opened_at < ?", from, to))
	for _, a := range transparency.Appellants {
		set("appeals/received_by/"+a.Key, count("SELECT COUNT(*) FROM appeals WHERE appellant = ? AND opened_at >= ? AND opened_at < ?", a.Key, from, to))
	}
	set("appeals/upheld/", count("SELECT COUNT(*) FROM appeals WHERE state = 'upheld' AND decided_at >= ? AND decided_at < ?", from, to))
	set("appeals/reversed/", count("SELECT COUNT(*) FROM appeals WHERE state = 'reversed' AND decided_at >= ? AND decided_at < ?", from, to))
	set("appeals/open_at_end/", count("SELECT COUNT(*) FROM appeals WHERE opened_at < ? AND NOT (decided_at IS NOT NULL AND decided_at < ?)", to, to))
	median("appeals/median_time_to_decide_seconds", "SELECT "+epoch("decided_at")+" - "+epoch("opened_at")+" AS dur FROM appeals WHERE decided_at >= ? AND decided_at < ?", from, to)
	return want
}

// TestFiguresReconcile computes the report over 100,000 generated notices for
// two periods and checks every figure against independent SQL, on both
// databases.
func TestFiguresReconcile(t *testing.T) {
	periods := []transparency.Period{
		{From: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC), To: time.Date(2025, 7, 1, 0, 0, 0, 0, time.UTC)},
		{From: time.Date(2025, 10, 15, 0, 0, 0, 0, time.UTC), To: time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)},
	}
	var bounds []time.Time
	for _, p := range periods {
		bounds = append(bounds, p.From, p.To, p.To.Add(-time.Second))
	}
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		start := time.Now()
		ds := generate(t, db, 100_000, 42, bounds)
		t.Logf("generated %d reports, %d cases, %d decisions, %d appeals in %s", ds.reports, ds.cases, ds.decisions, ds.appeals, time.Since(start).Round(time.Millisecond))
		if db.Dialect == database.Postgres {
			if err := db.W.Exec("ANALYZE").Error; err != nil {
				t.Fatal(err)
			}
		}
		var totals []string
		for _, p := range periods {
			t0 := time.Now()
			rep, err := transparency.Compute(context.Background(), db, p, time.Now())
			if err != nil {
				t.Fatal(err)
			}
			took := time.Since(t0)
			want := expected(t, db, p)
			got := map[string]string{}
			for _, r := range rep.Rows() {
				if _, dup := got[r.ID()]; dup {
					t.Errorf("%s: figure %s twice", p, r.ID())
				}
				got[r.ID()] = r.Value
			}
			for id, w := range want {
				if g, ok := got[id]; !ok || g != w {
					t.Errorf("%s: %s = %q, independent SQL says %q", p, id, g, w)
				}
			}
			for id := range got {
				if _, ok := want[id]; !ok {
					t.Errorf("%s: figure %s is not checked", p, id)
				}
			}
			// The data set must exercise every kind of figure.
			for _, id := range []string{"notices/status/not_hosted", "notices/status/duplicate", "notices/source/trusted_flagger", "decisions/later_reversed/",
				"decisions/later_revoked/", "decisions/reinstatements/", "decisions_by_action/block_url/illegal", "decisions/automated/full",
				"appeals/upheld/", "appeals/reversed/", "appeals/open_at_end/", "appeals/received_by/reporter"} {
				if n, _ := strconv.Atoi(got[id]); n == 0 {
					t.Errorf("%s: %s is 0: the data set does not test it", p, id)
				}
			}
			t.Logf("%s: %s notices, %s decisions, %s appeals; computed in %s", p, got["notices/total/"], got["decisions/total/"], got["appeals/received/"], took.Round(time.Millisecond))
			totals = append(totals, got["notices/total/"])
		}
		if totals[0] == totals[1] {
			t.Errorf("both periods count %s notices: they should differ", totals[0])
		}
	})
}

// TestMedianOf checks the median on hand-made durations.
func TestMedianOf(t *testing.T) {
	s := func(secs ...float64) []time.Duration {
		var out []time.Duration
		for _, x := range secs {
			out = append(out, time.Duration(x*float64(time.Second)))
		}
		return out
	}
	for _, c := range []struct {
		in   []time.Duration
		want float64
	}{
		{s(5), 5},
		{s(9, 1, 5), 5},
		{s(4, 1, 3, 2), 2.5},
		{s(10, 20), 15},
		{s(1, 2), 1.5},
		{s(7, 7, 7, 100), 7},
		{s(3, 1, 2, 1000, 5), 3},
		{s(0.000001, 0.000002), 0.0000015},
		{s(-4, 2), -1},
	} {
		m := transparency.MedianOf(c.in)
		if m.N != len(c.in) || m.Seconds == nil || *m.Seconds != c.want {
			t.Errorf("MedianOf(%v) = %v (n %d), want %v", c.in, m.Seconds, m.N, c.want)
		}
	}
	if m := transparency.MedianOf(nil); m.N != 0 || m.Seconds != nil {
		t.Errorf("MedianOf(nil) = %+v", m)
	}
}

// TestMediansHandMade checks the medians the report reads from the database,
// on a handful of rows whose answer is worked out by hand: three decisions
// (odd) in January, four (even) in February, appeals likewise.
func TestMediansHandMade(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		day := func(m time.Month, d, h int) time.Time { return time.Date(2026, m, d, h, 0, 0, 0, time.UTC) }
		load(t, db, "users", userCols, [][]any{{1, "r@test.example", "R", "x", day(1, 1, 0)}})
		load(t, db, "reporters", reporterCols, [][]any{{1, "public", day(1, 1, 0)}})
		var cs, reps, ds, aps [][]any
		// case id, first notice, a later notice, decision final, appeal opened, appeal decided
		type row struct {
			first, final, aOpen, aDecided time.Time
		}
		rows := []row{
			{day(1, 1, 0), day(1, 1, 2), day(1, 5, 0), day(1, 5, 1)},  // 2 h; appeal 1 h
			{day(1, 2, 0), day(1, 2, 10), day(1, 6, 0), day(1, 6, 5)}, // 10 h; 5 h
			{day(1, 3, 0), day(1, 3, 4), day(1, 7, 0), day(1, 7, 3)},  // 4 h; 3 h  -> medians 4 h, 3 h
			{day(2, 1, 0), day(2, 1, 1), day(2, 5, 0), day(2, 5, 2)},  // 1 h; 2 h
			{day(2, 2, 0), day(2, 2, 3), day(2, 6, 0), day(2, 6, 4)},  // 3 h; 4 h
			{day(2, 3, 0), day(2, 3, 8), day(2, 7, 0), day(2, 7, 9)},  // 8 h; 9 h
			{day(2, 4, 0), day(2, 5, 0), day(2, 8, 0), day(2, 8, 11)}, // 24 h; 11 h -> medians 5.5 h, 6.5 h
		}
		for i, r := range rows {
			id := i + 1
			cs = append(cs, []any{id, "host:h" + strconv.Itoa(id), "h.example", "spam", 10, 10, "general", "closed", r.first, r.first, r.first})
			reps = append(reps, []any{2*id - 1, "R" + strconv.Itoa(2*id-1), id, 1, "web", "spam", "https://h.example/", "h.example", "x", true, r.first, "filed", nil})
			// A later notice on the same case does not move the start.
			reps = append(reps, []any{2 * id, "R" + strconv.Itoa(2*id), id, 1, "web", "spam", "https://h.example/", "h.example", "x", true, r.first.Add(30 * time.Minute), "filed", nil})
			ds = append(ds, []any{id, id, "warn", "", "AUP", "final", 1, r.first, r.final, "terms", "none"})
			aps = append(aps, []any{id, id, id, "customer", "customer", "no", "upheld", 1, r.aOpen, r.aDecided})
		}
		load(t, db, "cases", caseCols, cs)
		load(t, db, "reports", reportCols, reps)
		load(t, db, "decisions", decisionCols, ds)
		load(t, db, "appeals", appealCols, aps)
		for _, c := range []struct {
			p                     transparency.Period
			decision, appeal      float64
			decisions, appealsRes int
		}{
			{transparency.Period{From: day(1, 1, 0), To: day(2, 1, 0)}, 4 * 3600, 3 * 3600, 3, 3},
			{transparency.Period{From: day(2, 1, 0), To: day(3, 1, 0)}, 5.5 * 3600, 6.5 * 3600, 4, 4},
		} {
			rep, err := transparency.Compute(context.Background(), db, c.p, time.Now())
			if err != nil {
				t.Fatal(err)
			}
			d, a := rep.Decisions.TimeToAction, rep.Appeals.TimeToDecide
			if all := rep.Decisions.TimeToDecision; d.N != c.decisions || d.Seconds == nil || *d.Seconds != c.decision || all.N != d.N || all.Seconds == nil || *all.Seconds != c.decision {
				t.Errorf("%s: time to action %+v, want %v over %d", c.p, d, c.decision, c.decisions)
			}
			if a.N != c.appealsRes || a.Seconds == nil || *a.Seconds != c.appeal {
				t.Errorf("%s: appeal time %+v, want %v over %d", c.p, a, c.appeal, c.appealsRes)
			}
		}
	})
}

// TestParsePeriod checks defaults and the errors.
func TestParsePeriod(t *testing.T) {
	now := time.Date(2026, 12, 2, 7, 0, 0, 0, time.UTC)
	p, err := transparency.ParsePeriod("", "", now)
	if err != nil || p.String() != "2026-01-01..2026-12-03" {
		t.Errorf("default: %s %v", p, err)
	}
	p, err = transparency.ParsePeriod("", "2026-07-01", now)
	if err != nil || p.String() != "2026-01-01..2026-07-01" {
		t.Errorf("to only: %s %v", p, err)
	}
	p, err = transparency.ParsePeriod("2025-07-01", "", now)
	if err != nil || p.String() != "2025-07-01..2026-12-03" {
		t.Errorf("from only: %s %v", p, err)
	}
	for _, c := range []struct{ from, to, field string }{
		{"2026/01/01", "", "from"},
		{"2026-01-01", "tomorrow", "to"},
		{"2026-03-01", "2026-03-01", "to"},
		{"2026-03-01", "2026-02-01", "to"},
		{"2020-01-01", "2025-01-02", "to"},
		{"2026-01-01", "2026-12-04", "to"},
		{"1999-06-01", "2000-01-01", "from"},
	} {
		_, err := transparency.ParsePeriod(c.from, c.to, now)
		e, ok := errs.As(err)
		if !ok || e.Code != errs.Invalid || e.Fields[c.field] == "" || !strings.Contains(e.Message, c.field+":") {
			t.Errorf("ParsePeriod(%q, %q) = %v, want an error on %s", c.from, c.to, err, c.field)
		}
	}
	if _, err := transparency.ParsePeriod("2020-01-01", "2025-01-01", now); err != nil {
		t.Errorf("exactly five years: %v", err)
	}
}

func TestPercent(t *testing.T) {
	for _, c := range []struct {
		n, of int64
		want  float64
	}{{0, 5, 0}, {1, 3, 33.3}, {2, 3, 66.7}, {1, 8, 12.5}, {1, 16, 6.3}, {5, 5, 100}, {1, 2000, 0.1}, {1, 2001, 0}} {
		if got := transparency.Percent(c.n, c.of); got != c.want {
			t.Errorf("Percent(%d, %d) = %v, want %v", c.n, c.of, got, c.want)
		}
	}
}

// TestComputeTime measures Compute on a large generated data set, when
// DOCKET_TRANSPARENCY_REPORTS says how many notices (e.g. 1000000); it is a
// measurement for NOTES, not a check.
func TestComputeTime(t *testing.T) {
	n, _ := strconv.Atoi(os.Getenv("DOCKET_TRANSPARENCY_REPORTS"))
	if n <= 0 {
		t.Skip("set DOCKET_TRANSPARENCY_REPORTS to measure")
	}
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		start := time.Now()
		generate(t, db, n, 1, nil)
		t.Logf("generated %d notices in %s", n, time.Since(start).Round(time.Millisecond))
		if db.Dialect == database.Postgres {
			if err := db.W.Exec("ANALYZE").Error; err != nil {
				t.Fatal(err)
			}
		}
		for _, p := range []transparency.Period{
			{From: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC), To: time.Date(2025, 7, 1, 0, 0, 0, 0, time.UTC)},
			{From: time.Date(2022, 1, 1, 0, 0, 0, 0, time.UTC), To: time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)},
		} {
			t0 := time.Now()
			rep, err := transparency.Compute(context.Background(), db, p, time.Now())
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("%s: %d notices, %d decisions: %s", p, rep.Notices.Total, rep.Decisions.Total, time.Since(t0).Round(time.Millisecond))
		}
	})
}
