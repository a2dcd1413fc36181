package storage_test

import (
	"context"
	"errors"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/tradeassure/tradeassure/ent"
	"github.com/tradeassure/tradeassure/server/servertest"
	"github.com/tradeassure/tradeassure/server/storage"
)

// freshStore opens a fresh database of the engine ("sqlite", a file, or "postgres"), closed when the test
// ends.
func freshStore(t *testing.T, engine string) *storage.Store {
	t.Helper()
	dsn := "sqlite://" + t.TempDir() + "/fresh.db"
	if engine == "postgres" {
		dsn = servertest.FreshPostgres(t)
	}
	s, err := storage.Open(context.Background(), dsn)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// heldStore opens a fresh database of the engine with a table of its own for the tests below, recording
// the statements its client sends.
func heldStore(t *testing.T, engine string) (*storage.Store, *storage.Statements) {
	t.Helper()
	ctx := context.Background()
	s := freshStore(t, engine)
	if _, err := s.DB.ExecContext(ctx, "CREATE TABLE held_t (k TEXT PRIMARY KEY, v INTEGER NOT NULL)"); err != nil {
		t.Fatalf("create table: %v", err)
	}
	return s, s.RecordStatements()
}

func heldRows(t *testing.T, s *storage.Store) []string {
	t.Helper()
	rows, err := s.DB.QueryContext(context.Background(), "SELECT k FROM held_t ORDER BY k")
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var k string
		if err := rows.Scan(&k); err != nil {
			t.Fatalf("scan: %v", err)
		}
		out = append(out, k)
	}
	return out
}

const insertHeld = "INSERT INTO held_t (k, v) VALUES ($1, $2)"

// TestHeldWrites checks what a transaction does with writes marked storage.Later: on Postgres they are
// sent with the next statement (in the WITH list of one marked storage.Absorbing, or as a WITH list put
// before such a plain statement, else together before it, or before COMMIT), in order, and a failing one fails the transaction and writes nothing; on SQLite
// they run at once. Either way what is stored is the same.
func TestHeldWrites(t *testing.T) {
	engines := []string{"sqlite-file"}
	if os.Getenv(servertest.PostgresEnv) != "" {
		engines = append(engines, "postgres")
	}
	for _, engine := range engines {
		pg := engine == "postgres"
		t.Run(engine, func(t *testing.T) {
			s, rec := heldStore(t, engine)
			ctx := context.Background()
			later := storage.Later(ctx)
			run := func(fn func(tx *ent.Tx) error) ([]string, error) {
				rec.Reset()
				err := s.WithTx(ctx, fn)
				return rec.List(), err
			}
			exec := func(tx *ent.Tx, c context.Context, q string, args ...any) {
				t.Helper()
				if _, err := tx.ExecContext(c, q, args...); err != nil {
					t.Fatalf("exec %q: %v", q, err)
				}
			}

			t.Run("a read sees them", func(t *testing.T) {
				stmts, err := run(func(tx *ent.Tx) error {
					exec(tx, later, insertHeld, "a1", 1)
					exec(tx, later, insertHeld, "a2", 2)
					var n int
					rows, err := tx.QueryContext(ctx, "SELECT COUNT(*) FROM held_t WHERE k LIKE 'a%'")
					if err != nil {
						return err
					}
					defer rows.Close()
					if !rows.Next() || rows.Scan(&n) != nil || n != 2 {
						t.Errorf("the transaction's read saw %d of its 2 held writes", n)
					}
					return rows.Close()
				})
				if err != nil {
					t.Fatal(err)
				}
				want := []string{"BEGIN", insertHeld, insertHeld, "SELECT COUNT(*) FROM held_t WHERE k LIKE 'a%'", "COMMIT"}
				if pg {
					want = []string{"BEGIN", "WITH held_1 AS (INSERT INTO held_t (k, v) VALUES ($1, $2)) INSERT INTO held_t (k, v) VALUES ($3, $4)",
						"SELECT COUNT(*) FROM held_t WHERE k LIKE 'a%'", "COMMIT"}
				}
				if !slices.Equal(stmts, want) {
					t.Errorf("sent\n  %q\nwant\n  %q", stmts, want)
				}
			})

			t.Run("commit sends them, quoted text kept", func(t *testing.T) {
				stmts, err := run(func(tx *ent.Tx) error {
					exec(tx, later, insertHeld, "b1", 1)
					exec(tx, later, "INSERT INTO held_t (k, v) VALUES ('b2 $1 ''$2''', $1)", 2)
					exec(tx, later, insertHeld, "b3", 3)
					return nil
				})
				if err != nil {
					t.Fatal(err)
				}
				if pg && (len(stmts) != 3 || !strings.HasPrefix(stmts[1], "WITH held_1 AS (INSERT INTO held_t (k, v) VALUES ($1, $2)), "+
					"held_2 AS (INSERT INTO held_t (k, v) VALUES ('b2 $1 ''$2''', $3)) INSERT INTO held_t (k, v) VALUES ($4, $5)")) {
					t.Errorf("sent %q, want BEGIN, the three writes in one statement, COMMIT", stmts)
				}
			})

			t.Run("an absorbing statement carries them", func(t *testing.T) {
				if !pg {
					t.Skip("SQLite has no data-modifying WITH")
				}
				stmts, err := run(func(tx *ent.Tx) error {
					exec(tx, later, insertHeld, "c1", 1)
					rows, err := tx.QueryContext(storage.Absorbing(ctx),
						"WITH x AS (INSERT INTO held_t (k, v) VALUES ($1, $2) RETURNING v) SELECT v FROM x", "c2", 2)
					if err != nil {
						return err
					}
					defer rows.Close()
					var v int
					if !rows.Next() || rows.Scan(&v) != nil || v != 2 {
						t.Errorf("the absorbing statement returned %d, want its own row's 2", v)
					}
					return rows.Close()
				})
				if err != nil {
					t.Fatal(err)
				}
				if len(stmts) != 3 || !strings.HasPrefix(stmts[1], "WITH held_1 AS (INSERT INTO held_t (k, v) VALUES ($1, $2)), x AS (INSERT INTO held_t (k, v) VALUES ($3, $4) RETURNING v)") {
					t.Errorf("sent %q, want BEGIN, one statement, COMMIT", stmts)
				}
			})

			t.Run("an absorbing plain statement gets them as a WITH list", func(t *testing.T) {
				stmts, err := run(func(tx *ent.Tx) error {
					exec(tx, later, insertHeld, "f1", 1)
					// It reads another row than the held write's: the held write is not yet visible to it.
					rows, err := tx.QueryContext(storage.Absorbing(ctx), "SELECT v FROM held_t WHERE k = $1", "a2")
					if err != nil {
						return err
					}
					defer rows.Close()
					var v int
					if !rows.Next() || rows.Scan(&v) != nil || v != 2 {
						t.Errorf("the absorbing read returned %d, want a2's 2", v)
					}
					return rows.Close()
				})
				if err != nil {
					t.Fatal(err)
				}
				want := []string{"BEGIN", insertHeld, "SELECT v FROM held_t WHERE k = $1", "COMMIT"}
				if pg {
					want = []string{"BEGIN", "WITH held_1 AS (INSERT INTO held_t (k, v) VALUES ($1, $2)) SELECT v FROM held_t WHERE k = $3", "COMMIT"}
				}
				if !slices.Equal(stmts, want) {
					t.Errorf("sent\n  %q\nwant\n  %q", stmts, want)
				}
			})

			t.Run("a failing one fails the transaction", func(t *testing.T) {
				_, err := run(func(tx *ent.Tx) error {
					exec(tx, ctx, insertHeld, "d1", 1)
					if _, err := tx.ExecContext(later, insertHeld, "d2", 2); err != nil {
						return err
					}
					_, err := tx.ExecContext(later, insertHeld, "a1", 9) // a1 exists: the primary key refuses it
					return err
				})
				if err == nil {
					t.Fatal("a transaction with a failing write committed")
				}
			})

			t.Run("a rollback drops them", func(t *testing.T) {
				stmts, err := run(func(tx *ent.Tx) error {
					exec(tx, later, insertHeld, "e1", 1)
					return errors.New("changed my mind")
				})
				if err == nil {
					t.Fatal("no error")
				}
				if pg && !slices.Equal(stmts, []string{"BEGIN", "ROLLBACK"}) {
					t.Errorf("sent %q, want BEGIN, ROLLBACK", stmts)
				}
			})

			want := []string{"a1", "a2", "b1", "b2 $1 '$2'", "b3"}
			if pg {
				want = append(want, "c1", "c2")
			}
			want = append(want, "f1")
			if got := heldRows(t, s); !slices.Equal(got, want) {
				t.Errorf("stored %q, want %q", got, want)
			}
		})
	}
}

// TestBeforeCommit checks storage.BeforeCommit: on Postgres a queued write runs after every statement of
// the transaction's function, carrying the writes held back until then, and before COMMIT; its error
// rolls the transaction back; a function that fails runs none; on SQLite nothing is queued.
func TestBeforeCommit(t *testing.T) {
	engines := []string{"sqlite-file"}
	if os.Getenv(servertest.PostgresEnv) != "" {
		engines = append(engines, "postgres")
	}
	for _, engine := range engines {
		t.Run(engine, func(t *testing.T) {
			s, rec := heldStore(t, engine)
			ctx := context.Background()
			const absorbing = "WITH x AS (INSERT INTO held_t (k, v) VALUES ($1, $2) RETURNING v) SELECT v FROM x"
			last := func(tx *ent.Tx, k string) func() error {
				return func() error {
					rows, err := tx.QueryContext(storage.Absorbing(ctx), absorbing, k, 1)
					if err != nil {
						return err
					}
					return rows.Close()
				}
			}
			rec.Reset()
			queued := false
			err := s.WithTx(ctx, func(tx *ent.Tx) error {
				queued = storage.BeforeCommit(tx, last(tx, "z1"))
				if !queued { // SQLite has no data-modifying WITH: the row goes in at once
					_, err := tx.ExecContext(ctx, insertHeld, "z1", 1)
					return err
				}
				_, err := tx.ExecContext(storage.Later(ctx), insertHeld, "z2", 2)
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
			if queued != (engine == "postgres") {
				t.Fatalf("queued %v on %s", queued, engine)
			}
			if queued {
				want := []string{"BEGIN", "WITH held_1 AS (INSERT INTO held_t (k, v) VALUES ($1, $2)), x AS (INSERT INTO held_t (k, v) VALUES ($3, $4) RETURNING v) SELECT v FROM x", "COMMIT"}
				if got := rec.List(); !slices.Equal(got, want) {
					t.Errorf("sent\n  %q\nwant\n  %q", got, want)
				}
			}
			// A failing queued write fails the transaction; a failing function runs no queued write.
			err = s.WithTx(ctx, func(tx *ent.Tx) error {
				if storage.BeforeCommit(tx, last(tx, "z1")) { // z1 exists: the primary key refuses it
					_, err := tx.ExecContext(ctx, insertHeld, "z3", 3)
					return err
				}
				return errors.New("nothing queued")
			})
			if err == nil {
				t.Fatal("a transaction whose last write failed committed")
			}
			err = s.WithTx(ctx, func(tx *ent.Tx) error {
				storage.BeforeCommit(tx, last(tx, "z4"))
				return errors.New("changed my mind")
			})
			if err == nil || err.Error() != "changed my mind" {
				t.Fatalf("got %v, want the function's error", err)
			}
			want := []string{"z1"}
			if engine == "postgres" {
				want = []string{"z1", "z2"}
			}
			if got := heldRows(t, s); !slices.Equal(got, want) {
				t.Errorf("stored %q, want %q", got, want)
			}
		})
	}
}
