package ui

import (
	"errors"
	"mime/multipart"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"
	"gorm.io/gorm"

	"github.com/dockethq/docket/cases"
	"github.com/dockethq/docket/evidence"
	"github.com/dockethq/docket/internal/errs"
	"github.com/dockethq/docket/pow"
)

// reportBodyLimit is POST /report's body limit: evidence.MaxBody in echo's notation.
const reportBodyLimit = "52M"

// honeypotField is a text input people never see (off-screen, aria-hidden, out of
// the tab order): only a bot that fills every field fills it.
const honeypotField = "website"

// isReportPost is a multipart POST /report: only that may carry files, so only
// that gets the larger body limit.
func isReportPost(c echo.Context) bool {
	r := c.Request()
	return r.Method == http.MethodPost && c.Path() == "/report" && strings.HasPrefix(r.Header.Get(echo.HeaderContentType), echo.MIMEMultipartForm)
}

func init() {
	actionLabels["report.evidence"] = "Evidence attached"
	funcs["detailFields"] = func(c cases.Category) []cases.DetailField { return cases.CategoryDetails[c] }
	funcs["detailKey"] = func(c cases.Category, name string) string { return cases.DetailKey(c, name) }
	funcs["detailItems"] = cases.DetailItems
	funcs["isImage"] = evidence.IsImage
	funcs["reportExtras"] = func(p casePage, r *cases.ReportView) reportExtras {
		return reportExtras{Report: r, Files: p.Evidence[r.ID], CaseID: p.V.Case.ID,
			HashesOnly: r.Category == cases.CSAM || p.V.Case.Category == cases.CSAM}
	}
	funcs["honeypot"] = func() string { return honeypotField }
	funcs["kib"] = func(n int64) string {
		if n < 1024 {
			return strconv.FormatInt(n, 10) + " B"
		}
		return strconv.FormatInt((n+1023)/1024, 10) + " KB"
	}
}

// routesForm registers the routes of the hardened report form beside the
// originals (GET and POST /report, the receipt): the reviewers' evidence files.
func (s *Server) routesForm() {
	s.echo.GET("/cases/:id/evidence/:eid", s.caseEvidence)
}

// reportPage is what the report form needs besides the typed values.
type reportPage struct {
	Token    string // the proof-of-work challenge
	Solution string // kept when the challenge already verified
	Bits     int
	Wait     int // seconds a submission without JavaScript waits
	Uploads  bool
	MaxFiles int
	MaxMB    int
}

func (s *Server) reportForm(c echo.Context) error {
	p, err := s.newReportPage(c, "", "")
	if err != nil {
		return err
	}
	return s.render(c, http.StatusOK, "report", view{Title: "Report abuse", Form: c.Request().URL.Query(), Data: p})
}

// newReportPage issues a challenge, or keeps token (and its solution) when the
// last attempt's challenge is still good: a no-JS visitor's wait keeps counting.
func (s *Server) newReportPage(c echo.Context, token, solution string) (*reportPage, error) {
	p := &reportPage{Token: token, Solution: solution, Bits: s.pow.Bits, Wait: int(s.pow.MinWait.Seconds()),
		Uploads: s.evidence != nil, MaxFiles: evidence.MaxFiles, MaxMB: evidence.MaxSize >> 20}
	if p.Token == "" {
		t, err := s.pow.Issue(c.Request().Context())
		if err != nil {
			return nil, err
		}
		p.Token, p.Solution = t, ""
	}
	return p, nil
}

// reportSubmit files a public report: one per URL line, all or none. Order: the
// honeypot (a bot gets a receipt-looking page and files nothing), then every check
// at once — the challenge, the fields, the files — so one 422 lists everything;
// then the files are stored, and the reports filed in one transaction that also
// spends the challenge and records the evidence.
func (s *Server) reportSubmit(c echo.Context) error {
	ctx := c.Request().Context()
	form, err := c.FormParams()
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) || errors.Is(err, echo.ErrStatusRequestEntityTooLarge) {
			return echo.NewHTTPError(http.StatusRequestEntityTooLarge, "The report is too large: attach at most "+strconv.Itoa(evidence.MaxFiles)+" files of "+strconv.Itoa(evidence.MaxSize>>20)+" MB.")
		}
		return echo.NewHTTPError(http.StatusBadRequest, "The form could not be read. Reload the page and try again.")
	}
	if strings.TrimSpace(form.Get(honeypotField)) != "" {
		return s.honeypotReceipt(c, form)
	}
	var uploads []*multipart.FileHeader
	if mf, err := c.MultipartForm(); err == nil && mf != nil {
		uploads = mf.File["evidence"]
	}

	fields := map[string]string{}
	merge := func(err error) error {
		e, ok := errs.As(err)
		if !ok {
			return err
		}
		for k, v := range e.Fields {
			fields[k] = v
		}
		return nil
	}
	cat := cases.Category(form.Get("category"))
	ns := s.submissionReports(form, cat)
	token, solution := form.Get("pow_token"), form.Get("pow_solution")
	ch, powErr := s.pow.Check(ctx, token, solution)
	if powErr != nil {
		if _, ok := errs.As(powErr); !ok {
			return powErr
		}
	}
	if err := merge(cases.ValidateSubmission(ns, "url")); err != nil {
		return err
	}
	var files []evidence.File
	if s.evidence == nil {
		if len(nonEmptyUploads(uploads)) > 0 {
			fields["evidence"] = "This service does not accept files; describe the evidence instead."
		}
	} else {
		files, err = evidence.Prepare(uploads, cat)
		if err := merge(err); err != nil {
			return err
		}
	}
	if powErr != nil || len(fields) > 0 {
		return s.reportInvalid(c, form, fields, powErr)
	}
	if len(files) > 0 {
		if err := s.evidence.Put(ctx, files); err != nil {
			return err
		}
	}
	reps, err := s.cases.FileSubmission(ctx, ns, func(tx *gorm.DB, reps []*cases.Report) error {
		if err := s.pow.Spend(tx, ch); err != nil {
			return err
		}
		if len(files) == 0 {
			return nil
		}
		for _, r := range reps {
			if err := s.evidence.Record(tx, r, files); err != nil {
				return err
			}
		}
		return nil
	})
	if errors.Is(err, pow.ErrReplayed) {
		return s.reportInvalid(c, form, nil, err)
	}
	if e, ok := errs.As(err); ok && e.Code == errs.Invalid {
		return s.reportInvalid(c, form, e.Fields, nil)
	}
	if err != nil {
		return err
	}
	// To the first receipt: its page lists the whole submission, and a reload
	// cannot file it twice.
	return c.Redirect(http.StatusSeeOther, "/report/receipt/"+reps[0].PublicID)
}

// reportInvalid re-renders the form with 422 and what was typed. A challenge
// that verified (or is only waiting out its time lock) is kept; any other gets
// a fresh one. Files cannot be kept by a browser: the message says so.
func (s *Server) reportInvalid(c echo.Context, form url.Values, fields map[string]string, powErr error) error {
	token, solution := form.Get("pow_token"), form.Get("pow_solution")
	var soon *pow.TooSoonError
	msg := "Please correct the highlighted fields."
	switch {
	case powErr == nil:
	case errors.As(powErr, &soon):
		msg = soon.Error()
		solution = ""
	default:
		msg = powErr.Error()
		token, solution = "", ""
	}
	if len(fields) > 0 && powErr != nil {
		msg += " Also correct the highlighted fields."
	}
	if f, err := c.MultipartForm(); err == nil && f != nil && len(nonEmptyUploads(f.File["evidence"])) > 0 {
		if fields == nil {
			fields = map[string]string{}
		}
		if fields["evidence"] == "" {
			fields["evidence"] = "Choose your files again: a browser cannot keep them after an error."
		}
	}
	p, err := s.newReportPage(c, token, solution)
	if err != nil {
		return err
	}
	return s.render(c, http.StatusUnprocessableEntity, "report", view{Title: "Report abuse", Errors: fields, Message: msg, Form: form, Data: p})
}

// submissionReports turns the form into one report per URL line (blank lines
// and repeated lines dropped), each with the same category, text and details.
func (s *Server) submissionReports(form url.Values, cat cases.Category) []cases.NewReport {
	details := cases.Details{}
	for _, f := range cases.CategoryDetails[cat] {
		if v := form.Get(cases.DetailKey(cat, f.Name)); v != "" {
			details[f.Name] = v
		}
	}
	sub := s.cases.NewSubmissionID()
	var ns []cases.NewReport
	seen := map[string]bool{}
	for _, line := range urlLines(form.Get("url")) {
		if seen[line] {
			continue
		}
		seen[line] = true
		d := cases.Details{}
		for k, v := range details {
			d[k] = v
		}
		ns = append(ns, cases.NewReport{
			Channel:       cases.ChannelWeb,
			ReporterKind:  cases.ReporterPublic,
			ReporterName:  form.Get("name"),
			ReporterEmail: form.Get("email"),
			Category:      cat,
			URL:           line,
			Description:   form.Get("description"),
			GoodFaith:     form.Get("good_faith") == "yes",
			Details:       d,
			SubmissionID:  sub,
			Notice:        true,
			Forward:       forwardFromForm(form),
		})
	}
	if len(ns) == 0 { // one empty report, so validation names every missing field
		ns = append(ns, cases.NewReport{Channel: cases.ChannelWeb, ReporterKind: cases.ReporterPublic, ReporterName: form.Get("name"),
			ReporterEmail: form.Get("email"), Category: cat, Description: form.Get("description"), GoodFaith: form.Get("good_faith") == "yes", Details: details, Notice: true, Forward: forwardFromForm(form)})
	}
	return ns
}

// urlLines splits the URL field into trimmed, non-empty lines.
func urlLines(v string) []string {
	var out []string
	for _, l := range strings.Split(strings.ReplaceAll(v, "\r", "\n"), "\n") {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return out
}

func nonEmptyUploads(hs []*multipart.FileHeader) []*multipart.FileHeader {
	var out []*multipart.FileHeader
	for _, h := range hs {
		if h.Filename != "" || h.Size > 0 {
			out = append(out, h)
		}
	}
	return out
}

// honeypotReceipt answers a bot: a page that looks like a receipt, with a
// made-up id that matches nothing. Nothing is filed and no error tells it why.
func (s *Server) honeypotReceipt(c echo.Context, form url.Values) error {
	s.log.Info("report form honeypot filled; nothing filed", "request_id", c.Response().Header().Get(echo.HeaderXRequestID))
	cat := cases.Category(form.Get("category"))
	if _, ok := cat.Info(); !ok {
		cat = cases.Other
	}
	first := ""
	if ls := urlLines(form.Get("url")); len(ls) > 0 {
		first = ls[0]
	}
	fake := &cases.Receipt{PublicID: s.cases.NewSubmissionID(), Category: cat, URL: first, ReceivedAt: s.now().UTC(), CaseState: cases.StateNew}
	return s.render(c, http.StatusOK, "receipt", view{Title: "Report received", Data: receiptPage{Receipt: fake}})
}

// receiptPage is one report's receipt and, when it came with others in one
// submission, all of them.
type receiptPage struct {
	*cases.Receipt
	All []cases.Receipt
}

func (s *Server) receipt(c echo.Context) error {
	ctx := c.Request().Context()
	r, err := s.cases.Receipt(ctx, c.Param("id"))
	if err != nil {
		return err
	}
	p := receiptPage{Receipt: r}
	all, err := s.cases.SubmissionReceipts(ctx, r.PublicID)
	if err != nil {
		return err
	}
	if len(all) > 1 {
		p.All = all
	}
	return s.render(c, http.StatusOK, "receipt", view{Title: "Report received", Data: p})
}

// caseEvidence serves one evidence file to staff who may read the case: as an
// attachment (images inline, for the blurred preview), with its sniffed type,
// sandboxed, never cached. csam files do not exist; the store refuses anyway.
func (s *Server) caseEvidence(c echo.Context) error {
	ctx := c.Request().Context()
	caseID, ok := parseID(c, "id")
	eid, ok2 := parseID(c, "eid")
	if !ok || !ok2 || s.evidence == nil {
		return evidence.ErrNotFound
	}
	if _, err := s.cases.Status(ctx, caseID, s.readableQueues(c)); err != nil {
		return err
	}
	e, r, err := s.evidence.Open(ctx, caseID, eid)
	if err != nil {
		return err
	}
	defer r.Close()
	h := c.Response().Header()
	disp := "attachment"
	if evidence.IsImage(e.ContentType) {
		disp = "inline"
	}
	h.Set("Content-Disposition", disp+`; filename="evidence-`+strconv.FormatInt(e.ID, 10)+`"; filename*=UTF-8''`+url.PathEscape(e.OriginalName))
	h.Set("Content-Security-Policy", "default-src 'none'; sandbox")
	h.Set("Cache-Control", "private, no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Length", strconv.FormatInt(e.Size, 10))
	return c.Stream(http.StatusOK, e.ContentType, r)
}

// reportExtras is what the case page shows under a report: the category's
// answers and the evidence files (for csam, hashes only).
type reportExtras struct {
	Report     *cases.ReportView
	Files      []evidence.Evidence
	CaseID     int64
	HashesOnly bool
}
