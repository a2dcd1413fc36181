package tradeassure

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"google.golang.org/protobuf/encoding/protojson"

	eventv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/event/v1"
)

// DefaultWebhookTolerance is how far a delivery's webhook-timestamp may be from the receiver's clock
// when [VerifyWebhook] is given no tolerance.
const DefaultWebhookTolerance = 5 * time.Minute

// Errors of [VerifyWebhook]; a receiver answers any of them with 400 or 401 and the server retries.
var (
	// ErrWebhookHeaders means webhook-id, webhook-timestamp or webhook-signature is missing or malformed.
	ErrWebhookHeaders = errors.New("tradeassure: webhook headers missing or malformed")
	// ErrWebhookTimestamp means the timestamp is outside the tolerance: a replayed or delayed message.
	ErrWebhookTimestamp = errors.New("tradeassure: webhook timestamp outside the tolerance")
	// ErrWebhookSignature means no signature matches the secret: a forged or altered message, or the
	// wrong secret.
	ErrWebhookSignature = errors.New("tradeassure: webhook signature does not match")
)

// VerifyWebhook checks a webhook delivery per the Standard Webhooks specification and returns the event
// it carries: one of the v1 signatures in webhook-signature must be the HMAC-SHA256, under the secret
// ("whsec_…"), of "<webhook-id>.<webhook-timestamp>.<body>" (compared in constant time), and the
// timestamp must be within tolerance of now (0 means [DefaultWebhookTolerance]). During a secret
// rotation the server sends one signature per secret, so either secret verifies.
//
// The body must be the raw bytes received, before any JSON parsing. The same event may arrive more than
// once (delivery is at least once): deduplicate by the event's id, which is the webhook-id.
func VerifyWebhook(secret string, headers http.Header, body []byte, tolerance time.Duration) (*eventv1.Event, error) {
	return verifyWebhookAt(secret, headers, body, tolerance, time.Now())
}

func verifyWebhookAt(secret string, headers http.Header, body []byte, tolerance time.Duration, now time.Time) (*eventv1.Event, error) {
	if tolerance <= 0 {
		tolerance = DefaultWebhookTolerance
	}
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_"))
	if err != nil || len(key) == 0 {
		return nil, errors.New("tradeassure: the webhook secret is not a whsec_ secret")
	}
	id, ts, sigs := headers.Get("webhook-id"), headers.Get("webhook-timestamp"), headers.Get("webhook-signature")
	if id == "" || ts == "" || sigs == "" {
		return nil, ErrWebhookHeaders
	}
	unix, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return nil, ErrWebhookHeaders
	}
	sent := time.Unix(unix, 0)
	if now.Sub(sent) > tolerance || sent.Sub(now) > tolerance {
		return nil, fmt.Errorf("%w: sent at %s, now %s", ErrWebhookTimestamp, sent.UTC().Format(time.RFC3339), now.UTC().Format(time.RFC3339))
	}
	m := hmac.New(sha256.New, key)
	m.Write([]byte(id + "." + ts + "."))
	m.Write(body)
	want := m.Sum(nil)
	ok := false
	for _, s := range strings.Fields(sigs) {
		version, sig, found := strings.Cut(s, ",")
		if !found || version != "v1" {
			continue
		}
		got, err := base64.StdEncoding.DecodeString(sig)
		if err != nil {
			continue
		}
		// Every signature is compared, each in constant time, so timing tells nothing about which matched.
		if hmac.Equal(got, want) {
			ok = true
		}
	}
	if !ok {
		return nil, ErrWebhookSignature
	}
	ev := &eventv1.Event{}
	if err := (protojson.UnmarshalOptions{DiscardUnknown: true}).Unmarshal(body, ev); err != nil {
		return nil, fmt.Errorf("tradeassure: webhook body is not an event: %w", err)
	}
	if ev.GetId() != id {
		return nil, fmt.Errorf("tradeassure: webhook-id %q does not match the event id %q", id, ev.GetId())
	}
	return ev, nil
}
