package order

import (
	"context"
	"fmt"

	"github.com/tradeassure/tradeassure/ent"
)

// Money is an order's money facts, the one read returns, disputes and complaints make of an order's
// money, with the two rules about what may still be refunded on it.
type Money struct {
	Currency string
	// Paid is what the buyer paid, Refunded what was refunded since, Covered the trade-assurance coverage
	// (never above the supplier's limit when the order was created).
	Paid, Refunded, Covered int64
	// Goods is the value of the order's lines, Total what the buyer owes for the order: the goods with
	// their freight and insurance.
	Goods, Total int64
}

// MoneyOf is the money facts of a stored order.
func MoneyOf(o *ent.Order) Money {
	return Money{Currency: o.Currency, Paid: o.PaidMinor, Refunded: o.RefundedMinor, Covered: o.CoveredMinor,
		Goods: o.GoodsMinor, Total: o.TotalMinor}
}

// Refundable is the most the parties may still refund by agreement (a return, a refund the supplier offers
// or accepts): what was paid less refunds. The sum of every refund on an order never exceeds what was paid.
func (m Money) Refundable() int64 { return max(0, m.Paid-m.Refunded) }

// Grantable is the most the platform itself may still refund (an automatic grant, a ruling, a chargeback):
// what the parties may refund, capped by the order's trade-assurance coverage less refunds.
func (m Money) Grantable() int64 { return max(0, min(m.Paid-m.Refunded, m.Covered-m.Refunded)) }

// Money reads the money facts of order id within tx.
func (s *Service) Money(ctx context.Context, tx *ent.Tx, id string) (Money, error) {
	o, err := get(ctx, tx, id)
	if err != nil {
		return Money{}, fmt.Errorf("read the money of order %s: %w", id, err)
	}
	return MoneyOf(o), nil
}
