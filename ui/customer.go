package ui

import (
	"net/http"
	"net/url"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/dockethq/docket/cases"
	"github.com/dockethq/docket/internal/errs"
)

type customerPage struct {
	R          *cases.CustomerRecord
	Cases      *cases.Page
	First      bool   // the first page of cases
	NextURL    string // the next page of cases
	FirstURL   string
	Search     string // /search for this customer's cases, to refine
	Ledger     *cases.Ledger
	OriginEdit bool   // the viewer may set a site's origin host
	AuditURL   string // the customer's audit timeline, for those the policy lets read it
}

// customerView is the repeat-offender picture of one customer: the account, its
// sites, every case (newest first, a page at a time) and its decisions, all
// limited to the queues the viewer may read.
func (s *Server) customerView(c echo.Context) error {
	ctx := c.Request().Context()
	id, ok := parseID(c, "id")
	if !ok {
		return cases.ErrCustomerNotFound
	}
	readable := s.readableQueues(c)
	rec, err := s.cases.CustomerRecord(ctx, id, readable)
	if err != nil {
		return err
	}
	base := "/customers/" + strconv.FormatInt(id, 10)
	after := c.QueryParam("after")
	p := customerPage{R: rec, First: after == "", FirstURL: base,
		Search: "/search?" + url.Values{"customer": {strconv.FormatInt(id, 10)}, "state": {"all"}, "sort": {string(cases.SortNewest)}}.Encode()}
	p.OriginEdit = s.can(c, "/sites/:id/origin", http.MethodPost)
	// The timeline's own route decides, so the link never leads to a 403.
	if s.can(c, "/audit/customers/:id", http.MethodGet) {
		p.AuditURL = "/audit/customers/" + strconv.FormatInt(id, 10)
	}
	v := view{Title: rec.Customer.Name + " · customer", Data: &p}
	status := http.StatusOK
	page, err := s.cases.Search(ctx, cases.Filter{Queues: readable, CustomerID: id, State: "all", Sort: cases.SortNewest, After: after, Limit: 50})
	if e, ok := errs.As(err); ok && e.Code == errs.Invalid && after != "" {
		// A mangled page link: say so and show the first page.
		status, v.Message, p.First = http.StatusUnprocessableEntity, e.Message, true
		page, err = s.cases.Search(ctx, cases.Filter{Queues: readable, CustomerID: id, State: "all", Sort: cases.SortNewest, Limit: 50})
	}
	if err != nil {
		return err
	}
	p.Cases = page
	if p.Ledger, err = s.cases.Strikes(ctx, id, readable); err != nil {
		return err
	}
	if page.Next != "" {
		p.NextURL = base + "?" + url.Values{"after": {page.Next}}.Encode()
	}
	return s.render(c, status, "customer", v)
}
