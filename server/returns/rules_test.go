package returns

import (
	"testing"
	"time"

	"github.com/tradeassure/tradeassure/ent"
	"github.com/tradeassure/tradeassure/ent/returnrequest"
	"github.com/tradeassure/tradeassure/server/policy"
	tt "github.com/tradeassure/tradeassure/server/transition/transitiontest"
)

type row = tt.Row[returnrequest.State, *ent.ReturnRequest, *ent.ReturnRequestMutation]

func aReturn(st returnrequest.State) *ent.ReturnRequest {
	return &ent.ReturnRequest{ID: "ret_1", State: st, Kind: returnrequest.KindStandard,
		Policy: returnrequest.PolicyTradeAssurance, PolicyVersion: policy.Current}
}

// TestTransitions is the return's state machine as a specification: which step may run from which state.
func TestTransitions(t *testing.T) {
	tt.Matrix(t, machine, aReturn, []row{
		//                              REQ OFF APP SHI DIS REF DEC PRR LAP REJ CAN
		tt.Allow(approve /*        */, " x   .   .   .   .   .   .   .   .   .   . "),
		tt.Allow(autoApprove /*    */, " x   .   .   .   .   .   .   .   .   .   . "),
		tt.Allow(decline /*        */, " x   .   .   .   .   .   .   .   .   .   . "),
		tt.Allow(offerPartial /*   */, " x   .   .   .   .   .   .   .   .   .   . "),
		tt.Allow(acceptPartial /*  */, " .   x   .   .   .   .   .   .   .   .   . "),
		tt.Allow(rejectPartial /*  */, " .   x   .   .   .   .   .   .   .   .   . "),
		tt.Allow(cancel /*         */, " x   x   x   .   .   .   .   .   .   .   . "),
		tt.Allow(ship /*           */, " .   .   x   .   .   .   .   .   .   .   . "),
		tt.Allow(lapse /*          */, " .   .   x   .   .   .   .   .   .   .   . "),
		tt.Allow(confirm /*        */, " .   .   .   x   .   .   .   .   .   .   . "),
		tt.Allow(disputeReceipt /* */, " .   .   .   x   .   .   .   .   .   .   . "),
		tt.Allow(autoRefund /*     */, " .   .   .   x   .   .   .   .   .   .   . "),
		tt.Allow(inspectGood /*    */, " .   .   .   x   .   .   .   .   .   .   . "),
		tt.Allow(inspectBad /*     */, " .   .   .   x   .   .   .   .   .   .   . "),
		tt.Allow(settle /*         */, " .   .   .   .   x   .   .   .   .   .   . "),
		tt.Allow(compensate /*     */, " .   .   .   .   .   x   .   .   .   .   . "),
	})
	// A return is open (it holds the order's escrow and blocks a dispute) until one of the final states.
	tt.Open(t, machine, " x   x   x   x   x   .   .   .   .   .   . ")
}

// TestTimers checks each timer at its due time under each policy set: not ready a moment before, ready
// at it, and the user steps that race it refused from then on.
func TestTimers(t *testing.T) {
	entered := time.Date(2026, 11, 6, 9, 0, 0, 0, time.UTC) // a Friday
	for _, pol := range []returnrequest.Policy{returnrequest.PolicyTradeAssurance, returnrequest.PolicyRetail} {
		for _, tc := range []struct {
			timer *timer
			state returnrequest.State
			kind  returnrequest.Kind
			// others are the user steps checked against the timer: refused once it is due unless Late.
			others []*rule
			after  time.Duration
			set    func(r *ent.ReturnRequest, due time.Time)
		}{
			{answerTimer, returnrequest.StateRequested, returnrequest.KindStandard, []*rule{approve, decline, offerPartial, cancel}, 24 * time.Hour,
				func(r *ent.ReturnRequest, due time.Time) { r.SupplierAnswerDeadline = &due }},
			{shipTimer, returnrequest.StateApproved, returnrequest.KindStandard, []*rule{ship, cancel}, 10 * 24 * time.Hour,
				func(r *ent.ReturnRequest, due time.Time) { r.ShipDeadline = &due }},
			{receiptTimer, returnrequest.StateShipped, returnrequest.KindStandard, []*rule{confirm, disputeReceipt}, 30 * 24 * time.Hour,
				func(r *ent.ReturnRequest, due time.Time) { r.ReceiptDeadline = &due }},
			// Two business days from a Friday is the Tuesday.
			{compensateTimer, returnrequest.StateRefunded, returnrequest.KindFreeReturn, []*rule{nil}, 4 * 24 * time.Hour,
				func(r *ent.ReturnRequest, due time.Time) { r.CompensationDeadline = &due }},
		} {
			t.Run(string(pol)+"/"+tc.timer.Kind, func(t *testing.T) {
				r := &ent.ReturnRequest{ID: "ret_1", State: tc.state, Kind: tc.kind, Policy: pol, PolicyVersion: policy.Current}
				due := tc.timer.DueFor(r, entered)
				if want := entered.Add(tc.after); !due.Equal(want) {
					t.Fatalf("due %s, want %s", due, want)
				}
				for _, other := range tc.others {
					tt.Deadline(t, tc.timer, func(due time.Time) *ent.ReturnRequest {
						c := *r
						tc.set(&c, due)
						return &c
					}, other, due)
				}
			})
		}
	}
	t.Run("free returns have no receipt timer", func(t *testing.T) {
		due := entered
		r := &ent.ReturnRequest{ID: "ret_1", State: returnrequest.StateShipped, Kind: returnrequest.KindFreeReturn, ReceiptDeadline: &due}
		if receiptTimer.Ready(r, entered.Add(time.Hour)) {
			t.Error("the receipt timer is ready on a free return")
		}
	})
}
