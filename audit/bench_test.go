package audit_test

import (
	"context"
	"io"
	"os"
	"runtime"
	"strconv"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/dockethq/docket/audit"
	"github.com/dockethq/docket/internal/database"
	"github.com/dockethq/docket/internal/testdb"
)

// BenchmarkRecord compares one audited transaction with the chain (Record)
// against the same row inserted as Record did before the chain (a plain
// insert), serially and from 16 goroutines (where PostgreSQL's commits queue
// on the chain head).
//
//	go test -run XXX -bench Record -benchtime 2000x ./audit/
func BenchmarkRecord(b *testing.B) {
	details := map[string]any{"report": "R-7Q2K9", "channel": "api", "url": "https://shop.example/login"}
	plain := func(tx *gorm.DB) error {
		return tx.Table("audit_events").Create(&struct {
			ID                                           int64
			At                                           time.Time
			Actor, Action, ObjectType, ObjectID, Details string
		}{At: time.Now().UTC(), Actor: "user:1", Action: "report.filed", ObjectType: "case", ObjectID: "7",
			Details: `{"channel":"api","report":"R-7Q2K9","url":"https://shop.example/login"}`}).Error
	}
	chained := func(tx *gorm.DB) error {
		return audit.Record(tx, time.Now(), "user:1", "report.filed", "case", "7", details)
	}
	for _, d := range testdb.Dialects {
		for _, mode := range []struct {
			name string
			fn   func(tx *gorm.DB) error
		}{{"plain", plain}, {"chain", chained}} {
			b.Run(string(d)+"/"+mode.name, func(b *testing.B) {
				db := testdb.Open(b, d)
				for b.Loop() {
					if err := db.W.Transaction(mode.fn); err != nil {
						b.Fatal(err)
					}
				}
			})
			b.Run(string(d)+"/"+mode.name+"/parallel16", func(b *testing.B) {
				db := testdb.Open(b, d)
				b.SetParallelism(max(1, 16/runtime.GOMAXPROCS(0)))
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						if err := db.W.Transaction(mode.fn); err != nil {
							b.Error(err)
							return
						}
					}
				})
			})
		}
	}
}

// TestVerifyLarge times Verify and Export on a large chain. It is a
// measurement, not a check: DOCKET_TEST_AUDIT_EVENTS=300000 runs it.
func TestVerifyLarge(t *testing.T) {
	n, _ := strconv.Atoi(os.Getenv("DOCKET_TEST_AUDIT_EVENTS"))
	if n == 0 {
		t.Skip("set DOCKET_TEST_AUDIT_EVENTS to measure")
	}
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		start := time.Now()
		const batch = 1000
		for i := 0; i < n; i += batch {
			evs := make([]audit.Event, batch)
			for j := range evs {
				evs[j] = audit.Event{At: time.Now(), Actor: "user:1", Action: "report.filed", ObjectType: "case", ObjectID: strconv.Itoa(i + j),
					Details: `{"channel":"api","report":"R-7Q2K9","url":"https://shop.example/login"}`}
			}
			if err := db.W.Transaction(func(tx *gorm.DB) error { return audit.RecordAll(tx, evs) }); err != nil {
				t.Fatal(err)
			}
		}
		t.Logf("%s: recorded %d events in %s", db.Dialect, n, time.Since(start).Round(time.Millisecond))
		ch := audit.NewChain(db, audit.Options{})
		start = time.Now()
		if sealed, err := ch.Seal(context.Background()); err != nil {
			t.Fatal(err)
		} else if sealed > 0 {
			t.Logf("%s: sealed %d events in %s (%.0f events/s)", db.Dialect, sealed, time.Since(start).Round(time.Millisecond), float64(sealed)/time.Since(start).Seconds())
		}
		rep, err := ch.Verify(context.Background())
		if err != nil || !rep.OK {
			t.Fatalf("%+v %v", rep, err)
		}
		t.Logf("%s: verified %d events in %s (%.0f events/s)", db.Dialect, rep.Events, rep.Took.Round(time.Millisecond), float64(rep.Events)/rep.Took.Seconds())
		start = time.Now()
		if _, err := ch.Export(context.Background(), io.Discard, 0); err != nil {
			t.Fatal(err)
		}
		t.Logf("%s: exported in %s", db.Dialect, time.Since(start).Round(time.Millisecond))
	})
}
