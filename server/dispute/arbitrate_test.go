package dispute_test

import (
	"testing"
	"time"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/types/known/timestamppb"

	commonv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/common/v1"
	disputev1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/dispute/v1"
	"github.com/tradeassure/tradeassure/server/ledger"
	"github.com/tradeassure/tradeassure/server/servertest"
)

// TestEscalation checks who may escalate when, under both policies, and the automatic escalation on day 8
// (trade assurance only), one second before and at its time.
func TestEscalation(t *testing.T) {
	each(t, func(t *testing.T, e *servertest.Env) {
		m := newMarket(t, e)

		// Retail: nobody may escalate before the supplier rejected; the buyer may right after.
		r := m.open(m.delivered(commonv1.Policy_POLICY_RETAIL))
		_, err := m.escalate(m.buyer, r)
		servertest.WantError(t, err, connect.CodeFailedPrecondition, commonv1.ErrorReason_ERROR_REASON_TOO_EARLY)
		_, err = m.escalate(m.supplier, r)
		servertest.WantError(t, err, connect.CodeFailedPrecondition, commonv1.ErrorReason_ERROR_REASON_TOO_EARLY)
		_, err = m.escalate(m.arbiter, r)
		servertest.WantError(t, err, connect.CodePermissionDenied, commonv1.ErrorReason_ERROR_REASON_ROLE_NOT_ALLOWED)
		r = m.reject(r, 10_00)
		if !r.GetEscalationAllowedTime().AsTime().Equal(e.Clock.Now()) || r.AutoEscalationTime != nil {
			t.Fatalf("retail escalation times: %v %v", r.GetEscalationAllowedTime(), r.GetAutoEscalationTime())
		}
		esc, err := m.escalate(m.buyer, r)
		if err != nil {
			t.Fatal(err)
		}
		wantState(t, esc, disputev1.Dispute_STATE_ESCALATED)
		if esc.GetEscalatedBy().GetRole() != commonv1.Role_ROLE_BUYER {
			t.Fatalf("escalated by %v", esc.GetEscalatedBy())
		}
		// Retail never escalates by itself.
		rr := m.reject(m.open(m.delivered(commonv1.Policy_POLICY_RETAIL)), 10_00)

		// Trade assurance: the supplier may escalate once it rejected; the buyer from day 4.
		ta := m.reject(m.open(m.delivered(commonv1.Policy_POLICY_TRADE_ASSURANCE)), 10_00)
		auto := m.reject(m.open(m.delivered(commonv1.Policy_POLICY_TRADE_ASSURANCE)), 10_00)
		byS := m.reject(m.open(m.delivered(commonv1.Policy_POLICY_TRADE_ASSURANCE)), 10_00)
		if _, err := m.escalate(m.supplier, byS); err != nil {
			t.Fatal(err)
		}
		e.Advance(3*day - time.Second)
		_, err = m.escalate(m.buyer, ta)
		servertest.WantError(t, err, connect.CodeFailedPrecondition, commonv1.ErrorReason_ERROR_REASON_TOO_EARLY)
		e.Advance(time.Second)
		if _, err := m.escalate(m.buyer, ta); err != nil {
			t.Fatal(err)
		}
		e.Advance(4*day - time.Second)
		wantState(t, m.get(auto.GetId()), disputev1.Dispute_STATE_NEGOTIATING)
		e.Advance(time.Second)
		got := m.get(auto.GetId())
		wantState(t, got, disputev1.Dispute_STATE_ESCALATED)
		if got.GetEscalatedBy().GetRole() != commonv1.Role_ROLE_SYSTEM || events(t, e, "dispute.auto_escalated", got.GetId()) != 1 {
			t.Fatalf("auto-escalated by %v", got.GetEscalatedBy())
		}
		e.Advance(30 * day)
		wantState(t, m.get(rr.GetId()), disputev1.Dispute_STATE_NEGOTIATING)
		// The parties may still settle an escalated dispute by accepting an offer.
		last := got.GetOffers()[len(got.GetOffers())-1]
		a, err := m.buyer.Disputes.AcceptOffer(e.Ctx, connect.NewRequest(&disputev1.AcceptOfferRequest{Id: got.GetId(), OfferId: last.GetId()}))
		if err != nil {
			t.Fatal(err)
		}
		wantState(t, a.Msg.GetDispute(), disputev1.Dispute_STATE_SETTLED)
	})
}

// TestArbitration checks evidence requests (pending blocks the ruling, overdue one second after the due
// time and shown), the ruling's bounds and money (escrow, clawback, inspection fee), and the metrics.
func TestArbitration(t *testing.T) {
	each(t, func(t *testing.T, e *servertest.Env) {
		m := newMarket(t, e)
		req := openReq(m.delivered(commonv1.Policy_POLICY_RETAIL).GetId(), disputev1.Dispute_REASON_QUALITY_PROBLEM,
			disputev1.Dispute_RESOLUTION_FULL_REFUND, 0)
		req.Evidence = append(req.Evidence, &commonv1.Evidence{Kind: commonv1.EvidenceKind_EVIDENCE_KIND_INSPECTION_REPORT, Uri: "https://sgs.example/r"})
		req.InspectionFee = usd(30_00)
		d := m.openWith(req)
		d, err := m.escalate(m.buyer, m.reject(d, 10_00))
		if err != nil {
			t.Fatal(err)
		}
		ask := func(p *servertest.Party, from commonv1.Role, due time.Time) (*disputev1.RequestEvidenceResponse, error) {
			r, err := p.Disputes.RequestEvidence(e.Ctx, connect.NewRequest(&disputev1.RequestEvidenceRequest{
				Id: d.GetId(), FromRole: from, Description: "photos of the packaging", DueTime: timestamppb.New(due)}))
			if err != nil {
				return nil, err
			}
			return r.Msg, nil
		}
		step := func(name string, f func(t *testing.T)) { servertest.Step(t, name, f) }
		var toSupplier, toBuyer *disputev1.RequestEvidenceResponse
		step("request evidence", func(t *testing.T) {
			_, err := ask(m.buyer, commonv1.Role_ROLE_SUPPLIER, e.Clock.Now().Add(day))
			servertest.WantError(t, err, connect.CodePermissionDenied, commonv1.ErrorReason_ERROR_REASON_ROLE_NOT_ALLOWED)
			_, err = ask(m.arbiter, commonv1.Role_ROLE_SUPPLIER, e.Clock.Now())
			servertest.WantError(t, err, connect.CodeInvalidArgument, commonv1.ErrorReason_ERROR_REASON_TIME_OUT_OF_RANGE)
			if toSupplier, err = ask(m.arbiter, commonv1.Role_ROLE_SUPPLIER, e.Clock.Now().Add(2*day)); err != nil {
				t.Fatal(err)
			}
			if toBuyer, err = ask(m.arbiter, commonv1.Role_ROLE_BUYER, e.Clock.Now().Add(day)); err != nil {
				t.Fatal(err)
			}
		})
		rule := func(p *servertest.Party, res disputev1.Dispute_Resolution, amount int64, who disputev1.Dispute_Responsibility) (*disputev1.Dispute, error) {
			r, err := p.Disputes.RuleDispute(e.Ctx, connect.NewRequest(&disputev1.RuleDisputeRequest{
				Id: d.GetId(), Resolution: res, RefundAmount: usd(amount), Responsibility: who, Note: "the report shows defects"}))
			if err != nil {
				return nil, err
			}
			return r.Msg.GetDispute(), nil
		}
		supplierAt := disputev1.Dispute_RESPONSIBILITY_SUPPLIER
		partial := disputev1.Dispute_RESOLUTION_PARTIAL_REFUND
		step("no ruling while requests are pending", func(t *testing.T) {
			_, err := rule(m.arbiter, partial, 100_00, supplierAt)
			servertest.WantError(t, err, connect.CodeFailedPrecondition, commonv1.ErrorReason_ERROR_REASON_EVIDENCE_REQUESTS_PENDING)
		})

		// The buyer answers in time; the supplier does not.
		step("evidence in time and overdue", func(t *testing.T) {
			_, err := m.supplier.Disputes.SubmitEvidence(e.Ctx, connect.NewRequest(&disputev1.SubmitEvidenceRequest{
				Id: d.GetId(), EvidenceRequestId: toBuyer.GetEvidenceRequestId(), Evidence: []*commonv1.Evidence{photo("box")}}))
			servertest.WantError(t, err, connect.CodeInvalidArgument, commonv1.ErrorReason_ERROR_REASON_INVALID_FIELD)
			if _, err := m.buyer.Disputes.SubmitEvidence(e.Ctx, connect.NewRequest(&disputev1.SubmitEvidenceRequest{
				Id: d.GetId(), EvidenceRequestId: toBuyer.GetEvidenceRequestId(), Evidence: []*commonv1.Evidence{photo("box")}})); err != nil {
				t.Fatal(err)
			}
			e.Advance(2*day - time.Second)
			got := m.get(d.GetId())
			if r := got.GetEvidenceRequests(); !r[1].GetFulfilled() || r[0].GetOverdue() {
				t.Fatalf("requests before due: %v", r)
			}
			e.Advance(time.Second)
			got = m.get(d.GetId())
			if r := got.GetEvidenceRequests()[0]; !r.GetOverdue() || r.GetFulfilled() || r.GetId() != toSupplier.GetEvidenceRequestId() {
				t.Fatalf("supplier's request after due: %v", r)
			}
			if n := events(t, e, "dispute.evidence_overdue", d.GetId()); n != 1 {
				t.Fatalf("overdue events = %d", n)
			}
			// Late evidence is kept, but the request stays overdue.
			late, err := m.supplier.Disputes.SubmitEvidence(e.Ctx, connect.NewRequest(&disputev1.SubmitEvidenceRequest{
				Id: d.GetId(), EvidenceRequestId: toSupplier.GetEvidenceRequestId(), Evidence: []*commonv1.Evidence{photo("late")}}))
			if err != nil {
				t.Fatal(err)
			}
			if r := late.Msg.GetDispute().GetEvidenceRequests()[0]; !r.GetOverdue() || len(r.GetEvidence()) != 1 {
				t.Fatalf("late evidence: %v", r)
			}
		})

		step("ruling refused", func(t *testing.T) {
			_, err := rule(m.buyer, partial, 100_00, supplierAt)
			servertest.WantError(t, err, connect.CodePermissionDenied, commonv1.ErrorReason_ERROR_REASON_ROLE_NOT_ALLOWED)
			_, err = rule(m.arbiter, partial, 155_01, supplierAt)
			servertest.WantError(t, err, connect.CodeFailedPrecondition, commonv1.ErrorReason_ERROR_REASON_AMOUNT_EXCEEDS_PAID)
			_, err = rule(m.arbiter, disputev1.Dispute_RESOLUTION_NO_REFUND, 100_00, supplierAt)
			servertest.WantError(t, err, connect.CodeInvalidArgument, commonv1.ErrorReason_ERROR_REASON_INVALID_FIELD)
		})
		// The order is only delivered, so the refund comes from escrow.
		step("ruling refunded from the escrow", func(t *testing.T) {
			ruled, err := rule(m.arbiter, partial, 100_00, supplierAt)
			if err != nil {
				t.Fatal(err)
			}
			wantState(t, ruled, disputev1.Dispute_STATE_RULED)
			s := ruled.GetSettlement()
			servertest.CheckFields(t, "dispute",
				servertest.Field{Name: "settlement.method", Got: s.GetMethod(), Want: disputev1.Settlement_METHOD_RULING},
				servertest.Field{Name: "settlement.refund_source", Got: s.GetRefundSource(), Want: disputev1.Settlement_REFUND_SOURCE_ESCROW},
				servertest.Field{Name: "settlement.inspection_fee_reimbursement", Got: s.GetInspectionFeeReimbursement().GetAmountMinor(), Want: int64(30_00)},
				servertest.Field{Name: "inspection.reimbursed", Got: ruled.GetInspection().GetReimbursed(), Want: true},
				servertest.Field{Name: "ruling.responsibility", Got: ruled.GetRuling().GetResponsibility(), Want: supplierAt})
			if n := transfers(t, e, ledger.CauseInspectionFee, d.GetId()); n != 1 {
				t.Fatalf("inspection fee transfers = %d", n)
			}
			if got := balance(t, e, ledger.Refunds, m.buyer.ID()); got != 130_00 {
				t.Fatalf("buyer refunds = %d, want 100.00 + 30.00 fee", got)
			}
			_, err = rule(m.arbiter, partial, 10_00, supplierAt)
			servertest.WantError(t, err, connect.CodeFailedPrecondition, commonv1.ErrorReason_ERROR_REASON_ILLEGAL_STATE)
		})

		// A completed order's escrow was released: a ruling is refunded by the platform and clawed back.
		step("ruling after the release claws back", func(t *testing.T) {
			c := m.completed(commonv1.Policy_POLICY_TRADE_ASSURANCE)
			available := balance(t, e, ledger.SupplierAvailable, m.supplier.ID())
			d2, err := m.escalate(m.supplier, m.reject(m.open(c), 10_00))
			if err != nil {
				t.Fatal(err)
			}
			d = d2
			ruled, err := rule(m.arbiter, partial, 40_00, disputev1.Dispute_RESPONSIBILITY_LOGISTICS)
			if err != nil {
				t.Fatal(err)
			}
			if ruled.GetSettlement().GetRefundSource() != disputev1.Settlement_REFUND_SOURCE_SUPPLIER_CLAWBACK {
				t.Fatalf("refund source = %v", ruled.GetSettlement().GetRefundSource())
			}
			if got := balance(t, e, ledger.SupplierAvailable, m.supplier.ID()); got != available-40_00 {
				t.Fatalf("supplier available = %d, want %d", got, available-40_00)
			}
		})

		// Metrics: the supplier's paid orders are the two disputed ones.
		step("supplier metrics", func(t *testing.T) {
			mr, err := m.supplier.Disputes.GetSupplierMetrics(e.Ctx, connect.NewRequest(&disputev1.GetSupplierMetricsRequest{SupplierAccountId: m.supplier.ID()}))
			if err != nil {
				t.Fatal(err)
			}
			mt := mr.Msg.GetMetrics()
			servertest.CheckFields(t, "metrics",
				servertest.Field{Name: "order_count", Got: mt.GetOrderCount(), Want: int64(2)},
				servertest.Field{Name: "dispute_count", Got: mt.GetDisputeCount(), Want: int64(2)},
				servertest.Field{Name: "dispute_rate", Got: mt.GetDisputeRate(), Want: 1.0},
				servertest.Field{Name: "seller_responsibility_count", Got: mt.GetSellerResponsibilityCount(), Want: int64(1)},
				servertest.Field{Name: "seller_responsibility_rate", Got: mt.GetSellerResponsibilityRate(), Want: 0.5},
				servertest.Field{Name: "escalated_count", Got: mt.GetEscalatedCount(), Want: int64(2)},
				servertest.Field{Name: "escalated_share", Got: mt.GetEscalatedShare(), Want: 1.0},
				servertest.Field{Name: "open_dispute_count", Got: mt.GetOpenDisputeCount(), Want: int64(0)})
			other := e.Supplier(1_000_00, false)
			_, err = other.Disputes.GetSupplierMetrics(e.Ctx, connect.NewRequest(&disputev1.GetSupplierMetricsRequest{SupplierAccountId: m.supplier.ID()}))
			servertest.WantError(t, err, connect.CodeNotFound, commonv1.ErrorReason_ERROR_REASON_NOT_FOUND)
			_, err = m.buyer.Disputes.GetSupplierMetrics(e.Ctx, connect.NewRequest(&disputev1.GetSupplierMetricsRequest{SupplierAccountId: m.supplier.ID()}))
			servertest.WantError(t, err, connect.CodePermissionDenied, commonv1.ErrorReason_ERROR_REASON_ROLE_NOT_ALLOWED)
			if _, err := m.arbiter.Disputes.GetSupplierMetrics(e.Ctx, connect.NewRequest(&disputev1.GetSupplierMetricsRequest{SupplierAccountId: m.supplier.ID()})); err != nil {
				t.Fatal(err)
			}
		})
	})
}

// TestSuspension checks both kinds of suspension stop the clocks and resumption restores the time left:
// the response deadline falls one second later than the remaining time, not before.
func TestSuspension(t *testing.T) {
	each(t, func(t *testing.T, e *servertest.Env) {
		m := newMarket(t, e)
		for _, tc := range []struct {
			pol      commonv1.Policy
			response time.Duration
		}{
			{commonv1.Policy_POLICY_TRADE_ASSURANCE, 3 * day},
			{commonv1.Policy_POLICY_RETAIL, 5 * day},
		} {
			t.Run(tc.pol.String(), func(t *testing.T) {
				d := m.open(m.delivered(tc.pol))
				e.Advance(day)
				suspend := func(p *servertest.Party, reason disputev1.Suspension_Reason, note string) (*disputev1.Dispute, error) {
					r, err := p.Disputes.SuspendDispute(e.Ctx, connect.NewRequest(&disputev1.SuspendDisputeRequest{Id: d.GetId(), Reason: reason, Note: note}))
					if err != nil {
						return nil, err
					}
					return r.Msg.GetDispute(), nil
				}
				private := disputev1.Suspension_REASON_PRIVATE_SETTLEMENT
				left := tc.response - day
				servertest.Step(t, "private settlement needs both parties", func(t *testing.T) {
					one, err := suspend(m.buyer, private, "")
					if err != nil {
						t.Fatal(err)
					}
					wantState(t, one, disputev1.Dispute_STATE_AWAITING_RESPONSE)
					if len(one.GetPrivateSettlementRequests()) != 1 {
						t.Fatalf("private settlement requests = %v", one.GetPrivateSettlementRequests())
					}
					_, err = suspend(m.buyer, private, "")
					servertest.WantError(t, err, connect.CodeFailedPrecondition, commonv1.ErrorReason_ERROR_REASON_ALREADY_OPEN)
					both, err := suspend(m.supplier, private, "talking on the phone")
					if err != nil {
						t.Fatal(err)
					}
					wantState(t, both, disputev1.Dispute_STATE_SUSPENDED)
					if got := both.GetSuspension().GetSupplierResponseRemaining().AsDuration(); got != left {
						t.Fatalf("suspension.supplier_response_remaining = %v, want %v", got, left)
					}
				})
				servertest.Step(t, "while suspended only evidence is taken", func(t *testing.T) {
					e.Advance(20 * day)
					wantState(t, m.get(d.GetId()), disputev1.Dispute_STATE_SUSPENDED)
					_, err := m.supplier.Disputes.RespondToDispute(e.Ctx, connect.NewRequest(&disputev1.RespondToDisputeRequest{
						Id: d.GetId(), Decision: disputev1.RespondToDisputeRequest_DECISION_ACCEPT}))
					servertest.WantError(t, err, connect.CodeFailedPrecondition, commonv1.ErrorReason_ERROR_REASON_ILLEGAL_STATE)
					// Evidence may still be submitted.
					if _, err := m.buyer.Disputes.SubmitEvidence(e.Ctx, connect.NewRequest(&disputev1.SubmitEvidenceRequest{
						Id: d.GetId(), Evidence: []*commonv1.Evidence{photo("more")}})); err != nil {
						t.Fatal(err)
					}
				})
				servertest.Step(t, "resumed with the time left", func(t *testing.T) {
					r, err := m.arbiter.Disputes.ResumeDispute(e.Ctx, connect.NewRequest(&disputev1.ResumeDisputeRequest{Id: d.GetId(), Note: "talks failed"}))
					if err != nil {
						t.Fatal(err)
					}
					resumed := r.Msg.GetDispute()
					wantState(t, resumed, disputev1.Dispute_STATE_AWAITING_RESPONSE)
					if want := e.Clock.Now().Add(left); !resumed.GetSupplierResponseDeadline().AsTime().Equal(want) {
						t.Fatalf("supplier_response_deadline after resuming = %v, want %v", resumed.GetSupplierResponseDeadline().AsTime(), want)
					}
				})
				// Court proceedings suspend at once, from either party.
				servertest.Step(t, "legal proceedings suspend at once", func(t *testing.T) {
					_, err := suspend(m.supplier, disputev1.Suspension_REASON_LEGAL_PROCEEDINGS, "")
					servertest.WantError(t, err, connect.CodeInvalidArgument, commonv1.ErrorReason_ERROR_REASON_INVALID_FIELD)
					e.Advance(time.Hour)
					legal, err := suspend(m.supplier, disputev1.Suspension_REASON_LEGAL_PROCEEDINGS, "District court case 12/2026")
					if err != nil {
						t.Fatal(err)
					}
					wantState(t, legal, disputev1.Dispute_STATE_SUSPENDED)
				})
				servertest.Step(t, "granted when the time left runs out", func(t *testing.T) {
					e.Advance(60 * day)
					_, err := m.buyer.Disputes.ResumeDispute(e.Ctx, connect.NewRequest(&disputev1.ResumeDisputeRequest{Id: d.GetId()}))
					if err != nil {
						t.Fatal(err)
					}
					left -= time.Hour
					e.Advance(left - time.Second)
					wantState(t, m.get(d.GetId()), disputev1.Dispute_STATE_AWAITING_RESPONSE)
					e.Advance(time.Second)
					wantState(t, m.get(d.GetId()), disputev1.Dispute_STATE_SETTLED)
					if n := events(t, e, "dispute.auto_granted", d.GetId()); n != 1 {
						t.Fatalf("auto_granted events = %d", n)
					}
				})
			})
		}
	})
}

// TestEvidenceDueAcrossSuspension checks the evidence deadline survives a suspension during which one of
// two requests is fulfilled: after resuming, the other request falls due with the time it had left — not
// one second before, overdue one second after — so the arbiter can rule.
func TestEvidenceDueAcrossSuspension(t *testing.T) {
	each(t, func(t *testing.T, e *servertest.Env) {
		m := newMarket(t, e)
		d := m.open(m.delivered(commonv1.Policy_POLICY_RETAIL))
		d, err := m.escalate(m.buyer, m.reject(d, 10_00))
		if err != nil {
			t.Fatal(err)
		}
		ask := func(from commonv1.Role, due time.Time) string {
			t.Helper()
			r, err := m.arbiter.Disputes.RequestEvidence(e.Ctx, connect.NewRequest(&disputev1.RequestEvidenceRequest{
				Id: d.GetId(), FromRole: from, Description: "photos of the packaging", DueTime: timestamppb.New(due)}))
			if err != nil {
				t.Fatal(err)
			}
			return r.Msg.GetEvidenceRequestId()
		}
		toBuyer := ask(commonv1.Role_ROLE_BUYER, e.Clock.Now().Add(day))
		toSupplier := ask(commonv1.Role_ROLE_SUPPLIER, e.Clock.Now().Add(2*day))
		e.Advance(time.Hour)
		if _, err := m.supplier.Disputes.SuspendDispute(e.Ctx, connect.NewRequest(&disputev1.SuspendDisputeRequest{
			Id: d.GetId(), Reason: disputev1.Suspension_REASON_LEGAL_PROCEEDINGS, Note: "District court case 7/2026"})); err != nil {
			t.Fatal(err)
		}
		// The buyer answers its request while the dispute is suspended.
		if _, err := m.buyer.Disputes.SubmitEvidence(e.Ctx, connect.NewRequest(&disputev1.SubmitEvidenceRequest{
			Id: d.GetId(), EvidenceRequestId: toBuyer, Evidence: []*commonv1.Evidence{photo("box")}})); err != nil {
			t.Fatal(err)
		}
		e.Advance(10 * day)
		if _, err := m.arbiter.Disputes.ResumeDispute(e.Ctx, connect.NewRequest(&disputev1.ResumeDisputeRequest{Id: d.GetId()})); err != nil {
			t.Fatal(err)
		}
		overdue := func() bool {
			t.Helper()
			for _, r := range m.get(d.GetId()).GetEvidenceRequests() {
				if r.GetId() == toSupplier {
					return r.GetOverdue()
				}
			}
			t.Fatalf("request %s is gone", toSupplier)
			return false
		}
		left := 2*day - time.Hour
		e.Advance(left - time.Second)
		if overdue() {
			t.Fatal("the supplier's request is overdue a second before its resumed due time")
		}
		e.Advance(time.Second)
		if !overdue() {
			t.Fatal("the supplier's request is not overdue a second after its resumed due time")
		}
		r, err := m.arbiter.Disputes.RuleDispute(e.Ctx, connect.NewRequest(&disputev1.RuleDisputeRequest{
			Id: d.GetId(), Resolution: disputev1.Dispute_RESOLUTION_PARTIAL_REFUND, RefundAmount: usd(50_00),
			Responsibility: disputev1.Dispute_RESPONSIBILITY_SUPPLIER, Note: "no packaging photos"}))
		if err != nil {
			t.Fatal(err)
		}
		wantState(t, r.Msg.GetDispute(), disputev1.Dispute_STATE_RULED)
		if o := m.order(d.GetOrderId()); o.GetEscrowHeld() {
			t.Fatal("the order's escrow is still held after the ruling")
		}
	})
}

// TestLateEvidenceRace checks that evidence sent for a request at its due time, before the deadline engine
// marked it overdue, does not fulfil it: the request is overdue (once) and counts against the party. One
// second before the due time the same submission fulfils its request.
func TestLateEvidenceRace(t *testing.T) {
	each(t, func(t *testing.T, e *servertest.Env) {
		m := newMarket(t, e)
		d := m.open(m.delivered(commonv1.Policy_POLICY_RETAIL))
		d, err := m.escalate(m.buyer, m.reject(d, 10_00))
		if err != nil {
			t.Fatal(err)
		}
		due := e.Clock.Now().Add(day)
		ask := func(from commonv1.Role) string {
			t.Helper()
			r, err := m.arbiter.Disputes.RequestEvidence(e.Ctx, connect.NewRequest(&disputev1.RequestEvidenceRequest{
				Id: d.GetId(), FromRole: from, Description: "photos of the packaging", DueTime: timestamppb.New(due)}))
			if err != nil {
				t.Fatal(err)
			}
			return r.Msg.GetEvidenceRequestId()
		}
		toBuyer, toSupplier := ask(commonv1.Role_ROLE_BUYER), ask(commonv1.Role_ROLE_SUPPLIER)
		submit := func(p *servertest.Party, reqID string) *disputev1.EvidenceRequest {
			t.Helper()
			r, err := p.Disputes.SubmitEvidence(e.Ctx, connect.NewRequest(&disputev1.SubmitEvidenceRequest{
				Id: d.GetId(), EvidenceRequestId: reqID, Evidence: []*commonv1.Evidence{photo("box")}}))
			if err != nil {
				t.Fatal(err)
			}
			for _, x := range r.Msg.GetDispute().GetEvidenceRequests() {
				if x.GetId() == reqID {
					return x
				}
			}
			t.Fatalf("request %s is gone", reqID)
			return nil
		}
		// The clock is set without running the deadline engine.
		e.Clock.Set(due.Add(-time.Second))
		if r := submit(m.buyer, toBuyer); !r.GetFulfilled() || r.GetOverdue() {
			t.Fatalf("one second before the due time: %v", r)
		}
		e.Clock.Set(due)
		if r := submit(m.supplier, toSupplier); r.GetFulfilled() || !r.GetOverdue() {
			t.Fatalf("at the due time: %v", r)
		}
		e.Advance(0)
		if n := events(t, e, "dispute.evidence_overdue", d.GetId()); n != 1 {
			t.Fatalf("overdue events = %d", n)
		}
	})
}
