package complaint

import (
	"time"

	"github.com/tradeassure/tradeassure/ent"
	entcomplaint "github.com/tradeassure/tradeassure/ent/complaint"
	"github.com/tradeassure/tradeassure/server/policy"
	"github.com/tradeassure/tradeassure/server/transition"
)

// This file is the complaint's state machine: every transition and its timer. docs/rules.md is rendered
// from it (server/rulebook), and rules_test.go walks it from every state.
//
// The decision deadline only reports (it does not block): when it passes the complaint is marked overdue
// and stays FILED, and the arbiter may still decide it. A trading restriction's end is a timer
// on the account, not on the complaint: its time is the arbiter's choice (standing.go, decision.go).

type (
	rule  = transition.T[entcomplaint.State, *ent.Complaint, *ent.ComplaintMutation]
	timer = transition.Timer[entcomplaint.State, *ent.Complaint, *ent.ComplaintMutation]
)

var machine = &transition.Machine[entcomplaint.State, *ent.Complaint, *ent.ComplaintMutation]{
	Subject: "complaint",
	States: []entcomplaint.State{
		entcomplaint.StateFiled, entcomplaint.StateUpheld, entcomplaint.StateDismissed, entcomplaint.StateWithdrawn,
	},
	StateOf:  func(c *ent.Complaint) entcomplaint.State { return c.State },
	IDOf:     func(c *ent.Complaint) string { return c.ID },
	PolicyOf: func(c *ent.Complaint) policy.Set { return policy.MustGet(policyToProto[c.Policy], c.PolicyVersion) },
	Name:     func(s entcomplaint.State) string { return string(s) },
}

// The transitions of a complaint.
var (
	file = machine.Begin("file", "FileComplaint (buyer or supplier), or RefileComplaint", entcomplaint.StateFiled)

	addEvidence = machine.Add("add evidence to", "AddComplaintEvidence (complainant or respondent)", entcomplaint.StateFiled, entcomplaint.StateFiled)
	uphold      = machine.Add("decide", "DecideComplaint (arbiter), upheld", entcomplaint.StateUpheld, entcomplaint.StateFiled)
	dismiss     = machine.Add("decide", "DecideComplaint (arbiter), dismissed", entcomplaint.StateDismissed, entcomplaint.StateFiled)
	withdraw    = machine.Add("withdraw", "WithdrawComplaint (complainant)", entcomplaint.StateWithdrawn, entcomplaint.StateFiled)
	markOverdue = machine.Add("mark overdue", "timer", entcomplaint.StateFiled, entcomplaint.StateFiled)
	refile      = machine.Add("refile", "RefileComplaint (complainant), once: files a new complaint", entcomplaint.StateDismissed, entcomplaint.StateDismissed)
)

// The timer of a complaint.
var decisionTimer = machine.Bind(&timer{
	Kind: KindDecisionDue, In: []entcomplaint.State{entcomplaint.StateFiled}, After: policy.ComplaintDecisionBusinessDays, What: "decide",
	At:    func(c *ent.Complaint) *time.Time { return &c.DecisionDeadline },
	Store: (*ent.ComplaintMutation).SetDecisionDeadline,
	OnDue: markOverdue, Doc: "the complaint is marked overdue and reported in the arbiters' queue; it stays filed",
})

// Rules is the complaint's state machine written out.
func Rules() transition.Table { return machine.Table() }
