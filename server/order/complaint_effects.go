package order

import (
	"context"
	"fmt"
	"time"

	"github.com/tradeassure/tradeassure/ent"
	entorder "github.com/tradeassure/tradeassure/ent/order"
	"github.com/tradeassure/tradeassure/server/auth"
	"github.com/tradeassure/tradeassure/server/deadline"
)

// ExtendDelivery gives the buyer of an order awaiting receipt confirmation more time: it moves the order's
// automatic receipt confirmation (auto_confirm_deadline and its deadline) later by by, as an upheld
// service-failure complaint orders. It runs in the caller's transaction and records a revision and the
// event "order.delivery_extended". Only a DELIVERED order has a confirmation deadline to move; for any
// other state it changes nothing and reports false (before delivery the full confirmation period still
// lies ahead; after completion the delivery is over).
func (s *Service) ExtendDelivery(ctx context.Context, tx *ent.Tx, orderID string, by time.Duration, actor auth.Principal, now time.Time) (bool, error) {
	if by <= 0 {
		return false, fmt.Errorf("extend delivery of order %s: the extension %s is not positive", orderID, by)
	}
	o, err := get(ctx, tx, orderID)
	if err != nil {
		return false, fmt.Errorf("extend delivery of order %s: %w", orderID, err)
	}
	if o.State != entorder.StateDelivered || o.AutoConfirmDeadline == nil {
		return false, nil
	}
	due := o.AutoConfirmDeadline.Add(by)
	if err := deadline.Schedule(ctx, tx, "order", o.ID, KindAutoConfirm, due, now); err != nil {
		return false, err
	}
	_, err = s.commit(ctx, tx, o, change{event: "delivery_extended", actor: actor, now: now, set: func(u *ent.OrderMutation) {
		u.SetAutoConfirmDeadline(due)
	}})
	if err != nil {
		return false, err
	}
	return true, nil
}
