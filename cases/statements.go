package cases

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/dockethq/docket/audit"
	"github.com/dockethq/docket/internal/errs"
	"github.com/dockethq/docket/sor"
)

// Statement is the statement of reasons (DSA Art. 17) of one decision that
// restricts a customer: restrict in every measure (interstitial, block_url,
// the whole site, an emergency restriction) and terminate. A warning restricts
// nothing (Art. 17(1) lists restrictions of visibility, payments, the service
// and the account), so it gets the customer notice but no statement; neither
// do no_action and reinstate. Body is the statement in the Transparency
// Database's JSON; Redress is the customer-facing redress text, which the TDB
// does not take.
type Statement struct {
	ID          int64
	DecisionID  int64
	CaseID      int64
	PUID        string `gorm:"column:puid"`
	Status      string // draft, final
	Body        string
	Redress     string
	CreatedAt   time.Time
	UpdatedAt   time.Time
	FinalAt     *time.Time
	ExportedAt  *time.Time
	ExportBatch string
}

// TDB decodes Body.
func (st *Statement) TDB() sor.Statement {
	var out sor.Statement
	_ = json.Unmarshal([]byte(st.Body), &out)
	return out
}

// Problems validates the statement against the Transparency Database's rules.
func (st *Statement) Problems() sor.Errors { return st.TDB().Check() }

// Text is the statement as the customer reads it in the notice.
func (st *Statement) Text() string { return StatementText(st.TDB(), st.Redress) }

// StatementPrefix starts every PUID; the rest is the decision id, so the PUID
// is stable (a re-export never makes a second statement in the TDB) and within
// the documented charset and length.
const StatementPrefix = "docket-decision-"

// PUID is the platform unique identifier of decision id's statement.
func PUID(decisionID int64) string { return StatementPrefix + strconv.FormatInt(decisionID, 10) }

// DefaultRedress is what the customer may do about a decision; the notice adds
// the appeal link.
const DefaultRedress = "You may appeal this decision free of charge through our internal complaint-handling " +
	"system within 6 months (DSA Art. 20): reply to the notice quoting its reference, or use the appeal link in it. " +
	"You may also refer the dispute to a certified out-of-court dispute settlement body (DSA Art. 21), " +
	"and you may seek redress before the competent courts at any time."

// StatementEdit is what a reviewer may change in a draft. The decision's own
// facts (what was done, when, until when, from what source, with what
// automation) are derived from the decision and are not editable, so the
// statement cannot contradict what happened.
type StatementEdit struct {
	Facts            string // decision_facts
	Ground           string // the legal (illegal_content_legal_ground) or contractual (incompatible_content_ground) ground
	Explanation      string // illegal_content_explanation or incompatible_content_explanation
	ReferenceURL     string // decision_ground_reference_url
	Scope            string // territorial_scope: country codes separated by spaces or commas, or "EEA"
	ContentTypeOther string // content_type_other
	Redress          string
	// GroundType ("illegal" or "terms") is taken only when the statement has
	// no decision_ground yet: a decision made without one (the JSON API,
	// older callers); legal fixes it before export.
	GroundType string
}

// editFields maps the TDB field a form field edits, for errors.
var editFields = map[string]string{
	"decision_facts":                   "sor_facts",
	"decision_ground":                  "sor_ground_type",
	"illegal_content_legal_ground":     "sor_ground",
	"incompatible_content_ground":      "sor_ground",
	"illegal_content_explanation":      "sor_explanation",
	"incompatible_content_explanation": "sor_explanation",
	"decision_ground_reference_url":    "sor_reference_url",
	"territorial_scope":                "sor_scope",
	"content_type_other":               "sor_content_type_other",
}

// EditOf returns the editable part of a statement, to fill a form.
func EditOf(st sor.Statement, redress string) StatementEdit {
	e := StatementEdit{Facts: st.DecisionFacts, ReferenceURL: st.DecisionGroundReferenceURL,
		ContentTypeOther: st.ContentTypeOther, Redress: redress, Scope: ScopeText(st.TerritorialScope)}
	if st.DecisionGround == "DECISION_GROUND_INCOMPATIBLE_CONTENT" {
		e.Ground, e.Explanation = st.IncompatibleContentGround, st.IncompatibleContentExplanation
	} else {
		e.Ground, e.Explanation = st.IllegalContentLegalGround, st.IllegalContentExplanation
	}
	return e
}

// ScopeText writes a territorial scope for a form: "EEA" for all of it.
func ScopeText(codes []string) string {
	if len(codes) == len(sor.EEA) {
		all := true
		for _, c := range sor.EEA {
			all = all && slices.Contains(codes, c)
		}
		if all {
			return "EEA"
		}
	}
	return strings.Join(codes, " ")
}

// apply writes e into st; it returns the names of the TDB fields it changed.
func (e StatementEdit) apply(st *sor.Statement, redress *string) []string {
	var changed []string
	set := func(field string, dst *string, v string) {
		v = strings.TrimSpace(v)
		if *dst != v {
			*dst = v
			changed = append(changed, field)
		}
	}
	if st.DecisionGround == "" {
		switch e.GroundType {
		case "illegal":
			st.DecisionGround = "DECISION_GROUND_ILLEGAL_CONTENT"
			changed = append(changed, "decision_ground")
		case "terms":
			st.DecisionGround = "DECISION_GROUND_INCOMPATIBLE_CONTENT"
			changed = append(changed, "decision_ground")
		}
	}
	set("decision_facts", &st.DecisionFacts, e.Facts)
	set("decision_ground_reference_url", &st.DecisionGroundReferenceURL, e.ReferenceURL)
	if slices.Contains(st.ContentType, "CONTENT_TYPE_OTHER") {
		set("content_type_other", &st.ContentTypeOther, e.ContentTypeOther)
	}
	switch st.DecisionGround {
	case "DECISION_GROUND_INCOMPATIBLE_CONTENT":
		set("incompatible_content_ground", &st.IncompatibleContentGround, e.Ground)
		set("incompatible_content_explanation", &st.IncompatibleContentExplanation, e.Explanation)
	case "DECISION_GROUND_ILLEGAL_CONTENT":
		set("illegal_content_legal_ground", &st.IllegalContentLegalGround, e.Ground)
		set("illegal_content_explanation", &st.IllegalContentExplanation, e.Explanation)
		st.IncompatibleContentGround, st.IncompatibleContentExplanation = "", ""
	}
	if st.DecisionGround == "DECISION_GROUND_INCOMPATIBLE_CONTENT" {
		st.IllegalContentLegalGround, st.IllegalContentExplanation = "", ""
	}
	scope := parseScope(e.Scope)
	if !slices.Equal(scope, st.TerritorialScope) {
		st.TerritorialScope = scope
		changed = append(changed, "territorial_scope")
	}
	if r := strings.TrimSpace(e.Redress); r != *redress {
		*redress = r
		changed = append(changed, "redress")
	}
	return changed
}

func parseScope(s string) []string {
	s = strings.ToUpper(strings.TrimSpace(s))
	if s == "EEA" {
		return slices.Clone(sor.EEA)
	}
	var out []string
	for _, c := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' || r == ';' || r == '\n' || r == '\r' || r == '\t' }) {
		if !slices.Contains(out, c) {
			out = append(out, c)
		}
	}
	slices.Sort(out)
	return out
}

// check refuses an edit whose result breaks a rule on an editable field; the
// error names the form field. Problems in derived fields are not the editor's
// to fix here and show on the export page.
func (e StatementEdit) check(st sor.Statement, redress string) error {
	f := map[string]string{}
	for field, msgs := range st.Check() {
		if form, ok := editFields[field]; ok && f[form] == "" {
			f[form] = msgs[0]
		}
	}
	if strings.TrimSpace(redress) == "" {
		f["sor_redress"] = "Say how the customer can seek redress."
	}
	for _, v := range []string{e.Facts, e.Ground, e.Explanation, e.ReferenceURL, e.Redress, e.ContentTypeOther} {
		if strings.IndexFunc(v, badControl) >= 0 {
			return errs.E(errs.Invalid, "The statement contains characters that are not plain text.")
		}
	}
	if len(f) > 0 {
		return &errs.Error{Code: errs.Invalid, Message: "Correct the statement of reasons: " + firstMessage(f), Fields: f}
	}
	return nil
}

func firstMessage(f map[string]string) string {
	keys := make([]string, 0, len(f))
	for k := range f {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return f[keys[0]]
}

// HasStatement reports whether d owes a statement of reasons, for pages.
func (d *Decision) HasStatement() bool { return restricts(d) }

// restricts reports whether d owes a statement of reasons.
func restricts(d *Decision) bool { return d.Action == Restrict || d.Action == Terminate }

// categoryTDB maps Docket's categories to the TDB's category and keyword.
var categoryTDB = map[Category][2]string{
	CSAM:             {"STATEMENT_CATEGORY_PROTECTION_OF_MINORS", "KEYWORD_CHILD_SEXUAL_ABUSE_MATERIAL"},
	ViolentExtremism: {"STATEMENT_CATEGORY_RISK_FOR_PUBLIC_SECURITY", "KEYWORD_TERRORIST_CONTENT"},
	Threat:           {"STATEMENT_CATEGORY_VIOLENCE", ""},
	Phishing:         {"STATEMENT_CATEGORY_SCAMS_AND_FRAUD", "KEYWORD_PHISHING"},
	Malware:          {"STATEMENT_CATEGORY_RISK_FOR_PUBLIC_SECURITY", ""},
	Copyright:        {"STATEMENT_CATEGORY_INTELLECTUAL_PROPERTY_INFRINGEMENTS", "KEYWORD_COPYRIGHT_INFRINGEMENT"},
	Trademark:        {"STATEMENT_CATEGORY_INTELLECTUAL_PROPERTY_INFRINGEMENTS", "KEYWORD_TRADEMARK_INFRINGEMENT"},
	Harassment:       {"STATEMENT_CATEGORY_CYBER_VIOLENCE", "KEYWORD_CYBER_HARASSMENT"},
	Spam:             {"STATEMENT_CATEGORY_OTHER_VIOLATION_TC", ""},
	Other:            {"STATEMENT_CATEGORY_OTHER_VIOLATION_TC", ""},
}

// CategoryTDB is the TDB category of a Docket category.
func CategoryTDB(c Category) string {
	if m, ok := categoryTDB[c]; ok {
		return m[0]
	}
	return "STATEMENT_CATEGORY_OTHER_VIOLATION_TC"
}

var automatedTDB = map[string]string{
	"": "AUTOMATED_DECISION_NOT_AUTOMATED", "none": "AUTOMATED_DECISION_NOT_AUTOMATED",
	"partial": "AUTOMATED_DECISION_PARTIALLY", "full": "AUTOMATED_DECISION_FULLY",
}

// checkGround validates the proposal's ground type and automation. An empty
// ground type is accepted (callers from before migration 00036, imports);
// such a statement lacks decision_ground and the export page says so.
func (p *Proposal) checkGround(f map[string]string) {
	if p.GroundType != "" && p.GroundType != "illegal" && p.GroundType != "terms" {
		f["ground_type"] = "Choose illegal content or a breach of the terms of service."
	}
	if p.RequireGround && p.GroundType == "" && p.Action != NoAction && p.Action != Reinstate && p.Action != "" {
		f["ground_type"] = "Choose whether the content is illegal or breaks the terms of service."
	}
	if p.GroundType != "" && (p.Action == NoAction || p.Action == Reinstate) {
		p.GroundType = "" // nothing is restricted, so nothing needs a ground type
	}
	if p.Automated == "" {
		p.Automated = "none"
	}
	if _, ok := automatedTDB[p.Automated]; !ok {
		f["automated"] = "Choose none, partly or fully automated."
	}
}

// draft generates the statement of d from the decision, its case and the
// case's reports. No personal data goes into the TDB fields: no reporter, no
// customer name, no hostname; a trusted flagger (an organisation) is named as
// the source.
func draft(tx *gorm.DB, c *Case, d *Decision, now time.Time) (sor.Statement, error) {
	var reps []struct {
		Kind       ReporterKind
		Name       string
		ReceivedAt time.Time
	}
	err := tx.Table("reports").Select("reporters.kind, reporters.name, reports.received_at").
		Joins("JOIN reporters ON reporters.id = reports.reporter_id").
		Where("reports.case_id = ?", c.ID).Order("reports.received_at, reports.id").Scan(&reps).Error
	if err != nil {
		return sor.Statement{}, err
	}
	st := sor.Statement{PUID: PUID(d.ID), TerritorialScope: slices.Clone(sor.EEA), Category: CategoryTDB(c.Category)}
	if kw := categoryTDB[c.Category][1]; kw != "" {
		st.CategorySpecification = []string{kw}
	}
	applied := now
	if d.FinalAt != nil {
		applied = *d.FinalAt
	}
	st.ApplicationDate = applied.UTC().Format(time.DateOnly)
	// The content was online by the first report about it; Docket does not
	// know when it was posted.
	st.ContentDate = st.ApplicationDate
	if len(reps) > 0 {
		st.ContentDate = reps[0].ReceivedAt.UTC().Format(time.DateOnly)
	}
	end := ""
	if d.ExpiresAt != nil {
		end = d.ExpiresAt.UTC().Format(time.DateOnly)
	} else if d.LastsSeconds > 0 {
		end = applied.Add(time.Duration(d.LastsSeconds) * time.Second).UTC().Format(time.DateOnly)
	}

	// Whole-site measures act on the provision of the service; "total" when
	// they cover every site the customer has with us.
	total := false
	if c.CustomerID != nil {
		var owned int64
		if err := tx.Model(&Site{}).Where("customer_id = ?", *c.CustomerID).Count(&owned).Error; err != nil {
			return st, err
		}
		total = owned > 0 && int64(len(d.HostnameList())) >= owned
	}
	scope := "Partial"
	if total {
		scope = "Total"
	}
	st.ContentType, st.ContentTypeOther = []string{"CONTENT_TYPE_OTHER"}, "Website served through our network (all content under the affected hostnames)"
	var did string
	switch d.Effective() {
	case Interstitial:
		st.DecisionVisibility, st.EndDateVisibility = []string{"DECISION_VISIBILITY_CONTENT_LABELLED"}, end
		did = "A warning page was placed in front of the site; visitors may continue past it."
	case BlockURL:
		st.DecisionVisibility, st.EndDateVisibility = []string{"DECISION_VISIBILITY_CONTENT_DISABLED"}, end
		st.ContentTypeOther = "Web pages at specific URLs served through our network"
		did = fmt.Sprintf("Access to %d specific URL(s) was disabled; the rest of the site stays available.", len(d.URLList()))
	case Restrict:
		st.DecisionProvision, st.EndDateService = "DECISION_PROVISION_"+strings.ToUpper(scope)+"_SUSPENSION", end
		did = "Our service for the affected site(s) was suspended."
		if d.Emergency {
			did = "Our service for the affected site(s) was suspended at once as an emergency measure, pending review by legal and leadership."
		}
	case Terminate:
		st.DecisionProvision, st.EndDateService = "DECISION_PROVISION_"+strings.ToUpper(scope)+"_TERMINATION", end
		did = "Our service for the affected site(s) was terminated after review by legal and leadership."
		if total {
			st.DecisionAccount, st.EndDateAccount = "DECISION_ACCOUNT_TERMINATED", end
			did = "Our service for all of the customer's sites, and the account, was terminated after review by legal and leadership."
		}
	}
	st.SourceType = "SOURCE_VOLUNTARY"
	notices, flagger, network := 0, "", false
	for _, r := range reps {
		notices++
		switch r.Kind {
		case ReporterTrustedFlagger:
			if flagger == "" {
				flagger = r.Name
			}
		case ReporterNetwork:
			network = true
		}
	}
	switch {
	case flagger != "":
		st.SourceType, st.SourceIdentity = "SOURCE_TRUSTED_FLAGGER", truncate(flagger, 500)
	case notices > 0 && !network:
		st.SourceType = "SOURCE_ARTICLE_16"
	case notices > 0:
		// Network abuse feeds (ARF/X-ARF mail) are notifications, not Art. 16
		// notices: they come from machines, often without the notice's content.
		st.SourceType = "SOURCE_TYPE_OTHER_NOTIFICATION"
	}
	st.AutomatedDecision = automatedTDB[d.Automated]
	st.AutomatedDetection = "No"
	if d.Automated == "partial" || d.Automated == "full" {
		st.AutomatedDetection = "Yes"
	}
	switch d.GroundType {
	case "illegal":
		st.DecisionGround = "DECISION_GROUND_ILLEGAL_CONTENT"
		st.IllegalContentLegalGround, st.IllegalContentExplanation = d.Grounds, d.Explanation
	case "terms":
		st.DecisionGround = "DECISION_GROUND_INCOMPATIBLE_CONTENT"
		st.IncompatibleContentGround, st.IncompatibleContentExplanation = d.Grounds, d.Explanation
	default:
		// No ground type: the TDB ignores these without a decision_ground,
		// but they carry the grounds into the form that sets one.
		st.IllegalContentLegalGround, st.IllegalContentExplanation = d.Grounds, d.Explanation
	}
	facts := fmt.Sprintf("Category: %s.", c.Category.Label())
	if notices > 0 {
		facts = fmt.Sprintf("We received %d report(s) about content on a website served through our network (category: %s), the first on %s.",
			notices, c.Category.Label(), st.ContentDate)
	} else {
		facts = "We found content on a website served through our network on our own initiative (" + facts + ")"
	}
	st.DecisionFacts = facts + " A member of our abuse team reviewed the reported content. " + did
	return st, nil
}

func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) > n {
		return string(r[:n])
	}
	return s
}

// saveStatement writes the statement of a new decision, in its transaction:
// final when the decision is, a draft while it waits for sign-off.
func (s *Service) saveStatement(tx *gorm.DB, a Actor, c *Case, d *Decision, edit *StatementEdit, now time.Time) error {
	if !restricts(d) {
		return nil
	}
	st, err := draft(tx, c, d, now)
	if err != nil {
		return err
	}
	redress := DefaultRedress
	var changed []string
	if edit != nil {
		changed = edit.apply(&st, &redress)
		if err := edit.check(st, redress); err != nil {
			return err
		}
	}
	b, _ := json.Marshal(st)
	row := Statement{DecisionID: d.ID, CaseID: c.ID, PUID: st.PUID, Status: "draft", Body: string(b), Redress: redress, CreatedAt: now, UpdatedAt: now}
	if d.Status == "final" {
		row.Status, row.FinalAt = "final", &now
	}
	if err := tx.Create(&row).Error; err != nil {
		return err
	}
	details := map[string]any{"decision": d.ID, "puid": row.PUID, "status": row.Status}
	if len(changed) > 0 {
		details["edited"] = changed
	}
	return audit.Record(tx, now, a.Subject(), "statement.created", "case", strconv.FormatInt(c.ID, 10), details)
}

// finalizeStatement makes a termination's statement final at the last
// sign-off: the derived fields are generated again (the application date and
// end dates are known only now), the reviewers' edits are kept.
func (s *Service) finalizeStatement(tx *gorm.DB, a Actor, c *Case, d *Decision, now time.Time) error {
	if !restricts(d) {
		return nil
	}
	var row Statement
	err := tx.Clauses(clause.Locking{Strength: "UPDATE"}).Where("decision_id = ?", d.ID).Take(&row).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		// A proposal made before statements existed: generate it now.
		return s.saveStatement(tx, a, c, d, nil, now)
	}
	if err != nil {
		return err
	}
	st, err := draft(tx, c, d, now)
	if err != nil {
		return err
	}
	redress := row.Redress
	EditOf(row.TDB(), row.Redress).apply(&st, &redress)
	b, _ := json.Marshal(st)
	if err := tx.Model(&row).Updates(map[string]any{"status": "final", "final_at": now, "updated_at": now, "body": string(b)}).Error; err != nil {
		return err
	}
	return audit.Record(tx, now, a.Subject(), "statement.final", "case", strconv.FormatInt(c.ID, 10), map[string]any{"decision": d.ID, "puid": row.PUID})
}

// StatementView is a statement with its decision and case, for pages.
type StatementView struct {
	Statement Statement
	TDB       sor.Statement
	Decision  Decision
	Case      Case
	Problems  sor.Errors
	// CanEdit is whether the viewer may edit it now: a draft, and the viewer
	// is its proposer or may sign it off.
	CanEdit bool
}

// Text is the statement as the customer reads it.
func (v *StatementView) Text() string { return StatementText(v.TDB, v.Statement.Redress) }

// Edit is the editable part, to fill a form.
func (v *StatementView) Edit() StatementEdit { return EditOf(v.TDB, v.Statement.Redress) }

func mayEdit(a Actor, d *Decision) bool {
	return d.ProposerID == a.UserID || a.can("signoff/legal", "give") || a.can("signoff/leadership", "give")
}

// StatementByID returns a statement for a viewer who may read queues.
func (s *Service) StatementByID(ctx context.Context, a Actor, id int64, queues []string) (*StatementView, error) {
	return s.statementView(s.db.R.WithContext(ctx), a, "statements.id = ?", id, queues)
}

// StatementForDecision returns decision id's statement, or nil when it has none.
func (s *Service) StatementForDecision(ctx context.Context, a Actor, decisionID int64, queues []string) (*StatementView, error) {
	v, err := s.statementView(s.db.R.WithContext(ctx), a, "statements.decision_id = ?", decisionID, queues)
	if errs.CodeOf(err) == errs.NotFound {
		return nil, nil
	}
	return v, err
}

// StatementOf reads decision id's statement in a transaction, for the notice
// hook; nil when the decision has none.
func StatementOf(tx *gorm.DB, decisionID int64) (*Statement, error) {
	var row Statement
	err := tx.Where("decision_id = ?", decisionID).Take(&row).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, nil
	}
	return &row, err
}

func (s *Service) statementView(db *gorm.DB, a Actor, where string, id int64, queues []string) (*StatementView, error) {
	var v StatementView
	if err := db.Where(where, id).Take(&v.Statement).Error; err != nil {
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return nil, errs.E(errs.NotFound, "There is no such statement of reasons.")
		}
		return nil, err
	}
	if err := db.Take(&v.Case, v.Statement.CaseID).Error; err != nil {
		return nil, err
	}
	if !slices.Contains(queues, v.Case.Queue) {
		return nil, errs.E(errs.NotFound, "There is no such statement of reasons.")
	}
	if err := db.Take(&v.Decision, v.Statement.DecisionID).Error; err != nil {
		return nil, err
	}
	v.TDB = v.Statement.TDB()
	v.Problems = v.TDB.Check()
	v.CanEdit = editable(a, &v.Statement, &v.Decision, v.Problems)
	return &v, nil
}

// editable: a draft by its proposer and those who sign it off; a final
// statement only while it is not exported and breaks a rule, by legal, so a
// statement that cannot go to the TDB can be mended (the customer's notice
// has gone out; the fix is audited).
func editable(a Actor, st *Statement, d *Decision, problems sor.Errors) bool {
	if st.Status == "draft" {
		return d.Status == "proposed" && mayEdit(a, d)
	}
	return st.ExportedAt == nil && len(problems) > 0 && a.can("signoff/legal", "give")
}

// EditStatement changes a draft. Only the proposer and people who may sign the
// decision off may, and only while it waits for sign-off; the change is
// audited in the same transaction, naming the fields changed.
func (s *Service) EditStatement(ctx context.Context, a Actor, id int64, queues []string, e StatementEdit) (*StatementView, error) {
	err := s.db.W.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		now := s.now().UTC()
		var row Statement
		if err := tx.Clauses(clause.Locking{Strength: "UPDATE"}).Take(&row, id).Error; err != nil {
			if errors.Is(err, gorm.ErrRecordNotFound) {
				return errs.E(errs.NotFound, "There is no such statement of reasons.")
			}
			return err
		}
		var c Case
		if err := tx.Take(&c, row.CaseID).Error; err != nil {
			return err
		}
		if !slices.Contains(queues, c.Queue) {
			return errs.E(errs.NotFound, "There is no such statement of reasons.")
		}
		var d Decision
		if err := tx.Take(&d, row.DecisionID).Error; err != nil {
			return err
		}
		st := row.TDB()
		switch {
		case row.Status == "draft" && d.Status != "proposed":
			return errs.E(errs.Conflict, "This decision is no longer waiting for sign-off: its statement cannot be edited.")
		case row.Status == "draft" && !mayEdit(a, &d):
			return errs.E(errs.Forbidden, "Only the proposer and those who sign it off may edit this statement.")
		case row.Status != "draft" && (row.ExportedAt != nil || len(st.Check()) == 0):
			return errs.E(errs.Conflict, "This statement is final: it can no longer be edited.")
		case row.Status != "draft" && !a.can("signoff/legal", "give"):
			return errs.E(errs.Forbidden, "Only legal may correct a final statement before it is exported.")
		}
		redress := row.Redress
		changed := e.apply(&st, &redress)
		if err := e.check(st, redress); err != nil {
			return err
		}
		if len(changed) == 0 {
			return nil
		}
		b, _ := json.Marshal(st)
		if err := tx.Model(&row).Updates(map[string]any{"body": string(b), "redress": redress, "updated_at": now}).Error; err != nil {
			return err
		}
		if slices.Contains(changed, "decision_ground") && d.GroundType == "" {
			// Keep the decision's own column (read by the transparency report) in step.
			if err := tx.Model(&Decision{}).Where("id = ? AND ground_type = ''", d.ID).Update("ground_type", e.GroundType).Error; err != nil {
				return err
			}
		}
		return audit.Record(tx, now, a.Subject(), "statement.edited", "case", strconv.FormatInt(c.ID, 10),
			map[string]any{"decision": d.ID, "statement": row.ID, "fields": changed})
	})
	if err != nil {
		return nil, err
	}
	return s.StatementByID(ctx, a, id, queues)
}

// PreviewStatement generates the draft a proposal would get, writing nothing:
// the decide form shows it for editing before the decision is submitted.
func (s *Service) PreviewStatement(ctx context.Context, caseID int64, queues []string, p Proposal) (*sor.Statement, error) {
	var out sor.Statement
	tx := s.db.R.WithContext(ctx)
	err := func() error {
		var c Case
		if err := tx.Take(&c, caseID).Error; err != nil || !slices.Contains(queues, c.Queue) {
			return ErrCaseNotFound
		}
		f := map[string]string{}
		measure := p.checkMeasure(f)
		p.checkGround(f)
		now := s.now().UTC()
		d := Decision{ID: 0, CaseID: c.ID, Action: p.Action.stored(), Measure: measure, Grounds: strings.TrimSpace(p.Grounds),
			Explanation: strings.TrimSpace(p.Explanation), Emergency: p.Emergency, GroundType: p.GroundType, Automated: p.Automated,
			LastsSeconds: int64(p.Lasts / time.Second), Hostnames: "[]", URLs: "[]", FinalAt: &now}
		if !restricts(&d) {
			return errs.E(errs.Invalid, "Only a restriction or a termination has a statement of reasons.")
		}
		if d.Measure == string(BlockURL) {
			if urls, hs, err := blockedURLs(tx, &c, p.URLs); err == nil {
				b, _ := json.Marshal(urls)
				d.URLs = string(b)
				b, _ = json.Marshal(hs)
				d.Hostnames = string(b)
			}
		} else if hs, err := affectedHostnames(tx, &c, p.Hostnames); err == nil {
			b, _ := json.Marshal(hs)
			d.Hostnames = string(b)
		}
		var err error
		out, err = draft(tx, &c, &d, now)
		out.PUID = "" // not known before the decision exists
		return err
	}()
	if err != nil {
		return nil, err
	}
	return &out, nil
}

// StatementRow is one final statement for the export page.
type StatementRow struct {
	Statement Statement
	Case      Case
	TDB       sor.Statement
	Problems  sor.Errors
}

// MaxStatementList bounds one listing of the export page.
const MaxStatementList = 1000

// FinalStatements lists final statements whose decision became final in
// [since, until), oldest first (until zero: no end), at most limit.
func (s *Service) FinalStatements(ctx context.Context, since, until time.Time, limit int) ([]StatementRow, error) {
	q := s.db.R.WithContext(ctx).Where("status = ? AND final_at >= ?", "final", since.UTC())
	if !until.IsZero() {
		q = q.Where("final_at < ?", until.UTC())
	}
	var rows []Statement
	if err := q.Order("final_at, id").Limit(limit).Find(&rows).Error; err != nil {
		return nil, err
	}
	ids := make([]int64, 0, len(rows))
	for _, r := range rows {
		ids = append(ids, r.CaseID)
	}
	var cs []Case
	if len(ids) > 0 {
		if err := s.db.R.WithContext(ctx).Where("id IN ?", ids).Find(&cs).Error; err != nil {
			return nil, err
		}
	}
	byID := map[int64]Case{}
	for _, c := range cs {
		byID[c.ID] = c
	}
	out := make([]StatementRow, 0, len(rows))
	for _, r := range rows {
		t := r.TDB()
		out = append(out, StatementRow{Statement: r, Case: byID[r.CaseID], TDB: t, Problems: t.Check()})
	}
	return out, nil
}

// ExportResult is one export run: the valid statements in batches of at most
// 100, and the statements left out because they break a rule.
type ExportResult struct {
	Batches []sor.Batch
	Invalid []StatementRow
	Batch   string // the export's id, recorded on each exported statement
}

// ExportStatements exports the final statements of [since, until): each is
// validated first; the valid ones are batched and marked exported (the first
// export's time stays; export_batch names the latest). The PUIDs are the
// stored ones, so exporting again sends the same identifiers and the TDB
// refuses a duplicate instead of storing a second statement.
func (s *Service) ExportStatements(ctx context.Context, actor string, since, until time.Time) (*ExportResult, error) {
	rows, err := s.FinalStatements(ctx, since, until, 1<<30)
	if err != nil {
		return nil, err
	}
	now := s.now().UTC()
	res := &ExportResult{Batch: "sor-" + now.Format("20060102T150405Z")}
	var ok []sor.Statement
	var ids []int64
	for _, r := range rows {
		if len(r.Problems) > 0 {
			res.Invalid = append(res.Invalid, r)
			continue
		}
		ok = append(ok, r.TDB)
		ids = append(ids, r.Statement.ID)
	}
	res.Batches = sor.Batches(ok)
	if len(ids) == 0 {
		return res, nil
	}
	err = s.db.W.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		for chunk := range slices.Chunk(ids, 500) {
			if err := tx.Model(&Statement{}).Where("id IN ? AND exported_at IS NULL", chunk).Update("exported_at", now).Error; err != nil {
				return err
			}
			if err := tx.Model(&Statement{}).Where("id IN ?", chunk).Update("export_batch", res.Batch).Error; err != nil {
				return err
			}
		}
		return audit.Record(tx, now, actor, "statement.exported", "statements", res.Batch,
			map[string]any{"count": len(ids), "invalid": len(res.Invalid), "since": since.UTC().Format(time.RFC3339)})
	})
	if err != nil {
		return nil, err
	}
	return res, nil
}

// labels for the text form.
var visibilityText = map[string]string{
	"DECISION_VISIBILITY_CONTENT_LABELLED": "a warning page in front of the content",
	"DECISION_VISIBILITY_CONTENT_DISABLED": "access to the content disabled",
}

var provisionText = map[string]string{
	"DECISION_PROVISION_PARTIAL_SUSPENSION":  "service suspended for the affected sites",
	"DECISION_PROVISION_TOTAL_SUSPENSION":    "service suspended for all of your sites",
	"DECISION_PROVISION_PARTIAL_TERMINATION": "service terminated for the affected sites",
	"DECISION_PROVISION_TOTAL_TERMINATION":   "service terminated for all of your sites",
}

var sourceText = map[string]string{
	"SOURCE_ARTICLE_16":              "a notice of allegedly illegal content (DSA Art. 16)",
	"SOURCE_TRUSTED_FLAGGER":         "a notice from a trusted flagger (DSA Art. 22)",
	"SOURCE_TYPE_OTHER_NOTIFICATION": "a notification from an abuse reporting network",
	"SOURCE_VOLUNTARY":               "our own initiative",
}

var automatedText = map[string]string{
	"AUTOMATED_DECISION_NOT_AUTOMATED": "No automated means were used: a person decided.",
	"AUTOMATED_DECISION_PARTIALLY":     "Automated means were used in part; a person took the decision.",
	"AUTOMATED_DECISION_FULLY":         "The decision was taken by automated means.",
}

// StatementText renders a statement as plain text for the customer: the
// action with its territorial scope and duration, the facts, the source,
// automation, the ground with its explanation, and redress.
func StatementText(st sor.Statement, redress string) string {
	var b strings.Builder
	line := func(label, v string) {
		if v != "" {
			fmt.Fprintf(&b, "%s: %s\n", label, v)
		}
	}
	var action []string
	for _, v := range st.DecisionVisibility {
		action = append(action, or(visibilityText[v], v))
	}
	if st.DecisionProvision != "" {
		action = append(action, or(provisionText[st.DecisionProvision], st.DecisionProvision))
	}
	if st.DecisionAccount == "DECISION_ACCOUNT_TERMINATED" {
		action = append(action, "account terminated")
	}
	line("Action", strings.Join(action, "; "))
	scope := ScopeText(st.TerritorialScope)
	if scope == "EEA" {
		scope = "all countries of the European Economic Area"
	}
	line("Territorial scope", scope)
	line("Applies from", st.ApplicationDate)
	until := "until we decide otherwise"
	for _, e := range []string{st.EndDateVisibility, st.EndDateService, st.EndDateAccount} {
		if e != "" {
			until = "until " + e
		}
	}
	line("Duration", until)
	line("Facts and circumstances", st.DecisionFacts)
	src := or(sourceText[st.SourceType], st.SourceType)
	if st.SourceType == "SOURCE_TRUSTED_FLAGGER" && st.SourceIdentity != "" {
		src += " (" + st.SourceIdentity + ")"
	}
	line("The decision followed", src)
	line("Automated means", automatedText[st.AutomatedDecision])
	switch st.DecisionGround {
	case "DECISION_GROUND_ILLEGAL_CONTENT":
		line("Ground", "the content is illegal")
		line("Legal ground relied on", st.IllegalContentLegalGround)
		line("Why the content is illegal on that ground", st.IllegalContentExplanation)
	case "DECISION_GROUND_INCOMPATIBLE_CONTENT":
		line("Ground", "the content is incompatible with our terms of service")
		line("Contractual ground relied on", st.IncompatibleContentGround)
		line("Why the content is incompatible with it", st.IncompatibleContentExplanation)
	}
	line("Terms or law", st.DecisionGroundReferenceURL)
	line("Redress", redress)
	return b.String()
}

func or(a, b string) string {
	if a != "" {
		return a
	}
	return b
}
