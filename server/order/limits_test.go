package order_test

import (
	"math"
	"testing"
	"time"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/types/known/timestamppb"

	adminv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/admin/v1"
	commonv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/common/v1"
	eventv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/event/v1"
	"github.com/tradeassure/tradeassure/gen/go/tradeassure/event/v1/eventv1connect"
	orderv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/order/v1"
	"github.com/tradeassure/tradeassure/gen/go/tradeassure/order/v1/orderv1connect"
	"github.com/tradeassure/tradeassure/server/ledger"
	"github.com/tradeassure/tradeassure/server/money"
	"github.com/tradeassure/tradeassure/server/resource"
	"github.com/tradeassure/tradeassure/server/servertest"
)

// jsonClients are clients of a party that speak Connect with JSON bodies, where a timestamp outside years
// 1–9999 cannot be written (the reads that broke in issue 10).
func jsonClients(e *servertest.Env, p *servertest.Party) (orderv1connect.OrderServiceClient, eventv1connect.EventServiceClient) {
	opts := []connect.ClientOption{connect.WithProtoJSON(), connect.WithInterceptors(servertest.Bearer(p.Key))}
	return orderv1connect.NewOrderServiceClient(e.HTTPClient(), e.HTTP.URL, opts...),
		eventv1connect.NewEventServiceClient(e.HTTPClient(), e.HTTP.URL, opts...)
}

// orderOf returns the order of a response that carries one.
func orderOf[T any, PT interface {
	*T
	GetOrder() *orderv1.Order
}](r *connect.Response[T], err error) (*orderv1.Order, error) {
	if err != nil {
		return nil, err
	}
	return PT(r.Msg).GetOrder(), nil
}

// wantField fails unless err carries a field violation on field.
func wantField(t *testing.T, err error, field string) {
	t.Helper()
	for _, v := range servertest.Detail(err).GetFieldViolations() {
		if v.GetField() == field {
			return
		}
	}
	t.Fatalf("no field violation on %s: %v", field, servertest.Detail(err))
}

// TestShipByWindow checks the ship-by date of every way terms are written — a supplier's draft, a
// buyer-requested draft naming a supplier, a draft update and a change proposal — just inside and just
// outside both ends of its window: after now, and at most the policy's 365-day horizon ahead. A refused
// date writes nothing, and every read of orders and of the operator's feed still works in JSON.
func TestShipByWindow(t *testing.T) {
	const horizon = 365 * day
	cases := []struct {
		name string
		at   func(now time.Time) time.Time
		ok   bool
	}{
		{"a second from now", func(now time.Time) time.Time { return now.Add(time.Second) }, true},
		{"exactly now", func(now time.Time) time.Time { return now }, false},
		{"a second ago", func(now time.Time) time.Time { return now.Add(-time.Second) }, false},
		{"at the 365-day horizon", func(now time.Time) time.Time { return now.Add(horizon) }, true},
		{"a second past the horizon", func(now time.Time) time.Time { return now.Add(horizon + time.Second) }, false},
		{"year 10000", func(time.Time) time.Time { return time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC) }, false},
	}
	servertest.Each(t, func(t *testing.T, e *servertest.Env) {
		m := newMarket(t, e)
		draft := m.draft(taPolicy, m.terms(1))
		accepted := m.accept(m.draft(taPolicy, m.terms(1)))
		for _, c := range cases {
			terms := func() *orderv1.OrderTerms {
				tm := m.terms(1)
				tm.ShipByTime = timestamppb.New(c.at(e.Clock.Now()))
				return tm
			}
			calls := []struct {
				name string
				call func() (*orderv1.Order, error)
			}{
				{"supplier draft", func() (*orderv1.Order, error) {
					return orderOf(m.supplier.Orders.CreateOrder(e.Ctx, connect.NewRequest(m.createReq(taPolicy, terms()))))
				}},
				{"buyer-requested draft", func() (*orderv1.Order, error) {
					return orderOf(m.buyer.Orders.CreateOrder(e.Ctx, connect.NewRequest(&orderv1.CreateOrderRequest{
						Policy: retailPolicy, SupplierId: m.supplier.ID(), Terms: terms()})))
				}},
				{"draft update", func() (*orderv1.Order, error) {
					return orderOf(m.supplier.Orders.UpdateOrder(e.Ctx, connect.NewRequest(&orderv1.UpdateOrderRequest{
						OrderId: draft.GetId(), Terms: terms()})))
				}},
				{"change proposal", func() (*orderv1.Order, error) {
					o, err := orderOf(m.supplier.Orders.ProposeOrderChange(e.Ctx, connect.NewRequest(&orderv1.ProposeOrderChangeRequest{
						OrderId: accepted.GetId(), Terms: terms()})))
					if err == nil {
						// Withdraw it, so the next case can propose again.
						if _, err := m.supplier.Orders.RejectOrderChange(e.Ctx, connect.NewRequest(&orderv1.RejectOrderChangeRequest{
							OrderId: o.GetId(), ProposalId: o.GetPendingChange().GetId()})); err != nil {
							t.Fatalf("withdraw proposal: %v", err)
						}
					}
					return o, err
				}},
			}
			for _, call := range calls {
				t.Run(c.name+"/"+call.name, func(t *testing.T) {
					o, err := call.call()
					if c.ok {
						if err != nil {
							t.Fatalf("refused: %v", err)
						}
						if o.GetId() == "" {
							t.Fatal("no order returned")
						}
						return
					}
					servertest.WantError(t, err, connect.CodeInvalidArgument, commonv1.ErrorReason_ERROR_REASON_TIME_OUT_OF_RANGE)
					wantField(t, err, "terms.ship_by_time")
					if md := servertest.Detail(err).GetMetadata(); md["latest"] != e.Clock.Now().Add(horizon).Format(time.RFC3339) {
						t.Fatalf("metadata = %v", md)
					}
				})
			}
		}
		// Nothing out of range was stored: JSON reads of the orders, their revisions and the whole feed work.
		jsonOrders, jsonEvents := jsonClients(e, m.supplier)
		list, err := jsonOrders.ListOrders(e.Ctx, connect.NewRequest(&orderv1.ListOrdersRequest{PageSize: 100}))
		if err != nil {
			t.Fatalf("JSON ListOrders: %v", err)
		}
		for _, o := range list.Msg.GetOrders() {
			if y := o.GetTerms().GetShipByTime().AsTime().Year(); y > 2027 {
				t.Fatalf("order %s ships by year %d", o.GetId(), y)
			}
			if _, err := jsonOrders.ListOrderRevisions(e.Ctx, connect.NewRequest(&orderv1.ListOrderRevisionsRequest{OrderId: o.GetId()})); err != nil {
				t.Fatalf("JSON ListOrderRevisions: %v", err)
			}
		}
		_, opEvents := jsonClients(e, m.operator)
		for _, events := range []eventv1connect.EventServiceClient{jsonEvents, opEvents} {
			if _, err := events.ListEvents(e.Ctx, connect.NewRequest(&eventv1.ListEventsRequest{PageSize: 500})); err != nil {
				t.Fatalf("JSON ListEvents: %v", err)
			}
		}
	})
}

// bigMarket is a marketplace for amounts at the platform's bound: a supplier whose trade-assurance limit
// is money.Max USD minor units, with one-touch export.
func bigMarket(t *testing.T, e *servertest.Env) *market {
	m := &market{t: t, e: e}
	m.buyer = e.Buyer("US")
	m.supplier = e.Supplier(money.Max, true)
	m.operator = e.Staff(commonv1.Role_ROLE_OPERATOR)
	m.product = e.Product(m.supplier, "Container", 10_00, "USD")
	return m
}

// payByWire pays the order's next part by T/T (no cap) and confirms it as the bank would.
func (m *market) payByWire(o *orderv1.Order) *orderv1.Order {
	m.t.Helper()
	resp, err := pay(m.e, m.buyer, o, orderv1.PaymentMethod_PAYMENT_METHOD_TT)
	if err != nil {
		m.t.Fatalf("pay: %v", err)
	}
	ok, err := m.operator.Orders.ConfirmPayment(m.e.Ctx, connect.NewRequest(&orderv1.ConfirmPaymentRequest{PaymentId: resp.GetPayment().GetId()}))
	if err != nil {
		m.t.Fatalf("confirm payment: %v", err)
	}
	return ok.Msg.GetOrder()
}

// TestAmountBounds checks the checked money arithmetic of drafting through the generated clients: each line
// total (quantity × unit price) and the order total (goods + shipping + insurance) just inside and just
// outside money.Max, and the two probes of issue 10 that wrapped around int64 before. An order at the bound
// is paid, completed and refunded without INTERNAL; a refused one writes nothing.
func TestAmountBounds(t *testing.T) {
	type line struct{ qty, price int64 }
	cases := []struct {
		name      string
		lines     []line
		ship, ins int64
		ok        bool
		field     string
		// schema says the schema may refuse the input before the domain computes anything.
		schema bool
	}{
		{"line at the bound", []line{{1_000_000, 10_000_000}}, 0, 0, true, "", false},
		{"line just over", []line{{1_000_000, 10_000_001}}, 0, 0, false, "terms.lines[0]", false},
		{"second line just over", []line{{1, 100}, {1_000_000, 10_000_001}}, 0, 0, false, "terms.lines[1]", false},
		{"goods at the bound", []line{{1_000_000, 5_000_000}, {1_000_000, 5_000_000}}, 0, 0, true, "", false},
		{"goods just over", []line{{1_000_000, 5_000_000}, {1_000_000, 5_000_001}}, 0, 0, false, "terms.lines", false},
		{"total at the bound", []line{{999_999, 10_000_000}}, 9_999_000, 1_000, true, "", false},
		{"total just over by shipping", []line{{999_999, 10_000_000}}, 9_999_001, 1_000, false, "terms", false},
		{"total just over by insurance", []line{{999_999, 10_000_000}}, 9_999_000, 1_001, false, "terms", false},
		{"issue probe 4 × 4611686018427387929", []line{{4, 4611686018427387929}}, 50_00, 5_00, false, "terms.lines[0]", true},
		{"issue probe 10 × MaxInt64", []line{{10, math.MaxInt64}}, 50_00, 5_00, false, "terms.lines[0]", true},
	}
	servertest.Each(t, func(t *testing.T, e *servertest.Env) {
		m := bigMarket(t, e)
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				tm := m.terms(1)
				tm.Lines = nil
				for _, l := range c.lines {
					tm.Lines = append(tm.Lines, &orderv1.OrderLine{ProductId: m.product, Quantity: l.qty, UnitPriceMinor: l.price})
				}
				tm.ShippingFeeMinor, tm.InsuranceFeeMinor = c.ship, c.ins
				before := len(mustList(t, m))
				resp, err := m.supplier.Orders.CreateOrder(e.Ctx, connect.NewRequest(m.createReq(taPolicy, tm)))
				if !c.ok {
					if c.schema && servertest.Detail(err).GetReason() == commonv1.ErrorReason_ERROR_REASON_INVALID_FIELD {
						// The schema bounds every input amount; either refusal is INVALID_ARGUMENT.
						servertest.WantError(t, err, connect.CodeInvalidArgument, commonv1.ErrorReason_ERROR_REASON_INVALID_FIELD)
					} else {
						servertest.WantError(t, err, connect.CodeInvalidArgument, commonv1.ErrorReason_ERROR_REASON_AMOUNT_TOO_LARGE)
						wantField(t, err, c.field)
						if got := servertest.Detail(err).GetMetadata()["max_minor"]; got != "10000000000000" {
							t.Fatalf("max_minor = %q", got)
						}
					}
					if after := len(mustList(t, m)); after != before {
						t.Fatalf("a refused draft wrote an order: %d orders, were %d", after, before)
					}
					return
				}
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				o := resp.Msg.GetOrder()
				var goods int64
				for _, l := range c.lines {
					goods += l.qty * l.price // within the bound by construction
				}
				total := goods + c.ship + c.ins
				if o.GetAmounts().GetGoods().GetAmountMinor() != goods || o.GetAmounts().GetTotal().GetAmountMinor() != total ||
					o.GetAmounts().GetTotalUsdMinor() != total {
					t.Fatalf("amounts = %v, want goods %d total %d", o.GetAmounts(), goods, total)
				}
				o = m.payByWire(m.accept(o))
				wantState(t, o, orderv1.Order_STATE_PAID)
				if o.GetAmounts().GetPaid().GetAmountMinor() != total {
					t.Fatalf("paid %v, want %d", o.GetAmounts().GetPaid(), total)
				}
				// The largest refund there is: the whole order, cancelled before shipment.
				cancelled, err := m.buyer.Orders.CancelOrder(e.Ctx, connect.NewRequest(&orderv1.CancelOrderRequest{
					OrderId: o.GetId(), Reason: orderv1.CancellationReason_CANCELLATION_REASON_BUYER}))
				if err != nil {
					t.Fatalf("cancel: %v", err)
				}
				if got := cancelled.Msg.GetOrder().GetRefunded().GetAmountMinor(); got != total {
					t.Fatalf("refunded %d, want %d", got, total)
				}
			})
		}
		// An order at the bound completes: its escrow is released to the supplier less the 2% fee.
		tm := m.terms(1)
		tm.Lines = []*orderv1.OrderLine{{ProductId: m.product, Quantity: 1_000_000, UnitPriceMinor: 10_000_000}}
		tm.ShippingFeeMinor, tm.InsuranceFeeMinor = 0, 0
		o := m.payByWire(m.accept(m.draft(taPolicy, tm)))
		o = m.ship(o)
		done, err := m.buyer.Orders.ConfirmReceipt(e.Ctx, connect.NewRequest(&orderv1.ConfirmReceiptRequest{OrderId: o.GetId()}))
		if err != nil {
			t.Fatalf("confirm receipt: %v", err)
		}
		wantState(t, done.Msg.GetOrder(), orderv1.Order_STATE_COMPLETED)
		if got, want := balance(t, e, ledger.SupplierAvailable, m.supplier.ID()), money.Max-money.Max/50; got != want {
			t.Fatalf("supplier available %d, want %d", got, want)
		}
		sumZero(t, e)
	})
}

func mustList(t *testing.T, m *market) []*orderv1.Order {
	t.Helper()
	resp, err := m.supplier.Orders.ListOrders(m.e.Ctx, connect.NewRequest(&orderv1.ListOrdersRequest{PageSize: 500}))
	if err != nil {
		t.Fatalf("list orders: %v", err)
	}
	return resp.Msg.GetOrders()
}

// TestProductPriceBound checks a listed price just inside and just outside money.Max.
func TestProductPriceBound(t *testing.T) {
	servertest.Each(t, func(t *testing.T, e *servertest.Env) {
		s := e.Supplier(100_000_00, true)
		for _, c := range []struct {
			price int64
			ok    bool
		}{{money.Max, true}, {money.Max + 1, false}, {math.MaxInt64, false}} {
			_, err := s.Orders.CreateProduct(e.Ctx, connect.NewRequest(&orderv1.CreateProductRequest{
				Name: "Lot", UnitPrice: &commonv1.Money{AmountMinor: c.price, Currency: "USD"}}))
			switch {
			case c.ok && err != nil:
				t.Fatalf("price %d refused: %v", c.price, err)
			case !c.ok && connect.CodeOf(err) != connect.CodeInvalidArgument:
				t.Fatalf("price %d: want INVALID_ARGUMENT, got %v", c.price, err)
			}
		}
	})
}

// TestWrappedOrdersCannotBePaid checks orders written before amounts were checked, whose totals wrapped
// around int64 (issue 10: 4 × 4611686018427387929 stored as goods 100; 10 × MaxInt64 stored as a negative
// total), can be neither accepted nor paid, with AMOUNT_TOO_LARGE instead of a silent small charge or
// INTERNAL, and that nothing moves.
func TestWrappedOrdersCannotBePaid(t *testing.T) {
	cases := []struct {
		name         string
		qty, price   int64
		goods, total int64
	}{
		{"4 × 4611686018427387929", 4, 4611686018427387929, 100, 100 + 55_00},
		{"10 × MaxInt64", 10, math.MaxInt64, -10, -10 + 55_00},
	}
	servertest.Each(t, func(t *testing.T, e *servertest.Env) {
		m := newMarket(t, e)
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				// Two orders written normally, then rewritten as an old server would have stored them: one
				// still a draft, one already accepted.
				wrap := func(o *orderv1.Order) {
					terms := m.terms(1)
					terms.Lines[0].Quantity, terms.Lines[0].UnitPriceMinor, terms.Lines[0].LineTotalMinor = c.qty, c.price, c.qty*c.price
					terms.ShipByTime = o.GetTerms().GetShipByTime()
					if err := e.Store.Client.Order.UpdateOneID(o.GetId()).SetTerms(resource.Marshal(terms)).
						SetGoodsMinor(c.goods).SetTotalMinor(c.total).SetCoveredMinor(c.total).SetTotalUsdMinor(c.total).Exec(e.Ctx); err != nil {
						t.Fatal(err)
					}
				}
				draft := m.draft(taPolicy, m.terms(1))
				wrap(draft)
				_, err := m.buyer.Orders.AcceptOrder(e.Ctx, connect.NewRequest(&orderv1.AcceptOrderRequest{OrderId: draft.GetId()}))
				servertest.WantError(t, err, connect.CodeInvalidArgument, commonv1.ErrorReason_ERROR_REASON_AMOUNT_TOO_LARGE)

				accepted := m.accept(m.draft(taPolicy, m.terms(1)))
				wrap(accepted)
				for _, method := range []orderv1.PaymentMethod{orderv1.PaymentMethod_PAYMENT_METHOD_CARD, orderv1.PaymentMethod_PAYMENT_METHOD_TT} {
					_, err := pay(e, m.buyer, accepted, method)
					servertest.WantError(t, err, connect.CodeFailedPrecondition, commonv1.ErrorReason_ERROR_REASON_AMOUNT_TOO_LARGE)
				}
				if got := m.get(accepted.GetId()); got.GetState() != orderv1.Order_STATE_AWAITING_PAYMENT || got.GetAmounts().GetPaid().GetAmountMinor() != 0 {
					t.Fatalf("order after refused payments = %v", got)
				}
				// The buyer can still cancel it.
				if _, err := m.buyer.Orders.CancelOrder(e.Ctx, connect.NewRequest(&orderv1.CancelOrderRequest{
					OrderId: accepted.GetId(), Reason: orderv1.CancellationReason_CANCELLATION_REASON_BUYER})); err != nil {
					t.Fatalf("cancel: %v", err)
				}
			})
		}
	})
}

// TestBuyerEmailMatching checks emails compare the same way everywhere: a buyer registered as
// "Jane.Doe@Example.com" is found by a supplier's draft naming it exactly as registered, in any case and
// with surrounding spaces, and may name itself so in a requested draft; other addresses are unknown; and
// a second account differing only in case is refused as taken.
func TestBuyerEmailMatching(t *testing.T) {
	servertest.Each(t, func(t *testing.T, e *servertest.Env) {
		m := newMarket(t, e)
		created, err := m.operator.Admin.CreateAccount(e.Ctx, connect.NewRequest(&adminv1.CreateAccountRequest{
			Role: commonv1.Role_ROLE_BUYER, Name: "Jane Doe", Email: "Jane.Doe@Example.com", Country: "US"}))
		if err != nil {
			t.Fatalf("create buyer: %v", err)
		}
		jane := created.Msg.GetAccount()
		if jane.GetEmail() != "jane.doe@example.com" {
			t.Fatalf("stored email %q", jane.GetEmail())
		}
		key, err := m.operator.Admin.CreateApiKey(e.Ctx, connect.NewRequest(&adminv1.CreateApiKeyRequest{AccountId: jane.GetId(), Name: "erp"}))
		if err != nil {
			t.Fatal(err)
		}
		janeClients := e.Clients(key.Msg.GetSecret())
		for _, c := range []struct {
			email string
			ok    bool
		}{
			{"Jane.Doe@Example.com", true}, // exactly as registered
			{"jane.doe@example.com", true},
			{"JANE.DOE@EXAMPLE.COM", true},
			{"  Jane.Doe@Example.com ", true},
			{"jane.doe@example.org", false},
			{"janedoe@example.com", false},
		} {
			t.Run("supplier names "+c.email, func(t *testing.T) {
				r, err := m.supplier.Orders.CreateOrder(e.Ctx, connect.NewRequest(&orderv1.CreateOrderRequest{
					Policy: taPolicy, BuyerEmail: c.email, Terms: m.terms(1)}))
				if !c.ok {
					servertest.WantError(t, err, connect.CodeInvalidArgument, commonv1.ErrorReason_ERROR_REASON_UNKNOWN_BUYER)
					return
				}
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				if o := r.Msg.GetOrder(); o.GetBuyerId() != jane.GetId() || o.GetBuyerEmail() != "jane.doe@example.com" {
					t.Fatalf("order for %s %q", o.GetBuyerId(), o.GetBuyerEmail())
				}
			})
			t.Run("buyer names itself "+c.email, func(t *testing.T) {
				_, err := janeClients.Orders.CreateOrder(e.Ctx, connect.NewRequest(&orderv1.CreateOrderRequest{
					Policy: taPolicy, SupplierId: m.supplier.ID(), BuyerEmail: c.email, Terms: m.terms(1)}))
				if !c.ok {
					servertest.WantError(t, err, connect.CodeInvalidArgument, commonv1.ErrorReason_ERROR_REASON_UNKNOWN_BUYER)
				} else if err != nil {
					t.Fatalf("refused: %v", err)
				}
			})
		}
		for _, taken := range []string{"jane.doe@example.com", "JANE.DOE@example.COM", " Jane.Doe@Example.com"} {
			_, err := m.operator.Admin.CreateAccount(e.Ctx, connect.NewRequest(&adminv1.CreateAccountRequest{
				Role: commonv1.Role_ROLE_SUPPLIER, Name: "Jane's shop", Email: taken, Country: "US"}))
			if connect.CodeOf(err) == connect.CodeInvalidArgument {
				continue // the schema refuses an address with spaces before the service sees it
			}
			servertest.WantError(t, err, connect.CodeAlreadyExists, commonv1.ErrorReason_ERROR_REASON_EMAIL_TAKEN)
		}
	})
}
