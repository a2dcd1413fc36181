package devseed

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"time"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/types/known/timestamppb"

	commonv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/common/v1"
	complaintv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/complaint/v1"
	disputev1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/dispute/v1"
	orderv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/order/v1"
	payoutv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/payout/v1"
	returnsv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/returns/v1"
	tradeassure "github.com/tradeassure/tradeassure/sdk/go"
)

// DemoOrders names the demo's orders by what they show, in the order they are made. Each is made through
// the real services, as its parties would, so it carries its whole history: revisions, payments, ledger
// transfers, timelines and events.
var DemoOrders = []string{
	"draft", "draft_2", "awaiting_payment", "tt_pending", "paid", "shipped", "delivered", "completed", "completed_2", "cancelled",
	"return_requested", "free_return_shipped", "dispute_awaiting_supplier", "dispute_escalated", "complaint_filed",
}

// inProcess is an HTTP client that serves each request with h directly, without a network.
type inProcess struct{ h http.Handler }

func (c inProcess) Do(r *http.Request) (*http.Response, error) {
	w := httptest.NewRecorder()
	c.h.ServeHTTP(w, r)
	return w.Result(), nil
}

// demo is the demo's parties, each a client acting as its seeded key.
type demo struct {
	ctx                                           context.Context
	buyer, supplier, operator, arbiter, warehouse *tradeassure.Client
	products                                      []string
	now                                           func() time.Time
	ids                                           map[string]string
}

// Demo fills the seeded marketplace with a believable history, once (a database whose supplier already
// has orders is left alone): orders in every state, an open return, a free return on its way to the
// warehouse, a dispute awaiting the supplier, an escalated dispute, a complaint awaiting an arbiter, a
// supplier balance and a withdrawal. Everything goes through h, the server's own handler, with the keys
// Seed issued, so every rule applies as it would to a client. It returns the ids of DemoOrders (nil when
// the demo was there already).
func Demo(ctx context.Context, h http.Handler, keys map[string]Principal, now func() time.Time) (map[string]string, error) {
	client := func(key string) *tradeassure.Client {
		return tradeassure.New("http://devseed.invalid", keys[key].APIKey, tradeassure.WithHTTPClient(inProcess{h}), tradeassure.WithoutRetries())
	}
	d := &demo{ctx: ctx, buyer: client("buyer"), supplier: client("supplier"), operator: client("operator"), arbiter: client("arbiter"),
		warehouse: client("warehouse"), products: keys["supplier"].Products, now: now, ids: map[string]string{}}
	existing, err := d.supplier.Orders.ListOrders(ctx, connect.NewRequest(&orderv1.ListOrdersRequest{PageSize: 1}))
	if err != nil {
		return nil, fmt.Errorf("demo: list orders: %w", err)
	}
	if len(existing.Msg.GetOrders()) > 0 {
		return nil, nil
	}
	if err := d.build(); err != nil {
		return nil, fmt.Errorf("demo: %w", err)
	}
	return d.ids, nil
}

// terms are the demo's order terms: quantity of the product at index p, 30.00 shipping and 4.00
// insurance, by air to the buyer's warehouse in Springfield.
func (d *demo) terms(p int, quantity int64) *orderv1.OrderTerms {
	return &orderv1.OrderTerms{
		Lines:    []*orderv1.OrderLine{{ProductId: d.products[p%len(d.products)], Quantity: quantity}},
		Currency: "USD", ShippingFeeMinor: 30_00, InsuranceFeeMinor: 4_00,
		ShippingAddress: &commonv1.Address{RecipientName: "Acme Receiving Dock", Phone: "+1 217 555 0100", Country: "US",
			Lines: []string{"1200 Commerce Way"}, City: "Springfield", Region: "IL", PostalCode: "62701"},
		TradeTerm: orderv1.TradeTerm_TRADE_TERM_FCA, ShippingMethod: orderv1.ShippingMethod_SHIPPING_METHOD_AIR,
		PaymentTerms: &orderv1.PaymentTerms{Kind: orderv1.PaymentTerms_KIND_FULL},
		CoverageType: orderv1.CoverageType_COVERAGE_TYPE_POST_DELIVERY,
		ShipByTime:   timestamppb.New(d.now().Add(14 * 24 * time.Hour)),
	}
}

func evidence(kind commonv1.EvidenceKind, what string) *commonv1.Evidence {
	return &commonv1.Evidence{Kind: kind, Description: what, Uri: "https://files.example/demo/" + what}
}

// msg unwraps a response.
func msg[T any](r *connect.Response[T], err error) (*T, error) {
	if err != nil {
		return nil, err
	}
	return r.Msg, nil
}

// done drops a response, keeping the error.
func done[T any](_ *connect.Response[T], err error) error { return err }

// order drafts an order and takes it as far as stage: "draft", "accepted", "paid", "shipped",
// "delivered" or "completed".
func (d *demo) order(name string, pol commonv1.Policy, p int, quantity int64, stage string) (string, error) {
	ctx := d.ctx
	o, err := msg(d.supplier.Orders.CreateOrder(ctx, connect.NewRequest(&orderv1.CreateOrderRequest{
		Policy: pol, BuyerEmail: "buyer@acme.example", Terms: d.terms(p, quantity)})))
	if err != nil {
		return "", fmt.Errorf("%s: draft: %w", name, err)
	}
	id := o.GetOrder().GetId()
	d.ids[name] = id
	stages := []struct {
		name string
		run  func() error
	}{
		{"accepted", func() error {
			_, err := d.buyer.Orders.AcceptOrder(ctx, connect.NewRequest(&orderv1.AcceptOrderRequest{OrderId: id}))
			return err
		}},
		{"paid", func() error {
			_, err := d.buyer.Orders.PayOrder(ctx, connect.NewRequest(&orderv1.PayOrderRequest{OrderId: id,
				Method: orderv1.PaymentMethod_PAYMENT_METHOD_CARD, CardToken: "tok_visa_4242"}))
			return err
		}},
		{"shipped", func() error {
			_, err := d.supplier.Orders.ShipOrder(ctx, connect.NewRequest(&orderv1.ShipOrderRequest{OrderId: id, Carrier: "DHL Express",
				TrackingNumber: "JD0146" + fmt.Sprint(len(d.ids))}))
			return err
		}},
		{"delivered", func() error {
			_, err := d.operator.Orders.RecordDelivery(ctx, connect.NewRequest(&orderv1.RecordDeliveryRequest{OrderId: id}))
			return err
		}},
		{"completed", func() error {
			_, err := d.buyer.Orders.ConfirmReceipt(ctx, connect.NewRequest(&orderv1.ConfirmReceiptRequest{OrderId: id}))
			return err
		}},
	}
	for _, s := range stages {
		if stage == "draft" {
			break
		}
		if err := s.run(); err != nil {
			return "", fmt.Errorf("%s: %s: %w", name, s.name, err)
		}
		if s.name == stage {
			break
		}
	}
	return id, nil
}

func (d *demo) build() error {
	ctx := d.ctx
	ta, retail := commonv1.Policy_POLICY_TRADE_ASSURANCE, commonv1.Policy_POLICY_RETAIL
	for _, o := range []struct {
		name  string
		pol   commonv1.Policy
		p     int
		qty   int64
		stage string
	}{
		{"draft", ta, 0, 40, "draft"}, {"draft_2", ta, 2, 5, "draft"}, {"awaiting_payment", ta, 1, 12, "accepted"}, {"tt_pending", ta, 2, 6, "accepted"},
		{"paid", ta, 0, 100, "paid"}, {"shipped", ta, 1, 30, "shipped"}, {"delivered", ta, 2, 8, "delivered"},
		{"completed", ta, 0, 200, "completed"}, {"completed_2", retail, 1, 50, "completed"}, {"cancelled", ta, 2, 3, "accepted"},
		{"return_requested", retail, 1, 10, "delivered"}, {"free_return_shipped", retail, 0, 4, "delivered"},
		{"dispute_awaiting_supplier", ta, 2, 15, "delivered"}, {"dispute_escalated", retail, 1, 20, "delivered"},
		{"complaint_filed", ta, 0, 24, "completed"},
	} {
		if _, err := d.order(o.name, o.pol, o.p, o.qty, o.stage); err != nil {
			return err
		}
	}
	id := d.ids
	// A T/T transfer the buyer says it sent, for an operator to confirm.
	if err := done(d.buyer.Orders.PayOrder(ctx, connect.NewRequest(&orderv1.PayOrderRequest{
		OrderId: id["tt_pending"], Method: orderv1.PaymentMethod_PAYMENT_METHOD_TT}))); err != nil {
		return fmt.Errorf("tt_pending: pay by T/T: %w", err)
	}
	if err := done(d.buyer.Orders.CancelOrder(ctx, connect.NewRequest(&orderv1.CancelOrderRequest{
		OrderId: id["cancelled"], Reason: orderv1.CancellationReason_CANCELLATION_REASON_BUYER}))); err != nil {
		return fmt.Errorf("cancelled: cancel: %w", err)
	}
	// A return waiting for the supplier's answer.
	if err := done(d.buyer.Returns.CreateReturn(ctx, connect.NewRequest(&returnsv1.CreateReturnRequest{
		OrderId: id["return_requested"], Reason: returnsv1.Return_REASON_NOT_AS_DESCRIBED,
		Description: "The speakers are blue; the listing and the order say black.",
		Evidence:    []*commonv1.Evidence{evidence(commonv1.EvidenceKind_EVIDENCE_KIND_PRODUCT_PHOTO, "blue-speakers.jpg")}}))); err != nil {
		return fmt.Errorf("return_requested: request: %w", err)
	}
	// A free return on its way to the platform's warehouse, for the warehouse to receive and inspect.
	fr, err := msg(d.buyer.Returns.CreateReturn(ctx, connect.NewRequest(&returnsv1.CreateReturnRequest{
		OrderId: id["free_return_shipped"], FreeReturn: true, Reason: returnsv1.Return_REASON_CHANGED_MIND,
		Description: "Ordered too many chargers for the store."})))
	if err != nil {
		return fmt.Errorf("free_return_shipped: request: %w", err)
	}
	if err := done(d.buyer.Returns.ShipReturn(ctx, connect.NewRequest(&returnsv1.ShipReturnRequest{
		Id: fr.GetReturn().GetId(), Carrier: "UPS", TrackingNumber: "1Z999AA10123456784"}))); err != nil {
		return fmt.Errorf("free_return_shipped: ship: %w", err)
	}
	// A dispute the supplier has not answered yet.
	if err := done(d.buyer.Disputes.OpenDispute(ctx, connect.NewRequest(&disputev1.OpenDisputeRequest{
		OrderId: id["dispute_awaiting_supplier"], Reason: disputev1.Dispute_REASON_DAMAGED,
		Description: "Four of the fifteen watches arrived with cracked screens.",
		Requested:   &disputev1.OfferTerms{Resolution: disputev1.Dispute_RESOLUTION_PARTIAL_REFUND, RefundAmount: &commonv1.Money{AmountMinor: 192_00, Currency: "USD"}},
		Evidence:    []*commonv1.Evidence{evidence(commonv1.EvidenceKind_EVIDENCE_KIND_PRODUCT_PHOTO, "cracked-screens.jpg")}}))); err != nil {
		return fmt.Errorf("dispute_awaiting_supplier: open: %w", err)
	}
	// A dispute negotiated without agreement and escalated to the platform's arbiters.
	esc, err := msg(d.buyer.Disputes.OpenDispute(ctx, connect.NewRequest(&disputev1.OpenDisputeRequest{
		OrderId: id["dispute_escalated"], Reason: disputev1.Dispute_REASON_QUALITY_PROBLEM,
		Description: "Half of the speakers crackle at any volume.",
		Requested:   &disputev1.OfferTerms{Resolution: disputev1.Dispute_RESOLUTION_FULL_REFUND},
		Evidence:    []*commonv1.Evidence{evidence(commonv1.EvidenceKind_EVIDENCE_KIND_PRODUCT_PHOTO, "crackling-speaker.jpg")}})))
	if err != nil {
		return fmt.Errorf("dispute_escalated: open: %w", err)
	}
	dspID := esc.GetDispute().GetId()
	if err := done(d.supplier.Disputes.RespondToDispute(ctx, connect.NewRequest(&disputev1.RespondToDisputeRequest{
		Id: dspID, Decision: disputev1.RespondToDisputeRequest_DECISION_REJECT,
		CounterOffer: &disputev1.OfferTerms{Resolution: disputev1.Dispute_RESOLUTION_PARTIAL_REFUND, RefundAmount: &commonv1.Money{AmountMinor: 60_00, Currency: "USD"}},
		Evidence:     []*commonv1.Evidence{evidence(commonv1.EvidenceKind_EVIDENCE_KIND_INSPECTION_REPORT, "factory-qc.pdf")},
		Note:         "Our QC passed every unit; we offer 60.00 for the trouble."}))); err != nil {
		return fmt.Errorf("dispute_escalated: counter-offer: %w", err)
	}
	if err := done(d.buyer.Disputes.EscalateDispute(ctx, connect.NewRequest(&disputev1.EscalateDisputeRequest{
		Id: dspID, Note: "60.00 does not cover ten faulty speakers."}))); err != nil {
		return fmt.Errorf("dispute_escalated: escalate: %w", err)
	}
	// A complaint for an arbiter to decide.
	if err := done(d.buyer.Complaints.FileComplaint(ctx, connect.NewRequest(&complaintv1.FileComplaintRequest{
		OrderId: id["complaint_filed"], Type: complaintv1.Complaint_TYPE_SERVICE_FAILURE,
		Description: "The supplier shipped nine days after the agreed date and stopped answering messages.",
		Evidence: []*commonv1.Evidence{evidence(commonv1.EvidenceKind_EVIDENCE_KIND_ORDER_RECORD, "order-record.pdf"),
			evidence(commonv1.EvidenceKind_EVIDENCE_KIND_LOGISTICS_RECORD, "tracking-history.pdf")}}))); err != nil {
		return fmt.Errorf("complaint_filed: file: %w", err)
	}
	// The completed orders left the supplier a balance; it withdraws part of it.
	if err := done(d.supplier.Payouts.RequestWithdrawal(ctx, connect.NewRequest(&payoutv1.RequestWithdrawalRequest{
		RequestId: "demo-withdrawal-1", Amount: &commonv1.Money{AmountMinor: 1_000_00, Currency: "USD"}}))); err != nil {
		return fmt.Errorf("withdrawal: %w", err)
	}
	return nil
}
