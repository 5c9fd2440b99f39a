package notify

// Forwarding a report (issue 8): in the transaction that files it, the report is
// sent to each recipient the reporter allowed — the customer and the origin host
// by email, with a signed link for the customer's answer; for csam the hotline as
// a JSON export legal downloads, never an email. A report forwarded "without my
// name" carries no reporter field at all, and its description and the whole
// rendered message are scrubbed of the reporter's name and address. Forwarding
// the customer starts the case's response window, whose timer is a River job
// scheduled for the window's end, inserted in the same transaction.

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/riverqueue/river"
	"gorm.io/gorm"

	"github.com/dockethq/docket/cases"
	"github.com/dockethq/docket/internal/database"
)

// Topics of forwarded notices (stored as kind customer_action, topic these).
const (
	KindForwardCustomer = "forward_customer"
	KindForwardOrigin   = "forward_origin"
)

// RespondPurpose is the signed-link purpose of the customer's response link.
const RespondPurpose = "respond"

// respondGrace is how long a response link stays valid after the window ends:
// a late answer is still worth attaching.
const respondGrace = 14 * 24 * time.Hour

// forwardData fills forward_customer.tmpl and forward_origin.tmpl. Reporter
// fields are set only when the reporter chose to be named.
type forwardData struct {
	RecipientName string
	Hostname      string
	Category      string
	URLs          []string
	Description   string
	ReceivedAt    string
	Named         bool
	ReporterName  string
	ReporterEmail string
	Ask           string
	RespondURL    string // customer only
	RespondBy     string // customer only, when a window runs
	CaseRef       string
}

func previewForward(kind string, at string) forwardData {
	d := forwardData{RecipientName: "Example Hosting Ltd", Hostname: "login-verify.example", Category: "Phishing or fraud",
		URLs: []string{"https://login-verify.example/account"}, Description: "The page imitates a bank's sign-in form.",
		ReceivedAt: at, Ask: askText(cases.Phishing), CaseRef: forwardRef(1042), RespondBy: at,
		RespondURL: "https://docket.example/respond/…"}
	if kind == KindForwardOrigin {
		d.RecipientName, d.RespondURL, d.RespondBy = "origin.example.net", "", ""
	}
	return d
}

// forwardRef is the reference a recipient quotes when replying.
func forwardRef(caseID int64) string { return "R-" + strconv.FormatInt(caseID, 10) }

// askText says what the recipient should do, by category.
func askText(c cases.Category) string {
	switch c {
	case cases.Copyright, cases.Trademark:
		return "The complainant says the content infringes their rights. Remove it or disable access to it, or tell us why you believe it does not infringe (for example a licence or fair use)."
	case cases.Phishing, cases.Malware:
		return "Take the page down or clean the site, and check how it was compromised: phishing kits and malware are often planted through an out-of-date plugin or a stolen password."
	case cases.CSAM:
		return "Disable access to the content at once but do not delete it or any logs: preserve them for law enforcement."
	}
	return "Check the content and remove it if it breaks the law or our acceptable use policy, or tell us why you believe it does not."
}

// forwardReport runs in the filing transaction (after the acknowledgement).
func (n *Notifier) forwardReport(tx *gorm.DB, r *cases.Report, rep *cases.Reporter) error {
	// A report with no case forwards nothing: not hosted here there is no
	// customer to tell, and a duplicate's original was forwarded already.
	if r.CaseID == 0 {
		return nil
	}
	ch := r.Forward
	if ch.Customer == "" && ch.Origin == "" && ch.Hotline == "" {
		ch = cases.DefaultForward(r.Category)
	}
	var c cases.Case
	if err := tx.Take(&c, r.CaseID).Error; err != nil {
		return fmt.Errorf("case of report %d: %w", r.ID, err)
	}
	var site *cases.Site
	if r.SiteID != nil {
		site = &cases.Site{}
		if err := tx.Take(site, *r.SiteID).Error; err != nil {
			return fmt.Errorf("site of report %d: %w", r.ID, err)
		}
	}
	now := n.now().UTC()
	who := identity{}
	if rep != nil {
		who = identity{Name: rep.Name, Email: rep.Email}
	}
	base := forwardData{Hostname: c.Hostname, Category: r.Category.Label(), URLs: []string{r.URL},
		ReceivedAt: mailTime(r.ReceivedAt), Ask: askText(r.Category), CaseRef: forwardRef(c.ID)}

	if site != nil && ch.Customer != cases.DoNotSend {
		var cust cases.Customer
		if err := tx.Take(&cust, site.CustomerID).Error; err != nil {
			return fmt.Errorf("customer of site %d: %w", site.ID, err)
		}
		if addr := strings.TrimSpace(cust.ContactEmail); addr != "" {
			win, err := cases.ResponseWindow(tx, r.Category)
			if err != nil {
				return err
			}
			due, started, err := n.cases.StartResponseWindow(tx, c.ID, now.Add(win))
			if err != nil {
				return err
			}
			if started {
				sqlTx, ok := tx.Statement.ConnPool.(*sql.Tx)
				if !ok {
					return errors.New("notify: forward outside a transaction")
				}
				if _, err := n.river.InsertTx(tx.Statement.Context, sqlTx, windowArgs{CaseID: c.ID, DueAt: due},
					&river.InsertOpts{ScheduledAt: due}); err != nil {
					return fmt.Errorf("schedule response window: %w", err)
				}
			}
			d := base
			d.RecipientName = cust.Name
			d.RespondURL = n.respondURL(c.ID, now.Add(win+respondGrace))
			if started {
				d.RespondBy = mailTime(due)
			}
			if err := n.forwardEmail(tx, KindForwardCustomer, cases.RecipientCustomer, addr, d, ch.Customer, r, who); err != nil {
				return err
			}
		}
	}
	if site != nil && ch.Origin != cases.DoNotSend && strings.TrimSpace(site.OriginAbuseEmail) != "" {
		d := base
		d.RecipientName = site.OriginHost
		if d.RecipientName == "" {
			d.RecipientName = "abuse team"
		}
		if err := n.forwardEmail(tx, KindForwardOrigin, cases.RecipientOrigin, site.OriginAbuseEmail, d, ch.Origin, r, who); err != nil {
			return err
		}
	}
	if r.Category == cases.CSAM && ch.Hotline != cases.DoNotSend {
		return n.hotlineExport(tx, r, rep, &c, site, ch.Hotline == cases.SendAnonymously, now)
	}
	return nil
}

// respondURL is the customer's signed link to answer about case id.
func (n *Notifier) respondURL(caseID int64, until time.Time) string {
	tok := n.links.SignUntil(RespondPurpose, caseID, until)
	return strings.TrimRight(n.cfg.Mail.BaseURL, "/") + "/respond/" + tok
}

// forwardEmail renders, scrubs when anonymous, queues and records one email.
func (n *Notifier) forwardEmail(tx *gorm.DB, topic string, to cases.Recipient, addr string, d forwardData,
	choice cases.ForwardChoice, r *cases.Report, who identity) error {
	anon := choice != cases.Send
	d.Description = r.Description
	if anon {
		d.Description = scrubText(d.Description, who)
	} else {
		d.Named = who.Name != "" || who.Email != ""
		d.ReporterName, d.ReporterEmail = who.Name, who.Email
	}
	out, err := render(topic, d)
	if err != nil {
		return err
	}
	if anon {
		out = scrub(out, identities(who))
	}
	id, err := n.queueNoticeTopic(tx, KindCustomerAction, topic, addr, out, &r.CaseID, &r.ID)
	if err != nil {
		return err
	}
	return cases.RecordForward(tx, &cases.Forward{ReportID: r.ID, CaseID: r.CaseID, Recipient: to, Address: addr,
		Anonymous: anon, NoticeID: &id, CreatedAt: n.now().UTC()})
}

// identities is who must not appear in an anonymous forward: the reporter's
// name and address, and the address's local part when it is long enough to be
// telling (jane.doe of jane.doe@example.org, typed as a signature).
func identities(w identity) []identity {
	out := []identity{w}
	if local, _, ok := strings.Cut(strings.TrimSpace(w.Email), "@"); ok && utf8.RuneCountInString(local) >= 5 {
		out = append(out, identity{Name: local})
	}
	return out
}

// scrubText removes the reporter's identity from free text.
func scrubText(s string, w identity) string {
	return scrub(Rendered{Body: s}, identities(w)).Body
}

// HotlineReport is the JSON document a csam report becomes for the national
// hotline (NCMEC's CyberTipline, an INHOPE member hotline). Its shape follows
// the CyberTipline report's sections (incident summary, internet details,
// reporter) in plain JSON; legal reviews and submits it, Docket never mails it.
type HotlineReport struct {
	Schema          string           `json:"schema"` // docket.hotline-export/1
	ExportedAt      time.Time        `json:"exported_at"`
	Provider        HotlineProvider  `json:"provider"`
	IncidentSummary HotlineIncident  `json:"incident_summary"`
	WebPageIncident HotlineWebPage   `json:"web_page_incident"`
	Reporter        HotlineReporter  `json:"reporter"`
	Hashes          []HotlineHash    `json:"hashes"`
	AdditionalInfo  string           `json:"additional_information"`
	References      HotlineReference `json:"references"`
}

// HotlineProvider identifies who exports (the sender of the notices).
type HotlineProvider struct {
	Contact string `json:"contact"`
}

// HotlineIncident is when and what.
type HotlineIncident struct {
	IncidentType     string    `json:"incident_type"` // child_sexual_abuse_material
	ReportedAt       time.Time `json:"reported_at"`
	ReceivedChannel  string    `json:"received_channel"`
	ReporterCategory string    `json:"reporter_category"`
}

// HotlineWebPage is where.
type HotlineWebPage struct {
	URLs              []string `json:"urls"`
	Hostname          string   `json:"hostname"`
	ServedByUs        bool     `json:"served_by_us"`
	OriginHost        string   `json:"origin_host,omitempty"`
	CustomerReference string   `json:"customer_reference,omitempty"`
}

// HotlineReporter is who reported, unless they asked not to be named.
type HotlineReporter struct {
	Anonymous bool   `json:"anonymous"`
	Name      string `json:"name,omitempty"`
	Email     string `json:"email,omitempty"`
}

// HotlineHash is a digest that identifies without carrying content.
type HotlineHash struct {
	Of        string `json:"of"` // "url" now; evidence files when the form stores them
	Algorithm string `json:"algorithm"`
	Value     string `json:"value"`
}

// HotlineReference ties the export to Docket's records.
type HotlineReference struct {
	CaseID  int64  `json:"case_id"`
	Receipt string `json:"report_receipt"`
}

func (n *Notifier) hotlineExport(tx *gorm.DB, r *cases.Report, rep *cases.Reporter, c *cases.Case, site *cases.Site, anon bool, now time.Time) error {
	sum := sha256.Sum256([]byte(r.URL))
	h := HotlineReport{
		Schema: "docket.hotline-export/1", ExportedAt: now,
		Provider: HotlineProvider{Contact: n.cfg.Mail.from()},
		IncidentSummary: HotlineIncident{IncidentType: "child_sexual_abuse_material", ReportedAt: r.ReceivedAt.UTC(),
			ReceivedChannel: string(r.Channel)},
		WebPageIncident: HotlineWebPage{URLs: []string{r.URL}, Hostname: c.Hostname, ServedByUs: site != nil},
		Hashes:          []HotlineHash{{Of: "url", Algorithm: "sha256", Value: hex.EncodeToString(sum[:])}},
		References:      HotlineReference{CaseID: c.ID, Receipt: r.PublicID},
		Reporter:        HotlineReporter{Anonymous: anon},
	}
	who := identity{}
	if rep != nil {
		h.IncidentSummary.ReporterCategory = string(rep.Kind)
		who = identity{Name: rep.Name, Email: rep.Email}
	}
	h.AdditionalInfo = r.Description
	if anon {
		h.AdditionalInfo = scrubText(r.Description, who)
	} else {
		h.Reporter.Name, h.Reporter.Email = who.Name, who.Email
	}
	if site != nil {
		h.WebPageIncident.OriginHost = site.OriginHost
		h.WebPageIncident.CustomerReference = "customer-" + strconv.FormatInt(site.CustomerID, 10)
	}
	body, err := json.MarshalIndent(h, "", "  ")
	if err != nil {
		return err
	}
	ex := cases.HotlineExport{ReportID: r.ID, CaseID: c.ID, Payload: string(body), CreatedAt: now}
	if err := tx.Create(&ex).Error; err != nil {
		return fmt.Errorf("hotline export: %w", err)
	}
	return cases.RecordForward(tx, &cases.Forward{ReportID: r.ID, CaseID: c.ID, Recipient: cases.RecipientHotline,
		Address: "hotline export", Anonymous: anon, HotlineExportID: &ex.ID, CreatedAt: now})
}

// windowArgs is the River job that ends a case's response window.
type windowArgs struct {
	CaseID int64     `json:"case_id"`
	DueAt  time.Time `json:"due_at"`
}

func (windowArgs) Kind() string { return "response_window" }

type windowWorker struct {
	river.WorkerDefaults[windowArgs]
	n *Notifier
}

// Work ends the window: a no-op when the customer answered, the case moved on,
// or the job runs a second time (ExpireResponseWindow is conditional). A job
// that finds the clock short of the due time (another instance's clock ran
// ahead) waits for it.
func (w *windowWorker) Work(ctx context.Context, job *river.Job[windowArgs]) error {
	if now := w.n.now(); now.Before(job.Args.DueAt) {
		return river.JobSnooze(job.Args.DueAt.Sub(now))
	}
	_, err := w.n.ExpireResponseWindow(ctx, job.Args.CaseID, job.Args.DueAt)
	return err
}

// ExpireResponseWindow runs the window's end for case id now (the job's work).
func (n *Notifier) ExpireResponseWindow(ctx context.Context, caseID int64, due time.Time) (bool, error) {
	expired, err := n.cases.ExpireResponseWindow(ctx, caseID, due)
	if expired {
		n.log.Info("response window expired", "case", caseID)
	}
	return expired, err
}

// WithholdReporter returns a forwarded notice's body without its reporter's
// name and address, for staff who may not read reporter contacts (the outbox):
// a reporter who let the customer see who they are did not thereby show every
// member of staff.
func WithholdReporter(ctx context.Context, db *database.DB, no *Notice) (string, error) {
	if no.Topic == "" || no.ReportID == nil {
		return no.Body, nil
	}
	var rep cases.Reporter
	err := db.R.WithContext(ctx).Table("reporters").Select("reporters.*").
		Joins("JOIN reports ON reports.reporter_id = reporters.id").Where("reports.id = ?", *no.ReportID).Take(&rep).Error
	if err != nil {
		return "", err
	}
	return scrubText(no.Body, identity{Name: rep.Name, Email: rep.Email}), nil
}
