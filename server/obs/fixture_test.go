package obs_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"connectrpc.com/connect"

	commonv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/common/v1"
	orderv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/order/v1"
	"github.com/tradeassure/tradeassure/server/servertest"
)

// createOrder drafts a retail order of 2 widgets from supplier to buyer and returns its id.
func createOrder(tb testing.TB, e *servertest.Env, supplier, buyer *servertest.Party, product string) string {
	tb.Helper()
	o, err := supplier.Orders.CreateOrder(e.Ctx, connect.NewRequest(orderRequest(e, buyer, product)))
	if err != nil {
		tb.Fatalf("create order: %v", err)
	}
	return o.Msg.GetOrder().GetId()
}

func orderRequest(e *servertest.Env, buyer *servertest.Party, product string) *orderv1.CreateOrderRequest {
	terms := servertest.Terms(product, "USD", 2, e.Clock.Now().Add(14*24*time.Hour))
	terms.ShippingFeeMinor = 10_00
	return &orderv1.CreateOrderRequest{Policy: commonv1.Policy_POLICY_RETAIL, BuyerEmail: buyer.Account.Email, Terms: terms}
}

// get fetches a plain HTTP path of the server.
func get(t *testing.T, e *servertest.Env, path string) (int, string, http.Header) {
	t.Helper()
	resp, err := e.HTTPClient().Get(e.HTTP.URL + path)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), resp.Header
}

// logLines is a concurrency-safe log sink of JSON lines.
type logLines struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logLines) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *logLines) text() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// records returns the decoded lines whose msg is msg.
func (l *logLines) records(t *testing.T, msg string) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(l.text()), "\n") {
		if line == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("log line is not JSON: %q", line)
		}
		if m["msg"] == msg {
			out = append(out, m)
		}
	}
	return out
}
