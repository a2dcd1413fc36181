package order

import (
	"context"

	"github.com/tradeassure/tradeassure/ent"
)

// ReadRow is getOrder, for the tests outside the package.
func (s *Service) ReadRow(ctx context.Context, id string) (*ent.Order, bool, error) {
	return s.getOrder(ctx, id)
}

// ReadInTx is get, for the tests outside the package.
func ReadInTx(ctx context.Context, tx *ent.Tx, id string) (*ent.Order, error) {
	return get(ctx, tx, id)
}
