package webhook_test

import (
	"testing"
	"time"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/types/known/durationpb"

	eventv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/event/v1"
	orderv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/order/v1"
	webhookv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/webhook/v1"
	"github.com/tradeassure/tradeassure/server/servertest"
	"github.com/tradeassure/tradeassure/server/webhook"
)

// TestRetriesBackOffUntilAccepted answers 500 three times, then 200: the event arrives exactly once more
// after each backoff, and only when the development clock is moved past it; meanwhile a later event of
// the same order waits.
func TestRetriesBackOffUntilAccepted(t *testing.T) {
	for _, engine := range servertest.Engines() {
		t.Run(engine, func(t *testing.T) {
			t.Parallel()
			m := newMarket(t, engine, true)
			rx := servertest.NewReceiver(t)
			// The first event to arrive is the order's drafted event: the order is accepted later.
			first := ""
			rx.SetAnswer(func(id string, n int) int {
				if first == "" {
					first = id
				}
				if id == first && n <= 3 {
					return 500
				}
				return 200
			})
			ep, secret := m.endpoint(m.supplier, rx.URL, "order.*")
			events := m.feedIDs(m.supplier, "", nil)
			o := m.draft()
			drafted := m.feedIDs(m.supplier, events[len(events)-1], nil)[0]
			accepted := false
			for attempt := 1; attempt <= 3; attempt++ {
				var d *webhookv1.WebhookDelivery
				servertest.WaitFor(t, "the failed attempt to be recorded", func() bool {
					for _, x := range m.deliveries(m.supplier, ep.GetId()) {
						if x.GetWebhookId() == drafted && int(x.GetAttemptCount()) == attempt {
							d = x
						}
					}
					return d != nil
				}, rx.Count)
				if d.GetState() != webhookv1.WebhookDelivery_STATE_PENDING || d.GetAttempts()[0].GetHttpStatus() != 500 ||
					d.GetAttempts()[0].GetOutcome() != webhookv1.WebhookAttempt_OUTCOME_HTTP_ERROR || d.GetAttempts()[0].GetError() != "HTTP 500" {
					t.Fatalf("after attempt %d: %v", attempt, d)
				}
				wait := d.GetNextAttemptTime().AsTime().Sub(d.GetAttempts()[0].GetTime().AsTime())
				base := webhook.RetryDelays[attempt-1]
				if wait < base*8/10-time.Second || wait > base*12/10+time.Second {
					t.Fatalf("retry %d after %v, want %v ± 20%%", attempt, wait, base)
				}
				if !accepted {
					if _, err := m.buyer.Orders.AcceptOrder(m.e.Ctx, connect.NewRequest(&orderv1.AcceptOrderRequest{OrderId: o.GetId()})); err != nil {
						t.Fatalf("accept: %v", err)
					}
					accepted = true
				}
				if n := rx.Count(); n != attempt {
					t.Fatalf("%d requests before the clock moved past the backoff, want %d", n, attempt)
				}
				now := m.e.Server.Clock.Now()
				m.advance(d.GetNextAttemptTime().AsTime().Sub(now).Truncate(time.Second) + time.Second)
			}
			servertest.WaitFor(t, "the accepted event", func() bool { return len(rx.OKIDs()) == 2 }, rx.Count)
			// The receiver answered; the dispatcher records outcomes in batches just after.
			servertest.WaitFor(t, "both outcomes to be recorded", func() bool {
				return m.getEndpoint(m.supplier, ep.GetId()).GetStats().GetSucceededDeliveries() == 2
			}, rx.Count)
			got := rx.All()
			if len(got) != 5 {
				t.Fatalf("%d requests, want 3 failures, the success and the accepted event", len(got))
			}
			for i, r := range got[:4] {
				if r.ID() != drafted {
					t.Fatalf("request %d is %s, want %s before any later event", i, r.ID(), drafted)
				}
				if err := verify(t, secret, r); err != nil {
					t.Fatalf("attempt %d does not verify: %v", i+1, err)
				}
			}
			if ev := got[4].Event(t); ev.GetType() != "order.accepted" {
				t.Fatalf("last delivery %v", ev)
			}
			var d *webhookv1.WebhookDelivery
			for _, x := range m.deliveries(m.supplier, ep.GetId()) {
				if x.GetWebhookId() == drafted {
					d = x
				}
			}
			if d.GetState() != webhookv1.WebhookDelivery_STATE_SUCCEEDED || d.GetAttemptCount() != 4 || len(d.GetAttempts()) != 4 {
				t.Fatalf("delivery %v", d)
			}
			st := m.getEndpoint(m.supplier, ep.GetId()).GetStats()
			if st.GetSucceededDeliveries() != 2 || st.GetFailedAttempts() != 3 || st.GetFailingSince() != nil || st.GetLastFailureTime() == nil {
				t.Fatalf("stats %v", st)
			}
		})
	}
}

// TestGivingUpAndDisablingAFailingEndpoint steps a receiver that always fails through the whole retry
// schedule: the delivery is given up after the last retry; once every attempt has failed for five days
// the endpoint is disabled and its owner gets a webhook_endpoint.disabled event.
func TestGivingUpAndDisablingAFailingEndpoint(t *testing.T) {
	for _, engine := range servertest.Engines() {
		t.Run(engine, func(t *testing.T) {
			t.Parallel()
			m := newMarket(t, engine, false)
			rx := servertest.NewReceiver(t)
			rx.SetAnswer(func(string, int) int { return 503 })
			ep, _ := m.endpoint(m.supplier, rx.URL, "order.drafted")
			m.draft()
			deliver := func() int {
				n, err := m.e.Server.Webhooks.DeliverDue(m.e.Ctx)
				if err != nil {
					t.Fatalf("deliver: %v", err)
				}
				return n
			}
			if deliver() != 1 {
				t.Fatal("the first attempt was not made")
			}
			for retry := 1; retry <= len(webhook.RetryDelays); retry++ {
				d := m.deliveries(m.supplier, ep.GetId())[0]
				if d.GetState() != webhookv1.WebhookDelivery_STATE_PENDING {
					t.Fatalf("before retry %d: %v", retry, d)
				}
				// Just before it is due nothing is sent; at the time it is.
				m.e.Clock.Set(d.GetNextAttemptTime().AsTime().Add(-time.Second - devOffset(m)))
				if n := deliver(); n != 0 {
					t.Fatalf("retry %d sent %v early", retry, n)
				}
				m.e.Clock.Set(d.GetNextAttemptTime().AsTime().Add(-devOffset(m)))
				if n := deliver(); n != 1 {
					t.Fatalf("retry %d: %d attempts at its time", retry, n)
				}
			}
			d := m.deliveries(m.supplier, ep.GetId())[0]
			if d.GetState() != webhookv1.WebhookDelivery_STATE_FAILED || int(d.GetAttemptCount()) != len(webhook.RetryDelays)+1 {
				t.Fatalf("after the last retry: %v", d)
			}
			got := m.getEndpoint(m.supplier, ep.GetId())
			if !got.GetEnabled() || got.GetStats().GetFailedDeliveries() != 1 || got.GetStats().GetFailingSince() == nil {
				t.Fatalf("endpoint after about three days of failures: %v", got)
			}
			since := got.GetStats().GetFailingSince().AsTime()
			// A new failure just inside five days keeps it; one at five days disables it.
			m.e.Clock.Set(since.Add(webhook.DisableAfter - time.Minute - devOffset(m)))
			m.draft()
			deliver()
			if !m.getEndpoint(m.supplier, ep.GetId()).GetEnabled() {
				t.Fatal("disabled before five days of failures")
			}
			m.e.Clock.Set(since.Add(webhook.DisableAfter - devOffset(m)))
			m.draft()
			deliver()
			got = m.getEndpoint(m.supplier, ep.GetId())
			if got.GetEnabled() || got.GetDisabledReason() != webhookv1.WebhookEndpoint_DISABLED_REASON_FAILING || got.GetDisableTime() == nil {
				t.Fatalf("endpoint after five days of failures: %v", got)
			}
			var disabled *eventv1.Event
			resp, err := m.supplier.Events.ListEvents(m.e.Ctx, connect.NewRequest(&eventv1.ListEventsRequest{SubjectId: ep.GetId()}))
			if err != nil {
				t.Fatal(err)
			}
			for _, ev := range resp.Msg.GetEvents() {
				if ev.GetType() == "webhook_endpoint.disabled" {
					disabled = ev
				}
			}
			if disabled == nil {
				t.Fatalf("no webhook_endpoint.disabled event for the owner: %v", resp.Msg.GetEvents())
			}
			// Enabling it again starts afresh.
			up, err := m.supplier.Webhooks.UpdateWebhookEndpoint(m.e.Ctx, connect.NewRequest(&webhookv1.UpdateWebhookEndpointRequest{
				Id: ep.GetId(), Enabled: proto(true)}))
			if err != nil || !up.Msg.GetEndpoint().GetEnabled() || up.Msg.GetEndpoint().GetStats().GetFailingSince() != nil {
				t.Fatalf("enable: %v %v", up, err)
			}
		})
	}
}

// devOffset is how far the development clock is ahead of the test clock it runs on.
func devOffset(m *market) time.Duration { return m.e.Server.Clock.Now().Sub(m.e.Clock.Now()) }

func proto[T any](v T) *T { return &v }

// TestGoneDisables answers 410 Gone: the delivery fails at once and the endpoint is disabled.
func TestGoneDisables(t *testing.T) {
	for _, engine := range servertest.Engines() {
		t.Run(engine, func(t *testing.T) {
			t.Parallel()
			m := newMarket(t, engine, true)
			rx := servertest.NewReceiver(t)
			rx.SetAnswer(func(string, int) int { return 410 })
			ep, _ := m.endpoint(m.supplier, rx.URL, "order.*")
			m.draft()
			servertest.WaitFor(t, "the endpoint to be disabled", func() bool {
				return m.getEndpoint(m.supplier, ep.GetId()).GetDisabledReason() == webhookv1.WebhookEndpoint_DISABLED_REASON_GONE
			}, rx.Count)
			d := m.deliveries(m.supplier, ep.GetId())
			if len(d) != 1 || d[0].GetState() != webhookv1.WebhookDelivery_STATE_FAILED || d[0].GetAttemptCount() != 1 {
				t.Fatalf("deliveries %v", d)
			}
			// Nothing more is queued for it, and it cannot be redelivered or replayed until enabled.
			m.draft()
			if d := m.deliveries(m.supplier, ep.GetId()); len(d) != 1 {
				t.Fatalf("a disabled endpoint got a delivery queued: %v", d)
			}
			_, err := m.supplier.Webhooks.RedeliverWebhook(m.e.Ctx, connect.NewRequest(&webhookv1.RedeliverWebhookRequest{DeliveryId: d[0].GetId()}))
			servertest.WantError(t, err, connect.CodeFailedPrecondition, reasonDisabled)
			_, err = m.supplier.Webhooks.ReplayWebhookEvents(m.e.Ctx, connect.NewRequest(&webhookv1.ReplayWebhookEventsRequest{EndpointId: ep.GetId()}))
			servertest.WantError(t, err, connect.CodeFailedPrecondition, reasonDisabled)
			if rx.Count() != 1 {
				t.Fatalf("%d requests to a gone endpoint", rx.Count())
			}
		})
	}
}

// TestRotationKeepsBothSecretsDuringGrace rotates a secret with an hour's grace: deliveries verify with
// either secret until the grace ends, then only with the new one.
func TestRotationKeepsBothSecretsDuringGrace(t *testing.T) {
	for _, engine := range servertest.Engines() {
		t.Run(engine, func(t *testing.T) {
			t.Parallel()
			m := newMarket(t, engine, true)
			rx := servertest.NewReceiver(t)
			ep, old := m.endpoint(m.supplier, rx.URL, "order.drafted")
			m.draft()
			servertest.WaitFor(t, "the first delivery", func() bool { return rx.Count() == 1 }, rx.Count)
			rot, err := m.supplier.Webhooks.RotateWebhookSecret(m.e.Ctx, connect.NewRequest(&webhookv1.RotateWebhookSecretRequest{
				Id: ep.GetId(), Etag: ep.GetEtag(), GracePeriod: durationpb.New(time.Hour)}))
			if err != nil {
				t.Fatalf("rotate: %v", err)
			}
			fresh := rot.Msg.GetSecret()
			if fresh == old || rot.Msg.GetEndpoint().GetPreviousSecretExpireTime() == nil || rot.Msg.GetEndpoint().GetEtag() == ep.GetEtag() {
				t.Fatalf("rotation %v", rot.Msg)
			}
			// The etag read before the rotation is stale now.
			_, err = m.supplier.Webhooks.RotateWebhookSecret(m.e.Ctx, connect.NewRequest(&webhookv1.RotateWebhookSecretRequest{Id: ep.GetId(), Etag: ep.GetEtag()}))
			servertest.WantError(t, err, connect.CodeAborted, reasonEtag)
			m.draft()
			servertest.WaitFor(t, "the delivery in the grace period", func() bool { return rx.Count() == 2 }, rx.Count)
			during := rx.All()[1]
			if err := verify(t, old, during); err != nil {
				t.Fatalf("the old secret no longer verifies during the grace period: %v", err)
			}
			if err := verify(t, fresh, during); err != nil {
				t.Fatalf("the new secret does not verify: %v", err)
			}
			if err := verify(t, old, rx.All()[0]); err != nil {
				t.Fatalf("before rotation: %v", err)
			}
			if err := verify(t, fresh, rx.All()[0]); err == nil {
				t.Fatal("a delivery from before the rotation verifies with the new secret")
			}
			m.advance(time.Hour + time.Second)
			m.draft()
			servertest.WaitFor(t, "the delivery after the grace period", func() bool { return rx.Count() == 3 }, rx.Count)
			after := rx.All()[2]
			if err := verify(t, fresh, after); err != nil {
				t.Fatalf("after the grace period: %v", err)
			}
			if err := verify(t, old, after); err == nil {
				t.Fatal("the old secret still verifies after the grace period")
			}
		})
	}
}
