// Package benchgen bulk-loads a large, realistic Docket data set for benchmarks:
// customers and their sites, reporters, cases in every state and the reports
// that made them, with the counters, priorities, queue ranks, versions, reporter
// keys, decisions, notes and audit events that filing those reports through
// cases.FileReport and working them through the workflow would have left.
//
// It writes with multi-row INSERTs in large transactions on SQLite and with COPY
// on PostgreSQL, and it never creates users: staff actions (claims, notes,
// decisions) are attributed to the users already in the database.
package benchgen

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"math/rand/v2"
	"slices"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/oklog/ulid/v2"

	"github.com/dockethq/docket/audit"
	"github.com/dockethq/docket/cases"
	"github.com/dockethq/docket/internal/database"
)

// Options size the data set. Zero values take the defaults.
type Options struct {
	Cases     int // default 200,000
	Reports   int // default 1,000,000; at least Cases (every case has a report)
	Customers int // default Cases/10
	Sites     int // default Cases/4, at least Customers

	// State mix of cases (weights; the defaults are closed 75, decided 10, open 15).
	// Open cases split new 62%, in review 31%, appealed 5.5%, pending sign-off 1.5%.
	ClosedShare, DecidedShare, OpenShare float64

	Seed     int64     // same seed, same data
	Now      time.Time // the data set's "now"; default time.Now
	Progress io.Writer // progress lines; nil for none
}

func (o *Options) defaults() error {
	if o.Cases <= 0 {
		o.Cases = 200_000
	}
	if o.Reports <= 0 {
		o.Reports = 5 * o.Cases
	}
	if o.Reports < o.Cases {
		return fmt.Errorf("benchgen: %d reports cannot fill %d cases: every case has at least one report", o.Reports, o.Cases)
	}
	if o.Customers <= 0 {
		o.Customers = max(o.Cases/10, 1)
	}
	if o.Sites <= 0 {
		o.Sites = max(o.Cases/4, 1)
	}
	o.Sites = max(o.Sites, o.Customers)
	if o.ClosedShare+o.DecidedShare+o.OpenShare <= 0 {
		o.ClosedShare, o.DecidedShare, o.OpenShare = 75, 10, 15
	}
	if o.Now.IsZero() {
		o.Now = time.Now()
	}
	o.Now = o.Now.UTC().Truncate(time.Second)
	if o.Progress == nil {
		o.Progress = io.Discard
	}
	return nil
}

// Result says what was written and how long it took.
type Result struct {
	Rows              map[string]int64 // per table
	Plan, Write, Post time.Duration    // building the data set in memory, writing it, sequences and VACUUM ANALYZE (PostgreSQL)
	Total             time.Duration
	OpenCases         int
	LargestCase       int32 // most reports on one case
}

// RowsTotal is the number of rows written over all tables.
func (r *Result) RowsTotal() int64 {
	var n int64
	for _, v := range r.Rows {
		n += v
	}
	return n
}

// Tables is every table Generate writes, in foreign-key order.
var Tables = []string{"customers", "sites", "cases", "reporters", "reports", "decisions", "signoffs", "directives", "directive_hosts", "hostname_versions", "notes", "audit_events"}

// idTables have integer ids from a sequence.
var idTables = []string{"customers", "sites", "cases", "reporters", "reports", "decisions", "signoffs", "notes", "audit_events"}

// Generate writes the data set into db, after whatever is already there (ids
// continue from each table's largest). The database must be migrated.
func Generate(ctx context.Context, db *database.DB, o Options) (*Result, error) {
	if err := o.defaults(); err != nil {
		return nil, err
	}
	start := time.Now()
	logf := func(format string, args ...any) {
		fmt.Fprintf(o.Progress, "benchgen: %6.1fs  "+format+"\n", append([]any{time.Since(start).Seconds()}, args...)...)
	}
	var staff []int64
	if err := db.R.WithContext(ctx).Table("users").Where("disabled = ?", false).Order("id").Pluck("id", &staff).Error; err != nil {
		return nil, fmt.Errorf("benchgen: list staff: %w", err)
	}
	// Who holds the sign-off roles: terminations are signed off by them.
	var grants []struct{ V0, V1 string }
	if err := db.R.WithContext(ctx).Table("casbin_rule").Select("v0, v1").Where("ptype = 'g' AND v0 LIKE 'user:%'").Scan(&grants).Error; err != nil {
		return nil, fmt.Errorf("benchgen: roles: %w", err)
	}
	roles := map[int64][]string{}
	for _, g := range grants {
		if id, err := strconv.ParseInt(g.V0[len("user:"):], 10, 64); err == nil {
			roles[id] = append(roles[id], g.V1)
		}
	}
	var rules []cases.QueueRule
	if err := db.R.WithContext(ctx).Order("position, id").Find(&rules).Error; err != nil {
		return nil, fmt.Errorf("benchgen: queue rules: %w", err)
	}
	base := map[string]int64{}
	for _, t := range idTables {
		var n int64
		if err := db.R.WithContext(ctx).Raw("SELECT COALESCE(MAX(id), 0) FROM " + t).Scan(&n).Error; err != nil {
			return nil, fmt.Errorf("benchgen: %s: %w", t, err)
		}
		base[t] = n + 1
	}
	if len(staff) == 0 {
		logf("no users in the database: cases get states but no claims, notes or decisions")
	}

	logf("planning %d customers, %d sites, %d cases, %d reports (seed %d)", o.Customers, o.Sites, o.Cases, o.Reports, o.Seed)
	p := newPlan(o, staff, roles, rules)
	res := &Result{Rows: map[string]int64{}, Plan: time.Since(start)}
	for i := range p.cases {
		p.cases[i].id = base["cases"] + int64(i)
		if p.cases[i].state.Open() {
			res.OpenCases++
		}
		res.LargestCase = max(res.LargestCase, p.cases[i].reports)
	}
	logf("planned: %d open cases, largest case %d reports, %d decisions, %d sign-offs, %d notes, %d workflow events",
		res.OpenCases, res.LargestCase, len(p.decisions), len(p.signoffs), len(p.notes), len(p.events))

	var head struct {
		Seq  int64
		Hash string
	}
	if err := db.R.WithContext(ctx).Raw(`SELECT seq, hash FROM audit_chain WHERE log = ?`, audit.Log).Scan(&head).Error; err != nil {
		return nil, fmt.Errorf("benchgen: audit chain: %w", err)
	}
	p.auditSeq, p.auditHash = head.Seq, head.Hash

	t0 := time.Now()
	var err error
	switch db.Dialect {
	case database.Postgres:
		err = withPgx(ctx, db.SQL(), func(c *pgx.Conn) error {
			return p.write(ctx, &writer{ld: &pgLoader{conn: c}, batch: 20000, perCommit: 1 << 62}, base, res, logf)
		})
	default:
		err = writeSQLite(ctx, db, p, base, res, logf)
	}
	if err != nil {
		return res, err
	}
	// Nothing else writes while the set loads: the head moves to its end.
	if err := db.W.WithContext(ctx).Exec(`UPDATE audit_chain SET seq = ?, hash = ? WHERE log = ?`, p.auditSeq, p.auditHash, audit.Log).Error; err != nil {
		return res, fmt.Errorf("benchgen: audit chain head: %w", err)
	}
	res.Write = time.Since(t0)
	logf("wrote %d rows in %s (%.0f rows/s)", res.RowsTotal(), res.Write.Round(time.Millisecond), float64(res.RowsTotal())/res.Write.Seconds())

	t0 = time.Now()
	if db.Dialect == database.Postgres {
		// Explicit ids do not move the sequences; the app's next insert would collide.
		for _, t := range idTables {
			if err := db.W.WithContext(ctx).Exec("SELECT setval(pg_get_serial_sequence('" + t + "', 'id'), (SELECT MAX(id) FROM " + t + "))").Error; err != nil {
				return res, fmt.Errorf("benchgen: sequence of %s: %w", t, err)
			}
		}
		// Autovacuum would vacuum and analyze the new rows within minutes; do it
		// now, so measurements see the steady state (statistics for the planner,
		// a visibility map for index-only scans) rather than a freshly loaded heap.
		for _, t := range Tables {
			if err := db.W.WithContext(ctx).Exec("VACUUM (ANALYZE) " + t).Error; err != nil {
				return res, fmt.Errorf("benchgen: vacuum %s: %w", t, err)
			}
		}
	}
	res.Post = time.Since(t0)
	res.Total = time.Since(start)
	logf("done in %s", res.Total.Round(time.Millisecond))
	return res, nil
}

// writeSQLite loads through the single writer connection with bulk-load settings
// (no fsync, a large page cache, foreign keys checked by construction rather than
// per row) and restores the connection's settings afterwards.
func writeSQLite(ctx context.Context, db *database.DB, p *plan, base map[string]int64, res *Result, logf func(string, ...any)) (err error) {
	conn, err := db.SQL().Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	for _, q := range []string{"PRAGMA foreign_keys = OFF", "PRAGMA synchronous = OFF", "PRAGMA cache_size = -262144", "PRAGMA temp_store = MEMORY"} {
		if _, err := conn.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("benchgen: %s: %w", q, err)
		}
	}
	defer func() {
		for _, q := range []string{"PRAGMA cache_size = -2000", "PRAGMA temp_store = DEFAULT", "PRAGMA synchronous = NORMAL", "PRAGMA foreign_keys = ON", "PRAGMA wal_checkpoint(TRUNCATE)"} {
			if _, e := conn.ExecContext(context.Background(), q); e != nil && err == nil {
				err = fmt.Errorf("benchgen: %s: %w", q, e)
			}
		}
	}()
	ld := &sqliteLoader{conn: conn, stmts: map[string]*sql.Stmt{}}
	defer ld.close()
	if err := ld.begin(ctx); err != nil {
		return err
	}
	if err := p.write(ctx, &writer{ld: ld, batch: 4000, perCommit: 250_000}, base, res, logf); err != nil {
		ld.rollback()
		return err
	}
	return ld.commit(ctx)
}

// write emits every row: customers and sites, the cases (with their final
// counters), then reporters, reports and audit events in time order, with the
// workflow's decisions and notes.
func (p *plan) write(ctx context.Context, w *writer, base map[string]int64, res *Result, logf func(string, ...any)) error {
	r := rand.New(rand.NewPCG(uint64(p.opts.Seed), 0x7772697465))
	entropy := rand.NewChaCha8([32]byte{byte(p.opts.Seed), byte(p.opts.Seed >> 8), 'd', 'o', 'c', 'k', 'e', 't'})
	ts := func(sec int64) time.Time { return time.Unix(sec, 0).UTC() }
	null := func(sec int64) any {
		if sec == 0 {
			return nil
		}
		return ts(sec)
	}
	var auditID = base["audit_events"]

	customers := w.table("customers", "id", "name", "plan", "contact_email", "status", "created_at")
	sites := w.table("sites", "id", "customer_id", "hostname", "registrable_domain", "created_at")
	casesT := w.table("cases", "id", "group_key", "site_id", "customer_id", "hostname", "category", "severity", "priority",
		"queue", "state", "assignee_id", "claim_expires_at", "report_count", "flagger_report_count", "sla_due_at",
		"opened_at", "updated_at", "closed_at", "version", "queue_rank", "reporter_count", "prior_actions",
		"escalated_at", "close_reason")
	reporters := w.table("reporters", "id", "kind", "name", "email", "created_at")
	reports := w.table("reports", "id", "public_id", "case_id", "reporter_id", "channel", "category", "url", "host",
		"site_id", "description", "good_faith", "received_at", "reporter_key")
	decisions := w.table("decisions", "id", "case_id", "action", "grounds", "explanation", "status", "proposer_id", "created_at", "final_at", "hostnames", "evidence")
	signoffs := w.table("signoffs", "id", "decision_id", "case_id", "role", "user_id", "verdict", "comment", "created_at")
	directives := w.table("directives", "id", "type", "version", "customer_id", "hostnames", "case_id", "decision_id", "reason_code", "issued_at", "status")
	dirHosts := w.table("directive_hosts", "directive_id", "hostname", "version")
	versions := w.table("hostname_versions", "hostname", "version")
	notes := w.table("notes", "id", "case_id", "author_id", "body", "created_at")
	auditT := w.table("audit_events", "id", "at", "actor", "action", "object_type", "object_id", "details", "seq", "prev_hash", "hash")

	record := func(at int64, actor, action, objType, objID string, details map[string]any) error {
		b, err := json.Marshal(details)
		if err != nil {
			return err
		}
		// Chained as audit.Record would, so `docket audit verify` passes on the set.
		p.auditSeq++
		e := audit.Event{ID: auditID, At: ts(at), Actor: actor, Action: action, ObjectType: objType, ObjectID: objID,
			Details: string(b), Seq: p.auditSeq, PrevHash: p.auditHash}
		e.Hash = audit.HashEvent(e.PrevHash, e)
		p.auditHash = e.Hash
		err = w.add(ctx, auditT, auditID, e.At, actor, action, objType, objID, e.Details, e.Seq, e.PrevHash, e.Hash)
		auditID++
		return err
	}
	const actor = "system:benchgen"

	for i, c := range p.customers {
		id := base["customers"] + int64(i)
		name := customerName(i)
		if err := w.add(ctx, customers, id, name, plans[c.plan], "abuse@customer"+itoa(id)+".example", c.status, ts(c.created)); err != nil {
			return err
		}
		if err := record(c.created, actor, "customer.created", "customer", itoa(id), map[string]any{"name": name, "plan": plans[c.plan]}); err != nil {
			return err
		}
	}
	for i, s := range p.sites {
		id, cu := base["sites"]+int64(i), base["customers"]+int64(s.customer)
		if err := w.add(ctx, sites, id, cu, s.host, s.apex, ts(s.created)); err != nil {
			return err
		}
		if err := record(s.created, actor, "site.created", "site", itoa(id), map[string]any{"hostname": s.host, "customer": cu}); err != nil {
			return err
		}
	}
	staffID := func(k int32) any {
		if k < 0 {
			return nil
		}
		return p.staff[k]
	}
	for i := range p.cases {
		c := &p.cases[i]
		info := c.info()
		var siteID, custID any
		if c.site >= 0 {
			siteID, custID = base["sites"]+int64(c.site), base["customers"]+int64(p.sites[c.site].customer)
		}
		rank := int64(c.priority)*int64(6*time.Hour/time.Second) - c.opened
		err := w.add(ctx, casesT, c.id, c.groupKey(base["sites"]), siteID, custID, c.host, string(info.Category),
			info.Severity, c.priority, c.queue, string(c.state), staffID(c.assignee), null(c.expires), c.reports, c.flagger,
			ts(c.opened+int64(info.SLA/time.Second)), ts(c.opened), ts(c.updated), null(c.closed), c.version, rank,
			c.reporters, c.prior, null(c.escalated), c.reason)
		if err != nil {
			return err
		}
	}
	if err := w.flush(ctx); err != nil {
		return err
	}
	logf("customers, sites and cases written")

	// Directives go out when a restrict or terminate becomes final, each with a
	// version above every earlier one for its hostnames.
	type directive struct {
		id, typ, hosts string
		version        int64
	}
	dirs := make([]directive, len(p.decisions))
	var finals []int
	for i, d := range p.decisions {
		if d.directive && d.status == "final" {
			finals = append(finals, i)
		}
	}
	slices.SortStableFunc(finals, func(a, b int) int { return cmp.Compare(p.decisions[a].final, p.decisions[b].final) })
	hostVersion := map[string]int64{}
	for _, i := range finals {
		d := p.decisions[i]
		c := &p.cases[d.cas]
		v := hostVersion[c.host] + 1
		hostVersion[c.host] = v
		typ := "site.restrict"
		if decisionActions[d.action] == cases.Terminate {
			typ = "site.terminate"
		}
		dirs[i] = directive{id: ulid.MustNew(uint64(d.final)*1000+uint64(r.IntN(1000)), entropy).String(), typ: typ, hosts: `["` + c.host + `"]`, version: v}
	}
	for i, d := range p.decisions {
		a := decisionActions[d.action]
		c := &p.cases[d.cas]
		expl, hosts, evidence := "", "[]", ""
		if a != cases.NoAction {
			expl = "Your site hosted content that breaks our acceptable use policy (" + d.grounds + "). Remove it to avoid further action."
		}
		if a == cases.Restrict || a == cases.Terminate {
			hosts = `["` + c.host + `"]`
			evidence = "https://" + c.host + "/\nArchived copy: https://archive.example/" + itoa(c.id)
		}
		id := base["decisions"] + int64(i)
		if err := w.add(ctx, decisions, id, c.id, string(a), d.grounds, expl, d.status,
			p.staff[d.proposer], ts(d.created), null(d.final), hosts, evidence); err != nil {
			return err
		}
	}
	for _, i := range finals {
		d, dir := p.decisions[i], dirs[i]
		c := &p.cases[d.cas]
		var custID any
		if c.site >= 0 {
			custID = base["customers"] + int64(p.sites[c.site].customer)
		}
		if err := w.add(ctx, directives, dir.id, dir.typ, dir.version, custID, dir.hosts, c.id, base["decisions"]+int64(i),
			string(c.info().Category), ts(d.final), "queued"); err != nil {
			return err
		}
		if err := w.add(ctx, dirHosts, dir.id, c.host, dir.version); err != nil {
			return err
		}
	}
	for _, h := range slices.Sorted(maps.Keys(hostVersion)) {
		if err := w.add(ctx, versions, h, hostVersion[h]); err != nil {
			return err
		}
	}
	for i, so := range p.signoffs {
		if err := w.add(ctx, signoffs, base["signoffs"]+int64(i), base["decisions"]+int64(so.dec), p.cases[so.cas].id, so.role,
			p.staff[so.user], "approve", "", ts(so.created)); err != nil {
			return err
		}
	}
	for i, n := range p.notes {
		if err := w.add(ctx, notes, base["notes"]+int64(i), p.cases[n.cas].id, p.staff[n.author], n.body, ts(n.created)); err != nil {
			return err
		}
	}

	// Reports in time order, each with its own reporter row as FileReport makes
	// one per report, and the audit trail interleaved with the workflow events.
	opened := make([]bool, len(p.cases))
	rerouted := make([]bool, len(p.cases))
	ev := 0
	emitEvents := func(until int64) error {
		for ; ev < len(p.events) && p.events[ev].at <= until; ev++ {
			e := p.events[ev]
			d := map[string]any{}
			switch {
			case e.action == "directive.queued":
				dir := dirs[e.dec]
				d = map[string]any{"directive": dir.id, "type": dir.typ, "version": dir.version, "hostnames": []string{p.cases[e.cas].host}}
			case e.action == "signoff.approve":
				d["decision"] = base["decisions"] + int64(e.dec)
			case e.action == "case.approve":
				d["decision"] = base["decisions"] + int64(e.dec)
				fallthrough
			default:
				d["from"], d["to"] = e.from, e.to
			}
			for k, v := range e.extra {
				if _, set := d[k]; !set {
					d[k] = v
				}
			}
			actor := "system"
			if e.actor >= 0 {
				actor = "user:" + itoa(p.staff[e.actor])
			}
			if err := record(e.at, actor, e.action, "case", itoa(p.cases[e.cas].id), d); err != nil {
				return err
			}
		}
		return nil
	}
	t0, step := time.Now(), max(len(p.reports)/10, 1)
	for i, rep := range p.reports {
		if err := emitEvents(rep.at - 1); err != nil {
			return err
		}
		c := &p.cases[rep.cas]
		cat := c.info().Category
		reporterID, reportID := base["reporters"]+int64(i), base["reports"]+int64(i)
		var name, email string
		channel := cases.ChannelWeb
		switch rep.kind {
		case kindFlagger:
			name, email = flaggerContact(int(rep.contact))
			channel = cases.ChannelAPI
		case kindNetwork:
			name, email = networkContact(int(rep.contact))
			channel = cases.ChannelEmail
		default:
			if rep.contact >= 0 {
				name, email = publicEmail(int(rep.contact))
			} else if r.IntN(100) < 40 {
				name = pick(r, firstNames) + " " + pick(r, lastNames)
			}
			if r.IntN(100) < 10 {
				channel = cases.ChannelEmail
			}
		}
		key := "reporter:" + itoa(reporterID)
		if email != "" {
			key = "email:" + email
		}
		host := c.host
		if rep.www {
			host = "www." + c.host
		}
		n := r.IntN(100000)
		url := "https://" + host + fill(pick(r, urlPaths[cat]), n, host)
		desc := fill(pick(r, descriptions[cat]), n, host)
		pub := ulid.MustNew(uint64(rep.at)*1000+uint64(r.IntN(1000)), entropy).String()
		var siteID any
		if c.site >= 0 {
			siteID = base["sites"] + int64(c.site)
		}
		at := ts(rep.at)
		if err := w.add(ctx, reporters, reporterID, string(kindNames[rep.kind]), name, email, at); err != nil {
			return err
		}
		if err := w.add(ctx, reports, reportID, pub, c.id, reporterID, string(channel), string(cat), url, host, siteID,
			desc, channel == cases.ChannelWeb || r.IntN(100) < 95, at, key); err != nil {
			return err
		}
		who, caseID := "reporter:"+itoa(reporterID), itoa(c.id)
		if !opened[rep.cas] {
			opened[rep.cas] = true
			if err := record(rep.at, who, "case.opened", "case", caseID, map[string]any{"hostname": c.host, "category": cat, "queue": c.openQueue}); err != nil {
				return err
			}
		} else if rep.kind == kindFlagger && !rerouted[rep.cas] && c.openQueue != c.queue {
			rerouted[rep.cas] = true
			if err := record(rep.at, who, "case.rerouted", "case", caseID, map[string]any{"from": c.openQueue, "to": c.queue}); err != nil {
				return err
			}
		}
		if err := record(rep.at, who, "report.filed", "case", caseID, map[string]any{"report": pub, "channel": channel, "url": url}); err != nil {
			return err
		}
		if (i+1)%step == 0 {
			logf("reports %d/%d (%.0f reports/s)", i+1, len(p.reports), float64(i+1)/time.Since(t0).Seconds())
		}
	}
	if err := emitEvents(1 << 62); err != nil {
		return err
	}
	if err := w.flush(ctx); err != nil {
		return err
	}
	for _, t := range w.tables {
		res.Rows[t.name] = t.rows
	}
	if ev != len(p.events) {
		return errors.New("benchgen: workflow events left over")
	}
	return nil
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
