package idempotency_test

import (
	"errors"
	"fmt"
	"testing"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/tradeassure/tradeassure/ent"
	"github.com/tradeassure/tradeassure/server/idempotency"
	"github.com/tradeassure/tradeassure/server/servertest"
	"github.com/tradeassure/tradeassure/server/storage"
)

// TestClaimWithFirstStatement checks Run for a call marked ClaimWithFirstStatement, on each engine: an
// effect that sends no statement, one whose first statement carries the claim and one that sends a plain
// one first all store their response, and a retry of each gets that response; an effect that fails
// stores nothing, and the same request id then runs its effect anew.
func TestClaimWithFirstStatement(t *testing.T) {
	for _, engine := range servertest.Engines() {
		t.Run(engine, func(t *testing.T) {
			e := servertest.New(t, servertest.Options{Engine: engine})
			ctx := idempotency.ClaimWithFirstStatement(e.Ctx)
			now := e.Clock.Now()
			effects := map[string]func(tx *ent.Tx) error{
				"no statement": func(tx *ent.Tx) error { return nil },
				"an absorbing read": func(tx *ent.Tx) error {
					_, err := tx.Account.Query().Count(storage.Absorbing(e.Ctx))
					return err
				},
				"a plain read": func(tx *ent.Tx) error {
					_, err := tx.Account.Query().Count(e.Ctx)
					return err
				},
			}
			for name, effect := range effects {
				key := idempotency.Key{PrincipalID: "acc_1", Procedure: "/test", RequestID: name}
				req := wrapperspb.String(name)
				runs := 0
				call := func(fail bool) (*wrapperspb.StringValue, error) {
					return idempotency.Run(ctx, e.Store, key, req, now, func(tx *ent.Tx) (*wrapperspb.StringValue, error) {
						runs++
						if err := effect(tx); err != nil {
							return nil, err
						}
						if fail {
							return nil, errors.New("refused")
						}
						return wrapperspb.String(fmt.Sprintf("answer %d to %s", runs, name)), nil
					})
				}
				if _, err := call(true); err == nil || err.Error() != "refused" {
					t.Fatalf("%s: a failing effect answered %v", name, err)
				}
				first, err := call(false)
				if err != nil {
					t.Fatalf("%s: %v", name, err)
				}
				// The effect answers anew each time it runs (on Postgres a retry's does run up to its first
				// statement, which fails on the stored key): the retry must answer the stored response.
				again, err := call(false)
				if err != nil || !proto.Equal(again, first) {
					t.Fatalf("%s: the retry answered %v, %v, want %v", name, again, err, first)
				}
			}
		})
	}
}
