package audit_test

import (
	"bytes"
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/dockethq/docket/audit"
	"github.com/dockethq/docket/internal/database"
	"github.com/dockethq/docket/internal/testdb"
	"github.com/dockethq/docket/migrations"
)

// seed records n events, one transaction each, with awkward values: times with
// nanoseconds in another zone, details with non-ASCII text and escapes.
func seed(t *testing.T, db *database.DB, n int) {
	t.Helper()
	zone := time.FixedZone("x", 5*3600+1800)
	base := time.Date(2026, 12, 1, 10, 0, 0, 123456789, zone)
	for i := range n {
		err := db.W.Transaction(func(tx *gorm.DB) error {
			return audit.Record(tx, base.Add(time.Duration(i)*time.Second), "user:1", "case.note", "case", "7",
				map[string]any{"i": i, "text": "Zürich <b>&\"\n\u2028", "float": 1.5})
		})
		if err != nil {
			t.Fatal(err)
		}
	}
}

// verify seals what has committed (PostgreSQL), then verifies.
func verify(t *testing.T, db *database.DB) *audit.Report {
	t.Helper()
	if _, err := audit.Seal(context.Background(), db.W); err != nil {
		t.Fatal(err)
	}
	return verifyOnly(t, db)
}

// verifyOnly verifies without sealing first.
func verifyOnly(t *testing.T, db *database.DB) *audit.Report {
	t.Helper()
	rep, err := audit.NewChain(db, audit.Options{}).Verify(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

func exec(t *testing.T, db *database.DB, q string, args ...any) {
	t.Helper()
	if err := db.W.Exec(q, args...).Error; err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}

func idAt(t *testing.T, db *database.DB, seq int64) int64 {
	t.Helper()
	var id int64
	db.R.Raw(`SELECT id FROM audit_events WHERE seq = ?`, seq).Scan(&id)
	if id == 0 {
		t.Fatalf("no event at seq %d", seq)
	}
	return id
}

func TestUntouchedChainVerifies(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		seed(t, db, 5)
		evs := make([]audit.Event, 3)
		for i := range evs {
			evs[i] = audit.Event{At: time.Now(), Actor: "system", Action: "report.filed", ObjectType: "report", ObjectID: "R" + string(rune('a'+i))}
		}
		if err := db.W.Transaction(func(tx *gorm.DB) error { return audit.RecordAll(tx, evs) }); err != nil {
			t.Fatal(err)
		}
		// On PostgreSQL seq is given by Seal after commit, so seal and read it back.
		if _, err := audit.Seal(context.Background(), db.W); err != nil {
			t.Fatal(err)
		}
		var seq int64
		db.R.Raw(`SELECT seq FROM audit_events WHERE id = ?`, evs[2].ID).Scan(&seq)
		if seq != 8 || evs[0].ID == 0 || evs[0].Details != "{}" {
			t.Errorf("RecordAll: seq %d, %+v", seq, evs[0])
		}
		// Outside a transaction Record opens its own.
		if err := audit.Record(db.W, time.Now(), "system", "x", "y", "z", nil); err != nil {
			t.Fatal(err)
		}
		rep := verify(t, db)
		if !rep.OK || rep.Events != 9 || rep.HeadSeq != 9 {
			t.Fatalf("untouched chain: %+v %v", rep, rep.Problem)
		}
		// The hash is recomputable from what the database gives back.
		var e audit.Event
		db.R.Where("seq = 2").Take(&e)
		if audit.HashEvent(e.PrevHash, e) != e.Hash {
			t.Errorf("hash of the row as read back differs")
		}
	})
}

func TestTamperingIsNamed(t *testing.T) {
	cases := []struct {
		name   string
		tamper func(t *testing.T, db *database.DB) int64 // returns the event id the report must name (0: none)
		kind   string
		want   string
	}{
		{"update details", func(t *testing.T, db *database.DB) int64 {
			id := idAt(t, db, 3)
			exec(t, db, `UPDATE audit_events SET details = '{"i":99}' WHERE id = ?`, id)
			return id
		}, "edited", "hash does not match its contents"},
		{"update actor", func(t *testing.T, db *database.DB) int64 {
			id := idAt(t, db, 4)
			exec(t, db, `UPDATE audit_events SET actor = 'user:2' WHERE id = ?`, id)
			return id
		}, "edited", "(seq 4): hash does not match"},
		{"update at", func(t *testing.T, db *database.DB) int64 {
			id := idAt(t, db, 2)
			exec(t, db, `UPDATE audit_events SET at = ? WHERE id = ?`, time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), id)
			return id
		}, "edited", "edited?"},
		{"delete middle", func(t *testing.T, db *database.DB) int64 {
			exec(t, db, `DELETE FROM audit_events WHERE id = ?`, idAt(t, db, 3))
			return idAt(t, db, 4)
		}, "deleted", "seq 3 missing (deleted?)"},
		{"delete last", func(t *testing.T, db *database.DB) int64 {
			exec(t, db, `DELETE FROM audit_events WHERE id = ?`, idAt(t, db, 6))
			return 0
		}, "deleted", "seq 6 to 6 missing"},
		{"insert plain row", func(t *testing.T, db *database.DB) int64 {
			exec(t, db, `INSERT INTO audit_events (id, at, actor, action, object_type, object_id, details) VALUES (900, ?, 'user:1', 'case.note', 'case', '7', '{}')`, time.Now())
			return 900
		}, "inserted", "event 900 is not in the chain (inserted?)"},
		{"insert forged link past the head", func(t *testing.T, db *database.DB) int64 {
			var last audit.Event
			db.R.Where("seq = 6").Take(&last)
			e := audit.Event{ID: 901, Seq: 7, At: time.Now().UTC().Truncate(time.Microsecond), Actor: "user:1", Action: "case.note", ObjectType: "case", ObjectID: "7", Details: "{}", PrevHash: last.Hash}
			e.Hash = audit.HashEvent(e.PrevHash, e)
			if err := db.W.Create(&e).Error; err != nil {
				t.Fatal(err)
			}
			return 901
		}, "inserted", "event 901 (seq 7) is past the chain's head"},
		{"insert forged seq with garbage hash", func(t *testing.T, db *database.DB) int64 {
			exec(t, db, `INSERT INTO audit_events (id, at, actor, action, object_type, object_id, details, seq, prev_hash, hash) VALUES (902, ?, 'user:1', 'case.note', 'case', '7', '{}', 7, 'x', 'y')`, time.Now())
			return 902
		}, "inserted", "event 902 (seq 7) is past the chain's head"},
		{"insert a duplicate seq past a dropped index", func(t *testing.T, db *database.DB) int64 {
			exec(t, db, `DROP INDEX audit_events_seq_idx`)
			var e audit.Event
			db.R.Where("seq = 3").Take(&e)
			exec(t, db, `INSERT INTO audit_events (id, at, actor, action, object_type, object_id, details, seq, prev_hash, hash) VALUES (903, ?, ?, ?, ?, ?, ?, 3, ?, ?)`,
				e.At, e.Actor, e.Action, e.ObjectType, e.ObjectID, e.Details, e.PrevHash, e.Hash)
			return 903
		}, "inserted", "event 903 (seq 3) repeats a seq"},
		{"edit and rehash one row", func(t *testing.T, db *database.DB) int64 {
			var e audit.Event
			db.R.Where("seq = 3").Take(&e)
			e.Details = `{"i":2,"text":"nothing to see"}`
			exec(t, db, `UPDATE audit_events SET details = ?, hash = ? WHERE id = ?`, e.Details, audit.HashEvent(e.PrevHash, e), e.ID)
			return idAt(t, db, 4)
		}, "relinked", "does not link to event"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			testdb.Each(t, func(t *testing.T, db *database.DB) {
				seed(t, db, 6)
				if rep := verify(t, db); !rep.OK {
					t.Fatalf("before tampering: %v", rep.Problem.Message)
				}
				id := c.tamper(t, db)
				rep := verify(t, db)
				if rep.OK {
					t.Fatalf("tampered chain verifies: %+v", rep)
				}
				p := rep.Problem
				if p.Kind != c.kind || !strings.Contains(p.Message, c.want) || (id != 0 && p.EventID != id) {
					t.Errorf("problem = %+v, want kind %s, event %d, message with %q", p, c.kind, id, c.want)
				}
				if id != 0 && !strings.Contains(p.Message, "event "+itoa(id)) {
					t.Errorf("message %q does not name event %d", p.Message, id)
				}
			})
		})
	}
}

func itoa(n int64) string { return fmtInt(n) }

func fmtInt(n int64) string {
	if n == 0 {
		return "0"
	}
	var b []byte
	for n > 0 {
		b = append([]byte{byte('0' + n%10)}, b...)
		n /= 10
	}
	return string(b)
}

func TestCheckpoints(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		ch := audit.NewChain(db, audit.Options{})
		if cp, _, err := ch.Checkpoint(ctx, false, "system:test"); err != nil || cp != nil {
			t.Fatalf("checkpoint of an empty chain: %v %v", cp, err)
		}
		seed(t, db, 4)
		cp, _, err := ch.Checkpoint(ctx, false, "system:test")
		if err != nil || cp == nil || cp.Seq != 4 {
			t.Fatalf("checkpoint: %+v %v", cp, err)
		}
		if again, _, err := ch.Checkpoint(ctx, false, "system:test"); err != nil || again != nil {
			t.Errorf("a second checkpoint with nothing new: %+v %v", again, err)
		}
		seed(t, db, 3)
		if cp2, rep, err := ch.Checkpoint(ctx, false, "system:test"); err != nil || cp2 == nil || cp2.Seq != 7 || rep.Events != 3 {
			t.Fatalf("incremental checkpoint: %+v %+v %v", cp2, rep, err)
		}
		rep := verify(t, db)
		if !rep.OK || rep.Checkpoints != 2 || rep.Last == nil || rep.Last.Seq != 7 {
			t.Fatalf("verify with checkpoints: %+v", rep)
		}

		t.Run("forged signature", func(t *testing.T) {
			exec(t, db, `UPDATE audit_checkpoints SET signature = ? WHERE id = ?`, strings.Repeat("ab", 64), cp.ID)
			rep := verify(t, db)
			if rep.OK || rep.Problem.CheckpointID != cp.ID || !strings.Contains(rep.Problem.Message, "signature does not verify") {
				t.Errorf("forged signature: %+v", rep.Problem)
			}
			var sig string
			db.R.Raw(`SELECT signature FROM audit_checkpoints WHERE id <> ?`, cp.ID).Scan(&sig)
			exec(t, db, `UPDATE audit_checkpoints SET signature = ? WHERE id = ?`, cp.Signature, cp.ID)
		})
		t.Run("recomputed chain", func(t *testing.T) {
			// An edit followed by recomputing every later hash and the head:
			// internally consistent, but no longer what the checkpoints signed.
			var evs []audit.Event
			db.R.Where("seq >= 2").Order("seq").Find(&evs)
			var prev string
			db.R.Raw(`SELECT hash FROM audit_events WHERE seq = 1`).Scan(&prev)
			evs[0].Details = `{"rewritten":true}`
			for _, e := range evs {
				e.PrevHash = prev
				e.Hash = audit.HashEvent(prev, e)
				exec(t, db, `UPDATE audit_events SET details = ?, prev_hash = ?, hash = ? WHERE id = ?`, e.Details, e.PrevHash, e.Hash, e.ID)
				prev = e.Hash
			}
			exec(t, db, `UPDATE audit_chain SET hash = ?`, prev)
			rep := verify(t, db)
			if rep.OK || rep.Problem.Kind != "checkpoint" || rep.Problem.CheckpointID != cp.ID || rep.Problem.Seq != 4 {
				t.Fatalf("recomputed chain: %+v", rep.Problem)
			}
			if !strings.Contains(rep.Problem.Message, "rewritten") {
				t.Errorf("message: %s", rep.Problem.Message)
			}
			// And the timer refuses to sign over it.
			seed(t, db, 1)
			if cp, _, err := ch.Checkpoint(ctx, false, "system:test"); err == nil || cp != nil {
				t.Errorf("checkpoint signed a rewritten chain: %+v %v", cp, err)
			}
			// and keeps the broken result as the latest verification.
			v, err := audit.LastVerification(ctx, db.R)
			if err != nil || v == nil || v.OK || v.Actor != "system:test" || !strings.Contains(v.Problem, "seq 8") {
				t.Errorf("latest verification after the refused checkpoint: %+v %v", v, err)
			}
		})
	})
}

func TestConcurrentRecordOnPostgres(t *testing.T) {
	db := testdb.Open(t, database.Postgres)
	var wg sync.WaitGroup
	const workers, each = 16, 25
	for w := range workers {
		wg.Go(func() {
			for i := range each {
				err := db.W.Transaction(func(tx *gorm.DB) error {
					if i%5 == 0 {
						evs := []audit.Event{{At: time.Now(), Actor: "system", Action: "a", ObjectType: "w", ObjectID: fmtInt(int64(w))},
							{At: time.Now(), Actor: "system", Action: "b", ObjectType: "w", ObjectID: fmtInt(int64(w))}}
						return audit.RecordAll(tx, evs)
					}
					return audit.Record(tx, time.Now(), "system", "a", "w", fmtInt(int64(w)), map[string]int{"i": i})
				})
				if err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	// A rolled-back transaction leaves no trace in the chain.
	_ = db.W.Transaction(func(tx *gorm.DB) error {
		if err := audit.Record(tx, time.Now(), "system", "rolled.back", "w", "x", nil); err != nil {
			return err
		}
		return gorm.ErrInvalidData
	})
	wg.Wait()
	rep := verify(t, db)
	want := int64(workers * (each + each/5))
	if !rep.OK || rep.Events != want || rep.HeadSeq != want {
		t.Fatalf("concurrent chain: %+v %v, want %d events", rep, rep.Problem, want)
	}
}

// TestLegacyRowsChainedOnMigrate upgrades a database with audit events from
// before the chain: migrating chains them, later events follow them.
func TestLegacyRowsChainedOnMigrate(t *testing.T) {
	for _, d := range testdb.Dialects {
		t.Run(string(d), func(t *testing.T) {
			ctx := context.Background()
			db := testdb.OpenEmpty(t, d)
			p, err := migrations.Provider(db)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := p.UpTo(ctx, 34); err != nil {
				t.Fatal(err)
			}
			for i := range 5 {
				exec(t, db, `INSERT INTO audit_events (at, actor, action, object_type, object_id, details) VALUES (?, 'system', 'old', 'case', '1', '{"n":1}')`,
					time.Date(2026, 11, 1, 0, 0, i, 987654321, time.UTC))
			}
			if err := migrations.Up(ctx, db); err != nil {
				t.Fatal(err)
			}
			seed(t, db, 2)
			rep := verify(t, db)
			if !rep.OK || rep.Events != 7 {
				t.Fatalf("after migrating: %+v %v", rep, rep.Problem)
			}
			var firstSeq int64
			db.R.Raw(`SELECT seq FROM audit_events ORDER BY id LIMIT 1`).Scan(&firstSeq)
			if firstSeq != 1 {
				t.Errorf("the oldest event has seq %d", firstSeq)
			}
			if n, err := audit.ChainLegacy(ctx, db.W); err != nil || n != 0 {
				t.Errorf("second ChainLegacy: %d %v", n, err)
			}
			// Down and up again: the chain is dropped and rebuilt from the rows.
			if _, err := p.DownTo(ctx, 34); err != nil {
				t.Fatalf("down to 34: %v", err)
			}
			if err := migrations.Up(ctx, db); err != nil {
				t.Fatal(err)
			}
			if rep := verify(t, db); !rep.OK || rep.Events != 7 {
				t.Fatalf("after down and up: %+v %v", rep, rep.Problem)
			}
		})
	}
}

func TestExportVerifiesOffline(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		ch := audit.NewChain(db, audit.Options{})
		seed(t, db, 3)
		if _, _, err := ch.Checkpoint(ctx, false, "system:test"); err != nil {
			t.Fatal(err)
		}
		seed(t, db, 2)
		var buf bytes.Buffer
		n, err := ch.Export(ctx, &buf, 0)
		if err != nil || n != 5 {
			t.Fatalf("export: %d %v", n, err)
		}
		pub, _ := ch.PublicKey(ctx)
		keys := audit.Keys{}
		keys.Add(pub)
		rep, err := audit.VerifyExport(bytes.NewReader(buf.Bytes()), keys)
		if err != nil || !rep.OK || rep.Events != 5 || rep.Checkpoints != 1 {
			t.Fatalf("verify export: %+v %v", rep, err)
		}
		// Partial export from seq 3.
		var part bytes.Buffer
		if _, err := ch.Export(ctx, &part, 3); err != nil {
			t.Fatal(err)
		}
		if rep, err := audit.VerifyExport(&part, keys); err != nil || !rep.OK || rep.Events != 2 {
			t.Fatalf("verify partial export: %+v %v", rep, err)
		}
		// An export from the head has no events and still verifies.
		var none bytes.Buffer
		if _, err := ch.Export(ctx, &none, 5); err != nil {
			t.Fatal(err)
		}
		if rep, err := audit.VerifyExport(&none, keys); err != nil || !rep.OK || rep.Events != 0 {
			t.Fatalf("verify an empty partial export: %+v %v", rep, err)
		}
		lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
		edited := strings.Replace(lines[2], `case.note`, `case.gone`, 1)
		bad := strings.Join(append(append(append([]string{}, lines[:2]...), edited), lines[3:]...), "\n")
		rep, err = audit.VerifyExport(strings.NewReader(bad), keys)
		if err != nil || rep.OK || rep.Problem.Kind != "edited" || rep.Problem.Seq != 2 {
			t.Fatalf("edited export: %+v %v", rep, err)
		}
		cut := strings.Join(lines[:len(lines)-2], "\n")
		if rep, err := audit.VerifyExport(strings.NewReader(cut), keys); err != nil || rep.OK {
			t.Fatalf("cut export: %+v %v", rep, err)
		}
	})
}

// TestSealOnPostgres: events commit pending and are chained by Seal, in
// batches, from any number of sealers at once; a pending event is work in
// progress until it has waited PendingGrace, then a fault.
func TestSealOnPostgres(t *testing.T) {
	db := testdb.Open(t, database.Postgres)
	ctx := context.Background()
	seed(t, db, 3)
	var pending int64
	db.R.Raw(`SELECT COUNT(*) FROM audit_events WHERE seq = -1`).Scan(&pending)
	if pending != 3 {
		t.Fatalf("after commit: %d pending events, want 3", pending)
	}
	// Read-only Verify counts them and stays intact.
	rep := verifyOnly(t, db)
	if !rep.OK || rep.Events != 0 || rep.Pending != 3 || len(rep.Notes) == 0 {
		t.Fatalf("before sealing: %+v %v", rep, rep.Problem)
	}
	ch := audit.NewChain(db, audit.Options{})
	if n, err := ch.Seal(ctx); err != nil || n != 3 {
		t.Fatalf("seal: %d %v", n, err)
	}
	if n, err := ch.Seal(ctx); err != nil || n != 0 {
		t.Fatalf("second seal: %d %v, want nothing left", n, err)
	}
	if rep := verify(t, db); !rep.OK || rep.Events != 3 || rep.Pending != 0 || rep.HeadSeq != 3 {
		t.Fatalf("after sealing: %+v %v", rep, rep.Problem)
	}

	// Eight sealers racing 12,000 events written by as many writers, more
	// than two seal batches: every event sealed once, the chain intact.
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for range 8 {
		wg.Go(func() {
			for {
				if _, err := ch.Seal(ctx); err != nil {
					t.Error(err)
					return
				}
				select {
				case <-stop:
					return
				default:
				}
			}
		})
	}
	var writers sync.WaitGroup
	for w := range 8 {
		writers.Go(func() {
			for range 15 {
				evs := make([]audit.Event, 100)
				for i := range evs {
					evs[i] = audit.Event{At: time.Now(), Actor: "system", Action: "bulk", ObjectType: "w", ObjectID: fmtInt(int64(w))}
				}
				if err := audit.RecordAll(db.W, evs); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	writers.Wait()
	close(stop)
	wg.Wait()
	if _, err := ch.Seal(ctx); err != nil {
		t.Fatal(err)
	}
	if rep := verify(t, db); !rep.OK || rep.Events != 12003 || rep.Pending != 0 {
		t.Fatalf("after racing sealers: %+v %v", rep, rep.Problem)
	}

	// An event left pending past the grace is a fault that names it.
	seed(t, db, 1)
	var id int64
	db.R.Raw(`SELECT id FROM audit_events WHERE seq = -1`).Scan(&id)
	exec(t, db, `UPDATE audit_events SET stored_at = stored_at - interval '6 minutes' WHERE id = ?`, id)
	rep = verifyOnly(t, db)
	if rep.OK || rep.Problem.Kind != "unsealed" || rep.Problem.EventID != id || !strings.Contains(rep.Problem.Message, "not sealed") {
		t.Fatalf("stale pending event: %+v %v", rep, rep.Problem)
	}
	if rep, err := ch.VerifyAndStore(ctx, "system:test"); err != nil || !rep.OK || rep.Events != 12004 {
		t.Fatalf("VerifyAndStore seals first: %+v %v", rep, err)
	}
}
