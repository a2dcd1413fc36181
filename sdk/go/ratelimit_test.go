package tradeassure_test

import (
	"context"
	"testing"
	"time"

	"connectrpc.com/connect"

	commonv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/common/v1"
	orderv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/order/v1"
	tradeassure "github.com/tradeassure/tradeassure/sdk/go"
	"github.com/tradeassure/tradeassure/server/servertest"
	"github.com/tradeassure/tradeassure/server/transport"
)

// TestRetryHonoursRateLimitHint checks the SDK waits as long as a rate-limited server asks (RetryInfo)
// rather than its own shorter backoff: with 1ms backoffs and a key refilling one call every 500ms, the
// second call only succeeds if a retry waited for the hint. A hint beyond MaxRetryAfter is returned at once.
func TestRetryHonoursRateLimitHint(t *testing.T) {
	for _, proto := range protocols {
		t.Run(proto.String(), func(t *testing.T) {
			e := servertest.New(t, servertest.Options{Transport: transport.Config{Limits: transport.RateLimits{KeyRate: 2, KeyBurst: 1}}})
			buyer := e.Buyer("US")
			p := tradeassure.DefaultRetryPolicy()
			p.MaxAttempts, p.InitialBackoff, p.MaxBackoff = 3, time.Millisecond, time.Millisecond
			c := tradeassure.New(e.HTTP.URL, buyer.Key, tradeassure.WithProtocol(proto), tradeassure.WithHTTPClient(e.HTTPClient()), tradeassure.WithRetry(p))
			for i := range 2 {
				if _, err := c.Orders.ListOrders(context.Background(), connect.NewRequest(&orderv1.ListOrdersRequest{})); err != nil {
					t.Fatalf("call %d: %v", i+1, err)
				}
			}

			slow := servertest.New(t, servertest.Options{Transport: transport.Config{Limits: transport.RateLimits{KeyRate: 1e-6, KeyBurst: 1}}})
			other := slow.Buyer("US")
			c = tradeassure.New(slow.HTTP.URL, other.Key, tradeassure.WithProtocol(proto), tradeassure.WithHTTPClient(slow.HTTPClient()), tradeassure.WithRetry(p))
			if _, err := c.Orders.ListOrders(context.Background(), connect.NewRequest(&orderv1.ListOrdersRequest{})); err != nil {
				t.Fatal(err)
			}
			_, err := c.Orders.ListOrders(context.Background(), connect.NewRequest(&orderv1.ListOrdersRequest{}))
			if tradeassure.ReasonOf(err) != commonv1.ErrorReason_ERROR_REASON_RATE_LIMITED {
				t.Fatalf("a days-long hint: %v", err)
			}
		})
	}
}
