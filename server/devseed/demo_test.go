package devseed_test

import (
	"testing"

	"connectrpc.com/connect"

	casev1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/case/v1"
	complaintv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/complaint/v1"
	disputev1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/dispute/v1"
	orderv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/order/v1"
	payoutv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/payout/v1"
	returnsv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/returns/v1"
	"github.com/tradeassure/tradeassure/server/devseed"
	"github.com/tradeassure/tradeassure/server/servertest"
)

// TestDemo seeds the demo on a fresh development server and checks each role finds its work, and that
// seeding again adds nothing.
func TestDemo(t *testing.T) {
	for _, engine := range servertest.Engines() {
		t.Run(engine, func(t *testing.T) {
			e := servertest.New(t, servertest.Options{Engine: engine, Dev: true})
			keys, err := devseed.Seed(e.Ctx, e.Store, e.Clock.Now())
			if err != nil {
				t.Fatal(err)
			}
			ids, err := devseed.Demo(e.Ctx, e.Server.Handler, keys, e.Server.Clock.Now)
			if err != nil {
				t.Fatal(err)
			}
			if len(ids) != len(devseed.DemoOrders) {
				t.Fatalf("demo made %d orders, want %d", len(ids), len(devseed.DemoOrders))
			}
			as := func(role string) *servertest.Party { return e.Clients(keys[role].APIKey) }
			buyer, supplier, operator, arbiter, warehouse := as("buyer"), as("supplier"), as("operator"), as("arbiter"), as("warehouse")

			states := map[orderv1.Order_State]int{}
			list, err := buyer.Orders.ListOrders(e.Ctx, connect.NewRequest(&orderv1.ListOrdersRequest{PageSize: 100}))
			if err != nil {
				t.Fatal(err)
			}
			for _, o := range list.Msg.GetOrders() {
				states[o.GetState()]++
			}
			for _, s := range []orderv1.Order_State{orderv1.Order_STATE_DRAFT, orderv1.Order_STATE_AWAITING_PAYMENT, orderv1.Order_STATE_PAID,
				orderv1.Order_STATE_SHIPPED, orderv1.Order_STATE_DELIVERED, orderv1.Order_STATE_COMPLETED, orderv1.Order_STATE_CANCELLED} {
				if states[s] == 0 {
					t.Errorf("no order is %v: %v", s, states)
				}
			}
			pays, err := operator.Orders.ListPayments(e.Ctx, connect.NewRequest(&orderv1.ListPaymentsRequest{OrderId: ids["tt_pending"]}))
			if err != nil || len(pays.Msg.GetPayments()) != 1 || pays.Msg.GetPayments()[0].GetState() != orderv1.Payment_STATE_PENDING {
				t.Errorf("no T/T payment awaits the operator: %v %v", pays, err)
			}
			rets, err := supplier.Returns.ListReturns(e.Ctx, connect.NewRequest(&returnsv1.ListReturnsRequest{State: returnsv1.Return_STATE_REQUESTED}))
			if err != nil || len(rets.Msg.GetReturns()) != 1 {
				t.Errorf("no return awaits the supplier: %v %v", rets, err)
			}
			inbox, err := warehouse.Returns.ListReturns(e.Ctx, connect.NewRequest(&returnsv1.ListReturnsRequest{State: returnsv1.Return_STATE_SHIPPED}))
			if err != nil || len(inbox.Msg.GetReturns()) != 1 {
				t.Errorf("no free return is on its way to the warehouse: %v %v", inbox, err)
			}
			awaiting, err := supplier.Disputes.ListDisputes(e.Ctx, connect.NewRequest(&disputev1.ListDisputesRequest{State: disputev1.Dispute_STATE_AWAITING_RESPONSE}))
			if err != nil || len(awaiting.Msg.GetDisputes()) != 1 {
				t.Errorf("no dispute awaits the supplier: %v %v", awaiting, err)
			}
			escalated, err := arbiter.Disputes.ListDisputes(e.Ctx, connect.NewRequest(&disputev1.ListDisputesRequest{State: disputev1.Dispute_STATE_ESCALATED}))
			if err != nil || len(escalated.Msg.GetDisputes()) != 1 {
				t.Errorf("no escalated dispute awaits the arbiter: %v %v", escalated, err)
			}
			queue, err := arbiter.Complaints.ListComplaintQueue(e.Ctx, connect.NewRequest(&complaintv1.ListComplaintQueueRequest{}))
			if err != nil || len(queue.Msg.GetComplaints()) != 1 {
				t.Errorf("no complaint awaits the arbiter: %v %v", queue, err)
			}
			bal, err := supplier.Payouts.GetBalance(e.Ctx, connect.NewRequest(&payoutv1.GetBalanceRequest{SupplierAccountId: keys["supplier"].AccountID}))
			if err != nil || len(bal.Msg.GetBalance().GetBalances()) == 0 || bal.Msg.GetBalance().GetBalances()[0].GetAvailable().GetAmountMinor() <= 0 {
				t.Errorf("the supplier has no available balance: %v %v", bal, err)
			}
			wds, err := operator.Payouts.ListWithdrawals(e.Ctx, connect.NewRequest(&payoutv1.ListWithdrawalsRequest{}))
			if err != nil || len(wds.Msg.GetWithdrawals()) != 1 {
				t.Errorf("no withdrawal awaits the operator: %v %v", wds, err)
			}
			tl, err := buyer.Cases.ListCaseTimeline(e.Ctx, connect.NewRequest(&casev1.ListCaseTimelineRequest{OrderId: ids["dispute_escalated"]}))
			if err != nil || len(tl.Msg.GetSteps()) < 8 {
				t.Errorf("the escalated dispute's case is thin: %v %v", tl, err)
			}

			again, err := devseed.Demo(e.Ctx, e.Server.Handler, keys, e.Server.Clock.Now)
			if err != nil || again != nil {
				t.Fatalf("second demo: %v, %v", again, err)
			}
		})
	}
}
