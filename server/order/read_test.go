package order_test

import (
	"fmt"
	"testing"

	"connectrpc.com/connect"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/tradeassure/tradeassure/ent"
	orderv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/order/v1"
	"github.com/tradeassure/tradeassure/server/order"
	"github.com/tradeassure/tradeassure/server/servertest"
)

// TestReadByIDMatchesEnt checks the read by id that GetOrder uses (its SQL built once, the row scanned
// by ent's generated scanner) yields exactly what ent's own Get does, for orders with every kind of
// column set: a draft, a requested change, paid, shipped with tracking, delivered with its deadline,
// completed, closed, cancelled with a refund; and nothing for an unknown id.
func TestReadByIDMatchesEnt(t *testing.T) {
	servertest.Each(t, func(t *testing.T, e *servertest.Env) {
		m := newMarket(t, e)
		ids := []string{m.draft(taPolicy, m.terms(3)).GetId()}
		changed := m.paid(taPolicy, 10)
		tm := clone(changed.GetTerms())
		tm.ShippingAddress.Lines = []string{"2 Harbour Rd"}
		if _, err := m.supplier.Orders.ProposeOrderChange(e.Ctx, connect.NewRequest(&orderv1.ProposeOrderChangeRequest{
			OrderId: changed.GetId(), Etag: changed.GetEtag(), Terms: tm, Note: "new address",
		})); err != nil {
			t.Fatalf("propose change: %v", err)
		}
		ids = append(ids, changed.GetId(), m.paid(taPolicy, 5).GetId(), m.ship(m.paid(retailPolicy, 1)).GetId(),
			m.delivered(taPolicy).GetId())
		done := m.delivered(retailPolicy)
		if _, err := m.buyer.Orders.ConfirmReceipt(e.Ctx, connect.NewRequest(&orderv1.ConfirmReceiptRequest{OrderId: done.GetId(), Etag: m.get(done.GetId()).GetEtag()})); err != nil {
			t.Fatalf("confirm: %v", err)
		}
		cancelled := m.paid(taPolicy, 2)
		if _, err := m.buyer.Orders.CancelOrder(e.Ctx, connect.NewRequest(&orderv1.CancelOrderRequest{
			OrderId: cancelled.GetId(), Reason: orderv1.CancellationReason_CANCELLATION_REASON_BUYER, Note: "test",
		})); err != nil {
			t.Fatalf("cancel: %v", err)
		}
		ids = append(ids, done.GetId(), cancelled.GetId())
		closed := m.delivered(taPolicy)
		e.Advance(31 * day) // confirmed automatically
		e.Advance(31 * day) // and closed
		wantState(t, m.get(closed.GetId()), orderv1.Order_STATE_CLOSED)
		ids = append(ids, closed.GetId())

		for _, id := range ids {
			want, err := e.Store.Client.Order.Get(e.Ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			got, found, err := e.Server.Orders.ReadRow(e.Ctx, id)
			if err != nil || !found {
				t.Fatalf("read %s: %v found=%v", id, err, found)
			}
			if diff := cmp.Diff(want, got, cmpopts.IgnoreUnexported(ent.Order{})); diff != "" {
				t.Fatalf("order %s (%s) read by id differs from ent's Get (-ent +read):\n%s", id, want.State, diff)
			}
		}
		if got, found, err := e.Server.Orders.ReadRow(e.Ctx, "ord_missing"); err != nil || found || got != nil {
			t.Fatalf("unknown id: %v %v %v, want nothing", got, found, err)
		}
		// Within a transaction, as the writes and the deadline handlers read: the same, and a missing
		// order is ent's own not-found error.
		err := e.Store.WithTx(e.Ctx, func(tx *ent.Tx) error {
			for _, id := range ids {
				want, err := tx.Order.Get(e.Ctx, id)
				if err != nil {
					return err
				}
				got, err := order.ReadInTx(e.Ctx, tx, id)
				if err != nil {
					return err
				}
				if diff := cmp.Diff(want, got, cmpopts.IgnoreUnexported(ent.Order{})); diff != "" {
					t.Errorf("order %s read in a transaction differs from ent's Get (-ent +read):\n%s", id, diff)
				}
			}
			if _, err := order.ReadInTx(e.Ctx, tx, "ord_missing"); !ent.IsNotFound(err) {
				t.Errorf("unknown id in a transaction: %v, want ent's not-found error", err)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	})
}

// BenchmarkReadOrder compares ent's Get of one order with the read by id GetOrder uses, on SQLite.
func BenchmarkReadOrder(b *testing.B) {
	e := servertest.New(b, servertest.Options{Engine: "sqlite-file"})
	m := newMarket(b, e)
	id := m.paid(taPolicy, 5).GetId()
	b.Run("ent-get", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := e.Store.Client.Order.Get(e.Ctx, id); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("read-by-id", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, _, err := e.Server.Orders.ReadRow(e.Ctx, id); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkCreateOrder makes one order at a time, with a request id, through the generated client against
// the real server on SQLite: the whole write path of the most common call (authentication, validation,
// the idempotency key, the order, its revision and its event), with its allocations.
func BenchmarkCreateOrder(b *testing.B) {
	e := servertest.New(b, servertest.Options{Engine: "sqlite-file"})
	m := newMarket(b, e)
	b.ReportAllocs()
	n := 0
	for b.Loop() {
		n++
		req := m.createReq(taPolicy, m.terms(1))
		req.RequestId = fmt.Sprintf("bench-%d", n)
		if _, err := m.supplier.Orders.CreateOrder(e.Ctx, connect.NewRequest(req)); err != nil {
			b.Fatal(err)
		}
	}
}
