package servertest

import (
	"fmt"
	"testing"
	"time"
)

// Step runs one step of a scenario as the subtest name. Later steps build on what it did, so a failed step
// ends the scenario there (its failure names the step).
func Step(t *testing.T, name string, f func(t *testing.T)) {
	t.Helper()
	if !t.Run(name, f) {
		t.FailNow()
	}
}

// Field is one field of a checked message: its name, the value read and the value wanted (of the same
// type: an int64 field is wanted as an int64).
type Field struct {
	Name      string
	Got, Want any
}

// CheckFields reports, by name, every field of what whose value is not the wanted one.
func CheckFields(t testing.TB, what string, fields ...Field) {
	t.Helper()
	for _, f := range fields {
		if fmt.Sprintf("%T", f.Got) != fmt.Sprintf("%T", f.Want) {
			t.Errorf("%s.%s: read a %T, wanted a %T (%v); compare values of one type", what, f.Name, f.Got, f.Want, f.Want)
			continue
		}
		same := f.Got == f.Want
		if got, ok := f.Got.(time.Time); ok {
			same = got.Equal(f.Want.(time.Time)) // the same instant, whatever the location
		}
		if !same {
			t.Errorf("%s.%s = %v, want %v", what, f.Name, f.Got, f.Want)
		}
	}
}
