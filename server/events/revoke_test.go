package events_test

import (
	"context"
	"testing"

	"connectrpc.com/connect"

	"github.com/tradeassure/tradeassure/ent/apikey"
	adminv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/admin/v1"
	commonv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/common/v1"
	eventv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/event/v1"
	orderv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/order/v1"
	"github.com/tradeassure/tradeassure/server/auth"
	"github.com/tradeassure/tradeassure/server/servertest"
)

// TestRevokedKeyEndsItsStream checks that a WatchEvents stream open on one server process stops when its
// key is revoked through another: the stream delivers the party's events until then, and ends with
// UNAUTHENTICATED (within the authentication bound) instead of going on with the key it began with.
func TestRevokedKeyEndsItsStream(t *testing.T) {
	for _, engine := range servertest.Engines() {
		if engine == "sqlite" {
			engine = "sqlite-file"
		}
		t.Run(engine, func(t *testing.T) {
			a := servertest.New(t, servertest.Options{Engine: engine})
			b := servertest.New(t, servertest.Options{DSN: a.DSN})
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			supplier := a.Supplier(1_000_000_00, true)
			product := a.Product(supplier, "Widget", 10_00, "USD")
			buyer := a.Buyer("US")
			operator := a.Staff(commonv1.Role_ROLE_OPERATOR)

			stream, err := b.Clients(buyer.Key).Events.WatchEvents(ctx, connect.NewRequest(&eventv1.WatchEventsRequest{}))
			if err != nil {
				t.Fatal(err)
			}
			defer stream.Close()
			if !stream.Receive() { // the heartbeat that opens the stream
				t.Fatalf("stream did not open: %v", stream.Err())
			}
			o, err := supplier.Orders.CreateOrder(ctx, connect.NewRequest(&orderv1.CreateOrderRequest{
				Policy: commonv1.Policy_POLICY_RETAIL, BuyerEmail: buyer.Account.Email,
				Terms: servertest.Terms(product, "USD", 1, a.Clock.Now().AddDate(0, 0, 30))}))
			if err != nil {
				t.Fatal(err)
			}
			for stream.Receive() && stream.Msg().GetEvent().GetSubjectId() != o.Msg.GetOrder().GetId() {
			}
			if stream.Err() != nil {
				t.Fatalf("stream ended before the buyer's order event: %v", stream.Err())
			}

			k, err := a.Store.Client.APIKey.Query().Where(apikey.SecretHash(auth.Hash(buyer.Key))).Only(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := operator.Admin.RevokeApiKey(ctx, connect.NewRequest(&adminv1.RevokeApiKeyRequest{ApiKeyId: k.ID})); err != nil {
				t.Fatal(err)
			}
			for stream.Receive() {
				if ev := stream.Msg().GetEvent(); ev != nil {
					t.Logf("event %s after the revocation (committed before the stream noticed)", ev.GetId())
				}
			}
			servertest.WantError(t, stream.Err(), connect.CodeUnauthenticated, commonv1.ErrorReason_ERROR_REASON_UNAUTHENTICATED)
		})
	}
}
