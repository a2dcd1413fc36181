package devmode_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/tradeassure/tradeassure/ent"
	commonv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/common/v1"
	"github.com/tradeassure/tradeassure/server/admin"
	"github.com/tradeassure/tradeassure/server/devmode"
	"github.com/tradeassure/tradeassure/server/servertest"
	"github.com/tradeassure/tradeassure/server/storage"
)

// TestCheckMode checks a database takes the mode of its first server and development mode is refused
// on a production database, one a server started on without it or one holding accounts already.
func TestCheckMode(t *testing.T) {
	cases := []struct {
		name    string
		account bool   // an account exists before the first server
		starts  []bool // dev flags of the servers started in turn
		refused int    // index of the start refused, -1 for none
		mode    string
	}{
		{"dev database", false, []bool{true, true, false, true}, -1, devmode.ModeDevelopment},
		{"production database", false, []bool{false, false}, -1, devmode.ModeProduction},
		{"dev after production", false, []bool{false, true}, 1, devmode.ModeProduction},
		{"dev after the admin command", true, []bool{true}, 0, devmode.ModeProduction},
		{"production after the admin command", true, []bool{false, true}, 1, devmode.ModeProduction},
	}
	for _, engine := range servertest.Engines() {
		for _, c := range cases {
			t.Run(engine+"/"+c.name, func(t *testing.T) {
				dsn := "sqlite://" + t.TempDir() + "/t.db"
				if engine == "postgres" {
					dsn = servertest.FreshPostgres(t)
				}
				ctx := context.Background()
				store, err := storage.Open(ctx, dsn)
				if err != nil {
					t.Fatal(err)
				}
				defer store.Close()
				if c.account {
					err := store.WithTx(ctx, func(tx *ent.Tx) error {
						_, err := admin.CreateAccount(ctx, tx, admin.NewAccount{Role: commonv1.Role_ROLE_OPERATOR, Name: "Ops", Email: "ops@example.com", Country: "US"}, time.Now())
						return err
					})
					if err != nil {
						t.Fatal(err)
					}
				}
				for i, dev := range c.starts {
					mode, err := devmode.CheckMode(ctx, store, dev)
					var refused *devmode.ErrNotDevDatabase
					if (i == c.refused) != errors.As(err, &refused) {
						t.Fatalf("start %d (dev %v): %v", i, dev, err)
					}
					if i != c.refused && err != nil {
						t.Fatalf("start %d: %v", i, err)
					}
					if mode != c.mode {
						t.Fatalf("start %d: mode %q, want %q", i, mode, c.mode)
					}
				}
			})
		}
	}
}
