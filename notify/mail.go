package notify

// Notices by email (DESIGN §2, §6): an acknowledgement to a reporter who gave an
// email address, the outcome to a case's reporters when its decision becomes
// final, and a notice of action (the statement of reasons) to the customer for a
// final warn, restrict or terminate. Each notice is rendered and written to the
// notices table, with a River job to send it, inside the transaction that causes
// it: a rollback leaves no notice and sends nothing. The customer never learns who
// reported: the customer's template gets no reporter fields at all, and every
// notice is scrubbed of the case's reporters' names and addresses before it is
// stored (a reviewer could have pasted one into the explanation).

import (
	"database/sql"
	"errors"
	"fmt"
	"net/mail"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"gorm.io/gorm"

	"github.com/dockethq/docket/cases"
	"github.com/dockethq/docket/intake"
	"github.com/dockethq/docket/internal/reqlog"
)

// DefaultMailFrom is the sender of notices unless configured.
const DefaultMailFrom = "Docket <abuse@docket.example>"

// MailConfig says how notices leave Docket.
type MailConfig struct {
	// SMTPURL is the relay: smtp://user:pass@host:587 or smtp://host:25 (STARTTLS
	// when the server offers it; ?tls=required insists, ?tls=none never tries) or
	// smtps://user:pass@host:465 (TLS from the first byte). Empty: each message is
	// written as an .eml file into Outbox instead.
	SMTPURL string
	// From is the sender, default DefaultMailFrom.
	From string
	// Outbox is the folder for .eml files when no SMTP relay is configured;
	// default ./outbox.
	Outbox string
	// BaseURL is Docket's public URL; when set, an acknowledgement links to the
	// receipt page.
	BaseURL string
}

func (m MailConfig) from() string {
	if strings.TrimSpace(m.From) == "" {
		return DefaultMailFrom
	}
	return m.From
}

func (m MailConfig) outbox() string {
	if m.Outbox == "" {
		return "outbox"
	}
	return m.Outbox
}

// Validate checks the configuration and says plainly what is wrong.
func (m MailConfig) Validate() error {
	if _, err := mail.ParseAddress(m.from()); err != nil {
		return fmt.Errorf("mail from %q is not an address like \"Docket <abuse@example.com>\"", m.From)
	}
	if m.SMTPURL != "" {
		if _, err := parseSMTPURL(m.SMTPURL); err != nil {
			return err
		}
	}
	return nil
}

// tlsMode is how the SMTP connection is protected.
type tlsMode string

const (
	tlsOpportunistic tlsMode = "opportunistic" // STARTTLS when offered
	tlsRequired      tlsMode = "required"      // STARTTLS or fail
	tlsNone          tlsMode = "none"          // plain text (a relay on localhost)
	tlsImplicit      tlsMode = "implicit"      // smtps://
)

// smtpTarget is a parsed DOCKET_SMTP_URL.
type smtpTarget struct {
	Host     string
	Port     int
	User     string
	Password string
	TLS      tlsMode
}

func parseSMTPURL(raw string) (smtpTarget, error) {
	var t smtpTarget
	bad := func(why string) error {
		return fmt.Errorf("SMTP URL %q: %s (e.g. smtp://user:pass@mail.example.com:587 or smtp://127.0.0.1:25)", redactURL(raw), why)
	}
	u, err := url.Parse(raw)
	if err != nil {
		return t, bad("not a URL")
	}
	switch u.Scheme {
	case "smtp":
		t.TLS, t.Port = tlsOpportunistic, 25
	case "smtps":
		t.TLS, t.Port = tlsImplicit, 465
	default:
		return t, bad("the scheme must be smtp or smtps")
	}
	t.Host = u.Hostname()
	if t.Host == "" {
		return t, bad("no host")
	}
	if p := u.Port(); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 65535 {
			return t, bad("bad port")
		}
		t.Port = n
	}
	if u.User != nil {
		t.User = u.User.Username()
		t.Password, _ = u.User.Password()
	}
	if u.Path != "" && u.Path != "/" {
		return t, bad("no path expected")
	}
	for k, v := range u.Query() {
		if k != "tls" || len(v) != 1 {
			return t, bad("the only option is ?tls=required or ?tls=none")
		}
		switch {
		case t.TLS == tlsImplicit:
			return t, bad("smtps:// is always TLS; ?tls is for smtp://")
		case v[0] == "required":
			t.TLS = tlsRequired
		case v[0] == "none":
			t.TLS = tlsNone
		case v[0] == "opportunistic":
		default:
			return t, bad("?tls is required, opportunistic or none")
		}
	}
	return t, nil
}

// redactURL hides a password in an SMTP URL for error messages.
func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.User == nil {
		return raw
	}
	if _, ok := u.User.Password(); ok {
		u.User = url.UserPassword(u.User.Username(), "xxxxx")
	}
	return u.String()
}

// Kinds of notice.
const (
	KindReportAck      = "report_ack"      // to a reporter: we have your report
	KindReportOutcome  = "report_outcome"  // to a reporter: what we decided
	KindCustomerAction = "customer_action" // to the customer: the action and why
)

// KindLabel names a kind (or a forwarded notice's topic) for people.
func KindLabel(kind string) string {
	switch kind {
	case KindForwardCustomer:
		return "Report forwarded to customer"
	case KindForwardOrigin:
		return "Report forwarded to origin host"
	case KindReportAck:
		return "Report acknowledgement"
	case KindReportOutcome:
		return "Outcome to reporter"
	case KindCustomerAction:
		return "Notice of action to customer"
	}
	return kind
}

// ToReporter reports whether a kind goes to a reporter, whose address only those
// who may read reporter contacts see.
func ToReporter(kind string) bool { return kind == KindReportAck || kind == KindReportOutcome }

// Notice is one email: rendered when it is caused, sent by a River job.
type Notice struct {
	ID        int64
	Kind      string
	Recipient string
	Subject   string
	Body      string
	CaseID    *int64
	ReportID  *int64
	Topic     string // a forwarded report's template (forward.go), else empty
	State     string // pending, sent, dead
	Attempts  int
	LastError string
	CreatedAt time.Time
	SentAt    *time.Time
}

// noticeArgs is the River job that sends one notice.
type noticeArgs struct {
	NoticeID int64 `json:"notice_id"`
	// RequestID is the request that caused the notice, for the worker's logs.
	RequestID string `json:"request_id,omitempty"`
}

func (noticeArgs) Kind() string { return "send_notice" }

// queueNotice writes a rendered notice and its job in tx.
func (n *Notifier) queueNotice(tx *gorm.DB, kind, to string, r Rendered, caseID, reportID *int64) error {
	_, err := n.queueNoticeTopic(tx, kind, "", to, r, caseID, reportID)
	return err
}

// queueNoticeTopic is queueNotice with a topic, returning the notice's id.
func (n *Notifier) queueNoticeTopic(tx *gorm.DB, kind, topic, to string, r Rendered, caseID, reportID *int64) (int64, error) {
	sqlTx, ok := tx.Statement.ConnPool.(*sql.Tx)
	if !ok {
		return 0, errors.New("notify: notice outside a transaction")
	}
	no := Notice{Kind: kind, Topic: topic, Recipient: to, Subject: r.Subject, Body: r.Body, CaseID: caseID, ReportID: reportID,
		State: "pending", CreatedAt: n.now().UTC()}
	if err := tx.Create(&no).Error; err != nil {
		return 0, fmt.Errorf("write notice: %w", err)
	}
	if _, err := n.river.InsertTx(tx.Statement.Context, sqlTx, noticeArgs{NoticeID: no.ID, RequestID: reqlog.RequestID(tx.Statement.Context)}, nil); err != nil {
		return 0, fmt.Errorf("enqueue notice: %w", err)
	}
	return no.ID, nil
}

// noticeReportFiled runs in the transaction that files a report: an
// acknowledgement, if the reporter gave an address.
func (n *Notifier) noticeReportFiled(tx *gorm.DB, r *cases.Report, rep *cases.Reporter) error {
	if rep == nil || strings.TrimSpace(rep.Email) == "" {
		return nil
	}
	// API senders (trusted flaggers) get their receipt in the response; an email
	// per report would flood them with a batch of 1,000.
	if r.Channel == cases.ChannelAPI {
		return nil
	}
	// Reports read from inbound mail come from other networks' robots (feedback
	// loops, X-ARF senders, often from unmonitored or forged addresses): an
	// automatic reply per message is backscatter and can loop with their own
	// auto-replies (RFC 3834 §2). They get the outcome notice only.
	if r.Channel == cases.ChannelEmail && rep.Kind == cases.ReporterNetwork {
		return nil
	}
	d := ackData{
		ReceiptID:  r.PublicID,
		Category:   r.Category.Label(),
		ReceivedAt: mailTime(r.ReceivedAt),
	}
	// A link to child abuse material is not repeated by email.
	if r.Category != cases.CSAM {
		d.URL = r.URL
	}
	if base := strings.TrimRight(n.cfg.Mail.BaseURL, "/"); base != "" {
		d.StatusURL = base + "/report/receipt/" + r.PublicID
	}
	switch r.Status {
	case cases.ReportNotHosted:
		d.NotHosted, d.Host = true, r.Host
		if t, err := intake.NormalizeURL(r.URL); err == nil && t.RegistrableDomain != "" {
			d.Domain = t.RegistrableDomain
		} else {
			d.Domain = r.Host
		}
	case cases.ReportDuplicate:
		if r.DuplicateOf != nil {
			if err := tx.Table("reports").Select("public_id").Where("id = ?", *r.DuplicateOf).Scan(&d.DuplicateOf).Error; err != nil {
				return err
			}
		}
	}
	var caseID *int64
	if r.CaseID != 0 {
		caseID = &r.CaseID
	}
	out, err := render(KindReportAck, d)
	if err != nil {
		return err
	}
	out = scrub(out, []identity{{Name: rep.Name}}) // the body never greets by name; belt and braces
	return n.queueNotice(tx, KindReportAck, rep.Email, out, caseID, &r.ID)
}

// caseReport is one report of a case with what the notices need of its reporter.
type caseReport struct {
	ID       int64
	PublicID string
	URL      string
	Category cases.Category
	Name     string
	Email    string
}

// noticeDecisionFinal runs in the transaction in which a decision becomes final:
// the outcome to every reporter who gave an address, and the notice of action to
// the customer for warn, restrict and terminate.
func (n *Notifier) noticeDecisionFinal(tx *gorm.DB, c *cases.Case, d *cases.Decision) error {
	var reps []caseReport
	err := tx.Table("reports").
		Select("reports.id, reports.public_id, reports.url, reports.category, reporters.name, reporters.email").
		Joins("JOIN reporters ON reporters.id = reports.reporter_id").
		Where("reports.case_id = ?", c.ID).
		Order("reports.received_at, reports.id").
		Scan(&reps).Error
	if err != nil {
		return fmt.Errorf("reports of case %d: %w", c.ID, err)
	}
	var who []identity
	for _, r := range reps {
		who = append(who, identity{Name: r.Name, Email: r.Email})
	}
	decided := n.now().UTC()
	if d.FinalAt != nil {
		decided = *d.FinalAt
	}
	hosts := d.HostnameList()
	if len(hosts) == 0 {
		hosts = []string{c.Hostname}
	}

	// One outcome per address, listing that reporter's own receipts only.
	type mine struct {
		email    string
		receipts []string
		first    int64
	}
	var order []string
	byEmail := map[string]*mine{}
	for _, r := range reps {
		e := strings.ToLower(strings.TrimSpace(r.Email))
		if e == "" {
			continue
		}
		if byEmail[e] == nil {
			byEmail[e] = &mine{email: r.Email, first: r.ID}
			order = append(order, e)
		}
		byEmail[e].receipts = append(byEmail[e].receipts, r.PublicID)
	}
	for _, e := range order {
		m := byEmail[e]
		out, err := render(KindReportOutcome, outcomeData{
			ReceiptIDs:  m.receipts,
			Hostname:    c.Hostname,
			Category:    c.Category.Label(),
			Outcome:     outcomeText(d.Effective()),
			Explanation: d.Explanation,
			DecidedAt:   mailTime(decided),
			AppealURL:   n.reporterAppealURL(d, m.first, decided),
		})
		if err != nil {
			return err
		}
		first := m.first
		if err := n.queueNotice(tx, KindReportOutcome, m.email, scrub(out, who), &c.ID, &first); err != nil {
			return err
		}
	}

	if d.Action != cases.Warn && d.Action != cases.Restrict && d.Action != cases.Terminate {
		return nil
	}
	if c.CustomerID == nil {
		return nil
	}
	var cust cases.Customer
	if err := tx.Take(&cust, *c.CustomerID).Error; err != nil {
		return fmt.Errorf("customer of case %d: %w", c.ID, err)
	}
	if strings.TrimSpace(cust.ContactEmail) == "" {
		return nil // nobody to write to; the case page shows the decision
	}
	var urls []string
	for _, r := range reps {
		if r.URL != "" && !contains(urls, r.URL) && len(urls) < 20 {
			urls = append(urls, r.URL)
		}
	}
	if d.Effective() == cases.BlockURL {
		urls = d.URLList() // what is blocked, not every URL reported
	}
	label, text := actionText(d.Effective())
	if d.ExpiresAt != nil {
		text += " It will be lifted on " + mailTime(*d.ExpiresAt) + " unless we decide otherwise."
	}
	// The statement of reasons (DSA Art. 17) of a restriction or termination,
	// final in this same transaction.
	statement := ""
	if st, err := cases.StatementOf(tx, d.ID); err != nil {
		return fmt.Errorf("statement of decision %d: %w", d.ID, err)
	} else if st != nil {
		statement = st.Text()
	}
	out, err := render(KindCustomerAction, actionData{
		Statement:    statement,
		CustomerName: cust.Name,
		Action:       label,
		ActionText:   text,
		Hostnames:    hosts,
		Category:     c.Category.Label(),
		URLs:         urls,
		Grounds:      d.Grounds,
		Explanation:  d.Explanation,
		CaseRef:      caseRef(c.ID, d.ID),
		DecidedAt:    mailTime(decided),
		AppealURL:    n.appealURL(cases.AppealPurposeCustomer, d.ID, decided.Add(cases.AppealWindow)),
		AppealBy:     mailDate(decided.Add(cases.AppealWindow)),
	})
	if err != nil {
		return err
	}
	return n.queueNotice(tx, KindCustomerAction, cust.ContactEmail, scrub(out, who), &c.ID, nil)
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// caseRef is the reference a customer quotes when replying or appealing.
func caseRef(caseID, decisionID int64) string {
	return fmt.Sprintf("D-%d-%d", caseID, decisionID)
}

func mailTime(t time.Time) string { return t.UTC().Format("2 January 2006, 15:04 UTC") }

// outcomeText says to a reporter, in plain words, what was decided.
func outcomeText(a cases.DecisionAction) string {
	switch a {
	case cases.NoAction:
		return "We reviewed the site and decided to take no action: we did not find that it breaks our acceptable use policy or the law."
	case cases.Warn:
		return "We warned the operator of the site and asked them to remove or fix the content you reported."
	case cases.Restrict:
		return "We restricted the site: visitors can no longer reach it through our service while the restriction lasts."
	case cases.Interstitial:
		return "We put a warning page in front of the site: visitors are told of the risk before they can continue."
	case cases.BlockURL:
		return "We blocked the reported pages of the site through our service; the rest of the site is unaffected."
	case cases.Terminate:
		return "We stopped providing our service to the site."
	case cases.Reinstate:
		return "We restored our service to the site."
	}
	return "We reviewed the site and reached a decision."
}

// actionText names an action and says what it means for the customer.
func actionText(a cases.DecisionAction) (label, text string) {
	switch a {
	case cases.Warn:
		return "Warning", "This is a warning. We have not changed your service, but we ask you to remove or fix the content described below. If the problem continues, we may restrict or end our service for your sites."
	case cases.Restrict:
		return "Restriction", "We have restricted the sites listed above: visitors can no longer reach them through our service until the restriction is lifted."
	case cases.Interstitial:
		return "Warning page (interstitial)", "Visitors to the sites listed above now see a warning page before they can continue to your site."
	case cases.BlockURL:
		return "Blocked URLs", "We have blocked the specific pages listed below through our service; the rest of your site is served as before."
	case cases.Terminate:
		return "Termination of service", "We have ended our service for the sites listed above."
	}
	return string(a), ""
}

// identity is what must never reach someone else: a reporter's name and address.
type identity struct{ Name, Email string }

// scrub removes the given names and addresses from a rendered notice. Templates
// for the customer get no reporter fields, so this only catches what a reviewer
// typed into free text (grounds, explanation) or a reporter put into a URL.
func scrub(r Rendered, who []identity) Rendered {
	for _, w := range who {
		if e := strings.TrimSpace(w.Email); e != "" {
			r.Subject, r.Body = withhold(r.Subject, e, false), withhold(r.Body, e, false)
		}
		// Names shorter than four letters would redact ordinary words.
		if nm := strings.TrimSpace(w.Name); utf8.RuneCountInString(nm) >= 4 {
			r.Subject, r.Body = withhold(r.Subject, nm, true), withhold(r.Body, nm, true)
		}
	}
	return r
}

// withhold replaces every case-insensitive occurrence of what in s; as a word
// only, when word is set (so "Anna" leaves "Savannah" alone, in any script).
// Words may be separated by any white space, as when a name is wrapped.
func withhold(s, what string, word bool) string {
	if !utf8.ValidString(what) {
		// Not text a pattern can hold; the exact bytes are still withheld.
		return strings.ReplaceAll(s, what, "[withheld]")
	}
	parts := strings.Fields(what)
	for i, p := range parts {
		parts[i] = regexp.QuoteMeta(p)
	}
	re := regexp.MustCompile(`(?i)` + strings.Join(parts, `\s+`))
	var b strings.Builder
	last := 0
	for _, m := range re.FindAllStringIndex(s, -1) {
		if word {
			before, _ := utf8.DecodeLastRuneInString(s[:m[0]])
			after, _ := utf8.DecodeRuneInString(s[m[1]:])
			if isWordRune(before) || isWordRune(after) {
				continue
			}
		}
		b.WriteString(s[last:m[0]])
		b.WriteString("[withheld]")
		last = m[1]
	}
	if last == 0 {
		return s
	}
	b.WriteString(s[last:])
	return b.String()
}

func isWordRune(r rune) bool {
	return r != utf8.RuneError && (unicode.IsLetter(r) || unicode.IsDigit(r))
}
