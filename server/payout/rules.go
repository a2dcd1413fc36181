package payout

import (
	"github.com/tradeassure/tradeassure/ent"
	entwithdrawal "github.com/tradeassure/tradeassure/ent/withdrawal"
	"github.com/tradeassure/tradeassure/server/transition"
)

// This file is the withdrawal's state machine. docs/rules.md is rendered from it (server/rulebook), and
// rules_test.go walks it from every state.
//
// The withdrawal's one timer is an explicit exception: KindOverdue runs for the platform's wire time
// (settleLatest, not a policy parameter, since a withdrawal belongs to no order), only reports (the
// withdrawal is marked overdue and stays open until an operator confirms or fails it), and is scheduled
// and cancelled by the operator steps themselves, which take the deadline's lock before the feed's in the
// order the deadline worker takes them (loadForOperator).

type rule = transition.T[entwithdrawal.State, *ent.Withdrawal, *ent.WithdrawalMutation]

var machine = &transition.Machine[entwithdrawal.State, *ent.Withdrawal, *ent.WithdrawalMutation]{
	Subject: "withdrawal",
	States: []entwithdrawal.State{
		entwithdrawal.StateRequested, entwithdrawal.StateProcessing, entwithdrawal.StatePaid, entwithdrawal.StateFailed,
	},
	StateOf: func(w *ent.Withdrawal) entwithdrawal.State { return w.State },
	IDOf:    func(w *ent.Withdrawal) string { return w.ID },
	Name:    func(s entwithdrawal.State) string { return string(s) },
}

// The transitions of a withdrawal.
var (
	requestWithdrawal = machine.Begin("request", "RequestWithdrawal (supplier)", entwithdrawal.StateRequested)
	process           = machine.Add("process", "ProcessWithdrawal (operator: the wire was sent)", entwithdrawal.StateProcessing, entwithdrawal.StateRequested)
	confirm           = machine.Add("confirm", "ConfirmWithdrawal (operator: the bank paid)", entwithdrawal.StatePaid, entwithdrawal.StateProcessing)
	fail              = machine.Add("fail", "FailWithdrawal (operator): the amount returns to the available balance", entwithdrawal.StateFailed, entwithdrawal.StateRequested, entwithdrawal.StateProcessing)
	markOverdue       = machine.AddStay("mark overdue", "timer, at the latest expected settle time (7 days after request or processing)", entwithdrawal.StateRequested, entwithdrawal.StateProcessing)
)

// Rules is the withdrawal's state machine written out.
func Rules() transition.Table { return machine.Table() }
