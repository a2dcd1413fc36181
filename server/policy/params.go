package policy

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"reflect"
	"strings"
	"time"
	"unicode"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/durationpb"

	commonv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/common/v1"
	policyv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/policy/v1"
	"github.com/tradeassure/tradeassure/server/money"
)

// Bounds of a published parameter.
const (
	// MinDuration and MaxDuration bound every duration parameter that must be set.
	MinDuration = time.Hour
	MaxDuration = 3650 * day
	// MaxBusinessDays bounds the business-day parameters.
	MaxBusinessDays = 60
	// MaxBasisPoints is a fee of 100%.
	MaxBasisPoints = 10_000
	// MaxFreeze bounds the sold-not-shipped freeze threshold.
	MaxFreeze = 1_000_000
)

// zeroMeans lists the durations 0 is allowed for, and what it means.
var zeroMeans = map[string]string{
	"FreeReturnWindow":    "no free-return programme",
	"DisputeEscalateFrom": "only after the supplier rejects",
	"DisputeAutoEscalate": "never",
}

// Parameters is the set's numbers in their API form.
func (s Set) Parameters() *policyv1.PolicyParameters {
	out := &policyv1.PolicyParameters{}
	forEach(&s, out, func(_ string, sf, pf reflect.Value) {
		switch v := sf.Interface().(type) {
		case time.Duration:
			pf.Set(reflect.ValueOf(durationpb.New(v)))
		case int:
			pf.SetInt(int64(v))
		case int64:
			pf.SetInt(v)
		}
	})
	return out
}

// WithParameters is s with the numbers of p (zero for those unset).
func (s Set) WithParameters(p *policyv1.PolicyParameters) Set {
	if p == nil {
		p = &policyv1.PolicyParameters{}
	}
	forEach(&s, p, func(_ string, sf, pf reflect.Value) {
		switch sf.Interface().(type) {
		case time.Duration:
			sf.SetInt(int64(pf.Interface().(*durationpb.Duration).AsDuration()))
		case int, int64:
			sf.SetInt(pf.Int())
		}
	})
	return s
}

// forEach calls fn with the name of each numeric field of s, the field (settable) and the PolicyParameters
// field of the same name in snake case, so the two can never drift apart: a Set field without a parameter
// panics (TestParametersRoundTrip).
func forEach(s *Set, p *policyv1.PolicyParameters, fn func(name string, sf, pf reflect.Value)) {
	sv, pv := reflect.ValueOf(s).Elem(), reflect.ValueOf(p).Elem()
	t := sv.Type()
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		switch f.Name {
		case "Name", "SetName", "Version", "EffectiveTime":
			continue
		}
		pf := pv.FieldByName(protoFieldName(f.Name))
		if !pf.IsValid() {
			panic(fmt.Sprintf("PolicyParameters has no field for %s", f.Name))
		}
		fn(f.Name, sv.Field(i), pf)
	}
}

// protoFieldName is the Go name protoc-gen-go gives the parameter for a Set field: USD becomes Usd, and
// the two business-day counts carry their unit.
func protoFieldName(name string) string {
	switch name {
	case "FreeReturnCompensate":
		return "FreeReturnCompensateBusinessDays"
	case "TTExpectedSettle":
		return "TtExpectedSettle"
	}
	return strings.ReplaceAll(name, "USD", "Usd")
}

// snake is a Set field's parameter name in the API ("return_window").
func snake(name string) string {
	name = protoFieldName(name)
	var b strings.Builder
	for i, r := range name {
		if unicode.IsUpper(r) {
			if i > 0 {
				b.WriteByte('_')
			}
			r = unicode.ToLower(r)
		}
		b.WriteRune(r)
	}
	return b.String()
}

// Violation is one parameter out of its bounds.
type Violation struct {
	Field       string // the API field, "parameters.return_window"
	Description string
}

// Check lists every parameter of p out of its bounds, by API field under prefix ("parameters.").
func Check(prefix string, p *policyv1.PolicyParameters) []Violation {
	var out []Violation
	bad := func(name, format string, args ...any) {
		out = append(out, Violation{Field: prefix + snake(name), Description: fmt.Sprintf(format, args...)})
	}
	forEach(&Set{}, p, func(name string, sf, pf reflect.Value) {
		switch sf.Interface().(type) {
		case time.Duration:
			d, _ := pf.Interface().(*durationpb.Duration)
			if d == nil {
				bad(name, "is required")
				return
			}
			if err := d.CheckValid(); err != nil {
				bad(name, "is not a valid duration: %v", err)
				return
			}
			v := d.AsDuration()
			if v == 0 && zeroMeans[name] != "" {
				return
			}
			if v < MinDuration || v > MaxDuration {
				hint := ""
				if z := zeroMeans[name]; z != "" {
					hint = fmt.Sprintf(" (or 0 for %s)", z)
				}
				bad(name, "must be from 1 hour to %d days%s; got %s", int(MaxDuration/day), hint, v)
			}
		case int:
			v, limit, lo := pf.Int(), int64(MaxBusinessDays), int64(1)
			if name == "SoldNotShippedFreeze" {
				limit, lo = MaxFreeze, 0
			}
			if v < lo || v > limit {
				bad(name, "must be from %d to %d; got %d", lo, limit, v)
			}
		case int64:
			v := pf.Int()
			if name == "PlatformFeeBasisPoints" {
				if v < 0 || v > MaxBasisPoints {
					bad(name, "must be from 0 to %d basis points (0%% to 100%%); got %d", MaxBasisPoints, v)
				}
				return
			}
			if v < 0 || v > money.Max {
				bad(name, "must be from 0 to %d USD minor units; got %d", money.Max, v)
			}
		}
	})
	if len(out) == 0 {
		if from, auto := p.GetDisputeEscalateFrom().AsDuration(), p.GetDisputeAutoEscalate().AsDuration(); auto > 0 && from >= auto {
			bad("DisputeAutoEscalate", "must be later than dispute_escalate_from (%s); got %s", from, auto)
		}
	}
	return out
}

// VersionID is the id of a version published with effective time at: its date and a digest of everything
// it is, so the same id never names two different versions, in any database.
func VersionID(setName string, p commonv1.Policy, at time.Time, params *policyv1.PolicyParameters) string {
	b, _ := proto.MarshalOptions{Deterministic: true}.Marshal(params)
	return digestID(at, fmt.Sprintf("%s\x00%d\x00%d\x00", setName, p, at.UnixNano()), b)
}

// RatesID is the id of a rate table published with effective time at.
func RatesID(at time.Time, r map[string]int64) string {
	var b strings.Builder
	for _, c := range Currencies() {
		fmt.Fprintf(&b, "%s=%d;", c, r[c])
	}
	return digestID(at, fmt.Sprintf("%d\x00", at.UnixNano()), []byte(b.String()))
}

func digestID(at time.Time, head string, body []byte) string {
	h := sha256.New()
	h.Write([]byte(head))
	h.Write(body)
	return at.UTC().Format("2006-01-02") + "." + hex.EncodeToString(h.Sum(nil))[:12]
}
