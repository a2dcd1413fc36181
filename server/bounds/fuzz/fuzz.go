// Package fuzz holds the fuzz target of request decoding and validation (FuzzRequest, in its tests) and the
// table of methods its inputs pick from. It is apart from package bounds so that the instrumented fuzz
// binary links only the generated code and the validator, which keeps a short fuzz run short.
package fuzz

import (
	"sort"
	"strings"

	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"

	// The generated services register their descriptors.
	_ "github.com/tradeassure/tradeassure/gen/go/tradeassure/admin/v1"
	_ "github.com/tradeassure/tradeassure/gen/go/tradeassure/complaint/v1"
	_ "github.com/tradeassure/tradeassure/gen/go/tradeassure/dispute/v1"
	_ "github.com/tradeassure/tradeassure/gen/go/tradeassure/event/v1"
	_ "github.com/tradeassure/tradeassure/gen/go/tradeassure/order/v1"
	_ "github.com/tradeassure/tradeassure/gen/go/tradeassure/payout/v1"
	_ "github.com/tradeassure/tradeassure/gen/go/tradeassure/returns/v1"
)

// Methods returns every method of every tradeassure service in gen/go: the services by name, their
// methods in schema order. A fuzz input's method number picks one, modulo their number.
func Methods() []protoreflect.MethodDescriptor {
	var services []protoreflect.ServiceDescriptor
	protoregistry.GlobalFiles.RangeFiles(func(fd protoreflect.FileDescriptor) bool {
		for i := 0; i < fd.Services().Len(); i++ {
			if s := fd.Services().Get(i); strings.HasPrefix(string(s.FullName()), "tradeassure.") {
				services = append(services, s)
			}
		}
		return true
	})
	sort.Slice(services, func(i, j int) bool { return services[i].FullName() < services[j].FullName() })
	var out []protoreflect.MethodDescriptor
	for _, s := range services {
		for i := 0; i < s.Methods().Len(); i++ {
			out = append(out, s.Methods().Get(i))
		}
	}
	return out
}
