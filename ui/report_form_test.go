package ui_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"image"
	"image/png"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dockethq/docket/cases"
	"github.com/dockethq/docket/evidence"
	"github.com/dockethq/docket/internal/database"
	"github.com/dockethq/docket/internal/demo"
	"github.com/dockethq/docket/internal/testdb"
	"github.com/dockethq/docket/policy"
	"github.com/dockethq/docket/pow"
	"github.com/dockethq/docket/ui"
	"github.com/dockethq/docket/users"
)

func init() {
	for k, v := range formMatrix {
		matrix[k] = v
	}
}

// formMatrix: evidence files are for staff who may read the case.
var formMatrix = map[string]map[string]outcome{
	"GET /cases/:id/evidence/:eid": staffOnly,
}

// postFiles sends a report form as multipart/form-data, with files, a CSRF
// token and a solved challenge unless the form brings its own.
func (c *client) postFiles(path string, form url.Values, files map[string][]byte) *response {
	c.e.t.Helper()
	if form.Get("_csrf") == "" {
		form.Set("_csrf", c.csrf())
	}
	if form.Get("pow_token") == "" {
		form = c.withPoW(form)
	}
	var body bytes.Buffer
	w := multipart.NewWriter(&body)
	for k, vs := range form {
		for _, v := range vs {
			w.WriteField(k, v)
		}
	}
	for name, data := range files {
		fw, _ := w.CreateFormFile("evidence", name)
		fw.Write(data)
	}
	w.Close()
	req, _ := http.NewRequest(http.MethodPost, c.e.srv.URL+path, &body)
	req.Header.Set("Content-Type", w.FormDataContentType())
	return c.do(req)
}

func pngBytes(t *testing.T) []byte {
	var b bytes.Buffer
	if err := png.Encode(&b, image.NewGray(image.Rect(0, 0, 3, 3))); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// fieldError is the message shown for a form field.
func fieldError(t *testing.T, res *response, field string) string {
	t.Helper()
	return strings.TrimSpace(res.doc(t).Find("#" + field + "-err .field-error").Text())
}

func countRows(t *testing.T, e *env, table string) int64 {
	t.Helper()
	var n int64
	if err := e.db.R.Table(table).Count(&n).Error; err != nil {
		t.Fatal(err)
	}
	return n
}

func TestReportFormHoneypot(t *testing.T) {
	for _, d := range testdb.Dialects {
		t.Run(string(d), func(t *testing.T) {
			e := newEnv(t, d)
			c := e.client()
			page := c.get("/report")
			hp := page.doc(t).Find(`input[name=website]`)
			if tab, _ := hp.Attr("tabindex"); tab != "-1" || hp.Parent().AttrOr("aria-hidden", "") != "true" || hp.AttrOr("autocomplete", "") != "off" {
				t.Errorf("honeypot is not hidden from people: %v", goqueryHTML(hp.Parent()))
			}
			before := rows(t, e)
			f := validReport()
			f.Set("website", "http://spam.example/")
			res := c.post("/report", f)
			if res.StatusCode != http.StatusOK || res.doc(t).Find("#receipt-id").Text() == "" || !strings.Contains(res.Body, "Report received") {
				t.Fatalf("honeypot: %d, want a receipt-looking page\n%s", res.StatusCode, res.Body)
			}
			if after := rows(t, e); after["reports"] != before["reports"] || after["reporters"] != before["reporters"] || after["audit_events"] != before["audit_events"] {
				t.Errorf("a filled honeypot filed something: %v → %v", before, after)
			}
			fake := res.doc(t).Find("#receipt-id").Text()
			if c.get("/report/receipt/"+fake).StatusCode != http.StatusNotFound {
				t.Errorf("the fake receipt exists")
			}
		})
	}
}

func goqueryHTML(s interface{ Html() (string, error) }) string { h, _ := s.Html(); return h }

func TestReportFormChallenge(t *testing.T) {
	for _, d := range testdb.Dialects {
		t.Run(string(d), func(t *testing.T) {
			e := newEnv(t, d)
			c := e.client()
			before := countRows(t, e, "reports")
			// No challenge at all, a forged one, and a wrong solution: 422, input kept.
			f := validReport()
			f.Set("pow_token", "")
			for name, mod := range map[string]func(url.Values){
				"missing": func(v url.Values) { v.Set("pow_token", " ") },
				"forged":  func(v url.Values) { v.Set("pow_token", "AQ.AQ"); v.Set("pow_solution", "1") },
				"wrong solution": func(v url.Values) {
					w := c.withPoW(validReport())
					tok, sol := w.Get("pow_token"), w.Get("pow_solution")
					// Another nonce, checked to be wrong: at the test's low
					// difficulty a random one solves it now and then (a flake).
					dec, err := pow.Decode(tok)
					if err != nil {
						t.Fatal(err)
					}
					wrong := sol + "9"
					for i := 0; pow.Verify(tok, wrong, dec.Bits); i++ {
						wrong = sol + strconv.Itoa(i)
					}
					v.Set("pow_token", tok)
					v.Set("pow_solution", wrong)
				},
			} {
				g := validReport()
				mod(g)
				res := c.post("/report", g)
				if res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(res.Body, "anti-spam check") {
					t.Errorf("%s: %d", name, res.StatusCode)
				}
				if got := res.doc(t).Find("#description").Text(); got != "Fake bank login page." {
					t.Errorf("%s: description not kept: %q", name, got)
				}
				if tok := res.doc(t).Find("#pow_token").AttrOr("value", ""); tok == "" || tok == g.Get("pow_token") {
					t.Errorf("%s: no fresh challenge on the re-rendered form", name)
				}
			}
			// A solved challenge files once; sent again it is refused.
			g := c.withPoW(validReport())
			if res := c.post("/report", g); res.StatusCode != http.StatusSeeOther {
				t.Fatalf("solved: %d %s", res.StatusCode, res.Body)
			}
			res := c.post("/report", g)
			if res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(res.Body, "already sent") {
				t.Errorf("replayed: %d", res.StatusCode)
			}
			if n := countRows(t, e, "reports"); n != before+1 {
				t.Errorf("%d reports filed, want 1", n-before)
			}
			// A solved challenge survives a validation error, so the fix goes through.
			h := c.withPoW(validReport())
			h.Set("description", "")
			res = c.post("/report", h)
			if res.StatusCode != http.StatusUnprocessableEntity || res.doc(t).Find("#pow_token").AttrOr("value", "") != h.Get("pow_token") ||
				res.doc(t).Find("#pow_solution").AttrOr("value", "") != h.Get("pow_solution") {
				t.Fatalf("validation error: %d, challenge not kept", res.StatusCode)
			}
			h.Set("description", "Now described.")
			if res := c.post("/report", h); res.StatusCode != http.StatusSeeOther {
				t.Errorf("after the fix: %d", res.StatusCode)
			}
		})
	}
}

// clock is a settable time for the no-JavaScript wait.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

// newClockEnv is newEnv with a settable clock (and no deliveries).
func newClockEnv(t *testing.T, d database.Dialect, clk *clock) *env {
	t.Helper()
	db := testdb.Open(t, d)
	en, err := policy.NewEnforcer(db)
	if err != nil {
		t.Fatal(err)
	}
	cs := cases.NewService(db, clk.now)
	us := users.NewService(db, en, clk.now)
	if _, err := demo.Seed(context.Background(), db, us, clk.now); err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	s, err := ui.New(ui.Config{PoWMinWait: 20 * time.Second}, db, cs, us, en, log, clk.now)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(s.Handler())
	t.Cleanup(srv.Close)
	return &env{t: t, db: db, srv: srv, ui: s, cases: cs, users: us}
}

func TestReportFormWithoutJavaScript(t *testing.T) {
	for _, d := range testdb.Dialects {
		t.Run(string(d), func(t *testing.T) {
			clk := &clock{t: time.Now().UTC().Truncate(time.Second)}
			e := newClockEnv(t, d, clk)
			c := e.client()
			page := c.get("/report")
			doc := page.doc(t)
			if !strings.Contains(doc.Find("noscript").Text(), "20 seconds") {
				t.Errorf("the page does not explain the wait without JavaScript")
			}
			if doc.Find("script:not([src])").Length() != 0 || doc.Find("[onclick],[onchange],[onsubmit]").Length() != 0 {
				t.Errorf("inline script on the public form")
			}
			f := validReport()
			f.Set("pow_token", doc.Find("#pow_token").AttrOr("value", ""))
			clk.add(5 * time.Second)
			res := c.post("/report", f)
			if res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(res.Body, "wait 15 more seconds") {
				t.Fatalf("too soon: %d %s", res.StatusCode, res.doc(t).Find(".notice").Text())
			}
			// The same challenge is kept, so the wait keeps counting.
			if got := res.doc(t).Find("#pow_token").AttrOr("value", ""); got != f.Get("pow_token") {
				t.Errorf("the re-rendered form restarted the wait")
			}
			if n := countRows(t, e, "form_challenges_spent"); n != 0 {
				t.Errorf("a refused form spent its challenge")
			}
			clk.add(15 * time.Second)
			if res := c.post("/report", f); res.StatusCode != http.StatusSeeOther {
				t.Fatalf("after the wait: %d %s", res.StatusCode, res.doc(t).Find(".notice").Text())
			}
			// Expired after an hour.
			g := validReport()
			g.Set("pow_token", c.get("/report").doc(t).Find("#pow_token").AttrOr("value", ""))
			clk.add(time.Hour + time.Second)
			if res := c.post("/report", g); res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(res.Body, "too long ago") {
				t.Errorf("expired: %d", res.StatusCode)
			}
		})
	}
}

func TestReportFormSeveralURLs(t *testing.T) {
	for _, d := range testdb.Dialects {
		t.Run(string(d), func(t *testing.T) {
			e := newEnv(t, d)
			e.serve("other-phish.example") // a case of its own: only served hosts open cases
			c := e.client()
			before := rows(t, e)
			// A bad line: 422 naming it, the text kept, nothing filed.
			f := validReport()
			f.Set("url", "https://secure-login-verify.example/a\njavascript:alert(1)\nhttps://other-phish.example/b")
			res := c.post("/report", f)
			if res.StatusCode != http.StatusUnprocessableEntity || !strings.HasPrefix(fieldError(t, res, "url"), "Line 2:") {
				t.Fatalf("bad line: %d %q", res.StatusCode, fieldError(t, res, "url"))
			}
			if got := res.doc(t).Find("#url").Text(); got != f.Get("url") {
				t.Errorf("URLs not kept: %q", got)
			}
			if after := rows(t, e); after["reports"] != before["reports"] || after["cases"] != before["cases"] || after["audit_events"] != before["audit_events"] {
				t.Errorf("a refused submission filed something: %v → %v", before, after)
			}
			// Too many lines.
			f.Set("url", strings.Repeat("https://a.example/\n", 0)+manyURLs(51))
			if res := c.post("/report", f); res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(fieldError(t, res, "url"), "at most 50") {
				t.Errorf("51 URLs: %d", res.StatusCode)
			}
			// Three lines (one repeated): three reports, one submission, one receipt page.
			f.Set("url", "https://secure-login-verify.example/a\r\n\r\nhttps://other-phish.example/b\nhttps://secure-login-verify.example/a\nhttps://www.lumenphoto.example/c")
			res = c.post("/report", f)
			if res.StatusCode != http.StatusSeeOther {
				t.Fatalf("three URLs: %d %s", res.StatusCode, res.Body)
			}
			var got []cases.Report
			e.db.R.Where("submission_id <> '' AND submission_id = (SELECT submission_id FROM reports WHERE public_id = ?)", strings.TrimPrefix(res.Header.Get("Location"), "/report/receipt/")).Order("id").Find(&got)
			if len(got) != 3 || got[0].URL != "https://secure-login-verify.example/a" || got[1].Host != "other-phish.example" || got[2].Host != "www.lumenphoto.example" {
				t.Fatalf("filed %d reports: %+v", len(got), got)
			}
			if got[0].CaseID == got[1].CaseID || got[0].CaseID == got[2].CaseID {
				t.Errorf("reports about different sites share a case")
			}
			rc := c.get(res.Header.Get("Location"))
			rowsShown := rc.doc(t).Find("table.submission tbody tr")
			if rc.StatusCode != http.StatusOK || rowsShown.Length() != 3 {
				t.Fatalf("receipt page: %d with %d rows", rc.StatusCode, rowsShown.Length())
			}
			for _, r := range got {
				if !strings.Contains(rowsShown.Text(), r.PublicID) || !strings.Contains(rowsShown.Text(), r.URL) {
					t.Errorf("receipt page misses %s %s", r.PublicID, r.URL)
				}
			}
			// Any one receipt shows the whole submission.
			if n := c.get("/report/receipt/" + got[2].PublicID).doc(t).Find("table.submission tbody tr").Length(); n != 3 {
				t.Errorf("third receipt lists %d", n)
			}
		})
	}
}

func manyURLs(n int) string {
	var b strings.Builder
	for i := 0; i < n; i++ {
		b.WriteString("https://many.example/" + itoa(int64(i)) + "\n")
	}
	return b.String()
}

func TestReportFormNoticeFields(t *testing.T) {
	for _, d := range testdb.Dialects {
		t.Run(string(d), func(t *testing.T) {
			e := newEnv(t, d)
			c := e.client()
			copyright := func() url.Values {
				f := validReport()
				f.Set("category", "copyright")
				f.Set("url", "https://www.lumenphoto.example/gallery/7")
				f.Set("detail_copyright_work", "Harbour at dawn")
				f.Set("detail_copyright_holder", "Ada Photographer")
				f.Set("detail_copyright_relationship", "I am the rights holder")
				return f
			}
			before := countRows(t, e, "reports")
			for _, tc := range []struct {
				name, field string
				mod         func(url.Values)
			}{
				{"no work", "detail_copyright_work", func(v url.Values) { v.Del("detail_copyright_work") }},
				{"bad choice", "detail_copyright_relationship", func(v url.Values) { v.Set("detail_copyright_relationship", "<b>owner</b>") }},
				{"too long", "detail_copyright_holder", func(v url.Values) { v.Set("detail_copyright_holder", strings.Repeat("h", 201)) }},
				{"no name", "name", func(v url.Values) { v.Del("name") }},
				{"no email", "email", func(v url.Values) { v.Del("email") }},
			} {
				f := copyright()
				tc.mod(f)
				res := c.post("/report", f)
				if res.StatusCode != http.StatusUnprocessableEntity || fieldError(t, res, tc.field) == "" {
					t.Errorf("%s: %d, error on %s %q", tc.name, res.StatusCode, tc.field, fieldError(t, res, tc.field))
				}
				if got := res.doc(t).Find("#detail_copyright_work").AttrOr("value", "-"); got != f.Get("detail_copyright_work") {
					t.Errorf("%s: detail not kept: %q", tc.name, got)
				}
			}
			if n := countRows(t, e, "reports"); n != before {
				t.Fatalf("refused forms filed %d reports", n-before)
			}
			// Phishing asks for the brand.
			p := validReport()
			p.Del("detail_phishing_brand")
			if res := c.post("/report", p); fieldError(t, res, "detail_phishing_brand") == "" {
				t.Errorf("phishing without a brand: %d", res.StatusCode)
			}
			// Complete: filed, with the answers on the case page; another category's fields are ignored.
			f := copyright()
			f.Set("detail_phishing_brand", "ignored brand")
			if res := c.post("/report", f); res.StatusCode != http.StatusSeeOther {
				t.Fatalf("complete copyright: %d %s", res.StatusCode, res.Body)
			}
			var r cases.Report
			e.db.R.Where("url = ?", "https://www.lumenphoto.example/gallery/7").Take(&r)
			if !strings.Contains(r.Details, "Ada Photographer") || strings.Contains(r.Details, "ignored") {
				t.Errorf("details stored: %q", r.Details)
			}
			page := e.login(policy.Reviewer).get("/cases/" + itoa(r.CaseID))
			dl := page.doc(t).Find("#report-" + r.PublicID + " dl.details")
			if !strings.Contains(dl.Text(), "The rights holder") || !strings.Contains(dl.Text(), "Ada Photographer") {
				t.Errorf("case page details: %q", dl.Text())
			}
			// csam: no name or email needed (DSA Art. 16(2)(c)).
			cs := url.Values{"category": {"csam"}, "url": {"https://yardboard.example/x/9"}, "description": {"Abuse images."}, "good_faith": {"yes"}}
			if res := c.post("/report", cs); res.StatusCode != http.StatusSeeOther {
				t.Errorf("anonymous csam report: %d %s", res.StatusCode, res.doc(t).Find(".field-error").Text())
			}
		})
	}
}

func TestReportFormEvidence(t *testing.T) {
	for _, d := range testdb.Dialects {
		t.Run(string(d), func(t *testing.T) {
			e := newEnv(t, d)
			c := e.client()
			img := pngBytes(t)
			blobs := func() int {
				n := 0
				filepath.Walk(evidenceDir(t, e), func(p string, fi os.FileInfo, err error) error {
					if err == nil && !fi.IsDir() && !strings.HasSuffix(p, ".attrs") {
						n++
					}
					return nil
				})
				return n
			}
			// Refused: HTML named .png, an oversize file, any file on a csam report.
			for name, tc := range map[string]struct {
				form  url.Values
				files map[string][]byte
				want  string
			}{
				"html as png": {validReport(), map[string][]byte{"shot.png": []byte("<html><script>alert(1)</script></html>")}, "text/html"},
				"too large":   {validReport(), map[string][]byte{"big.png": append(pngBytes(t), make([]byte, evidence.MaxSize)...)}, "larger than 10 MB"},
				"csam":        {url.Values{"category": {"csam"}, "url": {"https://yardboard.example/x/2"}, "description": {"x"}, "good_faith": {"yes"}}, map[string][]byte{"a.png": img}, "Report the address (URL) only"},
			} {
				res := c.postFiles("/report", tc.form, tc.files)
				if res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(fieldError(t, res, "evidence"), tc.want) {
					t.Errorf("%s: %d %q", name, res.StatusCode, fieldError(t, res, "evidence"))
				}
			}
			if n := countRows(t, e, "evidence"); n != 0 || blobs() != 0 {
				t.Fatalf("refused uploads stored %d rows, %d files", n, blobs())
			}
			// Accepted: two URLs, a PNG and a text file; each report gets both rows, each blob is stored once.
			f := validReport()
			f.Set("url", "https://secure-login-verify.example/e1\nhttps://secure-login-verify.example/e2")
			text := []byte("Received: from evil\nSubject: verify your account\n\n<script>alert(1)</script>")
			res := c.postFiles("/report", f, map[string][]byte{"screen<b>shot<b>.png": img, "mail.eml": text})
			if res.StatusCode != http.StatusSeeOther {
				t.Fatalf("upload: %d %s", res.StatusCode, res.doc(t).Find(".notice, .field-error").Text())
			}
			var evs []evidence.Evidence
			e.db.R.Order("id").Find(&evs)
			sum := sha256.Sum256(img)
			var pngRow *evidence.Evidence
			for i := range evs {
				if evs[i].ContentType == "image/png" {
					pngRow = &evs[i]
				}
			}
			if len(evs) != 4 || blobs() != 2 || pngRow == nil || pngRow.SHA256 != hex.EncodeToString(sum[:]) || pngRow.Size != int64(len(img)) {
				t.Fatalf("evidence rows %+v, %d blobs", evs, blobs())
			}
			var caseID int64
			e.db.R.Table("reports").Select("case_id").Where("id = ?", pngRow.ReportID).Scan(&caseID)
			rev := e.login(policy.Reviewer)
			page := rev.get("/cases/" + itoa(caseID))
			doc := page.doc(t)
			if !strings.Contains(doc.Find("ul.evidence").Text(), pngRow.SHA256) || doc.Find("ul.evidence img.evidence-img").Length() != 2 {
				t.Errorf("case page evidence: %q", doc.Find("ul.evidence").First().Text())
			}
			if doc.Find("ul.evidence b").Length() != 0 || !strings.Contains(doc.Find("ul.evidence").Text(), "screen<b>shot<b>.png") {
				t.Errorf("file name not escaped")
			}
			// The file is served to staff with its sniffed type, sandboxed, not cached.
			got := rev.get("/cases/" + itoa(caseID) + "/evidence/" + itoa(pngRow.ID))
			if got.StatusCode != http.StatusOK || got.Body != string(img) || got.Header.Get("Content-Type") != "image/png" ||
				got.Header.Get("X-Content-Type-Options") != "nosniff" || !strings.Contains(got.Header.Get("Content-Security-Policy"), "sandbox") ||
				!strings.HasPrefix(got.Header.Get("Content-Disposition"), "inline") {
				t.Errorf("evidence served: %d %v", got.StatusCode, got.Header)
			}
			for _, ev := range evs {
				if ev.ContentType == "text/plain" {
					tx := rev.get("/cases/" + itoa(caseID) + "/evidence/" + itoa(ev.ID))
					if !strings.HasPrefix(tx.Header.Get("Content-Disposition"), "attachment") || tx.Header.Get("Content-Type") != "text/plain" {
						t.Errorf("text evidence served as %v", tx.Header)
					}
				}
			}
			// Not through another case, and not to the public.
			if res := rev.get("/cases/1/evidence/" + itoa(pngRow.ID)); caseID != 1 && res.StatusCode != http.StatusNotFound {
				t.Errorf("evidence through another case: %d", res.StatusCode)
			}
			if res := c.get("/cases/" + itoa(caseID) + "/evidence/" + itoa(pngRow.ID)); res.StatusCode != http.StatusSeeOther {
				t.Errorf("anonymous evidence: %d", res.StatusCode)
			}
		})
	}
}

// evidenceDir is the folder of the env's file bucket.
func evidenceDir(t *testing.T, e *env) string {
	t.Helper()
	return e.evidenceDir
}

func TestReportFormEscapesEverything(t *testing.T) {
	e := newEnv(t, database.SQLite)
	e.serve("escape-form.example") // a case to look at: only served hosts open cases
	x := `<script>alert(1)</script><img src=x onerror=alert(2)>`
	f := validReport()
	f.Set("category", "threat")
	f.Set("url", "https://escape-form.example/p?q=<b>x</b>\nhttps://escape-form.example/q#<script>alert(3)</script>")
	f.Set("detail_threat_target", x)
	f.Set("detail_threat_urgency", "Credible threat")
	f.Set("name", x)
	f.Set("description", x)
	res := e.client().postFiles("/report", f, map[string][]byte{x + ".txt": []byte("plain")})
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("file: %d %s", res.StatusCode, res.doc(t).Find(".notice, .field-error").Text())
	}
	rc := e.client().get(res.Header.Get("Location"))
	if rc.doc(t).Find("script:not([src]), img, b").Length() != 0 {
		t.Errorf("markup on the receipt page")
	}
	id := caseIDFor(t, e, "escape-form.example", "threat")
	page := e.login(policy.SeniorReviewer).get("/cases/" + itoa(id))
	doc := page.doc(t)
	if doc.Find(".report script:not([src]), .report img:not(.evidence-img), .report b").Length() != 0 {
		t.Errorf("a payload became markup on the case page")
	}
	if !strings.Contains(doc.Find(".report dl.details").Text(), x) || !strings.Contains(doc.Find(".report ul.evidence").Text(), "onerror=alert(2)>.txt") {
		t.Errorf("payloads not shown as text")
	}
	// And on a re-rendered form.
	f.Set("good_faith", "")
	f.Del("_csrf") // a new client has its own token
	bad := e.client().post("/report", f)
	if bad.StatusCode != http.StatusUnprocessableEntity || bad.doc(t).Find("script:not([src]), img, b").Length() != 0 {
		t.Errorf("markup on the re-rendered form: %d", bad.StatusCode)
	}
}
