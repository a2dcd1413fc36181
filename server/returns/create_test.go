package returns_test

import (
	"testing"
	"time"

	"connectrpc.com/connect"

	commonv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/common/v1"
	orderv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/order/v1"
	returnsv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/returns/v1"
	"github.com/tradeassure/tradeassure/server/servertest"
)

// TestCreateRules checks every rule of a return request, under both policies: who may ask, on which
// orders, with which reasons, evidence, lines and quantities. A refused request writes nothing.
func TestCreateRules(t *testing.T) {
	servertest.Each(t, func(t *testing.T, e *servertest.Env) {
		m := newMarket(t, e)
		for _, pol := range policies {
			o := m.delivered(pol)
			id := o.GetId()
			noReason := request(id)
			noReason.Reason, noReason.Evidence = returnsv1.Return_REASON_NO_REASON, nil
			cases := []struct {
				name   string
				who    *servertest.Party
				req    *returnsv1.CreateReturnRequest
				code   connect.Code
				reason commonv1.ErrorReason
			}{
				{"supplier cannot request", m.supplier, request(id), connect.CodePermissionDenied, commonv1.ErrorReason_ERROR_REASON_ROLE_NOT_ALLOWED},
				{"arbiter cannot request", m.arbiter, request(id), connect.CodePermissionDenied, commonv1.ErrorReason_ERROR_REASON_ROLE_NOT_ALLOWED},
				{"another buyer's order is not found", m.other, request(id), connect.CodeNotFound, commonv1.ErrorReason_ERROR_REASON_NOT_FOUND},
				{"quality problem needs evidence", m.buyer, &returnsv1.CreateReturnRequest{OrderId: id, Reason: returnsv1.Return_REASON_QUALITY_PROBLEM},
					connect.CodeInvalidArgument, commonv1.ErrorReason_ERROR_REASON_EVIDENCE_REQUIRED},
				{"not as described needs evidence", m.buyer, &returnsv1.CreateReturnRequest{OrderId: id, Reason: returnsv1.Return_REASON_NOT_AS_DESCRIBED},
					connect.CodeInvalidArgument, commonv1.ErrorReason_ERROR_REASON_EVIDENCE_REQUIRED},
				{"no reason only for free returns", m.buyer, noReason, connect.CodeInvalidArgument, commonv1.ErrorReason_ERROR_REASON_INVALID_FIELD},
				{"unspecified reason", m.buyer, &returnsv1.CreateReturnRequest{OrderId: id}, connect.CodeInvalidArgument, commonv1.ErrorReason_ERROR_REASON_INVALID_FIELD},
				{"quantity beyond ordered", m.buyer, withLines(request(id), sel(0, 11)), connect.CodeFailedPrecondition, commonv1.ErrorReason_ERROR_REASON_QUANTITY_EXCEEDS_ORDERED},
				{"line out of range", m.buyer, withLines(request(id), sel(3, 1)), connect.CodeInvalidArgument, commonv1.ErrorReason_ERROR_REASON_INVALID_FIELD},
				{"product not on the order", m.buyer, withLines(request(id), &returnsv1.LineSelector{Line: &returnsv1.LineSelector_ProductId{ProductId: m.gadget}, Quantity: 1}),
					connect.CodeInvalidArgument, commonv1.ErrorReason_ERROR_REASON_UNKNOWN_PRODUCT},
				{"line named twice", m.buyer, withLines(request(id), sel(0, 1), sel(0, 2)), connect.CodeInvalidArgument, commonv1.ErrorReason_ERROR_REASON_INVALID_FIELD},
				{"zero quantity", m.buyer, withLines(request(id), sel(0, 0)), connect.CodeInvalidArgument, commonv1.ErrorReason_ERROR_REASON_INVALID_FIELD},
			}
			for _, c := range cases {
				_, err := c.who.Returns.CreateReturn(e.Ctx, connect.NewRequest(c.req))
				if err == nil {
					t.Fatalf("%v %s: succeeded", pol, c.name)
				}
				servertest.WantError(t, err, c.code, c.reason)
			}
			if got := m.order(id); got.GetEscrowHeld() {
				t.Fatalf("%v: a refused request left a hold on the order", pol)
			}
			list, err := m.buyer.Returns.ListReturns(e.Ctx, connect.NewRequest(&returnsv1.ListReturnsRequest{OrderId: id}))
			if err != nil || len(list.Msg.GetReturns()) != 0 {
				t.Fatalf("%v: refused requests wrote returns: %v %v", pol, list.Msg.GetReturns(), err)
			}

			// A chosen line by product id, then the rest: the second may not take more than is left.
			r := m.create(withLines(request(id), &returnsv1.LineSelector{Line: &returnsv1.LineSelector_ProductId{ProductId: m.widget}, Quantity: 4}))
			wantState(t, r, returnsv1.Return_STATE_REQUESTED)
			if r.GetWholeOrder() || len(r.GetLines()) != 1 || r.GetLines()[0].GetQuantity() != 4 || r.GetKind() != returnsv1.Return_KIND_STANDARD {
				t.Fatalf("%v: return = %v", pol, r)
			}
			if got, want := r.GetSupplierAnswerDeadline().AsTime(), e.Clock.Now().Add(day); !got.Equal(want) {
				t.Fatalf("%v: answer deadline %v, want %v", pol, got, want)
			}
			if !m.order(id).GetEscrowHeld() {
				t.Fatalf("%v: an open return does not hold the escrow", pol)
			}
			_, err = m.buyer.Returns.CreateReturn(e.Ctx, connect.NewRequest(withLines(request(id), sel(0, 7))))
			servertest.WantError(t, err, connect.CodeFailedPrecondition, commonv1.ErrorReason_ERROR_REASON_QUANTITY_EXCEEDS_ORDERED)
			_, err = m.buyer.Returns.CreateReturn(e.Ctx, connect.NewRequest(request(id)))
			servertest.WantError(t, err, connect.CodeFailedPrecondition, commonv1.ErrorReason_ERROR_REASON_ALREADY_OPEN)
			if _, err := m.buyer.Returns.CreateReturn(e.Ctx, connect.NewRequest(withLines(request(id), sel(0, 6)))); err != nil {
				t.Fatalf("%v: return the other 6: %v", pol, err)
			}
		}

		// An order that has not been delivered cannot be returned.
		c, err := m.supplier.Orders.CreateOrder(e.Ctx, connect.NewRequest(&orderv1.CreateOrderRequest{Policy: ta, BuyerEmail: m.buyer.Account.Email, Terms: m.terms(line(m.widget, 1))}))
		if err != nil {
			t.Fatal(err)
		}
		_, err = m.buyer.Returns.CreateReturn(e.Ctx, connect.NewRequest(request(c.Msg.GetOrder().GetId())))
		servertest.WantError(t, err, connect.CodeFailedPrecondition, commonv1.ErrorReason_ERROR_REASON_ILLEGAL_STATE)

		// A restricted buyer keeps its after-sales rights and may request a return on an order it has; a
		// banned one cannot write at all.
		o, kept := m.delivered(ta), m.delivered(ta)
		until := e.Clock.Now().Add(30 * day)
		if err := e.Store.Client.Account.UpdateOneID(m.buyer.ID()).SetStanding("restricted").SetRestrictedUntil(until).Exec(e.Ctx); err != nil {
			t.Fatal(err)
		}
		if _, err := m.buyer.Returns.CreateReturn(e.Ctx, connect.NewRequest(request(kept.GetId()))); err != nil {
			t.Fatalf("restricted: %v", err)
		}
		if err := e.Store.Client.Account.UpdateOneID(m.buyer.ID()).SetStanding("banned").Exec(e.Ctx); err != nil {
			t.Fatal(err)
		}
		_, err = m.buyer.Returns.CreateReturn(e.Ctx, connect.NewRequest(request(o.GetId())))
		servertest.WantError(t, err, connect.CodePermissionDenied, commonv1.ErrorReason_ERROR_REASON_ACCOUNT_BANNED)
		if err := e.Store.Client.Account.UpdateOneID(m.buyer.ID()).SetStanding("active").ClearRestrictedUntil().Exec(e.Ctx); err != nil {
			t.Fatal(err)
		}
		if _, err := m.buyer.Returns.CreateReturn(e.Ctx, connect.NewRequest(request(o.GetId()))); err != nil {
			t.Fatalf("active again: %v", err)
		}
	})
}

func sel(index int32, quantity int64) *returnsv1.LineSelector {
	return &returnsv1.LineSelector{Line: &returnsv1.LineSelector_LineIndex{LineIndex: index}, Quantity: quantity}
}

func withLines(r *returnsv1.CreateReturnRequest, lines ...*returnsv1.LineSelector) *returnsv1.CreateReturnRequest {
	r.Lines = lines
	return r
}

// TestRequestWindow checks the request window after receipt one second before and after it closes: 7 days
// under trade assurance, 15 days under retail, and the free-return programme's 15 days (retail, opted-in
// suppliers only). A closed order cannot be returned.
func TestRequestWindow(t *testing.T) {
	servertest.Each(t, func(t *testing.T, e *servertest.Env) {
		m := newMarket(t, e)
		for _, c := range []struct {
			pol    commonv1.Policy
			free   bool
			window time.Duration
			reason commonv1.ErrorReason
		}{
			{ta, false, 7 * day, commonv1.ErrorReason_ERROR_REASON_WINDOW_CLOSED},
			{retail, false, 15 * day, commonv1.ErrorReason_ERROR_REASON_WINDOW_CLOSED},
			{retail, true, 15 * day, commonv1.ErrorReason_ERROR_REASON_FREE_RETURN_NOT_AVAILABLE},
		} {
			start := e.Clock.Now()
			early, late := m.delivered(c.pol), m.delivered(c.pol)
			req := func(id string) *returnsv1.CreateReturnRequest {
				r := request(id)
				if c.free {
					r.FreeReturn, r.Reason, r.Evidence = true, returnsv1.Return_REASON_NO_REASON, nil
				}
				return r
			}
			e.SetTime(start.Add(c.window - time.Second))
			if _, err := m.buyer.Returns.CreateReturn(e.Ctx, connect.NewRequest(req(early.GetId()))); err != nil {
				t.Fatalf("%v free=%v one second before the window closes: %v", c.pol, c.free, err)
			}
			e.Advance(2 * time.Second)
			_, err := m.buyer.Returns.CreateReturn(e.Ctx, connect.NewRequest(req(late.GetId())))
			servertest.WantError(t, err, connect.CodeFailedPrecondition, c.reason)
			if d := servertest.Detail(err); d.GetMetadata()["window_end"] == "" {
				t.Fatalf("the error does not say when the window closed: %v", d)
			}
		}

		// Free returns: not under trade assurance, not for suppliers outside the programme.
		o := m.delivered(ta)
		free := &returnsv1.CreateReturnRequest{OrderId: o.GetId(), Reason: returnsv1.Return_REASON_NO_REASON, FreeReturn: true}
		_, err := m.buyer.Returns.CreateReturn(e.Ctx, connect.NewRequest(free))
		servertest.WantError(t, err, connect.CodeFailedPrecondition, commonv1.ErrorReason_ERROR_REASON_FREE_RETURN_NOT_AVAILABLE)
		p := m.deliveredWith(m.plain, retail, m.terms(line(m.plainProd, 2)))
		free.OrderId = p.GetId()
		_, err = m.buyer.Returns.CreateReturn(e.Ctx, connect.NewRequest(free))
		servertest.WantError(t, err, connect.CodeFailedPrecondition, commonv1.ErrorReason_ERROR_REASON_FREE_RETURN_NOT_AVAILABLE)

		// A closed order's after-sales window is over.
		done := m.completed(retail)
		e.Advance(16 * day)
		if st := m.order(done.GetId()).GetState(); st != orderv1.Order_STATE_CLOSED {
			t.Fatalf("order is %v", st)
		}
		_, err = m.buyer.Returns.CreateReturn(e.Ctx, connect.NewRequest(request(done.GetId())))
		servertest.WantError(t, err, connect.CodeFailedPrecondition, commonv1.ErrorReason_ERROR_REASON_WINDOW_CLOSED)
	})
}
