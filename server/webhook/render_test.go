package webhook

import (
	"testing"
	"time"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/timestamppb"

	commonv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/common/v1"
	eventv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/event/v1"
	orderv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/order/v1"
	"github.com/tradeassure/tradeassure/server/policy"
)

// renderCases are events whose bodies renderEvent must write as protojson would: orders of both shipped
// policy sets (with their parameters), an order without parameters, a payload of another type, an
// event without payload, and one with every envelope field empty but the payload.
func renderCases(t testing.TB) []*eventv1.Event {
	when := timestamppb.New(time.Date(2026, 12, 2, 10, 30, 0, 5, time.UTC))
	order := func(p commonv1.Policy, set policy.Set) *orderv1.Order {
		return &orderv1.Order{Id: "ord_1", Policy: p, PolicyVersion: set.Version, PolicySet: set.SetName,
			PolicyParameters: set.Parameters(), State: orderv1.Order_STATE_PAID, SupplierId: "acc_s", BuyerId: "acc_b",
			BuyerEmail: "b@example.com", Terms: &orderv1.OrderTerms{ShippingFeeMinor: 1_250, Lines: []*orderv1.OrderLine{{
				ProductId: "prd_1", Quantity: 3}}},
			Amounts:  &orderv1.OrderAmounts{Total: &commonv1.Money{Currency: "JPY", AmountMinor: 15000}, TotalUsdMinor: 10_000},
			Shipment: &orderv1.Shipment{Carrier: "DHL \"Express\" <&>", TrackingNumber: "Ω-1", ShipTime: when},
			Revision: 7, Etag: `W/"ord_1-7"`, CreateTime: when, UpdateTime: when, RatesVersion: "2026-11-01"}
	}
	wrap := func(m proto.Message) *anypb.Any {
		a, err := anypb.New(m)
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	envelope := func(payload *anypb.Any) *eventv1.Event {
		return &eventv1.Event{Id: "42", Type: "order.paid", SubjectType: "order", SubjectId: "ord_1", Revision: 7, Time: when,
			Actor: &commonv1.Party{Role: commonv1.Role_ROLE_BUYER, AccountId: "acc_b"}, Payload: payload}
	}
	ta := policy.MustGet(commonv1.Policy_POLICY_TRADE_ASSURANCE, "2026-11-01")
	retail := policy.MustGet(commonv1.Policy_POLICY_RETAIL, "2026-11-01")
	bare := order(commonv1.Policy_POLICY_RETAIL, retail)
	bare.PolicyParameters = nil
	return []*eventv1.Event{
		envelope(wrap(order(commonv1.Policy_POLICY_TRADE_ASSURANCE, ta))),
		envelope(wrap(order(commonv1.Policy_POLICY_RETAIL, retail))),
		envelope(wrap(bare)),
		envelope(wrap(&orderv1.Product{Id: "prd_1", Name: "Widget", CreateTime: when})),
		envelope(nil),
		{Payload: wrap(&orderv1.Order{})},
	}
}

// TestRenderEvent: every body renderEvent writes parses (as receivers and the SDKs parse it) to exactly
// the event that protojson's own rendering parses to, twice in a row (the parameters' cache).
func TestRenderEvent(t *testing.T) {
	for i, ev := range renderCases(t) {
		for round := 0; round < 2; round++ {
			got, err := renderEvent(ev)
			if err != nil {
				t.Fatalf("case %d: %v", i, err)
			}
			want, err := protojson.Marshal(ev)
			if err != nil {
				t.Fatal(err)
			}
			var fromGot, fromWant eventv1.Event
			if err := protojson.Unmarshal(got, &fromGot); err != nil {
				t.Fatalf("case %d: body does not parse: %v\n%s", i, err, got)
			}
			if err := protojson.Unmarshal(want, &fromWant); err != nil {
				t.Fatal(err)
			}
			if !proto.Equal(&fromGot, &fromWant) || !proto.Equal(&fromGot, ev) {
				t.Fatalf("case %d: body parses to\n%v\nwant\n%v\nbody: %s", i, &fromGot, ev, got)
			}
		}
	}
}

// BenchmarkRenderEvent compares renderEvent with protojson.Marshal on an order event with parameters.
func BenchmarkRenderEvent(b *testing.B) {
	ev := renderCases(b)[0]
	b.Run("protojson", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			if _, err := protojson.Marshal(ev); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("renderEvent", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			if _, err := renderEvent(ev); err != nil {
				b.Fatal(err)
			}
		}
	})
}
