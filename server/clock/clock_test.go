package clock_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/tradeassure/tradeassure/server/clock"
	"github.com/tradeassure/tradeassure/server/servertest"
	"github.com/tradeassure/tradeassure/server/storage"
)

// TestConcurrentFirstAdvances checks moves made at once by several processes on a new database all
// count, the very first ones too: the stored offset is the sum of the moves.
func TestConcurrentFirstAdvances(t *testing.T) {
	for _, engine := range servertest.Engines() {
		t.Run(engine, func(t *testing.T) {
			dsn := "sqlite://" + t.TempDir() + "/t.db"
			if engine == "postgres" {
				dsn = servertest.FreshPostgres(t)
			}
			ctx := context.Background()
			base := time.Date(2026, 3, 4, 9, 0, 0, 0, time.UTC)
			fixed := func() time.Time { return base }
			const processes = 8
			clocks := make([]*clock.Adjustable, processes)
			for i := range clocks {
				store, err := storage.Open(ctx, dsn)
				if err != nil {
					t.Fatal(err)
				}
				defer store.Close()
				if clocks[i], err = clock.NewAdjustable(ctx, store, fixed); err != nil {
					t.Fatal(err)
				}
			}
			var wg sync.WaitGroup
			want := time.Duration(0)
			for i, c := range clocks {
				d := time.Duration(i+1) * time.Hour
				want += d
				wg.Add(1)
				go func() {
					defer wg.Done()
					if _, err := c.Advance(ctx, d); err != nil {
						t.Error(err)
					}
				}()
			}
			wg.Wait()
			if err := clocks[0].Sync(ctx); err != nil {
				t.Fatal(err)
			}
			if got := clocks[0].Now().Sub(base); got != want {
				t.Fatalf("offset %v after the moves, want their sum %v", got, want)
			}
		})
	}
}
