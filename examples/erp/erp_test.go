package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/types/known/timestamppb"

	adminv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/admin/v1"
	commonv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/common/v1"
	disputev1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/dispute/v1"
	orderv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/order/v1"
	returnsv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/returns/v1"
	webhookv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/webhook/v1"
	"github.com/tradeassure/tradeassure/server/admin"
	"github.com/tradeassure/tradeassure/server/servertest"
)

// world is a buyer, a supplier with a registered return address, an operator and a product.
type world struct {
	t        *testing.T
	e        *servertest.Env
	buyer    *servertest.Party
	supplier *servertest.Party
	operator *servertest.Party
	product  string
}

func newWorld(t *testing.T) *world { return newWorldWith(t, servertest.Options{}) }

func newWorldWith(t *testing.T, o servertest.Options) *world {
	e := servertest.New(t, o)
	w := &world{t: t, e: e, buyer: e.Buyer("US"), operator: e.Staff(commonv1.Role_ROLE_OPERATOR)}
	w.supplier = e.Account(admin.NewAccount{Role: commonv1.Role_ROLE_SUPPLIER, Name: "ERP Supplier", Email: "erp-supplier@test.example",
		Country: "CN", Supplier: &adminv1.SupplierProfile{TradeAssuranceLimitUsdMinor: 100_000_00, OneTouchExport: true,
			BankAccount: "CN00TEST", BankAccountVerified: true,
			ReturnAddress: &commonv1.Address{RecipientName: "Returns", Phone: "+86 755 1234 5678", Country: "CN",
				Lines: []string{"88 Keji Road"}, City: "Shenzhen", PostalCode: "518000"}}})
	w.product = e.Product(w.supplier, "Widget", 10_00, "USD")
	return w
}

// delivered returns an order drafted, accepted, paid, shipped and delivered.
func (w *world) delivered() *orderv1.Order {
	w.t.Helper()
	ctx := w.e.Ctx
	created, err := w.supplier.Orders.CreateOrder(ctx, connect.NewRequest(&orderv1.CreateOrderRequest{
		Policy: commonv1.Policy_POLICY_RETAIL, BuyerEmail: w.buyer.Account.Email,
		Terms: &orderv1.OrderTerms{
			Lines: []*orderv1.OrderLine{{ProductId: w.product, Quantity: 10}}, Currency: "USD", ShippingFeeMinor: 20_00,
			ShippingAddress: &commonv1.Address{RecipientName: "Acme", Phone: "+1 555 0100", Country: "US", Lines: []string{"1 Main St"}},
			TradeTerm:       orderv1.TradeTerm_TRADE_TERM_DAP, ShippingMethod: orderv1.ShippingMethod_SHIPPING_METHOD_EXPRESS,
			PaymentTerms: &orderv1.PaymentTerms{Kind: orderv1.PaymentTerms_KIND_FULL}, CoverageType: orderv1.CoverageType_COVERAGE_TYPE_POST_DELIVERY,
			ShipByTime: timestamppb.New(w.e.Clock.Now().Add(7 * 24 * time.Hour)),
		},
	}))
	if err != nil {
		w.t.Fatalf("create order: %v", err)
	}
	w.e.DeliverOrder(w.buyer, w.supplier, w.operator, created.Msg.GetOrder().GetId())
	return created.Msg.GetOrder()
}

// syncWriter is an io.Writer safe to read while the ERP writes.
type syncWriter struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buf.Write(p)
}

func (s *syncWriter) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buf.String()
}

func readState(t *testing.T, path string) *state {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read state: %v", err)
	}
	st := &state{}
	if err := json.Unmarshal(b, st); err != nil {
		t.Fatalf("parse state: %v", err)
	}
	return st
}

// TestOnceKeepsOrdersInSync runs the ERP as a batch job twice: the second run processes only what
// happened since the first.
func TestOnceKeepsOrdersInSync(t *testing.T) {
	w := newWorld(t)
	o := w.delivered()
	cfg := config{Addr: w.e.HTTP.URL, Key: w.supplier.Key, Protocol: "connect", StatePath: filepath.Join(t.TempDir(), "erp", "state.json"),
		Once: true, HTTPClient: w.e.HTTPClient()}
	var out bytes.Buffer
	if err := run(w.e.Ctx, cfg, &out); err != nil {
		t.Fatalf("first run: %v\n%s", err, out.String())
	}
	st := readState(t, cfg.StatePath)
	if got := st.Orders[o.GetId()]; got == nil || got.State != "DELIVERED" || got.Total != "120.00 USD" || got.Tracking != "JD1" {
		t.Fatalf("local order after the first run: %+v\n%s", got, out.String())
	}
	for _, want := range []string{"order.drafted", "order.paid", "order.delivered", "caught up: 5 new events"} {
		if !strings.Contains(out.String(), want) {
			t.Fatalf("first run output lacks %q:\n%s", want, out.String())
		}
	}
	if _, err := w.buyer.Orders.ConfirmReceipt(w.e.Ctx, connect.NewRequest(&orderv1.ConfirmReceiptRequest{OrderId: o.GetId()})); err != nil {
		t.Fatalf("confirm receipt: %v", err)
	}
	out.Reset()
	for _, proto := range []string{"grpc", "grpc-web"} {
		cfg.Protocol = proto
		if err := run(w.e.Ctx, cfg, &out); err != nil {
			t.Fatalf("%s run: %v\n%s", proto, err, out.String())
		}
	}
	if !strings.Contains(out.String(), "caught up: 1 new events") || !strings.Contains(out.String(), "caught up: 0 new events") {
		t.Fatalf("later runs should process only the new event:\n%s", out.String())
	}
	if got := readState(t, cfg.StatePath).Orders[o.GetId()]; got.State != "COMPLETED" {
		t.Fatalf("local order after receipt: %+v", got)
	}
}

// TestFollowReactsToReturnsAndDisputes runs the ERP as a long-lived follower: it approves a return as
// the supplier and records a dispute, each as it happens.
func TestFollowReactsToReturnsAndDisputes(t *testing.T) {
	w := newWorld(t)
	first, second := w.delivered(), w.delivered()
	cfg := config{Addr: w.e.HTTP.URL, Key: w.supplier.Key, Protocol: "connect", StatePath: filepath.Join(t.TempDir(), "state.json"),
		ApproveReturns: true, HTTPClient: w.e.HTTPClient()}
	ctx, cancel := context.WithCancel(w.e.Ctx)
	defer cancel()
	out := &syncWriter{}
	done := make(chan error, 1)
	go func() { done <- run(ctx, cfg, out) }()

	waitFor := func(what string, ok func() bool) {
		t.Helper()
		servertest.WaitFor(t, what+"; ERP output:\n"+out.String(), ok, func() int { return len(out.String()) })
	}
	waitFor("the backlog", func() bool { return strings.Count(out.String(), "order.delivered") == 2 })

	evidence := []*commonv1.Evidence{{Kind: commonv1.EvidenceKind_EVIDENCE_KIND_PRODUCT_PHOTO, Uri: "https://files.example/cracked.jpg", Description: "cracked casing"}}
	ret, err := w.buyer.Returns.CreateReturn(w.e.Ctx, connect.NewRequest(&returnsv1.CreateReturnRequest{
		OrderId: first.GetId(), Reason: returnsv1.Return_REASON_QUALITY_PROBLEM, Description: "casing cracked", Evidence: evidence}))
	if err != nil {
		t.Fatalf("create return: %v", err)
	}
	waitFor("the ERP to approve the return", func() bool {
		r, err := w.buyer.Returns.GetReturn(w.e.Ctx, connect.NewRequest(&returnsv1.GetReturnRequest{Id: ret.Msg.GetReturn().GetId()}))
		return err == nil && r.Msg.GetReturn().GetState() == returnsv1.Return_STATE_APPROVED
	})

	dsp, err := w.buyer.Disputes.OpenDispute(w.e.Ctx, connect.NewRequest(&disputev1.OpenDisputeRequest{
		OrderId: second.GetId(), Reason: disputev1.Dispute_REASON_NOT_AS_DESCRIBED, Description: "wrong colour and size",
		Requested: &disputev1.OfferTerms{Resolution: disputev1.Dispute_RESOLUTION_PARTIAL_REFUND, RefundAmount: &commonv1.Money{AmountMinor: 30_00, Currency: "USD"}},
		Evidence:  evidence}))
	if err != nil {
		t.Fatalf("open dispute: %v", err)
	}
	waitFor("the dispute", func() bool { return strings.Contains(out.String(), "DISPUTE "+dsp.Msg.GetDispute().GetId()) })
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("erp: %v\n%s", err, out.String())
	}
	text := out.String()
	for _, want := range []string{"RETURN " + ret.Msg.GetReturn().GetId(), "approved return " + ret.Msg.GetReturn().GetId(),
		"supplier responds by", "asks 30.00 USD", "stopped at cursor"} {
		if !strings.Contains(text, want) {
			t.Fatalf("ERP output lacks %q:\n%s", want, text)
		}
	}
	st := readState(t, cfg.StatePath)
	if r := st.Returns[ret.Msg.GetReturn().GetId()]; r == nil || r.State != "APPROVED" {
		t.Fatalf("local return: %+v", r)
	}
	if d := st.Disputes[dsp.Msg.GetDispute().GetId()]; d == nil || d.State != "AWAITING_RESPONSE" || !st.Orders[second.GetId()].Held {
		t.Fatalf("local dispute %+v, order %+v", d, st.Orders[second.GetId()])
	}
}

// TestWebhooksKeepOrdersInSync runs the ERP as a webhook receiver: it catches up from the feed, then
// applies each delivery once, ignoring a redelivery and refusing a forged one.
func TestWebhooksKeepOrdersInSync(t *testing.T) {
	w := newWorldWith(t, servertest.Options{Dev: true})
	w.e.RunWebhooks()
	before := w.delivered()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	created, err := w.supplier.Webhooks.CreateWebhookEndpoint(w.e.Ctx, connect.NewRequest(&webhookv1.CreateWebhookEndpointRequest{
		Url: "http://" + ln.Addr().String() + "/webhooks", EventTypes: []string{"order.*", "return.*", "dispute.*"}}))
	if err != nil {
		t.Fatalf("create endpoint: %v", err)
	}
	cfg := config{Addr: w.e.HTTP.URL, Key: w.supplier.Key, Protocol: "connect", StatePath: filepath.Join(t.TempDir(), "state.json"),
		HTTPClient: w.e.HTTPClient(), Listener: ln, WebhookSecret: created.Msg.GetSecret()}
	ctx, cancel := context.WithCancel(w.e.Ctx)
	defer cancel()
	out := &syncWriter{}
	done := make(chan error, 1)
	go func() { done <- run(ctx, cfg, out) }()
	waitFor := func(what string, ok func() bool) {
		t.Helper()
		servertest.WaitFor(t, what+"; ERP output:\n"+out.String(), ok, func() int { return len(out.String()) })
	}
	waitFor("the catch-up", func() bool { return strings.Contains(out.String(), "receiving webhooks") })
	after := w.delivered()
	// The ERP prints an event's line before it saves the state file: wait for the file itself.
	waitFor("the webhooks", func() bool {
		st, err := load(cfg.StatePath)
		return err == nil && st.Orders[after.GetId()] != nil && st.Orders[after.GetId()].State == "DELIVERED" &&
			strings.Contains(out.String(), "order.delivered: order "+after.GetId())
	})
	st := readState(t, cfg.StatePath)
	if st.Orders[before.GetId()].State != "DELIVERED" || st.Orders[after.GetId()].State != "DELIVERED" || st.Orders[after.GetId()].Tracking != "JD1" {
		t.Fatalf("local orders %+v", st.Orders)
	}
	// A redelivery arrives with the same webhook-id and is applied once.
	ds, err := w.supplier.Webhooks.ListWebhookDeliveries(w.e.Ctx, connect.NewRequest(&webhookv1.ListWebhookDeliveriesRequest{EndpointId: created.Msg.GetEndpoint().GetId()}))
	if err != nil || len(ds.Msg.GetDeliveries()) != 5 {
		t.Fatalf("deliveries: %v %v", ds, err)
	}
	again := ds.Msg.GetDeliveries()[2]
	if _, err := w.supplier.Webhooks.RedeliverWebhook(w.e.Ctx, connect.NewRequest(&webhookv1.RedeliverWebhookRequest{DeliveryId: again.GetId()})); err != nil {
		t.Fatalf("redeliver: %v", err)
	}
	waitFor("the duplicate", func() bool {
		return strings.Contains(out.String(), again.GetWebhookId()+" "+again.GetEventType()+": seen before, ignored")
	})
	// A forged delivery is refused.
	req, _ := http.NewRequest(http.MethodPost, "http://"+ln.Addr().String()+"/webhooks", strings.NewReader(`{"id":"999999","type":"order.cancelled"}`))
	req.Header.Set("webhook-id", "999999")
	req.Header.Set("webhook-timestamp", strconv.FormatInt(time.Now().Unix(), 10))
	req.Header.Set("webhook-signature", "v1,Zm9yZ2Vk")
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("forged delivery: %v %v", resp, err)
	}
	resp.Body.Close()
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("erp: %v\n%s", err, out.String())
	}
	if n := strings.Count(out.String(), "order.delivered: order "+after.GetId()); n != 1 {
		t.Fatalf("the order's delivery applied %d times:\n%s", n, out.String())
	}
}
