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

// TestReturnedGoodsRulingCappedByReturn checks that the ruling on a dispute about a partial return's goods
// refunds at most that return's refund, even when the arbiter's amount (or an accepted offer) names more of
// the order: the rest of the order was not returned and stays paid.
func TestReturnedGoodsRulingCappedByReturn(t *testing.T) {
	each(t, func(t *testing.T, e *servertest.Env) {
		m := newMarket(t, e)
		o := m.delivered(commonv1.Policy_POLICY_RETAIL)
		// Two of ten widgets: 20.00 goods + 10.00 freight share + 1.00 insurance share = 31.00.
		cr, err := m.buyer.Returns.CreateReturn(e.Ctx, connect.NewRequest(&returnsv1.CreateReturnRequest{
			OrderId: o.GetId(), Reason: returnsv1.Return_REASON_QUALITY_PROBLEM, Description: "two cracked",
			Evidence: []*commonv1.Evidence{photo("cracked")},
			Lines:    []*returnsv1.LineSelector{{Line: &returnsv1.LineSelector_LineIndex{LineIndex: 0}, Quantity: 2}},
		}))
		if err != nil {
			t.Fatal(err)
		}
		ret := cr.Msg.GetReturn()
		const returnRefund = 31_00
		if _, err := m.supplier.Returns.ApproveReturn(e.Ctx, connect.NewRequest(&returnsv1.ApproveReturnRequest{
			Id: ret.GetId(), ReturnAddress: &commonv1.Address{RecipientName: "Returns", Phone: "+1 555 0101", Country: "US",
				Lines: []string{"2 Dock Rd"}, City: "Springfield", PostalCode: "12345"}})); err != nil {
			t.Fatal(err)
		}
		if _, err := m.buyer.Returns.ShipReturn(e.Ctx, connect.NewRequest(&returnsv1.ShipReturnRequest{
			Id: ret.GetId(), Carrier: "DHL", TrackingNumber: "RT0002"})); err != nil {
			t.Fatal(err)
		}
		if _, err := m.supplier.Returns.ConfirmReturnReceipt(e.Ctx, connect.NewRequest(&returnsv1.ConfirmReturnReceiptRequest{
			Id: ret.GetId(), Note: "one arrived smashed", Evidence: []*commonv1.Evidence{photo("smashed")},
			Lines: []*returnsv1.LineReceipt{{Line: &returnsv1.LineReceipt_LineIndex{LineIndex: 0}, ReceivedQuantity: 1, DamagedQuantity: 1}},
		})); err != nil {
			t.Fatal(err)
		}
		l, err := m.arbiter.Disputes.ListDisputes(e.Ctx, connect.NewRequest(&disputev1.ListDisputesRequest{
			OrderId: o.GetId(), Kind: disputev1.Dispute_KIND_RETURNED_GOODS}))
		if err != nil || len(l.Msg.GetDisputes()) != 1 {
			t.Fatalf("returned-goods disputes: %v %v", l, err)
		}
		rg := l.Msg.GetDisputes()[0]
		// The arbiter names the whole order's 155.00; only the return's 31.00 is refunded.
		ruled, err := m.arbiter.Disputes.RuleDispute(e.Ctx, connect.NewRequest(&disputev1.RuleDisputeRequest{
			Id: rg.GetId(), Resolution: disputev1.Dispute_RESOLUTION_FULL_REFUND, RefundAmount: usd(155_00),
			Responsibility: disputev1.Dispute_RESPONSIBILITY_LOGISTICS, Note: "damaged in transit"}))
		if err != nil {
			t.Fatal(err)
		}
		if got := ruled.Msg.GetDispute().GetSettlement().GetRefundAmount().GetAmountMinor(); got != returnRefund {
			t.Fatalf("settlement refund = %d, want %d", got, returnRefund)
		}
		got, err := m.buyer.Returns.GetReturn(e.Ctx, connect.NewRequest(&returnsv1.GetReturnRequest{Id: ret.GetId()}))
		if err != nil {
			t.Fatal(err)
		}
		if r := got.Msg.GetReturn(); r.GetState() != returnsv1.Return_STATE_REFUNDED || r.GetRefundedAmount().GetAmountMinor() != returnRefund {
			t.Fatalf("return after ruling: %v refunded %v", r.GetState(), r.GetRefundedAmount())
		}
		if ord := m.order(o.GetId()); ord.GetRefunded().GetAmountMinor() != returnRefund || ord.GetEscrowHeld() {
			t.Fatalf("order after ruling: refunded %v held %v", ord.GetRefunded(), ord.GetEscrowHeld())
		}
		if b := balance(t, e, ledger.Refunds, m.buyer.ID()); b != returnRefund {
			t.Fatalf("buyer refunds account = %d, want %d", b, returnRefund)
		}
	})
}

// TestReturnAndRefundOfDisputedLines checks that a return-and-refund about some units of the order starts
// a return of those units only: the buyer keeps, and is not asked to send back, what the agreed refund does
// not pay for.
func TestReturnAndRefundOfDisputedLines(t *testing.T) {
	each(t, func(t *testing.T, e *servertest.Env) {
		m := newMarket(t, e)
		req := openReq(m.delivered(commonv1.Policy_POLICY_RETAIL).GetId(), disputev1.Dispute_REASON_QUALITY_PROBLEM,
			disputev1.Dispute_RESOLUTION_RETURN_AND_REFUND, 0)
		req.Lines = []*disputev1.DisputedLine{{Line: &disputev1.DisputedLine_ProductId{ProductId: m.product}, Quantity: 4}}
		d := m.openWith(req)
		r, err := m.supplier.Disputes.RespondToDispute(e.Ctx, connect.NewRequest(&disputev1.RespondToDisputeRequest{
			Id: d.GetId(), Decision: disputev1.RespondToDisputeRequest_DECISION_ACCEPT}))
		if err != nil {
			t.Fatal(err)
		}
		s := r.Msg.GetDispute()
		got, err := m.buyer.Returns.GetReturn(e.Ctx, connect.NewRequest(&returnsv1.GetReturnRequest{Id: s.GetReturnId()}))
		if err != nil {
			t.Fatal(err)
		}
		ret := got.Msg.GetReturn()
		// 4 of 10 widgets: 40.00 of goods plus their 40% share of 55.00 freight and insurance.
		if ret.GetWholeOrder() || len(ret.GetLines()) != 1 || ret.GetLines()[0].GetLineIndex() != 0 ||
			ret.GetLines()[0].GetQuantity() != 4 || ret.GetRefund().GetTotal().GetAmountMinor() != 62_00 {
			t.Fatalf("return for the disputed lines: whole %v lines %v refund %v", ret.GetWholeOrder(), ret.GetLines(), ret.GetRefund())
		}
	})
}
