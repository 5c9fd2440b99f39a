package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestIntakeConfigErrors(t *testing.T) {
	for _, tc := range []struct{ env, value, want string }{
		{"DOCKET_RATE_LIMIT_REPORT", "ten a minute", "DOCKET_RATE_LIMIT_REPORT"},
		{"DOCKET_RATE_LIMIT_STATUS", "10/1y", "DOCKET_RATE_LIMIT_STATUS"},
		{"DOCKET_RATE_LIMIT_API", "0/1m", "DOCKET_RATE_LIMIT_API"},
		{"DOCKET_TRUSTED_PROXIES", "10.0.0.0/8,proxy.internal", "DOCKET_TRUSTED_PROXIES"},
		{"DOCKET_DUPLICATE_WINDOW", "a day", "DOCKET_DUPLICATE_WINDOW"},
	} {
		t.Run(tc.env, func(t *testing.T) {
			t.Setenv("DOCKET_DATABASE_URL", filepath.Join(t.TempDir(), "d.db"))
			t.Setenv(tc.env, tc.value)
			if _, err := docket(t, "", "migrate", "status"); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want it to name %s", err, tc.want)
			}
		})
	}
	t.Setenv("DOCKET_DATABASE_URL", filepath.Join(t.TempDir(), "d.db"))
	t.Setenv("DOCKET_TRUSTED_PROXIES", "10.0.0.0/8, 192.0.2.1, 2001:db8::/32")
	t.Setenv("DOCKET_RATE_LIMIT_API", "off")
	if out, err := docket(t, "", "migrate", "status"); err != nil {
		t.Fatalf("good intake settings refused: %v\n%s", err, out)
	}
}

// docket import sites from a file: the summary, the bad line named, and a
// second run that changes nothing.
func TestImportSitesCommand(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("DOCKET_DATABASE_URL", filepath.Join(dir, "d.db"))
	file := filepath.Join(dir, "billing.json")
	if err := os.WriteFile(file, []byte(`[
 {"external_id": "C-1", "name": "One", "plan": "pro", "hostnames": ["one.example", "www.one.example"]},
 {"external_id": "C-2", "name": "Two", "contact_email": "nope", "hostnames": ["two.example"]}
]`), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := docket(t, "", "import", "sites", "--dry-run", file)
	if err == nil || !strings.Contains(out, "would have 1 customers created") || !strings.Contains(out, "billing.json:3: contact_email") {
		t.Fatalf("dry run: %v\n%s", err, out)
	}
	out, err = docket(t, "", "import", "sites", file)
	if !strings.Contains(out, "imported 1 customers created, 0 updated, 0 unchanged; 2 hostnames added; 1 rows with errors") || err == nil {
		t.Fatalf("import: %v\n%s", err, out)
	}
	out, _ = docket(t, "", "import", "sites", file)
	if !strings.Contains(out, "0 customers created, 0 updated, 1 unchanged; 0 hostnames added") {
		t.Fatalf("second import: %s", out)
	}
	if _, err := docket(t, "", "import", "sites", filepath.Join(dir, "billing.txt")); err == nil || !strings.Contains(err.Error(), "--format") {
		t.Errorf("unknown extension: %v", err)
	}
}
