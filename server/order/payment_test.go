package order_test

import (
	"testing"

	"connectrpc.com/connect"

	commonv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/common/v1"
	orderv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/order/v1"
	"github.com/tradeassure/tradeassure/server/servertest"
)

// awaitingWithTotal returns an accepted order whose total is exactly totalMinor of currency.
func (m *market) awaitingWithTotal(t *testing.T, buyer *servertest.Party, currency string, totalMinor int64) *orderv1.Order {
	t.Helper()
	p := m.e.Product(m.supplier, "Lot "+currency, totalMinor, currency)
	tm := m.terms(1)
	tm.Lines[0].ProductId = p
	tm.Currency = currency
	tm.ShippingFeeMinor, tm.InsuranceFeeMinor = 0, 0
	resp, err := m.supplier.Orders.CreateOrder(m.e.Ctx, connect.NewRequest(&orderv1.CreateOrderRequest{
		Policy: retailPolicy, BuyerEmail: buyer.Account.Email, Terms: tm,
	}))
	if err != nil {
		t.Fatalf("create: %v", err)
	}
	o := resp.Msg.GetOrder()
	acc, err := buyer.Orders.AcceptOrder(m.e.Ctx, connect.NewRequest(&orderv1.AcceptOrderRequest{OrderId: o.GetId()}))
	if err != nil {
		t.Fatalf("accept: %v", err)
	}
	return acc.Msg.GetOrder()
}

func pay(e *servertest.Env, buyer *servertest.Party, o *orderv1.Order, method orderv1.PaymentMethod) (*orderv1.PayOrderResponse, error) {
	resp, err := buyer.Orders.PayOrder(e.Ctx, connect.NewRequest(&orderv1.PayOrderRequest{
		OrderId: o.GetId(), Method: method, CardToken: "tok_4242424242424242",
	}))
	if err != nil {
		return nil, err
	}
	return resp.Msg, nil
}

// TestPaymentMethodLimits checks each method's constraint just inside and just outside it.
func TestPaymentMethodLimits(t *testing.T) {
	notAllowed := commonv1.ErrorReason_ERROR_REASON_PAYMENT_METHOD_NOT_ALLOWED
	cases := []struct {
		name     string
		country  string
		currency string
		total    int64
		method   orderv1.PaymentMethod
		ok       bool
		settled  bool
	}{
		{"card at the cap", "US", "USD", 10_000_00, orderv1.PaymentMethod_PAYMENT_METHOD_CARD, true, true},
		{"card above the cap", "US", "USD", 10_000_01, orderv1.PaymentMethod_PAYMENT_METHOD_CARD, false, false},
		{"card cap converted from EUR", "DE", "EUR", 9_259_27, orderv1.PaymentMethod_PAYMENT_METHOD_CARD, false, false},
		{"Pay Later at 150,000", "DE", "USD", 150_000_00, orderv1.PaymentMethod_PAYMENT_METHOD_PAY_LATER, true, true},
		{"Pay Later above 150,000", "DE", "USD", 150_000_01, orderv1.PaymentMethod_PAYMENT_METHOD_PAY_LATER, false, false},
		{"Western Union under 2,500 from the US", "US", "USD", 2_499_99, orderv1.PaymentMethod_PAYMENT_METHOD_WESTERN_UNION, true, false},
		{"Western Union at 2,500", "US", "USD", 2_500_00, orderv1.PaymentMethod_PAYMENT_METHOD_WESTERN_UNION, false, false},
		{"Western Union outside the US", "GB", "USD", 100_00, orderv1.PaymentMethod_PAYMENT_METHOD_WESTERN_UNION, false, false},
		{"e-Checking in USD from the US", "US", "USD", 50_000_00, orderv1.PaymentMethod_PAYMENT_METHOD_E_CHECKING, true, false},
		{"e-Checking in EUR", "US", "EUR", 100_00, orderv1.PaymentMethod_PAYMENT_METHOD_E_CHECKING, false, false},
		{"e-Checking outside the US", "CA", "USD", 100_00, orderv1.PaymentMethod_PAYMENT_METHOD_E_CHECKING, false, false},
		{"T/T of any size", "DE", "USD", 180_000_00, orderv1.PaymentMethod_PAYMENT_METHOD_TT, true, false},
		{"online bank transfer", "DE", "USD", 100_00, orderv1.PaymentMethod_PAYMENT_METHOD_ONLINE_BANK_TRANSFER, true, false},
	}
	servertest.Each(t, func(t *testing.T, e *servertest.Env) {
		m := newMarket(t, e)
		m.supplier = e.Supplier(1_000_000_00, true)
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				buyer := e.Buyer(c.country)
				o := m.awaitingWithTotal(t, buyer, c.currency, c.total)
				resp, err := pay(e, buyer, o, c.method)
				if !c.ok {
					servertest.WantError(t, err, connect.CodeFailedPrecondition, notAllowed)
					got, _ := buyer.Orders.ListPayments(e.Ctx, connect.NewRequest(&orderv1.ListPaymentsRequest{OrderId: o.GetId()}))
					if n := len(got.Msg.GetPayments()); n != 0 {
						t.Fatalf("a refused payment recorded %d payments", n)
					}
					return
				}
				if err != nil {
					t.Fatalf("pay: %v", err)
				}
				wantPayment := orderv1.Payment_STATE_PENDING
				wantOrder := orderv1.Order_STATE_AWAITING_PAYMENT
				if c.settled {
					wantPayment, wantOrder = orderv1.Payment_STATE_SETTLED, orderv1.Order_STATE_PAID
				}
				if resp.GetPayment().GetState() != wantPayment {
					t.Fatalf("payment %v, want %v", resp.GetPayment().GetState(), wantPayment)
				}
				wantState(t, resp.GetOrder(), wantOrder)
				if resp.GetOrder().GetPaymentPending() == c.settled {
					t.Fatalf("payment_pending = %v", resp.GetOrder().GetPaymentPending())
				}
			})
		}
	})
}

// TestPendingWireBlocksChanges checks a T/T payment stays pending until the bank confirms, that nothing
// changes meanwhile, and that a failed wire can be paid again.
func TestPendingWireBlocksChanges(t *testing.T) {
	servertest.Each(t, func(t *testing.T, e *servertest.Env) {
		m := newMarket(t, e)
		o := m.accept(m.draft(taPolicy, m.terms(10)))
		resp, err := pay(e, m.buyer, o, orderv1.PaymentMethod_PAYMENT_METHOD_TT)
		if err != nil {
			t.Fatalf("pay: %v", err)
		}
		wire := resp.GetPayment()
		if got, want := wire.GetExpectedSettleTime().AsTime(), e.Clock.Now().Add(7*day); !got.Equal(want) {
			t.Fatalf("expected settle %v, want %v", got, want)
		}
		pending := commonv1.ErrorReason_ERROR_REASON_PAYMENT_PENDING
		_, err = pay(e, m.buyer, o, orderv1.PaymentMethod_PAYMENT_METHOD_CARD)
		servertest.WantError(t, err, connect.CodeFailedPrecondition, pending)
		_, err = m.buyer.Orders.CancelOrder(e.Ctx, connect.NewRequest(&orderv1.CancelOrderRequest{OrderId: o.GetId(), Reason: orderv1.CancellationReason_CANCELLATION_REASON_BUYER}))
		servertest.WantError(t, err, connect.CodeFailedPrecondition, pending)
		_, err = m.supplier.Orders.ProposeOrderChange(e.Ctx, connect.NewRequest(&orderv1.ProposeOrderChangeRequest{OrderId: o.GetId(), Terms: m.terms(11)}))
		servertest.WantError(t, err, connect.CodeFailedPrecondition, pending)
		_, err = m.buyer.Orders.ChangeLogisticsProvider(e.Ctx, connect.NewRequest(&orderv1.ChangeLogisticsProviderRequest{OrderId: o.GetId(), LogisticsProvider: "FedEx"}))
		servertest.WantError(t, err, connect.CodeFailedPrecondition, pending)
		// Weeks pass: a wire is never settled by time alone.
		e.Advance(10 * day)
		wantState(t, m.get(o.GetId()), orderv1.Order_STATE_AWAITING_PAYMENT)

		// Only an operator (the bank integration) settles or fails payments.
		_, err = m.buyer.Orders.ConfirmPayment(e.Ctx, connect.NewRequest(&orderv1.ConfirmPaymentRequest{PaymentId: wire.GetId()}))
		servertest.WantError(t, err, connect.CodePermissionDenied, commonv1.ErrorReason_ERROR_REASON_ROLE_NOT_ALLOWED)
		failed, err := m.operator.Orders.FailPayment(e.Ctx, connect.NewRequest(&orderv1.FailPaymentRequest{PaymentId: wire.GetId(), Reason: "returned by the bank"}))
		if err != nil {
			t.Fatalf("fail: %v", err)
		}
		if failed.Msg.GetPayment().GetState() != orderv1.Payment_STATE_FAILED || failed.Msg.GetOrder().GetPaymentPending() {
			t.Fatalf("failed payment = %v", failed.Msg)
		}
		_, err = m.operator.Orders.ConfirmPayment(e.Ctx, connect.NewRequest(&orderv1.ConfirmPaymentRequest{PaymentId: wire.GetId()}))
		servertest.WantError(t, err, connect.CodeFailedPrecondition, commonv1.ErrorReason_ERROR_REASON_ILLEGAL_STATE)

		again, err := pay(e, m.buyer, o, orderv1.PaymentMethod_PAYMENT_METHOD_TT)
		if err != nil {
			t.Fatalf("pay again: %v", err)
		}
		ok, err := m.operator.Orders.ConfirmPayment(e.Ctx, connect.NewRequest(&orderv1.ConfirmPaymentRequest{PaymentId: again.GetPayment().GetId()}))
		if err != nil {
			t.Fatalf("confirm: %v", err)
		}
		wantState(t, ok.Msg.GetOrder(), orderv1.Order_STATE_PAID)
		if ok.Msg.GetOrder().GetAmounts().GetPaid().GetAmountMinor() != ok.Msg.GetOrder().GetAmounts().GetTotal().GetAmountMinor() {
			t.Fatalf("paid = %v", ok.Msg.GetOrder().GetAmounts())
		}
	})
}

// TestDeclinedCardCanBeRetried checks a declined card is recorded as failed, leaves the order unpaid, and
// another card then pays it.
func TestDeclinedCardCanBeRetried(t *testing.T) {
	servertest.Each(t, func(t *testing.T, e *servertest.Env) {
		m := newMarket(t, e)
		o := m.accept(m.draft(retailPolicy, m.terms(3)))
		resp, err := m.buyer.Orders.PayOrder(e.Ctx, connect.NewRequest(&orderv1.PayOrderRequest{
			OrderId: o.GetId(), Method: orderv1.PaymentMethod_PAYMENT_METHOD_CARD, CardToken: "tok_4000000000000002",
		}))
		if err != nil {
			t.Fatalf("pay: %v", err)
		}
		if resp.Msg.GetPayment().GetState() != orderv1.Payment_STATE_FAILED || resp.Msg.GetPayment().GetFailureReason() == "" {
			t.Fatalf("declined payment = %v", resp.Msg.GetPayment())
		}
		wantState(t, resp.Msg.GetOrder(), orderv1.Order_STATE_AWAITING_PAYMENT)
		_, err = m.buyer.Orders.PayOrder(e.Ctx, connect.NewRequest(&orderv1.PayOrderRequest{OrderId: o.GetId(), Method: orderv1.PaymentMethod_PAYMENT_METHOD_CARD}))
		servertest.WantError(t, err, connect.CodeInvalidArgument, commonv1.ErrorReason_ERROR_REASON_INVALID_FIELD)
		wantState(t, m.payCard(o).GetOrder(), orderv1.Order_STATE_PAID)
		list, err := m.buyer.Orders.ListPayments(e.Ctx, connect.NewRequest(&orderv1.ListPaymentsRequest{OrderId: o.GetId()}))
		if err != nil || len(list.Msg.GetPayments()) != 2 {
			t.Fatalf("payments = %v %v", list.Msg.GetPayments(), err)
		}
	})
}

// TestAdvanceBeforeBalance checks deposit orders take the advance first (ADVANCE_PAID), then the balance.
func TestAdvanceBeforeBalance(t *testing.T) {
	servertest.Each(t, func(t *testing.T, e *servertest.Env) {
		m := newMarket(t, e)
		tm := m.terms(10) // total 155.00
		tm.PaymentTerms = &orderv1.PaymentTerms{Kind: orderv1.PaymentTerms_KIND_ADVANCE_BALANCE, AdvanceMinor: 30_00}
		tm.CoverageType = orderv1.CoverageType_COVERAGE_TYPE_PRE_SHIPMENT
		o := m.accept(m.draft(taPolicy, tm))
		if o.GetCoveredAmount().GetAmountMinor() != 30_00 {
			t.Fatalf("pre-shipment coverage = %v", o.GetCoveredAmount())
		}
		first := m.payCard(o)
		if first.GetPayment().GetPart() != orderv1.Payment_PART_ADVANCE || first.GetPayment().GetAmount().GetAmountMinor() != 30_00 {
			t.Fatalf("first payment = %v", first.GetPayment())
		}
		wantState(t, first.GetOrder(), orderv1.Order_STATE_ADVANCE_PAID)
		// Not shippable until the balance is paid.
		_, err := m.supplier.Orders.ShipOrder(e.Ctx, connect.NewRequest(&orderv1.ShipOrderRequest{OrderId: o.GetId(), Carrier: "DHL", TrackingNumber: "1"}))
		servertest.WantError(t, err, connect.CodeFailedPrecondition, commonv1.ErrorReason_ERROR_REASON_ILLEGAL_STATE)
		second := m.payCard(o)
		if second.GetPayment().GetPart() != orderv1.Payment_PART_BALANCE || second.GetPayment().GetAmount().GetAmountMinor() != 125_00 {
			t.Fatalf("second payment = %v", second.GetPayment())
		}
		wantState(t, second.GetOrder(), orderv1.Order_STATE_PAID)
		if second.GetOrder().GetAmounts().GetPaid().GetAmountMinor() != 155_00 {
			t.Fatalf("paid = %v", second.GetOrder().GetAmounts().GetPaid())
		}
	})
}
