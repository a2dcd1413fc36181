// Package describe writes values for people: the sentences of timelines and case steps say "494.00 USD"
// and "full refund", never minor units or enum value names.
package describe

import (
	"fmt"
	"strings"
	"unicode"

	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/tradeassure/tradeassure/server/policy"
)

// Money writes an amount in minor units with its currency's decimals: (49400, "USD") → "494.00 USD",
// (500, "JPY") → "500 JPY".
func Money(minor int64, currency string) string {
	sign, u := "", uint64(minor)
	if minor < 0 {
		sign, u = "-", uint64(-(minor+1))+1 // the most negative value too
	}
	d := policy.MinorDigits(currency)
	if d == 0 {
		return fmt.Sprintf("%s%d %s", sign, u, currency)
	}
	scale := uint64(1)
	for range d {
		scale *= 10
	}
	return fmt.Sprintf("%s%d.%0*d %s", sign, u/scale, d, u%scale, currency)
}

// Enum writes an enum value as words without its type's prefix: Resolution FULL_REFUND (value name
// "RESOLUTION_FULL_REFUND") → "full refund"; an unspecified or unknown value → "unspecified".
func Enum(e protoreflect.Enum) string {
	v := e.Descriptor().Values().ByNumber(e.Number())
	if v == nil || e.Number() == 0 {
		return "unspecified"
	}
	return Words(string(v.Name()), snake(string(e.Descriptor().Name()))+"_")
}

// Words turns an enum value name into words: ("PAYMENT_METHOD_TT", "PAYMENT_METHOD_") → "tt".
func Words(name, prefix string) string {
	return strings.ToLower(strings.ReplaceAll(strings.TrimPrefix(name, prefix), "_", " "))
}

// snake writes a CamelCase name as SCREAMING_SNAKE: "PaymentMethod" → "PAYMENT_METHOD".
func snake(name string) string {
	var b strings.Builder
	for i, r := range name {
		if i > 0 && unicode.IsUpper(r) {
			b.WriteByte('_')
		}
		b.WriteRune(unicode.ToUpper(r))
	}
	return b.String()
}
