package complaint_test

import (
	"testing"
	"time"

	"connectrpc.com/connect"

	commonv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/common/v1"
	complaintv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/complaint/v1"
	disputev1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/dispute/v1"
	orderv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/order/v1"
	returnsv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/returns/v1"
	"github.com/tradeassure/tradeassure/server/servertest"
)

// TestRestrictionEnforcedByAfterSales restricts a buyer: the Disputes and Returns services refuse it new
// disputes and returns with ACCOUNT_RESTRICTED until the restriction ends, and serve it again after.
func TestRestrictionEnforcedByAfterSales(t *testing.T) {
	one(t, func(t *testing.T, e *servertest.Env) {
		m := newMarket(t, e)
		forDispute := m.delivered(commonv1.Policy_POLICY_TRADE_ASSURANCE)
		forReturn := m.delivered(commonv1.Policy_POLICY_TRADE_ASSURANCE)
		cp := m.file(m.supplier, m.cancelled(commonv1.Policy_POLICY_TRADE_ASSURANCE), complaintv1.Complaint_TYPE_FALSE_TRANSACTION)
		until := e.Clock.Now().Add(3 * day)
		if _, err := m.decide(cp, complaintv1.Decision_OUTCOME_UPHELD, restriction(until)); err != nil {
			t.Fatal(err)
		}
		openDispute := func(o *orderv1.Order) error {
			_, err := m.buyer.Disputes.OpenDispute(e.Ctx, connect.NewRequest(&disputev1.OpenDisputeRequest{
				OrderId: o.GetId(), Reason: disputev1.Dispute_REASON_DAMAGED, Description: "arrived broken",
				Requested: &disputev1.OfferTerms{Resolution: disputev1.Dispute_RESOLUTION_FULL_REFUND},
				Evidence:  evidence(commonv1.EvidenceKind_EVIDENCE_KIND_PRODUCT_PHOTO),
			}))
			return err
		}
		createReturn := func(o *orderv1.Order) error {
			_, err := m.buyer.Returns.CreateReturn(e.Ctx, connect.NewRequest(&returnsv1.CreateReturnRequest{
				OrderId: o.GetId(), Reason: returnsv1.Return_REASON_CHANGED_MIND, Description: "no longer needed",
			}))
			return err
		}
		e.SetTime(until.Add(-time.Second))
		servertest.WantError(t, openDispute(forDispute), connect.CodePermissionDenied, commonv1.ErrorReason_ERROR_REASON_ACCOUNT_RESTRICTED)
		servertest.WantError(t, createReturn(forReturn), connect.CodePermissionDenied, commonv1.ErrorReason_ERROR_REASON_ACCOUNT_RESTRICTED)
		e.Advance(2 * time.Second)
		if err := openDispute(forDispute); err != nil {
			t.Fatalf("open a dispute after the restriction: %v", err)
		}
		if err := createReturn(forReturn); err != nil {
			t.Fatalf("request a return after the restriction: %v", err)
		}
	})
}
