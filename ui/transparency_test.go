package ui_test

import (
	"encoding/csv"
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"github.com/dockethq/docket/internal/database"
	"github.com/dockethq/docket/internal/testdb"
	"github.com/dockethq/docket/policy"
	"github.com/dockethq/docket/transparency"
)

func init() {
	for k, v := range map[string]map[string]outcome{
		"GET /transparency":      public,
		"GET /transparency.csv":  public,
		"GET /transparency.json": public,
	} {
		matrix[k] = v
	}
}

// readCSV parses a transparency CSV download into figure id → value, checking
// the header line.
func readCSV(t *testing.T, body string) map[string]string {
	t.Helper()
	recs, err := csv.NewReader(strings.NewReader(body)).ReadAll()
	if err != nil {
		t.Fatalf("csv: %v", err)
	}
	if len(recs) < 2 || strings.Join(recs[0], ",") != "section,key,subkey,value" {
		t.Fatalf("csv header: %v", recs[:min(len(recs), 1)])
	}
	out := map[string]string{}
	for _, r := range recs[1:] {
		id := r[0] + "/" + r[1] + "/" + r[2]
		if _, dup := out[id]; dup {
			t.Errorf("csv: figure %s twice", id)
		}
		out[id] = r[3]
	}
	return out
}

// TestTransparencyDownloadsMatchPage checks, on both databases with the demo
// data, that the page, the CSV and the JSON give the same figures, and that
// bad periods are refused with 400 and a reason.
func TestTransparencyDownloadsMatchPage(t *testing.T) {
	for _, d := range testdb.Dialects {
		t.Run(string(d), func(t *testing.T) {
			e := newEnv(t, d)
			restrictOverHTTP(t, e, e.login(policy.Reviewer))
			c := e.client()
			page := c.get("/transparency")
			if page.StatusCode != http.StatusOK {
				t.Fatalf("page: %d %s", page.StatusCode, page.Body)
			}
			doc := page.doc(t)
			csvURL, _ := doc.Find("#download-csv").Attr("href")
			jsonURL, _ := doc.Find("#download-json").Attr("href")
			res := c.get(csvURL)
			if res.StatusCode != http.StatusOK || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/csv") {
				t.Fatalf("csv %s: %d %s", csvURL, res.StatusCode, res.Header.Get("Content-Type"))
			}
			if cd := res.Header.Get("Content-Disposition"); !strings.HasPrefix(cd, "attachment;") {
				t.Errorf("csv Content-Disposition %q", cd)
			}
			figs := readCSV(t, res.Body)
			if figs["notices/total/"] == "0" || figs["notices/total/"] == "" {
				t.Errorf("the demo's notices are not counted this year: %q", figs["notices/total/"])
			}

			// Every figure on the page is in the CSV with the same value, and
			// every CSV figure but the period is on the page.
			onPage := map[string]bool{}
			doc.Find("[data-figure]").Each(func(_ int, s *goquery.Selection) {
				id, _ := s.Attr("data-figure")
				v, _ := s.Attr("data-value")
				onPage[id] = true
				if want, ok := figs[id]; !ok || want != v {
					t.Errorf("page figure %s = %q, csv %q (present %v)", id, v, want, ok)
				}
			})
			for id := range figs {
				if !onPage[id] && !strings.HasPrefix(id, "period/") {
					t.Errorf("csv figure %s is not on the page", id)
				}
			}
			if figs["decisions_by_action/restrict/total"] != "1" || figs["decisions/total/"] != "1" {
				t.Errorf("the restriction is not counted: %q of %q", figs["decisions_by_action/restrict/total"], figs["decisions/total/"])
			}
			if n := doc.Find("svg.chart").Length(); n != 5 {
				t.Errorf("%d charts, want 5", n)
			}

			// The JSON file flattens to the same rows.
			res = c.get(jsonURL)
			if res.StatusCode != http.StatusOK {
				t.Fatalf("json: %d", res.StatusCode)
			}
			var rep transparency.Report
			if err := json.Unmarshal([]byte(res.Body), &rep); err != nil {
				t.Fatal(err)
			}
			for _, r := range rep.Rows() {
				if figs[r.ID()] != r.Value {
					t.Errorf("json figure %s = %q, csv %q", r.ID(), r.Value, figs[r.ID()])
				}
			}
			if len(rep.Rows()) != len(figs) {
				t.Errorf("json has %d figures, csv %d", len(rep.Rows()), len(figs))
			}

			// The period's report is cached: a change shows in a period not
			// asked for yet, and in this one only after the cache's minute.
			if err := e.db.W.Exec("UPDATE decisions SET ground_type = 'terms' WHERE action = 'restrict'").Error; err != nil {
				t.Fatal(err)
			}
			if again := readCSV(t, c.get(csvURL).Body); again["decisions_by_action/restrict/terms"] != figs["decisions_by_action/restrict/terms"] {
				t.Errorf("cached period recomputed at once: terms %q, was %q", again["decisions_by_action/restrict/terms"], figs["decisions_by_action/restrict/terms"])
			}
			other := "/transparency.csv?from=" + time.Now().UTC().AddDate(0, 0, -7).Format("2006-01-02")
			if fresh := readCSV(t, c.get(other).Body); fresh["decisions_by_action/restrict/terms"] != "1" {
				t.Errorf("another period: restrict on terms %q, want 1", fresh["decisions_by_action/restrict/terms"])
			}

			for _, bad := range []struct{ query, field, words string }{
				{"from=2026-13-01&to=2026-12-01", "from", "not a date"},
				{"from=2025-06-01&to=2025-06-01", "to", "must be after"},
				{"from=2025-06-01&to=2025-01-01", "to", "must be after"},
				{"from=2015-01-01&to=2021-01-02", "to", "at most 5 years"},
				{"from=" + time.Now().UTC().AddDate(-1, 0, 0).Format("2006-01-02") + "&to=" + time.Now().UTC().AddDate(0, 0, 3).Format("2006-01-02"), "to", "future"},
				{"from=1999-01-01&to=2001-01-01", "from", "2000"},
			} {
				res := c.get("/transparency?" + bad.query)
				if res.StatusCode != http.StatusBadRequest {
					t.Errorf("page %s: %d, want 400", bad.query, res.StatusCode)
					continue
				}
				if msg := res.doc(t).Find("#" + bad.field + "-err").Text(); !strings.Contains(msg, bad.words) {
					t.Errorf("page %s: %s error %q, want %q", bad.query, bad.field, msg, bad.words)
				}
				if res := c.get("/transparency.csv?" + bad.query); res.StatusCode != http.StatusBadRequest || !strings.Contains(res.Body, bad.words) {
					t.Errorf("csv %s: %d %q", bad.query, res.StatusCode, res.Body)
				}
				res = c.get("/transparency.json?" + bad.query)
				var body struct {
					Error  string
					Fields map[string]string
				}
				if err := json.Unmarshal([]byte(res.Body), &body); err != nil || res.StatusCode != http.StatusBadRequest || !strings.Contains(body.Fields[bad.field], bad.words) {
					t.Errorf("json %s: %d %s", bad.query, res.StatusCode, res.Body)
				}
			}
		})
	}
}

// TestTransparencyRateLimit checks that one client cannot make the server
// compute period after period: cache misses are limited per address, cached
// periods are not.
func TestTransparencyRateLimit(t *testing.T) {
	e := newEnv(t, database.SQLite)
	c := e.client()
	// Requests for one period at once share one computation: 25 of them
	// cost one token, far below the burst of 10 misses.
	var wg sync.WaitGroup
	statuses := make([]int, 25)
	for i := range statuses {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res, err := http.Get(e.srv.URL + "/transparency.json?from=2023-01-01&to=2024-01-01")
			if err != nil {
				return
			}
			res.Body.Close()
			statuses[i] = res.StatusCode
		}()
	}
	wg.Wait()
	for i, st := range statuses {
		if st != http.StatusOK {
			t.Fatalf("concurrent request %d: %d", i, st)
		}
	}
	start := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	limited := 0
	for i := range 40 {
		q := "/transparency.json?from=" + start.AddDate(0, 0, i).Format("2006-01-02") + "&to=2025-01-01"
		res := c.get(q)
		switch res.StatusCode {
		case http.StatusOK:
		case http.StatusTooManyRequests:
			limited++
			if res.Header.Get("Retry-After") == "" {
				t.Errorf("429 without Retry-After")
			}
		default:
			t.Fatalf("%s: %d %s", q, res.StatusCode, res.Body)
		}
		if i < 9 && res.StatusCode != http.StatusOK {
			t.Fatalf("request %d refused: the burst allows 10, the concurrent requests took one", i)
		}
	}
	if limited == 0 {
		t.Fatal("40 different periods at once were all computed")
	}
	// A period already computed is served from the cache, limit or not.
	if res := c.get("/transparency.json?from=2024-01-01&to=2025-01-01"); res.StatusCode != http.StatusOK {
		t.Errorf("cached period: %d", res.StatusCode)
	}
}
