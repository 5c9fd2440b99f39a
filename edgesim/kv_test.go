package edgesim

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"os"
	"reflect"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/dockethq/docket/internal/testdb"
)

// natsURL is the server the tests use; DOCKET_TEST_NATS_URL overrides it.
func natsURL() string {
	if u := os.Getenv("DOCKET_TEST_NATS_URL"); u != "" {
		return u
	}
	return "nats://127.0.0.1:4222"
}

// testBucket connects to the test server and returns a fresh KV bucket name,
// deleted when the test ends.
func testBucket(t *testing.T) (jetstream.JetStream, string) {
	t.Helper()
	nc, err := nats.Connect(natsURL(), nats.Timeout(2*time.Second))
	if err != nil {
		testdb.Unavailable(t, "NATS", err)
	}
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := js.AccountInfo(ctx); err != nil {
		testdb.Unavailable(t, "NATS JetStream", err)
	}
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	bucket := "edge_config_test_" + hex.EncodeToString(b)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := js.DeleteKeyValue(ctx, bucket); err != nil {
			t.Errorf("delete bucket %s: %v", bucket, err)
		}
	})
	return js, bucket
}

func put(t *testing.T, kv jetstream.KeyValue, key string, value []byte) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := kv.Put(ctx, key, value); err != nil {
		t.Fatalf("put %s: %v", key, err)
	}
}

func TestWatchKV(t *testing.T) {
	js, bucket := testBucket(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	kv, err := OpenBucket(ctx, js, bucket) // creates it
	if err != nil {
		t.Fatal(err)
	}
	if _, err := OpenBucket(ctx, js, bucket); err != nil { // and finds it the second time
		t.Fatal(err)
	}
	// A value written before the edge starts is replayed to it.
	put(t, kv, "example.net", mustJSON(t, directive(TypeTerminate, 3, "example.net", "www.example.net")))

	sim, srv := newEdge(t, secretA)
	watchCtx, stopWatch := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- sim.WatchKVBucket(watchCtx, natsURL(), bucket) }()

	if err := sim.WaitFor(ctx, "example.net", 3); err != nil {
		t.Fatal(err)
	}
	if st := sim.State(); st["example.net"].State != StateTerminated || len(st) != 1 {
		t.Errorf("after replay: %v (a KV value applies to its key only)", st)
	}
	if code, _, _ := site(t, srv, "example.net"); code != http.StatusUnavailableForLegalReasons {
		t.Errorf("site: %d, want 451", code)
	}

	// Updates while watching.
	put(t, kv, "example.net", mustJSON(t, directive(TypeReinstate, 4, "example.net", "www.example.net")))
	if err := sim.WaitFor(ctx, "example.net", 4); err != nil {
		t.Fatal(err)
	}
	if code, _, _ := site(t, srv, "example.net"); code != http.StatusOK {
		t.Errorf("site after reinstate: %d, want 200", code)
	}

	// An older version, junk, a value for another key and a delete change
	// nothing; the marker after them shows the watcher has passed them.
	put(t, kv, "example.net", mustJSON(t, directive(TypeTerminate, 2, "example.net")))
	put(t, kv, "junk.example", []byte(`{"id":`))
	put(t, kv, "stray.example", mustJSON(t, directive(TypeTerminate, 1, "elsewhere.example")))
	put(t, kv, "bad.example", mustJSON(t, directive("site.suspend", 1, "bad.example")))
	if err := kv.Delete(ctx, "example.net"); err != nil {
		t.Fatal(err)
	}
	put(t, kv, "marker.example", mustJSON(t, directive(TypeRestrict, 1, "marker.example")))
	if err := sim.WaitFor(ctx, "marker.example", 1); err != nil {
		t.Fatal(err)
	}
	st := sim.State()
	if got := st["example.net"]; got.State != StateActive || got.Version != 4 {
		t.Errorf("example.net: %+v, want active at version 4", got)
	}
	if len(st) != 2 {
		t.Errorf("state: %v, want example.net and marker.example only", st)
	}

	stopWatch()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("WatchKVBucket after cancel: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("WatchKVBucket did not return after its context ended")
	}

	// A restart replays the latest values: nothing already applied changes.
	before := sim.State()
	go func() { done <- sim.WatchKVBucket(ctx, natsURL(), bucket) }()
	put(t, kv, "marker.example", mustJSON(t, directive(TypeTerminate, 2, "marker.example")))
	if err := sim.WaitFor(ctx, "marker.example", 2); err != nil {
		t.Fatal(err)
	}
	after := sim.State()
	if !reflect.DeepEqual(after["example.net"], before["example.net"]) || len(after) != 2 {
		t.Errorf("replay changed state:\n%v\n%v", before, after)
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("second watch: %v", err)
	}
}

func TestWatchKVUnreachable(t *testing.T) {
	sim, err := New([]string{secretA})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := sim.WatchKV(ctx, "nats://127.0.0.1:1"); err == nil {
		t.Error("WatchKV of an unreachable server returned nil")
	}
}
