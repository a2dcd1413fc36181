package dispute_test

import (
	"testing"
	"time"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/tradeassure/tradeassure/ent/payment"
	commonv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/common/v1"
	disputev1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/dispute/v1"
	eventv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/event/v1"
	"github.com/tradeassure/tradeassure/server/ledger"
	"github.com/tradeassure/tradeassure/server/servertest"
)

// TestChargeback checks the 180-day window (at its last second and one after), who may record one, the
// supplier's contest going to the arbiter, and the grant against the supplier when it does not answer.
func TestChargeback(t *testing.T) {
	each(t, func(t *testing.T, e *servertest.Env) {
		m := newMarket(t, e)
		paidAt := e.Clock.Now()
		orders := map[commonv1.Policy][]string{}
		for _, pol := range policies {
			for range 2 {
				orders[pol] = append(orders[pol], m.completed(pol).GetId())
			}
		}
		payOf := func(orderID string) string {
			p, err := e.Store.Client.Payment.Query().Where(payment.OrderID(orderID)).Only(e.Ctx)
			if err != nil {
				t.Fatal(err)
			}
			return p.ID
		}
		record := func(as *servertest.Party, orderID string, amount int64, at time.Time) (*disputev1.Dispute, error) {
			r, err := as.Disputes.RecordChargeback(e.Ctx, connect.NewRequest(&disputev1.RecordChargebackRequest{
				OrderId: orderID, PaymentId: payOf(orderID), Amount: usd(amount), ReasonCode: "10.4",
				NetworkReference: "VISA-1", ChargebackTime: timestamppb.New(at)}))
			if err != nil {
				return nil, err
			}
			return r.Msg.GetDispute(), nil
		}
		e.Advance(200 * day)
		windowEnd := paidAt.Add(180 * day)
		for _, pol := range policies {
			contested, granted := orders[pol][0], orders[pol][1]
			t.Run(pol.String(), func(t *testing.T) {
				var cb *disputev1.Dispute
				servertest.Step(t, "record within the window and the paid amount", func(t *testing.T) {
					_, err := record(m.buyer, contested, 155_00, windowEnd)
					servertest.WantError(t, err, connect.CodePermissionDenied, commonv1.ErrorReason_ERROR_REASON_ROLE_NOT_ALLOWED)
					_, err = record(m.operator, contested, 155_00, windowEnd.Add(time.Second))
					servertest.WantError(t, err, connect.CodeFailedPrecondition, commonv1.ErrorReason_ERROR_REASON_WINDOW_CLOSED)
					_, err = record(m.operator, contested, 155_01, windowEnd)
					servertest.WantError(t, err, connect.CodeFailedPrecondition, commonv1.ErrorReason_ERROR_REASON_AMOUNT_EXCEEDS_PAID)
					if cb, err = record(m.operator, contested, 155_00, windowEnd); err != nil {
						t.Fatal(err)
					}
					servertest.CheckFields(t, "dispute",
						servertest.Field{Name: "kind", Got: cb.GetKind(), Want: disputev1.Dispute_KIND_CHARGEBACK},
						servertest.Field{Name: "state", Got: cb.GetState(), Want: disputev1.Dispute_STATE_AWAITING_RESPONSE},
						servertest.Field{Name: "chargeback.reason_code", Got: cb.GetChargeback().GetReasonCode(), Want: "10.4"})
					_, err = record(m.operator, contested, 155_00, windowEnd)
					servertest.WantError(t, err, connect.CodeFailedPrecondition, commonv1.ErrorReason_ERROR_REASON_ALREADY_OPEN)
				})
				// Contesting needs evidence, and sends the chargeback to the arbiter.
				servertest.Step(t, "contested with evidence goes to the arbiter", func(t *testing.T) {
					_, err := m.supplier.Disputes.RespondToDispute(e.Ctx, connect.NewRequest(&disputev1.RespondToDisputeRequest{
						Id: cb.GetId(), Decision: disputev1.RespondToDisputeRequest_DECISION_REJECT}))
					servertest.WantError(t, err, connect.CodeInvalidArgument, commonv1.ErrorReason_ERROR_REASON_EVIDENCE_REQUIRED)
					r, err := m.supplier.Disputes.RespondToDispute(e.Ctx, connect.NewRequest(&disputev1.RespondToDisputeRequest{
						Id: cb.GetId(), Decision: disputev1.RespondToDisputeRequest_DECISION_REJECT,
						Evidence: []*commonv1.Evidence{{Kind: commonv1.EvidenceKind_EVIDENCE_KIND_LOGISTICS_RECORD, Uri: "https://dhl.example/pod"}}}))
					if err != nil {
						t.Fatal(err)
					}
					wantState(t, r.Msg.GetDispute(), disputev1.Dispute_STATE_ESCALATED)
				})

				servertest.Step(t, "granted when the supplier does not answer", func(t *testing.T) {
					g, err := record(m.operator, granted, 55_00, windowEnd.Add(-time.Hour))
					if err != nil {
						t.Fatal(err)
					}
					wait := 3 * day
					if pol == commonv1.Policy_POLICY_RETAIL {
						wait = 5 * day
					}
					e.Advance(wait - time.Second)
					wantState(t, m.get(g.GetId()), disputev1.Dispute_STATE_AWAITING_RESPONSE)
					e.Advance(time.Second)
					got := m.get(g.GetId())
					wantState(t, got, disputev1.Dispute_STATE_SETTLED)
					servertest.CheckFields(t, "settlement",
						servertest.Field{Name: "refund_amount", Got: got.GetSettlement().GetRefundAmount().GetAmountMinor(), Want: int64(55_00)},
						servertest.Field{Name: "refund_source", Got: got.GetSettlement().GetRefundSource(), Want: disputev1.Settlement_REFUND_SOURCE_SUPPLIER_CLAWBACK})
					if n := transfers(t, e, ledger.CauseDisputeRefund, g.GetId()); n != 1 {
						t.Fatalf("refund transfers = %d", n)
					}
					// The same chargeback sent again (another request id) once its dispute ended is refused, and
					// refunds nothing more.
					_, err = record(m.operator, granted, 55_00, windowEnd.Add(-time.Hour))
					servertest.WantError(t, err, connect.CodeFailedPrecondition, commonv1.ErrorReason_ERROR_REASON_ALREADY_OPEN)
					if o := m.order(granted); o.GetRefunded().GetAmountMinor() != 55_00 {
						t.Fatalf("refunded after a repeated chargeback: %v", o.GetRefunded())
					}
				})
			})
		}
	})
}

// TestAuthorization checks, in every protocol, that only the two parties, arbiters and operators see a
// dispute and its timeline, and that the timeline records every step with its actor.
func TestAuthorization(t *testing.T) {
	servertest.Each(t, func(t *testing.T, e *servertest.Env) {
		m := newMarket(t, e)
		d := m.open(m.delivered(commonv1.Policy_POLICY_RETAIL))
		d = m.reject(d, 30_00)
		strangers := []*servertest.Party{e.Buyer("US"), e.Supplier(1_000_00, false), e.Staff(commonv1.Role_ROLE_WAREHOUSE)}
		for _, p := range strangers {
			_, err := p.Disputes.GetDispute(e.Ctx, connect.NewRequest(&disputev1.GetDisputeRequest{Id: d.GetId()}))
			servertest.WantError(t, err, connect.CodeNotFound, commonv1.ErrorReason_ERROR_REASON_NOT_FOUND)
			_, err = p.Disputes.ListDisputeTimeline(e.Ctx, connect.NewRequest(&disputev1.ListDisputeTimelineRequest{DisputeId: d.GetId()}))
			servertest.WantError(t, err, connect.CodeNotFound, commonv1.ErrorReason_ERROR_REASON_NOT_FOUND)
			l, err := p.Disputes.ListDisputes(e.Ctx, connect.NewRequest(&disputev1.ListDisputesRequest{}))
			if err != nil || len(l.Msg.GetDisputes()) != 0 {
				t.Fatalf("a stranger lists %v %v", l, err)
			}
		}
		_, err := m.buyer.Disputes.RuleDispute(e.Ctx, connect.NewRequest(&disputev1.RuleDisputeRequest{Id: d.GetId(),
			Resolution: disputev1.Dispute_RESOLUTION_NO_REFUND, RefundAmount: usd(0), Responsibility: disputev1.Dispute_RESPONSIBILITY_NONE, Note: "x"}))
		servertest.WantError(t, err, connect.CodePermissionDenied, commonv1.ErrorReason_ERROR_REASON_ROLE_NOT_ALLOWED)
		for _, p := range []*servertest.Party{m.buyer, m.supplier, m.arbiter, m.operator} {
			g, err := p.Disputes.GetDispute(e.Ctx, connect.NewRequest(&disputev1.GetDisputeRequest{Id: d.GetId()}))
			if err != nil || g.Msg.GetDispute().GetEtag() != d.GetEtag() {
				t.Fatalf("party reads: %v", err)
			}
			l, err := p.Disputes.ListDisputes(e.Ctx, connect.NewRequest(&disputev1.ListDisputesRequest{State: disputev1.Dispute_STATE_NEGOTIATING}))
			if err != nil || len(l.Msg.GetDisputes()) != 1 {
				t.Fatalf("party lists: %v %v", l, err)
			}
			tl, err := p.Disputes.ListDisputeTimeline(e.Ctx, connect.NewRequest(&disputev1.ListDisputeTimelineRequest{DisputeId: d.GetId(), PageSize: 1}))
			if err != nil {
				t.Fatal(err)
			}
			first := tl.Msg.GetEntries()[0]
			if first.GetKind() != disputev1.TimelineEntry_KIND_OPENED || first.GetActor().GetRole() != commonv1.Role_ROLE_BUYER ||
				first.GetToState() != disputev1.Dispute_STATE_AWAITING_RESPONSE || tl.Msg.GetNextPageToken() == "" {
				t.Fatalf("first timeline entry = %v", first)
			}
			tl, err = p.Disputes.ListDisputeTimeline(e.Ctx, connect.NewRequest(&disputev1.ListDisputeTimelineRequest{
				DisputeId: d.GetId(), PageToken: tl.Msg.GetNextPageToken()}))
			if err != nil {
				t.Fatal(err)
			}
			second := tl.Msg.GetEntries()[0]
			if len(tl.Msg.GetEntries()) != 1 || second.GetKind() != disputev1.TimelineEntry_KIND_SUPPLIER_REJECTED ||
				second.GetActor().GetAccountId() != m.supplier.ID() || second.GetFromState() != disputev1.Dispute_STATE_AWAITING_RESPONSE ||
				second.GetToState() != disputev1.Dispute_STATE_NEGOTIATING || second.GetOfferId() == "" || second.GetRevision() != 2 {
				t.Fatalf("second timeline entry = %v", second)
			}
		}
		// The arbiter follows disputes in the feed.
		ev, err := m.arbiter.Events.ListEvents(e.Ctx, connect.NewRequest(&eventv1.ListEventsRequest{SubjectType: "dispute", SubjectId: d.GetId()}))
		if err != nil {
			t.Fatal(err)
		}
		var types []string
		for _, x := range ev.Msg.GetEvents() {
			types = append(types, x.GetType())
		}
		if len(types) != 2 || types[0] != "dispute.opened" || types[1] != "dispute.supplier_rejected" {
			t.Fatalf("events = %v", types)
		}
	})
}
