// Package sor holds statements of reasons (DSA Art. 17) in the form of the EU
// DSA Transparency Database API: the JSON document, the enum values, and a
// validator written from the API's documented rules
// (../shared/reference/dsa-tdb-api-documentation.md). It is pure: no database,
// no HTTP. The cases package stores statements; this package says what a valid
// one is and how they are batched for submission.
package sor

import (
	"encoding/json"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"
	"unicode/utf8"
)

// Statement is one statement of reasons with the Transparency Database's field
// names. Empty optional fields are left out of the JSON, as the API expects
// absent (or null) rather than empty values.
type Statement struct {
	DecisionVisibility      []string `json:"decision_visibility,omitempty"`
	DecisionVisibilityOther string   `json:"decision_visibility_other,omitempty"`
	EndDateVisibility       string   `json:"end_date_visibility_restriction,omitempty"`
	DecisionMonetary        string   `json:"decision_monetary,omitempty"`
	DecisionMonetaryOther   string   `json:"decision_monetary_other,omitempty"`
	EndDateMonetary         string   `json:"end_date_monetary_restriction,omitempty"`
	DecisionProvision       string   `json:"decision_provision,omitempty"`
	EndDateService          string   `json:"end_date_service_restriction,omitempty"`
	DecisionAccount         string   `json:"decision_account,omitempty"`
	EndDateAccount          string   `json:"end_date_account_restriction,omitempty"`
	AccountType             string   `json:"account_type,omitempty"`

	DecisionGround                 string `json:"decision_ground"`
	DecisionGroundReferenceURL     string `json:"decision_ground_reference_url,omitempty"`
	IllegalContentLegalGround      string `json:"illegal_content_legal_ground,omitempty"`
	IllegalContentExplanation      string `json:"illegal_content_explanation,omitempty"`
	IncompatibleContentGround      string `json:"incompatible_content_ground,omitempty"`
	IncompatibleContentExplanation string `json:"incompatible_content_explanation,omitempty"`
	IncompatibleContentIllegal     string `json:"incompatible_content_illegal,omitempty"`

	ContentType      []string `json:"content_type"`
	ContentTypeOther string   `json:"content_type_other,omitempty"`

	Category                   string   `json:"category"`
	CategoryAddition           []string `json:"category_addition,omitempty"`
	CategorySpecification      []string `json:"category_specification,omitempty"`
	CategorySpecificationOther string   `json:"category_specification_other,omitempty"`

	TerritorialScope []string `json:"territorial_scope"`
	ContentLanguage  string   `json:"content_language,omitempty"`
	ContentDate      string   `json:"content_date"`
	ApplicationDate  string   `json:"application_date"`

	DecisionFacts      string `json:"decision_facts"`
	SourceType         string `json:"source_type"`
	SourceIdentity     string `json:"source_identity,omitempty"`
	AutomatedDetection string `json:"automated_detection"`
	AutomatedDecision  string `json:"automated_decision"`
	PUID               string `json:"puid"`
}

// Batch is the body of the API's multiple-statements endpoint.
type Batch struct {
	Statements []Statement `json:"statements"`
}

// BatchSize is the most statements the multiple endpoint takes in one call.
const BatchSize = 100

// Batches splits statements into batches of at most BatchSize, in order.
func Batches(st []Statement) []Batch {
	var out []Batch
	for len(st) > 0 {
		n := min(len(st), BatchSize)
		out = append(out, Batch{Statements: st[:n:n]})
		st = st[n:]
	}
	return out
}

// Enum values, as the API documents them (the schema of 1 July 2025).
var (
	DecisionVisibilities = []string{
		"DECISION_VISIBILITY_CONTENT_REMOVED", "DECISION_VISIBILITY_CONTENT_DISABLED",
		"DECISION_VISIBILITY_CONTENT_DEMOTED", "DECISION_VISIBILITY_CONTENT_AGE_RESTRICTED",
		"DECISION_VISIBILITY_CONTENT_INTERACTION_RESTRICTED", "DECISION_VISIBILITY_CONTENT_LABELLED",
		"DECISION_VISIBILITY_OTHER",
	}
	DecisionMonetaries = []string{"DECISION_MONETARY_SUSPENSION", "DECISION_MONETARY_TERMINATION", "DECISION_MONETARY_OTHER"}
	DecisionProvisions = []string{
		"DECISION_PROVISION_PARTIAL_SUSPENSION", "DECISION_PROVISION_TOTAL_SUSPENSION",
		"DECISION_PROVISION_PARTIAL_TERMINATION", "DECISION_PROVISION_TOTAL_TERMINATION",
	}
	DecisionAccounts = []string{"DECISION_ACCOUNT_SUSPENDED", "DECISION_ACCOUNT_TERMINATED"}
	AccountTypes     = []string{"ACCOUNT_TYPE_BUSINESS", "ACCOUNT_TYPE_PRIVATE"}
	DecisionGrounds  = []string{"DECISION_GROUND_ILLEGAL_CONTENT", "DECISION_GROUND_INCOMPATIBLE_CONTENT"}
	ContentTypes     = []string{
		"CONTENT_TYPE_APP", "CONTENT_TYPE_AUDIO", "CONTENT_TYPE_IMAGE", "CONTENT_TYPE_PRODUCT",
		"CONTENT_TYPE_SYNTHETIC_MEDIA", "CONTENT_TYPE_TEXT", "CONTENT_TYPE_VIDEO", "CONTENT_TYPE_OTHER",
	}
	Categories = []string{
		"STATEMENT_CATEGORY_ANIMAL_WELFARE", "STATEMENT_CATEGORY_CONSUMER_INFORMATION",
		"STATEMENT_CATEGORY_CYBER_VIOLENCE", "STATEMENT_CATEGORY_CYBER_VIOLENCE_AGAINST_WOMEN",
		"STATEMENT_CATEGORY_DATA_PROTECTION_AND_PRIVACY_VIOLATIONS", "STATEMENT_CATEGORY_ILLEGAL_OR_HARMFUL_SPEECH",
		"STATEMENT_CATEGORY_INTELLECTUAL_PROPERTY_INFRINGEMENTS", "STATEMENT_CATEGORY_NEGATIVE_EFFECTS_ON_CIVIC_DISCOURSE_OR_ELECTIONS",
		"STATEMENT_CATEGORY_NOT_SPECIFIED_NOTICE", "STATEMENT_CATEGORY_OTHER_VIOLATION_TC",
		"STATEMENT_CATEGORY_PROTECTION_OF_MINORS", "STATEMENT_CATEGORY_RISK_FOR_PUBLIC_SECURITY",
		"STATEMENT_CATEGORY_SCAMS_AND_FRAUD", "STATEMENT_CATEGORY_SELF_HARM",
		"STATEMENT_CATEGORY_UNSAFE_AND_PROHIBITED_PRODUCTS", "STATEMENT_CATEGORY_VIOLENCE",
	}
	Keywords = []string{
		"KEYWORD_ANIMAL_HARM", "KEYWORD_ADULT_SEXUAL_MATERIAL", "KEYWORD_AGE_SPECIFIC_RESTRICTIONS",
		"KEYWORD_AGE_SPECIFIC_RESTRICTIONS_MINORS", "KEYWORD_BIOMETRIC_DATA_BREACH", "KEYWORD_BULLYING_AGAINST_GIRLS",
		"KEYWORD_CHILD_SEXUAL_ABUSE_MATERIAL", "KEYWORD_CHILD_SEXUAL_ABUSE_MATERIAL_DEEPFAKE",
		"KEYWORD_CONTENT_PROMOTING_EATING_DISORDERS", "KEYWORD_COORDINATED_HARM", "KEYWORD_COPYRIGHT_INFRINGEMENT",
		"KEYWORD_CYBER_BULLYING_INTIMIDATION", "KEYWORD_CYBER_HARASSMENT", "KEYWORD_CYBER_HARASSMENT_AGAINST_WOMEN",
		"KEYWORD_CYBER_INCITEMENT", "KEYWORD_CYBER_STALKING", "KEYWORD_CYBER_STALKING_AGAINST_WOMEN",
		"KEYWORD_DATA_FALSIFICATION", "KEYWORD_DEFAMATION", "KEYWORD_DESIGN_INFRINGEMENT", "KEYWORD_DISCRIMINATION",
		"KEYWORD_MISINFORMATION_DISINFORMATION", "KEYWORD_FEMALE_GENDERED_DISINFORMATION",
		"KEYWORD_GEOGRAPHIC_INDICATIONS_INFRINGEMENT", "KEYWORD_GEOGRAPHICAL_REQUIREMENTS",
		"KEYWORD_GOODS_SERVICES_NOT_PERMITTED", "KEYWORD_GROOMING_SEXUAL_ENTICEMENT_MINORS", "KEYWORD_HATE_SPEECH",
		"KEYWORD_HIDDEN_ADVERTISEMENT", "KEYWORD_HUMAN_EXPLOITATION", "KEYWORD_HUMAN_TRAFFICKING",
		"KEYWORD_ILLEGAL_ORGANIZATIONS", "KEYWORD_IMPERSONATION_ACCOUNT_HIJACKING", "KEYWORD_INAUTHENTIC_ACCOUNTS",
		"KEYWORD_INAUTHENTIC_LISTINGS", "KEYWORD_INAUTHENTIC_USER_REVIEWS", "KEYWORD_INCITEMENT_AGAINST_WOMEN",
		"KEYWORD_INCITEMENT_VIOLENCE_HATRED", "KEYWORD_INSUFFICIENT_INFORMATION_ON_TRADERS",
		"KEYWORD_LANGUAGE_REQUIREMENTS", "KEYWORD_MISLEADING_INFO_CONSUMER_RIGHTS",
		"KEYWORD_MISLEADING_INFO_GOODS_SERVICES", "KEYWORD_MISSING_PROCESSING_GROUND",
		"KEYWORD_NON_CONSENSUAL_IMAGE_SHARING", "KEYWORD_NON_CONSENSUAL_IMAGE_SHARING_AGAINST_WOMEN",
		"KEYWORD_NON_CONSENSUAL_MATERIAL_DEEPFAKE", "KEYWORD_NON_CONSENSUAL_MATERIAL_DEEPFAKE_AGAINST_WOMEN",
		"KEYWORD_NONCOMPLIANCE_PRICING", "KEYWORD_NUDITY", "KEYWORD_PATENT_INFRINGEMENT", "KEYWORD_PHISHING",
		"KEYWORD_PROHIBITED_PRODUCTS", "KEYWORD_PYRAMID_SCHEMES", "KEYWORD_RIGHT_TO_BE_FORGOTTEN",
		"KEYWORD_RISK_ENVIRONMENTAL_DAMAGE", "KEYWORD_RISK_PUBLIC_HEALTH", "KEYWORD_SELF_MUTILATION",
		"KEYWORD_STALKING", "KEYWORD_SUICIDE", "KEYWORD_TERRORIST_CONTENT", "KEYWORD_TRADE_SECRET_INFRINGEMENT",
		"KEYWORD_TRADEMARK_INFRINGEMENT", "KEYWORD_TRAFFICKING_WOMEN_GIRLS", "KEYWORD_UNLAWFUL_SALE_ANIMALS",
		"KEYWORD_UNSAFE_CHALLENGES", "KEYWORD_UNSAFE_PRODUCTS", "KEYWORD_VIOLATION_EU_LAW",
		"KEYWORD_VIOLATION_NATIONAL_LAW", "KEYWORD_OTHER",
	}
	SourceTypes        = []string{"SOURCE_ARTICLE_16", "SOURCE_TRUSTED_FLAGGER", "SOURCE_TYPE_OTHER_NOTIFICATION", "SOURCE_VOLUNTARY"}
	AutomatedDecisions = []string{"AUTOMATED_DECISION_FULLY", "AUTOMATED_DECISION_PARTIALLY", "AUTOMATED_DECISION_NOT_AUTOMATED"}
	YesNo              = []string{"Yes", "No"}
	// EEA is every country the territorial scope may name: the EU 27 plus
	// Iceland, Liechtenstein and Norway. A global CDN action covers all of them.
	EEA = []string{
		"AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GR", "HR", "HU", "IE", "IS",
		"IT", "LI", "LT", "LU", "LV", "MT", "NL", "NO", "PL", "PT", "RO", "SE", "SI", "SK",
	}
	// Languages are the ISO 639-1 codes, upper case, that content_language takes.
	Languages = strings.Fields(`AA AB AE AF AK AM AN AR AS AV AY AZ BA BE BG BI BM BN BO BR BS CA CE CH CO CR CS CU CV CY
		DA DE DV DZ EE EL EN EO ES ET EU FA FF FI FJ FO FR FY GA GD GL GN GU GV HA HE HI HO HR HT HU HY HZ IA ID IE
		IG II IK IO IS IT IU JA JV KA KG KI KJ KK KL KM KN KO KR KS KU KV KW KY LA LB LG LI LN LO LT LU LV MG MH MI
		MK ML MN MR MS MT MY NA NB ND NE NG NL NN NO NR NV NY OC OJ OM OR OS PA PI PL PS PT QU RM RN RO RU RW SA SC
		SD SE SG SI SK SL SM SN SO SQ SR SS ST SU SV SW TA TE TG TH TI TK TL TN TO TR TS TT TW TY UG UK UR UZ VE VI
		VO WA WO XH YI YO ZA ZH ZU`)
)

// puidRe is the documented PUID charset: letters, digits, '-' and '_'.
var puidRe = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)

// Errors maps a field name to what is wrong with it, as the API's 422 answers do.
type Errors map[string][]string

func (e Errors) add(field, msg string) { e[field] = append(e[field], msg) }

// Fields returns the first message per field, for errs.Error.Fields.
func (e Errors) Fields() map[string]string {
	out := make(map[string]string, len(e))
	for k, v := range e {
		out[k] = v[0]
	}
	return out
}

// Names returns the fields with errors, sorted.
func (e Errors) Names() []string {
	out := make([]string, 0, len(e))
	for k := range e {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// Error lists every field's messages in one line.
func (e Errors) Error() string {
	var b strings.Builder
	for i, k := range e.Names() {
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(k + ": " + strings.Join(e[k], " "))
	}
	return b.String()
}

// kind is the JSON shape a field must have.
type kind int

const (
	text kind = iota
	list
	date
	object
)

// rule is one field's documented constraints. required is unconditional;
// requiredIf and excludeUnless are the conditional rules (a field excluded by
// its condition is ignored, whatever it holds, as the API does).
type rule struct {
	field         string
	kind          kind
	required      bool
	requiredIf    func(doc map[string]any) bool
	excludeUnless func(doc map[string]any) bool
	enum          []string
	max           int    // characters, for text
	minDate       string // YYYY-MM-DD, inclusive
	url           bool   // an absolute http(s) URL
	when          string // the condition in words, for the message
}

func equals(field, value string) func(map[string]any) bool {
	return func(doc map[string]any) bool { s, _ := doc[field].(string); return s == value }
}

func includes(field, value string) func(map[string]any) bool {
	return func(doc map[string]any) bool { return slices.Contains(strs(doc[field]), value) }
}

// noneOf reports whether every named field is absent: the decision_* fields
// are each required when all the others are missing.
func noneOf(fields ...string) func(map[string]any) bool {
	return func(doc map[string]any) bool {
		for _, f := range fields {
			if present(doc[f]) {
				return false
			}
		}
		return true
	}
}

const (
	groundIllegal      = "DECISION_GROUND_ILLEGAL_CONTENT"
	groundIncompatible = "DECISION_GROUND_INCOMPATIBLE_CONTENT"
)

// rules is the documented validation, one row per field.
var rules = []rule{
	{field: "decision_visibility", kind: list, enum: DecisionVisibilities, requiredIf: noneOf("decision_monetary", "decision_provision", "decision_account"), when: "none of decision_monetary, decision_provision, decision_account is present"},
	{field: "decision_visibility_other", kind: text, max: 500, requiredIf: includes("decision_visibility", "DECISION_VISIBILITY_OTHER"), excludeUnless: includes("decision_visibility", "DECISION_VISIBILITY_OTHER"), when: "decision_visibility includes DECISION_VISIBILITY_OTHER"},
	{field: "decision_monetary", kind: text, enum: DecisionMonetaries, requiredIf: noneOf("decision_visibility", "decision_provision", "decision_account"), when: "none of decision_visibility, decision_provision, decision_account is present"},
	{field: "decision_monetary_other", kind: text, max: 500, requiredIf: equals("decision_monetary", "DECISION_MONETARY_OTHER"), excludeUnless: equals("decision_monetary", "DECISION_MONETARY_OTHER"), when: "decision_monetary is DECISION_MONETARY_OTHER"},
	{field: "decision_provision", kind: text, enum: DecisionProvisions, requiredIf: noneOf("decision_visibility", "decision_monetary", "decision_account"), when: "none of decision_visibility, decision_monetary, decision_account is present"},
	{field: "decision_account", kind: text, enum: DecisionAccounts, requiredIf: noneOf("decision_visibility", "decision_monetary", "decision_provision"), when: "none of decision_visibility, decision_monetary, decision_provision is present"},
	{field: "account_type", kind: text, enum: AccountTypes},
	{field: "decision_facts", kind: text, required: true, max: 5000},
	{field: "decision_ground", kind: text, required: true, enum: DecisionGrounds},
	{field: "decision_ground_reference_url", kind: text, max: 500, url: true},
	{field: "illegal_content_legal_ground", kind: text, max: 500, requiredIf: equals("decision_ground", groundIllegal), excludeUnless: equals("decision_ground", groundIllegal), when: "decision_ground is " + groundIllegal},
	{field: "illegal_content_explanation", kind: text, max: 2000, requiredIf: equals("decision_ground", groundIllegal), excludeUnless: equals("decision_ground", groundIllegal), when: "decision_ground is " + groundIllegal},
	{field: "incompatible_content_ground", kind: text, max: 500, requiredIf: equals("decision_ground", groundIncompatible), excludeUnless: equals("decision_ground", groundIncompatible), when: "decision_ground is " + groundIncompatible},
	{field: "incompatible_content_explanation", kind: text, max: 2000, requiredIf: equals("decision_ground", groundIncompatible), excludeUnless: equals("decision_ground", groundIncompatible), when: "decision_ground is " + groundIncompatible},
	{field: "incompatible_content_illegal", kind: text, enum: YesNo, excludeUnless: equals("decision_ground", groundIncompatible)},
	{field: "content_type", kind: list, required: true, enum: ContentTypes},
	{field: "content_type_other", kind: text, max: 500, requiredIf: includes("content_type", "CONTENT_TYPE_OTHER"), excludeUnless: includes("content_type", "CONTENT_TYPE_OTHER"), when: "content_type includes CONTENT_TYPE_OTHER"},
	{field: "category", kind: text, required: true, enum: Categories},
	{field: "category_addition", kind: list, enum: Categories},
	{field: "category_specification", kind: list, enum: Keywords},
	{field: "category_specification_other", kind: text, max: 500},
	{field: "content_id", kind: object},
	{field: "territorial_scope", kind: list, required: true, enum: EEA},
	{field: "content_language", kind: text, enum: Languages},
	{field: "content_date", kind: date, required: true, minDate: "2000-01-01"},
	{field: "application_date", kind: date, required: true, minDate: "2020-01-01"},
	{field: "end_date_account_restriction", kind: date},
	{field: "end_date_monetary_restriction", kind: date},
	{field: "end_date_service_restriction", kind: date},
	{field: "end_date_visibility_restriction", kind: date},
	{field: "source_type", kind: text, required: true, enum: SourceTypes},
	{field: "source_identity", kind: text, max: 500},
	{field: "automated_detection", kind: text, required: true, enum: YesNo},
	{field: "automated_decision", kind: text, required: true, enum: AutomatedDecisions},
	{field: "puid", kind: text, required: true, max: 500},
}

// endDates must be on or after application_date.
var endDates = []string{"end_date_account_restriction", "end_date_monetary_restriction", "end_date_service_restriction", "end_date_visibility_restriction"}

// Validate checks one statement's JSON object against the documented rules.
// Fields the API adds to its answers (uuid, permalink, …) and unknown fields
// are ignored, as the API ignores them. An empty Errors means valid.
func Validate(doc map[string]any) Errors {
	e := Errors{}
	for _, r := range rules {
		v, ok := doc[r.field]
		if r.excludeUnless != nil && !r.excludeUnless(doc) {
			continue
		}
		if !ok || !present(v) {
			switch {
			case r.required:
				e.add(r.field, "The "+r.field+" field is required.")
			case r.requiredIf != nil && r.requiredIf(doc):
				e.add(r.field, "The "+r.field+" field is required when "+r.when+".")
			}
			continue
		}
		checkValue(e, r, v)
	}
	if app, ok := doc["application_date"].(string); ok && validDate(app) {
		for _, f := range endDates {
			if end, ok := doc[f].(string); ok && validDate(end) && end < app {
				e.add(f, "The "+f+" must be a date after or equal to application_date.")
			}
		}
	}
	if p, ok := doc["puid"].(string); ok && p != "" && !puidRe.MatchString(p) {
		e.add("puid", "The puid may contain only letters a-z and A-Z, digits, hyphens and underscores.")
	}
	return e
}

func checkValue(e Errors, r rule, v any) {
	switch r.kind {
	case text:
		s, ok := v.(string)
		if !ok {
			e.add(r.field, "The "+r.field+" must be a string.")
			return
		}
		if r.max > 0 && utf8.RuneCountInString(s) > r.max {
			e.add(r.field, fmt.Sprintf("The %s must not be greater than %d characters (it has %d).", r.field, r.max, utf8.RuneCountInString(s)))
		}
		if r.enum != nil && !slices.Contains(r.enum, s) {
			e.add(r.field, "The selected "+r.field+" is invalid ("+s+").")
		}
		if u, err := url.Parse(s); r.url && (err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "") {
			e.add(r.field, "The "+r.field+" must be a valid URL (http or https).")
		}
	case list:
		items, ok := v.([]any)
		if !ok {
			e.add(r.field, "The "+r.field+" must be an array.")
			return
		}
		if len(items) == 0 && (r.required || r.requiredIf != nil) {
			e.add(r.field, "The "+r.field+" must have at least one value.")
		}
		for _, it := range items {
			s, _ := it.(string)
			if !slices.Contains(r.enum, s) {
				e.add(r.field, fmt.Sprintf("The selected %s is invalid (%v).", r.field, it))
			}
		}
	case date:
		s, ok := v.(string)
		if !ok || !validDate(s) {
			e.add(r.field, "The "+r.field+" does not match the format YYYY-MM-DD.")
			return
		}
		if r.minDate != "" && s < r.minDate {
			e.add(r.field, "The "+r.field+" must be a date after or equal to "+r.minDate+".")
		}
	case object:
		if _, ok := v.(map[string]any); !ok {
			e.add(r.field, "The "+r.field+" must be a key-value object.")
		}
	}
}

// present is false for JSON null, "", and an absent value. An empty array is
// present (and then checked for at least one value where one is required).
func present(v any) bool {
	switch x := v.(type) {
	case nil:
		return false
	case string:
		return strings.TrimSpace(x) != ""
	}
	return true
}

func strs(v any) []string {
	items, _ := v.([]any)
	out := make([]string, 0, len(items))
	for _, it := range items {
		if s, ok := it.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

// validDate accepts YYYY-MM-DD with leading zeroes and a real calendar day.
func validDate(s string) bool {
	if len(s) != 10 {
		return false
	}
	_, err := time.Parse(time.DateOnly, s)
	return err == nil
}

// Check validates a Statement as the API would read its JSON.
func (st Statement) Check() Errors {
	b, _ := json.Marshal(st)
	var doc map[string]any
	_ = json.Unmarshal(b, &doc)
	return Validate(doc)
}

// ValidateBatch checks a batch: size, each statement (errors keyed
// "statement_<i>" as the API does), and PUIDs unique within the call.
func ValidateBatch(b Batch) map[string]Errors {
	out := map[string]Errors{}
	if len(b.Statements) == 0 || len(b.Statements) > BatchSize {
		out["statements"] = Errors{"statements": {fmt.Sprintf("The statements field must have between 1 and %d items.", BatchSize)}}
	}
	seen := map[string]bool{}
	for i, st := range b.Statements {
		if e := st.Check(); len(e) > 0 {
			out[fmt.Sprintf("statement_%d", i)] = e
		}
		if seen[st.PUID] {
			out["puid"] = Errors{"puid": {"The platform identifier(s) are not all unique within this call."}}
		}
		seen[st.PUID] = true
	}
	return out
}
