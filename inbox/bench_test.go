package inbox_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/dockethq/docket/inbox"
	"github.com/dockethq/docket/internal/testdb"
)

// BenchmarkIngest measures one message from bytes to a filed report: store
// whole, parse, FileReport, settle. Each iteration is a distinct message (a
// different first header line), so none is a duplicate.
//
//	go test -run '^$' -bench Ingest -benchtime 300x ./inbox/
func BenchmarkIngest(b *testing.B) {
	raw := sample(b, "xarf-abuseio-netcraft-fraud-phishing-uri.eml")
	for _, d := range testdb.Dialects {
		b.Run(string(d), func(b *testing.B) {
			db := testdb.Open(b, d)
			in := inbox.NewService(db, newCases(b, db), clock)
			ctx := context.Background()
			b.ResetTimer()
			for i := 0; b.Loop(); i++ {
				msg := append([]byte(fmt.Sprintf("X-Bench: %d\n", i)), raw...)
				res, err := in.Ingest(ctx, msg, inbox.Source{Channel: "stdin"})
				if err != nil || len(res.Receipts) != 1 {
					b.Fatalf("%v %+v", err, res)
				}
			}
		})
	}
}
