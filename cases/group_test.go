package cases_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"gorm.io/gorm"

	"github.com/dockethq/docket/cases"
	"github.com/dockethq/docket/internal/database"
	"github.com/dockethq/docket/internal/errs"
	"github.com/dockethq/docket/internal/testdb"
)

// Concurrent single reports through the group commit are each filed once,
// with their own receipt, and the case counts add up.
func TestFileReportGroupedConcurrent(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		s, _ := setup(t, db)
		serve(t, s, "g%d.example", 4)
		var mu sync.Mutex
		txs := map[*sql.Tx]int{}
		s.OnReportFiled(func(tx *gorm.DB, r *cases.Report, rep *cases.Reporter) error {
			mu.Lock()
			defer mu.Unlock()
			if stx, ok := tx.Statement.ConnPool.(*sql.Tx); ok {
				txs[stx]++
			} else {
				t.Errorf("the hook got no *sql.Tx but %T", tx.Statement.ConnPool)
			}
			return nil
		})
		var events int
		s.OnCommitted(func(ev cases.Event) {
			mu.Lock()
			events++
			mu.Unlock()
		})
		before := count(t, db, "reports")
		const n = 40
		reps := make([]*cases.Report, n)
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				reps[i], errs[i] = s.FileReportGrouped(context.Background(), report(cases.Phishing, fmt.Sprintf("https://g%d.example/p/%d", i%4, i)))
			}()
		}
		wg.Wait()
		seen := map[string]bool{}
		for i := range n {
			if errs[i] != nil {
				t.Fatalf("report %d: %v", i, errs[i])
			}
			if reps[i].PublicID == "" || seen[reps[i].PublicID] {
				t.Fatalf("report %d: receipt %q missing or repeated", i, reps[i].PublicID)
			}
			seen[reps[i].PublicID] = true
			if want := fmt.Sprintf("https://g%d.example/p/%d", i%4, i); reps[i].URL != want {
				t.Errorf("report %d answered with another's report: %s", i, reps[i].URL)
			}
		}
		if got := count(t, db, "reports") - before; got != n {
			t.Errorf("%d reports written, want %d", got, n)
		}
		var sum int64
		db.R.Table("cases").Where("hostname LIKE 'g%.example'").Select("COALESCE(SUM(report_count), 0)").Scan(&sum)
		if sum != n {
			t.Errorf("the cases count %d reports, want %d", sum, n)
		}
		if events != n {
			t.Errorf("observers heard of %d reports, want %d", events, n)
		}
		t.Logf("%d reports in %d transactions", n, len(txs))
	})
}

// In a group, a report that fails (here: its hook) fails alone; the others
// are filed, and an invalid one gets its field errors without being written.
func TestFileReportsOneFailureFailsAlone(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		s, _ := setup(t, db)
		serve(t, s, "f%d.example", 3)
		boom := errors.New("boom")
		s.OnReportFiled(func(tx *gorm.DB, r *cases.Report, rep *cases.Reporter) error {
			if strings.HasSuffix(r.URL, "/bad") {
				return boom
			}
			return nil
		})
		ns := []cases.NewReport{
			report(cases.Spam, "https://f0.example/1"),
			report(cases.Spam, "https://f1.example/bad"),
			report(cases.Spam, "not a url"),
			report(cases.Spam, "https://f2.example/3"),
			report(cases.Spam, "https://f0.example/4"),
		}
		before := count(t, db, "reports")
		audits := count(t, db, "audit_events")
		reps, errors_ := s.FileReports(context.Background(), ns)
		for _, i := range []int{0, 3, 4} {
			if errors_[i] != nil || reps[i] == nil || reps[i].URL != ns[i].URL {
				t.Errorf("report %d: %v %+v", i, errors_[i], reps[i])
			}
		}
		if !errors.Is(errors_[1], boom) || reps[1] != nil {
			t.Errorf("the failing report: %v %+v", errors_[1], reps[1])
		}
		if e, ok := errs.As(errors_[2]); !ok || e.Code != errs.Invalid || e.Fields["url"] == "" || reps[2] != nil {
			t.Errorf("the invalid report: %v", errors_[2])
		}
		if got := count(t, db, "reports") - before; got != 3 {
			t.Errorf("%d reports written, want 3", got)
		}
		// Each filed report audited once (the rolled-back group left nothing).
		var filed int64
		db.R.Table("audit_events").Where("action = 'report.filed' AND id > ?", audits).Count(&filed)
		if filed != 3 {
			t.Errorf("%d report.filed events, want 3", filed)
		}
	})
}

// When every report of a group fails, nothing at all is written and every
// caller gets its error.
func TestFileReportsRollbackFilesNothing(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		s, _ := setup(t, db)
		serve(t, s, "r%d.example", 2)
		boom := errors.New("disk on fire")
		s.OnReportFiled(func(tx *gorm.DB, r *cases.Report, rep *cases.Reporter) error { return boom })
		tables := []string{"reports", "reporters", "cases", "audit_events", "forward_choices"}
		before := make([]int64, len(tables))
		for i, tb := range tables {
			before[i] = count(t, db, tb)
		}
		var ns []cases.NewReport
		for i := range 10 {
			ns = append(ns, report(cases.Malware, fmt.Sprintf("https://r%d.example/%d", i%2, i)))
		}
		reps, errs_ := s.FileReports(context.Background(), ns)
		for i := range ns {
			if !errors.Is(errs_[i], boom) || reps[i] != nil {
				t.Errorf("report %d: %v %+v", i, errs_[i], reps[i])
			}
		}
		var wg sync.WaitGroup
		for i := range 10 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if rep, err := s.FileReportGrouped(context.Background(), ns[i]); !errors.Is(err, boom) || rep != nil {
					t.Errorf("grouped report %d: %v %+v", i, err, rep)
				}
			}()
		}
		wg.Wait()
		for i, tb := range tables {
			if got := count(t, db, tb); got != before[i] {
				t.Errorf("%s: %d rows, had %d", tb, got, before[i])
			}
		}
	})
}

// A batch is filed in one transaction; the report hooks get that transaction's plain
// *sql.Tx (notify inserts River jobs through it), one and the same for every
// report of the batch, and what they write commits with the reports.
func TestFileReportsHooksGetTheGroupsSQLTx(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		s, _ := setup(t, db)
		serve(t, s, "h%d.example", 2)
		txs := map[*sql.Tx]int{}
		s.OnReportFiled(func(tx *gorm.DB, r *cases.Report, rep *cases.Reporter) error {
			stx, ok := tx.Statement.ConnPool.(*sql.Tx)
			if !ok {
				return fmt.Errorf("the hook got no *sql.Tx but %T", tx.Statement.ConnPool)
			}
			txs[stx]++
			// Written through the *sql.Tx itself, as River does.
			q := "INSERT INTO rate_limits (key, tat) VALUES (?, 1)"
			if db.Dialect == database.Postgres {
				q = "INSERT INTO rate_limits (key, tat) VALUES ($1, 1)"
			}
			_, err := stx.Exec(q, "hooktest:"+r.PublicID)
			return err
		})
		var ns []cases.NewReport
		for i := range 6 {
			ns = append(ns, report(cases.Spam, fmt.Sprintf("https://h%d.example/x/%d", i%2, i)))
		}
		reps, errors_ := s.FileReports(context.Background(), ns)
		for i := range ns {
			if errors_[i] != nil || reps[i] == nil {
				t.Fatalf("report %d: %v", i, errors_[i])
			}
		}
		if len(txs) != 1 {
			t.Errorf("the hooks ran in %d transactions, want the batch's one", len(txs))
		}
		var written int64
		db.R.Table("rate_limits").Where("key LIKE 'hooktest:%'").Count(&written)
		if written != int64(len(ns)) {
			t.Errorf("%d rows written by the hooks committed, want %d", written, len(ns))
		}
	})
}
