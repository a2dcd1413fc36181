package returns

import (
	"context"
	"fmt"

	"github.com/tradeassure/tradeassure/ent"
	"github.com/tradeassure/tradeassure/ent/returnrequest"
	"github.com/tradeassure/tradeassure/ent/schema"
	orderv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/order/v1"
	"github.com/tradeassure/tradeassure/server/money"
)

// How a return's refund is computed (docs/rules.md, Returns: "what was actually paid for the returned part,
// including its share of freight and insurance").
//
//   - Goods: unit price × quantity for each returned line, as written on the order.
//   - Freight and insurance shares: the order's shipping and insurance fees are spread over the goods pro
//     rata by goods value. To make the shares of several returns on one order add up exactly to the fees,
//     a return's share is computed cumulatively: with A the goods value of the units earlier returns on the
//     order already took and B = A + this return's goods value (line by line, in line order), the share is
//     floor(fee × B / goods) − floor(fee × A / goods). The floors telescope, so when every unit has been
//     returned the shares sum to exactly the fee, and returning every line refunds exactly what was paid.
//   - Shipping: docs/rules.md says "after the buyer has confirmed receipt, a refund is full for free-shipping
//     orders and excludes the shipping fee otherwise". We read "confirmed receipt" as the order having
//     reached COMPLETED (the buyer confirmed receipt, or the policy confirmed it automatically) when the
//     return is requested: a buyer returning goods before accepting the delivery is refunded the freight
//     share as well, while after acceptance the shipping service counts as delivered and its share is taken
//     off (shipping_deduction). For a free-shipping order (shipping fee 0) the share is 0, so the refund is
//     full. A free return never refunds shipping (the programme's rule), whatever the order's state. The
//     decision is made once, when the return is requested, so a receipt confirmation that happens while the
//     return is under way does not reduce a refund the buyer was already shown.
//   - Return postage and duties are the buyer's: the service never adds them to a refund.
//   - Cap: the refunds of every return and dispute on one order together never exceed what was paid. When
//     the return is created the refund is capped at what was paid, less what was refunded and less what other
//     open returns expect (cap_deduction); when it is paid it is capped again at what is then still
//     refundable, and order.Escrow.Refund refuses anything beyond.

// mulDiv returns floor(a × b / c) for non-negative a, b and positive c, exactly; false when it is
// beyond what the platform handles (orders drafted before amounts were checked).
func mulDiv(a, b, c int64) (int64, bool) { return money.MulDiv(a, b, c) }

// counts reports whether a return's units count as returned (or being returned): every open return, and a
// refunded one unless the buyer kept the goods after accepting a partial refund.
func counts(r *ent.ReturnRequest) bool {
	return isOpen(r) || (r.State == returnrequest.StateRefunded && !r.KeptGoods)
}

// isOpen reports whether a return has not ended: some transition still leaves its state.
func isOpen(r *ent.ReturnRequest) bool { return machine.Open(r.State) }

// orderReturns is what earlier returns on an order took.
type orderReturns struct {
	// returned is the quantity per line index that counts as returned.
	returned map[int32]int64
	// returnedGoods is the goods value of those units.
	returnedGoods int64
	// reserved is what open returns expect to refund.
	reserved int64
	// open is an open return, if any.
	open *ent.ReturnRequest
	any  bool
}

// priorReturns sums up the other returns of an order.
func priorReturns(ctx context.Context, tx *ent.Tx, orderID, exceptID string) (orderReturns, error) {
	out := orderReturns{returned: map[int32]int64{}}
	rows, err := tx.ReturnRequest.Query().Where(returnrequest.OrderID(orderID), returnrequest.IDNEQ(exceptID)).
		Order(ent.Asc(returnrequest.FieldID)).All(ctx)
	if err != nil {
		return out, fmt.Errorf("read returns of order %s: %w", orderID, err)
	}
	for _, r := range rows {
		if isOpen(r) {
			out.reserved += r.RefundTotalMinor
			if out.open == nil {
				out.open = r
			}
		}
		if !counts(r) {
			continue
		}
		out.any = true
		for _, l := range r.Lines {
			out.returned[l.LineIndex] += l.Quantity
			out.returnedGoods += l.GoodsMinor
		}
	}
	return out, nil
}

// breakdown is a return's refund as the API shows it.
type breakdown struct {
	goods, freight, insurance, shippingDeduction, capDeduction, total int64
}

// price fills in each line's amounts and returns the refund breakdown. lines hold line indexes and
// quantities; prior is what earlier returns took; deductShipping says whether the freight share is taken
// off; refundable is what the order can still refund to this return.
func price(terms *orderv1.OrderTerms, lines []schema.ReturnedLine, prior orderReturns, deductShipping bool, refundable int64) (breakdown, error) {
	var b breakdown
	tooLarge := func() (breakdown, error) {
		return breakdown{}, money.StoredTooLarge("the order's amounts are outside what the platform handles (it was drafted before amounts were checked); its refund cannot be computed")
	}
	var goodsTotal int64
	for _, l := range terms.GetLines() {
		line, ok := money.Mul(l.GetQuantity(), l.GetUnitPriceMinor())
		if ok {
			goodsTotal, ok = money.Add(goodsTotal, line)
		}
		if !ok {
			return tooLarge()
		}
	}
	if goodsTotal <= 0 {
		return b, nil
	}
	ship, ins := terms.GetShippingFeeMinor(), terms.GetInsuranceFeeMinor()
	before := prior.returnedGoods
	for i := range lines {
		l := &lines[i]
		ol := terms.GetLines()[l.LineIndex]
		l.ProductID = ol.GetProductId()
		var ok bool
		if l.GoodsMinor, ok = money.Mul(ol.GetUnitPriceMinor(), l.Quantity); !ok {
			return tooLarge()
		}
		// Every sum below is of parts of the order's total, which is within money.Max.
		after := min(before+l.GoodsMinor, goodsTotal)
		shipAfter, ok1 := mulDiv(ship, after, goodsTotal)
		shipBefore, ok2 := mulDiv(ship, before, goodsTotal)
		insAfter, ok3 := mulDiv(ins, after, goodsTotal)
		insBefore, ok4 := mulDiv(ins, before, goodsTotal)
		if !ok1 || !ok2 || !ok3 || !ok4 {
			return tooLarge()
		}
		l.FreightMinor, l.InsuranceMinor = shipAfter-shipBefore, insAfter-insBefore
		before = after
		if l.RefundMinor, ok = money.Add(l.GoodsMinor, l.FreightMinor, l.InsuranceMinor); !ok {
			return tooLarge()
		}
		if deductShipping {
			l.RefundMinor -= l.FreightMinor
			b.shippingDeduction += l.FreightMinor
		}
		b.goods += l.GoodsMinor
		b.freight += l.FreightMinor
		b.insurance += l.InsuranceMinor
	}
	gross, ok := money.Add(b.goods, b.freight, b.insurance, -b.shippingDeduction)
	if !ok {
		return tooLarge()
	}
	b.total = min(gross, max(refundable, 0))
	b.capDeduction = gross - b.total
	return b, nil
}
