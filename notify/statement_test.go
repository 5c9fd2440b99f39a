package notify_test

import (
	"context"
	"strings"
	"testing"

	"github.com/dockethq/docket/cases"
	"github.com/dockethq/docket/internal/database"
	"github.com/dockethq/docket/internal/testdb"
	"github.com/dockethq/docket/notify"
)

// The customer's notice of a restriction contains its statement of reasons,
// written in the decision's transaction; a warning's notice has none.
func TestCustomerNoticeContainsStatement(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		f := setup(t, db, notify.Config{Mail: notify.MailConfig{Outbox: t.TempDir()}})
		acme(t, f)
		ctx := context.Background()
		r := file(t, f, "Wanda Whistleblower", "", "https://acme.example/login")
		if _, err := f.cases.Claim(ctx, f.actor, r.CaseID); err != nil {
			t.Fatal(err)
		}
		_, d, err := f.cases.Decide(ctx, f.actor, r.CaseID, cases.Proposal{Action: cases.Restrict, Grounds: "Fraud Act 2006 s. 2",
			Explanation: "A fake bank sign-in page.", GroundType: "illegal", Statement: &cases.StatementEdit{
				Facts: "Reviewed facts: a copy of a bank's sign-in page.", Ground: "Fraud Act 2006 s. 2", Explanation: "It collects passwords.",
				Scope: "EEA", ContentTypeOther: "Website", Redress: cases.DefaultRedress}})
		if err != nil {
			t.Fatal(err)
		}
		var n notify.Notice
		if err := db.R.Where("case_id = ? AND kind = ?", d.CaseID, notify.KindCustomerAction).Take(&n).Error; err != nil {
			t.Fatal(err)
		}
		for _, want := range []string{"Statement of reasons (DSA Art. 17)", "Action: service suspended for all of your sites",
			"Territorial scope: all countries of the European Economic Area", "Reviewed facts: a copy of a bank's sign-in page.",
			"Legal ground relied on: Fraud Act 2006 s. 2", "It collects passwords.", "a notice of allegedly illegal content",
			"No automated means were used", "out-of-court dispute settlement", "competent courts"} {
			if !strings.Contains(strings.Join(strings.Fields(n.Body), " "), want) {
				t.Errorf("notice lacks %q:\n%s", want, n.Body)
			}
		}
		mustNotContain(t, "customer notice", n.Body, "Wanda", "Whistleblower")

		if _, _, err := f.cases.AddCustomer(ctx, "test", cases.Customer{Name: "Beta", ContactEmail: "ops@beta.example"}, "beta.example"); err != nil {
			t.Fatal(err)
		}
		r = file(t, f, "", "", "https://beta.example/other")
		if _, err := f.cases.Claim(ctx, f.actor, r.CaseID); err != nil {
			t.Fatal(err)
		}
		_, w, err := f.cases.Decide(ctx, f.actor, r.CaseID, cases.Proposal{Action: cases.Warn, Grounds: "AUP", Explanation: "Fix it.", GroundType: "terms"})
		if err != nil {
			t.Fatal(err)
		}
		var wn notify.Notice
		if err := db.R.Where("case_id = ? AND kind = ?", w.CaseID, notify.KindCustomerAction).Take(&wn).Error; err != nil {
			t.Fatal(err)
		}
		if strings.Contains(wn.Body, "Statement of reasons (DSA") {
			t.Errorf("a warning's notice has a statement:\n%s", wn.Body)
		}
	})
}
