package pow_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/dockethq/docket/internal/database"
	"github.com/dockethq/docket/internal/testdb"
	"github.com/dockethq/docket/pow"
)

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

func spend(t *testing.T, db *database.DB, is *pow.Issuer, ch *pow.Challenge) error {
	t.Helper()
	return db.W.Transaction(func(tx *gorm.DB) error { return is.Spend(tx, ch) })
}

func TestChallenge(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		clk := &clock{t: time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)}
		is := pow.New(db, clk.now)
		is.Bits = 8
		tok, err := is.Issue(ctx)
		if err != nil {
			t.Fatal(err)
		}
		// Valid work is accepted at once, and only once.
		sol := pow.Solve(tok, 8)
		ch, err := is.Check(ctx, tok, sol)
		if err != nil || !ch.Solved {
			t.Fatalf("valid solution: %v", err)
		}
		if err := spend(t, db, is, ch); err != nil {
			t.Fatalf("first spend: %v", err)
		}
		if _, err := is.Check(ctx, tok, sol); err != nil {
			t.Fatalf("check does not spend: %v", err)
		}
		if err := spend(t, db, is, ch); !errors.Is(err, pow.ErrReplayed) {
			t.Fatalf("replay: %v, want ErrReplayed", err)
		}

		// Wrong work, tampered tokens, a token from another key.
		tok2, _ := is.Issue(ctx)
		bad := "0"
		for pow.Verify(tok2, bad, 8) {
			bad += "1"
		}
		if _, err := is.Check(ctx, tok2, bad); !errors.Is(err, pow.ErrInvalid) {
			t.Errorf("wrong solution: %v", err)
		}
		b := []byte(tok2)
		if b[5] == 'B' {
			b[5] = 'A'
		} else {
			b[5] = 'B'
		}
		flip := string(b)
		for _, tc := range []string{"x", tok2 + "x", flip, strings.Replace(tok2, ".", ".A", 1), tok2[:len(tok2)-2]} {
			if _, err := is.Check(ctx, tc, pow.Solve(tc, 8)); err == nil {
				t.Errorf("tampered token %q accepted", tc)
			}
		}
		if _, err := is.Check(ctx, "", ""); !errors.Is(err, pow.ErrMissing) {
			t.Errorf("no token: %v", err)
		}
		// A challenge issued easier than the issuer now asks is refused.
		is.Bits = 10
		if _, err := is.Check(ctx, tok2, pow.Solve(tok2, 8)); !errors.Is(err, pow.ErrInvalid) {
			t.Errorf("too easy: %v", err)
		}
		is.Bits = 8

		// The key is in the database: a second instance accepts the first's tokens.
		other := pow.New(db, clk.now)
		other.Bits = 8
		if _, err := other.Check(ctx, tok2, pow.Solve(tok2, 8)); err != nil {
			t.Errorf("second instance: %v", err)
		}

		// Without a solution: refused until MinWait has passed, then accepted.
		tok3, _ := is.Issue(ctx)
		clk.add(is.MinWait - time.Second)
		var soon *pow.TooSoonError
		if _, err := is.Check(ctx, tok3, ""); !errors.As(err, &soon) || soon.Wait != time.Second {
			t.Fatalf("early, no solution: %v", err)
		}
		clk.add(time.Second)
		ch3, err := is.Check(ctx, tok3, "")
		if err != nil || ch3.Solved {
			t.Fatalf("after the wait: %v", err)
		}
		if err := spend(t, db, is, ch3); err != nil {
			t.Fatal(err)
		}

		// Expired challenges are refused, and spent ids are pruned after expiry.
		clk.add(is.MaxAge + time.Second)
		if _, err := is.Check(ctx, tok2, pow.Solve(tok2, 8)); !errors.Is(err, pow.ErrExpired) {
			t.Errorf("expired: %v", err)
		}
		clk.add(2 * time.Minute)
		tok4, _ := is.Issue(ctx)
		ch4, _ := is.Check(ctx, tok4, pow.Solve(tok4, 8))
		if err := spend(t, db, is, ch4); err != nil {
			t.Fatal(err)
		}
		var n int64
		db.R.Table("form_challenges_spent").Count(&n)
		if n != 1 {
			t.Errorf("%d spent rows, want the old ones pruned and one left", n)
		}
	})
}

func TestVerify(t *testing.T) {
	for _, s := range []string{"", "-1", "1e3", "0x10", "123456789012345678901", " 1"} {
		if pow.Verify("t", s, 0) {
			t.Errorf("solution %q accepted", s)
		}
	}
	tok := "abc.def"
	s := pow.Solve(tok, 12)
	if !pow.Verify(tok, s, 12) || pow.Verify(tok+"x", s, 12) && pow.Verify(tok+"x", s, 32) {
		t.Errorf("Solve/Verify disagree")
	}
}

func FuzzDecode(f *testing.F) {
	f.Add("AQAAAAAAAAAAAAAAAAAAAAAAAABp7Tg4EA.c2lnbmF0dXJlc2lnbmF0dXJlc2lnbmF0dXJlc2lnbmE")
	f.Add("")
	f.Add(".")
	f.Add("AQ.AQ")
	f.Fuzz(func(t *testing.T, s string) {
		d, err := pow.Decode(s)
		if err != nil {
			return
		}
		if d.Bits > pow.MaxBits || len(d.ID) != 32 || len(d.MAC) != 32 {
			t.Errorf("decoded out of range: %+v", d)
		}
		_ = pow.Verify(s, "1", d.Bits)
	})
}
