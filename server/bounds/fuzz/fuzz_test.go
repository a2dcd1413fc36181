package fuzz_test

import (
	"testing"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"

	"github.com/tradeassure/tradeassure/server/bounds"
	"github.com/tradeassure/tradeassure/server/bounds/fuzz"
)

// TestEveryServiceIsFuzzed checks that FuzzRequest reaches the methods of all seven services.
func TestEveryServiceIsFuzzed(t *testing.T) {
	services := map[protoreflect.FullName]int{}
	for _, m := range fuzz.Methods() {
		services[m.Parent().FullName()]++
	}
	if len(services) < 7 {
		t.Errorf("FuzzRequest reaches %d services, want 7: %v", len(services), services)
	}
}

// FuzzRequest decodes arbitrary bytes as the request of any method of any service, in binary or in JSON
// as the Connect codecs do, validates it as the server does (protovalidate and the control-character
// rule), and checks what a handler relies on: nothing panics, every accepted request marshals to binary
// and JSON again, and its JSON form decodes to a request that is accepted too. The seed corpus in
// testdata/fuzz/FuzzRequest holds the example requests of the end-to-end tests of package bounds (go test
// ./server/bounds -run TestWriteFuzzCorpus -update-corpus rewrites it); `make fuzz` runs this and every
// other Fuzz target of the repository for a short time.
func FuzzRequest(f *testing.F) {
	methods := fuzz.Methods()
	types := make([]protoreflect.MessageType, len(methods))
	for i, m := range methods {
		mt, err := protoregistry.GlobalTypes.FindMessageByName(m.Input().FullName())
		if err != nil {
			f.Fatal(err)
		}
		types[i] = mt
		f.Add(uint16(i), false, []byte{})
		f.Add(uint16(i), true, []byte("{}"))
	}
	v, err := bounds.NewValidator()
	if err != nil {
		f.Fatal(err)
	}
	decodeJSON := protojson.UnmarshalOptions{DiscardUnknown: true} // as the Connect JSON codec decodes
	f.Fuzz(func(t *testing.T, method uint16, json bool, data []byte) {
		mt := types[int(method)%len(types)]
		name := mt.Descriptor().FullName()
		msg := mt.New().Interface()
		decode := proto.Unmarshal
		if json {
			decode = decodeJSON.Unmarshal
		}
		if err := decode(data, msg); err != nil {
			return // refused by the codec: INVALID_ARGUMENT
		}
		if v.Validate(msg) != nil {
			return // refused by validation: INVALID_ARGUMENT
		}
		if _, err := proto.Marshal(msg); err != nil {
			t.Fatalf("accepted %s does not marshal to binary: %v", name, err)
		}
		js, err := protojson.Marshal(msg)
		if err != nil {
			t.Fatalf("accepted %s does not marshal to JSON: %v", name, err)
		}
		again := mt.New().Interface()
		if err := decodeJSON.Unmarshal(js, again); err != nil {
			t.Fatalf("accepted %s: its JSON %s does not decode: %v", name, js, err)
		}
		if err := v.Validate(again); err != nil {
			t.Fatalf("accepted %s: its JSON form %s is refused: %v", name, js, err)
		}
	})
}
