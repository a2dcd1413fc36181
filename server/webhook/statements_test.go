package webhook_test

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"entgo.io/ent/dialect"
	entsql "entgo.io/ent/dialect/sql"

	"github.com/tradeassure/tradeassure/ent"
	"github.com/tradeassure/tradeassure/ent/webhookdelivery"
	orderv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/order/v1"
	"github.com/tradeassure/tradeassure/server/auth"
	"github.com/tradeassure/tradeassure/server/events"
	"github.com/tradeassure/tradeassure/server/pagination"
	"github.com/tradeassure/tradeassure/server/servertest"
	"github.com/tradeassure/tradeassure/server/storage"
	"github.com/tradeassure/tradeassure/server/webhook"
)

// TestDeliveryStatements counts the database statements and transactions a dispatcher spends per
// delivery, through a driver that counts them: with a backlog (every event queued before it starts)
// and with events arriving one by one while it runs, as under CreateOrder load. It logs the figures
// (docs/benchmarks.md quotes them) and fails only when a delivery costs more than two statements.
func TestDeliveryStatements(t *testing.T) {
	for _, engine := range servertest.Engines() {
		for _, mode := range []string{"backlog", "trickle"} {
			t.Run(engine+"/"+mode, func(t *testing.T) {
				keys, err := webhook.ParseKeys(webhook.NewKey())
				if err != nil {
					t.Fatal(err)
				}
				e := servertest.New(t, servertest.Options{Engine: engine, Dev: true, Webhooks: webhook.Config{Keys: keys}})
				rx := servertest.NewReceiver(t)
				supplier := e.Supplier(1_000_00, true)
				m := &market{t: t, e: e}
				ep, _ := m.endpoint(supplier, rx.URL, "order.*")

				var statements, transactions atomic.Int64
				count := func(_ context.Context, v ...any) {
					s := fmt.Sprint(v...)
					switch {
					case strings.Contains(s, "started"):
						transactions.Add(1)
					case strings.Contains(s, "query="):
						statements.Add(1)
					}
				}
				drv := dialect.DebugWithContext(entsql.OpenDB(e.Store.Dialect, e.Store.DB), count)
				store := &storage.Store{Client: ent.NewClient(ent.Driver(drv)), DB: e.Store.DB, Dialect: e.Store.Dialect}
				feed := events.NewFeed(e.Store.Dialect)
				w, err := webhook.New(e.Ctx, store, e.Clock, feed, pagination.New([]byte("statements")),
					slog.New(slog.DiscardHandler), webhook.Config{Keys: keys, Dev: true, Interval: time.Second})
				if err != nil {
					t.Fatal(err)
				}
				const n = 300
				appendEvents := func(from, to int) {
					err := store.WithTx(e.Ctx, func(tx *ent.Tx) error {
						for i := from; i < to; i++ {
							id := fmt.Sprintf("ord_count_%d", i)
							if err := feed.Append(e.Ctx, tx, events.Event{Type: "order.drafted", SubjectType: "order", SubjectID: id,
								Revision: 1, Time: e.Clock.Now(), Actor: auth.System, Parties: []string{supplier.ID()},
								Payload: &orderv1.Order{Id: id}}); err != nil {
								return err
							}
						}
						return nil
					})
					if err != nil {
						t.Fatal(err)
					}
				}
				succeeded := func() int {
					return e.Store.Client.WebhookDelivery.Query().Where(webhookdelivery.EndpointID(ep.GetId()),
						webhookdelivery.StateEQ(webhookdelivery.StateSucceeded)).CountX(e.Ctx)
				}
				if mode == "backlog" {
					appendEvents(0, n)
				}
				// Only the dispatcher's statements from here on (and the groups' own, subtracted below).
				statements.Store(0)
				transactions.Store(0)
				ctx, cancel := context.WithCancel(e.Ctx)
				done := make(chan struct{})
				go func() { defer close(done); w.Run(ctx) }()
				var appended, appendTx int64
				if mode == "trickle" {
					// About 300 a second, as CreateOrder under BenchmarkCreateOrderWebhooks's load.
					for i := 0; i < n; i++ {
						before, beforeTx := statements.Load(), transactions.Load()
						appendEvents(i, i+1)
						appended += statements.Load() - before
						appendTx += transactions.Load() - beforeTx
						time.Sleep(3 * time.Millisecond) // pacing the load, not waiting for a result
					}
				}
				servertest.WaitFor(t, "every delivery", func() bool { return succeeded() == n }, rx.Count)
				cancel()
				<-done
				st, tx := statements.Load()-appended, transactions.Load()-appendTx
				t.Logf("%s, %s: %d deliveries, %d statements (%.2f per delivery), %d transactions (%.2f per delivery)",
					engine, mode, n, st, float64(st)/n, tx, float64(tx)/n)
				if st > 2*n {
					t.Errorf("%d statements for %d deliveries", st, n)
				}
			})
		}
	}
}
