package order_test

import (
	"testing"

	"github.com/tradeassure/tradeassure/ent"
	entevent "github.com/tradeassure/tradeassure/ent/event"
	orderv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/order/v1"
	"github.com/tradeassure/tradeassure/server/auth"
	"github.com/tradeassure/tradeassure/server/servertest"
)

// TestStaleCloseInABatch checks the order deadlines through the sweep's fallback: five orders' after-sales
// windows end in one sweep, one of them with its escrow held, so its close is stale. The sweep's first,
// whole-batch attempt is rolled back and the batch applied one by one: the four others close exactly
// once (one closing revision, one order.closed event each), the held one stays completed just after its
// window, and closes once the hold ends.
func TestStaleCloseInABatch(t *testing.T) {
	servertest.Each(t, func(t *testing.T, e *servertest.Env) {
		m := newMarket(t, e)
		var ids []string
		for i := 0; i < 5; i++ {
			ids = append(ids, m.delivered(retailPolicy).GetId())
		}
		e.Advance(15 * day) // auto-confirmed: revision 6, the after-sales window starts
		held := ids[2]
		hold := func(fn func(tx *ent.Tx) error) {
			t.Helper()
			if err := e.Store.WithTx(e.Ctx, fn); err != nil {
				t.Fatal(err)
			}
		}
		hold(func(tx *ent.Tx) error { return e.Server.Orders.Hold(e.Ctx, tx, held, auth.System, e.Clock.Now()) })
		closedEvents := func(id string) int {
			return e.Store.Client.Event.Query().Where(entevent.SubjectID(id), entevent.Type("order.closed")).CountX(e.Ctx)
		}

		e.Advance(15 * day) // every window ends in this sweep
		for _, id := range ids {
			o := m.get(id)
			if id == held {
				wantState(t, o, orderv1.Order_STATE_COMPLETED)
				if o.GetRevision() != 7 || closedEvents(id) != 0 {
					t.Fatalf("held order: revision %d, %d closing events; want 7 (escrow_held), none", o.GetRevision(), closedEvents(id))
				}
				continue
			}
			wantState(t, o, orderv1.Order_STATE_CLOSED)
			if o.GetRevision() != 7 || closedEvents(id) != 1 {
				t.Fatalf("order %s: revision %d, %d closing events; want 7 and one (closed once)", id, o.GetRevision(), closedEvents(id))
			}
		}

		hold(func(tx *ent.Tx) error { return e.Server.Orders.Unhold(e.Ctx, tx, held, auth.System, e.Clock.Now()) })
		e.Advance(0)
		o := m.get(held)
		wantState(t, o, orderv1.Order_STATE_CLOSED)
		if closedEvents(held) != 1 {
			t.Fatalf("held order closed %d times after the hold, want once", closedEvents(held))
		}
	})
}
