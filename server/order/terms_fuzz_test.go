package order

import (
	"errors"
	"math"
	"math/big"
	"testing"
	"time"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/tradeassure/tradeassure/ent"
	commonv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/common/v1"
	orderv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/order/v1"
	"github.com/tradeassure/tradeassure/server/apierr"
	"github.com/tradeassure/tradeassure/server/money"
	"github.com/tradeassure/tradeassure/server/policy"
)

// fuzzCurrencies are the currencies the fuzzer picks from: every rated one and one without a rate.
var fuzzCurrencies = []string{"USD", "EUR", "GBP", "CNY", "JPY", "CAD", "AUD", "HKD", "XYZ"}

// FuzzEvaluateTerms fuzzes the drafting rules (lines, amounts, trade term against shipping method, payment
// terms, the ship-by window, the trade-assurance limit and the export cap) with any values a client could
// send, bypassing the schema. The properties: the check never panics; it refuses only with a client error
// (INVALID_ARGUMENT or FAILED_PRECONDITION, never INTERNAL); and terms it accepts have line totals and
// totals equal to the exact big-integer products and sums, within money.Max, a valid advance, a covered
// amount inside the supplier's limit, a ship-by date inside the policy's window, and the export agent
// whenever the total is above the no-export-agent cap.
//
// The seed corpus in testdata/fuzz/FuzzEvaluateTerms holds the two probes of issue 10 (4 ×
// 4611686018427387929 and 10 × MaxInt64) and amounts just inside and outside each bound; `make fuzz` runs
// every Fuzz target briefly, and `go test` runs the seeds.
func FuzzEvaluateTerms(f *testing.F) {
	//    cur, prodCur, term, method, coverage, kind, lines, unknown, q1, p1, q2, p2, ship, ins, advance, shipBySec, listed, limit, oneTouch, retail
	f.Add(uint8(0), uint8(0), int32(2), int32(2), int32(2), int32(1), uint8(1), false, int64(10), int64(0), int64(0), int64(0),
		int64(50_00), int64(5_00), int64(0), int64(14*86400), int64(10_00), int64(100_000_00), true, false)
	f.Add(uint8(0), uint8(0), int32(2), int32(2), int32(2), int32(1), uint8(1), false, int64(4), int64(4611686018427387929), int64(0), int64(0),
		int64(50_00), int64(5_00), int64(0), int64(14*86400), int64(10_00), int64(100_000_00), true, false)
	f.Add(uint8(0), uint8(0), int32(2), int32(2), int32(2), int32(1), uint8(1), false, int64(10), int64(math.MaxInt64), int64(0), int64(0),
		int64(50_00), int64(5_00), int64(0), int64(14*86400), int64(10_00), int64(100_000_00), true, false)
	f.Add(uint8(0), uint8(0), int32(2), int32(2), int32(1), int32(2), uint8(2), false, int64(1_000_000), int64(5_000_000), int64(1_000_000), int64(5_000_000),
		int64(0), int64(0), int64(1), int64(365*86400), int64(10_00), money.Max, true, false)
	f.Fuzz(func(t *testing.T, cur, prodCur uint8, term, method, coverage, kind int32, lines uint8, unknown bool,
		q1, p1, q2, p2, ship, ins, advance, shipBySec, listed, limit int64, oneTouch, retail bool) {
		now := time.Date(2026, 3, 4, 9, 0, 0, 0, time.UTC)
		pol := policy.MustGet(commonv1.Policy_POLICY_TRADE_ASSURANCE, policy.Current)
		if retail {
			pol = policy.MustGet(commonv1.Policy_POLICY_RETAIL, policy.Current)
		}
		currency := fuzzCurrencies[int(cur)%len(fuzzCurrencies)]
		prod := &ent.Product{ID: "prd_a", Name: "Widget", Currency: fuzzCurrencies[int(prodCur)%len(fuzzCurrencies)], UnitPriceMinor: listed}
		terms := &orderv1.OrderTerms{
			Currency: currency, ShippingFeeMinor: ship, InsuranceFeeMinor: ins,
			TradeTerm: orderv1.TradeTerm(term), ShippingMethod: orderv1.ShippingMethod(method),
			CoverageType: orderv1.CoverageType(coverage),
			PaymentTerms: &orderv1.PaymentTerms{Kind: orderv1.PaymentTerms_Kind(kind), AdvanceMinor: advance},
			ShipByTime:   timestamppb.New(now.Add(time.Duration(shipBySec) * time.Second)),
		}
		if shipBySec > math.MaxInt64/int64(time.Second) || shipBySec < math.MinInt64/int64(time.Second) {
			terms.ShipByTime = &timestamppb.Timestamp{Seconds: shipBySec}
		}
		qs, ps := []int64{q1, q2}, []int64{p1, p2}
		for i := 0; i < int(lines%3); i++ {
			id := "prd_a"
			if unknown && i == 1 {
				id = "prd_other"
			}
			terms.Lines = append(terms.Lines, &orderv1.OrderLine{ProductId: id, Quantity: qs[i], UnitPriceMinor: ps[i]})
		}
		supplier := &ent.Account{ID: "acc_s", TradeAssuranceLimitUsdMinor: limit, OneTouchExport: oneTouch}
		a, err := evaluateTerms(terms, drafting{products: map[string]*ent.Product{"prd_a": prod}, supplier: supplier, policy: pol, now: now})
		if err != nil {
			var e *apierr.Error
			if !errors.As(err, &e) || (e.Code != connect.CodeInvalidArgument && e.Code != connect.CodeFailedPrecondition) {
				t.Fatalf("refused with %T %v, not a client error", err, err)
			}
			return
		}
		// Accepted: check every property against exact arithmetic.
		maxAmount := big.NewInt(money.Max)
		goods := new(big.Int)
		for i, l := range terms.GetLines() {
			price := ps[i]
			if price == 0 {
				price = listed
			}
			exact := new(big.Int).Mul(big.NewInt(qs[i]), big.NewInt(price))
			if qs[i] <= 0 || price <= 0 || l.GetUnitPriceMinor() != price || exact.Cmp(big.NewInt(l.GetLineTotalMinor())) != 0 {
				t.Fatalf("line %d: %d × %d accepted as %d", i, qs[i], price, l.GetLineTotalMinor())
			}
			goods.Add(goods, exact)
		}
		total := new(big.Int).Add(goods, big.NewInt(ship))
		total.Add(total, big.NewInt(ins))
		switch {
		case len(terms.GetLines()) == 0:
			t.Fatalf("terms without lines accepted")
		case goods.Cmp(big.NewInt(a.goods)) != 0 || total.Cmp(big.NewInt(a.total)) != 0:
			t.Fatalf("goods %d total %d accepted, exact %s and %s", a.goods, a.total, goods, total)
		case total.Cmp(maxAmount) > 0 || a.total <= 0:
			t.Fatalf("total %d accepted outside (0, %d]", a.total, money.Max)
		}
		if ship < 0 || ins < 0 || ship > money.Max || ins > money.Max {
			t.Fatalf("fees %d and %d accepted", ship, ins)
		}
		switch terms.GetPaymentTerms().GetKind() {
		case orderv1.PaymentTerms_KIND_FULL:
			if a.advance != 0 {
				t.Fatalf("full payment with an advance of %d", a.advance)
			}
		case orderv1.PaymentTerms_KIND_ADVANCE_BALANCE:
			if a.advance <= 0 || a.advance >= a.total {
				t.Fatalf("advance %d of total %d accepted", a.advance, a.total)
			}
		default:
			t.Fatalf("payment kind %v accepted", terms.GetPaymentTerms().GetKind())
		}
		wantCovered := a.total
		if terms.GetCoverageType() == orderv1.CoverageType_COVERAGE_TYPE_PRE_SHIPMENT && a.advance > 0 {
			wantCovered = a.advance
		}
		coveredUSD, err := policy.ToUSDMinor(wantCovered, currency)
		if err != nil || a.covered != wantCovered || coveredUSD > limit {
			t.Fatalf("covered %d (%d USD) accepted with limit %d (%v)", a.covered, coveredUSD, limit, err)
		}
		if totalUSD, err := policy.ToUSDMinor(a.total, currency); err != nil || totalUSD != a.totalUSD {
			t.Fatalf("total USD %d, want %d (%v)", a.totalUSD, totalUSD, err)
		}
		if pol.NoExportAgentCapUSDMinor > 0 && a.totalUSD > pol.NoExportAgentCapUSDMinor && (!a.requiresExportAgent || !oneTouch) {
			t.Fatalf("total %d USD above the export cap accepted without the export agent", a.totalUSD)
		}
		if prod.Currency != currency {
			t.Fatalf("a %s product accepted in a %s order", prod.Currency, currency)
		}
		if seaOnly[terms.GetTradeTerm()] && terms.GetShippingMethod() != orderv1.ShippingMethod_SHIPPING_METHOD_SEA &&
			terms.GetShippingMethod() != orderv1.ShippingMethod_SHIPPING_METHOD_INLAND_WATERWAY {
			t.Fatalf("%v accepted with %v", terms.GetTradeTerm(), terms.GetShippingMethod())
		}
		if at := terms.GetShipByTime().AsTime(); !at.After(now) || at.After(now.Add(pol.ShipByHorizon)) {
			t.Fatalf("ship-by %v accepted at %v", at, now)
		}
	})
}
