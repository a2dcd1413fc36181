package complaint_test

import (
	"testing"
	"time"

	"connectrpc.com/connect"

	"github.com/tradeassure/tradeassure/ent/account"
	commonv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/common/v1"
	complaintv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/complaint/v1"
	disputev1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/dispute/v1"
	orderv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/order/v1"
	returnsv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/returns/v1"
	"github.com/tradeassure/tradeassure/server/servertest"
)

// TestRestrictedBuyerKeepsAfterSalesRights restricts a buyer by an upheld false-transaction complaint for
// longer than the 7-day return window of the orders it already has. While restricted it cannot create,
// accept or pay orders (ACCOUNT_RESTRICTED), but it keeps its after-sales rights on those orders: it opens
// a dispute, requests a return in the last second of the return window, confirms receipt, files a
// complaint and ships an approved return. One second after the window the return is refused for the window
// (WINDOW_CLOSED), not for the restriction. A ban then leaves only reads.
func TestRestrictedBuyerKeepsAfterSalesRights(t *testing.T) {
	servertest.Each(t, func(t *testing.T, e *servertest.Env) {
		m := newMarket(t, e)
		ta := commonv1.Policy_POLICY_TRADE_ASSURANCE
		forDispute, forReturn, forConfirm, forLateReturn := m.delivered(ta), m.delivered(ta), m.delivered(ta), m.delivered(ta)
		forComplaint := m.completed(ta)
		forBanned := m.delivered(ta)
		awaiting, draft := m.awaiting(ta), m.draft(ta)
		// A return approved before the restriction, for the buyer to ship during it.
		shipping := m.delivered(ta)
		ret, err := m.buyer.Returns.CreateReturn(e.Ctx, connect.NewRequest(&returnsv1.CreateReturnRequest{
			OrderId: shipping.GetId(), Reason: returnsv1.Return_REASON_CHANGED_MIND, Description: "no longer needed"}))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := m.supplier.Returns.ApproveReturn(e.Ctx, connect.NewRequest(&returnsv1.ApproveReturnRequest{
			Id: ret.Msg.GetReturn().GetId(), ReturnAddress: m.terms(1).GetShippingAddress()})); err != nil {
			t.Fatal(err)
		}

		windowEnd := forReturn.GetDeliverTime().AsTime().Add(7 * day)
		until := windowEnd.Add(3 * day)
		cp := m.file(m.supplier, m.cancelled(ta), complaintv1.Complaint_TYPE_FALSE_TRANSACTION)
		if _, err := m.decide(cp, complaintv1.Decision_OUTCOME_UPHELD, restriction(until)); err != nil {
			t.Fatal(err)
		}
		e.SetTime(windowEnd.Add(-time.Second))
		if st := m.standing(m.buyer); st.GetState() != complaintv1.AccountStanding_STATE_RESTRICTED {
			t.Fatalf("standing = %v", st)
		}

		trading := []struct {
			name string
			call func() error
		}{
			{"create an order", func() error {
				_, err := m.buyer.Orders.CreateOrder(e.Ctx, connect.NewRequest(&orderv1.CreateOrderRequest{
					Policy: ta, SupplierId: m.supplier.ID(), Terms: m.terms(1)}))
				return err
			}},
			{"accept an order", func() error {
				_, err := m.buyer.Orders.AcceptOrder(e.Ctx, connect.NewRequest(&orderv1.AcceptOrderRequest{OrderId: draft.GetId()}))
				return err
			}},
			{"pay an order", func() error {
				_, err := m.buyer.Orders.PayOrder(e.Ctx, connect.NewRequest(&orderv1.PayOrderRequest{
					OrderId: awaiting.GetId(), Method: orderv1.PaymentMethod_PAYMENT_METHOD_CARD, CardToken: "tok_4242"}))
				return err
			}},
		}
		for _, c := range trading {
			t.Run("restricted cannot "+c.name, func(t *testing.T) {
				servertest.WantError(t, c.call(), connect.CodePermissionDenied, commonv1.ErrorReason_ERROR_REASON_ACCOUNT_RESTRICTED)
			})
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
		afterSales := []struct {
			name string
			call func() error
		}{
			{"open a dispute", func() error { return openDispute(forDispute) }},
			{"request a return in the last second of the window", func() error { return createReturn(forReturn) }},
			{"confirm receipt", func() error {
				_, err := m.buyer.Orders.ConfirmReceipt(e.Ctx, connect.NewRequest(&orderv1.ConfirmReceiptRequest{OrderId: forConfirm.GetId()}))
				return err
			}},
			{"file a complaint", func() error {
				_, err := m.buyer.Complaints.FileComplaint(e.Ctx, connect.NewRequest(fileReq(forComplaint, complaintv1.Complaint_TYPE_SERVICE_FAILURE,
					evidence(required[complaintv1.Complaint_TYPE_SERVICE_FAILURE]...))))
				return err
			}},
			{"ship an approved return", func() error {
				_, err := m.buyer.Returns.ShipReturn(e.Ctx, connect.NewRequest(&returnsv1.ShipReturnRequest{
					Id: ret.Msg.GetReturn().GetId(), Carrier: "UPS", TrackingNumber: "1Z999"}))
				return err
			}},
		}
		for _, c := range afterSales {
			t.Run("restricted may "+c.name, func(t *testing.T) {
				if err := c.call(); err != nil {
					t.Fatalf("refused: %v", err)
				}
			})
		}

		// Just after the window the return is refused for the window, while the buyer is still restricted.
		e.Advance(2 * time.Second)
		servertest.WantError(t, createReturn(forLateReturn), connect.CodeFailedPrecondition, commonv1.ErrorReason_ERROR_REASON_WINDOW_CLOSED)

		// A ban leaves only reads.
		if err := e.Store.Client.Account.UpdateOneID(m.buyer.ID()).SetStanding(account.StandingBanned).ClearRestrictedUntil().Exec(e.Ctx); err != nil {
			t.Fatal(err)
		}
		for _, c := range []struct {
			name string
			err  error
		}{
			{"open a dispute", openDispute(forBanned)},
			{"request a return", createReturn(forBanned)},
		} {
			t.Run("banned cannot "+c.name, func(t *testing.T) {
				servertest.WantError(t, c.err, connect.CodePermissionDenied, commonv1.ErrorReason_ERROR_REASON_ACCOUNT_BANNED)
			})
		}
		if _, err := m.buyer.Orders.GetOrder(e.Ctx, connect.NewRequest(&orderv1.GetOrderRequest{OrderId: forBanned.GetId()})); err != nil {
			t.Fatalf("a banned buyer cannot read its order: %v", err)
		}
	})
}
