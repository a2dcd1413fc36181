package dispute

import (
	"errors"
	"testing"
	"time"

	commonv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/common/v1"
	disputev1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/dispute/v1"
	"github.com/tradeassure/tradeassure/server/apierr"
	"github.com/tradeassure/tradeassure/server/policy"
	tt "github.com/tradeassure/tradeassure/server/transition/transitiontest"
)

func aDispute(st disputev1.Dispute_State) *loaded {
	d := &disputev1.Dispute{Id: "dsp_1", State: st, Kind: disputev1.Dispute_KIND_STANDARD, Policy: commonv1.Policy_POLICY_TRADE_ASSURANCE}
	return &loaded{d: d, version: policy.Current, from: st}
}

// TestTransitions is the dispute's state machine as a specification.
func TestTransitions(t *testing.T) {
	tt.Matrix(t, machine, aDispute, []tt.Row[disputev1.Dispute_State, *loaded, *disputev1.Dispute]{
		//                            AWA NEG ESC SUS SET RUL WIT
		tt.Allow(accept /*       */, " x   .   .   .   .   .   . "),
		tt.Allow(reject /*       */, " x   .   .   .   .   .   . "),
		tt.Allow(contest /*      */, " x   .   .   .   .   .   . "),
		tt.Allow(autoGrant /*    */, " x   .   .   .   .   .   . "),
		tt.Allow(makeOffer /*    */, " .   x   x   .   .   .   . "),
		tt.Allow(acceptOffer /*  */, " .   x   x   .   .   .   . "),
		tt.Allow(declineOffer /* */, " .   x   x   .   .   .   . "),
		tt.Allow(escalateStep /* */, " x   x   .   .   .   .   . "),
		tt.Allow(autoEscalate /* */, " .   x   .   .   .   .   . "),
		tt.Allow(requestProof /* */, " .   .   x   .   .   .   . "),
		tt.Allow(submitProof /*  */, " x   x   x   x   .   .   . "),
		tt.Allow(ruleOn /*       */, " .   .   x   .   .   .   . "),
		tt.Allow(suspend /*      */, " x   x   x   .   .   .   . "),
		tt.Allow(resume /*       */, " .   .   .   x   .   .   . "),
		tt.Allow(withdraw /*     */, " x   x   x   x   .   .   . "),
	})
	// A dispute is open (it holds the escrow and blocks a return) until settled, ruled or withdrawn.
	tt.Open(t, machine, " x   x   x   x   .   .   . ")
}

// TestTimers checks the response and escalation timers under each policy at their due times.
func TestTimers(t *testing.T) {
	opened := time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		pol      commonv1.Policy
		response time.Duration
		escalate time.Duration // 0: no automatic escalation
	}{
		{commonv1.Policy_POLICY_TRADE_ASSURANCE, 3 * 24 * time.Hour, 7 * 24 * time.Hour},
		{commonv1.Policy_POLICY_RETAIL, 5 * 24 * time.Hour, 0},
	} {
		t.Run(tc.pol.String(), func(t *testing.T) {
			at := func(st disputev1.Dispute_State) *loaded {
				l := aDispute(st)
				l.d.Policy = tc.pol
				return l
			}
			if due := responseTimer.DueFor(at(awaiting), opened); !due.Equal(opened.Add(tc.response)) {
				t.Errorf("response due %s, want %s after opening", due, tc.response)
			}
			// Responding, escalating and suspending race the automatic grant and are refused once it is due;
			// withdrawing is not.
			for _, other := range []*rule{accept, reject, contest, escalateStep, suspend, withdraw} {
				tt.Deadline(t, responseTimer, func(due time.Time) *loaded {
					l := at(awaiting)
					l.d.SupplierResponseDeadline = ts(due)
					return l
				}, other, opened.Add(tc.response))
			}
			if got := escalationTimer.When(at(negotiating)); got != (tc.escalate > 0) {
				t.Fatalf("automatic escalation applies = %v", got)
			}
			if tc.escalate == 0 {
				return
			}
			// The escalation timer does not block: the parties may still settle on the day.
			for _, other := range []*rule{acceptOffer, makeOffer, escalateStep} {
				tt.Deadline(t, escalationTimer, func(due time.Time) *loaded {
					l := at(negotiating)
					l.d.AutoEscalationTime = ts(due)
					return l
				}, other, escalationTimer.DueFor(at(negotiating), opened))
			}
		})
	}
}

// TestEscalationGate checks when each party may escalate under each policy: under trade assurance the
// buyer from day 4 (3 days after opening), not a moment before; under retail only once the supplier
// rejected the request (then at once); the supplier only after rejecting.
func TestEscalationGate(t *testing.T) {
	opened := time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)
	rejected := opened.Add(26 * time.Hour)
	tooEarly := func(t *testing.T, what string, err error) {
		t.Helper()
		var ae *apierr.Error
		if !errors.As(err, &ae) || ae.Reason != commonv1.ErrorReason_ERROR_REASON_TOO_EARLY {
			t.Errorf("%s: %v, want TOO_EARLY", what, err)
		}
	}
	allowed := func(t *testing.T, what string, err error) {
		t.Helper()
		if err != nil {
			t.Errorf("%s: %v", what, err)
		}
	}
	buyer, supplier := commonv1.Role_ROLE_BUYER, commonv1.Role_ROLE_SUPPLIER
	for _, tc := range []struct {
		pol  commonv1.Policy
		from time.Duration // 0: only after the supplier rejects
	}{
		{commonv1.Policy_POLICY_TRADE_ASSURANCE, 3 * 24 * time.Hour},
		{commonv1.Policy_POLICY_RETAIL, 0},
	} {
		t.Run(tc.pol.String(), func(t *testing.T) {
			l := aDispute(awaiting)
			l.d.Policy = tc.pol
			if got := l.policySet().DisputeEscalateFrom; got != tc.from {
				t.Fatalf("escalation from %s after opening, want %s", got, tc.from)
			}
			d := l.d
			tooEarly(t, "supplier before responding", mayEscalate(d, supplier, opened.Add(30*24*time.Hour)))
			if tc.from > 0 {
				at := opened.Add(tc.from)
				d.EscalationAllowedTime = ts(at)
				tooEarly(t, "buyer just before day 4", mayEscalate(d, buyer, at.Add(-time.Nanosecond)))
				allowed(t, "buyer on day 4", mayEscalate(d, buyer, at))
			} else {
				tooEarly(t, "buyer before the supplier rejects", mayEscalate(d, buyer, opened.Add(30*24*time.Hour)))
			}
			// Rejecting sets the buyer's escalation time when the policy has none (RespondToDispute).
			d.SupplierResponse = disputev1.Dispute_SUPPLIER_RESPONSE_REJECTED
			if d.EscalationAllowedTime == nil {
				d.EscalationAllowedTime = ts(rejected)
				tooEarly(t, "buyer just before the rejection", mayEscalate(d, buyer, rejected.Add(-time.Nanosecond)))
				allowed(t, "buyer at the rejection", mayEscalate(d, buyer, rejected))
			}
			allowed(t, "supplier after rejecting", mayEscalate(d, supplier, rejected))
		})
	}
}
