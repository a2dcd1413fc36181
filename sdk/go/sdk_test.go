package tradeassure_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"connectrpc.com/connect"

	adminv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/admin/v1"
	"github.com/tradeassure/tradeassure/gen/go/tradeassure/admin/v1/adminv1connect"
	commonv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/common/v1"
	eventv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/event/v1"
	"github.com/tradeassure/tradeassure/gen/go/tradeassure/event/v1/eventv1connect"
	orderv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/order/v1"
	"github.com/tradeassure/tradeassure/gen/go/tradeassure/order/v1/orderv1connect"
	tradeassure "github.com/tradeassure/tradeassure/sdk/go"
	"github.com/tradeassure/tradeassure/server/servertest"
)

// fakeOrders is an OrderService that fails as a test tells it to and records what arrived.
type fakeOrders struct {
	orderv1connect.UnimplementedOrderServiceHandler
	mu sync.Mutex
	// failures is how many calls of each procedure fail first, and with what.
	failures map[string][]error
	// requestIDs are the request ids that arrived, per procedure.
	requestIDs map[string][]string
	// auth are the Authorization headers that arrived.
	auth []string
	// pages serves ListOrders: token → orders and next token.
	pages map[string]fakePage
	// tokens are the page tokens ListOrders received.
	tokens []string
}

type fakePage struct {
	ids  []string
	next string
}

func (f *fakeOrders) record(proc, requestID string, h http.Header) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.requestIDs == nil {
		f.requestIDs = map[string][]string{}
	}
	f.requestIDs[proc] = append(f.requestIDs[proc], requestID)
	f.auth = append(f.auth, h.Get("Authorization"))
	if errs := f.failures[proc]; len(errs) > 0 {
		f.failures[proc] = errs[1:]
		return errs[0]
	}
	return nil
}

func (f *fakeOrders) calls(proc string) []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.requestIDs[proc]...)
}

func (f *fakeOrders) CreateOrder(_ context.Context, req *connect.Request[orderv1.CreateOrderRequest]) (*connect.Response[orderv1.CreateOrderResponse], error) {
	if err := f.record("CreateOrder", req.Msg.GetRequestId(), req.Header()); err != nil {
		return nil, err
	}
	return connect.NewResponse(&orderv1.CreateOrderResponse{Order: &orderv1.Order{Id: "ord_1", State: orderv1.Order_STATE_DRAFT}}), nil
}

func (f *fakeOrders) AcceptOrder(_ context.Context, req *connect.Request[orderv1.AcceptOrderRequest]) (*connect.Response[orderv1.AcceptOrderResponse], error) {
	if err := f.record("AcceptOrder", req.Msg.GetRequestId(), req.Header()); err != nil {
		return nil, err
	}
	return connect.NewResponse(&orderv1.AcceptOrderResponse{Order: &orderv1.Order{Id: req.Msg.GetOrderId()}}), nil
}

func (f *fakeOrders) GetOrder(_ context.Context, req *connect.Request[orderv1.GetOrderRequest]) (*connect.Response[orderv1.GetOrderResponse], error) {
	if err := f.record("GetOrder", "", req.Header()); err != nil {
		return nil, err
	}
	return connect.NewResponse(&orderv1.GetOrderResponse{Order: &orderv1.Order{Id: req.Msg.GetOrderId()}}), nil
}

func (f *fakeOrders) ListOrders(_ context.Context, req *connect.Request[orderv1.ListOrdersRequest]) (*connect.Response[orderv1.ListOrdersResponse], error) {
	f.mu.Lock()
	f.tokens = append(f.tokens, req.Msg.GetPageToken())
	p, ok := f.pages[req.Msg.GetPageToken()]
	f.mu.Unlock()
	if !ok {
		return nil, connect.NewError(connect.CodeInvalidArgument, errors.New("bad page token"))
	}
	resp := &orderv1.ListOrdersResponse{NextPageToken: p.next}
	for _, id := range p.ids {
		resp.Orders = append(resp.Orders, &orderv1.Order{Id: id})
	}
	return connect.NewResponse(resp), nil
}

// fakeAdmin fails AdvanceClock, which has no request id and must never be retried.
type fakeAdmin struct {
	adminv1connect.UnimplementedAdminServiceHandler
	mu    sync.Mutex
	calls int
}

func (f *fakeAdmin) AdvanceClock(context.Context, *connect.Request[adminv1.AdvanceClockRequest]) (*connect.Response[adminv1.AdvanceClockResponse], error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	return nil, connect.NewError(connect.CodeUnavailable, errors.New("try later"))
}

// fakeEvents serves WatchEvents streams from a script, one entry per connection.
type fakeEvents struct {
	eventv1connect.UnimplementedEventServiceHandler
	mu      sync.Mutex
	streams []fakeStream
	cursors []string
}

type fakeStream struct {
	ids []string // "" is a heartbeat
	err error    // how the stream ends; nil holds it open until the client goes
}

func (f *fakeEvents) WatchEvents(ctx context.Context, req *connect.Request[eventv1.WatchEventsRequest], stream *connect.ServerStream[eventv1.WatchEventsResponse]) error {
	f.mu.Lock()
	f.cursors = append(f.cursors, req.Msg.GetAfterId())
	var s fakeStream
	if len(f.streams) > 0 {
		s, f.streams = f.streams[0], f.streams[1:]
	}
	f.mu.Unlock()
	for _, id := range s.ids {
		msg := &eventv1.WatchEventsResponse{}
		if id != "" {
			msg.Event = &eventv1.Event{Id: id, Type: "order.drafted"}
		}
		if err := stream.Send(msg); err != nil {
			return err
		}
	}
	if s.err != nil {
		return s.err
	}
	<-ctx.Done()
	return nil
}

// fakeServer serves the fakes over HTTP/1.1 and h2c, so every protocol works over http://.
func fakeServer(t *testing.T, orders *fakeOrders, adm *fakeAdmin, evs *fakeEvents) string {
	t.Helper()
	mux := http.NewServeMux()
	mux.Handle(orderv1connect.NewOrderServiceHandler(orders))
	mux.Handle(adminv1connect.NewAdminServiceHandler(adm))
	mux.Handle(eventv1connect.NewEventServiceHandler(evs))
	hs := httptest.NewUnstartedServer(mux)
	p := new(http.Protocols)
	p.SetHTTP1(true)
	p.SetUnencryptedHTTP2(true)
	hs.Config.Protocols = p
	hs.Start()
	t.Cleanup(hs.Close)
	return hs.URL
}

var protocols = []tradeassure.Protocol{tradeassure.ProtocolConnect, tradeassure.ProtocolGRPC, tradeassure.ProtocolGRPCWeb}

// fastRetries keeps the tests quick: 4 attempts, a few milliseconds apart.
func fastRetries() tradeassure.Option {
	p := tradeassure.DefaultRetryPolicy()
	p.InitialBackoff = time.Millisecond
	p.MaxBackoff = 5 * time.Millisecond
	return tradeassure.WithRetry(p)
}

func unavailable() error { return connect.NewError(connect.CodeUnavailable, errors.New("overloaded")) }

// TestRetryReusesGeneratedRequestID checks a mutation without a request id gets one, that a transient
// failure is retried with the very same id, and that the caller's message is left untouched.
func TestRetryReusesGeneratedRequestID(t *testing.T) {
	for _, proto := range protocols {
		t.Run(proto.String(), func(t *testing.T) {
			orders := &fakeOrders{failures: map[string][]error{"CreateOrder": {unavailable(), unavailable()}}}
			url := fakeServer(t, orders, &fakeAdmin{}, &fakeEvents{})
			c := tradeassure.New(url, "ta_test_key", tradeassure.WithProtocol(proto), fastRetries())
			req := &orderv1.CreateOrderRequest{BuyerEmail: "buyer@acme.example"}
			resp, err := c.Orders.CreateOrder(context.Background(), connect.NewRequest(req))
			if err != nil {
				t.Fatalf("create order: %v", err)
			}
			if resp.Msg.GetOrder().GetId() != "ord_1" {
				t.Fatalf("unexpected response %v", resp.Msg)
			}
			ids := orders.calls("CreateOrder")
			if len(ids) != 3 {
				t.Fatalf("want 3 attempts, got %d: %q", len(ids), ids)
			}
			if !strings.HasPrefix(ids[0], "sdk-") || ids[1] != ids[0] || ids[2] != ids[0] {
				t.Fatalf("want one generated id reused on every attempt, got %q", ids)
			}
			if req.GetRequestId() != "" {
				t.Fatalf("the caller's message was changed: request_id %q", req.GetRequestId())
			}
			for _, a := range orders.auth {
				if a != "Bearer ta_test_key" {
					t.Fatalf("want the API key on every attempt, got %q", a)
				}
			}
			// A second call with the same message is a new operation and gets a new id.
			if _, err := c.Orders.CreateOrder(context.Background(), connect.NewRequest(req)); err != nil {
				t.Fatalf("second create: %v", err)
			}
			if ids := orders.calls("CreateOrder"); ids[3] == ids[0] {
				t.Fatalf("a new call reused the previous call's id %q", ids[3])
			}
		})
	}
}

// TestCallerRequestIDIsKept checks an id the caller chose is sent as is, on every attempt.
func TestCallerRequestIDIsKept(t *testing.T) {
	orders := &fakeOrders{failures: map[string][]error{"AcceptOrder": {unavailable()}}}
	c := tradeassure.New(fakeServer(t, orders, &fakeAdmin{}, &fakeEvents{}), "k", fastRetries())
	_, err := c.Orders.AcceptOrder(context.Background(), connect.NewRequest(&orderv1.AcceptOrderRequest{RequestId: "erp-42", OrderId: "ord_1"}))
	if err != nil {
		t.Fatalf("accept: %v", err)
	}
	if ids := orders.calls("AcceptOrder"); len(ids) != 2 || ids[0] != "erp-42" || ids[1] != "erp-42" {
		t.Fatalf("want erp-42 twice, got %q", ids)
	}
}

// TestNoRetryOnPermanentCodes checks an etag conflict (ABORTED) and bad input are not retried.
func TestNoRetryOnPermanentCodes(t *testing.T) {
	for _, code := range []connect.Code{connect.CodeAborted, connect.CodeInvalidArgument, connect.CodeFailedPrecondition} {
		orders := &fakeOrders{failures: map[string][]error{"AcceptOrder": {connect.NewError(code, errors.New("no"))}}}
		c := tradeassure.New(fakeServer(t, orders, &fakeAdmin{}, &fakeEvents{}), "k", fastRetries())
		_, err := c.Orders.AcceptOrder(context.Background(), connect.NewRequest(&orderv1.AcceptOrderRequest{OrderId: "ord_1"}))
		if connect.CodeOf(err) != code {
			t.Fatalf("want %v, got %v", code, err)
		}
		if n := len(orders.calls("AcceptOrder")); n != 1 {
			t.Fatalf("%v: want 1 attempt, got %d", code, n)
		}
	}
}

// TestReadsAreRetried checks a NO_SIDE_EFFECTS read is retried, and that retries stop at MaxAttempts.
func TestReadsAreRetried(t *testing.T) {
	orders := &fakeOrders{failures: map[string][]error{"GetOrder": {unavailable(), unavailable(), unavailable(), unavailable(), unavailable()}}}
	c := tradeassure.New(fakeServer(t, orders, &fakeAdmin{}, &fakeEvents{}), "k", fastRetries())
	_, err := c.Orders.GetOrder(context.Background(), connect.NewRequest(&orderv1.GetOrderRequest{OrderId: "ord_1"}))
	if connect.CodeOf(err) != connect.CodeUnavailable {
		t.Fatalf("want Unavailable after the last attempt, got %v", err)
	}
	if n := len(orders.calls("GetOrder")); n != 4 {
		t.Fatalf("want 4 attempts, got %d", n)
	}
	// One more failure is left; the next call succeeds on its second attempt.
	if _, err := c.Orders.GetOrder(context.Background(), connect.NewRequest(&orderv1.GetOrderRequest{OrderId: "ord_1"})); err != nil {
		t.Fatalf("get order: %v", err)
	}
	// WithoutRetries makes one attempt.
	orders.failures["GetOrder"] = []error{unavailable()}
	c1 := tradeassure.New(fakeServer(t, orders, &fakeAdmin{}, &fakeEvents{}), "k", tradeassure.WithoutRetries())
	before := len(orders.calls("GetOrder"))
	if _, err := c1.Orders.GetOrder(context.Background(), connect.NewRequest(&orderv1.GetOrderRequest{OrderId: "ord_1"})); err == nil {
		t.Fatal("want the single attempt's failure")
	}
	if n := len(orders.calls("GetOrder")) - before; n != 1 {
		t.Fatalf("WithoutRetries: want 1 attempt, got %d", n)
	}
}

// TestMutationWithoutRequestIDIsNotRetried checks AdvanceClock, which has no request_id, runs once.
func TestMutationWithoutRequestIDIsNotRetried(t *testing.T) {
	adm := &fakeAdmin{}
	c := tradeassure.New(fakeServer(t, &fakeOrders{}, adm, &fakeEvents{}), "k", fastRetries())
	_, err := c.Admin.AdvanceClock(context.Background(), connect.NewRequest(&adminv1.AdvanceClockRequest{Seconds: 60}))
	if connect.CodeOf(err) != connect.CodeUnavailable {
		t.Fatalf("want Unavailable, got %v", err)
	}
	if adm.calls != 1 {
		t.Fatalf("want 1 attempt, got %d", adm.calls)
	}
}

// TestRetryStopsWhenContextEnds checks the backoff wait gives up when the caller's context is done.
func TestRetryStopsWhenContextEnds(t *testing.T) {
	orders := &fakeOrders{failures: map[string][]error{"GetOrder": {unavailable(), unavailable(), unavailable()}}}
	p := tradeassure.DefaultRetryPolicy()
	p.InitialBackoff = time.Hour
	p.MaxBackoff = time.Hour
	c := tradeassure.New(fakeServer(t, orders, &fakeAdmin{}, &fakeEvents{}), "k", tradeassure.WithRetry(p))
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := c.Orders.GetOrder(ctx, connect.NewRequest(&orderv1.GetOrderRequest{OrderId: "ord_1"}))
	// The backoff is an hour: anything well under it means the wait ended with the context, however slow
	// the machine.
	if err == nil || time.Since(start) > 30*time.Minute {
		t.Fatalf("want a prompt failure, got %v after %v", err, time.Since(start))
	}
	if n := len(orders.calls("GetOrder")); n != 1 {
		t.Fatalf("want 1 attempt, got %d", n)
	}
}

// TestPaginateFollowsTokens checks the iterator walks every page with the tokens the server gave, leaves
// the request alone, and stops fetching when the loop breaks.
func TestPaginateFollowsTokens(t *testing.T) {
	orders := &fakeOrders{pages: map[string]fakePage{
		"":   {ids: []string{"a", "b"}, next: "t1"},
		"t1": {ids: []string{"c", "d"}, next: "t2"},
		"t2": {ids: []string{"e"}},
	}}
	c := tradeassure.New(fakeServer(t, orders, &fakeAdmin{}, &fakeEvents{}), "k")
	req := &orderv1.ListOrdersRequest{PageSize: 2}
	var got []string
	for o, err := range c.AllOrders(context.Background(), req) {
		if err != nil {
			t.Fatalf("list: %v", err)
		}
		got = append(got, o.GetId())
	}
	if strings.Join(got, ",") != "a,b,c,d,e" {
		t.Fatalf("got %v", got)
	}
	if strings.Join(orders.tokens, ",") != ",t1,t2" || req.GetPageToken() != "" {
		t.Fatalf("tokens %q, request token %q", orders.tokens, req.GetPageToken())
	}
	orders.tokens = nil
	for o := range c.AllOrders(context.Background(), req) {
		if o.GetId() == "b" {
			break
		}
	}
	if len(orders.tokens) != 1 {
		t.Fatalf("breaking after the first page fetched %d pages", len(orders.tokens))
	}
	// A failing page is yielded as an error and ends the iteration.
	orders.pages = map[string]fakePage{"": {ids: []string{"a"}, next: "gone"}}
	var errs int
	for _, err := range c.AllOrders(context.Background(), nil) {
		if err != nil {
			errs++
			if e, ok := tradeassure.AsError(err); !ok || e.Code != connect.CodeInvalidArgument {
				t.Fatalf("want a typed InvalidArgument, got %v", err)
			}
		}
	}
	if errs != 1 {
		t.Fatalf("want one error, got %d", errs)
	}
}

// TestFollowResumesAfterLastEvent checks heartbeats are skipped and a broken stream is resumed after the
// last event yielded.
func TestFollowResumesAfterLastEvent(t *testing.T) {
	for _, proto := range protocols {
		t.Run(proto.String(), func(t *testing.T) {
			evs := &fakeEvents{streams: []fakeStream{
				{ids: []string{"", "1", "2"}, err: unavailable()},
				{ids: []string{"", "3"}, err: connect.NewError(connect.CodeInternal, errors.New("proxy reset"))},
				{ids: []string{"", "", "4"}},
			}}
			c := tradeassure.New(fakeServer(t, &fakeOrders{}, &fakeAdmin{}, evs), "k", tradeassure.WithProtocol(proto), fastRetries())
			ctx, cancel := context.WithTimeout(context.Background(), servertest.StallLimit)
			defer cancel()
			var got []string
			for e, err := range c.Follow(ctx, &eventv1.WatchEventsRequest{AfterId: "0"}) {
				if err != nil {
					t.Fatalf("follow: %v", err)
				}
				got = append(got, e.GetId())
				if len(got) == 4 {
					break
				}
			}
			if strings.Join(got, ",") != "1,2,3,4" {
				t.Fatalf("got events %v", got)
			}
			if strings.Join(evs.cursors, ",") != "0,2,3" {
				t.Fatalf("want resumption after the last event, cursors %q", evs.cursors)
			}
		})
	}
}

// TestFollowStopsOnPermanentError checks a bad key ends the iteration with the error.
func TestFollowStopsOnPermanentError(t *testing.T) {
	evs := &fakeEvents{streams: []fakeStream{{err: connect.NewError(connect.CodeUnauthenticated, errors.New("no key"))}}}
	c := tradeassure.New(fakeServer(t, &fakeOrders{}, &fakeAdmin{}, evs), "", fastRetries())
	var errs []error
	for _, err := range c.Follow(context.Background(), nil) {
		errs = append(errs, err)
	}
	if len(errs) != 1 || connect.CodeOf(errs[0]) != connect.CodeUnauthenticated {
		t.Fatalf("want one Unauthenticated error, got %v", errs)
	}
}

// TestErrorCarriesDetail checks AsError reads the reason, metadata and field violations, and that the
// error reads well.
func TestErrorCarriesDetail(t *testing.T) {
	ce := connect.NewError(connect.CodeFailedPrecondition, errors.New("the covered amount exceeds the limit"))
	d, err := connect.NewErrorDetail(&commonv1.ErrorDetail{
		Reason:          commonv1.ErrorReason_ERROR_REASON_TRADE_ASSURANCE_LIMIT_EXCEEDED,
		Metadata:        map[string]string{"limit_usd_minor": "500000", "covered_usd_minor": "750000"},
		FieldViolations: []*commonv1.FieldViolation{{Field: "terms.lines", Description: "too much"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	ce.AddDetail(d)
	orders := &fakeOrders{failures: map[string][]error{"CreateOrder": {ce}}}
	c := tradeassure.New(fakeServer(t, orders, &fakeAdmin{}, &fakeEvents{}), "k")
	_, err = c.Orders.CreateOrder(context.Background(), connect.NewRequest(&orderv1.CreateOrderRequest{}))
	e, ok := tradeassure.AsError(err)
	if !ok {
		t.Fatalf("not a tradeassure error: %v", err)
	}
	if e.Code != connect.CodeFailedPrecondition || e.Reason != commonv1.ErrorReason_ERROR_REASON_TRADE_ASSURANCE_LIMIT_EXCEEDED ||
		e.Metadata["limit_usd_minor"] != "500000" || len(e.FieldViolations) != 1 || e.FieldViolations[0].Field != "terms.lines" {
		t.Fatalf("unexpected error %#v", e)
	}
	want := "failed_precondition TRADE_ASSURANCE_LIMIT_EXCEEDED: the covered amount exceeds the limit " +
		"(terms.lines: too much; covered_usd_minor=750000; limit_usd_minor=500000)"
	if e.Error() != want {
		t.Fatalf("error reads\n%s\nwant\n%s", e.Error(), want)
	}
	if connect.CodeOf(err) != connect.CodeFailedPrecondition {
		t.Fatal("connect.CodeOf no longer sees the code")
	}
	if !errors.Is(err, &tradeassure.Error{Reason: commonv1.ErrorReason_ERROR_REASON_TRADE_ASSURANCE_LIMIT_EXCEEDED}) {
		t.Fatal("errors.Is does not match the reason")
	}
	if tradeassure.ReasonOf(err) != commonv1.ErrorReason_ERROR_REASON_TRADE_ASSURANCE_LIMIT_EXCEEDED {
		t.Fatal("ReasonOf")
	}
	if _, ok := tradeassure.AsError(errors.New("plain")); ok {
		t.Fatal("a plain error is not a call failure")
	}
	if _, ok := tradeassure.AsError(nil); ok {
		t.Fatal("nil is not an error")
	}
}

// TestParseProtocol checks the protocol names.
func TestParseProtocol(t *testing.T) {
	for name, want := range map[string]tradeassure.Protocol{"connect": tradeassure.ProtocolConnect, "grpc": tradeassure.ProtocolGRPC,
		"grpc-web": tradeassure.ProtocolGRPCWeb, "grpcweb": tradeassure.ProtocolGRPCWeb} {
		if got, ok := tradeassure.ParseProtocol(name); !ok || got != want {
			t.Fatalf("%s: got %v %v", name, got, ok)
		}
	}
	if _, ok := tradeassure.ParseProtocol("soap"); ok {
		t.Fatal("soap is not a protocol")
	}
}
