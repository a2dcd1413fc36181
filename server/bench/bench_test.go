// Package bench measures the server end to end: in-process behind real HTTP/2 (TLS), through the
// generated Go client, over a database holding 100,000 orders, on SQLite (a WAL file) and on Postgres
// (when TRADEASSURE_TEST_POSTGRES is set). BenchmarkCompare (`make bench`, compare_test.go) measures it
// against a bare connect-go baseline in the same run and reports ratios; the benchmarks here report
// absolute ops/s and latency percentiles.
//
//	go test -run '^$' -bench BenchmarkOrders -benchtime 5s ./server/bench/
package bench

import (
	"fmt"
	"os"
	"sort"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/types/known/timestamppb"

	commonv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/common/v1"
	orderv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/order/v1"
	"github.com/tradeassure/tradeassure/server/servertest"
	"github.com/tradeassure/tradeassure/server/webhook"
)

// stored is how many orders the database holds before measuring.
const stored = 100_000

// buyers share the stored orders; the measured buyer has stored/buyers of them.
const buyers = 50

type fixture struct {
	env      *servertest.Env
	supplier *servertest.Party
	buyer    *servertest.Party
	product  string
	ids      []string // the measured buyer's stored orders
}

var (
	fixtures   = map[string]*fixture{}
	fixturesMu sync.Mutex
)

func engines() []string {
	out := []string{"sqlite-file"}
	for _, e := range servertest.Engines() {
		if e == "postgres" {
			out = append(out, e)
		}
	}
	return out
}

func (f *fixture) terms() *orderv1.OrderTerms { return orderTerms(f.product) }

// orderTerms are the terms of every measured order: ten of the product.
func orderTerms(product string) *orderv1.OrderTerms {
	return &orderv1.OrderTerms{
		Lines:    []*orderv1.OrderLine{{ProductId: product, Quantity: 10}},
		Currency: "USD", ShippingFeeMinor: 50_00,
		ShippingAddress: &commonv1.Address{RecipientName: "Acme", Phone: "+1 555 0100", Country: "US", Lines: []string{"1 Main St"}},
		TradeTerm:       orderv1.TradeTerm_TRADE_TERM_FCA, ShippingMethod: orderv1.ShippingMethod_SHIPPING_METHOD_AIR,
		PaymentTerms: &orderv1.PaymentTerms{Kind: orderv1.PaymentTerms_KIND_FULL},
		CoverageType: orderv1.CoverageType_COVERAGE_TYPE_POST_DELIVERY,
		ShipByTime:   timestamppb.New(servertest.Start.Add(30 * 24 * time.Hour)),
	}
}

// setup starts a server per engine once and stores the orders directly (bulk inserts), so the benchmark
// measures the API over a realistic table rather than the seeding.
func setup(b *testing.B, engine string) *fixture {
	fixturesMu.Lock()
	defer fixturesMu.Unlock()
	if f, ok := fixtures[engine]; ok {
		return f
	}
	// The fixture outlives the sub-benchmark that made it; it is closed with the process.
	// Development mode lets the webhook benchmarks deliver to a receiver on loopback; it changes nothing
	// else that CreateOrder, GetOrder or ListOrders does.
	e := servertest.New(&keep{TB: b}, servertest.Options{Engine: engine, Dev: true,
		// The dispatcher (run by the webhook benchmarks only) polls at the production default.
		Webhooks: webhook.Config{Interval: time.Second}})
	f := &fixture{env: e}
	f.supplier = e.Supplier(1_000_000_00, true)
	f.product = e.Product(f.supplier, "Widget", 10_00, "USD")
	var parties []*servertest.Party
	for i := 0; i < buyers; i++ {
		parties = append(parties, e.Buyer("US"))
	}
	f.buyer = parties[0]
	ids := make([]string, len(parties))
	for i, p := range parties {
		ids[i] = p.ID()
	}
	start := time.Now()
	var err error
	if f.ids, err = seedOrders(e.Ctx, e.Store.Client, f.supplier.ID(), ids, f.buyer.Account.Email, stored); err != nil {
		b.Fatal(err)
	}
	b.Logf("%s: stored %d orders in %v", engine, stored, time.Since(start).Round(time.Millisecond))
	fixtures[engine] = f
	return f
}

// keep lets a fixture be built inside a sub-benchmark without being torn down with it.
type keep struct{ testing.TB }

func (k *keep) Cleanup(func()) {}

func (k *keep) TempDir() string {
	dir, err := os.MkdirTemp("", "tradeassure-bench-")
	if err != nil {
		k.TB.Fatalf("temp dir: %v", err)
	}
	return dir
}

func (k *keep) Log(args ...any) { fmt.Fprintln(os.Stderr, args...) }

// measure runs op in parallel b.N times and reports throughput and latency percentiles.
func measure(b *testing.B, op func(i int) error) {
	var (
		mu   sync.Mutex
		lats = make([]time.Duration, 0, b.N)
		n    atomic.Int64
	)
	b.SetParallelism(4)
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		local := make([]time.Duration, 0, 1024)
		for pb.Next() {
			i := int(n.Add(1))
			t0 := time.Now()
			if err := op(i); err != nil {
				b.Error(err)
				return
			}
			local = append(local, time.Since(t0))
		}
		mu.Lock()
		lats = append(lats, local...)
		mu.Unlock()
	})
	elapsed := time.Since(start)
	b.StopTimer()
	if len(lats) == 0 {
		return
	}
	sort.Slice(lats, func(i, j int) bool { return lats[i] < lats[j] })
	pct := func(p float64) float64 {
		return float64(lats[int(p*float64(len(lats)-1))].Microseconds()) / 1000
	}
	b.ReportMetric(float64(len(lats))/elapsed.Seconds(), "ops/s")
	b.ReportMetric(pct(0.50), "p50-ms")
	b.ReportMetric(pct(0.95), "p95-ms")
	b.ReportMetric(pct(0.99), "p99-ms")
}

func BenchmarkOrders(b *testing.B) {
	for _, engine := range engines() {
		b.Run(engine+"/CreateOrder", func(b *testing.B) {
			f := setup(b, engine)
			req := &orderv1.CreateOrderRequest{Policy: commonv1.Policy_POLICY_RETAIL, BuyerEmail: f.buyer.Account.Email, Terms: f.terms()}
			measure(b, func(int) error {
				_, err := f.supplier.Orders.CreateOrder(f.env.Ctx, connect.NewRequest(req))
				return err
			})
		})
		b.Run(engine+"/GetOrder", func(b *testing.B) {
			f := setup(b, engine)
			measure(b, func(i int) error {
				_, err := f.buyer.Orders.GetOrder(f.env.Ctx, connect.NewRequest(&orderv1.GetOrderRequest{OrderId: f.ids[i%len(f.ids)]}))
				return err
			})
		})
		b.Run(engine+"/ListOrders", func(b *testing.B) {
			f := setup(b, engine)
			measure(b, func(int) error {
				resp, err := f.buyer.Orders.ListOrders(f.env.Ctx, connect.NewRequest(&orderv1.ListOrdersRequest{PageSize: 50}))
				if err == nil && len(resp.Msg.GetOrders()) != 50 {
					err = fmt.Errorf("page of %d", len(resp.Msg.GetOrders()))
				}
				return err
			})
		})
	}
}
