package migrations_test

import (
	"context"
	"testing"

	"github.com/dockethq/docket/internal/testdb"
	"github.com/dockethq/docket/migrations"
)

// TestReportsNullableCaseKeepsRows upgrades a database that holds reports and a
// notice pointing at one through 00017 (on SQLite a table rebuild) and checks
// that every row and the notice's reference survive, and that a report without
// a case can now be stored.
func TestReportsNullableCaseKeepsRows(t *testing.T) {
	for _, d := range testdb.Dialects {
		t.Run(string(d), func(t *testing.T) {
			ctx := context.Background()
			db := testdb.OpenEmpty(t, d)
			p, err := migrations.Provider(db)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := p.UpTo(ctx, 16); err != nil {
				t.Fatal(err)
			}
			exec := func(q string, args ...any) {
				t.Helper()
				if err := db.W.Exec(q, args...).Error; err != nil {
					t.Fatalf("%s: %v", q, err)
				}
			}
			exec(`INSERT INTO customers (id, name, created_at) VALUES (1, 'C', CURRENT_TIMESTAMP)`)
			exec(`INSERT INTO reporters (id, kind, created_at) VALUES (1, 'public', CURRENT_TIMESTAMP)`)
			exec(`INSERT INTO cases (id, group_key, hostname, category, severity, priority, queue, state, sla_due_at, opened_at, updated_at)
				VALUES (1, 'host:a.example', 'a.example', 'spam', 10, 10, 'general', 'new', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)`)
			for i, id := range []string{"R1", "R2"} {
				exec(`INSERT INTO reports (id, public_id, case_id, reporter_id, channel, category, url, host, description, good_faith, received_at, reporter_key)
					VALUES (?, ?, 1, 1, 'web', 'spam', 'https://a.example/', 'a.example', 'x', TRUE, CURRENT_TIMESTAMP, 'reporter:1')`, i+1, id)
			}
			exec(`INSERT INTO notices (kind, recipient, subject, body, case_id, report_id, state, created_at) VALUES ('report_ack', 'a@b.example', 's', 'b', 1, 2, 'pending', CURRENT_TIMESTAMP)`)
			if _, err := p.Up(ctx); err != nil {
				t.Fatalf("up: %v", err)
			}
			var n int64
			db.R.Raw(`SELECT COUNT(*) FROM reports JOIN notices ON notices.report_id = reports.id WHERE reports.public_id = 'R2' AND reports.status = 'filed'`).Scan(&n)
			if n != 1 {
				t.Errorf("after 00017: %d notices joined to report R2, want 1", n)
			}
			exec(`INSERT INTO reports (id, public_id, reporter_id, channel, category, url, host, description, good_faith, received_at, status)
				VALUES (3, 'R3', 1, 'web', 'spam', 'https://b.example/', 'b.example', 'x', TRUE, CURRENT_TIMESTAMP, 'not_hosted')`)
			if _, err := p.DownTo(ctx, 16); err != nil {
				t.Fatalf("down to 16: %v", err)
			}
			db.R.Raw(`SELECT COUNT(*) FROM reports`).Scan(&n)
			if n != 2 {
				t.Errorf("after down: %d reports, want the 2 with a case", n)
			}
		})
	}
}
