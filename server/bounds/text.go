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

// ControlRuleID is the rule id of a control-character violation.
const ControlRuleID = "string.no_control_characters"

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
	for _, c := range s {
		pos++
		switch {
		case c == utf8.RuneError:
			// The decoders refuse strings that are not UTF-8; a message built in process may still hold one.
			if !utf8.ValidString(s) {
				return c, pos, true
			}
		case c < 0x20 || (c >= 0x7f && c <= 0x9f):
			if freeText && (c == '\t' || c == '\n' || c == '\r') {
				continue
			}
			return c, pos, false
		}
	}
	return 0, 0, false
}

// ControlViolations returns a violation for every string in the message, at any depth (in repeated
// fields, maps and nested messages), that holds a control character, in field order.
func ControlViolations(msg proto.Message) []*protovalidate.Violation {
	var out []*protovalidate.Violation
	walkMessage(msg.ProtoReflect(), nil, &out)
	return out
}

func walkMessage(m protoreflect.Message, path []*validate.FieldPathElement, out *[]*protovalidate.Violation) {
	fields := m.Descriptor().Fields()
	for i := 0; i < fields.Len(); i++ {
		fd := fields.Get(i)
		if !m.Has(fd) {
			continue
		}
		v := m.Get(fd)
		switch {
		case fd.IsMap():
			walkMap(fd, v.Map(), path, out)
		case fd.IsList():
			list := v.List()
			for j := 0; j < list.Len(); j++ {
				el := element(fd)
				el.SetIndex(uint64(j))
				walkValue(fd, fd.Kind(), list.Get(j), append(clone(path), el), false, out)
			}
		default:
			walkValue(fd, fd.Kind(), v, append(clone(path), element(fd)), false, out)
		}
	}
}

func walkMap(fd protoreflect.FieldDescriptor, m protoreflect.Map, path []*validate.FieldPathElement,
	out *[]*protovalidate.Violation) {
	keys := make([]protoreflect.MapKey, 0, m.Len())
	m.Range(func(k protoreflect.MapKey, _ protoreflect.Value) bool {
		keys = append(keys, k)
		return true
	})
	sort.Slice(keys, func(i, j int) bool { return keys[i].String() < keys[j].String() })
	for _, k := range keys {
		el := element(fd)
		el.SetKeyType(descriptorpb.FieldDescriptorProto_Type(fd.MapKey().Kind()))
		el.SetValueType(descriptorpb.FieldDescriptorProto_Type(fd.MapValue().Kind()))
		switch fd.MapKey().Kind() {
		case protoreflect.StringKind:
			el.SetStringKey(k.String())
		case protoreflect.BoolKind:
			el.SetBoolKey(k.Bool())
		case protoreflect.Uint32Kind, protoreflect.Uint64Kind, protoreflect.Fixed32Kind, protoreflect.Fixed64Kind:
			el.SetUintKey(k.Uint())
		default:
			el.SetIntKey(k.Int())
		}
		p := append(clone(path), el)
		walkValue(fd.MapKey(), fd.MapKey().Kind(), k.Value(), p, true, out)
		walkValue(fd.MapValue(), fd.MapValue().Kind(), m.Get(k), p, false, out)
	}
}

func walkValue(fd protoreflect.FieldDescriptor, kind protoreflect.Kind, v protoreflect.Value,
	path []*validate.FieldPathElement, forKey bool, out *[]*protovalidate.Violation) {
	switch kind {
	case protoreflect.MessageKind, protoreflect.GroupKind:
		walkMessage(v.Message(), path, out)
	case protoreflect.StringKind:
		// A map's key and value descriptors carry no options; free text is marked on the map field itself.
		var free bool
		if entry := fd.ContainingMessage(); entry != nil && entry.IsMapEntry() {
			free = mapFreeText(fd)
		} else {
			free = IsFreeText(fd)
		}
		s := v.String()
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
			Field:   validate.FieldPath_builder{Elements: path}.Build(),
			RuleId:  proto.String(ControlRuleID),
			Message: proto.String(msg),
		}
		if forKey {
			vp.ForKey = proto.Bool(true)
		}
		*out = append(*out, &protovalidate.Violation{Proto: vp.Build(), FieldDescriptor: fd, FieldValue: v})
	}
}

// mapFreeText reports whether the map field owning a key or value descriptor is free text.
func mapFreeText(fd protoreflect.FieldDescriptor) bool {
	entry := fd.ContainingMessage()
	parent, ok := entry.Parent().(protoreflect.MessageDescriptor)
	if !ok {
		return false
	}
	fields := parent.Fields()
	for i := 0; i < fields.Len(); i++ {
		if f := fields.Get(i); f.IsMap() && f.Message() == entry {
			return IsFreeText(f)
		}
	}
	return false
}

func element(fd protoreflect.FieldDescriptor) *validate.FieldPathElement {
	return validate.FieldPathElement_builder{
		FieldNumber: proto.Int32(int32(fd.Number())),
		FieldName:   proto.String(string(fd.Name())),
		FieldType:   descriptorpb.FieldDescriptorProto_Type(fd.Kind()).Enum(),
	}.Build()
}

func clone(path []*validate.FieldPathElement) []*validate.FieldPathElement {
	return append([]*validate.FieldPathElement(nil), path...)
}
