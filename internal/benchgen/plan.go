package benchgen

import (
	"cmp"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	"github.com/dockethq/docket/cases"
	"github.com/dockethq/docket/intake"
	"github.com/dockethq/docket/policy"
)

// The plan is the whole data set in compact form, built in memory before any row
// is written: entities refer to each other by index, strings that are only
// needed on the way out (names, descriptions, URLs) are made while writing.

var plans = []string{"free", "pro", "business", "enterprise"}

type customer struct {
	plan    uint8
	created int64
	status  string
}

type site struct {
	customer int32
	host     string
	apex     string
	created  int64
}

const (
	roleNormal uint8 = iota
	roleMedium       // tens to hundreds of reports
	roleHuge         // a flood: thousands of reports
)

// caseRow is one case. Times are Unix seconds; 0 means "none".
type caseRow struct {
	id        int64
	site      int32 // -1 for a host the provider does not serve
	host      string
	category  uint8 // index into cases.Categories
	state     cases.State
	role      uint8
	opened    int64
	end       int64 // reports arrive in [opened, end]
	claimed   int64
	escalated int64
	decided   int64 // the decision (or proposal) time
	approved  int64 // a termination's sign-off
	closed    int64
	appealed  int64
	expires   int64 // claim lease
	assignee  int32 // index into the staff list; -1 for none
	action    int8  // index into decisionActions; -1 for no decision
	reason    string
	notes     uint8

	reports, reporters, flagger int32
	firstFlagger                bool
	prior                       int32
	priority                    int32
	queue, openQueue            string
	version                     int32
	lastReport, updated         int64
}

func (c *caseRow) info() cases.CategoryInfo { return cases.Categories[c.category] }

func (c *caseRow) groupKey(siteBase int64) string {
	if c.site < 0 {
		return "host:" + c.host
	}
	return "site:" + itoa(siteBase+int64(c.site))
}

// Decision actions, as indexes into decisionActions.
const (
	actNoAction int8 = iota
	actWarn
	actRestrict
	actTerminate
)

var decisionActions = []cases.DecisionAction{cases.NoAction, cases.Warn, cases.Restrict, cases.Terminate}

// actioning reports whether a final decision counts as a prior action against the
// customer (cases.rescore counts warn, restrict and terminate).
func actioning(a int8) bool { return a >= actWarn }

const (
	kindPublic uint8 = iota
	kindFlagger
	kindNetwork
)

var kindNames = []cases.ReporterKind{cases.ReporterPublic, cases.ReporterTrustedFlagger, cases.ReporterNetwork}

// report is one report, compactly: everything else is derived while writing.
type report struct {
	at      int64
	cas     int32
	contact int32 // index of the reporter's email in its kind's pool; -1 for none
	kind    uint8
	www     bool // reported on www.<host> rather than <host>
}

// event is a workflow step on a case, for the audit trail.
type event struct {
	at     int64
	cas    int32
	action string
	from   cases.State
	to     cases.State
	extra  map[string]any
	actor  int32 // staff index; -1 for the system
	dec    int32 // index into decisions, or -1
}

type decision struct {
	cas      int32
	action   int8
	grounds  string
	status   string
	proposer int32
	created  int64
	final    int64
	// directive: a final restrict or terminate queues one for the edge.
	directive bool
}

// signoff is a legal or leadership approval of a proposed termination.
type signoff struct {
	dec     int32
	cas     int32
	role    string
	user    int32
	created int64
}

type note struct {
	cas     int32
	author  int32
	body    string
	created int64
}

type plan struct {
	// The audit chain's head: where the generated events continue it (read
	// before writing, stored after), so the loaded log verifies.
	auditSeq  int64
	auditHash string

	opts      Options
	now       int64
	customers []customer
	sites     []site
	cases     []caseRow
	reports   []report
	events    []event
	decisions []decision
	notes     []note
	emails    int // size of the public email pool
	signoffs  []signoff
	staff     []int64
	reviewers []int32 // staff indices of reviewers and senior reviewers
	legal     []int32 // staff indices holding each sign-off role
	leaders   []int32
	rules     []cases.QueueRule
}

// categoryShare is how often each category comes up, in percent.
var categoryShare = map[cases.Category]float64{
	cases.Spam: 22, cases.Phishing: 20, cases.Copyright: 16, cases.Other: 13, cases.Malware: 8,
	cases.Harassment: 8, cases.Trademark: 5, cases.Threat: 3, cases.ViolentExtremism: 3, cases.CSAM: 2,
}

// floodCategories are what floods of thousands of reports are about.
var floodCategories = []cases.Category{cases.ViolentExtremism, cases.Spam, cases.Phishing, cases.Copyright, cases.Harassment}

// categoryIndex is c's index in cases.Categories.
func categoryIndex(c cases.Category) uint8 {
	return uint8(slices.IndexFunc(cases.Categories, func(i cases.CategoryInfo) bool { return i.Category == c }))
}

// Shares of reports from trusted flaggers and networks per category.
func kindFor(r *rand.Rand, cat cases.Category) uint8 {
	flag, net := 0.02, 0.03
	switch cat {
	case cases.CSAM:
		flag = 0.30
	case cases.ViolentExtremism:
		flag = 0.25
	case cases.Phishing:
		flag, net = 0.08, 0.20
	case cases.Malware:
		flag, net = 0.08, 0.30
	case cases.Spam:
		net = 0.15
	}
	switch u := r.Float64(); {
	case u < flag:
		return kindFlagger
	case u < flag+net:
		return kindNetwork
	}
	return kindPublic
}

func weighted(r *rand.Rand, w []float64) int {
	var sum float64
	for _, x := range w {
		sum += x
	}
	u := r.Float64() * sum
	for i, x := range w {
		if u < x {
			return i
		}
		u -= x
	}
	return len(w) - 1
}

// expDur draws an exponentially distributed duration with the given mean, in seconds.
func expDur(r *rand.Rand, mean time.Duration) int64 {
	return int64(r.ExpFloat64() * mean.Seconds())
}

const (
	hour = int64(time.Hour / time.Second)
	day  = 24 * hour
)

func newPlan(o Options, staff []int64, roles map[int64][]string, rules []cases.QueueRule) *plan {
	p := &plan{opts: o, now: o.Now.Unix(), staff: staff, rules: rules}
	for i, id := range staff {
		if slices.Contains(roles[id], policy.Reviewer) || slices.Contains(roles[id], policy.SeniorReviewer) {
			p.reviewers = append(p.reviewers, int32(i))
		}
		if slices.Contains(roles[id], cases.SignoffLegal) {
			p.legal = append(p.legal, int32(i))
		}
		if slices.Contains(roles[id], cases.SignoffLeadership) {
			p.leaders = append(p.leaders, int32(i))
		}
	}
	r := rand.New(rand.NewPCG(uint64(o.Seed), 0x646f636b6574))
	p.buildCustomers(r)
	p.buildCases(r)
	p.buildReports(r)
	p.buildWorkflow(r)
	p.finish()
	return p
}

func (p *plan) buildCustomers(r *rand.Rand) {
	o := p.opts
	p.customers = make([]customer, o.Customers)
	for i := range p.customers {
		c := &p.customers[i]
		c.plan = uint8(weighted(r, []float64{60, 20, 14, 6}))
		c.created = p.now - 3*365*day + int64(r.Float64()*float64(2*365*day))
		c.status = "active"
		if r.IntN(100) < 3 {
			c.status = "suspended"
		}
	}
	// Sites: every customer gets one; the rest go to customers with a skew, so a
	// few customers own hundreds. 15% are subdomains of an earlier site of the
	// same customer (shop.example.com next to example.com).
	p.sites = make([]site, 0, o.Sites)
	var apexOf = map[int32][]int{}
	for i := 0; i < o.Sites; i++ {
		cu := int32(i)
		if i >= o.Customers {
			cu = int32(math.Pow(r.Float64(), 3) * float64(o.Customers))
		}
		s := site{customer: cu, created: p.customers[cu].created + expDur(r, 30*24*time.Hour)}
		if own := apexOf[cu]; len(own) > 0 && r.IntN(100) < 15 {
			parent := p.sites[own[r.IntN(len(own))]]
			s.host = pick(r, subdomains) + itoa(int64(i)) + "." + parent.apex
			s.apex = parent.apex
		} else {
			s.host = siteHost(r, i)
			t, err := intake.NormalizeURL("http://" + s.host)
			s.apex = s.host
			if err == nil && t.RegistrableDomain != "" {
				s.apex = t.RegistrableDomain
			}
			apexOf[cu] = append(apexOf[cu], i)
		}
		s.created = min(s.created, p.now-day)
		p.sites = append(p.sites, s)
	}
}

// buildCases draws each case's category, target, state and workflow times.
// Cases that are not closed hold their (group, category) slot: the partial
// unique index allows one per group and category.
func (p *plan) buildCases(r *rand.Rand) {
	o := p.opts
	n := o.Cases
	p.cases = make([]caseRow, n)
	nHuge := max(1, n/10000)
	nMedium := n / 100
	type slot struct {
		group int64 // site index, or -1-case index for unknown hosts
		cat   uint8
	}
	held := map[slot]bool{}
	weights := make([]float64, len(cases.Categories))
	for i, info := range cases.Categories {
		weights[i] = categoryShare[info.Category]
	}
	for i := range p.cases {
		c := &p.cases[i]
		c.assignee, c.action = -1, -1
		switch {
		case i < nHuge:
			c.role = roleHuge
			c.category = categoryIndex(floodCategories[i%len(floodCategories)])
			c.state = cases.StateClosed
			if i%2 == 0 {
				c.state = []cases.State{cases.StateNew, cases.StateInReview}[i/2%2]
			}
		case i < nHuge+nMedium:
			c.role = roleMedium
		}
		if c.role != roleHuge {
			c.category = uint8(weighted(r, weights))
			c.state = []cases.State{cases.StateClosed, cases.StateDecided, cases.StateNew, cases.StateInReview, cases.StatePendingSignoff, cases.StateAppealed}[weighted(r, []float64{o.ClosedShare, o.DecidedShare, o.OpenShare * 0.62, o.OpenShare * 0.31, o.OpenShare * 0.015, o.OpenShare * 0.055})]
		}
		for try := 0; ; try++ {
			if r.IntN(100) < 10 && c.role != roleHuge && c.state != cases.StatePendingSignoff {
				c.site, c.host = -1, unknownHost(r, i)
			} else {
				c.site = int32(math.Pow(r.Float64(), 2) * float64(len(p.sites)))
				c.host = p.sites[c.site].host
			}
			if c.state == cases.StateClosed {
				break
			}
			k := slot{group: int64(c.site), cat: c.category}
			if c.site < 0 {
				k.group = -1 - int64(i)
			}
			if !held[k] {
				held[k] = true
				break
			}
			if try > 20 {
				c.state = cases.StateClosed
				break
			}
		}
		p.times(r, c)
	}
	slices.SortStableFunc(p.cases, func(a, b caseRow) int { return cmp.Compare(a.opened, b.opened) })
}

// times sets when things happened to c, consistent with its state.
func (p *plan) times(r *rand.Rand, c *caseRow) {
	now := p.now
	sla := int64(c.info().SLA / time.Second)
	resolve := func(from int64) int64 { return min(from+600+int64(r.ExpFloat64()*0.6*float64(sla)), now-300) }
	withDecision := true
	switch c.state {
	case cases.StateClosed:
		c.opened = now - hour - int64(r.Float64()*float64(364*day))
		if c.role == roleHuge {
			c.opened = now - 20*day - int64(r.Float64()*float64(300*day))
		}
		withDecision = r.IntN(100) < 60
	case cases.StateDecided:
		c.opened = now - hour - int64(r.Float64()*float64(30*day))
	case cases.StateAppealed:
		c.opened = now - 2*hour - int64(r.Float64()*float64(60*day))
	case cases.StateNew:
		c.opened = now - 60 - min(expDur(r, 3*24*time.Hour), 60*day)
	default: // in review, pending sign-off
		c.opened = now - 600 - min(expDur(r, 5*24*time.Hour), 60*day)
	}
	if c.role == roleHuge && c.state != cases.StateClosed {
		c.opened = now - 3*day - int64(r.Float64()*float64(37*day))
	}
	c.end = now
	switch c.state {
	case cases.StateNew:
		return
	case cases.StateInReview:
		if r.IntN(100) < 30 {
			c.claimed = now - int64(r.IntN(25*60)) - 60 // a live claim
		} else {
			c.claimed = c.opened + int64(r.Float64()*float64(now-c.opened))
		}
		c.claimed = max(c.claimed, c.opened+1)
		if r.IntN(100) < 10 {
			c.escalated = c.claimed + 1 + int64(r.Float64()*float64(max(now-c.claimed-1, 1)))
		}
		return
	}
	c.claimed = c.opened + 1 + int64(r.Float64()*float64(max(resolve(c.opened)-c.opened, 2))/2)
	if !withDecision {
		c.claimed = 0
		c.closed = resolve(c.opened)
		c.end = c.closed
		c.reason = pick(r, closeReasons[:4])
		return
	}
	c.decided = max(resolve(c.opened), c.claimed+1)
	c.action = int8(weighted(r, []float64{45, 25, 18, 12}))
	if c.state == cases.StatePendingSignoff {
		c.action = actTerminate
		c.decided = c.claimed + 1 + int64(r.Float64()*float64(max(now-c.claimed-1, 1)))
		return
	}
	c.end = c.decided
	last := c.decided
	if c.action == actTerminate {
		c.approved = min(c.decided+60+expDur(r, 4*time.Hour), now-120)
		c.approved = max(c.approved, c.decided+1)
		last = c.approved
	}
	switch c.state {
	case cases.StateClosed:
		c.closed = max(min(last+expDur(r, 2*24*time.Hour), now-60), last+1)
		c.reason = "Done."
	case cases.StateAppealed:
		c.appealed = max(min(last+expDur(r, 3*24*time.Hour), now-60), last+1)
	}
}

// buildReports spreads the reports over the cases: every case has one, a few
// floods have thousands, one case in a hundred has tens to hundreds and the rest
// have a handful, drawn from an exponential so most have 1 to 5.
func (p *plan) buildReports(r *rand.Rand) {
	o := p.opts
	n := len(p.cases)
	counts := make([]int64, n)
	for i := range counts {
		counts[i] = 1
	}
	extra := int64(o.Reports - n)
	var huge, medium, normal []int
	for i := range p.cases {
		switch p.cases[i].role {
		case roleHuge:
			huge = append(huge, i)
		case roleMedium:
			medium = append(medium, i)
		default:
			normal = append(normal, i)
		}
	}
	share := func(idx []int, total int64, weight func(k int) float64) {
		if len(idx) == 0 || total <= 0 {
			return
		}
		w := make([]float64, len(idx))
		var sum float64
		for k := range idx {
			w[k] = weight(k)
			sum += w[k]
		}
		var given int64
		for k, i := range idx {
			add := int64(float64(total) * w[k] / sum)
			counts[i] += add
			given += add
		}
		for ; given < total; given++ {
			counts[idx[r.IntN(len(idx))]]++
		}
	}
	hugeTotal := extra * 15 / 100
	mediumTotal := extra * 25 / 100
	if len(medium) == 0 {
		mediumTotal = 0
	}
	share(huge, hugeTotal, func(k int) float64 { return 1 / math.Sqrt(float64(k+1)) })
	share(medium, mediumTotal, func(int) float64 { return 0.2 + r.Float64() })
	share(normal, extra-hugeTotal-mediumTotal, func(int) float64 { return r.ExpFloat64() })

	p.emails = max(o.Reports/10, 1)
	p.reports = make([]report, 0, o.Reports)
	seen := map[int64]struct{}{}
	for i := range p.cases {
		c := &p.cases[i]
		cat := c.info().Category
		clear(seen)
		span := max(c.end-c.opened-1, 1)
		for k := int64(0); k < counts[i]; k++ {
			rep := report{cas: int32(i), at: c.opened, contact: -1, kind: kindFor(r, cat), www: r.IntN(100) < 30}
			if k > 0 {
				rep.at = c.opened + 1 + int64(math.Pow(r.Float64(), 1.5)*float64(span))
			}
			switch rep.kind {
			case kindFlagger:
				rep.contact = int32(r.IntN(len(flaggerOrgs)))
			case kindNetwork:
				rep.contact = int32(r.IntN(len(networks)))
			default:
				if r.IntN(100) < 45 {
					// A few people report a lot: the pool is drawn with a skew.
					rep.contact = int32(math.Pow(r.Float64(), 3) * float64(p.emails))
				}
			}
			if rep.contact < 0 {
				c.reporters++
			} else if key := int64(rep.kind)<<32 | int64(rep.contact); !has(seen, key) {
				seen[key] = struct{}{}
				c.reporters++
			}
			if rep.kind == kindFlagger {
				c.flagger++
				if k == 0 {
					c.firstFlagger = true
				}
			}
			c.reports++
			c.lastReport = max(c.lastReport, rep.at)
			p.reports = append(p.reports, rep)
		}
	}
	slices.SortFunc(p.reports, func(a, b report) int {
		if a.at != b.at {
			return cmp.Compare(a.at, b.at)
		}
		return cmp.Compare(a.cas, b.cas)
	})
}

func has(m map[int64]struct{}, k int64) bool { _, ok := m[k]; return ok }

// buildWorkflow turns the case times into decisions, sign-offs, notes and audit
// events. Staff actions need staff: without users in the database, cases keep
// their states but have no decisions, notes or claims.
func (p *plan) buildWorkflow(r *rand.Rand) {
	if len(p.staff) == 0 {
		return
	}
	// Reviewers claim, decide and close; sign-offs come from legal and leadership.
	workers := p.reviewers
	if len(workers) == 0 {
		workers = p.all()
	}
	staff := func() int32 { return workers[r.IntN(len(workers))] }
	// signer picks someone in role (else anyone) who is none of the others:
	// cases.SignOff refuses the proposer and a second sign-off by one person.
	signer := func(role []int32, not ...int32) int32 {
		for _, pool := range [][]int32{role, p.all()} {
			var ok []int32
			for _, k := range pool {
				if !slices.Contains(not, k) {
					ok = append(ok, k)
				}
			}
			if len(ok) > 0 {
				return ok[r.IntN(len(ok))]
			}
		}
		return -1
	}
	for i := range p.cases {
		c := &p.cases[i]
		ci := int32(i)
		ev := func(at int64, action string, from, to cases.State, actor int32, dec int32, extra map[string]any) {
			p.events = append(p.events, event{at: at, cas: ci, action: action, from: from, to: to, actor: actor, dec: dec, extra: extra})
		}
		st := cases.StateNew
		var reviewer int32 = -1
		if c.claimed != 0 {
			reviewer = staff()
			ev(c.claimed, "case.claim", st, cases.StateInReview, reviewer, -1, nil)
			st = cases.StateInReview
			c.assignee, c.expires = reviewer, c.claimed+int64(cases.LeaseDuration/time.Second)
		}
		// A note now and then, by whoever works on the case.
		if reviewer >= 0 && r.IntN(100) < 20 {
			at := c.claimed + 1 + int64(r.Float64()*float64(max(min(c.end, p.now)-c.claimed-1, 1)))
			if c.decided != 0 {
				at = min(at, c.decided-1)
			}
			if at > c.claimed && (c.escalated == 0 || at < c.escalated) {
				p.notes = append(p.notes, note{cas: ci, author: reviewer, body: pick(r, noteBodies), created: at})
				ev(at, "case.note", st, st, reviewer, -1, nil)
				c.notes++
				c.expires = at + int64(cases.LeaseDuration/time.Second)
			}
		}
		if c.escalated != 0 {
			reason := "Needs a senior reviewer: possible legal exposure."
			p.notes = append(p.notes, note{cas: ci, author: reviewer, body: "Escalated: " + reason, created: c.escalated})
			ev(c.escalated, "case.escalate", st, cases.StateInReview, reviewer, -1, map[string]any{"reason": reason})
			c.assignee, c.expires = -1, 0
			c.notes++
		}
		if c.decided != 0 && c.site < 0 && c.action >= actRestrict {
			c.action = actWarn // restrict and terminate need a site we serve; warn instead
		}
		legal, leader := int32(-1), int32(-1)
		if c.action == actTerminate {
			legal = signer(p.legal, reviewer)
			leader = signer(p.leaders, reviewer, legal)
			if c.approved != 0 && (legal < 0 || leader < 0) {
				c.action = actRestrict // nobody could sign a termination off: restrict instead
			}
		}
		if c.decided != 0 && c.action >= 0 {
			a := decisionActions[c.action]
			g := pick(r, grounds[a])
			dec := int32(len(p.decisions))
			d := decision{cas: ci, action: c.action, grounds: g, status: "final", proposer: reviewer, created: c.decided, final: c.decided}
			d.directive = a == cases.Restrict
			details := map[string]any{"decision": a, "grounds": g}
			if a == cases.Terminate {
				d.status, d.final = "proposed", 0
				ev(c.decided, "case.propose", st, cases.StatePendingSignoff, reviewer, dec, details)
				st = cases.StatePendingSignoff
				c.expires = c.decided + int64(cases.LeaseDuration/time.Second)
				// Legal signs first; the second approval makes it final.
				legalAt := c.decided + 1 + int64(r.Float64()*float64(max(p.now-c.decided-2, 1)))
				if c.approved != 0 {
					legalAt = c.decided + 1 + int64(r.Float64()*float64(max(c.approved-c.decided-1, 1)))
				}
				if (c.approved != 0 || r.IntN(2) == 0) && legal >= 0 && legalAt < p.now && (c.approved == 0 || legalAt < c.approved) {
					p.signoffs = append(p.signoffs, signoff{dec: dec, cas: ci, role: cases.SignoffLegal, user: legal, created: legalAt})
					ev(legalAt, "signoff.approve", st, st, legal, dec, map[string]any{"role": cases.SignoffLegal, "verdict": "approve"})
				}
				if c.approved != 0 {
					d.status, d.final, d.directive = "final", c.approved, true
					p.signoffs = append(p.signoffs, signoff{dec: dec, cas: ci, role: cases.SignoffLeadership, user: leader, created: c.approved})
					so := map[string]any{"role": cases.SignoffLeadership, "verdict": "approve"}
					ev(c.approved, "signoff.approve", st, st, leader, dec, so)
					ev(c.approved, "directive.queued", st, st, -1, dec, nil)
					ev(c.approved, "case.approve", st, cases.StateDecided, leader, dec, so)
					st = cases.StateDecided
				}
			} else {
				if d.directive {
					ev(c.decided, "directive.queued", st, st, -1, dec, nil)
				}
				ev(c.decided, "case.decide", st, cases.StateDecided, reviewer, dec, details)
				st = cases.StateDecided
			}
			p.decisions = append(p.decisions, d)
			if st == cases.StateDecided {
				c.assignee, c.expires = -1, 0
			}
		}
		if c.closed != 0 {
			if reviewer < 0 {
				reviewer = staff()
			}
			ev(c.closed, "case.close", st, cases.StateClosed, reviewer, -1, map[string]any{"reason": c.reason})
			st = cases.StateClosed
			c.assignee, c.expires = -1, 0
		}
		if c.appealed != 0 {
			ev(c.appealed, "case.appeal", st, cases.StateAppealed, staff(), -1, nil)
		}
	}
	// Ids follow time: sort decisions by creation and renumber what points at them.
	order := make([]int32, len(p.decisions))
	for i := range order {
		order[i] = int32(i)
	}
	slices.SortStableFunc(order, func(a, b int32) int { return cmp.Compare(p.decisions[a].created, p.decisions[b].created) })
	pos := make([]int32, len(order))
	sorted := make([]decision, len(order))
	for n, old := range order {
		pos[old] = int32(n)
		sorted[n] = p.decisions[old]
	}
	p.decisions = sorted
	for i := range p.events {
		if p.events[i].dec >= 0 {
			p.events[i].dec = pos[p.events[i].dec]
		}
	}
	for i := range p.signoffs {
		p.signoffs[i].dec = pos[p.signoffs[i].dec]
	}
	slices.SortStableFunc(p.events, func(a, b event) int { return cmp.Compare(a.at, b.at) })
	slices.SortStableFunc(p.notes, func(a, b note) int { return cmp.Compare(a.created, b.created) })
	slices.SortStableFunc(p.signoffs, func(a, b signoff) int { return cmp.Compare(a.created, b.created) })
}

func (p *plan) all() []int32 {
	out := make([]int32, len(p.staff))
	for i := range out {
		out[i] = int32(i)
	}
	return out
}

// finish computes what FileReport and the workflow would have stored: prior
// actions, priority, queue, version and the update time.
func (p *plan) finish() {
	actions := make([]int32, len(p.customers))
	own := make([]int32, len(p.cases))
	for _, d := range p.decisions {
		if d.status == "final" && actioning(d.action) {
			if c := &p.cases[d.cas]; c.site >= 0 {
				actions[p.sites[c.site].customer]++
				own[d.cas]++
			}
		}
	}
	versions := make([]int32, len(p.cases))
	lastEvent := make([]int64, len(p.cases))
	for _, e := range p.events {
		if strings.HasPrefix(e.action, "case.") { // only the case workflow bumps the version
			versions[e.cas]++
			lastEvent[e.cas] = max(lastEvent[e.cas], e.at)
		}
	}
	for i := range p.cases {
		c := &p.cases[i]
		plan := ""
		if c.site >= 0 {
			cu := p.sites[c.site].customer
			plan = plans[p.customers[cu].plan]
			c.prior = actions[cu] - own[i]
		}
		info := c.info()
		pr := info.Severity + 2*min(max(int(c.reporters)-1, 0), 20)
		if c.flagger > 0 {
			pr += 25
		}
		c.priority = int32(pr + 5*min(int(c.prior), 5))
		c.queue = p.route(c, plan, c.flagger > 0)
		c.openQueue = p.route(c, plan, c.firstFlagger)
		c.version = c.reports + versions[i]
		c.updated = max(c.lastReport, lastEvent[i])
	}
}

// route mirrors cases.route: csam always goes to restricted, else the first
// matching rule, else general.
func (p *plan) route(c *caseRow, plan string, flagger bool) string {
	info := c.info()
	if info.Category == cases.CSAM {
		return cases.QueueRestricted
	}
	for _, r := range p.rules {
		if (r.Category == "" || r.Category == info.Category) && info.Severity >= r.MinSeverity &&
			(r.Plan == "" || strings.EqualFold(r.Plan, plan)) && (!r.TrustedFlagger || flagger) {
			return r.Queue
		}
	}
	return cases.QueueGeneral
}
