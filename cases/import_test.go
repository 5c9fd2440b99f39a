package cases_test

import (
	"context"
	"strings"
	"testing"

	"github.com/dockethq/docket/cases"
	"github.com/dockethq/docket/internal/database"
	"github.com/dockethq/docket/internal/testdb"
)

const importCSV = `external_id,name,plan,contact_email,hostnames
B-1,Northwind,business,abuse@northwind.example,northwind.example www.NORTHWIND.example.
B-2,Bad Email,pro,not-an-email,bad.example
B-3,Takes Acme,pro,,acme.example
B-4,Bücher GmbH,free,,bücher.example;shop.xn--bcher-kva.example
`

const importJSON = `[
  {"external_id": "J-1", "name": "Json One", "hostnames": ["one.example"]},
  {"external_id": "J-2", "name": "",
   "hostnames": ["two.example"]},
  {"external_id": "J-3", "name": "Json Three", "hostnames": ["http://bad host/"]}
]`

func TestImportSites(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		s, _ := setup(t, db)
		ctx := context.Background()
		rows, err := cases.ParseImportCSV(strings.NewReader(importCSV))
		if err != nil || len(rows) != 4 {
			t.Fatalf("parse CSV: %d rows, %v", len(rows), err)
		}
		customers, sites, audits := count(t, db, "customers"), count(t, db, "sites"), count(t, db, "audit_events")
		res, err := s.Import(ctx, "test", rows, true)
		if err != nil || res.CustomersCreated != 2 || res.SitesAdded != 4 || len(res.Errors) != 2 {
			t.Fatalf("dry run: %+v, %v", res, err)
		}
		if count(t, db, "customers") != customers || count(t, db, "sites") != sites || count(t, db, "audit_events") != audits {
			t.Fatal("the dry run changed the database")
		}
		want := []string{`3: contact_email "not-an-email" is not an address`, "4: hostname acme.example belongs to another customer"}
		for i, w := range want {
			if !strings.HasPrefix(res.Errors[i].String(), w) {
				t.Errorf("error %d = %q, want it to start %q", i, res.Errors[i], w)
			}
		}
		res, err = s.Import(ctx, "test", rows, false)
		if err != nil || res.CustomersCreated != 2 || res.SitesAdded != 4 || len(res.Errors) != 2 {
			t.Fatalf("import: %+v, %v", res, err)
		}
		// The hostnames went through intake's normalization: a report finds them.
		m, err := s.Match(ctx, "https://shop.bücher.example/katalog")
		if err != nil || m.Site == nil || m.Site.Hostname != "shop.xn--bcher-kva.example" {
			t.Fatalf("match an imported IDN host: %+v %v", m, err)
		}
		if n := count(t, db, "sites WHERE hostname = 'www.northwind.example'"); n != 1 {
			t.Errorf("www.northwind.example stored %d times", n)
		}
		// Idempotent: the same file again changes nothing.
		rows, _ = cases.ParseImportCSV(strings.NewReader(importCSV))
		before := count(t, db, "audit_events")
		res, err = s.Import(ctx, "test", rows, false)
		if err != nil || res.CustomersCreated != 0 || res.CustomersUpdated != 0 || res.CustomersUnchanged != 2 || res.SitesAdded != 0 {
			t.Errorf("second import: %+v, %v", res, err)
		}
		if count(t, db, "audit_events") != before {
			t.Error("an unchanged import wrote audit events")
		}
		// A changed plan and a new hostname update the customer, audited.
		rows = []cases.ImportRow{{Line: 2, ExternalID: "B-1", Name: "Northwind", Plan: "enterprise", ContactEmail: "abuse@northwind.example", Hostnames: []string{"shop.northwind.example"}}}
		res, err = s.Import(ctx, "test", rows, false)
		if err != nil || res.CustomersUpdated != 1 || res.SitesAdded != 1 {
			t.Errorf("update: %+v, %v", res, err)
		}
		if n := count(t, db, "audit_events WHERE action = 'customer.updated'"); n != 1 {
			t.Errorf("%d customer.updated events", n)
		}

		rows, err = cases.ParseImportJSON(strings.NewReader(importJSON))
		if err != nil || len(rows) != 3 || rows[1].Line != 3 || rows[2].Line != 5 {
			t.Fatalf("parse JSON: %+v, %v", rows, err)
		}
		res, _ = s.Import(ctx, "test", rows, false)
		if res.CustomersCreated != 1 || len(res.Errors) != 2 || !strings.HasPrefix(res.Errors[0].String(), "3: name is empty") || !strings.HasPrefix(res.Errors[1].String(), `5: hostname "http://bad host/"`) {
			t.Errorf("JSON import: %+v", res)
		}
	})
}

func TestParseImportErrors(t *testing.T) {
	for _, tc := range []struct{ name, csv, json, want string }{
		{name: "empty csv", csv: "", want: "empty"},
		{name: "unknown column", csv: "external_id,name,colour\n", want: `line 1: unknown column "colour"`},
		{name: "no name column", csv: "external_id\nx\n", want: "no name column"},
		{name: "bad quote", csv: "external_id,name\nx,\"y\n", want: "line 2"},
		{name: "not an array", json: `{"external_id": "x"}`, want: "line 1: the file must be a JSON array"},
		{name: "unknown field", json: "[\n{\"external_id\": \"x\", \"colour\": 1}]", want: `line 2: unknown field "colour"`},
		{name: "syntax", json: "[\n{\"external_id\": \"x\",,}]", want: "line 2: not valid JSON"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var err error
			if tc.json != "" {
				_, err = cases.ParseImportJSON(strings.NewReader(tc.json))
			} else {
				_, err = cases.ParseImportCSV(strings.NewReader(tc.csv))
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want it to contain %q", err, tc.want)
			}
		})
	}
}

func FuzzParseImport(f *testing.F) {
	f.Add(importCSV, importJSON)
	f.Fuzz(func(t *testing.T, c, j string) {
		for _, parse := range []func() ([]cases.ImportRow, error){
			func() ([]cases.ImportRow, error) { return cases.ParseImportCSV(strings.NewReader(c)) },
			func() ([]cases.ImportRow, error) { return cases.ParseImportJSON(strings.NewReader(j)) },
		} {
			rows, err := parse()
			if err != nil {
				continue
			}
			for _, r := range rows {
				if r.Line < 1 {
					t.Fatalf("row without a line: %+v", r)
				}
			}
		}
	})
}
