package audit

import (
	"bufio"
	"context"
	"crypto/ed25519"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"time"
)

// ExportFormat names the JSON lines layout Export writes.
const ExportFormat = "docket-audit-export/1"

// exportLine is one line of an export; Type says which fields are set.
type exportLine struct {
	Type string `json:"type"` // header, event, checkpoint, end

	// header
	Format     string       `json:"format,omitempty"`
	Since      *int64       `json:"since,omitempty"`
	HeadSeq    *int64       `json:"head_seq,omitempty"`
	HeadHash   string       `json:"head_hash,omitempty"`
	ExportedAt *time.Time   `json:"exported_at,omitempty"`
	Keys       []exportKey  `json:"public_keys,omitempty"`
	Event      *exportEvent `json:"event,omitempty"`
	Checkpoint *Checkpoint  `json:"checkpoint,omitempty"`
	Count      *int64       `json:"events,omitempty"`
}

type exportKey struct {
	ID  string `json:"id"`
	Key string `json:"key"` // hex
}

// exportEvent keeps every stored field as stored: Details is the exact JSON
// text (a string, not re-encoded), At has nine fraction digits, so the hash can
// be recomputed from the line alone.
type exportEvent struct {
	ID         int64  `json:"id"`
	Seq        int64  `json:"seq"`
	At         string `json:"at"`
	Actor      string `json:"actor"`
	Action     string `json:"action"`
	ObjectType string `json:"object_type"`
	ObjectID   string `json:"object_id"`
	Details    string `json:"details"`
	PrevHash   string `json:"prev_hash"`
	Hash       string `json:"hash"`
}

// Export writes the chain after seq since (0: all of it) as JSON lines: a
// header (head, the public keys), then the events in seq order with each
// checkpoint right after the event it vouches for, then an end line with the
// count, so a cut-off file is told apart from a short log. It streams in
// keyset pages, and stops at the head as read at the start. It returns the
// number of events written.
func (c *Chain) Export(ctx context.Context, out io.Writer, since int64) (int64, error) {
	// What has committed goes into the export, not only what was sealed.
	if _, err := c.Seal(ctx); err != nil {
		return 0, err
	}
	db := c.db.R.WithContext(ctx)
	var cps []Checkpoint
	if err := db.Where("log = ? AND seq > ?", Log, since).Order("seq, id").Find(&cps).Error; err != nil {
		return 0, fmt.Errorf("read checkpoints: %w", err)
	}
	var h head
	if res := db.Raw(`SELECT seq, hash, legacy_until FROM audit_chain WHERE log = ?`, Log).Scan(&h); res.Error != nil {
		return 0, res.Error
	} else if res.RowsAffected == 0 {
		return 0, ErrNoHead
	}
	keys, err := c.TrustedKeys(ctx)
	if err != nil {
		return 0, err
	}
	bw := bufio.NewWriterSize(out, 64<<10)
	enc := json.NewEncoder(bw)
	enc.SetEscapeHTML(false)
	now := c.now().UTC()
	hdr := exportLine{Type: "header", Format: ExportFormat, Since: &since, HeadSeq: &h.Seq, HeadHash: h.Hash, ExportedAt: &now}
	for id, k := range keys {
		hdr.Keys = append(hdr.Keys, exportKey{ID: id, Key: hex.EncodeToString(k)})
	}
	if err := enc.Encode(hdr); err != nil {
		return 0, err
	}
	var n int64
	last := since
	for {
		var rows []eventRow
		err := db.Raw(`SELECT id, at, actor, action, object_type, object_id, details, seq, prev_hash, hash FROM audit_events
			WHERE seq > ? AND seq <= ? AND seq > 0 ORDER BY seq LIMIT ?`, last, h.Seq, pageSize).Scan(&rows).Error
		if err != nil {
			return n, fmt.Errorf("read audit events after seq %d: %w", last, err)
		}
		for _, r := range rows {
			e := r.event()
			if err := enc.Encode(exportLine{Type: "event", Event: &exportEvent{ID: e.ID, Seq: e.Seq, At: e.At.UTC().Format(timeLayout),
				Actor: e.Actor, Action: e.Action, ObjectType: e.ObjectType, ObjectID: e.ObjectID, Details: e.Details,
				PrevHash: e.PrevHash, Hash: e.Hash}}); err != nil {
				return n, err
			}
			n++
			for len(cps) > 0 && cps[0].Seq <= e.Seq {
				cp := cps[0]
				cps = cps[1:]
				if err := enc.Encode(exportLine{Type: "checkpoint", Checkpoint: &cp}); err != nil {
					return n, err
				}
			}
		}
		if len(rows) < pageSize {
			break
		}
		last = rows[len(rows)-1].Seq.Int64
	}
	if err := enc.Encode(exportLine{Type: "end", Count: &n}); err != nil {
		return n, err
	}
	return n, bw.Flush()
}

// VerifyExport checks an export offline: every event's hash and link, every
// checkpoint's signature and that it matches its event, the head and the end
// line. keys are the trusted public keys; when empty, the keys in the file's
// header are used and a note says so (whoever forged the file could have
// forged those too: pass the published key). An export from --since N trusts
// its first event's prev_hash.
func VerifyExport(r io.Reader, keys Keys) (*Report, error) {
	start := time.Now()
	rep := &Report{}
	fail := func(p *Problem) (*Report, error) {
		rep.Problem, rep.Took = p, time.Since(start)
		return rep, nil
	}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), 64<<20)
	w := &walker{}
	var hdr *exportLine
	var ended, partial bool
	line := 0
	for sc.Scan() {
		line++
		if len(sc.Bytes()) == 0 {
			continue
		}
		var l exportLine
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			return nil, fmt.Errorf("line %d: %w", line, err)
		}
		if ended {
			return fail(&Problem{Kind: "inserted", Message: fmt.Sprintf("line %d follows the end line (appended?)", line)})
		}
		switch l.Type {
		case "header":
			if hdr != nil || line != 1 {
				return nil, fmt.Errorf("line %d: a second header", line)
			}
			if l.Format != ExportFormat {
				return nil, fmt.Errorf("line 1: format %q, want %q", l.Format, ExportFormat)
			}
			hdr = &l
			if len(keys) == 0 {
				keys = Keys{}
				for _, k := range l.Keys {
					b, err := hex.DecodeString(k.Key)
					if err != nil || len(b) != ed25519.PublicKeySize {
						return nil, fmt.Errorf("line 1: public key %q is not %d bytes of hex", k.Key, ed25519.PublicKeySize)
					}
					keys.Add(ed25519.PublicKey(b))
				}
				rep.Notes = append(rep.Notes, "checkpoint signatures were checked against the keys in the file itself; pass the published public key to check against it")
			}
			if l.HeadSeq != nil {
				rep.HeadSeq, rep.HeadHash = *l.HeadSeq, l.HeadHash
			}
			if l.Since != nil && *l.Since > 0 {
				partial = true
				w.prevSeq = *l.Since // so a missing first event reads as a gap
			}
		case "event":
			if hdr == nil {
				return nil, fmt.Errorf("line %d: no header line first", line)
			}
			x := l.Event
			if x == nil {
				return nil, fmt.Errorf("line %d: event line without an event", line)
			}
			at, err := time.Parse(time.RFC3339Nano, x.At)
			if err != nil {
				return nil, fmt.Errorf("line %d: at: %w", line, err)
			}
			e := Event{ID: x.ID, Seq: x.Seq, At: at, Actor: x.Actor, Action: x.Action, ObjectType: x.ObjectType,
				ObjectID: x.ObjectID, Details: x.Details, PrevHash: x.PrevHash, Hash: x.Hash}
			if w.n == 0 && partial {
				w.prevHash = e.PrevHash // a partial export trusts its first link
			}
			if p := w.event(e); p != nil {
				rep.Events, rep.Checkpoints = w.n, w.checked
				return fail(p)
			}
		case "checkpoint":
			cp := l.Checkpoint
			if cp == nil {
				return nil, fmt.Errorf("line %d: checkpoint line without a checkpoint", line)
			}
			if p := checkSignature(*cp, keys); p != nil {
				return fail(p)
			}
			if cp.Seq != w.prevSeq {
				return fail(&Problem{Seq: cp.Seq, CheckpointID: cp.ID, Kind: "checkpoint",
					Message: fmt.Sprintf("line %d: checkpoint %d (seq %d) does not follow its event (seq %d precedes it: events removed or moved?)", line, cp.ID, cp.Seq, w.prevSeq)})
			}
			w.cps = []Checkpoint{*cp}
			if p := w.matchCheckpoints(w.prevID, w.prevSeq, w.prevHash); p != nil {
				return fail(p)
			}
			c := *cp
			rep.Last = &c
		case "end":
			ended = true
			if l.Count == nil || *l.Count != w.n {
				return fail(&Problem{Kind: "deleted", Message: fmt.Sprintf("the end line counts %v events, the file has %d (lines removed?)", l.Count, w.n)})
			}
		default:
			return nil, fmt.Errorf("line %d: unknown type %q", line, l.Type)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	rep.Events, rep.Checkpoints = w.n, w.checked
	if hdr == nil {
		return nil, fmt.Errorf("empty file: no header line")
	}
	if !ended {
		return fail(&Problem{Kind: "deleted", Message: "the file has no end line (cut off?)"})
	}
	if w.prevSeq != rep.HeadSeq || (w.prevHash != rep.HeadHash && (w.n > 0 || !partial)) {
		return fail(&Problem{Seq: w.prevSeq, Kind: "head",
			Message: fmt.Sprintf("the last event (seq %d) is not the head the header names (seq %d)", w.prevSeq, rep.HeadSeq)})
	}
	rep.OK, rep.Took = true, time.Since(start)
	return rep, nil
}
