package describe

import (
	"math"
	"testing"

	disputev1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/dispute/v1"
	orderv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/order/v1"
)

func TestMoney(t *testing.T) {
	for _, c := range []struct {
		minor    int64
		currency string
		want     string
	}{
		{0, "USD", "0.00 USD"},
		{1, "USD", "0.01 USD"},
		{49400, "USD", "494.00 USD"},
		{-1250, "EUR", "-12.50 EUR"},
		{500, "JPY", "500 JPY"},
		{math.MaxInt64, "USD", "92233720368547758.07 USD"},
		{math.MinInt64, "USD", "-92233720368547758.08 USD"},
	} {
		if got := Money(c.minor, c.currency); got != c.want {
			t.Errorf("Money(%d, %s) = %q, want %q", c.minor, c.currency, got, c.want)
		}
	}
}

func TestEnum(t *testing.T) {
	for _, c := range []struct {
		name string
		got  string
		want string
	}{
		{"value", Enum(disputev1.Dispute_RESOLUTION_RETURN_AND_REFUND), "return and refund"},
		{"two-word type", Enum(orderv1.PaymentMethod_PAYMENT_METHOD_TT), "tt"},
		{"unspecified", Enum(disputev1.Dispute_STATE_UNSPECIFIED), "unspecified"},
		{"unknown number", Enum(disputev1.Dispute_State(999)), "unspecified"},
	} {
		if c.got != c.want {
			t.Errorf("%s: %q, want %q", c.name, c.got, c.want)
		}
	}
}
