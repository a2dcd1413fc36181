// Package money is the service's checked arithmetic on amounts in integer minor units. Every sum and
// product of money the service computes goes through it, so no amount can wrap around int64: a product that
// does not fit, or any amount beyond Max, is refused with ERROR_REASON_AMOUNT_TOO_LARGE instead of being
// stored as a small or negative number.
//
// The bound is the platform's: no single amount (an input, a line, an order total, a refund, a fee, a
// penalty, a withdrawal) may exceed Max minor units. Max is far above any real order (10^13 cents is 100
// billion USD) and far below int64's range, so a handful of bounded amounts can be added without any
// intermediate result overflowing. Balances are sums over time and are only bounded by int64; the ledger
// refuses a posting that would take a balance outside it.
package money

import (
	"math"
	"math/bits"

	"connectrpc.com/connect"

	commonv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/common/v1"
	"github.com/tradeassure/tradeassure/server/apierr"
)

// Max is the largest amount, in minor units of any currency, the platform handles: 10^13 (100 billion
// USD, or 10 trillion JPY). The schema bounds every amount a client sends by it, and every amount the
// service computes is checked against it.
const Max int64 = 10_000_000_000_000

// Within reports whether an amount is within ±Max.
func Within(x int64) bool { return x >= -Max && x <= Max }

// Add returns the sum of xs, or false when any term or the sum is outside ±Max. Each term is checked before
// it is added, so no intermediate sum can overflow.
func Add(xs ...int64) (int64, bool) {
	var sum int64
	for _, x := range xs {
		if !Within(x) {
			return 0, false
		}
		sum += x
		if !Within(sum) {
			return 0, false
		}
	}
	return sum, true
}

// Sub returns a − b, or false when a, b or the difference is outside ±Max.
func Sub(a, b int64) (int64, bool) {
	if !Within(b) {
		return 0, false
	}
	return Add(a, -b)
}

// Mul returns a × b (a quantity times a unit price, say), or false when the exact product is outside ±Max.
// The factors may be any int64; the product is computed exactly in 128 bits.
func Mul(a, b int64) (int64, bool) {
	hi, lo := bits.Mul64(abs(a), abs(b))
	if hi != 0 || lo > uint64(Max) {
		return 0, false
	}
	return signed(lo, (a < 0) != (b < 0)), true
}

// MulDiv returns a × b / c truncated toward zero (a share of an amount: fee × part / whole, or an amount in
// basis points), computed exactly in 128 bits, or false when c is zero or the quotient is outside ±Max.
func MulDiv(a, b, c int64) (int64, bool) {
	if c == 0 {
		return 0, false
	}
	hi, lo := bits.Mul64(abs(a), abs(b))
	d := abs(c)
	if hi >= d {
		return 0, false // the quotient would not fit in 64 bits
	}
	q, _ := bits.Div64(hi, lo, d)
	if q > uint64(Max) {
		return 0, false
	}
	return signed(q, (a < 0) != (b < 0) != (c < 0)), true
}

// Fee is the platform's fee on an amount, in basis points, rounded down; false when it is outside ±Max.
func Fee(amount, basisPoints int64) (int64, bool) { return MulDiv(amount, basisPoints, 10_000) }

// AddInt64 returns a + b, or false when the sum leaves int64 (for balances, which are sums over time and
// are bounded only by int64).
func AddInt64(a, b int64) (int64, bool) {
	s := a + b
	if (b > 0 && s < a) || (b < 0 && s > a) {
		return 0, false
	}
	return s, true
}

func abs(x int64) uint64 {
	if x < 0 {
		return uint64(-x) // -math.MinInt64 wraps to itself, whose uint64 is 2^63: still exact
	}
	return uint64(x)
}

func signed(u uint64, negative bool) int64 {
	if negative {
		return -int64(u)
	}
	return int64(u)
}

// MaxText is Max as a person reads it.
const MaxText = "10,000,000,000,000 minor units (100 billion USD)"

// TooLarge is the refusal of a request whose amount in field, or an amount computed from it, exceeds Max:
// INVALID_ARGUMENT with ERROR_REASON_AMOUNT_TOO_LARGE, a field violation on field, and the bound in the
// metadata ("max_minor"). The message says what was too large; it is followed by the bound.
func TooLarge(field, format string, args ...any) *apierr.Error {
	e := apierr.InvalidWith(commonv1.ErrorReason_ERROR_REASON_AMOUNT_TOO_LARGE, field, format+"; the platform handles at most "+MaxText+" per amount", args...)
	return e.With("max_minor", Max)
}

// StoredTooLarge is the refusal of a step on an object whose stored amounts are outside what the platform
// handles (an order drafted before amounts were checked, whose totals wrapped around): FAILED_PRECONDITION
// with ERROR_REASON_AMOUNT_TOO_LARGE, since no change to the request can make it succeed.
func StoredTooLarge(format string, args ...any) *apierr.Error {
	return apierr.New(connect.CodeFailedPrecondition, commonv1.ErrorReason_ERROR_REASON_AMOUNT_TOO_LARGE, format, args...).
		With("max_minor", Max)
}

// BalanceTooLarge is the refusal of a posting that would take a ledger balance outside int64.
func BalanceTooLarge(account string) *apierr.Error {
	return apierr.New(connect.CodeFailedPrecondition, commonv1.ErrorReason_ERROR_REASON_AMOUNT_TOO_LARGE,
		"the balance of ledger account %s would leave the range the platform can hold (±%d minor units)", account, int64(math.MaxInt64)).
		With("account_id", account)
}
