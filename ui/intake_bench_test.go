package ui_test

// Intake throughput (issue 7, DESIGN §7): POST /api/v1/reports with 64
// concurrent clients, single reports and batches of 100, on SQLite and
// PostgreSQL, against the raw INSERT rate of the same rows into the same
// database in the same run. Run by hand, not in CI:
//
//	go test -run '^$' -bench Intake -benchtime 1x -timeout 30m ./ui/
//
// DOCKET_BENCH_INTAKE_REPORTS sets the reports per measurement (default 6,400).

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/dockethq/docket/apikeys"
	"github.com/dockethq/docket/audit"
	"github.com/dockethq/docket/cases"
	"github.com/dockethq/docket/internal/database"
	"github.com/dockethq/docket/internal/testdb"
	"github.com/dockethq/docket/policy"
	"github.com/dockethq/docket/ui"
	"github.com/dockethq/docket/users"
)

const benchClients = 64

func BenchmarkIntake(b *testing.B) {
	n := 6400
	if v, err := strconv.Atoi(os.Getenv("DOCKET_BENCH_INTAKE_REPORTS")); err == nil && v > 0 {
		n = v
	}
	var table []string
	for _, d := range testdb.Dialects {
		b.Run(string(d), func(b *testing.B) {
			r := benchIntake(b, d, n)
			table = append(table, r...)
		})
	}
	fmt.Println("\n| database | measurement | reports | time | reports/s | ratio to raw |\n|---|---|---|---|---|---|")
	for _, row := range table {
		fmt.Println(row)
	}
}

type intakeBench struct {
	b        *testing.B
	db       *database.DB
	srv      *httptest.Server
	hc       *http.Client
	key      string
	reporter int64
	sites    []cases.Site
	caseOf   map[int64]int64 // site → its open spam case
	seq      atomic.Int64
}

func benchIntake(b *testing.B, d database.Dialect, n int) []string {
	ctx := context.Background()
	db := testdb.Open(b, d)
	en, err := policy.NewEnforcer(db)
	if err != nil {
		b.Fatal(err)
	}
	cs := cases.NewService(db, time.Now)
	us := users.NewService(db, en, time.Now)
	keys := apikeys.NewService(db, en, time.Now)
	s, err := ui.New(ui.Config{}, db, cs, us, en, slog.New(slog.NewTextHandler(io.Discard, nil)), time.Now)
	if err != nil {
		b.Fatal(err)
	}
	// The audit sealer runs as under docket serve (PostgreSQL), so its share
	// of the database is in the figures.
	sealCtx, stopSealer := context.WithCancel(ctx)
	b.Cleanup(stopSealer)
	go audit.RunSealer(sealCtx, db.W, time.Second, slog.New(slog.NewTextHandler(io.Discard, nil)))
	ib := &intakeBench{b: b, db: db, srv: httptest.NewServer(s.Handler()), caseOf: map[int64]int64{}}
	b.Cleanup(ib.srv.Close)
	ib.hc = &http.Client{Transport: &http.Transport{MaxIdleConns: benchClients, MaxIdleConnsPerHost: benchClients}, Timeout: 5 * time.Minute}

	// 200 customers with a site each; reports spread over them, as a flagger's
	// day spreads over many sites (one site would make every report wait for
	// one case row).
	for i := range 200 {
		_, sites, err := cs.AddCustomer(ctx, "bench", cases.Customer{Name: "Bench " + strconv.Itoa(i)}, fmt.Sprintf("site%03d.bench.example", i))
		if err != nil {
			b.Fatal(err)
		}
		ib.sites = append(ib.sites, sites...)
	}
	f, err := keys.CreateFlagger(ctx, "bench", "Bench Flagger", "bench@flagger.example")
	if err != nil {
		b.Fatal(err)
	}
	ib.reporter = f.ID
	if _, ib.key, err = keys.IssueKey(ctx, "bench", f.ID, "bench", apikeys.AllScopes); err != nil {
		b.Fatal(err)
	}
	// Open every site's case through the API, so raw inserts have cases to
	// join and the API files into existing cases as most reports do.
	ib.post(ib.batch(len(ib.sites), true))
	var rows []struct{ SiteID, ID int64 }
	db.R.Table("cases").Select("site_id, id").Scan(&rows)
	for _, r := range rows {
		ib.caseOf[r.SiteID] = r.ID
	}

	var out []string
	row := func(name string, reports int, took time.Duration, raw float64) float64 {
		rate := float64(reports) / took.Seconds()
		ratio := ""
		if raw > 0 {
			ratio = fmt.Sprintf("%.0f %%", 100*rate/raw)
		}
		out = append(out, fmt.Sprintf("| %s | %s | %d | %s | %.0f | %s |", d, name, reports, took.Round(time.Millisecond), rate, ratio))
		b.ReportMetric(rate, strings.ReplaceAll(name, " ", "_")+"/s")
		return rate
	}
	rawOne := row("raw INSERT, one row per statement (autocommit)", n, ib.raw(n, 1), 0)
	apiOne := row("POST /api/v1/reports, one report per request", n, ib.api(n, 1), rawOne)
	rawBatch := row("raw INSERT, 100 rows per transaction", n, ib.raw(n, 100), 0)
	row("POST /api/v1/reports, batches of 100", n, ib.api(n, 100), rawBatch)
	b.ReportMetric(apiOne/rawOne, "single_ratio")
	// Everything the API wrote is in an intact chain.
	ch := audit.NewChain(db, audit.Options{})
	if _, err := ch.Seal(ctx); err != nil {
		b.Fatal(err)
	}
	if rep, err := ch.Verify(ctx); err != nil || !rep.OK || rep.Pending != 0 {
		b.Fatalf("audit chain after the run: %+v %v", rep, err)
	}
	return out
}

// next returns a site and a URL no report has used, so no report is a duplicate.
func (ib *intakeBench) next() (cases.Site, string) {
	i := ib.seq.Add(1)
	site := ib.sites[int(i)%len(ib.sites)]
	return site, "https://" + site.Hostname + "/bench/" + strconv.FormatInt(i, 10)
}

func (ib *intakeBench) batch(k int, forceBatch bool) string {
	item := func() string {
		_, u := ib.next()
		return `{"category":"spam","url":"` + u + `","description":"Bulk spam landing page, seen in a mail campaign."}`
	}
	if k == 1 && !forceBatch {
		return item()
	}
	parts := make([]string, k)
	for i := range parts {
		parts[i] = item()
	}
	return `{"reports":[` + strings.Join(parts, ",") + `]}`
}

func (ib *intakeBench) post(body string) {
	req, _ := http.NewRequest(http.MethodPost, ib.srv.URL+"/api/v1/reports", strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+ib.key)
	req.Header.Set("Content-Type", "application/json")
	res, err := ib.hc.Do(req)
	if err != nil {
		ib.b.Fatal(err)
	}
	defer res.Body.Close()
	msg, _ := io.ReadAll(res.Body)
	if res.StatusCode != http.StatusCreated && res.StatusCode != http.StatusOK {
		ib.b.Fatalf("POST /api/v1/reports: %d %s", res.StatusCode, msg)
	}
}

// parallel runs n units of work (each of size k) on benchClients goroutines
// and returns the wall time.
func parallel(n, k int, work func()) time.Duration {
	var next atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	for range benchClients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for next.Add(int64(k)) <= int64(n) {
				work()
			}
		}()
	}
	wg.Wait()
	return time.Since(start)
}

func (ib *intakeBench) api(n, k int) time.Duration {
	return parallel(n, k, func() { ib.post(ib.batch(k, false)) })
}

// raw inserts the same rows the API would write into reports, k per
// transaction, from benchClients goroutines: the physical limit.
func (ib *intakeBench) raw(n, k int) time.Duration {
	key := "reporter:" + strconv.FormatInt(ib.reporter, 10)
	insert := func(tx *gorm.DB) error {
		site, u := ib.next()
		now := time.Now().UTC()
		return tx.Exec(`INSERT INTO reports (public_id, case_id, reporter_id, channel, category, url, host, site_id, description, good_faith, received_at, reporter_key, status)
			VALUES (?, ?, ?, 'api', 'spam', ?, ?, ?, ?, FALSE, ?, ?, 'filed')`,
			"RAW"+strconv.FormatInt(ib.seq.Add(1), 10)+strconv.FormatInt(now.UnixNano(), 36), ib.caseOf[site.ID], ib.reporter, u, site.Hostname, site.ID,
			"Bulk spam landing page, seen in a mail campaign.", now, key).Error
	}
	return parallel(n, k, func() {
		var err error
		if k == 1 {
			err = insert(ib.db.W)
		} else {
			err = ib.db.W.Transaction(func(tx *gorm.DB) error {
				for range k {
					if err := insert(tx); err != nil {
						return err
					}
				}
				return nil
			})
		}
		if err != nil {
			ib.b.Fatal(err)
		}
	})
}
