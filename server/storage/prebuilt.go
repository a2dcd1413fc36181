package storage

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"entgo.io/ent"
	"entgo.io/ent/dialect"
	entsql "entgo.io/ent/dialect/sql"
)

// Querier runs a query: an ent client and an ent transaction both are one.
type Querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// Execer runs a statement: an ent transaction is one.
type Execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
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
	return SelectWhere(table, columns, func(t *entsql.SelectTable) *entsql.Predicate { return entsql.EQ(t.C(column), "") }, 0)
}

// SelectWhere is SelectBy for another condition: where builds it from the table (its values, any
// non-nil ones, become placeholders $1, $2, … in order), and limit, when positive, bounds the rows.
func SelectWhere(table string, columns []string, where func(t *entsql.SelectTable) *entsql.Predicate, limit int) string {
	b := entsql.Dialect(dialect.Postgres)
	t := b.Table(table)
	cols := make([]string, len(columns))
	for i, c := range columns {
		cols[i] = t.C(c)
	}
	sel := b.Select(cols...).From(t).Where(where(t))
	if limit > 0 {
		sel.Limit(limit)
	}
	q, _ := sel.Query()
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
func InsertInto(table string, columns ...string) string { return InsertRows(table, 1, columns...) }

// InsertRows is InsertInto for n rows; the arguments are each row's values in column order, row after row.
// Each shape (table, columns, n) is written once and kept: the hot writes (a new order's webhook outbox
// rows, the deadline sweep's batches) send the same few shapes all the time.
func InsertRows(table string, n int, columns ...string) string {
	k := insertKey{table: table, n: n, columns: len(columns), hash: columnsHash(columns)}
	if e, ok := insertStatements.load(k); ok && slices.Equal(e.columns, columns) {
		return e.query
	}
	q := insertRows(table, n, columns)
	insertStatements.store(k, insertEntry{columns: slices.Clone(columns), query: q})
	return q
}

// insertKey is the shape of an INSERT that InsertRows writes: its table, rows, and its columns' count and
// hash (the entry keeps the columns themselves, compared on every hit).
type insertKey struct {
	table   string
	n       int
	columns int
	hash    uint64
}

type insertEntry struct {
	columns []string
	query   string
}

// insertStatements holds InsertRows' statements by shape (the code has a few tables times at most
// deferredRowsPerStatement row counts).
var insertStatements = shapes[insertKey, insertEntry]{max: 4096}

// shapes keeps what is made once per shape of a statement (its text): at most max of them, so that no
// caller can grow it without bound; past that, a shape is made anew each time.
type shapes[K comparable, V any] struct {
	m     sync.Map // K → V
	count atomic.Int64
	max   int64
}

func (c *shapes[K, V]) load(k K) (V, bool) {
	v, ok := c.m.Load(k)
	if !ok {
		var zero V
		return zero, false
	}
	return v.(V), true
}

func (c *shapes[K, V]) store(k K, v V) {
	if c.count.Add(1) <= c.max {
		c.m.Store(k, v)
	}
}

// columnsHash is the 64-bit FNV-1a hash of the columns, each followed by a zero byte.
func columnsHash(columns []string) uint64 {
	h := uint64(14695981039346656037)
	for _, c := range columns {
		for i := 0; i < len(c); i++ {
			h = (h ^ uint64(c[i])) * 1099511628211
		}
		h *= 1099511628211 // the zero byte
	}
	return h
}

func insertRows(table string, n int, columns []string) string {
	b := entsql.Dialect(dialect.Postgres).Insert(table).Columns(columns...)
	values := make([]any, len(columns))
	for i := range values {
		values[i] = "" // any non-nil value: ent writes a placeholder for it (and NULL for nil)
	}
	for range n {
		b.Values(values...)
	}
	q, _ := b.Query()
	return q
}

// Mutation is what UpdateReturning reads of an ent mutation: the fields it sets, adds to and clears.
type Mutation interface {
	Fields() []string
	Field(name string) (ent.Value, bool)
	AddedFields() []string
	AddedField(name string) (ent.Value, bool)
	ClearedFields() []string
}

// returningLists holds, per table, the RETURNING clause of every column UpdateReturning appends.
var returningLists sync.Map

// plainValue reports whether v goes to the driver as it is: a value of a basic kind (a string, a number, a
// bool, or a named type of one, as ent's enums are), bytes, a time, or a driver.Valuer — not a JSON
// field's value, which ent's own update marshals.
func plainValue(v any) bool {
	switch v.(type) {
	case nil, []byte, time.Time, driver.Valuer:
		return true
	}
	switch reflect.ValueOf(v).Kind() {
	case reflect.String, reflect.Bool, reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Float32, reflect.Float64:
		return true
	}
	return false
}

// UpdateReturning sends, through q in the dialect d, one UPDATE of table's rows that match where, with
// the changes of m (its set, added and cleared fields, as ent's own update sends them), and returns the
// rows as they are after it, every column scanned as ent scans them: an ent UpdateOne and the SELECT it
// reads the row back with, in one statement (RETURNING, which Postgres and SQLite both have). m's
// validators must have been run (the update builder's Check). No row matching where is no row returned.
// It is for entities without JSON fields: a JSON value set is refused, and an append to a JSON list
// (which a mutation keeps apart from its fields) would be lost.
func UpdateReturning[T any, P interface {
	*T
	Scanner
}](ctx context.Context, q Querier, d, table string, columns []string, m Mutation, where *entsql.Predicate) ([]*T, error) {
	b := entsql.Dialect(d).Update(table)
	for _, f := range m.Fields() {
		v, _ := m.Field(f)
		if !plainValue(v) {
			return nil, fmt.Errorf("storage: field %s of %s is a %T, which only ent's own update encodes", f, table, v)
		}
		b.Set(f, v)
	}
	for _, f := range m.AddedFields() {
		v, _ := m.AddedField(f)
		b.Add(f, v)
	}
	for _, f := range m.ClearedFields() {
		b.SetNull(f)
	}
	query, args := b.Where(where).Query()
	list, ok := returningLists.Load(table)
	if !ok {
		quoted := make([]string, len(columns))
		for i, c := range columns {
			quoted[i] = `"` + c + `"`
		}
		list, _ = returningLists.LoadOrStore(table, " RETURNING "+strings.Join(quoted, ", "))
	}
	return ScanRows[T, P](ctx, q, query+list.(string), columns, args...)
}

// UpdateAtRevision is UpdateReturning of the one row id of table at revision (an optimistic write: the
// change applies only if nobody changed the row since it was read at that revision), after check (the
// update builder's Check, its field validators). found is false when the row is no longer at revision.
func UpdateAtRevision[T any, P interface {
	*T
	Scanner
}](ctx context.Context, q Querier, d, table string, columns []string, check func() error, m Mutation, id string, revision int64) (updated *T, found bool, err error) {
	if err := check(); err != nil {
		return nil, false, err
	}
	rows, err := UpdateReturning[T, P](ctx, q, d, table, columns, m,
		entsql.And(entsql.EQ("id", id), entsql.EQ("revision", revision)))
	if err != nil || len(rows) == 0 {
		return nil, false, err
	}
	return rows[0], true, nil
}

// InsertCreated sends, through q, the INSERT of the new row id of table with the fields m sets (an ent
// create builder's mutation, its defaults set and its validators run: the builder's Prepare), its
// statement written once per set of columns (InsertRows), and returns the entity as the builder's Save
// would: the values as set, not read back. It is for the hot inserts whose result nobody reads in the
// transaction, so that on Postgres they may be held back (Later). ok is false, and nothing is sent, when
// m has what only ent's own insert can write (a JSON value, a field added to or cleared): the caller then
// saves the builder itself.
func InsertCreated[T any, P interface {
	*T
	Scanner
}](ctx context.Context, q Execer, table, id string, m Mutation) (created *T, ok bool, err error) {
	if len(m.AddedFields()) > 0 || len(m.ClearedFields()) > 0 {
		return nil, false, nil
	}
	columns := append([]string{"id"}, slices.Sorted(slices.Values(m.Fields()))...)
	values := make([]any, len(columns))
	values[0] = id
	for i, c := range columns[1:] {
		v, _ := m.Field(c)
		if !plainValue(v) {
			return nil, false, nil
		}
		if v, err = driver.DefaultParameterConverter.ConvertValue(v); err != nil {
			return nil, false, nil
		}
		values[i+1] = v
	}
	e := P(new(T))
	scanned, err := e.ScanValues(columns)
	if err != nil {
		return nil, false, nil
	}
	for i, s := range scanned {
		switch dst := s.(type) {
		case sql.Scanner:
			err = dst.Scan(values[i])
		case *[]byte:
			b, isBytes := values[i].([]byte)
			if !isBytes && values[i] != nil {
				return nil, false, nil
			}
			*dst = b
		default:
			return nil, false, nil
		}
		if err != nil {
			return nil, false, fmt.Errorf("storage: insert into %s: %w", table, err)
		}
	}
	if err := e.AssignValues(columns, scanned); err != nil {
		return nil, false, fmt.Errorf("storage: insert into %s: %w", table, err)
	}
	if _, err := q.ExecContext(ctx, InsertInto(table, columns...), values...); err != nil {
		return nil, false, err
	}
	return (*T)(e), true, nil
}
