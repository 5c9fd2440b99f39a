package main

import (
	"bufio"
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/dockethq/docket/edgesim"
	"github.com/dockethq/docket/internal/database"
)

// docketProcess runs `docket serve` as a child process (this test binary,
// re-entering main) and returns its base URL.
func docketProcess(t *testing.T, env []string) (*exec.Cmd, string) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "serve", "--demo", "--listen", "127.0.0.1:0")
	cmd.Env = append(os.Environ(), append(env, "DOCKET_TEST_RUN_MAIN=1")...)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	lines := bufio.NewScanner(out)
	found := make(chan string, 1)
	go func() {
		for lines.Scan() {
			if u, ok := strings.CutPrefix(lines.Text(), "Docket is running at "); ok {
				found <- u
			}
		}
	}()
	select {
	case u := <-found:
		return cmd, u
	case <-time.After(30 * time.Second):
		t.Fatal("docket did not start")
	}
	return nil, ""
}

// TestCrashBetweenCommitAndDelivery: Docket is killed with SIGKILL right after a
// decision commits while the edge is down; after a restart the directive reaches
// the edge as if nothing happened.
func TestCrashBetweenCommitAndDelivery(t *testing.T) {
	secret := edgesim.NewSecret()
	sim, err := edgesim.New([]string{secret})
	if err != nil {
		t.Fatal(err)
	}
	var down atomic.Bool
	down.Store(true)
	edge := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if down.Load() {
			http.Error(w, "edge restarting", http.StatusServiceUnavailable)
			return
		}
		sim.Handler().ServeHTTP(w, r)
	}))
	defer edge.Close()
	dbPath := filepath.Join(t.TempDir(), "crash.db")
	env := []string{
		"DOCKET_DATABASE_URL=" + dbPath,
		"DOCKET_EDGE_ENDPOINTS=" + edge.URL + edgesim.PathDirectives,
		"DOCKET_EDGE_SECRETS=" + secret,
		"DOCKET_DELIVERY_RESCUE_AFTER=2s",
		"DOCKET_LOG_LEVEL=warn",
	}
	proc, base := docketProcess(t, env)

	// A senior reviewer restricts the malware site through the web UI.
	restrictKestrel(t, base, dbPath, 30*time.Second)
	// The decision is committed; kill Docket before the edge can take it.
	if err := proc.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	proc.Wait()
	db, err := database.Open(context.Background(), dbPath)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var caseID int64
	db.R.Table("cases").Select("id").Where("hostname = 'files.kestrel.example'").Scan(&caseID)
	var directives, delivered int64
	db.R.Table("directives").Where("case_id = ?", caseID).Count(&directives)
	db.R.Table("deliveries").Where("state = 'delivered'").Count(&delivered)
	if directives != 1 || delivered != 0 || len(sim.State()) != 0 {
		t.Fatalf("after the crash: %d directives, %d delivered, edge state %v", directives, delivered, sim.State())
	}

	down.Store(false)
	docketProcess(t, env)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := sim.WaitFor(ctx, "files.kestrel.example", 1); err != nil {
		t.Fatalf("the directive never reached the edge after the restart: %v", err)
	}
	if h, _ := sim.Host("files.kestrel.example"); h.State != edgesim.StateRestricted || h.Version != 1 {
		t.Errorf("edge state %+v", h)
	}
	// The kestrel case's directives: the demo's history has directives of its own.
	db.R.Table("directives").Where("case_id = ?", caseID).Count(&directives)
	if directives != 1 {
		t.Errorf("%d directives after the restart, want the one", directives)
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
