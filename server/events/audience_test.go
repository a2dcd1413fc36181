package events_test

import (
	"fmt"
	"testing"

	"github.com/tradeassure/tradeassure/ent"
	commonv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/common/v1"
	eventv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/event/v1"
	"github.com/tradeassure/tradeassure/server/auth"
	"github.com/tradeassure/tradeassure/server/events"
	"github.com/tradeassure/tradeassure/server/servertest"
)

// TestAudienceQueryAndMatchAgree stores events of every subject type with various parties and checks,
// for every kind of reader, that the feed's query (Predicate) and the rule webhooks apply at append time
// (Sees) select exactly the same events.
func TestAudienceQueryAndMatchAgree(t *testing.T) {
	for _, engine := range servertest.Engines() {
		t.Run(engine, func(t *testing.T) {
			e := servertest.New(t, servertest.Options{Engine: engine})
			subjects := []string{"order", "return", "dispute", "complaint", "withdrawal", "account", "webhook_endpoint"}
			partySets := [][]string{nil, {"acc_a"}, {"acc_b"}, {"acc_a", "acc_b"}, {"", "acc_c"}, {"acc_ab"}}
			type stored struct {
				subject string
				parties []string
			}
			byID := map[int64]stored{}
			err := e.Store.WithTx(e.Ctx, func(tx *ent.Tx) error {
				for _, s := range subjects {
					for i, ps := range partySets {
						if err := e.Server.Feed.Append(e.Ctx, tx, events.Event{Type: s + ".changed", SubjectType: s,
							SubjectID: fmt.Sprintf("%s_%d", s, i), Time: e.Clock.Now(), Actor: auth.System, Parties: ps,
							Payload: &eventv1.Event{}}); err != nil {
							return err
						}
						last, err := tx.Event.Query().Order(ent.Desc("id")).First(e.Ctx)
						if err != nil {
							return err
						}
						byID[last.ID] = stored{s, ps}
					}
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			for _, a := range []events.Audience{
				{Role: commonv1.Role_ROLE_OPERATOR}, {Role: commonv1.Role_ROLE_ARBITER, AccountID: "acc_arb"},
				{Role: commonv1.Role_ROLE_BUYER, AccountID: "acc_a"}, {Role: commonv1.Role_ROLE_SUPPLIER, AccountID: "acc_b"},
				{Role: commonv1.Role_ROLE_WAREHOUSE, AccountID: "acc_c"}, {Role: commonv1.Role_ROLE_BUYER, AccountID: "acc_none"},
				{Role: commonv1.Role_ROLE_BUYER},
			} {
				rows, err := e.Store.Client.Event.Query().Where(a.Predicate()).All(e.Ctx)
				if err != nil {
					t.Fatal(err)
				}
				queried := map[int64]bool{}
				for _, r := range rows {
					queried[r.ID] = true
				}
				for id, s := range byID {
					if got := a.Sees(s.subject, s.parties); got != queried[id] {
						t.Errorf("%v %s: Sees(%s, %v) = %v, the feed query says %v", a.Role, a.AccountID, s.subject, s.parties, got, queried[id])
					}
				}
			}
		})
	}
}
