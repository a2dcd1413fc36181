// Command validateproto writes buf/validate/validate.proto, printed from the
// descriptor compiled into the protovalidate Go module, into a folder that
// buf.yaml lists as a second module. The Buf Schema Registry is out of reach
// on the build machines, so this is how the schema's validation annotations
// compile; the printed file is a generation input and is never committed.
package main

import (
	"flag"
	"log"

	"buf.build/gen/go/bufbuild/protovalidate/protocolbuffers/go/buf/validate"
	"github.com/jhump/protoreflect/v2/protoprint"
	"google.golang.org/protobuf/reflect/protoreflect"
)

func main() {
	out := flag.String("out", "third_party/protovalidate", "folder to write buf/validate/validate.proto into")
	flag.Parse()
	fd := validate.File_buf_validate_validate_proto
	printer := protoprint.Printer{}
	if err := printer.PrintProtosToFileSystem([]protoreflect.FileDescriptor{fd}, *out); err != nil {
		log.Fatalf("print validate.proto: %v", err)
	}
}
