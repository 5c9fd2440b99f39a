package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dockethq/docket/internal/database"
	"github.com/dockethq/docket/internal/testdb"
)

func TestMain(m *testing.M) {
	testdb.FastPasswords()
	// The crash test runs this binary as the docket command, to kill it.
	if os.Getenv("DOCKET_TEST_RUN_MAIN") == "1" {
		main()
		return
	}
	m.Run()
}

func docket(t *testing.T, stdin string, args ...string) (string, error) {
	t.Helper()
	var out, errb bytes.Buffer
	err := run(context.Background(), args, strings.NewReader(stdin), &out, &errb)
	return out.String() + errb.String(), err
}

func TestConfigErrors(t *testing.T) {
	tests := []struct {
		env, value, want string
	}{
		{"DOCKET_DATABASE_URL", "mysql://root@localhost/docket", "DOCKET_DATABASE_URL"},
		{"DOCKET_DATABASE_URL", "", "empty"},
		{"DOCKET_DATABASE_URL", "postgres://", "not a valid postgres"},
		{"DOCKET_LISTEN", "8080", "not host:port"},
		{"DOCKET_BASE_URL", "ftp://docket.example", "not an http(s) URL"},
		{"DOCKET_LOG_FORMAT", "xml", "neither text nor json"},
		{"DOCKET_LOG_LEVEL", "loud", "not debug"},
		{"DOCKET_EDGE_ENDPOINTS", "ftp://edge.example", "not an http(s) URL"},
		{"DOCKET_EDGE_ENDPOINTS", "http://edge.example/d", "need a signing secret"},
		{"DOCKET_EDGE_SECRETS", "hunter2", "start with whsec_"},
		{"DOCKET_DELIVERY_HORIZON", "soon", "positive duration"},
		{"DOCKET_NATS_URL", "http://127.0.0.1:4222", "not a nats:// URL"},
	}
	for _, tc := range tests {
		t.Run(tc.env+"="+tc.value, func(t *testing.T) {
			t.Setenv("DOCKET_DATABASE_URL", filepath.Join(t.TempDir(), "d.db"))
			t.Setenv(tc.env, tc.value)
			_, err := docket(t, "", "migrate", "status")
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want it to mention %q", err, tc.want)
			}
		})
	}
	if _, err := docket(t, "", "frobnicate"); err == nil || !strings.Contains(err.Error(), "unknown command") {
		t.Errorf("unknown command: %v", err)
	}
}

func TestMigrateCommands(t *testing.T) {
	t.Setenv("DOCKET_DATABASE_URL", filepath.Join(t.TempDir(), "m.db"))
	out, err := docket(t, "", "migrate", "status")
	if err != nil || !strings.Contains(out, "00001_foundation.sql") || !strings.Contains(out, "pending") {
		t.Fatalf("status before: %v\n%s", err, out)
	}
	if out, err = docket(t, "", "migrate", "up"); err != nil || !strings.Contains(out, "applied") {
		t.Fatalf("up: %v\n%s", err, out)
	}
	if out, err = docket(t, "", "migrate", "up"); err != nil || !strings.Contains(out, "up to date") {
		t.Fatalf("second up: %v\n%s", err, out)
	}
	if out, err = docket(t, "", "migrate", "down"); err != nil || !strings.Contains(out, "rolled back") {
		t.Fatalf("down: %v\n%s", err, out)
	}
	if out, err = docket(t, "", "migrate", "status"); err != nil || !strings.Contains(out, "pending") || !strings.Contains(out, "applied") {
		t.Fatalf("status after down: %v\n%s", err, out)
	}
	if _, err = docket(t, "", "migrate", "sideways"); err == nil {
		t.Fatal("migrate sideways succeeded")
	}
}

func TestUserAddAndSeedDemo(t *testing.T) {
	t.Setenv("DOCKET_DATABASE_URL", filepath.Join(t.TempDir(), "u.db"))
	out, err := docket(t, "a very long password\n", "user", "add", "--email", "Lee@Example.org", "--name", "Lee", "--roles", "legal, reviewer")
	if err != nil || !strings.Contains(out, "lee@example.org with roles reviewer, legal") {
		t.Fatalf("user add: %v\n%s", err, out)
	}
	t.Setenv("DOCKET_PASSWORD", "short")
	_, err = docket(t, "", "user", "add", "--email", "x@example.org", "--name", "X", "--roles", "root")
	if err == nil || !strings.Contains(err.Error(), "--password") || !strings.Contains(err.Error(), "--roles") {
		t.Fatalf("invalid user add: %v", err)
	}
	// Demo accounts have public passwords: never next to real users.
	if _, err = docket(t, "", "seed-demo"); err == nil || !strings.Contains(err.Error(), "refusing") {
		t.Fatalf("seed-demo on a database with users: %v", err)
	}
}

func TestSeedDemoIsIdempotent(t *testing.T) {
	dbPath := filepath.Join(t.TempDir(), "s.db")
	t.Setenv("DOCKET_DATABASE_URL", dbPath)
	if out, err := docket(t, "", "seed-demo"); err != nil || !strings.Contains(out, "demo data loaded") {
		t.Fatalf("seed-demo: %v\n%s", err, out)
	}
	// The history (decisions, appeals) comes with the first seeding only.
	tables := []string{"reports", "cases", "decisions", "appeals", "directives", "audit_events"}
	count := func() map[string]int64 {
		db, err := database.Open(context.Background(), dbPath)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		n := map[string]int64{}
		for _, table := range tables {
			var c int64
			if err := db.R.Raw("SELECT COUNT(*) FROM " + table).Scan(&c).Error; err != nil {
				t.Fatal(err)
			}
			n[table] = c
		}
		return n
	}
	first := count()
	if first["decisions"] == 0 || first["appeals"] == 0 {
		t.Errorf("seed-demo loaded no history: %v", first)
	}
	if out, err := docket(t, "", "seed-demo"); err != nil || !strings.Contains(out, "already present") {
		t.Fatalf("second seed-demo: %v\n%s", err, out)
	}
	if second := count(); fmt.Sprint(second) != fmt.Sprint(first) {
		t.Errorf("rows after a second seed-demo %v, after the first %v", second, first)
	}
}

// TestServeDemo starts the real command on a free port, waits for its banner,
// checks a page, and stops it as SIGTERM would.
func TestServeDemo(t *testing.T) {
	t.Setenv("DOCKET_DATABASE_URL", filepath.Join(t.TempDir(), "serve.db"))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"serve", "--demo", "--listen", "127.0.0.1:0"}, strings.NewReader(""), pw, io.Discard)
		pw.Close()
	}()
	var base string
	lines := bufio.NewScanner(pr)
	var banner []string
	noBanner := closeAfter(pr, 60*time.Second)
	for lines.Scan() {
		banner = append(banner, lines.Text())
		if u, ok := strings.CutPrefix(lines.Text(), "Docket is running at "); ok {
			base = u
		}
		if strings.HasPrefix(lines.Text(), "Demo edge (edge-sim) at ") {
			break
		}
	}
	noBanner.Stop()
	go io.Copy(io.Discard, pr)
	if base == "" {
		cancel()
		t.Fatalf("no banner; got %q (err %v)", banner, waitRun(done, 20*time.Second))
	}
	text := strings.Join(banner, "\n")
	for _, role := range []string{"reviewer", "senior_reviewer", "legal", "leadership", "admin", "auditor"} {
		if !strings.Contains(text, role) {
			t.Errorf("banner does not list a %s account", role)
		}
	}
	hc := &http.Client{Timeout: 5 * time.Second}
	res, err := hc.Get(base + "/report")
	if err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("GET /report: %v %v", res, err)
	}
	res.Body.Close()
	// The history's decisions reach the demo edge: its terminated site is dark.
	edge := ""
	for _, l := range banner {
		if rest, ok := strings.CutPrefix(l, "Demo edge (edge-sim) at "); ok {
			edge, _, _ = strings.Cut(rest, ": its state")
		}
	}
	if edge == "" {
		t.Fatalf("no demo edge in the banner %q", banner)
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		res, err := hc.Get(edge + "/_edge/state")
		var body []byte
		if err == nil {
			body, _ = io.ReadAll(res.Body)
			res.Body.Close()
		}
		if strings.Contains(string(body), `"stealer-market.example":{"state":"terminated"`) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the demo edge never received the history's termination: %v %s", err, body)
		}
		time.Sleep(100 * time.Millisecond)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("serve returned %v after shutdown", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("serve did not stop")
	}
}

// closeAfter closes the reader of a command's output after d, so a scan for a
// banner that never comes ends (and the test fails) instead of hanging.
func closeAfter(pr *io.PipeReader, d time.Duration) *time.Timer {
	return time.AfterFunc(d, func() { pr.CloseWithError(fmt.Errorf("no banner within %s", d)) })
}

// waitRun is run's result, or an error saying it did not return within d.
func waitRun(done <-chan error, d time.Duration) error {
	select {
	case err := <-done:
		return err
	case <-time.After(d):
		return fmt.Errorf("serve did not return within %s", d)
	}
}
