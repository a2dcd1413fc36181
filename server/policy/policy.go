// Package policy holds the after-sales policy sets and exchange-rate tables as values: the two sets the
// platform ships (trade-assurance B2B and retail) and its first rate table, which become the first versions
// in every database, and the registry of every version known to this process. Operators publish more
// versions through PolicyService (server/policies); every order stores its programme and version when it is
// created, and a later version never applies to an existing order. Versions are immutable and their ids
// are unique per content (see VersionID), so the registry caches them for good.
package policy

import (
	"fmt"
	"math/big"
	"sort"
	"time"

	commonv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/common/v1"
	"github.com/tradeassure/tradeassure/server/apierr"
	"github.com/tradeassure/tradeassure/server/money"
)

const day = 24 * time.Hour

// Current is the version of the shipped sets and rate table: the first version in every database.
const Current = "2026-11-01"

// ShippedEffective is when the shipped versions are in force from: the beginning, before any order.
var ShippedEffective = time.Unix(0, 0).UTC()

// Set is one policy set at one version. Durations are calendar time unless named BusinessDays.
type Set struct {
	// Name is the set's programme: the rule book it follows where rules are not numbers.
	Name commonv1.Policy
	// SetName names the set ("trade-assurance", "retail" or one an operator created).
	SetName string
	Version string
	// EffectiveTime is when the version comes into force.
	EffectiveTime time.Time

	// Orders.
	AutoConfirmAfterDelivery time.Duration
	// NoExportAgentCapUSDMinor is the largest order a supplier without one-touch export may create; 0 means
	// no cap. Orders above it must ship through the export agent.
	NoExportAgentCapUSDMinor int64
	CardCapUSDMinor          int64
	PayLaterCapUSDMinor      int64
	// WesternUnionLimitUSDMinor is exclusive: payments must be under it.
	WesternUnionLimitUSDMinor int64
	TTExpectedSettle          time.Duration
	BankTransferSettle        time.Duration
	PlatformFeeBasisPoints    int64
	// SoldNotShippedFreeze is the sold-not-shipped count at which a supplier's account is frozen.
	SoldNotShippedFreeze int
	// ShipByHorizon is how far ahead of the draft (or change) a ship-by date may lie.
	ShipByHorizon time.Duration

	// Returns.
	ReturnWindow         time.Duration
	ReturnAnswer         time.Duration
	ReturnShip           time.Duration
	ReturnConfirm        time.Duration
	FreeReturnWindow     time.Duration
	FreeReturnCompensate int // business days

	// Disputes.
	DisputeWindow       time.Duration
	DisputeResponse     time.Duration
	DisputeEscalateFrom time.Duration // 0: only after the supplier rejects
	DisputeAutoEscalate time.Duration // 0: never
	ChargebackWindow    time.Duration
	// EvidenceDueHorizon is the longest an arbiter may give a party to answer an evidence request.
	EvidenceDueHorizon time.Duration

	// Complaints.
	ComplaintWindow               time.Duration
	ComplaintDecisionBusinessDays int
	// TradingRestrictionHorizon is the longest trading restriction a complaint may impose; for longer, the
	// arbiter bans the account (transaction fraud).
	TradingRestrictionHorizon time.Duration
}

// The shipped sets' names.
const (
	TradeAssurance = "trade-assurance"
	Retail         = "retail"
)

// shipped are the sets the platform ships, by version and programme.
var shipped = map[string]map[commonv1.Policy]Set{
	Current: {
		commonv1.Policy_POLICY_TRADE_ASSURANCE: {
			Name: commonv1.Policy_POLICY_TRADE_ASSURANCE, SetName: TradeAssurance, Version: Current, EffectiveTime: ShippedEffective,
			AutoConfirmAfterDelivery: 30 * day, NoExportAgentCapUSDMinor: 5_000_00,
			CardCapUSDMinor: 10_000_00, PayLaterCapUSDMinor: 150_000_00, WesternUnionLimitUSDMinor: 2_500_00,
			TTExpectedSettle: 7 * day, BankTransferSettle: 3 * day, PlatformFeeBasisPoints: 200,
			SoldNotShippedFreeze: 10, ShipByHorizon: 365 * day,
			ReturnWindow: 7 * day, ReturnAnswer: 1 * day, ReturnShip: 10 * day, ReturnConfirm: 30 * day,
			FreeReturnWindow: 0, FreeReturnCompensate: 2,
			DisputeWindow: 30 * day, DisputeResponse: 3 * day, DisputeEscalateFrom: 3 * day,
			DisputeAutoEscalate: 7 * day, ChargebackWindow: 180 * day, EvidenceDueHorizon: 30 * day,
			ComplaintWindow: 15 * day, ComplaintDecisionBusinessDays: 3, TradingRestrictionHorizon: 3 * 365 * day,
		},
		commonv1.Policy_POLICY_RETAIL: {
			Name: commonv1.Policy_POLICY_RETAIL, SetName: Retail, Version: Current, EffectiveTime: ShippedEffective,
			AutoConfirmAfterDelivery: 15 * day, NoExportAgentCapUSDMinor: 0,
			CardCapUSDMinor: 10_000_00, PayLaterCapUSDMinor: 150_000_00, WesternUnionLimitUSDMinor: 2_500_00,
			TTExpectedSettle: 7 * day, BankTransferSettle: 3 * day, PlatformFeeBasisPoints: 200,
			SoldNotShippedFreeze: 10, ShipByHorizon: 365 * day,
			ReturnWindow: 15 * day, ReturnAnswer: 1 * day, ReturnShip: 10 * day, ReturnConfirm: 30 * day,
			FreeReturnWindow: 15 * day, FreeReturnCompensate: 2,
			DisputeWindow: 15 * day, DisputeResponse: 5 * day, DisputeEscalateFrom: 0,
			DisputeAutoEscalate: 0, ChargebackWindow: 180 * day, EvidenceDueHorizon: 30 * day,
			ComplaintWindow: 15 * day, ComplaintDecisionBusinessDays: 3, TradingRestrictionHorizon: 3 * 365 * day,
		},
	},
}

// Get returns the policy set of programme p at version v: a shipped one, one registered by this process,
// or one a registered loader finds (a version another server process published).
func Get(p commonv1.Policy, v string) (Set, error) {
	if s, ok := lookup(p, v); ok {
		return s, nil
	}
	return Set{}, fmt.Errorf("no policy %s at version %q", p, v)
}

// MustGet is Get for a policy stored on an order, which always exists.
func MustGet(p commonv1.Policy, v string) Set {
	s, err := Get(p, v)
	if err != nil {
		panic(err)
	}
	return s
}

// AddBusinessDays returns t plus n business days (Monday to Friday), keeping the time of day.
func AddBusinessDays(t time.Time, n int) time.Time {
	for n > 0 {
		t = t.Add(day)
		if wd := t.Weekday(); wd != time.Saturday && wd != time.Sunday {
			n--
		}
	}
	return t
}

// CheckFuture refuses a client time that is not after now or lies beyond now + horizon: INVALID_ARGUMENT
// with ERROR_REASON_TIME_OUT_OF_RANGE, a field violation on field, and the window in the metadata
// ("earliest" is exclusive, "latest" inclusive). what names the time for a person ("the ship-by date").
func CheckFuture(field, what string, t, now time.Time, horizon time.Duration) *apierr.Error {
	latest := now.Add(horizon)
	var e *apierr.Error
	switch {
	case !t.After(now):
		e = apierr.InvalidWith(commonv1.ErrorReason_ERROR_REASON_TIME_OUT_OF_RANGE, field,
			"%s must be in the future (after %s)", what, now.UTC().Format(time.RFC3339))
	case t.After(latest):
		e = apierr.InvalidWith(commonv1.ErrorReason_ERROR_REASON_TIME_OUT_OF_RANGE, field,
			"%s may be at most %d days ahead, by %s; %s is later", what, int(horizon/day),
			latest.UTC().Format(time.RFC3339), formatTime(t))
	default:
		return nil
	}
	return e.With("earliest", now.UTC().Format(time.RFC3339)).With("latest", latest.UTC().Format(time.RFC3339))
}

// formatTime shows a client time, which may be outside the range RFC 3339 can show.
func formatTime(t time.Time) string {
	if y := t.Year(); y < 1 || y > 9999 {
		return fmt.Sprintf("a time in year %d", y)
	}
	return t.UTC().Format(time.RFC3339)
}

// digits is every currency the platform trades in, with its minor-unit digits.
var digits = map[string]int{"USD": 2, "EUR": 2, "GBP": 2, "CNY": 2, "JPY": 0, "CAD": 2, "AUD": 2, "HKD": 2}

// shippedRates is the platform's first rate table, in micro-USD per major unit.
var shippedRates = Rates{Version: Current, EffectiveTime: ShippedEffective, USDMicros: map[string]int64{
	"USD": 1_000_000,
	"EUR": 1_080_000,
	"GBP": 1_270_000,
	"CNY": 138_000,
	"JPY": 6_700,
	"CAD": 730_000,
	"AUD": 650_000,
	"HKD": 128_000,
}}

// Supported reports whether the platform trades in a currency (every rate table has a rate for it).
func Supported(currency string) bool { _, ok := digits[currency]; return ok }

// Currencies lists the currencies the platform trades in, sorted.
func Currencies() []string {
	out := make([]string, 0, len(digits))
	for c := range digits {
		out = append(out, c)
	}
	sort.Strings(out)
	return out
}

// MinorDigits is a supported currency's minor-unit digits.
func MinorDigits(currency string) int { return digits[currency] }

// Rates is one version of the exchange-rate table. The zero value is the shipped table.
type Rates struct {
	Version       string
	EffectiveTime time.Time
	// USDMicros is each currency's value in millionths of a US dollar per major unit.
	USDMicros map[string]int64
}

// ShippedRates is the shipped rate table.
func ShippedRates() Rates { return shippedRates }

func (r Rates) table() Rates {
	if r.USDMicros == nil {
		return shippedRates
	}
	return r
}

// ID is the table's version, also for the zero value.
func (r Rates) ID() string { return r.table().Version }

// ToUSDMinor converts an amount in minor units of currency into USD cents at the shipped rate table.
func ToUSDMinor(amountMinor int64, currency string) (int64, error) {
	return Rates{}.ToUSDMinor(amountMinor, currency)
}

// ToUSDMinor converts an amount in minor units of currency into USD cents at r, rounding half up.
func (r Rates) ToUSDMinor(amountMinor int64, currency string) (int64, error) {
	micro, ok := r.table().USDMicros[currency]
	if !ok {
		return 0, fmt.Errorf("no exchange rate for %q", currency)
	}
	num := new(big.Int).Mul(big.NewInt(amountMinor), big.NewInt(micro))
	num.Mul(num, big.NewInt(100))
	den := new(big.Int).Mul(new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(digits[currency])), nil), big.NewInt(1_000_000))
	q, m := new(big.Int).QuoRem(num, den, new(big.Int))
	if new(big.Int).Mul(m, big.NewInt(2)).Cmp(den) >= 0 {
		q.Add(q, big.NewInt(1))
	}
	if !q.IsInt64() {
		return 0, money.TooLarge("amount", "%d %s is %s USD minor units at the platform's rate", amountMinor, currency, q)
	}
	return q.Int64(), nil
}
