package complaint

import (
	"testing"
	"time"

	"github.com/tradeassure/tradeassure/ent"
	entcomplaint "github.com/tradeassure/tradeassure/ent/complaint"
	"github.com/tradeassure/tradeassure/server/policy"
	tt "github.com/tradeassure/tradeassure/server/transition/transitiontest"
)

type row = tt.Row[entcomplaint.State, *ent.Complaint, *ent.ComplaintMutation]

func aComplaint(st entcomplaint.State) *ent.Complaint {
	return &ent.Complaint{ID: "cmp_1", State: st, Policy: entcomplaint.PolicyTradeAssurance, PolicyVersion: policy.Current}
}

// TestTransitions is the complaint's state machine as a specification.
func TestTransitions(t *testing.T) {
	tt.Matrix(t, machine, aComplaint, []row{
		//                           FIL UPH DIS WIT
		tt.Allow(addEvidence /* */, " x   .   .   . "),
		tt.Allow(uphold /*      */, " x   .   .   . "),
		tt.Allow(dismiss /*     */, " x   .   .   . "),
		tt.Allow(withdraw /*    */, " x   .   .   . "),
		tt.Allow(markOverdue /* */, " x   .   .   . "),
		tt.Allow(refile /*      */, " .   .   x   . "),
	})
	// Only a filed complaint is open; a dismissed one is refiled as a new complaint.
	tt.Open(t, machine, " x   .   .   . ")
}

// TestDecisionTimer checks the decision deadline: three business days under both policies, ready at its
// time, and never blocking the arbiter (or a withdrawal) once passed.
func TestDecisionTimer(t *testing.T) {
	filed := time.Date(2026, 11, 5, 15, 0, 0, 0, time.UTC) // a Thursday: due the Tuesday after
	for _, pol := range []entcomplaint.Policy{entcomplaint.PolicyTradeAssurance, entcomplaint.PolicyRetail} {
		c := &ent.Complaint{ID: "cmp_1", State: entcomplaint.StateFiled, Policy: pol, PolicyVersion: policy.Current}
		due := decisionTimer.DueFor(c, filed)
		if want := filed.Add(5 * 24 * time.Hour); !due.Equal(want) {
			t.Fatalf("%s: due %s, want %s", pol, due, want)
		}
		for _, other := range []*rule{uphold, dismiss, withdraw, addEvidence} {
			tt.Deadline(t, decisionTimer, func(due time.Time) *ent.Complaint {
				d := *c
				d.DecisionDeadline = due
				return &d
			}, other, due)
		}
	}
}
