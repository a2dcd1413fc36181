package dispute_test

import (
	"testing"

	"connectrpc.com/connect"

	commonv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/common/v1"
	disputev1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/dispute/v1"
	returnsv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/returns/v1"
	"github.com/tradeassure/tradeassure/server/ledger"
	"github.com/tradeassure/tradeassure/server/servertest"
)

// TestReturnAndRefund checks a dispute settled as return-and-refund starts an approved return, and that the
// supplier's report of damaged returned goods opens a dispute at the arbiter whose ruling decides the
// return's refund.
func TestReturnAndRefund(t *testing.T) {
	each(t, func(t *testing.T, e *servertest.Env) {
		m := newMarket(t, e)
		for _, pol := range policies {
			d := m.openWith(openReq(m.delivered(pol).GetId(), disputev1.Dispute_REASON_WRONG_ITEM,
				disputev1.Dispute_RESOLUTION_RETURN_AND_REFUND, 0))
			r, err := m.supplier.Disputes.RespondToDispute(e.Ctx, connect.NewRequest(&disputev1.RespondToDisputeRequest{
				Id: d.GetId(), Decision: disputev1.RespondToDisputeRequest_DECISION_ACCEPT}))
			if err != nil {
				t.Fatal(err)
			}
			s := r.Msg.GetDispute()
			wantState(t, s, disputev1.Dispute_STATE_SETTLED)
			if s.GetReturnId() == "" || s.GetSettlement().GetRefundSource() != disputev1.Settlement_REFUND_SOURCE_RETURN ||
				s.GetSettlement().GetReturnId() != s.GetReturnId() {
				t.Fatalf("return-and-refund settlement = %v", s.GetSettlement())
			}
			// No refund yet: the return pays it when the goods come back; the return holds the escrow now.
			if n := transfers(t, e, ledger.CauseDisputeRefund, d.GetId()); n != 0 {
				t.Fatalf("the dispute refunded %d times itself", n)
			}
			ret, err := m.buyer.Returns.GetReturn(e.Ctx, connect.NewRequest(&returnsv1.GetReturnRequest{Id: s.GetReturnId()}))
			if err != nil {
				t.Fatal(err)
			}
			if ret.Msg.GetReturn().GetState() != returnsv1.Return_STATE_APPROVED || !m.order(d.GetOrderId()).GetEscrowHeld() {
				t.Fatalf("started return = %v", ret.Msg.GetReturn().GetState())
			}
			if _, err := m.buyer.Returns.ShipReturn(e.Ctx, connect.NewRequest(&returnsv1.ShipReturnRequest{
				Id: s.GetReturnId(), Carrier: "DHL", TrackingNumber: "RT0001"})); err != nil {
				t.Fatal(err)
			}
			// The supplier reports half the goods damaged: a returned-goods dispute opens at the arbiter.
			cr, err := m.supplier.Returns.ConfirmReturnReceipt(e.Ctx, connect.NewRequest(&returnsv1.ConfirmReturnReceiptRequest{
				Id: s.GetReturnId(), Note: "five arrived smashed", Evidence: []*commonv1.Evidence{photo("smashed")},
				Lines: []*returnsv1.LineReceipt{{Line: &returnsv1.LineReceipt_LineIndex{LineIndex: 0}, ReceivedQuantity: 5, DamagedQuantity: 5}},
			}))
			if err != nil {
				t.Fatal(err)
			}
			if cr.Msg.GetReturn().GetState() != returnsv1.Return_STATE_DISPUTED {
				t.Fatalf("return after damage report = %v", cr.Msg.GetReturn().GetState())
			}
			l, err := m.arbiter.Disputes.ListDisputes(e.Ctx, connect.NewRequest(&disputev1.ListDisputesRequest{
				OrderId: d.GetOrderId(), Kind: disputev1.Dispute_KIND_RETURNED_GOODS}))
			if err != nil || len(l.Msg.GetDisputes()) != 1 {
				t.Fatalf("returned-goods disputes: %v %v", l, err)
			}
			rg := l.Msg.GetDisputes()[0]
			if rg.GetState() != disputev1.Dispute_STATE_ESCALATED || rg.GetRelatedReturnId() != s.GetReturnId() ||
				rg.GetOpenedBy().GetRole() != commonv1.Role_ROLE_SUPPLIER {
				t.Fatalf("returned-goods dispute = %v", rg)
			}
			ruled, err := m.arbiter.Disputes.RuleDispute(e.Ctx, connect.NewRequest(&disputev1.RuleDisputeRequest{
				Id: rg.GetId(), Resolution: disputev1.Dispute_RESOLUTION_PARTIAL_REFUND, RefundAmount: usd(100_00),
				Responsibility: disputev1.Dispute_RESPONSIBILITY_LOGISTICS, Note: "damaged in transit"}))
			if err != nil {
				t.Fatal(err)
			}
			if ruled.Msg.GetDispute().GetSettlement().GetRefundSource() != disputev1.Settlement_REFUND_SOURCE_RETURN {
				t.Fatalf("ruling = %v", ruled.Msg.GetDispute().GetSettlement())
			}
			ret, err = m.buyer.Returns.GetReturn(e.Ctx, connect.NewRequest(&returnsv1.GetReturnRequest{Id: s.GetReturnId()}))
			if err != nil {
				t.Fatal(err)
			}
			if ret.Msg.GetReturn().GetState() != returnsv1.Return_STATE_REFUNDED {
				t.Fatalf("return after ruling = %v", ret.Msg.GetReturn().GetState())
			}
			if o := m.order(d.GetOrderId()); o.GetRefunded().GetAmountMinor() != 100_00 || o.GetEscrowHeld() {
				t.Fatalf("order after ruling: refunded %v held %v", o.GetRefunded(), o.GetEscrowHeld())
			}
		}
	})
}
