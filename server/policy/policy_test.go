package policy

import (
	"testing"
	"time"

	commonv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/common/v1"
)

func TestToUSDMinor(t *testing.T) {
	cases := []struct {
		amount   int64
		currency string
		want     int64
	}{
		{5_000_00, "USD", 5_000_00},
		{4_629_62, "EUR", 4_999_99}, // 4,999.9896 rounds down
		{4_629_63, "EUR", 5_000_00}, // 5,000.0004 rounds down
		{4_629_64, "EUR", 5_000_01},
		{746_269, "JPY", 5_000_00}, // yen has no minor unit: 746,269 × 0.0067 = 5,000.0023
		{1, "CNY", 0},              // 0.138 cents rounds to 0
		{4, "CNY", 1},              // 0.552 cents rounds half up to 1
	}
	for _, c := range cases {
		got, err := ToUSDMinor(c.amount, c.currency)
		if err != nil || got != c.want {
			t.Errorf("ToUSDMinor(%d %s) = %d, %v; want %d", c.amount, c.currency, got, err, c.want)
		}
	}
	if _, err := ToUSDMinor(1, "XYZ"); err == nil {
		t.Error("an unknown currency converted")
	}
}

func TestAddBusinessDays(t *testing.T) {
	wed := time.Date(2026, 3, 4, 9, 0, 0, 0, time.UTC)
	fri := time.Date(2026, 3, 6, 17, 0, 0, 0, time.UTC)
	sat := time.Date(2026, 3, 7, 10, 0, 0, 0, time.UTC)
	cases := []struct {
		from time.Time
		n    int
		want time.Time
	}{
		{wed, 3, time.Date(2026, 3, 9, 9, 0, 0, 0, time.UTC)},   // Thu, Fri, Mon
		{fri, 3, time.Date(2026, 3, 11, 17, 0, 0, 0, time.UTC)}, // Mon, Tue, Wed
		{sat, 1, time.Date(2026, 3, 9, 10, 0, 0, 0, time.UTC)},  // Mon
		{wed, 0, wed},
	}
	for _, c := range cases {
		if got := AddBusinessDays(c.from, c.n); !got.Equal(c.want) {
			t.Errorf("AddBusinessDays(%v, %d) = %v, want %v", c.from, c.n, got, c.want)
		}
	}
}

// TestPolicySets pins the numbers of docs/rules.md's policy table, so a change to them is deliberate.
func TestPolicySets(t *testing.T) {
	const day = 24 * time.Hour
	ta := MustGet(commonv1.Policy_POLICY_TRADE_ASSURANCE, Current)
	rt := MustGet(commonv1.Policy_POLICY_RETAIL, Current)
	checks := []struct {
		name      string
		got, want time.Duration
	}{
		{"TA auto-confirm", ta.AutoConfirmAfterDelivery, 30 * day},
		{"retail auto-confirm", rt.AutoConfirmAfterDelivery, 15 * day},
		{"TA return window", ta.ReturnWindow, 7 * day},
		{"retail return window", rt.ReturnWindow, 15 * day},
		{"return answer", ta.ReturnAnswer, day},
		{"return ship", rt.ReturnShip, 10 * day},
		{"return confirm", ta.ReturnConfirm, 30 * day},
		{"TA dispute response", ta.DisputeResponse, 3 * day},
		{"retail dispute response", rt.DisputeResponse, 5 * day},
		{"TA escalate from day 4", ta.DisputeEscalateFrom, 3 * day},
		{"TA auto-escalate on day 8", ta.DisputeAutoEscalate, 7 * day},
		{"TA dispute window", ta.DisputeWindow, 30 * day},
		{"retail dispute window", rt.DisputeWindow, 15 * day},
		{"complaint window", rt.ComplaintWindow, 15 * day},
		{"chargeback window", ta.ChargebackWindow, 180 * day},
		{"TA ship-by horizon", ta.ShipByHorizon, 365 * day},
		{"retail ship-by horizon", rt.ShipByHorizon, 365 * day},
		{"evidence due horizon", ta.EvidenceDueHorizon, 30 * day},
		{"restriction horizon", rt.TradingRestrictionHorizon, 3 * 365 * day},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
	if ta.NoExportAgentCapUSDMinor != 5_000_00 || rt.NoExportAgentCapUSDMinor != 0 {
		t.Errorf("export caps = %d / %d", ta.NoExportAgentCapUSDMinor, rt.NoExportAgentCapUSDMinor)
	}
	if ta.CardCapUSDMinor != 10_000_00 || ta.PlatformFeeBasisPoints != 200 || ta.ComplaintDecisionBusinessDays != 3 {
		t.Errorf("card cap %d, fee %d bp, complaint days %d", ta.CardCapUSDMinor, ta.PlatformFeeBasisPoints, ta.ComplaintDecisionBusinessDays)
	}
	if _, err := Get(commonv1.Policy_POLICY_RETAIL, "1999-01-01"); err == nil {
		t.Error("an unknown policy version was found")
	}
}

// TestCheckFuture checks a client time just inside and just outside each end of its window.
func TestCheckFuture(t *testing.T) {
	now := time.Date(2026, 3, 4, 9, 0, 0, 0, time.UTC)
	const horizon = 365 * 24 * time.Hour
	cases := []struct {
		name string
		at   time.Time
		ok   bool
	}{
		{"now", now, false},
		{"a nanosecond later", now.Add(time.Nanosecond), true},
		{"at the horizon", now.Add(horizon), true},
		{"a second past the horizon", now.Add(horizon + time.Second), false},
		{"year 10000", time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC), false},
		{"the past", now.Add(-time.Hour), false},
	}
	for _, c := range cases {
		err := CheckFuture("terms.ship_by_time", "the ship-by date", c.at, now, horizon)
		if (err == nil) != c.ok {
			t.Errorf("%s: err = %v, want ok %v", c.name, err, c.ok)
		}
		if err != nil && (err.Reason != commonv1.ErrorReason_ERROR_REASON_TIME_OUT_OF_RANGE ||
			len(err.Violations) != 1 || err.Violations[0].GetField() != "terms.ship_by_time" || err.Metadata["latest"] == "") {
			t.Errorf("%s: error = %+v", c.name, err)
		}
	}
}

func TestParamsNameTimeFields(t *testing.T) {
	s := MustGet(commonv1.Policy_POLICY_TRADE_ASSURANCE, Current)
	from := time.Date(2026, 11, 6, 10, 0, 0, 0, time.UTC) // a Friday
	for _, tc := range []struct {
		p    Param
		want time.Time
		text string
	}{
		{ReturnAnswer, from.Add(24 * time.Hour), "1 day"},
		{ReturnShip, from.Add(10 * 24 * time.Hour), "10 days"},
		{FreeReturnCompensate, from.Add(4 * 24 * time.Hour), "2 business days"},
		{ComplaintDecisionBusinessDays, from.Add(5 * 24 * time.Hour), "3 business days"},
	} {
		if got := s.After(tc.p, from); !got.Equal(tc.want) {
			t.Errorf("After(%s) = %s, want %s", tc.p, got, tc.want)
		}
		if got := s.Describe(tc.p); got != tc.text {
			t.Errorf("Describe(%s) = %q, want %q", tc.p, got, tc.text)
		}
	}
	for _, p := range []Param{AutoConfirmAfterDelivery, ReturnConfirm, DisputeResponse, DisputeAutoEscalate, TTExpectedSettle, BankTransferSettle} {
		_ = s.After(p, from) // panics on a name that is not a field
	}
	if got := MustGet(commonv1.Policy_POLICY_RETAIL, Current).Describe(DisputeAutoEscalate); got != "never" {
		t.Errorf("retail DisputeAutoEscalate = %q, want never", got)
	}
}
