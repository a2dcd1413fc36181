package webhook_test

import (
	"sort"
	"testing"
	"time"

	"connectrpc.com/connect"
	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
	"google.golang.org/protobuf/types/known/timestamppb"

	adminv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/admin/v1"
	commonv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/common/v1"
	eventv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/event/v1"
	orderv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/order/v1"
	webhookv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/webhook/v1"
	"github.com/tradeassure/tradeassure/server/servertest"
)

// verify checks a delivery with the Standard Webhooks library, independently of the server's signer.
func verify(t testing.TB, secret string, r servertest.Received) error {
	t.Helper()
	wh, err := standardwebhooks.NewWebhook(secret)
	if err != nil {
		t.Fatalf("standard webhooks: %v", err)
	}
	return wh.Verify(r.Body, r.Header)
}

// market is a buyer, a supplier, an operator and a product on a development-mode server whose webhook
// dispatcher runs.
type market struct {
	t        *testing.T
	e        *servertest.Env
	buyer    *servertest.Party
	supplier *servertest.Party
	operator *servertest.Party
	product  string
}

func newMarket(t *testing.T, engine string, run bool) *market {
	e := servertest.New(t, servertest.Options{Engine: engine, Dev: true})
	if run {
		e.RunWebhooks()
	}
	m := &market{t: t, e: e, buyer: e.Buyer("US"), supplier: e.Supplier(100_000_00, true), operator: e.Staff(commonv1.Role_ROLE_OPERATOR)}
	m.product = e.Product(m.supplier, "Widget", 10_00, "USD")
	return m
}

// endpoint creates an endpoint for p at url with filters and returns it with its secret.
func (m *market) endpoint(p *servertest.Party, url string, types ...string) (*webhookv1.WebhookEndpoint, string) {
	m.t.Helper()
	resp, err := p.Webhooks.CreateWebhookEndpoint(m.e.Ctx, connect.NewRequest(&webhookv1.CreateWebhookEndpointRequest{
		Url: url, EventTypes: types, Description: "test receiver"}))
	if err != nil {
		m.t.Fatalf("create endpoint: %v", err)
	}
	return resp.Msg.GetEndpoint(), resp.Msg.GetSecret()
}

// draft creates an order for the buyer.
func (m *market) draft() *orderv1.Order {
	m.t.Helper()
	resp, err := m.supplier.Orders.CreateOrder(m.e.Ctx, connect.NewRequest(&orderv1.CreateOrderRequest{
		Policy: commonv1.Policy_POLICY_TRADE_ASSURANCE, BuyerEmail: m.buyer.Account.Email,
		Terms: &orderv1.OrderTerms{
			Lines: []*orderv1.OrderLine{{ProductId: m.product, Quantity: 10}}, Currency: "USD", ShippingFeeMinor: 50_00,
			ShippingAddress: &commonv1.Address{RecipientName: "Acme", Phone: "+1 555 0100", Country: "US", Lines: []string{"1 Main St"}},
			TradeTerm:       orderv1.TradeTerm_TRADE_TERM_FCA, ShippingMethod: orderv1.ShippingMethod_SHIPPING_METHOD_AIR,
			PaymentTerms: &orderv1.PaymentTerms{Kind: orderv1.PaymentTerms_KIND_FULL},
			CoverageType: orderv1.CoverageType_COVERAGE_TYPE_POST_DELIVERY,
			ShipByTime:   timestamppb.New(m.e.Clock.Now().Add(14 * 24 * time.Hour)),
		},
	}))
	if err != nil {
		m.t.Fatalf("create order: %v", err)
	}
	return resp.Msg.GetOrder()
}

// life takes an order from draft to completed.
func (m *market) life() string {
	m.t.Helper()
	id := m.draft().GetId()
	m.e.DeliverOrder(m.buyer, m.supplier, m.operator, id)
	if _, err := m.buyer.Orders.ConfirmReceipt(m.e.Ctx, connect.NewRequest(&orderv1.ConfirmReceiptRequest{OrderId: id})); err != nil {
		m.t.Fatalf("confirm receipt: %v", err)
	}
	return id
}

// feedIDs are the ids of the events p sees after a cursor, filtered by match.
func (m *market) feedIDs(p *servertest.Party, after string, match func(*eventv1.Event) bool) []string {
	m.t.Helper()
	var out []string
	for {
		resp, err := p.Events.ListEvents(m.e.Ctx, connect.NewRequest(&eventv1.ListEventsRequest{AfterId: after, PageSize: 1000}))
		if err != nil {
			m.t.Fatalf("list events: %v", err)
		}
		for _, ev := range resp.Msg.GetEvents() {
			if match == nil || match(ev) {
				out = append(out, ev.GetId())
			}
		}
		if len(resp.Msg.GetEvents()) < 1000 {
			return out
		}
		after = resp.Msg.GetNextAfterId()
	}
}

// deliveries lists an endpoint's deliveries as p.
func (m *market) deliveries(p *servertest.Party, endpointID string) []*webhookv1.WebhookDelivery {
	m.t.Helper()
	resp, err := p.Webhooks.ListWebhookDeliveries(m.e.Ctx, connect.NewRequest(&webhookv1.ListWebhookDeliveriesRequest{EndpointId: endpointID, PageSize: 200}))
	if err != nil {
		m.t.Fatalf("list deliveries: %v", err)
	}
	return resp.Msg.GetDeliveries()
}

// getEndpoint reads an endpoint as p.
func (m *market) getEndpoint(p *servertest.Party, id string) *webhookv1.WebhookEndpoint {
	m.t.Helper()
	resp, err := p.Webhooks.GetWebhookEndpoint(m.e.Ctx, connect.NewRequest(&webhookv1.GetWebhookEndpointRequest{Id: id}))
	if err != nil {
		m.t.Fatalf("get endpoint: %v", err)
	}
	return resp.Msg.GetEndpoint()
}

// advance moves the development clock forward through the API, as a black-box client would.
func (m *market) advance(d time.Duration) {
	m.t.Helper()
	if _, err := m.operator.Admin.AdvanceClock(m.e.Ctx, connect.NewRequest(&adminv1.AdvanceClockRequest{Seconds: int64(d / time.Second)})); err != nil {
		m.t.Fatalf("advance clock: %v", err)
	}
}

func sameSet(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	a, b = append([]string(nil), a...), append([]string(nil), b...)
	sort.Strings(a)
	sort.Strings(b)
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
