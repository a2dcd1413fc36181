package returns_test

import (
	"sync"
	"testing"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/proto"

	commonv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/common/v1"
	returnsv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/returns/v1"
	"github.com/tradeassure/tradeassure/server/ledger"
	"github.com/tradeassure/tradeassure/server/servertest"
)

// TestRetriesAndRaces checks that no refund is applied twice: a retried request id returns the first
// response, a reused id with another request is refused, and racing calls (two approvals, two receipt
// confirmations) let exactly one through.
func TestRetriesAndRaces(t *testing.T) {
	servertest.Each(t, func(t *testing.T, e *servertest.Env) {
		m := newMarket(t, e)
		o := m.delivered(ta)
		// race runs call twice at once and checks that exactly one wins and the other loses as a conflict
		// (ABORTED) or as a step its state no longer allows (FAILED_PRECONDITION).
		race := func(t *testing.T, what string, call func() error) {
			t.Helper()
			var wg sync.WaitGroup
			errs := make([]error, 2)
			for i := range errs {
				wg.Add(1)
				go func() {
					defer wg.Done()
					errs[i] = call()
				}()
			}
			wg.Wait()
			wins := 0
			for _, err := range errs {
				switch c := connect.CodeOf(err); {
				case err == nil:
					wins++
				case c != connect.CodeAborted && c != connect.CodeFailedPrecondition:
					t.Fatalf("losing %s: %v", what, err)
				}
			}
			if wins != 1 {
				t.Fatalf("%d %ss won: %v", wins, what, errs)
			}
		}

		// Retries with one request id create one return.
		var r *returnsv1.Return
		servertest.Step(t, "a retried creation creates one return", func(t *testing.T) {
			create := connect.NewRequest(withLines(request(o.GetId()), sel(0, 2)))
			create.Msg.RequestId = "create-1"
			first, err := m.buyer.Returns.CreateReturn(e.Ctx, create)
			if err != nil {
				t.Fatal(err)
			}
			again, err := m.buyer.Returns.CreateReturn(e.Ctx, connect.NewRequest(proto.Clone(create.Msg).(*returnsv1.CreateReturnRequest)))
			if err != nil || !proto.Equal(first.Msg, again.Msg) {
				t.Fatalf("retry: %v, %v", again, err)
			}
			other := proto.Clone(create.Msg).(*returnsv1.CreateReturnRequest)
			other.Lines = []*returnsv1.LineSelector{sel(0, 1)}
			_, err = m.buyer.Returns.CreateReturn(e.Ctx, connect.NewRequest(other))
			servertest.WantError(t, err, connect.CodeInvalidArgument, commonv1.ErrorReason_ERROR_REASON_REQUEST_ID_REUSED)
			r = first.Msg.GetReturn()
		})

		servertest.Step(t, "two racing approvals approve once", func(t *testing.T) {
			race(t, "approval", func() error {
				_, err := m.supplier.Returns.ApproveReturn(e.Ctx, connect.NewRequest(&returnsv1.ApproveReturnRequest{Id: r.GetId()}))
				return err
			})
			if evs := eventTypes(t, e, m.buyer, r.GetId()); count(evs, "return.approved") != 1 {
				t.Fatalf("events %v", evs)
			}
		})

		servertest.Step(t, "a retried receipt confirmation refunds once", func(t *testing.T) {
			r = m.shipBack(m.get(r.GetId()))
			conf := &returnsv1.ConfirmReturnReceiptRequest{RequestId: "confirm-1", Id: r.GetId()}
			c1, err := m.supplier.Returns.ConfirmReturnReceipt(e.Ctx, connect.NewRequest(conf))
			if err != nil {
				t.Fatal(err)
			}
			c2, err := m.supplier.Returns.ConfirmReturnReceipt(e.Ctx, connect.NewRequest(conf))
			if err != nil || !proto.Equal(c1.Msg, c2.Msg) {
				t.Fatalf("retried confirmation: %v %v", c2, err)
			}
			if got := m.order(o.GetId()); amount(got.GetRefunded()) != 31_00 {
				t.Fatalf("order.refunded = %v after a retried confirmation, want 31.00", got.GetRefunded())
			}
		})

		// Two confirmations racing (different request ids): one refund.
		servertest.Step(t, "two racing receipt confirmations refund once", func(t *testing.T) {
			r2 := m.shipBack(m.approve(m.create(withLines(request(o.GetId()), sel(0, 3)))))
			race(t, "confirmation", func() error {
				_, err := m.supplier.Returns.ConfirmReturnReceipt(e.Ctx, connect.NewRequest(&returnsv1.ConfirmReturnReceiptRequest{Id: r2.GetId()}))
				return err
			})
			if got := m.order(o.GetId()); amount(got.GetRefunded()) != 31_00+46_50 {
				t.Fatalf("order.refunded = %v after racing confirmations, want 77.50", got.GetRefunded())
			}
			if evs := eventTypes(t, e, m.buyer, o.GetId()); count(evs, "order.refunded") != 2 {
				t.Fatalf("order events %v", evs)
			}
			if got := balance(t, e, ledger.Refunds, m.buyer.ID()); got != 77_50 {
				t.Fatalf("buyer refunds %d", got)
			}
		})
		sumZero(t, e)
	})
}
