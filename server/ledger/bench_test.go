package ledger_test

import (
	"fmt"
	"sort"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tradeassure/tradeassure/ent"
	"github.com/tradeassure/tradeassure/server/ledger"
	"github.com/tradeassure/tradeassure/server/order"
	"github.com/tradeassure/tradeassure/server/servertest"
)

// BenchmarkPost measures ledger posting throughput: one transaction per posting, committed, from
// 4×GOMAXPROCS concurrent posters, on SQLite (a WAL file) and on Postgres (when TRADEASSURE_TEST_POSTGRES
// is set). Two shapes:
//
//   - payment: buyer funding → a new order's escrow (two legs; a new escrow account each time, buyers
//     from a pool of 1,000);
//   - release: order escrow → supplier available + platform fees (three legs; suppliers from a pool of 100,
//     and the one platform fees account every release shares).
//
// Besides ns/op it reports postings/s and per-posting latency percentiles.
//
//	go test -run '^$' -bench BenchmarkPost -benchtime 3s ./server/ledger/
func BenchmarkPost(b *testing.B) {
	engines := []string{"sqlite-file"}
	for _, e := range servertest.Engines() {
		if e == "postgres" {
			engines = append(engines, e)
		}
	}
	for _, engine := range engines {
		e := servertest.New(b, servertest.Options{Engine: engine})
		for _, shape := range []string{"payment", "release"} {
			b.Run(engine+"/"+shape, func(b *testing.B) {
				var seq atomic.Int64
				var mu sync.Mutex
				var lat []time.Duration
				b.SetParallelism(4)
				b.ResetTimer()
				start := time.Now()
				b.RunParallel(func(pb *testing.PB) {
					var mine []time.Duration
					for pb.Next() {
						n := seq.Add(1)
						order := fmt.Sprintf("ord_%s_%d", shape, n)
						tr := ledger.Transfer{CauseKind: shape, CauseID: order, Currency: "USD", Time: now, Links: ledger.Links{OrderID: order}}
						if shape == "payment" {
							tr.Legs = []ledger.Leg{
								{Kind: ledger.BuyerFunding, Owner: fmt.Sprintf("buyer_%d", n%1000), Amount: -10_000},
								{Kind: ledger.OrderEscrow, Owner: order, Amount: 10_000},
							}
						} else {
							tr.Legs = []ledger.Leg{
								{Kind: ledger.OrderEscrow, Owner: order, Amount: -10_000},
								{Kind: ledger.SupplierAvailable, Owner: fmt.Sprintf("sup_%d", n%100), Amount: 9_800},
								{Kind: ledger.PlatformFees, Amount: 200},
							}
						}
						t0 := time.Now()
						if err := e.Store.WithTx(e.Ctx, func(tx *ent.Tx) error {
							_, err := ledger.Post(e.Ctx, tx, tr)
							return err
						}); err != nil {
							b.Error(err)
							return
						}
						mine = append(mine, time.Since(t0))
					}
					mu.Lock()
					lat = append(lat, mine...)
					mu.Unlock()
				})
				elapsed := time.Since(start)
				b.StopTimer()
				if len(lat) == 0 {
					return
				}
				sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
				pct := func(p float64) float64 { return float64(lat[int(p*float64(len(lat)-1))].Microseconds()) / 1000 }
				b.ReportMetric(float64(len(lat))/elapsed.Seconds(), "posts/s")
				b.ReportMetric(pct(0.50), "p50-ms")
				b.ReportMetric(pct(0.95), "p95-ms")
				b.ReportMetric(pct(0.99), "p99-ms")
			})
		}
		// The books still balance after the benchmark.
		if err := e.Store.WithTx(e.Ctx, func(tx *ent.Tx) error {
			rep, err := ledger.Reconcile(e.Ctx, tx, order.Finished)
			if err == nil && (len(rep.Sums) != 1 || rep.Sums[0].Sum != 0) {
				b.Errorf("after the benchmark: %+v", rep)
			}
			return err
		}); err != nil {
			b.Fatal(err)
		}
	}
}
