package storage

import (
	"context"
	"database/sql"
	"strings"
	"sync"

	"entgo.io/ent/dialect"
	entsql "entgo.io/ent/dialect/sql"

	"github.com/tradeassure/tradeassure/ent"
)

// Statements records every statement the store's ent client sends to the database (BEGIN, COMMIT and
// ROLLBACK included), so tests can pin how many round trips a call costs.
type Statements struct {
	mu  sync.Mutex
	log []string
}

// Reset forgets what was recorded.
func (s *Statements) Reset() {
	s.mu.Lock()
	s.log = nil
	s.mu.Unlock()
}

// List returns the statements recorded since the last Reset, in order.
func (s *Statements) List() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.log...)
}

func (s *Statements) add(q string) {
	s.mu.Lock()
	s.log = append(s.log, q)
	s.mu.Unlock()
}

// RecordStatements replaces the store's client with one that records every statement it sends. Call it
// before the client is handed to anything (hooks registered on the old client are not carried over).
func (s *Store) RecordStatements() *Statements {
	rec := &Statements{}
	drv := entsql.OpenDB(s.Dialect, s.DB)
	s.Client = ent.NewClient(ent.Driver(withHeldWrites(recordingDriver{recorder: recorder{next: drv, rec: rec}, drv: drv})))
	return rec
}

// execQuerier is what ent's driver and its transactions both offer to run statements.
type execQuerier interface {
	Exec(ctx context.Context, query string, args, v any) error
	Query(ctx context.Context, query string, args, v any) error
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// recorder records each statement before running it on next.
type recorder struct {
	next execQuerier
	rec  *Statements
}

func (r recorder) Exec(ctx context.Context, query string, args, v any) error {
	r.rec.add(query)
	return r.next.Exec(ctx, query, args, v)
}

func (r recorder) Query(ctx context.Context, query string, args, v any) error {
	r.rec.add(query)
	return r.next.Query(ctx, query, args, v)
}

func (r recorder) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	r.rec.add(query)
	return r.next.ExecContext(ctx, query, args...)
}

func (r recorder) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	r.rec.add(query)
	return r.next.QueryContext(ctx, query, args...)
}

type recordingDriver struct {
	recorder
	drv *entsql.Driver
}

func (d recordingDriver) Dialect() string { return d.drv.Dialect() }
func (d recordingDriver) Close() error    { return d.drv.Close() }

func (d recordingDriver) Tx(ctx context.Context) (dialect.Tx, error) { return d.BeginTx(ctx, nil) }

func (d recordingDriver) BeginTx(ctx context.Context, opts *sql.TxOptions) (dialect.Tx, error) {
	d.rec.add(beginStatement(opts))
	tx, err := d.drv.BeginTx(ctx, opts)
	if err != nil {
		return nil, err
	}
	return recordingTx{recorder: recorder{next: tx.(*entsql.Tx), rec: d.rec}, tx: tx}, nil
}

func beginStatement(opts *sql.TxOptions) string {
	if opts == nil {
		return "BEGIN"
	}
	var b strings.Builder
	b.WriteString("BEGIN")
	if opts.Isolation != sql.LevelDefault {
		b.WriteString(" ISOLATION LEVEL " + strings.ToUpper(opts.Isolation.String()))
	}
	if opts.ReadOnly {
		b.WriteString(" READ ONLY")
	}
	return b.String()
}

type recordingTx struct {
	recorder
	tx dialect.Tx
}

func (t recordingTx) Commit() error {
	t.rec.add("COMMIT")
	return t.tx.Commit()
}

func (t recordingTx) Rollback() error {
	t.rec.add("ROLLBACK")
	return t.tx.Rollback()
}
