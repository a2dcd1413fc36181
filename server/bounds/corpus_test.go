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
	"google.golang.org/protobuf/types/known/timestamppb"

	orderv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/order/v1"
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
	// Requests the server once accepted and then could not answer in JSON, kept as regression seeds: a
	// ship-by in year 10000, and one with nanos out of range.
	createOrder := func() *orderv1.CreateOrderRequest {
		for _, m := range examples(ids) {
			if c, ok := m.(*orderv1.CreateOrderRequest); ok {
				return c
			}
		}
		t.Fatal("no CreateOrder example")
		return nil
	}
	year10000 := createOrder()
	year10000.Terms.ShipByTime = timestamppb.New(time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC))
	badNanos := createOrder()
	badNanos.Terms.ShipByTime.Nanos = 1_000_000_000
	regressions := map[proto.Message]bool{year10000: true, badNanos: true}
	for _, msg := range append(examples(ids), year10000, badNanos) {
		if err := v.Validate(msg); (err == nil) == regressions[msg] {
			t.Fatalf("example %T: validation %v", msg, err)
		}
		md := msg.ProtoReflect().Descriptor()
		index := methodIndex(t, md.FullName())
		bin, err := proto.MarshalOptions{Deterministic: true}.Marshal(msg)
		if err != nil {
			t.Fatal(err)
		}
		type seed struct {
			json bool
			data []byte
		}
		seeds := []seed{{false, bin}}
		if !regressions[msg] { // JSON cannot carry the regressions
			// protojson varies its whitespace between builds; the seeds are compacted so they stay the same.
			raw, err := protojson.Marshal(msg)
			if err != nil {
				t.Fatal(err)
			}
			var js bytes.Buffer
			if err := json.Compact(&js, raw); err != nil {
				t.Fatal(err)
			}
			seeds = append(seeds, seed{true, js.Bytes()})
		}
		for _, seed := range seeds {
			body := fmt.Sprintf("go test fuzz v1\nuint16(%d)\nbool(%t)\n[]byte(%q)\n", index, seed.json, seed.data)
			sum := sha256.Sum256([]byte(body))
			prefix := "seed-"
			if regressions[msg] {
				prefix = "regression-"
			}
			path := filepath.Join("fuzz", "testdata", "fuzz", "FuzzRequest", prefix+string(md.Name())+"-"+hex.EncodeToString(sum[:4]))
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
