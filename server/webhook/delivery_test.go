package webhook_test

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"connectrpc.com/connect"

	commonv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/common/v1"
	eventv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/event/v1"
	orderv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/order/v1"
	webhookv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/webhook/v1"
	"github.com/tradeassure/tradeassure/server/servertest"
)

// TestOrderLifeArrivesSigned follows an order's whole life to three endpoints: the supplier's (order
// events only), the buyer's (everything) and the platform's. Each receives exactly what its owner sees in
// the feed, each delivery verifies with the Standard Webhooks library, the body is the feed's Event in
// proto-JSON, and one subject's events arrive in order.
func TestOrderLifeArrivesSigned(t *testing.T) {
	for _, engine := range servertest.Engines() {
		t.Run(engine, func(t *testing.T) {
			t.Parallel()
			m := newMarket(t, engine, true)
			supplierRx, buyerRx, platformRx := servertest.NewReceiver(t), servertest.NewReceiver(t), servertest.NewReceiver(t)
			_, supplierSecret := m.endpoint(m.supplier, supplierRx.URL+"/hooks", "order.*")
			_, buyerSecret := m.endpoint(m.buyer, buyerRx.URL)
			_, platformSecret := m.endpoint(m.operator, platformRx.URL, "*")
			// An endpoint receives the events committed after it was created.
			start := m.feedIDs(m.operator, "", nil)
			cursor := start[len(start)-1]
			orderID := m.life()
			// Its after-sales window ends: the sweep closes it, sending its closing event with the sweep's
			// batch (storage.Deferred), its deliveries queued after it.
			m.e.Advance(90 * 24 * time.Hour)

			isOrder := func(ev *eventv1.Event) bool { return ev.GetSubjectId() == orderID }
			var lastSupplierType string
			wantSupplier := m.feedIDs(m.supplier, cursor, func(ev *eventv1.Event) bool {
				if strings.HasPrefix(ev.GetType(), "order.") {
					lastSupplierType = ev.GetType()
					return true
				}
				return false
			})
			wantBuyer := m.feedIDs(m.buyer, cursor, nil)
			wantPlatform := m.feedIDs(m.operator, cursor, nil)
			for _, c := range []struct {
				name   string
				rx     *servertest.Receiver
				secret string
				want   []string
			}{
				{"supplier", supplierRx, supplierSecret, wantSupplier},
				{"buyer", buyerRx, buyerSecret, wantBuyer},
				{"platform", platformRx, platformSecret, wantPlatform},
			} {
				servertest.WaitFor(t, c.name+" deliveries", func() bool { return len(c.rx.OKIDs()) >= len(c.want) }, c.rx.Count)
				if got := c.rx.OKIDs(); !sameSet(got, c.want) {
					t.Fatalf("%s received %v, its feed has %v", c.name, got, c.want)
				}
				var lastSeq int64
				for _, r := range c.rx.All() {
					if err := verify(t, c.secret, r); err != nil {
						t.Fatalf("%s: delivery %s does not verify: %v", c.name, r.ID(), err)
					}
					ev := r.Event(t)
					if ev.GetId() != r.ID() || ev.GetType() == "" || ev.GetTime() == nil || ev.GetSubjectType() == "" {
						t.Fatalf("%s: body %s", c.name, r.Body)
					}
					if isOrder(ev) {
						o := &orderv1.Order{}
						if err := ev.GetPayload().UnmarshalTo(o); err != nil || o.GetId() != orderID {
							t.Fatalf("%s: payload %v: %v", c.name, ev.GetPayload(), err)
						}
						seq, _ := strconv.ParseInt(ev.GetId(), 10, 64)
						if seq < lastSeq {
							t.Fatalf("%s: event %d of the order arrived after %d", c.name, seq, lastSeq)
						}
						lastSeq = seq
					}
					if r.Header.Get("Content-Type") != "application/json" {
						t.Fatalf("content type %q", r.Header.Get("Content-Type"))
					}
				}
			}
			if len(wantSupplier) != 7 || lastSupplierType != "order.closed" {
				t.Fatalf("the supplier's order events: %v", wantSupplier)
			}
			// The deliveries are listed with their attempts and the endpoint counts them.
			eps, err := m.supplier.Webhooks.ListWebhookEndpoints(m.e.Ctx, connect.NewRequest(&webhookv1.ListWebhookEndpointsRequest{}))
			if err != nil || len(eps.Msg.GetEndpoints()) != 1 {
				t.Fatalf("list endpoints: %v %v", eps, err)
			}
			ep := eps.Msg.GetEndpoints()[0]
			// The receiver has answered; the outcomes are recorded just after.
			servertest.WaitFor(t, "the outcomes", func() bool {
				ep = m.getEndpoint(m.supplier, ep.GetId())
				return ep.GetStats().GetSucceededDeliveries() == 7
			}, supplierRx.Count)
			if ep.GetStats().GetSucceededDeliveries() != 7 || ep.GetStats().GetPendingDeliveries() != 0 || ep.GetScope() != webhookv1.WebhookEndpoint_SCOPE_ACCOUNT {
				t.Fatalf("endpoint %v", ep)
			}
			// Newest first; those that finished before the 90 days passed are pruned (Config.Retention).
			ds := m.deliveries(m.supplier, ep.GetId())
			if len(ds) == 0 || ds[0].GetEventType() != "order.closed" || ds[0].GetState() != webhookv1.WebhookDelivery_STATE_SUCCEEDED || len(ds[0].GetAttempts()) != 1 ||
				ds[0].GetAttempts()[0].GetHttpStatus() != 200 || ds[0].GetAttempts()[0].GetResponseBody() != "ok 200" {
				t.Fatalf("deliveries %v", ds)
			}
			// Arbiters have no endpoints.
			arbiter := m.e.Staff(commonv1.Role_ROLE_ARBITER)
			_, err = arbiter.Webhooks.CreateWebhookEndpoint(m.e.Ctx, connect.NewRequest(&webhookv1.CreateWebhookEndpointRequest{Url: supplierRx.URL}))
			servertest.WantError(t, err, connect.CodePermissionDenied, commonv1.ErrorReason_ERROR_REASON_ROLE_NOT_ALLOWED)
		})
	}
}
