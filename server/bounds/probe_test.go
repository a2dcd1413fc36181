package bounds_test

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"buf.build/go/protovalidate"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/tradeassure/tradeassure/server/bounds"
)

func newValidator(t testing.TB) *bounds.Validator {
	t.Helper()
	v, err := bounds.NewValidator()
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// build returns a request with the field at f set by leaf (intermediate messages are created, with one
// element in repeated fields on the way).
func build(f fieldRef, leaf func(m protoreflect.Message, fd protoreflect.FieldDescriptor)) proto.Message {
	root := f.root.New()
	cur := root
	for _, fd := range f.path[:len(f.path)-1] {
		if fd.IsList() {
			cur = cur.Mutable(fd).List().AppendMutable().Message()
		} else {
			cur = cur.Mutable(fd).Message()
		}
	}
	leaf(cur, f.field())
	return root.Interface()
}

func setValue(v protoreflect.Value) func(protoreflect.Message, protoreflect.FieldDescriptor) {
	return func(m protoreflect.Message, fd protoreflect.FieldDescriptor) {
		if fd.IsList() {
			m.Mutable(fd).List().Append(v)
			return
		}
		m.Set(fd, v)
	}
}

// violationsAt validates msg and returns the violations at path (or, with prefix, at path or a parent).
func violationsAt(t testing.TB, v *bounds.Validator, msg proto.Message, path string) []*protovalidate.Violation {
	t.Helper()
	err := v.Validate(msg)
	if err == nil {
		return nil
	}
	var ve *protovalidate.ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("validate %T: %v", msg, err)
	}
	var out []*protovalidate.Violation
	for _, x := range ve.Violations {
		if protovalidate.FieldPathString(x.Proto.GetField()) == path {
			out = append(out, x)
		}
	}
	return out
}

func hasRule(vs []*protovalidate.Violation, prefix string) *protovalidate.Violation {
	for _, x := range vs {
		if strings.HasPrefix(x.Proto.GetRuleId(), prefix) {
			return x
		}
	}
	return nil
}

// leafPath is the violation path of the value a probe sets: a repeated leaf gets one element, [0].
func leafPath(f fieldRef) string {
	if f.field().IsList() {
		return f.violationPath() + "[0]"
	}
	return f.violationPath()
}

// TestStringBoundsJustInsideAndOutside sets every string of every request to its longest allowed value
// and to one character more, and, where a byte bound applies, to two-byte characters.
func TestStringBoundsJustInsideAndOutside(t *testing.T) {
	v := newValidator(t)
	n := 0
	for _, f := range requestFields(t) {
		fd := f.field()
		if fd.Kind() != protoreflect.StringKind || fd.IsMap() {
			continue
		}
		r := rulesOf(fd).GetString()
		if fd.IsList() {
			r = rulesOf(fd).GetRepeated().GetItems().GetString()
		}
		max := int(r.GetMaxLen())
		if max == 0 {
			continue // TestEveryRequestFieldIsBounded reports it
		}
		n++
		path := leafPath(f)
		inside := violationsAt(t, v, build(f, setValue(protoreflect.ValueOfString(strings.Repeat("a", max)))), path)
		if x := hasRule(inside, "string.max_"); x != nil {
			t.Errorf("%s: %d characters refused: %s", f.name(), max, x.Proto.GetMessage())
		}
		outside := violationsAt(t, v, build(f, setValue(protoreflect.ValueOfString(strings.Repeat("a", max+1)))), path)
		x := hasRule(outside, "string.max_len")
		if x == nil {
			t.Errorf("%s: %d characters accepted", f.name(), max+1)
			continue
		}
		if want := fmt.Sprintf("at most %d characters, got %d", max, max+1); x.Proto.GetMessage() != want {
			t.Errorf("%s: message %q, want %q", f.name(), x.Proto.GetMessage(), want)
		}
		if r.HasMaxBytes() {
			wide := violationsAt(t, v, build(f, setValue(protoreflect.ValueOfString(strings.Repeat("é", max)))), path)
			if x := hasRule(wide, "string.max_bytes"); x == nil {
				t.Errorf("%s: %d two-byte characters accepted past max_bytes %d", f.name(), max, r.GetMaxBytes())
			} else if want := fmt.Sprintf("at most %d bytes in UTF-8, got %d", r.GetMaxBytes(), 2*max); x.Proto.GetMessage() != want {
				t.Errorf("%s: message %q, want %q", f.name(), x.Proto.GetMessage(), want)
			}
		}
	}
	if n < 250 {
		t.Errorf("probed %d strings; the walk lost its way", n)
	}
}

// TestRepeatedBoundsJustInsideAndOutside fills every repeated field of every request to its bound and one
// past it.
func TestRepeatedBoundsJustInsideAndOutside(t *testing.T) {
	v := newValidator(t)
	fill := func(count int) func(protoreflect.Message, protoreflect.FieldDescriptor) {
		return func(m protoreflect.Message, fd protoreflect.FieldDescriptor) {
			list := m.Mutable(fd).List()
			for i := 0; i < count; i++ {
				if fd.Message() != nil {
					list.AppendMutable()
				} else {
					list.Append(list.NewElement())
				}
			}
		}
	}
	for _, f := range requestFields(t) {
		fd := f.field()
		if !fd.IsList() {
			continue
		}
		max := int(rulesOf(fd).GetRepeated().GetMaxItems())
		if hasRule(violationsAt(t, v, build(f, fill(max)), f.violationPath()), "repeated.max_items") != nil {
			t.Errorf("%s: %d items refused", f.name(), max)
		}
		x := hasRule(violationsAt(t, v, build(f, fill(max+1)), f.violationPath()), "repeated.max_items")
		if x == nil {
			t.Errorf("%s: %d items accepted", f.name(), max+1)
		} else if want := fmt.Sprintf("at most %d items, got %d", max, max+1); x.Proto.GetMessage() != want {
			t.Errorf("%s: message %q, want %q", f.name(), x.Proto.GetMessage(), want)
		}
	}
}

// TestTimestampWindow sets every timestamp of every request to the edges of the window and beyond.
func TestTimestampWindow(t *testing.T) {
	v := newValidator(t)
	cases := []struct {
		at time.Time
		ok bool
	}{
		{bounds.MinTime.Add(-time.Nanosecond), false},
		{bounds.MinTime, true},
		{bounds.MaxTime.Add(-time.Nanosecond), true},
		{bounds.MaxTime, false},
		{time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC), false},
		{time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC), false},
	}
	n := 0
	for _, f := range requestFields(t) {
		fd := f.field()
		if fd.Message() == nil || fd.Message().FullName() != "google.protobuf.Timestamp" {
			continue
		}
		n++
		for _, c := range cases {
			ts := timestamppb.New(c.at)
			x := hasRule(violationsAt(t, v, build(f, setValue(protoreflect.ValueOfMessage(ts.ProtoReflect()))), f.violationPath()), "timestamp.")
			switch {
			case c.ok && x != nil:
				t.Errorf("%s: %v refused: %s", f.name(), c.at, x.Proto.GetMessage())
			case !c.ok && x == nil:
				t.Errorf("%s: %v accepted", f.name(), c.at)
			case !c.ok && x.Proto.GetMessage() != "must be on or after 2000-01-01T00:00:00Z and before 2200-01-01T00:00:00Z":
				t.Errorf("%s: message %q", f.name(), x.Proto.GetMessage())
			}
		}
	}
	if n < 9 {
		t.Errorf("probed %d timestamps, want at least 9", n)
	}
	// Nanos a JSON encoder refuses hide from the window rules, which compare times; the walk finds them.
	for _, f := range requestFields(t) {
		fd := f.field()
		if fd.Message() == nil || fd.Message().FullName() != "google.protobuf.Timestamp" {
			continue
		}
		for _, c := range []struct {
			nanos int32
			ok    bool
		}{{-1, false}, {0, true}, {999_999_999, true}, {1_000_000_000, false}, {-2_000_000_000, false}} {
			ts := &timestamppb.Timestamp{Seconds: bounds.MinTime.Unix() + 86400, Nanos: c.nanos}
			x := hasRule(violationsAt(t, v, build(f, setValue(protoreflect.ValueOfMessage(ts.ProtoReflect()))), f.violationPath()), "timestamp.")
			switch {
			case c.ok && x != nil:
				t.Errorf("%s: nanos %d refused: %s", f.name(), c.nanos, x.Proto.GetMessage())
			case !c.ok && (x == nil || x.Proto.GetRuleId() != bounds.TimestampRuleID):
				t.Errorf("%s: nanos %d accepted", f.name(), c.nanos)
			}
		}
	}
}

// TestIntegerRanges sets every bounded 64-bit integer of every request to its bounds and one past them,
// and every money amount a client sends to -1, which must be refused (no request carries a negative
// amount).
func TestIntegerRanges(t *testing.T) {
	v := newValidator(t)
	for _, f := range requestFields(t) {
		fd := f.field()
		if fd.Kind() != protoreflect.Int64Kind || fd.IsList() {
			continue
		}
		r := rulesOf(fd).GetInt64()
		if r == nil {
			continue
		}
		probe := func(n int64, ok bool) {
			x := hasRule(violationsAt(t, v, build(f, setValue(protoreflect.ValueOfInt64(n))), f.violationPath()), "int64.")
			if ok && x != nil {
				t.Errorf("%s: %d refused: %s", f.name(), n, x.Proto.GetMessage())
			}
			if !ok && x == nil {
				t.Errorf("%s: %d accepted", f.name(), n)
			}
		}
		if r.HasLte() {
			probe(r.GetLte(), true)
			probe(r.GetLte()+1, false)
		}
		if r.HasGte() && r.GetGte() > math.MinInt64 {
			probe(r.GetGte(), true)
			probe(r.GetGte()-1, false)
		}
		if r.HasGt() {
			probe(r.GetGt(), false)
			probe(r.GetGt()+1, true)
		}
	}
	// Money fields: the amount's sign is a rule of the field that holds the Money.
	n := 0
	for _, f := range requestFields(t) {
		fd := f.field()
		if fd.Message() == nil || fd.Message().FullName() != "tradeassure.common.v1.Money" {
			continue
		}
		n++
		amount := fd.Message().Fields().ByName("amount_minor")
		msg := build(f, func(m protoreflect.Message, fd protoreflect.FieldDescriptor) {
			if fd.IsList() {
				m = m.Mutable(fd).List().AppendMutable().Message()
			} else {
				m = m.Mutable(fd).Message()
			}
			m.Set(amount, protoreflect.ValueOfInt64(-1))
			m.Set(fd.Message().Fields().ByName("currency"), protoreflect.ValueOfString("USD"))
		})
		if len(violationsAt(t, v, msg, f.violationPath())) == 0 {
			t.Errorf("%s: a negative amount is accepted", f.name())
		}
	}
	if n < 10 {
		t.Errorf("probed %d money fields, want at least 10", n)
	}
}

// TestControlCharacters puts control characters in every string of every request: NUL, other C0
// controls, DEL and C1 controls are refused everywhere; tab, line feed and carriage return only outside
// free text.
func TestControlCharacters(t *testing.T) {
	v := newValidator(t)
	for _, f := range requestFields(t) {
		fd := f.field()
		if fd.Kind() != protoreflect.StringKind || fd.IsMap() {
			continue
		}
		free := bounds.IsFreeText(fd)
		for _, c := range []struct {
			s  string
			ok bool
		}{
			{"ab", true},
			{"a\x00b", false},
			{"\x00", false},
			{"a\x1bb", false},
			{"a\x7fb", false},
			{"a\u0085b", false},
			{"a\u009fb", false},
			{"line one\nline two\r\n\tend", free},
			{"é ü 中文 🙂", true},
			{"a\uFFFDb", true},
			{"a\xffb", false}, // not UTF-8: the codecs refuse it; a message built in process is refused here
		} {
			x := hasRule(violationsAt(t, v, build(f, setValue(protoreflect.ValueOfString(c.s))), leafPath(f)), bounds.ControlRuleID)
			if c.ok && x != nil {
				t.Errorf("%s: %q refused: %s", f.name(), c.s, x.Proto.GetMessage())
			}
			if !c.ok && x == nil {
				t.Errorf("%s: %q accepted", f.name(), c.s)
			}
		}
	}
}

// TestMessagesReadWell checks the wording of the bound violations as a client receives them.
func TestMessagesReadWell(t *testing.T) {
	v := newValidator(t)
	req := func(f string) fieldRef {
		for _, r := range requestFields(t) {
			if r.name() == f {
				return r
			}
		}
		t.Fatalf("no field %s", f)
		return fieldRef{}
	}
	for _, c := range []struct {
		field string
		value protoreflect.Value
		want  string
	}{
		{"CreateOrderRequest.terms.lines[0].unit_price_minor", protoreflect.ValueOfInt64(bounds.MaxAmountMinor + 1),
			"must be between 0 and 10,000,000,000,000"},
		{"CreateOrderRequest.terms.lines[0].quantity", protoreflect.ValueOfInt64(bounds.MaxLineQuantity + 1),
			"must be more than 0 and at most 1,000,000"},
		{"CreateOrderRequest.request_id", protoreflect.ValueOfString("a\x00"),
			"must not contain control characters (found U+0000 at character 2)"},
		{"CreateOrderRequest.terms.remark", protoreflect.ValueOfString("ok\n\x00"),
			"must not contain control characters other than tab, line feed and carriage return (found U+0000 at character 4)"},
		{"CreateReturnRequest.lines[0].line_index", protoreflect.ValueOfInt32(bounds.MaxOrderLines),
			"must be at least 0 and less than 200"},
	} {
		f := req(c.field)
		vs := violationsAt(t, v, build(f, setValue(c.value)), f.violationPath())
		found := false
		for _, x := range vs {
			found = found || x.Proto.GetMessage() == c.want
		}
		if !found {
			var got []string
			for _, x := range vs {
				got = append(got, x.Proto.GetMessage())
			}
			t.Errorf("%s: messages %q, want %q", c.field, got, c.want)
		}
	}
}
