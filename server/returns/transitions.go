package returns

import (
	"context"
	"fmt"
	"time"

	"connectrpc.com/connect"

	"github.com/tradeassure/tradeassure/ent"
	"github.com/tradeassure/tradeassure/ent/returnrequest"
	"github.com/tradeassure/tradeassure/ent/schema"
	commonv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/common/v1"
	returnsv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/returns/v1"
	"github.com/tradeassure/tradeassure/server/aftersales"
	"github.com/tradeassure/tradeassure/server/apierr"
	"github.com/tradeassure/tradeassure/server/auth"
	"github.com/tradeassure/tradeassure/server/describe"
	"github.com/tradeassure/tradeassure/server/money"
	"github.com/tradeassure/tradeassure/server/resource"
)

// ApproveReturn approves a requested return with a return address.
func (s *Service) ApproveReturn(ctx context.Context, req *connect.Request[returnsv1.ApproveReturnRequest]) (*connect.Response[returnsv1.ApproveReturnResponse], error) {
	return run(ctx, s, req, func(tx *ent.Tx, p auth.Principal, now time.Time) (*returnsv1.ApproveReturnResponse, error) {
		r, err := s.load(ctx, tx, p, req.Msg.GetId(), req.Msg.GetEtag())
		if err != nil {
			return nil, err
		}
		if err := requireSupplier(p, r, "approve a return"); err != nil {
			return nil, err
		}
		if err := approve.CheckAt(r, now); err != nil {
			return nil, err
		}
		addr := req.Msg.GetReturnAddress()
		if addr == nil {
			if addr, err = supplierAddress(ctx, tx, r.SupplierID); err != nil {
				return nil, err
			}
			if addr == nil {
				return nil, apierr.Invalid("return_address", "you have no registered return address; give the address the buyer must ship the goods to")
			}
		}
		pb, err := s.approve(ctx, tx, r, approve, addr, p, now, "approved", returnsv1.TimelineEntry_KIND_APPROVED, req.Msg.GetNote())
		if err != nil {
			return nil, err
		}
		return &returnsv1.ApproveReturnResponse{Return: pb}, nil
	})
}

// approve moves a requested return to APPROVED by t (the supplier's approval or the automatic one), which
// starts the buyer's shipping deadline.
func (s *Service) approve(ctx context.Context, tx *ent.Tx, r *ent.ReturnRequest, t *rule, addr *commonv1.Address, actor auth.Principal,
	now time.Time, event string, kind returnsv1.TimelineEntry_Kind, note string,
) (*returnsv1.Return, error) {
	due := shipTimer.DueFor(r, now)
	desc := fmt.Sprintf("Supplier approved the return; ship the goods by %s", due.UTC().Format(time.RFC3339))
	if kind == returnsv1.TimelineEntry_KIND_AUTO_APPROVED {
		desc = fmt.Sprintf("Return approved automatically: the supplier did not answer within %s; ship the goods by %s",
			days(returnPolicy(r).ReturnAnswer), due.UTC().Format(time.RFC3339))
		if addr == nil {
			desc += "; the supplier has no registered return address, so it must tell the buyer where to send them"
		}
	}
	if note != "" {
		desc += ". Note: " + note
	}
	_, pb, err := s.commit(ctx, tx, r, t, change{event: event, actor: actor, now: now,
		steps: []step{{kind: kind, description: desc, fields: []string{"return_address", "buyer_ship_deadline"}}},
		set: func(u *ent.ReturnRequestUpdateOne) {
			u.SetApproveTime(now).
				SetApprovedByRole(auth.RoleName(actor.Role)).SetApprovedByID(actor.AccountID)
			if addr != nil {
				u.SetReturnAddress(resource.Marshal(addr))
			}
		}})
	return pb, err
}

func days(d time.Duration) string {
	n := int(d.Hours() / 24)
	if n == 1 {
		return "1 day"
	}
	return fmt.Sprintf("%d days", n)
}

// DeclineReturn declines a requested return.
func (s *Service) DeclineReturn(ctx context.Context, req *connect.Request[returnsv1.DeclineReturnRequest]) (*connect.Response[returnsv1.DeclineReturnResponse], error) {
	return run(ctx, s, req, func(tx *ent.Tx, p auth.Principal, now time.Time) (*returnsv1.DeclineReturnResponse, error) {
		m := req.Msg
		r, err := s.load(ctx, tx, p, m.GetId(), m.GetEtag())
		if err != nil {
			return nil, err
		}
		if err := requireSupplier(p, r, "decline a return"); err != nil {
			return nil, err
		}
		if err := decline.CheckAt(r, now); err != nil {
			return nil, err
		}
		if m.GetReason() == returnsv1.Return_DECLINE_REASON_SUBJECTIVE_REASON && (r.Reason == nil || !subjective[reasonToProto[*r.Reason]]) {
			return nil, apierr.Invalid("reason", "the buyer's reason is not subjective (it claims a fault of the goods); give the reason you decline for")
		}
		evidence, stamped := marshalEvidence(m.GetEvidence(), p, now)
		if err := s.unhold(ctx, tx, r, p, now); err != nil {
			return nil, err
		}
		_, pb, err := s.commit(ctx, tx, r, decline, change{event: "declined", actor: p, now: now,
			steps: []step{{kind: returnsv1.TimelineEntry_KIND_DECLINED, evidence: stamped,
				description: fmt.Sprintf("Supplier declined the return (%s): %s. The buyer may open a dispute about the order", describe.Enum(m.GetReason()), m.GetNote()),
				fields:      []string{"decline_reason", "decline_note"}}},
			set: func(u *ent.ReturnRequestUpdateOne) {
				u.SetDeclineReason(m.GetReason().String()).SetDeclineNote(m.GetNote()).
					AppendEvidence(evidence).SetEscrowHeld(false).SetHeldMinor(0).SetCloseTime(now)
			}})
		if err != nil {
			return nil, err
		}
		return &returnsv1.DeclineReturnResponse{Return: pb}, nil
	})
}

// OfferPartialRefund offers a partial refund without a return.
func (s *Service) OfferPartialRefund(ctx context.Context, req *connect.Request[returnsv1.OfferPartialRefundRequest]) (*connect.Response[returnsv1.OfferPartialRefundResponse], error) {
	return run(ctx, s, req, func(tx *ent.Tx, p auth.Principal, now time.Time) (*returnsv1.OfferPartialRefundResponse, error) {
		m := req.Msg
		r, err := s.load(ctx, tx, p, m.GetId(), m.GetEtag())
		if err != nil {
			return nil, err
		}
		if err := requireSupplier(p, r, "offer a partial refund"); err != nil {
			return nil, err
		}
		if err := offerPartial.CheckAt(r, now); err != nil {
			return nil, err
		}
		amt := m.GetAmount()
		if amt.GetCurrency() != r.Currency {
			return nil, apierr.InvalidWith(commonv1.ErrorReason_ERROR_REASON_CURRENCY_MISMATCH, "amount.currency",
				"the order is in %s; offer the refund in %s", r.Currency, r.Currency)
		}
		if amt.GetAmountMinor() >= r.RefundTotalMinor {
			return nil, apierr.InvalidWith(commonv1.ErrorReason_ERROR_REASON_AMOUNT_EXCEEDS_PAID, "amount.amount_minor",
				"a partial refund must be below the return's refund of %s; approve the return to refund it in full", amountText(r.RefundTotalMinor, r.Currency)).
				With("refund_total_minor", r.RefundTotalMinor)
		}
		_, pb, err := s.commit(ctx, tx, r, offerPartial, change{event: "partial_refund_offered", actor: p, now: now,
			steps: []step{{kind: returnsv1.TimelineEntry_KIND_PARTIAL_REFUND_OFFERED,
				fields:      []string{"partial_refund_offer", "partial_refund_note"},
				description: fmt.Sprintf("Supplier offered a partial refund of %s without a return", amountText(amt.GetAmountMinor(), r.Currency))}},
			set: func(u *ent.ReturnRequestUpdateOne) {
				u.SetOfferedRefundMinor(amt.GetAmountMinor()).SetOfferNote(m.GetNote())
			}})
		if err != nil {
			return nil, err
		}
		return &returnsv1.OfferPartialRefundResponse{Return: pb}, nil
	})
}

// AcceptPartialRefund accepts the supplier's partial refund: the buyer keeps the goods and is refunded the
// offer.
func (s *Service) AcceptPartialRefund(ctx context.Context, req *connect.Request[returnsv1.AcceptPartialRefundRequest]) (*connect.Response[returnsv1.AcceptPartialRefundResponse], error) {
	return run(ctx, s, req, func(tx *ent.Tx, p auth.Principal, now time.Time) (*returnsv1.AcceptPartialRefundResponse, error) {
		r, err := s.load(ctx, tx, p, req.Msg.GetId(), req.Msg.GetEtag())
		if err != nil {
			return nil, err
		}
		if err := requireBuyer(p, r, "accept a partial refund"); err != nil {
			return nil, err
		}
		if err := acceptPartial.CheckAt(r, now); err != nil {
			return nil, err
		}
		pb, err := s.finish(ctx, tx, r, acceptPartial, p, now, finish{
			event: "refunded", kind: returnsv1.TimelineEntry_KIND_PARTIAL_REFUND_ACCEPTED, amount: r.OfferedRefundMinor,
			keptGoods: true, text: "Buyer accepted the partial refund and keeps the goods; refunded %s",
		})
		if err != nil {
			return nil, err
		}
		return &returnsv1.AcceptPartialRefundResponse{Return: pb}, nil
	})
}

// RejectPartialRefund rejects the supplier's partial refund.
func (s *Service) RejectPartialRefund(ctx context.Context, req *connect.Request[returnsv1.RejectPartialRefundRequest]) (*connect.Response[returnsv1.RejectPartialRefundResponse], error) {
	return run(ctx, s, req, func(tx *ent.Tx, p auth.Principal, now time.Time) (*returnsv1.RejectPartialRefundResponse, error) {
		r, err := s.load(ctx, tx, p, req.Msg.GetId(), req.Msg.GetEtag())
		if err != nil {
			return nil, err
		}
		if err := requireBuyer(p, r, "reject a partial refund"); err != nil {
			return nil, err
		}
		if err := rejectPartial.CheckAt(r, now); err != nil {
			return nil, err
		}
		if err := s.unhold(ctx, tx, r, p, now); err != nil {
			return nil, err
		}
		desc := "Buyer rejected the partial refund; the buyer may open a dispute about the order"
		if n := req.Msg.GetNote(); n != "" {
			desc += ". Note: " + n
		}
		_, pb, err := s.commit(ctx, tx, r, rejectPartial, change{event: "partial_refund_rejected", actor: p, now: now,
			steps: []step{{kind: returnsv1.TimelineEntry_KIND_PARTIAL_REFUND_REJECTED, description: desc}},
			set: func(u *ent.ReturnRequestUpdateOne) {
				u.SetEscrowHeld(false).SetHeldMinor(0).SetCloseTime(now)
			}})
		if err != nil {
			return nil, err
		}
		return &returnsv1.RejectPartialRefundResponse{Return: pb}, nil
	})
}

// ShipReturn records the return shipment's tracking number.
func (s *Service) ShipReturn(ctx context.Context, req *connect.Request[returnsv1.ShipReturnRequest]) (*connect.Response[returnsv1.ShipReturnResponse], error) {
	return run(ctx, s, req, func(tx *ent.Tx, p auth.Principal, now time.Time) (*returnsv1.ShipReturnResponse, error) {
		m := req.Msg
		r, err := s.load(ctx, tx, p, m.GetId(), m.GetEtag())
		if err != nil {
			return nil, err
		}
		if err := requireBuyer(p, r, "ship a return"); err != nil {
			return nil, err
		}
		if err := ship.CheckAt(r, now); err != nil {
			return nil, err
		}
		desc := fmt.Sprintf("Buyer shipped the return with %s, tracking number %s", m.GetCarrier(), m.GetTrackingNumber())
		if receiptTimer.When(r) {
			desc += fmt.Sprintf("; the supplier must confirm receipt by %s", receiptTimer.DueFor(r, now).UTC().Format(time.RFC3339))
		} else {
			desc += "; the platform warehouse inspects the goods when they arrive"
		}
		evidence, stamped := marshalEvidence(m.GetEvidence(), p, now)
		_, pb, err := s.commit(ctx, tx, r, ship, change{event: "shipped", actor: p, now: now,
			steps: []step{{kind: returnsv1.TimelineEntry_KIND_SHIPPED, description: desc, evidence: stamped,
				fields: []string{"carrier", "tracking_number", "ship_time"}}},
			set: func(u *ent.ReturnRequestUpdateOne) {
				u.SetCarrier(m.GetCarrier()).SetTrackingNumber(m.GetTrackingNumber()).
					SetShipTime(now).AppendEvidence(evidence)
			}})
		if err != nil {
			return nil, err
		}
		return &returnsv1.ShipReturnResponse{Return: pb}, nil
	})
}

// ConfirmReturnReceipt records what arrived of a standard return.
func (s *Service) ConfirmReturnReceipt(ctx context.Context, req *connect.Request[returnsv1.ConfirmReturnReceiptRequest]) (*connect.Response[returnsv1.ConfirmReturnReceiptResponse], error) {
	return run(ctx, s, req, func(tx *ent.Tx, p auth.Principal, now time.Time) (*returnsv1.ConfirmReturnReceiptResponse, error) {
		m := req.Msg
		r, err := s.load(ctx, tx, p, m.GetId(), m.GetEtag())
		if err != nil {
			return nil, err
		}
		if err := requireSupplier(p, r, "confirm receipt of a return"); err != nil {
			return nil, err
		}
		if r.Kind == returnrequest.KindFreeReturn {
			return nil, apierr.Precondition(commonv1.ErrorReason_ERROR_REASON_ILLEGAL_STATE,
				"return %s is a free return: the platform warehouse receives and inspects the goods", r.ID)
		}
		if err := confirm.CheckAt(r, now); err != nil {
			return nil, err
		}
		lines, bad, err := receiveLines(r.Lines, m.GetLines())
		if err != nil {
			return nil, err
		}
		evidence, stamped := marshalEvidence(m.GetEvidence(), p, now)
		if bad == 0 {
			pb, err := s.finish(ctx, tx, r, confirm, p, now, finish{
				event: "refunded", kind: returnsv1.TimelineEntry_KIND_RECEIPT_CONFIRMED, amount: r.RefundTotalMinor,
				text:  "Supplier confirmed receipt of every returned unit in good order; refunded %s",
				lines: lines, evidence: evidence, stamped: stamped, note: m.GetNote(),
			})
			if err != nil {
				return nil, err
			}
			return &returnsv1.ConfirmReturnReceiptResponse{Return: pb}, nil
		}
		if len(m.GetEvidence()) == 0 {
			return nil, apierr.New(connect.CodeInvalidArgument, commonv1.ErrorReason_ERROR_REASON_EVIDENCE_REQUIRED,
				"reporting %d unit(s) damaged or missing needs evidence: attach photos of what arrived (EVIDENCE_KIND_PRODUCT_PHOTO) or the carrier's record (EVIDENCE_KIND_LOGISTICS_RECORD)", bad).
				With("missing", "evidence").With("suggested_kinds", "EVIDENCE_KIND_PRODUCT_PHOTO,EVIDENCE_KIND_LOGISTICS_RECORD")
		}
		if m.GetNote() == "" {
			return nil, apierr.Invalid("note", "describe what was damaged or missing; the arbiter reads it")
		}
		var claim int64
		for _, l := range lines {
			if l.Quantity > 0 {
				part, ok := mulDiv(l.RefundMinor, l.Damaged+l.Missing, l.Quantity)
				if !ok {
					return nil, money.StoredTooLarge("the refund share of the damaged or missing units is too large")
				}
				claim += part // parts of the return's refund, which is within money.Max
			}
		}
		claim = min(max(claim, 1), r.RefundTotalMinor)
		ev, err := unmarshalEvidence(evidence)
		if err != nil {
			return nil, err
		}
		disputeID, err := s.disputes.OpenReturnedGoodsDispute(ctx, tx, aftersales.ReturnedGoodsDispute{
			OrderID: r.OrderID, ReturnID: r.ID, SupplierID: r.SupplierID, ClaimMinor: claim,
			Statement: m.GetNote(), Evidence: ev, Now: now,
		})
		if err != nil {
			return nil, fmt.Errorf("open a dispute about return %s: %w", r.ID, err)
		}
		_, pb, err := s.commit(ctx, tx, r, disputeReceipt, change{event: "disputed", actor: p, now: now,
			steps: []step{{kind: returnsv1.TimelineEntry_KIND_RECEIPT_DISPUTED, evidence: stamped,
				fields: []string{"lines", "receive_time", "receipt_dispute_id"},
				description: fmt.Sprintf("Supplier reported %d unit(s) damaged or missing and contests %s of the refund; dispute %s decides the refund: %s",
					bad, amountText(claim, r.Currency), disputeID, m.GetNote())}},
			set: func(u *ent.ReturnRequestUpdateOne) {
				u.SetLines(lines).SetReceiveTime(now).SetReceiptNote(m.GetNote()).
					AppendEvidence(evidence).SetReceiptDisputeID(disputeID)
			}})
		if err != nil {
			return nil, err
		}
		return &returnsv1.ConfirmReturnReceiptResponse{Return: pb}, nil
	})
}

// receiveLines applies a receipt report to the returned lines and returns them with the number of units
// reported damaged or missing. No report means everything arrived in good order.
func receiveLines(returned []schema.ReturnedLine, report []*returnsv1.LineReceipt) ([]schema.ReturnedLine, int64, error) {
	out := make([]schema.ReturnedLine, len(returned))
	copy(out, returned)
	if len(report) == 0 {
		for i := range out {
			out[i].Received, out[i].Damaged, out[i].Missing = out[i].Quantity, 0, 0
		}
		return out, 0, nil
	}
	seen := map[int]bool{}
	var bad int64
	for i, rep := range report {
		field := fmt.Sprintf("lines[%d]", i)
		at := -1
		for j, l := range out {
			switch x := rep.GetLine().(type) {
			case *returnsv1.LineReceipt_LineIndex:
				if l.LineIndex == x.LineIndex {
					at = j
				}
			case *returnsv1.LineReceipt_ProductId:
				if l.ProductID == x.ProductId {
					if at >= 0 {
						return nil, 0, apierr.Invalid(field+".product_id", "product %q is on several returned lines; name the line by line_index", x.ProductId)
					}
					at = j
				}
			}
		}
		if at < 0 {
			return nil, 0, apierr.Invalid(field, "this line is not part of the return")
		}
		if seen[at] {
			return nil, 0, apierr.Invalid(field, "order line %d is reported twice", out[at].LineIndex)
		}
		seen[at] = true
		l := &out[at]
		if sum := rep.GetReceivedQuantity() + rep.GetDamagedQuantity() + rep.GetMissingQuantity(); sum != l.Quantity {
			return nil, 0, apierr.Invalid(field, "received, damaged and missing add up to %d, but %d units of order line %d were returned", sum, l.Quantity, l.LineIndex)
		}
		l.Received, l.Damaged, l.Missing = rep.GetReceivedQuantity(), rep.GetDamagedQuantity(), rep.GetMissingQuantity()
		bad += l.Damaged + l.Missing
	}
	for j, l := range out {
		if !seen[j] {
			return nil, 0, apierr.Invalid("lines", "order line %d of the return is not reported; report every returned line, or none if everything arrived in good order", l.LineIndex)
		}
	}
	return out, bad, nil
}

// InspectReturn records the warehouse's inspection of a free return.
func (s *Service) InspectReturn(ctx context.Context, req *connect.Request[returnsv1.InspectReturnRequest]) (*connect.Response[returnsv1.InspectReturnResponse], error) {
	return run(ctx, s, req, func(tx *ent.Tx, p auth.Principal, now time.Time) (*returnsv1.InspectReturnResponse, error) {
		m := req.Msg
		r, err := s.load(ctx, tx, p, m.GetId(), m.GetEtag())
		if err != nil {
			return nil, err
		}
		if err := p.RequireRole("inspect a free return (only platform warehouse staff may)", commonv1.Role_ROLE_WAREHOUSE); err != nil {
			return nil, err
		}
		if err := inspectGood.CheckAt(r, now); err != nil {
			return nil, err
		}
		evidence, stamped := marshalEvidence(m.GetEvidence(), p, now)
		inspected := step{kind: returnsv1.TimelineEntry_KIND_INSPECTED, evidence: stamped, fields: []string{"inspection_result", "inspection_note", "receive_time"}}
		if m.GetResult() == returnsv1.Return_INSPECTION_RESULT_NOT_RESALEABLE {
			if err := s.unhold(ctx, tx, r, p, now); err != nil {
				return nil, err
			}
			inspected.description = "Warehouse inspected the goods: not resaleable. " + m.GetNote()
			_, pb, err := s.commit(ctx, tx, r, inspectBad, change{event: "rejected", actor: p, now: now,
				steps: []step{inspected, {kind: returnsv1.TimelineEntry_KIND_REJECTED,
					description: "Free return rejected: the goods cannot be resold, so no refund is made"}},
				set: func(u *ent.ReturnRequestUpdateOne) {
					u.SetInspectionResult(returnrequest.InspectionResultNotResaleable).
						SetInspectionNote(m.GetNote()).SetInspectedBy(p.AccountID).SetReceiveTime(now).AppendEvidence(evidence).
						SetEscrowHeld(false).SetHeldMinor(0).SetCloseTime(now)
				}})
			if err != nil {
				return nil, err
			}
			return &returnsv1.InspectReturnResponse{Return: pb}, nil
		}
		inspected.description = "Warehouse inspected the goods: resaleable; they become the platform's. " + m.GetNote()
		lines, _, _ := receiveLines(r.Lines, nil)
		pb, err := s.finish(ctx, tx, r, inspectGood, p, now, finish{
			event: "refunded", kind: returnsv1.TimelineEntry_KIND_REFUNDED, amount: r.RefundTotalMinor,
			text: "Buyer refunded %s (shipping excluded)", lines: lines, evidence: evidence, before: []step{inspected},
			inspect: m,
		})
		if err != nil {
			return nil, err
		}
		return &returnsv1.InspectReturnResponse{Return: pb}, nil
	})
}

// CancelReturn withdraws a return before the goods ship.
func (s *Service) CancelReturn(ctx context.Context, req *connect.Request[returnsv1.CancelReturnRequest]) (*connect.Response[returnsv1.CancelReturnResponse], error) {
	return run(ctx, s, req, func(tx *ent.Tx, p auth.Principal, now time.Time) (*returnsv1.CancelReturnResponse, error) {
		r, err := s.load(ctx, tx, p, req.Msg.GetId(), req.Msg.GetEtag())
		if err != nil {
			return nil, err
		}
		if err := requireBuyer(p, r, "cancel a return"); err != nil {
			return nil, err
		}
		if err := cancel.CheckAt(r, now); err != nil {
			return nil, err
		}
		if err := s.unhold(ctx, tx, r, p, now); err != nil {
			return nil, err
		}
		desc := "Buyer cancelled the return"
		if n := req.Msg.GetNote(); n != "" {
			desc += ": " + n
		}
		_, pb, err := s.commit(ctx, tx, r, cancel, change{event: "cancelled", actor: p, now: now,
			steps: []step{{kind: returnsv1.TimelineEntry_KIND_CANCELLED, description: desc}},
			set: func(u *ent.ReturnRequestUpdateOne) {
				u.SetEscrowHeld(false).SetHeldMinor(0).SetCloseTime(now)
			}})
		if err != nil {
			return nil, err
		}
		return &returnsv1.CancelReturnResponse{Return: pb}, nil
	})
}

// AddReturnEvidence attaches evidence to a return that has not ended.
func (s *Service) AddReturnEvidence(ctx context.Context, req *connect.Request[returnsv1.AddReturnEvidenceRequest]) (*connect.Response[returnsv1.AddReturnEvidenceResponse], error) {
	return run(ctx, s, req, func(tx *ent.Tx, p auth.Principal, now time.Time) (*returnsv1.AddReturnEvidenceResponse, error) {
		r, err := s.load(ctx, tx, p, req.Msg.GetId(), req.Msg.GetEtag())
		if err != nil {
			return nil, err
		}
		if !(p.Role == commonv1.Role_ROLE_BUYER && p.AccountID == r.BuyerID) && !(p.Role == commonv1.Role_ROLE_SUPPLIER && p.AccountID == r.SupplierID) {
			return nil, apierr.RoleNotAllowed("add evidence to a return (only the order's buyer and supplier may)", p.Role)
		}
		if !isOpen(r) {
			return nil, apierr.IllegalState("return", r.ID, "add evidence to", string(r.State))
		}
		evidence, stamped := marshalEvidence(req.Msg.GetEvidence(), p, now)
		_, pb, err := s.commit(ctx, tx, r, nil, change{event: "evidence_added", actor: p, now: now,
			steps: []step{{kind: returnsv1.TimelineEntry_KIND_EVIDENCE_ADDED, evidence: stamped, fields: []string{"evidence"},
				description: fmt.Sprintf("%s added %d piece(s) of evidence", capitalize(auth.RoleName(p.Role)), len(stamped))}},
			set: func(u *ent.ReturnRequestUpdateOne) { u.AppendEvidence(evidence) }})
		if err != nil {
			return nil, err
		}
		return &returnsv1.AddReturnEvidenceResponse{Return: pb}, nil
	})
}

func capitalize(s string) string {
	if s == "" {
		return s
	}
	return string(s[0]-'a'+'A') + s[1:]
}

// finish is how a return ends with a refund to the buyer.
type finish struct {
	event string
	kind  returnsv1.TimelineEntry_Kind
	// amount is the refund due before the cap; text is the timeline sentence with a %s for the amount.
	amount    int64
	text      string
	keptGoods bool
	// lines, evidence and note are the receipt report, when there is one.
	lines    []schema.ReturnedLine
	evidence [][]byte
	stamped  []*commonv1.Evidence
	note     string
	// before are timeline steps that precede the refund in the same change.
	before []step
	// inspect is set for a resaleable free return.
	inspect *returnsv1.InspectReturnRequest
}

// finish refunds the buyer, lifts the hold and moves the return to REFUNDED by t. The refund is paid before
// the hold is lifted, so that a completed order releases only what is left in its escrow.
func (s *Service) finish(ctx context.Context, tx *ent.Tx, r *ent.ReturnRequest, t *rule, actor auth.Principal, now time.Time, f finish) (*returnsv1.Return, error) {
	refunded, err := s.refund(ctx, tx, r, f.amount, actor, now)
	if err != nil {
		return nil, err
	}
	if err := s.unhold(ctx, tx, r, actor, now); err != nil {
		return nil, err
	}
	desc := fmt.Sprintf(f.text, amountText(refunded, r.Currency))
	if refunded < f.amount {
		desc += fmt.Sprintf(" (%s less than due: refunds on an order never exceed what was paid)", amountText(f.amount-refunded, r.Currency))
	}
	if f.note != "" {
		desc += ". Note: " + f.note
	}
	steps := append(f.before, step{kind: f.kind, amount: refunded, description: desc,
		evidence: f.stamped, fields: []string{"refunded_amount", "refund_time"}})
	var comp int64
	if f.inspect != nil {
		// The platform makes the supplier whole for what the refund took out of the sale: the refunded
		// amount. The freight share was not refunded, so it stays with the supplier through the escrow. The
		// compensation timer starts on entering REFUNDED (see compensateTimer); with nothing to compensate it
		// is stale when it falls due.
		comp = refunded
	}
	_, pb, err := s.commit(ctx, tx, r, t, change{event: f.event, actor: actor, now: now, steps: steps,
		set: func(u *ent.ReturnRequestUpdateOne) {
			u.SetRefundedMinor(refunded).SetRefundTime(now).SetCloseTime(now).
				SetEscrowHeld(false).SetHeldMinor(0).SetKeptGoods(f.keptGoods)
			if short := f.amount - refunded; short > 0 && !f.keptGoods && f.amount == r.RefundTotalMinor {
				// Recomputed when paid: refunds made on the order since the request (a dispute's, say) may
				// leave less to refund than the return expected; the difference is a cap deduction.
				u.SetRefundTotalMinor(refunded).SetCapDeductionMinor(r.CapDeductionMinor + short)
			}
			if f.lines != nil {
				u.SetLines(f.lines).SetReceiveTime(now)
			}
			if len(f.evidence) > 0 {
				u.AppendEvidence(f.evidence)
			}
			if f.note != "" {
				u.SetReceiptNote(f.note)
			}
			if f.inspect != nil {
				u.SetInspectionResult(returnrequest.InspectionResultResaleable).SetInspectionNote(f.inspect.GetNote()).
					SetInspectedBy(actor.AccountID).SetCompensationMinor(comp)
			}
		}})
	return pb, err
}
