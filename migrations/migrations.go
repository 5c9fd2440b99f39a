// Package migrations owns Docket's schema: goose SQL migrations embedded in the
// binary, one folder per dialect with the same version numbers (goose has no
// per-dialect blocks inside one file).
package migrations

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
	"log/slog"

	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"

	"github.com/dockethq/docket/audit"
	"github.com/dockethq/docket/internal/database"
)

//go:embed sqlite/*.sql postgres/*.sql
var files embed.FS

// FS returns the migrations of one dialect.
func FS(d database.Dialect) fs.FS {
	sub, err := fs.Sub(files, string(d))
	if err != nil {
		panic(err) // the folders are embedded above; this cannot fail at run time
	}
	return sub
}

// Provider returns a goose provider for db.
func Provider(db *database.DB) (*goose.Provider, error) {
	dialect := goose.DialectSQLite3
	if db.Dialect == database.Postgres {
		dialect = goose.DialectPostgres
	}
	var opts []goose.ProviderOption
	if db.Dialect == database.Postgres {
		// Instances started together (a rolling deploy, a scaled-out set)
		// each migrate at start: an advisory lock lets one apply and the
		// others find the schema up to date.
		locker, err := lock.NewPostgresSessionLocker(lock.WithLockTimeout(1, 300)) // try every second for five minutes
		if err != nil {
			return nil, fmt.Errorf("migrations: %w", err)
		}
		opts = append(opts, goose.WithSessionLocker(locker))
	}
	p, err := goose.NewProvider(dialect, db.SQL(), FS(db.Dialect), opts...)
	if err != nil {
		return nil, fmt.Errorf("migrations: %w", err)
	}
	return p, nil
}

// Up applies every pending migration.
func Up(ctx context.Context, db *database.DB) error {
	p, err := Provider(db)
	if err != nil {
		return err
	}
	if _, err := p.Up(ctx); err != nil {
		return fmt.Errorf("migrate up: %w", err)
	}
	// Audit events written before the hash chain existed (00035) are chained
	// once, here, so every later start finds a fully chained log.
	if n, err := audit.ChainLegacy(ctx, db.W); err != nil {
		return fmt.Errorf("chain the audit events from before 00035: %w", err)
	} else if n > 0 {
		slog.Info("chained the audit events written before the audit chain existed", "events", n)
	}
	if db.Dialect == database.SQLite {
		// Fresh statistics, or the planner picks poor indexes for FileReport's
		// customer-record query (BENCHMARKS.md §6). Cheap when nothing changed.
		if err := db.W.WithContext(ctx).Exec("PRAGMA optimize").Error; err != nil {
			return fmt.Errorf("optimize: %w", err)
		}
	}
	return nil
}
