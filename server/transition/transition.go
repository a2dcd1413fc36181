// Package transition holds the shape every domain's state machine is written in: a Machine lists its
// transitions (from which states a named step may run and the state it leads to) and its timers (a
// deadline bound to a state: entering the state schedules it with a duration read from the subject's
// policy set, leaving the state cancels it, and when it falls due its transition runs). Each domain package
// keeps its machine in one file, rules.go, so a rule can be read in one row; docs/rules.md is rendered from
// the same values (see server/rulebook).
package transition

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/tradeassure/tradeassure/ent"
	commonv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/common/v1"
	"github.com/tradeassure/tradeassure/server/apierr"
	"github.com/tradeassure/tradeassure/server/deadline"
	"github.com/tradeassure/tradeassure/server/policy"
)

// Machine is the state machine of one kind of subject (a return, a dispute, ...). S is its state type, R
// the stored subject and M the ent mutation a change of the subject is written with (to store a timer's
// due time beside the state).
type Machine[S comparable, R any, M any] struct {
	// Subject names the subject in errors, the event feed and the deadline engine ("return").
	Subject string
	// States lists every state, in the order the documentation shows them.
	States []S
	// StateOf, IDOf and PolicyOf read a subject; PolicyOf is the one place a domain reads the policy set
	// (and version) its subject runs under, which every timer's duration comes from.
	StateOf  func(R) S
	IDOf     func(R) string
	PolicyOf func(R) policy.Set
	// Name is the stored name of a state, as errors show it.
	Name func(S) string
	// Paused are states in which every timer of the subject is stopped, keeping the time it had left; the
	// steps into and out of them suspend and resume the timers themselves (deadline.Suspend, Resume), so
	// Move leaves the timers alone.
	Paused []S

	transitions []*T[S, R, M]
	timers      []*Timer[S, R, M]
}

// T is one transition: a named step that may run from the states From and leads to To (To equal to the
// state it runs from for a step that changes the subject but not its state).
type T[S comparable, R any, M any] struct {
	m *Machine[S, R, M]
	// Name is the action in an error message: "cannot <Name> return X: it is <state>".
	Name string
	// By says what runs the step, for the documentation: an RPC and its caller, or a timer.
	By   string
	From []S
	To   S
	// Stays marks a step that changes the subject but keeps whatever state it is in (To is unused).
	Stays bool
	// ToDoc names the target for the documentation when To is not fixed (a resumption returns to the
	// state the subject was suspended in).
	ToDoc string
	// Late allows the step after a timer of its from state has fallen due (and before the engine applied
	// it). Most user steps are refused then with DEADLINE_PASSED, so they never race the timer's step.
	Late bool
}

// Timer is a deadline bound to a state, or to a few states it keeps running through.
type Timer[S comparable, R any, M any] struct {
	m *Machine[S, R, M]
	// Kind is the deadline kind in the engine.
	Kind string
	// In are the states the timer runs in: entering one of them from elsewhere starts it, moving between
	// them keeps it, leaving them cancels it.
	In []S
	// After is the policy parameter whose duration (or business days) the timer runs for.
	After policy.Param
	// Blocks makes the steps that leave the timer's state refused with DEADLINE_PASSED once the timer's time
	// has come (until the engine applies it), so that they never race its consequence; steps marked Late
	// are still allowed. A timer that does not block only reports, or its step waits for the parties.
	Blocks bool
	// What names what must happen before the timer falls due, in "the deadline to <What> return X passed".
	What string
	// Refusal, when set, is the DEADLINE_PASSED error of a blocked step instead of the standard one.
	Refusal func(r R, due time.Time) error
	// When limits the timer to some subjects in In (nil: all); it is read before the step that enters In.
	// Only says which, for the documentation.
	When func(R) bool
	Only string
	// At reads, and Store writes, the due time kept on the subject.
	At    func(R) *time.Time
	Store func(M, time.Time)
	// OnDue is the step the timer runs when it falls due.
	OnDue *T[S, R, M]
	// Doc says in words what happens when the timer falls due, for the documentation.
	Doc string
}

// Add declares a transition named name, run by by, from the states from to the state to.
func (m *Machine[S, R, M]) Add(name, by string, to S, from ...S) *T[S, R, M] {
	t := &T[S, R, M]{m: m, Name: name, By: by, From: from, To: to}
	m.transitions = append(m.transitions, t)
	return t
}

// AddStay declares a step that runs from the states from and keeps the subject in its state.
func (m *Machine[S, R, M]) AddStay(name, by string, from ...S) *T[S, R, M] {
	t := m.Add(name, by, *new(S), from...)
	t.Stays = true
	return t
}

// Begin declares how a subject is created in the state st, run by by: a transition from no state.
func (m *Machine[S, R, M]) Begin(name, by string, st S) *T[S, R, M] { return m.Add(name, by, st) }

// AddLate is Add for a step that is allowed after a timer of its from state fell due (see T.Late).
func (m *Machine[S, R, M]) AddLate(name, by string, to S, from ...S) *T[S, R, M] {
	t := m.Add(name, by, to, from...)
	t.Late = true
	return t
}

// Bind declares a timer; its OnDue step must run from one of the timer's states.
func (m *Machine[S, R, M]) Bind(t *Timer[S, R, M]) *Timer[S, R, M] {
	t.m = m
	if t.OnDue == nil || !slices.ContainsFunc(t.In, func(s S) bool { return slices.Contains(t.OnDue.From, s) }) {
		panic(fmt.Sprintf("timer %s: its step must run from one of its states", t.Kind))
	}
	m.timers = append(m.timers, t)
	return t
}

// Transitions lists the machine's transitions in declaration order.
func (m *Machine[S, R, M]) Transitions() []*T[S, R, M] { return m.transitions }

// Open reports whether a subject in st is still running: some transition leaves st for another state.
// States no transition leaves are final.
func (m *Machine[S, R, M]) Open(st S) bool {
	for _, t := range m.transitions {
		if !t.Stays && t.To != st && slices.Contains(t.From, st) {
			return true
		}
	}
	return false
}

// OpenStates lists the states in which a subject is still running, in the order of States.
func (m *Machine[S, R, M]) OpenStates() []S {
	var out []S
	for _, st := range m.States {
		if m.Open(st) {
			out = append(out, st)
		}
	}
	return out
}

// Possible reports whether the step may run on r in its present state.
func (t *T[S, R, M]) Possible(r R) bool { return slices.Contains(t.From, t.m.StateOf(r)) }

// Check fails with FAILED_PRECONDITION and ERROR_REASON_ILLEGAL_STATE unless the step may run on r.
func (t *T[S, R, M]) Check(r R) error {
	if t.Possible(r) {
		return nil
	}
	return apierr.IllegalState(t.m.Subject, t.m.IDOf(r), t.Name, t.m.Name(t.m.StateOf(r)))
}

// CheckAt is Check for a step a caller asks for at now: unless the step is Late, it also fails with
// ERROR_REASON_DEADLINE_PASSED when a timer of r's state has fallen due and the engine has not applied it
// yet; the timer's consequence is about to happen and the late step must not race it.
func (t *T[S, R, M]) CheckAt(r R, now time.Time) error {
	if err := t.Check(r); err != nil || t.Late {
		return err
	}
	st := t.m.StateOf(r)
	for _, tm := range t.m.timers {
		if !tm.Blocks || !slices.Contains(tm.In, st) || tm.OnDue == t || (tm.When != nil && !tm.When(r)) {
			continue
		}
		if t.Stays || (t.ToDoc == "" && slices.Contains(tm.In, t.To)) {
			continue // the step keeps the timer running
		}
		if due := tm.At(r); due != nil && !now.Before(*due) {
			if tm.Refusal != nil {
				return tm.Refusal(r, *due)
			}
			at := due.UTC().Format(time.RFC3339)
			return apierr.Precondition(commonv1.ErrorReason_ERROR_REASON_DEADLINE_PASSED,
				"the deadline to %s %s %s passed at %s", tm.What, t.m.Subject, t.m.IDOf(r), at).With("deadline", at)
		}
	}
	return nil
}

// Due is when the timer falls due if its state is entered at from under the policy set p.
func (tm *Timer[S, R, M]) Due(p policy.Set, from time.Time) time.Time { return p.After(tm.After, from) }

// DueFor is Due under r's policy set.
func (tm *Timer[S, R, M]) DueFor(r R, from time.Time) time.Time {
	return tm.Due(tm.m.PolicyOf(r), from)
}

// Ready is the engine's stale check: the timer's step is still possible on r, the timer applies to r and
// its due time has come. A timer that is not ready is dropped, never applied.
func (tm *Timer[S, R, M]) Ready(r R, now time.Time) bool {
	if !tm.OnDue.Possible(r) || !slices.Contains(tm.In, tm.m.StateOf(r)) || (tm.When != nil && !tm.When(r)) {
		return false
	}
	due := tm.At(r)
	return due != nil && !now.Before(*due)
}

// Move enters the state to from r's present state within tx at now: it cancels the timers of the state
// r leaves and schedules (and stores on m) those of the state it enters. Nothing happens when the state
// does not change.
func (m *Machine[S, R, M]) Move(ctx context.Context, tx *ent.Tx, r R, to S, mut M, now time.Time) error {
	return m.MoveAt(ctx, tx, r, to, mut, now, now)
}

// MoveAt is Move for a state entered at the time entered, which may lie before now (a delivery reported
// after it happened): the timers it starts run from entered.
func (m *Machine[S, R, M]) MoveAt(ctx context.Context, tx *ent.Tx, r R, to S, mut M, entered, now time.Time) error {
	from := m.StateOf(r)
	if from == to || slices.Contains(m.Paused, from) || slices.Contains(m.Paused, to) {
		return nil
	}
	id := m.IDOf(r)
	var leaving []string
	for _, tm := range m.timers {
		if slices.Contains(tm.In, from) && !slices.Contains(tm.In, to) {
			leaving = append(leaving, tm.Kind)
		}
	}
	if err := deadline.CancelKinds(ctx, tx, m.Subject, id, leaving, now); err != nil {
		return err
	}
	for _, tm := range m.timers {
		if !slices.Contains(tm.In, to) || slices.Contains(tm.In, from) || (tm.When != nil && !tm.When(r)) {
			continue
		}
		due := tm.Due(m.PolicyOf(r), entered)
		if err := deadline.Schedule(ctx, tx, m.Subject, id, tm.Kind, due, now); err != nil {
			return err
		}
		tm.Store(mut, due)
	}
	return nil
}

// Start creates the subject id by the step begin (see Begin) within tx at now: it schedules the timers of
// the state the subject starts in, under the policy set p, and stores their due times on the creating
// mutation. r is the subject being created, for the timers' When conditions (nil when none has one).
func (t *T[S, R, M]) Start(ctx context.Context, tx *ent.Tx, r R, id string, p policy.Set, mut M, now time.Time) error {
	m := t.m
	for _, tm := range m.timers {
		if !slices.Contains(tm.In, t.To) || (tm.When != nil && !tm.When(r)) {
			continue
		}
		due := tm.Due(p, now)
		if err := deadline.Schedule(ctx, tx, m.Subject, id, tm.Kind, due, now); err != nil {
			return err
		}
		tm.Store(mut, due)
	}
	return nil
}

// Handler is the consequence of a due timer, applied within tx to the locked subject r.
type Handler[R any] func(ctx context.Context, tx *ent.Tx, r R, now time.Time) error

// Handle registers the timer with the engine: when it falls due, load reads its subject (or the sweep has
// read it ahead with the subject type's deadline.Loader) and, if the timer is Ready, apply runs its step;
// otherwise the deadline is stale and dropped. A subject read ahead may be out of date (see
// deadline.Preloaded): apply must write it back only at the revision it was read at.
func (tm *Timer[S, R, M]) Handle(e *deadline.Engine, load func(ctx context.Context, tx *ent.Tx, id string) (R, error), apply Handler[R]) {
	e.Handle(tm.Kind, func(ctx context.Context, tx *ent.Tx, d *ent.Deadline, now time.Time) error {
		r, ok := deadline.Preloaded[R](ctx, tm.m.Subject, d.SubjectID)
		if !ok {
			var err error
			if r, err = load(ctx, tx, d.SubjectID); err != nil {
				return err
			}
		}
		if !tm.Ready(r, now) {
			return deadline.ErrStale
		}
		return apply(ctx, tx, r, now)
	})
}
