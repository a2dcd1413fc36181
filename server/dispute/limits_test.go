package dispute_test

import (
	"testing"
	"time"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/types/known/timestamppb"

	commonv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/common/v1"
	disputev1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/dispute/v1"
	"github.com/tradeassure/tradeassure/gen/go/tradeassure/dispute/v1/disputev1connect"
	eventv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/event/v1"
	"github.com/tradeassure/tradeassure/gen/go/tradeassure/event/v1/eventv1connect"
	orderv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/order/v1"
	"github.com/tradeassure/tradeassure/server/ledger"
	"github.com/tradeassure/tradeassure/server/money"
	"github.com/tradeassure/tradeassure/server/servertest"
)

// escalated is a retail dispute on a delivered order, escalated by the buyer after the supplier rejected it.
func (m *market) escalated() *disputev1.Dispute {
	m.t.Helper()
	d, err := m.escalate(m.buyer, m.reject(m.open(m.delivered(commonv1.Policy_POLICY_RETAIL)), 10_00))
	if err != nil {
		m.t.Fatalf("escalate: %v", err)
	}
	return d
}

// TestEvidenceDueWindow checks an arbiter's evidence due time just inside and just outside both ends of
// its window — after now, at most the policy's 30 days ahead — and that the dispute and the operator's
// feed still read in JSON afterwards (a due time in year 10000 broke them before).
func TestEvidenceDueWindow(t *testing.T) {
	const horizon = 30 * day
	each(t, func(t *testing.T, e *servertest.Env) {
		m := newMarket(t, e)
		d := m.escalated()
		now := e.Clock.Now()
		for _, c := range []struct {
			name string
			due  time.Time
			ok   bool
		}{
			{"a second from now", now.Add(time.Second), true},
			{"now", now, false},
			{"an hour ago", now.Add(-time.Hour), false},
			{"at the 30-day horizon", now.Add(horizon), true},
			{"a second past the horizon", now.Add(horizon + time.Second), false},
			{"year 10000", time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC), false},
		} {
			t.Run(c.name, func(t *testing.T) {
				_, err := m.arbiter.Disputes.RequestEvidence(e.Ctx, connect.NewRequest(&disputev1.RequestEvidenceRequest{
					Id: d.GetId(), FromRole: commonv1.Role_ROLE_SUPPLIER, Description: "the packing list", DueTime: timestamppb.New(c.due)}))
				if c.ok {
					if err != nil {
						t.Fatalf("refused: %v", err)
					}
					return
				}
				servertest.WantError(t, err, connect.CodeInvalidArgument, commonv1.ErrorReason_ERROR_REASON_TIME_OUT_OF_RANGE)
				if v := servertest.Detail(err).GetFieldViolations(); len(v) != 1 || v[0].GetField() != "due_time" {
					t.Fatalf("violations = %v", v)
				}
				if got := servertest.Detail(err).GetMetadata()["latest"]; got != now.Add(horizon).Format(time.RFC3339) {
					t.Fatalf("latest = %q", got)
				}
			})
		}
		opts := []connect.ClientOption{connect.WithProtoJSON(), connect.WithInterceptors(servertest.Bearer(m.operator.Key))}
		got, err := disputev1connect.NewDisputeServiceClient(e.HTTPClient(), e.HTTP.URL, opts...).
			GetDispute(e.Ctx, connect.NewRequest(&disputev1.GetDisputeRequest{Id: d.GetId()}))
		if err != nil {
			t.Fatalf("JSON GetDispute: %v", err)
		}
		if n := len(got.Msg.GetDispute().GetEvidenceRequests()); n != 2 {
			t.Fatalf("%d evidence requests, want the 2 accepted", n)
		}
		if _, err := eventv1connect.NewEventServiceClient(e.HTTPClient(), e.HTTP.URL, opts...).
			ListEvents(e.Ctx, connect.NewRequest(&eventv1.ListEventsRequest{PageSize: 500})); err != nil {
			t.Fatalf("JSON ListEvents: %v", err)
		}
	})
}

// termsOf are full-payment, post-delivery terms for quantity of the market's product with the fees, FCA by
// air, shipping in 14 days; change adjusts them.
func (m *market) termsOf(quantity, shipping, insurance int64, change func(*orderv1.OrderTerms)) *orderv1.OrderTerms {
	t := &orderv1.OrderTerms{
		Lines:    []*orderv1.OrderLine{{ProductId: m.product, Quantity: quantity}},
		Currency: "USD", ShippingFeeMinor: shipping, InsuranceFeeMinor: insurance,
		ShippingAddress: &commonv1.Address{RecipientName: "Acme Receiving", Phone: "+1 555 0100", Country: "US",
			Lines: []string{"1 Main St"}, City: "Springfield", PostalCode: "12345"},
		TradeTerm: orderv1.TradeTerm_TRADE_TERM_FCA, ShippingMethod: orderv1.ShippingMethod_SHIPPING_METHOD_AIR,
		PaymentTerms: &orderv1.PaymentTerms{Kind: orderv1.PaymentTerms_KIND_FULL},
		CoverageType: orderv1.CoverageType_COVERAGE_TYPE_POST_DELIVERY,
		ShipByTime:   timestamppb.New(m.e.Clock.Now().Add(14 * day)),
	}
	if change != nil {
		change(t)
	}
	return t
}

// shipAndDeliver ships a paid order and records its delivery.
func (m *market) shipAndDeliver(id string) *orderv1.Order {
	m.t.Helper()
	if _, err := m.supplier.Orders.ShipOrder(m.e.Ctx, connect.NewRequest(&orderv1.ShipOrderRequest{
		OrderId: id, Carrier: "DHL", TrackingNumber: "JD0001"})); err != nil {
		m.t.Fatalf("ship: %v", err)
	}
	r, err := m.operator.Orders.RecordDelivery(m.e.Ctx, connect.NewRequest(&orderv1.RecordDeliveryRequest{OrderId: id}))
	if err != nil {
		m.t.Fatalf("deliver: %v", err)
	}
	return r.Msg.GetOrder()
}

// deposit is a delivered retail order of 155.00 USD with a 50.00 advance under pre-shipment coverage, paid
// in full (advance, then balance): trade assurance covers 50.00 of the 155.00 paid.
func (m *market) deposit() *orderv1.Order {
	m.t.Helper()
	ctx := m.e.Ctx
	c, err := m.supplier.Orders.CreateOrder(ctx, connect.NewRequest(&orderv1.CreateOrderRequest{
		Policy: commonv1.Policy_POLICY_RETAIL, BuyerEmail: m.buyer.Account.Email, Terms: m.termsOf(10, 50_00, 5_00, func(t *orderv1.OrderTerms) {
			t.PaymentTerms = &orderv1.PaymentTerms{Kind: orderv1.PaymentTerms_KIND_ADVANCE_BALANCE, AdvanceMinor: 50_00}
			t.CoverageType = orderv1.CoverageType_COVERAGE_TYPE_PRE_SHIPMENT
		}),
	}))
	if err != nil {
		m.t.Fatalf("create order: %v", err)
	}
	id := c.Msg.GetOrder().GetId()
	if _, err := m.buyer.Orders.AcceptOrder(ctx, connect.NewRequest(&orderv1.AcceptOrderRequest{OrderId: id})); err != nil {
		m.t.Fatalf("accept: %v", err)
	}
	for part := 0; part < 2; part++ {
		if _, err := m.buyer.Orders.PayOrder(ctx, connect.NewRequest(&orderv1.PayOrderRequest{
			OrderId: id, Method: orderv1.PaymentMethod_PAYMENT_METHOD_CARD, CardToken: "tok_4242424242424242"})); err != nil {
			m.t.Fatalf("pay: %v", err)
		}
	}
	o := m.shipAndDeliver(id)
	if o.GetAmounts().GetPaid().GetAmountMinor() != 155_00 || o.GetCoveredAmount().GetAmountMinor() != 50_00 {
		m.t.Fatalf("deposit order paid %v covered %v", o.GetAmounts().GetPaid(), o.GetCoveredAmount())
	}
	return o
}

// TestCoverageCapsWhatThePlatformGrants checks, on a pre-shipment-coverage deposit order paid in full
// (155.00 paid, 50.00 covered), that what the parties agree may go up to what was paid — the buyer's
// request, the supplier's counter-offer and offers, the supplier accepting the request or an offer — while
// what the platform decides by itself stays within the coverage: an automatic grant is capped at 50.00 and
// a ruling may not exceed it. Each bound just inside and just outside.
func TestCoverageCapsWhatThePlatformGrants(t *testing.T) {
	exceeds := commonv1.ErrorReason_ERROR_REASON_AMOUNT_EXCEEDS_PAID
	partial := disputev1.Dispute_RESOLUTION_PARTIAL_REFUND
	damaged := disputev1.Dispute_REASON_DAMAGED
	each(t, func(t *testing.T, e *servertest.Env) {
		m := newMarket(t, e)
		refunded := func(o *orderv1.Order) int64 { return m.order(o.GetId()).GetRefunded().GetAmountMinor() }

		t.Run("buyer's request up to what was paid", func(t *testing.T) {
			o := m.deposit()
			_, err := m.buyer.Disputes.OpenDispute(e.Ctx, connect.NewRequest(openReq(o.GetId(), damaged, partial, 155_01)))
			servertest.WantError(t, err, connect.CodeFailedPrecondition, exceeds)
			d := m.openWith(openReq(o.GetId(), damaged, partial, 155_00))
			if d.GetPaidAmount().GetAmountMinor() != 155_00 || d.GetRefundableAmount().GetAmountMinor() != 50_00 ||
				d.GetRequestedRefundAmount().GetAmountMinor() != 155_00 {
				t.Fatalf("paid %v refundable %v requested %v", d.GetPaidAmount(), d.GetRefundableAmount(), d.GetRequestedRefundAmount())
			}
			// The supplier accepts the request: it agreed, so the whole 155.00 is refunded.
			r, err := m.supplier.Disputes.RespondToDispute(e.Ctx, connect.NewRequest(&disputev1.RespondToDisputeRequest{
				Id: d.GetId(), Decision: disputev1.RespondToDisputeRequest_DECISION_ACCEPT, Note: "sorry"}))
			if err != nil {
				t.Fatal(err)
			}
			wantState(t, r.Msg.GetDispute(), disputev1.Dispute_STATE_SETTLED)
			if got := r.Msg.GetDispute().GetSettlement().GetRefundAmount().GetAmountMinor(); got != 155_00 || refunded(o) != 155_00 {
				t.Fatalf("settled %d, order refunded %d; want 155.00", got, refunded(o))
			}
		})

		t.Run("supplier's counter-offer and offers up to what was paid", func(t *testing.T) {
			d := m.open(m.deposit())
			_, err := m.supplier.Disputes.RespondToDispute(e.Ctx, connect.NewRequest(&disputev1.RespondToDisputeRequest{
				Id: d.GetId(), Decision: disputev1.RespondToDisputeRequest_DECISION_REJECT,
				CounterOffer: &disputev1.OfferTerms{Resolution: partial, RefundAmount: usd(155_01)},
				Evidence:     []*commonv1.Evidence{photo("packed-fine")}}))
			servertest.WantError(t, err, connect.CodeFailedPrecondition, exceeds)
			d = m.reject(d, 120_00) // more than the 50.00 covered
			_, err = m.supplier.Disputes.MakeOffer(e.Ctx, connect.NewRequest(&disputev1.MakeOfferRequest{
				Id: d.GetId(), Terms: &disputev1.OfferTerms{Resolution: partial, RefundAmount: usd(155_01)}}))
			servertest.WantError(t, err, connect.CodeFailedPrecondition, exceeds)
			mo, err := m.supplier.Disputes.MakeOffer(e.Ctx, connect.NewRequest(&disputev1.MakeOfferRequest{
				Id: d.GetId(), Terms: &disputev1.OfferTerms{Resolution: partial, RefundAmount: usd(155_00)}}))
			if err != nil {
				t.Fatalf("supplier's offer of what was paid: %v", err)
			}
			a, err := m.buyer.Disputes.AcceptOffer(e.Ctx, connect.NewRequest(&disputev1.AcceptOfferRequest{Id: d.GetId(), OfferId: mo.Msg.GetOfferId()}))
			if err != nil {
				t.Fatalf("accept: %v", err)
			}
			if got := a.Msg.GetDispute().GetSettlement().GetRefundAmount().GetAmountMinor(); got != 155_00 {
				t.Fatalf("settled %d, want 155.00", got)
			}
		})

		t.Run("supplier accepts the buyer's offer above the coverage", func(t *testing.T) {
			o := m.deposit()
			d := m.reject(m.open(o), 10_00)
			bo, err := m.buyer.Disputes.MakeOffer(e.Ctx, connect.NewRequest(&disputev1.MakeOfferRequest{
				Id: d.GetId(), Terms: &disputev1.OfferTerms{Resolution: partial, RefundAmount: usd(90_00)}}))
			if err != nil {
				t.Fatalf("buyer's offer: %v", err)
			}
			if _, err := m.supplier.Disputes.AcceptOffer(e.Ctx, connect.NewRequest(&disputev1.AcceptOfferRequest{
				Id: d.GetId(), OfferId: bo.Msg.GetOfferId()})); err != nil {
				t.Fatalf("supplier accepts: %v", err)
			}
			if refunded(o) != 90_00 {
				t.Fatalf("refunded %d, want 90.00", refunded(o))
			}
		})

		t.Run("automatic grant capped by the coverage", func(t *testing.T) {
			o := m.deposit()
			d := m.open(o) // a full refund: 155.00 requested
			e.Advance(5*day + time.Second)
			got := m.get(d.GetId())
			if got.GetSettlement().GetMethod() != disputev1.Settlement_METHOD_AUTO_GRANTED ||
				got.GetSettlement().GetRefundAmount().GetAmountMinor() != 50_00 || refunded(o) != 50_00 {
				t.Fatalf("auto grant %v, refunded %d; want 50.00", got.GetSettlement(), refunded(o))
			}
		})

		t.Run("ruling capped by the coverage", func(t *testing.T) {
			o := m.deposit()
			d, err := m.escalate(m.buyer, m.reject(m.open(o), 10_00))
			if err != nil {
				t.Fatal(err)
			}
			rule := func(amount int64) error {
				res := partial
				_, err := m.arbiter.Disputes.RuleDispute(e.Ctx, connect.NewRequest(&disputev1.RuleDisputeRequest{
					Id: d.GetId(), Resolution: res, RefundAmount: usd(amount),
					Responsibility: disputev1.Dispute_RESPONSIBILITY_SUPPLIER, Note: "form review"}))
				return err
			}
			servertest.WantError(t, rule(50_01), connect.CodeFailedPrecondition, exceeds)
			if err := rule(50_00); err != nil {
				t.Fatalf("ruling at the coverage: %v", err)
			}
			if refunded(o) != 50_00 {
				t.Fatalf("refunded %d, want 50.00", refunded(o))
			}
		})
	})
}

// TestInspectionFeeBound checks an inspection fee just inside and just outside money.Max: the supplier may
// have to reimburse it from its balance, so it is bounded like every other amount.
func TestInspectionFeeBound(t *testing.T) {
	each(t, func(t *testing.T, e *servertest.Env) {
		m := newMarket(t, e)
		for _, c := range []struct {
			fee int64
			ok  bool
		}{{money.Max + 1, false}, {money.Max, true}} {
			req := openReq(m.delivered(commonv1.Policy_POLICY_RETAIL).GetId(), disputev1.Dispute_REASON_QUALITY_PROBLEM,
				disputev1.Dispute_RESOLUTION_FULL_REFUND, 0)
			req.Evidence = append(req.Evidence, &commonv1.Evidence{Kind: commonv1.EvidenceKind_EVIDENCE_KIND_INSPECTION_REPORT, Uri: "https://sgs.example/r"})
			req.InspectionFee = usd(c.fee)
			_, err := m.buyer.Disputes.OpenDispute(e.Ctx, connect.NewRequest(req))
			switch {
			case c.ok && err != nil:
				t.Fatalf("fee %d refused: %v", c.fee, err)
			case !c.ok && servertest.Detail(err).GetReason() != commonv1.ErrorReason_ERROR_REASON_INVALID_FIELD:
				// The schema may bound the fee first; otherwise the domain refuses it.
				servertest.WantError(t, err, connect.CodeInvalidArgument, commonv1.ErrorReason_ERROR_REASON_AMOUNT_TOO_LARGE)
			}
		}
	})
}

// TestRefundsAtTheBound runs a dispute's money at the platform's bound: an order of exactly money.Max
// (goods 9,999,990,000,000 + freight and insurance 10,000,000), a return-and-refund request for a third of
// the units whose freight share needs a 128-bit intermediate (10^7 × 3.3 × 10^12 wrapped around int64
// before), and, once the escrow was released, a full refund recovered from the supplier's balance.
func TestRefundsAtTheBound(t *testing.T) {
	each(t, func(t *testing.T, e *servertest.Env) {
		m := &market{t: t, e: e}
		m.buyer = e.Buyer("US")
		m.supplier = e.Supplier(money.Max, true)
		m.operator = e.Staff(commonv1.Role_ROLE_OPERATOR)
		m.arbiter = e.Staff(commonv1.Role_ROLE_ARBITER)
		m.product = e.Product(m.supplier, "Container", 9_999_990, "USD")
		ctx := e.Ctx
		c, err := m.supplier.Orders.CreateOrder(ctx, connect.NewRequest(&orderv1.CreateOrderRequest{
			Policy: commonv1.Policy_POLICY_RETAIL, BuyerEmail: m.buyer.Account.Email, Terms: m.termsOf(1_000_000, 9_000_000, 1_000_000, nil)}))
		if err != nil {
			t.Fatalf("create: %v", err)
		}
		id := c.Msg.GetOrder().GetId()
		if c.Msg.GetOrder().GetAmounts().GetTotal().GetAmountMinor() != money.Max {
			t.Fatalf("total %v", c.Msg.GetOrder().GetAmounts().GetTotal())
		}
		if _, err := m.buyer.Orders.AcceptOrder(ctx, connect.NewRequest(&orderv1.AcceptOrderRequest{OrderId: id})); err != nil {
			t.Fatal(err)
		}
		wire, err := m.buyer.Orders.PayOrder(ctx, connect.NewRequest(&orderv1.PayOrderRequest{OrderId: id, Method: orderv1.PaymentMethod_PAYMENT_METHOD_TT}))
		if err != nil {
			t.Fatalf("pay: %v", err)
		}
		if _, err := m.operator.Orders.ConfirmPayment(ctx, connect.NewRequest(&orderv1.ConfirmPaymentRequest{PaymentId: wire.Msg.GetPayment().GetId()})); err != nil {
			t.Fatalf("confirm payment: %v", err)
		}
		m.shipAndDeliver(id)

		req := openReq(id, disputev1.Dispute_REASON_DAMAGED, disputev1.Dispute_RESOLUTION_RETURN_AND_REFUND, 0)
		req.Lines = []*disputev1.DisputedLine{{Line: &disputev1.DisputedLine_LineIndex{LineIndex: 0}, Quantity: 333_333}}
		d := m.openWith(req)
		// 333,333 × 9,999,990 of goods plus 333,333/1,000,000 of the 10,000,000 freight and insurance.
		if got, want := d.GetRequestedRefundAmount().GetAmountMinor(), int64(333_333*9_999_990+3_333_330); got != want {
			t.Fatalf("requested %d, want %d", got, want)
		}
		if _, err := m.buyer.Disputes.WithdrawDispute(ctx, connect.NewRequest(&disputev1.WithdrawDisputeRequest{Id: d.GetId()})); err != nil {
			t.Fatal(err)
		}
		if _, err := m.buyer.Orders.ConfirmReceipt(ctx, connect.NewRequest(&orderv1.ConfirmReceiptRequest{OrderId: id})); err != nil {
			t.Fatalf("confirm receipt: %v", err)
		}
		fee := money.Max / 50
		if got := balance(t, e, ledger.SupplierAvailable, m.supplier.ID()); got != money.Max-fee {
			t.Fatalf("released %d, want %d", got, money.Max-fee)
		}
		full := m.open(m.order(id))
		r, err := m.supplier.Disputes.RespondToDispute(ctx, connect.NewRequest(&disputev1.RespondToDisputeRequest{
			Id: full.GetId(), Decision: disputev1.RespondToDisputeRequest_DECISION_ACCEPT}))
		if err != nil {
			t.Fatalf("accept the full refund: %v", err)
		}
		if s := r.Msg.GetDispute().GetSettlement(); s.GetRefundAmount().GetAmountMinor() != money.Max ||
			s.GetRefundSource() != disputev1.Settlement_REFUND_SOURCE_SUPPLIER_CLAWBACK {
			t.Fatalf("settlement %v", s)
		}
		if got := balance(t, e, ledger.SupplierAvailable, m.supplier.ID()); got != -fee {
			t.Fatalf("supplier balance %d after the clawback, want %d", got, -fee)
		}
	})
}
