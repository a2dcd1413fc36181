package order_test

import (
	"testing"
	"time"

	"connectrpc.com/connect"

	"github.com/tradeassure/tradeassure/ent/account"
	adminv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/admin/v1"
	commonv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/common/v1"
	orderv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/order/v1"
	"github.com/tradeassure/tradeassure/server/servertest"
)

// TestChangeNeedsBothParties checks a confirmed order changes only when the other party accepts the
// proposal, that a party cannot accept its own, that one proposal is open at a time, and that a rejected
// proposal leaves the order as it stood.
func TestChangeNeedsBothParties(t *testing.T) {
	servertest.Each(t, func(t *testing.T, e *servertest.Env) {
		m := newMarket(t, e)
		o := m.paid(taPolicy, 10) // 155.00 paid in full
		// In PAID, the total must stay at what was paid: change the address and a line's quantity at a
		// lower unit price that keeps the total.
		tm := clone(o.GetTerms())
		tm.ShippingAddress.Lines = []string{"2 Harbour Rd"}
		tm.Lines[0].Quantity = 20
		tm.Lines[0].UnitPriceMinor = 5_00
		prop, err := m.supplier.Orders.ProposeOrderChange(e.Ctx, connect.NewRequest(&orderv1.ProposeOrderChangeRequest{
			OrderId: o.GetId(), Etag: o.GetEtag(), Terms: tm, Note: "bulk discount",
		}))
		if err != nil {
			t.Fatalf("propose: %v", err)
		}
		pc := prop.Msg.GetOrder().GetPendingChange()
		if pc.GetProposedBy().GetAccountId() != m.supplier.ID() {
			t.Fatalf("pending change = %v", pc)
		}
		// Proposing does not change the terms.
		if got := m.get(o.GetId()).GetTerms().GetShippingAddress().GetLines()[0]; got != "1 Main St" {
			t.Fatalf("address changed before acceptance: %q", got)
		}
		_, err = m.supplier.Orders.AcceptOrderChange(e.Ctx, connect.NewRequest(&orderv1.AcceptOrderChangeRequest{OrderId: o.GetId(), ProposalId: pc.GetId()}))
		servertest.WantError(t, err, connect.CodePermissionDenied, commonv1.ErrorReason_ERROR_REASON_OWN_PROPOSAL)
		_, err = m.buyer.Orders.ProposeOrderChange(e.Ctx, connect.NewRequest(&orderv1.ProposeOrderChangeRequest{OrderId: o.GetId(), Terms: tm}))
		servertest.WantError(t, err, connect.CodeFailedPrecondition, commonv1.ErrorReason_ERROR_REASON_CHANGE_PROPOSAL_CONFLICT)
		_, err = m.buyer.Orders.AcceptOrderChange(e.Ctx, connect.NewRequest(&orderv1.AcceptOrderChangeRequest{OrderId: o.GetId(), ProposalId: "chg_other"}))
		servertest.WantError(t, err, connect.CodeFailedPrecondition, commonv1.ErrorReason_ERROR_REASON_CHANGE_PROPOSAL_CONFLICT)
		acc, err := m.buyer.Orders.AcceptOrderChange(e.Ctx, connect.NewRequest(&orderv1.AcceptOrderChangeRequest{OrderId: o.GetId(), ProposalId: pc.GetId()}))
		if err != nil {
			t.Fatalf("accept change: %v", err)
		}
		got := acc.Msg.GetOrder()
		if got.GetPendingChange() != nil || got.GetTerms().GetShippingAddress().GetLines()[0] != "2 Harbour Rd" || got.GetTerms().GetLines()[0].GetQuantity() != 20 {
			t.Fatalf("changed order = %v", got)
		}
		// A change that would alter what a fully paid order costs is refused.
		tm2 := clone(got.GetTerms())
		tm2.Lines[0].Quantity = 21
		_, err = m.buyer.Orders.ProposeOrderChange(e.Ctx, connect.NewRequest(&orderv1.ProposeOrderChangeRequest{OrderId: o.GetId(), Terms: tm2}))
		servertest.WantError(t, err, connect.CodeInvalidArgument, commonv1.ErrorReason_ERROR_REASON_AMOUNT_EXCEEDS_PAID)
		// A rejected proposal leaves the order as it stood; the proposer may also withdraw.
		tm3 := clone(got.GetTerms())
		tm3.Remark = "new remark"
		p2, err := m.buyer.Orders.ProposeOrderChange(e.Ctx, connect.NewRequest(&orderv1.ProposeOrderChangeRequest{OrderId: o.GetId(), Terms: tm3}))
		if err != nil {
			t.Fatalf("propose 2: %v", err)
		}
		rej, err := m.supplier.Orders.RejectOrderChange(e.Ctx, connect.NewRequest(&orderv1.RejectOrderChangeRequest{
			OrderId: o.GetId(), ProposalId: p2.Msg.GetOrder().GetPendingChange().GetId(), Note: "no",
		}))
		if err != nil || rej.Msg.GetOrder().GetPendingChange() != nil || rej.Msg.GetOrder().GetTerms().GetRemark() == "new remark" {
			t.Fatalf("reject: %v %v", rej, err)
		}
		// After shipment, no change can be proposed.
		shipped := m.ship(m.get(o.GetId()))
		_, err = m.buyer.Orders.ProposeOrderChange(e.Ctx, connect.NewRequest(&orderv1.ProposeOrderChangeRequest{OrderId: shipped.GetId(), Terms: tm3}))
		servertest.WantError(t, err, connect.CodeFailedPrecondition, commonv1.ErrorReason_ERROR_REASON_ILLEGAL_STATE)
	})
}

// TestChangeBeforePayment checks an unpaid confirmed order can change its total by agreement, within the
// supplier's limit.
func TestChangeBeforePayment(t *testing.T) {
	servertest.Each(t, func(t *testing.T, e *servertest.Env) {
		m := newMarket(t, e)
		o := m.accept(m.draft(taPolicy, m.terms(10)))
		prop, err := m.buyer.Orders.ProposeOrderChange(e.Ctx, connect.NewRequest(&orderv1.ProposeOrderChangeRequest{OrderId: o.GetId(), Terms: m.terms(20)}))
		if err != nil {
			t.Fatalf("propose: %v", err)
		}
		acc, err := m.supplier.Orders.AcceptOrderChange(e.Ctx, connect.NewRequest(&orderv1.AcceptOrderChangeRequest{
			OrderId: o.GetId(), ProposalId: prop.Msg.GetOrder().GetPendingChange().GetId(),
		}))
		if err != nil || acc.Msg.GetOrder().GetAmounts().GetTotal().GetAmountMinor() != 20*10_00+55_00 {
			t.Fatalf("accept: %v %v", acc, err)
		}
		_, err = m.buyer.Orders.ProposeOrderChange(e.Ctx, connect.NewRequest(&orderv1.ProposeOrderChangeRequest{OrderId: o.GetId(), Terms: m.terms(10_000)}))
		servertest.WantError(t, err, connect.CodeFailedPrecondition, commonv1.ErrorReason_ERROR_REASON_TRADE_ASSURANCE_LIMIT_EXCEEDED)
		// Drafts are edited, not changed by proposal.
		d := m.draft(taPolicy, m.terms(1))
		_, err = m.buyer.Orders.ProposeOrderChange(e.Ctx, connect.NewRequest(&orderv1.ProposeOrderChangeRequest{OrderId: d.GetId(), Terms: m.terms(2)}))
		servertest.WantError(t, err, connect.CodeFailedPrecondition, commonv1.ErrorReason_ERROR_REASON_ILLEGAL_STATE)
	})
}

// TestLogisticsChangeOnlyBeforeShipment checks the buyer may change the logistics provider before shipment
// and never after.
func TestLogisticsChangeOnlyBeforeShipment(t *testing.T) {
	servertest.Each(t, func(t *testing.T, e *servertest.Env) {
		m := newMarket(t, e)
		o := m.paid(retailPolicy, 2)
		resp, err := m.buyer.Orders.ChangeLogisticsProvider(e.Ctx, connect.NewRequest(&orderv1.ChangeLogisticsProviderRequest{
			OrderId: o.GetId(), Etag: o.GetEtag(), LogisticsProvider: "FedEx",
		}))
		if err != nil || resp.Msg.GetOrder().GetTerms().GetLogisticsProvider() != "FedEx" {
			t.Fatalf("change: %v %v", resp, err)
		}
		_, err = m.supplier.Orders.ChangeLogisticsProvider(e.Ctx, connect.NewRequest(&orderv1.ChangeLogisticsProviderRequest{OrderId: o.GetId(), LogisticsProvider: "UPS"}))
		servertest.WantError(t, err, connect.CodePermissionDenied, commonv1.ErrorReason_ERROR_REASON_ROLE_NOT_ALLOWED)
		m.ship(resp.Msg.GetOrder())
		_, err = m.buyer.Orders.ChangeLogisticsProvider(e.Ctx, connect.NewRequest(&orderv1.ChangeLogisticsProviderRequest{OrderId: o.GetId(), LogisticsProvider: "UPS"}))
		servertest.WantError(t, err, connect.CodeFailedPrecondition, commonv1.ErrorReason_ERROR_REASON_ALREADY_SHIPPED)
	})
}

// TestCancellation checks buyer-reason cancellation, the ship-by rule for supplier-reason cancellation by
// the buyer (refused at the ship-by time, allowed a second after), the full refund, and sold-not-shipped.
func TestCancellation(t *testing.T) {
	servertest.Each(t, func(t *testing.T, e *servertest.Env) {
		m := newMarket(t, e)
		cancel := func(p *servertest.Party, o *orderv1.Order, r orderv1.CancellationReason) (*orderv1.Order, error) {
			resp, err := p.Orders.CancelOrder(e.Ctx, connect.NewRequest(&orderv1.CancelOrderRequest{OrderId: o.GetId(), Reason: r, Note: "test"}))
			if err != nil {
				return nil, err
			}
			return resp.Msg.GetOrder(), nil
		}
		buyerReason := orderv1.CancellationReason_CANCELLATION_REASON_BUYER
		supplierReason := orderv1.CancellationReason_CANCELLATION_REASON_SUPPLIER

		o := m.paid(taPolicy, 10)
		c, err := cancel(m.buyer, o, buyerReason)
		if err != nil {
			t.Fatalf("buyer cancel: %v", err)
		}
		wantState(t, c, orderv1.Order_STATE_CANCELLED)
		if c.GetCancellation().GetRefund().GetAmountMinor() != 155_00 || c.GetRefunded().GetAmountMinor() != 155_00 {
			t.Fatalf("refund = %v / %v", c.GetCancellation().GetRefund(), c.GetRefunded())
		}

		late := m.paid(taPolicy, 10)
		shipBy := late.GetTerms().GetShipByTime().AsTime()
		e.SetTime(shipBy)
		_, err = cancel(m.buyer, late, supplierReason)
		servertest.WantError(t, err, connect.CodeFailedPrecondition, commonv1.ErrorReason_ERROR_REASON_CANCELLATION_NOT_ALLOWED)
		e.Advance(time.Second)
		c, err = cancel(m.buyer, late, supplierReason)
		if err != nil {
			t.Fatalf("buyer cancel after ship-by: %v", err)
		}
		if c.GetCancellation().GetReason() != supplierReason {
			t.Fatalf("cancellation = %v", c.GetCancellation())
		}
		// The supplier's own cancellation is always a supplier reason.
		o3 := m.paid(taPolicy, 1)
		_, err = cancel(m.supplier, o3, buyerReason)
		servertest.WantError(t, err, connect.CodeInvalidArgument, commonv1.ErrorReason_ERROR_REASON_CANCELLATION_NOT_ALLOWED)
		if _, err := cancel(m.supplier, o3, supplierReason); err != nil {
			t.Fatalf("supplier cancel: %v", err)
		}
		acct, err := m.operator.Admin.GetAccount(e.Ctx, connect.NewRequest(&adminv1.GetAccountRequest{AccountId: m.supplier.ID()}))
		if err != nil || acct.Msg.GetAccount().GetSupplier().GetSoldNotShippedCount() != 2 {
			t.Fatalf("sold-not-shipped = %v %v", acct.Msg.GetAccount().GetSupplier(), err)
		}
		// A shipped order cannot be cancelled.
		shipped := m.ship(m.paid(taPolicy, 1))
		_, err = cancel(m.buyer, shipped, buyerReason)
		servertest.WantError(t, err, connect.CodeFailedPrecondition, commonv1.ErrorReason_ERROR_REASON_ILLEGAL_STATE)
	})
}

// TestSoldNotShippedFreezes checks the supplier's account is frozen at the policy's sold-not-shipped
// threshold (10), not before, and that a frozen supplier cannot draft.
func TestSoldNotShippedFreezes(t *testing.T) {
	servertest.Each(t, func(t *testing.T, e *servertest.Env) {
		m := newMarket(t, e)
		for i := 1; i <= 10; i++ {
			o := m.accept(m.draft(retailPolicy, m.terms(1)))
			if _, err := m.supplier.Orders.CancelOrder(e.Ctx, connect.NewRequest(&orderv1.CancelOrderRequest{
				OrderId: o.GetId(), Reason: orderv1.CancellationReason_CANCELLATION_REASON_SUPPLIER,
			})); err != nil {
				t.Fatalf("cancel %d: %v", i, err)
			}
			a, err := e.Store.Client.Account.Query().Where(account.ID(m.supplier.ID())).Only(e.Ctx)
			if err != nil {
				t.Fatal(err)
			}
			if a.Frozen != (i >= 10) {
				t.Fatalf("after %d sold-not-shipped, frozen = %v", i, a.Frozen)
			}
		}
		_, err := m.supplier.Orders.CreateOrder(e.Ctx, connect.NewRequest(m.createReq(retailPolicy, m.terms(1))))
		servertest.WantError(t, err, connect.CodePermissionDenied, commonv1.ErrorReason_ERROR_REASON_ACCOUNT_FROZEN)
	})
}
