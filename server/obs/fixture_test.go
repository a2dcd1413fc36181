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
	"google.golang.org/protobuf/types/known/timestamppb"

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
	return &orderv1.CreateOrderRequest{
		Policy: commonv1.Policy_POLICY_RETAIL, BuyerEmail: buyer.Account.Email, Terms: &orderv1.OrderTerms{
			Lines: []*orderv1.OrderLine{{ProductId: product, Quantity: 2}}, Currency: "USD",
			ShippingFeeMinor: 10_00,
			ShippingAddress: &commonv1.Address{RecipientName: "Acme Receiving", Phone: "+1 555 0100", Country: "US",
				Lines: []string{"1 Main St"}, City: "Springfield", PostalCode: "12345"},
			TradeTerm: orderv1.TradeTerm_TRADE_TERM_FCA, ShippingMethod: orderv1.ShippingMethod_SHIPPING_METHOD_AIR,
			PaymentTerms: &orderv1.PaymentTerms{Kind: orderv1.PaymentTerms_KIND_FULL},
			CoverageType: orderv1.CoverageType_COVERAGE_TYPE_POST_DELIVERY, ShipByTime: timestamppb.New(e.Clock.Now().Add(14 * 24 * time.Hour)),
		}}
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
