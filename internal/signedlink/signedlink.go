// Package signedlink makes and checks the links Docket mails to people without
// an account — a customer answering a forwarded report, a customer or reporter
// appealing a decision. A link carries a purpose, the id of what it opens and an
// expiry, authenticated with HMAC-SHA256 under a key kept in the database
// (internal/secrets), so every instance accepts every other's links.
//
// A token is base64url(payload) "." base64url(mac), payload being
// "v1|purpose|id|expiry-unix". The purpose is inside the MAC: a response link
// cannot be replayed as an appeal link for the same id.
package signedlink

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/dockethq/docket/internal/database"
	"github.com/dockethq/docket/internal/secrets"
)

// Errors Verify returns. Both mean "do not open the page"; they differ so the
// page can tell a person whose link merely expired what to do next.
var (
	ErrInvalid = errors.New("signedlink: the link is not valid")
	ErrExpired = errors.New("signedlink: the link has expired")
)

// SecretName is the app_secrets row holding the key.
const SecretName = "signed_links"

// maxToken bounds what Verify will look at; a real token is under 100 bytes.
const maxToken = 512

// Signer signs and verifies links.
type Signer struct {
	key []byte
	now func() time.Time
}

// New returns a signer with key (at least 32 bytes) and clock now.
func New(key []byte, now func() time.Time) (*Signer, error) {
	if len(key) < secrets.Size {
		return nil, errors.New("signedlink: key shorter than 32 bytes")
	}
	return &Signer{key: key, now: now}, nil
}

// Load returns a signer whose key is the database's (created on first use).
func Load(ctx context.Context, db *database.DB, now func() time.Time) (*Signer, error) {
	key, err := secrets.Get(ctx, db, SecretName)
	if err != nil {
		return nil, err
	}
	return New(key, now)
}

// Sign returns a token for purpose and id, valid for ttl from now.
func (s *Signer) Sign(purpose string, id int64, ttl time.Duration) string {
	return s.SignUntil(purpose, id, s.now().Add(ttl))
}

// SignUntil returns a token for purpose and id, valid until exp.
func (s *Signer) SignUntil(purpose string, id int64, exp time.Time) string {
	payload := "v1|" + purpose + "|" + strconv.FormatInt(id, 10) + "|" + strconv.FormatInt(exp.Unix(), 10)
	enc := base64.RawURLEncoding
	return enc.EncodeToString([]byte(payload)) + "." + enc.EncodeToString(s.mac(payload))
}

// Verify checks token for purpose and returns the id it names and its expiry.
func (s *Signer) Verify(purpose, token string) (int64, time.Time, error) {
	if len(token) > maxToken {
		return 0, time.Time{}, ErrInvalid
	}
	p64, m64, ok := strings.Cut(token, ".")
	if !ok {
		return 0, time.Time{}, ErrInvalid
	}
	payload, err1 := decodeCanonical(p64)
	mac, err2 := decodeCanonical(m64)
	if err1 != nil || err2 != nil || !hmac.Equal(mac, s.mac(string(payload))) {
		return 0, time.Time{}, ErrInvalid
	}
	parts := strings.Split(string(payload), "|")
	if len(parts) != 4 || parts[0] != "v1" || parts[1] != purpose {
		return 0, time.Time{}, ErrInvalid
	}
	id, err1 := strconv.ParseInt(parts[2], 10, 64)
	exp, err2 := strconv.ParseInt(parts[3], 10, 64)
	if err1 != nil || err2 != nil || id <= 0 {
		return 0, time.Time{}, ErrInvalid
	}
	expiry := time.Unix(exp, 0).UTC()
	if !s.now().Before(expiry) {
		return id, expiry, ErrExpired
	}
	return id, expiry, nil
}

func (s *Signer) mac(payload string) []byte {
	h := hmac.New(sha256.New, s.key)
	h.Write([]byte(payload))
	return h.Sum(nil)
}

// decodeCanonical decodes s only if it is exactly how Sign encodes its bytes.
// The base64 decoder skips CR and LF and ignores unused trailing bits, so
// without this one link would have many spellings that all verify (the fuzzer
// found a token with a CR in its MAC accepted).
func decodeCanonical(s string) ([]byte, error) {
	enc := base64.RawURLEncoding
	b, err := enc.DecodeString(s)
	if err != nil {
		return nil, err
	}
	if enc.EncodeToString(b) != s {
		return nil, errors.New("not canonical base64url")
	}
	return b, nil
}
