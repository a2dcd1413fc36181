package order

import (
	"context"
	"time"

	"github.com/tradeassure/tradeassure/ent"
	entorder "github.com/tradeassure/tradeassure/ent/order"
	"github.com/tradeassure/tradeassure/server/auth"
	"github.com/tradeassure/tradeassure/server/deadline"
)

// Register adds the order's timers (rules.go) to the engine; each runs only when Ready.
func (s *Service) Register(e *deadline.Engine) {
	confirmTimer.Handle(e, get, s.autoConfirm)
	closeTimer.Handle(e, get, s.close)
	// Each changes only its own order (and the ledger, which neither reads of another order): a batch may
	// send their orders' updates and events together (storage.Deferred).
	e.Defers(confirmTimer.Kind, closeTimer.Kind)
	// Both timers change the order at the revision they read it at (commitEntity), so a sweep may read
	// its orders ahead, all in one query.
	e.Preload("order", func(ctx context.Context, tx *ent.Tx, ids []string) (map[string]any, error) {
		orders, err := tx.Order.Query().Where(entorder.IDIn(ids...)).All(ctx)
		if err != nil {
			return nil, err
		}
		byID := make(map[string]any, len(orders))
		for _, o := range orders {
			byID[o.ID] = o
		}
		return byID, nil
	})
}

// autoConfirm completes a delivered order whose buyer did not confirm receipt in time.
func (s *Service) autoConfirm(ctx context.Context, tx *ent.Tx, o *ent.Order, now time.Time) error {
	_, err := s.complete(ctx, tx, o, autoConfirm, auth.System, now, "auto_confirmed")
	return err
}

// close ends a completed order's after-sales window. An order whose escrow an open dispute or return still
// holds stays completed; the hold's end closes it (Unhold).
func (s *Service) close(ctx context.Context, tx *ent.Tx, o *ent.Order, now time.Time) error {
	if o.EscrowHolds > 0 {
		return deadline.ErrStale
	}
	_, err := s.commit(ctx, tx, o, change{event: "closed", actor: auth.System, now: now, step: closeOrder, set: func(u *ent.OrderMutation) {
		u.SetCloseTime(now)
	}})
	return err
}
