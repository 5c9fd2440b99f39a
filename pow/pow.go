// Package pow is the public form's proof-of-work challenge: self-hosted, no
// cookies, no third party. A challenge is an HMAC-signed token embedded in the
// form (random id, issue time, difficulty); the browser finds a counter whose
// SHA-256 together with the token starts with that many zero bits. The server
// checks the signature, the age and the work, and spends the id once.
//
// Without JavaScript nobody solves anything, so a time lock stands in: a form
// sent without a solution is accepted only once MinWait has passed since the
// challenge was issued. People filling a form do not notice; a bot pays in wall
// time per submission, which is what the work would have cost it.
package pow

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"math/bits"
	"strconv"
	"strings"
	"sync"
	"time"

	"gorm.io/gorm"

	"github.com/dockethq/docket/internal/database"
	"github.com/dockethq/docket/internal/errs"
	"github.com/dockethq/docket/internal/secrets"
)

// Defaults: 16 bits is about 65,000 hashes (well under a second in a browser);
// 15 s is shorter than anyone takes to describe abuse; a challenge lives an hour.
const (
	DefaultBits    = 16
	DefaultMinWait = 15 * time.Second
	DefaultMaxAge  = time.Hour
	MaxBits        = 32
	tokenVersion   = 1
	payloadLen     = 1 + 16 + 8 + 1 // version, id, issued-at (unix seconds), bits
	secretName     = "form_challenge_hmac"
)

// Challenge is a decoded, verified token.
type Challenge struct {
	ID       string // hex of the 16 random bytes: the replay-protection key
	IssuedAt time.Time
	Bits     int
	Token    string
	Solved   bool // true when the work was done (false: accepted by the time lock)
}

// Expires is when the challenge stops being accepted.
func (c *Challenge) expires(maxAge time.Duration) time.Time { return c.IssuedAt.Add(maxAge) }

// Issuer issues and checks challenges. Its key lives in the database so every
// instance behind a load balancer accepts the others' challenges.
type Issuer struct {
	db      *database.DB
	now     func() time.Time
	Bits    int
	MinWait time.Duration
	MaxAge  time.Duration

	mu  sync.Mutex
	key []byte
}

// New returns an issuer with the defaults; adjust Bits, MinWait and MaxAge before use.
func New(db *database.DB, now func() time.Time) *Issuer {
	return &Issuer{db: db, now: now, Bits: DefaultBits, MinWait: DefaultMinWait, MaxAge: DefaultMaxAge}
}

// Errors a submission can get; all are errs.Invalid so the form re-renders.
var (
	ErrMissing  = errs.E(errs.Invalid, "The anti-spam check is missing. Reload the page and send the form again.")
	ErrInvalid  = errs.E(errs.Invalid, "The anti-spam check did not verify. Reload the page and send the form again.")
	ErrExpired  = errs.E(errs.Invalid, "This form was opened too long ago. Your input is kept; send it again.")
	ErrReplayed = errs.E(errs.Invalid, "This form was already sent once. Your input is kept; send it again to file a new report.")
)

// TooSoonError says how much longer a submission without a solution must wait.
type TooSoonError struct{ Wait time.Duration }

func (e *TooSoonError) Error() string {
	return fmt.Sprintf("Please wait %d more seconds before sending (without JavaScript, the form asks for a short wait instead of a computation), then send again.", int(e.Wait.Seconds()+0.999))
}

// Unwrap makes a TooSoonError an errs.Invalid.
func (e *TooSoonError) Unwrap() error { return errs.E(errs.Invalid, "%s", e.Error()) }

// loadKey returns the HMAC key, creating it on first use. Two instances racing
// to create it both end up with the one row that won.
func (s *Issuer) loadKey(ctx context.Context) ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.key != nil {
		return s.key, nil
	}
	key, err := secrets.Get(ctx, s.db, secretName)
	if err != nil {
		return nil, fmt.Errorf("form secret: %w", err)
	}
	s.key = key
	return s.key, nil
}

// Issue returns a new challenge token.
func (s *Issuer) Issue(ctx context.Context) (string, error) {
	key, err := s.loadKey(ctx)
	if err != nil {
		return "", err
	}
	p := make([]byte, payloadLen)
	p[0] = tokenVersion
	if _, err := rand.Read(p[1:17]); err != nil {
		return "", err
	}
	binary.BigEndian.PutUint64(p[17:25], uint64(s.now().Unix()))
	p[25] = byte(s.Bits)
	return encode(key, p), nil
}

func encode(key, payload []byte) string {
	m := hmac.New(sha256.New, key)
	m.Write(payload)
	b64 := base64.RawURLEncoding
	return b64.EncodeToString(payload) + "." + b64.EncodeToString(m.Sum(nil))
}

// Decoded is a token's content before its signature is checked.
type Decoded struct {
	Payload  []byte
	MAC      []byte
	ID       string
	IssuedAt time.Time
	Bits     int
}

// Decode parses a token without checking its signature. It never panics, on
// any input (fuzzed).
func Decode(token string) (*Decoded, error) {
	if len(token) > 200 {
		return nil, errors.New("token too long")
	}
	ps, ms, ok := strings.Cut(token, ".")
	if !ok {
		return nil, errors.New("no signature")
	}
	b64 := base64.RawURLEncoding
	p, err := b64.DecodeString(ps)
	if err != nil || len(p) != payloadLen || p[0] != tokenVersion {
		return nil, errors.New("bad payload")
	}
	m, err := b64.DecodeString(ms)
	if err != nil || len(m) != sha256.Size {
		return nil, errors.New("bad signature encoding")
	}
	secs := binary.BigEndian.Uint64(p[17:25])
	if secs > 1<<40 { // far beyond any real time; keeps time.Unix sane
		return nil, errors.New("bad time")
	}
	bitsN := int(p[25])
	if bitsN > MaxBits {
		return nil, errors.New("bad difficulty")
	}
	return &Decoded{Payload: p, MAC: m, ID: hex.EncodeToString(p[1:17]), IssuedAt: time.Unix(int64(secs), 0).UTC(), Bits: bitsN}, nil
}

// Check verifies token and solution without spending it: the signature, the
// difficulty (at least the issuer's current one), the age, and either the work
// or, without a solution, the time lock.
func (s *Issuer) Check(ctx context.Context, token, solution string) (*Challenge, error) {
	token, solution = strings.TrimSpace(token), strings.TrimSpace(solution)
	if token == "" {
		return nil, ErrMissing
	}
	d, err := Decode(token)
	if err != nil {
		return nil, ErrInvalid
	}
	key, err := s.loadKey(ctx)
	if err != nil {
		return nil, err
	}
	m := hmac.New(sha256.New, key)
	m.Write(d.Payload)
	if !hmac.Equal(m.Sum(nil), d.MAC) {
		return nil, ErrInvalid
	}
	if d.Bits < s.Bits {
		return nil, ErrInvalid
	}
	now := s.now()
	age := now.Sub(d.IssuedAt)
	if age > s.MaxAge {
		return nil, ErrExpired
	}
	ch := &Challenge{ID: d.ID, IssuedAt: d.IssuedAt, Bits: d.Bits, Token: token}
	if solution != "" {
		if !Verify(token, solution, d.Bits) {
			return nil, ErrInvalid
		}
		ch.Solved = true
		return ch, nil
	}
	if age < s.MinWait {
		return nil, &TooSoonError{Wait: s.MinWait - age}
	}
	return ch, nil
}

// Spend marks the challenge used, in the caller's transaction (the one that
// files the reports): a second submission with it fails with ErrReplayed. Spent
// ids past their expiry are pruned on the way.
func (s *Issuer) Spend(tx *gorm.DB, ch *Challenge) error {
	now := s.now().UTC()
	if err := tx.Exec("DELETE FROM form_challenges_spent WHERE expires_at < ?", now).Error; err != nil {
		return err
	}
	res := tx.Exec("INSERT INTO form_challenges_spent (id, expires_at) VALUES (?, ?) ON CONFLICT (id) DO NOTHING", ch.ID, ch.expires(s.MaxAge).UTC().Add(time.Minute))
	if res.Error != nil {
		return res.Error
	}
	if res.RowsAffected == 0 {
		return ErrReplayed
	}
	return nil
}

// Verify reports whether SHA-256(token + ":" + solution) starts with bits zero
// bits. solution is a decimal counter (what the browser's worker counts up).
func Verify(token, solution string, bitsN int) bool {
	if len(solution) > 20 {
		return false
	}
	if _, err := strconv.ParseUint(solution, 10, 64); err != nil {
		return false
	}
	sum := sha256.Sum256([]byte(token + ":" + solution))
	return leadingZeros(sum[:]) >= bitsN
}

func leadingZeros(b []byte) int {
	n := 0
	for _, x := range b {
		if x == 0 {
			n += 8
			continue
		}
		return n + bits.LeadingZeros8(x)
	}
	return n
}

// Solve does the work in Go (tests, and clients that are not browsers).
func Solve(token string, bitsN int) string {
	var buf bytes.Buffer
	for i := uint64(0); ; i++ {
		buf.Reset()
		buf.WriteString(token)
		buf.WriteByte(':')
		buf.WriteString(strconv.FormatUint(i, 10))
		sum := sha256.Sum256(buf.Bytes())
		if leadingZeros(sum[:]) >= bitsN {
			return strconv.FormatUint(i, 10)
		}
	}
}
