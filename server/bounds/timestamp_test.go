package bounds_test

import (
	"fmt"
	"testing"
	"time"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/types/known/timestamppb"

	commonv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/common/v1"
	eventv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/event/v1"
	"github.com/tradeassure/tradeassure/gen/go/tradeassure/event/v1/eventv1connect"
	orderv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/order/v1"
	"github.com/tradeassure/tradeassure/gen/go/tradeassure/order/v1/orderv1connect"
	"github.com/tradeassure/tradeassure/server/bounds"
	"github.com/tradeassure/tradeassure/server/servertest"
)

// jsonClients are Connect clients that speak proto JSON, as browsers and curl do.
type jsonClients struct {
	orders orderv1connect.OrderServiceClient
	events eventv1connect.EventServiceClient
}

func jsonFor(e *servertest.Env, p *servertest.Party) jsonClients {
	opts := []connect.ClientOption{connect.WithProtoJSON(), connect.WithInterceptors(servertest.Bearer(p.Key))}
	return jsonClients{
		orders: orderv1connect.NewOrderServiceClient(e.HTTPClient(), e.HTTP.URL, opts...),
		events: eventv1connect.NewEventServiceClient(e.HTTPClient(), e.HTTP.URL, opts...),
	}
}

// TestWorstAllowedTimesSerialise drafts orders with the earliest and the latest ship-by time the schema
// allows (the server clock just before it), a supplier's draft and a buyer's requested draft, and reads
// them in JSON through every read that carries them — GetOrder, ListOrders, ListOrderRevisions,
// ListEvents — and accepts one in JSON, on every engine. (A ship-by in year 10000 used to be stored, and
// every JSON read of it then answered INTERNAL.)
func TestWorstAllowedTimesSerialise(t *testing.T) {
	edges := []struct {
		name   string
		now    time.Time
		shipBy time.Time
	}{
		{"earliest", bounds.MinTime.Add(-time.Hour), bounds.MinTime},
		{"latest", bounds.MaxTime.Add(-time.Hour), bounds.MaxTime.Add(-time.Nanosecond)},
	}
	for _, engine := range servertest.Engines() {
		for _, edge := range edges {
			t.Run(engine+"/"+edge.name, func(t *testing.T) {
				e := servertest.New(t, servertest.Options{Engine: engine})
				e.Clock.Set(edge.now)
				m := newMarket(t, e)
				terms := m.terms(edge.shipBy)
				draft := m.draft(terms)
				requested, err := m.buyer.Orders.CreateOrder(e.Ctx, connect.NewRequest(&orderv1.CreateOrderRequest{
					Policy: commonv1.Policy_POLICY_TRADE_ASSURANCE, SupplierId: m.supplier.ID(), Terms: terms,
				}))
				if err != nil {
					t.Fatalf("buyer's requested draft: %v", err)
				}
				buyer, operator := jsonFor(e, m.buyer), jsonFor(e, m.operator)
				wantShipBy := func(what string, o *orderv1.Order) {
					t.Helper()
					if got := o.GetTerms().GetShipByTime().AsTime(); !got.Equal(edge.shipBy) {
						t.Errorf("%s: ship_by_time %v, want %v", what, got, edge.shipBy)
					}
				}
				for _, id := range []string{draft.GetId(), requested.Msg.GetOrder().GetId()} {
					got, err := buyer.orders.GetOrder(e.Ctx, connect.NewRequest(&orderv1.GetOrderRequest{OrderId: id}))
					if err != nil {
						t.Fatalf("JSON GetOrder: %v", err)
					}
					wantShipBy("GetOrder", got.Msg.GetOrder())
					revs, err := buyer.orders.ListOrderRevisions(e.Ctx, connect.NewRequest(&orderv1.ListOrderRevisionsRequest{OrderId: id}))
					if err != nil || len(revs.Msg.GetRevisions()) == 0 {
						t.Fatalf("JSON ListOrderRevisions: %v", err)
					}
					wantShipBy("ListOrderRevisions", revs.Msg.GetRevisions()[0].GetOrder())
				}
				list, err := buyer.orders.ListOrders(e.Ctx, connect.NewRequest(&orderv1.ListOrdersRequest{}))
				if err != nil || len(list.Msg.GetOrders()) != 2 {
					t.Fatalf("JSON ListOrders: %d orders, %v", len(list.Msg.GetOrders()), err)
				}
				for _, o := range list.Msg.GetOrders() {
					wantShipBy("ListOrders", o)
				}
				accepted, err := buyer.orders.AcceptOrder(e.Ctx, connect.NewRequest(&orderv1.AcceptOrderRequest{
					OrderId: draft.GetId(), Etag: draft.GetEtag(), RequestId: "accept-1",
				}))
				if err != nil {
					t.Fatalf("JSON AcceptOrder: %v", err)
				}
				if accepted.Msg.GetOrder().GetState() != orderv1.Order_STATE_AWAITING_PAYMENT {
					t.Fatalf("accepted order is %v", accepted.Msg.GetOrder().GetState())
				}
				wantShipBy("AcceptOrder", accepted.Msg.GetOrder())
				for _, who := range []jsonClients{buyer, operator} {
					feed, err := who.events.ListEvents(e.Ctx, connect.NewRequest(&eventv1.ListEventsRequest{}))
					if err != nil {
						t.Fatalf("JSON ListEvents: %v", err)
					}
					if len(feed.Msg.GetEvents()) < 3 {
						t.Fatalf("JSON ListEvents: %d events, want the two drafts and the acceptance", len(feed.Msg.GetEvents()))
					}
					for _, ev := range feed.Msg.GetEvents() {
						if ev.GetSubjectType() != "order" {
							continue
						}
						var o orderv1.Order
						if err := ev.GetPayload().UnmarshalTo(&o); err != nil {
							t.Fatalf("event payload: %v", err)
						}
						wantShipBy("ListEvents", &o)
					}
				}
			})
		}
	}
}

// TestTimesOutsideTheWindowAreRefused sends ship-by times just outside the window, in years 10000 and 1,
// and with nanos out of range, in the binary protocols (JSON cannot even print them), on every engine:
// each is INVALID_ARGUMENT naming terms.ship_by_time, and nothing is stored, so JSON reads keep working.
func TestTimesOutsideTheWindowAreRefused(t *testing.T) {
	for _, engine := range servertest.Engines() {
		for _, protocol := range []string{"connect", "grpc"} {
			t.Run(engine+"/"+protocol, func(t *testing.T) {
				e := servertest.New(t, servertest.Options{Engine: engine, Protocol: protocol})
				m := newMarket(t, e)
				var times []*timestamppb.Timestamp
				for _, at := range []time.Time{
					bounds.MaxTime, time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC),
					bounds.MinTime.Add(-time.Nanosecond), time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC),
				} {
					times = append(times, timestamppb.New(at))
				}
				// Inside the window but with nanos no JSON encoder accepts: stored as sent, they broke JSON reads.
				inside := e.Clock.Now().Add(14 * 24 * time.Hour).Unix()
				times = append(times, &timestamppb.Timestamp{Seconds: inside, Nanos: 1_000_000_000},
					&timestamppb.Timestamp{Seconds: inside, Nanos: -1})
				for _, ts := range times {
					at := fmt.Sprintf("%d.%09ds", ts.GetSeconds(), ts.GetNanos())
					terms := m.terms(time.Time{})
					terms.ShipByTime = ts
					for _, req := range []*orderv1.CreateOrderRequest{
						{Policy: commonv1.Policy_POLICY_TRADE_ASSURANCE, BuyerEmail: m.buyer.Account.Email, Terms: terms},
					} {
						_, err := m.supplier.Orders.CreateOrder(e.Ctx, connect.NewRequest(req))
						wantInvalidField(t, err, "terms.ship_by_time", "supplier's draft shipping by "+at)
						req.BuyerEmail, req.SupplierId = "", m.supplier.ID()
						_, err = m.buyer.Orders.CreateOrder(e.Ctx, connect.NewRequest(req))
						wantInvalidField(t, err, "terms.ship_by_time", "buyer's requested draft shipping by "+at)
					}
				}
				list, err := jsonFor(e, m.buyer).orders.ListOrders(e.Ctx, connect.NewRequest(&orderv1.ListOrdersRequest{}))
				if err != nil || len(list.Msg.GetOrders()) != 0 {
					t.Fatalf("JSON ListOrders: %d orders, %v", len(list.Msg.GetOrders()), err)
				}
				feed, err := jsonFor(e, m.operator).events.ListEvents(e.Ctx, connect.NewRequest(&eventv1.ListEventsRequest{}))
				if err != nil || len(feed.Msg.GetEvents()) != 0 {
					t.Fatalf("JSON ListEvents: %d events, %v", len(feed.Msg.GetEvents()), err)
				}
			})
		}
	}
}
