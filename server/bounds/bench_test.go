package bounds_test

import (
	"fmt"
	"testing"
	"time"

	"buf.build/go/protovalidate"
	"google.golang.org/protobuf/proto"

	commonv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/common/v1"
	orderv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/order/v1"
)

// BenchmarkValidate measures what the control-character rule adds to schema validation: bounds.Validator
// against protovalidate alone (the baseline, what the server ran before), on a small request and on one of
// the largest order drafts (200 lines, a 4,000-character remark).
func BenchmarkValidate(b *testing.B) {
	small := &orderv1.GetOrderRequest{OrderId: "ord_0190c4a2-7d3e-7c4b-9d1e-2f7a1b3c4d61"}
	large := &orderv1.CreateOrderRequest{Policy: commonv1.Policy_POLICY_TRADE_ASSURANCE, BuyerEmail: "buyer@acme.example",
		RequestId: "req-0190c4a2-7d3e-7c4b-9d1e-2f7a1b3c4d61",
		Terms:     exampleTerms("prd_0190c4a2-7d3e-7c4b-9d1e-2f7a1b3c4d60", time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC))}
	large.Terms.Lines = nil
	for i := 0; i < 200; i++ {
		large.Terms.Lines = append(large.Terms.Lines, &orderv1.OrderLine{
			ProductId: fmt.Sprintf("prd_0190c4a2-7d3e-7c4b-9d1e-2f7a1b3c%04d", i), Quantity: 10, UnitPriceMinor: 1_00})
	}
	for len(large.Terms.Remark) < 4000 {
		large.Terms.Remark += "Pack in pallets; label every box.\n"
	}
	large.Terms.Remark = large.Terms.Remark[:4000]
	base, err := protovalidate.New()
	if err != nil {
		b.Fatal(err)
	}
	full := newValidator(b)
	for _, m := range []struct {
		name string
		msg  proto.Message
	}{{"GetOrder", small}, {"CreateOrder-200-lines", large}} {
		if err := full.Validate(m.msg); err != nil {
			b.Fatalf("%s: %v", m.name, err)
		}
		// The two validators run alternately, each call timed, so a busy machine slows both alike and the
		// ratio holds; ns/op is bounds.Validator's.
		b.Run(m.name, func(b *testing.B) {
			var baseline, bounded time.Duration
			for b.Loop() {
				t0 := time.Now()
				_ = base.Validate(m.msg)
				t1 := time.Now()
				_ = full.Validate(m.msg)
				bounded += time.Since(t1)
				baseline += t1.Sub(t0)
			}
			b.ReportMetric(float64(bounded.Nanoseconds())/float64(b.N), "ns/validate")
			b.ReportMetric(float64(baseline.Nanoseconds())/float64(b.N), "ns/protovalidate")
			b.ReportMetric(float64(bounded)/float64(baseline), "x-protovalidate")
		})
	}
}
