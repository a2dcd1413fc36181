package dispute_test

import (
	"testing"
	"time"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/tradeassure/tradeassure/ent"
	"github.com/tradeassure/tradeassure/ent/event"
	"github.com/tradeassure/tradeassure/ent/ledgertransfer"
	commonv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/common/v1"
	disputev1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/dispute/v1"
	orderv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/order/v1"
	"github.com/tradeassure/tradeassure/server/ledger"
	"github.com/tradeassure/tradeassure/server/servertest"
)

const day = 24 * time.Hour

var policies = []commonv1.Policy{commonv1.Policy_POLICY_TRADE_ASSURANCE, commonv1.Policy_POLICY_RETAIL}

// each runs fn on every storage engine (Connect protocol), each on its own server; the protocol matrix is
// covered by TestAuthorization, which uses servertest.Each.
func each(t *testing.T, fn func(t *testing.T, e *servertest.Env)) {
	for _, engine := range servertest.Engines() {
		t.Run(engine, func(t *testing.T) {
			t.Parallel()
			fn(t, servertest.New(t, servertest.Options{Engine: engine}))
		})
	}
}

// market is a small marketplace: a US buyer, a supplier with a 100,000 USD limit and one-touch export, an
// operator, an arbiter, and a 10.00 USD product.
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

// order is a card-paid order of 10 widgets: 100.00 goods + 50.00 shipping + 5.00 insurance = 155.00 USD.
func (m *market) paid(pol commonv1.Policy) *orderv1.Order {
	m.t.Helper()
	ctx := m.e.Ctx
	c, err := m.supplier.Orders.CreateOrder(ctx, connect.NewRequest(&orderv1.CreateOrderRequest{
		Policy: pol, BuyerEmail: m.buyer.Account.Email, Terms: &orderv1.OrderTerms{
			Lines:    []*orderv1.OrderLine{{ProductId: m.product, Quantity: 10}},
			Currency: "USD", ShippingFeeMinor: 50_00, InsuranceFeeMinor: 5_00,
			ShippingAddress: &commonv1.Address{RecipientName: "Acme Receiving", Phone: "+1 555 0100", Country: "US",
				Lines: []string{"1 Main St"}, City: "Springfield", PostalCode: "12345"},
			TradeTerm: orderv1.TradeTerm_TRADE_TERM_FCA, ShippingMethod: orderv1.ShippingMethod_SHIPPING_METHOD_AIR,
			PaymentTerms: &orderv1.PaymentTerms{Kind: orderv1.PaymentTerms_KIND_FULL},
			CoverageType: orderv1.CoverageType_COVERAGE_TYPE_POST_DELIVERY,
			ShipByTime:   timestamppb.New(m.e.Clock.Now().Add(14 * day)),
		},
	}))
	if err != nil {
		m.t.Fatalf("create order: %v", err)
	}
	a, err := m.buyer.Orders.AcceptOrder(ctx, connect.NewRequest(&orderv1.AcceptOrderRequest{OrderId: c.Msg.GetOrder().GetId()}))
	if err != nil {
		m.t.Fatalf("accept order: %v", err)
	}
	p, err := m.buyer.Orders.PayOrder(ctx, connect.NewRequest(&orderv1.PayOrderRequest{
		OrderId: a.Msg.GetOrder().GetId(), Method: orderv1.PaymentMethod_PAYMENT_METHOD_CARD, CardToken: "tok_4242424242424242",
	}))
	if err != nil {
		m.t.Fatalf("pay order: %v", err)
	}
	return p.Msg.GetOrder()
}

// delivered is a paid order shipped and delivered.
func (m *market) delivered(pol commonv1.Policy) *orderv1.Order {
	m.t.Helper()
	o := m.paid(pol)
	if _, err := m.supplier.Orders.ShipOrder(m.e.Ctx, connect.NewRequest(&orderv1.ShipOrderRequest{
		OrderId: o.GetId(), Carrier: "DHL", TrackingNumber: "JD0001"})); err != nil {
		m.t.Fatalf("ship: %v", err)
	}
	r, err := m.operator.Orders.RecordDelivery(m.e.Ctx, connect.NewRequest(&orderv1.RecordDeliveryRequest{OrderId: o.GetId()}))
	if err != nil {
		m.t.Fatalf("deliver: %v", err)
	}
	return r.Msg.GetOrder()
}

// completed is a delivered order whose buyer confirmed receipt (its escrow is released to the supplier).
func (m *market) completed(pol commonv1.Policy) *orderv1.Order {
	m.t.Helper()
	o := m.delivered(pol)
	r, err := m.buyer.Orders.ConfirmReceipt(m.e.Ctx, connect.NewRequest(&orderv1.ConfirmReceiptRequest{OrderId: o.GetId()}))
	if err != nil {
		m.t.Fatalf("confirm receipt: %v", err)
	}
	return r.Msg.GetOrder()
}

func (m *market) order(id string) *orderv1.Order {
	m.t.Helper()
	r, err := m.buyer.Orders.GetOrder(m.e.Ctx, connect.NewRequest(&orderv1.GetOrderRequest{OrderId: id}))
	if err != nil {
		m.t.Fatalf("get order: %v", err)
	}
	return r.Msg.GetOrder()
}

func usd(minor int64) *commonv1.Money { return &commonv1.Money{AmountMinor: minor, Currency: "USD"} }

func photo(what string) *commonv1.Evidence {
	return &commonv1.Evidence{Kind: commonv1.EvidenceKind_EVIDENCE_KIND_PRODUCT_PHOTO, Description: what, Uri: "https://files.example/" + what}
}

func openReq(orderID string, reason disputev1.Dispute_Reason, res disputev1.Dispute_Resolution, amount int64) *disputev1.OpenDisputeRequest {
	terms := &disputev1.OfferTerms{Resolution: res}
	if amount > 0 {
		terms.RefundAmount = usd(amount)
	}
	return &disputev1.OpenDisputeRequest{OrderId: orderID, Reason: reason, Description: "the widgets are cracked",
		Requested: terms, Evidence: []*commonv1.Evidence{photo("cracked")}}
}

// open opens a product dispute asking for a full refund.
func (m *market) open(o *orderv1.Order) *disputev1.Dispute {
	m.t.Helper()
	return m.openWith(openReq(o.GetId(), disputev1.Dispute_REASON_DAMAGED, disputev1.Dispute_RESOLUTION_FULL_REFUND, 0))
}

func (m *market) openWith(req *disputev1.OpenDisputeRequest) *disputev1.Dispute {
	m.t.Helper()
	r, err := m.buyer.Disputes.OpenDispute(m.e.Ctx, connect.NewRequest(req))
	if err != nil {
		m.t.Fatalf("open dispute: %v", err)
	}
	return r.Msg.GetDispute()
}

func (m *market) get(id string) *disputev1.Dispute {
	m.t.Helper()
	r, err := m.buyer.Disputes.GetDispute(m.e.Ctx, connect.NewRequest(&disputev1.GetDisputeRequest{Id: id}))
	if err != nil {
		m.t.Fatalf("get dispute: %v", err)
	}
	return r.Msg.GetDispute()
}

// reject is the supplier's rejection with a partial-refund counter-offer of amount.
func (m *market) reject(d *disputev1.Dispute, amount int64) *disputev1.Dispute {
	m.t.Helper()
	r, err := m.supplier.Disputes.RespondToDispute(m.e.Ctx, connect.NewRequest(&disputev1.RespondToDisputeRequest{
		Id: d.GetId(), Decision: disputev1.RespondToDisputeRequest_DECISION_REJECT,
		CounterOffer: &disputev1.OfferTerms{Resolution: disputev1.Dispute_RESOLUTION_PARTIAL_REFUND, RefundAmount: usd(amount)},
		Evidence:     []*commonv1.Evidence{photo("packed-fine")}, Note: "they left intact",
	}))
	if err != nil {
		m.t.Fatalf("reject: %v", err)
	}
	return r.Msg.GetDispute()
}

func (m *market) escalate(p *servertest.Party, d *disputev1.Dispute) (*disputev1.Dispute, error) {
	r, err := p.Disputes.EscalateDispute(m.e.Ctx, connect.NewRequest(&disputev1.EscalateDisputeRequest{Id: d.GetId(), Note: "no agreement"}))
	if err != nil {
		return nil, err
	}
	return r.Msg.GetDispute(), nil
}

func wantState(t *testing.T, d *disputev1.Dispute, want disputev1.Dispute_State) {
	t.Helper()
	if d.GetState() != want {
		t.Fatalf("dispute %s is %v, want %v", d.GetId(), d.GetState(), want)
	}
}

// transfers counts the ledger transfers of a cause.
func transfers(t *testing.T, e *servertest.Env, kind, id string) int {
	t.Helper()
	n, err := e.Store.Client.LedgerTransfer.Query().Where(ledgertransfer.CauseKind(kind), ledgertransfer.CauseID(id)).Count(e.Ctx)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// events counts the events of a type on a subject.
func events(t *testing.T, e *servertest.Env, typ, subject string) int {
	t.Helper()
	n, err := e.Store.Client.Event.Query().Where(event.Type(typ), event.SubjectID(subject)).Count(e.Ctx)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func balance(t *testing.T, e *servertest.Env, kind ledger.Kind, owner string) int64 {
	t.Helper()
	var b int64
	err := e.Store.WithTx(e.Ctx, func(tx *ent.Tx) error {
		var err error
		b, err = ledger.Balance(e.Ctx, tx, kind, owner, "USD")
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return b
}
