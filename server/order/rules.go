package order

import (
	"time"

	"github.com/tradeassure/tradeassure/ent"
	entorder "github.com/tradeassure/tradeassure/ent/order"
	"github.com/tradeassure/tradeassure/server/policy"
	"github.com/tradeassure/tradeassure/server/transition"
)

// This file is the order's state machine: every transition and the timers bound to states. docs/rules.md
// is rendered from it (server/rulebook), and rules_test.go walks it from every state.
//
// The explicit exceptions, each kept in one place:
//   - An upheld service-failure complaint extends the delivery time: ExtendDelivery moves the automatic
//     confirmation later (complaint_effects.go).
//   - A close that falls due while a dispute or return holds the escrow is dropped (the order stays
//     COMPLETED); the hold's end reschedules it (Unhold, escrow.go).
//   - A payment settles into ADVANCE_PAID or PAID when its money arrives (settle, payment.go), which for a
//     T/T wire is an operator's ConfirmPayment; an order cancelled meanwhile refuses it.

type (
	rule  = transition.T[entorder.State, *ent.Order, *ent.OrderMutation]
	timer = transition.Timer[entorder.State, *ent.Order, *ent.OrderMutation]
)

var machine = &transition.Machine[entorder.State, *ent.Order, *ent.OrderMutation]{
	Subject: "order",
	States: []entorder.State{
		entorder.StateDraft, entorder.StateAwaitingPayment, entorder.StateAdvancePaid, entorder.StatePaid,
		entorder.StateShipped, entorder.StateDelivered, entorder.StateCompleted, entorder.StateClosed,
		entorder.StateCancelled,
	},
	StateOf:  func(o *ent.Order) entorder.State { return o.State },
	IDOf:     func(o *ent.Order) string { return o.ID },
	PolicyOf: PolicyOf,
	Name:     stateName,
}

// The states in which an order is confirmed but not shipped, and those before shipment.
var (
	confirmed      = []entorder.State{entorder.StateAwaitingPayment, entorder.StateAdvancePaid, entorder.StatePaid}
	beforeShipment = append([]entorder.State{entorder.StateDraft}, confirmed...)
)

// The transitions of an order.
var (
	draftOrder      = machine.Begin("draft", "CreateOrder (supplier, or buyer from chat)", entorder.StateDraft)
	editDraft       = machine.Add("edit", "UpdateOrder (supplier)", entorder.StateDraft, entorder.StateDraft)
	requestChanges  = machine.Add("request changes to", "RequestDraftChanges (buyer)", entorder.StateDraft, entorder.StateDraft)
	acceptOrder     = machine.Add("accept", "AcceptOrder (buyer)", entorder.StateAwaitingPayment, entorder.StateDraft)
	proposeChange   = machine.AddStay("change", "ProposeOrderChange (either party)", confirmed...)
	acceptChange    = machine.AddStay("change", "AcceptOrderChange (the other party)", confirmed...)
	changeLogistics = machine.AddStay("change the logistics provider of", "ChangeLogisticsProvider (buyer)", beforeShipment...)
	payOrder        = machine.AddStay("pay", "PayOrder (buyer); the payment settles at once or stays pending", entorder.StateAwaitingPayment, entorder.StateAdvancePaid)
	advancePaid     = machine.Add("take a payment for", "the advance settles", entorder.StateAdvancePaid, entorder.StateAwaitingPayment)
	paidInFull      = machine.Add("take a payment for", "the full amount or the balance settles", entorder.StatePaid, entorder.StateAwaitingPayment, entorder.StateAdvancePaid)
	cancelOrder     = machine.Add("cancel", "CancelOrder (buyer or supplier; the reason decides sold-not-shipped)", entorder.StateCancelled, beforeShipment...)
	shipOrder       = machine.Add("ship", "ShipOrder (supplier)", entorder.StateShipped, entorder.StatePaid)
	deliverOrder    = machine.Add("record delivery of", "RecordDelivery (operator or logistics integration)", entorder.StateDelivered, entorder.StateShipped)
	confirmReceipt  = machine.Add("confirm receipt of", "ConfirmReceipt (buyer)", entorder.StateCompleted, entorder.StateShipped, entorder.StateDelivered)
	autoConfirm     = machine.Add("confirm receipt automatically", "timer", entorder.StateCompleted, entorder.StateDelivered)
	closeOrder      = machine.Add("close", "timer", entorder.StateClosed, entorder.StateCompleted)
)

// The timers of an order.
var (
	confirmTimer = machine.Bind(&timer{
		Kind: KindAutoConfirm, In: []entorder.State{entorder.StateDelivered}, After: policy.AutoConfirmAfterDelivery,
		What:  "confirm receipt of",
		At:    func(o *ent.Order) *time.Time { return o.AutoConfirmDeadline },
		Store: (*ent.OrderMutation).SetAutoConfirmDeadline,
		OnDue: autoConfirm, Doc: "the order completes (runs from the delivery time; the buyer may still confirm until then and after)",
	})
	closeTimer = machine.Bind(&timer{
		Kind: KindClose, In: []entorder.State{entorder.StateCompleted}, After: policy.DisputeWindow,
		What:  "close",
		At:    func(o *ent.Order) *time.Time { return o.AfterSalesDeadline },
		Store: (*ent.OrderMutation).SetAfterSalesDeadline,
		OnDue: closeOrder, Doc: "the after-sales window ends and the order closes, unless a dispute or return holds the escrow (then it closes when the hold ends)",
	})
)

// Rules is the order's state machine written out.
func Rules() transition.Table { return machine.Table() }
