package storage

import (
	"context"
	"database/sql/driver"
	"reflect"
	"strings"

	sqlite3 "github.com/mattn/go-sqlite3"
)

// The SQLite driver compiles a statement anew at every call made without a prepared statement — every
// ent query — which cost 11–12 % of the CPU under load (issue 13). cachingDriver keeps each connection's
// compiled statements by their text and reuses them: binding new arguments to a compiled statement
// resets it. SQLite recompiles a cached statement by itself when the schema changes.

// stmtCacheSize bounds the statements kept per connection; the application sends far fewer distinct ones.
const stmtCacheSize = 512

type cachingDriver struct{ sqlite3.SQLiteDriver }

func (d *cachingDriver) Open(dsn string) (driver.Conn, error) {
	c, err := d.SQLiteDriver.Open(dsn)
	if err != nil {
		return nil, err
	}
	return &cachingConn{SQLiteConn: c.(*sqlite3.SQLiteConn), stmts: map[string]*cachedStmt{}}, nil
}

// cachingConn is a SQLite connection that reuses its compiled statements. database/sql never uses one
// connection from two goroutines at once, so it needs no lock.
type cachingConn struct {
	*sqlite3.SQLiteConn
	stmts map[string]*cachedStmt
}

type cachedStmt struct {
	*sqlite3.SQLiteStmt
	busy bool // rows of it are open
}

// cacheable reports whether a statement may be kept: one statement (the driver runs only the first of
// several in a prepared statement); no "*" but COUNT(*), since the driver counts a statement's columns
// before SQLite recompiles it for a changed schema; and for Exec one that cannot stop at a row, since a
// statement stopped at a row stays active (holding its transaction open) until it is reset by its next use.
func cacheable(query string, exec bool) bool {
	if strings.Contains(query, ";") || strings.Contains(strings.ReplaceAll(query, "COUNT(*)", ""), "*") {
		return false
	}
	if !exec {
		return true
	}
	q := strings.TrimSpace(query)
	if containsFold(q, "RETURNING") {
		return false
	}
	return hasPrefixFold(q, "INSERT") || hasPrefixFold(q, "UPDATE") || hasPrefixFold(q, "DELETE") ||
		hasPrefixFold(q, "REPLACE")
}

// hasPrefixFold is strings.HasPrefix ignoring ASCII case, without copying s (cacheable runs on every
// statement, some of them long).
func hasPrefixFold(s, prefix string) bool {
	return len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
}

// containsFold is strings.Contains ignoring ASCII case, for an upper-case word, without copying s.
func containsFold(s, word string) bool {
	for i := 0; i+len(word) <= len(s); i++ {
		if c := s[i]; (c == word[0] || c == word[0]+('a'-'A')) && strings.EqualFold(s[i:i+len(word)], word) {
			return true
		}
	}
	return false
}

// stmt returns the connection's compiled statement for query, compiling it the first time; nil when the
// one cached is in use by open rows.
func (c *cachingConn) stmt(ctx context.Context, query string) (*cachedStmt, error) {
	if s, ok := c.stmts[query]; ok {
		if s.busy {
			return nil, nil
		}
		return s, nil
	}
	if len(c.stmts) >= stmtCacheSize {
		for q, s := range c.stmts {
			if !s.busy {
				_ = s.SQLiteStmt.Close()
				delete(c.stmts, q)
			}
		}
	}
	st, err := c.SQLiteConn.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	s := &cachedStmt{SQLiteStmt: st.(*sqlite3.SQLiteStmt)}
	c.stmts[query] = s
	return s, nil
}

func (c *cachingConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	if !cacheable(query, true) {
		return c.SQLiteConn.ExecContext(ctx, query, args)
	}
	s, err := c.stmt(ctx, query)
	if err != nil {
		return nil, err
	}
	if s == nil {
		return c.SQLiteConn.ExecContext(ctx, query, args)
	}
	return s.ExecContext(ctx, args)
}

func (c *cachingConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	if !cacheable(query, false) {
		return c.SQLiteConn.QueryContext(ctx, query, args)
	}
	s, err := c.stmt(ctx, query)
	if err != nil {
		return nil, err
	}
	if s == nil {
		return c.SQLiteConn.QueryContext(ctx, query, args)
	}
	rows, err := s.QueryContext(ctx, args)
	if err != nil {
		return nil, err
	}
	s.busy = true
	return &cachedRows{Rows: rows, s: s}, nil
}

func (c *cachingConn) Close() error {
	for q, s := range c.stmts {
		_ = s.SQLiteStmt.Close()
		delete(c.stmts, q)
	}
	return c.SQLiteConn.Close()
}

// cachedRows frees its statement for the next use when closed (closing resets the statement).
type cachedRows struct {
	driver.Rows
	s *cachedStmt
}

func (r *cachedRows) Close() error {
	err := r.Rows.Close()
	r.s.busy = false
	return err
}

// The rows of the SQLite driver describe their columns' types; database/sql asks for them through these.

func (r *cachedRows) ColumnTypeDatabaseTypeName(i int) string {
	return r.Rows.(driver.RowsColumnTypeDatabaseTypeName).ColumnTypeDatabaseTypeName(i)
}

func (r *cachedRows) ColumnTypeNullable(i int) (nullable, ok bool) {
	return r.Rows.(driver.RowsColumnTypeNullable).ColumnTypeNullable(i)
}

func (r *cachedRows) ColumnTypeScanType(i int) reflect.Type {
	return r.Rows.(driver.RowsColumnTypeScanType).ColumnTypeScanType(i)
}
