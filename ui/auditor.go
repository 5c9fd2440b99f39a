package ui

import (
	"bufio"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"github.com/dockethq/docket/audit"
	"github.com/dockethq/docket/internal/errs"
	"github.com/dockethq/docket/users"
)

// auditScopes maps a timeline's path segment to its scope.
var auditScopes = []struct {
	Path  string
	Scope audit.Scope
	Label string
}{
	{"cases", audit.ScopeCase, "Case"},
	{"users", audit.ScopeUser, "User"},
	{"customers", audit.ScopeCustomer, "Customer"},
}

// auditParams are a timeline's filters, in the order its links carry them;
// "after" (the cursor) is added only to the next-page link.
var auditParams = []string{"action", "actor", "object_type", "from", "to", "order", "limit"}

// routesAuditor registers the auditors' read-only timelines: the entry page,
// and per case, user and customer a page and its exports (GET only).
func (s *Server) routesAuditor() {
	e := s.echo
	e.GET("/audit", s.auditHome)
	for _, sc := range auditScopes {
		e.GET("/audit/"+sc.Path+"/:id", s.auditTimeline(sc.Scope, sc.Path))
		e.GET("/audit/"+sc.Path+"/:id/export.csv", s.auditExport(sc.Scope, sc.Path, "csv"))
		e.GET("/audit/"+sc.Path+"/:id/export.jsonl", s.auditExport(sc.Scope, sc.Path, "jsonl"))
	}
}

type auditHomePage struct {
	Users []users.User
}

// auditHome is the entry page; with a scope and an id it sends the auditor to
// that timeline with the filters chosen.
func (s *Server) auditHome(c echo.Context) error {
	ctx := c.Request().Context()
	form := auditForm(c)
	scope, id := c.QueryParam("scope"), strings.TrimSpace(c.QueryParam("id"))
	form.Set("scope", scope)
	form.Set("id", id)
	v := view{Title: "Audit", Form: form}
	if scope != "" || id != "" {
		fields := map[string]string{}
		path := ""
		for _, sc := range auditScopes {
			if string(sc.Scope) == scope {
				path = sc.Path
			}
		}
		if path == "" {
			fields["scope"] = "Choose a case, a user or a customer."
		}
		n, err := strconv.ParseInt(strings.TrimPrefix(id, "#"), 10, 64)
		switch {
		case err == nil && n > 0:
		case scope == string(audit.ScopeCustomer) && id != "" && err != nil:
			// A customer may be named: one that matches is meant.
			found, ferr := s.cases.FindCustomers(ctx, id, 2)
			if ferr != nil {
				return ferr
			}
			switch len(found) {
			case 0:
				fields["id"] = "No customer has a name like this."
			case 1:
				n = found[0].ID
			default:
				fields["id"] = "Several customers match; enter the number."
			}
		default:
			fields["id"] = "Enter a number."
		}
		if len(fields) == 0 {
			return c.Redirect(http.StatusSeeOther, auditURL("/audit/"+path+"/"+strconv.FormatInt(n, 10), form, 0))
		}
		v.Errors, v.Message = fields, "Please correct the highlighted fields."
	}
	us, err := s.users.List(ctx)
	if err != nil {
		return err
	}
	v.Data = auditHomePage{Users: us}
	status := http.StatusOK
	if len(v.Errors) > 0 {
		status = http.StatusUnprocessableEntity
	}
	return s.render(c, status, "audit", v)
}

// auditForm is the timeline filters from the query string, trimmed.
func auditForm(c echo.Context) url.Values {
	form := url.Values{}
	for _, k := range auditParams {
		if v := strings.TrimSpace(c.QueryParam(k)); v != "" {
			form.Set(k, v)
		}
	}
	return form
}

// auditURL is a timeline (or export) path with form's filters and a cursor.
func auditURL(path string, form url.Values, after int64) string {
	q := url.Values{}
	for _, k := range auditParams {
		if v := form.Get(k); v != "" {
			q.Set(k, v)
		}
	}
	if after > 0 {
		q.Set("after", strconv.FormatInt(after, 10))
	}
	if len(q) == 0 {
		return path
	}
	return path + "?" + q.Encode()
}

// auditQuery reads a timeline request: the subject from the path, the filters
// and cursor from the query, the visibility from the policy. Bad filters come
// back as field messages.
func (s *Server) auditQuery(c echo.Context, scope audit.Scope) (audit.Query, url.Values, map[string]string, error) {
	form := auditForm(c)
	q := audit.Query{Scope: scope, Queues: s.readableQueues(c), Restricted: s.seeRestricted(c)}
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil || id <= 0 {
		return q, form, nil, audit.ErrNoTimeline
	}
	q.ID = id
	fields := map[string]string{}
	for _, k := range []string{"action", "actor", "object_type"} {
		v := form.Get(k)
		switch {
		case !utf8.ValidString(v) || strings.ContainsFunc(v, unicode.IsControl):
			fields[k] = "This contains characters that are not valid text."
		case len(v) > 100:
			fields[k] = "Keep this under 100 characters."
		}
	}
	q.Action, q.Actor, q.ObjectType = form.Get("action"), form.Get("actor"), form.Get("object_type")
	from, ok := parseDay(form.Get("from"))
	if !ok {
		fields["from"] = "Enter a date as YYYY-MM-DD."
	}
	to, ok := parseDay(form.Get("to"))
	if !ok {
		fields["to"] = "Enter a date as YYYY-MM-DD."
	}
	if !to.IsZero() {
		to = to.AddDate(0, 0, 1) // the whole of that day
	}
	q.From, q.To = from, to
	switch form.Get("order") {
	case "", "newest":
	case "oldest":
		q.Oldest = true
	default:
		fields["order"] = "Show newest or oldest first."
	}
	if l := form.Get("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 1 || n > audit.MaxPage {
			fields["limit"] = fmt.Sprintf("Show from 1 to %d events a page.", audit.MaxPage)
		} else {
			q.Limit = n
		}
	}
	if a := c.QueryParam("after"); a != "" {
		n, err := strconv.ParseInt(a, 10, 64)
		if err != nil || n <= 0 {
			fields["after"] = "That page link is not valid; start from the first page."
		}
		q.After = n
	}
	if len(fields) == 0 {
		if e, ok := errs.As(q.Validate()); ok {
			fields = e.Fields
		}
	}
	return q, form, fields, nil
}

type auditRow struct {
	E          audit.Event
	Label      string
	ActorName  string // the user's name, for user actors
	ActorURL   string // the actor's timeline
	ObjectURL  string // the object's timeline, for cases, users and customers
	CaseURL    string // the case page, for cases
	ObjectName string // the user's name, for user objects
	Details    []auditDetail
}

// auditDetail is one key and value of an event's details; URL links a value
// that names a case (a strike's, a split's) to that case's timeline.
type auditDetail struct {
	audit.Detail
	URL string
}

type auditPage struct {
	Subject  *audit.Subject
	Path     string // the timeline's path
	Rows     []auditRow
	First    bool
	NextURL  string
	FirstURL string
	CSVURL   string
	JSONLURL string
	Oldest   bool
}

// auditTimeline shows one page of a timeline, filtered.
func (s *Server) auditTimeline(scope audit.Scope, seg string) echo.HandlerFunc {
	return func(c echo.Context) error {
		ctx := c.Request().Context()
		q, form, fields, err := s.auditQuery(c, scope)
		if err != nil {
			return err
		}
		sub, err := audit.Describe(ctx, s.db.R, q)
		if err != nil {
			return err
		}
		path := "/audit/" + seg + "/" + strconv.FormatInt(q.ID, 10)
		p := auditPage{Subject: sub, Path: path, First: q.After == 0, Oldest: q.Oldest,
			FirstURL: auditURL(path, form, 0), CSVURL: auditURL(path+"/export.csv", form, 0), JSONLURL: auditURL(path+"/export.jsonl", form, 0)}
		v := view{Title: sub.Title, Form: form}
		if len(fields) > 0 {
			v.Errors, v.Message, v.Data = fields, "Please correct the highlighted fields.", p
			return s.render(c, http.StatusUnprocessableEntity, "audit_timeline", v)
		}
		page, err := audit.Timeline(ctx, s.db.R, q)
		if err != nil {
			return err
		}
		names, err := audit.UserNames(ctx, s.db.R, page.Events)
		if err != nil {
			return err
		}
		for _, e := range page.Events {
			p.Rows = append(p.Rows, auditRowFor(e, names))
		}
		if page.Next != 0 {
			p.NextURL = auditURL(path, form, page.Next)
		}
		v.Data = p
		return s.render(c, http.StatusOK, "audit_timeline", v)
	}
}

func auditRowFor(e audit.Event, names map[int64]string) auditRow {
	r := auditRow{E: e, Label: actionLabel(e.Action)}
	for _, d := range e.DetailList() {
		ad := auditDetail{Detail: d}
		if n, err := strconv.ParseInt(d.Value, 10, 64); err == nil && n > 0 && (d.Key == "case" || d.Key == "split_from" || d.Key == "into" || d.Key == "merged_from") {
			ad.URL = "/audit/cases/" + d.Value
		}
		r.Details = append(r.Details, ad)
	}
	if id, ok := audit.UserID(e.Actor); ok {
		r.ActorName = names[id]
		r.ActorURL = "/audit/users/" + strconv.FormatInt(id, 10)
	}
	if id, err := strconv.ParseInt(e.ObjectID, 10, 64); err == nil && id > 0 {
		switch e.ObjectType {
		case "case":
			r.ObjectURL, r.CaseURL = "/audit/cases/"+e.ObjectID, "/cases/"+e.ObjectID
		case "user":
			r.ObjectURL, r.ObjectName = "/audit/users/"+e.ObjectID, names[id]
		case "customer":
			r.ObjectURL = "/audit/customers/" + e.ObjectID
		}
	}
	return r
}

// auditExport streams exactly the filtered timeline, every page of it from
// the cursor on, as CSV or JSON Lines. An export that reaches
// audit.ExportLimit ends with a line saying where to continue.
func (s *Server) auditExport(scope audit.Scope, seg, format string) echo.HandlerFunc {
	return func(c echo.Context) error {
		ctx := c.Request().Context()
		q, _, fields, err := s.auditQuery(c, scope)
		if err != nil {
			return err
		}
		if len(fields) > 0 {
			return errs.Fields(fields)
		}
		if _, err := audit.Describe(ctx, s.db.R, q); err != nil {
			return err
		}
		name := fmt.Sprintf("audit-%s-%d.%s", scope, q.ID, format)
		h := c.Response().Header()
		h.Set(echo.HeaderContentDisposition, `attachment; filename="`+name+`"`)
		h.Set("Cache-Control", "no-store")
		if format == "csv" {
			h.Set(echo.HeaderContentType, "text/csv; charset=utf-8")
		} else {
			h.Set(echo.HeaderContentType, "application/x-ndjson")
		}
		c.Response().WriteHeader(http.StatusOK)
		bw := bufio.NewWriterSize(c.Response(), 32<<10)
		var write func(audit.Event) error
		var cw *csv.Writer
		if format == "csv" {
			cw = csv.NewWriter(bw)
			if err := cw.Write([]string{"id", "at", "actor", "action", "object_type", "object_id", "details"}); err != nil {
				return nil
			}
			write = func(e audit.Event) error {
				return cw.Write([]string{strconv.FormatInt(e.ID, 10), e.At.UTC().Format(time.RFC3339Nano), e.Actor, e.Action, e.ObjectType, e.ObjectID, e.Details})
			}
		} else {
			enc := json.NewEncoder(bw)
			write = func(e audit.Event) error { return enc.Encode(exportLine(e)) }
		}
		more, err := audit.Each(ctx, s.db.R, q, write)
		if err != nil {
			// The status is sent; a cut-off file is the only signal left.
			s.log.ErrorContext(ctx, "audit export", "err", err)
			return nil
		}
		if more != 0 {
			cont := auditURL("/audit/"+seg+"/"+strconv.FormatInt(q.ID, 10)+"/export."+format, auditForm(c), more)
			if cw != nil {
				_ = cw.Write([]string{"", "", "", "export.truncated", "", "", fmt.Sprintf(`{"limit":%d,"continue":%q}`, audit.ExportLimit, cont)})
			} else {
				_ = json.NewEncoder(bw).Encode(map[string]any{"truncated": true, "limit": audit.ExportLimit, "continue": cont})
			}
		}
		if cw != nil {
			cw.Flush()
		}
		_ = bw.Flush()
		return nil
	}
}

type exportEvent struct {
	ID         int64           `json:"id"`
	At         time.Time       `json:"at"`
	Actor      string          `json:"actor"`
	Action     string          `json:"action"`
	ObjectType string          `json:"object_type"`
	ObjectID   string          `json:"object_id"`
	Details    json.RawMessage `json:"details"`
}

func exportLine(e audit.Event) exportEvent {
	d := json.RawMessage(e.Details)
	if !json.Valid(d) {
		b, _ := json.Marshal(e.Details)
		d = b
	}
	return exportEvent{ID: e.ID, At: e.At.UTC(), Actor: e.Actor, Action: e.Action, ObjectType: e.ObjectType, ObjectID: e.ObjectID, Details: d}
}
