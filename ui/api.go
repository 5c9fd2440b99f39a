// The JSON API, under /api/v1.
//
// Authentication: the staff API uses the web UI's session, the docket_session
// cookie set by POST /login (trusted flaggers use API keys: api_reports.go). Authorization is
// the same casbin policy, applied by the one policy middleware to the route
// patterns /api/v1/…; refusals are JSON: 401 when not signed in, 403 when the
// policy says no.
//
// CSRF: every state-changing request (POST) must carry the CSRF token in the
// X-CSRF-Token header. The token is the value of the docket_csrf cookie, which
// any response sets; echo's CSRF middleware compares the two and answers 403
// when the header is missing or wrong. (A browser that sends
// Sec-Fetch-Site: same-origin is let through by that middleware without the
// token; cross-site requests are refused.)
//
// Requests with a body (notes, decide) must be Content-Type: application/json
// (else 415), one JSON object of at most maxAPIBody bytes (else 413) with only
// the documented fields (else 400). Errors are {"error": "…"} with, for invalid
// input (422), "fields": {"name": "…"}. A case the caller may not read answers
// 404 exactly like a case that does not exist.

package ui

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/dockethq/docket/cases"
	"github.com/dockethq/docket/internal/errs"
)

// maxAPIBody bounds a JSON request body. The largest field is a note of
// cases.MaxNote (20,000) characters; even written entirely as \uXXXX surrogate
// pairs (12 bytes a character) it fits.
const maxAPIBody = 512 << 10

// apiQueue is one queue the caller may read, with its open cases.
type apiQueue struct {
	Name string `json:"name"`
	Open int64  `json:"open"`
}

// apiCaseSummary is a case as listed, and the head of a case's detail.
type apiCaseSummary struct {
	ID                 int64          `json:"id"`
	Hostname           string         `json:"hostname"`
	Category           cases.Category `json:"category"`
	State              cases.State    `json:"state"`
	Queue              string         `json:"queue"`
	Severity           int            `json:"severity"`
	Priority           int            `json:"priority"`
	Score              int            `json:"score"` // priority with ageing, at the time of the response
	SiteID             *int64         `json:"site_id"`
	CustomerID         *int64         `json:"customer_id"`
	CustomerName       string         `json:"customer_name,omitempty"`
	AssigneeID         *int64         `json:"assignee_id"`
	AssigneeName       string         `json:"assignee_name,omitempty"`
	ClaimExpiresAt     *time.Time     `json:"claim_expires_at"`
	Claimed            bool           `json:"claimed"` // someone holds a live claim
	ReportCount        int            `json:"report_count"`
	ReporterCount      int            `json:"reporter_count"`
	FlaggerReportCount int            `json:"flagger_report_count"`
	PriorActions       int            `json:"prior_actions"`
	SLADueAt           time.Time      `json:"sla_due_at"`
	OpenedAt           time.Time      `json:"opened_at"`
	UpdatedAt          time.Time      `json:"updated_at"`
	EscalatedAt        *time.Time     `json:"escalated_at"`
	ClosedAt           *time.Time     `json:"closed_at"`
	CloseReason        string         `json:"close_reason,omitempty"`
	MergedInto         *int64         `json:"merged_into,omitempty"`
	Version            int            `json:"version"`
}

// apiCaseDetail is one case with its reports, notes and decisions.
type apiCaseDetail struct {
	apiCaseSummary
	Reports   []apiReport   `json:"reports"`
	Notes     []apiNote     `json:"notes"`
	Decisions []apiDecision `json:"decisions"`
}

type apiReport struct {
	ID          int64          `json:"id"`
	PublicID    string         `json:"public_id"`
	URL         string         `json:"url"`
	Host        string         `json:"host"`
	Category    cases.Category `json:"category"`
	Description string         `json:"description"`
	Channel     cases.Channel  `json:"channel"`
	Reporter    apiReporter    `json:"reporter"`
	ReceivedAt  time.Time      `json:"received_at"`
}

// apiReporter is who sent a report. Email is present only for callers the
// policy lets read reporter contacts (reporter/contact, read).
type apiReporter struct {
	Kind  cases.ReporterKind `json:"kind"`
	Name  string             `json:"name"`
	Email string             `json:"email,omitempty"`
}

type apiNote struct {
	ID        int64     `json:"id"`
	AuthorID  int64     `json:"author_id"`
	Author    string    `json:"author"`
	Body      string    `json:"body"`
	CreatedAt time.Time `json:"created_at"`
}

type apiDecision struct {
	ID          int64                `json:"id"`
	Action      cases.DecisionAction `json:"action"`
	Grounds     string               `json:"grounds"`
	Explanation string               `json:"explanation"`
	Status      string               `json:"status"` // proposed, final, rejected
	ProposerID  int64                `json:"proposer_id"`
	CreatedAt   time.Time            `json:"created_at"`
	FinalAt     *time.Time           `json:"final_at"`
	URLs        []string             `json:"urls,omitempty"`       // block_url
	ExpiresAt   *time.Time           `json:"expires_at,omitempty"` // when the measure is lifted
}

// apiNoteRequest is the body of POST /api/v1/cases/:id/notes.
type apiNoteRequest struct {
	Body string `json:"body"`
}

// apiDecideRequest is the body of POST /api/v1/cases/:id/decide.
type apiDecideRequest struct {
	Action      cases.DecisionAction `json:"action"`
	Grounds     string               `json:"grounds"`
	Explanation string               `json:"explanation"`
	// Graduated actions: the URLs of a block_url, and how long a measure
	// lasts once final (0: until changed).
	URLs         []string `json:"urls,omitempty"`
	LastsSeconds int64    `json:"lasts_seconds,omitempty"`
	// For the statement of reasons: "illegal" or "terms", and "none",
	// "partial" or "full" (optional, so older clients keep working).
	GroundType string `json:"ground_type,omitempty"`
	Automated  string `json:"automated,omitempty"`
}

// apiQueues lists the queues the caller may read with their open-case counts.
func (s *Server) apiQueues(c echo.Context) error {
	readable := s.readableQueues(c)
	out := []apiQueue{}
	if len(readable) > 0 {
		counts, err := s.cases.OpenCount(c.Request().Context(), readable)
		if err != nil {
			return err
		}
		for _, q := range readable {
			out = append(out, apiQueue{Name: q, Open: counts[q]})
		}
	}
	return apiJSON(c, http.StatusOK, map[string]any{"queues": out})
}

// apiCases searches the cases in the caller's readable queues, a page at a time:
// "next" is the cursor to pass as ?after= for the following page, empty on the last.
func (s *Server) apiCases(c echo.Context) error {
	readable := s.readableQueues(c)
	q := c.QueryParams()
	fields := map[string]string{}
	f := cases.Filter{
		Queues:   readable,
		Queue:    strings.TrimSpace(q.Get("queue")),
		State:    strings.TrimSpace(q.Get("state")),
		Category: cases.Category(strings.TrimSpace(q.Get("category"))),
		Host:     q.Get("host"),
		Text:     q.Get("q"),
		Sort:     cases.Sort(strings.TrimSpace(q.Get("sort"))),
		After:    strings.TrimSpace(q.Get("after")),
		Limit:    50,
	}
	// An unknown queue and one the caller may not read get the same answer.
	if f.Queue != "" && !slices.Contains(readable, f.Queue) {
		fields["queue"] = "Unknown queue."
	}
	if l := strings.TrimSpace(q.Get("limit")); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 1 || n > 200 {
			fields["limit"] = "Give a number from 1 to 200."
		}
		f.Limit = n
	}
	if err := errs.Fields(fields); err != nil {
		return err
	}
	page, err := s.cases.Search(c.Request().Context(), f)
	if err != nil {
		return err
	}
	now := s.now()
	out := make([]apiCaseSummary, 0, len(page.Items))
	for i := range page.Items {
		it := &page.Items[i]
		sum := caseSummary(&it.Case, now)
		sum.CustomerName, sum.AssigneeName = it.CustomerName, it.AssigneeName
		out = append(out, sum)
	}
	return apiJSON(c, http.StatusOK, map[string]any{"cases": out, "next": page.Next})
}

// apiCase shows one case.
func (s *Server) apiCase(c echo.Context) error {
	v, err := s.apiReadable(c)
	if err != nil {
		return err
	}
	return apiJSON(c, http.StatusOK, s.caseDetail(c, v))
}

func (s *Server) apiClaim(c echo.Context) error {
	return s.apiAct(c, http.StatusOK, func(id int64) error {
		_, err := s.cases.Claim(c.Request().Context(), s.actor(c), id)
		return err
	})
}

func (s *Server) apiRelease(c echo.Context) error {
	return s.apiAct(c, http.StatusOK, func(id int64) error {
		_, err := s.cases.Release(c.Request().Context(), s.actor(c), id)
		return err
	})
}

func (s *Server) apiNote(c echo.Context) error {
	var req apiNoteRequest
	if err := bindJSON(c, &req); err != nil {
		return err
	}
	return s.apiAct(c, http.StatusCreated, func(id int64) error {
		_, err := s.cases.AddNote(c.Request().Context(), s.actor(c), id, req.Body)
		return err
	})
}

// apiDecide records a decision: {"case": …, "decision": …}. A terminate
// decision is a proposal (status "proposed") waiting for sign-off.
func (s *Server) apiDecide(c echo.Context) error {
	var req apiDecideRequest
	if err := bindJSON(c, &req); err != nil {
		return err
	}
	id, err := s.apiReadableID(c)
	if err != nil {
		return err
	}
	_, d, err := s.cases.Decide(c.Request().Context(), s.actor(c), id, cases.Proposal{
		Action: req.Action, Grounds: req.Grounds, Explanation: req.Explanation,
		URLs: req.URLs, Lasts: apiLasts(req.LastsSeconds), GroundType: req.GroundType, Automated: req.Automated,
	})
	if err != nil {
		return err
	}
	v, err := s.cases.Get(c.Request().Context(), id, s.readableQueues(c))
	if err != nil {
		return err
	}
	return apiJSON(c, http.StatusOK, map[string]any{"case": s.caseDetail(c, v), "decision": decisionJSON(d)})
}

// apiAct runs an action on a case the caller may read and answers with the case
// as it is afterwards. Domain errors become JSON by handleError: a refused
// transition or someone else's claim is 409, invalid input 422.
func (s *Server) apiAct(c echo.Context, status int, fn func(id int64) error) error {
	id, err := s.apiReadableID(c)
	if err != nil {
		return err
	}
	if err := fn(id); err != nil {
		return err
	}
	v, err := s.cases.Get(c.Request().Context(), id, s.readableQueues(c))
	if err != nil {
		return err
	}
	return apiJSON(c, status, s.caseDetail(c, v))
}

// apiReadable loads the case named by :id if it is in a queue the caller may
// read; otherwise the answer is the same 404 as for a case that does not exist.
func (s *Server) apiReadable(c echo.Context) (*cases.CaseView, error) {
	id, err := s.caseID(c)
	if err != nil {
		return nil, err
	}
	return s.cases.Get(c.Request().Context(), id, s.readableQueues(c))
}

// apiReadableID is apiReadable for actions, which only need the id: only cases
// the caller may read can be acted on (as in act for the pages).
func (s *Server) apiReadableID(c echo.Context) (int64, error) {
	v, err := s.apiReadable(c)
	if err != nil {
		return 0, err
	}
	return v.Case.ID, nil
}

// caseDetail builds the JSON of a case for the caller: reporter emails only
// for those who may read reporter contacts.
func (s *Server) caseDetail(c echo.Context, v *cases.CaseView) apiCaseDetail {
	d := apiCaseDetail{
		apiCaseSummary: caseSummary(&v.Case, s.now()),
		Reports:        make([]apiReport, 0, len(v.Reports)),
		Notes:          make([]apiNote, 0, len(v.Notes)),
		Decisions:      make([]apiDecision, 0, len(v.Decisions)),
	}
	if v.Customer != nil {
		d.CustomerName = v.Customer.Name
	}
	if v.Case.AssigneeID != nil {
		if u, err := s.users.Get(c.Request().Context(), *v.Case.AssigneeID); err == nil {
			d.AssigneeName = u.Name
		}
	}
	contact := s.can(c, "reporter/contact", "read")
	for _, r := range v.Reports {
		rep := apiReport{
			ID: r.ID, PublicID: r.PublicID, URL: r.URL, Host: r.Host, Category: r.Category,
			Description: r.Description, Channel: r.Channel, ReceivedAt: r.ReceivedAt.UTC(),
			Reporter: apiReporter{Kind: r.ReporterKind, Name: r.ReporterName},
		}
		if contact {
			rep.Reporter.Email = r.ReporterEmail
		}
		d.Reports = append(d.Reports, rep)
	}
	for _, n := range v.Notes {
		d.Notes = append(d.Notes, apiNote{ID: n.ID, AuthorID: n.AuthorID, Author: n.AuthorName, Body: n.Body, CreatedAt: n.CreatedAt.UTC()})
	}
	for i := range v.Decisions {
		d.Decisions = append(d.Decisions, decisionJSON(&v.Decisions[i]))
	}
	return d
}

func caseSummary(k *cases.Case, now time.Time) apiCaseSummary {
	return apiCaseSummary{
		ID: k.ID, Hostname: k.Hostname, Category: k.Category, State: k.State, Queue: k.Queue,
		Severity: k.Severity, Priority: k.Priority, Score: k.Score(now),
		SiteID: k.SiteID, CustomerID: k.CustomerID, AssigneeID: k.AssigneeID,
		ClaimExpiresAt: utcPtr(k.ClaimExpiresAt),
		Claimed:        k.AssigneeID != nil && k.ClaimExpiresAt != nil && k.ClaimExpiresAt.After(now),
		ReportCount:    k.ReportCount, ReporterCount: k.ReporterCount, FlaggerReportCount: k.FlaggerReportCount,
		PriorActions: k.PriorActions, SLADueAt: k.SLADueAt.UTC(), OpenedAt: k.OpenedAt.UTC(), UpdatedAt: k.UpdatedAt.UTC(),
		EscalatedAt: utcPtr(k.EscalatedAt), ClosedAt: utcPtr(k.ClosedAt), CloseReason: k.CloseReason,
		MergedInto: k.MergedInto, Version: k.Version,
	}
}

func decisionJSON(d *cases.Decision) apiDecision {
	return apiDecision{
		ID: d.ID, Action: d.Effective(), Grounds: d.Grounds, Explanation: d.Explanation, Status: d.Status,
		ProposerID: d.ProposerID, CreatedAt: d.CreatedAt.UTC(), FinalAt: utcPtr(d.FinalAt),
		URLs: d.URLList(), ExpiresAt: utcPtr(d.ExpiresAt),
	}
}

// apiLasts converts lasts_seconds without overflowing: a value past the
// limit stays past it, so the domain refuses it.
func apiLasts(secs int64) time.Duration {
	if secs > int64(cases.MaxLasts/time.Second) {
		return cases.MaxLasts + time.Second
	}
	return time.Duration(secs) * time.Second
}

func utcPtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}

// apiJSON writes v as JSON; API answers are per user and never cached.
func apiJSON(c echo.Context, status int, v any) error {
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.JSON(status, v)
}

// bindJSON decodes the request body, one JSON object, into dst: 415 unless the
// body is declared as JSON, 413 when it is larger than maxAPIBody, 400 when it
// is malformed, has fields dst does not know, or values of the wrong type.
func bindJSON(c echo.Context, dst any) error {
	mt, _, err := mime.ParseMediaType(c.Request().Header.Get(echo.HeaderContentType))
	if err != nil || mt != echo.MIMEApplicationJSON {
		return echo.NewHTTPError(http.StatusUnsupportedMediaType, "Send a JSON body with Content-Type: application/json.")
	}
	body := http.MaxBytesReader(c.Response(), c.Request().Body, maxAPIBody)
	dec := json.NewDecoder(body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		return jsonError(err)
	}
	// Exactly one value: trailing data is as malformed as a truncated object.
	if err := dec.Decode(&struct{}{}); !errors.Is(err, io.EOF) {
		if err == nil {
			return echo.NewHTTPError(http.StatusBadRequest, "The body must be a single JSON object.")
		}
		return jsonError(err)
	}
	return nil
}

// jsonError turns a decoding error into a 400 (or 413) that says what is wrong
// without echoing the body back.
func jsonError(err error) error {
	var (
		tooBig *http.MaxBytesError
		syntax *json.SyntaxError
		typ    *json.UnmarshalTypeError
	)
	switch {
	case errors.As(err, &tooBig):
		return echo.NewHTTPError(http.StatusRequestEntityTooLarge)
	case errors.Is(err, io.EOF):
		return echo.NewHTTPError(http.StatusBadRequest, "The request body is empty; send a JSON object.")
	case errors.As(err, &syntax):
		return echo.NewHTTPError(http.StatusBadRequest, fmt.Sprintf("The body is not valid JSON (at byte %d).", syntax.Offset))
	case errors.Is(err, io.ErrUnexpectedEOF):
		return echo.NewHTTPError(http.StatusBadRequest, "The body is not valid JSON (it ends too soon).")
	case errors.As(err, &typ):
		if typ.Field == "" {
			return echo.NewHTTPError(http.StatusBadRequest, "The body must be a JSON object.")
		}
		return echo.NewHTTPError(http.StatusBadRequest, fmt.Sprintf("The field %q must be a %s.", typ.Field, typ.Type.Kind().String()))
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		// encoding/json has no typed error for this; the message names the field.
		return echo.NewHTTPError(http.StatusBadRequest, "Unknown field "+strings.TrimPrefix(err.Error(), "json: unknown field ")+".")
	default:
		return echo.NewHTTPError(http.StatusBadRequest, "The body could not be read as JSON.")
	}
}
