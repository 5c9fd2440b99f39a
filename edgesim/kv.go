package edgesim

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// DefaultBucket is the KV bucket Docket writes desired state to: key =
// hostname, value = the latest Directive JSON for it.
const DefaultBucket = "edge_config"

// WatchKV connects to the NATS server at url, opens the bucket DefaultBucket
// (creating it if missing) and applies its values until ctx ends; then it
// returns nil.
func (s *Sim) WatchKV(ctx context.Context, url string) error {
	return s.WatchKVBucket(ctx, url, DefaultBucket)
}

// WatchKVBucket is WatchKV on the named bucket.
func (s *Sim) WatchKVBucket(ctx context.Context, url, bucket string) error {
	nc, err := nats.Connect(url, nats.Name("docket edge-sim"))
	if err != nil {
		return fmt.Errorf("edgesim: connect to NATS at %s: %w", url, err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		return fmt.Errorf("edgesim: JetStream: %w", err)
	}
	kv, err := OpenBucket(ctx, js, bucket)
	if err != nil {
		return err
	}
	return s.WatchKeyValue(ctx, kv)
}

// OpenBucket returns the KV bucket, creating it if it does not exist. An
// existing bucket's configuration is left as it is.
func OpenBucket(ctx context.Context, js jetstream.JetStream, bucket string) (jetstream.KeyValue, error) {
	kv, err := js.KeyValue(ctx, bucket)
	if errors.Is(err, jetstream.ErrBucketNotFound) {
		// The configuration Docket's delivery (notify) creates it with.
		kv, err = js.CreateKeyValue(ctx, jetstream.KeyValueConfig{Bucket: bucket, History: 5})
		if errors.Is(err, jetstream.ErrBucketExists) { // created meanwhile, with another configuration
			kv, err = js.KeyValue(ctx, bucket)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("edgesim: KV bucket %s: %w", bucket, err)
	}
	return kv, nil
}

// WatchKeyValue applies the latest value of every key in kv, then every
// update, until ctx ends (then it returns nil). The caller owns the
// connection. A value applies to its key's hostname only, under the same
// version rule as HTTP, so a replay on start changes nothing already applied.
// Deletes and purges are ignored: they say nothing about the desired state.
func (s *Sim) WatchKeyValue(ctx context.Context, kv jetstream.KeyValue) error {
	w, err := kv.WatchAll(ctx)
	if err != nil {
		return fmt.Errorf("edgesim: watch KV bucket %s: %w", kv.Bucket(), err)
	}
	defer func() {
		_ = w.Stop()
		// The library sends to Updates() under a lock; drain so a send in
		// flight cannot block its goroutine forever. Closed on Stop.
		go func() {
			for range w.Updates() {
			}
		}()
	}()
	replayed := 0
	for {
		select {
		case <-ctx.Done():
			return nil
		case e, ok := <-w.Updates():
			if !ok {
				if ctx.Err() != nil {
					return nil
				}
				return fmt.Errorf("edgesim: watch of KV bucket %s ended", kv.Bucket())
			}
			if e == nil { // the initial values are all in
				s.log().Info("edge-sim: watching NATS KV", "bucket", kv.Bucket(), "replayed", replayed)
				replayed = -1
				continue
			}
			if replayed >= 0 {
				replayed++
			}
			s.applyEntry(e)
		}
	}
}

func (s *Sim) applyEntry(e jetstream.KeyValueEntry) {
	log := s.log().With("source", "nats", "bucket", e.Bucket(), "key", e.Key(), "revision", e.Revision())
	if e.Operation() != jetstream.KeyValuePut {
		log.Info("edge-sim: ignoring KV " + e.Operation().String())
		return
	}
	var d Directive
	if err := json.Unmarshal(e.Value(), &d); err != nil {
		log.Warn("edge-sim: KV value is not directive JSON", "err", err)
		return
	}
	if err := d.Validate(); err != nil {
		log.Warn("edge-sim: invalid directive in KV", "err", err)
		return
	}
	host := normHost(e.Key())
	if !slices.ContainsFunc(d.Hostnames, func(h string) bool { return normHost(h) == host }) {
		log.Warn("edge-sim: KV directive does not name its key among its hostnames", "id", d.ID, "hostnames", d.Hostnames)
		return
	}
	res := s.apply(d, []string{host})
	log.Info("edge-sim: directive", "id", d.ID, "type", d.Type, "version", d.Version, "applied", res.Applied, "ignored", res.Ignored)
}
