package abusemail_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/dockethq/docket/cases"
	"github.com/dockethq/docket/intake/abusemail"
)

// FuzzParse feeds mutated mail to the parser: it must never panic, must fail
// only with an *abusemail.Error, and what it returns must be safe to file.
func FuzzParse(f *testing.F) {
	// Seeds: the shared samples when present, our own fixtures, and shapes
	// the samples do not have.
	base := filepath.Join("..", "..", "..", "shared")
	if v := os.Getenv("DOCKET_TEST_SHARED"); v != "" {
		base = v
	}
	for _, dir := range []string{filepath.Join(base, "testdata", "mail"), "testdata"} {
		files, _ := filepath.Glob(filepath.Join(dir, "*.eml"))
		for _, p := range files {
			if b, err := os.ReadFile(p); err == nil {
				f.Add(b)
			}
		}
	}
	f.Add(WrapJSON("v4", []byte(`{"xarf_version":"4.0.0","report_id":"x","category":"content","type":"phishing","url":"http://a.example/","reporter":{"org":"O","contact":"o@o.example"}}`)))
	f.Add(WrapJSON("v3", []byte(`{"Version":"3.0.0","ReporterInfo":{"ReporterOrg":"O"},"Report":{"ReportClass":"Content","ReportType":"phishing","Source":{"URL":"http://a.example/"}}}`)))
	f.Add([]byte("From: a@b.example\r\nX-XARF: PLAIN\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\n---\r\nCategory: abuse\r\nReport-Type: malware-attack\r\nSource: 192.0.2.1\r\nSource-Type: ip-address\r\nDownload-Link: http://m.example/x.exe\r\n--b--\r\n"))
	f.Add([]byte("Content-Type: multipart/mixed; boundary=a\r\n\r\n--a\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: message/feedback-report\r\n\r\nFeedback-Type: fraud\r\nReported-Uri: https://x.example/\r\n--b--\r\n--a--\r\n"))
	f.Fuzz(func(t *testing.T, raw []byte) {
		m, err := abusemail.Parse(raw)
		if err != nil {
			var pe *abusemail.Error
			if !errors.As(err, &pe) || pe.Reason == "" || !utf8.ValidString(pe.Reason) {
				t.Fatalf("error %#v is not an *abusemail.Error with a reason", err)
			}
			return
		}
		if m == nil || len(m.Reports) == 0 {
			t.Fatalf("no error and no report: %+v", m)
		}
		for _, s := range []string{m.FromName, m.Subject, m.MessageID} {
			if !utf8.ValidString(s) || strings.IndexFunc(s, unicode.IsControl) >= 0 {
				t.Fatalf("unsafe header text %q", s)
			}
		}
		for _, r := range m.Reports {
			if _, ok := r.Category.Info(); !ok {
				t.Fatalf("unknown category %q", r.Category)
			}
			if r.Description == "" || !utf8.ValidString(r.Description) || utf8.RuneCountInString(r.Description) > cases.MaxDescription {
				t.Fatalf("bad description (%d runes)", utf8.RuneCountInString(r.Description))
			}
			if strings.IndexFunc(r.Description, func(c rune) bool { return unicode.IsControl(c) && c != '\n' && c != '\t' }) >= 0 {
				t.Fatalf("control character in description %q", r.Description)
			}
			if strings.IndexFunc(r.ReporterName, unicode.IsControl) >= 0 || !utf8.ValidString(r.ReporterName) {
				t.Fatalf("unsafe reporter name %q", r.ReporterName)
			}
			for _, u := range r.URLs {
				l := strings.ToLower(u)
				if !strings.HasPrefix(l, "http://") && !strings.HasPrefix(l, "https://") {
					t.Fatalf("non-web URL %q", u)
				}
			}
			if n := len(r.URLs) + len(r.Domains) + len(r.IPs); n > 20 {
				t.Fatalf("%d targets", n)
			}
		}
	})
}
