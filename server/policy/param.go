package policy

import (
	"fmt"
	"reflect"
	"sort"
	"time"

	commonv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/common/v1"
)

// Param names one time parameter of a policy set: a field of Set holding a duration, or a whole number of
// business days when its name ends in BusinessDays or is listed in businessDays. Timers name the parameter
// they run for, and After is the one place a timer's due time is computed from a policy set.
type Param string

// The time parameters timers run for.
const (
	AutoConfirmAfterDelivery      Param = "AutoConfirmAfterDelivery"
	ReturnAnswer                  Param = "ReturnAnswer"
	ReturnShip                    Param = "ReturnShip"
	ReturnConfirm                 Param = "ReturnConfirm"
	FreeReturnCompensate          Param = "FreeReturnCompensate"
	DisputeWindow                 Param = "DisputeWindow"
	DisputeResponse               Param = "DisputeResponse"
	DisputeAutoEscalate           Param = "DisputeAutoEscalate"
	ComplaintDecisionBusinessDays Param = "ComplaintDecisionBusinessDays"
	TTExpectedSettle              Param = "TTExpectedSettle"
	BankTransferSettle            Param = "BankTransferSettle"
)

// value is the field of s that p names.
func (s Set) value(p Param) reflect.Value {
	v := reflect.ValueOf(s).FieldByName(string(p))
	if !v.IsValid() {
		panic(fmt.Sprintf("policy set has no parameter %q", p))
	}
	return v
}

// After is the time p after from under s: a duration added, or business days counted (AddBusinessDays).
// It is kept to the microsecond, the precision every storage engine keeps, so a due time read back from
// the database compares equal to the one computed.
func (s Set) After(p Param, from time.Time) time.Time {
	v := s.value(p)
	if d, ok := v.Interface().(time.Duration); ok {
		return from.Add(d).Truncate(time.Microsecond)
	}
	return AddBusinessDays(from, int(v.Int())).Truncate(time.Microsecond)
}

// Describe is p under s in words: "7 days", "36 hours", "3 business days", or "never" for a zero duration.
func (s Set) Describe(p Param) string {
	v := s.value(p)
	d, ok := v.Interface().(time.Duration)
	if !ok {
		return plural(int(v.Int()), "business day")
	}
	switch {
	case d == 0:
		return "never"
	case d%day == 0:
		return plural(int(d/day), "day")
	case d%time.Hour == 0:
		return plural(int(d/time.Hour), "hour")
	}
	return d.String()
}

func plural(n int, unit string) string {
	if n == 1 {
		return "1 " + unit
	}
	return fmt.Sprintf("%d %ss", n, unit)
}

// Sets lists the shipped policy sets of every shipped version, newest version first, trade assurance
// before retail.
func Sets() []Set {
	versions := make([]string, 0, len(shipped))
	for v := range shipped {
		versions = append(versions, v)
	}
	sort.Sort(sort.Reverse(sort.StringSlice(versions)))
	var out []Set
	for _, v := range versions {
		for _, p := range []commonv1.Policy{commonv1.Policy_POLICY_TRADE_ASSURANCE, commonv1.Policy_POLICY_RETAIL} {
			if s, ok := shipped[v][p]; ok {
				out = append(out, s)
			}
		}
	}
	return out
}
