package bench

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime/pprof"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"connectrpc.com/connect"
	"entgo.io/ent/dialect"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"

	"github.com/tradeassure/tradeassure/ent"
	entdeadline "github.com/tradeassure/tradeassure/ent/deadline"
	entorder "github.com/tradeassure/tradeassure/ent/order"
	commonv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/common/v1"
	eventv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/event/v1"
	"github.com/tradeassure/tradeassure/gen/go/tradeassure/event/v1/eventv1connect"
	orderv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/order/v1"
	"github.com/tradeassure/tradeassure/gen/go/tradeassure/order/v1/orderv1connect"
	"github.com/tradeassure/tradeassure/server/resource"
	"github.com/tradeassure/tradeassure/server/servertest"
	"github.com/tradeassure/tradeassure/server/storage"
)

// compareConfig sizes one comparison run. BenchmarkCompare reads it from BENCH_* environment variables
// (see defaultCompare); the smoke test uses a tiny one.
type compareConfig struct {
	Engines     []string
	Concurrency int
	Duration    time.Duration
	Runs        int
	Orders      int // stored orders before measuring
	Sweep       int // deadlines per sweep run
	FeedSmall   int // events stored for the party feed comparison (the party sees feedPartyEvents of them)
	FeedLarge   int // events stored for the party feed's large side (0 skips it)
	FeedLargePG bool
	// ProfileDir, when set, receives a CPU profile of one more run of each call measured at the one
	// concurrency, per engine (BENCH_PROFILE): <engine>-<call>.pprof for the real server and
	// <engine>-<call>-bare.pprof for the bare handler, and <engine>-sweep.pprof of one more sweep.
	ProfileDir string
	// Calls, when not empty, limits the run to the comparisons whose name contains one of them
	// (BENCH_CALLS=sweep,CreateOrder; the names are those of the table, matched case-insensitively).
	Calls []string
}

// measures reports whether the comparison named call is part of the run.
func (c compareConfig) measures(call string) bool {
	if len(c.Calls) == 0 {
		return true
	}
	for _, p := range c.Calls {
		if strings.Contains(strings.ToLower(call), strings.ToLower(p)) {
			return true
		}
	}
	return false
}

const feedPartyEvents = 200

func defaultCompare() compareConfig {
	c := compareConfig{Engines: engines(), Concurrency: 8, Duration: 2 * time.Second, Runs: 3, Orders: 100_000,
		Sweep: 1000, FeedSmall: 10_000, FeedLarge: 1_000_000}
	envInt := func(name string, v *int) {
		if s := os.Getenv(name); s != "" {
			n, err := strconv.Atoi(s)
			if err != nil {
				panic(fmt.Sprintf("%s=%q: %v", name, s, err))
			}
			*v = n
		}
	}
	envInt("BENCH_CONCURRENCY", &c.Concurrency)
	envInt("BENCH_RUNS", &c.Runs)
	envInt("BENCH_ORDERS", &c.Orders)
	envInt("BENCH_SWEEP", &c.Sweep)
	envInt("BENCH_FEED_SMALL", &c.FeedSmall)
	envInt("BENCH_FEED_LARGE", &c.FeedLarge)
	if s := os.Getenv("BENCH_DURATION"); s != "" {
		d, err := time.ParseDuration(s)
		if err != nil {
			panic(fmt.Sprintf("BENCH_DURATION=%q: %v", s, err))
		}
		c.Duration = d
	}
	if s := os.Getenv("BENCH_ENGINES"); s != "" {
		c.Engines = strings.Split(s, ",")
	}
	c.FeedLargePG = os.Getenv("BENCH_FEED_LARGE_PG") != ""
	c.ProfileDir = os.Getenv("BENCH_PROFILE")
	if s := os.Getenv("BENCH_CALLS"); s != "" {
		c.Calls = strings.Split(s, ",")
	}
	return c
}

// stat is one measured run.
type stat struct {
	ops      int
	opsPerS  float64
	p50, p99 time.Duration
}

// load runs op from c.Concurrency goroutines for c.Duration and measures each call.
func load(ctx context.Context, conc int, dur time.Duration, op func(ctx context.Context, i int) error) (stat, error) {
	var (
		mu    sync.Mutex
		lats  []time.Duration
		first error
		wg    sync.WaitGroup
		next  = make(chan int)
	)
	stop := time.Now().Add(dur)
	go func() {
		defer close(next)
		for i := 0; time.Now().Before(stop); i++ {
			next <- i
		}
	}()
	start := time.Now()
	for g := 0; g < conc; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var local []time.Duration
			for i := range next {
				t0 := time.Now()
				if err := op(ctx, i); err != nil {
					mu.Lock()
					if first == nil {
						first = err
					}
					mu.Unlock()
					continue
				}
				local = append(local, time.Since(t0))
			}
			mu.Lock()
			lats = append(lats, local...)
			mu.Unlock()
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	if first != nil {
		return stat{}, first
	}
	return summarize(lats, elapsed), nil
}

func summarize(lats []time.Duration, elapsed time.Duration) stat {
	if len(lats) == 0 {
		return stat{}
	}
	sort.Slice(lats, func(i, j int) bool { return lats[i] < lats[j] })
	return stat{ops: len(lats), opsPerS: float64(len(lats)) / elapsed.Seconds(),
		p50: lats[len(lats)/2], p99: lats[min(len(lats)-1, len(lats)*99/100)]}
}

// median takes the median of each figure separately.
func median(runs []stat) stat {
	pick := func(f func(stat) float64) float64 {
		v := make([]float64, len(runs))
		for i, r := range runs {
			v[i] = f(r)
		}
		sort.Float64s(v)
		return v[len(v)/2]
	}
	return stat{
		opsPerS: pick(func(s stat) float64 { return s.opsPerS }),
		p50:     time.Duration(pick(func(s stat) float64 { return float64(s.p50) })),
		p99:     time.Duration(pick(func(s stat) float64 { return float64(s.p99) })),
	}
}

// row is one line of the result table: a subject measured against a baseline in the same run.
type row struct {
	engine, call  string
	real, base    stat
	baseName      string
	concurrency   int
	onlyOpsPerSec bool
}

func (r row) String() string {
	ratio := r.real.opsPerS / r.base.opsPerS
	if r.onlyOpsPerSec {
		return fmt.Sprintf("| %s | %s | %d | %.0f | %.0f (%s) | %.2f | | |", r.engine, r.call, r.concurrency,
			r.real.opsPerS, r.base.opsPerS, r.baseName, ratio)
	}
	return fmt.Sprintf("| %s | %s | %d | %.0f | %.0f (%s) | %.2f | %s / %s = %.2f× | %s / %s = %.2f× |", r.engine, r.call,
		r.concurrency, r.real.opsPerS, r.base.opsPerS, r.baseName, ratio,
		ms(r.real.p50), ms(r.base.p50), float64(r.real.p50)/float64(r.base.p50),
		ms(r.real.p99), ms(r.base.p99), float64(r.real.p99)/float64(r.base.p99))
}

func ms(d time.Duration) string {
	return strconv.FormatFloat(float64(d.Microseconds())/1000, 'f', 2, 64) + "ms"
}

const tableHead = "| engine | call | conc. | ops/s | baseline ops/s | throughput ratio | p50 (ratio) | p99 (ratio) |\n|---|---|---:|---:|---:|---:|---|---|"

// alternate measures a and b c.Runs times each, alternating which goes first, and returns their medians.
func alternate(c compareConfig, a, b func() (stat, error)) (stat, stat, error) {
	var as, bs []stat
	for i := 0; i < c.Runs; i++ {
		first, second := a, b
		if i%2 == 1 {
			first, second = b, a
		}
		s1, err := first()
		if err != nil {
			return stat{}, stat{}, err
		}
		s2, err := second()
		if err != nil {
			return stat{}, stat{}, err
		}
		if i%2 == 1 {
			s1, s2 = s2, s1
		}
		as, bs = append(as, s1), append(bs, s2)
	}
	return median(as), median(bs), nil
}

// side is one server under comparison and the clients that call it as the measured buyer and supplier.
type side struct {
	store      *storage.Store
	supplierID string
	buyerID    string
	buyerEmail string
	supplier   orderv1connect.OrderServiceClient
	buyer      orderv1connect.OrderServiceClient
	feed       eventv1connect.EventServiceClient
	product    string
	ids        []string // the measured buyer's stored orders
}

// seedOrders stores n orders of the supplier spread over the buyers by bulk insert and returns the ids of
// the first buyer's.
func seedOrders(ctx context.Context, client *ent.Client, supplierID string, buyers []string, buyerEmail string, n int) ([]string, error) {
	termBytes, _ := proto.MarshalOptions{Deterministic: true}.Marshal(orderTerms(""))
	var mine []string
	const batch = 1000
	for start := 0; start < n; start += batch {
		creates := make([]*ent.OrderCreate, 0, batch)
		for i := start; i < min(start+batch, n); i++ {
			id := fmt.Sprintf("ord_seed_%08d", i)
			buyer := buyers[i%len(buyers)]
			if i%len(buyers) == 0 {
				mine = append(mine, id)
			}
			creates = append(creates, client.Order.Create().SetID(id).SetPolicy(entorder.PolicyRetail).
				SetPolicyVersion("2026-11-01").SetState(entorder.StateDraft).SetSupplierID(supplierID).
				SetBuyerID(buyer).SetBuyerEmail(buyerEmail).SetCurrency("USD").SetTerms(termBytes).
				SetGoodsMinor(100_00).SetTotalMinor(150_00).SetAdvanceMinor(0).SetTotalUsdMinor(150_00).
				SetCoveredMinor(150_00).SetShipByTime(servertest.Start.Add(30*24*time.Hour)).
				SetEtag("seed").SetCreateTime(servertest.Start).SetUpdateTime(servertest.Start))
		}
		if err := client.Order.CreateBulk(creates...).Exec(ctx); err != nil {
			return nil, fmt.Errorf("seed orders: %w", err)
		}
	}
	return mine, nil
}

// seedFeed stores n events, feedPartyEvents of them (spread evenly) naming party, in one statement.
func seedFeed(ctx context.Context, store *storage.Store, party string, n int) error {
	payload, _ := anypb.New(&orderv1.Order{Id: "ord_feed", State: orderv1.Order_STATE_DRAFT})
	body, _ := proto.Marshal(payload)
	every := max(1, n/feedPartyEvents)
	q := `WITH RECURSIVE s(g) AS (SELECT 1 UNION ALL SELECT g+1 FROM s WHERE g < ?)
INSERT INTO events (type, subject_type, subject_id, revision, time, actor_role, actor_id, party_ids, payload)
SELECT 'order.drafted', 'order', 'ord_feed_' || g, 1, ?, 'system', '',
  CASE WHEN g % ? = 0 THEN ? ELSE ' acc_other_' || (g % 97) || ' ' END, ? FROM s`
	args := []any{n, servertest.Start, every, " " + party + " ", body}
	if store.Dialect == dialect.Postgres {
		q = `INSERT INTO events (type, subject_type, subject_id, revision, time, actor_role, actor_id, party_ids, payload)
SELECT 'order.drafted', 'order', 'ord_feed_' || g, 1, $2, 'system', '',
  CASE WHEN g % $3 = 0 THEN $4 ELSE ' acc_other_' || (g % 97) || ' ' END, $5 FROM generate_series(1, $1::bigint) g`
	}
	var before int64
	if err := store.DB.QueryRowContext(ctx, "SELECT COALESCE(MAX(id), 0) FROM events").Scan(&before); err != nil {
		return fmt.Errorf("seed feed: %w", err)
	}
	if _, err := store.DB.ExecContext(ctx, q, args...); err != nil {
		return fmt.Errorf("seed feed: %w", err)
	}
	// Each seeded event names one party; index it as Append does.
	idx := `INSERT INTO event_parties (account_id, feed_key, event_id) SELECT trim(party_ids), feed_key, id FROM events WHERE id > ?`
	if store.Dialect == dialect.Postgres {
		idx = strings.Replace(idx, "?", "$1", 1)
	}
	if _, err := store.DB.ExecContext(ctx, idx, before); err != nil {
		return fmt.Errorf("seed feed parties: %w", err)
	}
	// On Postgres, what autovacuum does to a table soon after a bulk load, done at once so that every run
	// measures the plans a running database has (statistics, and the visibility map that lets a party's
	// page read event_parties by its index alone) rather than those of the first minute after seeding.
	if store.Dialect == dialect.Postgres {
		for _, table := range []string{"events", "event_parties", "orders"} {
			if _, err := store.DB.ExecContext(ctx, "VACUUM ANALYZE "+table); err != nil {
				return fmt.Errorf("seed feed: %w", err)
			}
		}
	}
	return nil
}

// seedSweep stores n completed orders whose after-sales window ends at due, each with its pending close
// deadline, and returns their ids.
func seedSweep(ctx context.Context, client *ent.Client, supplierID, buyerID, tag string, n int, due time.Time) ([]string, error) {
	termBytes, _ := proto.Marshal(orderTerms(""))
	var ids []string
	const batch = 500
	for start := 0; start < n; start += batch {
		orders := make([]*ent.OrderCreate, 0, batch)
		deadlines := make([]*ent.DeadlineCreate, 0, batch)
		for i := start; i < min(start+batch, n); i++ {
			id := fmt.Sprintf("ord_sweep_%s_%06d", tag, i)
			ids = append(ids, id)
			orders = append(orders, client.Order.Create().SetID(id).SetPolicy(entorder.PolicyRetail).
				SetPolicyVersion("2026-11-01").SetState(entorder.StateCompleted).SetSupplierID(supplierID).
				SetBuyerID(buyerID).SetBuyerEmail("sweep@test.example").SetCurrency("USD").SetTerms(termBytes).
				SetGoodsMinor(100_00).SetTotalMinor(150_00).SetAdvanceMinor(0).SetTotalUsdMinor(150_00).
				SetCoveredMinor(150_00).SetShipByTime(servertest.Start).SetAfterSalesDeadline(due).
				SetEtag(resource.Etag(id, 1)).SetCreateTime(servertest.Start).SetUpdateTime(servertest.Start))
			deadlines = append(deadlines, client.Deadline.Create().SetID("dl_"+id).SetSubjectType("order").
				SetSubjectID(id).SetKind("order.close").SetDueTime(due).SetCreateTime(servertest.Start))
		}
		if err := client.Order.CreateBulk(orders...).Exec(ctx); err != nil {
			return nil, fmt.Errorf("seed sweep orders: %w", err)
		}
		if err := client.Deadline.CreateBulk(deadlines...).Exec(ctx); err != nil {
			return nil, fmt.Errorf("seed sweep deadlines: %w", err)
		}
	}
	return ids, nil
}

// sweepFloor is the least work the sweep's effect takes: per batch of 500, in one transaction, one
// UPDATE closing the orders, one UPDATE marking the deadlines done and one multi-row INSERT of the
// closing events.
func sweepFloor(ctx context.Context, store *storage.Store, ids []string, now time.Time) error {
	payload, _ := anypb.New(&orderv1.Order{Id: "ord_sweep", State: orderv1.Order_STATE_CLOSED})
	body, _ := proto.Marshal(payload)
	for start := 0; start < len(ids); start += 500 {
		part := ids[start:min(start+500, len(ids))]
		dls := make([]string, len(part))
		for i, id := range part {
			dls[i] = "dl_" + id
		}
		err := store.WithTx(ctx, func(tx *ent.Tx) error {
			if err := tx.Order.Update().Where(entorder.IDIn(part...), entorder.StateEQ(entorder.StateCompleted)).
				SetState(entorder.StateClosed).SetCloseTime(now).AddRevision(1).Exec(ctx); err != nil {
				return err
			}
			if err := tx.Deadline.Update().Where(entdeadline.IDIn(dls...)).SetState(entdeadline.StateDone).
				SetFinishTime(now).SetOutcome("applied").Exec(ctx); err != nil {
				return err
			}
			evs := make([]*ent.EventCreate, len(part))
			for i, id := range part {
				evs[i] = tx.Event.Create().SetType("order.closed").SetSubjectType("order").SetSubjectID(id).SetRevision(2).
					SetTime(now).SetActorRole("system").SetPayload(body)
			}
			return tx.Event.CreateBulk(evs...).Exec(ctx)
		})
		if err != nil {
			return fmt.Errorf("sweep floor: %w", err)
		}
	}
	return nil
}

// compare runs every comparison of c and returns the table rows.
func compare(tb testing.TB, c compareConfig) []row {
	ctx := context.Background()
	var rows []row
	for _, engine := range c.Engines {
		tb.Logf("%s: seeding %d orders, %d events on each side", engine, c.Orders, c.FeedSmall)
		real, env := realSide(tb, engine, c)
		base, baseHTTP := bareSide(tb, engine, c)
		defer baseHTTP.Close()

		measureCall := func(call string, conc int, op func(s *side) func(ctx context.Context, i int) error) {
			if !c.measures(call) {
				return
			}
			rs, bs, err := alternate(c,
				func() (stat, error) { return load(ctx, conc, c.Duration, op(real)) },
				func() (stat, error) { return load(ctx, conc, c.Duration, op(base)) })
			if err != nil {
				tb.Fatalf("%s %s: %v", engine, call, err)
			}
			rows = append(rows, row{engine: engine, call: call, real: rs, base: bs, baseName: "bare", concurrency: conc})
			if c.ProfileDir != "" {
				name := filepath.Join(c.ProfileDir, engine+"-"+strings.Fields(call)[0])
				for _, p := range []struct {
					path string
					side *side
				}{{name + ".pprof", real}, {name + "-bare.pprof", base}} {
					profile(tb, p.path, func() error {
						_, err := load(ctx, conc, c.Duration, op(p.side))
						return err
					})
				}
			}
		}
		createOp := func(s *side) func(ctx context.Context, i int) error {
			return func(ctx context.Context, i int) error {
				_, err := s.supplier.CreateOrder(ctx, connect.NewRequest(&orderv1.CreateOrderRequest{
					RequestId: resource.ID("req_"), Policy: commonv1.Policy_POLICY_RETAIL, BuyerEmail: s.buyerEmail, Terms: orderTerms(s.product)}))
				return err
			}
		}
		measureCall("CreateOrder", c.Concurrency, createOp)
		measureCall("GetOrder", c.Concurrency, func(s *side) func(ctx context.Context, i int) error {
			return func(ctx context.Context, i int) error {
				_, err := s.buyer.GetOrder(ctx, connect.NewRequest(&orderv1.GetOrderRequest{OrderId: s.ids[i%len(s.ids)]}))
				return err
			}
		})
		measureCall("ListOrders", c.Concurrency, func(s *side) func(ctx context.Context, i int) error {
			return func(ctx context.Context, i int) error {
				// The measured buyer has at least the stored orders and those CreateOrder added.
				resp, err := s.buyer.ListOrders(ctx, connect.NewRequest(&orderv1.ListOrdersRequest{PageSize: 50}))
				if n := len(resp.Msg.GetOrders()); err == nil && (n == 0 || n > 50) {
					err = fmt.Errorf("ListOrders: a page of %d, want 1 to 50", n)
				}
				return err
			}
		})
		measureCall("ListEvents (party feed)", c.Concurrency, func(s *side) func(ctx context.Context, i int) error {
			return func(ctx context.Context, i int) error {
				resp, err := s.feed.ListEvents(ctx, connect.NewRequest(&eventv1.ListEventsRequest{}))
				if err == nil && len(resp.Msg.GetEvents()) != 100 {
					err = fmt.Errorf("ListEvents: a page of %d, want 100", len(resp.Msg.GetEvents()))
				}
				return err
			}
		})
		if engine == "postgres" && c.measures("CreateOrder conc. 32") {
			// The scaling target: CreateOrder at concurrency 32 against itself at 4, on the real server, and
			// the same for the baseline (what the machine itself allows).
			for _, s := range []struct {
				name string
				side *side
			}{{"", real}, {" (bare)", base}} {
				lo, hi, err := alternate(c,
					func() (stat, error) { return load(ctx, 4, c.Duration, createOp(s.side)) },
					func() (stat, error) { return load(ctx, 32, c.Duration, createOp(s.side)) })
				if err != nil {
					tb.Fatalf("%s CreateOrder scaling: %v", engine, err)
				}
				rows = append(rows, row{engine: engine, call: "CreateOrder conc. 32 vs conc. 4" + s.name, real: hi, base: lo,
					baseName: "conc. 4", concurrency: 32})
			}
		}
		if c.measures("deadline sweep") {
			rows = append(rows, compareSweep(tb, c, engine, env, real, base))
		}
		if c.FeedLarge > 0 && (engine != "postgres" || c.FeedLargePG) && c.measures("party ListEvents") {
			rows = append(rows, compareFeedScale(tb, c, engine, real))
		}
	}
	return rows
}

// compareSweep measures the deadline sweep (applied deadlines per second, each run on fresh deadlines)
// against the raw batched floor on the baseline's database.
func compareSweep(tb testing.TB, c compareConfig, engine string, env *servertest.Env, real, base *side) row {
	ctx := context.Background()
	run := 0
	// sweepReal seeds c.Sweep due deadlines and measures the real server's sweep of them, CPU-profiled
	// into profilePath when it is set.
	sweepReal := func(profilePath string) (stat, error) {
		run++
		now := env.Clock.Now()
		due := now.Add(time.Minute)
		if _, err := seedSweep(ctx, real.store.Client, real.supplierID, real.buyerID, fmt.Sprintf("r%d", run), c.Sweep, due); err != nil {
			return stat{}, err
		}
		env.Clock.Set(due.Add(time.Minute))
		var (
			n       int
			elapsed time.Duration
		)
		sweep := func() (err error) {
			t0 := time.Now()
			n, err = env.Server.Engine.RunDue(ctx)
			elapsed = time.Since(t0)
			if err == nil && n != c.Sweep {
				err = fmt.Errorf("sweep applied %d of %d deadlines", n, c.Sweep)
			}
			return err
		}
		var err error
		if profilePath != "" {
			profile(tb, profilePath, sweep)
		} else {
			err = sweep()
		}
		return stat{ops: n, opsPerS: float64(n) / elapsed.Seconds()}, err
	}
	realRun := func() (stat, error) { return sweepReal("") }
	baseRun := func() (stat, error) {
		run++
		now := servertest.Start.Add(time.Duration(run) * time.Hour)
		ids, err := seedSweep(ctx, base.store.Client, base.supplierID, base.buyerID, fmt.Sprintf("b%d", run), c.Sweep, now)
		if err != nil {
			return stat{}, err
		}
		t0 := time.Now()
		err = sweepFloor(ctx, base.store, ids, now)
		return stat{ops: len(ids), opsPerS: float64(len(ids)) / time.Since(t0).Seconds()}, err
	}
	rs, bs, err := alternate(c, realRun, baseRun)
	if err != nil {
		tb.Fatalf("%s sweep: %v", engine, err)
	}
	if c.ProfileDir != "" {
		if _, err := sweepReal(filepath.Join(c.ProfileDir, engine+"-sweep.pprof")); err != nil {
			tb.Fatalf("%s sweep: %v", engine, err)
		}
	}
	return row{engine: engine, call: fmt.Sprintf("deadline sweep (%d due, applied/s)", c.Sweep), real: rs, base: bs,
		baseName: "raw batched floor", concurrency: 1, onlyOpsPerSec: true}
}

// compareFeedScale measures the party's ListEvents page on a second real server holding c.FeedLarge
// events against the first (c.FeedSmall events), alternating.
func compareFeedScale(tb testing.TB, c compareConfig, engine string, small *side) row {
	ctx := context.Background()
	tb.Logf("%s: seeding %d events for the feed scale comparison", engine, c.FeedLarge)
	large, _ := realSide(tb, engine, compareConfig{Orders: 0, FeedSmall: c.FeedLarge})
	op := func(s *side) func(ctx context.Context, i int) error {
		return func(ctx context.Context, i int) error {
			resp, err := s.feed.ListEvents(ctx, connect.NewRequest(&eventv1.ListEventsRequest{}))
			if err == nil && len(resp.Msg.GetEvents()) != 100 {
				err = fmt.Errorf("ListEvents: a page of %d, want 100", len(resp.Msg.GetEvents()))
			}
			return err
		}
	}
	ls, ss, err := alternate(c,
		func() (stat, error) { return load(ctx, c.Concurrency, c.Duration, op(large)) },
		func() (stat, error) { return load(ctx, c.Concurrency, c.Duration, op(small)) })
	if err != nil {
		tb.Fatalf("%s feed scale: %v", engine, err)
	}
	return row{engine: engine, call: fmt.Sprintf("party ListEvents at %d vs %d events", c.FeedLarge, c.FeedSmall),
		real: ls, base: ss, baseName: fmt.Sprintf("%d events", c.FeedSmall), concurrency: c.Concurrency}
}

// realSide starts the real server (server.New through servertest) and seeds it.
func realSide(tb testing.TB, engine string, c compareConfig) (*side, *servertest.Env) {
	ctx := context.Background()
	e := servertest.New(&keep{TB: tb}, servertest.Options{Engine: engine})
	supplier := e.Supplier(1_000_000_00, true)
	product := e.Product(supplier, "Widget", 10_00, "USD")
	var buyers []string
	var measured *servertest.Party
	for i := 0; i < 50; i++ {
		p := e.Buyer("US")
		if i == 0 {
			measured = p
		}
		buyers = append(buyers, p.ID())
	}
	s := &side{store: e.Store, product: product, supplierID: supplier.ID(), buyerID: measured.ID(), buyerEmail: measured.Account.Email,
		supplier: supplier.Orders, buyer: measured.Orders, feed: measured.Events}
	var err error
	if s.ids, err = seedOrders(ctx, e.Store.Client, supplier.ID(), buyers, measured.Account.Email, c.Orders); err != nil {
		tb.Fatal(err)
	}
	if len(s.ids) == 0 {
		s.ids = []string{"ord_none"}
	}
	if err := seedFeed(ctx, e.Store, measured.ID(), c.FeedSmall); err != nil {
		tb.Fatal(err)
	}
	return s, e
}

// bareSide opens a fresh database of the engine with storage.Open, seeds it as realSide does and serves
// the baseline on it.
func bareSide(tb testing.TB, engine string, c compareConfig) (*side, interface{ Close() }) {
	ctx := context.Background()
	k := &keep{TB: tb}
	dsn := "sqlite://" + k.TempDir() + "/bare.db"
	if engine == "postgres" {
		dsn = servertest.FreshPostgres(k)
	}
	store, err := storage.Open(ctx, dsn)
	if err != nil {
		tb.Fatal(err)
	}
	b := &bare{store: store, supplier: "acc_bare_supplier", buyer: "acc_bare_buyer_00"}
	buyers := []string{b.buyer}
	for i := 1; i < 50; i++ {
		buyers = append(buyers, fmt.Sprintf("acc_bare_buyer_%02d", i))
	}
	s := &side{store: store, supplierID: b.supplier, buyerID: b.buyer, buyerEmail: "bare@test.example"}
	if s.ids, err = seedOrders(ctx, store.Client, b.supplier, buyers, s.buyerEmail, c.Orders); err != nil {
		tb.Fatal(err)
	}
	if len(s.ids) == 0 {
		s.ids = []string{"ord_none"}
	}
	if err := seedFeed(ctx, store, b.buyer, c.FeedSmall); err != nil {
		tb.Fatal(err)
	}
	hs := serveBare(b)
	client := hs.Client()
	s.supplier = orderv1connect.NewOrderServiceClient(client, hs.URL)
	s.buyer = s.supplier
	s.feed = eventv1connect.NewEventServiceClient(client, hs.URL)
	return s, closers{hs.Close, func() { _ = store.Close() }}
}

// profile writes a CPU profile of run to path.
func profile(tb testing.TB, path string, run func() error) {
	f, err := os.Create(path)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	if err := pprof.StartCPUProfile(f); err != nil {
		tb.Fatal(err)
	}
	err = run()
	pprof.StopCPUProfile()
	if err != nil {
		tb.Fatal(err)
	}
}

type closers []func()

func (c closers) Close() {
	for _, f := range c {
		f()
	}
}

func table(c compareConfig, rows []row) string {
	var b strings.Builder
	fmt.Fprintf(&b, "\nratio = tradeassure / baseline, medians of %d alternating runs of %v each; concurrency %d; %d stored orders\n\n",
		c.Runs, c.Duration, c.Concurrency, c.Orders)
	b.WriteString(tableHead + "\n")
	for _, r := range rows {
		b.WriteString(r.String() + "\n")
	}
	return b.String()
}

// BenchmarkCompare is `make bench`: the real server against the bare baseline, side by side in one run,
// on SQLite (a WAL file) and on Postgres (when TRADEASSURE_TEST_POSTGRES is set). It runs once whatever
// b.N is; BENCH_* variables size it (see defaultCompare).
func BenchmarkCompare(b *testing.B) {
	c := defaultCompare()
	for range b.N {
		fmt.Print(table(c, compare(b, c)))
	}
}

// TestCompareSmoke runs the whole comparison at a tiny size on every engine, so the harness itself is
// proven to work; it asserts nothing about speed.
func TestCompareSmoke(t *testing.T) {
	var eng []string
	for _, e := range servertest.Engines() {
		if e == "sqlite" {
			e = "sqlite-file"
		}
		eng = append(eng, e)
	}
	c := compareConfig{Engines: eng, Concurrency: 2, Duration: 100 * time.Millisecond, Runs: 1, Orders: 200,
		Sweep: 20, FeedSmall: 400, FeedLarge: 800, FeedLargePG: true}
	rows := compare(t, c)
	want := 5*len(eng) + len(eng) // four calls and the sweep, plus the feed scale row, per engine
	for _, e := range eng {
		if e == "postgres" {
			want += 2 // the CreateOrder scaling rows
		}
	}
	if len(rows) != want {
		t.Fatalf("%d rows, want %d", len(rows), want)
	}
	for _, r := range rows {
		if r.real.opsPerS <= 0 || r.base.opsPerS <= 0 {
			t.Errorf("%s %s: no completed calls (%+v vs %+v)", r.engine, r.call, r.real, r.base)
		}
	}
	t.Log(table(c, rows))
}
