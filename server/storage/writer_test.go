package storage_test

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/tradeassure/tradeassure/ent"
	"github.com/tradeassure/tradeassure/server/storage"
)

// TestSQLiteWriterLock checks the in-process write lock of a SQLite file: concurrent read-modify-write
// transactions of two stores on one file lose no update; a transaction waiting for the lock gives up
// with its context, without beginning; and the lock is handed on after a transaction that fails or
// panics.
func TestSQLiteWriterLock(t *testing.T) {
	ctx := context.Background()
	path := "sqlite://" + t.TempDir() + "/writer.db"
	a, err := storage.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := storage.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if _, err := a.DB.ExecContext(ctx, "CREATE TABLE counter (n INTEGER NOT NULL)"); err != nil {
		t.Fatal(err)
	}
	if _, err := a.DB.ExecContext(ctx, "INSERT INTO counter (n) VALUES (0)"); err != nil {
		t.Fatal(err)
	}
	increment := func(s *storage.Store) error {
		return s.WithTx(ctx, func(tx *ent.Tx) error {
			rows, err := tx.QueryContext(ctx, "SELECT n FROM counter")
			if err != nil {
				return err
			}
			var n int
			for rows.Next() {
				if err := rows.Scan(&n); err != nil {
					rows.Close()
					return err
				}
			}
			rows.Close()
			_, err = tx.ExecContext(ctx, "UPDATE counter SET n = ?", n+1)
			return err
		})
	}
	const writers, each = 16, 25
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for w := 0; w < writers; w++ {
		s := a
		if w%2 == 1 {
			s = b
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < each; i++ {
				if err := increment(s); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	var n int
	if err := a.DB.QueryRowContext(ctx, "SELECT n FROM counter").Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != writers*each {
		t.Fatalf("counter = %d after %d increments", n, writers*each)
	}

	// A transaction holds the lock; another store's transaction waits and gives up with its context.
	held, release := make(chan struct{}), make(chan struct{})
	done := make(chan error)
	go func() {
		done <- a.WithTx(ctx, func(*ent.Tx) error { close(held); <-release; return nil })
	}()
	<-held
	waiting, cancel := context.WithCancel(ctx)
	ran := false
	gaveUp := make(chan error)
	go func() { gaveUp <- b.WithTx(waiting, func(*ent.Tx) error { ran = true; return nil }) }()
	cancel()
	if err := <-gaveUp; !errors.Is(err, context.Canceled) || ran {
		t.Fatalf("waiting transaction: err %v, ran %v; want context.Canceled without running", err, ran)
	}
	close(release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}

	// A failed and a panicking transaction release the lock.
	boom := errors.New("boom")
	if err := a.WithTx(ctx, func(*ent.Tx) error { return boom }); !errors.Is(err, boom) {
		t.Fatalf("failing transaction: %v", err)
	}
	func() {
		defer func() { _ = recover() }()
		_ = b.WithTx(ctx, func(*ent.Tx) error { panic("in transaction") })
	}()
	if err := increment(a); err != nil {
		t.Fatalf("after a failure and a panic: %v", err)
	}
}
