package events_test

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/tradeassure/tradeassure/ent"
	entdeadline "github.com/tradeassure/tradeassure/ent/deadline"
	entorder "github.com/tradeassure/tradeassure/ent/order"

	commonv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/common/v1"
	eventv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/event/v1"
	"github.com/tradeassure/tradeassure/gen/go/tradeassure/event/v1/eventv1connect"
	orderv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/order/v1"
	"github.com/tradeassure/tradeassure/server/resource"
	"github.com/tradeassure/tradeassure/server/servertest"
)

// follower pages through one feed with ListEvents, as an ERP does, recording every event in the order
// it arrives.
type follower struct {
	name   string
	feed   eventv1connect.EventServiceClient
	after  string
	seen   []*eventv1.Event
	calls  atomic.Int64
	remain func() bool
}

func (f *follower) poll(ctx context.Context) error {
	resp, err := f.feed.ListEvents(ctx, connect.NewRequest(&eventv1.ListEventsRequest{AfterId: f.after, PageSize: 1000}))
	if err != nil {
		return err
	}
	f.calls.Add(1)
	f.seen = append(f.seen, resp.Msg.GetEvents()...)
	f.after = resp.Msg.GetNextAfterId()
	return nil
}

// TestFollowersSeeEveryEventOnceInOrder is the feed's ordering property without a global lock: writers
// on two server processes over one database change many different orders at once (each order drafted,
// then cancelled: revisions 1 and 2) and both processes' deadline sweeps close 300 more (each batch's
// events inserted together, storage.Deferred), while two followers page through the feed as it grows — the
// operator's whole feed on one process, a buyer's party feed on the other. Each follower must end with
// every event it may see exactly once (none skipped while older transactions were still running), with
// each order's revisions in order. On Postgres the processes share a database; on SQLite a WAL file.
func TestFollowersSeeEveryEventOnceInOrder(t *testing.T) {
	for _, engine := range servertest.Engines() {
		if engine == "sqlite" {
			engine = "sqlite-file"
		}
		t.Run(engine, func(t *testing.T) {
			ctx := context.Background()
			a := servertest.New(t, servertest.Options{Engine: engine})
			b := servertest.New(t, servertest.Options{DSN: a.DSN})
			supplier := a.Supplier(1_000_000_00, true)
			product := a.Product(supplier, "Widget", 10_00, "USD")
			buyer := a.Buyer("US")
			other := a.Buyer("US")
			operator := a.Staff(commonv1.Role_ROLE_OPERATOR)
			start, err := operator.Events.ListEvents(ctx, connect.NewRequest(&eventv1.ListEventsRequest{PageSize: 1000}))
			if err != nil {
				t.Fatal(err)
			}

			// Orders whose after-sales window has ended, half of them the followed buyer's: both processes'
			// deadline sweeps close them while the writers write, each batch's events inserted together.
			const closable = 300
			seedClosable(t, a, supplier.ID(), []string{buyer.ID(), other.ID()}, product, closable)

			const writers, perWriter = 8, 12
			var done atomic.Bool
			var wg sync.WaitGroup
			errs := make(chan error, writers+4)
			var sweepsDone atomic.Bool
			var sweeps sync.WaitGroup
			for _, env := range []*servertest.Env{a, b} {
				sweeps.Add(1)
				go func() {
					defer sweeps.Done()
					for !sweepsDone.Load() {
						if _, err := env.Server.Engine.RunDue(ctx); err != nil {
							errs <- fmt.Errorf("sweep: %w", err)
							return
						}
					}
				}()
			}
			for w := 0; w < writers; w++ {
				env := a
				if w%2 == 1 {
					env = b
				}
				// Half the orders are the followed buyer's, half another buyer's (not in its party feed).
				to := buyer
				if w%4 >= 2 {
					to = other
				}
				s := env.Clients(supplier.Key)
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := 0; i < perWriter; i++ {
						o, err := s.Orders.CreateOrder(ctx, connect.NewRequest(&orderv1.CreateOrderRequest{
							Policy: commonv1.Policy_POLICY_RETAIL, BuyerEmail: to.Account.Email, Terms: terms(product, a.Clock.Now())}))
						if err == nil {
							_, err = s.Orders.CancelOrder(ctx, connect.NewRequest(&orderv1.CancelOrderRequest{
								OrderId: o.Msg.GetOrder().GetId(), Etag: o.Msg.GetOrder().GetEtag(),
								Reason: orderv1.CancellationReason_CANCELLATION_REASON_SUPPLIER}))
						}
						if err != nil {
							errs <- fmt.Errorf("writer: %w", err)
							return
						}
					}
				}()
			}
			followers := []*follower{
				{name: "operator on B", feed: b.Clients(operator.Key).Events, after: start.Msg.GetNextAfterId()},
				{name: "buyer on A", feed: buyer.Events},
			}
			var fw sync.WaitGroup
			for _, f := range followers {
				fw.Add(1)
				go func() {
					defer fw.Done()
					for !done.Load() {
						if err := f.poll(ctx); err != nil {
							errs <- fmt.Errorf("%s: %w", f.name, err)
							return
						}
					}
				}()
			}
			wg.Wait()
			servertest.WaitFor(t, "the sweeps to close every order", func() bool { return pendingCloses(t, a) == 0 },
				func() int { return pendingCloses(t, a) })
			sweepsDone.Store(true)
			sweeps.Wait()
			done.Store(true)
			fw.Wait()
			close(errs)
			for err := range errs {
				t.Fatal(err)
			}

			// Every event now stored, as each follower may see it, read back in one go.
			want := map[string]map[string]bool{}
			for _, f := range followers {
				want[f.name] = map[string]bool{}
			}
			first := int64(0)
			if after := start.Msg.GetNextAfterId(); after != "" {
				if first, err = strconv.ParseInt(after, 10, 64); err != nil {
					t.Fatal(err)
				}
			}
			for _, ev := range a.Store.Client.Event.Query().AllX(ctx) {
				id := strconv.FormatInt(ev.ID, 10)
				if ev.ID > first {
					want["operator on B"][id] = true
				}
				if strings.Contains(ev.PartyIds, " "+buyer.ID()+" ") {
					want["buyer on A"][id] = true
				}
			}
			if n := len(want["operator on B"]); n < 2*writers*perWriter+closable {
				t.Fatalf("%d new events stored, want at least %d", n, 2*writers*perWriter+closable)
			}
			if n := a.Store.Client.Order.Query().Where(entorder.IDGT("ord_closable_"), entorder.IDLT("ord_closable_~"), entorder.StateEQ(entorder.StateClosed)).
				CountX(ctx); n != closable {
				t.Fatalf("%d of the %d orders closed by the sweeps", n, closable)
			}
			for _, f := range followers {
				// The writers are done: catch up to the end, then check.
				servertest.WaitFor(t, f.name+" to catch up", func() bool {
					if err := f.poll(ctx); err != nil {
						t.Fatal(err)
					}
					return countIn(f.seen, want[f.name]) >= len(want[f.name])
				}, func() int { return len(f.seen) })
				got := map[string]int{}
				revision := map[string]int64{}
				for _, ev := range f.seen {
					got[ev.GetId()]++
					if got[ev.GetId()] > 1 {
						t.Fatalf("%s: event %s twice", f.name, ev.GetId())
					}
					if !want[f.name][ev.GetId()] {
						t.Fatalf("%s: event %s (%s of %s) is not in its feed", f.name, ev.GetId(), ev.GetType(), ev.GetSubjectId())
					}
					if r := ev.GetRevision(); r <= revision[ev.GetSubjectId()] {
						t.Fatalf("%s: %s revision %d after revision %d", f.name, ev.GetSubjectId(), r, revision[ev.GetSubjectId()])
					}
					revision[ev.GetSubjectId()] = ev.GetRevision()
				}
				if len(got) != len(want[f.name]) {
					t.Fatalf("%s: saw %d events, its feed has %d", f.name, len(got), len(want[f.name]))
				}
				t.Logf("%s: %d events exactly once in %d pages", f.name, len(got), f.calls.Load())
			}
		})
	}
}

// seedClosable stores n completed orders of supplierID, for the buyers in turn, whose after-sales windows
// end now, each with its pending close deadline.
func seedClosable(t *testing.T, e *servertest.Env, supplierID string, buyers []string, product string, n int) {
	t.Helper()
	now := e.Clock.Now()
	termBytes, err := proto.Marshal(terms(product, now))
	if err != nil {
		t.Fatal(err)
	}
	orders := make([]*ent.OrderCreate, n)
	deadlines := make([]*ent.DeadlineCreate, n)
	for i := range n {
		id := fmt.Sprintf("ord_closable_%04d", i)
		orders[i] = e.Store.Client.Order.Create().SetID(id).SetPolicy(entorder.PolicyRetail).
			SetPolicyVersion("2026-11-01").SetState(entorder.StateCompleted).SetSupplierID(supplierID).
			SetBuyerID(buyers[i%len(buyers)]).SetBuyerEmail("closable@test.example").SetCurrency("USD").SetTerms(termBytes).
			SetGoodsMinor(10_00).SetTotalMinor(10_00).SetAdvanceMinor(0).SetTotalUsdMinor(10_00).SetCoveredMinor(10_00).
			SetShipByTime(now).SetCompleteTime(now).SetAfterSalesDeadline(now).SetEtag(resource.Etag(id, 1)).
			SetCreateTime(now).SetUpdateTime(now)
		deadlines[i] = e.Store.Client.Deadline.Create().SetID("dl_" + id).SetSubjectType("order").SetSubjectID(id).
			SetKind("order.close").SetDueTime(now).SetCreateTime(now)
	}
	e.Store.Client.Order.CreateBulk(orders...).ExecX(e.Ctx)
	e.Store.Client.Deadline.CreateBulk(deadlines...).ExecX(e.Ctx)
}

// pendingCloses is how many close deadlines are still pending.
func pendingCloses(t *testing.T, e *servertest.Env) int {
	t.Helper()
	n, err := e.Store.Client.Deadline.Query().Where(entdeadline.Kind("order.close"),
		entdeadline.StateEQ(entdeadline.StatePending)).Count(e.Ctx)
	if err != nil {
		t.Error(err)
		return 0
	}
	return n
}

func countIn(seen []*eventv1.Event, want map[string]bool) int {
	n := 0
	for _, ev := range seen {
		if want[ev.GetId()] {
			n++
		}
	}
	return n
}

func terms(product string, now time.Time) *orderv1.OrderTerms {
	return &orderv1.OrderTerms{
		Lines: []*orderv1.OrderLine{{ProductId: product, Quantity: 1}}, Currency: "USD",
		ShippingAddress: &commonv1.Address{RecipientName: "Acme", Phone: "+1 555 0100", Country: "US", Lines: []string{"1 Main St"}},
		TradeTerm:       orderv1.TradeTerm_TRADE_TERM_FCA, ShippingMethod: orderv1.ShippingMethod_SHIPPING_METHOD_AIR,
		PaymentTerms: &orderv1.PaymentTerms{Kind: orderv1.PaymentTerms_KIND_FULL},
		CoverageType: orderv1.CoverageType_COVERAGE_TYPE_POST_DELIVERY,
		ShipByTime:   timestamppb.New(now.Add(30 * 24 * time.Hour)),
	}
}
