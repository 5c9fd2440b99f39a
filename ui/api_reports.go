// The report intake API for trusted flaggers (DESIGN §6, DSA Art. 22).
//
// Authentication: Authorization: Bearer dkt_… (a key issued at /admin/flaggers).
// The key's subject apikey:<id> holds the trusted_flagger role; no cookies, no
// CSRF token. A bad or revoked key is 401.
//
// POST /api/v1/reports takes one report object
//
//	{"category": "phishing", "url": "https://…", "description": "…", "reference": "your id"}
//
// or a batch {"reports": [ …up to 1,000 objects… ]}. reference is optional.
//
//   - One object: 201 with {"receipt", "category", "url", "received_at", "status"},
//     or 422 {"error", "fields": {"url": "…"}} when it is invalid.
//   - A batch: every item is filed on its own (not all-or-nothing) and the body is
//     {"results": [{"index": 0, "receipt": "…"}, {"index": 3, "error": "…",
//     "fields": {"reports[3].url": "…"}}]}, in input order; the status is 200
//     when every item was filed, 422 when none was, 207 when some were.
//
// Idempotency-Key (optional, up to 255 printable characters): the first answer
// to a key is stored with its status; the same key with the same body gets that
// answer again (header Idempotent-Replayed: true) and files nothing; the same key
// with a different body is 422; while the first request is still running, 409.
//
// GET /api/v1/reports/:receipt answers {"receipt", "category", "url",
// "received_at", "status", "duplicate_of"?} (status is the case's state, or
// not_hosted) for reports filed with the flagger's keys, and 404 for any other.
// A repeat of a report within the duplicate window is filed (a receipt) but
// linked to the first: duplicate_of names it. The OpenAPI document
// (/api/v1/openapi.json, ui/openapi.json) describes all of this.

package ui

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"github.com/dockethq/docket/apikeys"
	"github.com/dockethq/docket/cases"
	"github.com/dockethq/docket/internal/errs"
)

// Limits of the intake API.
const (
	maxReportsBatch = 1000
	maxReportsBody  = 2 << 20 // the global body limit
	maxReference    = 200
)

// apiReportIn is one report as a flagger sends it.
type apiReportIn struct {
	Category    string      `json:"category"`
	URL         string      `json:"url"`
	Description string      `json:"description"`
	Reference   string      `json:"reference"`
	Forward     *apiForward `json:"forward"` // per recipient: send, send_anonymously, do_not_send
}

func (r *apiReportIn) empty() bool { return *r == apiReportIn{} }

// apiReportsIn is either one report (the embedded fields) or a batch.
type apiReportsIn struct {
	apiReportIn
	Reports *[]apiReportIn `json:"reports"`
}

// apiReportResult is one item's outcome in a batch.
type apiReportResult struct {
	Index   int               `json:"index"`
	Receipt string            `json:"receipt,omitempty"`
	Error   string            `json:"error,omitempty"`
	Fields  map[string]string `json:"fields,omitempty"`
}

// apiReportOut is what a flagger may see of a report it filed.
type apiReportOut struct {
	Receipt    string         `json:"receipt"`
	Category   cases.Category `json:"category"`
	URL        string         `json:"url"`
	ReceivedAt time.Time      `json:"received_at"`
	// Status is the state of the report's case, or not_hosted for a report
	// about a host the provider does not serve (it has no case).
	Status string `json:"status"`
	// DuplicateOf is the receipt of the earlier report this one repeats.
	DuplicateOf string `json:"duplicate_of,omitempty"`
}

// flaggerKey is the API key of the request, holding scope; else 403.
func flaggerKey(c echo.Context, scope string) (*apikeys.Key, error) {
	k := currentKey(c)
	if k == nil {
		return nil, echo.NewHTTPError(http.StatusForbidden, "This API is for trusted flaggers' API keys.")
	}
	if !k.HasScope(scope) {
		return nil, echo.NewHTTPError(http.StatusForbidden, "This API key lacks the scope "+scope+".")
	}
	return k, nil
}

// apiFileReports files one report or a batch; see the top of this file.
func (s *Server) apiFileReports(c echo.Context) error {
	k, err := flaggerKey(c, apikeys.ScopeReportsWrite)
	if err != nil {
		return err
	}
	idem := c.Request().Header.Get("Idempotency-Key")
	if idem != "" && (len(idem) > apikeys.MaxIdempotencyKey || strings.IndexFunc(idem, func(r rune) bool { return r < 0x21 || r > 0x7e }) >= 0) {
		return echo.NewHTTPError(http.StatusBadRequest, "The Idempotency-Key header must be 1 to 255 printable ASCII characters.")
	}
	body, in, err := readReports(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	if idem != "" {
		sum := sha256.Sum256(body)
		stored, err := s.keys.BeginIdempotent(ctx, k.ID, idem, hex.EncodeToString(sum[:]))
		if err != nil {
			return err
		}
		if stored != nil {
			c.Response().Header().Set("Idempotent-Replayed", "true")
			c.Response().Header().Set("Cache-Control", "no-store")
			return c.JSONBlob(stored.Status, []byte(stored.Response))
		}
	}
	status, out, err := s.fileReports(c, k, in)
	if err != nil {
		if idem != "" {
			if aerr := s.keys.AbortIdempotent(ctx, k.ID, idem); aerr != nil {
				s.log.Error("release idempotency key", "err", aerr)
			}
		}
		return err
	}
	b, err := json.Marshal(out)
	if err != nil {
		return err
	}
	if idem != "" {
		if err := s.keys.FinishIdempotent(ctx, k.ID, idem, status, string(b)); err != nil {
			return err
		}
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.JSONBlob(status, b)
}

// fileReports files what the request holds and returns the answer to give (and
// store for replays). An error means nothing worth replaying was decided.
func (s *Server) fileReports(c echo.Context, k *apikeys.Key, in *apiReportsIn) (int, any, error) {
	ctx := c.Request().Context()
	fl, err := s.keys.Flagger(ctx, k.ReporterID)
	if err != nil {
		return 0, nil, err
	}
	// newReport is r as the cases service takes it, or r's own error.
	newReport := func(r apiReportIn) (cases.NewReport, error) {
		if r.Reference = strings.TrimSpace(r.Reference); r.Reference != "" {
			if utf8.RuneCountInString(r.Reference) > maxReference || strings.IndexFunc(r.Reference, unicode.IsControl) >= 0 {
				return cases.NewReport{}, errs.Fields(map[string]string{"reference": "Give a reference of up to 200 characters on one line."})
			}
			if strings.TrimSpace(r.Description) != "" {
				r.Description = strings.TrimSpace(r.Description) + "\n\nFlagger reference: " + r.Reference
			}
		}
		return cases.NewReport{
			Channel: cases.ChannelAPI, ReporterID: fl.ID, ReporterKind: cases.ReporterTrustedFlagger,
			Reporter:     &cases.Reporter{ID: fl.ID, Kind: cases.ReporterTrustedFlagger, Name: fl.Name, Email: fl.Email},
			ReporterName: fl.Name, ReporterEmail: fl.Email,
			Category: cases.Category(strings.TrimSpace(r.Category)), URL: r.URL, Description: r.Description,
			Forward: r.Forward.choices(),
		}, nil
	}
	if in.Reports == nil {
		n, err := newReport(in.apiReportIn)
		var rep *cases.Report
		if err == nil {
			// Concurrent single-report requests share one transaction
			// (cases/group.go): the throughput target of issue 7.
			rep, err = s.cases.FileReportGrouped(ctx, n)
		}
		if e, ok := errs.As(err); ok && e.Code == errs.Invalid {
			return http.StatusUnprocessableEntity, map[string]any{"error": e.Message, "fields": e.Fields}, nil
		}
		if err != nil {
			return 0, nil, err
		}
		r, ok := rep.FiledReceipt()
		if !ok {
			if r, err = s.cases.ReceiptFor(ctx, rep.PublicID, fl.ID); err != nil {
				return 0, nil, err
			}
		}
		return http.StatusCreated, receiptOut(r), nil
	}
	nerrs := make([]error, len(*in.Reports))
	var valid []cases.NewReport
	for i, r := range *in.Reports {
		var n cases.NewReport
		if n, nerrs[i] = newReport(r); nerrs[i] == nil {
			valid = append(valid, n)
		}
	}
	// Filed in transactions of up to cases.GroupMax reports, each report
	// again on its own when its transaction fails.
	vreps, verrs := s.cases.FileReports(ctx, valid)
	results := make([]apiReportResult, 0, len(*in.Reports))
	filed, failed := 0, 0
	for i := range *in.Reports {
		res := apiReportResult{Index: i}
		var rep *cases.Report
		err := nerrs[i]
		if err == nil {
			rep, err = vreps[0], verrs[0]
			vreps, verrs = vreps[1:], verrs[1:]
		}
		if e, ok := errs.As(err); ok && e.Code == errs.Invalid {
			res.Error = e.Message
			res.Fields = make(map[string]string, len(e.Fields))
			for f, m := range e.Fields {
				res.Fields["reports["+strconv.Itoa(i)+"]."+f] = m
			}
		} else if err != nil {
			// Filed ones stay filed: say which did not, so the flagger can
			// send those again. Nothing filed at all is a plain failure.
			s.log.Error("file flagger report", "err", err, "index", i, "api_key", k.ID)
			res.Error = "Docket could not file this report; send it again in a new request."
			failed++
		} else {
			res.Receipt = rep.PublicID
			filed++
		}
		results = append(results, res)
	}
	if filed == 0 && failed > 0 {
		return 0, nil, errs.E(errs.Internal, "no report of the batch could be filed")
	}
	status := http.StatusMultiStatus
	switch filed {
	case len(results):
		status = http.StatusOK
	case 0:
		status = http.StatusUnprocessableEntity
	}
	return status, map[string]any{"results": results}, nil
}

func receiptOut(r *cases.Receipt) apiReportOut {
	return apiReportOut{Receipt: r.PublicID, Category: r.Category, URL: r.URL, ReceivedAt: r.ReceivedAt.UTC(), Status: r.APIStatus(), DuplicateOf: r.DuplicateOf}
}

// readReports reads the body (at most maxReportsBody) and decodes it: 415 unless
// JSON, 413 when too large, 400 when malformed or ambiguous, 422 for a batch of
// the wrong size.
func readReports(c echo.Context) ([]byte, *apiReportsIn, error) {
	mt, _, err := mime.ParseMediaType(c.Request().Header.Get(echo.HeaderContentType))
	if err != nil || mt != echo.MIMEApplicationJSON {
		return nil, nil, echo.NewHTTPError(http.StatusUnsupportedMediaType, "Send a JSON body with Content-Type: application/json.")
	}
	body, err := io.ReadAll(http.MaxBytesReader(c.Response(), c.Request().Body, maxReportsBody))
	if err != nil {
		return nil, nil, jsonError(err)
	}
	var in apiReportsIn
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil {
		return nil, nil, jsonError(err)
	}
	if err := dec.Decode(&struct{}{}); !errors.Is(err, io.EOF) {
		if err == nil {
			return nil, nil, echo.NewHTTPError(http.StatusBadRequest, "The body must be a single JSON object.")
		}
		return nil, nil, jsonError(err)
	}
	if in.Reports != nil {
		if !in.apiReportIn.empty() {
			return nil, nil, echo.NewHTTPError(http.StatusBadRequest, `Send one report object or {"reports": […]}, not both.`)
		}
		switch n := len(*in.Reports); {
		case n == 0:
			return nil, nil, errs.Fields(map[string]string{"reports": "The batch is empty; send at least one report."})
		case n > maxReportsBatch:
			return nil, nil, errs.Fields(map[string]string{"reports": "Send at most 1000 reports in one request (this has " + strconv.Itoa(n) + ")."})
		}
	}
	return body, &in, nil
}

// apiReportStatus shows one of the flagger's reports by receipt id.
func (s *Server) apiReportStatus(c echo.Context) error {
	k, err := flaggerKey(c, apikeys.ScopeReportsRead)
	if err != nil {
		return err
	}
	r, err := s.cases.ReceiptFor(c.Request().Context(), c.Param("id"), k.ReporterID)
	if err != nil {
		return err
	}
	return apiJSON(c, http.StatusOK, receiptOut(r))
}
