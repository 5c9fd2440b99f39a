package ui_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"github.com/dockethq/docket/inbox"
	"github.com/dockethq/docket/internal/database"
	"github.com/dockethq/docket/internal/testdb"
	"github.com/dockethq/docket/policy"
)

// mailWorkers: reviewers (seniors inherit) and legal work the unparsed-mail
// queue; auditors only read it.
var mailReaders = map[string]outcome{policy.Anonymous: login, policy.Leadership: forbid, policy.Admin: forbid}
var mailWorkers = map[string]outcome{policy.Anonymous: login, policy.Leadership: forbid, policy.Admin: forbid, policy.Auditor: forbid}

var mailMatrix = map[string]map[string]outcome{
	"GET /mail":              mailReaders,
	"GET /mail/:id":          mailReaders,
	"POST /mail/:id/file":    mailWorkers,
	"POST /mail/:id/dismiss": mailWorkers,
}

func init() {
	for k, v := range mailMatrix {
		matrix[k] = v
	}
}

// hostile is a message a reviewer must be able to read without it running
// anything: script in the subject and in an HTML part, a remote image.
const hostile = "From: \"<b>Mallory</b>\" <mallory@evil.example>\r\n" +
	"To: abuse@docket.example\r\n" +
	"Subject: <script>alert('subject')</script> phishing\r\n" +
	"Message-ID: <hostile-1@evil.example>\r\n" +
	"MIME-Version: 1.0\r\n" +
	"Content-Type: multipart/alternative; boundary=zz\r\n\r\n" +
	"--zz\r\nContent-Type: text/plain\r\n\r\nSee https://yardboard.example/login-steal\r\n" +
	"--zz\r\nContent-Type: text/html\r\n\r\n<html><body><script>alert('body')</script><img src=\"http://remote.example/track.png\"><a href=\"javascript:alert(1)\">x</a></body></html>\r\n" +
	"--zz--\r\n"

func TestUnparsedMailPages(t *testing.T) {
	for _, d := range testdb.Dialects {
		t.Run(string(d), func(t *testing.T) {
			e := newEnv(t, d)
			ctx := context.Background()
			in := inbox.NewService(e.db, e.cases, time.Now)
			res, err := in.Ingest(ctx, []byte(hostile), inbox.Source{Channel: "smtp"})
			if err != nil || res.Mail.Status != inbox.StatusUnparsed {
				t.Fatalf("ingest: %v %+v", err, res)
			}
			id := itoa(res.Mail.ID)
			rev := e.login(policy.Reviewer)

			q := rev.get("/mail")
			doc := q.doc(t)
			if q.StatusCode != http.StatusOK || doc.Find(`a[href="/mail/`+id+`"]`).Length() != 1 {
				t.Fatalf("queue: %d\n%s", q.StatusCode, q.Body)
			}
			if badge := strings.TrimSpace(doc.Find(`nav.rail a[href="/mail"] .badge`).Text()); badge != "1" {
				t.Errorf("rail badge %q, want 1", badge)
			}
			page := rev.get("/mail/" + id)
			doc = page.doc(t)
			if page.StatusCode != http.StatusOK {
				t.Fatalf("message page: %d", page.StatusCode)
			}
			doc.Find("script").Each(func(_ int, s *goquery.Selection) {
				if strings.Contains(s.Text(), "alert") {
					t.Errorf("a script from the mail runs on the page: %q", s.Text())
				}
			})
			if doc.Find(`img[src^="http"]`).Length() != 0 || doc.Find(`a[href^="javascript"]`).Length() != 0 || doc.Find("b").FilterFunction(func(_ int, s *goquery.Selection) bool { return strings.Contains(s.Text(), "Mallory") }).Length() != 0 {
				t.Errorf("mail markup rendered as HTML")
			}
			if !strings.Contains(doc.Find("pre.mail-source").Text(), "<img src=\"http://remote.example/track.png\">") ||
				!strings.Contains(doc.Find(".mail-subject").Text(), "<script>alert('subject')</script>") {
				t.Errorf("the source and subject are not shown as text")
			}

			if got, _ := doc.Find("#url").Attr("value"); got != "https://yardboard.example/login-steal" {
				t.Errorf("URL field suggests %q, want the URL in the mail", got)
			}
			// File as report: a bad URL re-renders with the input kept.
			bad := rev.post("/mail/"+id+"/file", url.Values{"category": {"phishing"}, "url": {"not a url at all"}, "description": {"Kept description"}})
			if bad.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(bad.Body, "Kept description") || bad.doc(t).Find(".field.invalid #url").Length() != 1 {
				t.Errorf("bad filing: %d", bad.StatusCode)
			}
			ok := rev.post("/mail/"+id+"/file", url.Values{"category": {"phishing"}, "url": {"https://yardboard.example/login-steal"}, "description": {"Credential phishing page on a customer site."}})
			if ok.StatusCode != http.StatusSeeOther || ok.Header.Get("Location") != "/mail/"+id {
				t.Fatalf("file: %d %s", ok.StatusCode, ok.Body)
			}
			after := rev.get("/mail/" + id)
			if !strings.Contains(after.Body, "Filed as report") || after.doc(t).Find(".mail-receipts a[href^='/cases/']").Length() != 1 {
				t.Errorf("after filing the page lacks the receipt")
			}
			var kind, email string
			e.db.R.Raw("SELECT reporters.kind, reporters.email FROM reports JOIN reporters ON reporters.id = reports.reporter_id WHERE reports.url = ? AND reports.channel = 'email'", "https://yardboard.example/login-steal").Row().Scan(&kind, &email)
			if kind != "network" || email != "mallory@evil.example" {
				t.Errorf("filed as %s <%s>", kind, email)
			}
			var audited int64
			e.db.R.Table("audit_events").Where("action = 'mail.filed' AND object_id = ?", id).Count(&audited)
			if audited != 1 {
				t.Errorf("mail.filed audited %d times", audited)
			}

			// Dismiss another: the reason is required.
			res2, _ := in.Ingest(ctx, []byte("From: a@b.example\r\nSubject: hello\r\n\r\njust saying hi\r\n"), inbox.Source{Channel: "stdin"})
			id2 := itoa(res2.Mail.ID)
			if r := rev.post("/mail/"+id2+"/dismiss", url.Values{"reason": {""}}); r.StatusCode != http.StatusUnprocessableEntity {
				t.Errorf("dismiss without reason: %d", r.StatusCode)
			}
			if r := rev.post("/mail/"+id2+"/dismiss", url.Values{"reason": {"Not abuse: a greeting."}}); r.StatusCode != http.StatusSeeOther {
				t.Errorf("dismiss: %d", r.StatusCode)
			}
			var status string
			e.db.R.Table("inbound_mail").Select("status").Where("id = ?", res2.Mail.ID).Scan(&status)
			if status != inbox.StatusDismissed {
				t.Errorf("status %s after dismissing", status)
			}
			if r := rev.post("/mail/"+id2+"/dismiss", url.Values{"reason": {"again"}}); r.StatusCode != http.StatusConflict {
				t.Errorf("dismiss twice: %d", r.StatusCode)
			}
			// The auditor reads but has no forms.
			aud := e.login(policy.Auditor).get("/mail/" + id)
			if aud.StatusCode != http.StatusOK || aud.doc(t).Find("form#mail-file, form#mail-dismiss").Length() != 0 {
				t.Errorf("auditor page: %d", aud.StatusCode)
			}
			if r := rev.get("/mail?status=bogus"); r.StatusCode != http.StatusUnprocessableEntity {
				t.Errorf("bad filter: %d", r.StatusCode)
			}
		})
	}
}

// Mail about csam is hidden from everyone who may not read the restricted
// queue, as csam cases are: not listed, not counted, 404.
func TestRestrictedMailPages(t *testing.T) {
	e := newEnv(t, database.SQLite)
	in := inbox.NewService(e.db, e.cases, time.Now)
	raw := "From: Hotline <reports@hotline.example>\r\nSubject: CSAM-MAIL-MARKER\r\nMIME-Version: 1.0\r\nContent-Type: application/json\r\n\r\n" +
		`{"xarf_version":"4.0.0","report_id":"r1","category":"content","type":"csam","source_identifier":"203.0.113.9","reporter":{"org":"Hotline","contact":"reports@hotline.example"}}` + "\r\n"
	res, err := in.Ingest(context.Background(), []byte(raw), inbox.Source{Channel: "smtp"})
	if err != nil || !res.Mail.Restricted || res.Mail.Status != inbox.StatusParsed {
		t.Fatalf("ingest: %v %+v", err, res.Mail)
	}
	for _, role := range []string{policy.Reviewer, policy.SeniorReviewer, policy.Legal, policy.Auditor} {
		c := e.login(role)
		page := c.get("/mail/" + itoa(res.Mail.ID))
		list := c.get("/mail?status=all")
		want := role == policy.Legal
		if (page.StatusCode == http.StatusOK) != want || strings.Contains(list.Body, "CSAM-MAIL-MARKER") != want {
			t.Errorf("%s: page %d, listed %v; want visible %v", role, page.StatusCode, strings.Contains(list.Body, "CSAM-MAIL-MARKER"), want)
		}
		if !want && page.StatusCode != http.StatusNotFound {
			t.Errorf("%s: status %d, want 404", role, page.StatusCode)
		}
		if r := c.post("/mail/"+itoa(res.Mail.ID)+"/dismiss", url.Values{"reason": {"x"}}); !want && role != policy.Auditor && r.StatusCode != http.StatusNotFound {
			t.Errorf("%s: dismiss %d, want 404", role, r.StatusCode)
		}
	}
}
