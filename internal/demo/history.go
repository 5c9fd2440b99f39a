package demo

import (
	"context"
	"fmt"
	"time"

	"github.com/dockethq/docket/cases"
	"github.com/dockethq/docket/internal/database"
	"github.com/dockethq/docket/policy"
	"github.com/dockethq/docket/users"
)

// A past story: one customer, the reports about its site, and what the team
// did about them. Times are how long before now each step happened.
type story struct {
	customer cases.Customer
	hosts    []string
	reports  []histReport
	// decide is the decision on the case the first report opened; nil leaves
	// the case to be closed with closeReason instead.
	decide      *histDecision
	closeReason string
	appeal      *histAppeal
}

type histReport struct {
	ago   time.Duration
	kind  cases.ReporterKind
	name  string
	email string
	cat   cases.Category
	url   string
	desc  string
}

type histDecision struct {
	ago time.Duration
	by  string // the deciding account's role
	// escalatedBy, when set, escalates the case first, so by (a senior
	// reviewer) decides it.
	escalatedBy string
	p           cases.Proposal
}

type histAppeal struct {
	ago        time.Duration
	appellant  string // cases.AppellantCustomer or cases.AppellantReporter
	grounds    string
	reply      string // the reviewer's question, answered by answer
	answer     string
	decidedAgo time.Duration
	by         string // the reviewing account's role; never the decider
	verdict    string // cases.AppealUpheld or cases.AppealReversed
	outcome    string
	// closeReason closes a case sent back to review by a reversal: nothing
	// is left to decide once the site is reinstated.
	closeReason string
}

const day = 24 * time.Hour

// history is about five months of past work on customers Seed does not know,
// so Seed's open cases stay exactly as Seed leaves them.
var history = []story{
	{
		customer: cases.Customer{Name: "Brightwater Bakery", Plan: "pro", ContactEmail: "orders@brightwater-bakery.example"},
		hosts:    []string{"brightwater-bakery.example"},
		reports: []histReport{
			{148 * day, cases.ReporterPublic, "Tom Hale", "tom.hale@mail.example", cases.Spam, "https://brightwater-bakery.example/newsletter", "I keep getting this bakery's newsletter and never signed up."},
		},
		decide: &histDecision{ago: 147 * day, by: policy.Reviewer, p: cases.Proposal{Action: cases.NoAction,
			Grounds:  "AUP 4.2 unsolicited bulk email: not met",
			Evidence: "Double opt-in record for the reporter's address supplied by the customer; unsubscribe link works."}},
		appeal: &histAppeal{ago: 140 * day, appellant: cases.AppellantReporter,
			grounds:    "I never signed up for this. The opt-in must be forged.",
			reply:      "Could you check whether someone in your household ordered from the bakery last year? The opt-in came from an order form.",
			answer:     "My partner did order a cake, with my address. I did not know.",
			decidedAgo: 136 * day, by: policy.SeniorReviewer, verdict: cases.AppealUpheld,
			outcome: "The newsletter was requested through an order with your address and can be cancelled with its unsubscribe link. The decision stands."},
	},
	{
		customer: cases.Customer{Name: "Harbor Lane Games", Plan: "business", ContactEmail: "legal@harborlanegames.example"},
		hosts:    []string{"harborlanegames.example", "cdn.harborlanegames.example"},
		reports: []histReport{
			{139 * day, cases.ReporterPublic, "Ines Marlow", "ines@marlow-illustration.example", cases.Copyright, "https://harborlanegames.example/store/cover-art.png", "The cover art of this game is my illustration, used without a licence."},
			// Sent again the same evening: within the duplicate window, so it
			// is filed as a duplicate of the first, not counted again.
			{139*day - 8*time.Hour, cases.ReporterPublic, "Ines Marlow", "ines@marlow-illustration.example", cases.Copyright, "https://harborlanegames.example/store/cover-art.png", "Still online. Please act."},
			{138 * day, cases.ReporterPublic, "Ines Marlow", "ines@marlow-illustration.example", cases.Copyright, "https://cdn.harborlanegames.example/press/kit.zip", "The press kit contains the same illustration."},
		},
		decide: &histDecision{ago: 135 * day, by: policy.Reviewer, p: cases.Proposal{Action: cases.Warn, GroundType: "illegal",
			Grounds:     "Copyright infringement (AUP 3.1; Directive 2001/29/EC art. 3)",
			Explanation: "A rights holder reports that your store page and press kit use her illustration without a licence. Remove it or license it within 14 days.",
			Evidence:    "Artist's portfolio dated before the game's release."}},
	},
	{
		customer: cases.Customer{Name: "Quickfix Downloads (free plan)", Plan: "free", ContactEmail: "quickfix.admin@mail.example"},
		hosts:    []string{"quickfix-downloads.example"},
		reports: []histReport{
			{122 * day, cases.ReporterNetwork, "Example Net abuse desk", "", cases.Malware, "http://quickfix-downloads.example/files/driver-update.exe", "Trojanized driver updater (detected by 37/70 engines)."},
			{121 * day, cases.ReporterNetwork, "Example Net abuse desk", "", cases.Malware, "http://quickfix-downloads.example/files/codec-pack.exe", "Same loader family, other file name."},
			{121 * day, cases.ReporterPublic, "", "", cases.Malware, "http://quickfix-downloads.example/files/driver-update.exe", "My antivirus blocked this download."},
		},
		decide: &histDecision{ago: 120 * day, by: policy.Reviewer, p: cases.Proposal{Action: cases.BlockURL, GroundType: "illegal",
			Grounds:     "Distribution of malware (AUP 2.3)",
			Explanation: "Two downloads on your site are malware. The edge answers 451 for them; the rest of the site is unaffected.",
			URLs:        []string{"http://quickfix-downloads.example/files/driver-update.exe", "http://quickfix-downloads.example/files/codec-pack.exe"},
			Evidence:    "Sandbox reports of both files."}},
	},
	{
		customer: cases.Customer{Name: "Pixel Loft Studio", Plan: "pro", ContactEmail: "studio@pixelloft.example"},
		hosts:    []string{"pixelloft.example"},
		reports: []histReport{
			{110 * day, cases.ReporterPublic, "Brand Protection Desk", "brands@protect.example", cases.Trademark, "https://pixelloft.example/blog/logo-parodies", "Uses our client's logo."},
		},
		decide: &histDecision{ago: 108 * day, by: policy.Reviewer, p: cases.Proposal{Action: cases.NoAction,
			Grounds:  "Trademark: commentary and parody, no use in trade",
			Evidence: "The page is a design blog post discussing logos."}},
	},
	{
		customer: cases.Customer{Name: "Meridian Travel Deals (free plan)", Plan: "free", ContactEmail: "owner@meridian-travel.example"},
		hosts:    []string{"meridian-travel.example", "www.meridian-travel.example"},
		reports: []histReport{
			{96 * day, cases.ReporterPublic, "", "", cases.Phishing, "https://meridian-travel.example/wp-content/bank/login.php", "Fake bank login page hosted on a travel site."},
			{96 * day, cases.ReporterTrustedFlagger, "Anti-Phishing Working Group member", "", cases.Phishing, "https://meridian-travel.example/wp-content/bank/login.php?s=2", "Credential phishing kit in a WordPress upload folder."},
			{95 * day, cases.ReporterPublic, "", "", cases.Phishing, "https://www.meridian-travel.example/wp-content/bank/verify.php", "Second page of the same kit asking for card numbers."},
		},
		decide: &histDecision{ago: 95*day - 2*time.Hour, by: policy.Reviewer, p: cases.Proposal{Action: cases.Restrict, GroundType: "illegal",
			Grounds:     "Phishing (AUP 2.1; fraud)",
			Explanation: "Your site serves a bank phishing kit. It is restricted until the kit is removed.",
			Hostnames:   []string{"meridian-travel.example", "www.meridian-travel.example"},
			Evidence:    "Three reports, one from a trusted flagger; pages captured."}},
		appeal: &histAppeal{ago: 93 * day, appellant: cases.AppellantCustomer,
			grounds:    "Our WordPress was hacked through an old plugin. We removed the kit, updated everything and changed all passwords.",
			decidedAgo: 92 * day, by: policy.SeniorReviewer, verdict: cases.AppealReversed,
			outcome:     "We checked the site: the kit is gone and the plugin is updated. The restriction is lifted.",
			closeReason: "Appeal granted: the site was compromised and is clean again."},
	},
	{
		customer: cases.Customer{Name: "Oakridge Pharmacy Online (free plan)", Plan: "free", ContactEmail: "support@oakridge-rx.example"},
		hosts:    []string{"oakridge-rx.example"},
		reports: []histReport{
			{80 * day, cases.ReporterPublic, "", "", cases.Other, "https://oakridge-rx.example/no-prescription", "Sells prescription opioids without a prescription."},
			{79 * day, cases.ReporterPublic, "Dr. Ana Ruiz", "a.ruiz@clinic.example", cases.Other, "https://oakridge-rx.example/oxycodone", "Unlicensed pharmacy selling controlled substances."},
		},
		decide: &histDecision{ago: 78 * day, by: policy.Reviewer, p: cases.Proposal{Action: cases.Interstitial, GroundType: "illegal",
			Grounds:     "Sale of prescription medicines without a licence (AUP 2.5)",
			Explanation: "Visitors now see a warning page before your site: it offers controlled medicines without a prescription.",
			Evidence:    "No pharmacy licence found in the national register."}},
	},
	{
		customer: cases.Customer{Name: "Sunny Day Crafts", Plan: "pro", ContactEmail: "hello@sunnydaycrafts.example"},
		hosts:    []string{"sunnydaycrafts.example"},
		reports: []histReport{
			{66 * day, cases.ReporterNetwork, "Spamtrap network", "", cases.Spam, "http://sunnydaycrafts.example/sale", "Spamtrap hits: 214 messages advertising this URL in 24 hours."},
			{65 * day, cases.ReporterPublic, "", "", cases.Spam, "sunnydaycrafts.example/sale", "Spam email for this shop."},
		},
		decide: &histDecision{ago: 64 * day, by: policy.Reviewer, p: cases.Proposal{Action: cases.Warn, GroundType: "terms",
			Grounds:     "AUP 4.2 unsolicited bulk email",
			Explanation: "Your shop's sale was advertised by unsolicited bulk email. Stop the campaign and use opt-in lists only.",
			Evidence:    "Spamtrap counts."}},
	},
	{
		customer: cases.Customer{Name: "Stealer Market (free plan)", Plan: "free", ContactEmail: "x0r@anonmail.example"},
		hosts:    []string{"stealer-market.example", "panel.stealer-market.example"},
		reports: []histReport{
			{52 * day, cases.ReporterNetwork, "Example Net abuse desk", "", cases.Malware, "https://stealer-market.example/builds/lumma-v4.zip", "Infostealer builds for sale with a control panel."},
			{51 * day, cases.ReporterTrustedFlagger, "National CERT", "", cases.Malware, "https://panel.stealer-market.example/login", "Command-and-control panel of an infostealer campaign; stolen credentials sold on the main site."},
			{51 * day, cases.ReporterPublic, "", "", cases.Malware, "https://stealer-market.example/logs", "They sell stolen browser passwords, including mine."},
			{50 * day, cases.ReporterTrustedFlagger, "National CERT", "", cases.Malware, "https://stealer-market.example/builds/lumma-v5.zip", "New build uploaded after our first referral."},
		},
		decide: &histDecision{ago: 50*day - 3*time.Hour, by: policy.SeniorReviewer, escalatedBy: policy.Reviewer, p: cases.Proposal{Action: cases.Terminate, GroundType: "illegal",
			Grounds:     "Sale of malware and stolen credentials (AUP 2.3; computer misuse law)",
			Explanation: "Your service sells malware and stolen credentials and runs its control panel. Service is terminated for all your hostnames.",
			Hostnames:   []string{"stealer-market.example", "panel.stealer-market.example"},
			Evidence:    "CERT referrals; captures of the builds and log listings."}},
	},
	{
		customer: cases.Customer{Name: "Greenleaf Recipes", Plan: "business", ContactEmail: "web@greenleaf-recipes.example"},
		hosts:    []string{"greenleaf-recipes.example"},
		reports: []histReport{
			{38 * day, cases.ReporterPublic, "", "", cases.Harassment, "https://greenleaf-recipes.example/comments/8812", "A commenter insults me."},
		},
		decide: &histDecision{ago: 37 * day, by: policy.Reviewer, p: cases.Proposal{Action: cases.NoAction,
			Grounds:  "Harassment (AUP 3.4): not met",
			Evidence: "A single rude comment, already removed by the site's moderators."}},
	},
	{
		customer: cases.Customer{Name: "Vortex Streams (free plan)", Plan: "free", ContactEmail: "vortex@mail.example"},
		hosts:    []string{"vortex-streams.example"},
		reports: []histReport{
			{24 * day, cases.ReporterTrustedFlagger, "Sports Rights Alliance", "", cases.Copyright, "https://vortex-streams.example/live/cup-final", "Unlicensed live stream of the cup final."},
			{24 * day, cases.ReporterTrustedFlagger, "Sports Rights Alliance", "", cases.Copyright, "https://vortex-streams.example/live/league", "Unlicensed league match streams, every weekend."},
		},
		// A contractual ground: the terms' repeat-infringer rule, not a court's finding.
		decide: &histDecision{ago: 23 * day, by: policy.Reviewer, p: cases.Proposal{Action: cases.Restrict, GroundType: "terms",
			Grounds:     "Terms of service 7.2: repeat infringers",
			Explanation: "Your site re-streams live sport without a licence, week after week. It is restricted.",
			Evidence:    "Flagger's captures of both streams."}},
	},
	{
		// A flood of identical complaints that turned out to be a competitor's campaign.
		customer: cases.Customer{Name: "Tidewater Kayaks", Plan: "pro", ContactEmail: "info@tidewaterkayaks.example"},
		hosts:    []string{"tidewaterkayaks.example"},
		reports: []histReport{
			{12 * day, cases.ReporterPublic, "", "", cases.Other, "https://tidewaterkayaks.example/", "Scam shop."},
			{12 * day, cases.ReporterPublic, "", "", cases.Other, "https://tidewaterkayaks.example/shop", "Scam shop."},
		},
		closeReason: "Report flood with identical wording from one network; the shop is a long-standing customer with no complaints from buyers.",
	},
	{
		// Not ours: no customer, only a report about a host Docket does not serve.
		reports: []histReport{
			{30 * day, cases.ReporterPublic, "", "", cases.Phishing, "https://login-micros0ft.example/", "Fake Microsoft login."},
		},
	},
}

// SeedHistory adds about five months of past work to a database Seed has just
// loaded: reports, decisions of every kind with their statements of reasons,
// a termination signed off by legal and leadership, and two appeals, one
// upheld and one reversed. Everything goes through the cases service with a
// clock set to when each step happened, so the audit events, statements,
// strikes and directives are the ones the real workflow writes. Call it only
// when Seed reports seeded: it is not idempotent on its own.
//
// The services here have no notify hooks, as in Seed: the past needs no mail
// or edge deliveries queued now.
func SeedHistory(ctx context.Context, db *database.DB, us *users.Service, now func() time.Time) error {
	// The real policy answers the actors' questions (escalated cases, sign-off
	// roles), as it does for the UI.
	en, err := policy.NewEnforcer(db)
	if err != nil {
		return fmt.Errorf("demo history: %w", err)
	}
	actors := map[string]cases.Actor{}
	for _, a := range Accounts {
		u, err := us.ByEmail(ctx, a.Email)
		if err != nil {
			return fmt.Errorf("demo history: account %s: %w", a.Email, err)
		}
		sub := policy.Subject(u.ID)
		actors[a.Role] = cases.Actor{UserID: u.ID, Can: func(obj, act string) bool {
			ok, err := en.Allowed(sub, obj, act)
			return err == nil && ok
		}}
	}
	at := clockAt(db, now().UTC())
	const actor = "system:demo"
	for _, st := range history {
		if st.customer.Name != "" {
			// The customer signed up well before its first report.
			if _, _, err := at(st.reports[0].ago+60*day).AddCustomer(ctx, actor, st.customer, st.hosts...); err != nil {
				return fmt.Errorf("demo history: customer %s: %w", st.customer.Name, err)
			}
		}
		var first *cases.Report
		for _, r := range st.reports {
			rep, err := at(r.ago).FileReport(ctx, cases.NewReport{
				Channel: channelOf[r.kind], ReporterKind: r.kind, ReporterName: r.name, ReporterEmail: r.email, Category: r.cat,
				URL: r.url, Description: r.desc, GoodFaith: true,
			})
			if err != nil {
				return fmt.Errorf("demo history: report %s: %w", r.url, err)
			}
			if first == nil {
				first = rep
			}
		}
		if st.customer.Name == "" {
			continue
		}
		if err := play(ctx, at, actors, st, first); err != nil {
			return fmt.Errorf("demo history: %s: %w", st.customer.Name, err)
		}
	}
	return nil
}

// play takes one story's case from its reports to its end.
func play(ctx context.Context, at func(time.Duration) *cases.Service, actors map[string]cases.Actor, st story, first *cases.Report) error {
	id := first.CaseID
	if st.decide == nil {
		_, err := at(st.reports[len(st.reports)-1].ago-2*time.Hour).Close(ctx, actors[policy.Reviewer], id, st.closeReason)
		return err
	}
	d := st.decide
	by := actors[d.by]
	// Claimed 20 minutes before deciding, inside the claim's lease; an
	// escalation comes first, by someone else.
	claimAt := d.ago + 20*time.Minute
	if d.escalatedBy != "" {
		esc := actors[d.escalatedBy]
		if _, err := at(claimAt+2*time.Hour).Claim(ctx, esc, id); err != nil {
			return err
		}
		if _, err := at(claimAt+90*time.Minute).Escalate(ctx, esc, id, "A whole service built for crime: this looks like a termination."); err != nil {
			return err
		}
	}
	if _, err := at(claimAt).Claim(ctx, by, id); err != nil {
		return err
	}
	_, dec, err := at(d.ago).Decide(ctx, by, id, d.p)
	if err != nil {
		return err
	}
	if d.p.Action == cases.Terminate {
		// Legal the next morning, leadership that afternoon.
		if _, err := at(d.ago-18*time.Hour).SignOff(ctx, actors[policy.Legal], dec.ID, "legal", "approve", ""); err != nil {
			return err
		}
		if _, err := at(d.ago-24*time.Hour).SignOff(ctx, actors[policy.Leadership], dec.ID, "leadership", "approve", ""); err != nil {
			return err
		}
	}
	ap := st.appeal
	if ap == nil {
		return nil
	}
	link := cases.AppealLink{Purpose: cases.AppealPurposeCustomer, ID: dec.ID}
	if ap.appellant == cases.AppellantReporter {
		link = cases.AppealLink{Purpose: cases.AppealPurposeReporter, ID: first.ID}
	}
	filed, err := at(ap.ago).FileAppeal(ctx, link, ap.grounds)
	if err != nil {
		return err
	}
	rev := actors[ap.by]
	if ap.reply != "" {
		if err := at(ap.ago-day).ReplyAppeal(ctx, rev, filed.ID, ap.reply); err != nil {
			return err
		}
		if err := at(ap.ago-day-5*time.Hour).AppellantMessage(ctx, link, ap.answer); err != nil {
			return err
		}
	}
	if ap.verdict == cases.AppealReversed {
		if _, err := at(ap.decidedAgo).ReverseAppeal(ctx, rev, filed.ID, ap.outcome); err != nil {
			return err
		}
	} else if _, err := at(ap.decidedAgo).UpholdAppeal(ctx, rev, filed.ID, ap.outcome); err != nil {
		return err
	}
	if ap.closeReason != "" {
		if _, err := at(ap.decidedAgo-time.Hour).Close(ctx, rev, id, ap.closeReason); err != nil {
			return err
		}
	}
	return nil
}
