package storage

import (
	"context"
	"database/sql"
	"fmt"

	"entgo.io/ent/dialect"
	entsql "entgo.io/ent/dialect/sql"
)

// Querier runs a query: an ent client and an ent transaction both are one.
type Querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// Scanner is an ent entity whose generated row scanning is exported (ent/template/scan.tmpl).
type Scanner interface {
	ScanValues(columns []string) ([]any, error)
	AssignValues(columns []string, values []any) error
}

// SelectBy is the text of a SELECT of columns from table where column equals the one argument, written
// once by ent's own builder for the few hot reads that would otherwise have ent build the same statement
// anew on every call (quoting and qualifying every column: about half the CPU of a read by primary key).
// It is written in Postgres's dialect and runs unchanged on SQLite, which accepts double-quoted names and
// $n parameters (bound by position).
func SelectBy(table string, columns []string, column string) string {
	b := entsql.Dialect(dialect.Postgres)
	t := b.Table(table)
	cols := make([]string, len(columns))
	for i, c := range columns {
		cols[i] = t.C(c)
	}
	q, _ := b.Select(cols...).From(t).Where(entsql.EQ(t.C(column), "")).Query()
	return q
}

// ScanRows runs query (a SelectBy of columns) through q and scans each row into a new entity with the
// entity's generated scanner, as ent's own queries scan them. The entities are for reading: they have no
// client to run further queries with.
func ScanRows[T any, P interface {
	*T
	Scanner
}](ctx context.Context, q Querier, query string, columns []string, args ...any) ([]*T, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*T
	for rows.Next() {
		v := P(new(T))
		values, err := v.ScanValues(columns)
		if err != nil {
			return nil, err
		}
		if err := rows.Scan(values...); err != nil {
			return nil, fmt.Errorf("scan: %w", err)
		}
		if err := v.AssignValues(columns, values); err != nil {
			return nil, err
		}
		out = append(out, (*T)(v))
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	return out, rows.Close()
}

// InsertInto is the text of an INSERT of one row of columns into table, in Postgres's dialect, which
// runs unchanged on SQLite as SelectBy's statements do; the arguments are the values in column order.
func InsertInto(table string, columns ...string) string {
	b := entsql.Dialect(dialect.Postgres)
	values := make([]any, len(columns))
	for i := range values {
		values[i] = "" // any non-nil value: ent writes a placeholder for it (and NULL for nil)
	}
	q, _ := b.Insert(table).Columns(columns...).Values(values...).Query()
	return q
}
