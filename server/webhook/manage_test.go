package webhook_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strconv"
	"strings"
	"testing"
	"time"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/tradeassure/tradeassure/ent"
	entevent "github.com/tradeassure/tradeassure/ent/event"
	commonv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/common/v1"
	eventv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/event/v1"
	webhookv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/webhook/v1"
	"github.com/tradeassure/tradeassure/server/auth"
	"github.com/tradeassure/tradeassure/server/events"
	"github.com/tradeassure/tradeassure/server/servertest"
	"github.com/tradeassure/tradeassure/server/webhook"
)

// TestReplayResendsExactlyTheLaterEvents replays from a cursor in the middle of two orders' lives: the
// receiver gets again exactly the events after it that the endpoint's filter matches.
func TestReplayResendsExactlyTheLaterEvents(t *testing.T) {
	for _, engine := range servertest.Engines() {
		t.Run(engine, func(t *testing.T) {
			t.Parallel()
			m := newMarket(t, engine, true)
			rx := servertest.NewReceiver(t)
			ep, secret := m.endpoint(m.supplier, rx.URL, "order.*")
			m.life()
			m.life()
			isOrder := func(ev *eventv1.Event) bool { return strings.HasPrefix(ev.GetType(), "order.") }
			all := m.feedIDs(m.supplier, "", isOrder)
			servertest.WaitFor(t, "the deliveries", func() bool { return rx.Count() == len(all) }, rx.Count)
			cursor := all[3]
			want := m.feedIDs(m.supplier, cursor, isOrder)
			resp, err := m.supplier.Webhooks.ReplayWebhookEvents(m.e.Ctx, connect.NewRequest(&webhookv1.ReplayWebhookEventsRequest{
				EndpointId: ep.GetId(), AfterEventId: cursor}))
			if err != nil {
				t.Fatalf("replay: %v", err)
			}
			if r := resp.Msg.GetEndpoint().GetReplay(); r.GetAfterEventId() != cursor || r.GetUntilEventId() == "" {
				t.Fatalf("replay %v", r)
			}
			servertest.WaitFor(t, "the replay", func() bool { return rx.Count() == len(all)+len(want) }, rx.Count)
			var replayed []string
			for _, r := range rx.All()[len(all):] {
				replayed = append(replayed, r.ID())
				if err := verify(t, secret, r); err != nil {
					t.Fatalf("replayed %s: %v", r.ID(), err)
				}
			}
			if !sameSet(replayed, want) {
				t.Fatalf("replayed %v, want %v", replayed, want)
			}
			servertest.WaitFor(t, "the replay to finish", func() bool { return m.getEndpoint(m.supplier, ep.GetId()).GetReplay().GetDone() }, rx.Count)
			if r := m.getEndpoint(m.supplier, ep.GetId()).GetReplay(); r.GetQueuedDeliveries() != int64(len(want)) {
				t.Fatalf("replay %v, want %d queued", r, len(want))
			}
			// A replayed delivery keeps its webhook-id, and its latest attempt says why it was made; its first,
			// which succeeded, is listed after it (stored on the delivery's row, see recordInline).
			for _, d := range m.deliveries(m.supplier, ep.GetId()) {
				if d.GetWebhookId() == want[0] && (len(d.GetAttempts()) != 2 || d.GetAttempts()[0].GetTrigger() != webhookv1.Trigger_TRIGGER_REPLAY ||
					d.GetAttemptCount() != 2 || d.GetAttempts()[1].GetTrigger() != webhookv1.Trigger_TRIGGER_SCHEDULED ||
					d.GetAttempts()[1].GetOutcome() != webhookv1.WebhookAttempt_OUTCOME_SUCCEEDED ||
					!d.GetAttempts()[1].GetTime().AsTime().Before(d.GetAttempts()[0].GetTime().AsTime().Add(time.Nanosecond))) {
					t.Fatalf("replayed delivery %v", d)
				}
			}
		})
	}
}

// TestRedeliverAndTestEvent resends one delivery with the same webhook-id, and sends a test event that
// reports its outcome at once (also to a disabled endpoint).
func TestRedeliverAndTestEvent(t *testing.T) {
	for _, engine := range servertest.Engines() {
		t.Run(engine, func(t *testing.T) {
			t.Parallel()
			m := newMarket(t, engine, true)
			rx := servertest.NewReceiver(t)
			ep, secret := m.endpoint(m.buyer, rx.URL, "order.drafted")
			m.draft()
			servertest.WaitFor(t, "the delivery", func() bool { return rx.Count() == 1 }, rx.Count)
			d := m.deliveries(m.buyer, ep.GetId())[0]
			servertest.WaitFor(t, "the outcome", func() bool {
				return m.deliveries(m.buyer, ep.GetId())[0].GetState() == webhookv1.WebhookDelivery_STATE_SUCCEEDED
			}, rx.Count)
			re, err := m.buyer.Webhooks.RedeliverWebhook(m.e.Ctx, connect.NewRequest(&webhookv1.RedeliverWebhookRequest{DeliveryId: d.GetId()}))
			if err != nil || re.Msg.GetDelivery().GetState() != webhookv1.WebhookDelivery_STATE_PENDING {
				t.Fatalf("redeliver: %v %v", re, err)
			}
			servertest.WaitFor(t, "the redelivery", func() bool { return rx.Count() == 2 }, rx.Count)
			if a, b := rx.All()[0], rx.All()[1]; a.ID() != b.ID() || verify(t, secret, b) != nil {
				t.Fatalf("redelivered %s as %s", a.ID(), b.ID())
			}
			// Another account cannot see or redeliver it.
			_, err = m.supplier.Webhooks.RedeliverWebhook(m.e.Ctx, connect.NewRequest(&webhookv1.RedeliverWebhookRequest{DeliveryId: d.GetId()}))
			servertest.WantError(t, err, connect.CodeNotFound, commonv1.ErrorReason_ERROR_REASON_NOT_FOUND)
			_, err = m.supplier.Webhooks.GetWebhookEndpoint(m.e.Ctx, connect.NewRequest(&webhookv1.GetWebhookEndpointRequest{Id: ep.GetId()}))
			servertest.WantError(t, err, connect.CodeNotFound, commonv1.ErrorReason_ERROR_REASON_NOT_FOUND)

			if _, err := m.buyer.Webhooks.UpdateWebhookEndpoint(m.e.Ctx, connect.NewRequest(&webhookv1.UpdateWebhookEndpointRequest{
				Id: ep.GetId(), Enabled: proto(false)})); err != nil {
				t.Fatalf("disable: %v", err)
			}
			test, err := m.buyer.Webhooks.SendTestWebhook(m.e.Ctx, connect.NewRequest(&webhookv1.SendTestWebhookRequest{EndpointId: ep.GetId(), RequestId: "t1"}))
			if err != nil {
				t.Fatalf("test: %v", err)
			}
			td := test.Msg.GetDelivery()
			if td.GetState() != webhookv1.WebhookDelivery_STATE_SUCCEEDED || len(td.GetAttempts()) != 1 || td.GetAttempts()[0].GetHttpStatus() != 200 ||
				td.GetAttempts()[0].GetTrigger() != webhookv1.Trigger_TRIGGER_TEST || !strings.HasPrefix(td.GetWebhookId(), "test_") {
				t.Fatalf("test delivery %v", td)
			}
			got := rx.All()[2]
			if ev := got.Event(t); ev.GetType() != "webhook.test" || ev.GetSubjectId() != ep.GetId() || verify(t, secret, got) != nil {
				t.Fatalf("test event %s", got.Body)
			}
			// The same request id sends nothing more.
			again, err := m.buyer.Webhooks.SendTestWebhook(m.e.Ctx, connect.NewRequest(&webhookv1.SendTestWebhookRequest{EndpointId: ep.GetId(), RequestId: "t1"}))
			if err != nil || again.Msg.GetDelivery().GetId() != td.GetId() || rx.Count() != 3 {
				t.Fatalf("retried test: %v %v, %d requests", again, err, rx.Count())
			}
			// A test to a receiver that fails is reported, not retried.
			rx.SetAnswer(func(string, int) int { return 500 })
			test, err = m.buyer.Webhooks.SendTestWebhook(m.e.Ctx, connect.NewRequest(&webhookv1.SendTestWebhookRequest{EndpointId: ep.GetId()}))
			if err != nil || test.Msg.GetDelivery().GetState() != webhookv1.WebhookDelivery_STATE_FAILED {
				t.Fatalf("failed test: %v %v", test, err)
			}
			// Deleting removes the endpoint and its deliveries.
			del, err := m.buyer.Webhooks.DeleteWebhookEndpoint(m.e.Ctx, connect.NewRequest(&webhookv1.DeleteWebhookEndpointRequest{Id: ep.GetId()}))
			if err != nil || del.Msg.GetEndpoint().GetId() != ep.GetId() {
				t.Fatalf("delete: %v %v", del, err)
			}
			_, err = m.buyer.Webhooks.ListWebhookDeliveries(m.e.Ctx, connect.NewRequest(&webhookv1.ListWebhookDeliveriesRequest{EndpointId: ep.GetId()}))
			servertest.WantError(t, err, connect.CodeNotFound, commonv1.ErrorReason_ERROR_REASON_NOT_FOUND)
		})
	}
}

// TestRolledBackChangeQueuesNothing appends an event in a transaction that rolls back: no delivery
// exists, and nothing is sent.
func TestRolledBackChangeQueuesNothing(t *testing.T) {
	for _, engine := range servertest.Engines() {
		t.Run(engine, func(t *testing.T) {
			t.Parallel()
			m := newMarket(t, engine, false)
			rx := servertest.NewReceiver(t)
			m.endpoint(m.operator, rx.URL)
			boom := errors.New("boom")
			err := m.e.Store.WithTx(m.e.Ctx, func(tx *ent.Tx) error {
				if err := m.e.Server.Feed.Append(m.e.Ctx, tx, events.Event{Type: "order.drafted", SubjectType: "order", SubjectID: "ord_x",
					Time: m.e.Clock.Now(), Actor: auth.System, Payload: &webhookv1.WebhookEndpoint{}}); err != nil {
					return err
				}
				if n := tx.WebhookDelivery.Query().CountX(m.e.Ctx); n != 1 {
					return fmt.Errorf("%d deliveries inside the transaction", n)
				}
				return boom
			})
			if !errors.Is(err, boom) {
				t.Fatalf("transaction: %v", err)
			}
			if n := m.e.Store.Client.WebhookDelivery.Query().CountX(m.e.Ctx); n != 0 {
				t.Fatalf("%d deliveries after the rollback", n)
			}
			if n, err := m.e.Server.Webhooks.DeliverDue(m.e.Ctx); n != 0 || err != nil || rx.Count() != 0 {
				t.Fatalf("sent %d (%v), received %d", n, err, rx.Count())
			}
		})
	}
}

// rebinding resolves a host to a public address first and to loopback after, as DNS rebinding does.
type rebinding struct{ calls int }

func (r *rebinding) LookupNetIP(_ context.Context, _, host string) ([]netip.Addr, error) {
	r.calls++
	if host == "erp.example.com" && r.calls == 1 {
		return []netip.Addr{netip.MustParseAddr("203.0.113.10")}, nil
	}
	return []netip.Addr{netip.MustParseAddr("127.0.0.1")}, nil
}

// TestURLSafetyOutsideDevMode refuses http://, credentials and non-public addresses when an endpoint is
// saved, and re-checks the address on every connection, so DNS rebinding is refused at delivery time.
func TestURLSafetyOutsideDevMode(t *testing.T) {
	res := &rebinding{}
	e := servertest.New(t, servertest.Options{Webhooks: webhook.Config{Resolver: res}})
	supplier := e.Supplier(100_000_00, true)
	for _, c := range []struct{ url, why string }{
		{"http://erp.example.com/hooks", "https://"},
		{"https://user:pw@erp.example.com/hooks", "user name or password"},
		{"https://127.0.0.1/hooks", "127.0.0.1"},
		{"https://[::1]:8443/hooks", "::1"},
		{"https://10.1.2.3/hooks", "10.1.2.3"},
		{"https://169.254.169.254/latest/meta-data", "169.254.169.254"},
		{"https://0.0.0.0/", "0.0.0.0"},
		{"https://[::ffff:192.168.1.1]/", "192.168.1.1"},
		{"https://internal.example.com/", "127.0.0.1"},
		{"ftp://erp.example.com/", "https://"},
		{"https://erp.example.com/hooks#frag", "fragment"},
	} {
		_, err := supplier.Webhooks.CreateWebhookEndpoint(e.Ctx, connect.NewRequest(&webhookv1.CreateWebhookEndpointRequest{Url: c.url}))
		servertest.WantError(t, err, connect.CodeInvalidArgument, reasonURL)
		if !strings.Contains(err.Error(), c.why) || servertest.Detail(err).GetFieldViolations()[0].GetField() != "url" {
			t.Fatalf("%s: %v", c.url, err)
		}
	}
	res.calls = 0
	resp, err := supplier.Webhooks.CreateWebhookEndpoint(e.Ctx, connect.NewRequest(&webhookv1.CreateWebhookEndpointRequest{
		Url: "https://erp.example.com/hooks", EventTypes: []string{"webhook_endpoint.*"}}))
	if err != nil {
		t.Fatalf("a public host was refused: %v", err)
	}
	test, err := supplier.Webhooks.SendTestWebhook(e.Ctx, connect.NewRequest(&webhookv1.SendTestWebhookRequest{EndpointId: resp.Msg.GetEndpoint().GetId()}))
	if err != nil {
		t.Fatalf("test: %v", err)
	}
	a := test.Msg.GetDelivery().GetAttempts()[0]
	if a.GetOutcome() != webhookv1.WebhookAttempt_OUTCOME_ADDRESS_NOT_ALLOWED || !strings.Contains(a.GetError(), "127.0.0.1") {
		t.Fatalf("a rebound host was called: %v", a)
	}
}

// TestPublicAddresses lists the addresses the server calls outside development mode, and those it
// refuses.
func TestPublicAddresses(t *testing.T) {
	for _, c := range []struct {
		ip     string
		public bool
	}{
		{"203.0.113.10", true}, {"8.8.8.8", true}, {"2606:4700:4700::1111", true}, {"100.63.255.255", true}, {"100.128.0.0", true},
		{"127.0.0.1", false}, {"127.255.255.254", false}, {"10.0.0.1", false}, {"172.16.0.1", false}, {"172.31.255.255", false},
		{"192.168.0.1", false}, {"169.254.169.254", false}, {"0.0.0.0", false}, {"0.1.2.3", false}, {"100.64.0.1", false},
		{"100.127.255.255", false}, {"224.0.0.1", false}, {"255.255.255.255", false}, {"240.0.0.1", false}, {"198.18.0.1", false},
		{"::1", false}, {"::", false}, {"fe80::1", false}, {"fc00::1", false}, {"fd12:3456::1", false}, {"ff02::1", false},
		{"::ffff:127.0.0.1", false}, {"::ffff:10.0.0.1", false}, {"::ffff:8.8.8.8", true}, {"64:ff9b::a00:1", false},
		{"2002:a00:1::", false}, {"fec0::1", false},
	} {
		if got := webhook.Public(netip.MustParseAddr(c.ip)); got != c.public {
			t.Errorf("Public(%s) = %v, want %v", c.ip, got, c.public)
		}
	}
}

// TestEndpointInputLimits checks every bound of the endpoint requests just inside and just outside.
func TestEndpointInputLimits(t *testing.T) {
	e := servertest.New(t, servertest.Options{Dev: true})
	buyer := e.Buyer("US")
	ok := "http://127.0.0.1:9/hooks"
	long := func(n int) string { return ok + "?" + strings.Repeat("a", n-len(ok)-1) }
	types := func(n int) []string {
		out := make([]string, n)
		for i := range out {
			out[i] = fmt.Sprintf("order.e%c%c", 'a'+i/26, 'a'+i%26)
		}
		return out
	}
	for _, c := range []struct {
		name string
		req  *webhookv1.CreateWebhookEndpointRequest
		ok   bool
	}{
		{"url of 2000", &webhookv1.CreateWebhookEndpointRequest{Url: long(2000)}, true},
		{"url of 2001", &webhookv1.CreateWebhookEndpointRequest{Url: long(2001)}, false},
		{"empty url", &webhookv1.CreateWebhookEndpointRequest{}, false},
		{"50 types", &webhookv1.CreateWebhookEndpointRequest{Url: ok, EventTypes: types(50)}, true},
		{"51 types", &webhookv1.CreateWebhookEndpointRequest{Url: ok, EventTypes: types(51)}, false},
		{"repeated type", &webhookv1.CreateWebhookEndpointRequest{Url: ok, EventTypes: []string{"order.*", "order.*"}}, false},
		{"bad pattern", &webhookv1.CreateWebhookEndpointRequest{Url: ok, EventTypes: []string{"order*"}}, false},
		{"unknown subject", &webhookv1.CreateWebhookEndpointRequest{Url: ok, EventTypes: []string{"ordr.*"}}, false},
		{"type of 100", &webhookv1.CreateWebhookEndpointRequest{Url: ok, EventTypes: []string{"order." + strings.Repeat("a", 94)}}, true},
		{"type of 101", &webhookv1.CreateWebhookEndpointRequest{Url: ok, EventTypes: []string{"order." + strings.Repeat("a", 95)}}, false},
		{"description of 500", &webhookv1.CreateWebhookEndpointRequest{Url: ok, Description: strings.Repeat("é", 500)}, true},
		{"description of 501", &webhookv1.CreateWebhookEndpointRequest{Url: ok, Description: strings.Repeat("é", 501)}, false},
		{"control character", &webhookv1.CreateWebhookEndpointRequest{Url: ok, Description: "a\x00b"}, false},
		{"request id of 129", &webhookv1.CreateWebhookEndpointRequest{Url: ok, RequestId: strings.Repeat("r", 129)}, false},
	} {
		_, err := buyer.Webhooks.CreateWebhookEndpoint(e.Ctx, connect.NewRequest(c.req))
		if c.ok && err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if !c.ok {
			servertest.WantError(t, err, connect.CodeInvalidArgument, reasonInvalid)
		}
	}
	ep, _ := (&market{t: t, e: e}).endpoint(buyer, ok)
	for _, c := range []struct {
		name  string
		grace int64
		ok    bool
	}{{"no grace", 0, true}, {"7 days", 604800, true}, {"7 days and a second", 604801, false}, {"negative", -1, false}} {
		_, err := buyer.Webhooks.RotateWebhookSecret(e.Ctx, connect.NewRequest(&webhookv1.RotateWebhookSecretRequest{Id: ep.GetId(),
			GracePeriod: &durationpb.Duration{Seconds: c.grace}}))
		if c.ok != (err == nil) {
			t.Fatalf("%s: %v", c.name, err)
		}
	}
	_, err := buyer.Webhooks.ListWebhookEndpoints(e.Ctx, connect.NewRequest(&webhookv1.ListWebhookEndpointsRequest{PageSize: -1}))
	servertest.WantError(t, err, connect.CodeInvalidArgument, reasonInvalid)
	_, err = buyer.Webhooks.ListWebhookEndpoints(e.Ctx, connect.NewRequest(&webhookv1.ListWebhookEndpointsRequest{PageToken: "forged"}))
	servertest.WantError(t, err, connect.CodeInvalidArgument, commonv1.ErrorReason_ERROR_REASON_INVALID_PAGE_TOKEN)
	_, err = buyer.Webhooks.ReplayWebhookEvents(e.Ctx, connect.NewRequest(&webhookv1.ReplayWebhookEventsRequest{EndpointId: ep.GetId(), AfterEventId: "12a"}))
	servertest.WantError(t, err, connect.CodeInvalidArgument, reasonInvalid)
	// The endpoint limit: the 20th is allowed, the 21st is not.
	supplier := e.Supplier(100_000_00, true)
	for i := 1; i <= webhook.MaxEndpoints+1; i++ {
		_, err := supplier.Webhooks.CreateWebhookEndpoint(e.Ctx, connect.NewRequest(&webhookv1.CreateWebhookEndpointRequest{Url: ok}))
		if i <= webhook.MaxEndpoints && err != nil {
			t.Fatalf("endpoint %d: %v", i, err)
		}
		if i > webhook.MaxEndpoints {
			servertest.WantError(t, err, connect.CodeFailedPrecondition, commonv1.ErrorReason_ERROR_REASON_WEBHOOK_ENDPOINT_LIMIT)
		}
	}
	// Paging through them with a page token.
	page, err := supplier.Webhooks.ListWebhookEndpoints(e.Ctx, connect.NewRequest(&webhookv1.ListWebhookEndpointsRequest{PageSize: 15}))
	if err != nil || len(page.Msg.GetEndpoints()) != 15 || page.Msg.GetNextPageToken() == "" {
		t.Fatalf("first page: %v", err)
	}
	next, err := supplier.Webhooks.ListWebhookEndpoints(e.Ctx, connect.NewRequest(&webhookv1.ListWebhookEndpointsRequest{PageSize: 15, PageToken: page.Msg.GetNextPageToken()}))
	if err != nil || len(next.Msg.GetEndpoints()) != 5 || next.Msg.GetNextPageToken() != "" {
		t.Fatalf("second page: %v", err)
	}
	// A buyer may not list another account's endpoints; an operator lists them all.
	_, err = buyer.Webhooks.ListWebhookEndpoints(e.Ctx, connect.NewRequest(&webhookv1.ListWebhookEndpointsRequest{AccountId: supplier.ID()}))
	servertest.WantError(t, err, connect.CodePermissionDenied, commonv1.ErrorReason_ERROR_REASON_ROLE_NOT_ALLOWED)
	op := e.Staff(commonv1.Role_ROLE_OPERATOR)
	all, err := op.Webhooks.ListWebhookEndpoints(e.Ctx, connect.NewRequest(&webhookv1.ListWebhookEndpointsRequest{AccountId: supplier.ID(), PageSize: 100}))
	if err != nil || len(all.Msg.GetEndpoints()) != webhook.MaxEndpoints {
		t.Fatalf("operator list: %v", err)
	}
}

// TestWithoutKeyEndpointsCannotBeCreated runs a server without a webhook key.
func TestWithoutKeyEndpointsCannotBeCreated(t *testing.T) {
	e := servertest.New(t, servertest.Options{Dev: true, NoWebhookKey: true})
	_, err := e.Buyer("US").Webhooks.CreateWebhookEndpoint(e.Ctx, connect.NewRequest(&webhookv1.CreateWebhookEndpointRequest{Url: "http://127.0.0.1:9/"}))
	servertest.WantError(t, err, connect.CodeFailedPrecondition, commonv1.ErrorReason_ERROR_REASON_WEBHOOK_KEY_MISSING)
}

// TestAttemptOutcomes checks what an owner is shown for a redirect (not followed), an answer too slow
// for the attempt timeout, a long answer (cut at 1 KiB) and a refused connection.
func TestAttemptOutcomes(t *testing.T) {
	e := servertest.New(t, servertest.Options{Dev: true, Webhooks: webhook.Config{Timeout: 300 * time.Millisecond}})
	buyer := e.Buyer("US")
	followed := false
	target := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { followed = true }))
	defer target.Close()
	release := make(chan struct{})
	rx := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/redirect":
			http.Redirect(w, r, target.URL, http.StatusFound)
		case "/slow":
			select {
			case <-release:
			case <-r.Context().Done():
			}
		case "/long":
			_, _ = w.Write([]byte(strings.Repeat("é", 3000)))
		}
	}))
	defer rx.Close()
	defer close(release) // before rx.Close, which waits for the slow handler
	closed := httptest.NewServer(http.NotFoundHandler())
	closed.Close()
	for _, c := range []struct {
		url     string
		outcome webhookv1.WebhookAttempt_Outcome
		status  int32
		text    string
	}{
		{rx.URL + "/redirect", webhookv1.WebhookAttempt_OUTCOME_HTTP_ERROR, 302, "redirects are not followed"},
		{rx.URL + "/slow", webhookv1.WebhookAttempt_OUTCOME_TIMEOUT, 0, "no answer within 300ms"},
		{rx.URL + "/long", webhookv1.WebhookAttempt_OUTCOME_SUCCEEDED, 200, ""},
		{closed.URL, webhookv1.WebhookAttempt_OUTCOME_CONNECTION_FAILED, 0, "connection refused"},
	} {
		created, err := buyer.Webhooks.CreateWebhookEndpoint(e.Ctx, connect.NewRequest(&webhookv1.CreateWebhookEndpointRequest{Url: c.url}))
		if err != nil {
			t.Fatal(err)
		}
		test, err := buyer.Webhooks.SendTestWebhook(e.Ctx, connect.NewRequest(&webhookv1.SendTestWebhookRequest{EndpointId: created.Msg.GetEndpoint().GetId()}))
		if err != nil {
			t.Fatal(err)
		}
		a := test.Msg.GetDelivery().GetAttempts()[0]
		if a.GetOutcome() != c.outcome || a.GetHttpStatus() != c.status || !strings.Contains(a.GetError(), c.text) {
			t.Fatalf("%s: attempt %v", c.url, a)
		}
		if strings.Contains(a.GetError(), "127.0.0.1") || strings.Contains(a.GetError(), "dial") {
			t.Fatalf("%s: the error shows internals: %q", c.url, a.GetError())
		}
		if strings.HasSuffix(c.url, "/long") && (len(a.GetResponseBody()) > 1024 || len(a.GetResponseBody()) < 1022) {
			t.Fatalf("response body of %d bytes", len(a.GetResponseBody()))
		}
	}
	if followed {
		t.Fatal("a redirect was followed")
	}
}

// TestReplayFollowsFeedOrder replays in the feed's order, (feed key, id), not by id: on Postgres an event
// with a smaller id can come later in the feed (its transaction began later). An earlier event moved to
// the end of the feed is replayed from a cursor past its id, and the replay still ends.
func TestReplayFollowsFeedOrder(t *testing.T) {
	for _, engine := range servertest.Engines() {
		t.Run(engine, func(t *testing.T) {
			t.Parallel()
			m := newMarket(t, engine, true)
			rx := servertest.NewReceiver(t)
			ep, _ := m.endpoint(m.supplier, rx.URL, "order.*")
			m.life()
			isOrder := func(ev *eventv1.Event) bool { return strings.HasPrefix(ev.GetType(), "order.") }
			all := m.feedIDs(m.supplier, "", isOrder)
			servertest.WaitFor(t, "the deliveries", func() bool { return rx.Count() == len(all) }, rx.Count)
			if len(all) < 4 {
				t.Fatalf("only %d order events", len(all))
			}
			moved := all[1]
			id, _ := strconv.ParseInt(moved, 10, 64)
			top := m.e.Store.Client.Event.Query().Order(ent.Desc(entevent.FieldFeedKey)).FirstX(m.e.Ctx).FeedKey
			// Feed keys are immutable to the code; the test moves one as a later transaction would have keyed it.
			for _, table := range []string{"events", "event_parties"} {
				col := map[string]string{"events": "id", "event_parties": "event_id"}[table]
				q := fmt.Sprintf("UPDATE %s SET feed_key = %d WHERE %s = %d", table, top+1, col, id)
				if _, err := m.e.Store.DB.ExecContext(m.e.Ctx, q); err != nil {
					t.Fatalf("move event %d: %v", id, err)
				}
			}
			cursor := all[2]
			want := m.feedIDs(m.supplier, cursor, isOrder)
			if want[len(want)-1] != moved {
				t.Fatalf("the feed after %s is %v: event %s is not last", cursor, want, moved)
			}
			if _, err := m.supplier.Webhooks.ReplayWebhookEvents(m.e.Ctx, connect.NewRequest(&webhookv1.ReplayWebhookEventsRequest{
				EndpointId: ep.GetId(), AfterEventId: cursor})); err != nil {
				t.Fatalf("replay: %v", err)
			}
			servertest.WaitFor(t, "the replay to finish", func() bool { return m.getEndpoint(m.supplier, ep.GetId()).GetReplay().GetDone() }, rx.Count)
			servertest.WaitFor(t, "the replayed deliveries", func() bool { return rx.Count() == len(all)+len(want) }, rx.Count)
			var replayed []string
			for _, r := range rx.All()[len(all):] {
				replayed = append(replayed, r.ID())
			}
			if !sameSet(replayed, want) {
				t.Fatalf("replayed %v, want %v", replayed, want)
			}
			if r := m.getEndpoint(m.supplier, ep.GetId()).GetReplay(); r.GetUntilEventId() != moved || r.GetQueuedDeliveries() != int64(len(want)) {
				t.Fatalf("replay %v, want it through %s with %d queued", r, moved, len(want))
			}
		})
	}
}
