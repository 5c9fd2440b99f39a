// Package reconcile compares what Docket decided with what each edge reports
// it has applied, and lists the drift: a hostname an edge lost, holds at an
// older version, or holds under another type. Desired state is the latest
// directive per hostname (hostname_versions, written with every directive);
// actual state is each HTTP edge's GET /_edge/state and the NATS KV bucket's
// contents. Repair re-sends the desired directive itself (same id, same
// version) through the normal delivery queue.
package reconcile

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/dockethq/docket/cases"
	"github.com/dockethq/docket/internal/database"
	"github.com/dockethq/docket/internal/errs"
)

// Kinds of drift.
const (
	Missing   = "missing"    // the edge has nothing for a hostname Docket has acted on
	Stale     = "stale"      // the edge holds an older version
	WrongType = "wrong_type" // same version, another type: not Docket's directive
	Ahead     = "ahead"      // a version Docket never issued for the hostname
	Unknown   = "unknown"    // the edge acts on a hostname Docket has no directive for
)

// Config says which edges to ask: the same targets notify delivers to.
type Config struct {
	Endpoints []string // HTTP directive endpoints; state is read from /_edge/state beside each
	NATSURL   string
	Bucket    string // default edge_config
}

// Applied is what an edge reports for one hostname.
type Applied struct {
	Version     int64  `json:"version"`
	Type        string `json:"type"`
	DirectiveID string `json:"directive_id"`
	State       string `json:"state"`
}

// Drift is one hostname on one target whose applied state differs from the
// desired one.
type Drift struct {
	Target   string
	Hostname string
	Kind     string
	Want     *cases.Directive // nil for Unknown
	Have     *Applied         // nil for Missing
	Pending  bool             // a delivery of the desired directive to this target is still in progress
}

// Repairable reports whether re-sending the desired directive fixes the
// drift: only when the edge holds nothing or an older version; at the same or
// a newer version an edge ignores it by design.
func (d Drift) Repairable() bool { return d.Want != nil && (d.Kind == Missing || d.Kind == Stale) }

// Target is the comparison for one edge target.
type Target struct {
	Target  string
	Checked int // hostnames Docket has directives for
	Drift   []Drift
	Err     string // the edge could not be read
}

// Report is one reconciliation run.
type Report struct {
	At      time.Time
	Targets []Target
}

// DriftCount counts drift rows over every target.
func (r *Report) DriftCount() int {
	n := 0
	for _, t := range r.Targets {
		n += len(t.Drift)
	}
	return n
}

// Resender re-queues a directive's delivery to a target, audited as actor
// (notify.Notifier.Resend).
type Resender func(ctx context.Context, actor, directiveID, target string) error

// Reconciler runs reconciliations.
type Reconciler struct {
	cfg    Config
	db     *database.DB
	resend Resender
	http   *http.Client
	now    func() time.Time
}

// New returns a reconciler over db's directives and cfg's edges.
func New(cfg Config, db *database.DB, resend Resender, now func() time.Time) *Reconciler {
	if cfg.Bucket == "" {
		cfg.Bucket = "edge_config"
	}
	return &Reconciler{cfg: cfg, db: db, resend: resend, http: &http.Client{Timeout: 5 * time.Second}, now: now}
}

// Targets lists the targets compared, as notify names them.
func (r *Reconciler) Targets() []string {
	t := append([]string(nil), r.cfg.Endpoints...)
	if r.cfg.NATSURL != "" {
		t = append(t, "nats:"+r.cfg.Bucket)
	}
	return t
}

// Desired returns the latest directive per hostname.
func (r *Reconciler) Desired(ctx context.Context) (map[string]cases.Directive, error) {
	var rows []struct {
		Hostname string
		cases.Directive
	}
	err := r.db.R.WithContext(ctx).Table("directive_hosts").
		Select("directive_hosts.hostname, directives.*").
		Joins("JOIN hostname_versions ON hostname_versions.hostname = directive_hosts.hostname AND hostname_versions.version = directive_hosts.version").
		Joins("JOIN directives ON directives.id = directive_hosts.directive_id").
		Scan(&rows).Error
	if err != nil {
		return nil, err
	}
	out := make(map[string]cases.Directive, len(rows))
	for _, row := range rows {
		out[row.Hostname] = row.Directive
	}
	return out, nil
}

// Run compares every target with the desired state. A target that cannot be
// read gets Err and no drift rows, rather than every hostname as missing.
func (r *Reconciler) Run(ctx context.Context) (*Report, error) {
	want, err := r.Desired(ctx)
	if err != nil {
		return nil, err
	}
	rep := &Report{At: r.now().UTC()}
	for _, target := range r.Targets() {
		t := Target{Target: target, Checked: len(want)}
		have, err := r.actual(ctx, target)
		if err != nil {
			t.Err = err.Error()
			rep.Targets = append(rep.Targets, t)
			continue
		}
		t.Drift = compare(target, want, have)
		if err := r.markPending(ctx, target, t.Drift); err != nil {
			return nil, err
		}
		rep.Targets = append(rep.Targets, t)
	}
	return rep, nil
}

// compare lists the drift of one target, by hostname.
func compare(target string, want map[string]cases.Directive, have map[string]Applied) []Drift {
	var out []Drift
	for h, d := range want {
		d := d
		a, ok := have[h]
		switch {
		case !ok && d.Type == "site.reinstate":
			// An edge that knows nothing of a hostname serves it: that is
			// what a reinstate asks for.
		case !ok:
			out = append(out, Drift{Target: target, Hostname: h, Kind: Missing, Want: &d})
		case a.Version < d.Version:
			out = append(out, Drift{Target: target, Hostname: h, Kind: Stale, Want: &d, Have: &a})
		case a.Version > d.Version:
			out = append(out, Drift{Target: target, Hostname: h, Kind: Ahead, Want: &d, Have: &a})
		case a.Type != d.EdgeType() || (a.DirectiveID != "" && a.DirectiveID != d.ID):
			out = append(out, Drift{Target: target, Hostname: h, Kind: WrongType, Want: &d, Have: &a})
		}
	}
	for h, a := range have {
		if _, ok := want[h]; !ok && a.Type != "site.reinstate" {
			out = append(out, Drift{Target: target, Hostname: h, Kind: Unknown, Have: &a})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Hostname < out[j].Hostname })
	return out
}

func (r *Reconciler) markPending(ctx context.Context, target string, ds []Drift) error {
	var ids []string
	for _, d := range ds {
		if d.Want != nil {
			ids = append(ids, d.Want.ID)
		}
	}
	if len(ids) == 0 {
		return nil
	}
	var pending []string
	err := r.db.R.WithContext(ctx).Table("deliveries").
		Where("target = ? AND state = 'pending' AND directive_id IN ?", target, ids).Pluck("directive_id", &pending).Error
	if err != nil {
		return err
	}
	for i := range ds {
		ds[i].Pending = ds[i].Want != nil && slices.Contains(pending, ds[i].Want.ID)
	}
	return nil
}

// actual reads what target has applied.
func (r *Reconciler) actual(ctx context.Context, target string) (map[string]Applied, error) {
	if bucket, ok := strings.CutPrefix(target, "nats:"); ok {
		return r.kvState(ctx, bucket)
	}
	return r.httpState(ctx, target)
}

// StateURL is where the edge behind a directive endpoint reports its state:
// /_edge/state beside /_edge/directives (DESIGN §5, edge-sim).
func StateURL(endpoint string) (string, error) {
	u, err := url.Parse(endpoint)
	if err != nil {
		return "", err
	}
	if p, ok := strings.CutSuffix(u.Path, "/_edge/directives"); ok {
		u.Path = p + "/_edge/state"
	} else {
		u.Path = strings.TrimSuffix(u.Path, "/") + "/_edge/state"
	}
	u.RawQuery = ""
	return u.String(), nil
}

func (r *Reconciler) httpState(ctx context.Context, endpoint string) (map[string]Applied, error) {
	su, err := StateURL(endpoint)
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, su, nil)
	if err != nil {
		return nil, err
	}
	res, err := r.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("read the edge's state: %w", err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("the edge's state endpoint answered %d", res.StatusCode)
	}
	var out map[string]Applied
	if err := json.NewDecoder(io.LimitReader(res.Body, 64<<20)).Decode(&out); err != nil {
		return nil, fmt.Errorf("the edge's state is not JSON: %w", err)
	}
	return out, nil
}

// kvState reads the latest value of every key of the bucket.
func (r *Reconciler) kvState(ctx context.Context, bucket string) (map[string]Applied, error) {
	nc, err := nats.Connect(r.cfg.NATSURL, nats.Name("docket reconcile"), nats.Timeout(5*time.Second))
	if err != nil {
		return nil, fmt.Errorf("connect to NATS: %w", err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		return nil, err
	}
	out := map[string]Applied{}
	kv, err := js.KeyValue(ctx, bucket)
	if errors.Is(err, jetstream.ErrBucketNotFound) {
		return out, nil // nothing written yet: every hostname is missing
	}
	if err != nil {
		return nil, fmt.Errorf("NATS KV bucket %s: %w", bucket, err)
	}
	keys, err := kv.ListKeys(ctx)
	if err != nil {
		return nil, err
	}
	for k := range keys.Keys() {
		e, err := kv.Get(ctx, k)
		if errors.Is(err, jetstream.ErrKeyNotFound) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("NATS KV get %s: %w", k, err)
		}
		// The value is the directive itself (notify writes it): its id is "id".
		var d struct {
			ID      string `json:"id"`
			Type    string `json:"type"`
			Version int64  `json:"version"`
		}
		if err := json.Unmarshal(e.Value(), &d); err != nil {
			d.Type = "(not a directive)"
		}
		out[k] = Applied{Version: d.Version, Type: d.Type, DirectiveID: d.ID}
	}
	return out, nil
}

// ErrNoTarget is returned by Repair for a target that is not configured.
var ErrNoTarget = errs.E(errs.NotFound, "There is no such edge target.")

// Repair re-sends the desired directive of every repairable drift row of
// target (or only hostname's, when given), each once, and returns how many
// directives it re-queued. It works from a fresh comparison, never from what
// a page showed earlier.
func (r *Reconciler) Repair(ctx context.Context, actor, target, hostname string) (int, error) {
	if !slices.Contains(r.Targets(), target) {
		return 0, ErrNoTarget
	}
	want, err := r.Desired(ctx)
	if err != nil {
		return 0, err
	}
	have, err := r.actual(ctx, target)
	if err != nil {
		return 0, errs.E(errs.Conflict, "The edge could not be read, so nothing was re-sent: %v", err)
	}
	sent := map[string]bool{}
	for _, d := range compare(target, want, have) {
		if !d.Repairable() || (hostname != "" && d.Hostname != hostname) || sent[d.Want.ID] {
			continue
		}
		if err := r.resend(ctx, actor, d.Want.ID, target); err != nil {
			return len(sent), err
		}
		sent[d.Want.ID] = true
	}
	return len(sent), nil
}
