package main

import (
	"io"
	"path/filepath"
	"strings"
	"testing"
)

func TestEvidenceURLConfig(t *testing.T) {
	t.Setenv("DOCKET_DATABASE_URL", filepath.Join(t.TempDir(), "d.db"))
	t.Setenv("DOCKET_EVIDENCE_URL", "gs://bucket")
	if _, err := docket(t, "", "migrate", "status"); err == nil || !strings.Contains(err.Error(), "DOCKET_EVIDENCE_URL") || !strings.Contains(err.Error(), "not a file:// or s3:// URL") {
		t.Fatalf("gs:// URL: %v", err)
	}
	// The default sits beside the SQLite file.
	dir := t.TempDir()
	// Every other setting at its default (parse validates them all).
	c, _, err := parse("serve", []string{"--database-url", filepath.Join(dir, "x.db"), "--evidence-url", ""}, io.Discard, nil)
	if err != nil {
		t.Fatal(err)
	}
	if want := "file://" + filepath.ToSlash(filepath.Join(dir, "evidence-files")) + "?create_dir=1"; c.EvidenceURL != want {
		t.Errorf("default evidence URL %q, want %q", c.EvidenceURL, want)
	}
}
