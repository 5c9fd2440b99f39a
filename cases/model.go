// Package cases is the heart of Docket: customers and their sites, the reports
// people send about them, and the cases that group those reports for review.
package cases

import (
	"time"
)

// Category is what a report is about. The set is fixed in code for now; DESIGN §2.
type Category string

const (
	CSAM             Category = "csam"
	ViolentExtremism Category = "violent_extremism"
	Threat           Category = "threat"
	Phishing         Category = "phishing"
	Malware          Category = "malware"
	Copyright        Category = "copyright"
	Trademark        Category = "trademark"
	Harassment       Category = "harassment"
	Spam             Category = "spam"
	Other            Category = "other"
)

// CategoryInfo describes a category for routing, priority and the report form.
type CategoryInfo struct {
	Category Category
	Label    string
	Severity int           // base priority: how much harm waiting can do
	SLA      time.Duration // time from opening to a first decision
	Queue    string
}

// Categories lists every category, in the order the report form shows them.
var Categories = []CategoryInfo{
	{Phishing, "Phishing or fraud", 60, 12 * time.Hour, QueueGeneral},
	{Malware, "Malware or unwanted software", 60, 12 * time.Hour, QueueGeneral},
	{Copyright, "Copyright infringement", 30, 72 * time.Hour, QueueGeneral},
	{Trademark, "Trademark infringement", 30, 72 * time.Hour, QueueGeneral},
	{Harassment, "Harassment or doxxing", 40, 24 * time.Hour, QueueGeneral},
	{Threat, "Threat of violence", 80, 4 * time.Hour, QueueGeneral},
	{ViolentExtremism, "Violent extremism or terrorist content", 90, 4 * time.Hour, QueueGeneral},
	{CSAM, "Child sexual abuse material", 100, time.Hour, QueueRestricted},
	{Spam, "Spam", 10, 7 * 24 * time.Hour, QueueGeneral},
	{Other, "Something else", 20, 72 * time.Hour, QueueGeneral},
}

// Info returns the description of c and whether c is a known category.
func (c Category) Info() (CategoryInfo, bool) {
	for _, i := range Categories {
		if i.Category == c {
			return i, true
		}
	}
	return CategoryInfo{}, false
}

// Label is the human name of c.
func (c Category) Label() string {
	if i, ok := c.Info(); ok {
		return i.Label
	}
	return string(c)
}

// Queues. CSAM cases go to a restricted queue that only some roles may read.
const (
	QueueGeneral    = "general"
	QueueRestricted = "restricted"
)

// State is where a case stands in the workflow (DESIGN §3).
type State string

const (
	StateNew    State = "new"
	StateClosed State = "closed"
)

// Channel is how a report arrived.
type Channel string

const (
	ChannelWeb   Channel = "web"
	ChannelAPI   Channel = "api"
	ChannelEmail Channel = "email"
)

// ReporterKind says who sent a report.
type ReporterKind string

const (
	ReporterPublic         ReporterKind = "public"
	ReporterTrustedFlagger ReporterKind = "trusted_flagger"
	ReporterNetwork        ReporterKind = "network"
)

// Customer is an account at the provider.
type Customer struct {
	ID           int64
	Name         string
	Plan         string
	ContactEmail string
	Status       string
	CreatedAt    time.Time
	ExternalID   *string // billing's id, for customers synced by `docket import sites`
}

// Site is a hostname the provider serves for a customer.
type Site struct {
	ID                int64
	CustomerID        int64
	Hostname          string
	RegistrableDomain string
	CreatedAt         time.Time
	OriginHost        string // the origin hosting provider behind a pass-through site
	OriginAbuseEmail  string // where that provider reads abuse reports
}

// Reporter is whoever sent a report. Email is never shown to customers.
type Reporter struct {
	ID        int64
	Kind      ReporterKind
	Name      string
	Email     string
	CreatedAt time.Time
}

// Report is one notice about one URL.
type Report struct {
	ID          int64
	PublicID    string // the receipt id
	CaseID      int64  // 0 (NULL) when the report opened no case: not hosted here, or a duplicate
	ReporterID  int64
	Channel     Channel
	Category    Category
	URL         string
	Host        string
	SiteID      *int64
	Description string
	GoodFaith   bool
	ReceivedAt  time.Time
	ReporterKey string // who the reporter is, for counting distinct reporters
	Status      ReportStatus
	DuplicateOf *int64 // the original report, when Status is ReportDuplicate
	// Details is the JSON of the category's extra answers (see CategoryDetails).
	Details string
	// SubmissionID is shared by the reports of one form submission.
	SubmissionID string
	// Forward is what the reporter chose about forwarding (stored in
	// forward_choices; set for the report-filed hook).
	Forward ForwardChoices `gorm:"-"`
	// CaseState is the state of the report's case as FileReport left it, so
	// the caller can answer with the receipt without reading it back.
	CaseState State `gorm:"-"`
}

// Case groups the reports about one site (or unknown host) and category while open.
type Case struct {
	ID                 int64
	GroupKey           string
	SiteID             *int64
	CustomerID         *int64
	Hostname           string
	Category           Category
	Severity           int
	Priority           int
	Queue              string
	State              State
	AssigneeID         *int64
	ClaimExpiresAt     *time.Time
	ReportCount        int
	FlaggerReportCount int
	SLADueAt           time.Time `gorm:"column:sla_due_at"`
	OpenedAt           time.Time
	UpdatedAt          time.Time
	ClosedAt           *time.Time
	Version            int   // bumped by every change, so a page can tell it is stale
	QueueRank          int64 // priority with ageing, for ordering; see rank
	ReporterCount      int   // distinct reporters
	PriorActions       int   // the customer's earlier warn/restrict/terminate decisions
	EscalatedAt        *time.Time
	CloseReason        string
	MergedInto         *int64
	ResponseDueAt      *time.Time // while forwarded and waiting for the customer (forward.go)
	ResponseFlag       string     // '', awaiting, responded, no_response
}

// Claimed reports whether someone other than userID holds a live claim at now.
func (c *Case) ClaimedByOther(userID int64, now time.Time) bool {
	return c.AssigneeID != nil && *c.AssigneeID != userID && c.ClaimExpiresAt != nil && c.ClaimExpiresAt.After(now)
}

// HeldBy reports whether userID holds a live claim at now.
func (c *Case) HeldBy(userID int64, now time.Time) bool {
	return c.AssigneeID != nil && *c.AssigneeID == userID && c.ClaimExpiresAt != nil && c.ClaimExpiresAt.After(now)
}

// ageStep is how long a case waits to gain one point of priority.
const ageStep = 6 * time.Hour

// rank orders the queue: priority, plus one point per ageStep waited. Stored as
// priority*ageStep - opened (in seconds), which sorts the same as priority + age
// at any moment, so the database can index it.
func rank(priority int, opened time.Time) int64 {
	return int64(priority)*int64(ageStep/time.Second) - opened.Unix()
}

// Score is the priority shown to reviewers at now: the stored priority plus ageing.
func (c *Case) Score(now time.Time) int {
	return c.Priority + int(now.Sub(c.OpenedAt)/ageStep)
}

// priority scores a case for the queue: its category's severity, more distinct
// reporters (capped, so a flood cannot bury everything else), a trusted flagger's
// word, and the customer's record of earlier actions.
func priority(c *Case) int {
	p := c.Severity + 2*min(max(c.ReporterCount-1, 0), 20)
	if c.FlaggerReportCount > 0 {
		p += 25
	}
	return p + 5*min(c.PriorActions, 5)
}
