package returns

import (
	"context"
	"fmt"
	"time"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/proto"

	"github.com/tradeassure/tradeassure/ent"
	"github.com/tradeassure/tradeassure/ent/account"
	"github.com/tradeassure/tradeassure/ent/returnrequest"
	"github.com/tradeassure/tradeassure/ent/schema"
	commonv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/common/v1"
	disputev1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/dispute/v1"
	orderv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/order/v1"
	returnsv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/returns/v1"
	"github.com/tradeassure/tradeassure/server/aftersales"
	"github.com/tradeassure/tradeassure/server/apierr"
	"github.com/tradeassure/tradeassure/server/auth"
	"github.com/tradeassure/tradeassure/server/describe"
	"github.com/tradeassure/tradeassure/server/order"
	"github.com/tradeassure/tradeassure/server/policy"
	"github.com/tradeassure/tradeassure/server/resource"
)

// evidenceRequired are the reasons that must be backed by evidence when the return is requested.
var evidenceRequired = map[returnsv1.Return_Reason]string{
	returnsv1.Return_REASON_QUALITY_PROBLEM:  "a quality problem",
	returnsv1.Return_REASON_NOT_AS_DESCRIBED: "goods not as described",
}

// CreateReturn asks for a return of a whole order or of chosen lines and quantities.
func (s *Service) CreateReturn(ctx context.Context, req *connect.Request[returnsv1.CreateReturnRequest]) (*connect.Response[returnsv1.CreateReturnResponse], error) {
	return run(ctx, s, req, func(tx *ent.Tx, p auth.Principal, now time.Time) (*returnsv1.CreateReturnResponse, error) {
		m := req.Msg
		if err := p.RequireRole("request a return", commonv1.Role_ROLE_BUYER); err != nil {
			return nil, err
		}
		if err := p.RequireAfterSales("request returns"); err != nil {
			return nil, err
		}
		o, err := order.Read(ctx, tx, m.GetOrderId())
		if ent.IsNotFound(err) || (err == nil && o.BuyerID != p.AccountID) {
			return nil, apierr.NotFound("order", m.GetOrderId())
		}
		if err != nil {
			return nil, fmt.Errorf("load order %s: %w", m.GetOrderId(), err)
		}
		switch stage := o.Stage; {
		case stage == order.StageClosed:
			return nil, apierr.Precondition(commonv1.ErrorReason_ERROR_REASON_WINDOW_CLOSED,
				"order %s is closed: its after-sales window is over", o.ID).With("state", o.State)
		case stage != order.StageDelivered && stage != order.StageCompleted:
			return nil, apierr.IllegalState("order", o.ID, "return goods from (it must be delivered or completed)", o.State)
		case o.Delivered == nil:
			return nil, apierr.IllegalState("order", o.ID, "return goods from (no receipt is recorded)", o.State)
		}
		if err := aftersales.OneCase(ctx, tx, o.ID, s.disputes, "a return can be requested"); err != nil {
			return nil, err
		}
		pol := o.Policy
		receipt := *o.Delivered
		reason := m.GetReason()
		kind := returnrequest.KindStandard
		if m.GetFreeReturn() {
			kind = returnrequest.KindFreeReturn
			if err := s.freeReturnAvailable(ctx, tx, o, pol, receipt, now); err != nil {
				return nil, err
			}
		} else {
			if reason == returnsv1.Return_REASON_NO_REASON {
				return nil, apierr.Invalid("reason", "a return without a reason is possible only as a free return (free_return), for retail orders of suppliers in the programme; otherwise state the reason")
			}
			if end := receipt.Add(pol.ReturnWindow); !now.Before(end) {
				return nil, apierr.Precondition(commonv1.ErrorReason_ERROR_REASON_WINDOW_CLOSED,
					"the return window of order %s closed at %s (%d days after receipt)", o.ID, end.UTC().Format(time.RFC3339), int(pol.ReturnWindow.Hours()/24)).
					With("window_end", end.UTC().Format(time.RFC3339))
			}
		}
		if what, ok := evidenceRequired[reason]; ok && len(m.GetEvidence()) == 0 {
			return nil, apierr.New(connect.CodeInvalidArgument, commonv1.ErrorReason_ERROR_REASON_EVIDENCE_REQUIRED,
				"a return for %s needs evidence: attach at least one piece, such as photos or video of the goods (EVIDENCE_KIND_PRODUCT_PHOTO) or an inspection report (EVIDENCE_KIND_INSPECTION_REPORT)", what).
				With("missing", "evidence").With("suggested_kinds", "EVIDENCE_KIND_PRODUCT_PHOTO,EVIDENCE_KIND_INSPECTION_REPORT")
		}
		terms, err := o.Terms()
		if err != nil {
			return nil, err
		}
		// Hold the escrow first: the hold updates the order row under its revision guard, so two returns
		// created at once on one order are serialized before either counts what the other took.
		if err := s.escrow.Hold(ctx, tx, o.ID, p, now); err != nil {
			return nil, err
		}
		prior, err := priorReturns(ctx, tx, o.ID, "")
		if err != nil {
			return nil, err
		}
		lines, whole, err := chooseLines(terms, m.GetLines(), prior)
		if err != nil {
			return nil, err
		}
		deduct := kind == returnrequest.KindFreeReturn || o.Stage == order.StageCompleted
		b, err := price(terms, lines, prior, deduct, o.Money.Refundable()-prior.reserved)
		if err != nil {
			return nil, err
		}
		if b.total <= 0 {
			return nil, apierr.Precondition(commonv1.ErrorReason_ERROR_REASON_AMOUNT_EXCEEDS_PAID,
				"nothing is left to refund on order %s (paid %d, refunded %d, expected by open returns %d)",
				o.ID, o.Money.Paid, o.Money.Refunded, prior.reserved).With("refundable_minor", 0)
		}
		evidence, stamped := marshalEvidence(m.GetEvidence(), p, now)
		id := resource.ID("ret_")
		c := tx.ReturnRequest.Create().SetID(id).SetOrderID(o.ID).SetBuyerID(o.BuyerID).SetSupplierID(o.SupplierID).
			SetPolicy(policyOfOrder(o)).SetPolicyVersion(o.PolicyVersion).SetKind(kind).
			SetOrigin(returnrequest.OriginBuyerRequest).SetReason(reasonFromProto[reason]).SetDescription(m.GetDescription()).
			SetEvidence(evidence).SetLines(lines).SetWholeOrder(whole).SetOrderReceiptTime(receipt).
			SetEscrowHeld(true).SetHeldMinor(b.total).SetCurrency(o.Money.Currency).
			SetRevision(1).SetEtag(resource.Etag(id, 1)).SetCreateTime(now).SetUpdateTime(now)
		setBreakdown(c.Mutation(), b)
		steps := []step{{kind: returnsv1.TimelineEntry_KIND_CREATED, to: request.To, evidence: stamped,
			description: fmt.Sprintf("Buyer requested a return of %s for %s; expected refund %s", describeLines(lines, whole), reasonText(reason), amountText(b.total, o.Money.Currency))}}
		if kind == returnrequest.KindFreeReturn {
			addr, err := warehouseAddress(ctx, tx, o)
			if err != nil {
				return nil, err
			}
			due := shipTimer.Due(pol, now)
			c.SetState(requestFree.To).SetReturnAddress(resource.Marshal(addr)).
				SetApproveTime(now).SetApprovedByRole("system")
			if err := requestFree.Start(ctx, tx, nil, id, pol, c.Mutation(), now); err != nil {
				return nil, err
			}
			steps = append(steps, step{kind: returnsv1.TimelineEntry_KIND_APPROVED, to: requestFree.To,
				description: fmt.Sprintf("Free return approved at once: ship the goods to the platform warehouse by %s", due.UTC().Format(time.RFC3339))})
		} else {
			c.SetState(request.To)
			if err := request.Start(ctx, tx, nil, id, pol, c.Mutation(), now); err != nil {
				return nil, err
			}
		}
		r, err := c.Save(ctx)
		if err != nil {
			return nil, fmt.Errorf("create return: %w", err)
		}
		pb, err := s.record(ctx, tx, "", r, change{event: "requested", actor: p, now: now, steps: steps})
		if err != nil {
			return nil, err
		}
		return &returnsv1.CreateReturnResponse{Return: pb}, nil
	})
}

// freeReturnAvailable checks the free-return programme applies: a retail order, a supplier who opted in,
// and the programme's window after receipt.
func (s *Service) freeReturnAvailable(ctx context.Context, tx *ent.Tx, o order.Facts, pol policy.Set, receipt, now time.Time) error {
	if pol.FreeReturnWindow <= 0 {
		return apierr.Precondition(commonv1.ErrorReason_ERROR_REASON_FREE_RETURN_NOT_AVAILABLE,
			"free returns are part of the retail policy; order %s follows the trade-assurance policy, so request a standard return", o.ID)
	}
	sup, err := tx.Account.Get(ctx, o.SupplierID)
	if err != nil {
		return fmt.Errorf("load supplier %s: %w", o.SupplierID, err)
	}
	if !sup.FreeReturnProgramme {
		return apierr.Precondition(commonv1.ErrorReason_ERROR_REASON_FREE_RETURN_NOT_AVAILABLE,
			"the supplier of order %s is not in the free-return programme; request a standard return", o.ID)
	}
	if end := receipt.Add(pol.FreeReturnWindow); !now.Before(end) {
		return apierr.Precondition(commonv1.ErrorReason_ERROR_REASON_FREE_RETURN_NOT_AVAILABLE,
			"the free-return window of order %s closed at %s (%d days after receipt)", o.ID, end.UTC().Format(time.RFC3339), int(pol.FreeReturnWindow.Hours()/24)).
			With("window_end", end.UTC().Format(time.RFC3339))
	}
	return nil
}

// warehouseAddress is the platform's local return warehouse for an order: a warehouse account in the
// buyer's country (any warehouse when the country has none), at its registered address, or at its name in
// its country when it registered none.
func warehouseAddress(ctx context.Context, tx *ent.Tx, o order.Facts) (*commonv1.Address, error) {
	buyer, err := tx.Account.Get(ctx, o.BuyerID)
	if err != nil {
		return nil, fmt.Errorf("load buyer %s: %w", o.BuyerID, err)
	}
	q := tx.Account.Query().Where(account.RoleEQ(account.RoleWarehouse))
	w, err := q.Clone().Where(account.Country(buyer.Country)).Order(ent.Asc(account.FieldID)).First(ctx)
	if ent.IsNotFound(err) {
		w, err = q.Order(ent.Asc(account.FieldID)).First(ctx)
	}
	if ent.IsNotFound(err) {
		return nil, apierr.Precondition(commonv1.ErrorReason_ERROR_REASON_FREE_RETURN_NOT_AVAILABLE,
			"no platform return warehouse is in service; request a standard return")
	}
	if err != nil {
		return nil, fmt.Errorf("find a return warehouse: %w", err)
	}
	if len(w.ReturnAddress) > 0 {
		a := &commonv1.Address{}
		if err := proto.Unmarshal(w.ReturnAddress, a); err == nil {
			return a, nil
		}
	}
	return &commonv1.Address{RecipientName: w.Name, Country: w.Country, Lines: []string{w.Name}}, nil
}

// supplierAddress is the supplier's registered return address, or nil.
func supplierAddress(ctx context.Context, tx *ent.Tx, supplierID string) (*commonv1.Address, error) {
	sup, err := tx.Account.Get(ctx, supplierID)
	if err != nil {
		return nil, fmt.Errorf("load supplier %s: %w", supplierID, err)
	}
	if len(sup.ReturnAddress) == 0 {
		return nil, nil
	}
	a := &commonv1.Address{}
	if err := proto.Unmarshal(sup.ReturnAddress, a); err != nil {
		return nil, fmt.Errorf("read return address of %s: %w", supplierID, err)
	}
	return a, nil
}

// chooseLines turns the buyer's selectors into returned lines, refusing quantities beyond what was ordered
// less what earlier returns took. No selector returns the whole order, which needs every unit still there.
func chooseLines(terms *orderv1.OrderTerms, sel []*returnsv1.LineSelector, prior orderReturns) ([]schema.ReturnedLine, bool, error) {
	ordered := terms.GetLines()
	if len(sel) == 0 {
		if prior.any {
			if prior.open != nil {
				return nil, false, apierr.Precondition(commonv1.ErrorReason_ERROR_REASON_ALREADY_OPEN,
					"return %s is open on this order; a whole-order return is not possible while it runs — choose the lines and quantities it does not cover", prior.open.ID).
					With("return_id", prior.open.ID)
			}
			return nil, false, apierr.Precondition(commonv1.ErrorReason_ERROR_REASON_QUANTITY_EXCEEDS_ORDERED,
				"part of this order was already returned, so the whole order cannot be; choose the lines and quantities still with you")
		}
		out := make([]schema.ReturnedLine, 0, len(ordered))
		for i, l := range ordered {
			out = append(out, schema.ReturnedLine{LineIndex: int32(i), Quantity: l.GetQuantity()})
		}
		return out, true, nil
	}
	chosen := map[int32]int64{}
	for i, s := range sel {
		field := fmt.Sprintf("lines[%d]", i)
		var idx int32
		switch l := s.GetLine().(type) {
		case *returnsv1.LineSelector_LineIndex:
			idx = l.LineIndex
			if int(idx) >= len(ordered) {
				return nil, false, apierr.Invalid(field+".line_index", "the order has %d lines (indexes 0 to %d)", len(ordered), len(ordered)-1)
			}
		case *returnsv1.LineSelector_ProductId:
			found := -1
			for j, ol := range ordered {
				if ol.GetProductId() == l.ProductId {
					if found >= 0 {
						return nil, false, apierr.Invalid(field+".product_id", "product %q is on several lines of the order; name the line by line_index", l.ProductId)
					}
					found = j
				}
			}
			if found < 0 {
				return nil, false, apierr.InvalidWith(commonv1.ErrorReason_ERROR_REASON_UNKNOWN_PRODUCT, field+".product_id", "product %q is not on the order", l.ProductId)
			}
			idx = int32(found)
		}
		if _, dup := chosen[idx]; dup {
			return nil, false, apierr.Invalid(field, "order line %d is named twice; name each line once with the total quantity", idx)
		}
		left := ordered[idx].GetQuantity() - prior.returned[idx]
		if s.GetQuantity() > left {
			return nil, false, apierr.New(connect.CodeFailedPrecondition, commonv1.ErrorReason_ERROR_REASON_QUANTITY_EXCEEDS_ORDERED,
				"order line %d has %d units that can still be returned (ordered %d, already returned or being returned %d); %d is more",
				idx, left, ordered[idx].GetQuantity(), prior.returned[idx], s.GetQuantity()).
				With("line_index", idx).With("returnable_quantity", left)
		}
		chosen[idx] = s.GetQuantity()
	}
	out := make([]schema.ReturnedLine, 0, len(chosen))
	whole := !prior.any
	for i, l := range ordered {
		q, ok := chosen[int32(i)]
		if ok {
			out = append(out, schema.ReturnedLine{LineIndex: int32(i), Quantity: q})
		}
		if q != l.GetQuantity() {
			whole = false
		}
	}
	return out, whole, nil
}

// setBreakdown stores a refund breakdown.
func setBreakdown(m *ent.ReturnRequestMutation, b breakdown) {
	m.SetGoodsMinor(b.goods)
	m.SetFreightMinor(b.freight)
	m.SetInsuranceMinor(b.insurance)
	m.SetShippingDeductionMinor(b.shippingDeduction)
	m.SetCapDeductionMinor(b.capDeduction)
	m.SetRefundTotalMinor(b.total)
}

func describeLines(lines []schema.ReturnedLine, whole bool) string {
	if whole {
		return "the whole order"
	}
	var units int64
	for _, l := range lines {
		units += l.Quantity
	}
	return fmt.Sprintf("%d unit(s) on %d line(s)", units, len(lines))
}

func reasonText(r returnsv1.Return_Reason) string { return "reason: " + describe.Enum(r) }

func amountText(minor int64, currency string) string { return describe.Money(minor, currency) }

// StartReturnForDispute starts the return of a dispute settled or ruled as "return and refund": it starts
// APPROVED, addressed to the supplier's registered return address, covering every unit of the order still
// with the buyer, and refunds the dispute's agreed amount (capped at what is still refundable) when the goods
// come back. It holds the order's escrow; the dispute should lift its own hold after this call, so that a
// completed order's escrow is not released in between.
func (s *Service) StartReturnForDispute(ctx context.Context, tx *ent.Tx, d aftersales.ReturnForDispute) (string, error) {
	o, err := order.Read(ctx, tx, d.OrderID)
	if err != nil {
		return "", fmt.Errorf("start return for dispute %s: %w", d.DisputeID, err)
	}
	if d.RefundMinor <= 0 {
		return "", apierr.Invalid("refund", "a return and refund needs a refund of more than zero")
	}
	existing, err := tx.ReturnRequest.Query().Where(returnrequest.SourceDisputeID(d.DisputeID)).First(ctx)
	if err == nil {
		return existing.ID, nil
	}
	if !ent.IsNotFound(err) {
		return "", fmt.Errorf("start return for dispute %s: %w", d.DisputeID, err)
	}
	terms, err := o.Terms()
	if err != nil {
		return "", err
	}
	if err := s.escrow.Hold(ctx, tx, o.ID, d.Actor, d.Now); err != nil {
		return "", err
	}
	prior, err := priorReturns(ctx, tx, o.ID, "")
	if err != nil {
		return "", err
	}
	lines, whole, err := disputedLines(ctx, tx, d.DisputeID, terms, prior)
	if err != nil {
		return "", err
	}
	if len(lines) == 0 {
		return "", apierr.Precondition(commonv1.ErrorReason_ERROR_REASON_QUANTITY_EXCEEDS_ORDERED,
			"every unit of order %s has already been returned or is being returned", o.ID)
	}
	// The dispute decided the amount: the breakdown shows the shares, and whatever the agreement leaves out
	// appears as the cap deduction.
	refundable := o.Money.Refundable()
	b, err := price(terms, lines, prior, false, min(d.RefundMinor, refundable))
	if err != nil {
		return "", err
	}
	if b.total <= 0 {
		return "", apierr.Precondition(commonv1.ErrorReason_ERROR_REASON_AMOUNT_EXCEEDS_PAID,
			"nothing is left to refund on order %s", o.ID)
	}
	if d.RefundMinor > b.total+b.capDeduction && d.RefundMinor <= refundable {
		b.total, b.capDeduction = d.RefundMinor, 0
	}
	addr, err := supplierAddress(ctx, tx, o.SupplierID)
	if err != nil {
		return "", err
	}
	pol := o.Policy
	now := d.Now
	due := shipTimer.Due(pol, now)
	receipt := now
	if o.Delivered != nil {
		receipt = *o.Delivered
	}
	id := resource.ID("ret_")
	c := tx.ReturnRequest.Create().SetID(id).SetOrderID(o.ID).SetBuyerID(o.BuyerID).SetSupplierID(o.SupplierID).
		SetPolicy(policyOfOrder(o)).SetPolicyVersion(o.PolicyVersion).SetKind(returnrequest.KindStandard).
		SetOrigin(returnrequest.OriginDispute).SetSourceDisputeID(d.DisputeID).SetLines(lines).
		SetWholeOrder(whole).SetOrderReceiptTime(receipt).SetEscrowHeld(true).SetHeldMinor(b.total).
		SetCurrency(o.Money.Currency).SetState(startForDispute.To).SetApproveTime(now).
		SetApprovedByRole("system").SetRevision(1).SetEtag(resource.Etag(id, 1)).SetCreateTime(now).SetUpdateTime(now)
	if addr != nil {
		c.SetReturnAddress(resource.Marshal(addr))
	}
	setBreakdown(c.Mutation(), b)
	if err := startForDispute.Start(ctx, tx, nil, id, pol, c.Mutation(), now); err != nil {
		return "", err
	}
	r, err := c.Save(ctx)
	if err != nil {
		return "", fmt.Errorf("start return for dispute %s: %w", d.DisputeID, err)
	}
	_, err = s.record(ctx, tx, "", r, change{event: "approved", actor: d.Actor, now: now, steps: []step{{
		kind: returnsv1.TimelineEntry_KIND_CREATED, to: startForDispute.To,
		description: fmt.Sprintf("Return started by dispute %s (return and refund of %s); ship the goods to the supplier by %s",
			d.DisputeID, amountText(b.total, o.Money.Currency), due.UTC().Format(time.RFC3339)),
	}}})
	if err != nil {
		return "", err
	}
	return id, nil
}

// disputedLines are the units a dispute's return takes back: the lines and quantities the dispute is about
// (the buyer keeps the rest of the order, which the agreed refund does not pay for), or every unit still with
// the buyer when the dispute named none; each capped at what earlier returns left. whole reports whether
// that is every unit of the order.
func disputedLines(ctx context.Context, tx *ent.Tx, disputeID string, terms *orderv1.OrderTerms, prior orderReturns) ([]schema.ReturnedLine, bool, error) {
	ordered := terms.GetLines()
	want := map[int32]int64{}
	row, err := tx.Dispute.Get(ctx, disputeID)
	if err != nil {
		return nil, false, fmt.Errorf("read dispute %s: %w", disputeID, err)
	}
	dsp := &disputev1.Dispute{}
	if err := proto.Unmarshal(row.Snapshot, dsp); err != nil {
		return nil, false, fmt.Errorf("decode dispute %s: %w", disputeID, err)
	}
	for _, l := range dsp.GetLines() {
		idx := int32(-1)
		switch v := l.GetLine().(type) {
		case *disputev1.DisputedLine_LineIndex:
			idx = v.LineIndex
		case *disputev1.DisputedLine_ProductId:
			for j, ol := range ordered {
				if ol.GetProductId() == v.ProductId {
					idx = int32(j)
					break
				}
			}
		}
		if idx >= 0 && int(idx) < len(ordered) {
			want[idx] += l.GetQuantity()
		}
	}
	var lines []schema.ReturnedLine
	whole := !prior.any
	for i, l := range ordered {
		q := l.GetQuantity() - prior.returned[int32(i)]
		if len(want) > 0 {
			q = min(q, want[int32(i)])
		}
		if q != l.GetQuantity() {
			whole = false
		}
		if q > 0 {
			lines = append(lines, schema.ReturnedLine{LineIndex: int32(i), Quantity: q})
		}
	}
	return lines, whole, nil
}

// CaseKind names returns in the one-case-per-order rule.
func (s *Service) CaseKind() string { return subjectType }

// OpenCase is an open return of the order, by the open states of the return's machine (rules.go).
func (s *Service) OpenCase(ctx context.Context, tx *ent.Tx, orderID string) (string, error) {
	r, err := tx.ReturnRequest.Query().Where(returnrequest.OrderID(orderID), returnrequest.StateIn(machine.OpenStates()...)).
		Order(ent.Asc(returnrequest.FieldID)).First(ctx)
	if ent.IsNotFound(err) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	return r.ID, nil
}
