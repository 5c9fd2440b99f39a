package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dockethq/docket/internal/database"
	"github.com/dockethq/docket/internal/testdb"
)

// fileReports files reports through the flagger API from several clients until
// stop is closed; acked gets each receipt with the time its 201 arrived. The
// hosts are subdomains of a demo customer's site (served, so each report is on
// a case) and every URL is new (so none is a duplicate).
func fileReports(t *testing.T, base, key string, stop <-chan struct{}, acked func(receipt string, at time.Time)) *sync.WaitGroup {
	var wg sync.WaitGroup
	hc := &http.Client{Timeout: 30 * time.Second}
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				body := fmt.Sprintf(`{"category":"malware","url":"https://backup%d.kestrel.example/%d","description":"Filed during a backup."}`, w, i)
				req, _ := http.NewRequest(http.MethodPost, base+"/api/v1/reports", strings.NewReader(body))
				req.Header.Set("Authorization", "Bearer "+key)
				req.Header.Set("Content-Type", "application/json")
				res, err := hc.Do(req)
				if err != nil {
					t.Errorf("file report: %v", err)
					return
				}
				b, _ := io.ReadAll(res.Body)
				res.Body.Close()
				if res.StatusCode != http.StatusCreated {
					t.Errorf("file report: %d %s", res.StatusCode, b)
					return
				}
				var out struct{ Receipt string }
				json.Unmarshal(b, &out)
				acked(out.Receipt, time.Now())
			}
		}()
	}
	return &wg
}

// TestBackupUnderLoadRestores: a backup taken while reports are being filed
// restores to a working instance that holds every report acknowledged before
// the backup started.
func TestBackupUnderLoadRestores(t *testing.T) {
	dir := t.TempDir()
	dbPath := filepath.Join(dir, "live.db")
	key := issueFlaggerKey(t, dbPath)
	// A load test, not a test of the per-key limit.
	env := []string{"DOCKET_DATABASE_URL=" + dbPath, "DOCKET_LOG_LEVEL=warn", "DOCKET_RATE_LIMIT_API=off"}
	p := startDocket(t, env, "--demo")

	var mu sync.Mutex
	ackedAt := map[string]time.Time{}
	stop := make(chan struct{})
	wg := fileReports(t, p.base, key, stop, func(r string, at time.Time) {
		mu.Lock()
		ackedAt[r] = at
		mu.Unlock()
	})
	deadline := time.Now().Add(60 * time.Second)
	for n := 0; n < 50; {
		if time.Now().After(deadline) || t.Failed() {
			close(stop)
			wg.Wait()
			t.Fatalf("only %d reports acknowledged before the deadline (or a filing failed)\n%s", n, p.log())
		}
		time.Sleep(20 * time.Millisecond)
		mu.Lock()
		n = len(ackedAt)
		mu.Unlock()
	}
	backup := filepath.Join(dir, "backups", "docket.db")
	os.MkdirAll(filepath.Dir(backup), 0o750)
	started := time.Now()
	out, err := docket(t, "", "backup", "--to", backup)
	if err != nil {
		t.Fatalf("backup: %v\n%s", err, out)
	}
	time.Sleep(100 * time.Millisecond) // reports keep coming after the backup
	close(stop)
	wg.Wait()
	if !strings.Contains(out, "integrity ok") {
		t.Errorf("backup output: %s", out)
	}
	if st, err := os.Stat(backup); err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("backup file mode: %v %v", st.Mode(), err)
	}
	if _, err := docket(t, "", "backup", "--to", backup); err == nil || !strings.Contains(err.Error(), "already exists") {
		t.Errorf("a second backup to the same file: %v", err)
	}

	// The live database is in use: restore refuses to touch it.
	t.Setenv("DOCKET_DATABASE_URL", dbPath)
	if _, err := docket(t, "", "restore", "--from", backup, "--force"); err == nil || !strings.Contains(err.Error(), "in use") {
		t.Errorf("restore over the running instance's database: %v", err)
	}

	restored := filepath.Join(dir, "restored", "docket.db")
	t.Setenv("DOCKET_DATABASE_URL", restored)
	if out, err := docket(t, "", "restore", "--from", backup); err != nil || !strings.Contains(out, "integrity ok") {
		t.Fatalf("restore: %v\n%s", err, out)
	}
	if _, err := docket(t, "", "restore", "--from", backup); err == nil || !strings.Contains(err.Error(), "--force") {
		t.Errorf("restore over an existing database without --force: %v", err)
	}
	q := startDocket(t, []string{"DOCKET_DATABASE_URL=" + restored, "DOCKET_LOG_LEVEL=warn"})
	var before []string
	for r, at := range ackedAt {
		if at.Before(started) {
			before = append(before, r)
		}
	}
	db, err := database.Open(context.Background(), restored)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n int64
	db.R.Table("reports").Where("public_id IN ?", before).Count(&n)
	if n != int64(len(before)) {
		t.Fatalf("the restored database holds %d of the %d reports acknowledged before the backup", n, len(before))
	}
	// A working instance: the flagger's key and a receipt work on it.
	req, _ := http.NewRequest(http.MethodGet, q.base+"/api/v1/reports/"+before[0], nil)
	req.Header.Set("Authorization", "Bearer "+key)
	res, err := (&http.Client{Timeout: 30 * time.Second}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusOK || !bytes.Contains(b, []byte(before[0])) {
		t.Fatalf("receipt on the restored instance: %d %s", res.StatusCode, b)
	}
	t.Logf("%d reports acknowledged before the backup, %d in all; all of the former restored", len(before), len(ackedAt))
}

// TestRestoreRefusesABadBackup: a file that is not a Docket database changes nothing.
func TestRestoreRefusesABadBackup(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(dir, "docket.db")
	t.Setenv("DOCKET_DATABASE_URL", target)
	if out, err := docket(t, "", "migrate", "up"); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	before, _ := os.ReadFile(target)
	garbage := filepath.Join(dir, "garbage.db")
	os.WriteFile(garbage, bytes.Repeat([]byte("not a database "), 500), 0o600)
	empty := filepath.Join(dir, "empty.db")
	if db, err := database.Open(context.Background(), empty); err == nil {
		db.W.Exec("CREATE TABLE x (y)")
		db.Close()
	}
	for _, bad := range []string{garbage, empty} {
		_, err := docket(t, "", "restore", "--from", bad, "--force")
		if err == nil || !strings.Contains(err.Error(), "nothing was changed") {
			t.Errorf("restore from %s: %v", filepath.Base(bad), err)
		}
	}
	after, _ := os.ReadFile(target)
	if !bytes.Equal(before, after) {
		t.Error("a refused restore changed the database")
	}
	if left, _ := filepath.Glob(target + ".*"); len(left) > 0 {
		t.Errorf("a refused restore left files behind: %v", left)
	}
	if _, err := docket(t, "", "restore"); err == nil || !strings.Contains(err.Error(), "--from") {
		t.Errorf("restore without --from: %v", err)
	}
}

// TestPostgresBackupRestore: pg_dump and pg_restore through docket backup and
// docket restore, on a schema of its own.
func TestPostgresBackupRestore(t *testing.T) {
	ctx := context.Background()
	admin, err := database.Open(ctx, testdb.PostgresURL())
	if err != nil {
		testdb.Unavailable(t, "PostgreSQL", err)
	}
	t.Cleanup(func() { admin.Close() }) // after the schema is dropped (cleanups run last first)
	if _, err := exec.LookPath("pg_dump"); err != nil {
		testdb.Unavailable(t, "pg_dump", err)
	}
	schema := fmt.Sprintf("t_backup_%d", time.Now().UnixNano())
	if err := admin.W.Exec("CREATE SCHEMA " + schema).Error; err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { admin.W.Exec("DROP SCHEMA IF EXISTS " + schema + " CASCADE") })
	u, _ := url.Parse(testdb.PostgresURL())
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	t.Setenv("DOCKET_DATABASE_URL", u.String())
	if out, err := docket(t, "", "seed-demo"); err != nil {
		t.Fatalf("seed-demo: %v\n%s", err, out)
	}
	count := func() int64 {
		var n int64
		admin.R.Raw("SELECT COUNT(*) FROM " + schema + ".reports").Scan(&n)
		return n
	}
	reports := count()
	file := filepath.Join(t.TempDir(), "docket.dump")
	if out, err := docket(t, "", "backup", "--to", file); err != nil {
		t.Fatalf("backup: %v\n%s", err, out)
	}
	if _, err := docket(t, "", "restore", "--from", file); err == nil || !strings.Contains(err.Error(), "--force") {
		t.Errorf("restore over a database with tables, without --force: %v", err)
	}
	if err := admin.W.Exec("DROP SCHEMA " + schema + " CASCADE").Error; err != nil {
		t.Fatal(err)
	}
	out, err := docket(t, "", "restore", "--from", file)
	if err != nil || !strings.Contains(out, "schema version") {
		t.Fatalf("restore: %v\n%s", err, out)
	}
	if n := count(); n != reports || n == 0 {
		t.Errorf("%d reports after the restore, want %d", n, reports)
	}
	admin.W.Exec("DELETE FROM " + schema + ".reports WHERE id IN (SELECT id FROM " + schema + ".reports ORDER BY id DESC LIMIT 1)")
	if out, err := docket(t, "", "restore", "--from", file, "--force"); err != nil {
		t.Fatalf("restore --force: %v\n%s", err, out)
	}
	if n := count(); n != reports {
		t.Errorf("%d reports after restore --force, want %d", n, reports)
	}
}
