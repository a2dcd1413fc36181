package order_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"connectrpc.com/connect"

	eventv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/event/v1"
	"github.com/tradeassure/tradeassure/gen/go/tradeassure/event/v1/eventv1connect"
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
