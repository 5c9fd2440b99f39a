package cases

import (
	"context"
	"crypto/rand"
	"fmt"
	"strings"

	"github.com/oklog/ulid/v2"
	"gorm.io/gorm"

	"github.com/dockethq/docket/internal/errs"
)

// MaxSubmissionURLs caps the URLs of one form submission: each becomes a report.
const MaxSubmissionURLs = 50

type txKey struct{}

// outerTx is a transaction that files several reports (a submission, a group
// commit): FileReport writes in it and leaves its events to be told once the
// outer transaction has committed.
type outerTx struct {
	tx     *gorm.DB
	events []Event
}

func outer(ctx context.Context) *outerTx {
	o, _ := ctx.Value(txKey{}).(*outerTx)
	return o
}

// writer is the database handle FileReport writes with: the surrounding
// transaction when FileSubmission or a group commit put one in ctx
// (FileReport's own Transaction then becomes a savepoint, or nothing when the
// outer one disabled nesting), else the writer pool.
func (s *Service) writer(ctx context.Context) *gorm.DB {
	if o := outer(ctx); o != nil {
		return o.tx
	}
	return s.db.W.WithContext(ctx)
}

// Validate checks a report without filing it, with the same rules as FileReport.
func (n NewReport) Validate() error {
	_, err := n.validate()
	return err
}

// ValidateSubmission checks every report of a submission. The reports differ
// only in their URL, so errors on other fields are reported once; URL errors
// name the line ("Line 3: …") under the field urlField.
func ValidateSubmission(ns []NewReport, urlField string) error {
	f := map[string]string{}
	if len(ns) == 0 {
		f[urlField] = "Enter the address (URL) of the page you are reporting."
	}
	if len(ns) > MaxSubmissionURLs {
		f[urlField] = fmt.Sprintf("Send at most %d addresses in one report (this has %d); send the rest in another.", MaxSubmissionURLs, len(ns))
		ns = ns[:1]
	}
	var bad []string
	for i, n := range ns {
		err := n.Validate()
		e, ok := errs.As(err)
		if !ok {
			if err != nil {
				return err
			}
			continue
		}
		for k, msg := range e.Fields {
			if k == "url" {
				if len(ns) > 1 {
					msg = fmt.Sprintf("Line %d: %s", i+1, msg)
				}
				bad = append(bad, msg)
				continue
			}
			f[k] = msg
		}
	}
	if len(bad) > 0 {
		if len(bad) > 5 {
			bad = append(bad[:5], fmt.Sprintf("and %d more lines.", len(bad)-5))
		}
		f[urlField] = strings.Join(bad, " ")
	}
	return errs.Fields(f)
}

// NewSubmissionID returns an id for a submission (a ULID).
func (s *Service) NewSubmissionID() string {
	return ulid.MustNew(ulid.Timestamp(s.now()), rand.Reader).String()
}

// FileSubmission files several reports as one submission: all of them or none,
// in one transaction. within runs in that transaction after the reports are
// written (the form spends its challenge and records evidence there), so a
// failure there files nothing either.
func (s *Service) FileSubmission(ctx context.Context, ns []NewReport, within func(tx *gorm.DB, reports []*Report) error) ([]*Report, error) {
	if err := ValidateSubmission(ns, "url"); err != nil {
		return nil, err
	}
	var out []*Report
	o := &outerTx{}
	err := s.db.W.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		o.tx = tx
		inner := context.WithValue(ctx, txKey{}, o)
		for _, n := range ns {
			r, err := s.FileReport(inner, n)
			if err != nil {
				return err
			}
			out = append(out, r)
		}
		if within != nil {
			return within(tx, out)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	for _, ev := range o.events {
		s.committed(ev)
	}
	return out, nil
}

// SubmissionReceipts lists the receipts of every report filed with the same
// submission as the report publicID, in filing order. Anyone holding one
// receipt id filed them all.
func (s *Service) SubmissionReceipts(ctx context.Context, publicID string) ([]Receipt, error) {
	var rs []Receipt
	err := s.receipts(ctx).
		Where("reports.submission_id <> '' AND reports.submission_id = (SELECT submission_id FROM reports WHERE public_id = ?)", normReceipt(publicID)).
		Order("reports.id").Scan(&rs).Error
	return rs, err
}
