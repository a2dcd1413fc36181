package order_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/proto"

	"github.com/tradeassure/tradeassure/ent/account"
	adminv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/admin/v1"
	commonv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/common/v1"
	eventv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/event/v1"
	orderv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/order/v1"
	"github.com/tradeassure/tradeassure/server/servertest"
)

// TestPartiesSeeOnlyTheirOrders checks another buyer or supplier can neither read nor change an order.
func TestPartiesSeeOnlyTheirOrders(t *testing.T) {
	servertest.Each(t, func(t *testing.T, e *servertest.Env) {
		m := newMarket(t, e)
		o := m.paid(taPolicy, 1)
		otherBuyer := e.Buyer("US")
		otherSupplier := e.Supplier(100_000_00, true)
		notFound := commonv1.ErrorReason_ERROR_REASON_NOT_FOUND
		for _, p := range []*servertest.Party{otherBuyer, otherSupplier} {
			_, err := p.Orders.GetOrder(e.Ctx, connect.NewRequest(&orderv1.GetOrderRequest{OrderId: o.GetId()}))
			servertest.WantError(t, err, connect.CodeNotFound, notFound)
			_, err = p.Orders.ListPayments(e.Ctx, connect.NewRequest(&orderv1.ListPaymentsRequest{OrderId: o.GetId()}))
			servertest.WantError(t, err, connect.CodeNotFound, notFound)
			_, err = p.Orders.ListOrderRevisions(e.Ctx, connect.NewRequest(&orderv1.ListOrderRevisionsRequest{OrderId: o.GetId()}))
			servertest.WantError(t, err, connect.CodeNotFound, notFound)
			_, err = p.Orders.CancelOrder(e.Ctx, connect.NewRequest(&orderv1.CancelOrderRequest{OrderId: o.GetId(), Reason: orderv1.CancellationReason_CANCELLATION_REASON_SUPPLIER}))
			servertest.WantError(t, err, connect.CodeNotFound, notFound)
			list, err := p.Orders.ListOrders(e.Ctx, connect.NewRequest(&orderv1.ListOrdersRequest{}))
			if err != nil || len(list.Msg.GetOrders()) != 0 {
				t.Fatalf("a stranger lists %v %v", list.Msg.GetOrders(), err)
			}
			evs, err := p.Events.ListEvents(e.Ctx, connect.NewRequest(&eventv1.ListEventsRequest{}))
			if err != nil || len(evs.Msg.GetEvents()) != 0 {
				t.Fatalf("a stranger sees events %v %v", evs.Msg.GetEvents(), err)
			}
		}
		_, err := otherSupplier.Orders.ShipOrder(e.Ctx, connect.NewRequest(&orderv1.ShipOrderRequest{OrderId: o.GetId(), Carrier: "X", TrackingNumber: "1"}))
		servertest.WantError(t, err, connect.CodeNotFound, notFound)
		_, err = otherBuyer.Orders.ChangeLogisticsProvider(e.Ctx, connect.NewRequest(&orderv1.ChangeLogisticsProviderRequest{OrderId: o.GetId(), LogisticsProvider: "X"}))
		servertest.WantError(t, err, connect.CodeNotFound, notFound)
		// The parties themselves, and operators, do see it.
		for _, p := range []*servertest.Party{m.buyer, m.supplier, m.operator} {
			if _, err := p.Orders.GetOrder(e.Ctx, connect.NewRequest(&orderv1.GetOrderRequest{OrderId: o.GetId()})); err != nil {
				t.Fatalf("party cannot read its order: %v", err)
			}
		}
		// The buyer of the order cannot act as the supplier.
		_, err = m.buyer.Orders.ShipOrder(e.Ctx, connect.NewRequest(&orderv1.ShipOrderRequest{OrderId: o.GetId(), Carrier: "X", TrackingNumber: "1"}))
		servertest.WantError(t, err, connect.CodePermissionDenied, commonv1.ErrorReason_ERROR_REASON_ROLE_NOT_ALLOWED)
	})
}

func TestUnauthenticated(t *testing.T) {
	servertest.Each(t, func(t *testing.T, e *servertest.Env) {
		for _, key := range []string{"", "ta_not_a_real_key"} {
			_, err := e.Clients(key).Orders.ListOrders(e.Ctx, connect.NewRequest(&orderv1.ListOrdersRequest{}))
			servertest.WantError(t, err, connect.CodeUnauthenticated, commonv1.ErrorReason_ERROR_REASON_UNAUTHENTICATED)
		}
		// A revoked key stops working at once.
		m := newMarket(t, e)
		keys, err := m.operator.Admin.CreateApiKey(e.Ctx, connect.NewRequest(&adminv1.CreateApiKeyRequest{AccountId: m.buyer.ID(), Name: "erp"}))
		if err != nil {
			t.Fatalf("create key: %v", err)
		}
		c := e.Clients(keys.Msg.GetSecret())
		if _, err := c.Orders.ListOrders(e.Ctx, connect.NewRequest(&orderv1.ListOrdersRequest{})); err != nil {
			t.Fatalf("new key: %v", err)
		}
		if _, err := m.operator.Admin.RevokeApiKey(e.Ctx, connect.NewRequest(&adminv1.RevokeApiKeyRequest{ApiKeyId: keys.Msg.GetApiKey().GetId()})); err != nil {
			t.Fatalf("revoke: %v", err)
		}
		_, err = c.Orders.ListOrders(e.Ctx, connect.NewRequest(&orderv1.ListOrdersRequest{}))
		servertest.WantError(t, err, connect.CodeUnauthenticated, commonv1.ErrorReason_ERROR_REASON_UNAUTHENTICATED)
	})
}

// TestRequestIDMakesCreateIdempotent checks a retried create with the same request id creates one order
// and returns the first response, also when the retries race, and that reusing the id for another
// request is refused.
func TestRequestIDMakesCreateIdempotent(t *testing.T) {
	servertest.Each(t, func(t *testing.T, e *servertest.Env) {
		m := newMarket(t, e)
		req := m.createReq(taPolicy, m.terms(4))
		req.RequestId = "erp-7781"
		var wg sync.WaitGroup
		ids := make([]string, 6)
		errs := make([]error, 6)
		for i := range ids {
			wg.Add(1)
			go func() {
				defer wg.Done()
				resp, err := m.supplier.Orders.CreateOrder(e.Ctx, connect.NewRequest(clone(req)))
				if err == nil {
					ids[i] = resp.Msg.GetOrder().GetId()
				}
				errs[i] = err
			}()
		}
		wg.Wait()
		for i := range ids {
			if errs[i] != nil || ids[i] != ids[0] {
				t.Fatalf("retry %d: id %q (first %q), err %v", i, ids[i], ids[0], errs[i])
			}
		}
		list, err := m.supplier.Orders.ListOrders(e.Ctx, connect.NewRequest(&orderv1.ListOrdersRequest{}))
		if err != nil || len(list.Msg.GetOrders()) != 1 {
			t.Fatalf("orders after retries: %d %v", len(list.Msg.GetOrders()), err)
		}
		other := clone(req)
		other.Terms.Lines[0].Quantity = 5
		_, err = m.supplier.Orders.CreateOrder(e.Ctx, connect.NewRequest(other))
		servertest.WantError(t, err, connect.CodeInvalidArgument, commonv1.ErrorReason_ERROR_REASON_REQUEST_ID_REUSED)
		// The same request id from another caller is that caller's own.
		other2 := m.e.Supplier(100_000_00, true)
		req2 := clone(req)
		req2.Terms.Lines[0].ProductId = e.Product(other2, "P", 1_00, "USD")
		if _, err := other2.Orders.CreateOrder(e.Ctx, connect.NewRequest(req2)); err != nil {
			t.Fatalf("same request id, other caller: %v", err)
		}
		// A retried payment is charged once.
		o := m.accept(m.get(ids[0]))
		payReq := &orderv1.PayOrderRequest{RequestId: "pay-1", OrderId: o.GetId(), Method: orderv1.PaymentMethod_PAYMENT_METHOD_CARD, CardToken: "tok_1"}
		first, err := m.buyer.Orders.PayOrder(e.Ctx, connect.NewRequest(payReq))
		if err != nil {
			t.Fatalf("pay: %v", err)
		}
		second, err := m.buyer.Orders.PayOrder(e.Ctx, connect.NewRequest(clone(payReq)))
		if err != nil || second.Msg.GetPayment().GetId() != first.Msg.GetPayment().GetId() {
			t.Fatalf("retried payment: %v %v", second, err)
		}
		pays, _ := m.buyer.Orders.ListPayments(e.Ctx, connect.NewRequest(&orderv1.ListPaymentsRequest{OrderId: o.GetId()}))
		if len(pays.Msg.GetPayments()) != 1 {
			t.Fatalf("payments = %d", len(pays.Msg.GetPayments()))
		}
	})
}

func TestStaleEtagIsAborted(t *testing.T) {
	servertest.Each(t, func(t *testing.T, e *servertest.Env) {
		m := newMarket(t, e)
		o := m.draft(taPolicy, m.terms(1))
		if _, err := m.supplier.Orders.UpdateOrder(e.Ctx, connect.NewRequest(&orderv1.UpdateOrderRequest{OrderId: o.GetId(), Etag: o.GetEtag(), Terms: m.terms(2)})); err != nil {
			t.Fatalf("update: %v", err)
		}
		// The buyer accepts what it read: the old draft. Refused, so it cannot accept terms it never saw.
		_, err := m.buyer.Orders.AcceptOrder(e.Ctx, connect.NewRequest(&orderv1.AcceptOrderRequest{OrderId: o.GetId(), Etag: o.GetEtag()}))
		servertest.WantError(t, err, connect.CodeAborted, commonv1.ErrorReason_ERROR_REASON_ETAG_MISMATCH)
		wantState(t, m.get(o.GetId()), orderv1.Order_STATE_DRAFT)
		wantState(t, m.accept(m.get(o.GetId())), orderv1.Order_STATE_AWAITING_PAYMENT)
	})
}

func TestListOrdersPages(t *testing.T) {
	servertest.Each(t, func(t *testing.T, e *servertest.Env) {
		m := newMarket(t, e)
		want := map[string]bool{}
		for i := 0; i < 7; i++ {
			want[m.draft(retailPolicy, m.terms(int64(i+1))).GetId()] = true
		}
		m.accept(m.draft(retailPolicy, m.terms(1)))
		seen := map[string]bool{}
		token := ""
		var last string
		for pages := 0; ; pages++ {
			resp, err := m.buyer.Orders.ListOrders(e.Ctx, connect.NewRequest(&orderv1.ListOrdersRequest{
				PageSize: 3, PageToken: token, State: orderv1.Order_STATE_DRAFT,
			}))
			if err != nil {
				t.Fatalf("page %d: %v", pages, err)
			}
			for _, o := range resp.Msg.GetOrders() {
				if last != "" && o.GetId() >= last {
					t.Fatalf("not newest first: %s after %s", o.GetId(), last)
				}
				last = o.GetId()
				seen[o.GetId()] = true
			}
			token = resp.Msg.GetNextPageToken()
			if token == "" {
				if pages != 2 {
					t.Fatalf("7 drafts in pages of 3 took %d pages", pages+1)
				}
				break
			}
			// A token is bound to its filter, and tampering is detected.
			_, err = m.buyer.Orders.ListOrders(e.Ctx, connect.NewRequest(&orderv1.ListOrdersRequest{PageSize: 3, PageToken: token}))
			servertest.WantError(t, err, connect.CodeInvalidArgument, commonv1.ErrorReason_ERROR_REASON_INVALID_PAGE_TOKEN)
			_, err = m.buyer.Orders.ListOrders(e.Ctx, connect.NewRequest(&orderv1.ListOrdersRequest{PageSize: 3, PageToken: token[:len(token)-2] + "xx", State: orderv1.Order_STATE_DRAFT}))
			servertest.WantError(t, err, connect.CodeInvalidArgument, commonv1.ErrorReason_ERROR_REASON_INVALID_PAGE_TOKEN)
			_, err = m.supplier.Orders.ListOrders(e.Ctx, connect.NewRequest(&orderv1.ListOrdersRequest{PageSize: 3, PageToken: token, State: orderv1.Order_STATE_DRAFT}))
			servertest.WantError(t, err, connect.CodeInvalidArgument, commonv1.ErrorReason_ERROR_REASON_INVALID_PAGE_TOKEN)
		}
		if len(seen) != len(want) {
			t.Fatalf("saw %d drafts, want %d", len(seen), len(want))
		}
		_, err := m.buyer.Orders.ListOrders(e.Ctx, connect.NewRequest(&orderv1.ListOrdersRequest{PageSize: -1}))
		servertest.WantError(t, err, connect.CodeInvalidArgument, commonv1.ErrorReason_ERROR_REASON_INVALID_FIELD)
		big, err := m.buyer.Orders.ListOrders(e.Ctx, connect.NewRequest(&orderv1.ListOrdersRequest{PageSize: 100_000}))
		if err != nil || len(big.Msg.GetOrders()) != 8 || big.Msg.GetNextPageToken() != "" {
			t.Fatalf("capped page: %d %v", len(big.Msg.GetOrders()), err)
		}
	})
}

// TestListOrdersViews checks ListOrders' views: the basic one, the default, is each order exactly as
// GetOrder returns it but for its policy parameters; the full one is each order exactly as GetOrder returns
// it, for orders of two policy sets; an unknown view is refused and names the field.
func TestListOrdersViews(t *testing.T) {
	servertest.Each(t, func(t *testing.T, e *servertest.Env) {
		m := newMarket(t, e)
		ids := []string{m.paid(retailPolicy, 2).GetId(), m.draft(taPolicy, m.terms(1)).GetId()}
		byID := func(view orderv1.OrderView) map[string]*orderv1.Order {
			t.Helper()
			resp, err := m.buyer.Orders.ListOrders(e.Ctx, connect.NewRequest(&orderv1.ListOrdersRequest{View: view}))
			if err != nil {
				t.Fatalf("list, view %v: %v", view, err)
			}
			out := map[string]*orderv1.Order{}
			for _, o := range resp.Msg.GetOrders() {
				out[o.GetId()] = o
			}
			return out
		}
		unset, basic, full := byID(orderv1.OrderView_ORDER_VIEW_UNSPECIFIED), byID(orderv1.OrderView_ORDER_VIEW_BASIC), byID(orderv1.OrderView_ORDER_VIEW_FULL)
		for _, id := range ids {
			got := m.get(id)
			if got.GetPolicyParameters().GetReturnWindow() == nil {
				t.Fatalf("GetOrder %s carries no policy parameters", id)
			}
			if !proto.Equal(full[id], got) {
				t.Fatalf("full view of %s differs from GetOrder:\n%v\n%v", id, full[id], got)
			}
			lean := clone(got)
			lean.PolicyParameters = nil
			for name, view := range map[string]map[string]*orderv1.Order{"unset": unset, "basic": basic} {
				if !proto.Equal(view[id], lean) {
					t.Fatalf("%s view of %s is not GetOrder's order without its parameters:\n%v", name, id, view[id])
				}
			}
		}
		_, err := m.buyer.Orders.ListOrders(e.Ctx, connect.NewRequest(&orderv1.ListOrdersRequest{View: 3}))
		servertest.WantError(t, err, connect.CodeInvalidArgument, commonv1.ErrorReason_ERROR_REASON_INVALID_FIELD)
		wantField(t, err, "view")
	})
}

// TestEventFeed checks every change appends an event the parties can page through and follow live.
func TestEventFeed(t *testing.T) {
	servertest.Each(t, func(t *testing.T, e *servertest.Env) {
		m := newMarket(t, e)
		o := m.paid(taPolicy, 1)
		resp, err := m.supplier.Events.ListEvents(e.Ctx, connect.NewRequest(&eventv1.ListEventsRequest{SubjectId: o.GetId()}))
		if err != nil {
			t.Fatalf("list: %v", err)
		}
		var types []string
		for _, ev := range resp.Msg.GetEvents() {
			types = append(types, ev.GetType())
		}
		if len(types) != 3 || types[0] != "order.drafted" || types[1] != "order.accepted" || types[2] != "order.paid" {
			t.Fatalf("events = %v", types)
		}
		last := resp.Msg.GetEvents()[2]
		snap := &orderv1.Order{}
		if err := last.GetPayload().UnmarshalTo(snap); err != nil || snap.GetState() != orderv1.Order_STATE_PAID || last.GetRevision() != snap.GetRevision() {
			t.Fatalf("payload = %v %v", snap, err)
		}
		// Follow the feed from the last event and see the shipment arrive.
		ctx, cancel := context.WithTimeout(e.Ctx, servertest.StallLimit)
		defer cancel()
		stream, err := m.buyer.Events.WatchEvents(ctx, connect.NewRequest(&eventv1.WatchEventsRequest{AfterId: resp.Msg.GetNextAfterId()}))
		if err != nil {
			t.Fatalf("watch: %v", err)
		}
		defer stream.Close()
		if !stream.Receive() || stream.Msg().GetEvent() != nil {
			t.Fatalf("want a heartbeat first: %v %v", stream.Msg(), stream.Err())
		}
		m.ship(m.get(o.GetId()))
		if !stream.Receive() {
			t.Fatalf("watch ended: %v", stream.Err())
		}
		if got := stream.Msg().GetEvent(); got.GetType() != "order.shipped" || got.GetSubjectId() != o.GetId() {
			t.Fatalf("watched %v", got)
		}
		// Paging with the cursor returns nothing twice.
		next, err := m.buyer.Events.ListEvents(e.Ctx, connect.NewRequest(&eventv1.ListEventsRequest{AfterId: resp.Msg.GetNextAfterId()}))
		if err != nil || len(next.Msg.GetEvents()) != 1 {
			t.Fatalf("after cursor: %v %v", next.Msg.GetEvents(), err)
		}
	})
}

// TestRetryAfterTheCallerChangedGetsTheFirstResponse checks a retried create gets its stored response even
// when the same request, new, would now be refused before reading anything (the supplier was restricted
// since) or after (the buyer's account is gone), and that a new request id is refused.
func TestRetryAfterTheCallerChangedGetsTheFirstResponse(t *testing.T) {
	servertest.Each(t, func(t *testing.T, e *servertest.Env) {
		m := newMarket(t, e)
		req := m.createReq(taPolicy, m.terms(2))
		req.RequestId = "erp-restricted-1"
		first, err := m.supplier.Orders.CreateOrder(e.Ctx, connect.NewRequest(req))
		if err != nil {
			t.Fatal(err)
		}
		until := e.Clock.Now().Add(2 * day)
		if err := e.Store.Client.Account.UpdateOneID(m.supplier.ID()).SetStanding(account.StandingRestricted).SetRestrictedUntil(until).Exec(e.Ctx); err != nil {
			t.Fatal(err)
		}
		again, err := m.supplier.Orders.CreateOrder(e.Ctx, connect.NewRequest(clone(req)))
		if err != nil || again.Msg.GetOrder().GetId() != first.Msg.GetOrder().GetId() {
			t.Fatalf("retry after the restriction: %v %v, want order %s", again, err, first.Msg.GetOrder().GetId())
		}
		fresh := clone(req)
		fresh.RequestId = "erp-restricted-2"
		_, err = m.supplier.Orders.CreateOrder(e.Ctx, connect.NewRequest(fresh))
		servertest.WantError(t, err, connect.CodePermissionDenied, commonv1.ErrorReason_ERROR_REASON_ACCOUNT_RESTRICTED)
		if err := e.Store.Client.Account.UpdateOneID(m.supplier.ID()).SetStanding(account.StandingActive).ClearRestrictedUntil().Exec(e.Ctx); err != nil {
			t.Fatal(err)
		}
		// The buyer's email no longer names a buyer: a new request is refused after reading the parties.
		if err := e.Store.Client.Account.UpdateOneID(m.buyer.ID()).SetEmail("moved-away@example.com").Exec(e.Ctx); err != nil {
			t.Fatal(err)
		}
		again, err = m.supplier.Orders.CreateOrder(e.Ctx, connect.NewRequest(clone(req)))
		if err != nil || again.Msg.GetOrder().GetId() != first.Msg.GetOrder().GetId() {
			t.Fatalf("retry after the buyer moved: %v %v, want order %s", again, err, first.Msg.GetOrder().GetId())
		}
		fresh.RequestId = "erp-restricted-3"
		_, err = m.supplier.Orders.CreateOrder(e.Ctx, connect.NewRequest(fresh))
		servertest.WantError(t, err, connect.CodeInvalidArgument, commonv1.ErrorReason_ERROR_REASON_UNKNOWN_BUYER)
	})
}

// TestRestrictedAndBannedAccounts checks a restricted buyer cannot create, accept or pay orders until the
// restriction ends, and a banned account can only read.
func TestRestrictedAndBannedAccounts(t *testing.T) {
	servertest.Each(t, func(t *testing.T, e *servertest.Env) {
		m := newMarket(t, e)
		o := m.draft(retailPolicy, m.terms(1))
		until := e.Clock.Now().Add(2 * day)
		if err := e.Store.Client.Account.UpdateOneID(m.buyer.ID()).SetStanding(account.StandingRestricted).SetRestrictedUntil(until).Exec(e.Ctx); err != nil {
			t.Fatal(err)
		}
		restricted := commonv1.ErrorReason_ERROR_REASON_ACCOUNT_RESTRICTED
		_, err := m.buyer.Orders.AcceptOrder(e.Ctx, connect.NewRequest(&orderv1.AcceptOrderRequest{OrderId: o.GetId()}))
		servertest.WantError(t, err, connect.CodePermissionDenied, restricted)
		_, err = m.buyer.Orders.CreateOrder(e.Ctx, connect.NewRequest(&orderv1.CreateOrderRequest{Policy: retailPolicy, SupplierId: m.supplier.ID(), Terms: m.terms(1)}))
		servertest.WantError(t, err, connect.CodePermissionDenied, restricted)
		e.SetTime(until.Add(-time.Second))
		_, err = m.buyer.Orders.AcceptOrder(e.Ctx, connect.NewRequest(&orderv1.AcceptOrderRequest{OrderId: o.GetId()}))
		servertest.WantError(t, err, connect.CodePermissionDenied, restricted)
		e.Advance(time.Second)
		o = m.accept(o)
		// Banned: reads work, writes do not.
		if err := e.Store.Client.Account.UpdateOneID(m.buyer.ID()).SetStanding(account.StandingBanned).Exec(e.Ctx); err != nil {
			t.Fatal(err)
		}
		m.get(o.GetId())
		_, err = m.buyer.Orders.PayOrder(e.Ctx, connect.NewRequest(&orderv1.PayOrderRequest{OrderId: o.GetId(), Method: orderv1.PaymentMethod_PAYMENT_METHOD_TT}))
		servertest.WantError(t, err, connect.CodePermissionDenied, commonv1.ErrorReason_ERROR_REASON_ACCOUNT_BANNED)
		_, err = m.buyer.Orders.CancelOrder(e.Ctx, connect.NewRequest(&orderv1.CancelOrderRequest{OrderId: o.GetId(), Reason: orderv1.CancellationReason_CANCELLATION_REASON_BUYER}))
		servertest.WantError(t, err, connect.CodePermissionDenied, commonv1.ErrorReason_ERROR_REASON_ACCOUNT_BANNED)
	})
}

// TestDevClock checks the clock RPC: only in development mode, only for operators, and deadlines fire
// from it.
func TestDevClock(t *testing.T) {
	for _, proto := range servertest.Protocols {
		t.Run(proto, func(t *testing.T) {
			e := servertest.New(t, servertest.Options{Protocol: proto, Dev: true})
			m := newMarket(t, e)
			o := m.delivered(retailPolicy)
			_, err := m.buyer.Admin.AdvanceClock(e.Ctx, connect.NewRequest(&adminv1.AdvanceClockRequest{Seconds: 1}))
			servertest.WantError(t, err, connect.CodePermissionDenied, commonv1.ErrorReason_ERROR_REASON_ROLE_NOT_ALLOWED)
			resp, err := m.operator.Admin.AdvanceClock(e.Ctx, connect.NewRequest(&adminv1.AdvanceClockRequest{Seconds: int64(15 * day / time.Second)}))
			if err != nil || resp.Msg.GetFiredDeadlines() != 1 {
				t.Fatalf("advance: %v %v", resp, err)
			}
			wantState(t, m.get(o.GetId()), orderv1.Order_STATE_COMPLETED)

			prod := servertest.New(t, servertest.Options{Protocol: proto})
			op := prod.Staff(commonv1.Role_ROLE_OPERATOR)
			_, err = op.Admin.AdvanceClock(prod.Ctx, connect.NewRequest(&adminv1.AdvanceClockRequest{Seconds: 1}))
			servertest.WantError(t, err, connect.CodeFailedPrecondition, commonv1.ErrorReason_ERROR_REASON_DEV_MODE_REQUIRED)
		})
	}
}
