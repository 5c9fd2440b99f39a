package ui_test

import (
	"fmt"
	"net/http"
	"sync"
	"testing"

	"gorm.io/gorm"

	"github.com/dockethq/docket/cases"
	"github.com/dockethq/docket/internal/testdb"
)

// Concurrent single-report requests share transactions (cases/group.go) but
// each gets its own 201 and receipt; when the shared transaction and each
// report's own retry fail, no request is answered 2xx and nothing is filed.
func TestAPIGroupCommit(t *testing.T) {
	for _, d := range testdb.Dialects {
		t.Run(string(d), func(t *testing.T) {
			e := newEnv(t, d)
			key := e.issueKey("Group Unit", "desk@group.example")
			e.serve("grouped.example")
			countReports := func() int64 {
				var n int64
				e.db.R.Table("reports").Count(&n)
				return n
			}
			post := func(n int, body func(i int) string) []*response {
				out := make([]*response, n)
				var wg sync.WaitGroup
				for i := range n {
					wg.Add(1)
					go func() {
						defer wg.Done()
						out[i] = e.bearer(key, "POST", "/api/v1/reports", body(i))
					}()
				}
				wg.Wait()
				return out
			}
			one := func(i int) string {
				return fmt.Sprintf(`{"category":"phishing","url":"https://grouped.example/login/%d","description":"A fake bank login."}`, i)
			}

			before := countReports()
			seen := map[string]bool{}
			for i, res := range post(24, one) {
				if res.StatusCode != http.StatusCreated {
					t.Fatalf("request %d: %d %s", i, res.StatusCode, res.Body)
				}
				var out reportOut
				decodeJSON(t, res, &out)
				if out.Receipt == "" || seen[out.Receipt] || out.URL != fmt.Sprintf("https://grouped.example/login/%d", i) || out.Status != "new" {
					t.Fatalf("request %d: %s", i, res.Body)
				}
				seen[out.Receipt] = true
				if got := e.bearer(key, "GET", "/api/v1/reports/"+out.Receipt, ""); got.StatusCode != http.StatusOK {
					t.Errorf("receipt %s: %d", out.Receipt, got.StatusCode)
				}
			}
			if got := countReports() - before; got != 24 {
				t.Fatalf("%d reports filed, want 24", got)
			}

			// Every transaction fails (as a crash before commit would): no
			// 2xx, for single reports and for a batch, and no rows.
			e.cases.OnReportFiled(func(tx *gorm.DB, r *cases.Report, rep *cases.Reporter) error {
				return fmt.Errorf("the disk is full")
			})
			before = countReports()
			for i, res := range post(12, func(i int) string { return one(100 + i) }) {
				if res.StatusCode != http.StatusInternalServerError {
					t.Errorf("failing request %d: %d %s", i, res.StatusCode, res.Body)
				}
			}
			batch := `{"reports":[` + one(200) + `,` + one(201) + `,` + one(202) + `]}`
			if res := e.bearer(key, "POST", "/api/v1/reports", batch); res.StatusCode != http.StatusInternalServerError {
				t.Errorf("failing batch: %d %s", res.StatusCode, res.Body)
			}
			if got := countReports(); got != before {
				t.Errorf("failed requests filed %d reports", got-before)
			}
		})
	}
}
