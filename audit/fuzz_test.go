package audit_test

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/dockethq/docket/audit"
	"github.com/dockethq/docket/internal/database"
	"github.com/dockethq/docket/internal/testdb"
	"gorm.io/gorm"
)

// FuzzVerifyExport feeds VerifyExport (which reads files kept outside
// Docket, so anything at all) mutations of a real export: it must return a
// report or an error, never panic, and never call a changed file intact
// unless the change left every event and checkpoint as they were.
func FuzzVerifyExport(f *testing.F) {
	db := testdb.Open(f, database.SQLite)
	ch := audit.NewChain(db, audit.Options{})
	for i := range 3 {
		if err := db.W.Transaction(func(tx *gorm.DB) error {
			return audit.Record(tx, testTime(i), "user:1", "case.note", "case", "7", map[string]any{"i": i, "text": "<b>Zürich</b>"})
		}); err != nil {
			f.Fatal(err)
		}
	}
	ctx := context.Background()
	if _, _, err := ch.Checkpoint(ctx, false, "system:test"); err != nil {
		f.Fatal(err)
	}
	var buf bytes.Buffer
	if _, err := ch.Export(ctx, &buf, 0); err != nil {
		f.Fatal(err)
	}
	pub, err := ch.PublicKey(ctx)
	if err != nil {
		f.Fatal(err)
	}
	keys := audit.Keys{}
	keys.Add(pub)
	valid := buf.String()
	f.Add(valid)
	f.Add(strings.Replace(valid, "case.note", "case.gone", 1))
	f.Add("")
	f.Add("{}\n")
	f.Add(`{"type":"header","format":"docket-audit-export/1"}` + "\n" + `{"type":"event","event":{"seq":-1}}`)
	f.Add(`{"type":"checkpoint","checkpoint":{"seq":99999999999}}`)
	f.Fuzz(func(t *testing.T, in string) {
		rep, err := audit.VerifyExport(strings.NewReader(in), keys)
		if err != nil {
			return
		}
		if rep == nil {
			t.Fatal("no report and no error")
		}
		if rep.OK && in != valid && rep.Events == 3 && strings.Count(in, "case.note") < 3 {
			t.Fatalf("an export with an edited event verified: %q", in)
		}
	})
}

func testTime(i int) time.Time {
	return time.Date(2026, 12, 1, 10, 0, i, 123456789, time.UTC)
}
