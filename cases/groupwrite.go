package cases

// The group transaction's writes as multi-row statements (issue 7). Filing
// one report is about six statements (lock its case, "has this reporter
// reported here before", insert the report, its forward choices, update the
// case, audit); a group of k reports filed one by one is 6k statements, each
// parsed anew by SQLite and built by gorm's reflection. writeGroup files the
// same k reports with the same outcome in a handful: one SELECT locking every
// open case the group joins, one for the earlier reports of its reporters, one
// INSERT for its reports, one for their forward choices, one or two UPDATEs for
// its cases and one INSERT for its audit events. Only what is rare (a new
// reporter row, a new case, a duplicate, a host not served) and the per-report
// hooks still run report by report.

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/dockethq/docket/audit"
	"github.com/dockethq/docket/internal/database"
)

// param is a bind parameter of the given PostgreSQL type. Parameters in
// VALUES lists carry no type on PostgreSQL (they would be text); SQLite needs
// no cast, and a cast would change how it stores a time (as a number).
func (s *Service) param(typ string) string {
	if s.db.Dialect == database.Postgres {
		return "CAST(? AS " + typ + ")"
	}
	return "?"
}

// valuesList is "(row), (row), …" with k copies of row.
func valuesList(row string, k int) string {
	var b strings.Builder
	for i := range k {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(row)
	}
	return b.String()
}

// groupCase is a case the group joins, as its reports leave it.
type groupCase struct {
	c       *Case
	opened  bool // by a report of this group
	rescore bool // priority, rank or queue may have changed
	inputs  *scoreInputs
}

// writeGroup files fs in tx, in order, with the answers writeFiling would give
// filing them one after the other in tx, and returns the events for the
// observers. The per-report hook runs for each report after every report of
// the group is inserted and every case updated; the group's own audit events
// are written last, in report order.
func (s *Service) writeGroup(tx *gorm.DB, fs []filing, ctxs []context.Context) ([]*Report, []Event, error) {
	if err := s.findOriginals(tx, fs); err != nil {
		return nil, nil, err
	}
	reps := make([]*Report, len(fs))
	reporters := make([]Reporter, len(fs))
	var joining []int // the reports that join a case
	for i := range fs {
		reporters[i] = fs[i].reporter
		if reporters[i].ID == 0 {
			if err := tx.Create(&reporters[i]).Error; err != nil {
				return nil, nil, err
			}
		}
		f := &fs[i]
		if f.orig != nil || f.site == nil {
			rep := &Report{}
			if err := s.fileWithoutCase(tx.WithContext(ctxs[i]), rep, f.n, f.target, &reporters[i], f.orig, f.now); err != nil {
				return nil, nil, err
			}
			reps[i] = rep
			continue
		}
		joining = append(joining, i)
	}
	if len(joining) > 0 {
		if err := s.writeJoining(tx, fs, ctxs, reporters, joining, reps); err != nil {
			return nil, nil, err
		}
	}
	events := make([]Event, len(reps))
	for i, rep := range reps {
		events[i] = Event{Action: ActAddReport, Report: rep}
	}
	return reps, events, nil
}

type caseKey struct {
	group    string
	category Category
}

func siteGroupKey(site *Site) string { return "site:" + strconv.FormatInt(site.ID, 10) }

// writeJoining files the reports fs[joining] (each with a site, none a
// duplicate) into their open cases.
func (s *Service) writeJoining(tx *gorm.DB, fs []filing, ctxs []context.Context, reporters []Reporter, joining []int, reps []*Report) error {
	cases, err := s.lockOpenCases(tx, fs, joining)
	if err != nil {
		return err
	}
	// Cases to open, in the order of their keys, so two groups at once
	// (PostgreSQL) wait for each other's new cases in the same order.
	var missing []int
	seenKey := map[caseKey]bool{}
	for _, i := range joining {
		k := caseKey{siteGroupKey(fs[i].site), fs[i].n.Category}
		if cases[k] == nil && !seenKey[k] {
			seenKey[k] = true
			missing = append(missing, i)
		}
	}
	sort.Slice(missing, func(a, b int) bool {
		ka, kb := fs[missing[a]], fs[missing[b]]
		return siteGroupKey(ka.site)+" "+string(ka.n.Category) < siteGroupKey(kb.site)+" "+string(kb.n.Category)
	})
	for _, i := range missing {
		f := &fs[i]
		c, opened, err := openCase(tx, f.site, f.target.Host, f.info, f.now)
		if err != nil {
			return err
		}
		cases[caseKey{siteGroupKey(f.site), f.n.Category}] = &groupCase{c: c, opened: opened}
	}
	for _, gc := range cases {
		if _, err := Next(gc.c.State, ActAddReport); err != nil {
			return err // cannot happen: only open cases are selected
		}
	}

	// Which reporters reported in these cases before this group.
	keys := make([]string, len(fs))
	type pair struct {
		caseID int64
		key    string
	}
	var ask []pair
	asked := map[pair]bool{}
	for _, i := range joining {
		keys[i] = reporterKey(&reporters[i])
		gc := cases[caseKey{siteGroupKey(fs[i].site), fs[i].n.Category}]
		p := pair{gc.c.ID, keys[i]}
		if !gc.opened && !asked[p] {
			asked[p] = true
			ask = append(ask, p)
		}
	}
	seen := map[pair]bool{}
	if len(ask) > 0 {
		// One index entry per pair (reports_case_reporter_idx), however
		// many reports the reporter has in the case.
		args := make([]any, 0, 2*len(ask))
		for _, p := range ask {
			args = append(args, p.caseID, p.key)
		}
		q := "SELECT v.column1 AS case_id, v.column2 AS reporter_key FROM (VALUES " +
			valuesList("("+s.param("BIGINT")+", "+s.param("TEXT")+")", len(ask)) + ") AS v " +
			"WHERE EXISTS (SELECT 1 FROM reports WHERE reports.case_id = v.column1 AND reports.reporter_key = v.column2)"
		var rows []struct {
			CaseID      int64
			ReporterKey string
		}
		if err := tx.Raw(q, args...).Scan(&rows).Error; err != nil {
			return fmt.Errorf("earlier reports: %w", err)
		}
		for _, r := range rows {
			seen[pair{r.CaseID, r.ReporterKey}] = true
		}
	}

	// The reports, one after the other, as writeFiling would file them.
	var rules []QueueRule
	rulesRead := false
	var evs []audit.Event
	var order []*groupCase // cases in the order first joined
	firstOpened := map[*groupCase]bool{}
	for _, i := range joining {
		f := &fs[i]
		n, now := f.n, f.now
		gc := cases[caseKey{siteGroupKey(f.site), n.Category}]
		c := gc.c
		if !firstOpened[gc] {
			firstOpened[gc] = true
			order = append(order, gc)
		}
		// Only the first report of a case the group opened opened it.
		opened := gc.opened && c.ReportCount == 0
		rep := &Report{
			PublicID: newPublicID(now), CaseID: c.ID, ReporterID: reporters[i].ID, Channel: n.Channel,
			Category: n.Category, URL: f.target.URL, Host: f.target.Host, Description: n.Description,
			GoodFaith: n.GoodFaith, ReceivedAt: now.Truncate(time.Microsecond), ReporterKey: keys[i], Status: ReportFiled,
			Details: encodeDetails(n.Details), SubmissionID: n.SubmissionID, CaseState: c.State,
			SiteID: &f.site.ID, Forward: n.Forward,
		}
		reps[i] = rep
		p := pair{c.ID, keys[i]}
		before := seen[p]
		seen[p] = true
		c.ReportCount++
		if !before {
			c.ReporterCount++
		}
		if n.ReporterKind == ReporterTrustedFlagger {
			c.FlaggerReportCount++
		}
		queueBefore := c.Queue
		if !before || (n.ReporterKind == ReporterTrustedFlagger && c.FlaggerReportCount == 1) || opened {
			// What rescore reads does not change within the group: read
			// once per case (the customer) and once per group (the rules).
			if gc.inputs == nil {
				in, err := loadScoreInputs(tx, c)
				if err != nil {
					return err
				}
				gc.inputs = &in
			}
			if !rulesRead {
				if rules, err = loadRules(tx); err != nil {
					return err
				}
				rulesRead = true
			}
			applyScore(c, *gc.inputs, rules)
			gc.rescore = true
		}
		c.UpdatedAt = now
		if !opened {
			c.Version++
		}
		actor := "reporter:" + strconv.FormatInt(reporters[i].ID, 10)
		caseID := strconv.FormatInt(c.ID, 10)
		ev := func(action string, details map[string]any) error {
			b, err := json.Marshal(details)
			if err != nil {
				return fmt.Errorf("audit %s: %w", action, err)
			}
			evs = append(evs, audit.Event{At: now.UTC(), Actor: actor, Action: action, ObjectType: "case", ObjectID: caseID, Details: string(b)})
			return nil
		}
		if opened {
			if err := ev("case.opened", map[string]any{"hostname": c.Hostname, "category": c.Category, "queue": c.Queue}); err != nil {
				return err
			}
		} else if c.Queue != queueBefore {
			if err := ev("case.rerouted", map[string]any{"from": queueBefore, "to": c.Queue}); err != nil {
				return err
			}
		}
		if err := ev("report.filed", map[string]any{"report": rep.PublicID, "channel": rep.Channel, "url": rep.URL}); err != nil {
			return err
		}
	}

	if err := s.insertReports(tx, joining, reps); err != nil {
		return err
	}
	// The forward choices as saveForwardChoices writes them, one row per
	// report and recipient (gorm's Create of these rows cost a third of
	// the group's time in reflection).
	args := make([]any, 0, 3*len(joining)*len(Recipients))
	for _, i := range joining {
		for _, r := range Recipients {
			args = append(args, reps[i].ID, string(r), string(reps[i].Forward.For(r)))
		}
	}
	q := "INSERT INTO forward_choices (report_id, recipient, choice) VALUES " + valuesList("(?, ?, ?)", len(joining)*len(Recipients))
	if err := tx.Exec(q, args...).Error; err != nil {
		return fmt.Errorf("forward choices: %w", err)
	}
	if err := s.updateCases(tx, order); err != nil {
		return err
	}
	if s.onReport != nil {
		for _, i := range joining {
			// With the request's context (its request id, for the
			// hooks' logs and jobs), in the group's transaction.
			if err := s.onReport(tx.WithContext(ctxs[i]), reps[i], &reporters[i]); err != nil {
				return err
			}
		}
	}
	return audit.RecordAll(tx, evs)
}

// lockOpenCases selects, locked for update in the order of their ids, the open
// cases the reports fs[joining] join (one per site and category; the partial
// unique index cases_one_open_per_group answers, its predicate written out so
// that SQLite sees it applies).
func (s *Service) lockOpenCases(tx *gorm.DB, fs []filing, joining []int) (map[caseKey]*groupCase, error) {
	var args []any
	want := map[caseKey]bool{}
	for _, i := range joining {
		k := caseKey{siteGroupKey(fs[i].site), fs[i].n.Category}
		if !want[k] {
			want[k] = true
			args = append(args, k.group, string(k.category))
		}
	}
	q := "SELECT * FROM cases WHERE (group_key, category) IN (VALUES " + valuesList("(?, ?)", len(want)) +
		") AND state <> 'closed' ORDER BY id"
	if s.db.Dialect == database.Postgres {
		q += " FOR UPDATE"
	}
	var open []Case
	if err := tx.Raw(q, args...).Scan(&open).Error; err != nil {
		return nil, fmt.Errorf("lock open cases: %w", err)
	}
	cases := make(map[caseKey]*groupCase, len(want))
	for i := range open {
		cases[caseKey{open[i].GroupKey, open[i].Category}] = &groupCase{c: &open[i]}
	}
	return cases, nil
}

// reportColumns are the columns insertReports writes, in the order of
// reportArgs.
const reportColumns = "public_id, case_id, reporter_id, channel, category, url, host, site_id, description, good_faith, received_at, reporter_key, status, details, submission_id"

func reportArgs(r *Report) []any {
	return []any{r.PublicID, r.CaseID, r.ReporterID, string(r.Channel), string(r.Category), r.URL, r.Host, r.SiteID,
		r.Description, r.GoodFaith, r.ReceivedAt, r.ReporterKey, string(r.Status), r.Details, r.SubmissionID}
}

// insertReports inserts reps[joining] in one statement and sets their ids,
// matched by receipt id (the order of RETURNING rows is not promised).
func (s *Service) insertReports(tx *gorm.DB, joining []int, reps []*Report) error {
	row := "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
	args := make([]any, 0, 15*len(joining))
	for _, i := range joining {
		args = append(args, reportArgs(reps[i])...)
	}
	var ids []struct {
		ID       int64
		PublicID string
	}
	q := "INSERT INTO reports (" + reportColumns + ") VALUES " + valuesList(row, len(joining)) + " RETURNING id, public_id"
	if err := tx.Raw(q, args...).Scan(&ids).Error; err != nil {
		return fmt.Errorf("insert reports: %w", err)
	}
	if len(ids) != len(joining) {
		return fmt.Errorf("insert reports: %d ids for %d reports", len(ids), len(joining))
	}
	byReceipt := make(map[string]int64, len(ids))
	for _, r := range ids {
		byReceipt[r.PublicID] = r.ID
	}
	for _, i := range joining {
		id, ok := byReceipt[reps[i].PublicID]
		if !ok {
			return fmt.Errorf("insert reports: no id for %s", reps[i].PublicID)
		}
		reps[i].ID = id
	}
	return nil
}

// updateCases writes the counts (and, where the group rescored the case, the
// priority, rank and queue) of the cases in one statement each: only the
// columns that can have changed, so SQLite leaves the queue indexes alone for a
// report that changed no score.
func (s *Service) updateCases(tx *gorm.DB, cs []*groupCase) error {
	var counts, scored []*groupCase
	for _, gc := range cs {
		if gc.rescore {
			scored = append(scored, gc)
		} else {
			counts = append(counts, gc)
		}
	}
	i, t, ts := s.param("BIGINT"), s.param("TEXT"), s.param("TIMESTAMPTZ")
	if len(counts) > 0 {
		args := make([]any, 0, 6*len(counts))
		for _, gc := range counts {
			c := gc.c
			args = append(args, c.ID, c.ReportCount, c.ReporterCount, c.FlaggerReportCount, c.Version, c.UpdatedAt)
		}
		q := "UPDATE cases SET report_count = v.column2, reporter_count = v.column3, flagger_report_count = v.column4, " +
			"version = v.column5, updated_at = v.column6 FROM (VALUES " +
			valuesList("("+strings.Join([]string{i, i, i, i, i, ts}, ", ")+")", len(counts)) + ") AS v WHERE cases.id = v.column1"
		if err := tx.Exec(q, args...).Error; err != nil {
			return fmt.Errorf("update cases: %w", err)
		}
	}
	if len(scored) > 0 {
		args := make([]any, 0, 10*len(scored))
		for _, gc := range scored {
			c := gc.c
			args = append(args, c.ID, c.ReportCount, c.ReporterCount, c.FlaggerReportCount, c.PriorActions,
				c.Priority, c.QueueRank, c.Queue, c.Version, c.UpdatedAt)
		}
		q := "UPDATE cases SET report_count = v.column2, reporter_count = v.column3, flagger_report_count = v.column4, " +
			"prior_actions = v.column5, priority = v.column6, queue_rank = v.column7, queue = v.column8, " +
			"version = v.column9, updated_at = v.column10 FROM (VALUES " +
			valuesList("("+strings.Join([]string{i, i, i, i, i, i, i, t, i, ts}, ", ")+")", len(scored)) + ") AS v WHERE cases.id = v.column1"
		if err := tx.Exec(q, args...).Error; err != nil {
			return fmt.Errorf("update cases: %w", err)
		}
	}
	return nil
}

// findOriginals is findOriginal for every report of fs whose check was left
// to the group (dupLater), in one statement: reports_dedup_url_idx answers
// each (reporter, URL, category) with one index range.
func (s *Service) findOriginals(tx *gorm.DB, fs []filing) error {
	var at []int
	var args []any
	for i := range fs {
		f := &fs[i]
		if !f.dupLater {
			continue
		}
		f.dupLater = false
		if !s.checksDuplicates(&f.reporter) {
			continue
		}
		at = append(at, i)
		args = append(args, len(at)-1, knownReporterKey(&f.reporter), f.target.URL, string(f.n.Category), f.target.Host, f.now.Add(-s.dupWindow))
	}
	if len(at) == 0 {
		return nil
	}
	row := "(" + strings.Join([]string{s.param("BIGINT"), s.param("TEXT"), s.param("TEXT"), s.param("TEXT"), s.param("TEXT"), s.param("TIMESTAMPTZ")}, ", ") + ")"
	q := "SELECT v.column1 AS i, reports.id, reports.public_id, reports.case_id, reports.site_id FROM (VALUES " + valuesList(row, len(at)) + ") AS v " +
		"JOIN reports ON reports.reporter_key = v.column2 AND reports.url = v.column3 AND reports.category = v.column4 " +
		"AND reports.host = v.column5 AND reports.received_at >= v.column6 " +
		"WHERE reports.duplicate_of IS NULL ORDER BY v.column1, reports.received_at, reports.id"
	var rows []struct {
		I        int
		ID       int64
		PublicID string
		CaseID   *int64
		SiteID   *int64
	}
	if err := tx.Raw(q, args...).Scan(&rows).Error; err != nil {
		return fmt.Errorf("find originals: %w", err)
	}
	for _, r := range rows {
		f := &fs[at[r.I]]
		if f.orig != nil {
			continue // a later one: the first is the original
		}
		f.orig = &Report{ID: r.ID, PublicID: r.PublicID, SiteID: r.SiteID}
		if r.CaseID != nil {
			f.orig.CaseID = *r.CaseID
		}
	}
	return nil
}
