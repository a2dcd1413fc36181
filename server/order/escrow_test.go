package order_test

import (
	"testing"

	"connectrpc.com/connect"

	"github.com/tradeassure/tradeassure/ent/ledgeraccount"
	orderv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/order/v1"
	"github.com/tradeassure/tradeassure/server/ledger"
	"github.com/tradeassure/tradeassure/server/servertest"
)

func balance(t *testing.T, e *servertest.Env, kind ledger.Kind, owner string) int64 {
	t.Helper()
	a, err := e.Store.Client.LedgerAccount.Get(e.Ctx, ledger.AccountID(kind, owner, "USD"))
	if err != nil {
		return 0
	}
	return a.BalanceMinor
}

func sumZero(t *testing.T, e *servertest.Env) {
	t.Helper()
	accts, err := e.Store.Client.LedgerAccount.Query().Where(ledgeraccount.Currency("USD")).All(e.Ctx)
	if err != nil {
		t.Fatal(err)
	}
	var sum int64
	for _, a := range accts {
		sum += a.BalanceMinor
	}
	if sum != 0 {
		t.Fatalf("USD accounts sum to %d", sum)
	}
}

// TestEscrowMoney checks payments land in escrow, completion releases it to the supplier less the 2%
// platform fee, a cancellation refunds everything paid, and every currency sums to zero.
func TestEscrowMoney(t *testing.T) {
	servertest.Each(t, func(t *testing.T, e *servertest.Env) {
		m := newMarket(t, e)
		o := m.paid(taPolicy, 10) // 155.00
		if got := balance(t, e, ledger.OrderEscrow, o.GetId()); got != 155_00 {
			t.Fatalf("escrow after payment = %d", got)
		}
		if got := balance(t, e, ledger.BuyerFunding, m.buyer.ID()); got != -155_00 {
			t.Fatalf("buyer funding = %d", got)
		}
		o = m.ship(o)
		resp, err := m.buyer.Orders.ConfirmReceipt(e.Ctx, connect.NewRequest(&orderv1.ConfirmReceiptRequest{OrderId: o.GetId()}))
		if err != nil {
			t.Fatal(err)
		}
		wantState(t, resp.Msg.GetOrder(), orderv1.Order_STATE_COMPLETED)
		if got := balance(t, e, ledger.OrderEscrow, o.GetId()); got != 0 {
			t.Fatalf("escrow after completion = %d", got)
		}
		if got := balance(t, e, ledger.SupplierAvailable, m.supplier.ID()); got != 155_00-3_10 {
			t.Fatalf("supplier available = %d, want %d", got, 155_00-3_10)
		}
		if got := balance(t, e, ledger.PlatformFees, ""); got != 3_10 {
			t.Fatalf("platform fees = %d", got)
		}
		c := m.paid(retailPolicy, 2) // 75.00
		if _, err := m.buyer.Orders.CancelOrder(e.Ctx, connect.NewRequest(&orderv1.CancelOrderRequest{
			OrderId: c.GetId(), Reason: orderv1.CancellationReason_CANCELLATION_REASON_BUYER,
		})); err != nil {
			t.Fatal(err)
		}
		if got := balance(t, e, ledger.Refunds, m.buyer.ID()); got != 75_00 {
			t.Fatalf("refunds = %d", got)
		}
		if got := balance(t, e, ledger.OrderEscrow, c.GetId()); got != 0 {
			t.Fatalf("cancelled escrow = %d", got)
		}
		sumZero(t, e)
	})
}
