package returns

import (
	"context"
	"fmt"
	"time"

	"github.com/tradeassure/tradeassure/ent"
	returnsv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/returns/v1"
	"github.com/tradeassure/tradeassure/server/aftersales"
	"github.com/tradeassure/tradeassure/server/apierr"
	"github.com/tradeassure/tradeassure/server/auth"
	"github.com/tradeassure/tradeassure/server/deadline"
	"github.com/tradeassure/tradeassure/server/ledger"
)

// Deadline kinds of returns.
const (
	// KindSupplierAnswer approves a requested return the supplier did not answer in time.
	KindSupplierAnswer = "return.supplier_answer"
	// KindBuyerShip lapses an approved return the buyer did not ship in time.
	KindBuyerShip = "return.buyer_ship"
	// KindSupplierReceipt refunds the buyer when the supplier neither confirmed nor disputed the returned
	// goods in time.
	KindSupplierReceipt = "return.supplier_receipt"
	// KindCompensate pays the platform's compensation to the supplier of a resaleable free return.
	KindCompensate = "return.compensate"
)

// Register adds the return timers (rules.go) to the engine. Each handler runs only when its timer is
// Ready — the return is still in the timer's state and the timer's step is possible —; otherwise the
// deadline is stale and dropped.
func (s *Service) Register(e *deadline.Engine) {
	answerTimer.Handle(e, s.lock, s.autoApprove)
	shipTimer.Handle(e, s.lock, s.lapse)
	receiptTimer.Handle(e, s.lock, s.autoRefund)
	compensateTimer.Handle(e, s.lock, s.compensate)
}

// autoApprove approves a return the supplier did not answer within the policy's time, addressed to the
// supplier's registered return address.
func (s *Service) autoApprove(ctx context.Context, tx *ent.Tx, r *ent.ReturnRequest, now time.Time) error {
	addr, err := supplierAddress(ctx, tx, r.SupplierID)
	if err != nil {
		return err
	}
	_, err = s.approve(ctx, tx, r, autoApprove, addr, auth.System, now, "auto_approved", returnsv1.TimelineEntry_KIND_AUTO_APPROVED, "")
	return err
}

// lapse ends an approved return the buyer did not ship in time; the held funds go to the supplier (the
// hold is lifted, which releases a completed order's escrow).
func (s *Service) lapse(ctx context.Context, tx *ent.Tx, r *ent.ReturnRequest, now time.Time) error {
	if err := s.unhold(ctx, tx, r, auth.System, now); err != nil {
		return err
	}
	_, _, err := s.commit(ctx, tx, r, lapse, change{event: "lapsed", actor: auth.System, now: now,
		steps: []step{{kind: returnsv1.TimelineEntry_KIND_LAPSED,
			description: fmt.Sprintf("Return lapsed: the buyer did not ship it within %s of approval; the held funds go to the supplier", days(returnPolicy(r).ReturnShip))}},
		set: func(u *ent.ReturnRequestUpdateOne) {
			u.SetEscrowHeld(false).SetHeldMinor(0).SetCloseTime(now)
		}})
	return err
}

// autoRefund refunds the buyer of a shipped standard return whose supplier neither confirmed receipt nor
// disputed the goods in time.
func (s *Service) autoRefund(ctx context.Context, tx *ent.Tx, r *ent.ReturnRequest, now time.Time) error {
	_, err := s.finish(ctx, tx, r, autoRefund, auth.System, now, finish{
		event: "auto_refunded", kind: returnsv1.TimelineEntry_KIND_AUTO_REFUNDED, amount: r.RefundTotalMinor,
		text: fmt.Sprintf("Buyer refunded %%s automatically: the supplier did not confirm or dispute the returned goods within %s of the tracking number",
			days(returnPolicy(r).ReturnConfirm)),
	})
	return err
}

// compensate pays the supplier of a resaleable free return from the platform's compensation account.
func (s *Service) compensate(ctx context.Context, tx *ent.Tx, r *ent.ReturnRequest, now time.Time) error {
	if r.CompensationMinor <= 0 || r.CompensateTime != nil {
		return deadline.ErrStale // nothing was refunded, so nothing is compensated; or it was paid already
	}
	_, err := ledger.Post(ctx, tx, ledger.Transfer{
		CauseKind: causeCompensation, CauseID: r.ID, Currency: r.Currency, Time: now, Links: linksOf(r),
		Memo: "free-return compensation: the platform takes over the returned goods",
		Legs: []ledger.Leg{
			{Kind: ledger.PlatformCompensation, Owner: "", Amount: -r.CompensationMinor},
			{Kind: ledger.SupplierAvailable, Owner: r.SupplierID, Amount: r.CompensationMinor},
		},
	})
	if err != nil {
		return fmt.Errorf("compensate the supplier of return %s: %w", r.ID, err)
	}
	_, _, err = s.commit(ctx, tx, r, compensate, change{event: "supplier_compensated", actor: auth.System, now: now,
		steps: []step{{kind: returnsv1.TimelineEntry_KIND_SUPPLIER_COMPENSATED, amount: r.CompensationMinor,
			fields:      []string{"supplier_compensation_time"},
			description: fmt.Sprintf("Platform compensated the supplier %s for the returned goods", amountText(r.CompensationMinor, r.Currency))}},
		set: func(u *ent.ReturnRequestUpdateOne) { u.SetCompensateTime(now) }})
	return err
}

// ResolveReturnDispute settles a DISPUTED return when the dispute about its goods ends: the buyer is refunded
// what the dispute decided (capped at what is still refundable on the order), the hold is lifted and the
// return moves to REFUNDED.
func (s *Service) ResolveReturnDispute(ctx context.Context, tx *ent.Tx, o aftersales.ReturnDisputeOutcome) error {
	r, err := s.lock(ctx, tx, o.ReturnID)
	if err != nil {
		return fmt.Errorf("resolve return %s: %w", o.ReturnID, err)
	}
	if !settle.Possible(r) || r.ReceiptDisputeID != o.DisputeID {
		return apierr.IllegalState("return", r.ID, "settle by dispute "+o.DisputeID, string(r.State))
	}
	if o.RefundMinor < 0 {
		return apierr.Invalid("refund", "a refund cannot be negative")
	}
	actor := o.Actor
	if actor.Role == 0 {
		actor = auth.System
	}
	// The dispute was about this return's goods, so the refund it decides never exceeds the return's.
	_, err = s.finish(ctx, tx, r, settle, actor, o.Now, finish{
		event: "refunded", kind: returnsv1.TimelineEntry_KIND_REFUNDED, amount: min(o.RefundMinor, r.RefundTotalMinor),
		text: "Buyer refunded %s as decided by dispute " + o.DisputeID,
	})
	return err
}
