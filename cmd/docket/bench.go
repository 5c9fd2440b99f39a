package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"regexp"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/dockethq/docket/cases"
	"github.com/dockethq/docket/internal/benchgen"
	"github.com/dockethq/docket/internal/database"
	"github.com/dockethq/docket/internal/demo"
	"github.com/dockethq/docket/policy"
	"github.com/dockethq/docket/ui"
)

// benchOptions are the flags of `docket bench`.
type benchOptions struct {
	gen       benchgen.Options
	requests  int
	deepPages int
	maxTime   time.Duration
	baseline  int
	intake    int
	warmup    int
	profile   string
}

// cmdBench loads a large data set (if the database has no cases), serves the real
// UI on a loopback port, signs in as the demo reviewer and times the pages a
// reviewer uses, over HTTP, against a baseline measured in the same run.
func cmdBench(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var o benchOptions
	cfg, _, err := parse("bench", args, stderr, func(fs *flag.FlagSet) {
		fs.IntVar(&o.gen.Cases, "cases", 200_000, "cases to generate when the database has none")
		fs.IntVar(&o.gen.Reports, "reports", 1_000_000, "reports to generate (at least --cases)")
		fs.IntVar(&o.gen.Customers, "customers", 0, "customers to generate (default cases/10)")
		fs.IntVar(&o.gen.Sites, "sites", 0, "sites to generate (default cases/4)")
		fs.Int64Var(&o.gen.Seed, "seed", 1, "random seed of the data set")
		fs.IntVar(&o.requests, "requests", 200, "requests per page kind")
		fs.IntVar(&o.deepPages, "deep-pages", 20, "queue pages to follow for the deep-page measurement")
		fs.DurationVar(&o.maxTime, "max-time", 30*time.Second, "time budget per page kind; a kind stops early when it runs out")
		fs.IntVar(&o.baseline, "baseline", 500, "single-row report INSERTs for the baseline")
		fs.IntVar(&o.intake, "intake", 200, "reports to file over HTTP (POST /report) for the intake measurement; 0 to skip")
		fs.IntVar(&o.warmup, "warmup", 3, "unmeasured requests per page kind first")
		fs.StringVar(&o.profile, "cpuprofile", "", "write a CPU profile of the measured requests (server and client) to this file")
	})
	if err != nil {
		return err
	}
	a, err := open(ctx, cfg, stderr)
	if err != nil {
		return err
	}
	defer a.db.Close()
	out := func(format string, args ...any) { fmt.Fprintf(stdout, format+"\n", args...) }
	out("docket bench: %s, %d CPUs, %s, load average %s", a.db.Dialect, runtime.NumCPU(), runtime.Version(), loadavg())

	var existing int64
	if err := a.db.R.WithContext(ctx).Table("cases").Count(&existing).Error; err != nil {
		return err
	}
	if existing == 0 {
		if _, err := demo.Seed(ctx, a.db, a.users, time.Now); err != nil {
			return fmt.Errorf("demo accounts: %w", err)
		}
		o.gen.Progress = stderr
		res, err := benchgen.Generate(ctx, a.db, o.gen)
		if err != nil {
			return err
		}
		out("\n## Data set generated in %s (plan %s, write %s, sequences and VACUUM ANALYZE %s)", res.Total.Round(time.Millisecond),
			res.Plan.Round(time.Millisecond), res.Write.Round(time.Millisecond), res.Post.Round(time.Millisecond))
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		for _, t := range benchgen.Tables {
			fmt.Fprintf(tw, "  %s\t%d\n", t, res.Rows[t])
		}
		fmt.Fprintf(tw, "  total\t%d rows, %.0f rows/s written\n", res.RowsTotal(), float64(res.RowsTotal())/res.Write.Seconds())
		tw.Flush()
		out("  RSS after generating: %s", rss())
		// The generator's buffers are garbage now; give the memory back so the
		// RSS at the end reflects serving, not loading.
		runtime.GC()
		debug.FreeOSMemory()
	} else {
		out("\nThe database has %d cases: using them (bench generates only into a database without cases).", existing)
		if _, err := demo.Seed(ctx, a.db, a.users, time.Now); err != nil {
			return fmt.Errorf("bench signs in with the demo reviewer account: %w", err)
		}
	}

	b := &bench{a: a, o: o, w: stdout, out: out, rng: rand.New(rand.NewPCG(uint64(o.gen.Seed), 99))}
	if err := b.describe(ctx); err != nil {
		return err
	}
	if err := b.measureBaseline(ctx); err != nil {
		return err
	}

	// The real server, in process, on a loopback port.
	quiet := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	srv, err := ui.New(ui.Config{}, a.db, a.cases, a.users, a.enforcer, quiet, time.Now)
	if err != nil {
		return err
	}
	sctx, stop := context.WithCancel(ctx)
	ready, done := make(chan string, 1), make(chan error, 1)
	go func() { done <- srv.Serve(sctx, "127.0.0.1:0", func(addr string) { ready <- addr }) }()
	select {
	case addr := <-ready:
		b.base = "http://" + addr
	case err := <-done:
		stop()
		return err
	}
	defer func() { stop(); <-done }()

	if o.profile != "" {
		f, err := os.Create(o.profile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	if err := b.run(ctx); err != nil {
		return err
	}
	b.report()
	return nil
}

// bench holds one run's state and results.
type bench struct {
	a    *app
	o    benchOptions
	w    io.Writer
	out  func(string, ...any)
	rng  *rand.Rand
	base string

	readable     []string
	openIDs      []int64
	largest      []int64
	target       cases.Case // an open case that the intake measurement reports on
	insertP50    time.Duration
	results      []*series
	client, anon *http.Client
}

// series is the timings of one page kind.
type series struct {
	name, note string
	d          []time.Duration
	bytes      int64
	skipped    string
}

// describe prints the shape of the data and picks the cases to visit.
func (b *bench) describe(ctx context.Context) error {
	db := b.a.db.R.WithContext(ctx)
	u, err := b.a.users.ByEmail(ctx, demo.Accounts[0].Email)
	if err != nil {
		return err
	}
	for _, q := range cases.Queues {
		if ok, _ := b.a.enforcer.Allowed(policy.Subject(u.ID), "queue/"+q, "read"); ok {
			b.readable = append(b.readable, q)
		}
	}
	var counts []struct {
		Queue string
		State string
		N     int64
	}
	if err := db.Table("cases").Select("queue, state, COUNT(*) AS n").Group("queue, state").Order("queue, state").Scan(&counts).Error; err != nil {
		return err
	}
	var reports int64
	if err := db.Table("reports").Count(&reports).Error; err != nil {
		return err
	}
	b.out("\n## Data set\n  reports: %d", reports)
	tw := tabwriter.NewWriter(b.w, 0, 4, 2, ' ', 0)
	for _, c := range counts {
		fmt.Fprintf(tw, "  cases\t%s\t%s\t%d\n", c.Queue, c.State, c.N)
	}
	tw.Flush()
	if err := db.Table("cases").Where("state IN ? AND queue IN ?", cases.OpenStates, b.readable).Order("id").Pluck("id", &b.openIDs).Error; err != nil {
		return err
	}
	if err := db.Table("cases").Where("queue IN ?", b.readable).Order("report_count DESC, id").Limit(10).Pluck("id", &b.largest).Error; err != nil {
		return err
	}
	if len(b.openIDs) == 0 || len(b.largest) == 0 {
		return errors.New("bench: no open cases visible to the reviewer")
	}
	var sizes []int64
	if err := db.Table("cases").Where("id IN ?", b.largest).Order("report_count DESC").Pluck("report_count", &sizes).Error; err != nil {
		return err
	}
	b.out("  open cases the reviewer sees: %d; largest cases: %v reports", len(b.openIDs), sizes)
	// Intake target: a recent open case on a customer's site, neither huge nor
	// restricted, so filing joins it the way most reports do.
	err = db.Where("state = ? AND queue = ? AND site_id IS NOT NULL AND report_count < 10", cases.StateNew, cases.QueueGeneral).
		Order("opened_at DESC").Take(&b.target).Error
	if err != nil {
		return fmt.Errorf("bench: no open case to report on: %w", err)
	}
	if dbSize := b.size(ctx); dbSize != "" {
		b.out("  database size: %s", dbSize)
	}
	return nil
}

func (b *bench) size(ctx context.Context) string {
	var n int64
	switch b.a.db.Dialect {
	case database.Postgres:
		if b.a.db.R.WithContext(ctx).Raw(`SELECT COALESCE(SUM(pg_total_relation_size(c.oid)), 0) FROM pg_class c
			JOIN pg_namespace ns ON ns.oid = c.relnamespace WHERE ns.nspname = current_schema() AND c.relkind = 'r'`).Scan(&n).Error != nil {
			return ""
		}
	default:
		var pages, size int64
		if b.a.db.R.WithContext(ctx).Raw("PRAGMA page_count").Scan(&pages).Error != nil || b.a.db.R.WithContext(ctx).Raw("PRAGMA page_size").Scan(&size).Error != nil {
			return ""
		}
		n = pages * size
	}
	return fmt.Sprintf("%.0f MB", float64(n)/(1<<20))
}

// measureBaseline times single-row INSERTs into reports, each its own
// transaction as the app commits, then removes them again.
func (b *bench) measureBaseline(ctx context.Context) error {
	if b.o.baseline <= 0 {
		return nil
	}
	db := b.a.db.W.WithContext(ctx)
	var before, reporter int64
	if err := db.Raw("SELECT COALESCE(MAX(id), 0) FROM reports").Scan(&before).Error; err != nil {
		return err
	}
	if err := db.Raw("SELECT MAX(id) FROM reporters").Scan(&reporter).Error; err != nil {
		return err
	}
	s := &series{name: "baseline: INSERT one report (autocommit)", note: "raw SQL, no HTTP"}
	tag := strconv.FormatInt(time.Now().UnixNano(), 36)
	start := time.Now()
	for i := 0; i < b.o.baseline; i++ {
		t0 := time.Now()
		err := db.Exec(`INSERT INTO reports (public_id, case_id, reporter_id, channel, category, url, host, site_id, description, good_faith, received_at, reporter_key)
			VALUES (?, ?, ?, 'web', ?, ?, ?, ?, ?, ?, ?, ?)`,
			"BASELINE-"+tag+"-"+strconv.Itoa(i), b.target.ID, reporter, b.target.Category, "https://"+b.target.Hostname+"/baseline/"+strconv.Itoa(i),
			b.target.Hostname, b.target.SiteID, "Baseline insert for docket bench.", true, time.Now().UTC(), "reporter:"+strconv.FormatInt(reporter, 10)).Error
		if err != nil {
			return fmt.Errorf("baseline insert: %w", err)
		}
		s.d = append(s.d, time.Since(t0))
	}
	elapsed := time.Since(start)
	if err := db.Exec("DELETE FROM reports WHERE id > ? AND public_id LIKE ?", before, "BASELINE-"+tag+"-%").Error; err != nil {
		return fmt.Errorf("baseline cleanup: %w", err)
	}
	s.note = fmt.Sprintf("raw SQL, no HTTP; %.0f rows/s", float64(len(s.d))/elapsed.Seconds())
	b.insertP50 = pct(s.d, 50)
	b.results = append(b.results, s)
	return nil
}

var (
	afterRe  = regexp.MustCompile(`(?:[?&]|&amp;)after=([A-Za-z0-9_-]+)`)
	notFound = []int{http.StatusNotImplemented, http.StatusNotFound, http.StatusMethodNotAllowed}
)

func (b *bench) run(ctx context.Context) error {
	var err error
	if b.client, err = newClient(); err != nil {
		return err
	}
	if b.anon, err = newClient(); err != nil {
		return err
	}
	if err := b.login(ctx, b.client, demo.Accounts[0].Email); err != nil {
		return err
	}
	get := func(path string, want int) func() (int64, error) {
		return func() (int64, error) { return b.get(ctx, b.client, path, want) }
	}
	b.measure("GET /healthz (signed in; HTTP + session floor)", "", get("/healthz", 200))
	b.measure("GET /queue?queue=general (page 1)", "", get("/queue?queue=general", 200))

	// Walk the queue page by page, as a reviewer clicking "Next page" would.
	var deep string
	walk := &series{name: fmt.Sprintf("GET /queue pages 2–%d (walk via after=)", b.o.deepPages)}
	deadline := time.Now().Add(b.o.maxTime)
	for len(walk.d) < b.o.requests && time.Now().Before(deadline) {
		body, _, err := b.fetch(ctx, b.client, "/queue?queue=general", 200)
		if err != nil {
			return err
		}
		for page := 2; page <= b.o.deepPages; page++ {
			m := afterRe.FindSubmatch(body)
			if m == nil {
				walk.note = fmt.Sprintf("the queue ends at page %d", page-1)
				break
			}
			path := "/queue?queue=general&after=" + string(m[1])
			t0 := time.Now()
			body, _, err = b.fetch(ctx, b.client, path, 200)
			if err != nil {
				return err
			}
			walk.d = append(walk.d, time.Since(t0))
			walk.bytes += int64(len(body))
			if page == b.o.deepPages {
				deep = path
			}
		}
		if len(walk.d) == 0 {
			break
		}
	}
	b.results = append(b.results, walk)
	if deep != "" {
		b.measure(fmt.Sprintf("GET /queue page %d (after= cursor)", b.o.deepPages), "", get(deep, 200))
	}
	b.measure("GET /queue?queue=general&sort=sla (page 1)", "", get("/queue?queue=general&sort=sla", 200))
	b.measure("GET /queue?queue=general&sort=newest (page 1)", "", get("/queue?queue=general&sort=newest", 200))

	// Search: the page if it exists, else the service call the page makes,
	// timed in process.
	sample := b.sampleCase(ctx)
	searches := []struct {
		query string
		f     cases.Filter
	}{
		{"category=phishing&state=all&sort=newest", cases.Filter{Category: cases.Phishing, State: "all", Sort: cases.SortNewest}},
		{"host=" + sample.host, cases.Filter{Host: sample.host}},
		{"customer=" + url.QueryEscape(sample.customer) + "&state=all", cases.Filter{CustomerID: sample.customerID, State: "all"}},
		{"reporter=" + url.QueryEscape(sample.reporter) + "&state=all", cases.Filter{Reporter: sample.reporter, State: "all"}},
		{"q=manifesto&state=all&sort=newest", cases.Filter{Text: "manifesto", State: "all", Sort: cases.SortNewest}},
		{"q=zzqx", cases.Filter{Text: "zzqx"}},
	}
	_, status, err := b.fetch(ctx, b.client, "/search?"+searches[0].query, 0)
	if err != nil {
		return err
	}
	if slices.Contains(notFound, status) {
		b.out("  /search answers %d: timing cases.Service.Search in process instead", status)
	}
	for _, sr := range searches {
		if !slices.Contains(notFound, status) {
			b.measure("GET /search?"+sr.query, "", get("/search?"+sr.query, 200))
			continue
		}
		f := sr.f
		f.Queues, f.Limit = b.readable, 50
		b.measure("search "+sr.query, "in process: cases.Service.Search, no HTTP", func() (int64, error) {
			p, err := b.a.cases.Search(ctx, f)
			if err != nil {
				return 0, err
			}
			return int64(len(p.Items)), nil
		})
	}

	b.measure("GET /cases/:id (random open case)", "", func() (int64, error) {
		return b.get(ctx, b.client, "/cases/"+strconv.FormatInt(b.openIDs[b.rng.IntN(len(b.openIDs))], 10), 200)
	})
	i := 0
	b.measure(fmt.Sprintf("GET /cases/:id (%d largest cases)", len(b.largest)), "", func() (int64, error) {
		i++
		return b.get(ctx, b.client, "/cases/"+strconv.FormatInt(b.largest[i%len(b.largest)], 10), 200)
	})
	var versions []int
	b.a.db.R.WithContext(ctx).Table("cases").Where("id IN ?", b.largest).Order("report_count DESC, id").Pluck("version", &versions)
	b.measure("GET /cases/:id/status (poll every 10 s; largest cases)", "unchanged: 204", func() (int64, error) {
		i++
		k := i % len(b.largest)
		return b.get(ctx, b.client, fmt.Sprintf("/cases/%d/status?v=%d", b.largest[k], versions[k]), http.StatusNoContent)
	})

	// Legal and leadership see a sign-off badge on every page.
	legal, err := newClient()
	if err != nil {
		return err
	}
	if err := b.login(ctx, legal, demo.Accounts[2].Email); err != nil {
		return err
	}
	b.measure("GET /queue?queue=general as legal (with sign-off badge)", "", func() (int64, error) {
		return b.get(ctx, legal, "/queue?queue=general", 200)
	})
	b.measure("GET /signoffs as legal", "", func() (int64, error) { return b.get(ctx, legal, "/signoffs", 200) })

	if b.o.intake > 0 {
		if err := b.measureIntake(ctx); err != nil {
			return err
		}
	}
	return nil
}

// sample is what the searches look for: the site of a large case, its
// customer and a reporter's name.
type sample struct {
	host, customer, reporter string
	customerID               int64
}

func (b *bench) sampleCase(ctx context.Context) (s sample) {
	db := b.a.db.R.WithContext(ctx)
	var c cases.Case
	db.Where("site_id IS NOT NULL AND id IN ?", b.largest).Order("report_count").Take(&c)
	if c.SiteID == nil {
		c = b.target
	}
	db.Raw("SELECT registrable_domain FROM sites WHERE id = ?", *c.SiteID).Scan(&s.host)
	s.customerID = *c.CustomerID
	db.Raw("SELECT name FROM customers WHERE id = ?", s.customerID).Scan(&s.customer)
	db.Raw("SELECT name FROM reporters WHERE kind = 'public' AND name <> '' AND email = '' ORDER BY id DESC LIMIT 1").Scan(&s.reporter)
	return s
}

// measure runs fn requests times (after a warm-up), within the time budget.
func (b *bench) measure(name, note string, fn func() (int64, error)) {
	s := &series{name: name, note: note}
	b.results = append(b.results, s)
	for i := 0; i < b.o.warmup; i++ {
		if _, err := fn(); err != nil {
			s.skipped = err.Error()
			return
		}
	}
	deadline := time.Now().Add(b.o.maxTime)
	for len(s.d) < b.o.requests && time.Now().Before(deadline) {
		t0 := time.Now()
		n, err := fn()
		if err != nil {
			s.skipped = err.Error()
			return
		}
		s.d = append(s.d, time.Since(t0))
		s.bytes += n
	}
	if len(s.d) < b.o.requests {
		s.note = strings.TrimPrefix(s.note+"; stopped by --max-time", "; ")
	}
}

func (b *bench) measureSearch(ctx context.Context, name string, f cases.Filter) {
	b.measure(name, "in process: cases.Service.Search, no HTTP", func() (int64, error) {
		p, err := b.a.cases.Search(ctx, f)
		if err != nil {
			return 0, err
		}
		return int64(len(p.Items)), nil
	})
}

// measureIntake files reports through the public form over HTTP: the whole
// FileReport transaction (reporter, case lookup, counts, rescore, audit).
func (b *bench) measureIntake(ctx context.Context) error {
	if _, _, err := b.fetch(ctx, b.anon, "/report", 200); err != nil {
		return err
	}
	csrf := cookie(b.anon, b.base, "docket_csrf")
	n := 0
	b.measure("POST /report (file a report on an open case)", fmt.Sprintf("joins case %d", b.target.ID), func() (int64, error) {
		n++
		form := url.Values{"_csrf": {csrf}, "category": {string(b.target.Category)}, "good_faith": {"yes"},
			"url":         {fmt.Sprintf("https://%s/bench/%d", b.target.Hostname, n)},
			"description": {"Filed by docket bench to time the intake path."}}
		return b.post(ctx, b.anon, "/report", form, http.StatusSeeOther)
	})
	return nil
}

func newClient() (*http.Client, error) {
	jar, err := cookiejar.New(nil)
	if err != nil {
		return nil, err
	}
	return &http.Client{Jar: jar, Timeout: 5 * time.Minute, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}, nil
}

func cookie(c *http.Client, base, name string) string {
	u, _ := url.Parse(base)
	for _, k := range c.Jar.Cookies(u) {
		if k.Name == name {
			return k.Value
		}
	}
	return ""
}

// login signs in as a demo account: GET /login sets the CSRF cookie, whose
// value the form posts back.
func (b *bench) login(ctx context.Context, c *http.Client, email string) error {
	if _, _, err := b.fetch(ctx, c, "/login", 200); err != nil {
		return err
	}
	form := url.Values{"_csrf": {cookie(c, b.base, "docket_csrf")}, "email": {email}, "password": {demo.Password}}
	if _, err := b.post(ctx, c, "/login", form, http.StatusSeeOther); err != nil {
		return fmt.Errorf("sign in as %s: %w", email, err)
	}
	return nil
}

func (b *bench) get(ctx context.Context, c *http.Client, path string, want int) (int64, error) {
	body, _, err := b.fetch(ctx, c, path, want)
	return int64(len(body)), err
}

// fetch GETs path and reads the whole body; want 0 accepts any status.
func (b *bench) fetch(ctx context.Context, c *http.Client, path string, want int) ([]byte, int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, b.base+path, nil)
	if err != nil {
		return nil, 0, err
	}
	return b.do(c, req, want)
}

func (b *bench) post(ctx context.Context, c *http.Client, path string, form url.Values, want int) (int64, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, b.base+path, strings.NewReader(form.Encode()))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	body, _, err := b.do(c, req, want)
	return int64(len(body)), err
}

func (b *bench) do(c *http.Client, req *http.Request, want int) ([]byte, int, error) {
	res, err := c.Do(req)
	if err != nil {
		return nil, 0, err
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		return nil, res.StatusCode, err
	}
	if want != 0 && res.StatusCode != want {
		return body, res.StatusCode, fmt.Errorf("%s %s: status %d, want %d: %.200s", req.Method, req.URL.Path, res.StatusCode, want, body)
	}
	return body, res.StatusCode, nil
}

// report prints the results as a Markdown table.
func (b *bench) report() {
	b.out("\n## Latency (client-side round trip on loopback, sequential requests)\n")
	b.out("| page | n | p50 ms | p95 ms | p99 ms | max ms | p50 / INSERT | KB | note |")
	b.out("|---|---:|---:|---:|---:|---:|---:|---:|---|")
	for _, s := range b.results {
		if s.skipped != "" {
			b.out("| %s | – | – | – | – | – | – | – | skipped: %s |", s.name, strings.ReplaceAll(s.skipped, "|", "/"))
			continue
		}
		if len(s.d) == 0 {
			b.out("| %s | 0 | | | | | | | %s |", s.name, s.note)
			continue
		}
		ratio := "–"
		if b.insertP50 > 0 && !strings.HasPrefix(s.name, "baseline") {
			ratio = fmt.Sprintf("%.1f×", float64(pct(s.d, 50))/float64(b.insertP50))
		}
		kb := "–"
		if s.bytes > 0 && !strings.HasPrefix(s.name, "search") {
			kb = fmt.Sprintf("%.0f", float64(s.bytes)/float64(len(s.d))/1024)
		}
		b.out("| %s | %d | %s | %s | %s | %s | %s | %s | %s |", s.name, len(s.d), ms(pct(s.d, 50)), ms(pct(s.d, 95)), ms(pct(s.d, 99)),
			ms(slices.Max(s.d)), ratio, kb, s.note)
	}
	b.out("\np50 / INSERT is the p50 as a multiple of the baseline's p50 (one single-row INSERT INTO reports, committed), measured in the same run.")
	b.out("\nRSS at the end: %s; load average %s", rss(), loadavg())
}

// pct is the p-th percentile of d (nearest rank).
func pct(d []time.Duration, p float64) time.Duration {
	if len(d) == 0 {
		return 0
	}
	s := slices.Clone(d)
	slices.Sort(s)
	k := int(float64(len(s))*p/100+0.999999) - 1
	return s[min(max(k, 0), len(s)-1)]
}

func ms(d time.Duration) string {
	v := float64(d) / float64(time.Millisecond)
	if v < 10 {
		return strconv.FormatFloat(v, 'f', 2, 64)
	}
	return strconv.FormatFloat(v, 'f', 0, 64)
}

// loadavg is the 1, 5 and 15 minute load average (Linux): other work on the
// machine skews the timings.
func loadavg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if f := strings.Fields(string(b)); err == nil && len(f) >= 3 {
		return strings.Join(f[:3], " ")
	}
	return "unknown"
}

// rss reads the process's resident and peak memory from /proc (Linux).
func rss() string {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return "unknown (" + err.Error() + ")"
	}
	var cur, peak string
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			cur = strings.TrimSpace(v)
		}
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			peak = strings.TrimSpace(v)
		}
	}
	return fmt.Sprintf("VmRSS %s (peak VmHWM %s)", cur, peak)
}
