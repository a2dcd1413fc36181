package dispute

import (
	"context"
	"fmt"
	"time"

	"github.com/tradeassure/tradeassure/ent"
	commonv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/common/v1"
	disputev1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/dispute/v1"
	"github.com/tradeassure/tradeassure/server/aftersales"
	"github.com/tradeassure/tradeassure/server/apierr"
	"github.com/tradeassure/tradeassure/server/auth"
	"github.com/tradeassure/tradeassure/server/deadline"
	"github.com/tradeassure/tradeassure/server/describe"
	"github.com/tradeassure/tradeassure/server/ledger"
	"github.com/tradeassure/tradeassure/server/order"
	"github.com/tradeassure/tradeassure/server/resource"
)

// outcome is how a dispute ends with a decision.
type outcome struct {
	method     disputev1.Settlement_Method
	resolution disputev1.Dispute_Resolution
	amount     int64
	offerID    string
	// reimburseInspection makes the supplier reimburse the buyer's inspection fee.
	reimburseInspection bool
	// noHold is set for a dispute that never held the order's escrow (a recorded agreed refund).
	noHold bool
}

// stopClocks drops every deadline of the dispute, running or suspended.
func stopClocks(ctx context.Context, tx *ent.Tx, id string, now time.Time) error {
	return deadline.CancelKinds(ctx, tx, subjectType, id, []string{KindResponse, KindAutoEscalate, KindEvidenceDue}, now)
}

// closeOffers closes the offers still open when the dispute ends otherwise than by accepting them.
func closeOffers(d *disputev1.Dispute, now time.Time) {
	for _, o := range d.GetOffers() {
		if o.GetState() == disputev1.Offer_STATE_OPEN {
			o.State, o.CloseTime = disputev1.Offer_STATE_CLOSED, ts(now)
		}
	}
}

// end ends a dispute (the commit's transition leads to a terminal state): the clocks stop, open offers
// close and the hold ends.
func (s *Service) end(ctx context.Context, tx *ent.Tx, l *loaded, actor auth.Principal, now time.Time, unhold bool) error {
	d := l.d
	d.CloseTime = ts(now)
	d.Suspension, d.PrivateSettlementRequests = nil, nil
	closeOffers(d, now)
	if err := stopClocks(ctx, tx, d.GetId(), now); err != nil {
		return err
	}
	if unhold {
		return s.escrow.Unhold(ctx, tx, d.GetOrderId(), actor, now)
	}
	return nil
}

// settle ends a dispute with an outcome and carries out its money effect: a refund from the escrow (or
// from the supplier's balance when the escrow was released), a return for return-and-refund, the return's
// settlement for a dispute about returned goods, and the inspection fee's reimbursement. It returns the
// timeline steps of the money moved.
func (s *Service) settle(ctx context.Context, tx *ent.Tx, l *loaded, actor auth.Principal, now time.Time, oc outcome) ([]step, error) {
	d := l.d
	o, err := l.orderOf(ctx, tx)
	if err != nil {
		return nil, err
	}
	cur := o.Money.Currency
	// The refund below changes the order; the commit reads it again for the dispute's amounts.
	defer l.forgetOrder()
	set := &disputev1.Settlement{
		Method: oc.method, Resolution: oc.resolution, RefundAmount: resource.Money(oc.amount, cur), OfferId: oc.offerID,
		SettleTime: ts(now),
	}
	var steps []step
	switch {
	case d.GetKind() == disputev1.Dispute_KIND_RETURNED_GOODS:
		// The return pays the refund by its own rules; the dispute decides how much.
		set.RefundSource = disputev1.Settlement_REFUND_SOURCE_RETURN
		// The dispute is about the returned part only: its refund is at most the return's, whatever the
		// ruling or offer says about the order.
		ret, err := tx.ReturnRequest.Get(ctx, d.GetRelatedReturnId())
		if err != nil {
			return nil, fmt.Errorf("read return %s of dispute %s: %w", d.GetRelatedReturnId(), d.GetId(), err)
		}
		oc.amount = min(oc.amount, ret.RefundTotalMinor)
		set.RefundAmount = resource.Money(oc.amount, cur)
		if err := s.returns.ResolveReturnDispute(ctx, tx, aftersales.ReturnDisputeOutcome{
			ReturnID: d.GetRelatedReturnId(), DisputeID: d.GetId(), RefundMinor: oc.amount, Actor: actor, Now: now,
		}); err != nil {
			return nil, err
		}
	case oc.resolution == disputev1.Dispute_RESOLUTION_RETURN_AND_REFUND:
		id, err := s.returns.StartReturnForDispute(ctx, tx, aftersales.ReturnForDispute{
			OrderID: d.GetOrderId(), DisputeID: d.GetId(), RefundMinor: oc.amount, Actor: actor, Now: now,
		})
		if err != nil {
			return nil, err
		}
		d.ReturnId, set.ReturnId = id, id
		set.RefundSource = disputev1.Settlement_REFUND_SOURCE_RETURN
		steps = append(steps, step{kind: disputev1.TimelineEntry_KIND_MONEY_MOVED, fields: []string{"return_id"},
			desc: fmt.Sprintf("Return %s started; the buyer is refunded %s when the goods come back", id, describe.Money(oc.amount, cur))})
	case oc.amount > 0:
		res, err := s.escrow.Refund(ctx, tx, order.RefundRequest{
			OrderID: d.GetOrderId(), AmountMinor: oc.amount, CauseKind: ledger.CauseDisputeRefund, CauseID: d.GetId(),
			Links: ledger.Links{DisputeID: d.GetId()}, Actor: actor, Now: now,
		})
		if err != nil {
			return nil, err
		}
		set.RefundSource = disputev1.Settlement_REFUND_SOURCE_ESCROW
		desc := describe.Money(oc.amount, cur) + " refunded to the buyer from the order's escrow"
		if res.FromSupplierMinor > 0 {
			set.RefundSource = disputev1.Settlement_REFUND_SOURCE_SUPPLIER_CLAWBACK
			desc = fmt.Sprintf("%s refunded to the buyer: %s from the escrow and %s recovered from the supplier's balance",
				describe.Money(oc.amount, cur), describe.Money(res.FromEscrowMinor, cur), describe.Money(res.FromSupplierMinor, cur))
		}
		steps = append(steps, step{kind: disputev1.TimelineEntry_KIND_MONEY_MOVED, amount: resource.Money(oc.amount, cur),
			fields: []string{"settlement.refund_amount"}, desc: desc})
	}
	if insp := d.GetInspection(); oc.reimburseInspection && insp != nil && !insp.GetReimbursed() {
		fee := insp.GetFee().GetAmountMinor()
		if _, err := ledger.Post(ctx, tx, ledger.Transfer{
			CauseKind: ledger.CauseInspectionFee, CauseID: d.GetId(), Currency: cur, Time: now,
			Memo:  "inspection fee reimbursed by the supplier found responsible",
			Links: ledger.Links{OrderID: d.GetOrderId(), DisputeID: d.GetId()},
			Legs: []ledger.Leg{
				{Kind: ledger.SupplierAvailable, Owner: d.GetSupplierAccountId(), Amount: -fee},
				{Kind: ledger.Refunds, Owner: d.GetBuyerAccountId(), Amount: fee},
			},
		}); err != nil {
			return nil, err
		}
		insp.Reimbursed, insp.ReimburseTime = true, ts(now)
		set.InspectionFeeReimbursement = insp.GetFee()
		steps = append(steps, step{kind: disputev1.TimelineEntry_KIND_MONEY_MOVED, amount: insp.GetFee(),
			fields: []string{"inspection.reimbursed"},
			desc:   fmt.Sprintf("The supplier reimbursed the buyer's inspection fee of %s", describe.Money(fee, cur))})
	}
	d.Settlement = set
	if err := s.end(ctx, tx, l, actor, now, !oc.noHold); err != nil {
		return nil, err
	}
	return steps, nil
}

// openOffer returns the latest open offer, or nil.
func openOffer(d *disputev1.Dispute) *disputev1.Offer {
	for i := len(d.GetOffers()) - 1; i >= 0; i-- {
		if o := d.GetOffers()[i]; o.GetState() == disputev1.Offer_STATE_OPEN {
			return o
		}
	}
	return nil
}

// theirOffer checks that offerID is the other side's latest open offer.
func theirOffer(d *disputev1.Dispute, p auth.Principal, offerID string) (*disputev1.Offer, error) {
	var found *disputev1.Offer
	for _, o := range d.GetOffers() {
		if o.GetId() == offerID {
			found = o
		}
	}
	if found == nil {
		return nil, apierr.InvalidWith(commonv1.ErrorReason_ERROR_REASON_NOT_FOUND, "offer_id", "dispute %s has no offer %s", d.GetId(), offerID)
	}
	if found.GetProposer().GetAccountId() == p.AccountID {
		return nil, apierr.Precondition(commonv1.ErrorReason_ERROR_REASON_OWN_PROPOSAL,
			"offer %s is your own; only the other party can accept or decline it", offerID)
	}
	latest := openOffer(d)
	if latest == nil || latest.GetId() != offerID {
		latestID := ""
		if latest != nil {
			latestID = latest.GetId()
		}
		return nil, apierr.Precondition(commonv1.ErrorReason_ERROR_REASON_OFFER_NOT_LATEST,
			"offer %s is %s, not the latest open offer; read the dispute again", offerID, found.GetState()).With("latest_offer_id", latestID)
	}
	return found, nil
}
