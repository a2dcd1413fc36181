package returns_test

import (
	"testing"

	"connectrpc.com/connect"

	commonv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/common/v1"
	disputev1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/dispute/v1"
	returnsv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/returns/v1"
	"github.com/tradeassure/tradeassure/server/servertest"
)

// TestOneCaseAtATime checks an order has one buyer after-sales case running at a time: no dispute while a
// return runs, and no return while a dispute runs; once the return is declined the buyer can dispute it.
func TestOneCaseAtATime(t *testing.T) {
	servertest.Each(t, func(t *testing.T, e *servertest.Env) {
		m := newMarket(t, e)
		o := m.delivered(commonv1.Policy_POLICY_RETAIL)
		r := m.create(request(o.GetId()))
		dispute := &disputev1.OpenDisputeRequest{
			OrderId: o.GetId(), Reason: disputev1.Dispute_REASON_QUALITY_PROBLEM, Description: "the finish peels off",
			Requested: &disputev1.OfferTerms{Resolution: disputev1.Dispute_RESOLUTION_FULL_REFUND}, Evidence: photo,
		}
		_, err := m.buyer.Disputes.OpenDispute(e.Ctx, connect.NewRequest(dispute))
		servertest.WantError(t, err, connect.CodeFailedPrecondition, commonv1.ErrorReason_ERROR_REASON_ALREADY_OPEN)

		if _, err := m.supplier.Returns.DeclineReturn(e.Ctx, connect.NewRequest(&returnsv1.DeclineReturnRequest{Id: r.GetId(),
			Reason: returnsv1.Return_DECLINE_REASON_GOODS_AS_DESCRIBED, Note: "the photos show the listed finish"})); err != nil {
			t.Fatalf("decline: %v", err)
		}
		dispute.RelatedReturnId = r.GetId()
		if _, err := m.buyer.Disputes.OpenDispute(e.Ctx, connect.NewRequest(dispute)); err != nil {
			t.Fatalf("dispute after the decline: %v", err)
		}
		_, err = m.buyer.Returns.CreateReturn(e.Ctx, connect.NewRequest(request(o.GetId())))
		servertest.WantError(t, err, connect.CodeFailedPrecondition, commonv1.ErrorReason_ERROR_REASON_ALREADY_OPEN)
	})
}
