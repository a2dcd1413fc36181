package tradeassure

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"connectrpc.com/connect"
	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/durationpb"

	eventv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/event/v1"
	orderv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/order/v1"
	webhookv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/webhook/v1"
	"github.com/tradeassure/tradeassure/server/servertest"
)

const (
	secretA = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	secretB = "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD"
)

// signed is a message signed by the Standard Webhooks library (not by this SDK or the server).
func signed(t *testing.T, at time.Time, body []byte, secrets ...string) http.Header {
	t.Helper()
	h := http.Header{}
	h.Set("webhook-id", "42")
	h.Set("webhook-timestamp", formatInt(at.Unix()))
	var sigs []string
	for _, s := range secrets {
		wh, err := standardwebhooks.NewWebhook(s)
		if err != nil {
			t.Fatal(err)
		}
		sig, err := wh.Sign("42", at, body)
		if err != nil {
			t.Fatal(err)
		}
		sigs = append(sigs, sig)
	}
	h.Set("webhook-signature", strings.Join(sigs, " "))
	return h
}

func formatInt(n int64) string { return strconv.FormatInt(n, 10) }

func eventBody(t *testing.T) []byte {
	t.Helper()
	payload, _ := anypb.New(&orderv1.Order{Id: "ord_1", State: orderv1.Order_STATE_PAID})
	b, err := protojson.Marshal(&eventv1.Event{Id: "42", Type: "order.paid", SubjectType: "order", SubjectId: "ord_1", Payload: payload})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestVerifyWebhook checks every rule: the signature, the tolerance just inside and just outside on
// both sides, several signatures, the wrong secret, and a tampered body, id or timestamp.
func TestVerifyWebhook(t *testing.T) {
	now := time.Unix(1_780_000_000, 0)
	body := eventBody(t)
	tamper := func(h http.Header, k, v string) http.Header { h = h.Clone(); h.Set(k, v); return h }
	for _, c := range []struct {
		name      string
		secret    string
		header    http.Header
		body      []byte
		tolerance time.Duration
		want      error
	}{
		{"valid", secretA, signed(t, now, body, secretA), body, 0, nil},
		{"4m59s old", secretA, signed(t, now.Add(-5*time.Minute+time.Second), body, secretA), body, 0, nil},
		{"5m1s old", secretA, signed(t, now.Add(-5*time.Minute-time.Second), body, secretA), body, 0, ErrWebhookTimestamp},
		{"4m59s ahead", secretA, signed(t, now.Add(5*time.Minute-time.Second), body, secretA), body, 0, nil},
		{"5m1s ahead", secretA, signed(t, now.Add(5*time.Minute+time.Second), body, secretA), body, 0, ErrWebhookTimestamp},
		{"an hour old within a custom tolerance", secretA, signed(t, now.Add(-time.Hour), body, secretA), body, 2 * time.Hour, nil},
		{"tampered body", secretA, signed(t, now, body, secretA), []byte(strings.Replace(string(body), "PAID", "CLOSED", 1)), 0, ErrWebhookSignature},
		{"tampered id", secretA, tamper(signed(t, now, body, secretA), "webhook-id", "43"), body, 0, ErrWebhookSignature},
		{"tampered timestamp", secretA, tamper(signed(t, now, body, secretA), "webhook-timestamp", formatInt(now.Unix()+1)), body, 0, ErrWebhookSignature},
		{"wrong secret", secretB, signed(t, now, body, secretA), body, 0, ErrWebhookSignature},
		{"rotated: old secret of two signatures", secretA, signed(t, now, body, secretB, secretA), body, 0, nil},
		{"rotated: new secret of two signatures", secretB, signed(t, now, body, secretB, secretA), body, 0, nil},
		{"unknown version only", secretA, tamper(signed(t, now, body, secretA), "webhook-signature", "v2,abc"), body, 0, ErrWebhookSignature},
		{"no signature", secretA, tamper(signed(t, now, body, secretA), "webhook-signature", ""), body, 0, ErrWebhookHeaders},
		{"timestamp not a number", secretA, tamper(signed(t, now, body, secretA), "webhook-timestamp", "soon"), body, 0, ErrWebhookHeaders},
	} {
		t.Run(c.name, func(t *testing.T) {
			ev, err := verifyWebhookAt(c.secret, c.header, c.body, c.tolerance, now)
			if c.want == nil {
				if err != nil {
					t.Fatalf("verify: %v", err)
				}
				o := &orderv1.Order{}
				if ev.GetType() != "order.paid" || ev.GetPayload().UnmarshalTo(o) != nil || o.GetState() != orderv1.Order_STATE_PAID {
					t.Fatalf("event %v", ev)
				}
				return
			}
			if !errors.Is(err, c.want) {
				t.Fatalf("got %v, want %v", err, c.want)
			}
		})
	}
	if _, err := VerifyWebhook("not-a-secret!", signed(t, now, body, secretA), body, 0); err == nil {
		t.Fatal("a malformed secret verified")
	}
}

// TestVerifyRealDeliveries verifies deliveries from a real server, before and during a rotation.
func TestVerifyRealDeliveries(t *testing.T) {
	e := servertest.New(t, servertest.Options{Dev: true})
	e.RunWebhooks()
	var mu sync.Mutex
	var got []http.Header
	var bodies [][]byte
	rx := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		got, bodies = append(got, r.Header.Clone()), append(bodies, b)
		mu.Unlock()
	}))
	defer rx.Close()
	buyer := e.Buyer("US")
	created, err := buyer.Webhooks.CreateWebhookEndpoint(e.Ctx, connect.NewRequest(&webhookv1.CreateWebhookEndpointRequest{Url: rx.URL}))
	if err != nil {
		t.Fatal(err)
	}
	old := created.Msg.GetSecret()
	rot, err := buyer.Webhooks.RotateWebhookSecret(e.Ctx, connect.NewRequest(&webhookv1.RotateWebhookSecretRequest{
		Id: created.Msg.GetEndpoint().GetId(), GracePeriod: durationpb.New(time.Hour)}))
	if err != nil {
		t.Fatal(err)
	}
	test, err := buyer.Webhooks.SendTestWebhook(e.Ctx, connect.NewRequest(&webhookv1.SendTestWebhookRequest{EndpointId: rot.Msg.GetEndpoint().GetId()}))
	if err != nil || test.Msg.GetDelivery().GetState() != webhookv1.WebhookDelivery_STATE_SUCCEEDED {
		t.Fatalf("test webhook: %v %v", test, err)
	}
	mu.Lock()
	defer mu.Unlock()
	// The rotation's own event (webhook_endpoint.secret_rotated) is delivered to the endpoint too, in the
	// background: pick the test delivery by its webhook-id, whatever arrived around it.
	var h http.Header
	var body []byte
	for i, g := range got {
		if g.Get("webhook-id") == test.Msg.GetDelivery().GetWebhookId() {
			h, body = g, bodies[i]
		}
	}
	if h == nil {
		t.Fatalf("the test delivery %s did not arrive (%d deliveries)", test.Msg.GetDelivery().GetWebhookId(), len(got))
	}
	for _, s := range []string{old, rot.Msg.GetSecret()} {
		ev, err := VerifyWebhook(s, h, body, 0)
		if err != nil || ev.GetType() != "webhook.test" {
			t.Fatalf("verify with %s…: %v %v", s[:10], ev, err)
		}
	}
	if _, err := VerifyWebhook(old, h, append([]byte(" "), body...), 0); !errors.Is(err, ErrWebhookSignature) {
		t.Fatalf("tampered body: %v", err)
	}
	if _, err := verifyWebhookAt(old, h, body, 0, time.Now().Add(6*time.Minute)); !errors.Is(err, ErrWebhookTimestamp) {
		t.Fatalf("old timestamp: %v", err)
	}
}
