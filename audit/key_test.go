package audit_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dockethq/docket/audit"
	"github.com/dockethq/docket/internal/database"
	"github.com/dockethq/docket/internal/testdb"
)

func TestKeyFiles(t *testing.T) {
	dir := t.TempDir()
	pub, priv, _ := ed25519.GenerateKey(rand.Reader)
	der, _ := x509.MarshalPKCS8PrivateKey(priv)
	pemFile := filepath.Join(dir, "key.pem")
	os.WriteFile(pemFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600)
	seedFile := filepath.Join(dir, "key.hex")
	os.WriteFile(seedFile, []byte(hex.EncodeToString(priv.Seed())+"\n"), 0o600)
	for _, f := range []string{pemFile, seedFile} {
		k, err := audit.ReadKeyFile(f)
		if err != nil || !k.Equal(priv) {
			t.Errorf("%s: %v", filepath.Base(f), err)
		}
	}
	bad := filepath.Join(dir, "bad")
	os.WriteFile(bad, []byte("not a key"), 0o600)
	if _, err := audit.ReadKeyFile(bad); err == nil || !strings.Contains(err.Error(), "seed") {
		t.Errorf("bad key file: %v", err)
	}
	keys, err := audit.ParsePublicKeys(hex.EncodeToString(pub) + ", " + hex.EncodeToString(pub))
	if err != nil || len(keys) != 1 || !keys[audit.KeyID(pub)].Equal(pub) {
		t.Errorf("ParsePublicKeys: %v %v", keys, err)
	}
	if _, err := audit.ParsePublicKeys("abcd"); err == nil {
		t.Error("a short key parsed")
	}
}

// A key kept outside the database signs; verifying needs its public half.
func TestCheckpointWithAKeyFromOutside(t *testing.T) {
	db := testdb.Open(t, database.SQLite)
	ctx := context.Background()
	pub, priv, _ := ed25519.GenerateKey(rand.Reader)
	seed(t, db, 3)
	cp, _, err := audit.NewChain(db, audit.Options{Key: priv}).Checkpoint(ctx, true, "system:test")
	if err != nil || cp == nil || cp.KeyID != audit.KeyID(pub) {
		t.Fatalf("checkpoint: %+v %v", cp, err)
	}
	var secrets int64
	db.R.Table("app_secrets").Where("name LIKE 'audit%'").Count(&secrets)
	if secrets != 0 {
		t.Error("a key was stored in the database although one was given")
	}
	rep := verify(t, db) // no key given: the database's, which does not exist
	if rep.OK || !strings.Contains(rep.Problem.Message, "not a trusted key") {
		t.Errorf("verify without the key: %+v", rep.Problem)
	}
	trusted := audit.Keys{}
	trusted.Add(pub)
	if rep, err := audit.NewChain(db, audit.Options{Trusted: trusted}).Verify(ctx); err != nil || !rep.OK {
		t.Errorf("verify with the public key trusted: %+v %v", rep, err)
	}
}
