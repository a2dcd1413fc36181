package dispute_test

import (
	"testing"
	"time"

	"connectrpc.com/connect"

	commonv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/common/v1"
	disputev1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/dispute/v1"
	"github.com/tradeassure/tradeassure/server/ledger"
	"github.com/tradeassure/tradeassure/server/servertest"
)

// TestAutoGrant checks the supplier-response deadline under both policies: one second before it the
// supplier can still answer and nothing happens; at it the buyer's request is granted, once.
func TestAutoGrant(t *testing.T) {
	each(t, func(t *testing.T, e *servertest.Env) {
		m := newMarket(t, e)
		for _, tc := range []struct {
			pol      commonv1.Policy
			response time.Duration
		}{
			{commonv1.Policy_POLICY_TRADE_ASSURANCE, 3 * day},
			{commonv1.Policy_POLICY_RETAIL, 5 * day},
		} {
			granted := m.open(m.delivered(tc.pol))
			answered := m.open(m.delivered(tc.pol))
			e.Advance(tc.response - time.Second)
			wantState(t, m.get(granted.GetId()), disputev1.Dispute_STATE_AWAITING_RESPONSE)
			m.reject(answered, 10_00)
			e.Advance(time.Second)
			d := m.get(granted.GetId())
			wantState(t, d, disputev1.Dispute_STATE_SETTLED)
			if d.GetSupplierResponse() != disputev1.Dispute_SUPPLIER_RESPONSE_TIMED_OUT ||
				d.GetSettlement().GetMethod() != disputev1.Settlement_METHOD_AUTO_GRANTED ||
				d.GetSettlement().GetRefundAmount().GetAmountMinor() != 155_00 ||
				d.GetSettlement().GetRefundSource() != disputev1.Settlement_REFUND_SOURCE_ESCROW ||
				d.GetOffers()[0].GetState() != disputev1.Offer_STATE_ACCEPTED {
				t.Fatalf("auto-granted dispute = %v", d)
			}
			if n := events(t, e, "dispute.auto_granted", d.GetId()); n != 1 {
				t.Fatalf("auto_granted events = %d", n)
			}
			if n := transfers(t, e, ledger.CauseDisputeRefund, d.GetId()); n != 1 {
				t.Fatalf("refund transfers = %d", n)
			}
			if o := m.order(d.GetOrderId()); o.GetEscrowHeld() || o.GetRefunded().GetAmountMinor() != 155_00 {
				t.Fatalf("order after grant: held %v refunded %v", o.GetEscrowHeld(), o.GetRefunded())
			}
			// The answered dispute is not granted when its (cancelled) deadline would have passed.
			wantState(t, m.get(answered.GetId()), disputev1.Dispute_STATE_NEGOTIATING)
			// Too late to answer.
			_, err := m.supplier.Disputes.RespondToDispute(e.Ctx, connect.NewRequest(&disputev1.RespondToDisputeRequest{
				Id: d.GetId(), Decision: disputev1.RespondToDisputeRequest_DECISION_ACCEPT}))
			servertest.WantError(t, err, connect.CodeFailedPrecondition, commonv1.ErrorReason_ERROR_REASON_ILLEGAL_STATE)
		}
	})
}

// TestNegotiation checks the offers: rejecting needs a counter-offer and evidence, offers are kept as a
// history, a party cannot accept its own offer nor an offer that is not the latest, and accepting the
// other side's latest offer settles with its money effect.
func TestNegotiation(t *testing.T) {
	each(t, func(t *testing.T, e *servertest.Env) {
		m := newMarket(t, e)
		d := m.open(m.delivered(commonv1.Policy_POLICY_RETAIL))
		reject := func(terms *disputev1.OfferTerms, ev []*commonv1.Evidence) error {
			_, err := m.supplier.Disputes.RespondToDispute(e.Ctx, connect.NewRequest(&disputev1.RespondToDisputeRequest{
				Id: d.GetId(), Decision: disputev1.RespondToDisputeRequest_DECISION_REJECT, CounterOffer: terms, Evidence: ev}))
			return err
		}
		partial := func(amount int64) *disputev1.OfferTerms {
			return &disputev1.OfferTerms{Resolution: disputev1.Dispute_RESOLUTION_PARTIAL_REFUND, RefundAmount: usd(amount)}
		}
		servertest.Step(t, "rejection refused", func(t *testing.T) {
			servertest.WantError(t, reject(partial(10_00), nil), connect.CodeInvalidArgument, commonv1.ErrorReason_ERROR_REASON_EVIDENCE_REQUIRED)
			servertest.WantError(t, reject(nil, []*commonv1.Evidence{photo("x")}), connect.CodeInvalidArgument, commonv1.ErrorReason_ERROR_REASON_INVALID_FIELD)
			servertest.WantError(t, reject(partial(500_00), []*commonv1.Evidence{photo("x")}), connect.CodeFailedPrecondition, commonv1.ErrorReason_ERROR_REASON_AMOUNT_EXCEEDS_PAID)
			_, err := m.buyer.Disputes.RespondToDispute(e.Ctx, connect.NewRequest(&disputev1.RespondToDisputeRequest{
				Id: d.GetId(), Decision: disputev1.RespondToDisputeRequest_DECISION_ACCEPT}))
			servertest.WantError(t, err, connect.CodePermissionDenied, commonv1.ErrorReason_ERROR_REASON_ROLE_NOT_ALLOWED)
			// Offers cannot be made before the supplier answered.
			_, err = m.buyer.Disputes.MakeOffer(e.Ctx, connect.NewRequest(&disputev1.MakeOfferRequest{Id: d.GetId(), Terms: partial(90_00)}))
			servertest.WantError(t, err, connect.CodeFailedPrecondition, commonv1.ErrorReason_ERROR_REASON_ILLEGAL_STATE)
		})

		var supplierOffer *disputev1.Offer
		servertest.Step(t, "rejection with a counter-offer", func(t *testing.T) {
			d = m.reject(d, 20_00)
			wantState(t, d, disputev1.Dispute_STATE_NEGOTIATING)
			if len(d.GetOffers()) != 2 {
				t.Fatalf("offers after rejection = %v, want the buyer's and the supplier's", d.GetOffers())
			}
			supplierOffer = d.GetOffers()[1]
			servertest.CheckFields(t, "dispute",
				servertest.Field{Name: "offers[0].state", Got: d.GetOffers()[0].GetState(), Want: disputev1.Offer_STATE_DECLINED},
				servertest.Field{Name: "offers[1].state", Got: supplierOffer.GetState(), Want: disputev1.Offer_STATE_OPEN},
				servertest.Field{Name: "offers[1].proposer.role", Got: supplierOffer.GetProposer().GetRole(), Want: commonv1.Role_ROLE_SUPPLIER})
		})
		accept := func(p *servertest.Party, offerID, etag string) (*disputev1.Dispute, error) {
			r, err := p.Disputes.AcceptOffer(e.Ctx, connect.NewRequest(&disputev1.AcceptOfferRequest{Id: d.GetId(), OfferId: offerID, Etag: etag}))
			if err != nil {
				return nil, err
			}
			return r.Msg.GetDispute(), nil
		}
		servertest.Step(t, "own offer and stale etag refused", func(t *testing.T) {
			_, err := accept(m.supplier, supplierOffer.GetId(), "")
			servertest.WantError(t, err, connect.CodeFailedPrecondition, commonv1.ErrorReason_ERROR_REASON_OWN_PROPOSAL)
			_, err = accept(m.buyer, supplierOffer.GetId(), "stale")
			servertest.WantError(t, err, connect.CodeAborted, commonv1.ErrorReason_ERROR_REASON_ETAG_MISMATCH)
		})

		// The buyer counters; the supplier's offer is declined by it and can no longer be accepted.
		var first, buyerOffer, etag string
		servertest.Step(t, "counter-offers", func(t *testing.T) {
			r, err := m.buyer.Disputes.MakeOffer(e.Ctx, connect.NewRequest(&disputev1.MakeOfferRequest{Id: d.GetId(), Terms: partial(90_00)}))
			if err != nil {
				t.Fatal(err)
			}
			first = r.Msg.GetOfferId()
			r, err = m.buyer.Disputes.MakeOffer(e.Ctx, connect.NewRequest(&disputev1.MakeOfferRequest{Id: d.GetId(), Terms: partial(70_00),
				Evidence: []*commonv1.Evidence{photo("more-cracks")}}))
			if err != nil {
				t.Fatal(err)
			}
			buyerOffer, etag = r.Msg.GetOfferId(), r.Msg.GetDispute().GetEtag()
			offers := r.Msg.GetDispute().GetOffers()
			if len(offers) != 4 {
				t.Fatalf("offer history = %v, want 4 offers", offers)
			}
			servertest.CheckFields(t, "dispute",
				servertest.Field{Name: "offers[1].state", Got: offers[1].GetState(), Want: disputev1.Offer_STATE_DECLINED},
				servertest.Field{Name: "offers[2].state", Got: offers[2].GetState(), Want: disputev1.Offer_STATE_SUPERSEDED},
				servertest.Field{Name: "offers[2].id", Got: offers[2].GetId(), Want: first},
				servertest.Field{Name: "offers[3].state", Got: offers[3].GetState(), Want: disputev1.Offer_STATE_OPEN})
		})
		servertest.Step(t, "only the latest offer of the other party can be answered", func(t *testing.T) {
			_, err := accept(m.buyer, supplierOffer.GetId(), "")
			servertest.WantError(t, err, connect.CodeFailedPrecondition, commonv1.ErrorReason_ERROR_REASON_OFFER_NOT_LATEST)
			_, err = accept(m.supplier, first, "")
			servertest.WantError(t, err, connect.CodeFailedPrecondition, commonv1.ErrorReason_ERROR_REASON_OFFER_NOT_LATEST)
			_, err = m.buyer.Disputes.DeclineOffer(e.Ctx, connect.NewRequest(&disputev1.DeclineOfferRequest{Id: d.GetId(), OfferId: buyerOffer}))
			servertest.WantError(t, err, connect.CodeFailedPrecondition, commonv1.ErrorReason_ERROR_REASON_OWN_PROPOSAL)
			outsider := e.Supplier(1_000_00, false)
			_, err = accept(outsider, buyerOffer, "")
			servertest.WantError(t, err, connect.CodeNotFound, commonv1.ErrorReason_ERROR_REASON_NOT_FOUND)
		})

		servertest.Step(t, "accepting settles once", func(t *testing.T) {
			settled, err := accept(m.supplier, buyerOffer, etag)
			if err != nil {
				t.Fatal(err)
			}
			wantState(t, settled, disputev1.Dispute_STATE_SETTLED)
			s := settled.GetSettlement()
			servertest.CheckFields(t, "settlement",
				servertest.Field{Name: "method", Got: s.GetMethod(), Want: disputev1.Settlement_METHOD_OFFER_ACCEPTED},
				servertest.Field{Name: "offer_id", Got: s.GetOfferId(), Want: buyerOffer},
				servertest.Field{Name: "refund_amount", Got: s.GetRefundAmount().GetAmountMinor(), Want: int64(70_00)},
				servertest.Field{Name: "refund_source", Got: s.GetRefundSource(), Want: disputev1.Settlement_REFUND_SOURCE_ESCROW})
			if got := balance(t, e, ledger.Refunds, m.buyer.ID()); got != 70_00 {
				t.Fatalf("buyer refunds = %d", got)
			}
			// The retry with the same request id settles once.
			_, err = accept(m.supplier, buyerOffer, "")
			servertest.WantError(t, err, connect.CodeFailedPrecondition, commonv1.ErrorReason_ERROR_REASON_ILLEGAL_STATE)
			if n := transfers(t, e, ledger.CauseDisputeRefund, d.GetId()); n != 1 {
				t.Fatalf("refund transfers = %d", n)
			}
		})
	})
}

// TestSupplierAccepts checks accepting the buyer's request settles with the requested refund, and
// withdrawal lifts the hold without money.
func TestSupplierAccepts(t *testing.T) {
	each(t, func(t *testing.T, e *servertest.Env) {
		m := newMarket(t, e)
		d := m.openWith(openReq(m.delivered(commonv1.Policy_POLICY_TRADE_ASSURANCE).GetId(), disputev1.Dispute_REASON_QUANTITY_SHORT,
			disputev1.Dispute_RESOLUTION_PARTIAL_REFUND, 25_00))
		r, err := m.supplier.Disputes.RespondToDispute(e.Ctx, connect.NewRequest(&disputev1.RespondToDisputeRequest{
			Id: d.GetId(), Etag: d.GetEtag(), Decision: disputev1.RespondToDisputeRequest_DECISION_ACCEPT, Note: "sorry"}))
		if err != nil {
			t.Fatal(err)
		}
		s := r.Msg.GetDispute()
		wantState(t, s, disputev1.Dispute_STATE_SETTLED)
		if s.GetSupplierResponse() != disputev1.Dispute_SUPPLIER_RESPONSE_ACCEPTED || s.GetSettlement().GetRefundAmount().GetAmountMinor() != 25_00 {
			t.Fatalf("accepted = %v", s)
		}
		if o := m.order(d.GetOrderId()); o.GetEscrowHeld() || o.GetRefunded().GetAmountMinor() != 25_00 {
			t.Fatalf("order: %v", o)
		}

		w := m.open(m.delivered(commonv1.Policy_POLICY_TRADE_ASSURANCE))
		_, err = m.supplier.Disputes.WithdrawDispute(e.Ctx, connect.NewRequest(&disputev1.WithdrawDisputeRequest{Id: w.GetId()}))
		servertest.WantError(t, err, connect.CodePermissionDenied, commonv1.ErrorReason_ERROR_REASON_ROLE_NOT_ALLOWED)
		wr, err := m.buyer.Disputes.WithdrawDispute(e.Ctx, connect.NewRequest(&disputev1.WithdrawDisputeRequest{Id: w.GetId(), Note: "arrived after all"}))
		if err != nil {
			t.Fatal(err)
		}
		wantState(t, wr.Msg.GetDispute(), disputev1.Dispute_STATE_WITHDRAWN)
		if o := m.order(w.GetOrderId()); o.GetEscrowHeld() || o.GetRefunded().GetAmountMinor() != 0 {
			t.Fatalf("order after withdrawal: %v", o)
		}
		// Its deadline is gone: nothing is granted later.
		e.Advance(10 * day)
		wantState(t, m.get(w.GetId()), disputev1.Dispute_STATE_WITHDRAWN)
		if n := transfers(t, e, ledger.CauseDisputeRefund, w.GetId()); n != 0 {
			t.Fatalf("withdrawn dispute refunded")
		}
	})
}

// TestResponseDeadlineRace checks that once the supplier's response deadline has come, before the deadline
// engine applied it, no call changes the dispute under the automatic grant: the supplier can neither answer
// nor suspend it, the buyer cannot escalate it instead; the engine then grants it. One second earlier each
// of them is still possible.
func TestResponseDeadlineRace(t *testing.T) {
	each(t, func(t *testing.T, e *servertest.Env) {
		m := newMarket(t, e)
		d := m.open(m.delivered(commonv1.Policy_POLICY_TRADE_ASSURANCE))
		early := m.open(m.delivered(commonv1.Policy_POLICY_TRADE_ASSURANCE))
		due := d.GetSupplierResponseDeadline().AsTime()
		legal := func(id string) error {
			_, err := m.supplier.Disputes.SuspendDispute(e.Ctx, connect.NewRequest(&disputev1.SuspendDisputeRequest{
				Id: id, Reason: disputev1.Suspension_REASON_LEGAL_PROCEEDINGS, Note: "District court case 9/2026"}))
			return err
		}
		// One second before: the supplier may still suspend (the clock is set without running deadlines).
		e.Clock.Set(early.GetSupplierResponseDeadline().AsTime().Add(-time.Second))
		if err := legal(early.GetId()); err != nil {
			t.Fatalf("suspend one second before the response deadline: %v", err)
		}
		e.Clock.Set(due)
		servertest.WantError(t, legal(d.GetId()), connect.CodeFailedPrecondition, commonv1.ErrorReason_ERROR_REASON_DEADLINE_PASSED)
		_, err := m.escalate(m.buyer, d)
		servertest.WantError(t, err, connect.CodeFailedPrecondition, commonv1.ErrorReason_ERROR_REASON_DEADLINE_PASSED)
		_, err = m.supplier.Disputes.RespondToDispute(e.Ctx, connect.NewRequest(&disputev1.RespondToDisputeRequest{
			Id: d.GetId(), Decision: disputev1.RespondToDisputeRequest_DECISION_ACCEPT}))
		servertest.WantError(t, err, connect.CodeFailedPrecondition, commonv1.ErrorReason_ERROR_REASON_DEADLINE_PASSED)
		e.Advance(0)
		got := m.get(d.GetId())
		wantState(t, got, disputev1.Dispute_STATE_SETTLED)
		if got.GetSettlement().GetMethod() != disputev1.Settlement_METHOD_AUTO_GRANTED {
			t.Fatalf("settlement = %v", got.GetSettlement())
		}
		wantState(t, m.get(early.GetId()), disputev1.Dispute_STATE_SUSPENDED)
	})
}
