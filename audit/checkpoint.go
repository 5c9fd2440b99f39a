package audit

import (
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/dockethq/docket/internal/secrets"
)

// keySecret is the app_secrets row holding the checkpoint key's ed25519 seed
// when no key file is configured.
const keySecret = "audit_checkpoint_ed25519"

const checkpointVersion = "docket-audit-checkpoint-v1"

// Checkpoint is a signed statement that the chain's event at Seq had Hash.
type Checkpoint struct {
	ID        int64     `json:"id"`
	Log       string    `json:"log"`
	Seq       int64     `json:"seq"`
	Hash      string    `json:"hash"`
	At        time.Time `json:"at"`
	KeyID     string    `json:"key_id"`
	Signature string    `json:"signature"`
}

func (Checkpoint) TableName() string { return "audit_checkpoints" }

// message is what a checkpoint's signature covers.
func (c Checkpoint) message() []byte {
	var b []byte
	for _, s := range []string{checkpointVersion, c.Log, strconv.FormatInt(c.Seq, 10), c.Hash, c.At.UTC().Format(timeLayout), c.KeyID} {
		var n [8]byte
		binary.BigEndian.PutUint64(n[:], uint64(len(s)))
		b = append(append(b, n[:]...), s...)
	}
	return b
}

// KeyID names a public key: the hex of the first 16 bytes of its SHA-256.
func KeyID(pub ed25519.PublicKey) string {
	s := sha256.Sum256(pub)
	return hex.EncodeToString(s[:16])
}

// Keys are the public keys a verifier trusts, by KeyID.
type Keys map[string]ed25519.PublicKey

// Add trusts pub.
func (k Keys) Add(pub ed25519.PublicKey) { k[KeyID(pub)] = pub }

// ParsePublicKeys reads comma-separated public keys, each hex or base64 of the
// 32 raw bytes, or a PEM "PUBLIC KEY" block (as openssl writes).
func ParsePublicKeys(s string) (Keys, error) {
	keys := Keys{}
	s = strings.TrimSpace(s)
	if strings.HasPrefix(s, "-----BEGIN") {
		blk, _ := pem.Decode([]byte(s))
		if blk == nil {
			return nil, errors.New("public key: unreadable PEM")
		}
		k, err := x509.ParsePKIXPublicKey(blk.Bytes)
		pub, ok := k.(ed25519.PublicKey)
		if err != nil || !ok {
			return nil, errors.New("public key: the PEM block is not an ed25519 public key")
		}
		keys.Add(pub)
		return keys, nil
	}
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		b, err := decodeKeyBytes(part)
		if err != nil || len(b) != ed25519.PublicKeySize {
			return nil, fmt.Errorf("public key %q: want %d bytes as hex or base64", part, ed25519.PublicKeySize)
		}
		keys.Add(ed25519.PublicKey(b))
	}
	return keys, nil
}

func decodeKeyBytes(s string) ([]byte, error) {
	if b, err := hex.DecodeString(s); err == nil {
		return b, nil
	}
	return base64.StdEncoding.DecodeString(s)
}

// ReadKeyFile reads an ed25519 private key: a PEM "PRIVATE KEY" (PKCS #8, as
// `openssl genpkey -algorithm ed25519` writes) or the 32-byte seed in hex or
// base64. Keeping the key in a file (or a secret mount) rather than in the
// database means someone who can rewrite the database cannot sign checkpoints.
func ReadKeyFile(path string) (ed25519.PrivateKey, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("audit key: %w", err)
	}
	if blk, _ := pem.Decode(b); blk != nil {
		k, err := x509.ParsePKCS8PrivateKey(blk.Bytes)
		priv, ok := k.(ed25519.PrivateKey)
		if err != nil || !ok {
			return nil, fmt.Errorf("audit key %s: not an ed25519 PKCS #8 private key", path)
		}
		return priv, nil
	}
	seed, err := decodeKeyBytes(strings.TrimSpace(string(b)))
	if err != nil || len(seed) != ed25519.SeedSize {
		return nil, fmt.Errorf("audit key %s: want a PEM private key or a %d-byte seed in hex or base64", path, ed25519.SeedSize)
	}
	return ed25519.NewKeyFromSeed(seed), nil
}

// databaseKey returns the key kept in app_secrets, creating it when create is
// set; without create, a missing key is (nil, nil).
func databaseKey(ctx context.Context, c *Chain, create bool) (ed25519.PrivateKey, error) {
	if create {
		seed, err := secrets.Get(ctx, c.db, keySecret)
		if err != nil {
			return nil, err
		}
		return ed25519.NewKeyFromSeed(seed[:ed25519.SeedSize]), nil
	}
	var seeds [][]byte
	if err := c.db.R.WithContext(ctx).Table("app_secrets").Where("name = ?", keySecret).Pluck("value", &seeds).Error; err != nil {
		return nil, fmt.Errorf("read the audit key: %w", err)
	}
	if len(seeds) == 0 || len(seeds[0]) < ed25519.SeedSize {
		return nil, nil
	}
	return ed25519.NewKeyFromSeed(seeds[0][:ed25519.SeedSize]), nil
}

// signingKey is the configured key, or the database's, created on first use.
func (c *Chain) signingKey(ctx context.Context) (ed25519.PrivateKey, error) {
	if c.opts.Key != nil {
		return c.opts.Key, nil
	}
	return databaseKey(ctx, c, true)
}

// TrustedKeys are the keys Verify accepts checkpoint signatures from: the
// configured key (or the database's, if it exists) and Options.Trusted.
func (c *Chain) TrustedKeys(ctx context.Context) (Keys, error) {
	keys := Keys{}
	for id, k := range c.opts.Trusted {
		keys[id] = k
	}
	if c.opts.Key != nil {
		keys.Add(c.opts.Key.Public().(ed25519.PublicKey))
		return keys, nil
	}
	priv, err := databaseKey(ctx, c, false)
	if err != nil {
		return nil, err
	}
	if priv != nil {
		keys.Add(priv.Public().(ed25519.PublicKey))
	}
	return keys, nil
}

// PublicKey is the signing key's public half (creating the database key if
// there is none yet), for publishing beside exported checkpoints.
func (c *Chain) PublicKey(ctx context.Context) (ed25519.PublicKey, error) {
	priv, err := c.signingKey(ctx)
	if err != nil {
		return nil, err
	}
	return priv.Public().(ed25519.PublicKey), nil
}

// Checkpoint verifies the chain from the last checkpoint to the head (all of
// it when full is set) and, if it is intact and has grown, signs a checkpoint
// at the head. A broken chain is never signed: that would vouch for the
// tampering. It returns nil and no error when there is nothing new to sign.
// The timer passes full = false, so its cost follows what was written since.
// Its verification is stored as the latest (by actor), intact or not, so the
// chain page, the metrics and the doctor show a broken chain without anyone
// asking.
func (c *Chain) Checkpoint(ctx context.Context, full bool, actor string) (*Checkpoint, *Report, error) {
	priv, err := c.signingKey(ctx)
	if err != nil {
		return nil, nil, err
	}
	var last Checkpoint
	err = c.db.R.WithContext(ctx).Where("log = ?", Log).Order("seq DESC, id DESC").Limit(1).Take(&last).Error
	if err != nil && !errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, nil, fmt.Errorf("read the last checkpoint: %w", err)
	}
	var from *Checkpoint
	if last.ID != 0 && !full {
		from = &last
	}
	// Sign what has committed, not only what the sealers reached.
	if _, err := c.Seal(ctx); err != nil {
		return nil, nil, err
	}
	rep, err := c.verify(ctx, from)
	if err != nil {
		return nil, nil, err
	}
	if err := c.store(ctx, actor, rep); err != nil {
		return nil, rep, err
	}
	if !rep.OK {
		return nil, rep, fmt.Errorf("audit chain broken, no checkpoint signed: %s", rep.Problem.Message)
	}
	if rep.HeadSeq == 0 || (last.ID != 0 && rep.HeadSeq == last.Seq) {
		return nil, rep, nil
	}
	cp := Checkpoint{Log: Log, Seq: rep.HeadSeq, Hash: rep.HeadHash, At: c.now().UTC().Truncate(time.Microsecond),
		KeyID: KeyID(priv.Public().(ed25519.PublicKey))}
	cp.Signature = hex.EncodeToString(ed25519.Sign(priv, cp.message()))
	if err := c.db.W.WithContext(ctx).Create(&cp).Error; err != nil {
		return nil, rep, fmt.Errorf("store the checkpoint: %w", err)
	}
	return &cp, rep, nil
}

// checkSignature is nil when cp is signed by one of keys.
func checkSignature(cp Checkpoint, keys Keys) *Problem {
	pub, ok := keys[cp.KeyID]
	if !ok {
		return &Problem{Seq: cp.Seq, CheckpointID: cp.ID, Kind: "checkpoint",
			Message: fmt.Sprintf("checkpoint %d (seq %d) is signed by key %s, which is not a trusted key (forged, or a rotated key not given to verify?)", cp.ID, cp.Seq, cp.KeyID)}
	}
	sig, err := hex.DecodeString(cp.Signature)
	if err != nil || !ed25519.Verify(pub, cp.message(), sig) {
		return &Problem{Seq: cp.Seq, CheckpointID: cp.ID, Kind: "checkpoint",
			Message: fmt.Sprintf("checkpoint %d (seq %d): signature does not verify (checkpoint edited or forged?)", cp.ID, cp.Seq)}
	}
	return nil
}
