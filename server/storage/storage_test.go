package storage_test

import (
	"context"
	"testing"

	"github.com/tradeassure/tradeassure/server/storage"
)

// TestReopenAppliesNothingTwice checks migrations are recorded and a restart applies none again.
func TestReopenAppliesNothingTwice(t *testing.T) {
	ctx := context.Background()
	dsn := "sqlite://" + t.TempDir() + "/t.db"
	for i := 0; i < 2; i++ {
		s, err := storage.Open(ctx, dsn)
		if err != nil {
			t.Fatalf("open %d: %v", i, err)
		}
		var n int
		if err := s.DB.QueryRowContext(ctx, "SELECT COUNT(*) FROM schema_migrations").Scan(&n); err != nil || n == 0 {
			t.Fatalf("migrations recorded: %d %v", n, err)
		}
		var mode string
		if err := s.DB.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil || mode != "wal" {
			t.Fatalf("journal mode %q %v", mode, err)
		}
		s.Close()
	}
	if _, err := storage.Open(ctx, "mysql://x"); err == nil {
		t.Fatal("an unsupported database opened")
	}
}
