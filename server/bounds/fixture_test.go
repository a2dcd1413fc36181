package bounds_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	commonv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/common/v1"
	orderv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/order/v1"
	"github.com/tradeassure/tradeassure/server/servertest"
)

// market is a buyer, a supplier with a product, and an operator on one test server.
type market struct {
	t        *testing.T
	e        *servertest.Env
	buyer    *servertest.Party
	supplier *servertest.Party
	operator *servertest.Party
	product  string
}

func newMarket(t *testing.T, e *servertest.Env) *market {
	m := &market{t: t, e: e}
	m.buyer = e.Buyer("US")
	m.supplier = e.Supplier(100_000_00, true)
	m.operator = e.Staff(commonv1.Role_ROLE_OPERATOR)
	m.product = e.Product(m.supplier, "Widget", 10_00, "USD")
	return m
}

// exampleAddress is a valid address.
func exampleAddress() *commonv1.Address {
	return &commonv1.Address{RecipientName: "Acme Receiving", Phone: "+1 555 0100", Country: "US",
		Lines: []string{"1 Main St"}, City: "Springfield", Region: "IL", PostalCode: "12345"}
}

// exampleTerms are valid terms shipping by shipBy: 10 × the product, FCA by air, paid in full.
func exampleTerms(product string, shipBy time.Time) *orderv1.OrderTerms {
	return &orderv1.OrderTerms{
		Lines:    []*orderv1.OrderLine{{ProductId: product, Quantity: 10}},
		Currency: "USD", ShippingFeeMinor: 50_00, InsuranceFeeMinor: 5_00, ShippingAddress: exampleAddress(),
		TradeTerm: orderv1.TradeTerm_TRADE_TERM_FCA, ShippingMethod: orderv1.ShippingMethod_SHIPPING_METHOD_AIR,
		LogisticsProvider: "DHL", PaymentTerms: &orderv1.PaymentTerms{Kind: orderv1.PaymentTerms_KIND_FULL},
		CoverageType: orderv1.CoverageType_COVERAGE_TYPE_POST_DELIVERY, ShipByTime: timestamppb.New(shipBy),
		Remark: "Pack in pallets.\nLabel every box.",
	}
}

func (m *market) terms(shipBy time.Time) *orderv1.OrderTerms { return exampleTerms(m.product, shipBy) }

func (m *market) draft(terms *orderv1.OrderTerms) *orderv1.Order {
	m.t.Helper()
	resp, err := m.supplier.Orders.CreateOrder(m.e.Ctx, connect.NewRequest(&orderv1.CreateOrderRequest{
		Policy: commonv1.Policy_POLICY_TRADE_ASSURANCE, BuyerEmail: m.buyer.Account.Email, Terms: terms,
	}))
	if err != nil {
		m.t.Fatalf("create order: %v", err)
	}
	return resp.Msg.GetOrder()
}

// call adapts a generated client method to a function of any request message.
func call[Req, Res any](f func(context.Context, *connect.Request[Req]) (*connect.Response[Res], error)) func(context.Context, proto.Message) error {
	return func(ctx context.Context, m proto.Message) error {
		req, ok := any(m).(*Req)
		if !ok {
			return fmt.Errorf("request is a %T", m)
		}
		_, err := f(ctx, connect.NewRequest(req))
		return err
	}
}

// rowCounts counts the rows of every table of the test database.
func rowCounts(t *testing.T, e *servertest.Env) map[string]int {
	t.Helper()
	q := "SELECT name FROM sqlite_master WHERE type = 'table'"
	if e.Store.Dialect == "postgres" {
		q = "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'"
	}
	rows, err := e.Store.DB.QueryContext(e.Ctx, q)
	if err != nil {
		t.Fatalf("list tables: %v", err)
	}
	var tables []string
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			t.Fatal(err)
		}
		tables = append(tables, name)
	}
	rows.Close()
	counts := map[string]int{}
	for _, name := range tables {
		var n int
		if err := e.Store.DB.QueryRowContext(e.Ctx, fmt.Sprintf(`SELECT count(*) FROM "%s"`, name)).Scan(&n); err != nil {
			t.Fatalf("count %s: %v", name, err)
		}
		counts[name] = n
	}
	return counts
}

// wantInvalidField fails unless err is INVALID_ARGUMENT with a field violation at field.
func wantInvalidField(t *testing.T, err error, field, what string) {
	t.Helper()
	if code := connect.CodeOf(err); err == nil || code != connect.CodeInvalidArgument {
		t.Errorf("%s: got %v (%v), want invalid_argument", what, code, err)
		return
	}
	d := servertest.Detail(err)
	if d.GetReason() != commonv1.ErrorReason_ERROR_REASON_INVALID_FIELD {
		t.Errorf("%s: reason %v, want INVALID_FIELD: %v", what, d.GetReason(), err)
	}
	for _, v := range d.GetFieldViolations() {
		if v.GetField() == field {
			return
		}
	}
	t.Errorf("%s: no field violation at %s: %v", what, field, d.GetFieldViolations())
}
