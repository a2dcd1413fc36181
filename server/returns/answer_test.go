package returns_test

import (
	"testing"
	"time"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/proto"

	commonv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/common/v1"
	orderv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/order/v1"
	returnsv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/returns/v1"
	"github.com/tradeassure/tradeassure/server/ledger"
	"github.com/tradeassure/tradeassure/server/servertest"
)

// TestSupplierAnswer checks the supplier's three answers and who may give them: approve (with the registered
// return address by default, or another), decline (with a reason that fits, lifting the hold), and a
// partial refund without return, which the buyer accepts (refunded, keeps the goods) or rejects.
func TestSupplierAnswer(t *testing.T) {
	servertest.Each(t, func(t *testing.T, e *servertest.Env) {
		m := newMarket(t, e)
		for _, pol := range policies {
			o := m.delivered(pol)
			r := m.create(withLines(request(o.GetId()), sel(0, 2)))
			subj := &returnsv1.CreateReturnRequest{OrderId: o.GetId(), Reason: returnsv1.Return_REASON_CHANGED_MIND, Lines: []*returnsv1.LineSelector{sel(0, 1)}}
			appr := &returnsv1.ApproveReturnRequest{Id: r.GetId()}
			t.Run(pol.String()+"/only the supplier answers; others do not see the return", func(t *testing.T) {
				_, err := m.buyer.Returns.ApproveReturn(e.Ctx, connect.NewRequest(appr))
				servertest.WantError(t, err, connect.CodePermissionDenied, commonv1.ErrorReason_ERROR_REASON_ROLE_NOT_ALLOWED)
				_, err = m.arbiter.Returns.ApproveReturn(e.Ctx, connect.NewRequest(appr))
				servertest.WantError(t, err, connect.CodePermissionDenied, commonv1.ErrorReason_ERROR_REASON_ROLE_NOT_ALLOWED)
				for _, p := range []*servertest.Party{m.plain, m.other, m.warehouse} {
					_, err = p.Returns.ApproveReturn(e.Ctx, connect.NewRequest(appr))
					servertest.WantError(t, err, connect.CodeNotFound, commonv1.ErrorReason_ERROR_REASON_NOT_FOUND)
					_, err = p.Returns.GetReturn(e.Ctx, connect.NewRequest(&returnsv1.GetReturnRequest{Id: r.GetId()}))
					servertest.WantError(t, err, connect.CodeNotFound, commonv1.ErrorReason_ERROR_REASON_NOT_FOUND)
				}
				if _, err := m.arbiter.Returns.GetReturn(e.Ctx, connect.NewRequest(&returnsv1.GetReturnRequest{Id: r.GetId()})); err != nil {
					t.Fatalf("an arbiter cannot read a return: %v", err)
				}
				// A stale etag is refused.
				_, err = m.supplier.Returns.ApproveReturn(e.Ctx, connect.NewRequest(&returnsv1.ApproveReturnRequest{Id: r.GetId(), Etag: "stale"}))
				servertest.WantError(t, err, connect.CodeAborted, commonv1.ErrorReason_ERROR_REASON_ETAG_MISMATCH)

			})

			t.Run(pol.String()+"/approve at the registered address", func(t *testing.T) {
				a := m.approve(r)
				wantState(t, a, returnsv1.Return_STATE_APPROVED)
				if !proto.Equal(a.GetReturnAddress(), supplierAddr) || a.GetApprovedBy().GetAccountId() != m.supplier.ID() {
					t.Fatalf("%v: approved = %v", pol, a)
				}
				if got, want := a.GetBuyerShipDeadline().AsTime(), e.Clock.Now().Add(10*day); !got.Equal(want) {
					t.Fatalf("%v: ship deadline %v, want %v", pol, got, want)
				}
				_, err := m.supplier.Returns.DeclineReturn(e.Ctx, connect.NewRequest(&returnsv1.DeclineReturnRequest{Id: r.GetId(),
					Reason: returnsv1.Return_DECLINE_REASON_OTHER, Note: "too late"}))
				servertest.WantError(t, err, connect.CodeFailedPrecondition, commonv1.ErrorReason_ERROR_REASON_ILLEGAL_STATE)

			})

			t.Run(pol.String()+"/approve at another address", func(t *testing.T) {
				r2 := m.create(withLines(request(o.GetId()), sel(0, 1)))
				other := &commonv1.Address{RecipientName: "Bonded Store", Phone: "+1 555 0199", Country: "US", Lines: []string{"9 Dock Rd"}}
				resp, err := m.supplier.Returns.ApproveReturn(e.Ctx, connect.NewRequest(&returnsv1.ApproveReturnRequest{Id: r2.GetId(), ReturnAddress: other}))
				if err != nil || !proto.Equal(resp.Msg.GetReturn().GetReturnAddress(), other) {
					t.Fatalf("%v: approve with an address: %v %v", pol, resp, err)
				}

			})

			t.Run(pol.String()+"/decline with a reason that fits; the hold is lifted", func(t *testing.T) {
				r3 := m.create(withLines(request(o.GetId()), sel(0, 1)))
				_, err := m.supplier.Returns.DeclineReturn(e.Ctx, connect.NewRequest(&returnsv1.DeclineReturnRequest{Id: r3.GetId(),
					Reason: returnsv1.Return_DECLINE_REASON_SUBJECTIVE_REASON, Note: "no subjective returns"}))
				servertest.WantError(t, err, connect.CodeInvalidArgument, commonv1.ErrorReason_ERROR_REASON_INVALID_FIELD)
				_, err = m.supplier.Returns.DeclineReturn(e.Ctx, connect.NewRequest(&returnsv1.DeclineReturnRequest{Id: r3.GetId(),
					Reason: returnsv1.Return_DECLINE_REASON_GOODS_AS_DESCRIBED}))
				servertest.WantError(t, err, connect.CodeInvalidArgument, commonv1.ErrorReason_ERROR_REASON_INVALID_FIELD) // note required
				d, err := m.supplier.Returns.DeclineReturn(e.Ctx, connect.NewRequest(&returnsv1.DeclineReturnRequest{Id: r3.GetId(),
					Reason: returnsv1.Return_DECLINE_REASON_GOODS_AS_DESCRIBED, Note: "the photos show the listed finish", Evidence: photo}))
				if err != nil {
					t.Fatal(err)
				}
				dr := d.Msg.GetReturn()
				wantState(t, dr, returnsv1.Return_STATE_DECLINED)
				if dr.GetDeclineReason() != returnsv1.Return_DECLINE_REASON_GOODS_AS_DESCRIBED || dr.GetCloseTime() == nil || len(dr.GetEvidence()) != 2 ||
					amount(dr.GetHeldAmount()) != 0 || dr.GetEvidence()[1].GetAddedBy().GetAccountId() != m.supplier.ID() {
					t.Fatalf("%v: declined = %v", pol, dr)
				}

				// A subjective request may be declined as such.
				r4 := m.create(subj)
				if _, err := m.supplier.Returns.DeclineReturn(e.Ctx, connect.NewRequest(&returnsv1.DeclineReturnRequest{Id: r4.GetId(),
					Reason: returnsv1.Return_DECLINE_REASON_SUBJECTIVE_REASON, Note: "we take no change-of-mind returns"})); err != nil {
					t.Fatalf("%v: decline a subjective request: %v", pol, err)
				}

			})

			t.Run(pol.String()+"/partial refund without return, accepted", func(t *testing.T) {
				r5 := m.create(subj) // 1 widget: 10.00 + 5.00 freight + 0.50 insurance
				if amount(r5.GetRefund().GetTotal()) != 15_50 {
					t.Fatalf("%v: refund of one widget = %v", pol, r5.GetRefund())
				}
				for _, c := range []struct {
					amt    *commonv1.Money
					reason commonv1.ErrorReason
				}{
					{&commonv1.Money{AmountMinor: 15_50, Currency: "USD"}, commonv1.ErrorReason_ERROR_REASON_AMOUNT_EXCEEDS_PAID},
					{&commonv1.Money{AmountMinor: 5_00, Currency: "EUR"}, commonv1.ErrorReason_ERROR_REASON_CURRENCY_MISMATCH},
					{&commonv1.Money{AmountMinor: 0, Currency: "USD"}, commonv1.ErrorReason_ERROR_REASON_INVALID_FIELD},
				} {
					_, err := m.supplier.Returns.OfferPartialRefund(e.Ctx, connect.NewRequest(&returnsv1.OfferPartialRefundRequest{Id: r5.GetId(), Amount: c.amt}))
					servertest.WantError(t, err, connect.CodeInvalidArgument, c.reason)
				}
				off, err := m.supplier.Returns.OfferPartialRefund(e.Ctx, connect.NewRequest(&returnsv1.OfferPartialRefundRequest{Id: r5.GetId(),
					Amount: &commonv1.Money{AmountMinor: 4_00, Currency: "USD"}, Note: "keep it, with 4.00 back"}))
				if err != nil {
					t.Fatal(err)
				}
				wantState(t, off.Msg.GetReturn(), returnsv1.Return_STATE_PARTIAL_REFUND_OFFERED)
				_, err = m.supplier.Returns.AcceptPartialRefund(e.Ctx, connect.NewRequest(&returnsv1.AcceptPartialRefundRequest{Id: r5.GetId()}))
				servertest.WantError(t, err, connect.CodePermissionDenied, commonv1.ErrorReason_ERROR_REASON_ROLE_NOT_ALLOWED)
				refundsBefore := balance(t, e, ledger.Refunds, m.buyer.ID())
				acc, err := m.buyer.Returns.AcceptPartialRefund(e.Ctx, connect.NewRequest(&returnsv1.AcceptPartialRefundRequest{Id: r5.GetId(), Etag: off.Msg.GetReturn().GetEtag()}))
				if err != nil {
					t.Fatal(err)
				}
				wantState(t, acc.Msg.GetReturn(), returnsv1.Return_STATE_REFUNDED)
				if amount(acc.Msg.GetReturn().GetRefundedAmount()) != 4_00 || balance(t, e, ledger.Refunds, m.buyer.ID())-refundsBefore != 4_00 {
					t.Fatalf("%v: partial refund = %v", pol, acc.Msg.GetReturn().GetRefundedAmount())
				}
				if got := m.order(o.GetId()).GetRefunded(); amount(got) != 4_00 {
					t.Fatalf("%v: order refunded = %v", pol, got)
				}

			})

			t.Run(pol.String()+"/partial refund rejected: the buyer kept the unit, the hold is lifted", func(t *testing.T) {
				r6 := m.create(subj)
				if _, err := m.supplier.Returns.OfferPartialRefund(e.Ctx, connect.NewRequest(&returnsv1.OfferPartialRefundRequest{Id: r6.GetId(),
					Amount: &commonv1.Money{AmountMinor: 1_00, Currency: "USD"}})); err != nil {
					t.Fatal(err)
				}
				rej, err := m.buyer.Returns.RejectPartialRefund(e.Ctx, connect.NewRequest(&returnsv1.RejectPartialRefundRequest{Id: r6.GetId(), Note: "too little"}))
				if err != nil {
					t.Fatal(err)
				}
				wantState(t, rej.Msg.GetReturn(), returnsv1.Return_STATE_PARTIAL_REFUND_REJECTED)
				sumZero(t, e)
			})
		}
	})
}

// TestAnswerDeadline checks the supplier's answer deadline (1 day under both policies) one second before and
// after: before it the supplier answers; after it the return is approved automatically with the supplier's
// registered return address, and a late answer is refused.
func TestAnswerDeadline(t *testing.T) {
	servertest.Each(t, func(t *testing.T, e *servertest.Env) {
		m := newMarket(t, e)
		for _, pol := range policies {
			o := m.delivered(pol)
			answered := m.create(withLines(request(o.GetId()), sel(0, 1)))
			silent := m.create(withLines(request(o.GetId()), sel(0, 1)))
			e.Advance(day - time.Second)
			if got := m.get(silent.GetId()); got.GetState() != returnsv1.Return_STATE_REQUESTED {
				t.Fatalf("%v: approved before the deadline: %v", pol, got.GetState())
			}
			m.approve(answered)
			e.Advance(2 * time.Second)
			auto := m.get(silent.GetId())
			wantState(t, auto, returnsv1.Return_STATE_APPROVED)
			if auto.GetApprovedBy().GetRole() != commonv1.Role_ROLE_SYSTEM || !proto.Equal(auto.GetReturnAddress(), supplierAddr) ||
				auto.GetSupplierAnswerDeadline() != nil || auto.GetBuyerShipDeadline() == nil {
				t.Fatalf("%v: auto-approved = %v", pol, auto)
			}
			_, err := m.supplier.Returns.DeclineReturn(e.Ctx, connect.NewRequest(&returnsv1.DeclineReturnRequest{Id: silent.GetId(),
				Reason: returnsv1.Return_DECLINE_REASON_OTHER, Note: "late"}))
			servertest.WantError(t, err, connect.CodeFailedPrecondition, commonv1.ErrorReason_ERROR_REASON_ILLEGAL_STATE)
			if evs := eventTypes(t, e, m.buyer, silent.GetId()); count(evs, "return.auto_approved") != 1 {
				t.Fatalf("%v: events %v", pol, evs)
			}
			tl, err := m.buyer.Returns.ListReturnTimeline(e.Ctx, connect.NewRequest(&returnsv1.ListReturnTimelineRequest{ReturnId: silent.GetId()}))
			if err != nil {
				t.Fatal(err)
			}
			ents := tl.Msg.GetEntries()
			if len(ents) != 2 || ents[1].GetKind() != returnsv1.TimelineEntry_KIND_AUTO_APPROVED || ents[1].GetActor().GetRole() != commonv1.Role_ROLE_SYSTEM ||
				ents[1].GetFromState() != returnsv1.Return_STATE_REQUESTED || ents[1].GetToState() != returnsv1.Return_STATE_APPROVED {
				t.Fatalf("%v: timeline %v", pol, ents)
			}
		}

		// A deadline the worker has not applied yet still stops a late answer.
		o := m.delivered(ta)
		late := m.create(request(o.GetId()))
		e.Clock.Set(e.Clock.Now().Add(day))
		_, err := m.supplier.Returns.DeclineReturn(e.Ctx, connect.NewRequest(&returnsv1.DeclineReturnRequest{Id: late.GetId(),
			Reason: returnsv1.Return_DECLINE_REASON_OTHER, Note: "late"}))
		servertest.WantError(t, err, connect.CodeFailedPrecondition, commonv1.ErrorReason_ERROR_REASON_DEADLINE_PASSED)
		e.Advance(0)
		wantState(t, m.get(late.GetId()), returnsv1.Return_STATE_APPROVED)

		// A supplier without a registered return address must give one when approving.
		p := m.deliveredWith(m.plain, ta, m.terms(line(m.plainProd, 2)))
		r := m.create(request(p.GetId()))
		_, err = m.plain.Returns.ApproveReturn(e.Ctx, connect.NewRequest(&returnsv1.ApproveReturnRequest{Id: r.GetId()}))
		servertest.WantError(t, err, connect.CodeInvalidArgument, commonv1.ErrorReason_ERROR_REASON_INVALID_FIELD)
	})
}

// TestShipDeadline checks the buyer's shipping deadline (10 days after approval, both policies) one second
// before and after: before it the buyer ships; after it the return lapses, the hold is lifted and a
// completed order's escrow goes to the supplier.
func TestShipDeadline(t *testing.T) {
	servertest.Each(t, func(t *testing.T, e *servertest.Env) {
		m := newMarket(t, e)
		for _, pol := range policies {
			o := m.delivered(pol)
			shipper := m.approve(m.create(withLines(request(o.GetId()), sel(0, 1))))
			idle := m.approve(m.create(withLines(request(o.GetId()), sel(0, 1))))
			// The buyer confirms receipt while the returns hold the escrow: nothing is released yet.
			if _, err := m.buyer.Orders.ConfirmReceipt(e.Ctx, connect.NewRequest(&orderv1.ConfirmReceiptRequest{OrderId: o.GetId()})); err != nil {
				t.Fatal(err)
			}
			supplierBefore := balance(t, e, ledger.SupplierAvailable, m.supplier.ID())
			e.Advance(10*day - time.Second)
			if got := m.get(idle.GetId()); got.GetState() != returnsv1.Return_STATE_APPROVED {
				t.Fatalf("%v: lapsed early: %v", pol, got.GetState())
			}
			s := m.shipBack(shipper)
			wantState(t, s, returnsv1.Return_STATE_SHIPPED)
			if got, want := s.GetSupplierReceiptDeadline().AsTime(), e.Clock.Now().Add(30*day); !got.Equal(want) {
				t.Fatalf("%v: receipt deadline %v, want %v", pol, got, want)
			}
			e.Advance(2 * time.Second)
			l := m.get(idle.GetId())
			wantState(t, l, returnsv1.Return_STATE_LAPSED)
			_, err := m.buyer.Returns.ShipReturn(e.Ctx, connect.NewRequest(&returnsv1.ShipReturnRequest{Id: idle.GetId(), Carrier: "UPS", TrackingNumber: "1Z"}))
			servertest.WantError(t, err, connect.CodeFailedPrecondition, commonv1.ErrorReason_ERROR_REASON_ILLEGAL_STATE)
			if evs := eventTypes(t, e, m.buyer, idle.GetId()); count(evs, "return.lapsed") != 1 {
				t.Fatalf("%v: events %v", pol, evs)
			}
			// The shipped return still holds the escrow; confirming it releases the rest to the supplier.
			if balance(t, e, ledger.SupplierAvailable, m.supplier.ID()) != supplierBefore || balance(t, e, ledger.OrderEscrow, o.GetId()) != 155_00 {
				t.Fatalf("%v: escrow released while a return holds it", pol)
			}
			done := m.confirm(s)
			wantState(t, done, returnsv1.Return_STATE_REFUNDED)
			// One widget, requested before the buyer confirmed receipt: 10.00 + 5.00 freight + 0.50 insurance.
			if amount(done.GetRefundedAmount()) != 15_50 || amount(done.GetRefund().GetShippingDeduction()) != 0 {
				t.Fatalf("%v: refund %v", pol, done.GetRefund())
			}
			if balance(t, e, ledger.OrderEscrow, o.GetId()) != 0 || balance(t, e, ledger.SupplierAvailable, m.supplier.ID()) <= supplierBefore {
				t.Fatalf("%v: escrow not released after the last hold", pol)
			}
			sumZero(t, e)
		}
	})
}

// TestReceiptDeadline checks the supplier's receipt deadline (30 days after the tracking number, both
// policies) one second before and after: before it the supplier confirms and the buyer is refunded; after it
// the buyer is refunded automatically, once, visibly on the order and in the feed.
func TestReceiptDeadline(t *testing.T) {
	servertest.Each(t, func(t *testing.T, e *servertest.Env) {
		m := newMarket(t, e)
		for _, pol := range policies {
			o := m.delivered(pol)
			confirmed := m.shipBack(m.approve(m.create(withLines(request(o.GetId()), sel(0, 2)))))
			silent := m.shipBack(m.approve(m.create(withLines(request(o.GetId()), sel(0, 3)))))
			e.Advance(30*day - time.Second)
			if got := m.get(silent.GetId()); got.GetState() != returnsv1.Return_STATE_SHIPPED {
				t.Fatalf("%v: refunded early: %v", pol, got.GetState())
			}
			c := m.confirm(confirmed)
			// Two widgets before the buyer confirmed receipt: 20.00 + 10.00 freight + 1.00 insurance.
			if amount(c.GetRefundedAmount()) != 31_00 {
				t.Fatalf("%v: refund %v", pol, c.GetRefund())
			}
			e.Advance(2 * time.Second)
			a := m.get(silent.GetId())
			wantState(t, a, returnsv1.Return_STATE_REFUNDED)
			if amount(a.GetRefundedAmount()) != 46_50 {
				t.Fatalf("%v: auto refund %v", pol, a.GetRefundedAmount())
			}
			_, err := m.supplier.Returns.ConfirmReturnReceipt(e.Ctx, connect.NewRequest(&returnsv1.ConfirmReturnReceiptRequest{Id: silent.GetId()}))
			servertest.WantError(t, err, connect.CodeFailedPrecondition, commonv1.ErrorReason_ERROR_REASON_ILLEGAL_STATE)
			if got := m.order(o.GetId()).GetRefunded(); amount(got) != 31_00+46_50 {
				t.Fatalf("%v: order refunded %v", pol, got)
			}
			if evs := eventTypes(t, e, m.buyer, silent.GetId()); count(evs, "return.auto_refunded") != 1 {
				t.Fatalf("%v: return events %v", pol, evs)
			}
			if evs := eventTypes(t, e, m.buyer, o.GetId()); count(evs, "order.refunded") != 2 {
				t.Fatalf("%v: order events %v", pol, evs)
			}
			sumZero(t, e)
		}
	})
}
