package abusemail_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dockethq/docket/cases"
	"github.com/dockethq/docket/intake/abusemail"
	"github.com/dockethq/docket/internal/testdb"
)

// SharedMail is ../shared/testdata/mail from the project root (two levels up
// from this package); DOCKET_TEST_SHARED names the shared folder elsewhere.
func sharedMail(t testing.TB) string {
	t.Helper()
	base := filepath.Join("..", "..", "..", "shared")
	if v := os.Getenv("DOCKET_TEST_SHARED"); v != "" {
		base = v
	}
	dir := filepath.Join(base, "testdata", "mail")
	if _, err := os.Stat(dir); err != nil {
		testdb.Unavailable(t, "shared test data "+dir, err)
	}
	return dir
}

func read(t testing.TB, dir, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// want is what a sample must yield, in Docket's terms, read off the sample.
type want struct {
	format, typ   string
	category      cases.Category
	urls, domains []string
	ips           []string
	reporterName  string
	reporterEmail string
	reference     string
	time          string // RFC 3339, or "" for none
	notAbuse      bool
	inDescription []string
}

var samples = map[string]want{
	"arf-rfc5965-B1-minimal.eml": {
		format: abusemail.FormatARF, typ: "abuse", category: cases.Spam,
		reporterEmail: "abusedesk@example.com",
		inDescription: []string{"Feedback-Type: abuse", "User-Agent: SomeGenerator/1.0", "8787KJKJ3K4J3K4J3K4J3.mail@example.net", "received from IP\n192.0.2.1"},
	},
	"arf-rfc5965-B2-extended.eml": {
		format: abusemail.FormatARF, typ: "abuse", category: cases.Spam,
		urls: []string{"http://example.net/earn_money.html"}, domains: []string{"example.net"}, ips: []string{"192.0.2.1"},
		reporterEmail: "abusedesk@example.com", time: "2005-03-08T18:00:00Z",
		inDescription: []string{"Original-Mail-From: <somespammer@example.net>", "Original-Rcpt-To: <user@example.com>", "Reporting-Mta: dns; mail.example.com", "Reported-Uri: mailto:user@example.com"},
	},
	"arf-rfc6591-authfailure-dkim.eml": {
		format: abusemail.FormatARF, typ: "auth-failure", category: cases.Other,
		domains: []string{"example.net"}, ips: []string{"192.0.2.1"},
		reporterEmail: "arf-daemon@example.com", time: "2010-04-14T19:15:31Z", notAbuse: true,
		inDescription: []string{"Auth-Failure: bodyhash", "Dkim-Domain: example.net"},
	},
	"arf-abuseio-aol-fbl-v0.1.eml": {
		format: abusemail.FormatARF, typ: "abuse", category: cases.Spam,
		domains: []string{"server.domain5.tld"}, ips: []string{"10.17.18.1"},
		reporterEmail: "scomp@aol.net", reference: "20160119193302.5D0103C910F@correo.domain2.tld", time: "2016-01-19T19:32:40Z",
		inDescription: []string{"User-Agent: AOL SComp", "Subject: Ati primit un cupon! nlm", "message-id of 20160119143236.14076@une.com.co"},
	},
	"xarf-abuseio-netcraft-fraud-phishing-uri.eml": {
		format: abusemail.FormatXARF, typ: "fraud/phishing", category: cases.Phishing,
		urls:         []string{"http://john-doe.tld/ints.cancellation.form.your.pc.is.now.connected/to.ituneserver.with.ssl2active.applecustomers.webformlogin2/"},
		domains:      []string{"john-doe.tld"},
		reporterName: "Netcraft Takedown Service", reporterEmail: "takedown@netcraft.com",
		reference: "takedown-response+0527363@netcraft.com", time: "2015-10-12T06:40:56Z",
		inDescription: []string{"Schema-URL: http://www.x-arf.org/schema/fraud_0.1.4.json", "This attack targets Apple."},
	},
	"xarf-v0.2-abuseio-blocklistde-regbot.eml": {
		format: abusemail.FormatXARF, typ: "abuse/regbot", category: cases.Spam,
		ips:          []string{"10.0.2.150"},
		reporterName: "Abuse-Team (auto-generated)", reporterEmail: "abuse-team@blocklist.de",
		reference: "123456789@blocklist.de", time: "2014-01-31T06:19:02Z",
		inDescription: []string{"User-Agent: Fail2BanFeedBackScript blocklist.de V0.2", "has attacked one of our servers/partners"},
	},
}

func TestSamples(t *testing.T) {
	dir := sharedMail(t)
	files, _ := filepath.Glob(filepath.Join(dir, "*.eml"))
	if len(files) != len(samples) {
		t.Errorf("%d .eml samples in %s, %d expected here: a new sample needs its expectation", len(files), dir, len(samples))
	}
	for name, w := range samples {
		t.Run(name, func(t *testing.T) {
			m, err := abusemail.Parse(read(t, dir, name))
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if m.Format != w.format || len(m.Reports) != 1 {
				t.Fatalf("format %s with %d reports, want %s with 1", m.Format, len(m.Reports), w.format)
			}
			check(t, m.Reports[0], w)
		})
	}
}

func check(t *testing.T, r abusemail.Report, w want) {
	t.Helper()
	if r.Format != w.format || r.Type != w.typ || r.Category != w.category {
		t.Errorf("format/type/category = %s %q %s, want %s %q %s", r.Format, r.Type, r.Category, w.format, w.typ, w.category)
	}
	if !slices.Equal(r.URLs, w.urls) || !slices.Equal(r.Domains, w.domains) || !slices.Equal(r.IPs, w.ips) {
		t.Errorf("targets urls=%q domains=%q ips=%q, want %q %q %q", r.URLs, r.Domains, r.IPs, w.urls, w.domains, w.ips)
	}
	if r.ReporterName != w.reporterName || r.ReporterEmail != w.reporterEmail {
		t.Errorf("reporter %q <%s>, want %q <%s>", r.ReporterName, r.ReporterEmail, w.reporterName, w.reporterEmail)
	}
	if r.Reference != w.reference {
		t.Errorf("reference %q, want %q", r.Reference, w.reference)
	}
	got := ""
	if !r.Time.IsZero() {
		got = r.Time.UTC().Format(time.RFC3339)
	}
	if got != w.time {
		t.Errorf("time %q, want %q", got, w.time)
	}
	if (r.NotAbuse != "") != w.notAbuse {
		t.Errorf("NotAbuse %q, want set=%v", r.NotAbuse, w.notAbuse)
	}
	for _, s := range w.inDescription {
		if !strings.Contains(r.Description, s) {
			t.Errorf("description lacks %q:\n%s", s, r.Description)
		}
	}
	if r.Description == "" || len([]rune(r.Description)) > cases.MaxDescription {
		t.Errorf("description length %d", len([]rune(r.Description)))
	}
}

// The other parser's reading (mail-auth's *.expected.json.txt) agrees with
// ours on the fields both have.
func TestAgreesWithMailAuth(t *testing.T) {
	dir := sharedMail(t)
	files, _ := filepath.Glob(filepath.Join(dir, "*.expected.json.txt"))
	if len(files) == 0 {
		t.Fatal("no expected files")
	}
	for _, f := range files {
		b := read(t, dir, filepath.Base(f))
		if i := strings.IndexByte(string(b), '\n'); i >= 0 && strings.HasPrefix(string(b), "//") {
			b = b[i+1:]
		}
		var exp struct {
			FeedbackType   string   `json:"feedback_type"`
			ArrivalDate    *int64   `json:"arrival_date"`
			ReportedDomain []string `json:"reported_domain"`
			ReportedURI    []string `json:"reported_uri"`
			SourceIP       *string  `json:"source_ip"`
		}
		if err := json.Unmarshal(b, &exp); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		eml := strings.TrimSuffix(filepath.Base(f), ".expected.json.txt") + ".eml"
		m, err := abusemail.Parse(read(t, dir, eml))
		if err != nil {
			t.Fatalf("%s: %v", eml, err)
		}
		r := m.Reports[0]
		if !strings.EqualFold(strings.ReplaceAll(r.Type, "-", ""), exp.FeedbackType) {
			t.Errorf("%s: type %q, mail-auth %q", eml, r.Type, exp.FeedbackType)
		}
		if exp.ArrivalDate != nil && r.Time.Unix() != *exp.ArrivalDate {
			t.Errorf("%s: time %d, mail-auth %d", eml, r.Time.Unix(), *exp.ArrivalDate)
		}
		if !slices.Equal(r.Domains, exp.ReportedDomain) && len(exp.ReportedDomain) > 0 {
			t.Errorf("%s: domains %q, mail-auth %q", eml, r.Domains, exp.ReportedDomain)
		}
		var web []string
		for _, u := range exp.ReportedURI {
			if strings.HasPrefix(u, "http") {
				web = append(web, u)
			}
		}
		if !slices.Equal(r.URLs, web) {
			t.Errorf("%s: urls %q, mail-auth's web URIs %q", eml, r.URLs, web)
		}
		if exp.SourceIP != nil && !slices.Contains(r.IPs, *exp.SourceIP) {
			t.Errorf("%s: ips %q lack mail-auth's %q", eml, r.IPs, *exp.SourceIP)
		}
	}
}

// WrapJSON makes an email carrying an XARF JSON report as an attachment,
// the way XARF senders mail them.
func WrapJSON(subject string, report []byte) []byte {
	return []byte("From: XARF Sender <xarf@sender.example>\r\n" +
		"To: abuse@docket.example\r\n" +
		"Subject: " + subject + "\r\n" +
		"Message-ID: <" + strings.ReplaceAll(subject, " ", "-") + "@sender.example>\r\n" +
		"Date: Sat, 11 Jan 2025 16:00:00 +0000\r\n" +
		"MIME-Version: 1.0\r\n" +
		"Content-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n" +
		"--b1\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nAn XARF report is attached.\r\n" +
		"--b1\r\nContent-Type: application/json\r\nContent-Disposition: attachment; filename=\"report.json\"\r\n\r\n" +
		string(report) + "\r\n--b1--\r\n")
}

// V4Samples reads the XARF v4 and v3 samples from the shared file.
func V4Samples(t testing.TB) (v4 map[string]json.RawMessage, v3 map[string]json.RawMessage) {
	t.Helper()
	var doc struct {
		V4 map[string]json.RawMessage `json:"samples_v4"`
		V3 map[string]json.RawMessage `json:"samples_v3"`
	}
	if err := json.Unmarshal(read(t, sharedMail(t), "xarf-v4-samples-and-core-schema.json"), &doc); err != nil {
		t.Fatal(err)
	}
	return doc.V4, doc.V3
}

func TestXARFv4(t *testing.T) {
	v4, v3 := V4Samples(t)
	cases4 := map[string]want{
		"content-phishing": {typ: "content/phishing", category: cases.Phishing, urls: []string{"http://secure-banking-login.example.com/auth"}, ips: []string{"203.0.113.45"},
			reporterName: "Brand Protection Service", reporterEmail: "takedown@brand-protect.example", reference: "1a5ec293-0849-40a4-9eba-d5926262ff05", time: "2025-01-11T15:15:24Z",
			inDescription: []string{"target_brand: Major Bank Corp", "Screenshot of phishing page mimicking bank login (image/png)"}},
		"content-malware": {typ: "content/malware", category: cases.Malware, urls: []string{"http://download-center.example.com/setup.exe"}, ips: []string{"192.0.2.75"},
			reporterName: "Malware Research Lab", reporterEmail: "malware@malware-research.example", reference: "83915efa-a15d-4c95-9eda-729d88d19d4c", time: "2025-01-11T09:07:21Z",
			inDescription: []string{"malware_family: Trojan.Win32.Generic"}},
		"content-fraud": {typ: "content/fraud", category: cases.Phishing, urls: []string{"https://crypto-scam-invest.example.com/guaranteed-returns"}, domains: []string{"crypto-scam-invest.example.com"},
			reporterName: "Anti-Fraud Coalition", reporterEmail: "fraud-reports@antifraud-coalition.example", reference: "7395ac34-231a-4f1a-9a05-e1f6366d9379", time: "2025-01-11T16:22:45Z",
			inDescription: []string{"scheme_description: Fake cryptocurrency investment platform"}},
		"copyright-copyright": {typ: "copyright/copyright", category: cases.Copyright, urls: []string{"http://pirate-streams.example.com/show/episode5.mp4"}, ips: []string{"198.51.100.75"},
			reporterName: "Broadcaster Copyright Department", reporterEmail: "copyright@broadcaster.example", reference: "f4a82ca4-28fb-4f09-a29c-0fe0706ac974", time: "2025-01-11T11:52:34Z",
			inDescription: []string{"work_title: Popular TV Show S01E05", "rights_holder: Television Broadcasting Limited"}},
		"connection-login-attack": {typ: "connection/login_attack", category: cases.Other, ips: []string{"198.51.100.77"},
			reporterName: "SSH Honeypot Network", reporterEmail: "honeypot@ssh-monitor.example", reference: "dbf79f17-f4f4-4c22-ae58-19991f52a1e8", time: "2025-01-11T12:17:20Z",
			inDescription: []string{"evidence_source: honeypot"}},
		"messaging-spam": {typ: "messaging/spam", category: cases.Spam, ips: []string{"192.168.1.100"},
			reporterName: "Example Anti-Spam Service", reporterEmail: "reports@antispam-service.example", reference: "02eb480f-8172-431a-9276-c28ba90f694a", time: "2025-01-11T10:59:45Z",
			inDescription: []string{"evidence_source: spamtrap"}},
	}
	if len(v4) != len(cases4) {
		t.Errorf("%d v4 samples, %d expectations", len(v4), len(cases4))
	}
	for name, w := range cases4 {
		t.Run(name, func(t *testing.T) {
			m, err := abusemail.Parse(WrapJSON(name, v4[name]))
			if err != nil {
				t.Fatal(err)
			}
			if m.Format != abusemail.FormatXARF4 || len(m.Reports) != 1 {
				t.Fatalf("format %s, %d reports", m.Format, len(m.Reports))
			}
			w.format = abusemail.FormatXARF4
			check(t, m.Reports[0], w)
		})
	}
	t.Run("v3 phishing", func(t *testing.T) {
		m, err := abusemail.Parse(WrapJSON("v3", v3["phishing_v3_sample"]))
		if err != nil {
			t.Fatal(err)
		}
		check(t, m.Reports[0], want{format: abusemail.FormatXARF3, typ: "content/phishing", category: cases.Phishing,
			urls: []string{"https://malicious-example.net/banking-login/"}, reporterName: "Example Security Vendor", reporterEmail: "phishing@security-vendor.example",
			reference: "v3@sender.example", time: "2024-01-15T16:45:30Z", inDescription: []string{"TargetBrand: Example Bank"}})
	})
	t.Run("array of two", func(t *testing.T) {
		two := []byte("[" + string(v4["content-phishing"]) + "," + string(v4["content-malware"]) + "]")
		m, err := abusemail.Parse(WrapJSON("two", two))
		if err != nil || len(m.Reports) != 2 || m.Reports[1].Category != cases.Malware {
			t.Fatalf("%v %+v", err, m)
		}
	})
}

// Broken mail fails with a reason and, where the header could be read, what
// it said.
func TestBroken(t *testing.T) {
	dir := sharedMail(t)
	netcraft := read(t, dir, "xarf-abuseio-netcraft-fraud-phishing-uri.eml")
	for name, tc := range map[string]struct {
		raw        []byte
		header     bool
		reasonPart string
	}{
		"truncated before the report": {netcraft[:len(netcraft)/2], true, "no report part"},
		"not mail":                    {[]byte(" \x00\x01binary junk"), false, "header cannot be read"},
		"plain human mail":            {[]byte("From: Someone <a@b.example>\r\nSubject: phishing at http://x.example/\r\n\r\nPlease look at http://x.example/login\r\n"), true, "no ARF"},
		"feedback without type":       {[]byte("From: a@b.example\r\nContent-Type: multipart/report; report-type=feedback-report; boundary=x\r\n\r\n--x\r\nContent-Type: message/feedback-report\r\n\r\nUser-Agent: x\r\n\r\n--x--\r\n"), true, "no Feedback-Type"},
		"bad json":                    {WrapJSON("bad", []byte(`{"xarf_version": "4.0.0", `)), true, "not valid JSON"},
		"json not xarf":               {WrapJSON("other", []byte(`{"hello": "world"}`)), true, "not an XARF"},
		"x-arf header, no report":     {[]byte("From: a@b.example\r\nX-XARF: PLAIN\r\nSubject: s\r\n\r\nhello\r\n"), true, "no report part"},
	} {
		t.Run(name, func(t *testing.T) {
			m, err := abusemail.Parse(tc.raw)
			var pe *abusemail.Error
			if !errors.As(err, &pe) {
				t.Fatalf("err = %v (%T), want *abusemail.Error", err, err)
			}
			if !strings.Contains(pe.Reason, tc.reasonPart) {
				t.Errorf("reason %q lacks %q", pe.Reason, tc.reasonPart)
			}
			if (m != nil) != tc.header {
				t.Errorf("message %+v, want header read = %v", m, tc.header)
			}
		})
	}
	if _, err := abusemail.Parse(make([]byte, abusemail.MaxSize+1)); err == nil || !strings.Contains(err.Error(), fmt.Sprint(abusemail.MaxSize)) {
		t.Errorf("oversized: %v", err)
	}
}

// Fixtures in testdata/ (each names its source on line 1): our own, and
// real samples with shapes the shared set lacks.
func TestOwnFixtures(t *testing.T) {
	for name, w := range map[string]want{
		"arf-latin1-spamvertised.eml": {format: abusemail.FormatARF, typ: "abuse", category: cases.Spam,
			urls: []string{"http://cheap-pills.example.org/buy"}, ips: []string{"198.51.100.23"},
			reporterName: "Postmaster Beispiel", reporterEmail: "fbl@mail-provider.example.de", reference: "fbl-20250303-1@mail-provider.example.de",
			time: "2025-03-03T08:58:11Z", inDescription: []string{"URLs found in the reported message", "Freundliche Grüße", "Subject: Best prices"}},
		"xarf-abuseio-netcraft-uri-isp-wrong-boundary.eml": {format: abusemail.FormatXARF, typ: "fraud/phishing", category: cases.Phishing,
			urls:    []string{"http://testdomain.nl/ints.cancellation.form.your.pc.is.now.connected/to.ituneserver.with.ssl2active.applecustomers.webformlogin2/"},
			domains: []string{"testdomain.nl"}, reporterName: "Netcraft Takedown Service", reporterEmail: "takedown@netcraft.com",
			reference: "takedown-response+0527363@netcraft.com", time: "2015-10-12T06:40:56Z",
			inDescription: []string{"boundary did not match its parts", "Recent hebben wij een phishing site"}},
		"openarf-abuseio-cyscon-malware-uri.eml": {format: abusemail.FormatXARF, typ: "malware", category: cases.Malware,
			urls: []string{"http://malware.cust.domain.tld/"}, domains: []string{"malware.cust.domain.tld"}, ips: []string{"172.16.1.3"},
			reporterName: "NO REPLY C-SIRT", reporterEmail: "abuse-reports@cyscon.de", reference: "1442973859.730849.108702605.3773518.8@www.c-sirt.org",
			time: "2015-09-23T02:04:18Z", inDescription: []string{"signature: CYSC.MALWARE.URL.GEN", "It has been marked as malicious by our Cyber Threat Detection System"}},
	} {
		t.Run(name, func(t *testing.T) {
			m, err := abusemail.Parse(read(t, "testdata", name))
			if err != nil {
				t.Fatal(err)
			}
			if len(m.Reports) != 1 {
				t.Fatalf("%d reports", len(m.Reports))
			}
			check(t, m.Reports[0], w)
		})
	}
	m, _ := abusemail.Parse(read(t, "testdata", "arf-latin1-spamvertised.eml"))
	if m.Subject != "Spam-Beschwerde für Ihr Netz" {
		t.Errorf("subject %q", m.Subject)
	}
}
