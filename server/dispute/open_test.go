package dispute_test

import (
	"testing"
	"time"

	"connectrpc.com/connect"

	commonv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/common/v1"
	disputev1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/dispute/v1"
	"github.com/tradeassure/tradeassure/server/servertest"
)

// TestOpenWindow opens disputes on completed orders at the last second of the window and one second after,
// under both policies (30 days trade assurance, 15 days retail).
func TestOpenWindow(t *testing.T) {
	each(t, func(t *testing.T, e *servertest.Env) {
		m := newMarket(t, e)
		for _, tc := range []struct {
			pol    commonv1.Policy
			window time.Duration
		}{
			{commonv1.Policy_POLICY_TRADE_ASSURANCE, 30 * day},
			{commonv1.Policy_POLICY_RETAIL, 15 * day},
		} {
			inTime, late := m.completed(tc.pol), m.completed(tc.pol)
			e.Advance(tc.window)
			d := m.open(inTime)
			wantState(t, d, disputev1.Dispute_STATE_AWAITING_RESPONSE)
			e.Advance(time.Second)
			_, err := m.buyer.Disputes.OpenDispute(e.Ctx, connect.NewRequest(openReq(late.GetId(),
				disputev1.Dispute_REASON_DAMAGED, disputev1.Dispute_RESOLUTION_FULL_REFUND, 0)))
			servertest.WantError(t, err, connect.CodeFailedPrecondition, commonv1.ErrorReason_ERROR_REASON_WINDOW_CLOSED)
			// After the window only an arbiter records an agreed refund.
			_, err = m.buyer.Disputes.RecordAgreedRefund(e.Ctx, connect.NewRequest(&disputev1.RecordAgreedRefundRequest{
				OrderId: late.GetId(), RefundAmount: usd(20_00), Note: "agreed in chat", Evidence: []*commonv1.Evidence{photo("chat")}}))
			servertest.WantError(t, err, connect.CodePermissionDenied, commonv1.ErrorReason_ERROR_REASON_ROLE_NOT_ALLOWED)
			r, err := m.arbiter.Disputes.RecordAgreedRefund(e.Ctx, connect.NewRequest(&disputev1.RecordAgreedRefundRequest{
				OrderId: late.GetId(), RefundAmount: usd(20_00), Note: "agreed in chat", Evidence: []*commonv1.Evidence{photo("chat")}}))
			if err != nil {
				t.Fatal(err)
			}
			got := r.Msg.GetDispute()
			wantState(t, got, disputev1.Dispute_STATE_SETTLED)
			if s := got.GetSettlement(); s.GetMethod() != disputev1.Settlement_METHOD_ARBITER_RECORDED ||
				s.GetRefundSource() != disputev1.Settlement_REFUND_SOURCE_SUPPLIER_CLAWBACK || s.GetRefundAmount().GetAmountMinor() != 20_00 {
				t.Fatalf("recorded settlement = %v", s)
			}
			if o := m.order(late.GetId()); o.GetRefunded().GetAmountMinor() != 20_00 || o.GetEscrowHeld() {
				t.Fatalf("order after recorded refund: refunded %v held %v", o.GetRefunded(), o.GetEscrowHeld())
			}
		}
	})
}

// TestOpenRules checks every other rule of opening a dispute.
func TestOpenRules(t *testing.T) {
	each(t, func(t *testing.T, e *servertest.Env) {
		m := newMarket(t, e)
		pol := commonv1.Policy_POLICY_RETAIL
		delivered := m.delivered(pol)
		paid := m.paid(commonv1.Policy_POLICY_TRADE_ASSURANCE)
		other := e.Buyer("US")
		full := disputev1.Dispute_RESOLUTION_FULL_REFUND
		partial := disputev1.Dispute_RESOLUTION_PARTIAL_REFUND
		damaged := disputev1.Dispute_REASON_DAMAGED
		inspection := openReq(delivered.GetId(), disputev1.Dispute_REASON_QUALITY_PROBLEM, full, 0)
		inspection.InspectionFee = usd(30_00)
		wrongCurrency := openReq(delivered.GetId(), damaged, partial, 10_00)
		wrongCurrency.Requested.RefundAmount.Currency = "EUR"
		badLine := openReq(delivered.GetId(), damaged, disputev1.Dispute_RESOLUTION_RETURN_AND_REFUND, 0)
		badLine.Lines = []*disputev1.DisputedLine{{Line: &disputev1.DisputedLine_LineIndex{LineIndex: 0}, Quantity: 11}}
		// A return of another order (here: none at all) cannot be named as the one the dispute follows.
		strangeReturn := openReq(delivered.GetId(), damaged, full, 0)
		strangeReturn.RelatedReturnId = "ret_of_someone_else"
		for _, tc := range []struct {
			name   string
			as     *servertest.Party
			req    *disputev1.OpenDisputeRequest
			code   connect.Code
			reason commonv1.ErrorReason
		}{
			{"supplier cannot open", m.supplier, openReq(delivered.GetId(), damaged, full, 0), connect.CodePermissionDenied, commonv1.ErrorReason_ERROR_REASON_ROLE_NOT_ALLOWED},
			{"another buyer's order", other, openReq(delivered.GetId(), damaged, full, 0), connect.CodeNotFound, commonv1.ErrorReason_ERROR_REASON_NOT_FOUND},
			{"partial refund above what was paid", m.buyer, openReq(delivered.GetId(), damaged, partial, 155_01), connect.CodeFailedPrecondition, commonv1.ErrorReason_ERROR_REASON_AMOUNT_EXCEEDS_PAID},
			{"partial refund without amount", m.buyer, openReq(delivered.GetId(), damaged, partial, 0), connect.CodeInvalidArgument, commonv1.ErrorReason_ERROR_REASON_INVALID_FIELD},
			{"wrong currency", m.buyer, wrongCurrency, connect.CodeInvalidArgument, commonv1.ErrorReason_ERROR_REASON_CURRENCY_MISMATCH},
			{"more units than ordered", m.buyer, badLine, connect.CodeInvalidArgument, commonv1.ErrorReason_ERROR_REASON_QUANTITY_EXCEEDS_ORDERED},
			{"inspection fee without report", m.buyer, inspection, connect.CodeInvalidArgument, commonv1.ErrorReason_ERROR_REASON_EVIDENCE_REQUIRED},
			{"product reason before shipment", m.buyer, openReq(paid.GetId(), damaged, full, 0), connect.CodeFailedPrecondition, commonv1.ErrorReason_ERROR_REASON_ILLEGAL_STATE},
			{"late shipment before the ship-by date", m.buyer, openReq(paid.GetId(), disputev1.Dispute_REASON_NOT_SHIPPED_ON_TIME, full, 0), connect.CodeFailedPrecondition, commonv1.ErrorReason_ERROR_REASON_TOO_EARLY},
			{"return of another order", m.buyer, strangeReturn, connect.CodeInvalidArgument, commonv1.ErrorReason_ERROR_REASON_NOT_FOUND},
			{"no reason", m.buyer, openReq(delivered.GetId(), disputev1.Dispute_REASON_UNSPECIFIED, full, 0), connect.CodeInvalidArgument, commonv1.ErrorReason_ERROR_REASON_INVALID_FIELD},
		} {
			t.Run(tc.name, func(t *testing.T) {
				_, err := tc.as.Disputes.OpenDispute(e.Ctx, connect.NewRequest(tc.req))
				servertest.WantError(t, err, tc.code, tc.reason)
			})
		}
		if o := m.order(delivered.GetId()); o.GetEscrowHeld() {
			t.Fatal("a refused dispute held the escrow")
		}

		// A valid dispute: the request is the first offer, the escrow is held, a second one is refused.
		req := openReq(delivered.GetId(), disputev1.Dispute_REASON_QUALITY_PROBLEM, disputev1.Dispute_RESOLUTION_RETURN_AND_REFUND, 0)
		req.Lines = []*disputev1.DisputedLine{{Line: &disputev1.DisputedLine_ProductId{ProductId: m.product}, Quantity: 4}}
		req.Evidence = append(req.Evidence, &commonv1.Evidence{Kind: commonv1.EvidenceKind_EVIDENCE_KIND_INSPECTION_REPORT, Uri: "https://sgs.example/r1"})
		req.InspectionFee = usd(30_00)
		d := m.openWith(req)
		// 4 of 10 widgets: 40.00 of goods plus their share (40%) of 55.00 freight and insurance.
		if d.GetRequestedRefundAmount().GetAmountMinor() != 62_00 || d.GetReasonClass() != disputev1.Dispute_REASON_CLASS_PRODUCT {
			t.Fatalf("requested %v class %v", d.GetRequestedRefundAmount(), d.GetReasonClass())
		}
		if len(d.GetOffers()) != 1 || d.GetOffers()[0].GetProposer().GetRole() != commonv1.Role_ROLE_BUYER ||
			d.GetOffers()[0].GetState() != disputev1.Offer_STATE_OPEN {
			t.Fatalf("offers = %v", d.GetOffers())
		}
		if d.GetInspection().GetFee().GetAmountMinor() != 30_00 || d.GetHeldAmount().GetAmountMinor() != 155_00 {
			t.Fatalf("inspection %v held %v", d.GetInspection(), d.GetHeldAmount())
		}
		want := e.Clock.Now().Add(5 * day)
		if !d.GetSupplierResponseDeadline().AsTime().Equal(want) || d.EscalationAllowedTime != nil || d.AutoEscalationTime != nil {
			t.Fatalf("retail deadlines: %v %v %v", d.GetSupplierResponseDeadline().AsTime(), d.EscalationAllowedTime, d.AutoEscalationTime)
		}
		if !m.order(delivered.GetId()).GetEscrowHeld() {
			t.Fatal("the dispute did not hold the escrow")
		}
		_, err := m.buyer.Disputes.OpenDispute(e.Ctx, connect.NewRequest(openReq(delivered.GetId(), damaged, full, 0)))
		servertest.WantError(t, err, connect.CodeFailedPrecondition, commonv1.ErrorReason_ERROR_REASON_ALREADY_OPEN)
		if n := events(t, e, "dispute.opened", d.GetId()); n != 1 {
			t.Fatalf("opened events = %d", n)
		}

		// Late shipment: one second after the ship-by date an unshipped order can be disputed.
		e.SetTime(paid.GetTerms().GetShipByTime().AsTime())
		_, err = m.buyer.Disputes.OpenDispute(e.Ctx, connect.NewRequest(openReq(paid.GetId(), disputev1.Dispute_REASON_NOT_SHIPPED_ON_TIME, full, 0)))
		servertest.WantError(t, err, connect.CodeFailedPrecondition, commonv1.ErrorReason_ERROR_REASON_TOO_EARLY)
		e.Advance(time.Second)
		late := m.openWith(openReq(paid.GetId(), disputev1.Dispute_REASON_NOT_SHIPPED_ON_TIME, full, 0))
		if late.GetReasonClass() != disputev1.Dispute_REASON_CLASS_LOGISTICS || late.GetRequestedRefundAmount().GetAmountMinor() != 155_00 {
			t.Fatalf("late shipment dispute: %v %v", late.GetReasonClass(), late.GetRequestedRefundAmount())
		}
		// Trade assurance: escalation from day 4, automatic escalation on day 8.
		if !late.GetEscalationAllowedTime().AsTime().Equal(e.Clock.Now().Add(3*day)) ||
			!late.GetAutoEscalationTime().AsTime().Equal(e.Clock.Now().Add(7*day)) ||
			!late.GetSupplierResponseDeadline().AsTime().Equal(e.Clock.Now().Add(3*day)) {
			t.Fatalf("trade-assurance deadlines: %v", late)
		}
	})
}

// TestIdempotentOpen checks a retried OpenDispute returns the first dispute and opens nothing more, and
// that the same request id with another request is refused.
func TestIdempotentOpen(t *testing.T) {
	each(t, func(t *testing.T, e *servertest.Env) {
		m := newMarket(t, e)
		o := m.delivered(commonv1.Policy_POLICY_TRADE_ASSURANCE)
		req := openReq(o.GetId(), disputev1.Dispute_REASON_DAMAGED, disputev1.Dispute_RESOLUTION_PARTIAL_REFUND, 30_00)
		req.RequestId = "open-1"
		first := m.openWith(req)
		again := m.openWith(req)
		if again.GetId() != first.GetId() || again.GetEtag() != first.GetEtag() {
			t.Fatalf("retry opened %s, first %s", again.GetId(), first.GetId())
		}
		req.Description = "something else"
		_, err := m.buyer.Disputes.OpenDispute(e.Ctx, connect.NewRequest(req))
		servertest.WantError(t, err, connect.CodeInvalidArgument, commonv1.ErrorReason_ERROR_REASON_REQUEST_ID_REUSED)
		l, err := m.buyer.Disputes.ListDisputes(e.Ctx, connect.NewRequest(&disputev1.ListDisputesRequest{OrderId: o.GetId()}))
		if err != nil || len(l.Msg.GetDisputes()) != 1 {
			t.Fatalf("disputes on the order: %v %v", l, err)
		}
		if n := events(t, e, "dispute.opened", first.GetId()); n != 1 {
			t.Fatalf("opened events = %d", n)
		}
	})
}
