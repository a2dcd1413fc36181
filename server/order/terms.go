package order

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"connectrpc.com/connect"
	entsql "entgo.io/ent/dialect/sql"

	"github.com/tradeassure/tradeassure/ent"
	"github.com/tradeassure/tradeassure/ent/product"
	commonv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/common/v1"
	orderv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/order/v1"
	"github.com/tradeassure/tradeassure/server/apierr"
	"github.com/tradeassure/tradeassure/server/money"
	"github.com/tradeassure/tradeassure/server/policy"
	"github.com/tradeassure/tradeassure/server/storage"
)

// amounts are the figures computed from a set of terms.
type amounts struct {
	goods, total, advance, totalUSD, covered int64
	requiresExportAgent                      bool
}

// seaOnly are the Incoterms that apply only to sea and inland-waterway transport.
var seaOnly = map[orderv1.TradeTerm]bool{
	orderv1.TradeTerm_TRADE_TERM_FAS: true,
	orderv1.TradeTerm_TRADE_TERM_FOB: true,
	orderv1.TradeTerm_TRADE_TERM_CFR: true,
	orderv1.TradeTerm_TRADE_TERM_CIF: true,
}

// checkTerms applies the drafting rules to terms for a supplier under a policy, filling in each line's
// product name, listed price (when the line gives none) and total, and returns the computed amounts.
func checkTerms(ctx context.Context, tx *ent.Tx, terms *orderv1.OrderTerms, supplier *ent.Account, pol policy.Set, rates policy.Rates, now time.Time) (amounts, error) {
	ids := make([]string, 0, len(terms.GetLines()))
	for _, l := range terms.GetLines() {
		ids = append(ids, l.GetProductId())
	}
	var products []*ent.Product
	var err error
	if len(ids) > 0 {
		args := make([]any, 0, len(ids)+1)
		for _, id := range ids {
			args = append(args, id)
		}
		products, err = storage.ScanRows[ent.Product](ctx, tx, productsQuery(len(ids)), product.Columns, append(args, supplier.ID)...)
	}
	if err != nil {
		return amounts{}, fmt.Errorf("load products: %w", err)
	}
	byID := make(map[string]*ent.Product, len(products))
	for _, p := range products {
		byID[p.ID] = p
	}
	return evaluateTerms(terms, drafting{products: byID, supplier: supplier, policy: pol, rates: rates, now: now})
}

// drafting is what the drafting rules check terms against, besides the terms themselves.
type drafting struct {
	// products are the supplier's listed products that the lines name, by id.
	products map[string]*ent.Product
	// supplier is the supplier's account: its id, trade-assurance limit and export capability.
	supplier *ent.Account
	policy   policy.Set
	// rates converts the amounts for the limit checks (the zero value is the shipped table).
	rates policy.Rates
	now   time.Time
}

// evaluateTerms is checkTerms once the products are loaded. It reads nothing else and never panics, so
// it can be fuzzed: every amount is computed with the checked arithmetic of server/money, and the totals it
// accepts are the exact sums, within money.Max, inside the supplier's limit and the export cap.
func evaluateTerms(terms *orderv1.OrderTerms, d drafting) (amounts, error) {
	var a amounts
	pol, supplier := d.policy, d.supplier
	if !policy.Supported(terms.GetCurrency()) {
		return a, apierr.InvalidWith(commonv1.ErrorReason_ERROR_REASON_UNSUPPORTED_CURRENCY, "terms.currency",
			"%q is not a currency the platform has a rate for", terms.GetCurrency())
	}
	if seaOnly[terms.GetTradeTerm()] && terms.GetShippingMethod() != orderv1.ShippingMethod_SHIPPING_METHOD_SEA &&
		terms.GetShippingMethod() != orderv1.ShippingMethod_SHIPPING_METHOD_INLAND_WATERWAY {
		return a, apierr.InvalidWith(commonv1.ErrorReason_ERROR_REASON_TRADE_TERM_SHIPPING_MISMATCH, "terms.trade_term",
			"%s is a sea and inland-waterway term; with %s use FCA, CPT, CIP, DAP, DPU, DDP or EXW",
			termName(terms.GetTradeTerm()), methodName(terms.GetShippingMethod()))
	}
	if err := policy.CheckFuture("terms.ship_by_time", "the ship-by date", terms.GetShipByTime().AsTime(), d.now, pol.ShipByHorizon); err != nil {
		return a, err
	}
	for _, f := range []struct {
		field string
		minor int64
	}{{"terms.shipping_fee_minor", terms.GetShippingFeeMinor()}, {"terms.insurance_fee_minor", terms.GetInsuranceFeeMinor()}} {
		switch {
		case f.minor < 0:
			return a, apierr.Invalid(f.field, "must not be negative")
		case f.minor > money.Max:
			return a, money.TooLarge(f.field, "%d is too large", f.minor)
		}
	}
	if len(terms.GetLines()) == 0 {
		return a, apierr.Invalid("terms.lines", "an order needs at least one line")
	}
	for i, l := range terms.GetLines() {
		p, ok := d.products[l.GetProductId()]
		field := fmt.Sprintf("terms.lines[%d]", i)
		if !ok {
			return a, apierr.InvalidWith(commonv1.ErrorReason_ERROR_REASON_UNKNOWN_PRODUCT, field+".product_id",
				"product %q is not listed by supplier %s", l.GetProductId(), supplier.ID)
		}
		if p.Currency != terms.GetCurrency() {
			return a, apierr.InvalidWith(commonv1.ErrorReason_ERROR_REASON_CURRENCY_MISMATCH, field+".product_id",
				"product %q is priced in %s but the order is in %s", p.ID, p.Currency, terms.GetCurrency())
		}
		if l.GetQuantity() <= 0 {
			return a, apierr.Invalid(field+".quantity", "must be more than zero")
		}
		if l.GetUnitPriceMinor() < 0 {
			return a, apierr.Invalid(field+".unit_price_minor", "must not be negative (zero means the listed price)")
		}
		if l.GetUnitPriceMinor() == 0 {
			l.UnitPriceMinor = p.UnitPriceMinor
		}
		l.ProductName = p.Name
		total, ok := money.Mul(l.GetQuantity(), l.GetUnitPriceMinor())
		if !ok {
			return a, money.TooLarge(field, "the line total, quantity %d × unit price %d, is too large; split the order or lower the quantity",
				l.GetQuantity(), l.GetUnitPriceMinor())
		}
		l.LineTotalMinor = total
		if a.goods, ok = money.Add(a.goods, total); !ok {
			return a, money.TooLarge("terms.lines", "the goods of lines 0 to %d add up to more than the platform handles; split the order", i)
		}
	}
	var ok bool
	if a.total, ok = money.Add(a.goods, terms.GetShippingFeeMinor(), terms.GetInsuranceFeeMinor()); !ok {
		return a, money.TooLarge("terms", "the total, goods %d + shipping %d + insurance %d, is too large; split the order",
			a.goods, terms.GetShippingFeeMinor(), terms.GetInsuranceFeeMinor())
	}
	switch terms.GetPaymentTerms().GetKind() {
	case orderv1.PaymentTerms_KIND_FULL:
		if terms.GetPaymentTerms().GetAdvanceMinor() != 0 {
			return a, apierr.InvalidWith(commonv1.ErrorReason_ERROR_REASON_INVALID_ADVANCE, "terms.payment_terms.advance_minor",
				"full payment has no advance; use KIND_ADVANCE_BALANCE for a deposit")
		}
	case orderv1.PaymentTerms_KIND_ADVANCE_BALANCE:
		adv := terms.GetPaymentTerms().GetAdvanceMinor()
		if adv <= 0 || adv >= a.total {
			return a, apierr.InvalidWith(commonv1.ErrorReason_ERROR_REASON_INVALID_ADVANCE, "terms.payment_terms.advance_minor",
				"the advance must be more than 0 and less than the total %d", a.total).With("total_minor", a.total)
		}
		a.advance = adv
	default:
		return a, apierr.Invalid("terms.payment_terms.kind", "must be KIND_FULL or KIND_ADVANCE_BALANCE")
	}
	var err error
	if a.totalUSD, err = d.rates.ToUSDMinor(a.total, terms.GetCurrency()); err != nil {
		return a, err
	}
	a.covered = a.total
	if terms.GetCoverageType() == orderv1.CoverageType_COVERAGE_TYPE_PRE_SHIPMENT && a.advance > 0 {
		a.covered = a.advance
	}
	coveredUSD, err := d.rates.ToUSDMinor(a.covered, terms.GetCurrency())
	if err != nil {
		return a, err
	}
	if coveredUSD > supplier.TradeAssuranceLimitUsdMinor {
		return a, apierr.Precondition(commonv1.ErrorReason_ERROR_REASON_TRADE_ASSURANCE_LIMIT_EXCEEDED,
			"the covered amount (%s USD) exceeds the supplier's trade-assurance limit (%s USD)",
			usd(coveredUSD), usd(supplier.TradeAssuranceLimitUsdMinor)).
			With("covered_usd_minor", coveredUSD).With("limit_usd_minor", supplier.TradeAssuranceLimitUsdMinor)
	}
	if pol.NoExportAgentCapUSDMinor > 0 && a.totalUSD > pol.NoExportAgentCapUSDMinor {
		a.requiresExportAgent = true
		if !supplier.OneTouchExport {
			return a, apierr.Precondition(commonv1.ErrorReason_ERROR_REASON_EXPORT_AGENT_REQUIRED,
				"the order total (%s USD) is above %s USD, which needs the one-touch export agent, and this supplier does not have it enabled",
				usd(a.totalUSD), usd(pol.NoExportAgentCapUSDMinor)).
				With("total_usd_minor", a.totalUSD).With("cap_usd_minor", pol.NoExportAgentCapUSDMinor)
		}
	}
	return a, nil
}

// usd shows USD minor units as dollars and cents.
func usd(minor int64) string {
	sign, u := "", uint64(minor)
	if minor < 0 {
		sign, u = "-", uint64(-minor)
	}
	return fmt.Sprintf("%s%d.%02d", sign, u/100, u%100)
}

func termName(t orderv1.TradeTerm) string { return strings.TrimPrefix(t.String(), "TRADE_TERM_") }

func methodName(m orderv1.ShippingMethod) string {
	return strings.TrimPrefix(m.String(), "SHIPPING_METHOD_")
}

// errOnHold reports why nothing can change while a payment is being processed.
func errPaymentPending(id string) error {
	return apierr.New(connect.CodeFailedPrecondition, commonv1.ErrorReason_ERROR_REASON_PAYMENT_PENDING,
		"order %s has a payment being processed; it cannot change until the payment settles or fails", id)
}

// productsQueries are checkTerms' reads of n products of a supplier, by n, each built once
// (storage.SelectWhere) rather than by ent on every CreateOrder: the arguments are the n ids, then the
// supplier's id. An order has at most a few hundred lines (the request's limit), so there are as many
// statements at most.
var productsQueries sync.Map // int → string

func productsQuery(n int) string {
	if q, ok := productsQueries.Load(n); ok {
		return q.(string)
	}
	q := storage.SelectWhere(product.Table, product.Columns, func(t *entsql.SelectTable) *entsql.Predicate {
		ids := make([]any, n)
		for i := range ids {
			ids[i] = ""
		}
		return entsql.And(entsql.In(t.C(product.FieldID), ids...), entsql.EQ(t.C(product.FieldSupplierID), ""))
	}, 0)
	productsQueries.Store(n, q)
	return q
}
