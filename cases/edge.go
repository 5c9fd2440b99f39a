package cases

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strconv"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/dockethq/docket/audit"
	"github.com/dockethq/docket/intake"
	"github.com/dockethq/docket/internal/errs"
)

// Graduated actions, narrower than restricting the whole site. They are
// restrictions in the workflow (final at once, like restrict), stored as
// action restrict with a measure, and reach the edge as their own directive
// types: site.interstitial (a warning page in front of the site) and
// site.block_url (451 for the listed URLs only).
const (
	Interstitial DecisionAction = "interstitial"
	BlockURL     DecisionAction = "block_url"
)

// DecisionActions lists what a reviewer may decide, mildest first.
var DecisionActions = []DecisionAction{NoAction, Warn, Interstitial, BlockURL, Restrict, Terminate}

// MaxLasts bounds an expiry: a measure meant to last longer is not temporary.
const MaxLasts = 366 * 24 * time.Hour

// MaxBlockedURLs bounds one block_url decision.
const MaxBlockedURLs = 100

// stored is the action column's value for a decided action.
func (a DecisionAction) stored() DecisionAction {
	if a == Interstitial || a == BlockURL {
		return Restrict
	}
	return a
}

// measure is the measure column's value for a decided action.
func (a DecisionAction) measure() string {
	if a == Interstitial || a == BlockURL {
		return string(a)
	}
	return ""
}

// Effective is the action as the reviewer chose it: interstitial and block_url
// rather than the restrict they are stored as.
func (d *Decision) Effective() DecisionAction {
	if d.Action == Restrict && d.Measure != "" {
		return DecisionAction(d.Measure)
	}
	return d.Action
}

// LastsLabel says how long the measure lasts once final, for people: "30 days",
// "6 hours", "90 seconds"; empty when it lasts until changed.
func (d *Decision) LastsLabel() string {
	n := d.LastsSeconds
	unit := func(v int64, one string) string {
		if v == 1 {
			return "1 " + one
		}
		return strconv.FormatInt(v, 10) + " " + one + "s"
	}
	switch {
	case n <= 0:
		return ""
	case n%86400 == 0:
		return unit(n/86400, "day")
	case n%3600 == 0:
		return unit(n/3600, "hour")
	case n%60 == 0:
		return unit(n/60, "minute")
	}
	return unit(n, "second")
}

// URLList decodes URLs.
func (d *Decision) URLList() []string {
	var us []string
	_ = json.Unmarshal([]byte(d.URLs), &us)
	return us
}

// setExpiry fixes when the measure is lifted, counted from when it becomes final.
func (d *Decision) setExpiry(final time.Time) {
	if d.LastsSeconds > 0 {
		t := final.Add(time.Duration(d.LastsSeconds) * time.Second)
		d.ExpiresAt = &t
	}
}

// checkMeasure adds field errors for the graduated parts of a proposal and
// returns the measure to store.
func (p *Proposal) checkMeasure(f map[string]string) string {
	if p.Lasts != 0 {
		switch {
		case p.Action == NoAction || p.Action == Warn:
			f["lasts"] = "Only an interstitial, a block, a restriction or a termination can expire."
		case p.Lasts < time.Second || p.Lasts > MaxLasts:
			f["lasts"] = "Choose an expiry between one second and a year, or none."
		}
	}
	if p.Action == BlockURL && len(p.URLs) == 0 {
		f["urls"] = "Choose the URLs to block."
	}
	if p.Action == BlockURL && len(p.URLs) > MaxBlockedURLs {
		f["urls"] = "Block at most " + strconv.Itoa(MaxBlockedURLs) + " URLs in one decision."
	}
	return p.Action.measure()
}

// blockedURLs normalizes the URLs of a block_url decision and checks that each
// is on one of the customer's sites; it returns them and their hostnames.
func blockedURLs(tx *gorm.DB, c *Case, given []string) ([]string, []string, error) {
	if c.SiteID == nil {
		return nil, nil, errs.E(errs.Invalid, "Docket does not serve %s, so there is nothing to block; close the case instead.", c.Hostname)
	}
	var owned []string
	if err := tx.Model(&Site{}).Where("customer_id = ?", *c.CustomerID).Pluck("hostname", &owned).Error; err != nil {
		return nil, nil, err
	}
	var urls, hosts []string
	for _, u := range given {
		t, err := intake.NormalizeURL(u)
		if err != nil || !slices.Contains(owned, t.Host) {
			return nil, nil, &errs.Error{Code: errs.Invalid, Message: "Choose URLs on this customer's sites.", Fields: map[string]string{"urls": "That is not a URL on one of the customer's sites."}}
		}
		if !slices.Contains(urls, t.URL) {
			urls = append(urls, t.URL)
		}
		if !slices.Contains(hosts, t.Host) {
			hosts = append(hosts, t.Host)
		}
	}
	slices.Sort(urls)
	slices.Sort(hosts)
	return urls, hosts, nil
}

// EdgeType is the directive's type on the wire (DESIGN §5): the stored type,
// or site.interstitial / site.block_url for a narrowed restriction.
func (d Directive) EdgeType() string {
	if d.Type == "site.restrict" && d.Measure != "" {
		return "site." + d.Measure
	}
	return d.Type
}

// URLList decodes URLs.
func (d Directive) URLList() []string {
	var us []string
	_ = json.Unmarshal([]byte(d.URLs), &us)
	return us
}

// HostnameList decodes Hostnames.
func (d *Directive) HostnameList() []string {
	var hs []string
	_ = json.Unmarshal([]byte(d.Hostnames), &hs)
	return hs
}

// LiftExpired lifts the measure of a directive whose expiry has come: a newer
// site.reinstate for those of its hostnames where it is still the latest
// directive (a later decision, say a termination, is never undone by an
// earlier measure's expiry). The notify package runs it from a job scheduled
// at the expiry in the decision's own transaction, so it runs once and
// survives restarts. It returns the reinstate directive, or nil when nothing
// was left to lift.
func (s *Service) LiftExpired(ctx context.Context, directiveID string) (*Directive, error) {
	var lifted *Directive
	err := s.db.W.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		now := s.now().UTC()
		var dir Directive
		if err := tx.Take(&dir, "id = ?", directiveID).Error; err != nil {
			return err
		}
		if dir.ExpiresAt == nil || dir.Type == "site.reinstate" {
			return nil
		}
		var current []string
		err := tx.Table("hostname_versions").Clauses(clause.Locking{Strength: "UPDATE"}).
			Where("hostname IN ? AND version = ?", dir.HostnameList(), dir.Version).Order("hostname").Pluck("hostname", &current).Error
		if err != nil {
			return err
		}
		if len(current) == 0 {
			return audit.Record(tx, now, "system", "directive.expiry_skipped", "case", strconv.FormatInt(dir.CaseID, 10),
				map[string]any{"directive": dir.ID, "why": "newer directives for every hostname"})
		}
		var c Case
		if err := tx.Take(&c, dir.CaseID).Error; err != nil {
			return err
		}
		hs, _ := json.Marshal(current)
		undo := Decision{ID: dir.DecisionID, Action: Reinstate, Hostnames: string(hs)}
		if err := s.queueDirective(tx, &c, &undo, now); err != nil {
			return err
		}
		lifted = &Directive{}
		if err := tx.Where("decision_id = ? AND type = 'site.reinstate'", dir.DecisionID).Order("version DESC").Take(lifted).Error; err != nil {
			return err
		}
		return audit.Record(tx, now, "system", "directive.expired", "case", strconv.FormatInt(dir.CaseID, 10),
			map[string]any{"directive": dir.ID, "type": dir.EdgeType(), "lifted_by": lifted.ID, "hostnames": current})
	})
	return lifted, err
}

// Strike is one final action against a customer in its repeat-offender ledger.
type Strike struct {
	ID         int64
	CustomerID int64
	CaseID     int64
	DecisionID int64
	Category   Category
	Action     DecisionAction // as chosen: warn, interstitial, block_url, restrict, terminate
	Weight     int
	At         time.Time
	ExpiresAt  time.Time
	VoidedAt   *time.Time
	Hostname   string `gorm:"->;-:migration"` // the case's, read with the ledger
}

// StrikePolicy weighs strikes and says when to suggest termination. It only
// ever suggests: a person proposes, and sign-off still decides.
type StrikePolicy struct {
	Weights   map[Category]int // per category; a category not listed weighs 1
	Lifetime  time.Duration    // a strike stops counting after this
	Threshold int              // live weight at which the case page suggests termination; 0 never
}

// DefaultStrikePolicy weighs categories by the harm they do, keeps strikes
// for a year, and suggests termination from 10 points (two malware or
// phishing actions and a copyright one, or one csam action).
var DefaultStrikePolicy = StrikePolicy{
	Weights: map[Category]int{
		CSAM: 10, ViolentExtremism: 8, Threat: 6, Malware: 4, Phishing: 4,
		Harassment: 3, Copyright: 2, Trademark: 2, Spam: 1, Other: 1,
	},
	Lifetime:  365 * 24 * time.Hour,
	Threshold: 10,
}

// SetStrikePolicy replaces the strike policy (at start, from configuration).
func (s *Service) SetStrikePolicy(p StrikePolicy) { s.strikes = p }

// StrikePolicy returns the strike policy in force.
func (s *Service) StrikePolicy() StrikePolicy { return s.strikes }

func (p StrikePolicy) weight(c Category) int {
	if w, ok := p.Weights[c]; ok {
		return w
	}
	return 1
}

// recordStrike writes the strike for a decision that just became final, if
// it acts against a customer.
func (s *Service) recordStrike(tx *gorm.DB, c *Case, d *Decision, now time.Time) error {
	if c.CustomerID == nil || d.Action == NoAction || d.Action == Reinstate {
		return nil
	}
	st := Strike{CustomerID: *c.CustomerID, CaseID: c.ID, DecisionID: d.ID, Category: c.Category, Action: d.Effective(),
		Weight: s.strikes.weight(c.Category), At: now, ExpiresAt: now.Add(s.strikes.Lifetime)}
	if err := tx.Omit("Hostname").Create(&st).Error; err != nil {
		return err
	}
	return audit.Record(tx, now, "system", "strike.recorded", "customer", strconv.FormatInt(st.CustomerID, 10),
		map[string]any{"case": c.ID, "decision": d.ID, "category": c.Category, "action": st.Action, "weight": st.Weight, "expires_at": st.ExpiresAt})
}

// voidStrike takes a reversed or revoked decision's strike off the ledger.
func voidStrike(tx *gorm.DB, decisionID int64, now time.Time) error {
	return tx.Model(&Strike{}).Where("decision_id = ? AND voided_at IS NULL", decisionID).Update("voided_at", now).Error
}

// Ledger is a customer's live strikes: those not expired or voided.
type Ledger struct {
	Strikes   []Strike // in cases the viewer may read, newest first
	Hidden    int      // live strikes in cases the viewer may not read (counted in Total)
	Total     int      // live weight
	Threshold int
}

// Suggest reports whether the live weight has reached the threshold at which
// termination is suggested.
func (l *Ledger) Suggest() bool { return l != nil && l.Threshold > 0 && l.Total >= l.Threshold }

// Strikes returns a customer's live ledger at now. Every live strike counts
// towards the total; only those in readable queues are listed.
func (s *Service) Strikes(ctx context.Context, customerID int64, queues []string) (*Ledger, error) {
	var rows []struct {
		Strike
		Queue string
	}
	err := s.db.R.WithContext(ctx).Table("strikes").
		Select("strikes.*, cases.hostname, cases.queue").
		Joins("JOIN cases ON cases.id = strikes.case_id").
		Where("strikes.customer_id = ? AND strikes.voided_at IS NULL AND strikes.expires_at > ?", customerID, s.now().UTC()).
		Order("strikes.at DESC, strikes.id DESC").Scan(&rows).Error
	if err != nil {
		return nil, err
	}
	l := &Ledger{Threshold: s.strikes.Threshold}
	for _, r := range rows {
		l.Total += r.Weight
		if slices.Contains(queues, r.Queue) {
			l.Strikes = append(l.Strikes, r.Strike)
		} else {
			l.Hidden++
		}
	}
	return l, nil
}

// ErrNoDirective is returned for a directive that does not exist.
var ErrNoDirective = errs.E(errs.NotFound, "There is no such directive.")

// DirectiveByID returns one directive.
func (s *Service) DirectiveByID(ctx context.Context, id string) (*Directive, error) {
	var d Directive
	if err := s.db.R.WithContext(ctx).Take(&d, "id = ?", id).Error; err != nil {
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return nil, ErrNoDirective
		}
		return nil, err
	}
	return &d, nil
}

// Label is the human name of a decided action.
func (a DecisionAction) Label() string {
	switch a {
	case NoAction:
		return "no action"
	case Interstitial:
		return "interstitial (warning page)"
	case BlockURL:
		return "block specific URLs"
	}
	return string(a)
}
