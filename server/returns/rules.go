package returns

import (
	"time"

	"github.com/tradeassure/tradeassure/ent"
	"github.com/tradeassure/tradeassure/ent/returnrequest"
	"github.com/tradeassure/tradeassure/server/policy"
	"github.com/tradeassure/tradeassure/server/transition"
)

// This file is the return's state machine: every transition and every timer. docs/rules.md is rendered
// from it (server/rulebook), and rules_test.go walks it from every state.

type (
	rule  = transition.T[returnrequest.State, *ent.ReturnRequest, *ent.ReturnRequestMutation]
	timer = transition.Timer[returnrequest.State, *ent.ReturnRequest, *ent.ReturnRequestMutation]
)

var machine = &transition.Machine[returnrequest.State, *ent.ReturnRequest, *ent.ReturnRequestMutation]{
	Subject: subjectType,
	States: []returnrequest.State{
		returnrequest.StateRequested, returnrequest.StatePartialRefundOffered, returnrequest.StateApproved,
		returnrequest.StateShipped, returnrequest.StateDisputed, returnrequest.StateRefunded, returnrequest.StateDeclined,
		returnrequest.StatePartialRefundRejected, returnrequest.StateLapsed, returnrequest.StateRejected,
		returnrequest.StateCancelled,
	},
	StateOf:  func(r *ent.ReturnRequest) returnrequest.State { return r.State },
	IDOf:     func(r *ent.ReturnRequest) string { return r.ID },
	PolicyOf: returnPolicy,
	Name:     func(s returnrequest.State) string { return string(s) },
}

// The transitions of a return.
var (
	request         = machine.Begin("request", "CreateReturn (buyer)", returnrequest.StateRequested)
	requestFree     = machine.Begin("request a free return", "CreateReturn with free_return (buyer); approved at once", returnrequest.StateApproved)
	startForDispute = machine.Begin("start for a dispute", "a dispute settled or ruled as return and refund", returnrequest.StateApproved)

	approve       = machine.Add("approve", "ApproveReturn (supplier)", returnrequest.StateApproved, returnrequest.StateRequested)
	autoApprove   = machine.Add("approve automatically", "timer", returnrequest.StateApproved, returnrequest.StateRequested)
	decline       = machine.Add("decline", "DeclineReturn (supplier)", returnrequest.StateDeclined, returnrequest.StateRequested)
	offerPartial  = machine.Add("offer a partial refund on", "OfferPartialRefund (supplier)", returnrequest.StatePartialRefundOffered, returnrequest.StateRequested)
	acceptPartial = machine.Add("accept a partial refund on", "AcceptPartialRefund (buyer)", returnrequest.StateRefunded, returnrequest.StatePartialRefundOffered)
	rejectPartial = machine.Add("reject a partial refund on", "RejectPartialRefund (buyer)", returnrequest.StatePartialRefundRejected, returnrequest.StatePartialRefundOffered)
	ship          = machine.Add("ship", "ShipReturn (buyer)", returnrequest.StateShipped, returnrequest.StateApproved)
	lapse         = machine.Add("lapse", "timer", returnrequest.StateLapsed, returnrequest.StateApproved)
	// CancelReturn is allowed after the supplier's answer time or the buyer's shipping time has run out
	// (until the engine applies it): withdrawing a return never harms the supplier.
	cancel         = machine.AddLate("cancel", "CancelReturn (buyer)", returnrequest.StateCancelled, returnrequest.StateRequested, returnrequest.StatePartialRefundOffered, returnrequest.StateApproved)
	confirm        = machine.Add("confirm receipt of", "ConfirmReturnReceipt (supplier), every unit in good order", returnrequest.StateRefunded, returnrequest.StateShipped)
	disputeReceipt = machine.Add("confirm receipt of", "ConfirmReturnReceipt (supplier), units damaged or missing: opens a dispute", returnrequest.StateDisputed, returnrequest.StateShipped)
	autoRefund     = machine.Add("refund automatically", "timer", returnrequest.StateRefunded, returnrequest.StateShipped)
	inspectGood    = machine.Add("inspect", "InspectReturn (warehouse), resaleable", returnrequest.StateRefunded, returnrequest.StateShipped)
	inspectBad     = machine.Add("inspect", "InspectReturn (warehouse), not resaleable", returnrequest.StateRejected, returnrequest.StateShipped)
	settle         = machine.Add("settle by dispute", "the dispute about the returned goods ends", returnrequest.StateRefunded, returnrequest.StateDisputed)
	compensate     = machine.Add("compensate the supplier of", "timer", returnrequest.StateRefunded, returnrequest.StateRefunded)
)

// The timers of a return.
var (
	answerTimer = machine.Bind(&timer{
		Kind: KindSupplierAnswer, In: []returnrequest.State{returnrequest.StateRequested}, After: policy.ReturnAnswer, Blocks: true, What: "answer",
		At: func(r *ent.ReturnRequest) *time.Time { return r.SupplierAnswerDeadline }, Store: (*ent.ReturnRequestMutation).SetSupplierAnswerDeadline,
		OnDue: autoApprove, Doc: "the return is approved, addressed to the supplier's registered return address",
	})
	shipTimer = machine.Bind(&timer{
		Kind: KindBuyerShip, In: []returnrequest.State{returnrequest.StateApproved}, After: policy.ReturnShip, Blocks: true, What: "ship",
		At: func(r *ent.ReturnRequest) *time.Time { return r.ShipDeadline }, Store: (*ent.ReturnRequestMutation).SetShipDeadline,
		OnDue: lapse, Doc: "the return lapses; the held funds go to the supplier",
	})
	receiptTimer = machine.Bind(&timer{
		Kind: KindSupplierReceipt, In: []returnrequest.State{returnrequest.StateShipped}, After: policy.ReturnConfirm, Blocks: true, What: "confirm receipt of",
		When: func(r *ent.ReturnRequest) bool { return r.Kind == returnrequest.KindStandard }, Only: "standard returns",
		At: func(r *ent.ReturnRequest) *time.Time { return r.ReceiptDeadline }, Store: (*ent.ReturnRequestMutation).SetReceiptDeadline,
		OnDue: autoRefund, Doc: "the buyer is refunded the return's refund",
	})
	compensateTimer = machine.Bind(&timer{
		Kind: KindCompensate, In: []returnrequest.State{returnrequest.StateRefunded}, After: policy.FreeReturnCompensate, What: "compensate",
		When: func(r *ent.ReturnRequest) bool { return r.Kind == returnrequest.KindFreeReturn }, Only: "free returns",
		At: func(r *ent.ReturnRequest) *time.Time { return r.CompensationDeadline }, Store: (*ent.ReturnRequestMutation).SetCompensationDeadline,
		OnDue: compensate, Doc: "the platform pays the supplier the refunded amount for the goods it takes over",
	})
)

// Rules is the return's state machine written out.
func Rules() transition.Table { return machine.Table() }
