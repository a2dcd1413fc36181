package storage

import (
	"context"
	"fmt"
	"slices"
)

// Deferred collects writes that a batch of changes makes but does not read back within the batch (an
// order's revision entry, an event and its audience rows, the update of a row the batch holds a copy of),
// to send them at the batch's end with one statement per group (a multi-row INSERT per table, one UPDATE
// per table and set of columns) instead of one statement per row. The deadline sweep uses one for each
// whole-batch attempt at the handlers that declare they only write their own subject: its Flush failing
// fails the attempt, which is then rolled back and applied change by change without one.
type Deferred struct {
	groups []*deferredGroup // in order of first use
	after  []func(ctx context.Context) error
}

// Conn runs statements and queries: an ent transaction is one.
type Conn interface {
	Execer
	Querier
}

// FlushFunc sends one group's collected rows through q, in the order they were collected.
type FlushFunc func(ctx context.Context, q Conn, rows [][]any) error

type deferredGroup struct {
	key   string
	flush FlushFunc
	rows  [][]any
}

type deferredKey struct{}

// WithDeferred returns ctx carrying d: writes offered to Defer, DeferRow and DeferAfter under it are
// collected in d.
func WithDeferred(ctx context.Context, d *Deferred) context.Context {
	return context.WithValue(ctx, deferredKey{}, d)
}

// deferredOf is the Deferred ctx carries, or nil.
func deferredOf(ctx context.Context) *Deferred {
	d, _ := ctx.Value(deferredKey{}).(*Deferred)
	return d
}

// Deferring reports whether ctx carries a Deferred, so that Defer collects rather than refuses.
func Deferring(ctx context.Context) bool { return deferredOf(ctx) != nil }

// DeferRow collects row in the group key of ctx's Deferred, whose rows flush sends at the batch's end
// (flush is kept from the group's first row), and reports whether it did; when it reports false, the
// caller writes the row itself, now. Groups are flushed in the order of their first row, so a group
// whose rows refer to another's (an audience row to its event) must be used after it.
func DeferRow(ctx context.Context, key string, flush FlushFunc, row ...any) bool {
	d := deferredOf(ctx)
	if d == nil {
		return false
	}
	i := slices.IndexFunc(d.groups, func(g *deferredGroup) bool { return g.key == key })
	if i < 0 {
		d.groups = append(d.groups, &deferredGroup{key: key, flush: flush})
		i = len(d.groups) - 1
	}
	d.groups[i].rows = append(d.groups[i].rows, row)
	return true
}

// DeferAfter collects fn, which needs the deferred rows written (it refers to them), to run once they
// are, in the order collected; it reports false (and fn is not kept) when ctx carries no Deferred.
func DeferAfter(ctx context.Context, fn func(ctx context.Context) error) bool {
	d := deferredOf(ctx)
	if d == nil {
		return false
	}
	d.after = append(d.after, fn)
	return true
}

// Defer collects one row of columns for table when ctx carries a Deferred, and reports whether it did;
// when it reports false, the caller inserts the row itself, now. The rows of one table and columns are
// inserted with multi-row INSERTs.
func Defer(ctx context.Context, table string, columns []string, values ...any) bool {
	if !Deferring(ctx) {
		return false // outside a batch (every API write): no key or closure to build
	}
	key := fmt.Sprint("insert ", table, columns)
	return DeferRow(ctx, key, func(ctx context.Context, q Conn, rows [][]any) error {
		return InsertRowsOf(ctx, q, table, columns, rows)
	}, values...)
}

// deferredRowsPerStatement bounds a multi-row statement so that its parameters stay far below both
// engines' limits (SQLite's 32,766, Postgres's 65,535).
const deferredRowsPerStatement = 500

// InsertRowsOf inserts rows of columns into table through q with multi-row INSERTs,
// deferredRowsPerStatement rows at a time.
func InsertRowsOf(ctx context.Context, q Execer, table string, columns []string, all [][]any) error {
	for rows := range slices.Chunk(all, deferredRowsPerStatement) {
		args := make([]any, 0, len(rows)*len(columns))
		for _, r := range rows {
			args = append(args, r...)
		}
		if _, err := q.ExecContext(ctx, InsertRows(table, len(rows), columns...), args...); err != nil {
			return fmt.Errorf("insert %d deferred %s rows: %w", len(rows), table, err)
		}
	}
	return nil
}

// Flush sends the collected writes through q, group by group in the order first used, then runs the
// functions DeferAfter collected, and forgets them all. On an error the caller must roll back what the
// writes belong to.
func (d *Deferred) Flush(ctx context.Context, q Conn) error {
	groups, after := d.groups, d.after
	d.groups, d.after = nil, nil
	for _, g := range groups {
		if err := g.flush(ctx, q, g.rows); err != nil {
			return err
		}
	}
	for _, fn := range after {
		if err := fn(ctx); err != nil {
			return err
		}
	}
	return nil
}
