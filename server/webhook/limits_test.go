package webhook_test

import (
	"strings"
	"testing"
	"time"

	"connectrpc.com/connect"

	"github.com/tradeassure/tradeassure/ent/webhookattempt"
	webhookv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/webhook/v1"
	"github.com/tradeassure/tradeassure/server/servertest"
	"github.com/tradeassure/tradeassure/server/webhook"
)

// TestSlowEndpointLeavesWorkersToOthers holds every request to one endpoint unanswered: it gets no more
// than its cap of the dispatcher's workers, and another endpoint keeps receiving meanwhile.
func TestSlowEndpointLeavesWorkersToOthers(t *testing.T) {
	for _, engine := range servertest.Engines() {
		t.Run(engine, func(t *testing.T) {
			t.Parallel()
			e := servertest.New(t, servertest.Options{Engine: engine, Dev: true,
				Webhooks: webhook.Config{Concurrency: 4, EndpointConcurrency: 2}})
			e.RunWebhooks()
			m := &market{t: t, e: e, buyer: e.Buyer("US"), supplier: e.Supplier(100_000_00, true)}
			m.product = e.Product(m.supplier, "Widget", 10_00, "USD")
			slow, fast := servertest.NewReceiver(t), servertest.NewReceiver(t)
			slow.Hold()
			defer slow.Release() // before the receivers close, which waits for held requests
			m.endpoint(m.buyer, slow.URL, "order.*")
			m.endpoint(m.supplier, fast.URL, "order.*")
			// Each order is its own subject, so without the cap the slow endpoint's deliveries would fill
			// all four workers.
			const orders = 6
			for i := 0; i < orders; i++ {
				m.draft()
			}
			servertest.WaitFor(t, "the other endpoint's deliveries", func() bool { return len(fast.OKIDs()) == orders }, fast.Count)
			servertest.WaitFor(t, "the slow endpoint's cap in flight", func() bool { return slow.Active() == 2 }, slow.Active)
			// With the slow endpoint's cap taken, later events still reach the other one.
			for i := 0; i < orders; i++ {
				m.draft()
			}
			servertest.WaitFor(t, "the other endpoint's later deliveries", func() bool { return len(fast.OKIDs()) == 2*orders }, fast.Count)
			if slow.Active() != 2 || slow.Count() != 0 {
				t.Fatalf("slow endpoint: %d in flight, %d answered; want 2 and 0", slow.Active(), slow.Count())
			}
			slow.Release()
			servertest.WaitFor(t, "the slow endpoint's deliveries", func() bool { return len(slow.OKIDs()) == 2*orders }, slow.Count)
			if o := slow.Overlaps(); len(o) > 0 {
				t.Fatalf("sent twice at once: %v", o)
			}
		})
	}
}

// TestFinishedDeliveriesArePruned keeps a finished delivery and its attempts for the retention period by
// the service clock, and deletes them just after it; the dispatcher prunes on its own. The first delivery
// fails once, so its attempts are webhook_attempts rows; the later one succeeds at once, so its only
// attempt is stored on its row and shown all the same.
func TestFinishedDeliveriesArePruned(t *testing.T) {
	for _, engine := range servertest.Engines() {
		t.Run(engine, func(t *testing.T) {
			t.Parallel()
			m := newMarket(t, engine, true)
			rx := servertest.NewReceiver(t)
			rx.SetAnswer(func(id string, n int) int {
				if strings.HasPrefix(id, "test_") || n > 1 {
					return 200
				}
				return 500
			})
			ep, _ := m.endpoint(m.supplier, rx.URL, "order.*")
			m.draft()
			servertest.WaitFor(t, "the first attempt", func() bool {
				ds := m.deliveries(m.supplier, ep.GetId())
				return len(ds) == 1 && len(ds[0].GetAttempts()) == 1
			}, rx.Count)
			m.advance(webhook.RetryDelays[0] * 2)
			servertest.WaitFor(t, "the delivery", func() bool {
				ds := m.deliveries(m.supplier, ep.GetId())
				return len(ds) == 1 && len(ds[0].GetAttempts()) == 2 && ds[0].GetFinishTime() != nil
			}, rx.Count)
			finished := m.deliveries(m.supplier, ep.GetId())[0].GetFinishTime().AsTime()
			attempts := func() int {
				return m.e.Store.Client.WebhookAttempt.Query().Where(webhookattempt.EndpointID(ep.GetId())).CountX(m.e.Ctx)
			}

			// Just inside the retention: kept.
			m.advance(finished.Add(webhook.DefaultRetention - time.Minute).Sub(m.e.Clock.Now()))
			if n, err := m.e.Server.Webhooks.Prune(m.e.Ctx); err != nil || n != 0 {
				t.Fatalf("prune inside the retention: %d deleted, %v", n, err)
			}
			if ds := m.deliveries(m.supplier, ep.GetId()); len(ds) != 1 || len(ds[0].GetAttempts()) != 2 || attempts() != 2 {
				t.Fatalf("inside the retention: deliveries %v, %d attempts stored", ds, attempts())
			}
			// A later delivery (a test event) finishes now and outlives the first; its one attempt is on its row.
			if _, err := m.supplier.Webhooks.SendTestWebhook(m.e.Ctx, connect.NewRequest(&webhookv1.SendTestWebhookRequest{EndpointId: ep.GetId()})); err != nil {
				t.Fatalf("send test webhook: %v", err)
			}
			if n := attempts(); n != 2 {
				t.Fatalf("%d attempt rows stored, want 2 (the first delivery's)", n)
			}

			// Just past it: the dispatcher deletes the first delivery and its attempts.
			m.advance(2 * time.Minute)
			servertest.WaitFor(t, "the pruning", func() bool { return len(m.deliveries(m.supplier, ep.GetId())) == 1 }, attempts)
			if n := attempts(); n != 0 {
				t.Fatalf("%d attempt rows stored after pruning, want 0", n)
			}
			if ds := m.deliveries(m.supplier, ep.GetId()); len(ds[0].GetAttempts()) != 1 ||
				ds[0].GetAttempts()[0].GetOutcome() != webhookv1.WebhookAttempt_OUTCOME_SUCCEEDED || ds[0].GetAttempts()[0].GetHttpStatus() != 200 {
				t.Fatalf("the test delivery after pruning: %v", ds)
			}
		})
	}
}
