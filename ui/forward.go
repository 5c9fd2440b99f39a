package ui

// Forwarding (issue 8): the reporter's choices on the public form, the
// customer's response page behind a signed link (no account), the case page's
// record of what was forwarded and answered, hotline exports for legal, and a
// site's origin host for admins.

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"net/url"
	"sort"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/dockethq/docket/cases"
	"github.com/dockethq/docket/internal/errs"
	"github.com/dockethq/docket/internal/signedlink"
	"github.com/dockethq/docket/notify"
)

func init() {
	actionLabels["case.forwarded"] = "Forwarded"
	actionLabels["case.await_customer"] = "Waiting for the customer’s response"
	actionLabels["case.customer_respond"] = "The customer responded"
	actionLabels["case.response_window_expired"] = "No response from the customer: back to the top of the queue"
	actionLabels["site.origin_set"] = "Origin host set"
	funcs["recipientLabel"] = recipientLabel
	funcs["responseKindLabel"] = cases.ResponseKindLabel
	funcs["forwardChoices"] = forwardChoiceOptions
	funcs["recipients"] = func() []cases.Recipient { return cases.Recipients }
	funcs["forwardField"] = cases.ForwardField
}

// routesForward registers the forwarding routes (called at the end of routes).
func (s *Server) routesForward() {
	if s.links == nil {
		l, err := signedlink.Load(context.Background(), s.db, s.now)
		if err != nil {
			s.log.Error("signed links unavailable: response links will not open", "err", err)
		}
		s.links = l
	}
	s.echo.GET("/respond/:token", s.respondForm)
	s.echo.POST("/respond/:token", s.respondSubmit)
	s.echo.GET("/hotline-exports/:id", s.hotlineExport)
	s.echo.POST("/sites/:id/origin", s.siteOrigin)
	s.echo.GET("/admin/response-windows", s.adminWindows)
	s.echo.POST("/admin/response-windows", s.adminWindowsSave)
}

func recipientLabel(r cases.Recipient) string {
	switch r {
	case cases.RecipientCustomer:
		return "the site’s owner (our customer)"
	case cases.RecipientOrigin:
		return "the origin hosting provider"
	case cases.RecipientHotline:
		return "the national child abuse hotline"
	}
	return string(r)
}

type choiceOption struct {
	Value cases.ForwardChoice
	Label string
}

func forwardChoiceOptions() []choiceOption {
	return []choiceOption{
		{cases.Send, "Send, with my name and email"},
		{cases.SendAnonymously, "Send without my name"},
		{cases.DoNotSend, "Do not send"},
	}
}

// forwardFromForm reads the form's forwarding choices (empty: the defaults).
func forwardFromForm(form url.Values) cases.ForwardChoices {
	return cases.ForwardChoices{
		Customer: cases.ForwardChoice(form.Get(cases.ForwardField(cases.RecipientCustomer))),
		Origin:   cases.ForwardChoice(form.Get(cases.ForwardField(cases.RecipientOrigin))),
		Hotline:  cases.ForwardChoice(form.Get(cases.ForwardField(cases.RecipientHotline))),
	}
}

// apiForward is the API's optional "forward" object.
type apiForward struct {
	Customer string `json:"customer"`
	Origin   string `json:"origin"`
	Hotline  string `json:"hotline"`
}

func (f *apiForward) choices() cases.ForwardChoices {
	if f == nil {
		return cases.ForwardChoices{}
	}
	return cases.ForwardChoices{Customer: cases.ForwardChoice(f.Customer), Origin: cases.ForwardChoice(f.Origin), Hotline: cases.ForwardChoice(f.Hotline)}
}

// respondPage is the customer's response page.
type respondPage struct {
	P     *cases.ResponsePage
	Kinds []string
	Done  bool
}

// respondCase checks the link and returns the case it opens. An expired link is
// 410 and a bad one 404, each with a page saying what to do; nothing changes.
func (s *Server) respondCase(c echo.Context) (int64, error) {
	if s.links == nil {
		return 0, echo.NewHTTPError(http.StatusServiceUnavailable, "Response links are unavailable right now. Reply to our message instead.")
	}
	id, _, err := s.links.Verify(notify.RespondPurpose, c.Param("token"))
	switch {
	case errors.Is(err, signedlink.ErrExpired):
		return 0, echo.NewHTTPError(http.StatusGone, "This link has expired. Reply to the message we sent you, quoting its reference, and we will attach your answer.")
	case err != nil:
		return 0, echo.NewHTTPError(http.StatusNotFound, "This link is not valid. Copy the whole link from our message, or reply to the message instead.")
	}
	return id, nil
}

func (s *Server) respondForm(c echo.Context) error {
	id, err := s.respondCase(c)
	if err != nil {
		return err
	}
	return s.renderRespond(c, http.StatusOK, id, view{Title: "Respond to an abuse report", Form: c.Request().URL.Query()}, c.QueryParam("done") == "1")
}

func (s *Server) renderRespond(c echo.Context, status int, id int64, v view, done bool) error {
	p, err := s.cases.ForResponse(c.Request().Context(), id)
	if err != nil {
		return err
	}
	v.Data = respondPage{P: p, Kinds: cases.ResponseKinds, Done: done}
	// The link is the credential: keep it out of other sites' logs.
	c.Response().Header().Set("Referrer-Policy", "no-referrer")
	c.Response().Header().Set("Cache-Control", "no-store")
	return s.render(c, status, "respond", v)
}

func (s *Server) respondSubmit(c echo.Context) error {
	id, err := s.respondCase(c)
	if err != nil {
		return err
	}
	form, err := c.FormParams()
	if err != nil {
		return echo.NewHTTPError(http.StatusBadRequest, "The form could not be read. Reload the page and try again.")
	}
	sum := sha256.Sum256([]byte(c.Param("token")))
	_, err = s.cases.Respond(c.Request().Context(), id, hex.EncodeToString(sum[:]), form.Get("kind"), form.Get("body"))
	if e, ok := errs.As(err); ok && e.Code == errs.Invalid {
		return s.renderRespond(c, http.StatusUnprocessableEntity, id, view{Title: "Respond to an abuse report", Errors: e.Fields, Message: e.Message, Form: form}, false)
	}
	if errors.Is(err, cases.ErrTooManyResponses) {
		return echo.NewHTTPError(http.StatusTooManyRequests, cases.ErrTooManyResponses.Message)
	}
	if err != nil {
		var te *cases.TransitionError
		if errors.As(err, &te) {
			return echo.NewHTTPError(http.StatusConflict, "We have already decided this case, so it no longer takes answers here. To contest the decision, follow the appeal instructions in our notice.")
		}
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/respond/"+url.PathEscape(c.Param("token"))+"?done=1")
}

// hotlineExport downloads a csam report's hotline export (legal).
func (s *Server) hotlineExport(c echo.Context) error {
	id, ok := parseID(c, "id")
	if !ok {
		return echo.NewHTTPError(http.StatusNotFound)
	}
	h, err := s.cases.GetHotlineExport(c.Request().Context(), id, s.readableQueues(c))
	if err != nil {
		return err
	}
	c.Response().Header().Set("Content-Disposition", `attachment; filename="hotline-export-`+strconv.FormatInt(h.ID, 10)+`.json"`)
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.Blob(http.StatusOK, "application/json; charset=utf-8", []byte(h.Payload))
}

// siteOrigin sets a site's origin host and abuse address (admins), back on the
// customer's page.
func (s *Server) siteOrigin(c echo.Context) error {
	id, ok := parseID(c, "id")
	if !ok {
		return echo.NewHTTPError(http.StatusNotFound)
	}
	form, err := c.FormParams()
	if err != nil {
		return echo.NewHTTPError(http.StatusBadRequest, "The form could not be read. Reload the page and try again.")
	}
	site, err := s.cases.SetSiteOrigin(c.Request().Context(), subject(c), id, form.Get("origin_host"), form.Get("origin_abuse_email"))
	if err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/customers/"+strconv.FormatInt(site.CustomerID, 10))
}

// withForwarding adds a case's forwards and customer responses to its timeline
// (the audit events for them are shown this way instead).
func (s *Server) withForwarding(ctx context.Context, caseID int64, t []entry) (*cases.Forwarding, []entry, error) {
	f, err := s.cases.Forwarding(ctx, caseID)
	if err != nil {
		return nil, t, err
	}
	out := t[:0:0]
	for _, e := range t {
		if e.Kind == "event" && (e.Event == "case.forwarded" || e.Event == "case.customer_respond" || e.Event == "case.response_expired") {
			continue
		}
		out = append(out, e)
	}
	for i := range f.Forwards {
		out = append(out, entry{At: f.Forwards[i].CreatedAt, Kind: "forward", Forward: &f.Forwards[i]})
	}
	for i := range f.Responses {
		out = append(out, entry{At: f.Responses[i].CreatedAt, Kind: "response", Response: &f.Responses[i]})
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].At.Before(out[j].At) })
	return f, out, nil
}
