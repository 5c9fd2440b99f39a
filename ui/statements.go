package ui

import (
	"bytes"
	"encoding/json"
	"fmt"
	"html"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/dockethq/docket/cases"
	"github.com/dockethq/docket/internal/errs"
	"github.com/dockethq/docket/sor"
)

// routesStatements registers statements of reasons (DSA Art. 17): the draft's
// preview in the decide form, a statement's page (edit while a draft), and
// the Transparency Database export at /admin/sor.
func (s *Server) routesStatements() {
	e := s.echo
	e.POST("/cases/:id/statement/preview", s.statementPreview)
	e.GET("/statements/:id", s.statementView)
	e.POST("/statements/:id", s.statementEdit)
	e.GET("/admin/sor", s.adminSOR)
	e.GET("/admin/sor/export", s.adminSORExport)
	e.GET("/admin/sor/:id", s.adminSORJSON)
}

func init() {
	actionLabels["statement.created"] = "Statement of reasons written"
	actionLabels["statement.edited"] = "Statement of reasons edited"
	actionLabels["statement.final"] = "Statement of reasons final"
	funcs["sorEdit"] = sorFromForm
}

// sorFields is what the _statement.html partial shows: the editable fields
// of a draft, their errors, and the statement as the customer will read it.
type sorFields struct {
	// NeedGround: the statement has no decision ground yet; the form asks.
	NeedGround bool
	Edit       cases.StatementEdit
	Errors     map[string]string
	Text       string
	Problems   sor.Errors
}

// sorFromForm refills the fields from what the reviewer typed, after an error.
func sorFromForm(form url.Values, errors map[string]string) sorFields {
	return sorFields{Edit: editFrom(form), Errors: errors}
}

func editFrom(form url.Values) cases.StatementEdit {
	return cases.StatementEdit{Facts: form.Get("sor_facts"), Ground: form.Get("sor_ground"), Explanation: form.Get("sor_explanation"),
		ReferenceURL: form.Get("sor_reference_url"), Scope: form.Get("sor_scope"), ContentTypeOther: form.Get("sor_content_type_other"),
		Redress: form.Get("sor_redress"), GroundType: form.Get("sor_ground_type")}
}

// statementFields adds the decide form's ground type, automation and, when
// the reviewer opened the draft (sor_present), the edited statement.
func statementFields(form url.Values, p *cases.Proposal) {
	p.GroundType, p.Automated = form.Get("ground_type"), form.Get("automated")
	// The form always sends ground_type; callers that predate it do not.
	p.RequireGround = form.Has("ground_type")
	if form.Get("sor_present") == "1" && (p.Action == cases.Restrict || p.Action == cases.Terminate || p.Action == cases.Interstitial || p.Action == cases.BlockURL) {
		e := editFrom(form)
		p.Statement = &e
	}
}

// statementPreview renders the draft the decide form's values would give, as
// editable fields (htmx swaps them into the form).
func (s *Server) statementPreview(c echo.Context) error {
	id, err := s.caseID(c)
	if err != nil {
		return err
	}
	form, _ := c.FormParams()
	lasts, err := parseLasts(form.Get("lasts"))
	if err != nil {
		lasts = 0
	}
	action := cases.DecisionAction(form.Get("action"))
	p := cases.Proposal{Action: action, Grounds: form.Get("grounds"), Explanation: form.Get("explanation"),
		Hostnames: form["hostnames"], Emergency: form.Get("emergency") == "yes", URLs: form["urls"], Lasts: lasts,
		GroundType: form.Get("ground_type"), Automated: form.Get("automated")}
	st, err := s.cases.PreviewStatement(c.Request().Context(), id, s.readableQueues(c), p)
	if e, ok := errs.As(err); ok && e.Code == errs.Invalid {
		return c.HTML(http.StatusOK, `<p class="muted" id="sor-none">`+html.EscapeString(e.Message)+`</p>`)
	}
	if err != nil {
		return err
	}
	data := sorFields{Edit: cases.EditOf(*st, cases.DefaultRedress), Text: cases.StatementText(*st, cases.DefaultRedress), Problems: st.Check()}
	delete(data.Problems, "puid") // assigned when the decision is recorded
	return s.fragment(c, "sor_fields", data)
}

// fragment renders one partial (defined in templates/_*.html) without the layout.
func (s *Server) fragment(c echo.Context, name string, data any) error {
	t, ok := s.pages.byName["case"]
	if !ok {
		return fmt.Errorf("no page template case")
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, name, data); err != nil {
		return fmt.Errorf("render %s: %w", name, err)
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.HTMLBlob(http.StatusOK, buf.Bytes())
}

type statementPage struct {
	V      *cases.StatementView
	Fields sorFields
	JSON   string
	Flash  string
}

// statementByDecision reads the statement of the decision in :id.
func (s *Server) statementByDecision(c echo.Context) (*cases.StatementView, error) {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil {
		return nil, errs.E(errs.NotFound, "There is no such statement of reasons.")
	}
	v, err := s.cases.StatementForDecision(c.Request().Context(), s.actor(c), id, s.readableQueues(c))
	if err != nil {
		return nil, err
	}
	if v == nil {
		return nil, errs.E(errs.NotFound, "This decision has no statement of reasons (only restrictions and terminations do).")
	}
	return v, nil
}

func (s *Server) statementView(c echo.Context) error {
	return s.renderStatement(c, http.StatusOK, view{})
}

func (s *Server) renderStatement(c echo.Context, status int, v view) error {
	sv, err := s.statementByDecision(c)
	if err != nil {
		return err
	}
	b, _ := json.MarshalIndent(sv.TDB, "", "  ")
	p := statementPage{V: sv, JSON: string(b), Flash: s.popFlash(c), Fields: sorFields{Edit: sv.Edit(), Errors: v.Errors, Text: sv.Text(),
		Problems: sv.Problems, NeedGround: sv.TDB.DecisionGround == ""}}
	if v.Form != nil {
		p.Fields.Edit = editFrom(v.Form)
	}
	sv.CanEdit = sv.CanEdit && s.can(c, "/statements/:id", http.MethodPost)
	v.Title, v.Data = "Statement of reasons · decision "+c.Param("id"), p
	return s.render(c, status, "statement", v)
}

func (s *Server) statementEdit(c echo.Context) error {
	sv, err := s.statementByDecision(c)
	if err != nil {
		return err
	}
	form, _ := c.FormParams()
	_, err = s.cases.EditStatement(c.Request().Context(), s.actor(c), sv.Statement.ID, s.readableQueues(c), editFrom(form))
	if e, ok := errs.As(err); ok && e.Code != errs.Internal && e.Code != errs.NotFound {
		return s.renderStatement(c, errStatus(e), view{Message: e.Message, Errors: e.Fields, Form: form})
	}
	if err != nil {
		return err
	}
	s.flash(c, "Statement of reasons saved.")
	return c.Redirect(http.StatusSeeOther, "/statements/"+c.Param("id"))
}

type adminSORPage struct {
	Rows         []cases.StatementRow
	Since, Until string
	Valid        int
	Batches      []int
	Query        string
	Truncated    bool
}

// period reads since/until (YYYY-MM-DD, UTC; until exclusive) with a default
// of the last 30 days.
func (s *Server) period(c echo.Context) (since, until time.Time, err error) {
	since = s.now().UTC().AddDate(0, 0, -30).Truncate(24 * time.Hour)
	if v := c.QueryParam("since"); v != "" {
		if since, err = time.Parse(time.DateOnly, v); err != nil {
			return since, until, &errs.Error{Code: errs.Invalid, Message: "Enter the start as YYYY-MM-DD.", Fields: map[string]string{"since": "Use YYYY-MM-DD."}}
		}
	}
	if v := c.QueryParam("until"); v != "" {
		if until, err = time.Parse(time.DateOnly, v); err != nil {
			return since, until, &errs.Error{Code: errs.Invalid, Message: "Enter the end as YYYY-MM-DD.", Fields: map[string]string{"until": "Use YYYY-MM-DD."}}
		}
	}
	return since, until, nil
}

// adminSOR lists the final statements of a period with their validation.
func (s *Server) adminSOR(c echo.Context) error {
	since, until, err := s.period(c)
	if err != nil {
		return err
	}
	rows, err := s.cases.FinalStatements(c.Request().Context(), since, until, cases.MaxStatementList+1)
	if err != nil {
		return err
	}
	p := adminSORPage{Since: since.Format(time.DateOnly)}
	if len(rows) > cases.MaxStatementList {
		rows, p.Truncated = rows[:cases.MaxStatementList], true
	}
	p.Rows = rows
	q := url.Values{"since": {p.Since}}
	if !until.IsZero() {
		p.Until = until.Format(time.DateOnly)
		q.Set("until", p.Until)
	}
	p.Query = q.Encode()
	for _, r := range rows {
		if len(r.Problems) == 0 {
			p.Valid++
		}
	}
	for i := 1; i <= (p.Valid+sor.BatchSize-1)/sor.BatchSize; i++ {
		p.Batches = append(p.Batches, i)
	}
	return s.render(c, http.StatusOK, "admin_sor", view{Title: "Statements of reasons", Data: p})
}

// adminSORExport downloads batch ?page=N (from 1) of the period's valid
// statements, in the API's {"statements": […]} form, and records the export.
func (s *Server) adminSORExport(c echo.Context) error {
	since, until, err := s.period(c)
	if err != nil {
		return err
	}
	page, _ := strconv.Atoi(c.QueryParam("page"))
	if page == 0 {
		page = 1
	}
	res, err := s.cases.ExportStatements(c.Request().Context(), s.actor(c).Subject(), since, until)
	if err != nil {
		return err
	}
	if page < 1 || page > len(res.Batches) {
		return errs.E(errs.NotFound, "There is no batch %d: the period has %d batch(es) of valid statements.", page, len(res.Batches))
	}
	b, _ := json.MarshalIndent(res.Batches[page-1], "", "  ")
	name := fmt.Sprintf("sor-%s-%d.json", since.Format("20060102"), page)
	c.Response().Header().Set("Content-Disposition", `attachment; filename="`+name+`"`)
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.JSONBlob(http.StatusOK, b)
}

// adminSORJSON downloads one final statement (by decision id) after checking
// it; a statement that breaks a rule answers 422 with the errors by field.
func (s *Server) adminSORJSON(c echo.Context) error {
	sv, err := s.statementByDecision(c)
	if err != nil {
		return err
	}
	if sv.Statement.Status != "final" {
		return errs.E(errs.Conflict, "This statement is a draft: it is exported once its decision is final.")
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	if len(sv.Problems) > 0 {
		return c.JSON(http.StatusUnprocessableEntity, map[string]any{"message": "The statement breaks the Transparency Database's rules.", "errors": sv.Problems})
	}
	b, _ := json.MarshalIndent(sv.TDB, "", "  ")
	c.Response().Header().Set("Content-Disposition", `attachment; filename="`+sv.TDB.PUID+`.json"`)
	return c.JSONBlob(http.StatusOK, b)
}
