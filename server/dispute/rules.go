package dispute

import (
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	commonv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/common/v1"
	disputev1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/dispute/v1"
	"github.com/tradeassure/tradeassure/server/apierr"
	"github.com/tradeassure/tradeassure/server/policy"
	"github.com/tradeassure/tradeassure/server/transition"
)

// This file is the dispute's state machine: every transition and the timers bound to states. docs/rules.md
// is rendered from it (server/rulebook), and rules_test.go walks it from every state.
//
// The explicit exceptions, each kept in one place:
//   - Suspension (SUSPENDED is Paused): SuspendDispute stops every timer of the dispute with the time it had
//     left (deadline.Suspend) and ResumeDispute restarts them (deadline.Resume), back in the state the
//     dispute was suspended in (arbitrate.go).
//   - Evidence requests: their due times are the arbiter's choice (within EvidenceDueHorizon), so the
//     evidence timer follows the earliest request still waiting (scheduleEvidenceDue, arbitrate.go).
//   - Ending a dispute drops every timer it has, running, suspended or evidence (stopClocks, settle.go).
//   - The buyer's escalation time (EscalationAllowedTime) is a gate checked by EscalateDispute, not a timer.

// The machine's subject is a dispute as loaded for a change: its state is the state it was loaded in, and
// a change stores its timers' due times on the snapshot it writes.
type (
	rule  = transition.T[disputev1.Dispute_State, *loaded, *disputev1.Dispute]
	timer = transition.Timer[disputev1.Dispute_State, *loaded, *disputev1.Dispute]
)

const (
	awaiting    = disputev1.Dispute_STATE_AWAITING_RESPONSE
	negotiating = disputev1.Dispute_STATE_NEGOTIATING
	escalated   = disputev1.Dispute_STATE_ESCALATED
	suspended   = disputev1.Dispute_STATE_SUSPENDED
	settled     = disputev1.Dispute_STATE_SETTLED
	ruled       = disputev1.Dispute_STATE_RULED
	withdrawn   = disputev1.Dispute_STATE_WITHDRAWN
)

var machine = &transition.Machine[disputev1.Dispute_State, *loaded, *disputev1.Dispute]{
	Subject:  subjectType,
	States:   []disputev1.Dispute_State{awaiting, negotiating, escalated, suspended, settled, ruled, withdrawn},
	StateOf:  func(l *loaded) disputev1.Dispute_State { return l.from },
	IDOf:     func(l *loaded) string { return l.d.GetId() },
	PolicyOf: (*loaded).policySet,
	Name:     stateName,
	Paused:   []disputev1.Dispute_State{suspended},
}

// The transitions of a dispute.
var (
	open         = machine.Begin("open", "OpenDispute (buyer)", awaiting)
	recordCharge = machine.Begin("record a chargeback", "RecordChargeback (operator)", awaiting)
	recordAgreed = machine.Begin("record an agreed refund", "RecordAgreedRefund (arbiter), after the dispute window", settled)
	openReturned = machine.Begin("open about returned goods", "a supplier reports returned goods damaged or missing (ConfirmReturnReceipt)", escalated)
	accept       = machine.Add("respond to", "RespondToDispute (supplier), accepting the request", settled, awaiting)
	reject       = machine.Add("respond to", "RespondToDispute (supplier), rejecting with a counter-offer", negotiating, awaiting)
	contest      = machine.Add("respond to", "RespondToDispute (supplier), contesting a chargeback with evidence", escalated, awaiting)
	autoGrant    = machine.Add("grant automatically", "timer", settled, awaiting)
	makeOffer    = machine.AddStay("make an offer on", "MakeOffer (buyer or supplier)", negotiating, escalated)
	acceptOffer  = machine.Add("accept an offer on", "AcceptOffer (the other party)", settled, negotiating, escalated)
	declineOffer = machine.AddStay("decline an offer on", "DeclineOffer (the other party)", negotiating, escalated)
	escalateStep = machine.Add("escalate", "EscalateDispute (buyer from the escalation time; supplier after rejecting)", escalated, awaiting, negotiating)
	autoEscalate = machine.Add("escalate automatically", "timer", escalated, negotiating)
	requestProof = machine.AddStay("request evidence on", "RequestEvidence (arbiter)", escalated)
	submitProof  = machine.AddStay("add evidence to", "SubmitEvidence (buyer or supplier)", awaiting, negotiating, escalated, suspended)
	ruleOn       = machine.Add("rule on", "RuleDispute (arbiter)", ruled, escalated)
	suspend      = machine.Add("suspend", "SuspendDispute (legal proceedings: either party; private settlement: both)", suspended, awaiting, negotiating, escalated)
	resume       = machine.Add("resume", "ResumeDispute (buyer, supplier or arbiter)", 0, suspended)
	withdraw     = machine.AddLate("withdraw", "WithdrawDispute (buyer; standard disputes)", withdrawn, awaiting, negotiating, escalated, suspended)
)

func init() { resume.ToDoc = "(the state it was suspended in)" }

// The timers of a dispute.
var (
	responseTimer = machine.Bind(&timer{
		Kind: KindResponse, In: []disputev1.Dispute_State{awaiting}, After: policy.DisputeResponse, Blocks: true,
		What:  "respond to",
		At:    func(l *loaded) *time.Time { return timeOf(l.d.SupplierResponseDeadline) },
		Store: func(d *disputev1.Dispute, t time.Time) { d.SupplierResponseDeadline = ts(t) },
		Refusal: func(_ *loaded, due time.Time) error {
			return apierr.Precondition(commonv1.ErrorReason_ERROR_REASON_DEADLINE_PASSED,
				"the supplier's response was due by %s; the buyer's request is granted", due.Format(time.RFC3339)).
				With("supplier_response_deadline", due.Format(time.RFC3339))
		},
		OnDue: autoGrant, Doc: "the buyer's request (or the chargeback) is granted, within what the platform may grant",
	})
	escalationTimer = machine.Bind(&timer{
		Kind: KindAutoEscalate, In: []disputev1.Dispute_State{awaiting, negotiating}, After: policy.DisputeAutoEscalate,
		When: func(l *loaded) bool {
			return l.d.GetKind() == disputev1.Dispute_KIND_STANDARD && l.policySet().DisputeAutoEscalate > 0
		},
		Only:  "standard disputes, under a policy with automatic escalation",
		At:    func(l *loaded) *time.Time { return timeOf(l.d.AutoEscalationTime) },
		Store: func(d *disputev1.Dispute, t time.Time) { d.AutoEscalationTime = ts(t) },
		OnDue: autoEscalate, Doc: "the dispute goes to the platform; the parties may settle until it does",
	})
)

// timeOf is a stored time, or nil.
func timeOf(t *timestamppb.Timestamp) *time.Time {
	if t == nil {
		return nil
	}
	at := t.AsTime()
	return &at
}

// Rules is the dispute's state machine written out.
func Rules() transition.Table { return machine.Table() }
