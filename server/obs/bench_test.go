package obs_test

import (
	"context"
	"io"
	"log/slog"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"connectrpc.com/connect"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	orderv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/order/v1"
	"github.com/tradeassure/tradeassure/server/obs"
	"github.com/tradeassure/tradeassure/server/obs/reqlog"
	"github.com/tradeassure/tradeassure/server/servertest"
)

// discard is a span exporter that drops what it is given: the benchmark measures the server's cost of
// making and batching spans, not a collector's.
type discard struct{}

func (discard) ExportSpans(context.Context, []sdktrace.ReadOnlySpan) error { return nil }
func (discard) Shutdown(context.Context) error                             { return nil }

// instrumented is one server of the benchmark with its parties.
type instrumented struct {
	e                *servertest.Env
	buyer, supplier  *servertest.Party
	product, orderID string
}

func newInstrumented(b *testing.B, engine string, on bool) *instrumented {
	cfg := obs.Config{NoMetrics: true}
	if on {
		tp := sdktrace.NewTracerProvider(sdktrace.WithSampler(sdktrace.ParentBased(sdktrace.TraceIDRatioBased(0.1))),
			sdktrace.WithBatcher(discard{}))
		b.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
		cfg = obs.Config{TracerProvider: tp}
	}
	// Both servers write the access log (always on in production), to nowhere.
	log := slog.New(reqlog.NewHandler(slog.NewJSONHandler(io.Discard, &slog.HandlerOptions{Level: slog.LevelInfo})))
	e := servertest.New(b, servertest.Options{Engine: engine, Observability: cfg, Log: log})
	s := &instrumented{e: e, buyer: e.Buyer("US"), supplier: e.Supplier(1_000_000_000_00, false)}
	s.product = e.Product(s.supplier, "Widget", 5_00, "USD")
	s.orderID = createOrder(b, e, s.supplier, s.buyer, s.product)
	return s
}

// run makes n calls of op with 4×GOMAXPROCS concurrent callers and returns how long they took.
func (s *instrumented) run(b *testing.B, op string, n int) time.Duration {
	var left atomic.Int64
	left.Store(int64(n))
	var wg sync.WaitGroup
	start := time.Now()
	for range 4 * runtime.GOMAXPROCS(0) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for left.Add(-1) >= 0 {
				var err error
				switch op {
				case "GetOrder":
					_, err = s.buyer.Orders.GetOrder(s.e.Ctx, connect.NewRequest(&orderv1.GetOrderRequest{OrderId: s.orderID}))
				case "CreateOrder":
					_, err = s.supplier.Orders.CreateOrder(s.e.Ctx, connect.NewRequest(orderRequest(s.e, s.buyer, s.product)))
				}
				if err != nil {
					b.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	return time.Since(start)
}

// BenchmarkInstrumentation measures GetOrder and CreateOrder throughput with metrics and tracing off and on
// (metrics exported for Prometheus, 10 % of traces sampled to a discarding exporter), in alternating
// rounds of one run so that a busy machine slows both alike, and reports the ratio of the throughputs
// (on / off; 1 means free). docs/benchmarks.md has the figures.
func BenchmarkInstrumentation(b *testing.B) {
	engines := []string{"sqlite-file"}
	if os.Getenv(servertest.PostgresEnv) != "" {
		engines = append(engines, "postgres")
	}
	for _, engine := range engines {
		for _, op := range []string{"GetOrder", "CreateOrder"} {
			b.Run(engine+"/"+op, func(b *testing.B) {
				off, on := newInstrumented(b, engine, false), newInstrumented(b, engine, true)
				const rounds = 8
				per := max(b.N/rounds, 1)
				var offTime, onTime time.Duration
				b.ResetTimer()
				for r := range rounds {
					if r%2 == 0 {
						offTime += off.run(b, op, per)
						onTime += on.run(b, op, per)
					} else {
						onTime += on.run(b, op, per)
						offTime += off.run(b, op, per)
					}
				}
				b.StopTimer()
				calls := float64(per * rounds)
				offOps, onOps := calls/offTime.Seconds(), calls/onTime.Seconds()
				b.ReportMetric(offOps, "off-ops/s")
				b.ReportMetric(onOps, "on-ops/s")
				b.ReportMetric(onOps/offOps, "ratio")
			})
		}
	}
}
