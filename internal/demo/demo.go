// Package demo loads a small, believable data set: a few customers and sites, some
// routine cases and one high-profile forum case of the 8chan kind, plus one staff
// account per role. Its passwords are printed and well known: demo use only.
package demo

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/dockethq/docket/cases"
	"github.com/dockethq/docket/internal/database"
	"github.com/dockethq/docket/policy"
	"github.com/dockethq/docket/users"
)

// Password is every demo account's password.
const Password = "docket-demo-password"

// Account is a demo staff account.
type Account struct {
	Email, Name, Role string
}

// Accounts lists one demo account per role.
var Accounts = []Account{
	{"reviewer@docket.example", "Riley Reviewer", policy.Reviewer},
	{"senior@docket.example", "Sam Senior", policy.SeniorReviewer},
	{"legal@docket.example", "Lee Legal", policy.Legal},
	{"leadership@docket.example", "Lou Leadership", policy.Leadership},
	{"admin@docket.example", "Ada Admin", policy.Admin},
	{"auditor@docket.example", "Aud Auditor", policy.Auditor},
}

// ErrNotEmpty is returned when the database already has users that are not the
// demo's: seeding well-known passwords into a real deployment must not happen.
var ErrNotEmpty = errors.New("the database already has users; refusing to add demo accounts with well-known passwords")

// Seed loads the demo data set. It is idempotent: a database that already holds
// the demo is left as it is (seeded reports false).
func Seed(ctx context.Context, db *database.DB, us *users.Service, now func() time.Time) (seeded bool, err error) {
	existing, err := us.List(ctx)
	if err != nil {
		return false, err
	}
	if len(existing) > 0 {
		if _, err := us.ByEmail(ctx, Accounts[0].Email); err == nil {
			return false, nil
		}
		return false, ErrNotEmpty
	}
	const actor = "system:demo"
	for _, a := range Accounts {
		if _, err := us.Create(ctx, actor, users.NewUser{Email: a.Email, Name: a.Name, Password: Password, Roles: []string{a.Role}}); err != nil {
			return false, fmt.Errorf("demo user %s: %w", a.Email, err)
		}
	}

	at := clockAt(db, now().UTC())
	cs := at(30 * 24 * time.Hour)
	customers := []struct {
		c     cases.Customer
		hosts []string
	}{
		{cases.Customer{Name: "Northwind Outfitters", Plan: "business", ContactEmail: "it@northwind-outfitters.example"}, []string{"northwind-outfitters.example", "shop.northwind-outfitters.example"}},
		{cases.Customer{Name: "Lumen Photo Co", Plan: "pro", ContactEmail: "hello@lumenphoto.example"}, []string{"lumenphoto.example"}},
		{cases.Customer{Name: "J. Doe (free plan)", Plan: "free", ContactEmail: "jd1987@mail.example"}, []string{"secure-login-verify.example"}},
		{cases.Customer{Name: "Kestrel Web Services", Plan: "enterprise", ContactEmail: "abuse@kestrel.example"}, []string{"files.kestrel.example", "kestrel.example"}},
		{cases.Customer{Name: "Yardboard LLC", Plan: "free", ContactEmail: "admin@yardboard.example"}, []string{"yardboard.example", "www.yardboard.example", "media.yardboard.example"}},
		{cases.Customer{Name: "Pillbox Trading (free plan)", Plan: "free", ContactEmail: "sales@cheap-pills-now.example"}, []string{"cheap-pills-now.example"}},
	}
	for _, c := range customers {
		_, sites, err := cs.AddCustomer(ctx, actor, c.c, c.hosts...)
		if err != nil {
			return false, fmt.Errorf("demo customer %s: %w", c.c.Name, err)
		}
		// A pass-through site: reports about it are forwarded to its origin host too.
		for _, st := range sites {
			if st.Hostname == "files.kestrel.example" {
				if _, err := cs.SetSiteOrigin(ctx, actor, st.ID, "storage.origin-hosting.example", "abuse@origin-hosting.example"); err != nil {
					return false, fmt.Errorf("demo origin host: %w", err)
				}
			}
		}
	}

	type rep struct {
		ago  time.Duration
		kind cases.ReporterKind
		name string
		cat  cases.Category
		url  string
		desc string
	}
	h := time.Hour
	reports := []rep{
		{50 * h, cases.ReporterPublic, "", cases.Phishing, "https://secure-login-verify.example/paypal/signin", "This page copies the PayPal sign-in page and asks for card details. I received the link in an SMS claiming my account was locked."},
		{20 * h, cases.ReporterPublic, "Bank fraud team", cases.Phishing, "https://secure-login-verify.example/paypal/signin?id=8812", "Credential phishing kit impersonating PayPal; our customers are being targeted by SMS."},
		{30 * h, cases.ReporterPublic, "Maria Costa", cases.Copyright, "https://lumenphoto.example/gallery/lisbon-2024", "These are my photographs, published without licence. Originals at my portfolio; I am the rights holder."},
		{4 * h, cases.ReporterNetwork, "Example Net abuse desk", cases.Malware, "http://files.kestrel.example/dl/invoice_2291.exe", "Binary served here is a known loader (detected by 41/70 engines); seen in a mail campaign."},
		{9 * 24 * h, cases.ReporterPublic, "", cases.Spam, "cheap-pills-now.example/buy", "Spam email advertising this shop, received dozens of times."},
		{2 * h, cases.ReporterPublic, "", cases.Spam, "http://shop.northwind-outfitters.example/promo", "Got an unsolicited newsletter from this shop."},
	}
	// The high-profile case: a forum tied to a violent attack, reported by many
	// members of the public and a trusted flagger within hours.
	forum := []string{
		"The attacker posted his manifesto on this board an hour before the shooting, and users are celebrating it.",
		"Thread praising yesterday's mass shooting and encouraging the next one. Names and addresses of targets posted.",
		"Livestream recording of the attack is being re-hosted here.",
		"This board has repeatedly hosted manifestos of three attackers. Please act.",
		"Users are calling for copycat attacks against a named mosque.",
		"The site keeps the manifesto pinned.",
	}
	for i, d := range forum {
		reports = append(reports, rep{time.Duration(14-i) * h, cases.ReporterPublic, "", cases.ViolentExtremism, fmt.Sprintf("https://yardboard.example/pol/thread/%d", 48812+i), d})
	}
	reports = append(reports,
		rep{11 * h, cases.ReporterTrustedFlagger, "Counter-Extremism Referral Unit", cases.ViolentExtremism, "https://yardboard.example/pol/thread/48812", "Terrorist content: attacker's manifesto and praise of the attack (EU TCO Regulation). Referral ref CERU-2026-1182."},
		rep{6 * h, cases.ReporterTrustedFlagger, "Counter-Extremism Referral Unit", cases.ViolentExtremism, "https://yardboard.example/media/v/attack.mp4", "Copy of the perpetrator's livestream. Referral ref CERU-2026-1190."},
		rep{5 * h, cases.ReporterPublic, "", cases.Threat, "https://www.yardboard.example/pol/thread/48930", "Specific threat against a named school with a date."},
	)
	for _, r := range reports {
		_, err := at(r.ago).FileReport(ctx, cases.NewReport{
			Channel: channelOf[r.kind], ReporterKind: r.kind, ReporterName: r.name, Category: r.cat,
			URL: r.url, Description: r.desc, GoodFaith: true,
		})
		if err != nil {
			return false, fmt.Errorf("demo report %s: %w", r.url, err)
		}
	}
	return true, nil
}

// clockAt returns a cases service whose clock stands ago before t0, so each
// demo step is written by the real service as if it happened then.
func clockAt(db *database.DB, t0 time.Time) func(ago time.Duration) *cases.Service {
	return func(ago time.Duration) *cases.Service {
		return cases.NewService(db, func() time.Time { return t0.Add(-ago) })
	}
}

// channelOf is the channel each kind of demo reporter files through.
var channelOf = map[cases.ReporterKind]cases.Channel{
	cases.ReporterPublic: cases.ChannelWeb, cases.ReporterTrustedFlagger: cases.ChannelAPI, cases.ReporterNetwork: cases.ChannelEmail,
}
