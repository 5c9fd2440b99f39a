package database

import (
	"strings"
	"testing"
)

func TestParseURL(t *testing.T) {
	tests := []struct {
		in      string
		dialect Dialect
		dsn     string
		err     string
	}{
		{"docket.db", SQLite, "docket.db", ""},
		{"/var/lib/docket/docket.db", SQLite, "/var/lib/docket/docket.db", ""},
		{"sqlite:data/d.db", SQLite, "data/d.db", ""},
		{"file:d.db", SQLite, "d.db", ""},
		{"postgres://u:p@db:5432/docket?sslmode=disable", Postgres, "postgres://u:p@db:5432/docket?sslmode=disable", ""},
		{"postgresql://db/docket", Postgres, "postgresql://db/docket", ""},
		{"", "", "", "empty"},
		{"  ", "", "", "empty"},
		{"mysql://root@db/docket", "", "", `scheme "mysql" is not supported`},
		{"postgres://", "", "", "not a valid postgres"},
		{"d.db?mode=memory", "", "", "not a SQLite file path"},
	}
	for _, tc := range tests {
		d, dsn, err := ParseURL(tc.in)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("ParseURL(%q) err = %v, want %q", tc.in, err, tc.err)
			}
			continue
		}
		if err != nil || d != tc.dialect || dsn != tc.dsn {
			t.Errorf("ParseURL(%q) = %q, %q, %v", tc.in, d, dsn, err)
		}
	}
}

func TestRedact(t *testing.T) {
	if got := Redact("postgres://docket:s3cret@db/docket"); strings.Contains(got, "s3cret") {
		t.Errorf("Redact kept the password: %s", got)
	}
	if got := Redact("docket.db"); got != "docket.db" {
		t.Errorf("Redact(path) = %s", got)
	}
}
