package payout_test

import (
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/tradeassure/tradeassure/ent"
	commonv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/common/v1"
	orderv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/order/v1"
	payoutv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/payout/v1"
	"github.com/tradeassure/tradeassure/server/auth"
	"github.com/tradeassure/tradeassure/server/ledger"
	"github.com/tradeassure/tradeassure/server/order"
	"github.com/tradeassure/tradeassure/server/servertest"
)

const day = 24 * time.Hour

var (
	taPolicy     = commonv1.Policy_POLICY_TRADE_ASSURANCE
	retailPolicy = commonv1.Policy_POLICY_RETAIL
)

// market is a marketplace on one test server: a US buyer, a supplier with a 100,000 USD limit, an operator,
// and a 10.00 USD product.
type market struct {
	t        testing.TB
	e        *servertest.Env
	buyer    *servertest.Party
	supplier *servertest.Party
	operator *servertest.Party
	product  string
}

func newMarket(t testing.TB, e *servertest.Env) *market {
	m := &market{t: t, e: e}
	m.buyer = e.Buyer("US")
	m.supplier = e.Supplier(1_000_000_00, true)
	m.operator = e.Staff(commonv1.Role_ROLE_OPERATOR)
	m.product = e.Product(m.supplier, "Widget", 10_00, "USD")
	return m
}

// terms are quantity × 10.00 USD plus 50.00 shipping and 5.00 insurance, full payment, FCA by air.
func (m *market) terms(quantity int64) *orderv1.OrderTerms {
	return &orderv1.OrderTerms{
		Lines:             []*orderv1.OrderLine{{ProductId: m.product, Quantity: quantity}},
		Currency:          "USD",
		ShippingFeeMinor:  50_00,
		InsuranceFeeMinor: 5_00,
		ShippingAddress: &commonv1.Address{
			RecipientName: "Acme Receiving", Phone: "+1 555 0100", Country: "US", Lines: []string{"1 Main St"},
			City: "Springfield", PostalCode: "12345",
		},
		TradeTerm:      orderv1.TradeTerm_TRADE_TERM_FCA,
		ShippingMethod: orderv1.ShippingMethod_SHIPPING_METHOD_AIR,
		PaymentTerms:   &orderv1.PaymentTerms{Kind: orderv1.PaymentTerms_KIND_FULL},
		CoverageType:   orderv1.CoverageType_COVERAGE_TYPE_POST_DELIVERY,
		ShipByTime:     timestamppb.New(m.e.Clock.Now().Add(14 * day)),
	}
}

// must returns v, failing the test when err is set: must(call())(t).
func must[T any](v T, err error) func(testing.TB) T {
	return func(t testing.TB) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

// paid returns a card-paid order: quantity × 10.00 + 55.00.
func (m *market) paid(pol commonv1.Policy, quantity int64) *orderv1.Order {
	m.t.Helper()
	ctx := m.e.Ctx
	o := must(m.supplier.Orders.CreateOrder(ctx, connect.NewRequest(&orderv1.CreateOrderRequest{
		Policy: pol, BuyerEmail: m.buyer.Account.Email, Terms: m.terms(quantity)})))(m.t).Msg.GetOrder()
	o = must(m.buyer.Orders.AcceptOrder(ctx, connect.NewRequest(&orderv1.AcceptOrderRequest{OrderId: o.GetId()})))(m.t).Msg.GetOrder()
	return must(m.buyer.Orders.PayOrder(ctx, connect.NewRequest(&orderv1.PayOrderRequest{
		OrderId: o.GetId(), Method: orderv1.PaymentMethod_PAYMENT_METHOD_CARD, CardToken: "tok_4242"})))(m.t).Msg.GetOrder()
}

// completed returns an order whose escrow was released to the supplier (the buyer confirmed receipt).
func (m *market) completed(pol commonv1.Policy, quantity int64) *orderv1.Order {
	m.t.Helper()
	o := m.paid(pol, quantity)
	ctx := m.e.Ctx
	must(m.supplier.Orders.ShipOrder(ctx, connect.NewRequest(&orderv1.ShipOrderRequest{
		OrderId: o.GetId(), Carrier: "DHL", TrackingNumber: "JD0001"})))(m.t)
	return must(m.buyer.Orders.ConfirmReceipt(ctx, connect.NewRequest(&orderv1.ConfirmReceiptRequest{OrderId: o.GetId()})))(m.t).Msg.GetOrder()
}

// refund pays the buyer back through the order service's escrow, as a dispute or return would.
func (m *market) refund(orderID string, amount int64, cause string) order.RefundResult {
	m.t.Helper()
	var res order.RefundResult
	err := m.e.Store.WithTx(m.e.Ctx, func(tx *ent.Tx) error {
		var err error
		res, err = m.e.Server.Orders.Refund(m.e.Ctx, tx, order.RefundRequest{
			OrderID: orderID, AmountMinor: amount, CauseKind: ledger.CauseDisputeRefund, CauseID: cause,
			Links: ledger.Links{DisputeID: cause}, Actor: auth.System, Now: m.e.Clock.Now(),
		})
		return err
	})
	if err != nil {
		m.t.Fatalf("refund %s: %v", orderID, err)
	}
	return res
}

var reqSeq atomic.Int64

func reqID() string { return fmt.Sprintf("req-%d", reqSeq.Add(1)) }

func usd(n int64) *commonv1.Money { return &commonv1.Money{AmountMinor: n, Currency: "USD"} }

func (m *market) withdraw(p *servertest.Party, amount int64) (*payoutv1.Withdrawal, error) {
	resp, err := p.Payouts.RequestWithdrawal(m.e.Ctx, connect.NewRequest(&payoutv1.RequestWithdrawalRequest{
		RequestId: reqID(), Amount: usd(amount)}))
	if err != nil {
		return nil, err
	}
	return resp.Msg.GetWithdrawal(), nil
}

func (m *market) balance(p *servertest.Party) *payoutv1.CurrencyBalance {
	m.t.Helper()
	b := must(p.Payouts.GetBalance(m.e.Ctx, connect.NewRequest(&payoutv1.GetBalanceRequest{SupplierAccountId: p.ID()})))(m.t).Msg.GetBalance()
	for _, c := range b.GetBalances() {
		if c.GetCurrency() == "USD" {
			return c
		}
	}
	return &payoutv1.CurrencyBalance{Currency: "USD", Available: usd(0), Pending: usd(0), Withdrawing: usd(0), InEscrow: usd(0)}
}

// reconcile asks for a reconciliation and fails unless it is clean.
func (m *market) reconcile() *payoutv1.ReconcileResponse {
	m.t.Helper()
	r := must(m.operator.Payouts.Reconcile(m.e.Ctx, connect.NewRequest(&payoutv1.ReconcileRequest{})))(m.t).Msg
	if !r.GetOk() {
		m.t.Fatalf("reconciliation failed: %v", r)
	}
	return r
}

// audit checks the ledger's internal consistency directly in the database.
func audit(t testing.TB, e *servertest.Env) {
	t.Helper()
	var problems []string
	err := e.Store.WithTx(e.Ctx, func(tx *ent.Tx) (err error) {
		problems, err = ledger.Audit(e.Ctx, tx)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Error(p)
	}
}
