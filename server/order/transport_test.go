package order_test

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/proto"

	eventv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/event/v1"
	"github.com/tradeassure/tradeassure/gen/go/tradeassure/event/v1/eventv1connect"
	orderv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/order/v1"
	"github.com/tradeassure/tradeassure/server/servertest"
	"github.com/tradeassure/tradeassure/server/transport"
)

// TestWatchOutlivesBodyTimeout checks the body timeout does not cut a server stream: a watch over
// HTTP/1.1 and over HTTP/2, open for several body timeouts, still delivers the next event.
func TestWatchOutlivesBodyTimeout(t *testing.T) {
	const timeout = 200 * time.Millisecond
	for _, proto := range []string{"HTTP/1.1", "HTTP/2"} {
		t.Run(proto, func(t *testing.T) {
			e := servertest.New(t, servertest.Options{Transport: transport.Config{BodyTimeout: timeout}})
			m := newMarket(t, e)
			o := m.paid(taPolicy, 1)
			tr := e.HTTPClient().Transport.(*http.Transport).Clone()
			if proto == "HTTP/1.1" {
				tr.Protocols = new(http.Protocols)
				tr.Protocols.SetHTTP1(true)
				tr.ForceAttemptHTTP2 = false
				tr.TLSClientConfig.NextProtos = []string{"http/1.1"}
			}
			events := eventv1connect.NewEventServiceClient(&http.Client{Transport: tr}, e.HTTP.URL,
				connect.WithInterceptors(servertest.Bearer(m.buyer.Key)))
			ctx, cancel := context.WithCancel(e.Ctx)
			defer cancel()
			seen, err := m.buyer.Events.ListEvents(e.Ctx, connect.NewRequest(&eventv1.ListEventsRequest{SubjectId: o.GetId()}))
			if err != nil {
				t.Fatal(err)
			}
			stream, err := events.WatchEvents(ctx, connect.NewRequest(&eventv1.WatchEventsRequest{SubjectId: o.GetId(), AfterId: seen.Msg.GetNextAfterId()}))
			if err != nil {
				t.Fatal(err)
			}
			defer stream.Close()
			if !stream.Receive() {
				t.Fatalf("no heartbeat: %v", stream.Err())
			}
			// Outlast the body timeout several times; a slower machine only waits longer than needed.
			time.Sleep(5 * timeout)
			m.ship(m.get(o.GetId()))
			for stream.Receive() {
				if ev := stream.Msg().GetEvent(); ev != nil {
					if ev.GetType() != "order.shipped" {
						t.Fatalf("watched %v", ev)
					}
					return
				}
			}
			t.Fatalf("watch over %s ended after the body timeout: %v", proto, stream.Err())
		})
	}
}

// TestRetryRacingItsOriginal checks the same request id sent twice at the same moment gives both callers
// the identical first response, and applies the effect once, for AcceptOrder and ShipOrder on each engine.
func TestRetryRacingItsOriginal(t *testing.T) {
	const pairs = 15
	for _, engine := range servertest.Engines() {
		t.Run(engine, func(t *testing.T) {
			t.Parallel()
			e := servertest.New(t, servertest.Options{Engine: engine})
			m := newMarket(t, e)
			drafts := make([]*orderv1.Order, pairs)
			for i := range drafts {
				drafts[i] = m.draft(taPolicy, m.terms(1))
			}
			race := func(name string, call func(i int, o *orderv1.Order) (*orderv1.Order, error), orders []*orderv1.Order) []*orderv1.Order {
				out := make([]*orderv1.Order, len(orders))
				var wg sync.WaitGroup
				for i, o := range orders {
					var got [2]*orderv1.Order
					var errs [2]error
					start := make(chan struct{})
					for k := range 2 {
						wg.Add(1)
						go func() {
							defer wg.Done()
							<-start
							got[k], errs[k] = call(i, o)
						}()
					}
					close(start)
					wg.Wait()
					if errs[0] != nil || errs[1] != nil {
						t.Errorf("%s pair %d: %v / %v", name, i, errs[0], errs[1])
					}
					if errs[0] == nil && errs[1] == nil && !proto.Equal(got[0], got[1]) {
						t.Errorf("%s pair %d: different responses:\n%v\n%v", name, i, got[0], got[1])
					}
					out[i] = got[0]
				}
				if t.Failed() {
					t.FailNow()
				}
				return out
			}
			accepted := race("accept", func(i int, o *orderv1.Order) (*orderv1.Order, error) {
				resp, err := m.buyer.Orders.AcceptOrder(e.Ctx, connect.NewRequest(&orderv1.AcceptOrderRequest{
					RequestId: fmt.Sprintf("accept-%d", i), OrderId: o.GetId(), Etag: o.GetEtag()}))
				if err != nil {
					return nil, err
				}
				return resp.Msg.GetOrder(), nil
			}, drafts)
			paid := make([]*orderv1.Order, pairs)
			for i, o := range accepted {
				paid[i] = m.payCard(o).GetOrder()
			}
			race("ship", func(i int, o *orderv1.Order) (*orderv1.Order, error) {
				resp, err := m.supplier.Orders.ShipOrder(e.Ctx, connect.NewRequest(&orderv1.ShipOrderRequest{
					RequestId: fmt.Sprintf("ship-%d", i), OrderId: o.GetId(), Etag: o.GetEtag(), Carrier: "DHL", TrackingNumber: "JD0001"}))
				if err != nil {
					return nil, err
				}
				return resp.Msg.GetOrder(), nil
			}, paid)
			// Each effect happened once: one shipped event per order.
			for _, o := range paid {
				evs, err := m.supplier.Events.ListEvents(e.Ctx, connect.NewRequest(&eventv1.ListEventsRequest{SubjectId: o.GetId()}))
				if err != nil {
					t.Fatal(err)
				}
				n := 0
				for _, ev := range evs.Msg.GetEvents() {
					if ev.GetType() == "order.shipped" || ev.GetType() == "order.accepted" {
						n++
					}
				}
				if n != 2 {
					t.Fatalf("order %s: %d accepted/shipped events, want 2", o.GetId(), n)
				}
			}
		})
	}
}
