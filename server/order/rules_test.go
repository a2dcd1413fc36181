package order

import (
	"testing"
	"time"

	"github.com/tradeassure/tradeassure/ent"
	entorder "github.com/tradeassure/tradeassure/ent/order"
	"github.com/tradeassure/tradeassure/server/policy"
	tt "github.com/tradeassure/tradeassure/server/transition/transitiontest"
)

func anOrder(st entorder.State) *ent.Order {
	return &ent.Order{ID: "ord_1", State: st, Policy: entorder.PolicyTradeAssurance, PolicyVersion: policy.Current}
}

// TestTransitions is the order's state machine as a specification.
func TestTransitions(t *testing.T) {
	tt.Matrix(t, machine, anOrder, []tt.Row[entorder.State, *ent.Order, *ent.OrderMutation]{
		//                                 DRA AWA ADV PAI SHI DEL COM CLO CAN
		tt.Allow(editDraft /*       */, " x   .   .   .   .   .   .   .   . "),
		tt.Allow(requestChanges /*  */, " x   .   .   .   .   .   .   .   . "),
		tt.Allow(acceptOrder /*     */, " x   .   .   .   .   .   .   .   . "),
		tt.Allow(proposeChange /*   */, " .   x   x   x   .   .   .   .   . "),
		tt.Allow(acceptChange /*    */, " .   x   x   x   .   .   .   .   . "),
		tt.Allow(changeLogistics /* */, " x   x   x   x   .   .   .   .   . "),
		tt.Allow(payOrder /*        */, " .   x   x   .   .   .   .   .   . "),
		tt.Allow(advancePaid /*     */, " .   x   .   .   .   .   .   .   . "),
		tt.Allow(paidInFull /*      */, " .   x   x   .   .   .   .   .   . "),
		tt.Allow(cancelOrder /*     */, " x   x   x   x   .   .   .   .   . "),
		tt.Allow(shipOrder /*       */, " .   .   .   x   .   .   .   .   . "),
		tt.Allow(deliverOrder /*    */, " .   .   .   .   x   .   .   .   . "),
		tt.Allow(confirmReceipt /*  */, " .   .   .   .   x   x   .   .   . "),
		tt.Allow(autoConfirm /*     */, " .   .   .   .   .   x   .   .   . "),
		tt.Allow(closeOrder /*      */, " .   .   .   .   .   .   x   .   . "),
	})
	tt.Open(t, machine, " x   x   x   x   x   x   x   .   . ")
}

// TestTimers checks the automatic confirmation (from the delivery time) and the close (the after-sales
// window after completion) under both policies.
func TestTimers(t *testing.T) {
	delivered := time.Date(2026, 11, 10, 8, 30, 0, 0, time.UTC)
	for _, tc := range []struct {
		pol            entorder.Policy
		confirm, close time.Duration
	}{
		{entorder.PolicyTradeAssurance, 30 * 24 * time.Hour, 30 * 24 * time.Hour},
		{entorder.PolicyRetail, 15 * 24 * time.Hour, 15 * 24 * time.Hour},
	} {
		t.Run(string(tc.pol), func(t *testing.T) {
			o := anOrder(entorder.StateDelivered)
			o.Policy = tc.pol
			due := confirmTimer.DueFor(o, delivered)
			if !due.Equal(delivered.Add(tc.confirm)) {
				t.Fatalf("confirmation due %s", due)
			}
			// The buyer may confirm receipt until the automatic confirmation happens.
			tt.Deadline(t, confirmTimer, func(at time.Time) *ent.Order {
				c := *o
				c.AutoConfirmDeadline = &at
				return &c
			}, confirmReceipt, due)
			c := anOrder(entorder.StateCompleted)
			c.Policy = tc.pol
			closes := closeTimer.DueFor(c, due)
			if !closes.Equal(due.Add(tc.close)) {
				t.Fatalf("close due %s", closes)
			}
			tt.Deadline(t, closeTimer, func(at time.Time) *ent.Order {
				d := *c
				d.AfterSalesDeadline = &at
				return &d
			}, nil, closes)
		})
	}
}
