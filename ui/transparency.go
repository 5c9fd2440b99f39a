package ui

import (
	"bytes"
	"context"
	"encoding/csv"
	"html/template"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/dockethq/docket/internal/errs"
	"github.com/dockethq/docket/internal/ratelimit"
	"github.com/dockethq/docket/transparency"
)

// The transparency report is public and each period aggregates every row of
// it, so computed reports are kept for transparencyTTL per period (at most
// transparencyKeep periods), concurrent requests for one period share one
// computation, and a client may cause at most transparencyLimit computations
// (cache misses); reading a cached period costs nothing and is not limited.
const (
	transparencyTTL  = time.Minute
	transparencyKeep = 64
)

var transparencyLimit = ratelimit.Limit{Rate: 30, Per: time.Minute, Burst: 10}

func (s *Server) routesTransparency() {
	s.transparency = &transparencyCache{entries: map[string]*transparencyEntry{}}
	s.echo.GET("/transparency", s.transparencyPage)
	s.echo.GET("/transparency.csv", s.transparencyCSV)
	s.echo.GET("/transparency.json", s.transparencyJSON)
}

type transparencyCache struct {
	mu      sync.Mutex
	entries map[string]*transparencyEntry
}

type transparencyEntry struct {
	done chan struct{} // closed when rep or err is set
	rep  *transparency.Report
	err  error
	at   time.Time
}

// transparencyReport returns the report for p from the cache or computes it.
func (s *Server) transparencyReport(c echo.Context, p transparency.Period) (*transparency.Report, error) {
	ctx := c.Request().Context()
	tc, key, now := s.transparency, p.String(), s.now()
	wait := func(e *transparencyEntry) (*transparency.Report, error) {
		select {
		case <-e.done:
			return e.rep, e.err
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	// fresh returns the entry to wait for, if one is computing or young
	// enough; stale is an older finished report. Call with tc.mu held.
	fresh := func() (e, stale *transparencyEntry) {
		e, ok := tc.entries[key]
		switch {
		case !ok:
			return nil, nil
		case e.at.IsZero() || now.Sub(e.at) < transparencyTTL:
			return e, nil
		}
		return nil, e
	}
	tc.mu.Lock()
	e, stale := fresh()
	var old *transparency.Report
	if stale != nil {
		old = stale.rep
	}
	tc.mu.Unlock()
	if e != nil {
		return wait(e)
	}
	// A miss costs the client a token; the lock is not held meanwhile (the
	// store may be the database).
	if store := s.limits.Store; store != nil {
		d, err := store.Allow(ctx, "transparency:"+ratelimit.ClientKey(c.RealIP()), transparencyLimit, now)
		if err != nil {
			return nil, err
		}
		if !d.Allowed {
			if old != nil {
				return old, nil // a minute or more old, but better than a refusal
			}
			c.Response().Header().Set("Retry-After", strconv.Itoa(d.RetryAfterSeconds()))
			return nil, echo.NewHTTPError(http.StatusTooManyRequests, "Too many different periods asked for from your network in a short time; wait "+strconv.Itoa(d.RetryAfterSeconds())+" seconds, or choose one of the periods listed.")
		}
	}
	tc.mu.Lock()
	if e, _ := fresh(); e != nil { // another request started it meanwhile
		tc.mu.Unlock()
		return wait(e)
	}
	if len(tc.entries) >= transparencyKeep {
		// Drop the oldest finished entry; one still computing stays.
		var oldest string
		for k, v := range tc.entries {
			if !v.at.IsZero() && (oldest == "" || v.at.Before(tc.entries[oldest].at)) {
				oldest = k
			}
		}
		delete(tc.entries, oldest)
	}
	e = &transparencyEntry{done: make(chan struct{})}
	tc.entries[key] = e
	tc.mu.Unlock()

	// The computation outlives a client that goes away: others may wait on it.
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
	defer cancel()
	rep, err := transparency.Compute(cctx, s.db, p, now)
	tc.mu.Lock()
	e.rep, e.err, e.at = rep, err, s.now()
	if err != nil {
		delete(tc.entries, key) // the next request tries again
	}
	tc.mu.Unlock()
	close(e.done)
	return rep, err
}

// transparencyView is the page's data.
type transparencyView struct {
	Period      transparency.Period
	Report      *transparency.Report
	figures     map[string]string
	Charts      []template.HTML
	Methodology []transparency.Definition
	Presets     []transparencyPreset
	Query       string // from=…&to=… of the period shown, for the download links
}

type transparencyPreset struct {
	Label, From, To string
	Current         bool
}

// Fig is the exact value of a figure (as in the CSV file).
func (v *transparencyView) Fig(section, key, subkey string) string {
	return v.figures[section+"/"+key+"/"+subkey]
}

// Cell is a table cell holding a figure: its text grouped in thousands, the
// exact value and the figure's CSV name in data attributes (tests compare them
// with the downloads).
func (v *transparencyView) Cell(section, key, subkey string) template.HTML {
	id := section + "/" + key + "/" + subkey
	val := v.figures[id]
	return template.HTML(`<td class="num" data-figure="` + template.HTMLEscapeString(id) + `" data-value="` + template.HTMLEscapeString(val) + `">` +
		template.HTMLEscapeString(displayFigure(key, subkey, val)) + `</td>`)
}

// displayFigure formats a CSV value for people: counts with thousands
// separators, durations in days, hours and minutes, shares with a % sign.
func displayFigure(key, subkey, val string) string {
	switch {
	case val == "":
		return "—"
	case strings.HasSuffix(key, "_seconds") && subkey != "count":
		f, err := strconv.ParseFloat(val, 64)
		if err != nil {
			return val
		}
		return humanDuration(time.Duration(f * float64(time.Second)))
	case strings.HasSuffix(key, "_percent"):
		return val + " %"
	}
	n, err := strconv.ParseInt(val, 10, 64)
	if err != nil {
		return val
	}
	return thousands(n)
}

func thousands(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

// humanDuration is "2 d 3 h 4 min", "5 h 0 min", "42 s".
func humanDuration(d time.Duration) string {
	neg := d < 0
	if neg {
		d = -d
	}
	var out string
	switch days, h, m := int64(d/(24*time.Hour)), int64(d/time.Hour)%24, int64(d/time.Minute)%60; {
	case days > 0:
		out = strconv.FormatInt(days, 10) + " d " + strconv.FormatInt(h, 10) + " h " + strconv.FormatInt(m, 10) + " min"
	case h > 0:
		out = strconv.FormatInt(h, 10) + " h " + strconv.FormatInt(m, 10) + " min"
	case m > 0:
		out = strconv.FormatInt(m, 10) + " min " + strconv.FormatInt(int64(d/time.Second)%60, 10) + " s"
	default:
		out = strconv.FormatFloat(d.Seconds(), 'f', -1, 64) + " s"
	}
	if neg {
		out = "−" + out
	}
	return out
}

// transparencyPresets are links to common periods: the year to date, the
// last two calendar half-years and the last full year.
func transparencyPresets(now time.Time, cur transparency.Period) []transparencyPreset {
	now = now.UTC()
	def := transparency.Default(now)
	y := now.Year()
	half := time.Date(y, 1, 1, 0, 0, 0, 0, time.UTC)
	if now.Month() >= time.July {
		half = time.Date(y, 7, 1, 0, 0, 0, 0, time.UTC)
	}
	prev := half.AddDate(0, -6, 0)
	before := prev.AddDate(0, -6, 0)
	halfName := func(t time.Time) string {
		if t.Month() == time.January {
			return "First half of " + strconv.Itoa(t.Year())
		}
		return "Second half of " + strconv.Itoa(t.Year())
	}
	ps := []transparencyPreset{
		{Label: "Year to date", From: def.From.Format(transparency.DateLayout), To: def.To.Format(transparency.DateLayout)},
		{Label: halfName(prev), From: prev.Format(transparency.DateLayout), To: half.Format(transparency.DateLayout)},
		{Label: halfName(before), From: before.Format(transparency.DateLayout), To: prev.Format(transparency.DateLayout)},
		{Label: "Year " + strconv.Itoa(y-1), From: strconv.Itoa(y-1) + "-01-01", To: strconv.Itoa(y) + "-01-01"},
	}
	for i := range ps {
		ps[i].Current = ps[i].From == cur.From.Format(transparency.DateLayout) && ps[i].To == cur.To.Format(transparency.DateLayout)
	}
	return ps
}

func (s *Server) transparencyPeriod(c echo.Context) (transparency.Period, error) {
	q := c.QueryParams()
	return transparency.ParsePeriod(strings.TrimSpace(q.Get("from")), strings.TrimSpace(q.Get("to")), s.now())
}

// transparencyPage is GET /transparency: the report with its charts and the
// methodology. A bad period is a 400 with the form and the reason.
func (s *Server) transparencyPage(c echo.Context) error {
	v := &transparencyView{Methodology: transparency.Methodology}
	p, err := s.transparencyPeriod(c)
	v.Period = p
	if err != nil {
		e, _ := errs.As(err)
		v.Presets = transparencyPresets(s.now(), p)
		return s.render(c, http.StatusBadRequest, "transparency", view{Title: "Transparency report", Message: e.Message, Errors: e.Fields, Form: c.QueryParams(), Data: v})
	}
	rep, err := s.transparencyReport(c, p)
	if err != nil {
		return err
	}
	v.Report, v.Presets = rep, transparencyPresets(s.now(), p)
	v.Query = "from=" + rep.From + "&to=" + rep.To
	v.figures = map[string]string{}
	for _, r := range rep.Rows() {
		v.figures[r.ID()] = r.Value
	}
	v.Charts = transparencyCharts(rep)
	form := c.QueryParams()
	form.Set("from", rep.From)
	form.Set("to", rep.To)
	return s.render(c, http.StatusOK, "transparency", view{Title: "Transparency report", Form: form, Data: v})
}

// transparencyFile answers a download's bad period with 400 and the reason,
// as text for CSV and as {"error", "fields"} for JSON.
func (s *Server) transparencyFile(c echo.Context, ext string, write func(*transparency.Report) error) error {
	p, err := s.transparencyPeriod(c)
	if err != nil {
		e, _ := errs.As(err)
		if ext == "json" {
			return apiJSON(c, http.StatusBadRequest, map[string]any{"error": e.Message, "fields": e.Fields})
		}
		c.Response().Header().Set("Cache-Control", "no-store")
		return c.String(http.StatusBadRequest, e.Message+"\n")
	}
	rep, err := s.transparencyReport(c, p)
	if err != nil {
		return err
	}
	h := c.Response().Header()
	h.Set("Content-Disposition", `attachment; filename="transparency-`+rep.From+`-to-`+rep.To+`.`+ext+`"`)
	h.Set("Cache-Control", "public, max-age=60")
	return write(rep)
}

// transparencyCSV is GET /transparency.csv: section,key,subkey,value.
func (s *Server) transparencyCSV(c echo.Context) error {
	return s.transparencyFile(c, "csv", func(rep *transparency.Report) error {
		var buf bytes.Buffer
		w := csv.NewWriter(&buf)
		_ = w.Write(transparency.CSVHeader)
		for _, r := range rep.Rows() {
			_ = w.Write([]string{r.Section, r.Key, r.Subkey, r.Value})
		}
		w.Flush()
		if err := w.Error(); err != nil {
			return err
		}
		return c.Blob(http.StatusOK, "text/csv; charset=utf-8", buf.Bytes())
	})
}

// transparencyJSON is GET /transparency.json: the Report as is.
func (s *Server) transparencyJSON(c echo.Context) error {
	return s.transparencyFile(c, "json", func(rep *transparency.Report) error {
		return c.JSON(http.StatusOK, rep)
	})
}
