package storage

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"entgo.io/ent/dialect"
)

// On Postgres a statement costs a round trip to the server, and in a write transaction most of the time
// goes there (the driver's flush is the largest item of a CreateOrder profile). Some writes have no
// result anyone reads — the insert of a new order, of its revision — so they need not go on their own:
// Later marks such a write, the transaction holds it back, and the next statement carries it. A statement
// that says it can (Absorbing) takes the held writes in as items of a WITH list — more items of its own
// when it is a "WITH …" statement, a list put before it otherwise — which Postgres runs in the same
// statement; any other statement, and COMMIT, first sends the held writes together as one statement.
// So the held writes always run before whatever follows them, in the order they were made, in the same
// transaction: what changes is only how many round trips carry them, and that an error of a held write
// is reported by the statement that carried it.
//
// What may be marked Later: a write whose result (rows affected, a returned id) the caller does not use,
// whose failure can only be an internal error, and that does not begin with WITH. What may be marked
// Absorbing: a statement that reads none of the rows held writes make (all items of a WITH list see the
// database as it was before the statement, so it would not see them).
//
// SQLite statements run in the process, without a round trip to save: there both marks do nothing.

type laterKey struct{}

type absorbingKey struct{}

// Later marks the writes run with the returned context as ones a Postgres transaction may hold back and
// send with its next statement; see above for which writes qualify.
func Later(ctx context.Context) context.Context { return context.WithValue(ctx, laterKey{}, true) }

type pendingKey struct{}

// LaterPending is Later, and keeps *pending true while a write run with the returned context is held
// back and not yet sent (always false where nothing is held back, as on SQLite). A write that must
// follow it rather than go beside it in one statement (where it would not see its rows) can then tell.
func LaterPending(ctx context.Context, pending *bool) context.Context {
	return context.WithValue(Later(ctx), pendingKey{}, pending)
}

// Absorbing marks the statements run with the returned context as ones that may carry the transaction's
// held writes in their WITH list; see above for which statements qualify.
func Absorbing(ctx context.Context) context.Context {
	return context.WithValue(ctx, absorbingKey{}, true)
}

func marked(ctx context.Context, key any) bool { v, _ := ctx.Value(key).(bool); return v }

// heldDriver gives each transaction on next a heldTx.
type heldDriver struct {
	dialect.Driver
}

type txBeginner interface {
	BeginTx(ctx context.Context, opts *sql.TxOptions) (dialect.Tx, error)
}

func (d heldDriver) Tx(ctx context.Context) (dialect.Tx, error) { return d.BeginTx(ctx, nil) }

func (d heldDriver) BeginTx(ctx context.Context, opts *sql.TxOptions) (dialect.Tx, error) {
	b, ok := d.Driver.(txBeginner)
	if !ok {
		return nil, errors.New("storage: the driver cannot begin transactions with options")
	}
	tx, err := b.BeginTx(ctx, opts)
	if err != nil {
		return nil, err
	}
	next, ok := tx.(heldNext)
	if !ok {
		return nil, fmt.Errorf("storage: transaction %T does not run raw statements", tx)
	}
	return &heldTx{next: next}, nil
}

func (d heldDriver) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	return d.Driver.(execQuerier).ExecContext(ctx, query, args...)
}

func (d heldDriver) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	return d.Driver.(execQuerier).QueryContext(ctx, query, args...)
}

type heldNext interface {
	dialect.Tx
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

type heldWrite struct {
	ctx     context.Context // the write's own, so that sending it at COMMIT keeps its deadline and cancellation
	query   string
	args    []any
	pending *bool // LaterPending's, or nil
}

// hold holds back a write of ctx.
func (t *heldTx) hold(ctx context.Context, query string, args []any) {
	p, _ := ctx.Value(pendingKey{}).(*bool)
	if p != nil {
		*p = true
	}
	t.held = append(t.held, heldWrite{ctx: ctx, query: query, args: args, pending: p})
}

// take returns the held writes, to be sent now, and holds none.
func (t *heldTx) take() []heldWrite {
	held := t.held
	t.held = nil
	for _, w := range held {
		if w.pending != nil {
			*w.pending = false
		}
	}
	return held
}

// heldTx is a Postgres transaction that holds back the writes marked Later; it is used by one goroutine
// at a time, as every transaction is.
type heldTx struct {
	next heldNext
	held []heldWrite
}

// errHeld is what the result of a held write answers: it has not run yet.
var errHeld = errors.New("storage: the write is held back until the transaction's next statement; its result is not known yet")

type heldResult struct{}

func (heldResult) LastInsertId() (int64, error) { return 0, errHeld }
func (heldResult) RowsAffected() (int64, error) { return 0, errHeld }

func holdable(ctx context.Context, query string) bool {
	return marked(ctx, laterKey{}) && !strings.HasPrefix(query, "WITH ")
}

// argList is the arguments ent's Exec and Query pass (an []any, or nil).
func argList(args any) ([]any, error) {
	argv, ok := args.([]any)
	if args != nil && !ok {
		return nil, fmt.Errorf("storage: unexpected arguments %T", args)
	}
	return argv, nil
}

func (t *heldTx) Exec(ctx context.Context, query string, args, v any) error {
	argv, err := argList(args)
	if err != nil {
		return err
	}
	if v == nil && holdable(ctx, query) {
		t.hold(ctx, query, argv)
		return nil
	}
	query, argv, err = t.carry(ctx, query, argv)
	if err != nil {
		return err
	}
	return t.next.Exec(ctx, query, argv, v)
}

func (t *heldTx) Query(ctx context.Context, query string, args, v any) error {
	argv, err := argList(args)
	if err != nil {
		return err
	}
	query, argv, err = t.carry(ctx, query, argv)
	if err != nil {
		return err
	}
	return t.next.Query(ctx, query, argv, v)
}

func (t *heldTx) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	if holdable(ctx, query) {
		t.hold(ctx, query, args)
		return heldResult{}, nil
	}
	query, args, err := t.carry(ctx, query, args)
	if err != nil {
		return nil, err
	}
	return t.next.ExecContext(ctx, query, args...)
}

func (t *heldTx) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	query, args, err := t.carry(ctx, query, args)
	if err != nil {
		return nil, err
	}
	return t.next.QueryContext(ctx, query, args...)
}

func (t *heldTx) Commit() error {
	if err := t.flush(nil); err != nil {
		_ = t.next.Rollback()
		return err
	}
	return t.next.Commit()
}

func (t *heldTx) Rollback() error {
	t.held = nil
	return t.next.Rollback()
}

// carry returns the statement to send for query: query with the held writes in its WITH list when it is
// Absorbing, else query itself, the held writes having been sent first.
func (t *heldTx) carry(ctx context.Context, query string, args []any) (string, []any, error) {
	if len(t.held) == 0 {
		return query, args, nil
	}
	if marked(ctx, absorbingKey{}) {
		// A WITH statement takes the held writes in as more items of its list; any other statement (a
		// SELECT, INSERT, UPDATE or DELETE) gets a WITH list of them before it.
		sep, rest := " ", query
		if r, ok := strings.CutPrefix(query, "WITH "); ok {
			sep, rest = ", ", r
		}
		q, a := withList(t.take(), sep, rest, args)
		return q, a, nil
	}
	return query, args, t.flush(ctx)
}

// flush sends the held writes as one statement: the last one with the others in its WITH list. It runs
// with ctx, the context of the statement that follows them, or at COMMIT (ctx nil) with the last held
// write's.
func (t *heldTx) flush(ctx context.Context) error {
	if len(t.held) == 0 {
		return nil
	}
	held := t.take()
	last := held[len(held)-1]
	if ctx == nil {
		ctx = last.ctx
	}
	query, args := last.query, last.args
	if len(held) > 1 {
		query, args = withList(held[:len(held)-1], " ", last.query, last.args)
	}
	if _, err := t.next.ExecContext(ctx, query, args...); err != nil {
		return fmt.Errorf("held-back write: %w", err)
	}
	return nil
}

// withList builds "WITH held_1 AS (write 1), …, held_n AS (write n)" + sep + rest: the held writes as
// items of a WITH list before rest (with sep ", ", the remainder of a statement after its own "WITH ";
// with sep " ", a whole statement), each write's placeholders renumbered after those before it, and
// rest's after all of them. The text of a statement depends only on the texts and argument counts of its
// parts, of which a process has a few shapes (CreateOrder sends the same one every time), so it is made
// once per shape (composedStatements) rather than copied three times over on every call.
func withList(held []heldWrite, sep, rest string, restArgs []any) (string, []any) {
	n := len(restArgs)
	for _, w := range held {
		n += len(w.args)
	}
	args := make([]any, 0, n)
	for _, w := range held {
		args = append(args, w.args...)
	}
	args = append(args, restArgs...)
	if len(held) > len(composedKey{}.parts) {
		return composeWithList(held, sep, rest), args
	}
	k := composedKey{sep: sep, rest: rest, n: len(held)}
	for i, w := range held {
		k.parts[i] = composedPart{query: w.query, args: len(w.args)}
	}
	if q, ok := composedStatements.load(k); ok {
		return q, args
	}
	q := composeWithList(held, sep, rest)
	composedStatements.store(k, q)
	return q, args
}

// composedKey is the shape of a statement withList makes: its held writes' texts and argument counts (up
// to eight; a statement of more is made anew each time), sep and rest.
type composedKey struct {
	sep, rest string
	n         int
	parts     [8]composedPart
}

type composedPart struct {
	query string
	args  int
}

// composedStatements holds the statements withList has made, by shape (the code makes a few).
var composedStatements = shapes[composedKey, string]{max: 256}

// composeWithList writes withList's statement.
func composeWithList(held []heldWrite, sep, rest string) string {
	var b strings.Builder
	b.WriteString("WITH ")
	off := 0
	for i, w := range held {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString("held_")
		b.WriteString(strconv.Itoa(i + 1))
		b.WriteString(" AS (")
		b.WriteString(renumber(w.query, off))
		b.WriteByte(')')
		off += len(w.args)
	}
	b.WriteString(sep)
	b.WriteString(renumber(rest, off))
	return b.String()
}

// renumber adds off to every $n placeholder of a Postgres statement outside quoted strings and names
// ('…' and "…"; the statements held here have no comments, E'…' escapes or dollar-quoted strings).
func renumber(query string, off int) string {
	if off == 0 {
		return query
	}
	var b strings.Builder
	b.Grow(len(query) + 8)
	for i := 0; i < len(query); i++ {
		c := query[i]
		switch {
		case c == '\'' || c == '"':
			j := i + 1
			for j < len(query) && query[j] != c {
				j++
			}
			if j < len(query) {
				j++
			}
			b.WriteString(query[i:j])
			i = j - 1
		case c == '$' && i+1 < len(query) && query[i+1] >= '0' && query[i+1] <= '9':
			j := i + 1
			for j < len(query) && query[j] >= '0' && query[j] <= '9' {
				j++
			}
			n, _ := strconv.Atoi(query[i+1 : j])
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n + off))
			i = j - 1
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}
