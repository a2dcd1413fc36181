package payout

import (
	"testing"

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
