package notify_test

import (
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/dockethq/docket/cases"
	"github.com/dockethq/docket/edgesim"
	"github.com/dockethq/docket/internal/database"
	"github.com/dockethq/docket/internal/testdb"
	"github.com/dockethq/docket/notify"
)

// siteStatus asks the edge for a customer site by Host header.
func siteStatus(t *testing.T, edgeURL, host string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, edgeURL+"/", nil)
	req.Host = host
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

// TestTerminationReachesEdgeSim: a termination signed off by legal and
// leadership reaches the reference edge over real HTTP, and the site goes dark.
func TestTerminationReachesEdgeSim(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		sec := edgesim.NewSecret()
		sim, err := edgesim.New([]string{sec})
		if err != nil {
			t.Fatal(err)
		}
		srv := httptest.NewServer(sim.Handler())
		defer srv.Close()
		f := setup(t, db, notify.Config{Endpoints: []string{srv.URL + edgesim.PathDirectives}, Secrets: []string{sec}})
		if code, _ := siteStatus(t, srv.URL, "board.example"); code != http.StatusOK {
			t.Fatalf("before: %d", code)
		}
		ctx := context.Background()
		r, _ := f.cases.FileReport(ctx, cases.NewReport{Channel: cases.ChannelWeb, ReporterKind: cases.ReporterPublic, Category: cases.ViolentExtremism, URL: "https://board.example/t/1", Description: "manifesto", GoodFaith: true})
		f.cases.Claim(ctx, f.actor, r.CaseID)
		_, d, err := f.cases.Decide(ctx, f.actor, r.CaseID, cases.Proposal{Action: cases.Terminate, Grounds: "AUP 1", Explanation: "Ended.", Hostnames: []string{"board.example", "www.board.example"}})
		if err != nil {
			t.Fatal(err)
		}
		others := staffActors(t, db, 2)
		if _, err := f.cases.SignOff(ctx, signer(others[0], "legal"), d.ID, "legal", "approve", ""); err != nil {
			t.Fatal(err)
		}
		if _, err := f.cases.SignOff(ctx, signer(others[1], "leadership"), d.ID, "leadership", "approve", ""); err != nil {
			t.Fatal(err)
		}
		wait, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		if err := sim.WaitFor(wait, "www.board.example", 1); err != nil {
			t.Fatalf("the edge never applied the termination: %v", err)
		}
		code, body := siteStatus(t, srv.URL, "www.board.example")
		if code != http.StatusUnavailableForLegalReasons || !strings.Contains(body, "terminated") {
			t.Errorf("terminated site answers %d", code)
		}
	})
}

// TestEdgeSimWatchesKV: the same directive through NATS JetStream KV.
func TestEdgeSimWatchesKV(t *testing.T) {
	url := os.Getenv("DOCKET_TEST_NATS_URL")
	if url == "" {
		url = "nats://127.0.0.1:4222"
	}
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	bucket := fmt.Sprintf("edge_config_e2e_%x", b)
	sim, _ := edgesim.New([]string{edgesim.NewSecret()})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	errc := make(chan error, 1)
	go func() { errc <- sim.WatchKVBucket(ctx, url, bucket) }()
	db := testdb.Open(t, database.SQLite)
	f := setup(t, db, notify.Config{NATSURL: url, Bucket: bucket})
	f.restrict(t, cases.Malware)
	wait, cancelWait := context.WithTimeout(ctx, 10*time.Second)
	defer cancelWait()
	if err := sim.WaitFor(wait, "board.example", 1); err != nil {
		select {
		case werr := <-errc:
			testdb.Unavailable(t, "NATS", werr)
		default:
		}
		t.Fatalf("the edge never saw the KV value: %v", err)
	}
	if h, _ := sim.Host("board.example"); h.State != edgesim.StateRestricted {
		t.Errorf("state = %+v", h)
	}
	cleanupBucket(t, url, bucket)
}
