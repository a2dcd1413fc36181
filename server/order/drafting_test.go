package order_test

import (
	"testing"
	"time"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/types/known/timestamppb"

	commonv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/common/v1"
	eventv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/event/v1"
	orderv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/order/v1"
	"github.com/tradeassure/tradeassure/server/servertest"
)

const (
	taPolicy     = commonv1.Policy_POLICY_TRADE_ASSURANCE
	retailPolicy = commonv1.Policy_POLICY_RETAIL
)

func TestDraftComputesTotalsAndStoresPolicy(t *testing.T) {
	servertest.Each(t, func(t *testing.T, e *servertest.Env) {
		m := newMarket(t, e)
		terms := m.terms(3)
		terms.Lines[0].UnitPriceMinor = 0 // the listed price applies
		o := m.draft(retailPolicy, terms)
		wantState(t, o, orderv1.Order_STATE_DRAFT)
		a := o.GetAmounts()
		if a.GetGoods().GetAmountMinor() != 30_00 || a.GetTotal().GetAmountMinor() != 30_00+50_00+5_00 {
			t.Fatalf("amounts = %v", a)
		}
		if o.GetPolicy() != retailPolicy || o.GetPolicyVersion() == "" {
			t.Fatalf("policy = %v %q", o.GetPolicy(), o.GetPolicyVersion())
		}
		if o.GetTerms().GetLines()[0].GetProductName() != "Widget" || o.GetBuyerId() != m.buyer.ID() {
			t.Fatalf("order = %v", o)
		}
		if o.GetRevision() != 1 || o.GetEtag() == "" {
			t.Fatalf("revision %d etag %q", o.GetRevision(), o.GetEtag())
		}
	})
}

// TestDraftRejectsBadInput checks each drafting rule refuses bad terms with the right code and reason,
// and that a refused draft writes nothing: no order, no event.
func TestDraftRejectsBadInput(t *testing.T) {
	type tc struct {
		name   string
		policy commonv1.Policy
		mutate func(m *market, r *orderv1.CreateOrderRequest)
		code   connect.Code
		reason commonv1.ErrorReason
	}
	invalid := commonv1.ErrorReason_ERROR_REASON_INVALID_FIELD
	cases := []tc{
		{"missing phone", taPolicy, func(m *market, r *orderv1.CreateOrderRequest) { r.Terms.ShippingAddress.Phone = "" },
			connect.CodeInvalidArgument, invalid},
		{"missing address", taPolicy, func(m *market, r *orderv1.CreateOrderRequest) { r.Terms.ShippingAddress = nil },
			connect.CodeInvalidArgument, invalid},
		{"negative quantity", taPolicy, func(m *market, r *orderv1.CreateOrderRequest) { r.Terms.Lines[0].Quantity = -1 },
			connect.CodeInvalidArgument, invalid},
		{"zero quantity", taPolicy, func(m *market, r *orderv1.CreateOrderRequest) { r.Terms.Lines[0].Quantity = 0 },
			connect.CodeInvalidArgument, invalid},
		{"no lines", taPolicy, func(m *market, r *orderv1.CreateOrderRequest) { r.Terms.Lines = nil },
			connect.CodeInvalidArgument, invalid},
		{"no policy", commonv1.Policy_POLICY_UNSPECIFIED, func(m *market, r *orderv1.CreateOrderRequest) {},
			connect.CodeInvalidArgument, invalid},
		{"FOB by air", taPolicy, func(m *market, r *orderv1.CreateOrderRequest) {
			r.Terms.TradeTerm = orderv1.TradeTerm_TRADE_TERM_FOB
		}, connect.CodeInvalidArgument, commonv1.ErrorReason_ERROR_REASON_TRADE_TERM_SHIPPING_MISMATCH},
		{"CIF by rail", taPolicy, func(m *market, r *orderv1.CreateOrderRequest) {
			r.Terms.TradeTerm = orderv1.TradeTerm_TRADE_TERM_CIF
			r.Terms.ShippingMethod = orderv1.ShippingMethod_SHIPPING_METHOD_RAIL
		}, connect.CodeInvalidArgument, commonv1.ErrorReason_ERROR_REASON_TRADE_TERM_SHIPPING_MISMATCH},
		{"FAS by express", taPolicy, func(m *market, r *orderv1.CreateOrderRequest) {
			r.Terms.TradeTerm = orderv1.TradeTerm_TRADE_TERM_FAS
			r.Terms.ShippingMethod = orderv1.ShippingMethod_SHIPPING_METHOD_EXPRESS
		}, connect.CodeInvalidArgument, commonv1.ErrorReason_ERROR_REASON_TRADE_TERM_SHIPPING_MISMATCH},
		{"CFR multimodal", taPolicy, func(m *market, r *orderv1.CreateOrderRequest) {
			r.Terms.TradeTerm = orderv1.TradeTerm_TRADE_TERM_CFR
			r.Terms.ShippingMethod = orderv1.ShippingMethod_SHIPPING_METHOD_MULTIMODAL
		}, connect.CodeInvalidArgument, commonv1.ErrorReason_ERROR_REASON_TRADE_TERM_SHIPPING_MISMATCH},
		{"unknown buyer email", taPolicy, func(m *market, r *orderv1.CreateOrderRequest) { r.BuyerEmail = "nobody@test.example" },
			connect.CodeInvalidArgument, commonv1.ErrorReason_ERROR_REASON_UNKNOWN_BUYER},
		{"email of a supplier", taPolicy, func(m *market, r *orderv1.CreateOrderRequest) { r.BuyerEmail = m.supplier.Account.Email },
			connect.CodeInvalidArgument, commonv1.ErrorReason_ERROR_REASON_UNKNOWN_BUYER},
		{"no buyer email", taPolicy, func(m *market, r *orderv1.CreateOrderRequest) { r.BuyerEmail = "" },
			connect.CodeInvalidArgument, commonv1.ErrorReason_ERROR_REASON_UNKNOWN_BUYER},
		{"unknown product", taPolicy, func(m *market, r *orderv1.CreateOrderRequest) { r.Terms.Lines[0].ProductId = "prd_nope" },
			connect.CodeInvalidArgument, commonv1.ErrorReason_ERROR_REASON_UNKNOWN_PRODUCT},
		{"another supplier's product", taPolicy, func(m *market, r *orderv1.CreateOrderRequest) {
			other := m.e.Supplier(100_000_00, true)
			r.Terms.Lines[0].ProductId = m.e.Product(other, "Theirs", 5_00, "USD")
		}, connect.CodeInvalidArgument, commonv1.ErrorReason_ERROR_REASON_UNKNOWN_PRODUCT},
		{"product in another currency", taPolicy, func(m *market, r *orderv1.CreateOrderRequest) {
			r.Terms.Lines = append(r.Terms.Lines, &orderv1.OrderLine{ProductId: m.e.Product(m.supplier, "Euro item", 5_00, "EUR"), Quantity: 1})
		}, connect.CodeInvalidArgument, commonv1.ErrorReason_ERROR_REASON_CURRENCY_MISMATCH},
		{"unsupported currency", taPolicy, func(m *market, r *orderv1.CreateOrderRequest) { r.Terms.Currency = "XYZ" },
			connect.CodeInvalidArgument, commonv1.ErrorReason_ERROR_REASON_UNSUPPORTED_CURRENCY},
		{"advance of zero", taPolicy, func(m *market, r *orderv1.CreateOrderRequest) {
			r.Terms.PaymentTerms = &orderv1.PaymentTerms{Kind: orderv1.PaymentTerms_KIND_ADVANCE_BALANCE}
		}, connect.CodeInvalidArgument, commonv1.ErrorReason_ERROR_REASON_INVALID_ADVANCE},
		{"advance equal to the total", taPolicy, func(m *market, r *orderv1.CreateOrderRequest) {
			r.Terms.PaymentTerms = &orderv1.PaymentTerms{Kind: orderv1.PaymentTerms_KIND_ADVANCE_BALANCE, AdvanceMinor: 10*10_00 + 55_00}
		}, connect.CodeInvalidArgument, commonv1.ErrorReason_ERROR_REASON_INVALID_ADVANCE},
		{"advance on full payment", taPolicy, func(m *market, r *orderv1.CreateOrderRequest) { r.Terms.PaymentTerms.AdvanceMinor = 1 },
			connect.CodeInvalidArgument, commonv1.ErrorReason_ERROR_REASON_INVALID_ADVANCE},
		{"ship-by in the past", taPolicy, func(m *market, r *orderv1.CreateOrderRequest) {
			r.Terms.ShipByTime = timestamppb.New(m.e.Clock.Now().Add(-time.Second))
		}, connect.CodeInvalidArgument, commonv1.ErrorReason_ERROR_REASON_TIME_OUT_OF_RANGE},
		{"bad currency code", taPolicy, func(m *market, r *orderv1.CreateOrderRequest) { r.Terms.Currency = "usd" },
			connect.CodeInvalidArgument, invalid},
		{"trade-assurance limit exceeded", taPolicy, func(m *market, r *orderv1.CreateOrderRequest) {
			r.Terms.Lines[0].Quantity = 10_000 // 100,000.00 + 55.00 > 100,000.00
		}, connect.CodeFailedPrecondition, commonv1.ErrorReason_ERROR_REASON_TRADE_ASSURANCE_LIMIT_EXCEEDED},
		{"limit exceeded in retail too", retailPolicy, func(m *market, r *orderv1.CreateOrderRequest) {
			r.Terms.Lines[0].Quantity = 10_000
		}, connect.CodeFailedPrecondition, commonv1.ErrorReason_ERROR_REASON_TRADE_ASSURANCE_LIMIT_EXCEEDED},
	}
	servertest.Each(t, func(t *testing.T, e *servertest.Env) {
		m := newMarket(t, e)
		for _, c := range cases {
			req := m.createReq(c.policy, m.terms(10))
			c.mutate(m, req)
			_, err := m.supplier.Orders.CreateOrder(e.Ctx, connect.NewRequest(req))
			t.Run(c.name, func(t *testing.T) { servertest.WantError(t, err, c.code, c.reason) })
		}
		list, err := m.supplier.Orders.ListOrders(e.Ctx, connect.NewRequest(&orderv1.ListOrdersRequest{}))
		if err != nil || len(list.Msg.GetOrders()) != 0 {
			t.Fatalf("refused drafts wrote orders: %v %v", list.Msg.GetOrders(), err)
		}
		evs, err := m.operator.Events.ListEvents(e.Ctx, connect.NewRequest(&eventv1.ListEventsRequest{SubjectType: "order"}))
		if err != nil || len(evs.Msg.GetEvents()) != 0 {
			t.Fatalf("refused drafts wrote events: %v %v", evs.Msg.GetEvents(), err)
		}
	})
}

// TestCoverageLimit checks the trade-assurance limit just at and just above it, for both coverage types:
// pre-shipment coverage counts the advance, post-delivery the whole order.
func TestCoverageLimit(t *testing.T) {
	servertest.Each(t, func(t *testing.T, e *servertest.Env) {
		m := newMarket(t, e)
		small := e.Supplier(1_000_00, false) // 1,000.00 USD limit
		p := e.Product(small, "Thing", 1_00, "USD")
		terms := func(qty, advance int64, cov orderv1.CoverageType) *orderv1.OrderTerms {
			tm := m.terms(qty)
			tm.Lines[0].ProductId = p
			tm.ShippingFeeMinor, tm.InsuranceFeeMinor = 0, 0
			tm.CoverageType = cov
			if advance > 0 {
				tm.PaymentTerms = &orderv1.PaymentTerms{Kind: orderv1.PaymentTerms_KIND_ADVANCE_BALANCE, AdvanceMinor: advance}
			}
			return tm
		}
		create := func(tm *orderv1.OrderTerms) error {
			_, err := small.Orders.CreateOrder(e.Ctx, connect.NewRequest(m.createReq(taPolicy, tm)))
			return err
		}
		post := orderv1.CoverageType_COVERAGE_TYPE_POST_DELIVERY
		pre := orderv1.CoverageType_COVERAGE_TYPE_PRE_SHIPMENT
		if err := create(terms(1000, 0, post)); err != nil {
			t.Fatalf("exactly the limit: %v", err)
		}
		servertest.WantError(t, create(terms(1001, 0, post)), connect.CodeFailedPrecondition,
			commonv1.ErrorReason_ERROR_REASON_TRADE_ASSURANCE_LIMIT_EXCEEDED)
		// Pre-shipment: a 2,000.00 order with a 1,000.00 advance is covered for the advance only.
		if err := create(terms(2000, 1000_00, pre)); err != nil {
			t.Fatalf("pre-shipment advance at the limit: %v", err)
		}
		servertest.WantError(t, create(terms(2000, 1000_01, pre)), connect.CodeFailedPrecondition,
			commonv1.ErrorReason_ERROR_REASON_TRADE_ASSURANCE_LIMIT_EXCEEDED)
		servertest.WantError(t, create(terms(2000, 1000_00, post)), connect.CodeFailedPrecondition,
			commonv1.ErrorReason_ERROR_REASON_TRADE_ASSURANCE_LIMIT_EXCEEDED)
	})
}

// TestExportAgentCap checks the 5,000 USD cap for suppliers without one-touch export (trade-assurance
// policy), at and above the cap, in USD and converted from EUR, and that retail has no such cap.
func TestExportAgentCap(t *testing.T) {
	servertest.Each(t, func(t *testing.T, e *servertest.Env) {
		m := newMarket(t, e)
		noAgent := e.Supplier(100_000_00, false)
		usd := e.Product(noAgent, "Cent", 1, "USD")
		eur := e.Product(noAgent, "Euro cent", 1, "EUR")
		order := func(s *servertest.Party, pol commonv1.Policy, product, currency string, qty int64) (*orderv1.Order, error) {
			tm := m.terms(qty)
			tm.Lines[0].ProductId = product
			tm.Currency = currency
			tm.ShippingFeeMinor, tm.InsuranceFeeMinor = 0, 0
			resp, err := s.Orders.CreateOrder(e.Ctx, connect.NewRequest(m.createReq(pol, tm)))
			if err != nil {
				return nil, err
			}
			return resp.Msg.GetOrder(), nil
		}
		agentRequired := commonv1.ErrorReason_ERROR_REASON_EXPORT_AGENT_REQUIRED
		if o, err := order(noAgent, taPolicy, usd, "USD", 5_000_00); err != nil || o.GetRequiresExportAgent() {
			t.Fatalf("5,000.00 USD without agent: %v %v", o.GetRequiresExportAgent(), err)
		}
		_, err := order(noAgent, taPolicy, usd, "USD", 5_000_01)
		servertest.WantError(t, err, connect.CodeFailedPrecondition, agentRequired)
		// 4,629.62 EUR is 4,999.99 USD at 1.08; 4,629.63 EUR is 5,000.00; 4,629.64 EUR is 5,000.01.
		if _, err := order(noAgent, taPolicy, eur, "EUR", 4_629_63); err != nil {
			t.Fatalf("EUR at the cap: %v", err)
		}
		_, err = order(noAgent, taPolicy, eur, "EUR", 4_629_64)
		servertest.WantError(t, err, connect.CodeFailedPrecondition, agentRequired)
		if _, err := order(noAgent, retailPolicy, usd, "USD", 5_000_01); err != nil {
			t.Fatalf("retail has no export cap: %v", err)
		}
		// A supplier with the agent may draft above the cap; the order must ship through the agent.
		withAgent := e.Product(m.supplier, "Cent", 1, "USD")
		o, err := order(m.supplier, taPolicy, withAgent, "USD", 5_000_01)
		if err != nil || !o.GetRequiresExportAgent() {
			t.Fatalf("with agent: requires=%v %v", o.GetRequiresExportAgent(), err)
		}
	})
}

func TestBuyerRequestedDraft(t *testing.T) {
	servertest.Each(t, func(t *testing.T, e *servertest.Env) {
		m := newMarket(t, e)
		resp, err := m.buyer.Orders.CreateOrder(e.Ctx, connect.NewRequest(&orderv1.CreateOrderRequest{
			Policy: retailPolicy, SupplierId: m.supplier.ID(), Terms: m.terms(2),
		}))
		if err != nil {
			t.Fatalf("buyer draft: %v", err)
		}
		o := resp.Msg.GetOrder()
		if !o.GetAwaitingSupplier() {
			t.Fatal("a buyer's draft should await the supplier")
		}
		_, err = m.buyer.Orders.AcceptOrder(e.Ctx, connect.NewRequest(&orderv1.AcceptOrderRequest{OrderId: o.GetId()}))
		servertest.WantError(t, err, connect.CodeFailedPrecondition, commonv1.ErrorReason_ERROR_REASON_ILLEGAL_STATE)
		// The buyer asks for a change; the supplier edits and re-sends; the buyer accepts.
		rc, err := m.buyer.Orders.RequestDraftChanges(e.Ctx, connect.NewRequest(&orderv1.RequestDraftChangesRequest{
			OrderId: o.GetId(), Etag: o.GetEtag(), Note: "please make it 5 units",
		}))
		if err != nil || rc.Msg.GetOrder().GetBuyerChangeRequest() != "please make it 5 units" {
			t.Fatalf("request changes: %v", err)
		}
		_, err = m.buyer.Orders.UpdateOrder(e.Ctx, connect.NewRequest(&orderv1.UpdateOrderRequest{OrderId: o.GetId(), Terms: m.terms(5)}))
		servertest.WantError(t, err, connect.CodePermissionDenied, commonv1.ErrorReason_ERROR_REASON_ROLE_NOT_ALLOWED)
		up, err := m.supplier.Orders.UpdateOrder(e.Ctx, connect.NewRequest(&orderv1.UpdateOrderRequest{
			OrderId: o.GetId(), Etag: rc.Msg.GetOrder().GetEtag(), Terms: m.terms(5),
		}))
		if err != nil {
			t.Fatalf("update: %v", err)
		}
		o = up.Msg.GetOrder()
		if o.GetAwaitingSupplier() || o.GetBuyerChangeRequest() != "" || o.GetAmounts().GetGoods().GetAmountMinor() != 50_00 {
			t.Fatalf("updated draft = %v", o)
		}
		wantState(t, m.accept(o), orderv1.Order_STATE_AWAITING_PAYMENT)
		// A buyer cannot request a draft in another buyer's name.
		_, err = m.buyer.Orders.CreateOrder(e.Ctx, connect.NewRequest(&orderv1.CreateOrderRequest{
			Policy: retailPolicy, SupplierId: m.supplier.ID(), BuyerEmail: "someone@else.example", Terms: m.terms(2),
		}))
		servertest.WantError(t, err, connect.CodeInvalidArgument, commonv1.ErrorReason_ERROR_REASON_UNKNOWN_BUYER)
	})
}
