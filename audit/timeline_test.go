package audit_test

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/dockethq/docket/audit"
	"github.com/dockethq/docket/cases"
	"github.com/dockethq/docket/inbox"
	"github.com/dockethq/docket/internal/database"
	"github.com/dockethq/docket/internal/errs"
	"github.com/dockethq/docket/internal/testdb"
	"github.com/dockethq/docket/policy"
	"github.com/dockethq/docket/users"
)

func TestMain(m *testing.M) {
	testdb.FastPasswords()
	m.Run()
}

// world is two customers with a case each, one case worked by a reviewer
// (claim, notes, a warning), a csam case on the first customer's site, a
// duplicate and a not-hosted report.
type world struct {
	db              *database.DB
	acme, forum     int64 // customers
	acmeSite        int64
	caseA, caseB    int64 // acme phishing (worked), forum malware
	csam            int64 // a csam case on acme's site
	reviewer, admin int64 // users
	reportsA        []string
	notHosted       string
	mail, spam      int64 // an inbound mail and the case it filed into
	all             []audit.Event
	readable, every []string
}

func build(t *testing.T, db *database.DB) *world {
	t.Helper()
	ctx := context.Background()
	now := time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	s := cases.NewService(db, clock)
	en, err := policy.NewEnforcer(db)
	if err != nil {
		t.Fatal(err)
	}
	us := users.NewService(db, en, clock)
	w := &world{db: db, readable: []string{cases.QueueGeneral, cases.QueuePriority, cases.QueueEnterprise}}
	w.every = append(slices.Clone(w.readable), cases.QueueRestricted)
	acme, sites, err := s.AddCustomer(ctx, "test", cases.Customer{Name: "Acme"}, "acme.example")
	if err != nil {
		t.Fatal(err)
	}
	w.acme, w.acmeSite = acme.ID, sites[0].ID
	forum, _, err := s.AddCustomer(ctx, "test", cases.Customer{Name: "Forum"}, "board.example")
	if err != nil {
		t.Fatal(err)
	}
	w.forum = forum.ID
	rev, err := us.Create(ctx, "user:1", users.NewUser{Email: "rev@docket.example", Name: "Rita Reviewer", Password: "a long enough password", Roles: []string{policy.Reviewer}})
	if err != nil {
		t.Fatal(err)
	}
	adm, err := us.Create(ctx, "test", users.NewUser{Email: "adm@docket.example", Name: "Ada Admin", Password: "a long enough password", Roles: []string{policy.Admin}})
	if err != nil {
		t.Fatal(err)
	}
	w.reviewer, w.admin = rev.ID, adm.ID
	file := func(cat cases.Category, url string) *cases.Report {
		t.Helper()
		r, err := s.FileReport(ctx, cases.NewReport{Channel: cases.ChannelWeb, ReporterKind: cases.ReporterPublic, ReporterEmail: "r@example.org",
			Category: cat, URL: url, Description: `<script>alert("x")</script> it is bad`, GoodFaith: true})
		if err != nil {
			t.Fatalf("file %s: %v", url, err)
		}
		now = now.Add(time.Minute)
		return r
	}
	a1 := file(cases.Phishing, "https://acme.example/login")
	a2 := file(cases.Phishing, "https://acme.example/other")
	dup := file(cases.Phishing, "https://acme.example/login") // same reporter, same URL: a duplicate
	w.caseA, w.reportsA = a1.CaseID, []string{a1.PublicID, a2.PublicID, dup.PublicID}
	b := file(cases.Malware, "https://board.example/dl.exe")
	w.caseB = b.CaseID
	w.csam = file(cases.CSAM, "https://acme.example/img/1").CaseID
	w.notHosted = file(cases.Spam, "https://elsewhere.example/").PublicID

	// A spam report by mail joins a new acme case: the mail's own events
	// (received, filed) belong on that case's timeline.
	in := inbox.NewService(db, s, clock)
	res, err := in.Ingest(ctx, []byte(arf), inbox.Source{Channel: "stdin"})
	if err != nil || len(res.Receipts) != 1 {
		t.Fatalf("ingest: %v %+v", err, res)
	}
	w.mail = res.Mail.ID
	db.R.Table("reports").Select("case_id").Where("public_id = ?", res.Receipts[0]).Scan(&w.spam)
	now = now.Add(time.Minute)

	me := cases.Actor{UserID: rev.ID, Can: func(string, string) bool { return true }}
	if _, err := s.Claim(ctx, me, w.caseA); err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		if i > 0 { // the claim lapsed overnight
			if _, err := s.Claim(ctx, me, w.caseA); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := s.AddNote(ctx, me, w.caseA, fmt.Sprintf(`Note %d <img src=x onerror=alert(1)>`, i)); err != nil {
			t.Fatal(err)
		}
		if i < 2 {
			now = now.Add(24 * time.Hour) // notes on three days, for the date filter
		}
	}
	if _, _, err := s.Decide(ctx, me, w.caseA, cases.Proposal{Action: cases.Warn, Grounds: "AUP 2.1", Explanation: "A login page imitating a bank."}); err != nil {
		t.Fatal(err)
	}
	// The reviewer also works the csam case: their timeline must not show it
	// to a viewer without the restricted queue.
	if _, err := s.Claim(ctx, me, w.csam); err != nil {
		t.Fatal(err)
	}
	// Its warning records a strike on acme: an event about the customer that
	// names the csam case.
	if _, _, err := s.Decide(ctx, me, w.csam, cases.Proposal{Action: cases.Warn, Grounds: "AUP 1.1", Explanation: "Removed."}); err != nil {
		t.Fatal(err)
	}
	if err := db.R.Order("id").Find(&w.all).Error; err != nil {
		t.Fatal(err)
	}
	if dup.Status != cases.ReportDuplicate {
		t.Fatalf("the third report is %s, want a duplicate", dup.Status)
	}
	return w
}

const arf = `From: "FBL" <fbl@mail.example>
To: abuse@docket.example
Subject: complaint
Message-ID: <fbl-1@mail.example>
MIME-Version: 1.0
Content-Type: multipart/report; report-type=feedback-report; boundary="b"

--b
Content-Type: text/plain

A customer reported this message as spam.

--b
Content-Type: message/feedback-report

Feedback-Type: abuse
User-Agent: FBL/1
Version: 1
Reported-Uri: https://acme.example/spam

--b
Content-Type: message/rfc822

From: offers@acme.example
Subject: offer

Buy now: https://acme.example/spam

--b--
`

func ids(evs []audit.Event) []int64 {
	out := make([]int64, len(evs))
	for i, e := range evs {
		out[i] = e.ID
	}
	return out
}

// expect filters every event with keep, oldest first.
func (w *world) expect(keep func(audit.Event) bool) []int64 {
	var out []int64
	for _, e := range w.all {
		if keep(e) {
			out = append(out, e.ID)
		}
	}
	return out
}

// all reads a whole timeline page by page, small pages, and checks that the
// pages neither overlap nor leave gaps.
func (w *world) read(t *testing.T, q audit.Query) []int64 {
	t.Helper()
	q.Limit = 2
	var out []int64
	for i := 0; ; i++ {
		p, err := audit.Timeline(context.Background(), w.db.R, q)
		if err != nil {
			t.Fatal(err)
		}
		if len(p.Events) > 2 || (p.Next != 0 && len(p.Events) != 2) {
			t.Fatalf("page %d: %d events, next %d", i, len(p.Events), p.Next)
		}
		out = append(out, ids(p.Events)...)
		if p.Next == 0 {
			break
		}
		q.After = p.Next
	}
	if !q.Oldest {
		slices.Reverse(out)
	}
	return out
}

func TestTimelines(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		w := build(t, db)
		ctx := context.Background()
		caseA, caseB, csam := strconv.FormatInt(w.caseA, 10), strconv.FormatInt(w.caseB, 10), strconv.FormatInt(w.csam, 10)
		acme := strconv.FormatInt(w.acme, 10)
		site := strconv.FormatInt(w.acmeSite, 10)
		rev := strconv.FormatInt(w.reviewer, 10)

		// The case: its own events (reports, duplicate, claim, notes,
		// decision, directive) and nothing of another case.
		wantA := w.expect(func(e audit.Event) bool { return e.ObjectType == "case" && e.ObjectID == caseA })
		got := w.read(t, audit.Query{Scope: audit.ScopeCase, ID: w.caseA, Queues: w.readable})
		if !slices.Equal(got, wantA) {
			t.Errorf("case timeline %v, want %v", got, wantA)
		}
		actions := map[string]int{}
		for _, e := range w.all {
			if slices.Contains(wantA, e.ID) {
				actions[e.Action]++
			}
		}
		for _, a := range []string{"case.opened", "report.filed", "report.duplicate", "case.claim", "case.note", "case.decide"} {
			if actions[a] == 0 {
				t.Errorf("case timeline has no %s: %v", a, actions)
			}
		}
		if actions["report.filed"] != 2 || actions["case.note"] != 3 {
			t.Errorf("case timeline: %v", actions)
		}
		if got := w.read(t, audit.Query{Scope: audit.ScopeCase, ID: w.caseA, Queues: w.readable, Oldest: true}); !slices.Equal(got, wantA) {
			t.Errorf("case timeline oldest first %v, want %v", got, wantA)
		}

		// The mail that filed into the spam case is on its timeline.
		mail, spam := strconv.FormatInt(w.mail, 10), strconv.FormatInt(w.spam, 10)
		wantS := w.expect(func(e audit.Event) bool {
			return (e.ObjectType == "case" && e.ObjectID == spam) || (e.ObjectType == "inbound_mail" && e.ObjectID == mail)
		})
		mailEvents := 0
		for _, e := range w.all {
			if e.ObjectType == "inbound_mail" && e.ObjectID == mail {
				mailEvents++
			}
		}
		if got := w.read(t, audit.Query{Scope: audit.ScopeCase, ID: w.spam, Queues: w.readable}); !slices.Equal(got, wantS) || mailEvents == 0 || w.spam == w.caseA {
			t.Errorf("spam case timeline %v, want %v (%d mail events)", got, wantS, mailEvents)
		}

		// The restricted case is not found without the restricted queue.
		if _, err := audit.Describe(ctx, db.R, audit.Query{Scope: audit.ScopeCase, ID: w.csam, Queues: w.readable}); err != audit.ErrNoTimeline {
			t.Errorf("csam case without the restricted queue: %v", err)
		}
		if _, err := audit.Describe(ctx, db.R, audit.Query{Scope: audit.ScopeCase, ID: w.csam, Queues: w.every, Restricted: true}); err != nil {
			t.Errorf("csam case with the restricted queue: %v", err)
		}
		for _, q := range []audit.Query{{Scope: audit.ScopeUser, ID: 999999}, {Scope: audit.ScopeCustomer, ID: 999999}, {Scope: audit.ScopeCase, ID: 999999, Queues: w.every}} {
			if _, err := audit.Describe(ctx, db.R, q); err != audit.ErrNoTimeline {
				t.Errorf("%s 999999: %v", q.Scope, err)
			}
		}

		// The user: what they did and what was done to them, without the
		// csam case unless the viewer reads the restricted queue.
		userEv := func(e audit.Event) bool {
			return e.Actor == "user:"+rev || (e.ObjectType == "user" && e.ObjectID == rev)
		}
		wantU := w.expect(func(e audit.Event) bool { return userEv(e) && !(e.ObjectType == "case" && e.ObjectID == csam) })
		if got := w.read(t, audit.Query{Scope: audit.ScopeUser, ID: w.reviewer, Queues: w.readable}); !slices.Equal(got, wantU) {
			t.Errorf("user timeline %v, want %v", got, wantU)
		}
		wantUAll := w.expect(userEv)
		if got := w.read(t, audit.Query{Scope: audit.ScopeUser, ID: w.reviewer, Queues: w.every, Restricted: true}); !slices.Equal(got, wantUAll) || len(wantUAll) <= len(wantU)+1 {
			t.Errorf("user timeline with restricted %v, want %v", got, wantUAll)
		}
		var created bool
		for _, e := range w.all {
			if slices.Contains(wantU, e.ID) && e.Action == "user.created" && e.Actor == "user:1" {
				created = true
			}
		}
		if !created {
			t.Errorf("the user's timeline lacks their account's creation")
		}

		// The customer: itself, its sites, its cases; not the other
		// customer's, not the csam case (nor its events) without the queue.
		custEv := func(e audit.Event) bool {
			return (e.ObjectType == "customer" && e.ObjectID == acme) || (e.ObjectType == "site" && e.ObjectID == site) ||
				(e.ObjectType == "case" && (e.ObjectID == caseA || e.ObjectID == csam || e.ObjectID == spam)) ||
				(e.ObjectType == "inbound_mail" && e.ObjectID == mail)
		}
		strikes := 0
		wantC := w.expect(func(e audit.Event) bool {
			if e.Action == "strike.recorded" {
				strikes++
				if strings.Contains(e.Details, `"case":`+csam+",") {
					return false
				}
			}
			return custEv(e) && e.ObjectID != csam
		})
		if strikes != 2 {
			t.Errorf("%d strikes, want 2", strikes)
		}
		if got := w.read(t, audit.Query{Scope: audit.ScopeCustomer, ID: w.acme, Queues: w.readable}); !slices.Equal(got, wantC) {
			t.Errorf("customer timeline %v, want %v", got, wantC)
		}
		if got := w.read(t, audit.Query{Scope: audit.ScopeCustomer, ID: w.acme, Queues: w.every, Restricted: true}); !slices.Equal(got, w.expect(custEv)) {
			t.Errorf("customer timeline with restricted %v, want %v", got, w.expect(custEv))
		}
		for _, e := range w.all {
			if e.ObjectID == caseB && slices.Contains(wantC, e.ID) {
				t.Errorf("acme's timeline shows forum's case: %+v", e)
			}
		}

		// Filters, each against the same oracle.
		day2 := time.Date(2026, 11, 21, 0, 0, 0, 0, time.UTC)
		for name, c := range map[string]struct {
			q    audit.Query
			keep func(audit.Event) bool
		}{
			"action prefix": {audit.Query{Action: "case."}, func(e audit.Event) bool { return len(e.Action) > 5 && e.Action[:5] == "case." }},
			"action exact":  {audit.Query{Action: "Case.Note"}, func(e audit.Event) bool { return e.Action == "case.note" }},
			"action like":   {audit.Query{Action: "case%"}, func(e audit.Event) bool { return false }},
			"actor":         {audit.Query{Actor: "user:" + rev}, func(e audit.Event) bool { return e.Actor == "user:"+rev }},
			"actor prefix":  {audit.Query{Actor: "reporter:"}, func(e audit.Event) bool { return len(e.Actor) > 9 && e.Actor[:9] == "reporter:" }},
			"system":        {audit.Query{Actor: "system"}, func(e audit.Event) bool { return e.Actor == "system" }},
			"object type":   {audit.Query{ObjectType: "case"}, func(e audit.Event) bool { return e.ObjectType == "case" }},
			"dates": {audit.Query{From: day2, To: day2.AddDate(0, 0, 1)}, func(e audit.Event) bool {
				return !e.At.Before(day2) && e.At.Before(day2.AddDate(0, 0, 1))
			}},
		} {
			q := c.q
			q.Scope, q.ID, q.Queues = audit.ScopeCase, w.caseA, w.readable
			want := w.expect(func(e audit.Event) bool { return slices.Contains(wantA, e.ID) && c.keep(e) })
			if got := w.read(t, q); !slices.Equal(got, want) {
				t.Errorf("%s: %v, want %v", name, got, want)
			}
			if name == "dates" && len(want) != 2 {
				t.Errorf("dates: %d events, want that day's claim and note", len(want))
			}
			// The export is the same view, whole.
			var exp []int64
			if more, err := audit.Each(ctx, db.R, q, func(e audit.Event) error { exp = append(exp, e.ID); return nil }); err != nil || more != 0 {
				t.Fatal(err, more)
			}
			slices.Reverse(exp)
			if !slices.Equal(exp, want) {
				t.Errorf("%s export: %v, want %v", name, exp, want)
			}
		}

		// An export stops at the limit and says where to continue.
		defer func(n int) { audit.ExportLimit = n }(audit.ExportLimit)
		audit.ExportLimit = 3
		var first []int64
		more, err := audit.Each(ctx, db.R, audit.Query{Scope: audit.ScopeCase, ID: w.caseA, Queues: w.readable, Oldest: true},
			func(e audit.Event) error { first = append(first, e.ID); return nil })
		if err != nil || more != wantA[2] || !slices.Equal(first, wantA[:3]) {
			t.Errorf("limited export: %v more %d, want %v more %d", first, more, wantA[:3], wantA[2])
		}

		// Bad filters are refused with their field.
		for field, q := range map[string]audit.Query{
			"to":    {From: day2, To: day2},
			"limit": {Limit: audit.MaxPage + 1},
			"scope": {Scope: "site"},
		} {
			if q.Scope == "" {
				q.Scope = audit.ScopeCase
			}
			q.ID, q.Queues = w.caseA, w.readable
			_, err := audit.Timeline(ctx, db.R, q)
			if e, ok := errs.As(err); !ok || e.Code != errs.Invalid || e.Fields[field] == "" {
				t.Errorf("%s: %v", field, err)
			}
		}
	})
}

func TestDetailList(t *testing.T) {
	e := audit.Event{Details: `{"b":"<b>x</b>","a":1,"c":{"d":[1,2]},"n":null}`}
	got := e.DetailList()
	want := []audit.Detail{{Key: "a", Value: "1"}, {Key: "b", Value: "<b>x</b>"}, {Key: "c", Value: `{"d":[1,2]}`}, {Key: "n", Value: "null"}}
	if !slices.Equal(got, want) {
		t.Errorf("%v, want %v", got, want)
	}
	if got := (audit.Event{Details: "not json"}).DetailList(); len(got) != 1 || got[0].Value != "not json" {
		t.Errorf("not json: %v", got)
	}
}
