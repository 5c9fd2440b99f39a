package audit_test

import (
	"runtime"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/dockethq/docket/audit"
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
