package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dockethq/docket/cases"
	"github.com/dockethq/docket/internal/database"
	"github.com/dockethq/docket/sor"
)

// TestExportSOR: `docket export sor` writes valid batches to a directory or
// stdout, names an invalid statement's fields, and keeps PUIDs across runs.
func TestExportSOR(t *testing.T) {
	dir := t.TempDir()
	dbURL := filepath.Join(dir, "d.db")
	t.Setenv("DOCKET_DATABASE_URL", dbURL)
	if out, err := docket(t, "", "migrate", "up"); err != nil {
		t.Fatalf("migrate: %v\n%s", err, out)
	}
	ctx := context.Background()
	db, err := database.Open(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	s := cases.NewService(db, time.Now)
	if _, _, err := s.AddCustomer(ctx, "test", cases.Customer{Name: "Acme"}, "acme.example", "beta.example"); err != nil {
		t.Fatal(err)
	}
	a := cases.Actor{UserID: 1, Can: func(string, string) bool { return true }}
	db.W.Exec("INSERT INTO users (id, email, name, password_hash, created_at) VALUES (1, 'r@docket.example', 'R', 'x', ?)", time.Now())
	for i, p := range []cases.Proposal{
		{Action: cases.Restrict, Grounds: "AUP 3.2", Explanation: "Phishing.", GroundType: "terms"},
		{Action: cases.Restrict, Grounds: "AUP 3.2", Explanation: "Phishing."}, // no ground type: invalid
	} {
		r, err := s.FileReport(ctx, cases.NewReport{Channel: cases.ChannelWeb, ReporterKind: cases.ReporterPublic, Category: cases.Phishing,
			URL: []string{"https://acme.example/x", "https://beta.example/y"}[i], Description: "Fake.", GoodFaith: true})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.Claim(ctx, a, r.CaseID); err != nil {
			t.Fatal(err)
		}
		if _, _, err := s.Decide(ctx, a, r.CaseID, p); err != nil {
			t.Fatal(err)
		}
	}
	db.Close()

	if _, err := docket(t, "", "export", "sor"); err == nil || !strings.Contains(err.Error(), "--since") {
		t.Errorf("without --since: %v", err)
	}
	if _, err := docket(t, "", "export", "sor", "--since", "2026-13-01"); err == nil || !strings.Contains(err.Error(), "YYYY-MM-DD") {
		t.Errorf("bad date: %v", err)
	}
	outDir := filepath.Join(dir, "out")
	os.Mkdir(outDir, 0o755)
	out, err := docket(t, "", "export", "sor", "--since", "2020-01-01", "--out", outDir)
	if err == nil || !strings.Contains(out, "decision_ground") || !strings.Contains(out, "exported 1 statements in 1 batches") {
		t.Fatalf("export: %v\n%s", err, out)
	}
	b, err := os.ReadFile(filepath.Join(outDir, "sor-20200101-0001.json"))
	if err != nil {
		t.Fatal(err)
	}
	var batch sor.Batch
	if err := json.Unmarshal(b, &batch); err != nil || len(batch.Statements) != 1 {
		t.Fatalf("batch file: %v %s", err, b)
	}
	if e := sor.ValidateBatch(batch); len(e) > 0 {
		t.Errorf("exported batch invalid: %v", e)
	}
	// stdout: one batch per line; the same PUID again.
	var stdout strings.Builder
	if err := run(ctx, []string{"export", "sor", "--since", "2020-01-01"}, strings.NewReader(""), &stdout, &strings.Builder{}); err == nil {
		t.Error("invalid statement did not fail the export")
	}
	var again sor.Batch
	if err := json.Unmarshal([]byte(strings.TrimSpace(stdout.String())), &again); err != nil || len(again.Statements) != 1 || again.Statements[0].PUID != batch.Statements[0].PUID {
		t.Errorf("stdout export: %v %q", err, stdout.String())
	}
}
