package complaint_test

import (
	"fmt"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/types/known/timestamppb"

	commonv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/common/v1"
	complaintv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/complaint/v1"
	eventv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/event/v1"
	orderv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/order/v1"
	"github.com/tradeassure/tradeassure/server/servertest"
)

const day = 24 * time.Hour

var policies = []commonv1.Policy{commonv1.Policy_POLICY_TRADE_ASSURANCE, commonv1.Policy_POLICY_RETAIL}

// market is a small marketplace on one test server: a US buyer, a supplier with a 100,000 USD limit and
// one-touch export, an operator, an arbiter, and a 10.00 USD product.
type market struct {
	t        *testing.T
	e        *servertest.Env
	buyer    *servertest.Party
	supplier *servertest.Party
	operator *servertest.Party
	arbiter  *servertest.Party
	product  string
}

func newMarket(t *testing.T, e *servertest.Env) *market {
	m := &market{t: t, e: e}
	m.buyer = e.Buyer("US")
	m.supplier = e.Supplier(100_000_00, true)
	m.operator = e.Staff(commonv1.Role_ROLE_OPERATOR)
	m.arbiter = e.Staff(commonv1.Role_ROLE_ARBITER)
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
		ShipByTime:     timestamppb.New(m.e.Clock.Now().Add(14 * day)),
	}
}

func (m *market) draft(pol commonv1.Policy) *orderv1.Order {
	m.t.Helper()
	resp, err := m.supplier.Orders.CreateOrder(m.e.Ctx, connect.NewRequest(&orderv1.CreateOrderRequest{
		Policy: pol, BuyerEmail: m.buyer.Account.Email, Terms: m.terms(10),
	}))
	if err != nil {
		m.t.Fatalf("create order: %v", err)
	}
	return resp.Msg.GetOrder()
}

func (m *market) accept(o *orderv1.Order) *orderv1.Order {
	m.t.Helper()
	resp, err := m.buyer.Orders.AcceptOrder(m.e.Ctx, connect.NewRequest(&orderv1.AcceptOrderRequest{OrderId: o.GetId()}))
	if err != nil {
		m.t.Fatalf("accept: %v", err)
	}
	return resp.Msg.GetOrder()
}

func (m *market) pay(o *orderv1.Order) *orderv1.Order {
	m.t.Helper()
	resp, err := m.buyer.Orders.PayOrder(m.e.Ctx, connect.NewRequest(&orderv1.PayOrderRequest{
		OrderId: o.GetId(), Method: orderv1.PaymentMethod_PAYMENT_METHOD_CARD, CardToken: "tok_4242424242424242",
	}))
	if err != nil {
		m.t.Fatalf("pay: %v", err)
	}
	return resp.Msg.GetOrder()
}

// awaiting returns an accepted order awaiting payment.
func (m *market) awaiting(pol commonv1.Policy) *orderv1.Order {
	m.t.Helper()
	return m.accept(m.draft(pol))
}

// paid returns a card-paid order.
func (m *market) paid(pol commonv1.Policy) *orderv1.Order {
	m.t.Helper()
	return m.pay(m.awaiting(pol))
}

// delivered returns a delivered order awaiting the buyer's confirmation.
func (m *market) delivered(pol commonv1.Policy) *orderv1.Order {
	m.t.Helper()
	o := m.paid(pol)
	if _, err := m.supplier.Orders.ShipOrder(m.e.Ctx, connect.NewRequest(&orderv1.ShipOrderRequest{
		OrderId: o.GetId(), Carrier: "DHL", TrackingNumber: "JD0001",
	})); err != nil {
		m.t.Fatalf("ship: %v", err)
	}
	resp, err := m.operator.Orders.RecordDelivery(m.e.Ctx, connect.NewRequest(&orderv1.RecordDeliveryRequest{OrderId: o.GetId()}))
	if err != nil {
		m.t.Fatalf("deliver: %v", err)
	}
	return resp.Msg.GetOrder()
}

// completed returns an order the buyer confirmed receipt of, now.
func (m *market) completed(pol commonv1.Policy) *orderv1.Order {
	m.t.Helper()
	o := m.delivered(pol)
	resp, err := m.buyer.Orders.ConfirmReceipt(m.e.Ctx, connect.NewRequest(&orderv1.ConfirmReceiptRequest{OrderId: o.GetId()}))
	if err != nil {
		m.t.Fatalf("confirm receipt: %v", err)
	}
	return resp.Msg.GetOrder()
}

// cancelled returns an accepted order the buyer cancelled before paying, now.
func (m *market) cancelled(pol commonv1.Policy) *orderv1.Order {
	m.t.Helper()
	o := m.awaiting(pol)
	resp, err := m.buyer.Orders.CancelOrder(m.e.Ctx, connect.NewRequest(&orderv1.CancelOrderRequest{
		OrderId: o.GetId(), Reason: orderv1.CancellationReason_CANCELLATION_REASON_BUYER,
	}))
	if err != nil {
		m.t.Fatalf("cancel: %v", err)
	}
	return resp.Msg.GetOrder()
}

func (m *market) order(id string) *orderv1.Order {
	m.t.Helper()
	resp, err := m.operator.Orders.GetOrder(m.e.Ctx, connect.NewRequest(&orderv1.GetOrderRequest{OrderId: id}))
	if err != nil {
		m.t.Fatalf("get order: %v", err)
	}
	return resp.Msg.GetOrder()
}

var evidenceSeq atomic.Int64

// evidence returns one new piece of evidence of each kind.
func evidence(kinds ...commonv1.EvidenceKind) []*commonv1.Evidence {
	out := make([]*commonv1.Evidence, len(kinds))
	for i, k := range kinds {
		out[i] = &commonv1.Evidence{Kind: k, Description: k.String(),
			Uri: fmt.Sprintf("https://files.example/%d", evidenceSeq.Add(1))}
	}
	return out
}

// required is the evidence each type needs (docs/rules.md).
var required = map[complaintv1.Complaint_Type][]commonv1.EvidenceKind{
	complaintv1.Complaint_TYPE_FALSE_TRANSACTION: {commonv1.EvidenceKind_EVIDENCE_KIND_ORDER_RECORD, commonv1.EvidenceKind_EVIDENCE_KIND_CHAT_LOG},
	complaintv1.Complaint_TYPE_PRODUCT_QUALITY: {commonv1.EvidenceKind_EVIDENCE_KIND_PRODUCT_PHOTO,
		commonv1.EvidenceKind_EVIDENCE_KIND_LOGISTICS_RECORD, commonv1.EvidenceKind_EVIDENCE_KIND_RETURN_RECORD},
	complaintv1.Complaint_TYPE_SERVICE_FAILURE:   {commonv1.EvidenceKind_EVIDENCE_KIND_ORDER_RECORD, commonv1.EvidenceKind_EVIDENCE_KIND_LOGISTICS_RECORD},
	complaintv1.Complaint_TYPE_TRANSACTION_FRAUD: {commonv1.EvidenceKind_EVIDENCE_KIND_IDENTITY_DOCUMENT, commonv1.EvidenceKind_EVIDENCE_KIND_TRANSACTION_RECORD},
}

func fileReq(o *orderv1.Order, t complaintv1.Complaint_Type, ev []*commonv1.Evidence) *complaintv1.FileComplaintRequest {
	return &complaintv1.FileComplaintRequest{OrderId: o.GetId(), Type: t, Description: "what happened", Evidence: ev}
}

// file files a complaint of type t about o as p with the evidence the type requires.
func (m *market) file(p *servertest.Party, o *orderv1.Order, t complaintv1.Complaint_Type) *complaintv1.Complaint {
	m.t.Helper()
	resp, err := p.Complaints.FileComplaint(m.e.Ctx, connect.NewRequest(fileReq(o, t, evidence(required[t]...))))
	if err != nil {
		m.t.Fatalf("file %v: %v", t, err)
	}
	return resp.Msg.GetComplaint()
}

func (m *market) decide(c *complaintv1.Complaint, outcome complaintv1.Decision_Outcome, penalties ...*complaintv1.Penalty) (*complaintv1.Complaint, error) {
	resp, err := m.arbiter.Complaints.DecideComplaint(m.e.Ctx, connect.NewRequest(&complaintv1.DecideComplaintRequest{
		Id: c.GetId(), Etag: c.GetEtag(), Outcome: outcome, Penalties: penalties, Note: "decided",
	}))
	if err != nil {
		return nil, err
	}
	return resp.Msg.GetComplaint(), nil
}

func (m *market) get(c *complaintv1.Complaint) *complaintv1.Complaint {
	m.t.Helper()
	resp, err := m.arbiter.Complaints.GetComplaint(m.e.Ctx, connect.NewRequest(&complaintv1.GetComplaintRequest{Id: c.GetId()}))
	if err != nil {
		m.t.Fatalf("get complaint: %v", err)
	}
	return resp.Msg.GetComplaint()
}

func (m *market) standing(p *servertest.Party) *complaintv1.AccountStanding {
	m.t.Helper()
	resp, err := p.Complaints.GetStanding(m.e.Ctx, connect.NewRequest(&complaintv1.GetStandingRequest{AccountId: p.ID()}))
	if err != nil {
		m.t.Fatalf("get standing: %v", err)
	}
	return resp.Msg.GetStanding()
}

// eventTypes lists the types of the events of a subject the party sees.
func eventTypes(t *testing.T, e *servertest.Env, p *servertest.Party, subjectID string) []string {
	t.Helper()
	resp, err := p.Events.ListEvents(e.Ctx, connect.NewRequest(&eventv1.ListEventsRequest{SubjectId: subjectID, PageSize: 500}))
	if err != nil {
		t.Fatalf("list events: %v", err)
	}
	var out []string
	for _, ev := range resp.Msg.GetEvents() {
		out = append(out, ev.GetType())
	}
	return out
}

func wantEvent(t *testing.T, types []string, want string) {
	t.Helper()
	if !slices.Contains(types, want) {
		t.Fatalf("events %v lack %q", types, want)
	}
}

func credit(points int32) *complaintv1.Penalty {
	return &complaintv1.Penalty{Kind: &complaintv1.Penalty_CreditScoreDeduction_{
		CreditScoreDeduction: &complaintv1.Penalty_CreditScoreDeduction{Points: points}}}
}

func restriction(until time.Time) *complaintv1.Penalty {
	return &complaintv1.Penalty{Kind: &complaintv1.Penalty_TradingRestriction_{
		TradingRestriction: &complaintv1.Penalty_TradingRestriction{Until: timestamppb.New(until)}}}
}

func ban() *complaintv1.Penalty {
	return &complaintv1.Penalty{Kind: &complaintv1.Penalty_PermanentBan_{PermanentBan: &complaintv1.Penalty_PermanentBan{}}}
}

func usd(minor int64) *commonv1.Money { return &commonv1.Money{AmountMinor: minor, Currency: "USD"} }

func returnCosts(minor int64) *complaintv1.Penalty {
	return &complaintv1.Penalty{Kind: &complaintv1.Penalty_ReturnCosts_{ReturnCosts: &complaintv1.Penalty_ReturnCosts{Amount: usd(minor)}}}
}

func compensation(minor int64) *complaintv1.Penalty {
	return &complaintv1.Penalty{Kind: &complaintv1.Penalty_BuyerCompensation_{
		BuyerCompensation: &complaintv1.Penalty_BuyerCompensation{Amount: usd(minor)}}}
}

func freight(minor int64) *complaintv1.Penalty {
	return &complaintv1.Penalty{Kind: &complaintv1.Penalty_SupplierFreight_{SupplierFreight: &complaintv1.Penalty_SupplierFreight{Amount: usd(minor)}}}
}

func extension(days int32) *complaintv1.Penalty {
	return &complaintv1.Penalty{Kind: &complaintv1.Penalty_DeliveryExtension_{
		DeliveryExtension: &complaintv1.Penalty_DeliveryExtension{Days: days}}}
}

// one runs fn on a single server (SQLite, or Postgres too when configured) in the Connect protocol; the
// wire protocols are covered by the tests that use servertest.Each.
func one(t *testing.T, fn func(t *testing.T, e *servertest.Env)) {
	for _, engine := range servertest.Engines() {
		t.Run(engine, func(t *testing.T) {
			t.Parallel()
			fn(t, servertest.New(t, servertest.Options{Engine: engine}))
		})
	}
}
