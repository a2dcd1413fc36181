package order

import (
	"context"
	"fmt"
	"time"

	"connectrpc.com/connect"

	"github.com/tradeassure/tradeassure/ent"
	entorder "github.com/tradeassure/tradeassure/ent/order"
	commonv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/common/v1"
	orderv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/order/v1"
	"github.com/tradeassure/tradeassure/server/apierr"
	"github.com/tradeassure/tradeassure/server/auth"
	"github.com/tradeassure/tradeassure/server/deadline"
	"github.com/tradeassure/tradeassure/server/ledger"
	"github.com/tradeassure/tradeassure/server/money"
)

// Escrow is what the after-sales services (returns, disputes, complaints) do to an order's money. The
// order service owns the escrow; the others go through these methods, in their own transactions.
type Escrow interface {
	// Hold puts a hold on the order's escrow while a dispute or return is open.
	Hold(ctx context.Context, tx *ent.Tx, orderID string, actor auth.Principal, now time.Time) error
	// Unhold ends one hold. When none is left on a completed order, the escrow is released to the supplier.
	Unhold(ctx context.Context, tx *ent.Tx, orderID string, actor auth.Principal, now time.Time) error
	// Refund pays amount back to the buyer for a cause, from the escrow and, for what the escrow no longer
	// holds (it was released), from the supplier's balance. It never refunds more than was paid.
	Refund(ctx context.Context, tx *ent.Tx, r RefundRequest) (RefundResult, error)
}

var _ Escrow = (*Service)(nil)

// RefundRequest is a refund to the buyer of an order.
type RefundRequest struct {
	OrderID     string
	AmountMinor int64
	CauseKind   string // ledger.CauseDisputeRefund, ledger.CauseReturnRefund, …
	CauseID     string
	// UpToRefundable refunds at most what is still refundable (Money.Refundable) instead of refusing more,
	// and nothing (RefundResult.AmountMinor 0, not posted) when nothing is: the order is read once for
	// both.
	UpToRefundable bool
	Links          ledger.Links
	Actor          auth.Principal
	Now            time.Time
}

// RefundResult says how much was refunded and where the money came from.
type RefundResult struct {
	// AmountMinor is the refund's amount: the request's, or with UpToRefundable what was left of it.
	AmountMinor       int64
	FromEscrowMinor   int64
	FromSupplierMinor int64
	// Posted is false when the cause had already been refunded (a replay); nothing moved.
	Posted bool
	Order  *orderv1.Order
}

// postPayment moves a settled payment into the order's escrow.
func postPayment(ctx context.Context, tx *ent.Tx, o *ent.Order, paymentID string, amount int64, now time.Time) error {
	_, err := ledger.Post(ctx, tx, ledger.Transfer{
		CauseKind: ledger.CausePayment, CauseID: paymentID, Currency: o.Currency, Time: now,
		Memo:  "payment into escrow",
		Links: ledger.Links{OrderID: o.ID},
		Legs: []ledger.Leg{
			{Kind: ledger.BuyerFunding, Owner: o.BuyerID, Amount: -amount},
			{Kind: ledger.OrderEscrow, Owner: o.ID, Amount: amount},
		},
	})
	return err
}

// refundAll returns whatever the escrow holds to the buyer (a cancellation before shipment).
func refundAll(ctx context.Context, tx *ent.Tx, o *ent.Order, now time.Time) (int64, error) {
	held, err := ledger.Balance(ctx, tx, ledger.OrderEscrow, o.ID, o.Currency)
	if err != nil || held == 0 {
		return 0, err
	}
	_, err = ledger.Post(ctx, tx, ledger.Transfer{
		CauseKind: ledger.CauseCancellationRefund, CauseID: o.ID, Currency: o.Currency, Time: now,
		Memo: "cancelled before shipment", Links: ledger.Links{OrderID: o.ID},
		Legs: []ledger.Leg{
			{Kind: ledger.OrderEscrow, Owner: o.ID, Amount: -held},
			{Kind: ledger.Refunds, Owner: o.BuyerID, Amount: held},
		},
	})
	return held, err
}

// release moves a completed, unheld order's escrow to the supplier, less the platform's fee.
func release(ctx context.Context, tx *ent.Tx, o *ent.Order, now time.Time) error {
	held, err := ledger.Balance(ctx, tx, ledger.OrderEscrow, o.ID, o.Currency)
	if err != nil || held <= 0 {
		return err
	}
	fee, ok := money.Fee(held, PolicyOf(o).PlatformFeeBasisPoints)
	if !ok {
		return money.StoredTooLarge("the platform fee on the %d held for order %s is too large", held, o.ID)
	}
	legs := []ledger.Leg{
		{Kind: ledger.OrderEscrow, Owner: o.ID, Amount: -held},
		{Kind: ledger.SupplierAvailable, Owner: o.SupplierID, Amount: held - fee},
	}
	if fee > 0 {
		legs = append(legs, ledger.Leg{Kind: ledger.PlatformFees, Owner: "", Amount: fee})
	}
	_, err = ledger.Post(ctx, tx, ledger.Transfer{
		CauseKind: ledger.CauseEscrowRelease, CauseID: o.ID, Currency: o.Currency, Time: now,
		Memo: fmt.Sprintf("escrow released less the platform fee of %d", fee), Links: ledger.Links{OrderID: o.ID}, Legs: legs,
	})
	return err
}

// Hold puts a hold on an order's escrow.
func (s *Service) Hold(ctx context.Context, tx *ent.Tx, orderID string, actor auth.Principal, now time.Time) error {
	o, err := get(ctx, tx, orderID)
	if err != nil {
		return fmt.Errorf("hold escrow of %s: %w", orderID, err)
	}
	_, err = s.commit(ctx, tx, o, change{event: "escrow_held", actor: actor, now: now, set: func(u *ent.OrderMutation) {
		u.AddEscrowHolds(1)
	}})
	return err
}

// Unhold ends one hold on an order's escrow; the last one on a completed order releases it.
func (s *Service) Unhold(ctx context.Context, tx *ent.Tx, orderID string, actor auth.Principal, now time.Time) error {
	o, err := get(ctx, tx, orderID)
	if err != nil {
		return fmt.Errorf("unhold escrow of %s: %w", orderID, err)
	}
	if o.EscrowHolds <= 0 {
		return fmt.Errorf("unhold escrow of %s: no hold", orderID)
	}
	updated, _, err := s.commitEntity(ctx, tx, o, change{event: "escrow_unheld", actor: actor, now: now, set: func(u *ent.OrderMutation) {
		u.AddEscrowHolds(-1)
	}})
	if err != nil {
		return err
	}
	if updated.EscrowHolds == 0 && updated.State == entorder.StateCompleted {
		if err := release(ctx, tx, updated, now); err != nil {
			return err
		}
		// A close that fell due while the escrow was held happens now.
		if updated.AfterSalesDeadline != nil {
			due := *updated.AfterSalesDeadline
			if due.Before(now) {
				due = now
			}
			return deadline.Schedule(ctx, tx, "order", updated.ID, KindClose, due, now)
		}
	}
	return nil
}

// Refund pays the buyer back for a cause.
func (s *Service) Refund(ctx context.Context, tx *ent.Tx, r RefundRequest) (RefundResult, error) {
	var res RefundResult
	o, err := get(ctx, tx, r.OrderID)
	if err != nil {
		return res, fmt.Errorf("refund order %s: %w", r.OrderID, err)
	}
	if r.UpToRefundable {
		if r.AmountMinor = min(r.AmountMinor, MoneyOf(o).Refundable()); r.AmountMinor <= 0 {
			return res, nil
		}
	}
	res.AmountMinor = r.AmountMinor
	if r.AmountMinor <= 0 {
		return res, apierr.Invalid("amount", "a refund must be more than zero")
	}
	if left := MoneyOf(o).Refundable(); r.AmountMinor > left {
		return res, apierr.New(connect.CodeFailedPrecondition, commonv1.ErrorReason_ERROR_REASON_AMOUNT_EXCEEDS_PAID,
			"order %s has %d left to refund (paid %d, refunded %d); %d is more", o.ID, left, o.PaidMinor, o.RefundedMinor, r.AmountMinor).
			With("refundable_minor", left)
	}
	held, err := ledger.Balance(ctx, tx, ledger.OrderEscrow, o.ID, o.Currency)
	if err != nil {
		return res, err
	}
	res.FromEscrowMinor = min(held, r.AmountMinor)
	res.FromSupplierMinor = r.AmountMinor - res.FromEscrowMinor
	legs := []ledger.Leg{{Kind: ledger.Refunds, Owner: o.BuyerID, Amount: r.AmountMinor}}
	if res.FromEscrowMinor > 0 {
		legs = append(legs, ledger.Leg{Kind: ledger.OrderEscrow, Owner: o.ID, Amount: -res.FromEscrowMinor})
	}
	if res.FromSupplierMinor > 0 {
		legs = append(legs, ledger.Leg{Kind: ledger.SupplierAvailable, Owner: o.SupplierID, Amount: -res.FromSupplierMinor})
	}
	links := r.Links
	links.OrderID = o.ID
	res.Posted, err = ledger.Post(ctx, tx, ledger.Transfer{
		CauseKind: r.CauseKind, CauseID: r.CauseID, Currency: o.Currency, Time: r.Now, Links: links, Legs: legs,
		Memo: "refund to the buyer",
	})
	if err != nil {
		return res, err
	}
	if !res.Posted {
		res.FromEscrowMinor, res.FromSupplierMinor = 0, 0
		res.Order, err = toProto(o)
		return res, err
	}
	res.Order, err = s.commit(ctx, tx, o, change{event: "refunded", actor: r.Actor, now: r.Now, set: func(u *ent.OrderMutation) {
		u.AddRefundedMinor(r.AmountMinor)
	}})
	return res, err
}
