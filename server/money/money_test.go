package money

import (
	"math"
	"math/big"
	"testing"
)

func TestAddSubMul(t *testing.T) {
	cases := []struct {
		name   string
		got    func() (int64, bool)
		want   int64
		wantOK bool
	}{
		{"add just inside", func() (int64, bool) { return Add(Max-1, 1) }, Max, true},
		{"add just outside", func() (int64, bool) { return Add(Max, 1) }, 0, false},
		{"add negative just inside", func() (int64, bool) { return Add(-Max+1, -1) }, -Max, true},
		{"add negative just outside", func() (int64, bool) { return Add(-Max, -1) }, 0, false},
		{"add term outside", func() (int64, bool) { return Add(math.MaxInt64, -math.MaxInt64) }, 0, false},
		{"add many", func() (int64, bool) { return Add(1, 2, 3, 4) }, 10, true},
		{"add none", func() (int64, bool) { return Add() }, 0, true},
		{"sub inside", func() (int64, bool) { return Sub(0, Max) }, -Max, true},
		{"sub outside", func() (int64, bool) { return Sub(-1, Max) }, 0, false},
		{"sub MinInt64", func() (int64, bool) { return Sub(0, math.MinInt64) }, 0, false},
		{"mul just inside", func() (int64, bool) { return Mul(2, Max/2) }, Max, true},
		{"mul just outside", func() (int64, bool) { return Mul(2, Max/2+1) }, 0, false},
		{"mul issue probe 4 × 4611686018427387929", func() (int64, bool) { return Mul(4, 4611686018427387929) }, 0, false},
		{"mul issue probe 10 × MaxInt64", func() (int64, bool) { return Mul(10, math.MaxInt64) }, 0, false},
		{"mul MinInt64", func() (int64, bool) { return Mul(math.MinInt64, -1) }, 0, false},
		{"mul negative", func() (int64, bool) { return Mul(-3, 7) }, -21, true},
		{"mul zero by huge", func() (int64, bool) { return Mul(0, math.MaxInt64) }, 0, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, ok := c.got()
			if ok != c.wantOK || (ok && got != c.want) {
				t.Fatalf("got %d, %v; want %d, %v", got, ok, c.want, c.wantOK)
			}
		})
	}
}

func TestMulDiv(t *testing.T) {
	cases := []struct {
		a, b, c int64
		want    int64
		ok      bool
	}{
		{Max, Max, Max, Max, true},                  // a 10^26 intermediate is exact
		{Max, Max - 1, Max, Max - 1, true},          // just inside
		{Max, Max + 1, Max, 0, false},               // just outside
		{math.MaxInt64, math.MaxInt64, 1, 0, false}, // quotient beyond 64 bits
		{7, 3, 2, 10, true},                         // truncated
		{-7, 3, 2, -10, true},                       // toward zero
		{7, -3, -2, 10, true},                       // signs cancel
		{1, 1, 0, 0, false},                         // no division by zero
		{123_456_789, 200, 10_000, 2_469_135, true}, // a 2% fee
	}
	for _, c := range cases {
		got, ok := MulDiv(c.a, c.b, c.c)
		if ok != c.ok || (ok && got != c.want) {
			t.Errorf("MulDiv(%d, %d, %d) = %d, %v; want %d, %v", c.a, c.b, c.c, got, ok, c.want, c.ok)
		}
	}
	// |MinInt64| is 2^63, which only the 128-bit intermediate holds.
	if got, ok := MulDiv(math.MinInt64, 1, math.MinInt64); !ok || got != 1 {
		t.Errorf("MulDiv(MinInt64, 1, MinInt64) = %d, %v; want 1, true", got, ok)
	}
}

// FuzzMulDiv checks the 128-bit arithmetic against math/big for any operands.
func FuzzMulDiv(f *testing.F) {
	f.Add(int64(4), int64(4611686018427387929), int64(1))
	f.Add(int64(10), int64(math.MaxInt64), int64(3))
	f.Add(int64(math.MinInt64), int64(-1), int64(-7))
	f.Fuzz(func(t *testing.T, a, b, c int64) {
		exact := new(big.Int).Mul(big.NewInt(a), big.NewInt(b))
		inRange := func(x *big.Int) bool { return x.CmpAbs(big.NewInt(Max)) <= 0 }
		got, ok := Mul(a, b)
		if ok != inRange(exact) || (ok && got != exact.Int64()) {
			t.Fatalf("Mul(%d, %d) = %d, %v; exact %s", a, b, got, ok, exact)
		}
		if c == 0 {
			if _, ok := MulDiv(a, b, c); ok {
				t.Fatalf("MulDiv by zero succeeded")
			}
			return
		}
		q := new(big.Int).Quo(exact, big.NewInt(c)) // truncated toward zero, like Go's /
		got, ok = MulDiv(a, b, c)
		if ok != inRange(q) || (ok && got != q.Int64()) {
			t.Fatalf("MulDiv(%d, %d, %d) = %d, %v; exact %s", a, b, c, got, ok, q)
		}
		s := new(big.Int).Add(big.NewInt(a), big.NewInt(b))
		got, ok = Add(a, b)
		wantOK := Within(a) && Within(b) && inRange(s)
		if ok != wantOK || (ok && got != s.Int64()) {
			t.Fatalf("Add(%d, %d) = %d, %v; exact %s", a, b, got, ok, s)
		}
		s = new(big.Int).Add(big.NewInt(a), big.NewInt(b))
		got, ok = AddInt64(a, b)
		if ok != s.IsInt64() || (ok && got != s.Int64()) {
			t.Fatalf("AddInt64(%d, %d) = %d, %v; exact %s", a, b, got, ok, s)
		}
	})
}
