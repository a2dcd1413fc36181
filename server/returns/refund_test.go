package returns_test

import (
	"testing"
	"time"

	"connectrpc.com/connect"

	commonv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/common/v1"
	returnsv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/returns/v1"
	"github.com/tradeassure/tradeassure/server/ledger"
	"github.com/tradeassure/tradeassure/server/policy"
	"github.com/tradeassure/tradeassure/server/servertest"
)

// TestRefundComputation checks the refund of returned parts: goods plus pro-rata shares of freight and
// insurance in whole minor units, summing exactly to what was paid when every line comes back; the freight
// share taken off after the buyer confirmed receipt; and the cap that keeps the refunds of several returns
// within what was paid.
func TestRefundComputation(t *testing.T) {
	servertest.Each(t, func(t *testing.T, e *servertest.Env) {
		m := newMarket(t, e)
		for _, pol := range policies {
			// 3 × 3.33 + 1 × 7.77 + 2 × 10.00 = 37.76 goods, 50.00 shipping, 5.00 insurance: 92.76.
			o := m.deliveredWith(m.supplier, pol, m.terms(line(m.gadget, 3), line(m.gizmo, 1), line(m.widget, 2)))
			first := m.create(withLines(request(o.GetId()), sel(0, 2), sel(2, 1)))
			b := first.GetRefund()
			// Freight: floor(5000 × 1666 / 3776) = 2206; insurance floor(500 × 1666 / 3776) = 220.
			if amount(b.GetGoodsAmount()) != 16_66 || amount(b.GetFreightShare()) != 22_06 || amount(b.GetInsuranceShare()) != 2_20 ||
				amount(b.GetShippingDeduction()) != 0 || amount(b.GetCapDeduction()) != 0 || amount(b.GetTotal()) != 40_92 ||
				amount(first.GetHeldAmount()) != 40_92 {
				t.Fatalf("%v: first breakdown %v", pol, b)
			}
			var lineSum int64
			for _, l := range first.GetLines() {
				lineSum += amount(l.GetRefundAmount())
			}
			if lineSum != 40_92 {
				t.Fatalf("%v: lines sum to %d", pol, lineSum)
			}
			second := m.create(withLines(request(o.GetId()), sel(0, 1), sel(1, 1), sel(2, 1)))
			if amount(second.GetRefund().GetTotal()) != 51_84 || amount(second.GetRefund().GetFreightShare()) != 27_94 {
				t.Fatalf("%v: second breakdown %v", pol, second.GetRefund())
			}
			m.confirm(m.shipBack(m.approve(first)))
			m.confirm(m.shipBack(m.approve(second)))
			got := m.order(o.GetId())
			if amount(got.GetRefunded()) != 92_76 || amount(got.GetRefunded()) != amount(got.GetAmounts().GetPaid()) {
				t.Fatalf("%v: refunded %v of %v", pol, got.GetRefunded(), got.GetAmounts().GetPaid())
			}
			if balance(t, e, ledger.OrderEscrow, o.GetId()) != 0 {
				t.Fatalf("%v: escrow left after every unit was refunded", pol)
			}
			// Nothing is left to return.
			_, err := m.buyer.Returns.CreateReturn(e.Ctx, connect.NewRequest(withLines(request(o.GetId()), sel(1, 1))))
			servertest.WantError(t, err, connect.CodeFailedPrecondition, commonv1.ErrorReason_ERROR_REASON_QUANTITY_EXCEEDS_ORDERED)

			// After the buyer confirmed receipt the freight share is not refunded.
			c := m.completed(pol)
			r := m.create(withLines(request(c.GetId()), sel(0, 4)))
			if amount(r.GetRefund().GetShippingDeduction()) != 20_00 || amount(r.GetRefund().GetTotal()) != 42_00 {
				t.Fatalf("%v: completed-order breakdown %v", pol, r.GetRefund())
			}

			// Two partial returns after a partial refund without return: their total is capped at what was paid.
			d := m.delivered(pol)
			kept := m.create(request(d.GetId()))
			if _, err := m.supplier.Returns.OfferPartialRefund(e.Ctx, connect.NewRequest(&returnsv1.OfferPartialRefundRequest{Id: kept.GetId(),
				Amount: &commonv1.Money{AmountMinor: 100_00, Currency: "USD"}})); err != nil {
				t.Fatal(err)
			}
			if _, err := m.buyer.Returns.AcceptPartialRefund(e.Ctx, connect.NewRequest(&returnsv1.AcceptPartialRefundRequest{Id: kept.GetId()})); err != nil {
				t.Fatal(err)
			}
			a := m.create(withLines(request(d.GetId()), sel(0, 3)))
			bb := m.create(withLines(request(d.GetId()), sel(0, 3)))
			if amount(a.GetRefund().GetTotal()) != 46_50 || amount(a.GetRefund().GetCapDeduction()) != 0 {
				t.Fatalf("%v: first partial %v", pol, a.GetRefund())
			}
			if amount(bb.GetRefund().GetTotal()) != 8_50 || amount(bb.GetRefund().GetCapDeduction()) != 38_00 {
				t.Fatalf("%v: capped partial %v", pol, bb.GetRefund())
			}
			_, err = m.buyer.Returns.CreateReturn(e.Ctx, connect.NewRequest(withLines(request(d.GetId()), sel(0, 1))))
			servertest.WantError(t, err, connect.CodeFailedPrecondition, commonv1.ErrorReason_ERROR_REASON_AMOUNT_EXCEEDS_PAID)
			ra := m.confirm(m.shipBack(m.approve(a)))
			rb := m.confirm(m.shipBack(m.approve(bb)))
			if amount(ra.GetRefundedAmount())+amount(rb.GetRefundedAmount()) != 55_00 {
				t.Fatalf("%v: refunded %v + %v", pol, ra.GetRefundedAmount(), rb.GetRefundedAmount())
			}
			if got := m.order(d.GetId()); amount(got.GetRefunded()) != 155_00 {
				t.Fatalf("%v: order refunded %v, paid 155.00", pol, got.GetRefunded())
			}
			sumZero(t, e)
		}
	})
}

// TestFreeReturn checks the free-return programme: a no-reason return approved at once to the platform
// warehouse, inspected only by warehouse staff; resaleable goods refund the buyer (shipping excluded) and the
// platform compensates the supplier 2 business days later (checked one second before and after); goods that
// cannot be resold are rejected without a refund.
func TestFreeReturn(t *testing.T) {
	servertest.Each(t, func(t *testing.T, e *servertest.Env) {
		m := newMarket(t, e)
		o := m.delivered(retail)
		free := &returnsv1.CreateReturnRequest{OrderId: o.GetId(), Reason: returnsv1.Return_REASON_NO_REASON, FreeReturn: true,
			Lines: []*returnsv1.LineSelector{sel(0, 4)}}
		r := m.create(free)
		wantState(t, r, returnsv1.Return_STATE_APPROVED)
		if r.GetKind() != returnsv1.Return_KIND_FREE_RETURN || r.GetReturnAddress().GetRecipientName() != m.warehouse.Account.Name ||
			r.GetApprovedBy().GetRole() != commonv1.Role_ROLE_SYSTEM || r.GetBuyerShipDeadline() == nil {
			t.Fatalf("free return = %v", r)
		}
		// 4 widgets: 40.00 + 2.00 insurance; the 20.00 freight share is never refunded by a free return.
		if amount(r.GetRefund().GetTotal()) != 42_00 || amount(r.GetRefund().GetShippingDeduction()) != 20_00 {
			t.Fatalf("free return refund %v", r.GetRefund())
		}
		if _, err := m.warehouse.Returns.GetReturn(e.Ctx, connect.NewRequest(&returnsv1.GetReturnRequest{Id: r.GetId()})); err != nil {
			t.Fatalf("the warehouse cannot read a free return: %v", err)
		}
		s := m.shipBack(r)
		if s.GetSupplierReceiptDeadline() != nil {
			t.Fatalf("a free return has no supplier receipt deadline: %v", s)
		}
		_, err := m.supplier.Returns.ConfirmReturnReceipt(e.Ctx, connect.NewRequest(&returnsv1.ConfirmReturnReceiptRequest{Id: r.GetId()}))
		servertest.WantError(t, err, connect.CodeFailedPrecondition, commonv1.ErrorReason_ERROR_REASON_ILLEGAL_STATE)
		insp := &returnsv1.InspectReturnRequest{Id: r.GetId(), Result: returnsv1.Return_INSPECTION_RESULT_RESALEABLE, Note: "sealed"}
		for _, p := range []*servertest.Party{m.buyer, m.supplier, m.arbiter} {
			_, err = p.Returns.InspectReturn(e.Ctx, connect.NewRequest(insp))
			servertest.WantError(t, err, connect.CodePermissionDenied, commonv1.ErrorReason_ERROR_REASON_ROLE_NOT_ALLOWED)
		}
		supplierBefore := balance(t, e, ledger.SupplierAvailable, m.supplier.ID())
		resp, err := m.warehouse.Returns.InspectReturn(e.Ctx, connect.NewRequest(insp))
		if err != nil {
			t.Fatal(err)
		}
		done := resp.Msg.GetReturn()
		wantState(t, done, returnsv1.Return_STATE_REFUNDED)
		due := policy.AddBusinessDays(e.Clock.Now(), 2)
		if amount(done.GetRefundedAmount()) != 42_00 || amount(done.GetSupplierCompensationAmount()) != 42_00 ||
			!done.GetSupplierCompensationDeadline().AsTime().Equal(due) || done.GetSupplierCompensationTime() != nil ||
			done.GetInspectionResult() != returnsv1.Return_INSPECTION_RESULT_RESALEABLE {
			t.Fatalf("inspected = %v", done)
		}
		if amount(m.order(o.GetId()).GetRefunded()) != 42_00 {
			t.Fatalf("order refunded %v", m.order(o.GetId()).GetRefunded())
		}
		e.SetTime(due.Add(-time.Second))
		if got := m.get(r.GetId()); got.GetSupplierCompensationTime() != nil || balance(t, e, ledger.SupplierAvailable, m.supplier.ID()) != supplierBefore {
			t.Fatal("the supplier was compensated early")
		}
		e.Advance(2 * time.Second)
		if got := m.get(r.GetId()); got.GetSupplierCompensationTime() == nil {
			t.Fatal("the supplier was not compensated")
		}
		if got := balance(t, e, ledger.SupplierAvailable, m.supplier.ID()) - supplierBefore; got != 42_00 {
			t.Fatalf("compensation moved %d", got)
		}
		if got := balance(t, e, ledger.PlatformCompensation, ""); got != -42_00 {
			t.Fatalf("platform compensation = %d", got)
		}
		if evs := eventTypes(t, e, m.supplier, r.GetId()); count(evs, "return.supplier_compensated") != 1 || count(evs, "return.refunded") != 1 {
			t.Fatalf("events %v", evs)
		}

		// Goods that cannot be resold: rejected, no refund, hold lifted.
		r2 := m.shipBack(m.create(&returnsv1.CreateReturnRequest{OrderId: o.GetId(), Reason: returnsv1.Return_REASON_NO_REASON, FreeReturn: true,
			Lines: []*returnsv1.LineSelector{sel(0, 6)}}))
		rej, err := m.warehouse.Returns.InspectReturn(e.Ctx, connect.NewRequest(&returnsv1.InspectReturnRequest{Id: r2.GetId(),
			Result: returnsv1.Return_INSPECTION_RESULT_NOT_RESALEABLE, Note: "worn"}))
		if err != nil {
			t.Fatal(err)
		}
		wantState(t, rej.Msg.GetReturn(), returnsv1.Return_STATE_REJECTED)
		if got := m.order(o.GetId()); amount(got.GetRefunded()) != 42_00 || got.GetEscrowHeld() {
			t.Fatalf("after rejection: refunded %v held %v", got.GetRefunded(), got.GetEscrowHeld())
		}
		sumZero(t, e)
	})
}
