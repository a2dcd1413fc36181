package storage_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/tradeassure/tradeassure/server/storage"
)

// TestStatementCache runs, on a SQLite file, what reusing compiled statements could get wrong: the same
// query again while its rows are still open, a write that returns rows through Exec, a statement cached
// before the schema changed, more distinct statements than the cache keeps, and a transaction committed
// after reads and writes by cached statements.
func TestStatementCache(t *testing.T) {
	ctx := context.Background()
	store, err := storage.Open(ctx, "sqlite://"+t.TempDir()+"/cache.db")
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	db := store.DB
	db.SetMaxOpenConns(1) // every statement on one connection, so the cache is exercised
	mustExec := func(q string, args ...any) {
		t.Helper()
		if _, err := db.ExecContext(ctx, q, args...); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	mustExec("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT NOT NULL)")
	for i := range 3 {
		mustExec("INSERT INTO t (id, v) VALUES (?, ?)", i, fmt.Sprint("v", i))
	}

	// The same query while its first rows are open, inside a transaction on the one connection.
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	const q = "SELECT v FROM t WHERE id >= ? ORDER BY id"
	outer, err := tx.QueryContext(ctx, q, 0)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for outer.Next() {
		var v string
		if err := outer.Scan(&v); err != nil {
			t.Fatal(err)
		}
		inner, err := tx.QueryContext(ctx, q, 2)
		if err != nil {
			t.Fatal(err)
		}
		var last string
		for inner.Next() {
			if err := inner.Scan(&last); err != nil {
				t.Fatal(err)
			}
		}
		inner.Close()
		got = append(got, v+"/"+last)
	}
	if err := outer.Err(); err != nil {
		t.Fatal(err)
	}
	outer.Close()
	if fmt.Sprint(got) != "[v0/v2 v1/v2 v2/v2]" {
		t.Fatalf("nested reads of one query: %v", got)
	}
	// A write returning a row, run as Exec, must not leave the transaction unable to commit.
	if _, err := tx.ExecContext(ctx, "INSERT INTO t (id, v) VALUES (?, ?) RETURNING id", 10, "ten"); err != nil {
		t.Fatal(err)
	}
	if _, err := tx.ExecContext(ctx, "UPDATE t SET v = ? WHERE id = ?", "zero", 0); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatalf("commit after cached statements: %v", err)
	}

	// A statement cached before the schema changed is recompiled, not run as it was.
	read := func() (n int, cols int) {
		t.Helper()
		rows, err := db.QueryContext(ctx, "SELECT * FROM t WHERE id = ?", 0)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		c, _ := rows.Columns()
		for rows.Next() {
			n++
		}
		return n, len(c)
	}
	if _, cols := read(); cols != 2 {
		t.Fatalf("columns before the change: %d", cols)
	}
	mustExec("ALTER TABLE t ADD COLUMN w TEXT NOT NULL DEFAULT ''")
	if n, cols := read(); n != 1 || cols != 3 {
		t.Fatalf("after the schema change: %d rows, %d columns, want 1 and 3", n, cols)
	}

	// More distinct statements than the cache keeps.
	for i := range 1200 {
		var v string
		if err := db.QueryRowContext(ctx, fmt.Sprintf("SELECT v FROM t WHERE id = ? AND %d = %d", i, i), 1).Scan(&v); err != nil || v != "v1" {
			t.Fatalf("statement %d: %q %v", i, v, err)
		}
	}
	var n int
	if err := db.QueryRowContext(ctx, "SELECT COUNT(*) FROM t").Scan(&n); err != nil || n != 4 {
		t.Fatalf("rows: %d %v", n, err)
	}
}
