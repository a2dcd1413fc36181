// Package transitiontest checks a domain's state machine against a specification written as a matrix:
// for every transition, from which of the machine's states it may run. The tests run without a server.
package transitiontest

import (
	"errors"
	"strings"
	"testing"
	"time"

	commonv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/common/v1"
	"github.com/tradeassure/tradeassure/server/apierr"
	"github.com/tradeassure/tradeassure/server/transition"
)

// Row is one line of the matrix: the transition, and one mark per state of the machine's States in order,
// "x" where the transition may run and "." where it is refused with ILLEGAL_STATE; spaces are ignored.
type Row[S comparable, R any, M any] struct {
	T       *transition.T[S, R, M]
	Allowed string
}

// Allow is a Row.
func Allow[S comparable, R any, M any](t *transition.T[S, R, M], allowed string) Row[S, R, M] {
	return Row[S, R, M]{T: t, Allowed: allowed}
}

// Matrix checks every transition of m from every state. subject makes a subject in a state. Every
// transition of m must have a row, so a new transition cannot go unspecified.
func Matrix[S comparable, R any, M any](t *testing.T, m *transition.Machine[S, R, M], subject func(S) R, rows []Row[S, R, M]) {
	t.Helper()
	seen := map[*transition.T[S, R, M]]bool{}
	for _, row := range rows {
		seen[row.T] = true
		marks := strings.ReplaceAll(row.Allowed, " ", "")
		if len(marks) != len(m.States) {
			t.Fatalf("%s (%s): %d marks for %d states", row.T.Name, row.T.By, len(marks), len(m.States))
		}
		for i, st := range m.States {
			want := marks[i] == 'x'
			r := subject(st)
			name := row.T.Name + " (" + row.T.By + ") from " + m.Name(st)
			if got := row.T.Possible(r); got != want {
				t.Errorf("%s: possible = %v, want %v", name, got, want)
			}
			err := row.T.Check(r)
			if want != (err == nil) {
				t.Errorf("%s: check = %v", name, err)
			}
			if err != nil {
				var ae *apierr.Error
				if !errors.As(err, &ae) || ae.Reason != commonv1.ErrorReason_ERROR_REASON_ILLEGAL_STATE {
					t.Errorf("%s: refused with %v, want ILLEGAL_STATE", name, err)
				}
			}
		}
	}
	for _, tr := range m.Transitions() {
		if !seen[tr] && len(tr.From) > 0 {
			t.Errorf("transition %q (%s) has no row in the specification", tr.Name, tr.By)
		}
	}
}

// Open checks which states are open (a subject in them is still running), as marks like Matrix's.
func Open[S comparable, R any, M any](t *testing.T, m *transition.Machine[S, R, M], marks string) {
	t.Helper()
	marks = strings.ReplaceAll(marks, " ", "")
	for i, st := range m.States {
		if got, want := m.Open(st), marks[i] == 'x'; got != want {
			t.Errorf("state %s: open = %v, want %v", m.Name(st), got, want)
		}
	}
}

// Deadline checks a timer at the edge of its due time: a subject in the timer's state with due time due is
// not ready just before due and is ready at it; a user step other (not the timer's step) is allowed just
// before and, when the timer blocks and other is not Late, refused with DEADLINE_PASSED at due.
func Deadline[S comparable, R any, M any](t *testing.T, tm *transition.Timer[S, R, M], subject func(due time.Time) R, other *transition.T[S, R, M], due time.Time) {
	t.Helper()
	r := subject(due)
	before, at := due.Add(-time.Nanosecond), due
	if tm.Ready(r, before) {
		t.Errorf("timer %s is ready just before it is due", tm.Kind)
	}
	if !tm.Ready(r, at) {
		t.Errorf("timer %s is not ready when it is due", tm.Kind)
	}
	if other == nil {
		return
	}
	if err := other.CheckAt(r, before); err != nil {
		t.Errorf("%s just before %s is due: %v", other.Name, tm.Kind, err)
	}
	err := other.CheckAt(r, at)
	if other.Late || !tm.Blocks {
		if err != nil {
			t.Errorf("%s (allowed late, or the timer does not block) when %s is due: %v", other.Name, tm.Kind, err)
		}
		return
	}
	var ae *apierr.Error
	if !errors.As(err, &ae) || ae.Reason != commonv1.ErrorReason_ERROR_REASON_DEADLINE_PASSED {
		t.Errorf("%s when %s is due: %v, want DEADLINE_PASSED", other.Name, tm.Kind, err)
	}
}
