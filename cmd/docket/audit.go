package main

import (
	"context"
	"crypto/ed25519"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/dockethq/docket/audit"
	"github.com/dockethq/docket/internal/database"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"
)

// auditConfig is the audit chain's part of the configuration.
type auditConfig struct {
	KeyFile         string        // ed25519 private key for checkpoints; empty: a key in app_secrets
	TrustedKeys     string        // further public keys whose checkpoints verify (after a rotation)
	CheckpointEvery time.Duration // how often serve signs a checkpoint
	SealEvery       time.Duration // how often serve seals committed events into the chain (PostgreSQL)

	key     ed25519.PrivateKey
	trusted audit.Keys
}

func (c *config) bindAudit(fs *flag.FlagSet) {
	fs.StringVar(&c.audit.KeyFile, "audit-key-file", env("DOCKET_AUDIT_KEY_FILE", ""), "ed25519 private key (PEM PKCS #8, or a 32-byte seed in hex) that signs audit checkpoints; default: a key Docket keeps in its database (DOCKET_AUDIT_KEY_FILE)")
	fs.StringVar(&c.audit.TrustedKeys, "audit-trusted-keys", env("DOCKET_AUDIT_TRUSTED_KEYS", ""), "comma-separated ed25519 public keys (hex) whose audit checkpoints also verify, e.g. the key before a rotation (DOCKET_AUDIT_TRUSTED_KEYS)")
	every, err := time.ParseDuration(env("DOCKET_AUDIT_CHECKPOINT_INTERVAL", "1h"))
	if err != nil {
		every = -1
	}
	fs.DurationVar(&c.audit.CheckpointEvery, "audit-checkpoint-interval", every, "how often serve verifies the audit chain since the last checkpoint and signs a new one (DOCKET_AUDIT_CHECKPOINT_INTERVAL)")
	seal, err := time.ParseDuration(env("DOCKET_AUDIT_SEAL_INTERVAL", "1s"))
	if err != nil {
		seal = -1
	}
	fs.DurationVar(&c.audit.SealEvery, "audit-seal-interval", seal, "PostgreSQL: how often serve chains newly committed audit events into the hash chain; every instance seals, in turns (DOCKET_AUDIT_SEAL_INTERVAL)")
}

func (c *config) validateAudit() error {
	if c.audit.CheckpointEvery < time.Minute {
		return errors.New("DOCKET_AUDIT_CHECKPOINT_INTERVAL / --audit-checkpoint-interval: give a duration of a minute or more, such as 1h")
	}
	if c.audit.SealEvery < 10*time.Millisecond || c.audit.SealEvery > time.Minute {
		return errors.New("DOCKET_AUDIT_SEAL_INTERVAL / --audit-seal-interval: give a duration between 10ms and 1m, such as 1s")
	}
	c.audit.key = nil
	if c.audit.KeyFile != "" {
		k, err := audit.ReadKeyFile(c.audit.KeyFile)
		if err != nil {
			return fmt.Errorf("DOCKET_AUDIT_KEY_FILE / --audit-key-file: %w", err)
		}
		c.audit.key = k
	}
	keys, err := audit.ParsePublicKeys(c.audit.TrustedKeys)
	if err != nil {
		return fmt.Errorf("DOCKET_AUDIT_TRUSTED_KEYS / --audit-trusted-keys: %w", err)
	}
	c.audit.trusted = keys
	restoreTrustedKeys = trustedWith(keys, c.audit.key)
	return nil
}

// chain is the audit chain of db, with the configured keys.
func (c *config) chain(db *database.DB) *audit.Chain {
	return audit.NewChain(db, audit.Options{Key: c.audit.key, Trusted: c.audit.trusted})
}

// errChainBroken is returned (wrapped) when verify finds a broken link; the
// command then exits with status 2, apart from other failures (status 1).
var errChainBroken = errors.New("audit chain broken")

// brokenChain carries the problem and the exit status.
type brokenChain struct{ problem string }

func (b *brokenChain) Error() string   { return "audit chain broken: " + b.problem }
func (b *brokenChain) Unwrap() error   { return errChainBroken }
func (b *brokenChain) ExitStatus() int { return 2 }

const auditUsage = `usage:
  docket audit verify [--file EXPORT.jsonl [--public-key HEX]]   walk the chain (or an export) and report the first broken link
  docket audit export [--since SEQ] [--out FILE]                   write the chain as JSON lines for storage elsewhere
  docket audit checkpoint                                          verify the whole chain and sign a checkpoint at its head`

func cmdAudit(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return errors.New(auditUsage)
	}
	switch args[0] {
	case "verify":
		return cmdAuditVerify(ctx, args[1:], stdout, stderr)
	case "export":
		return cmdAuditExport(ctx, args[1:], stdout, stderr)
	case "checkpoint":
		return cmdAuditCheckpoint(ctx, args[1:], stdout, stderr)
	}
	return fmt.Errorf("unknown audit command %q\n%s", args[0], auditUsage)
}

// openAudit opens the database as it is: verifying must not migrate (or chain
// anything) first, or it would vouch for what it was meant to check.
func openAudit(ctx context.Context, cfg config) (*database.DB, error) {
	db, err := database.Open(ctx, cfg.DatabaseURL)
	if err != nil {
		return nil, err
	}
	// A wrong path or an unmigrated database would otherwise fail deep inside
	// with "no such table"; say what is wrong instead.
	var n int64
	if err := db.R.Session(&gorm.Session{Logger: logger.Discard}).WithContext(ctx).Raw("SELECT COUNT(*) FROM audit_chain").Scan(&n).Error; err != nil {
		db.Close()
		return nil, fmt.Errorf("the database has no audit chain: is DOCKET_DATABASE_URL / --database-url a Docket database migrated to 00035 or later (docket migrate up)? (%v)", err)
	}
	return db, nil
}

func cmdAuditVerify(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var file, pub string
	store := true
	cfg, _, err := parse("audit verify", args, stderr, func(fs *flag.FlagSet) {
		fs.BoolVar(&store, "store", true, "seal recent events into the chain first (PostgreSQL) and keep the result for the /audit/chain page; --store=false writes nothing (e.g. to check a backup file) and counts unsealed events as pending")
		fs.StringVar(&file, "file", "", "verify this export (docket audit export) instead of the database; needs no database")
		fs.StringVar(&pub, "public-key", "", "with --file: the published public key (hex) to check checkpoint signatures against; default the keys in the file")
	})
	if err != nil {
		return err
	}
	var rep *audit.Report
	if file != "" {
		keys, err := audit.ParsePublicKeys(pub)
		if err != nil {
			return fmt.Errorf("--public-key: %w", err)
		}
		f, err := os.Open(file)
		if err != nil {
			return fmt.Errorf("--file: %w", err)
		}
		defer f.Close()
		if rep, err = audit.VerifyExport(f, keys); err != nil {
			return fmt.Errorf("%s: %w", file, err)
		}
	} else {
		db, err := openAudit(ctx, cfg)
		if err != nil {
			return err
		}
		defer db.Close()
		ch := cfg.chain(db)
		if store {
			rep, err = ch.VerifyAndStore(ctx, "system:cli")
		} else {
			rep, err = ch.Verify(ctx)
		}
		if err != nil {
			return err
		}
	}
	for _, n := range rep.Notes {
		fmt.Fprintln(stdout, "note:", n)
	}
	if !rep.OK {
		return &brokenChain{problem: rep.Problem.Message}
	}
	fmt.Fprintf(stdout, "%s in %s\n", rep.Summary(), rep.Took.Round(time.Millisecond))
	return nil
}

func cmdAuditExport(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var out string
	var since int64
	cfg, _, err := parse("audit export", args, stderr, func(fs *flag.FlagSet) {
		fs.Int64Var(&since, "since", 0, "only events after this seq (the head of your previous export)")
		fs.StringVar(&out, "out", "", "file to write (must not exist); default standard output")
	})
	if err != nil {
		return err
	}
	if since < 0 {
		return errors.New("--since: give a seq, 0 or more")
	}
	db, err := openAudit(ctx, cfg)
	if err != nil {
		return err
	}
	defer db.Close()
	w := stdout
	var f *os.File
	if out != "" {
		if f, err = os.OpenFile(out, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600); err != nil {
			return fmt.Errorf("--out: %w", err)
		}
		w = f
	}
	n, err := cfg.chain(db).Export(ctx, w, since)
	if f != nil {
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			os.Remove(out)
		}
	}
	if err != nil {
		return fmt.Errorf("export: %w", err)
	}
	if out != "" {
		fmt.Fprintf(stdout, "exported %d audit events to %s\n", n, out)
	}
	return nil
}

func cmdAuditCheckpoint(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cfg, _, err := parse("audit checkpoint", args, stderr, nil)
	if err != nil {
		return err
	}
	db, err := openAudit(ctx, cfg)
	if err != nil {
		return err
	}
	defer db.Close()
	ch := cfg.chain(db)
	cp, rep, err := ch.Checkpoint(ctx, true, "system:cli")
	if err != nil {
		if rep != nil && !rep.OK {
			return &brokenChain{problem: rep.Problem.Message}
		}
		return err
	}
	pub, err := ch.PublicKey(ctx)
	if err != nil {
		return err
	}
	if cp == nil {
		fmt.Fprintf(stdout, "nothing new to sign: the chain's head is at seq %d\n", rep.HeadSeq)
	} else {
		fmt.Fprintf(stdout, "checkpoint %d signed at seq %d, hash %s\n", cp.ID, cp.Seq, cp.Hash)
	}
	fmt.Fprintf(stdout, "public key %s (id %s): publish it so exports can be checked against it\n", hex.EncodeToString(pub), audit.KeyID(pub))
	return nil
}

// checkpointTimer is serve's periodic checkpoint (a notify.Timer's Run).
func (a *app) checkpointTimer(ctx context.Context) (int, error) {
	cp, rep, err := a.cfg.chain(a.db).Checkpoint(ctx, false, "system:checkpoint")
	if err != nil {
		if rep != nil && !rep.OK {
			// Evidence of tampering, not a hiccup: said at ERROR, and kept
			// as the latest verification (chain page, metrics, doctor).
			a.log.Error("AUDIT CHAIN BROKEN: no checkpoint signed", "problem", rep.Problem.Message, "kind", rep.Problem.Kind, "event_id", rep.Problem.EventID)
		}
		return 0, err
	}
	if cp == nil {
		return 0, nil
	}
	return 1, nil
}

// checkAuditChain is a restore check: a backup whose audit chain is broken is
// refused unless the operator says otherwise (restore --allow-broken-audit-chain).
func checkAuditChain(ctx context.Context, db *database.DB) error {
	var n int64
	if db.R.WithContext(ctx).Raw(`SELECT COUNT(*) FROM audit_chain`).Scan(&n).Error != nil {
		return nil // a schema from before the chain: migrating chains its events
	}
	rep, err := audit.NewChain(db, audit.Options{Trusted: restoreTrustedKeys}).Verify(ctx)
	if err != nil {
		return fmt.Errorf("verify the audit chain: %w", err)
	}
	if !rep.OK {
		switch rep.Problem.Kind {
		case "legacy":
			return nil // chained when the restored database is migrated
		case "unsealed":
			return nil // committed before the backup, chained by the first seal after the restore
		}
		return &brokenChain{problem: rep.Problem.Message}
	}
	return nil
}

// restoreTrustedKeys are the configured keys, for the restore check (which
// has no config of its own); the copy's own database key is trusted too.
var restoreTrustedKeys audit.Keys

// trustedWith is trusted plus the public half of key, if any.
func trustedWith(trusted audit.Keys, key ed25519.PrivateKey) audit.Keys {
	out := audit.Keys{}
	for id, k := range trusted {
		out[id] = k
	}
	if key != nil {
		out.Add(key.Public().(ed25519.PublicKey))
	}
	return out
}

func init() { restoreChecks = append(restoreChecks, checkAuditChain) }
