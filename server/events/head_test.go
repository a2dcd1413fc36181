package events_test

import (
	"context"
	"testing"

	"connectrpc.com/connect"

	commonv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/common/v1"
	eventv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/event/v1"
	orderv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/order/v1"
	"github.com/tradeassure/tradeassure/server/servertest"
)

// TestFeedHead checks GetFeedHead: the head is the newest event the caller may see (empty before any), so
// reading on from it returns only what is committed after the call, and a party's head ignores events it
// is not party to.
func TestFeedHead(t *testing.T) {
	servertest.Each(t, func(t *testing.T, e *servertest.Env) {
		ctx := context.Background()
		supplier := e.Supplier(1_000_000_00, true)
		product := e.Product(supplier, "Widget", 10_00, "USD")
		buyer := e.Buyer("US")
		other := e.Buyer("US")
		operator := e.Staff(commonv1.Role_ROLE_OPERATOR)
		head := func(p *servertest.Party) string {
			t.Helper()
			r, err := p.Events.GetFeedHead(ctx, connect.NewRequest(&eventv1.GetFeedHeadRequest{}))
			if err != nil {
				t.Fatal(err)
			}
			return r.Msg.GetHeadId()
		}
		after := func(p *servertest.Party, id string) []*eventv1.Event {
			t.Helper()
			r, err := p.Events.ListEvents(ctx, connect.NewRequest(&eventv1.ListEventsRequest{AfterId: id, PageSize: 1000}))
			if err != nil {
				t.Fatal(err)
			}
			return r.Msg.GetEvents()
		}
		draft := func(to *servertest.Party) string {
			t.Helper()
			o, err := supplier.Orders.CreateOrder(ctx, connect.NewRequest(&orderv1.CreateOrderRequest{
				Policy: commonv1.Policy_POLICY_RETAIL, BuyerEmail: to.Account.Email,
				Terms: servertest.Terms(product, "USD", 1, e.Clock.Now().AddDate(0, 0, 30))}))
			if err != nil {
				t.Fatal(err)
			}
			return o.Msg.GetOrder().GetId()
		}

		if got := head(buyer); got != "" {
			t.Fatalf("a buyer with no events: head %q, want empty", got)
		}
		first := draft(buyer)
		buyerHead, operatorHead := head(buyer), head(operator)
		evs := after(buyer, "")
		if len(evs) == 0 || evs[len(evs)-1].GetId() != buyerHead {
			t.Fatalf("buyer head %q is not its newest event (%d events)", buyerHead, len(evs))
		}
		if n := len(after(buyer, buyerHead)); n != 0 {
			t.Fatalf("%d events after the buyer's head, want none", n)
		}
		// Another buyer's order moves the operator's head but not the buyer's.
		draft(other)
		if got := head(buyer); got != buyerHead {
			t.Fatalf("buyer head moved to %q for another buyer's order", got)
		}
		if got := head(operator); got == operatorHead {
			t.Fatal("operator head did not move")
		}
		// What happens after the head is what reading on from it returns.
		second := draft(buyer)
		evs = after(buyer, buyerHead)
		if len(evs) != 1 || evs[0].GetSubjectId() != second || evs[0].GetSubjectId() == first {
			t.Fatalf("after the head the buyer read %d events, want the new order's one", len(evs))
		}
	})
}
