package dispute

import (
	"context"
	"fmt"
	"time"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/proto"

	"github.com/tradeassure/tradeassure/ent"
	entdispute "github.com/tradeassure/tradeassure/ent/dispute"
	entpayment "github.com/tradeassure/tradeassure/ent/payment"
	commonv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/common/v1"
	disputev1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/dispute/v1"
	"github.com/tradeassure/tradeassure/server/aftersales"
	"github.com/tradeassure/tradeassure/server/apierr"
	"github.com/tradeassure/tradeassure/server/auth"
	"github.com/tradeassure/tradeassure/server/describe"
	"github.com/tradeassure/tradeassure/server/money"
	"github.com/tradeassure/tradeassure/server/order"
	"github.com/tradeassure/tradeassure/server/policy"
	"github.com/tradeassure/tradeassure/server/resource"
)

// policySet is the policy the dispute's order was created under.
func (l *loaded) policySet() policy.Set {
	v := l.version
	if l.row != nil {
		v = l.row.PolicyVersion
	}
	return policy.MustGet(l.d.GetPolicy(), v)
}

// reasonClass is the class of a reason: the first seven are logistics reasons, the others product ones.
func reasonClass(r disputev1.Dispute_Reason) disputev1.Dispute_ReasonClass {
	if r >= disputev1.Dispute_REASON_NOT_SHIPPED_ON_TIME && r <= disputev1.Dispute_REASON_LOST {
		return disputev1.Dispute_REASON_CLASS_LOGISTICS
	}
	return disputev1.Dispute_REASON_CLASS_PRODUCT
}

// stamp marks evidence as attached by p at now.
func stamp(ev []*commonv1.Evidence, p auth.Principal, now time.Time) []*commonv1.Evidence {
	out := make([]*commonv1.Evidence, 0, len(ev))
	for _, e := range ev {
		c := proto.Clone(e).(*commonv1.Evidence)
		c.AddedBy, c.AddTime = p.Party(), ts(now)
		out = append(out, c)
	}
	return out
}

func hasInspectionReport(ev []*commonv1.Evidence) *commonv1.Evidence {
	for _, e := range ev {
		if e.GetKind() == commonv1.EvidenceKind_EVIDENCE_KIND_INSPECTION_REPORT {
			return e
		}
	}
	return nil
}

// linesRefund checks the disputed lines against the order and returns what was paid for them, with their
// share of freight and insurance, capped by what the parties may agree. No lines means the whole order.
func linesRefund(o order.Facts, lines []*disputev1.DisputedLine) (int64, error) {
	limit := agreeable(o)
	if len(lines) == 0 {
		return limit, nil
	}
	terms, err := o.Terms()
	if err != nil {
		return 0, err
	}
	var goods int64
	for i, l := range lines {
		idx := -1
		switch v := l.GetLine().(type) {
		case *disputev1.DisputedLine_LineIndex:
			idx = int(v.LineIndex)
			if idx >= len(terms.GetLines()) {
				return 0, apierr.Invalid(fmt.Sprintf("lines[%d].line_index", i), "the order has %d lines", len(terms.GetLines()))
			}
		case *disputev1.DisputedLine_ProductId:
			for j, ol := range terms.GetLines() {
				if ol.GetProductId() == v.ProductId {
					if idx >= 0 {
						return 0, apierr.Invalid(fmt.Sprintf("lines[%d].product_id", i),
							"product %s is on several lines of the order; name the line by index", v.ProductId)
					}
					idx = j
				}
			}
			if idx < 0 {
				return 0, apierr.InvalidWith(commonv1.ErrorReason_ERROR_REASON_UNKNOWN_PRODUCT, fmt.Sprintf("lines[%d].product_id", i),
					"product %s is not on the order", v.ProductId)
			}
		}
		ol := terms.GetLines()[idx]
		if l.GetQuantity() > ol.GetQuantity() {
			return 0, apierr.InvalidWith(commonv1.ErrorReason_ERROR_REASON_QUANTITY_EXCEEDS_ORDERED, fmt.Sprintf("lines[%d].quantity", i),
				"line %d has %d units; %d is more", idx, ol.GetQuantity(), l.GetQuantity())
		}
		line, ok := money.Mul(l.GetQuantity(), ol.GetUnitPriceMinor())
		if ok {
			goods, ok = money.Add(goods, line)
		}
		if !ok {
			return 0, money.TooLarge(fmt.Sprintf("lines[%d]", i), "the disputed goods add up to more than the platform handles; name each line once")
		}
	}
	amount := goods
	if o.Money.Goods > 0 {
		// The lines carry their share of the freight and insurance the buyer paid.
		fees, ok := money.Sub(o.Money.Total, o.Money.Goods)
		var share int64
		if ok {
			share, ok = money.MulDiv(fees, goods, o.Money.Goods)
		}
		if ok {
			amount, ok = money.Add(goods, share)
		}
		if !ok {
			return 0, money.StoredTooLarge("the freight and insurance share of the disputed lines of order %s is too large", o.ID)
		}
	}
	return min(amount, limit), nil
}

// checkAmount checks a refund amount against the order: its currency, and at most limit, which the
// refusal describes as limitWhat.
func checkAmount(field string, m *commonv1.Money, currency string, limit int64, limitWhat string) error {
	if m.GetCurrency() != currency {
		return apierr.InvalidWith(commonv1.ErrorReason_ERROR_REASON_CURRENCY_MISMATCH, field+".currency",
			"amounts of this dispute are in %s, the order's currency, not %q", currency, m.GetCurrency())
	}
	if m.GetAmountMinor() > limit {
		return apierr.New(connect.CodeFailedPrecondition, commonv1.ErrorReason_ERROR_REASON_AMOUNT_EXCEEDS_PAID,
			"%s of %d is more than the %d that may be refunded: %s", field, m.GetAmountMinor(), limit, limitWhat).
			With("refundable_minor", limit)
	}
	return nil
}

// offerAmount is the refund an offer's terms mean. Offers (and the buyer's opening request, its first
// offer) are what the parties may agree, so they go up to what was paid whatever the coverage; what the
// platform grants from them by itself is capped again by grantable.
func offerAmount(field string, t *disputev1.OfferTerms, o order.Facts, lines []*disputev1.DisputedLine) (int64, error) {
	switch t.GetResolution() {
	case disputev1.Dispute_RESOLUTION_FULL_REFUND:
		return agreeable(o), nil
	case disputev1.Dispute_RESOLUTION_RETURN_AND_REFUND:
		return linesRefund(o, lines)
	case disputev1.Dispute_RESOLUTION_PARTIAL_REFUND:
		if t.GetRefundAmount() == nil {
			return 0, apierr.Invalid(field+".refund_amount", "a partial refund needs the amount")
		}
		if err := checkAmount(field+".refund_amount", t.GetRefundAmount(), o.Money.Currency, agreeable(o), limitAgreeable); err != nil {
			return 0, err
		}
		return t.GetRefundAmount().GetAmountMinor(), nil
	}
	return 0, apierr.Invalid(field+".resolution", "an offer is a full refund, a partial refund or a return and refund")
}

// openOrder reads the order a dispute is opened on and refuses when it already has an open dispute.
func openOrder(ctx context.Context, tx *ent.Tx, orderID string, visibleTo func(order.Facts) bool) (order.Facts, error) {
	o, err := order.Read(ctx, tx, orderID)
	if ent.IsNotFound(err) || (err == nil && !visibleTo(o)) {
		return order.Facts{}, apierr.NotFound("order", orderID)
	}
	if err != nil {
		return order.Facts{}, err
	}
	open, err := tx.Dispute.Query().Where(entdispute.OpenOrderID(orderID)).Exist(ctx)
	if err != nil {
		return order.Facts{}, fmt.Errorf("look for open disputes on %s: %w", orderID, err)
	}
	if open {
		return order.Facts{}, alreadyOpen(orderID)
	}
	return o, nil
}

// newDispute is a dispute on o with the fields every kind shares.
func newDispute(o order.Facts, kind disputev1.Dispute_Kind, opener auth.Principal, now time.Time) *loaded {
	d := &disputev1.Dispute{
		Id: resource.ID("dsp_"), CreateTime: ts(now), OrderId: o.ID, BuyerAccountId: o.BuyerID, SupplierAccountId: o.SupplierID,
		Policy: o.Policy.Name, Kind: kind, OpenedBy: opener.Party(),
	}
	return &loaded{d: d, version: o.PolicyVersion, ord: &o}
}

// startClocks starts the timers of a dispute opened by begin awaiting the supplier's response (rules.go)
// and sets the time from which the buyer may escalate a standard one.
func startClocks(ctx context.Context, tx *ent.Tx, l *loaded, begin *rule, now time.Time) error {
	pol := l.policySet()
	d := l.d
	if d.GetKind() == disputev1.Dispute_KIND_STANDARD && pol.DisputeEscalateFrom > 0 {
		d.EscalationAllowedTime = ts(now.Add(pol.DisputeEscalateFrom))
	}
	return begin.Start(ctx, tx, l, d.GetId(), pol, d, now)
}

// OpenDispute opens a buyer's dispute on its paid order.
func (s *Service) OpenDispute(ctx context.Context, req *connect.Request[disputev1.OpenDisputeRequest]) (*connect.Response[disputev1.OpenDisputeResponse], error) {
	return run(ctx, s, req, func(tx *ent.Tx, p auth.Principal, now time.Time) (*disputev1.OpenDisputeResponse, error) {
		m := req.Msg
		if err := p.RequireRole("open disputes", commonv1.Role_ROLE_BUYER); err != nil {
			return nil, err
		}
		if err := p.RequireAfterSales("open disputes"); err != nil {
			return nil, err
		}
		o, err := openOrder(ctx, tx, m.GetOrderId(), func(o order.Facts) bool { return o.BuyerID == p.AccountID })
		if err != nil {
			return nil, err
		}
		if err := aftersales.OneCase(ctx, tx, o.ID, s.returns, "a dispute can be opened"); err != nil {
			return nil, err
		}
		pol := o.Policy
		switch o.Stage {
		case order.StageUnpaid:
			return nil, apierr.IllegalState("order", o.ID, "open a dispute on", o.State).
				With("hint", "only a paid, not cancelled order can be disputed")
		case order.StageUnshipped:
			// Before shipment the only thing to dispute is that the goods did not ship on time.
			if m.GetReason() != disputev1.Dispute_REASON_NOT_SHIPPED_ON_TIME {
				return nil, apierr.IllegalState("order", o.ID, "dispute "+m.GetReason().String()+" on", o.State).
					With("hint", "before shipment only REASON_NOT_SHIPPED_ON_TIME can be disputed")
			}
			if !now.After(o.ShipBy) {
				return nil, apierr.Precondition(commonv1.ErrorReason_ERROR_REASON_TOO_EARLY,
					"order %s may ship until %s; late shipment can be disputed after that", o.ID, o.ShipBy.UTC().Format(time.RFC3339)).
					With("ship_by_time", o.ShipBy.UTC().Format(time.RFC3339))
			}
		case order.StageCompleted, order.StageClosed:
			// A completed or closed order's end is its completion.
			if o.End != nil {
				end := o.End.Add(pol.DisputeWindow)
				if now.After(end) {
					return nil, apierr.Precondition(commonv1.ErrorReason_ERROR_REASON_WINDOW_CLOSED,
						"the dispute window of order %s closed at %s (%d days after completion); only an arbiter can now record a refund the parties agree",
						o.ID, end.UTC().Format(time.RFC3339), int(pol.DisputeWindow/(24*time.Hour))).
						With("window_end", end.UTC().Format(time.RFC3339))
				}
			}
		}
		if o.Money.Paid <= 0 {
			return nil, apierr.IllegalState("order", o.ID, "open a dispute on", "unpaid")
		}
		// The related return must be one of this order's: the dispute shows it to both parties and the arbiter.
		if id := m.GetRelatedReturnId(); id != "" {
			r, err := tx.ReturnRequest.Get(ctx, id)
			if ent.IsNotFound(err) || (err == nil && r.OrderID != o.ID) {
				return nil, apierr.InvalidWith(commonv1.ErrorReason_ERROR_REASON_NOT_FOUND, "related_return_id",
					"order %s has no return %s", o.ID, id)
			}
			if err != nil {
				return nil, fmt.Errorf("read return %s: %w", id, err)
			}
		}
		amount, err := offerAmount("requested", m.GetRequested(), o, m.GetLines())
		if err != nil {
			return nil, err
		}
		if amount <= 0 {
			return nil, apierr.Precondition(commonv1.ErrorReason_ERROR_REASON_AMOUNT_EXCEEDS_PAID,
				"nothing is left to refund on order %s", o.ID)
		}
		evidence := stamp(m.GetEvidence(), p, now)
		l := newDispute(o, disputev1.Dispute_KIND_STANDARD, p, now)
		d := l.d
		d.Reason, d.ReasonClass, d.Description = m.GetReason(), reasonClass(m.GetReason()), m.GetDescription()
		d.RequestedResolution, d.RequestedRefundAmount = m.GetRequested().GetResolution(), resource.Money(amount, o.Money.Currency)
		d.Lines, d.Evidence, d.RelatedReturnId = m.GetLines(), evidence, m.GetRelatedReturnId()
		if fee := m.GetInspectionFee(); fee != nil {
			if err := s.setInspection(d, fee, evidence, o.Money.Currency); err != nil {
				return nil, err
			}
		}
		offer := &disputev1.Offer{
			Id: resource.ID("ofr_"), Proposer: p.Party(), Resolution: m.GetRequested().GetResolution(),
			RefundAmount: resource.Money(amount, o.Money.Currency), Note: m.GetRequested().GetNote(), Evidence: evidence,
			State: disputev1.Offer_STATE_OPEN, CreateTime: ts(now),
		}
		d.Offers = []*disputev1.Offer{offer}
		if err := startClocks(ctx, tx, l, open, now); err != nil {
			return nil, err
		}
		if err := s.escrow.Hold(ctx, tx, o.ID, p, now); err != nil {
			return nil, err
		}
		out, err := s.commit(ctx, tx, l, open, p, now, step{
			kind: disputev1.TimelineEntry_KIND_OPENED, event: "opened", offerID: offer.GetId(), evidence: evidence,
			amount: d.GetRequestedRefundAmount(),
			desc: fmt.Sprintf("The buyer opened a dispute (%s) asking for %s of %s; the supplier must respond by %s",
				describe.Enum(d.GetReason()), describe.Enum(d.GetRequestedResolution()), describe.Money(amount, o.Money.Currency),
				d.GetSupplierResponseDeadline().AsTime().Format(time.RFC3339)),
			fields: []string{"state", "offers", "evidence"},
		})
		if err != nil {
			return nil, err
		}
		return &disputev1.OpenDisputeResponse{Dispute: out}, nil
	})
}

// setInspection records the buyer's prepaid inspection fee; the evidence must hold the report.
func (s *Service) setInspection(d *disputev1.Dispute, fee *commonv1.Money, evidence []*commonv1.Evidence, currency string) error {
	report := hasInspectionReport(evidence)
	if report == nil {
		return apierr.InvalidWith(commonv1.ErrorReason_ERROR_REASON_EVIDENCE_REQUIRED, "evidence",
			"an inspection fee needs the third-party inspection report (EVIDENCE_KIND_INSPECTION_REPORT) in the evidence")
	}
	if fee.GetCurrency() != currency {
		return apierr.InvalidWith(commonv1.ErrorReason_ERROR_REASON_CURRENCY_MISMATCH, "inspection_fee.currency",
			"the inspection fee must be in %s, the order's currency", currency)
	}
	if fee.GetAmountMinor() > money.Max {
		return money.TooLarge("inspection_fee.amount_minor", "an inspection fee of %d is too large", fee.GetAmountMinor())
	}
	if d.GetInspection() != nil {
		return apierr.Precondition(commonv1.ErrorReason_ERROR_REASON_ILLEGAL_STATE,
			"dispute %s already has an inspection report with a fee", d.GetId())
	}
	d.Inspection = &disputev1.Inspection{Fee: fee, Report: report}
	return nil
}

// RecordChargeback opens a chargeback dispute on an order's card payment.
func (s *Service) RecordChargeback(ctx context.Context, req *connect.Request[disputev1.RecordChargebackRequest]) (*connect.Response[disputev1.RecordChargebackResponse], error) {
	return run(ctx, s, req, func(tx *ent.Tx, p auth.Principal, now time.Time) (*disputev1.RecordChargebackResponse, error) {
		m := req.Msg
		if err := p.RequireRole("record chargebacks", commonv1.Role_ROLE_OPERATOR); err != nil {
			return nil, err
		}
		o, err := openOrder(ctx, tx, m.GetOrderId(), func(order.Facts) bool { return true })
		if err != nil {
			return nil, err
		}
		pay, err := tx.Payment.Get(ctx, m.GetPaymentId())
		if ent.IsNotFound(err) || (err == nil && pay.OrderID != o.ID) {
			return nil, apierr.InvalidWith(commonv1.ErrorReason_ERROR_REASON_NOT_FOUND, "payment_id",
				"order %s has no payment %s", o.ID, m.GetPaymentId())
		}
		if err != nil {
			return nil, fmt.Errorf("read payment %s: %w", m.GetPaymentId(), err)
		}
		if pay.Method != entpayment.MethodCard || pay.State != entpayment.StateSettled || pay.FinishTime == nil {
			return nil, apierr.Invalid("payment_id", "payment %s is a %s payment in state %s; only a settled card payment can be charged back",
				pay.ID, pay.Method, pay.State)
		}
		// A chargeback is recorded once: the same case of the same payment sent again (a retry under another
		// request id, a replayed network message) would open a second dispute and could refund it again.
		earlier, err := tx.Dispute.Query().Where(entdispute.OrderID(o.ID), entdispute.KindEQ(entdispute.KindChargeback)).All(ctx)
		if err != nil {
			return nil, fmt.Errorf("look for chargebacks of order %s: %w", o.ID, err)
		}
		for _, r := range earlier {
			prev, err := decode(r)
			if err != nil {
				return nil, err
			}
			if cb := prev.GetChargeback(); cb.GetPaymentId() == pay.ID && cb.GetNetworkReference() == m.GetNetworkReference() {
				return nil, apierr.Precondition(commonv1.ErrorReason_ERROR_REASON_ALREADY_OPEN,
					"chargeback %q of payment %s was already recorded as dispute %s", m.GetNetworkReference(), pay.ID, r.ID).
					With("dispute_id", r.ID)
			}
		}
		cbTime := m.GetChargebackTime().AsTime()
		if cbTime.After(now) || cbTime.Before(*pay.FinishTime) {
			return nil, apierr.Invalid("chargeback_time", "the chargeback must be raised between the payment (%s) and now",
				pay.FinishTime.UTC().Format(time.RFC3339))
		}
		pol := o.Policy
		if end := pay.FinishTime.Add(pol.ChargebackWindow); cbTime.After(end) {
			return nil, apierr.Precondition(commonv1.ErrorReason_ERROR_REASON_WINDOW_CLOSED,
				"a chargeback of payment %s had to come by %s (%d days after the payment)", pay.ID,
				end.UTC().Format(time.RFC3339), int(pol.ChargebackWindow/(24*time.Hour))).With("window_end", end.UTC().Format(time.RFC3339))
		}
		if err := checkAmount("amount", m.GetAmount(), o.Money.Currency, min(pay.AmountMinor, grantable(o)),
			"the payment's amount, within what the platform may grant on this order"); err != nil {
			return nil, err
		}
		l := newDispute(o, disputev1.Dispute_KIND_CHARGEBACK, p, now)
		d := l.d
		d.Description = "card chargeback " + m.GetReasonCode()
		d.RequestedResolution = disputev1.Dispute_RESOLUTION_PARTIAL_REFUND
		if m.GetAmount().GetAmountMinor() == grantable(o) {
			d.RequestedResolution = disputev1.Dispute_RESOLUTION_FULL_REFUND
		}
		d.RequestedRefundAmount = m.GetAmount()
		d.Chargeback = &disputev1.Chargeback{
			PaymentId: pay.ID, Amount: m.GetAmount(), ReasonCode: m.GetReasonCode(), NetworkReference: m.GetNetworkReference(),
			PaymentTime: ts(*pay.FinishTime), ChargebackTime: m.GetChargebackTime(),
		}
		if err := startClocks(ctx, tx, l, recordCharge, now); err != nil {
			return nil, err
		}
		if err := s.escrow.Hold(ctx, tx, o.ID, p, now); err != nil {
			return nil, err
		}
		out, err := s.commit(ctx, tx, l, recordCharge, p, now, step{
			kind: disputev1.TimelineEntry_KIND_OPENED, event: "opened", amount: m.GetAmount(), fields: []string{"state", "chargeback"},
			desc: fmt.Sprintf("A card chargeback (%s) of %s was recorded; the supplier must contest it with evidence by %s",
				m.GetReasonCode(), describe.Money(m.GetAmount().GetAmountMinor(), o.Money.Currency), d.GetSupplierResponseDeadline().AsTime().Format(time.RFC3339)),
		})
		if err != nil {
			return nil, err
		}
		return &disputev1.RecordChargebackResponse{Dispute: out}, nil
	})
}

// RecordAgreedRefund records a refund the parties agreed, as a dispute settled at once.
func (s *Service) RecordAgreedRefund(ctx context.Context, req *connect.Request[disputev1.RecordAgreedRefundRequest]) (*connect.Response[disputev1.RecordAgreedRefundResponse], error) {
	return run(ctx, s, req, func(tx *ent.Tx, p auth.Principal, now time.Time) (*disputev1.RecordAgreedRefundResponse, error) {
		m := req.Msg
		if err := p.RequireRole("record agreed refunds", commonv1.Role_ROLE_ARBITER); err != nil {
			return nil, err
		}
		o, err := openOrder(ctx, tx, m.GetOrderId(), func(order.Facts) bool { return true })
		if err != nil {
			return nil, err
		}
		if o.Money.Paid <= 0 {
			return nil, apierr.IllegalState("order", o.ID, "record a refund on", o.State)
		}
		if err := checkAmount("refund_amount", m.GetRefundAmount(), o.Money.Currency, agreeable(o), limitAgreeable); err != nil {
			return nil, err
		}
		l := newDispute(o, disputev1.Dispute_KIND_STANDARD, p, now)
		d := l.d
		d.Description = m.GetNote()
		d.Evidence = stamp(m.GetEvidence(), p, now)
		d.RequestedResolution, d.RequestedRefundAmount = disputev1.Dispute_RESOLUTION_PARTIAL_REFUND, m.GetRefundAmount()
		st, err := s.settle(ctx, tx, l, p, now, outcome{
			method: disputev1.Settlement_METHOD_ARBITER_RECORDED, resolution: disputev1.Dispute_RESOLUTION_PARTIAL_REFUND,
			amount: m.GetRefundAmount().GetAmountMinor(), noHold: true,
		})
		if err != nil {
			return nil, err
		}
		steps := append([]step{{
			kind: disputev1.TimelineEntry_KIND_SETTLED, event: "agreed_refund_recorded", evidence: d.GetEvidence(),
			amount: m.GetRefundAmount(), fields: []string{"state", "settlement"},
			desc: "An arbiter recorded a refund the parties agreed: " + m.GetNote(),
		}}, st...)
		out, err := s.commit(ctx, tx, l, recordAgreed, p, now, steps...)
		if err != nil {
			return nil, err
		}
		return &disputev1.RecordAgreedRefundResponse{Dispute: out}, nil
	})
}

// OpenReturnedGoodsDispute opens the supplier's dispute about a return's goods, which starts at the
// arbiter; the returns service calls it within its own transaction.
func (s *Service) OpenReturnedGoodsDispute(ctx context.Context, tx *ent.Tx, r aftersales.ReturnedGoodsDispute) (string, error) {
	o, err := openOrder(ctx, tx, r.OrderID, func(o order.Facts) bool { return o.SupplierID == r.SupplierID })
	if err != nil {
		return "", err
	}
	now := r.Now
	supplier := auth.Principal{AccountID: r.SupplierID, Role: commonv1.Role_ROLE_SUPPLIER}
	l := newDispute(o, disputev1.Dispute_KIND_RETURNED_GOODS, supplier, now)
	d := l.d
	d.Description, d.RelatedReturnId = r.Statement, r.ReturnID
	d.Evidence = stamp(r.Evidence, supplier, now)
	d.RequestedResolution = disputev1.Dispute_RESOLUTION_PARTIAL_REFUND
	d.RequestedRefundAmount = resource.Money(r.ClaimMinor, o.Money.Currency)
	d.EscalatedBy, d.EscalateTime = supplier.Party(), ts(now)
	if err := s.escrow.Hold(ctx, tx, o.ID, auth.System, now); err != nil {
		return "", err
	}
	_, err = s.commit(ctx, tx, l, openReturned, supplier, now, step{
		kind: disputev1.TimelineEntry_KIND_OPENED, event: "opened", evidence: d.GetEvidence(), amount: d.GetRequestedRefundAmount(),
		fields: []string{"state"},
		desc: fmt.Sprintf("The supplier reported the goods of return %s damaged or missing and contests %s of its refund; an arbiter decides",
			r.ReturnID, describe.Money(r.ClaimMinor, o.Money.Currency)),
	})
	if err != nil {
		return "", err
	}
	return d.GetId(), nil
}
