package main

// docket backup and docket restore. SQLite: a consistent online copy with
// VACUUM INTO (readers and the one writer of a running Docket carry on), checked
// before it is given its name; a restore checks the copy and swaps it in while
// Docket is stopped. PostgreSQL: pg_dump and pg_restore (custom format), the
// practice documented in README; docket runs them when they are on PATH.

import (
	"context"
	"database/sql"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	_ "github.com/glebarez/go-sqlite" // the driver gorm's SQLite dialect registers; for the lock probe

	"github.com/dockethq/docket/internal/database"
	"github.com/dockethq/docket/migrations"
)

// restoreChecks run on a database about to be restored, after the integrity
// and migration checks; each returns a plain sentence when something is wrong.
// The audit chain's verification (audit.go) is one.
var restoreChecks []func(ctx context.Context, db *database.DB) error

func cmdBackup(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var to string
	cfg, _, err := parse("backup", args, stderr, func(fs *flag.FlagSet) {
		fs.StringVar(&to, "to", "", "file to write the backup to (must not exist)")
	})
	if err != nil {
		return err
	}
	if to == "" {
		return errors.New("--to: name the file to write the backup to, e.g. --to docket-" + time.Now().UTC().Format("20060102") + ".db")
	}
	if _, err := os.Stat(to); err == nil {
		return fmt.Errorf("--to: %s already exists; a backup never overwrites a file, choose another name", to)
	}
	dialect, dsn, _ := database.ParseURL(cfg.DatabaseURL)
	if dialect == database.Postgres {
		return pgBackup(ctx, dsn, to, stdout)
	}
	if _, err := os.Stat(dsn); err != nil {
		return fmt.Errorf("no SQLite database at %s (DOCKET_DATABASE_URL): %w", dsn, err)
	}
	db, err := database.Open(ctx, cfg.DatabaseURL)
	if err != nil {
		return err
	}
	defer db.Close()
	srcVersion, _, _, err := schemaState(ctx, db)
	if err != nil {
		return err
	}
	// VACUUM INTO writes a consistent snapshot (one read transaction) to a new
	// file; a running Docket keeps writing meanwhile. It gets its real name only
	// once it has been checked, so a backup file is never half-written.
	partial := to + ".partial"
	_ = os.Remove(partial)
	start := time.Now()
	if err := db.W.WithContext(ctx).Exec("VACUUM INTO ?", partial).Error; err != nil {
		os.Remove(partial)
		return fmt.Errorf("backup: %w", err)
	}
	// A backup holds reporters' contacts: readable by its owner only.
	if err := os.Chmod(partial, 0o600); err != nil {
		os.Remove(partial)
		return err
	}
	sum, err := checkSQLiteCopy(ctx, partial)
	if err == nil && sum.version != srcVersion {
		err = fmt.Errorf("the copy has schema version %d, the database %d", sum.version, srcVersion)
	}
	if err != nil {
		os.Remove(partial)
		return fmt.Errorf("backup failed its check: %w", err)
	}
	if err := os.Rename(partial, to); err != nil {
		os.Remove(partial)
		return err
	}
	fmt.Fprintf(stdout, "backup written to %s in %s: schema version %d, %d reports, %d cases; integrity ok\n",
		to, time.Since(start).Round(time.Millisecond), sum.version, sum.reports, sum.cases)
	if sum.auditChain != nil {
		fmt.Fprintf(stdout, "WARNING: the backup was taken, but the %s; restoring it will need --allow-broken-audit-chain\n", sum.auditChain)
	}
	return nil
}

func cmdRestore(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var from string
	var force, allowBroken bool
	cfg, _, err := parse("restore", args, stderr, func(fs *flag.FlagSet) {
		fs.BoolVar(&allowBroken, "allow-broken-audit-chain", false, "restore even if the backup's audit chain does not verify (it is then evidence of tampering: keep the backup)")
		fs.StringVar(&from, "from", "", "backup file to restore (from docket backup)")
		fs.BoolVar(&force, "force", false, "replace an existing database (SQLite: it is kept beside as <file>.before-restore-<time>)")
	})
	if err != nil {
		return err
	}
	if from == "" {
		return errors.New("--from: name the backup file to restore")
	}
	if _, err := os.Stat(from); err != nil {
		return fmt.Errorf("--from: %w", err)
	}
	dialect, dsn, _ := database.ParseURL(cfg.DatabaseURL)
	if dialect == database.Postgres {
		return pgRestore(ctx, cfg.DatabaseURL, dsn, from, force, allowBroken, stdout)
	}
	target := dsn
	if st, err := os.Stat(target); err == nil {
		if busy := sqliteInUse(target); busy != nil {
			return fmt.Errorf("the database %s is in use (%v): stop Docket before restoring", target, busy)
		}
		if st.Size() > 0 && !force {
			return fmt.Errorf("the database %s exists; restore replaces it only with --force (the current one is then kept beside it)", target)
		}
	}
	if err := os.MkdirAll(filepath.Dir(target), 0o750); err != nil {
		return err
	}
	// Check a copy in the target's folder, so the final step is a rename on
	// one file system: the database is either the old one or the whole backup.
	tmp := target + ".restoring"
	for _, f := range sqliteFiles(tmp) {
		os.Remove(f)
	}
	if err := copyFile(from, tmp); err != nil {
		return err
	}
	sum, err := checkSQLiteCopy(ctx, tmp)
	if err == nil && sum.auditChain != nil && !allowBroken {
		err = fmt.Errorf("the %w; restore it anyway with --allow-broken-audit-chain", sum.auditChain)
	}
	if err != nil {
		for _, f := range sqliteFiles(tmp) {
			os.Remove(f)
		}
		return fmt.Errorf("%s is not a usable backup, nothing was changed: %w", from, err)
	}
	var kept string
	if _, err := os.Stat(target); err == nil {
		kept = target + ".before-restore-" + time.Now().UTC().Format("20060102T150405Z")
		// The -wal file may hold committed writes: it moves with its database.
		for i, f := range sqliteFiles(target) {
			if _, err := os.Stat(f); err == nil {
				if err := os.Rename(f, sqliteFiles(kept)[i]); err != nil {
					return fmt.Errorf("move the current database aside: %w", err)
				}
			}
		}
	}
	for _, f := range sqliteFiles(target)[1:] {
		os.Remove(f) // a WAL left by a database removed by hand belongs to no one now
	}
	if err := os.Rename(tmp, target); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "restored %s to %s: schema version %d, %d reports, %d cases; integrity ok\n", from, target, sum.version, sum.reports, sum.cases)
	if sum.pending > 0 {
		fmt.Fprintf(stdout, "%d migrations are pending; docket serve applies them at start (or run: docket migrate up)\n", sum.pending)
	}
	if kept != "" {
		fmt.Fprintf(stdout, "the database it replaced is kept as %s\n", kept)
	}
	return nil
}

// copySummary describes a checked database copy.
type copySummary struct {
	version        int64
	pending        int
	reports, cases int64
	auditChain     *brokenChain // the audit chain's first broken link, if any
}

// checkSQLiteCopy opens a SQLite copy and checks that it is whole (integrity
// check), that its schema is one this binary knows, and the restoreChecks.
func checkSQLiteCopy(ctx context.Context, path string) (copySummary, error) {
	var sum copySummary
	db, err := database.Open(ctx, path)
	if err != nil {
		return sum, err
	}
	defer db.Close()
	var res []string
	if err := db.R.WithContext(ctx).Raw("PRAGMA integrity_check").Scan(&res).Error; err != nil {
		return sum, fmt.Errorf("integrity check: %w", err)
	}
	if len(res) != 1 || res[0] != "ok" {
		return sum, fmt.Errorf("integrity check: %s", strings.Join(res, "; "))
	}
	return summarize(ctx, db)
}

func summarize(ctx context.Context, db *database.DB) (copySummary, error) {
	var sum copySummary
	var err error
	var latest int64
	if sum.version, latest, sum.pending, err = schemaState(ctx, db); err != nil {
		return sum, err
	}
	if sum.version == 0 {
		return sum, errors.New("it has no Docket schema (no migrations applied)")
	}
	if sum.version > latest {
		return sum, fmt.Errorf("its schema version %d is newer than this docket knows (%d): restore it with the Docket version that made it", sum.version, latest)
	}
	for _, check := range restoreChecks {
		if err := check(ctx, db); err != nil {
			// A broken audit chain is evidence: a backup keeps it (and says so),
			// a restore refuses it unless told otherwise.
			var bc *brokenChain
			if errors.As(err, &bc) {
				sum.auditChain = bc
				continue
			}
			return sum, err
		}
	}
	db.R.WithContext(ctx).Table("reports").Count(&sum.reports)
	db.R.WithContext(ctx).Table("cases").Count(&sum.cases)
	return sum, nil
}

// schemaState is the database's migration version, the latest this binary
// has, and how many of this binary's migrations the database lacks.
func schemaState(ctx context.Context, db *database.DB) (current, latest int64, pending int, err error) {
	p, err := migrations.Provider(db)
	if err != nil {
		return 0, 0, 0, err
	}
	srcs := p.ListSources()
	latest = srcs[len(srcs)-1].Version
	if current, err = p.GetDBVersion(ctx); err != nil {
		return 0, latest, 0, fmt.Errorf("read the schema version: %w", err)
	}
	st, err := p.Status(ctx)
	if err != nil {
		return current, latest, 0, fmt.Errorf("migration status: %w", err)
	}
	for _, s := range st {
		if s.AppliedAt.IsZero() {
			pending++
		}
	}
	return current, latest, pending, nil
}

// sqliteInUse reports whether another process has the database open: an
// exclusive lock cannot be had while any connection (even an idle one in WAL
// mode) holds it.
func sqliteInUse(path string) error {
	c, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(200)&_pragma=locking_mode(EXCLUSIVE)")
	if err != nil {
		return err
	}
	defer c.Close()
	_, err = c.Exec("BEGIN EXCLUSIVE; SELECT count(*) FROM sqlite_master; COMMIT")
	return err
}

// sqliteFiles are a database file and its WAL companions.
func sqliteFiles(path string) []string { return []string{path, path + "-wal", path + "-shm"} }

func copyFile(from, to string) error {
	in, err := os.Open(from)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(to, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		os.Remove(to)
		return err
	}
	if err := out.Sync(); err != nil {
		out.Close()
		os.Remove(to)
		return err
	}
	return out.Close()
}

// pgArgs turns a DOCKET_DATABASE_URL into what pg_dump and pg_restore take: a
// libpq URL (without search_path, which libpq does not know) and the schema,
// when one is named, to limit the dump to.
func pgArgs(dsn string) (conn, schema string, err error) {
	u, err := url.Parse(dsn)
	if err != nil {
		return "", "", err
	}
	q := u.Query()
	schema = q.Get("search_path")
	q.Del("search_path")
	u.RawQuery = q.Encode()
	return u.String(), schema, nil
}

func pgTool(name string) (string, error) {
	p, err := exec.LookPath(name)
	if err != nil {
		return "", fmt.Errorf("%s is not on PATH. Install the PostgreSQL client tools, or take the backup yourself:\n"+
			"  pg_dump --format=custom --file=docket.dump \"$DOCKET_DATABASE_URL\"\n"+
			"and restore it into an empty database with:\n"+
			"  pg_restore --exit-on-error --no-owner --dbname=\"$DOCKET_DATABASE_URL\" docket.dump", name)
	}
	return p, nil
}

func pgBackup(ctx context.Context, dsn, to string, stdout io.Writer) error {
	bin, err := pgTool("pg_dump")
	if err != nil {
		return err
	}
	conn, schema, err := pgArgs(dsn)
	if err != nil {
		return err
	}
	partial := to + ".partial"
	_ = os.Remove(partial)
	args := []string{"--format=custom", "--no-owner", "--file=" + partial}
	if schema != "" {
		args = append(args, "--schema="+schema)
	}
	start := time.Now()
	// pg_dump reads one snapshot: a consistent copy while Docket runs.
	cmd := exec.CommandContext(ctx, bin, append(args, "--dbname="+conn)...)
	if out, err := cmd.CombinedOutput(); err != nil {
		os.Remove(partial)
		return fmt.Errorf("pg_dump: %v: %s", err, database.Redact(strings.TrimSpace(string(out))))
	}
	_ = os.Chmod(partial, 0o600) // reporters' contacts are in it
	// The archive must list its tables, or it is not worth its name.
	list, err := exec.CommandContext(ctx, filepath.Join(filepath.Dir(bin), "pg_restore"), "--list", partial).CombinedOutput()
	if err != nil || !strings.Contains(string(list), "goose_db_version") {
		os.Remove(partial)
		return fmt.Errorf("the dump failed its check (pg_restore --list): %v", err)
	}
	if err := os.Rename(partial, to); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "backup written to %s in %s (pg_dump, custom format)\n", to, time.Since(start).Round(time.Millisecond))
	return nil
}

func pgRestore(ctx context.Context, rawURL, dsn, from string, force, allowBroken bool, stdout io.Writer) error {
	bin, err := pgTool("pg_restore")
	if err != nil {
		return err
	}
	conn, schema, err := pgArgs(dsn)
	if err != nil {
		return err
	}
	db, err := database.Open(ctx, rawURL)
	if err != nil {
		return err
	}
	var tables int64
	q := "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = current_schema()"
	if schema != "" {
		q = "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = '" + strings.ReplaceAll(schema, "'", "''") + "'"
	}
	err = db.R.WithContext(ctx).Raw(q).Scan(&tables).Error
	db.Close()
	if err != nil {
		return err
	}
	args := []string{"--exit-on-error", "--no-owner", "--single-transaction"}
	if tables > 0 {
		if !force {
			return fmt.Errorf("the database already has %d tables; restore replaces them only with --force (stop Docket first)", tables)
		}
		args = append(args, "--clean", "--if-exists")
	}
	if out, err := exec.CommandContext(ctx, bin, append(args, "--dbname="+conn, from)...).CombinedOutput(); err != nil {
		return fmt.Errorf("pg_restore (nothing was changed: it runs in one transaction): %v: %s", err, database.Redact(strings.TrimSpace(string(out))))
	}
	db, err = database.Open(ctx, rawURL)
	if err != nil {
		return err
	}
	defer db.Close()
	sum, err := summarize(ctx, db)
	if err != nil {
		return fmt.Errorf("restored, but the result fails its check: %w", err)
	}
	fmt.Fprintf(stdout, "restored %s: schema version %d, %d reports, %d cases\n", from, sum.version, sum.reports, sum.cases)
	if sum.auditChain != nil {
		// pg_restore has already replaced the data: all that is left is to say so.
		if !allowBroken {
			return fmt.Errorf("restored, but the %w (keep the backup as evidence; --allow-broken-audit-chain accepts this)", sum.auditChain)
		}
		fmt.Fprintf(stdout, "WARNING: the %s\n", sum.auditChain)
	}
	if sum.pending > 0 {
		fmt.Fprintf(stdout, "%d migrations are pending; docket serve applies them at start (or run: docket migrate up)\n", sum.pending)
	}
	return nil
}
