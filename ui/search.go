package ui

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"github.com/dockethq/docket/cases"
	"github.com/dockethq/docket/intake"
	"github.com/dockethq/docket/internal/errs"
)

// searchParams are the query parameters of /search, in the order a shared link
// carries them. "after" (the cursor) is added only to the next-page link.
var searchParams = []string{"host", "customer", "category", "state", "queue", "reporter", "q", "from", "to", "sort", "limit"}

// maxSearchText bounds the free-text filters.
const maxSearchText = 200

type stateOption struct {
	Value, Label string
}

type searchPage struct {
	Queues     []string // the viewer's readable queues, for the queue select
	States     []stateOption
	Categories []cases.CategoryInfo
	Customer   *cases.Customer // the customer the filter resolved to, if any
	Contact    bool            // the viewer may read reporter contacts, so search by email
	Page       *cases.Page
	Searched   bool   // the filter was valid and the search ran
	First      bool   // this is the first page
	NextURL    string // the next page, with every current filter
	FirstURL   string // the first page of the same search
}

// search lists cases across the viewer's readable queues by host, customer,
// category, state, queue, reporter, text and date, a page at a time. The filter
// is in the URL, so a search can be shared as a link.
func (s *Server) search(c echo.Context) error {
	ctx := c.Request().Context()
	readable := s.readableQueues(c)
	p := searchPage{Queues: readable, Categories: cases.Categories, Page: &cases.Page{}, Contact: s.can(c, "reporter/contact", "read")}
	p.States = []stateOption{{"open", "Open (needs work)"}, {"all", "All states"}}
	for _, st := range cases.States {
		p.States = append(p.States, stateOption{string(st), st.Label()})
	}

	form := url.Values{}
	for _, k := range searchParams {
		if v := strings.TrimSpace(c.QueryParam(k)); v != "" {
			form.Set(k, v)
		}
	}
	if form.Get("sort") == "" {
		form.Set("sort", string(cases.SortPriority))
	}
	after := c.QueryParam("after")
	p.First = after == ""

	v := view{Title: "Search cases", Form: form, Message: "Please correct the highlighted fields."}
	f, fields, err := s.searchFilter(c, form, readable, p.Contact)
	if err != nil {
		return err
	}
	if len(fields) == 0 {
		p.Customer = f.customer
		f.Filter.After = after
		page, err := s.cases.Search(ctx, f.Filter)
		switch e, ok := errs.As(err); {
		case err == nil:
			p.Page, p.Searched = page, true
		case ok && e.Code == errs.Invalid:
			// The service checks the same fields, and the cursor, whose
			// message says what to do.
			fields, v.Message = e.Fields, e.Message
			if len(fields) == 0 {
				fields = map[string]string{"after": e.Message}
			}
		default:
			return err
		}
	}
	p.FirstURL = searchURL(form, "")
	v.Data = p
	if len(fields) > 0 {
		v.Errors = fields
		return s.render(c, http.StatusUnprocessableEntity, "search", v)
	}
	v.Message = ""
	if p.Page.Next != "" {
		p.NextURL = searchURL(form, p.Page.Next)
	}
	v.Data = p
	return s.render(c, http.StatusOK, "search", v)
}

type searchFilter struct {
	cases.Filter
	customer *cases.Customer
}

// searchFilter turns the form into a cases.Filter, with a message per bad field.
// Host, category, state and sort are checked again by cases.Search, which
// reports them the same way.
func (s *Server) searchFilter(c echo.Context, form url.Values, readable []string, contact bool) (searchFilter, map[string]string, error) {
	fields := map[string]string{}
	f := searchFilter{Filter: cases.Filter{Queues: readable, Limit: 50}}

	for _, k := range []string{"host", "customer", "reporter", "q"} {
		v := form.Get(k)
		switch {
		case !utf8.ValidString(v) || strings.ContainsFunc(v, unicode.IsControl):
			fields[k] = "This contains characters that are not valid text."
		case utf8.RuneCountInString(v) > maxSearchText:
			fields[k] = fmt.Sprintf("Keep this under %d characters.", maxSearchText)
		}
	}

	if h := form.Get("host"); h != "" && fields["host"] == "" {
		// A pasted URL means its host.
		if strings.Contains(h, "://") {
			if t, err := intake.NormalizeURL(h); err == nil {
				h = t.Host
			}
		}
		if _, err := intake.NormalizeHost(h); err != nil {
			fields["host"] = hostMessage(err)
		} else {
			f.Host = h
		}
	}

	if cu := form.Get("customer"); cu != "" && fields["customer"] == "" {
		if id, err := strconv.ParseInt(strings.TrimPrefix(cu, "#"), 10, 64); err == nil {
			if id <= 0 {
				fields["customer"] = "Enter a customer number or name."
			} else {
				f.CustomerID = id
			}
		} else {
			found, err := s.cases.FindCustomers(c.Request().Context(), cu, 6)
			if err != nil {
				return f, nil, err
			}
			switch {
			case len(found) == 0:
				fields["customer"] = "No customer has a name like this."
			case len(found) == 1 || strings.EqualFold(found[0].Name, cu):
				f.CustomerID, f.customer = found[0].ID, &found[0]
			default:
				names := make([]string, 0, 5)
				for i, x := range found {
					if i == 5 {
						names = append(names, "…")
						break
					}
					names = append(names, fmt.Sprintf("%s (#%d)", x.Name, x.ID))
				}
				fields["customer"] = "Several customers match: " + strings.Join(names, ", ") + ". Enter the full name or the number."
			}
		}
	}

	if cat := form.Get("category"); cat != "" {
		if _, ok := cases.Category(cat).Info(); !ok {
			fields["category"] = "Choose a category from the list."
		}
		f.Category = cases.Category(cat)
	}

	switch st := form.Get("state"); st {
	case "", "open", "all":
		f.State = st
	default:
		if !slices.Contains(cases.States, cases.State(st)) {
			fields["state"] = "Choose a state from the list."
		}
		f.State = st
	}

	if q := form.Get("queue"); q != "" {
		// An unreadable queue gets the same answer as one that does not exist.
		if !slices.Contains(readable, q) {
			fields["queue"] = "Choose one of your queues."
		}
		f.Queue = q
	}

	f.Reporter = form.Get("reporter")
	// Matching an exact email would confirm who reported what: only for those
	// who may read reporter contacts anyway.
	f.ContactVisible = contact
	f.Text = form.Get("q")

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
	if !from.IsZero() && !to.IsZero() && !from.Before(to) && fields["to"] == "" {
		fields["to"] = "The end date is before the start date."
	}
	f.From, f.To = from, to

	switch so := cases.Sort(form.Get("sort")); so {
	case cases.SortPriority, cases.SortSLA, cases.SortNewest:
		f.Sort = so
	default:
		fields["sort"] = "Sort by priority, SLA or newest."
	}

	if l := form.Get("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 1 || n > 200 {
			fields["limit"] = "Show from 1 to 200 cases a page."
		} else {
			f.Limit = n
		}
	}
	return f, fields, nil
}

// parseDay reads a YYYY-MM-DD date as the start of that day in UTC; empty is the
// zero time.
func parseDay(s string) (time.Time, bool) {
	if s == "" {
		return time.Time{}, true
	}
	t, err := time.Parse(time.DateOnly, s)
	if err != nil || t.Year() < 1970 || t.Year() > 9999 {
		return time.Time{}, false
	}
	return t.UTC(), true
}

func hostMessage(err error) string {
	var ie *intake.Error
	if errors.As(err, &ie) {
		return ie.Message
	}
	return "Enter a host name such as example.com."
}

// searchURL is /search with form's filters and, if set, the cursor.
func searchURL(form url.Values, after string) string {
	q := url.Values{}
	for _, k := range searchParams {
		if v := form.Get(k); v != "" {
			q.Set(k, v)
		}
	}
	if after != "" {
		q.Set("after", after)
	}
	return "/search?" + q.Encode()
}
