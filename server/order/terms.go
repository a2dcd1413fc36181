package order

import (
	"context"
	"fmt"
	"time"

	"connectrpc.com/connect"

	"github.com/tradeassure/tradeassure/ent"
	"github.com/tradeassure/tradeassure/ent/product"
	commonv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/common/v1"
	orderv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/order/v1"
	"github.com/tradeassure/tradeassure/server/apierr"
	"github.com/tradeassure/tradeassure/server/policy"
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
func checkTerms(ctx context.Context, tx *ent.Tx, terms *orderv1.OrderTerms, supplier *ent.Account, pol policy.Set, now time.Time) (amounts, error) {
	var a amounts
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
	if !terms.GetShipByTime().AsTime().After(now) {
		return a, apierr.Invalid("terms.ship_by_time", "the ship-by time must be in the future")
	}
	ids := make([]string, 0, len(terms.GetLines()))
	for _, l := range terms.GetLines() {
		ids = append(ids, l.GetProductId())
	}
	products, err := tx.Product.Query().Where(product.IDIn(ids...), product.SupplierID(supplier.ID)).All(ctx)
	if err != nil {
		return a, fmt.Errorf("load products: %w", err)
	}
	byID := make(map[string]*ent.Product, len(products))
	for _, p := range products {
		byID[p.ID] = p
	}
	for i, l := range terms.GetLines() {
		p, ok := byID[l.GetProductId()]
		field := fmt.Sprintf("terms.lines[%d]", i)
		if !ok {
			return a, apierr.InvalidWith(commonv1.ErrorReason_ERROR_REASON_UNKNOWN_PRODUCT, field+".product_id",
				"product %q is not listed by supplier %s", l.GetProductId(), supplier.ID)
		}
		if p.Currency != terms.GetCurrency() {
			return a, apierr.InvalidWith(commonv1.ErrorReason_ERROR_REASON_CURRENCY_MISMATCH, field+".product_id",
				"product %q is priced in %s but the order is in %s", p.ID, p.Currency, terms.GetCurrency())
		}
		if l.GetUnitPriceMinor() == 0 {
			l.UnitPriceMinor = p.UnitPriceMinor
		}
		l.ProductName = p.Name
		l.LineTotalMinor = l.GetQuantity() * l.GetUnitPriceMinor()
		a.goods += l.LineTotalMinor
	}
	a.total = a.goods + terms.GetShippingFeeMinor() + terms.GetInsuranceFeeMinor()
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
	}
	if a.totalUSD, err = policy.ToUSDMinor(a.total, terms.GetCurrency()); err != nil {
		return a, apierr.Invalid("terms", "%v", err)
	}
	a.covered = a.total
	if terms.GetCoverageType() == orderv1.CoverageType_COVERAGE_TYPE_PRE_SHIPMENT && a.advance > 0 {
		a.covered = a.advance
	}
	coveredUSD, err := policy.ToUSDMinor(a.covered, terms.GetCurrency())
	if err != nil {
		return a, apierr.Invalid("terms", "%v", err)
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

func usd(minor int64) string { return fmt.Sprintf("%d.%02d", minor/100, minor%100) }

func termName(t orderv1.TradeTerm) string { return t.String()[len("TRADE_TERM_"):] }

func methodName(m orderv1.ShippingMethod) string { return m.String()[len("SHIPPING_METHOD_"):] }

// errOnHold reports why nothing can change while a payment is being processed.
func errPaymentPending(id string) error {
	return apierr.New(connect.CodeFailedPrecondition, commonv1.ErrorReason_ERROR_REASON_PAYMENT_PENDING,
		"order %s has a payment being processed; it cannot change until the payment settles or fails", id)
}
