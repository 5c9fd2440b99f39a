package signedlink_test

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dockethq/docket/internal/database"
	"github.com/dockethq/docket/internal/secrets"
	"github.com/dockethq/docket/internal/signedlink"
	"github.com/dockethq/docket/internal/testdb"
)

var key = bytes.Repeat([]byte{7}, 32)

func TestSignVerify(t *testing.T) {
	now := time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	s, err := signedlink.New(key, clock)
	if err != nil {
		t.Fatal(err)
	}
	tok := s.Sign("respond", 42, time.Hour)
	id, exp, err := s.Verify("respond", tok)
	if err != nil || id != 42 || !exp.Equal(now.Add(time.Hour)) {
		t.Fatalf("Verify = %d, %v, %v; want 42, %v, nil", id, exp, err, now.Add(time.Hour))
	}
	if _, _, err := s.Verify("appeal", tok); !errors.Is(err, signedlink.ErrInvalid) {
		t.Errorf("token for another purpose: %v, want ErrInvalid", err)
	}
	other, _ := signedlink.New(bytes.Repeat([]byte{8}, 32), clock)
	if _, _, err := other.Verify("respond", tok); !errors.Is(err, signedlink.ErrInvalid) {
		t.Errorf("token under another key: %v, want ErrInvalid", err)
	}
	// Flip each character of the payload and of the MAC: every change is refused.
	for i := range tok {
		if tok[i] == '.' {
			continue
		}
		b := []byte(tok)
		b[i] ^= 1
		if id, _, err := s.Verify("respond", string(b)); err == nil {
			t.Fatalf("tampered token (byte %d) accepted as id %d", i, id)
		}
	}
	// Other spellings of the same bytes: CR or LF anywhere (the base64
	// decoder skips them) is refused, so a link has one spelling only.
	for i := 1; i < len(tok); i++ {
		for _, nl := range []string{"\r", "\n"} {
			if id, _, err := s.Verify("respond", tok[:i]+nl+tok[i:]); err == nil {
				t.Fatalf("token with %q at %d accepted as id %d", nl, i, id)
			}
		}
	}
	now = now.Add(time.Hour)
	if id, _, err := s.Verify("respond", tok); !errors.Is(err, signedlink.ErrExpired) || id != 42 {
		t.Errorf("at expiry: %d, %v; want 42, ErrExpired", id, err)
	}
	for _, bad := range []string{"", ".", "abc", "a.b", strings.Repeat("A", 600) + ".x"} {
		if _, _, err := s.Verify("respond", bad); !errors.Is(err, signedlink.ErrInvalid) {
			t.Errorf("Verify(%q) = %v, want ErrInvalid", bad, err)
		}
	}
	if _, err := signedlink.New([]byte("short"), clock); err == nil {
		t.Error("a short key was accepted")
	}
}

// TestLoadShared: two signers loaded concurrently from one database (two
// instances starting at once) share a key, on both dialects.
func TestLoadShared(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		var wg sync.WaitGroup
		signers := make([]*signedlink.Signer, 8)
		errs := make([]error, 8)
		for i := range signers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				signers[i], errs[i] = signedlink.Load(ctx, db, time.Now)
			}()
		}
		wg.Wait()
		for i, err := range errs {
			if err != nil {
				t.Fatalf("Load %d: %v", i, err)
			}
		}
		tok := signers[0].Sign("appeal", 9, time.Hour)
		for i, s := range signers {
			if id, _, err := s.Verify("appeal", tok); err != nil || id != 9 {
				t.Errorf("signer %d: %d, %v", i, id, err)
			}
		}
		a, _ := secrets.Get(ctx, db, "another")
		b, _ := secrets.Get(ctx, db, signedlink.SecretName)
		if len(a) != secrets.Size || bytes.Equal(a, b) {
			t.Errorf("secrets are not per name: %x vs %x", a, b)
		}
	})
}

func FuzzVerify(f *testing.F) {
	s, _ := signedlink.New(key, time.Now)
	f.Add(s.Sign("respond", 1, time.Hour))
	f.Add("djF8cmVzcG9uZHwxfDE.AAAA")
	f.Add("djF8cmVzcG9uZHwxfDE3OTYyMjMyODQ.n1Th9FlqSh8KteKU3NaGzRWh8Zx1PTDg\raD9xSRgCfR7") // a CR in the MAC, once accepted
	f.Add("")
	f.Fuzz(func(t *testing.T, tok string) {
		id, _, err := s.Verify("respond", tok)
		if err == nil && id <= 0 {
			t.Fatalf("accepted id %d", id)
		}
		if err == nil && tok != s.SignUntil("respond", id, mustExp(t, s, tok)) {
			t.Fatalf("accepted a token Sign would not make: %q", tok)
		}
	})
}

func mustExp(t *testing.T, s *signedlink.Signer, tok string) time.Time {
	_, exp, _ := s.Verify("respond", tok)
	return exp
}
