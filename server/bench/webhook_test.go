package bench

import (
	"os"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"connectrpc.com/connect"

	"github.com/tradeassure/tradeassure/ent"
	"github.com/tradeassure/tradeassure/ent/webhookdelivery"
	commonv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/common/v1"
	orderv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/order/v1"
	webhookv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/webhook/v1"
	"github.com/tradeassure/tradeassure/server/auth"
	"github.com/tradeassure/tradeassure/server/events"
	"github.com/tradeassure/tradeassure/server/servertest"
)

// noDispatcher names the variable that leaves the dispatcher off in BenchmarkCreateOrderWebhooks.
const noDispatcher = "TRADEASSURE_BENCH_NO_DISPATCHER"

// localReceiver answers every delivery 200 at once, like a fast receiver on the same machine.
func localReceiver(b *testing.B) *httptest.Server {
	rx := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.WriteHeader(http.StatusNoContent)
	}))
	b.Cleanup(rx.Close)
	return rx
}

// BenchmarkWebhookDelivery measures deliveries per second from one server process to a local receiver:
// b.N events, each for its own order, are queued first (timer stopped), then the dispatcher runs until
// every delivery has succeeded. Each delivery is claimed (leased), signed, POSTed over HTTP/1.1
// keep-alive and recorded with its attempt, as in production.
func BenchmarkWebhookDelivery(b *testing.B) {
	for _, engine := range engines() {
		b.Run(engine, func(b *testing.B) {
			e := servertest.New(b, servertest.Options{Engine: engine, Dev: true})
			rx := localReceiver(b)
			supplier := e.Supplier(1_000_000_00, true)
			ep, err := supplier.Webhooks.CreateWebhookEndpoint(e.Ctx, connect.NewRequest(&webhookv1.CreateWebhookEndpointRequest{
				Url: rx.URL, EventTypes: []string{"order.*"}}))
			if err != nil {
				b.Fatal(err)
			}
			b.StopTimer()
			for n := 0; n < b.N; n += 500 {
				err := e.Store.WithTx(e.Ctx, func(tx *ent.Tx) error {
					for i := n; i < min(n+500, b.N); i++ {
						if err := e.Server.Feed.Append(e.Ctx, tx, events.Event{Type: "order.drafted", SubjectType: "order",
							SubjectID: fmt.Sprintf("ord_bench_%d", i), Revision: 1, Time: e.Clock.Now(), Actor: auth.System,
							Parties: []string{supplier.ID()}, Payload: &orderv1.Order{Id: fmt.Sprintf("ord_bench_%d", i)}}); err != nil {
							return err
						}
					}
					return nil
				})
				if err != nil {
					b.Fatal(err)
				}
			}
			succeeded := func() int {
				return e.Store.Client.WebhookDelivery.Query().Where(webhookdelivery.EndpointID(ep.Msg.GetEndpoint().GetId()),
					webhookdelivery.StateEQ(webhookdelivery.StateSucceeded)).CountX(e.Ctx)
			}
			ctx, cancel := context.WithCancel(e.Ctx)
			done := make(chan struct{})
			b.StartTimer()
			start := time.Now()
			go func() { defer close(done); e.Server.Webhooks.Run(ctx) }()
			for succeeded() < b.N {
				time.Sleep(2 * time.Millisecond)
			}
			elapsed := time.Since(start)
			b.StopTimer()
			cancel()
			<-done
			b.ReportMetric(float64(b.N)/elapsed.Seconds(), "deliveries/s")
		})
	}
}

// BenchmarkCreateOrderWebhooks measures CreateOrder (as BenchmarkOrders does, over 100,000 stored
// orders, 4×GOMAXPROCS callers) with and without webhook endpoints configured, in alternating rounds of
// one run so that a busy machine slows both alike. The dispatcher runs throughout, as in production, and
// delivers to a receiver on loopback answering 200. Configured means the supplier's ERP endpoint
// (order.*, so every CreateOrder queues one delivery in its transaction and the dispatcher sends it), a
// platform endpoint matching no order event and 50 endpoints of other accounts; "without" is the same
// endpoints disabled, which the outbox skips. A round with endpoints ends only when every delivery it
// queued has succeeded, so the delivery work is charged to it. b.N calls are split over 8 rounds.
//
// With TRADEASSURE_BENCH_NO_DISPATCHER=1 the dispatcher does not run: the rounds with endpoints then
// measure only the outbox row CreateOrder writes in its transaction.
func BenchmarkCreateOrderWebhooks(b *testing.B) {
	for _, engine := range engines() {
		b.Run(engine, func(b *testing.B) {
			f := setup(b, engine)
			rx := localReceiver(b)
			op := f.env.Staff(commonv1.Role_ROLE_OPERATOR)
			var ids []string
			add := func(p *servertest.Party, types ...string) {
				resp, err := p.Webhooks.CreateWebhookEndpoint(f.env.Ctx, connect.NewRequest(&webhookv1.CreateWebhookEndpointRequest{Url: rx.URL, EventTypes: types}))
				if err != nil {
					b.Fatal(err)
				}
				ids = append(ids, resp.Msg.GetEndpoint().GetId())
			}
			add(f.supplier, "order.*")
			add(op, "dispute.*")
			for i := 0; i < 50; i++ {
				add(f.env.Buyer("US"))
			}
			enable := func(on bool) {
				for _, id := range ids {
					if _, err := op.Webhooks.UpdateWebhookEndpoint(f.env.Ctx, connect.NewRequest(&webhookv1.UpdateWebhookEndpointRequest{Id: id, Enabled: &on})); err != nil {
						b.Fatal(err)
					}
				}
			}
			// The ERP endpoint's queue; the others only receive their own webhook_endpoint.updated events
			// (and keep those queued while disabled).
			pending := func() int {
				return f.env.Store.Client.WebhookDelivery.Query().Where(webhookdelivery.EndpointID(ids[0]),
					webhookdelivery.StateEQ(webhookdelivery.StatePending)).CountX(f.env.Ctx)
			}
			ctx, cancel := context.WithCancel(f.env.Ctx)
			dispatched := make(chan struct{})
			go func() {
				defer close(dispatched)
				if os.Getenv(noDispatcher) == "" {
					f.env.Server.Webhooks.Run(ctx)
				}
			}()
			defer func() { cancel(); <-dispatched }()
			req := &orderv1.CreateOrderRequest{Policy: commonv1.Policy_POLICY_RETAIL, BuyerEmail: f.buyer.Account.Email, Terms: f.terms()}
			const rounds = 8
			per := max(b.N/rounds, 1)
			var took [2]time.Duration
			var calls [2]int
			var drain time.Duration
			b.ResetTimer()
			for r := 0; r < rounds; r++ {
				with := r%2 == 1
				b.StopTimer()
				enable(with)
				b.StartTimer()
				start := time.Now()
				var wg sync.WaitGroup
				var next atomic.Int64
				for w := 0; w < 4*runtime.GOMAXPROCS(0); w++ {
					wg.Add(1)
					go func() {
						defer wg.Done()
						for next.Add(1) <= int64(per) {
							if _, err := f.supplier.Orders.CreateOrder(f.env.Ctx, connect.NewRequest(req)); err != nil {
								b.Error(err)
								return
							}
						}
					}()
				}
				wg.Wait()
				i := 0
				if with && os.Getenv(noDispatcher) == "" {
					called := time.Now()
					for n := pending(); n > 0; n = pending() {
						if time.Since(called) > time.Minute {
							b.Fatalf("%d deliveries still pending a minute after the round", n)
						}
						time.Sleep(5 * time.Millisecond)
					}
					drain += time.Since(called)
				}
				if with {
					i = 1
				}
				took[i] += time.Since(start)
				calls[i] += per
			}
			b.StopTimer()
			without, withEP := float64(calls[0])/took[0].Seconds(), float64(calls[1])/took[1].Seconds()
			b.ReportMetric(without, "without-ops/s")
			b.ReportMetric(withEP, "with-ops/s")
			b.ReportMetric(100*(without-withEP)/without, "slowdown-%")
			b.ReportMetric(float64(drain.Milliseconds())/(rounds/2), "drain-ms/round")
			for _, id := range ids {
				if _, err := op.Webhooks.DeleteWebhookEndpoint(f.env.Ctx, connect.NewRequest(&webhookv1.DeleteWebhookEndpointRequest{Id: id})); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
