package payout

import (
	"testing"
	"time"

	"github.com/tradeassure/tradeassure/ent"
	entwithdrawal "github.com/tradeassure/tradeassure/ent/withdrawal"
	tt "github.com/tradeassure/tradeassure/server/transition/transitiontest"
)

// TestTransitions is the withdrawal's state machine as a specification.
func TestTransitions(t *testing.T) {
	tt.Matrix(t, machine, func(st entwithdrawal.State) *ent.Withdrawal { return &ent.Withdrawal{ID: "wdr_1", State: st} },
		[]tt.Row[entwithdrawal.State, *ent.Withdrawal, *ent.WithdrawalMutation]{
			//                             REQ PRO PAI FAI
			tt.Allow(process /*     */, " x   .   .   . "),
			tt.Allow(confirm /*     */, " .   x   .   . "),
			tt.Allow(fail /*        */, " x   x   .   . "),
			tt.Allow(markOverdue /* */, " x   x   .   . "),
		})
	tt.Open(t, machine, " x   x   .   . ")
}

// TestOverdueTimer checks the withdrawal's overdue timer at its edge: a requested or processing withdrawal
// is overdue from its latest expected settle time (7 days after the request or the wire), not a moment
// before, and only once; a paid or failed one never is.
func TestOverdueTimer(t *testing.T) {
	if settleLatest != 7*24*time.Hour {
		t.Fatalf("latest settle time %s, want 7 days", settleLatest)
	}
	from := time.Date(2026, 11, 6, 9, 0, 0, 0, time.UTC)
	due := from.Add(settleLatest)
	for _, st := range []entwithdrawal.State{entwithdrawal.StateRequested, entwithdrawal.StateProcessing, entwithdrawal.StatePaid, entwithdrawal.StateFailed} {
		t.Run(string(st), func(t *testing.T) {
			w := &ent.Withdrawal{ID: "wdr_1", State: st, ExpectedSettleTime: &due}
			open := st == entwithdrawal.StateRequested || st == entwithdrawal.StateProcessing
			if overdueReady(w, due.Add(-time.Nanosecond)) {
				t.Error("overdue just before the latest settle time")
			}
			if got := overdueReady(w, due); got != open {
				t.Errorf("overdue at the latest settle time = %v, want %v", got, open)
			}
			marked := *w
			marked.OverdueTime = &due
			if overdueReady(&marked, due.Add(time.Hour)) {
				t.Error("overdue again once marked")
			}
		})
	}
}
