package order_test

import (
	"testing"
	"time"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	commonv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/common/v1"
	orderv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/order/v1"
	"github.com/tradeassure/tradeassure/server/servertest"
)

// market is a small marketplace on one test server: a US buyer, a supplier with a 100,000 USD limit and
// one-touch export, an operator, and a 10.00 USD product.
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
	m.supplier = e.Supplier(100_000_00, true)
	m.operator = e.Staff(commonv1.Role_ROLE_OPERATOR)
	m.product = e.Product(m.supplier, "Widget", 10_00, "USD")
	return m
}

// terms are valid terms: quantity × 10.00 USD, 50.00 shipping, 5.00 insurance, full payment, FCA by air.
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
		ShipByTime:     timestamppb.New(m.e.Clock.Now().Add(14 * 24 * time.Hour)),
	}
}

func (m *market) createReq(pol commonv1.Policy, terms *orderv1.OrderTerms) *orderv1.CreateOrderRequest {
	return &orderv1.CreateOrderRequest{Policy: pol, BuyerEmail: m.buyer.Account.Email, Terms: terms}
}

// draft creates a draft with the terms.
func (m *market) draft(pol commonv1.Policy, terms *orderv1.OrderTerms) *orderv1.Order {
	m.t.Helper()
	resp, err := m.supplier.Orders.CreateOrder(m.e.Ctx, connect.NewRequest(m.createReq(pol, terms)))
	if err != nil {
		m.t.Fatalf("create order: %v", err)
	}
	return resp.Msg.GetOrder()
}

// get reads an order as the buyer.
func (m *market) get(id string) *orderv1.Order {
	m.t.Helper()
	resp, err := m.buyer.Orders.GetOrder(m.e.Ctx, connect.NewRequest(&orderv1.GetOrderRequest{OrderId: id}))
	if err != nil {
		m.t.Fatalf("get order: %v", err)
	}
	return resp.Msg.GetOrder()
}

func (m *market) accept(o *orderv1.Order) *orderv1.Order {
	m.t.Helper()
	resp, err := m.buyer.Orders.AcceptOrder(m.e.Ctx, connect.NewRequest(&orderv1.AcceptOrderRequest{OrderId: o.GetId(), Etag: o.GetEtag()}))
	if err != nil {
		m.t.Fatalf("accept: %v", err)
	}
	return resp.Msg.GetOrder()
}

func (m *market) payCard(o *orderv1.Order) *orderv1.PayOrderResponse {
	m.t.Helper()
	resp, err := m.buyer.Orders.PayOrder(m.e.Ctx, connect.NewRequest(&orderv1.PayOrderRequest{
		OrderId: o.GetId(), Method: orderv1.PaymentMethod_PAYMENT_METHOD_CARD, CardToken: "tok_4242424242424242",
	}))
	if err != nil {
		m.t.Fatalf("pay: %v", err)
	}
	return resp.Msg
}

func (m *market) ship(o *orderv1.Order) *orderv1.Order {
	m.t.Helper()
	resp, err := m.supplier.Orders.ShipOrder(m.e.Ctx, connect.NewRequest(&orderv1.ShipOrderRequest{
		OrderId: o.GetId(), Etag: o.GetEtag(), Carrier: "DHL", TrackingNumber: "JD0001",
	}))
	if err != nil {
		m.t.Fatalf("ship: %v", err)
	}
	return resp.Msg.GetOrder()
}

func (m *market) deliver(o *orderv1.Order) *orderv1.Order {
	m.t.Helper()
	resp, err := m.operator.Orders.RecordDelivery(m.e.Ctx, connect.NewRequest(&orderv1.RecordDeliveryRequest{OrderId: o.GetId()}))
	if err != nil {
		m.t.Fatalf("deliver: %v", err)
	}
	return resp.Msg.GetOrder()
}

// paid returns a card-paid order under a policy, with default terms of the given quantity.
func (m *market) paid(pol commonv1.Policy, quantity int64) *orderv1.Order {
	m.t.Helper()
	o := m.accept(m.draft(pol, m.terms(quantity)))
	return m.payCard(o).GetOrder()
}

// delivered returns a delivered order under a policy.
func (m *market) delivered(pol commonv1.Policy) *orderv1.Order {
	m.t.Helper()
	return m.deliver(m.ship(m.paid(pol, 10)))
}

func clone[T proto.Message](m T) T { return proto.Clone(m).(T) }

func wantState(t *testing.T, o *orderv1.Order, want orderv1.Order_State) {
	t.Helper()
	if o.GetState() != want {
		t.Fatalf("order %s is %v, want %v", o.GetId(), o.GetState(), want)
	}
}

const day = 24 * time.Hour

var policies = []commonv1.Policy{commonv1.Policy_POLICY_TRADE_ASSURANCE, commonv1.Policy_POLICY_RETAIL}
