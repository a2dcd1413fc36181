package tradeassure_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/types/known/timestamppb"

	adminv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/admin/v1"
	casev1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/case/v1"
	commonv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/common/v1"
	eventv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/event/v1"
	orderv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/order/v1"
	tradeassure "github.com/tradeassure/tradeassure/sdk/go"
)

// draftRequest is a valid draft of quantity chargers for the demo buyer: FCA by air, paid in full.
func draftRequest(productID string, quantity int64) *orderv1.CreateOrderRequest {
	return &orderv1.CreateOrderRequest{
		Policy:     commonv1.Policy_POLICY_TRADE_ASSURANCE,
		BuyerEmail: "buyer@acme.example",
		Terms: &orderv1.OrderTerms{
			Lines:             []*orderv1.OrderLine{{ProductId: productID, Quantity: quantity}},
			Currency:          "USD",
			ShippingFeeMinor:  150_00,
			InsuranceFeeMinor: 25_00,
			ShippingAddress: &commonv1.Address{RecipientName: "Acme Receiving", Phone: "+1 555 0100", Country: "US",
				Lines: []string{"1 Main St"}, City: "Springfield", PostalCode: "12345"},
			TradeTerm:      orderv1.TradeTerm_TRADE_TERM_FCA,
			ShippingMethod: orderv1.ShippingMethod_SHIPPING_METHOD_AIR,
			PaymentTerms:   &orderv1.PaymentTerms{Kind: orderv1.PaymentTerms_KIND_FULL},
			CoverageType:   orderv1.CoverageType_COVERAGE_TYPE_POST_DELIVERY,
			ShipByTime:     timestamppb.New(time.Now().Add(14 * 24 * time.Hour)),
		},
	}
}

// ExampleNew connects as the demo supplier and asks the server who that is.
func ExampleNew() {
	dev := startDevServer() // a real server with the --dev demo marketplace
	defer dev.Close()

	c := tradeassure.New(dev.URL, dev.key("supplier"))
	resp, err := c.Admin.GetAccount(context.Background(), connect.NewRequest(&adminv1.GetAccountRequest{}))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(resp.Msg.GetAccount().GetRole(), resp.Msg.GetAccount().GetName())
	// Output: ROLE_SUPPLIER Shenzhen Bright Electronics
}

// Example_orderLifecycle drafts an order as the supplier, and accepts and pays it as the buyer. The
// mutating calls get request ids from the SDK, so a retried call is applied once.
func Example_orderLifecycle() {
	dev := startDevServer()
	defer dev.Close()
	ctx := context.Background()
	supplier := tradeassure.New(dev.URL, dev.key("supplier"))
	buyer := tradeassure.New(dev.URL, dev.key("buyer"))

	created, err := supplier.Orders.CreateOrder(ctx, connect.NewRequest(draftRequest(dev.Keys["supplier"].Products[0], 200)))
	if err != nil {
		fmt.Println(err)
		return
	}
	o := created.Msg.GetOrder()
	fmt.Println(o.GetState(), o.GetAmounts().GetTotal().GetAmountMinor(), o.GetAmounts().GetTotal().GetCurrency())

	accepted, err := buyer.Orders.AcceptOrder(ctx, connect.NewRequest(&orderv1.AcceptOrderRequest{OrderId: o.GetId(), Etag: o.GetEtag()}))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(accepted.Msg.GetOrder().GetState())

	paid, err := buyer.Orders.PayOrder(ctx, connect.NewRequest(&orderv1.PayOrderRequest{
		OrderId: o.GetId(), Method: orderv1.PaymentMethod_PAYMENT_METHOD_CARD, CardToken: "tok_4242424242424242"}))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(paid.Msg.GetPayment().GetState(), paid.Msg.GetOrder().GetState())
	// Output:
	// STATE_DRAFT 267500 USD
	// STATE_AWAITING_PAYMENT
	// STATE_SETTLED STATE_PAID
}

// ExampleAsError shows the typed error of a rejected draft: FOB is a sea term and cannot go by air.
func ExampleAsError() {
	dev := startDevServer()
	defer dev.Close()
	c := tradeassure.New(dev.URL, dev.key("supplier"))

	req := draftRequest(dev.Keys["supplier"].Products[0], 10)
	req.Terms.TradeTerm = orderv1.TradeTerm_TRADE_TERM_FOB
	_, err := c.Orders.CreateOrder(context.Background(), connect.NewRequest(req))
	if e, ok := tradeassure.AsError(err); ok {
		fmt.Println(e.Code, tradeassure.ReasonName(e.Reason))
	}
	// Errors compare by code and reason with errors.Is.
	fmt.Println(errors.Is(err, &tradeassure.Error{Reason: commonv1.ErrorReason_ERROR_REASON_TRADE_TERM_SHIPPING_MISMATCH}))

	// Schema validation failures name the fields.
	req = draftRequest(dev.Keys["supplier"].Products[0], 10)
	req.Terms.ShippingAddress.Phone = ""
	_, err = c.Orders.CreateOrder(context.Background(), connect.NewRequest(req))
	if e, ok := tradeassure.AsError(err); ok {
		fmt.Println(e.Code, tradeassure.ReasonName(e.Reason))
		for _, v := range e.FieldViolations {
			fmt.Println(v.Field)
		}
	}
	// Output:
	// invalid_argument TRADE_TERM_SHIPPING_MISMATCH
	// true
	// invalid_argument INVALID_FIELD
	// terms.shipping_address.phone
}

// ExampleClient_AllOrders walks every page of the supplier's orders, two at a time.
func ExampleClient_AllOrders() {
	dev := startDevServer()
	defer dev.Close()
	ctx := context.Background()
	c := tradeassure.New(dev.URL, dev.key("supplier"))
	for i := range 5 {
		if _, err := c.Orders.CreateOrder(ctx, connect.NewRequest(draftRequest(dev.Keys["supplier"].Products[0], int64(i+1)))); err != nil {
			fmt.Println(err)
			return
		}
	}

	var quantities []int64
	for o, err := range c.AllOrders(ctx, &orderv1.ListOrdersRequest{PageSize: 2}) {
		if err != nil {
			fmt.Println(err)
			return
		}
		quantities = append(quantities, o.GetTerms().GetLines()[0].GetQuantity())
	}
	fmt.Println(quantities) // newest first
	// Output: [5 4 3 2 1]
}

// ExampleClient_AllCaseSteps reads an order's case timeline one step a page: the supplier drafts the
// order and the buyer accepts it.
func ExampleClient_AllCaseSteps() {
	dev := startDevServer()
	defer dev.Close()
	ctx := context.Background()
	supplier := tradeassure.New(dev.URL, dev.key("supplier"))
	buyer := tradeassure.New(dev.URL, dev.key("buyer"))
	created, err := supplier.Orders.CreateOrder(ctx, connect.NewRequest(draftRequest(dev.Keys["supplier"].Products[0], 1)))
	if err != nil {
		fmt.Println(err)
		return
	}
	id := created.Msg.GetOrder().GetId()
	if _, err := buyer.Orders.AcceptOrder(ctx, connect.NewRequest(&orderv1.AcceptOrderRequest{OrderId: id})); err != nil {
		fmt.Println(err)
		return
	}

	for step, err := range buyer.AllCaseSteps(ctx, &casev1.ListCaseTimelineRequest{OrderId: id, PageSize: 1}) {
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Println(step.GetPart(), step.GetDescription())
	}
	// Output:
	// PART_ORDER Order drafted
	// PART_ORDER Order accepted
}

// ExampleClient_Follow follows the buyer's event feed: the stream skips heartbeats, and would reconnect
// after the last event if the connection broke.
func ExampleClient_Follow() {
	dev := startDevServer()
	defer dev.Close()
	supplier := tradeassure.New(dev.URL, dev.key("supplier"))
	buyer := tradeassure.New(dev.URL, dev.key("buyer"))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	created, err := supplier.Orders.CreateOrder(ctx, connect.NewRequest(draftRequest(dev.Keys["supplier"].Products[0], 1)))
	if err != nil {
		fmt.Println(err)
		return
	}
	go func() {
		o := created.Msg.GetOrder()
		_, _ = buyer.Orders.AcceptOrder(ctx, connect.NewRequest(&orderv1.AcceptOrderRequest{OrderId: o.GetId()}))
	}()

	seen := 0
	for e, err := range buyer.Follow(ctx, &eventv1.WatchEventsRequest{SubjectType: "order"}) {
		if err != nil {
			fmt.Println(err)
			return
		}
		var o orderv1.Order
		if err := e.GetPayload().UnmarshalTo(&o); err != nil {
			fmt.Println(err)
			return
		}
		fmt.Println(e.GetType(), o.GetState())
		if seen++; seen == 2 {
			break
		}
	}
	// Output:
	// order.drafted STATE_DRAFT
	// order.accepted STATE_AWAITING_PAYMENT
}

// ExampleWithProtocol speaks gRPC; over a plaintext http:// URL the SDK's default HTTP client uses
// cleartext HTTP/2 (h2c), which gRPC needs.
func ExampleWithProtocol() {
	dev := startDevServer()
	defer dev.Close()
	for _, p := range []tradeassure.Protocol{tradeassure.ProtocolConnect, tradeassure.ProtocolGRPC, tradeassure.ProtocolGRPCWeb} {
		c := tradeassure.New(dev.URL, dev.key("operator"), tradeassure.WithProtocol(p))
		resp, err := c.Admin.GetClock(context.Background(), connect.NewRequest(&adminv1.GetClockRequest{}))
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Println(p, resp.Msg.GetAdjustable())
	}
	// Output:
	// connect true
	// grpc true
	// grpcweb true
}
