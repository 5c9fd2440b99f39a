package benchgen

import (
	"math/rand/v2"
	"strconv"
	"strings"

	"github.com/dockethq/docket/cases"
)

// Word lists for names, hostnames and report text. Everything generated from
// them is deterministic for a given seed.
var (
	words = []string{
		"acme", "alpine", "amber", "anchor", "apex", "arbor", "atlas", "aurora", "beacon", "birch",
		"blue", "bright", "canyon", "cedar", "cinder", "cobalt", "comet", "coral", "crest", "delta",
		"ember", "falcon", "fern", "forge", "galaxy", "garnet", "glacier", "granite", "harbor", "hazel",
		"horizon", "indigo", "iron", "jade", "juniper", "kestrel", "lantern", "lotus", "lumen", "maple",
		"meadow", "mesa", "nimbus", "north", "oak", "onyx", "orbit", "pebble", "pine", "pixel",
		"prairie", "quartz", "raven", "ridge", "river", "sage", "sierra", "silver", "spruce", "summit",
		"tidal", "timber", "topaz", "tundra", "valley", "vertex", "willow", "zenith",
	}
	nouns = []string{
		"labs", "media", "studio", "shop", "store", "forum", "board", "news", "blog", "photo",
		"games", "cloud", "hosting", "market", "works", "digital", "travel", "foods", "apparel", "tech",
	}
	tlds       = []string{"com", "com", "com", "net", "org", "io", "shop", "xyz", "de", "fr", "co.uk", "com.au"}
	subdomains = []string{"shop", "blog", "app", "forum", "media", "store"}
	firstNames = []string{
		"Alex", "Blake", "Casey", "Dana", "Eli", "Frankie", "Gale", "Harper", "Indy", "Jordan",
		"Kai", "Lee", "Morgan", "Noa", "Oakley", "Parker", "Quinn", "Riley", "Sam", "Taylor",
		"Uma", "Val", "Wren", "Ximena", "Yuki", "Zan", "Maria", "Ahmed", "Chen", "Olga",
	}
	lastNames = []string{
		"Smith", "Garcia", "Kowalski", "Nguyen", "Okafor", "Rossi", "Schmidt", "Tanaka", "Silva", "Dubois",
		"Ivanova", "Haddad", "Larsen", "Murphy", "Novak", "Patel", "Quispe", "Reyes", "Sato", "Weber",
	}
	mailDomains = []string{"mail.example", "post.example", "inbox.example", "webmail.example", "fastmail.example", "mx.example"}
	flaggerOrgs = []string{
		"Counter-Extremism Referral Unit", "Child Safety Hotline", "Brand Protection Desk", "Anti-Phishing Working Group",
		"Financial Fraud Bureau", "Copyright Enforcement Agency", "Consumer Protection Office", "Online Harms Observatory",
		"Hate Speech Monitor", "Malware Research Collective", "National CERT", "Music Rights Association",
		"Film Industry Alliance", "Bank Security Team", "Crypto Scam Tracker", "Election Integrity Unit",
	}
	networks = []string{
		"Example Net", "Backbone One", "Fibre Link", "Metro Transit IX", "Blue Ocean Hosting", "Northern Carrier",
		"Spamhaus-like DNSBL", "Mail Relay Co", "Cloud Edge", "Telco Europe",
	}
)

// descriptions are report texts per category; %n is replaced by a number and
// %h by the host, so texts differ between reports.
var descriptions = map[cases.Category][]string{
	cases.Phishing: {
		"This page copies the sign-in page of my bank and asks for card details. I received the link in an SMS claiming my account was locked (ref %n).",
		"Credential phishing kit impersonating a payment provider on %h; our customers are being targeted by SMS.",
		"Fake parcel delivery page asking for a small customs fee and full card number. Seen in campaign %n.",
		"Crypto wallet drainer disguised as an airdrop claim page.",
	},
	cases.Malware: {
		"Binary served here is a known loader (detected by %n engines); seen in a mail campaign.",
		"The download link on %h serves a trojanized installer.",
		"Command-and-control panel for a botnet; beacons observed from %n infected hosts.",
	},
	cases.Copyright: {
		"These are my photographs, published without licence. I am the rights holder (catalogue %n).",
		"Full copies of our film are streamed on %h without permission.",
		"Pirated e-books offered for download; we hold the exclusive rights. Notice %n.",
	},
	cases.Trademark: {
		"Counterfeit goods sold under our registered trademark %n.",
		"The site %h impersonates our brand and logo to sell fake products.",
	},
	cases.Harassment: {
		"My home address and phone number were posted here without consent.",
		"A thread on %h targets me with threats and insults; it has been going on for %n days.",
	},
	cases.Threat: {
		"Specific threat against a named school with a date.",
		"A user on %h announces an attack on a public event next week (post %n).",
	},
	cases.ViolentExtremism: {
		"The attacker's manifesto is posted here and users are celebrating the attack.",
		"Recording of the attack livestream is re-hosted on %h. Referral %n.",
		"Recruitment material for a designated terrorist organisation.",
	},
	cases.CSAM: {
		"Child sexual abuse material. Hash match %n. Do not open.",
		"Reported by hotline: abuse imagery hosted on %h.",
	},
	cases.Spam: {
		"Spam email advertising this shop, received dozens of times.",
		"Unsolicited newsletter from %h, I never signed up (message %n).",
		"Comment spam linking to this site on our forum, %n posts overnight.",
	},
	cases.Other: {
		"Something is wrong with this page; it looks like a scam.",
		"This site on %h hosts content that I believe breaks your rules (case %n).",
	},
}

var urlPaths = map[cases.Category][]string{
	cases.Phishing:         {"/login/verify", "/secure/account/update", "/signin", "/wallet/claim"},
	cases.Malware:          {"/dl/invoice_%n.exe", "/files/setup_%n.msi", "/gate.php"},
	cases.Copyright:        {"/gallery/%n", "/watch/%n", "/ebooks/%n.pdf"},
	cases.Trademark:        {"/product/%n", "/brand/outlet"},
	cases.Harassment:       {"/thread/%n", "/u/%n"},
	cases.Threat:           {"/thread/%n", "/post/%n"},
	cases.ViolentExtremism: {"/pol/thread/%n", "/media/v/%n.mp4"},
	cases.CSAM:             {"/i/%n.jpg", "/album/%n"},
	cases.Spam:             {"/promo/%n", "/buy", "/deal/%n"},
	cases.Other:            {"/page/%n", "/"},
}

func fill(tmpl string, n int, host string) string {
	if !strings.Contains(tmpl, "%") {
		return tmpl
	}
	return strings.NewReplacer("%n", strconv.Itoa(n), "%h", host).Replace(tmpl)
}

func pick[T any](r *rand.Rand, s []T) T { return s[r.IntN(len(s))] }

// siteHost returns the i-th apex hostname: unique by construction.
func siteHost(r *rand.Rand, i int) string {
	return pick(r, words) + "-" + pick(r, nouns) + strconv.Itoa(i) + "." + pick(r, tlds)
}

// unknownHost is a hostname the provider does not serve.
func unknownHost(r *rand.Rand, i int) string {
	return "ext-" + pick(r, words) + strconv.Itoa(i) + "." + pick(r, []string{"example", "test-domain.example", "invalid-shop.example"})
}

func customerName(i int) string {
	w := words[i%len(words)]
	return strings.ToUpper(w[:1]) + w[1:] + " " + strings.ToUpper(nouns[(i/len(words))%len(nouns)][:1]) + nouns[(i/len(words))%len(nouns)][1:] + " " + strconv.Itoa(i)
}

// publicEmail is the email of the i-th member of the public who gives one.
func publicEmail(i int) (name, email string) {
	f := firstNames[i%len(firstNames)]
	l := lastNames[(i/len(firstNames))%len(lastNames)]
	return f + " " + l, strings.ToLower(f) + "." + strings.ToLower(l) + strconv.Itoa(i) + "@" + mailDomains[i%len(mailDomains)]
}

func slug(s string) string {
	return strings.Trim(strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			return r
		case r >= 'A' && r <= 'Z':
			return r + 'a' - 'A'
		}
		return '-'
	}, s), "-")
}

func flaggerContact(i int) (name, email string) {
	o := flaggerOrgs[i%len(flaggerOrgs)]
	return o, "referrals@" + slug(o) + ".example"
}

func networkContact(i int) (name, email string) {
	n := networks[i%len(networks)]
	return n + " abuse desk", "abuse@" + slug(n) + ".example"
}

var grounds = map[cases.DecisionAction][]string{
	cases.NoAction:  {"No violation found.", "Not our customer's content.", "Insufficient evidence."},
	cases.Warn:      {"AUP §3.1 (deceptive content)", "AUP §4.2 (spam)", "ToS §7 (infringement notice)"},
	cases.Restrict:  {"AUP §3.2 (phishing)", "AUP §5 (malware distribution)", "DSA Art. 16 notice"},
	cases.Terminate: {"AUP §2 (illegal content)", "EU TCO Regulation", "Repeat infringer policy"},
}

var closeReasons = []string{"Spam flood from one sender.", "Duplicate of another case.", "Not our customer.", "Content removed by the customer.", "Done."}

var noteBodies = []string{
	"Checked the page: content still online at the time of review.",
	"Customer contacted by email, waiting for a reply.",
	"Looks like the same kit as last week's campaign.",
	"Asked legal for a second opinion.",
	"Reporter sent more evidence by email.",
}
