package benchgen

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
)

// table buffers rows for one table; values are kept flat, len(cols) per row.
type table struct {
	name string
	cols []string
	buf  []any
	rows int64 // written so far
}

func (t *table) n() int { return len(t.buf) / len(t.cols) }

// loader writes a table's buffered rows.
type loader interface {
	load(ctx context.Context, t *table) error
	// checkpoint ends the current transaction, if the loader uses one, and starts another.
	checkpoint(ctx context.Context) error
}

// writer batches rows per table and flushes all tables, parents first, when any
// buffer is full, so foreign keys always point at rows already written.
type writer struct {
	ld        loader
	tables    []*table // in dependency order
	batch     int      // rows per table before a flush
	perCommit int64    // rows between checkpoints
	pending   int64
}

func (w *writer) table(name string, cols ...string) *table {
	t := &table{name: name, cols: cols}
	w.tables = append(w.tables, t)
	return t
}

func (w *writer) add(ctx context.Context, t *table, vals ...any) error {
	if len(vals) != len(t.cols) {
		panic(fmt.Sprintf("benchgen: %s: %d values for %d columns", t.name, len(vals), len(t.cols)))
	}
	t.buf = append(t.buf, vals...)
	if t.n() >= w.batch {
		return w.flush(ctx)
	}
	return nil
}

func (w *writer) flush(ctx context.Context) error {
	for _, t := range w.tables {
		n := t.n()
		if n == 0 {
			continue
		}
		if err := w.ld.load(ctx, t); err != nil {
			return fmt.Errorf("insert into %s: %w", t.name, err)
		}
		t.rows += int64(n)
		w.pending += int64(n)
		clear(t.buf)
		t.buf = t.buf[:0]
	}
	if w.pending >= w.perCommit {
		w.pending = 0
		return w.ld.checkpoint(ctx)
	}
	return nil
}

// sqliteLoader writes on one connection, in explicit transactions. Each batch
// of rows is one statement with one parameter, a JSON array of rows that SQLite
// unpacks with jsonb_each (which hands each row over as a JSONB blob, so ->>
// reads it without parsing text again):
//
//	INSERT INTO t (a, b) SELECT value->>0, value->>1 FROM jsonb_each(?)
//
// Multi-row INSERT ... VALUES (?, ?), (?, ?) is slower here: the pure-Go
// driver re-parses the statement on every execution and matches each parameter
// to its argument by a linear search, so binding grows with the square of the
// statement's size (see BENCHMARKS.md).
type sqliteLoader struct {
	conn  *sql.Conn
	stmts map[string]*sql.Stmt
	inTx  bool
	buf   []byte
}

func (l *sqliteLoader) begin(ctx context.Context) error {
	if _, err := l.conn.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
		return err
	}
	l.inTx = true
	return nil
}

func (l *sqliteLoader) commit(ctx context.Context) error {
	if !l.inTx {
		return nil
	}
	l.inTx = false
	_, err := l.conn.ExecContext(ctx, "COMMIT")
	return err
}

func (l *sqliteLoader) rollback() {
	if l.inTx {
		l.inTx = false
		_, _ = l.conn.ExecContext(context.Background(), "ROLLBACK")
	}
}

func (l *sqliteLoader) checkpoint(ctx context.Context) error {
	if err := l.commit(ctx); err != nil {
		return err
	}
	return l.begin(ctx)
}

func (l *sqliteLoader) stmt(ctx context.Context, t *table) (*sql.Stmt, error) {
	if s, ok := l.stmts[t.name]; ok {
		return s, nil
	}
	sel := make([]string, len(t.cols))
	for i := range t.cols {
		sel[i] = "value->>" + strconv.Itoa(i)
	}
	q := "INSERT INTO " + t.name + " (" + strings.Join(t.cols, ", ") + ") SELECT " + strings.Join(sel, ", ") + " FROM jsonb_each(?)"
	s, err := l.conn.PrepareContext(ctx, q)
	if err != nil {
		return nil, err
	}
	l.stmts[t.name] = s
	return s, nil
}

func (l *sqliteLoader) load(ctx context.Context, t *table) error {
	s, err := l.stmt(ctx, t)
	if err != nil {
		return err
	}
	nc := len(t.cols)
	b := append(l.buf[:0], '[')
	for i, v := range t.buf {
		switch {
		case i%nc == 0 && i > 0:
			b = append(b, "],["...)
		case i%nc == 0:
			b = append(b, '[')
		default:
			b = append(b, ',')
		}
		if b, err = appendJSON(b, v); err != nil {
			return fmt.Errorf("%s.%s: %w", t.name, t.cols[i%nc], err)
		}
	}
	b = append(b, "]]"...)
	l.buf = b
	_, err = s.ExecContext(ctx, string(b))
	return err
}

// sqliteTime is how the driver (glebarez/go-sqlite) writes a time.Time, so
// loaded rows compare and scan exactly like rows the app writes.
const sqliteTime = "2006-01-02 15:04:05.999999999-07:00"

// appendJSON appends v as a JSON value that ->> turns into the SQL value the
// driver would have bound: integers, text, NULL, booleans as 0/1, times as text.
func appendJSON(b []byte, v any) ([]byte, error) {
	switch x := v.(type) {
	case nil:
		return append(b, "null"...), nil
	case int:
		return strconv.AppendInt(b, int64(x), 10), nil
	case int32:
		return strconv.AppendInt(b, int64(x), 10), nil
	case int64:
		return strconv.AppendInt(b, x, 10), nil
	case bool:
		if x {
			return append(b, '1'), nil
		}
		return append(b, '0'), nil
	case string:
		return appendJSONString(b, x), nil
	case time.Time:
		b = append(b, '"')
		b = x.AppendFormat(b, sqliteTime)
		return append(b, '"'), nil
	}
	return b, fmt.Errorf("benchgen: cannot load a %T", v)
}

func appendJSONString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '"' || c == '\\':
			b = append(b, '\\', c)
		case c < 0x20:
			b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
		default:
			b = append(b, c)
		}
	}
	return append(b, '"')
}

func (l *sqliteLoader) close() {
	for _, s := range l.stmts {
		s.Close()
	}
}

// pgLoader writes with COPY through the pgx connection under database/sql.
type pgLoader struct {
	conn *pgx.Conn
}

func (l *pgLoader) load(ctx context.Context, t *table) error {
	_, err := l.conn.CopyFrom(ctx, pgx.Identifier{t.name}, t.cols, &flatSource{t: t, i: -1})
	return err
}

func (l *pgLoader) checkpoint(context.Context) error { return nil }

// flatSource feeds a table's flat buffer to CopyFrom row by row.
type flatSource struct {
	t *table
	i int
}

func (s *flatSource) Next() bool { s.i++; return s.i < s.t.n() }
func (s *flatSource) Values() ([]any, error) {
	nc := len(s.t.cols)
	return s.t.buf[s.i*nc : (s.i+1)*nc], nil
}
func (s *flatSource) Err() error { return nil }

// withPgx runs fn with the pgx connection behind a database/sql connection.
func withPgx(ctx context.Context, db *sql.DB, fn func(*pgx.Conn) error) error {
	conn, err := db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	return conn.Raw(func(dc any) error {
		c, ok := dc.(*stdlib.Conn)
		if !ok {
			return errors.New("benchgen: the PostgreSQL driver is not pgx's stdlib")
		}
		return fn(c.Conn())
	})
}
