// Package database opens Docket's database — a SQLite file by default, PostgreSQL at
// scale — and hands out gorm handles configured the way each engine wants.
package database

import (
	"context"
	"database/sql"
	"fmt"
	"log"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/glebarez/sqlite"
	"gorm.io/driver/postgres"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"
)

// Dialect names the SQL engine behind a DB.
type Dialect string

const (
	SQLite   Dialect = "sqlite"
	Postgres Dialect = "postgres"
)

// DB holds a write handle and a read handle. On SQLite they are separate pools on
// the same file: one writer connection (SQLite allows one writer anyway, and a
// single connection avoids SQLITE_BUSY between our own goroutines) and several
// readers, so pages stay fast while writes queue. On PostgreSQL both are the same pool.
type DB struct {
	Dialect Dialect
	W       *gorm.DB // transactions and writes
	R       *gorm.DB // reads
}

// ParseURL tells the dialect of a DOCKET_DATABASE_URL value and returns the DSN
// for its driver. A postgres:// or postgresql:// URL is PostgreSQL; "sqlite:PATH",
// "file:PATH" or a bare path is a SQLite file.
func ParseURL(raw string) (Dialect, string, error) {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return "", "", fmt.Errorf("database URL is empty: give a SQLite file path (e.g. docket.db) or a postgres:// URL")
	}
	if strings.HasPrefix(raw, "postgres://") || strings.HasPrefix(raw, "postgresql://") {
		u, err := url.Parse(raw)
		if err != nil || u.Host == "" {
			return "", "", fmt.Errorf("database URL %q is not a valid postgres:// URL", redact(raw))
		}
		return Postgres, raw, nil
	}
	path := raw
	for _, p := range []string{"sqlite://", "sqlite:", "file:"} {
		if strings.HasPrefix(path, p) {
			path = strings.TrimPrefix(path, p)
			break
		}
	}
	if i := strings.Index(path, "://"); i > 0 {
		return "", "", fmt.Errorf("database URL scheme %q is not supported: use a SQLite file path or a postgres:// URL", path[:i])
	}
	if path == "" || strings.ContainsAny(path, "?#") {
		return "", "", fmt.Errorf("database URL %q is not a SQLite file path", raw)
	}
	return SQLite, path, nil
}

// redact hides a password in a URL for error messages and logs.
func redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.User == nil {
		return raw
	}
	if _, ok := u.User.Password(); ok {
		u.User = url.UserPassword(u.User.Username(), "xxxxx")
	}
	return u.String()
}

// Redact is redact for callers that print configuration.
func Redact(raw string) string { return redact(raw) }

// Open connects to the database named by rawURL. It does not migrate.
func Open(ctx context.Context, rawURL string) (*DB, error) {
	dialect, dsn, err := ParseURL(rawURL)
	if err != nil {
		return nil, err
	}
	cfg := func() *gorm.Config {
		return &gorm.Config{
			Logger: logger.New(log.New(os.Stderr, "gorm: ", log.LstdFlags), logger.Config{
				SlowThreshold:             time.Second,
				LogLevel:                  logger.Warn,
				IgnoreRecordNotFoundError: true,
				ParameterizedQueries:      true, // never a password hash or an email in a log line
			}),
			NowFunc:                func() time.Time { return time.Now().UTC() },
			SkipDefaultTransaction: true, // we open transactions where we mean them
			TranslateError:         true,
		}
	}
	switch dialect {
	case Postgres:
		g, err := gorm.Open(postgres.Open(dsn), cfg())
		if err != nil {
			return nil, fmt.Errorf("open postgres %s: %w", redact(dsn), err)
		}
		sqlDB, _ := g.DB()
		sqlDB.SetMaxOpenConns(20)
		// As many idle as open: under load, closing the connections beyond the
		// idle count after each use means reconnecting for the next request.
		sqlDB.SetMaxIdleConns(20)
		sqlDB.SetConnMaxIdleTime(5 * time.Minute)
		if err := sqlDB.PingContext(ctx); err != nil {
			return nil, fmt.Errorf("connect to postgres %s: %w", redact(dsn), err)
		}
		return &DB{Dialect: Postgres, W: g, R: g}, nil
	default:
		if dir := filepath.Dir(dsn); dir != "." {
			if err := os.MkdirAll(dir, 0o750); err != nil {
				return nil, fmt.Errorf("create directory for SQLite database: %w", err)
			}
		}
		// busy_timeout must come first so the other pragmas wait instead of failing.
		pragmas := "_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)&_pragma=foreign_keys(1)"
		w, err := gorm.Open(sqlite.Open("file:"+dsn+"?"+pragmas+"&_txlock=immediate"), cfg())
		if err != nil {
			return nil, fmt.Errorf("open SQLite %s: %w", dsn, err)
		}
		wdb, _ := w.DB()
		wdb.SetMaxOpenConns(1)
		if err := wdb.PingContext(ctx); err != nil {
			return nil, fmt.Errorf("open SQLite %s: %w", dsn, err)
		}
		r, err := gorm.Open(sqlite.Open("file:"+dsn+"?"+pragmas+"&_pragma=query_only(1)"), cfg())
		if err != nil {
			return nil, fmt.Errorf("open SQLite %s: %w", dsn, err)
		}
		rdb, _ := r.DB()
		rdb.SetMaxOpenConns(4)
		rdb.SetMaxIdleConns(4) // the default 2 reopens (and re-runs the pragmas) under load
		return &DB{Dialect: SQLite, W: w, R: r}, nil
	}
}

// SQL returns the write pool's *sql.DB, for libraries that take one (goose, session store).
func (db *DB) SQL() *sql.DB {
	s, _ := db.W.DB()
	return s
}

// Close closes both pools.
func (db *DB) Close() error {
	var first error
	for _, g := range []*gorm.DB{db.W, db.R} {
		s, err := g.DB()
		if err == nil {
			err = s.Close()
		}
		if err != nil && first == nil && !strings.Contains(err.Error(), "closed") {
			first = err
		}
		if db.R == db.W {
			break
		}
	}
	return first
}

// Ping checks that the database answers.
func (db *DB) Ping(ctx context.Context) error {
	return db.SQL().PingContext(ctx)
}
