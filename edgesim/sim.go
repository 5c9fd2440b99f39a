package edgesim

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
)

// Host states.
const (
	StateActive     = "active"
	StateRestricted = "restricted"
	StateTerminated = "terminated"
	// StateInterstitial serves a warning page with a link to continue.
	StateInterstitial = "interstitial"
	// StateURLsBlocked answers 451 for the blocked URLs, the site otherwise.
	StateURLsBlocked = "urls_blocked"
)

// SecretPrefix starts every signing secret; the rest is the base64 key.
const SecretPrefix = "whsec_"

// MinKeyBytes is the shortest key accepted: the Standard Webhooks spec asks
// for 24 to 64 random bytes.
const MinKeyBytes = 24

// HostState is what the edge last applied to a hostname.
type HostState struct {
	State       string     `json:"state"`   // StateActive, StateRestricted or StateTerminated
	Version     int64      `json:"version"` // of the directive applied last
	Type        string     `json:"type"`
	DirectiveID string     `json:"directive_id"`
	ReasonCode  string     `json:"reason_code"`
	AppliedAt   time.Time  `json:"applied_at"`
	URLs        []string   `json:"urls,omitempty"`       // the blocked URLs on this host (StateURLsBlocked)
	ExpiresAt   *time.Time `json:"expires_at,omitempty"` // the measure ends then
}

// Expired reports whether the measure has ended at now (Docket's reinstate
// may not have arrived yet: the edge honours the expiry by itself).
func (h HostState) Expired(now time.Time) bool {
	return h.ExpiresAt != nil && !now.Before(*h.ExpiresAt)
}

// Result says which hostnames a directive changed and which it left alone
// because they already had that version or a newer one.
type Result struct {
	Applied []string `json:"applied"`
	Ignored []string `json:"ignored"`
}

// Sim is the simulated edge. It is safe for concurrent use.
type Sim struct {
	// Log receives one line per directive and per rejected delivery; set it
	// before serving. Nil discards.
	Log *slog.Logger
	// Now is the clock expiries are judged by; nil is time.Now. Set it
	// before serving.
	Now func() time.Time

	hooks []*standardwebhooks.Webhook

	mu      sync.Mutex
	hosts   map[string]HostState
	changed chan struct{} // closed, and replaced, whenever a hostname changes
}

// New returns an edge that accepts directives signed with any of secrets
// (several during a rotation). Each secret is "whsec_" and a base64 key of at
// least MinKeyBytes bytes.
func New(secrets []string) (*Sim, error) {
	if len(secrets) == 0 {
		return nil, errors.New("edgesim: no signing secret given")
	}
	s := &Sim{hosts: map[string]HostState{}, changed: make(chan struct{})}
	for i, sec := range secrets {
		sec = strings.TrimSpace(sec)
		key, ok := strings.CutPrefix(sec, SecretPrefix)
		if !ok {
			return nil, fmt.Errorf("edgesim: secret %d does not start with %q", i+1, SecretPrefix)
		}
		raw, err := base64.StdEncoding.DecodeString(key)
		if err != nil {
			return nil, fmt.Errorf("edgesim: secret %d: the part after %q is not standard base64", i+1, SecretPrefix)
		}
		// The library accepts an empty key ("whsec_") without complaint.
		if len(raw) < MinKeyBytes {
			return nil, fmt.Errorf("edgesim: secret %d: key is %d bytes, want at least %d", i+1, len(raw), MinKeyBytes)
		}
		wh, err := standardwebhooks.NewWebhook(sec)
		if err != nil {
			return nil, fmt.Errorf("edgesim: secret %d: %w", i+1, err)
		}
		s.hooks = append(s.hooks, wh)
	}
	return s, nil
}

// NewSecret returns a fresh random signing secret: "whsec_" and 32 bytes in base64.
func NewSecret() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // never fails (crypto/rand panics rather)
	return SecretPrefix + base64.StdEncoding.EncodeToString(b)
}

func (s *Sim) now() time.Time {
	if s.Now == nil {
		return time.Now()
	}
	return s.Now()
}

func (s *Sim) log() *slog.Logger {
	if s.Log == nil {
		return slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return s.Log
}

// Apply validates d and applies it to each of its hostnames whose current
// version is below d.Version; the others are ignored. Applying the same
// directive twice changes nothing the second time.
func (s *Sim) Apply(d Directive) (Result, error) {
	if err := d.Validate(); err != nil {
		return Result{Applied: []string{}, Ignored: []string{}}, err
	}
	return s.apply(d, d.Hostnames), nil
}

// apply applies a valid d to hosts.
func (s *Sim) apply(d Directive, hosts []string) Result {
	res := Result{Applied: []string{}, Ignored: []string{}}
	state := map[string]string{TypeTerminate: StateTerminated, TypeRestrict: StateRestricted, TypeReinstate: StateActive,
		TypeInterstitial: StateInterstitial, TypeBlockURL: StateURLsBlocked}[d.Type]
	now := time.Now().UTC()
	s.mu.Lock()
	seen := map[string]bool{}
	for _, h := range hosts {
		h = normHost(h)
		if seen[h] {
			continue
		}
		seen[h] = true
		if cur, ok := s.hosts[h]; ok && d.Version <= cur.Version {
			res.Ignored = append(res.Ignored, h)
			continue
		}
		st := HostState{State: state, Version: d.Version, Type: d.Type, DirectiveID: d.ID, ReasonCode: d.ReasonCode, AppliedAt: now, ExpiresAt: d.ExpiresAt}
		for _, u := range d.URLs {
			if b, err := parseBlocked(u, []string{h}); err == nil && b.host == h {
				st.URLs = append(st.URLs, u)
			}
		}
		s.hosts[h] = st
		res.Applied = append(res.Applied, h)
	}
	if len(res.Applied) > 0 {
		close(s.changed)
		s.changed = make(chan struct{})
	}
	s.mu.Unlock()
	return res
}

// State returns a copy of every hostname's state.
func (s *Sim) State() map[string]HostState {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]HostState, len(s.hosts))
	for h, st := range s.hosts {
		out[h] = st
	}
	return out
}

// Host returns hostname's state and whether any directive has been applied to it.
func (s *Sim) Host(hostname string) (HostState, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	st, ok := s.hosts[normHost(hostname)]
	return st, ok
}

// WaitFor blocks until hostname has a directive of version or newer applied,
// or ctx ends (then it returns ctx's error). It does not poll.
func (s *Sim) WaitFor(ctx context.Context, hostname string, version int64) error {
	hostname = normHost(hostname)
	for {
		s.mu.Lock()
		st, ok := s.hosts[hostname]
		changed := s.changed
		s.mu.Unlock()
		if ok && st.Version >= version {
			return nil
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return fmt.Errorf("waiting for %s version %d: %w", hostname, version, ctx.Err())
		}
	}
}
