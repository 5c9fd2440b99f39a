package notify

import (
	"bytes"
	"embed"
	"fmt"
	"strings"
	"text/template"
	"time"
	"unicode/utf8"

	"github.com/dockethq/docket/cases"
	"github.com/dockethq/docket/sor"
)

// The notice templates are plain text (text/template): the first line is
// "Subject: …", then a blank line, then the body. _*.tmpl files hold partials
// shared by every kind.
//
//go:embed templates/*.tmpl
var mailFS embed.FS

// Kinds lists every kind of notice, in the order the outbox previews them.
var Kinds = []string{KindReportAck, KindReportOutcome, KindCustomerAction, KindForwardCustomer, KindForwardOrigin}

var mailTemplates = func() map[string]*template.Template {
	m := map[string]*template.Template{}
	for _, k := range append(Kinds[:len(Kinds):len(Kinds)], tmplAppeal) {
		m[k] = template.Must(template.New(k+".tmpl").
			Option("missingkey=error").
			Funcs(template.FuncMap{"wrap": wrap}).
			ParseFS(mailFS, "templates/_*.tmpl", "templates/"+k+".tmpl"))
	}
	return m
}()

// Rendered is a notice's subject and plain-text body.
type Rendered struct {
	Kind    string
	Subject string
	Body    string
}

// ackData fills report_ack.tmpl.
type ackData struct {
	ReceiptID  string
	Category   string
	URL        string // empty for csam: such a link is not mailed back
	ReceivedAt string
	StatusURL  string // the receipt page, when Docket's URL is configured
	// A report about a host the provider does not serve: no review follows.
	NotHosted bool
	Host      string
	Domain    string // the registrable domain, whose registrar can name the host
	// DuplicateOf is the receipt of the report this one repeats.
	DuplicateOf string
}

// outcomeData fills report_outcome.tmpl: only this reporter's own receipts.
type outcomeData struct {
	ReceiptIDs  []string
	Hostname    string
	Category    string
	Outcome     string
	Explanation string
	DecidedAt   string
	AppealURL   string // for a decision not to act: the reporter's appeal link
}

// actionData fills customer_action.tmpl. It has no field for any reporter on
// purpose: the customer's notice cannot name one.
type actionData struct {
	CustomerName string
	Action       string
	ActionText   string
	Hostnames    []string
	MoreHosts    int // hostnames beyond the first, for the subject
	Category     string
	URLs         []string
	Grounds      string
	Explanation  string
	CaseRef      string
	DecidedAt    string
	AppealURL    string // the signed link to appeal, when Docket's URL is configured
	AppealBy     string // the last day to appeal
	Statement    string // the statement of reasons in text form, for a restriction or termination
}

// render executes kind's template with data and splits off the subject.
func render(kind string, data any) (Rendered, error) {
	t, ok := mailTemplates[kind]
	if !ok {
		return Rendered{}, fmt.Errorf("no notice template %q", kind)
	}
	if d, ok := data.(actionData); ok {
		if len(d.Hostnames) == 0 {
			return Rendered{}, fmt.Errorf("a %s notice needs a hostname", kind)
		}
		d.MoreHosts = len(d.Hostnames) - 1
		data = d
	}
	var buf bytes.Buffer
	if err := t.Execute(&buf, data); err != nil {
		return Rendered{}, fmt.Errorf("render %s notice: %w", kind, err)
	}
	head, body, _ := strings.Cut(buf.String(), "\n")
	subject, ok := strings.CutPrefix(head, "Subject:")
	if !ok {
		return Rendered{}, fmt.Errorf("notice template %s does not start with a Subject: line", kind)
	}
	// One header line, whatever the data held.
	subject = strings.Join(strings.Fields(subject), " ")
	body = strings.TrimLeft(body, "\n")
	body = strings.TrimRight(body, " \n") + "\n"
	return Rendered{Kind: kind, Subject: subject, Body: body}, nil
}

// Preview renders kind with sample data, for the outbox page.
func Preview(kind string) (Rendered, error) {
	at := mailTime(time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC))
	switch kind {
	case KindReportAck:
		return render(kind, ackData{ReceiptID: "01JDQ4ZK8T3V6N0Y2C5X7B9M1P", Category: "Phishing or fraud",
			URL: "https://login-verify.example/account", ReceivedAt: at,
			StatusURL: "https://docket.example/report/receipt/01JDQ4ZK8T3V6N0Y2C5X7B9M1P"})
	case KindReportOutcome:
		return render(kind, outcomeData{ReceiptIDs: []string{"01JDQ4ZK8T3V6N0Y2C5X7B9M1P"}, Hostname: "login-verify.example",
			Category: "Phishing or fraud", Outcome: outcomeText("restrict"),
			Explanation: "The site imitated a bank's sign-in page to collect passwords.", DecidedAt: at})
	case KindCustomerAction:
		label, text := actionText("restrict")
		return render(kind, actionData{CustomerName: "Example Hosting Ltd", Action: label, ActionText: text,
			Hostnames: []string{"login-verify.example", "www.login-verify.example"}, Category: "Phishing or fraud",
			URLs: []string{"https://login-verify.example/account"}, Grounds: "Acceptable Use Policy §3.2 (fraud and phishing)",
			Explanation: "The site imitated a bank's sign-in page to collect passwords.", CaseRef: caseRef(1042, 7), DecidedAt: at,
			Statement: cases.StatementText(sor.Statement{DecisionProvision: "DECISION_PROVISION_PARTIAL_SUSPENSION", TerritorialScope: sor.EEA,
				ApplicationDate: "2026-11-25", DecisionFacts: "We received 2 report(s) about content on a website served through our network (category: Phishing or fraud), the first on 2026-11-24. A member of our abuse team reviewed the reported content. Our service for the affected site(s) was suspended.",
				SourceType: "SOURCE_ARTICLE_16", AutomatedDecision: "AUTOMATED_DECISION_NOT_AUTOMATED", DecisionGround: "DECISION_GROUND_INCOMPATIBLE_CONTENT",
				IncompatibleContentGround: "Acceptable Use Policy §3.2 (fraud and phishing)", IncompatibleContentExplanation: "The site imitated a bank's sign-in page to collect passwords."},
				cases.DefaultRedress)})
	case KindForwardCustomer, KindForwardOrigin:
		return render(kind, previewForward(kind, at))
	}
	return Rendered{}, fmt.Errorf("no notice kind %q", kind)
}

// Previews renders every kind with sample data.
func Previews() ([]Rendered, error) {
	out := make([]Rendered, 0, len(Kinds))
	for _, k := range Kinds {
		r, err := Preview(k)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, nil
}

// wrap folds text at width columns, keeping its own line breaks, and indents
// every line after the first by indent spaces, for free text in a plain body.
func wrap(width, indent int, s string) string {
	pad := strings.Repeat(" ", indent)
	var out []string
	for _, para := range strings.Split(strings.ReplaceAll(strings.TrimSpace(s), "\r\n", "\n"), "\n") {
		line := ""
		for _, w := range strings.Fields(para) {
			switch {
			case line == "":
				line = w
			case utf8.RuneCountInString(line)+1+utf8.RuneCountInString(w) > width-indent:
				out = append(out, line)
				line = w
			default:
				line += " " + w
			}
		}
		out = append(out, line)
	}
	return strings.Join(out, "\n"+pad)
}
