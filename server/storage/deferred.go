package storage

import (
	"context"
	"fmt"
	"slices"
)

// Deferred collects rows that a batch of changes inserts but does not read back within the batch (an
// order's revision entry, an event's audience rows), to insert them at the batch's end with one
// multi-row INSERT per table instead of one statement per row. The deadline sweep uses one for each
// whole-batch attempt: its Flush failing fails the attempt, which is then rolled back and applied
// change by change without one.
type Deferred struct {
	tables []*deferredTable // in order of first use
}

type deferredTable struct {
	name    string
	columns []string
	values  [][]any
}

type deferredKey struct{}

// WithDeferred returns ctx carrying d: inserts offered to Defer under it are collected in d.
func WithDeferred(ctx context.Context, d *Deferred) context.Context {
	return context.WithValue(ctx, deferredKey{}, d)
}

// Defer collects one row of columns for table when ctx carries a Deferred, and reports whether it did;
// when it reports false, the caller inserts the row itself, now.
func Defer(ctx context.Context, table string, columns []string, values ...any) bool {
	d, _ := ctx.Value(deferredKey{}).(*Deferred)
	if d == nil {
		return false
	}
	i := slices.IndexFunc(d.tables, func(t *deferredTable) bool { return t.name == table && slices.Equal(t.columns, columns) })
	if i < 0 {
		d.tables = append(d.tables, &deferredTable{name: table, columns: columns})
		i = len(d.tables) - 1
	}
	d.tables[i].values = append(d.tables[i].values, values)
	return true
}

// Deferring reports whether ctx carries a Deferred, so that Defer collects rather than refuses.
func Deferring(ctx context.Context) bool {
	d, _ := ctx.Value(deferredKey{}).(*Deferred)
	return d != nil
}

// deferredRowsPerStatement bounds a multi-row INSERT so that its parameters stay far below both
// engines' limits (SQLite's 32,766, Postgres's 65,535).
const deferredRowsPerStatement = 500

// Flush inserts the collected rows through q, table by table in the order first used, and forgets them.
// On an error the caller must roll back what the rows belong to.
func (d *Deferred) Flush(ctx context.Context, q Execer) error {
	tables := d.tables
	d.tables = nil
	for _, t := range tables {
		for rows := range slices.Chunk(t.values, deferredRowsPerStatement) {
			args := make([]any, 0, len(rows)*len(t.columns))
			for _, r := range rows {
				args = append(args, r...)
			}
			if _, err := q.ExecContext(ctx, InsertRows(t.name, len(rows), t.columns...), args...); err != nil {
				return fmt.Errorf("insert %d deferred %s rows: %w", len(rows), t.name, err)
			}
		}
	}
	return nil
}
