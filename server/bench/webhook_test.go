package bench

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
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
// keep-alive and recorded (a first attempt that succeeds on the delivery row itself), as in production.
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
			// Waiting polls the pending deliveries by the (state, next_attempt_time) index, a set that only
			// shrinks: counting the succeeded ones instead scanned a growing set every few milliseconds,
			// which took more CPU than the dispatcher did (on the other core: the rate stayed the same).
			pending := func() int {
				return e.Store.Client.WebhookDelivery.Query().Where(webhookdelivery.StateEQ(webhookdelivery.StatePending)).CountX(e.Ctx)
			}
			ctx, cancel := context.WithCancel(e.Ctx)
			done := make(chan struct{})
			b.StartTimer()
			start := time.Now()
			go func() { defer close(done); e.Server.Webhooks.Run(ctx) }()
			for pending() > 0 {
				time.Sleep(5 * time.Millisecond)
			}
			elapsed := time.Since(start)
			b.StopTimer()
			cancel()
			<-done
			if n := e.Store.Client.WebhookDelivery.Query().Where(webhookdelivery.EndpointID(ep.Msg.GetEndpoint().GetId()),
				webhookdelivery.StateEQ(webhookdelivery.StateSucceeded)).CountX(e.Ctx); n != b.N {
				b.Fatalf("%d deliveries succeeded, want %d", n, b.N)
			}
			b.ReportMetric(float64(b.N)/elapsed.Seconds(), "deliveries/s")
		})
	}
}

// BenchmarkCreateOrderWebhooks measures how much webhook delivery slows CreateOrder: in one run, CreateOrder
// load (as in BenchmarkCompare: over 100,000 stored orders, BENCH_CONCURRENCY callers for BENCH_DURATION)
// without and with the supplier's ERP endpoint (order.*, so every CreateOrder queues a delivery in its
// transaction and the dispatcher sends it), BENCH_RUNS times each, alternating which goes first, medians
// compared. A run with the endpoint ends only when every delivery it queued has succeeded, so the whole
// delivery work is charged to it. The receiver answers 204 at once on loopback, in a separate process
// (this test binary, see TestMain) so that its CPU time is not the server process's, though it shares
// the machine; BENCH_WEBHOOK_RECEIVER=inprocess puts it in the server process instead. A platform
// endpoint and 50 endpoints of other accounts, matching no order event, are enabled in both variants.
// The dispatcher runs throughout at its production settings, in both variants.
//
// With TRADEASSURE_BENCH_NO_DISPATCHER=1 the dispatcher does not run: the runs with the endpoint then
// measure only the outbox row CreateOrder writes in its transaction. BENCH_PROFILE=dir writes a CPU
// profile of a run of each variant per engine.
func BenchmarkCreateOrderWebhooks(b *testing.B) {
	c := defaultCompare()
	for _, engine := range c.Engines {
		b.Run(engine, func(b *testing.B) {
			f := setup(b, engine)
			url := ""
			if os.Getenv("BENCH_WEBHOOK_RECEIVER") == "inprocess" {
				url = localReceiver(b).URL
			} else {
				url = externalReceiver(b)
			}
			op := f.env.Staff(commonv1.Role_ROLE_OPERATOR)
			add := func(p *servertest.Party, types ...string) string {
				resp, err := p.Webhooks.CreateWebhookEndpoint(f.env.Ctx, connect.NewRequest(&webhookv1.CreateWebhookEndpointRequest{Url: url, EventTypes: types}))
				if err != nil {
					b.Fatal(err)
				}
				return resp.Msg.GetEndpoint().GetId()
			}
			erp := add(f.supplier, "order.*")
			others := []string{add(op, "dispute.*")}
			for i := 0; i < 50; i++ {
				others = append(others, add(f.env.Buyer("US")))
			}
			enable := func(on bool) {
				if _, err := op.Webhooks.UpdateWebhookEndpoint(f.env.Ctx, connect.NewRequest(&webhookv1.UpdateWebhookEndpointRequest{Id: erp, Enabled: &on})); err != nil {
					b.Fatal(err)
				}
			}
			// The ERP endpoint's queue, read by the (state, next_attempt_time) index: only the pending rows,
			// not every delivery the endpoint ever had, since this polling is charged to the run too.
			pending := func() int {
				eps := f.env.Store.Client.WebhookDelivery.Query().Where(webhookdelivery.StateEQ(webhookdelivery.StatePending)).
					Select(webhookdelivery.FieldEndpointID).StringsX(f.env.Ctx)
				return len(slices.DeleteFunc(eps, func(id string) bool { return id != erp }))
			}
			dispatching := os.Getenv(noDispatcher) == ""
			ctx, cancel := context.WithCancel(f.env.Ctx)
			dispatched := make(chan struct{})
			go func() {
				defer close(dispatched)
				if dispatching {
					f.env.Server.Webhooks.Run(ctx)
				}
			}()
			defer func() { cancel(); <-dispatched }()
			req := &orderv1.CreateOrderRequest{Policy: commonv1.Policy_POLICY_RETAIL, BuyerEmail: f.buyer.Account.Email, Terms: f.terms()}
			call := func(ctx context.Context, _ int) error {
				_, err := f.supplier.Orders.CreateOrder(ctx, connect.NewRequest(req))
				return err
			}
			var drains []time.Duration
			// cpu is the process's CPU time per call of each variant's runs.
			cpu := map[bool][]float64{}
			phase := func(on bool) func() (stat, error) {
				return func() (s stat, err error) {
					enable(on)
					before := processCPU()
					defer func() {
						if err == nil {
							cpu[on] = append(cpu[on], float64((processCPU()-before).Microseconds())/float64(s.ops))
						}
					}()
					s, err = load(f.env.Ctx, c.Concurrency, c.Duration, call)
					if err != nil || !on || !dispatching {
						return s, err
					}
					// Charged to the run: the deliveries still queued when the calls end.
					elapsed := time.Duration(float64(s.ops) / s.opsPerS * float64(time.Second))
					called := time.Now()
					for n := pending(); n > 0; n = pending() {
						if time.Since(called) > time.Minute {
							return s, fmt.Errorf("%d deliveries still pending a minute after the run", n)
						}
						time.Sleep(5 * time.Millisecond)
					}
					drain := time.Since(called)
					drains = append(drains, drain)
					s.opsPerS = float64(s.ops) / (elapsed + drain).Seconds()
					return s, nil
				}
			}
			without, with := phase(false), phase(true)
			if c.ProfileDir != "" {
				profiled := func(name string, inner func() (stat, error)) func() (stat, error) {
					return func() (s stat, err error) {
						profile(b, filepath.Join(c.ProfileDir, engine+"-create-order-"+name+".pprof"), func() error { s, err = inner(); return err })
						return s, err
					}
				}
				without, with = profiled("without-webhooks", without), profiled("with-webhooks", with)
			}
			b.ResetTimer()
			off, on, err := alternate(c, without, with)
			b.StopTimer()
			if err != nil {
				b.Fatal(err)
			}
			slices.Sort(drains)
			b.ReportMetric(off.opsPerS, "without-ops/s")
			b.ReportMetric(on.opsPerS, "with-ops/s")
			b.ReportMetric(on.opsPerS/off.opsPerS, "ratio")
			b.ReportMetric(100*(1-on.opsPerS/off.opsPerS), "slowdown-%")
			if len(drains) > 0 {
				b.ReportMetric(float64(drains[len(drains)/2].Microseconds())/1000, "drain-ms")
			}
			for on, name := range map[bool]string{false: "without", true: "with"} {
				slices.Sort(cpu[on])
				b.ReportMetric(cpu[on][len(cpu[on])/2], name+"-cpu-µs/op")
			}
			for _, id := range append(others, erp) {
				if _, err := op.Webhooks.DeleteWebhookEndpoint(f.env.Ctx, connect.NewRequest(&webhookv1.DeleteWebhookEndpointRequest{Id: id})); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
