package order_test

import (
	"testing"
	"time"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/types/known/timestamppb"

	commonv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/common/v1"
	orderv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/order/v1"
	"github.com/tradeassure/tradeassure/server/servertest"
)

// TestOrderLife walks an order from draft to closed, checking states, revisions and events.
func TestOrderLife(t *testing.T) {
	servertest.Each(t, func(t *testing.T, e *servertest.Env) {
		m := newMarket(t, e)
		o := m.draft(taPolicy, m.terms(10))
		o = m.accept(o)
		wantState(t, o, orderv1.Order_STATE_AWAITING_PAYMENT)
		pay := m.payCard(o)
		if pay.GetPayment().GetState() != orderv1.Payment_STATE_SETTLED || pay.GetPayment().GetPart() != orderv1.Payment_PART_FULL {
			t.Fatalf("payment = %v", pay.GetPayment())
		}
		o = pay.GetOrder()
		wantState(t, o, orderv1.Order_STATE_PAID)
		if o.GetAmounts().GetPaid().GetAmountMinor() != o.GetAmounts().GetTotal().GetAmountMinor() {
			t.Fatalf("paid %v of %v", o.GetAmounts().GetPaid(), o.GetAmounts().GetTotal())
		}
		o = m.ship(o)
		wantState(t, o, orderv1.Order_STATE_SHIPPED)
		if o.GetShipment().GetTrackingNumber() != "JD0001" {
			t.Fatalf("shipment = %v", o.GetShipment())
		}
		e.Advance(3 * day)
		o = m.deliver(o)
		wantState(t, o, orderv1.Order_STATE_DELIVERED)
		if got, want := o.GetAutoConfirmDeadline().AsTime(), e.Clock.Now().Add(30*day); !got.Equal(want) {
			t.Fatalf("auto-confirm deadline %v, want %v", got, want)
		}
		resp, err := m.buyer.Orders.ConfirmReceipt(e.Ctx, connect.NewRequest(&orderv1.ConfirmReceiptRequest{OrderId: o.GetId(), Etag: o.GetEtag()}))
		if err != nil {
			t.Fatalf("confirm: %v", err)
		}
		o = resp.Msg.GetOrder()
		wantState(t, o, orderv1.Order_STATE_COMPLETED)
		if got, want := o.GetAfterSalesDeadline().AsTime(), e.Clock.Now().Add(30*day); !got.Equal(want) {
			t.Fatalf("after-sales deadline %v, want %v", got, want)
		}
		// The buyer confirmed, so the automatic confirmation must not fire later.
		e.Advance(30 * day)
		o = m.get(o.GetId())
		wantState(t, o, orderv1.Order_STATE_CLOSED)

		revs, err := m.buyer.Orders.ListOrderRevisions(e.Ctx, connect.NewRequest(&orderv1.ListOrderRevisionsRequest{OrderId: o.GetId()}))
		if err != nil {
			t.Fatalf("revisions: %v", err)
		}
		var changes []string
		for _, r := range revs.Msg.GetRevisions() {
			changes = append(changes, r.GetChange())
		}
		want := []string{"order.drafted", "order.accepted", "order.paid", "order.shipped", "order.delivered", "order.receipt_confirmed", "order.closed"}
		if len(changes) != len(want) {
			t.Fatalf("revisions %v, want %v", changes, want)
		}
		for i := range want {
			if changes[i] != want[i] || revs.Msg.GetRevisions()[i].GetRevision() != int64(i+1) {
				t.Fatalf("revisions %v, want %v", changes, want)
			}
		}
		if last := revs.Msg.GetRevisions()[len(want)-1]; last.GetActor().GetRole() != commonv1.Role_ROLE_SYSTEM {
			t.Fatalf("closing actor = %v", last.GetActor())
		}
	})
}

// TestAutoConfirmDeadline checks receipt is confirmed automatically exactly when the policy's period after
// delivery ends (30 days trade-assurance, 15 days retail): not a second before.
func TestAutoConfirmDeadline(t *testing.T) {
	periods := map[commonv1.Policy]time.Duration{taPolicy: 30 * day, retailPolicy: 15 * day}
	closes := map[commonv1.Policy]time.Duration{taPolicy: 30 * day, retailPolicy: 15 * day}
	servertest.Each(t, func(t *testing.T, e *servertest.Env) {
		m := newMarket(t, e)
		for _, pol := range policies {
			o := m.delivered(pol)
			e.Advance(periods[pol] - time.Second)
			wantState(t, m.get(o.GetId()), orderv1.Order_STATE_DELIVERED)
			e.Advance(time.Second)
			o = m.get(o.GetId())
			wantState(t, o, orderv1.Order_STATE_COMPLETED)
			if !o.GetCompleteTime().AsTime().Equal(e.Clock.Now()) {
				t.Fatalf("completed at %v, want %v", o.GetCompleteTime().AsTime(), e.Clock.Now())
			}
			// The after-sales window closes the order.
			e.Advance(closes[pol] - time.Second)
			wantState(t, m.get(o.GetId()), orderv1.Order_STATE_COMPLETED)
			e.Advance(time.Second)
			wantState(t, m.get(o.GetId()), orderv1.Order_STATE_CLOSED)
		}
	})
}

// TestManyDeadlinesDueAtOnce checks every deadline that falls due in one step fires, each once.
func TestManyDeadlinesDueAtOnce(t *testing.T) {
	servertest.Each(t, func(t *testing.T, e *servertest.Env) {
		m := newMarket(t, e)
		var ids []string
		for i := 0; i < 5; i++ {
			ids = append(ids, m.delivered(retailPolicy).GetId())
		}
		e.Advance(15 * day)
		for _, id := range ids {
			wantState(t, m.get(id), orderv1.Order_STATE_COMPLETED)
		}
		e.Advance(15 * day)
		for _, id := range ids {
			o := m.get(id)
			wantState(t, o, orderv1.Order_STATE_CLOSED)
			// drafted, accepted, paid, shipped, delivered, auto_confirmed, closed: each applied once.
			if o.GetRevision() != 7 {
				t.Fatalf("order %s has revision %d, want 7", id, o.GetRevision())
			}
		}
	})
}

// TestDeliveryTimeFromTracking checks a delivery reported late counts from the carrier's delivery time.
func TestDeliveryTimeFromTracking(t *testing.T) {
	servertest.Each(t, func(t *testing.T, e *servertest.Env) {
		m := newMarket(t, e)
		o := m.ship(m.paid(retailPolicy, 1))
		shipped := e.Clock.Now()
		e.Advance(5 * day)
		at := shipped.Add(2 * day)
		resp, err := m.operator.Orders.RecordDelivery(e.Ctx, connect.NewRequest(&orderv1.RecordDeliveryRequest{
			OrderId: o.GetId(), DeliverTime: timestamppb.New(at),
		}))
		if err != nil {
			t.Fatalf("deliver: %v", err)
		}
		if got := resp.Msg.GetOrder().GetAutoConfirmDeadline().AsTime(); !got.Equal(at.Add(15 * day)) {
			t.Fatalf("deadline %v, want %v", got, at.Add(15*day))
		}
		// Before shipment or in the future is refused.
		o2 := m.ship(m.paid(retailPolicy, 1))
		for _, bad := range []time.Time{e.Clock.Now().Add(-time.Second), e.Clock.Now().Add(time.Hour)} {
			_, err := m.operator.Orders.RecordDelivery(e.Ctx, connect.NewRequest(&orderv1.RecordDeliveryRequest{
				OrderId: o2.GetId(), DeliverTime: timestamppb.New(bad),
			}))
			servertest.WantError(t, err, connect.CodeInvalidArgument, commonv1.ErrorReason_ERROR_REASON_INVALID_FIELD)
		}
		// Only operators (the logistics integration) record deliveries.
		_, err = m.supplier.Orders.RecordDelivery(e.Ctx, connect.NewRequest(&orderv1.RecordDeliveryRequest{OrderId: o2.GetId()}))
		servertest.WantError(t, err, connect.CodePermissionDenied, commonv1.ErrorReason_ERROR_REASON_ROLE_NOT_ALLOWED)
	})
}

// TestConfirmReceiptImpliesDelivery checks a buyer can confirm a shipped order, which implies delivery.
func TestConfirmReceiptImpliesDelivery(t *testing.T) {
	servertest.Each(t, func(t *testing.T, e *servertest.Env) {
		m := newMarket(t, e)
		o := m.ship(m.paid(taPolicy, 1))
		resp, err := m.buyer.Orders.ConfirmReceipt(e.Ctx, connect.NewRequest(&orderv1.ConfirmReceiptRequest{OrderId: o.GetId()}))
		if err != nil {
			t.Fatalf("confirm: %v", err)
		}
		o = resp.Msg.GetOrder()
		wantState(t, o, orderv1.Order_STATE_COMPLETED)
		if o.GetDeliverTime() == nil {
			t.Fatal("receipt confirmation should record delivery")
		}
		_, err = m.supplier.Orders.ConfirmReceipt(e.Ctx, connect.NewRequest(&orderv1.ConfirmReceiptRequest{OrderId: o.GetId()}))
		servertest.WantError(t, err, connect.CodePermissionDenied, commonv1.ErrorReason_ERROR_REASON_ROLE_NOT_ALLOWED)
	})
}

// TestTransitionsFromWrongState checks each transition refuses the states it does not start from, and
// writes nothing.
func TestTransitionsFromWrongState(t *testing.T) {
	servertest.Each(t, func(t *testing.T, e *servertest.Env) {
		m := newMarket(t, e)
		draft := m.draft(taPolicy, m.terms(1))
		awaiting := m.accept(m.draft(taPolicy, m.terms(1)))
		paid := m.paid(taPolicy, 1)
		delivered := m.delivered(taPolicy)
		illegal := commonv1.ErrorReason_ERROR_REASON_ILLEGAL_STATE
		calls := []struct {
			name string
			call func() error
		}{
			{"ship a draft", func() error {
				_, err := m.supplier.Orders.ShipOrder(e.Ctx, connect.NewRequest(&orderv1.ShipOrderRequest{OrderId: draft.GetId(), Carrier: "DHL", TrackingNumber: "1"}))
				return err
			}},
			{"ship an unpaid order", func() error {
				_, err := m.supplier.Orders.ShipOrder(e.Ctx, connect.NewRequest(&orderv1.ShipOrderRequest{OrderId: awaiting.GetId(), Carrier: "DHL", TrackingNumber: "1"}))
				return err
			}},
			{"pay a draft", func() error {
				_, err := m.buyer.Orders.PayOrder(e.Ctx, connect.NewRequest(&orderv1.PayOrderRequest{OrderId: draft.GetId(), Method: orderv1.PaymentMethod_PAYMENT_METHOD_TT}))
				return err
			}},
			{"pay a paid order", func() error {
				_, err := m.buyer.Orders.PayOrder(e.Ctx, connect.NewRequest(&orderv1.PayOrderRequest{OrderId: paid.GetId(), Method: orderv1.PaymentMethod_PAYMENT_METHOD_TT}))
				return err
			}},
			{"accept a paid order", func() error {
				_, err := m.buyer.Orders.AcceptOrder(e.Ctx, connect.NewRequest(&orderv1.AcceptOrderRequest{OrderId: paid.GetId()}))
				return err
			}},
			{"deliver a paid order", func() error {
				_, err := m.operator.Orders.RecordDelivery(e.Ctx, connect.NewRequest(&orderv1.RecordDeliveryRequest{OrderId: paid.GetId()}))
				return err
			}},
			{"confirm receipt of a paid order", func() error {
				_, err := m.buyer.Orders.ConfirmReceipt(e.Ctx, connect.NewRequest(&orderv1.ConfirmReceiptRequest{OrderId: paid.GetId()}))
				return err
			}},
			{"cancel a delivered order", func() error {
				_, err := m.buyer.Orders.CancelOrder(e.Ctx, connect.NewRequest(&orderv1.CancelOrderRequest{OrderId: delivered.GetId(), Reason: orderv1.CancellationReason_CANCELLATION_REASON_BUYER}))
				return err
			}},
			{"edit an accepted order as a draft", func() error {
				_, err := m.supplier.Orders.UpdateOrder(e.Ctx, connect.NewRequest(&orderv1.UpdateOrderRequest{OrderId: awaiting.GetId(), Terms: m.terms(2)}))
				return err
			}},
		}
		for _, c := range calls {
			t.Run(c.name, func(t *testing.T) {
				servertest.WantError(t, c.call(), connect.CodeFailedPrecondition, illegal)
			})
		}
		for _, o := range []*orderv1.Order{draft, awaiting, paid, delivered} {
			if got := m.get(o.GetId()); got.GetRevision() != o.GetRevision() {
				t.Fatalf("refused transitions changed order %s: revision %d → %d", o.GetId(), o.GetRevision(), got.GetRevision())
			}
		}
	})
}
