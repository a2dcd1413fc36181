package storage

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"time"

	"entgo.io/ent/dialect"
)

// ErrMoved is the error of a flush in which a deferred update found its row no longer at the revision it
// was read at (another change of the batch, or of a concurrent writer, came first).
var ErrMoved = errors.New("a row moved on from its revision")

// DeferUpdateAtRevision is UpdateAtRevision of the row id that current holds (read at revision) for a
// batch that defers its writes (ctx carries a Deferred, see DeferRow): it runs check, works out the row
// as the update leaves it from current and m (as the database would return it) and collects the update,
// which Flush sends with the batch's other updates of table and the same columns in one statement; that
// statement fails unless every row was still at its revision, failing the batch. deferred is false
// (and nothing is collected) when ctx carries no Deferred or m has what only a statement can apply (a
// field added to, a value that is not plain): the caller then updates the row itself, now.
func DeferUpdateAtRevision[T any, P interface {
	*T
	Scanner
}](ctx context.Context, d, table string, check func() error, m Mutation, current *T, id string, revision int64) (updated *T, deferred bool, err error) {
	if !Deferring(ctx) || len(m.AddedFields()) > 0 {
		return nil, false, nil
	}
	if err := check(); err != nil {
		return nil, false, err
	}
	set := slices.Sorted(slices.Values(m.Fields()))
	cleared := m.ClearedFields()
	columns := append(set, cleared...)
	values := make([]any, len(columns)) // nil for a cleared field
	for i, c := range set {
		v, _ := m.Field(c)
		if !plainValue(v) {
			return nil, false, nil
		}
		if v, err = driver.DefaultParameterConverter.ConvertValue(v); err != nil {
			return nil, false, nil
		}
		switch t := v.(type) {
		case []byte:
			if d == dialect.Postgres {
				return nil, false, nil // the JSON the statement carries has no bytea
			}
		case time.Time:
			if d == dialect.Postgres {
				v = t.Round(time.Microsecond) // what Postgres stores, and would return
			}
		}
		values[i] = v
	}
	// The row after the update: current with its cleared fields emptied (the scanner leaves a field alone
	// for a NULL) and the new values assigned as if scanned from the database.
	after := *current
	for _, c := range cleared {
		if !clearField(&after, c) {
			return nil, false, nil
		}
	}
	scanned, err := P(&after).ScanValues(set)
	if err != nil {
		return nil, false, nil
	}
	for i, s := range scanned {
		sc, ok := s.(sql.Scanner)
		if !ok {
			return nil, false, nil
		}
		if err := sc.Scan(values[i]); err != nil {
			return nil, false, fmt.Errorf("storage: deferred update of %s %s: %w", table, id, err)
		}
	}
	if err := P(&after).AssignValues(set, scanned); err != nil {
		return nil, false, fmt.Errorf("storage: deferred update of %s %s: %w", table, id, err)
	}
	key := fmt.Sprint("update ", table, columns)
	DeferRow(ctx, key, func(ctx context.Context, q Conn, rows [][]any) error {
		return updateRows(ctx, q, d, table, columns, rows)
	}, append([]any{id, revision}, values...)...)
	return &after, true, nil
}

// clearField sets the field of the entity e (a pointer to an ent entity) whose JSON name is column to
// its zero value (nil, for a field that may be NULL) and reports whether it found one.
func clearField(e any, column string) bool {
	v := reflect.ValueOf(e).Elem()
	for i := range v.NumField() {
		if name, _, _ := strings.Cut(v.Type().Field(i).Tag.Get("json"), ","); name == column {
			v.Field(i).SetZero()
			return true
		}
	}
	return false
}

// updateRows sends, deferredRowsPerStatement rows at a time, one UPDATE setting columns of table's rows,
// each row (id, revision, the columns' values) applying only to the row id while it is at revision, and
// fails unless every one applied.
func updateRows(ctx context.Context, q Execer, d, table string, columns []string, all [][]any) error {
	for rows := range slices.Chunk(all, deferredRowsPerStatement) {
		query, args, err := updateStatement(d, table, columns, rows)
		if err != nil {
			return err
		}
		res, err := q.ExecContext(ctx, query, args...)
		if err != nil {
			return fmt.Errorf("update %d deferred %s rows: %w", len(rows), table, err)
		}
		n, err := res.RowsAffected()
		if err != nil {
			return fmt.Errorf("update %d deferred %s rows: %w", len(rows), table, err)
		}
		if n != int64(len(rows)) {
			return fmt.Errorf("update %d deferred %s rows: %d applied: %w", len(rows), table, n, ErrMoved)
		}
	}
	return nil
}

// updateStatement is the UPDATE of updateRows for one chunk of rows. On SQLite the rows are a VALUES
// list joined by id (UPDATE … FROM); on Postgres they are one JSON array, each row read as a record of
// table's own type (json_populate_record), so that every value takes its column's type.
func updateStatement(d, table string, columns []string, rows [][]any) (string, []any, error) {
	var b strings.Builder
	fmt.Fprintf(&b, "UPDATE %q SET ", table)
	if d == dialect.Postgres {
		for i, c := range columns {
			if i > 0 {
				b.WriteString(", ")
			}
			fmt.Fprintf(&b, "%q = r.%q", c, c)
		}
		fmt.Fprintf(&b, ` FROM json_array_elements($1::json) AS e, json_populate_record(NULL::%q, e->'r') AS r WHERE %q."id" = r."id" AND %q."revision" = (e->>'at')::bigint`,
			table, table, table)
		type jsonRow struct {
			At int64          `json:"at"`
			R  map[string]any `json:"r"`
		}
		list := make([]jsonRow, len(rows))
		for i, r := range rows {
			rev, _ := r[1].(int64)
			list[i] = jsonRow{At: rev, R: map[string]any{"id": r[0]}}
			for j, c := range columns {
				list[i].R[c] = r[2+j]
			}
		}
		body, err := json.Marshal(list)
		if err != nil {
			return "", nil, fmt.Errorf("update %d deferred %s rows: %w", len(rows), table, err)
		}
		return b.String(), []any{string(body)}, nil
	}
	for i, c := range columns {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%q = v.column%d", c, i+3)
	}
	b.WriteString(" FROM (VALUES ")
	args := make([]any, 0, len(rows)*(len(columns)+2))
	for i, r := range rows {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString("(")
		for j := range r {
			if j > 0 {
				b.WriteString(", ")
			}
			fmt.Fprintf(&b, "$%d", len(args)+1)
			args = append(args, r[j])
		}
		b.WriteString(")")
	}
	fmt.Fprintf(&b, `) AS v WHERE %q."id" = v.column1 AND %q."revision" = v.column2`, table, table)
	return b.String(), args, nil
}
