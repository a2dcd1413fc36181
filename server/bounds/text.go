package bounds

import (
	"fmt"
	"sort"
	"unicode/utf8"

	"buf.build/gen/go/bufbuild/protovalidate/protocolbuffers/go/buf/validate"
	"buf.build/go/protovalidate"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/descriptorpb"

	commonv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/common/v1"
)

// Rule ids of the violations this package adds to protovalidate's.
const (
	// ControlRuleID is the rule id of a control-character violation.
	ControlRuleID = "string.no_control_characters"
	// TimestampRuleID is the rule id of a malformed google.protobuf.Timestamp: nanos outside
	// 0–999,999,999 (the window rules compare times, which hides nanos that a JSON encoder refuses).
	TimestampRuleID = "timestamp.well_formed"
)

// IsFreeText reports whether a string field holds free text a person writes (the schema marks it with
// the tradeassure.common.v1.free_text option); free text may contain tab, line feed and carriage return.
func IsFreeText(fd protoreflect.FieldDescriptor) bool {
	v, _ := proto.GetExtension(fd.Options(), commonv1.E_FreeText).(bool)
	return v
}

// badRune returns the first character a string may not contain, and its 1-based position in characters:
// a C0 or C1 control character (U+0000–U+001F, U+007F–U+009F), except tab, line feed and carriage return
// in free text, or a byte that is not UTF-8.
func badRune(s string, freeText bool) (r rune, pos int, invalid bool) {
	for i := 0; i < len(s); {
		c, size := utf8.DecodeRuneInString(s[i:])
		i += size
		pos++
		switch {
		case c == utf8.RuneError && size == 1:
			// The decoders refuse strings that are not UTF-8; a message built in process may still hold one.
			return c, pos, true
		case c < 0x20 || (c >= 0x7f && c <= 0x9f):
			if freeText && (c == '\t' || c == '\n' || c == '\r') {
				continue
			}
			return c, pos, false
		}
	}
	return 0, 0, false
}

// WalkViolations returns the violations of the rules a schema annotation cannot state, for every value in
// the message at any depth (in repeated fields, maps and nested messages), in field order: a string that
// holds a control character, and a timestamp that is not well formed.
func WalkViolations(msg proto.Message) []*protovalidate.Violation {
	var w walker
	w.message(msg.ProtoReflect())
	return w.out
}

// step is one field on the path from the request to a value: with an index into a repeated field, or a
// key of a map.
type step struct {
	fd    protoreflect.FieldDescriptor
	index int // -1 unless fd is a list
	key   protoreflect.MapKey
}

// walker visits every string and timestamp of a message. The path is kept as steps and turned into a field path only
// for a violation, so a clean request costs a scan of its strings and nothing more.
type walker struct {
	path []step
	out  []*protovalidate.Violation
}

// interesting reports whether a kind can hold a string.
func interesting(k protoreflect.Kind) bool {
	return k == protoreflect.StringKind || k == protoreflect.MessageKind || k == protoreflect.GroupKind
}

func (w *walker) message(m protoreflect.Message) {
	fields := m.Descriptor().Fields()
	for i := 0; i < fields.Len(); i++ {
		fd := fields.Get(i)
		switch {
		case fd.IsMap():
			if !interesting(fd.MapKey().Kind()) && !interesting(fd.MapValue().Kind()) || !m.Has(fd) {
				continue
			}
			w.mapField(fd, m.Get(fd).Map())
		case !interesting(fd.Kind()) || !m.Has(fd):
			continue
		case fd.IsList():
			list := m.Get(fd).List()
			for j := 0; j < list.Len(); j++ {
				w.path = append(w.path, step{fd: fd, index: j})
				w.value(fd, fd.Kind(), list.Get(j), false)
				w.path = w.path[:len(w.path)-1]
			}
		default:
			w.path = append(w.path, step{fd: fd, index: -1})
			w.value(fd, fd.Kind(), m.Get(fd), false)
			w.path = w.path[:len(w.path)-1]
		}
	}
}

func (w *walker) mapField(fd protoreflect.FieldDescriptor, m protoreflect.Map) {
	keys := make([]protoreflect.MapKey, 0, m.Len())
	m.Range(func(k protoreflect.MapKey, _ protoreflect.Value) bool {
		keys = append(keys, k)
		return true
	})
	sort.Slice(keys, func(i, j int) bool { return keys[i].String() < keys[j].String() })
	for _, k := range keys {
		w.path = append(w.path, step{fd: fd, index: -1, key: k})
		// A map's key and value descriptors carry no options: free text is marked on the map field.
		w.value(fd, fd.MapKey().Kind(), k.Value(), true)
		w.value(fd, fd.MapValue().Kind(), m.Get(k), false)
		w.path = w.path[:len(w.path)-1]
	}
}

// value checks one value of the field owner (a string) or walks into it (a message).
func (w *walker) value(owner protoreflect.FieldDescriptor, kind protoreflect.Kind, v protoreflect.Value, forKey bool) {
	switch kind {
	case protoreflect.MessageKind, protoreflect.GroupKind:
		if m := v.Message(); m.Descriptor().FullName() == "google.protobuf.Timestamp" {
			w.timestamp(owner, m)
		} else {
			w.message(m)
		}
		return
	case protoreflect.StringKind:
	default:
		return
	}
	s := v.String()
	if plain(s) {
		return
	}
	free := IsFreeText(owner)
	r, pos, invalid := badRune(s, free)
	if pos == 0 {
		return
	}
	var msg string
	switch {
	case invalid:
		msg = "must be UTF-8 text"
	case free:
		msg = fmt.Sprintf("must not contain control characters other than tab, line feed and carriage return "+
			"(found %U at character %d)", r, pos)
	default:
		msg = fmt.Sprintf("must not contain control characters (found %U at character %d)", r, pos)
	}
	vp := validate.Violation_builder{
		Field:   w.fieldPath(),
		RuleId:  proto.String(ControlRuleID),
		Message: proto.String(msg),
	}
	if forKey {
		vp.ForKey = proto.Bool(true)
	}
	w.out = append(w.out, &protovalidate.Violation{Proto: vp.Build(), FieldDescriptor: owner, FieldValue: v})
}

// timestamp checks that a google.protobuf.Timestamp's nanos are 0–999,999,999 and its seconds within years
// 0001–9999, what RFC 3339 and proto JSON can print: such a value would be stored as sent and fail every
// JSON read of it.
func (w *walker) timestamp(owner protoreflect.FieldDescriptor, m protoreflect.Message) {
	fields := m.Descriptor().Fields()
	seconds, nanos := m.Get(fields.ByNumber(1)).Int(), m.Get(fields.ByNumber(2)).Int()
	const minSeconds, maxSeconds = -62135596800, 253402300799 // 0001-01-01T00:00:00Z, 9999-12-31T23:59:59Z
	if nanos >= 0 && nanos < 1e9 && seconds >= minSeconds && seconds <= maxSeconds {
		return
	}
	w.out = append(w.out, &protovalidate.Violation{
		Proto: validate.Violation_builder{
			Field:   w.fieldPath(),
			RuleId:  proto.String(TimestampRuleID),
			Message: proto.String("must be a valid time: nanos 0–999,999,999 and a year 0001–9999"),
		}.Build(),
		FieldDescriptor: owner, FieldValue: protoreflect.ValueOfMessage(m),
	})
}

// plain reports, fast, that a string is UTF-8 without any control character: no byte below 0x20, no DEL,
// and no 0xC2, the lead byte of U+0080–U+00BF, where the C1 controls are.
func plain(s string) bool {
	for i := 0; i < len(s); i++ {
		if b := s[i]; b < 0x20 || b == 0x7f || b == 0xc2 {
			return false
		}
	}
	return utf8.ValidString(s)
}

// fieldPath is the walker's path as protovalidate reports field paths ("terms.lines[0].product_id").
func (w *walker) fieldPath() *validate.FieldPath {
	elements := make([]*validate.FieldPathElement, len(w.path))
	for i, st := range w.path {
		el := validate.FieldPathElement_builder{
			FieldNumber: proto.Int32(int32(st.fd.Number())),
			FieldName:   proto.String(string(st.fd.Name())),
			FieldType:   descriptorpb.FieldDescriptorProto_Type(st.fd.Kind()).Enum(),
		}.Build()
		switch {
		case st.index >= 0:
			el.SetIndex(uint64(st.index))
		case st.fd.IsMap():
			el.SetKeyType(descriptorpb.FieldDescriptorProto_Type(st.fd.MapKey().Kind()))
			el.SetValueType(descriptorpb.FieldDescriptorProto_Type(st.fd.MapValue().Kind()))
			switch st.fd.MapKey().Kind() {
			case protoreflect.StringKind:
				el.SetStringKey(st.key.String())
			case protoreflect.BoolKind:
				el.SetBoolKey(st.key.Bool())
			case protoreflect.Uint32Kind, protoreflect.Uint64Kind, protoreflect.Fixed32Kind, protoreflect.Fixed64Kind:
				el.SetUintKey(st.key.Uint())
			default:
				el.SetIntKey(st.key.Int())
			}
		}
		elements[i] = el
	}
	return validate.FieldPath_builder{Elements: elements}.Build()
}
