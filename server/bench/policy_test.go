package bench

import (
	"testing"
	"time"

	"connectrpc.com/connect"

	commonv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/common/v1"
	orderv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/order/v1"
	"github.com/tradeassure/tradeassure/server/policies"
	"github.com/tradeassure/tradeassure/server/servertest"
)

// BenchmarkPolicyCache measures what binding orders to published policy versions costs on the hot path:
// CreateOrder (which looks up the version and rate table in force) and GetOrder (which shows the order's
// parameters), on a server whose policy catalog is cached (as shipped) and on one whose catalog reads the
// database at every lookup (the baseline), one call of each interleaved per iteration so both see the same
// machine load. It reports each side's mean latency and the ratio baseline/cached.
//
//	go test -run '^$' -bench BenchmarkPolicyCache -benchtime 2000x ./server/bench/
func BenchmarkPolicyCache(b *testing.B) {
	for _, engine := range engines() {
		b.Run(engine, func(b *testing.B) {
			type side struct {
				f           *fixture
				create, get time.Duration
			}
			mk := func(opts ...policies.Option) *side {
				e := servertest.New(b, servertest.Options{Engine: engine, Policies: opts})
				f := &fixture{env: e, supplier: e.Supplier(1_000_000_00, true), buyer: e.Buyer("US")}
				f.product = e.Product(f.supplier, "Widget", 10_00, "USD")
				return &side{f: f}
			}
			sides := []*side{mk(), mk(policies.Uncached())}
			var ids [2][]string
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				for k, s := range sides {
					t0 := time.Now()
					r, err := s.f.supplier.Orders.CreateOrder(s.f.env.Ctx, connect.NewRequest(&orderv1.CreateOrderRequest{
						Policy: commonv1.Policy_POLICY_TRADE_ASSURANCE, BuyerEmail: s.f.buyer.Account.Email, Terms: s.f.terms()}))
					if err != nil {
						b.Fatal(err)
					}
					s.create += time.Since(t0)
					ids[k] = append(ids[k], r.Msg.GetOrder().GetId())
					t0 = time.Now()
					if _, err := s.f.buyer.Orders.GetOrder(s.f.env.Ctx, connect.NewRequest(&orderv1.GetOrderRequest{OrderId: ids[k][i/2]})); err != nil {
						b.Fatal(err)
					}
					s.get += time.Since(t0)
				}
			}
			b.StopTimer()
			n := float64(b.N)
			cached, base := sides[0], sides[1]
			b.ReportMetric(float64(cached.create.Microseconds())/n, "create-cached-us")
			b.ReportMetric(float64(base.create.Microseconds())/n, "create-baseline-us")
			b.ReportMetric(float64(base.create)/float64(cached.create), "create-baseline/cached")
			b.ReportMetric(float64(cached.get.Microseconds())/n, "get-cached-us")
			b.ReportMetric(float64(base.get.Microseconds())/n, "get-baseline-us")
			b.ReportMetric(float64(base.get)/float64(cached.get), "get-baseline/cached")
		})
	}
}
