package order

import (
	"context"
	"fmt"

	entsql "entgo.io/ent/dialect/sql"

	"github.com/tradeassure/tradeassure/ent"
	entorder "github.com/tradeassure/tradeassure/ent/order"
)

// The reads other domains make of orders, so that only this package queries the order's tables by their
// columns (server/rulebook's import rule checks it).

// Stage is where an order stands, as the after-sales rules of returns and disputes ask it.
type Stage int

const (
	// StageUnpaid: a draft, an order awaiting payment, or a cancelled one; nothing to return or dispute.
	StageUnpaid Stage = iota
	// StageUnshipped: (advance) paid, not shipped yet.
	StageUnshipped
	// StageShipped: on its way to the buyer.
	StageShipped
	// StageDelivered: the buyer has the goods; not completed yet.
	StageDelivered
	// StageCompleted: completed, within its after-sales window.
	StageCompleted
	// StageClosed: completed and its after-sales window over.
	StageClosed
)

// StageOf is the stage of a stored order.
func StageOf(o *ent.Order) Stage {
	switch o.State {
	case entorder.StateAdvancePaid, entorder.StatePaid:
		return StageUnshipped
	case entorder.StateShipped:
		return StageShipped
	case entorder.StateDelivered:
		return StageDelivered
	case entorder.StateCompleted:
		return StageCompleted
	case entorder.StateClosed:
		return StageClosed
	}
	return StageUnpaid
}

// PaidOrdersOf is the query of the supplier's orders that were paid (the orders its dispute rate is
// counted against).
func PaidOrdersOf(c *ent.Client, supplierID string) *ent.OrderQuery {
	return c.Order.Query().Where(entorder.SupplierID(supplierID), entorder.PaidMinorGT(0))
}

// IDsOfSupplier selects the ids of the supplier's orders, for a query of the accounts an order owns (its
// escrow).
func IDsOfSupplier(supplierID string) *entsql.Selector {
	return entsql.Select(entorder.FieldID).From(entsql.Table(entorder.Table)).Where(entsql.EQ(entorder.FieldSupplierID, supplierID))
}

// Finished is which of the orders ids are finished (closed or cancelled): their escrow must be empty. It
// is the ledger's ledger.Finished for its reconciliation.
func Finished(ctx context.Context, tx *ent.Tx, ids []string) ([]string, error) {
	done, err := tx.Order.Query().Where(entorder.IDIn(ids...),
		entorder.StateIn(entorder.StateClosed, entorder.StateCancelled)).IDs(ctx)
	if err != nil {
		return nil, fmt.Errorf("read finished orders: %w", err)
	}
	return done, nil
}
