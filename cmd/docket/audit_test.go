package main

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dockethq/docket/internal/database"
	"github.com/dockethq/docket/internal/testdb"
)

// exitStatus runs this test binary as the docket command and returns its
// exit status and output.
func exitStatus(t *testing.T, env []string, args ...string) (int, string) {
	t.Helper()
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), append(env, "DOCKET_TEST_RUN_MAIN=1")...)
	out, err := cmd.CombinedOutput()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.ExitCode(), string(out)
	}
	if err != nil {
		t.Fatal(err)
	}
	return 0, string(out)
}

func TestAuditVerifyCommand(t *testing.T) {
	for _, d := range testdb.Dialects {
		t.Run(string(d), func(t *testing.T) {
			dir := t.TempDir()
			url := filepath.Join(dir, "docket.db")
			if d == database.Postgres {
				_, url = testdb.PostgresSchema(t)
			}
			t.Setenv("DOCKET_DATABASE_URL", url)
			env := []string{"DOCKET_DATABASE_URL=" + url}
			if out, err := docket(t, "", "seed-demo"); err != nil {
				t.Fatalf("seed-demo: %v\n%s", err, out)
			}
			if st, out := exitStatus(t, env, "audit", "verify"); st != 0 || !strings.Contains(out, "audit chain intact") {
				t.Fatalf("verify an untouched chain: status %d\n%s", st, out)
			}
			out, err := docket(t, "", "audit", "checkpoint")
			if err != nil || !strings.Contains(out, "checkpoint 1 signed") || !strings.Contains(out, "public key") {
				t.Fatalf("checkpoint: %v\n%s", err, out)
			}
			export := filepath.Join(dir, "export.jsonl")
			if out, err := docket(t, "", "audit", "export", "--out", export); err != nil || !strings.Contains(out, "exported") {
				t.Fatalf("export: %v\n%s", err, out)
			}
			if out, err := docket(t, "", "audit", "verify", "--file", export); err != nil || !strings.Contains(out, "1 checkpoints verified") {
				t.Fatalf("verify the export: %v\n%s", err, out)
			}
			if _, err := docket(t, "", "audit", "export", "--out", export); err == nil {
				t.Error("export overwrote a file")
			}
			if out, err := docket(t, "", "audit", "verify", "--file", export, "--public-key", strings.Repeat("ab", 32)); err == nil || !strings.Contains(err.Error(), "not a trusted key") {
				t.Errorf("verify the export against another key: %v\n%s", err, out)
			}

			db, err := database.Open(context.Background(), url)
			if err != nil {
				t.Fatal(err)
			}
			var id int64
			db.R.Raw(`SELECT id FROM audit_events WHERE seq = 5`).Scan(&id)
			db.W.Exec(`UPDATE audit_events SET actor = 'user:999' WHERE id = ?`, id)
			db.Close()
			st, out := exitStatus(t, env, "audit", "verify")
			if st != 2 || !strings.Contains(out, "event "+itoa(id)+" (seq 5): hash does not match its contents (edited?)") {
				t.Fatalf("verify a tampered chain: status %d\n%s", st, out)
			}
			if st, out := exitStatus(t, env, "audit", "checkpoint"); st != 2 {
				t.Errorf("checkpoint over a tampered chain: status %d\n%s", st, out)
			}
			if st, _ := exitStatus(t, []string{"DOCKET_DATABASE_URL=" + url}, "audit", "nonsense"); st != 1 {
				t.Errorf("unknown audit command: status %d", st)
			}
			if d != database.SQLite {
				return
			}
			// A backup of a tampered database is taken, with a warning; restoring
			// it is refused unless asked for.
			backup := filepath.Join(dir, "b.db")
			out, err = docket(t, "", "backup", "--to", backup)
			if err != nil || !strings.Contains(out, "WARNING") || !strings.Contains(out, "event "+itoa(id)) {
				t.Fatalf("backup: %v\n%s", err, out)
			}
			t.Setenv("DOCKET_DATABASE_URL", filepath.Join(dir, "restored.db"))
			if _, err := docket(t, "", "restore", "--from", backup); err == nil || !strings.Contains(err.Error(), "--allow-broken-audit-chain") {
				t.Errorf("restore of a tampered backup: %v", err)
			}
			if _, err := os.Stat(filepath.Join(dir, "restored.db")); err == nil {
				t.Error("a refused restore left a database")
			}
			if out, err := docket(t, "", "restore", "--from", backup, "--allow-broken-audit-chain"); err != nil {
				t.Errorf("restore --allow-broken-audit-chain: %v\n%s", err, out)
			}
		})
	}
}

// A database that is not migrated (a mistyped path) gets a sentence, not
// "no such table" from deep inside verify, and exit status 1, not 2: nothing
// was found tampered.
func TestAuditVerifyNeedsAChain(t *testing.T) {
	url := filepath.Join(t.TempDir(), "mistyped.db")
	st, out := exitStatus(t, []string{"DOCKET_DATABASE_URL=" + url}, "audit", "verify")
	if st != 1 || !strings.Contains(out, "has no audit chain") || !strings.Contains(out, "docket migrate up") {
		t.Fatalf("verify an empty database: status %d\n%s", st, out)
	}
}
