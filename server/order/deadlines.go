package order

import (
	"context"
	"time"

	"github.com/tradeassure/tradeassure/ent"
	entorder "github.com/tradeassure/tradeassure/ent/order"
	"github.com/tradeassure/tradeassure/server/auth"
	"github.com/tradeassure/tradeassure/server/deadline"
)

// Register adds the order deadlines to the engine.
func (s *Service) Register(e *deadline.Engine) {
	e.Handle(KindAutoConfirm, s.autoConfirm)
	e.Handle(KindClose, s.close)
}

// autoConfirm completes a delivered order whose buyer did not confirm receipt in time.
func (s *Service) autoConfirm(ctx context.Context, tx *ent.Tx, d *ent.Deadline, now time.Time) error {
	o, err := tx.Order.Get(ctx, d.SubjectID)
	if err != nil {
		return err
	}
	if o.State != entorder.StateDelivered || o.AutoConfirmDeadline == nil || now.Before(*o.AutoConfirmDeadline) {
		return deadline.ErrStale
	}
	_, err = s.complete(ctx, tx, o, auth.System, now, "auto_confirmed")
	return err
}

// close ends a completed order's after-sales window. An order whose escrow an open dispute or return still
// holds stays completed; the hold's end closes it.
func (s *Service) close(ctx context.Context, tx *ent.Tx, d *ent.Deadline, now time.Time) error {
	o, err := tx.Order.Get(ctx, d.SubjectID)
	if err != nil {
		return err
	}
	if o.State != entorder.StateCompleted || o.AfterSalesDeadline == nil || now.Before(*o.AfterSalesDeadline) || o.EscrowHolds > 0 {
		return deadline.ErrStale
	}
	_, err = s.commit(ctx, tx, o, change{event: "closed", actor: auth.System, now: now, set: func(u *ent.OrderUpdateOne) {
		u.SetState(entorder.StateClosed).SetCloseTime(now)
	}})
	return err
}
