// Package apikeys owns trusted flaggers (DSA Art. 22) and their API keys. A
// flagger is a reporters row of kind trusted_flagger, registered by an admin; a
// key is "dkt_" + base64url(32 random bytes), shown once when issued and stored
// only as its SHA-256 (a fast hash is right for a high-entropy secret). Issuing a
// key grants its casbin subject ("apikey:<id>") the trusted_flagger role in the
// same transaction; revoking removes the grant.
package apikeys

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"net/mail"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode"
	"unicode/utf8"

	"gorm.io/gorm"

	"github.com/dockethq/docket/audit"
	"github.com/dockethq/docket/cases"
	"github.com/dockethq/docket/internal/database"
	"github.com/dockethq/docket/internal/errs"
	"github.com/dockethq/docket/policy"
)

// Scopes a key may hold.
const (
	ScopeReportsWrite = "reports:write"
	ScopeReportsRead  = "reports:read"
)

// AllScopes lists every scope, in the order the UI shows them.
var AllScopes = []string{ScopeReportsWrite, ScopeReportsRead}

// KeyPrefix starts every key, so keys are recognizable (and findable by secret scanners).
const KeyPrefix = "dkt_"

// prefixLen is how much of a key is stored in the clear and shown in the UI:
// "dkt_" and the first 8 characters of the secret part (48 bits).
const prefixLen = len(KeyPrefix) + 8

// touchEvery bounds how often last_used_at is written: a busy key does not turn
// every request into a write.
const touchEvery = time.Minute

// Flagger is a registered trusted flagger.
type Flagger struct {
	ID        int64 // the reporters row
	Name      string
	Email     string
	CreatedBy string
	CreatedAt time.Time
}

// Key is an API key as stored: never the key itself.
type Key struct {
	ID         int64
	Prefix     string
	Hash       string
	ReporterID int64
	Name       string
	Scopes     string // comma list
	CreatedBy  string
	CreatedAt  time.Time
	RevokedAt  *time.Time
	LastUsedAt *time.Time
}

func (Key) TableName() string { return "api_keys" }

// HasScope reports whether the key holds scope.
func (k *Key) HasScope(scope string) bool {
	return slices.Contains(strings.Split(k.Scopes, ","), scope)
}

// ScopeList returns the key's scopes.
func (k *Key) ScopeList() []string { return strings.Split(k.Scopes, ",") }

type flaggerRow struct {
	ReporterID int64 `gorm:"primaryKey;autoIncrement:false"`
	CreatedBy  string
	CreatedAt  time.Time
}

func (flaggerRow) TableName() string { return "flaggers" }

// Service manages flaggers and keys.
type Service struct {
	db  *database.DB
	en  *policy.Enforcer
	now func() time.Time

	// Every API request looks up its key, and every report its flagger:
	// rows read within CacheFor are used again (issue 7, intake throughput).
	// A Revoke in this process makes every Service read its keys anew;
	// another process sharing the database stops accepting a revoked key
	// within CacheFor.
	mu       sync.Mutex
	keys     map[string]cachedKey // by prefix; only live keys
	flaggers map[int64]cachedFlagger
}

// revocations counts the Revoke calls of this process (on any Service: the
// tests and the server each hold their own): a cached key read before the
// latest one is read again.
var revocations atomic.Int64

// CacheFor is how long a key or flagger row read from the database is used
// again without reading it anew.
const CacheFor = 2 * time.Second

type cachedKey struct {
	k   Key
	at  time.Time
	gen int64 // revocations when it was read
}

type cachedFlagger struct {
	f  Flagger
	at time.Time
}

// NewService returns the service; en is reloaded after grants change.
func NewService(db *database.DB, en *policy.Enforcer, now func() time.Time) *Service {
	return &Service{db: db, en: en, now: now, keys: map[string]cachedKey{}, flaggers: map[int64]cachedFlagger{}}
}

// fresh reports whether a row read at at may still be used at now.
func fresh(at, now time.Time) bool { d := now.Sub(at); return d >= 0 && d < CacheFor }

// ErrInvalidKey is returned by Authenticate for a key that is malformed,
// unknown or revoked: the three are indistinguishable on purpose.
var ErrInvalidKey = errs.E(errs.Forbidden, "The API key is not valid.")

// CreateFlagger registers a trusted flagger: a reporters row of kind
// trusted_flagger with a name and a contact email, audited.
func (s *Service) CreateFlagger(ctx context.Context, actor, name, email string) (*Flagger, error) {
	name = strings.TrimSpace(name)
	email = strings.ToLower(strings.TrimSpace(email))
	f := map[string]string{}
	if name == "" || utf8.RuneCountInString(name) > cases.MaxName || strings.IndexFunc(name, unicode.IsControl) >= 0 {
		f["name"] = "Enter the flagger's name (up to 200 characters)."
	}
	if a, err := mail.ParseAddress(email); err != nil || a.Address != email || len(email) > 254 {
		f["email"] = "Enter a contact email address like name@example.org."
	}
	if err := errs.Fields(f); err != nil {
		return nil, err
	}
	now := s.now().UTC()
	rep := cases.Reporter{Kind: cases.ReporterTrustedFlagger, Name: name, Email: email, CreatedAt: now}
	err := s.db.W.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var n int64
		if err := tx.Table("flaggers").Joins("JOIN reporters ON reporters.id = flaggers.reporter_id").Where("reporters.email = ?", email).Count(&n).Error; err != nil {
			return err
		}
		if n > 0 {
			return &errs.Error{Code: errs.Conflict, Message: "A flagger with this email is already registered.", Fields: map[string]string{"email": "Already registered."}}
		}
		if err := tx.Create(&rep).Error; err != nil {
			return err
		}
		if err := tx.Create(&flaggerRow{ReporterID: rep.ID, CreatedBy: actor, CreatedAt: now}).Error; err != nil {
			return err
		}
		return audit.Record(tx, now, actor, "flagger.created", "reporter", strconv.FormatInt(rep.ID, 10), map[string]any{"name": name, "email": email})
	})
	if err != nil {
		return nil, err
	}
	return &Flagger{ID: rep.ID, Name: name, Email: email, CreatedBy: actor, CreatedAt: now}, nil
}

// Flaggers lists the registered flaggers by name.
func (s *Service) Flaggers(ctx context.Context) ([]Flagger, error) {
	var out []Flagger
	err := s.db.R.WithContext(ctx).Table("flaggers").
		Select("reporters.id, reporters.name, reporters.email, flaggers.created_by, flaggers.created_at").
		Joins("JOIN reporters ON reporters.id = flaggers.reporter_id").
		Order("reporters.name, reporters.id").Scan(&out).Error
	return out, err
}

// Flagger returns one registered flagger.
func (s *Service) Flagger(ctx context.Context, id int64) (*Flagger, error) {
	now := s.now()
	s.mu.Lock()
	c, ok := s.flaggers[id]
	s.mu.Unlock()
	if ok && fresh(c.at, now) {
		f := c.f
		return &f, nil
	}
	var out []Flagger
	err := s.db.R.WithContext(ctx).Table("flaggers").
		Select("reporters.id, reporters.name, reporters.email, flaggers.created_by, flaggers.created_at").
		Joins("JOIN reporters ON reporters.id = flaggers.reporter_id").
		Where("flaggers.reporter_id = ?", id).Scan(&out).Error
	if err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return nil, errs.E(errs.NotFound, "There is no such flagger.")
	}
	s.mu.Lock()
	s.flaggers[id] = cachedFlagger{f: out[0], at: now}
	s.mu.Unlock()
	return &out[0], nil
}

// Keys lists every key (revoked ones too), newest first.
func (s *Service) Keys(ctx context.Context) ([]Key, error) {
	var out []Key
	err := s.db.R.WithContext(ctx).Order("created_at DESC, id DESC").Find(&out).Error
	return out, err
}

// normScopes validates and orders scopes.
func normScopes(scopes []string) (string, error) {
	var out []string
	for _, sc := range AllScopes {
		if slices.Contains(scopes, sc) {
			out = append(out, sc)
		}
	}
	for _, sc := range scopes {
		if !slices.Contains(AllScopes, sc) {
			return "", errs.Fields(map[string]string{"scopes": "Unknown scope " + strconv.Quote(sc) + "."})
		}
	}
	if len(out) == 0 {
		return "", errs.Fields(map[string]string{"scopes": "Choose at least one scope."})
	}
	return strings.Join(out, ","), nil
}

// hashKey is the stored form of a key: SHA-256, hex.
func hashKey(key string) string {
	sum := sha256.Sum256([]byte(key))
	return hex.EncodeToString(sum[:])
}

// IssueKey creates a key for a registered flagger and returns it with the full
// key, which is never stored or shown again. The key's trusted_flagger grant is
// written in the same transaction and the enforcer reloaded after commit.
func (s *Service) IssueKey(ctx context.Context, actor string, flaggerID int64, name string, scopes []string) (*Key, string, error) {
	name = strings.TrimSpace(name)
	f := map[string]string{}
	if name == "" || utf8.RuneCountInString(name) > cases.MaxName || strings.IndexFunc(name, unicode.IsControl) >= 0 {
		f["key_name"] = "Name the key (what system uses it), up to 200 characters."
	}
	sc, err := normScopes(scopes)
	if e, ok := errs.As(err); ok {
		for k, v := range e.Fields {
			f[k] = v
		}
	}
	if err := errs.Fields(f); err != nil {
		return nil, "", err
	}
	if _, err := s.Flagger(ctx, flaggerID); err != nil {
		return nil, "", err
	}
	var raw [32]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return nil, "", err
	}
	full := KeyPrefix + base64.RawURLEncoding.EncodeToString(raw[:])
	now := s.now().UTC()
	k := Key{Prefix: full[:prefixLen], Hash: hashKey(full), ReporterID: flaggerID, Name: name, Scopes: sc, CreatedBy: actor, CreatedAt: now}
	err = s.db.W.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Create(&k).Error; err != nil {
			return err
		}
		if err := policy.GrantAPIKey(tx, k.ID); err != nil {
			return err
		}
		return audit.Record(tx, now, actor, "apikey.issued", "api_key", strconv.FormatInt(k.ID, 10),
			map[string]any{"flagger": flaggerID, "prefix": k.Prefix, "name": name, "scopes": sc})
	})
	if err != nil {
		return nil, "", err
	}
	if err := s.en.Reload(); err != nil {
		return nil, "", err
	}
	return &k, full, nil
}

// Authenticate returns the live key for a presented key and records its use.
// Malformed, unknown and revoked keys are all ErrInvalidKey.
func (s *Service) Authenticate(ctx context.Context, key string) (*Key, error) {
	if !strings.HasPrefix(key, KeyPrefix) || len(key) != len(KeyPrefix)+43 {
		return nil, ErrInvalidKey
	}
	now := s.now().UTC()
	prefix := key[:prefixLen]
	s.mu.Lock()
	c, ok := s.keys[prefix]
	s.mu.Unlock()
	gen := revocations.Load()
	k := c.k
	if !ok || !fresh(c.at, now) || c.gen != gen {
		k = Key{}
		err := s.db.R.WithContext(ctx).Where("prefix = ?", prefix).Take(&k).Error
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return nil, ErrInvalidKey
		}
		if err != nil {
			return nil, err
		}
		s.mu.Lock()
		if k.RevokedAt == nil && revocations.Load() == gen {
			s.keys[prefix] = cachedKey{k: k, at: now, gen: gen}
		} else {
			delete(s.keys, prefix)
		}
		s.mu.Unlock()
	}
	if subtle.ConstantTimeCompare([]byte(k.Hash), []byte(hashKey(key))) != 1 || k.RevokedAt != nil {
		return nil, ErrInvalidKey
	}
	if k.LastUsedAt == nil || now.Sub(*k.LastUsedAt) >= touchEvery {
		err := s.db.W.WithContext(ctx).Model(&Key{}).Where("id = ? AND revoked_at IS NULL", k.ID).Update("last_used_at", now).Error
		if err != nil {
			return nil, err
		}
		k.LastUsedAt = &now
		s.mu.Lock()
		if c, ok := s.keys[prefix]; ok && c.k.ID == k.ID {
			c.k.LastUsedAt = &now
			s.keys[prefix] = c
		}
		s.mu.Unlock()
	}
	return &k, nil
}

// Revoke revokes a key and removes its grant, audited; revoking a revoked key
// changes nothing.
func (s *Service) Revoke(ctx context.Context, actor string, id int64) (*Key, error) {
	now := s.now().UTC()
	var k Key
	err := s.db.W.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Take(&k, id).Error; errors.Is(err, gorm.ErrRecordNotFound) {
			return errs.E(errs.NotFound, "There is no such key.")
		} else if err != nil {
			return err
		}
		if k.RevokedAt != nil {
			return nil
		}
		k.RevokedAt = &now
		if err := tx.Model(&Key{}).Where("id = ?", id).Update("revoked_at", now).Error; err != nil {
			return err
		}
		if err := policy.RevokeAPIKey(tx, id); err != nil {
			return err
		}
		return audit.Record(tx, now, actor, "apikey.revoked", "api_key", strconv.FormatInt(id, 10),
			map[string]any{"flagger": k.ReporterID, "prefix": k.Prefix})
	})
	if err != nil {
		return nil, err
	}
	revocations.Add(1)
	return &k, s.en.Reload()
}
