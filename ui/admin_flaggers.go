package ui

import (
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/dockethq/docket/apikeys"
	"github.com/dockethq/docket/internal/errs"
)

// flaggerRow is a flagger with its keys, for the admin page.
type flaggerRow struct {
	Flagger apikeys.Flagger
	Keys    []apikeys.Key
}

type adminFlaggersPage struct {
	Flaggers []flaggerRow
	Scopes   []string
	Flash    string
	// NewKey is the full key just issued, shown once on this response only.
	NewKey     string
	NewKeyFor  string
	NewKeyName string
}

func (s *Server) adminFlaggersData(c echo.Context) (adminFlaggersPage, error) {
	ctx := c.Request().Context()
	p := adminFlaggersPage{Scopes: apikeys.AllScopes, Flash: s.popFlash(c)}
	fs, err := s.keys.Flaggers(ctx)
	if err != nil {
		return p, err
	}
	keys, err := s.keys.Keys(ctx)
	if err != nil {
		return p, err
	}
	for _, f := range fs {
		row := flaggerRow{Flagger: f}
		for _, k := range keys {
			if k.ReporterID == f.ID {
				row.Keys = append(row.Keys, k)
			}
		}
		p.Flaggers = append(p.Flaggers, row)
	}
	return p, nil
}

func (s *Server) adminFlaggers(c echo.Context) error {
	p, err := s.adminFlaggersData(c)
	if err != nil {
		return err
	}
	return s.render(c, http.StatusOK, "admin_flaggers", view{Title: "Trusted flaggers", Data: p})
}

// adminFlaggersPost registers a flagger (action=create) or issues a key
// (action=issue). An issued key is shown on this response only, never again.
func (s *Server) adminFlaggersPost(c echo.Context) error {
	form, err := c.FormParams()
	if err != nil {
		return echo.NewHTTPError(http.StatusBadRequest, "The form could not be read.")
	}
	ctx := c.Request().Context()
	var (
		full, who, name string
	)
	switch form.Get("action") {
	case "create":
		var f *apikeys.Flagger
		f, err = s.keys.CreateFlagger(ctx, subject(c), form.Get("name"), form.Get("email"))
		if err == nil {
			s.flash(c, "Registered "+f.Name+". Issue a key for it below.")
			return c.Redirect(http.StatusSeeOther, "/admin/flaggers")
		}
	case "issue":
		id, perr := parseFormID(form.Get("flagger"))
		if !perr {
			err = errs.Fields(map[string]string{"flagger": "Choose a flagger."})
			break
		}
		var k *apikeys.Key
		k, full, err = s.keys.IssueKey(ctx, subject(c), id, form.Get("key_name"), form["scopes"])
		if err == nil {
			f, ferr := s.keys.Flagger(ctx, id)
			if ferr != nil {
				return ferr
			}
			who, name = f.Name, k.Name
		}
	default:
		return echo.NewHTTPError(http.StatusBadRequest, "Unknown action.")
	}
	if e, ok := errs.As(err); ok && (e.Code == errs.Invalid || e.Code == errs.Conflict || e.Code == errs.NotFound) {
		p, perr := s.adminFlaggersData(c)
		if perr != nil {
			return perr
		}
		return s.render(c, http.StatusUnprocessableEntity, "admin_flaggers", view{Title: "Trusted flaggers", Data: p, Errors: e.Fields, Message: e.Message, Form: form})
	}
	if err != nil {
		return err
	}
	p, err := s.adminFlaggersData(c)
	if err != nil {
		return err
	}
	p.NewKey, p.NewKeyFor, p.NewKeyName = full, who, name
	return s.render(c, http.StatusCreated, "admin_flaggers", view{Title: "Trusted flaggers", Data: p})
}

func (s *Server) adminFlaggerKeyRevoke(c echo.Context) error {
	id, ok := parseID(c, "id")
	if !ok {
		return echo.NewHTTPError(http.StatusNotFound)
	}
	k, err := s.keys.Revoke(c.Request().Context(), subject(c), id)
	if err != nil {
		return err
	}
	s.flash(c, "Revoked key "+k.Prefix+"… ("+k.Name+"). It no longer works.")
	return c.Redirect(http.StatusSeeOther, "/admin/flaggers")
}

func parseFormID(v string) (int64, bool) {
	id, err := strconv.ParseInt(v, 10, 64)
	return id, err == nil && id > 0
}
