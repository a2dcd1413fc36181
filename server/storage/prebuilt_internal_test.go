package storage

import (
	"slices"
	"testing"
)

// TestWithListShapes checks that a statement withList keeps for its shape is the one it would make anew,
// that writes of the same texts with other argument counts get their own numbering, and that the
// arguments follow the writes' order whatever is kept.
func TestWithListShapes(t *testing.T) {
	ins := "INSERT INTO t (a, b) VALUES ($1, $2)"
	upd := "UPDATE u SET c = $1 WHERE d = $2"
	rest := "SELECT * FROM v WHERE e = $1"
	held := []heldWrite{{query: ins, args: []any{1, 2}}, {query: upd, args: []any{3, 4}}}
	want := "WITH held_1 AS (INSERT INTO t (a, b) VALUES ($1, $2)), held_2 AS (UPDATE u SET c = $3 WHERE d = $4) SELECT * FROM v WHERE e = $5"
	for i := range 3 {
		q, args := withList(held, " ", rest, []any{5})
		if q != want {
			t.Fatalf("call %d: statement\n%s\nwant\n%s", i, q, want)
		}
		if !slices.Equal(args, []any{1, 2, 3, 4, 5}) {
			t.Fatalf("call %d: arguments %v", i, args)
		}
	}
	// The same texts with a write of three arguments (as a caller's error would pass them) number on
	// from its count, not from the kept statement's.
	held[0].args = []any{1, 2, 9}
	q, args := withList(held, " ", rest, []any{5})
	if want := "WITH held_1 AS (INSERT INTO t (a, b) VALUES ($1, $2)), held_2 AS (UPDATE u SET c = $4 WHERE d = $5) SELECT * FROM v WHERE e = $6"; q != want {
		t.Fatalf("other counts: statement\n%s\nwant\n%s", q, want)
	}
	if !slices.Equal(args, []any{1, 2, 9, 3, 4, 5}) {
		t.Fatalf("other counts: arguments %v", args)
	}
	// A WITH statement's remainder after ", ".
	q, _ = withList(held[1:], ", ", "w AS (SELECT 1) SELECT $1", []any{7})
	if want := "WITH held_1 AS (UPDATE u SET c = $1 WHERE d = $2), w AS (SELECT 1) SELECT $3"; q != want {
		t.Fatalf("with remainder: statement\n%s\nwant\n%s", q, want)
	}
	// More writes than a shape holds are composed each time, the same way.
	many := make([]heldWrite, 10)
	for i := range many {
		many[i] = heldWrite{query: "DELETE FROM t WHERE a = $1", args: []any{i}}
	}
	q, args = withList(many, " ", "SELECT 1", nil)
	if q != composeWithList(many, " ", "SELECT 1") || len(args) != 10 || args[9] != 9 {
		t.Fatalf("many writes: %s %v", q, args)
	}
}

// TestInsertRowsShapes checks that InsertRows gives each shape its own statement, kept or not: another
// row count, other columns of the same count, another table.
func TestInsertRowsShapes(t *testing.T) {
	cases := []struct {
		table   string
		n       int
		columns []string
		want    string
	}{
		{"t", 1, []string{"a", "b"}, `INSERT INTO "t" ("a", "b") VALUES ($1, $2)`},
		{"t", 2, []string{"a", "b"}, `INSERT INTO "t" ("a", "b") VALUES ($1, $2), ($3, $4)`},
		{"t", 1, []string{"b", "a"}, `INSERT INTO "t" ("b", "a") VALUES ($1, $2)`},
		{"t", 1, []string{"ab", "c"}, `INSERT INTO "t" ("ab", "c") VALUES ($1, $2)`},
		{"t", 1, []string{"a", "bc"}, `INSERT INTO "t" ("a", "bc") VALUES ($1, $2)`},
		{"u", 1, []string{"a", "b"}, `INSERT INTO "u" ("a", "b") VALUES ($1, $2)`},
	}
	for range 2 { // made, then kept
		for _, c := range cases {
			if got := InsertRows(c.table, c.n, c.columns...); got != c.want {
				t.Errorf("InsertRows(%q, %d, %q) = %s, want %s", c.table, c.n, c.columns, got, c.want)
			}
		}
	}
	// A kept statement whose columns differ from the caller's (a hash collision) is not used.
	k := insertKey{table: "v", n: 1, columns: 1, hash: columnsHash([]string{"x"})}
	insertStatements.m.Store(k, insertEntry{columns: []string{"y"}, query: "wrong"})
	if got := InsertRows("v", 1, "x"); got != `INSERT INTO "v" ("x") VALUES ($1)` {
		t.Errorf("a colliding entry was used: %s", got)
	}
}
