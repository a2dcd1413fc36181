package bounds_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/tradeassure/tradeassure/server/bounds/fuzz"
)

var updateCorpus = flag.Bool("update-corpus", false, "rewrite the fuzz seed corpus in testdata/fuzz from the example requests")

// TestWriteFuzzCorpus writes the example requests, in binary and in JSON, as the seed corpus of
// fuzz.FuzzRequest. Without -update-corpus it checks the committed corpus holds them.
func TestWriteFuzzCorpus(t *testing.T) {
	ids := exampleIDs{supplier: "acc_0190c4a2-7d3e-7c4b-9d1e-2f7a1b3c4d5e", buyer: "acc_0190c4a2-7d3e-7c4b-9d1e-2f7a1b3c4d5f",
		buyerEmail: "buyer@acme.example", product: "prd_0190c4a2-7d3e-7c4b-9d1e-2f7a1b3c4d60",
		order: "ord_0190c4a2-7d3e-7c4b-9d1e-2f7a1b3c4d61", etag: "3f2a9c1d0b7e6a54", shipBy: time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC)}
	v := newValidator(t)
	for _, msg := range examples(ids) {
		if err := v.Validate(msg); err != nil {
			t.Fatalf("example %T is not valid: %v", msg, err)
		}
		md := msg.ProtoReflect().Descriptor()
		index := methodIndex(t, md.FullName())
		bin, err := proto.MarshalOptions{Deterministic: true}.Marshal(msg)
		if err != nil {
			t.Fatal(err)
		}
		// protojson varies its whitespace between builds; the seeds are compacted so they stay the same.
		raw, err := protojson.Marshal(msg)
		if err != nil {
			t.Fatal(err)
		}
		var js bytes.Buffer
		if err := json.Compact(&js, raw); err != nil {
			t.Fatal(err)
		}
		for _, seed := range []struct {
			json bool
			data []byte
		}{{false, bin}, {true, js.Bytes()}} {
			body := fmt.Sprintf("go test fuzz v1\nuint16(%d)\nbool(%t)\n[]byte(%q)\n", index, seed.json, seed.data)
			sum := sha256.Sum256([]byte(body))
			path := filepath.Join("fuzz", "testdata", "fuzz", "FuzzRequest", "seed-"+string(md.Name())+"-"+hex.EncodeToString(sum[:4]))
			if *updateCorpus {
				if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
					t.Fatal(err)
				}
				continue
			}
			if got, err := os.ReadFile(path); err != nil || string(got) != body {
				t.Errorf("seed %s is missing or stale; run go test ./server/bounds -run TestWriteFuzzCorpus -update-corpus", path)
			}
		}
	}
}

// methodIndex returns the position in fuzz.Methods of the first method that takes the request type.
func methodIndex(t *testing.T, req protoreflect.FullName) int {
	t.Helper()
	for i, m := range fuzz.Methods() {
		if m.Input().FullName() == req {
			return i
		}
	}
	t.Fatalf("no method takes %s", req)
	return 0
}
