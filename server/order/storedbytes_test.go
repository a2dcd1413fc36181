package order_test

import (
	"fmt"
	"testing"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/proto"

	commonv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/common/v1"
	orderv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/order/v1"
	"github.com/tradeassure/tradeassure/server/servertest"
)

// storedBytes sums, for each table that holds a copy of an order, the bytes of the column holding it.
func storedBytes(t *testing.T, e *servertest.Env) map[string]int {
	t.Helper()
	out := map[string]int{}
	for table, col := range map[string]string{"orders": "terms", "order_revisions": "snapshot", "events": "payload", "idempotency_keys": "response"} {
		var n int
		if err := e.Store.DB.QueryRowContext(e.Ctx, fmt.Sprintf("SELECT COALESCE(SUM(LENGTH(%s)), 0) FROM %s", col, table)).Scan(&n); err != nil {
			t.Fatalf("%s: %v", table, err)
		}
		out[table] = n
	}
	return out
}

func deterministic(t *testing.T, m proto.Message) []byte {
	t.Helper()
	b, err := proto.MarshalOptions{Deterministic: true}.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestResponsesStoredByReference checks that a request id keeps no third copy of the order (the revision
// snapshot and the event hold it): its stored response is a reference to the revision, and a retry
// returns the first response byte for byte — for CreateOrder and for a transition, and for a key stored
// in full before the reference existed.
func TestResponsesStoredByReference(t *testing.T) {
	for _, engine := range servertest.Engines() {
		t.Run(engine, func(t *testing.T) {
			e := servertest.New(t, servertest.Options{Engine: engine})
			m := newMarket(t, e)
			before := storedBytes(t, e)
			const n = 10
			var first []*orderv1.CreateOrderResponse
			var reqs []*orderv1.CreateOrderRequest
			for i := range n {
				req := m.createReq(commonv1.Policy_POLICY_TRADE_ASSURANCE, m.terms(int64(i+1)))
				req.RequestId = fmt.Sprintf("bytes-%d", i)
				resp, err := m.supplier.Orders.CreateOrder(e.Ctx, connect.NewRequest(req))
				if err != nil {
					t.Fatal(err)
				}
				first, reqs = append(first, resp.Msg), append(reqs, req)
			}
			after := storedBytes(t, e)
			for table := range after {
				t.Logf("%s: %d bytes per order", table, (after[table]-before[table])/n)
			}
			if got := after["idempotency_keys"] - before["idempotency_keys"]; got != 0 {
				t.Errorf("idempotency keys store %d bytes of responses for %d orders, want 0 (a reference each)", got, n)
			}
			replays := func(what string) {
				for i, req := range reqs {
					again, err := m.supplier.Orders.CreateOrder(e.Ctx, connect.NewRequest(req))
					if err != nil {
						t.Fatalf("%s: retry %d: %v", what, i, err)
					}
					if string(deterministic(t, again.Msg)) != string(deterministic(t, first[i])) {
						t.Fatalf("%s: retry %d returned\n%v\nwant\n%v", what, i, again.Msg, first[i])
					}
				}
			}
			replays("by reference")

			// A transition's response is its revision too, and is replayed as it was, not as the order is now.
			accept := &orderv1.AcceptOrderRequest{RequestId: "accept-1", OrderId: first[0].GetOrder().GetId(), Etag: first[0].GetOrder().GetEtag()}
			accepted, err := m.buyer.Orders.AcceptOrder(e.Ctx, connect.NewRequest(accept))
			if err != nil {
				t.Fatalf("accept: %v", err)
			}
			m.payCard(accepted.Msg.GetOrder())
			again, err := m.buyer.Orders.AcceptOrder(e.Ctx, connect.NewRequest(accept))
			if err != nil {
				t.Fatalf("retried accept: %v", err)
			}
			if string(deterministic(t, again.Msg)) != string(deterministic(t, accepted.Msg)) {
				t.Fatalf("retried accept returned\n%v\nwant\n%v", again.Msg, accepted.Msg)
			}

			// Keys stored before this change hold the whole response and no reference: still answered.
			for i, resp := range first {
				q := "UPDATE idempotency_keys SET response = ?, response_ref = '' WHERE request_id = ?"
				if engine == "postgres" {
					q = "UPDATE idempotency_keys SET response = $1, response_ref = '' WHERE request_id = $2"
				}
				if _, err := e.Store.DB.ExecContext(e.Ctx, q, deterministic(t, resp), reqs[i].GetRequestId()); err != nil {
					t.Fatal(err)
				}
			}
			replays("stored in full")
		})
	}
}
