package bounds_test

import (
	"fmt"
	"strings"
	"testing"

	"buf.build/gen/go/bufbuild/protovalidate/protocolbuffers/go/buf/validate"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/tradeassure/tradeassure/server/bounds"
)

// unbounded lists the request fields that deliberately carry no upper bound, with the reason.
var unbounded = map[string]string{
	"tradeassure.order.v1.OrderLine.line_total_minor": "output only: the service computes it and ignores what a client sends",
}

func rulesOf(fd protoreflect.FieldDescriptor) *validate.FieldRules {
	r, _ := proto.GetExtension(fd.Options(), validate.E_Field).(*validate.FieldRules)
	return r
}

// TestEveryRequestFieldIsBounded walks every request message of every service, recursively, and fails
// for every string without a length bound, repeated field or map without an item bound, 64-bit integer
// without an upper bound, and timestamp without a range inside bounds.MinTime–bounds.MaxTime. A new field
// without a bound fails here before it reaches a server.
func TestEveryRequestFieldIsBounded(t *testing.T) {
	var problems []string
	fields := requestFields(t)
	for _, f := range fields {
		fd := f.field()
		if _, ok := unbounded[string(fd.FullName())]; ok {
			continue
		}
		if err := checkBounded(fd, rulesOf(fd)); err != nil {
			problems = append(problems, fmt.Sprintf("%s (%s): %v", f.name(), fd.FullName(), err))
		}
	}
	for _, p := range problems {
		t.Error(p)
	}
	if len(fields) < 300 {
		t.Errorf("walked %d request fields; the walk lost its way", len(fields))
	}
}

func checkBounded(fd protoreflect.FieldDescriptor, r *validate.FieldRules) error {
	switch {
	case fd.IsMap():
		if !r.GetMap().HasMaxPairs() {
			return fmt.Errorf("map without max_pairs")
		}
		if err := checkScalar(fd.MapKey(), fd.MapKey().Kind(), r.GetMap().GetKeys()); err != nil {
			return fmt.Errorf("keys: %w", err)
		}
		return checkScalar(fd.MapValue(), fd.MapValue().Kind(), r.GetMap().GetValues())
	case fd.IsList():
		if !r.GetRepeated().HasMaxItems() {
			return fmt.Errorf("repeated field without max_items")
		}
		return checkScalar(fd, fd.Kind(), r.GetRepeated().GetItems())
	}
	return checkScalar(fd, fd.Kind(), r)
}

// checkScalar checks the rules of one value (a singular field, or the items, keys or values of one).
func checkScalar(fd protoreflect.FieldDescriptor, kind protoreflect.Kind, r *validate.FieldRules) error {
	switch kind {
	case protoreflect.StringKind:
		if s := r.GetString(); !s.HasMaxLen() && !s.HasLen() {
			return fmt.Errorf("string without max_len")
		}
	case protoreflect.BytesKind:
		if b := r.GetBytes(); !b.HasMaxLen() && !b.HasLen() {
			return fmt.Errorf("bytes without max_len")
		}
	case protoreflect.Int64Kind, protoreflect.Sint64Kind, protoreflect.Sfixed64Kind:
		if i := r.GetInt64(); i == nil || (!i.HasLt() && !i.HasLte() && len(i.GetIn()) == 0) {
			if s := r.GetSint64(); s == nil || (!s.HasLt() && !s.HasLte()) {
				return fmt.Errorf("64-bit integer without an upper bound")
			}
		}
	case protoreflect.Uint64Kind, protoreflect.Fixed64Kind:
		if u := r.GetUint64(); u == nil || (!u.HasLt() && !u.HasLte()) {
			return fmt.Errorf("64-bit integer without an upper bound")
		}
	case protoreflect.FloatKind, protoreflect.DoubleKind:
		return fmt.Errorf("floating-point field: money and quantities are integers; add a range and a rule here")
	case protoreflect.MessageKind, protoreflect.GroupKind:
		switch name := fd.Message().FullName(); {
		case name == "google.protobuf.Timestamp":
			ts := r.GetTimestamp()
			lo, hi := ts.GetGte(), ts.GetLt()
			if ts.HasGt() {
				lo = ts.GetGt()
			}
			if ts.HasLte() {
				hi = ts.GetLte()
			}
			if lo == nil || hi == nil {
				return fmt.Errorf("timestamp without a range (gte and lt)")
			}
			if lo.AsTime().Before(bounds.MinTime) || hi.AsTime().After(bounds.MaxTime) {
				return fmt.Errorf("timestamp range %v–%v is wider than %v–%v", lo.AsTime(), hi.AsTime(), bounds.MinTime, bounds.MaxTime)
			}
		case name == "google.protobuf.Duration":
			if d := r.GetDuration(); d == nil || !(d.HasGte() || d.HasGt()) || !(d.HasLte() || d.HasLt()) {
				return fmt.Errorf("duration without a range (gte and lte)")
			}
		case strings.HasPrefix(string(name), "google.protobuf."):
			return fmt.Errorf("%s in a request: decide its bounds and check them here", name)
		}
	}
	return nil
}

// TestBoundsFollowTheScheme checks that fields of one kind share one bound, the one in package bounds:
// ids, request ids, etags, page tokens, emails and free text by length, amounts, quantities and line
// indexes by range, evidence lists and order lines by count.
func TestBoundsFollowTheScheme(t *testing.T) {
	for _, f := range requestFields(t) {
		fd := f.field()
		if _, ok := unbounded[string(fd.FullName())]; ok {
			continue
		}
		r := rulesOf(fd)
		name := string(fd.Name())
		if err := checkScheme(fd, name, r); err != nil {
			t.Errorf("%s (%s): %v", f.name(), fd.FullName(), err)
		}
	}
}

func checkScheme(fd protoreflect.FieldDescriptor, name string, r *validate.FieldRules) error {
	if fd.IsList() {
		if m := fd.Message(); m != nil && m.FullName() == "tradeassure.common.v1.Evidence" && r.GetRepeated().GetMaxItems() != bounds.MaxEvidence {
			return fmt.Errorf("evidence list bounded at %d items, want %d", r.GetRepeated().GetMaxItems(), bounds.MaxEvidence)
		}
		if name == "lines" && fd.Message() != nil && r.GetRepeated().GetMaxItems() != bounds.MaxOrderLines {
			return fmt.Errorf("line list bounded at %d items, want %d", r.GetRepeated().GetMaxItems(), bounds.MaxOrderLines)
		}
		return nil
	}
	switch fd.Kind() {
	case protoreflect.StringKind:
		s := r.GetString()
		bytesAs := func(n uint64) error {
			if s.GetMaxLen() != n || s.GetMaxBytes() != n {
				return fmt.Errorf("max_len %d, max_bytes %d; want both %d", s.GetMaxLen(), s.GetMaxBytes(), n)
			}
			return nil
		}
		free := bounds.IsFreeText(fd)
		switch {
		case name == "request_id":
			return bytesAs(bounds.RequestIDLen)
		case name == "etag":
			return bytesAs(bounds.EtagLen)
		case name == "page_token":
			return bytesAs(bounds.PageTokenLen)
		case name == "after_id" || name == "after_event_id":
			if s.GetMaxLen() != bounds.EventCursorLen {
				return fmt.Errorf("max_len %d, want %d", s.GetMaxLen(), bounds.EventCursorLen)
			}
		case name == "id" || strings.HasSuffix(name, "_id"):
			if s.GetMaxLen() == bounds.LedgerKeyLen {
				return bytesAs(bounds.LedgerKeyLen)
			}
			return bytesAs(bounds.IDLen)
		case strings.Contains(name, "email"):
			if s.GetMaxLen() != bounds.EmailLen {
				return fmt.Errorf("max_len %d, want %d", s.GetMaxLen(), bounds.EmailLen)
			}
		case free:
			if s.GetMaxLen() != bounds.TextLen && s.GetMaxLen() != bounds.LongTextLen {
				return fmt.Errorf("free text with max_len %d, want %d or %d", s.GetMaxLen(), bounds.TextLen, bounds.LongTextLen)
			}
		case s.GetMaxLen() >= bounds.TextLen:
			return fmt.Errorf("max_len %d is a free-text budget but the field is not marked free_text", s.GetMaxLen())
		}
	case protoreflect.Int64Kind:
		i := r.GetInt64()
		switch {
		case fd.FullName() == "tradeassure.common.v1.Money.amount_minor":
			if i.GetGte() != -bounds.MaxAmountMinor || i.GetLte() != bounds.MaxAmountMinor {
				return fmt.Errorf("range %d–%d, want ±%d", i.GetGte(), i.GetLte(), bounds.MaxAmountMinor)
			}
		case strings.HasSuffix(name, "_minor"):
			if !i.HasGte() || i.GetGte() != 0 || i.GetLte() != bounds.MaxAmountMinor {
				return fmt.Errorf("range %d–%d, want 0–%d", i.GetGte(), i.GetLte(), bounds.MaxAmountMinor)
			}
		case strings.Contains(name, "quantity"):
			if i.GetLte() != bounds.MaxLineQuantity {
				return fmt.Errorf("at most %d, want %d", i.GetLte(), bounds.MaxLineQuantity)
			}
		}
	case protoreflect.Int32Kind:
		if name == "line_index" && r.GetInt32().GetLt() != bounds.MaxOrderLines {
			return fmt.Errorf("below %d, want below %d", r.GetInt32().GetLt(), bounds.MaxOrderLines)
		}
	}
	return nil
}
