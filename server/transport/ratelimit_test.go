package transport_test

import (
	"errors"
	"net/http"
	"strconv"
	"testing"
	"time"

	"connectrpc.com/connect"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	commonv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/common/v1"
	orderv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/order/v1"
	"github.com/tradeassure/tradeassure/server/servertest"
	"github.com/tradeassure/tradeassure/server/transport"
)

// slow is a refill rate no test sees a token of: a bucket is its burst and nothing more.
const slow = 1e-6

// wantThrottled checks a refusal carries the reason, retry_after_ms, a RetryInfo detail and a Retry-After header.
func wantThrottled(t *testing.T, err error, reason commonv1.ErrorReason) {
	t.Helper()
	servertest.WantError(t, err, connect.CodeResourceExhausted, reason)
	ms, perr := strconv.ParseInt(servertest.Detail(err).GetMetadata()["retry_after_ms"], 10, 64)
	if perr != nil || ms <= 0 {
		t.Fatalf("retry_after_ms %q", servertest.Detail(err).GetMetadata()["retry_after_ms"])
	}
	var ce *connect.Error
	errors.As(err, &ce)
	var info *errdetails.RetryInfo
	for _, d := range ce.Details() {
		if v, err := d.Value(); err == nil {
			if ri, ok := v.(*errdetails.RetryInfo); ok {
				info = ri
			}
		}
	}
	if info == nil || info.GetRetryDelay().AsDuration().Milliseconds() != ms {
		t.Fatalf("RetryInfo %v, retry_after_ms %d", info, ms)
	}
	if s, err := strconv.Atoi(ce.Meta().Get("Retry-After")); err != nil || s < 1 || time.Duration(s)*time.Second < time.Duration(ms)*time.Millisecond {
		t.Fatalf("Retry-After %q for %dms", ce.Meta().Get("Retry-After"), ms)
	}
}

// TestKeyRateLimit checks a key may make its burst of calls and the next is refused with RATE_LIMITED,
// while another key is unaffected, in every protocol and engine.
func TestKeyRateLimit(t *testing.T) {
	const burst = 3
	for _, engine := range servertest.Engines() {
		for _, proto := range servertest.Protocols {
			t.Run(engine+"/"+proto, func(t *testing.T) {
				e := servertest.New(t, servertest.Options{Engine: engine, Protocol: proto,
					Transport: transport.Config{Limits: transport.RateLimits{KeyRate: slow, KeyBurst: burst}}})
				a, b := e.Buyer("US"), e.Buyer("US")
				list := func(p *servertest.Party) error {
					_, err := p.Orders.ListOrders(e.Ctx, connect.NewRequest(&orderv1.ListOrdersRequest{}))
					return err
				}
				for i := range burst {
					if err := list(a); err != nil {
						t.Fatalf("call %d of a burst of %d: %v", i+1, burst, err)
					}
				}
				wantThrottled(t, list(a), commonv1.ErrorReason_ERROR_REASON_RATE_LIMITED)
				for i := range burst {
					if err := list(b); err != nil {
						t.Fatalf("other key, call %d: %v", i+1, err)
					}
				}
				wantThrottled(t, list(a), commonv1.ErrorReason_ERROR_REASON_RATE_LIMITED)
			})
		}
	}
}

// TestAuthFailureThrottle checks an address may fail authentication its burst of times; then every call
// from it, even with a good key, is refused with AUTH_FAILURES_THROTTLED before the key is looked up.
func TestAuthFailureThrottle(t *testing.T) {
	const burst = 4
	for _, engine := range servertest.Engines() {
		t.Run(engine, func(t *testing.T) {
			e := servertest.New(t, servertest.Options{Engine: engine,
				Transport: transport.Config{Limits: transport.RateLimits{AuthFailureRate: slow, AuthFailureBurst: burst}}})
			good := e.Buyer("US")
			bad := e.Clients("ta_guess")
			for i := range burst {
				_, err := bad.Orders.ListOrders(e.Ctx, connect.NewRequest(&orderv1.ListOrdersRequest{}))
				servertest.WantError(t, err, connect.CodeUnauthenticated, commonv1.ErrorReason_ERROR_REASON_UNAUTHENTICATED)
				if i < burst-1 {
					if _, err := good.Orders.ListOrders(e.Ctx, connect.NewRequest(&orderv1.ListOrdersRequest{})); err != nil {
						t.Fatalf("good key after %d failures: %v", i+1, err)
					}
				}
			}
			_, err := bad.Orders.ListOrders(e.Ctx, connect.NewRequest(&orderv1.ListOrdersRequest{}))
			wantThrottled(t, err, commonv1.ErrorReason_ERROR_REASON_AUTH_FAILURES_THROTTLED)
			_, err = good.Orders.ListOrders(e.Ctx, connect.NewRequest(&orderv1.ListOrdersRequest{}))
			wantThrottled(t, err, commonv1.ErrorReason_ERROR_REASON_AUTH_FAILURES_THROTTLED)
		})
	}
}

// TestAddressRateLimit checks calls without a key (health) are limited per client address, and the
// plain HTTP probes are not.
func TestAddressRateLimit(t *testing.T) {
	const burst = 2
	e := servertest.New(t, servertest.Options{Transport: transport.Config{Limits: transport.RateLimits{AddressRate: slow, AddressBurst: burst}}})
	c := connect.NewClient[healthpb.HealthCheckRequest, healthpb.HealthCheckResponse](e.HTTPClient(), e.HTTP.URL+"/grpc.health.v1.Health/Check")
	for i := range burst {
		if _, err := c.CallUnary(e.Ctx, connect.NewRequest(&healthpb.HealthCheckRequest{})); err != nil {
			t.Fatalf("health check %d: %v", i+1, err)
		}
	}
	_, err := c.CallUnary(e.Ctx, connect.NewRequest(&healthpb.HealthCheckRequest{}))
	wantThrottled(t, err, commonv1.ErrorReason_ERROR_REASON_RATE_LIMITED)
	for range burst + 1 {
		resp, err := e.HTTPClient().Get(e.HTTP.URL + "/healthz")
		if err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("/healthz: %v %v", resp, err)
		}
		resp.Body.Close()
	}
}

// TestClientAddress checks the address is the peer's, or the last X-Forwarded-For entry when trusted.
func TestClientAddress(t *testing.T) {
	for _, c := range []struct {
		trust bool
		xff   []string
		want  string
	}{
		{false, nil, "192.0.2.1"},
		{false, []string{"198.51.100.7"}, "192.0.2.1"},
		{true, nil, "192.0.2.1"},
		{true, []string{"203.0.113.9, 198.51.100.7"}, "198.51.100.7"},
		{true, []string{"203.0.113.9", "198.51.100.8"}, "198.51.100.8"},
	} {
		r, _ := http.NewRequest(http.MethodPost, "http://x/", nil)
		r.RemoteAddr = "192.0.2.1:5555"
		r.Header["X-Forwarded-For"] = c.xff
		if got := (transport.RateLimits{TrustForwardedFor: c.trust}).ClientAddress(r); got != c.want {
			t.Errorf("trust %v, X-Forwarded-For %v: %s, want %s", c.trust, c.xff, got, c.want)
		}
	}
}
