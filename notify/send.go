package notify

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/dockethq/docket/cases"
)

// Payload is a directive as the edge receives it (DESIGN §5).
type Payload struct {
	ID         string   `json:"id"`
	Type       string   `json:"type"`
	Version    int64    `json:"version"`
	CustomerID string   `json:"customer_id"`
	Hostnames  []string `json:"hostnames"`
	CaseID     string   `json:"case_id"`
	DecisionID string   `json:"decision_id"`
	ReasonCode string   `json:"reason_code"`
	IssuedAt   string   `json:"issued_at"`
	// URLs are the blocked URLs of a site.block_url.
	URLs []string `json:"urls,omitempty"`
	// ExpiresAt is when Docket lifts the measure (with a newer reinstate);
	// an edge may also stop enforcing it then by itself.
	ExpiresAt string `json:"expires_at,omitempty"`
}

// NewPayload renders a directive row for the edge.
func NewPayload(d *cases.Directive) (Payload, error) {
	p := Payload{ID: d.ID, Type: d.EdgeType(), Version: d.Version, CaseID: strconv.FormatInt(d.CaseID, 10),
		DecisionID: strconv.FormatInt(d.DecisionID, 10), ReasonCode: d.ReasonCode, IssuedAt: d.IssuedAt.UTC().Format(time.RFC3339)}
	if d.CustomerID != nil {
		p.CustomerID = strconv.FormatInt(*d.CustomerID, 10)
	}
	if err := json.Unmarshal([]byte(d.Hostnames), &p.Hostnames); err != nil {
		return p, fmt.Errorf("directive %s hostnames: %w", d.ID, err)
	}
	if d.Measure == "block_url" {
		p.URLs = d.URLList()
	}
	if d.ExpiresAt != nil {
		p.ExpiresAt = d.ExpiresAt.UTC().Format(time.RFC3339Nano)
	}
	return p, nil
}

// sender delivers payloads to HTTP edges and to NATS KV.
type sender struct {
	cfg   Config
	http  *http.Client
	hooks []*standardwebhooks.Webhook

	mu sync.Mutex
	nc *nats.Conn
	kv jetstream.KeyValue
}

func newSender(cfg Config) (*sender, error) {
	s := &sender{cfg: cfg, http: &http.Client{Timeout: 10 * time.Second}}
	if len(cfg.Endpoints) > 0 && len(cfg.Secrets) == 0 {
		return nil, fmt.Errorf("edge endpoints are configured without a signing secret (DOCKET_EDGE_SECRETS, whsec_…)")
	}
	for _, sec := range cfg.Secrets {
		if !strings.HasPrefix(sec, "whsec_") {
			return nil, fmt.Errorf("edge signing secret must start with whsec_")
		}
		wh, err := standardwebhooks.NewWebhook(sec)
		if err != nil {
			return nil, fmt.Errorf("edge signing secret: %w", err)
		}
		s.hooks = append(s.hooks, wh)
	}
	return s, nil
}

// Sign returns the Standard Webhooks headers for body: the directive id as
// webhook-id (edges dedupe retries by it) and one signature per secret, so an
// edge that knows either secret verifies during rotation.
func (s *sender) sign(id string, at time.Time, body []byte) (http.Header, error) {
	h := http.Header{}
	var sigs []string
	for _, wh := range s.hooks {
		sig, err := wh.Sign(id, at, body)
		if err != nil {
			return nil, err
		}
		sigs = append(sigs, sig)
	}
	h.Set("webhook-id", id)
	h.Set("webhook-timestamp", strconv.FormatInt(at.Unix(), 10))
	h.Set("webhook-signature", strings.Join(sigs, " "))
	h.Set("Content-Type", "application/json")
	return h, nil
}

// send delivers p to target and returns the HTTP status (0 for NATS).
func (s *sender) send(ctx context.Context, target string, p Payload) (int, error) {
	body, err := json.Marshal(p)
	if err != nil {
		return 0, err
	}
	if strings.HasPrefix(target, "nats:") {
		return 0, s.putKV(ctx, p, body)
	}
	h, err := s.sign(p.ID, time.Now(), body)
	if err != nil {
		return 0, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header = h
	res, err := s.http.Do(req)
	if err != nil {
		return 0, err
	}
	defer res.Body.Close()
	msg, _ := io.ReadAll(io.LimitReader(res.Body, 512))
	if res.StatusCode < 200 || res.StatusCode > 299 {
		return res.StatusCode, fmt.Errorf("edge answered %d: %s", res.StatusCode, strings.TrimSpace(string(msg)))
	}
	return res.StatusCode, nil
}

// putKV writes the directive as the desired state of each of its hostnames,
// unless a key already holds this version or a newer one: a directive for
// several hostnames, re-sent later, must not overwrite a hostname that a newer
// directive has moved on. Compare-and-set on the key's revision keeps this
// right when two instances write at once.
func (s *sender) putKV(ctx context.Context, p Payload, body []byte) error {
	kv, err := s.bucket(ctx)
	if err != nil {
		return err
	}
	for _, h := range p.Hostnames {
		if err := putIfNewer(ctx, kv, h, p.Version, body); err != nil {
			return fmt.Errorf("nats kv put %s: %w", h, err)
		}
	}
	return nil
}

func putIfNewer(ctx context.Context, kv jetstream.KeyValue, key string, version int64, body []byte) error {
	var err error
	for range 5 {
		var e jetstream.KeyValueEntry
		e, err = kv.Get(ctx, key)
		if errors.Is(err, jetstream.ErrKeyNotFound) {
			if _, err = kv.Create(ctx, key, body); err == nil {
				return nil
			}
			continue // created meanwhile: compare with it
		}
		if err != nil {
			return err
		}
		var cur struct {
			Version int64 `json:"version"`
		}
		if json.Unmarshal(e.Value(), &cur) == nil && cur.Version >= version {
			return nil
		}
		if _, err = kv.Update(ctx, key, body, e.Revision()); err == nil {
			return nil
		}
	}
	return err
}

func (s *sender) bucket(ctx context.Context) (jetstream.KeyValue, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.kv != nil {
		return s.kv, nil
	}
	nc, err := s.connLocked()
	if err != nil {
		return nil, err
	}
	js, err := jetstream.New(nc)
	if err != nil {
		return nil, err
	}
	kv, err := js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{Bucket: s.cfg.Bucket, History: 5})
	if err != nil {
		return nil, fmt.Errorf("NATS KV bucket %s: %w", s.cfg.Bucket, err)
	}
	s.kv = kv
	return kv, nil
}

// connLocked returns the NATS connection, connecting on first use; s.mu is held.
func (s *sender) connLocked() (*nats.Conn, error) {
	if s.nc == nil {
		nc, err := nats.Connect(s.cfg.NATSURL, nats.Name("docket"), nats.MaxReconnects(-1), nats.Timeout(2*time.Second))
		if err != nil {
			return nil, fmt.Errorf("connect to NATS: %w", err)
		}
		s.nc = nc
	}
	return s.nc, nil
}

// pingNATS makes a round trip to the NATS server on the delivery connection.
func (s *sender) pingNATS(ctx context.Context) error {
	s.mu.Lock()
	nc, err := s.connLocked()
	s.mu.Unlock()
	if err != nil {
		return err
	}
	if !nc.IsConnected() {
		return fmt.Errorf("NATS connection is %s", nc.Status())
	}
	return nc.FlushWithContext(ctx)
}

func (s *sender) close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.nc != nil {
		s.nc.Close()
	}
}
