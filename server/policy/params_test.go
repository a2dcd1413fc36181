package policy

import (
	"testing"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/durationpb"

	commonv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/common/v1"
	policyv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/policy/v1"
)

// TestParametersRoundTrip converts every shipped set to its API form and back.
func TestParametersRoundTrip(t *testing.T) {
	for _, s := range Sets() {
		back := Set{Name: s.Name, SetName: s.SetName, Version: s.Version, EffectiveTime: s.EffectiveTime}.WithParameters(s.Parameters())
		if back != s {
			t.Errorf("%s: round trip = %+v, want %+v", s.SetName, back, s)
		}
		if vs := Check("parameters.", s.Parameters()); len(vs) != 0 {
			t.Errorf("%s: the shipped set is out of bounds: %v", s.SetName, vs)
		}
	}
	if got := MustGet(commonv1.Policy_POLICY_TRADE_ASSURANCE, Current).Parameters().GetReturnWindow().AsDuration(); got != 7*day {
		t.Errorf("TA return window = %s", got)
	}
}

// TestCheckBounds tries each kind of parameter just inside and just outside its bounds.
func TestCheckBounds(t *testing.T) {
	base := MustGet(commonv1.Policy_POLICY_TRADE_ASSURANCE, Current).Parameters()
	cases := []struct {
		name  string
		edit  func(p *policyv1.PolicyParameters)
		field string // "" when accepted
	}{
		{"duration at 1 hour", func(p *policyv1.PolicyParameters) { p.ReturnAnswer = durationpb.New(time.Hour) }, ""},
		{"duration just under 1 hour", func(p *policyv1.PolicyParameters) { p.ReturnAnswer = durationpb.New(time.Hour - time.Second) }, "parameters.return_answer"},
		{"duration at 3650 days", func(p *policyv1.PolicyParameters) { p.ReturnConfirm = durationpb.New(MaxDuration) }, ""},
		{"duration just over 3650 days", func(p *policyv1.PolicyParameters) { p.ReturnConfirm = durationpb.New(MaxDuration + time.Second) }, "parameters.return_confirm"},
		{"zero return window", func(p *policyv1.PolicyParameters) { p.ReturnWindow = durationpb.New(0) }, "parameters.return_window"},
		{"zero auto-escalation means never", func(p *policyv1.PolicyParameters) { p.DisputeAutoEscalate = durationpb.New(0) }, ""},
		{"auto-escalation not after escalation", func(p *policyv1.PolicyParameters) { p.DisputeAutoEscalate = p.DisputeEscalateFrom }, "parameters.dispute_auto_escalate"},
		{"unset duration", func(p *policyv1.PolicyParameters) { p.TtExpectedSettle = nil }, "parameters.tt_expected_settle"},
		{"fee at 10000", func(p *policyv1.PolicyParameters) { p.PlatformFeeBasisPoints = 10_000 }, ""},
		{"fee at 10001", func(p *policyv1.PolicyParameters) { p.PlatformFeeBasisPoints = 10_001 }, "parameters.platform_fee_basis_points"},
		{"fee at -1", func(p *policyv1.PolicyParameters) { p.PlatformFeeBasisPoints = -1 }, "parameters.platform_fee_basis_points"},
		{"cap at 0", func(p *policyv1.PolicyParameters) { p.CardCapUsdMinor = 0 }, ""},
		{"cap at -1", func(p *policyv1.PolicyParameters) { p.PayLaterCapUsdMinor = -1 }, "parameters.pay_later_cap_usd_minor"},
		{"business days at 60", func(p *policyv1.PolicyParameters) { p.FreeReturnCompensateBusinessDays = 60 }, ""},
		{"business days at 61", func(p *policyv1.PolicyParameters) { p.FreeReturnCompensateBusinessDays = 61 }, "parameters.free_return_compensate_business_days"},
		{"freeze at 0 means never", func(p *policyv1.PolicyParameters) { p.SoldNotShippedFreeze = 0 }, ""},
	}
	for _, c := range cases {
		p := proto.Clone(base).(*policyv1.PolicyParameters)
		c.edit(p)
		vs := Check("parameters.", p)
		switch {
		case c.field == "" && len(vs) != 0:
			t.Errorf("%s: refused: %v", c.name, vs)
		case c.field != "" && (len(vs) != 1 || vs[0].Field != c.field):
			t.Errorf("%s: violations %v, want one on %s", c.name, vs, c.field)
		}
	}
}

// TestVersionIDs: the id changes with anything about the version, so one id never names two versions.
func TestVersionIDs(t *testing.T) {
	at := time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC)
	p := MustGet(commonv1.Policy_POLICY_RETAIL, Current).Parameters()
	id := VersionID(Retail, commonv1.Policy_POLICY_RETAIL, at, p)
	if id[:11] != "2026-12-02." || len(id) != 23 {
		t.Fatalf("id %q", id)
	}
	q := proto.Clone(p).(*policyv1.PolicyParameters)
	q.ReturnWindow = durationpb.New(16 * day)
	for _, other := range []string{
		VersionID("wholesale-eu", commonv1.Policy_POLICY_RETAIL, at, p),
		VersionID(Retail, commonv1.Policy_POLICY_TRADE_ASSURANCE, at, p),
		VersionID(Retail, commonv1.Policy_POLICY_RETAIL, at.Add(time.Microsecond), p),
		VersionID(Retail, commonv1.Policy_POLICY_RETAIL, at, q),
	} {
		if other == id {
			t.Errorf("two versions share id %s", id)
		}
	}
	if VersionID(Retail, commonv1.Policy_POLICY_RETAIL, at, proto.Clone(p).(*policyv1.PolicyParameters)) != id {
		t.Error("the same version got two ids")
	}
	r := map[string]int64{"USD": 1_000_000, "EUR": 1_100_000}
	if RatesID(at, r) == RatesID(at, map[string]int64{"USD": 1_000_000, "EUR": 1_100_001}) {
		t.Error("two rate tables share an id")
	}
}

// TestRatesToUSD converts at a published table and at the zero value (the shipped table).
func TestRatesToUSD(t *testing.T) {
	r := Rates{Version: "x", USDMicros: map[string]int64{"EUR": 1_100_000}}
	if got, err := r.ToUSDMinor(4_629_62, "EUR"); err != nil || got != 5_092_58 {
		t.Errorf("at 1.10: %d %v", got, err)
	}
	if got, err := (Rates{}).ToUSDMinor(4_629_62, "EUR"); err != nil || got != 4_999_99 {
		t.Errorf("shipped: %d %v", got, err)
	}
	if _, err := LookupRates("no-such-table"); err == nil {
		t.Error("an unknown table was found")
	}
}
