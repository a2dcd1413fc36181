// Package storage opens the database (SQLite by default, Postgres for production and scale-out), applies
// the versioned migrations, and runs work in transactions.
package storage

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	atlas "ariga.io/atlas/sql/migrate"
	"entgo.io/ent/dialect"
	entsql "entgo.io/ent/dialect/sql"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/tradeassure/tradeassure/ent"
)

//go:embed migrations
var migrations embed.FS

// Store is an open database with its ent client.
type Store struct {
	// Client is the ent client over the database.
	Client *ent.Client
	// DB is the underlying connection pool.
	DB *sql.DB
	// Dialect is dialect.SQLite or dialect.Postgres.
	Dialect string
	// Tracer, when set, spans each transaction that is part of a traced operation (a request, a
	// deadline run); a transaction outside one gets no span, so background polling makes no traces.
	Tracer trace.Tracer
	// writer, on SQLite, is held by each transaction from BEGIN to its end: see sqliteWriter.
	writer chan struct{}
}

// sqliteWriters are the write locks of the SQLite files this process has open, by path.
var sqliteWriters sync.Map

// sqliteWriter is the in-process lock of a SQLite database: every transaction there is a writer (BEGIN
// IMMEDIATE), and SQLite lets one run at a time. Without this lock, transactions that find the file's
// lock taken wait in SQLite's busy handler, which sleeps 1, 2, 5, 10… ms between tries whatever the
// holder does: under load the lock stood free while its waiters slept (the server used about half of
// the CPU it had, and each background writer, such as the webhook dispatcher, cost the API far more
// than its own work). Waiting here instead hands the lock on the moment it is released, in arrival
// order. Stores of one file in this process share the lock; other processes on the file still meet the
// busy handler.
func sqliteWriter(path string) chan struct{} {
	if strings.Contains(path, "mode=memory") || path == ":memory:" {
		return make(chan struct{}, 1)
	}
	if abs, err := filepath.Abs(strings.TrimPrefix(strings.SplitN(path, "?", 2)[0], "file:")); err == nil {
		path = abs
	}
	l, _ := sqliteWriters.LoadOrStore(path, make(chan struct{}, 1))
	return l.(chan struct{})
}

// Open connects to the database named by dsn ("sqlite://path", "sqlite://:memory:" or "postgres://…") and
// brings its schema up to date.
func Open(ctx context.Context, dsn string) (*Store, error) {
	var (
		db     *sql.DB
		dia    string
		err    error
		writer chan struct{}
	)
	switch {
	case strings.HasPrefix(dsn, "sqlite://"):
		dia = dialect.SQLite
		db, err = openSQLite(strings.TrimPrefix(dsn, "sqlite://"))
		writer = sqliteWriter(strings.TrimPrefix(dsn, "sqlite://"))
	case strings.HasPrefix(dsn, "postgres://"), strings.HasPrefix(dsn, "postgresql://"):
		dia = dialect.Postgres
		cfg, perr := pgx.ParseConfig(dsn)
		if perr != nil {
			return nil, fmt.Errorf("open database: %w", perr)
		}
		db = sql.OpenDB(stdlib.GetConnector(*cfg))
		db.SetMaxOpenConns(20)
		db.SetMaxIdleConns(20)
		db.SetConnMaxIdleTime(5 * time.Minute)
	default:
		return nil, fmt.Errorf("open database: unsupported --db %q (want sqlite://path or postgres://…)", dsn)
	}
	if err != nil {
		return nil, fmt.Errorf("open database: %w", err)
	}
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("open database: %w", err)
	}
	if err := Migrate(ctx, db, dia); err != nil {
		db.Close()
		return nil, err
	}
	return &Store{Client: ent.NewClient(ent.Driver(withHeldWrites(entsql.OpenDB(dia, db)))), DB: db, Dialect: dia, writer: writer}, nil
}

// withHeldWrites is drv with Later writes held back on Postgres (see heldwrites.go), drv itself on SQLite.
func withHeldWrites(drv dialect.Driver) dialect.Driver {
	if drv.Dialect() != dialect.Postgres {
		return drv
	}
	return heldDriver{Driver: drv}
}

// Close closes the database.
func (s *Store) Close() error { return s.Client.Close() }

func openSQLite(path string) (*sql.DB, error) {
	if path == "" {
		return nil, errors.New("empty sqlite path")
	}
	memory := path == ":memory:" || strings.Contains(path, "mode=memory")
	file := path
	if memory && path == ":memory:" {
		// A shared-cache in-memory database lives as long as one connection is open; the pool keeps one.
		file = fmt.Sprintf("file:mem%d?mode=memory&cache=shared", time.Now().UnixNano())
	} else if !strings.HasPrefix(file, "file:") {
		file = "file:" + file
	}
	sep := "?"
	if strings.Contains(file, "?") {
		sep = "&"
	}
	// WAL lets readers run beside the writer; the busy timeout makes a second writer wait rather than fail;
	// _txlock=immediate takes the write lock when a transaction starts, so two writers never deadlock
	// upgrading read locks.
	params := "_fk=1&_busy_timeout=10000&_txlock=immediate&_journal_mode=WAL&_synchronous=NORMAL"
	if memory {
		params = "_fk=1&_busy_timeout=10000&_txlock=immediate"
	}
	db, err := sql.Open(sqliteDriver, file+sep+params)
	if err != nil {
		return nil, err
	}
	if memory {
		db.SetMaxOpenConns(1)
	} else {
		// SQLite has one writer; more connections only queue on its lock. A few let reads overlap. All of
		// them stay open when idle: the default keeps 2, and reopening one under load costs a file open and
		// its prepared schema.
		db.SetMaxOpenConns(4)
		db.SetMaxIdleConns(4)
	}
	db.SetConnMaxIdleTime(0)
	db.SetConnMaxLifetime(0)
	return db, nil
}

const sqliteDriver = "sqlite3_tradeassure"

func init() {
	sql.Register(sqliteDriver, &cachingDriver{})
}

// Migrate applies the migrations of the dialect that the database has not applied yet, each in its own
// transaction, recording each in schema_migrations.
func Migrate(ctx context.Context, db *sql.DB, dia string) error {
	dir := "migrations/" + dia
	if dia == dialect.SQLite {
		dir = "migrations/sqlite"
	}
	entries, err := fs.ReadDir(migrations, dir)
	if err != nil {
		return fmt.Errorf("read migrations: %w", err)
	}
	var names []string
	for _, e := range entries {
		if filepath.Ext(e.Name()) == ".sql" {
			names = append(names, e.Name())
		}
	}
	sort.Strings(names)
	if _, err := db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (version VARCHAR(255) PRIMARY KEY, applied_at VARCHAR(64) NOT NULL)`); err != nil {
		return fmt.Errorf("create schema_migrations: %w", err)
	}
	for _, name := range names {
		if err := applyMigration(ctx, db, dia, dir, name); err != nil {
			return err
		}
	}
	return nil
}

// migrationNames are the embedded migrations of the dialect, in order.
func migrationNames(dia string) ([]string, error) {
	dir := "migrations/" + dia
	if dia == dialect.SQLite {
		dir = "migrations/sqlite"
	}
	entries, err := fs.ReadDir(migrations, dir)
	if err != nil {
		return nil, fmt.Errorf("read migrations: %w", err)
	}
	var names []string
	for _, e := range entries {
		if filepath.Ext(e.Name()) == ".sql" {
			names = append(names, strings.TrimSuffix(e.Name(), ".sql"))
		}
	}
	sort.Strings(names)
	return names, nil
}

// PendingMigrations returns the migrations this binary carries that the database has not applied (none
// once Open has run, unless someone rolled the schema back), for readiness checks.
func (s *Store) PendingMigrations(ctx context.Context) ([]string, error) {
	names, err := migrationNames(s.Dialect)
	if err != nil {
		return nil, err
	}
	rows, err := s.DB.QueryContext(ctx, "SELECT version FROM schema_migrations")
	if err != nil {
		return nil, fmt.Errorf("read schema_migrations: %w", err)
	}
	defer rows.Close()
	applied := map[string]bool{}
	for rows.Next() {
		var v string
		if err := rows.Scan(&v); err != nil {
			return nil, fmt.Errorf("read schema_migrations: %w", err)
		}
		applied[v] = true
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read schema_migrations: %w", err)
	}
	var pending []string
	for _, n := range names {
		if !applied[n] {
			pending = append(pending, n)
		}
	}
	return pending, nil
}

func applyMigration(ctx context.Context, db *sql.DB, dia, dir, name string) error {
	version := strings.TrimSuffix(name, ".sql")
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("apply migration %s: %w", name, err)
	}
	defer tx.Rollback()
	if dia == dialect.Postgres {
		// Two servers starting together on one database must not both apply a migration.
		if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock(7355608)`); err != nil {
			return fmt.Errorf("apply migration %s: lock: %w", name, err)
		}
	}
	var n int
	if err := tx.QueryRowContext(ctx, rebind(dia, `SELECT COUNT(*) FROM schema_migrations WHERE version = ?`), version).Scan(&n); err != nil {
		return fmt.Errorf("apply migration %s: %w", name, err)
	}
	if n > 0 {
		return nil
	}
	data, err := migrations.ReadFile(dir + "/" + name)
	if err != nil {
		return fmt.Errorf("apply migration %s: %w", name, err)
	}
	stmts, err := atlas.NewLocalFile(name, data).Stmts()
	if err != nil {
		return fmt.Errorf("apply migration %s: parse: %w", name, err)
	}
	for _, stmt := range stmts {
		if _, err := tx.ExecContext(ctx, stmt); err != nil {
			return fmt.Errorf("apply migration %s: %q: %w", name, stmt, err)
		}
	}
	if _, err := tx.ExecContext(ctx, rebind(dia, `INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)`), version, time.Now().UTC().Format(time.RFC3339)); err != nil {
		return fmt.Errorf("apply migration %s: record: %w", name, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("apply migration %s: commit: %w", name, err)
	}
	return nil
}

func rebind(dia, q string) string {
	if dia != dialect.Postgres {
		return q
	}
	var b strings.Builder
	n := 0
	for _, r := range q {
		if r == '?' {
			n++
			fmt.Fprintf(&b, "$%d", n)
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// lastWrites holds, for each Postgres transaction WithTx runs, the writes to send after fn and before
// COMMIT (BeforeCommit).
var lastWrites sync.Map // *ent.Tx → *[]func() error

// BeforeCommit queues write to run once the function WithTx runs tx for has returned successfully, just
// before COMMIT, after every statement that function sent, and reports whether it did: only a Postgres
// transaction of WithTx queues, so on false the caller writes at once. A write queued so is one that no
// later statement of the transaction reads and that may follow them all; it may carry the transaction's
// held-back writes (Later), which by then include the last ones, saving their round trip. Its error
// rolls the transaction back and is WithTx's. A transaction with savepoints must not queue writes: they
// would outlive a rollback to a savepoint.
func BeforeCommit(tx *ent.Tx, write func() error) bool {
	v, ok := lastWrites.Load(tx)
	if !ok {
		return false
	}
	l := v.(*[]func() error)
	*l = append(*l, write)
	return true
}

// WithTx runs fn in a transaction and commits it when fn returns nil.
func (s *Store) WithTx(ctx context.Context, fn func(tx *ent.Tx) error) (err error) {
	if s.Tracer != nil && trace.SpanContextFromContext(ctx).IsSampled() {
		var span trace.Span
		ctx, span = s.Tracer.Start(ctx, "db.transaction", trace.WithSpanKind(trace.SpanKindClient),
			trace.WithAttributes(attribute.String("db.system", s.Dialect)))
		defer func() {
			if err != nil {
				span.RecordError(err)
				span.SetStatus(codes.Error, "transaction rolled back")
			}
			span.End()
		}()
	}
	if s.writer != nil {
		select {
		case s.writer <- struct{}{}:
		case <-ctx.Done():
			return fmt.Errorf("begin transaction: %w", ctx.Err())
		}
		defer func() { <-s.writer }()
	}
	tx, err := s.Client.Tx(ctx)
	if err != nil {
		return fmt.Errorf("begin transaction: %w", err)
	}
	defer func() {
		if v := recover(); v != nil {
			_ = tx.Rollback()
			panic(v)
		}
	}()
	var last *[]func() error
	if s.Dialect == dialect.Postgres {
		last = new([]func() error)
		lastWrites.Store(tx, last)
		defer lastWrites.Delete(tx)
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	if last != nil {
		for i := 0; i < len(*last); i++ {
			if err := (*last)[i](); err != nil {
				_ = tx.Rollback()
				return err
			}
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit transaction: %w", err)
	}
	return nil
}

// Snapshot runs fn in a read-only transaction that sees one consistent state of the database (REPEATABLE
// READ on Postgres; SQLite transactions are snapshots already), and never writes.
func (s *Store) Snapshot(ctx context.Context, fn func(tx *ent.Tx) error) error {
	if s.Dialect != dialect.Postgres {
		return s.WithTx(ctx, fn)
	}
	tx, err := s.Client.BeginTx(ctx, &sql.TxOptions{Isolation: sql.LevelRepeatableRead, ReadOnly: true})
	if err != nil {
		return fmt.Errorf("begin snapshot: %w", err)
	}
	defer tx.Rollback()
	if err := fn(tx); err != nil {
		return err
	}
	return tx.Commit()
}

// RedactDSN hides a password in a DSN, for logs.
func RedactDSN(dsn string) string {
	u, err := url.Parse(dsn)
	if err != nil || u.User == nil {
		return dsn
	}
	if _, ok := u.User.Password(); ok {
		u.User = url.UserPassword(u.User.Username(), "xxxxx")
	}
	return u.String()
}
