package returns_test

import (
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/tradeassure/tradeassure/ent/ledgeraccount"
	adminv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/admin/v1"
	commonv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/common/v1"
	eventv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/event/v1"
	orderv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/order/v1"
	returnsv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/returns/v1"
	"github.com/tradeassure/tradeassure/server/admin"
	"github.com/tradeassure/tradeassure/server/ledger"
	"github.com/tradeassure/tradeassure/server/servertest"
)

const (
	day    = 24 * time.Hour
	ta     = commonv1.Policy_POLICY_TRADE_ASSURANCE
	retail = commonv1.Policy_POLICY_RETAIL
)

var policies = []commonv1.Policy{ta, retail}

// supplierAddr is the supplier's registered return address.
var supplierAddr = &commonv1.Address{RecipientName: "Returns Dept", Phone: "+86 755 1234 5678", Country: "CN",
	Lines: []string{"88 Keji Road"}, City: "Shenzhen", PostalCode: "518000"}

// market is a small marketplace on one test server: a US buyer, a supplier in the free-return programme
// with a registered return address, a second supplier outside it, staff of every kind, and products.
type market struct {
	t         *testing.T
	e         *servertest.Env
	buyer     *servertest.Party
	other     *servertest.Party // another buyer
	supplier  *servertest.Party
	plain     *servertest.Party // a supplier outside the free-return programme, without a return address
	operator  *servertest.Party
	arbiter   *servertest.Party
	warehouse *servertest.Party
	widget    string // 10.00 USD
	gadget    string // 3.33 USD
	gizmo     string // 7.77 USD
	plainProd string
}

var seq atomic.Int64

func newMarket(t *testing.T, e *servertest.Env) *market {
	m := &market{t: t, e: e}
	m.buyer = e.Buyer("US")
	m.other = e.Buyer("US")
	n := seq.Add(1)
	m.supplier = e.Account(admin.NewAccount{Role: commonv1.Role_ROLE_SUPPLIER, Name: fmt.Sprintf("Returns Supplier %d", n),
		Email: fmt.Sprintf("rsupplier%d@test.example", n), Country: "CN",
		Supplier: &adminv1.SupplierProfile{TradeAssuranceLimitUsdMinor: 100_000_00, OneTouchExport: true,
			BankAccount: "CN00TEST", BankAccountVerified: true, FreeReturnProgramme: true, ReturnAddress: supplierAddr}})
	m.plain = e.Supplier(100_000_00, true)
	m.operator = e.Staff(commonv1.Role_ROLE_OPERATOR)
	m.arbiter = e.Staff(commonv1.Role_ROLE_ARBITER)
	m.warehouse = e.Staff(commonv1.Role_ROLE_WAREHOUSE)
	m.widget = e.Product(m.supplier, "Widget", 10_00, "USD")
	m.gadget = e.Product(m.supplier, "Gadget", 3_33, "USD")
	m.gizmo = e.Product(m.supplier, "Gizmo", 7_77, "USD")
	m.plainProd = e.Product(m.plain, "Plain", 10_00, "USD")
	return m
}

// terms are valid terms for lines of the supplier's products: 50.00 shipping, 5.00 insurance, full payment.
func (m *market) terms(lines ...*orderv1.OrderLine) *orderv1.OrderTerms {
	return &orderv1.OrderTerms{
		Lines: lines, Currency: "USD", ShippingFeeMinor: 50_00, InsuranceFeeMinor: 5_00,
		ShippingAddress: &commonv1.Address{RecipientName: "Acme Receiving", Phone: "+1 555 0100", Country: "US",
			Lines: []string{"1 Main St"}, City: "Springfield", PostalCode: "12345"},
		TradeTerm: orderv1.TradeTerm_TRADE_TERM_FCA, ShippingMethod: orderv1.ShippingMethod_SHIPPING_METHOD_AIR,
		PaymentTerms: &orderv1.PaymentTerms{Kind: orderv1.PaymentTerms_KIND_FULL},
		CoverageType: orderv1.CoverageType_COVERAGE_TYPE_POST_DELIVERY,
		ShipByTime:   timestamppb.New(m.e.Clock.Now().Add(14 * day)),
	}
}

func line(product string, quantity int64) *orderv1.OrderLine {
	return &orderv1.OrderLine{ProductId: product, Quantity: quantity}
}

// deliveredWith returns an order of supplier s with terms, paid by card, shipped and delivered now.
func (m *market) deliveredWith(s *servertest.Party, pol commonv1.Policy, terms *orderv1.OrderTerms) *orderv1.Order {
	m.t.Helper()
	ctx := m.e.Ctx
	c, err := s.Orders.CreateOrder(ctx, connect.NewRequest(&orderv1.CreateOrderRequest{Policy: pol, BuyerEmail: m.buyer.Account.Email, Terms: terms}))
	if err != nil {
		m.t.Fatalf("create order: %v", err)
	}
	id := c.Msg.GetOrder().GetId()
	if _, err := m.buyer.Orders.AcceptOrder(ctx, connect.NewRequest(&orderv1.AcceptOrderRequest{OrderId: id})); err != nil {
		m.t.Fatalf("accept: %v", err)
	}
	if _, err := m.buyer.Orders.PayOrder(ctx, connect.NewRequest(&orderv1.PayOrderRequest{OrderId: id,
		Method: orderv1.PaymentMethod_PAYMENT_METHOD_CARD, CardToken: "tok_4242424242424242"})); err != nil {
		m.t.Fatalf("pay: %v", err)
	}
	if _, err := s.Orders.ShipOrder(ctx, connect.NewRequest(&orderv1.ShipOrderRequest{OrderId: id, Carrier: "DHL", TrackingNumber: "JD1"})); err != nil {
		m.t.Fatalf("ship: %v", err)
	}
	d, err := m.operator.Orders.RecordDelivery(ctx, connect.NewRequest(&orderv1.RecordDeliveryRequest{OrderId: id}))
	if err != nil {
		m.t.Fatalf("deliver: %v", err)
	}
	return d.Msg.GetOrder()
}

// delivered returns a delivered order of 10 widgets: 100.00 goods + 50.00 shipping + 5.00 insurance.
func (m *market) delivered(pol commonv1.Policy) *orderv1.Order {
	m.t.Helper()
	return m.deliveredWith(m.supplier, pol, m.terms(line(m.widget, 10)))
}

// completed returns an order of 10 widgets whose buyer confirmed receipt.
func (m *market) completed(pol commonv1.Policy) *orderv1.Order {
	m.t.Helper()
	o := m.delivered(pol)
	resp, err := m.buyer.Orders.ConfirmReceipt(m.e.Ctx, connect.NewRequest(&orderv1.ConfirmReceiptRequest{OrderId: o.GetId()}))
	if err != nil {
		m.t.Fatalf("confirm receipt: %v", err)
	}
	return resp.Msg.GetOrder()
}

func (m *market) order(id string) *orderv1.Order {
	m.t.Helper()
	resp, err := m.buyer.Orders.GetOrder(m.e.Ctx, connect.NewRequest(&orderv1.GetOrderRequest{OrderId: id}))
	if err != nil {
		m.t.Fatalf("get order: %v", err)
	}
	return resp.Msg.GetOrder()
}

var photo = []*commonv1.Evidence{{Kind: commonv1.EvidenceKind_EVIDENCE_KIND_PRODUCT_PHOTO, Uri: "https://files.example/photo.jpg", Description: "scratches"}}

// request is a quality-problem request with evidence for the whole order.
func request(orderID string) *returnsv1.CreateReturnRequest {
	return &returnsv1.CreateReturnRequest{OrderId: orderID, Reason: returnsv1.Return_REASON_QUALITY_PROBLEM,
		Description: "the finish peels off", Evidence: photo}
}

func (m *market) create(req *returnsv1.CreateReturnRequest) *returnsv1.Return {
	m.t.Helper()
	resp, err := m.buyer.Returns.CreateReturn(m.e.Ctx, connect.NewRequest(req))
	if err != nil {
		m.t.Fatalf("create return: %v", err)
	}
	return resp.Msg.GetReturn()
}

func (m *market) get(id string) *returnsv1.Return {
	m.t.Helper()
	resp, err := m.buyer.Returns.GetReturn(m.e.Ctx, connect.NewRequest(&returnsv1.GetReturnRequest{Id: id}))
	if err != nil {
		m.t.Fatalf("get return: %v", err)
	}
	return resp.Msg.GetReturn()
}

func (m *market) approve(r *returnsv1.Return) *returnsv1.Return {
	m.t.Helper()
	resp, err := m.supplier.Returns.ApproveReturn(m.e.Ctx, connect.NewRequest(&returnsv1.ApproveReturnRequest{Id: r.GetId(), Etag: r.GetEtag()}))
	if err != nil {
		m.t.Fatalf("approve: %v", err)
	}
	return resp.Msg.GetReturn()
}

func (m *market) shipBack(r *returnsv1.Return) *returnsv1.Return {
	m.t.Helper()
	resp, err := m.buyer.Returns.ShipReturn(m.e.Ctx, connect.NewRequest(&returnsv1.ShipReturnRequest{Id: r.GetId(), Carrier: "UPS", TrackingNumber: "1Z999"}))
	if err != nil {
		m.t.Fatalf("ship return: %v", err)
	}
	return resp.Msg.GetReturn()
}

func (m *market) confirm(r *returnsv1.Return) *returnsv1.Return {
	m.t.Helper()
	resp, err := m.supplier.Returns.ConfirmReturnReceipt(m.e.Ctx, connect.NewRequest(&returnsv1.ConfirmReturnReceiptRequest{Id: r.GetId()}))
	if err != nil {
		m.t.Fatalf("confirm receipt: %v", err)
	}
	return resp.Msg.GetReturn()
}

// shipped returns a standard return of the whole order, approved and shipped back.
func (m *market) shipped(orderID string) *returnsv1.Return {
	m.t.Helper()
	return m.shipBack(m.approve(m.create(request(orderID))))
}

func wantState(t *testing.T, r *returnsv1.Return, want returnsv1.Return_State) {
	t.Helper()
	if r.GetState() != want {
		t.Fatalf("return %s is %v, want %v", r.GetId(), r.GetState(), want)
	}
}

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

// eventTypes lists the types of a subject's events as p sees them.
func eventTypes(t *testing.T, e *servertest.Env, p *servertest.Party, subjectID string) []string {
	t.Helper()
	resp, err := p.Events.ListEvents(e.Ctx, connect.NewRequest(&eventv1.ListEventsRequest{SubjectId: subjectID, PageSize: 1000}))
	if err != nil {
		t.Fatalf("list events: %v", err)
	}
	var out []string
	for _, ev := range resp.Msg.GetEvents() {
		out = append(out, ev.GetType())
	}
	return out
}

func count(list []string, s string) int {
	n := 0
	for _, x := range list {
		if x == s {
			n++
		}
	}
	return n
}

func amount(mny *commonv1.Money) int64 { return mny.GetAmountMinor() }
