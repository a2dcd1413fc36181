package bounds_test

import (
	"strings"
	"testing"

	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"

	"github.com/tradeassure/tradeassure/server/bounds/fuzz"
)

// requestTypes returns the request message of every method of every service.
func requestTypes(t testing.TB) []protoreflect.MessageType {
	t.Helper()
	seen := map[protoreflect.FullName]bool{}
	services := map[protoreflect.FullName]bool{}
	var out []protoreflect.MessageType
	for _, m := range fuzz.Methods() {
		services[m.Parent().FullName()] = true
		in := m.Input()
		if seen[in.FullName()] {
			continue
		}
		seen[in.FullName()] = true
		mt, err := protoregistry.GlobalTypes.FindMessageByName(in.FullName())
		if err != nil {
			t.Fatalf("request type %s: %v", in.FullName(), err)
		}
		out = append(out, mt)
	}
	if len(services) < 7 {
		t.Fatalf("found %d services in gen/go, want at least 7", len(services))
	}
	return out
}

// fieldRef is one field a client can set in a request, at any depth: the request type and the fields from
// the request down to it.
type fieldRef struct {
	root protoreflect.MessageType
	path []protoreflect.FieldDescriptor
}

func (f fieldRef) field() protoreflect.FieldDescriptor { return f.path[len(f.path)-1] }

// name is the field's path as violations print it, with index 0 for repeated fields on the way
// ("terms.lines[0].product_id"), and the request type in front.
func (f fieldRef) name() string {
	return string(f.root.Descriptor().Name()) + "." + f.violationPath()
}

func (f fieldRef) violationPath() string {
	var b strings.Builder
	for i, fd := range f.path {
		if i > 0 {
			b.WriteByte('.')
		}
		b.WriteString(string(fd.Name()))
		if fd.IsList() && i < len(f.path)-1 {
			b.WriteString("[0]")
		}
	}
	return b.String()
}

// requestFields returns every field reachable from every request message. Well-known types
// (google.protobuf.*) are leaves.
func requestFields(t testing.TB) []fieldRef {
	t.Helper()
	var out []fieldRef
	type ancestry = map[protoreflect.FullName]bool
	var walk func(protoreflect.MessageType, protoreflect.MessageDescriptor, []protoreflect.FieldDescriptor, ancestry)
	walk = func(root protoreflect.MessageType, md protoreflect.MessageDescriptor, path []protoreflect.FieldDescriptor, ancestors ancestry) {
		if ancestors[md.FullName()] {
			return
		}
		ancestors[md.FullName()] = true
		defer delete(ancestors, md.FullName())
		fields := md.Fields()
		for i := 0; i < fields.Len(); i++ {
			fd := fields.Get(i)
			p := append(append([]protoreflect.FieldDescriptor(nil), path...), fd)
			out = append(out, fieldRef{root: root, path: p})
			if m := fd.Message(); m != nil && !fd.IsMap() && !strings.HasPrefix(string(m.FullName()), "google.protobuf.") {
				walk(root, m, p, ancestors)
			}
		}
	}
	for _, mt := range requestTypes(t) {
		walk(mt, mt.Descriptor(), nil, ancestry{})
	}
	return out
}
