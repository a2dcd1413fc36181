package returns

import (
	"fmt"
	"strings"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/tradeassure/tradeassure/ent"
	"github.com/tradeassure/tradeassure/ent/returnrequest"
	"github.com/tradeassure/tradeassure/ent/schema"
	commonv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/common/v1"
	returnsv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/returns/v1"
	"github.com/tradeassure/tradeassure/server/auth"
	"github.com/tradeassure/tradeassure/server/ledger"
	"github.com/tradeassure/tradeassure/server/order"
	"github.com/tradeassure/tradeassure/server/resource"
)

const (
	causeReturnRefund = ledger.CauseReturnRefund
	causeCompensation = ledger.CauseFreeReturnComp
)

func linksOf(r *ent.ReturnRequest) ledger.Links {
	return ledger.Links{OrderID: r.OrderID, ReturnID: r.ID}
}

var stateToProto = map[returnrequest.State]returnsv1.Return_State{
	returnrequest.StateRequested:             returnsv1.Return_STATE_REQUESTED,
	returnrequest.StatePartialRefundOffered:  returnsv1.Return_STATE_PARTIAL_REFUND_OFFERED,
	returnrequest.StateApproved:              returnsv1.Return_STATE_APPROVED,
	returnrequest.StateShipped:               returnsv1.Return_STATE_SHIPPED,
	returnrequest.StateDisputed:              returnsv1.Return_STATE_DISPUTED,
	returnrequest.StateRefunded:              returnsv1.Return_STATE_REFUNDED,
	returnrequest.StateDeclined:              returnsv1.Return_STATE_DECLINED,
	returnrequest.StatePartialRefundRejected: returnsv1.Return_STATE_PARTIAL_REFUND_REJECTED,
	returnrequest.StateLapsed:                returnsv1.Return_STATE_LAPSED,
	returnrequest.StateRejected:              returnsv1.Return_STATE_REJECTED,
	returnrequest.StateCancelled:             returnsv1.Return_STATE_CANCELLED,
}

var stateFromProto = resource.Invert(stateToProto)

var kindToProto = map[returnrequest.Kind]returnsv1.Return_Kind{
	returnrequest.KindStandard:   returnsv1.Return_KIND_STANDARD,
	returnrequest.KindFreeReturn: returnsv1.Return_KIND_FREE_RETURN,
}

var kindFromProto = resource.Invert(kindToProto)

var originToProto = map[returnrequest.Origin]returnsv1.Return_Origin{
	returnrequest.OriginBuyerRequest: returnsv1.Return_ORIGIN_BUYER_REQUEST,
	returnrequest.OriginDispute:      returnsv1.Return_ORIGIN_DISPUTE,
}

var reasonToProto = map[returnrequest.Reason]returnsv1.Return_Reason{
	returnrequest.ReasonQualityProblem:        returnsv1.Return_REASON_QUALITY_PROBLEM,
	returnrequest.ReasonNotAsDescribed:        returnsv1.Return_REASON_NOT_AS_DESCRIBED,
	returnrequest.ReasonDamaged:               returnsv1.Return_REASON_DAMAGED,
	returnrequest.ReasonWrongItem:             returnsv1.Return_REASON_WRONG_ITEM,
	returnrequest.ReasonQuantityShort:         returnsv1.Return_REASON_QUANTITY_SHORT,
	returnrequest.ReasonColourNotAsExpected:   returnsv1.Return_REASON_COLOUR_NOT_AS_EXPECTED,
	returnrequest.ReasonSizeNotAsExpected:     returnsv1.Return_REASON_SIZE_NOT_AS_EXPECTED,
	returnrequest.ReasonLookNotAsExpected:     returnsv1.Return_REASON_LOOK_NOT_AS_EXPECTED,
	returnrequest.ReasonChangedMind:           returnsv1.Return_REASON_CHANGED_MIND,
	returnrequest.ReasonDidNotReadDescription: returnsv1.Return_REASON_DID_NOT_READ_DESCRIPTION,
	returnrequest.ReasonNoReason:              returnsv1.Return_REASON_NO_REASON,
}

var reasonFromProto = resource.Invert(reasonToProto)

// subjective are the reasons about the buyer's taste or attention rather than a fault of the goods; the
// supplier may decline them (DECLINE_REASON_SUBJECTIVE_REASON) or offer a partial refund.
var subjective = map[returnsv1.Return_Reason]bool{
	returnsv1.Return_REASON_COLOUR_NOT_AS_EXPECTED:   true,
	returnsv1.Return_REASON_SIZE_NOT_AS_EXPECTED:     true,
	returnsv1.Return_REASON_LOOK_NOT_AS_EXPECTED:     true,
	returnsv1.Return_REASON_CHANGED_MIND:             true,
	returnsv1.Return_REASON_DID_NOT_READ_DESCRIPTION: true,
}

var policyToProto = map[returnrequest.Policy]commonv1.Policy{
	returnrequest.PolicyTradeAssurance: commonv1.Policy_POLICY_TRADE_ASSURANCE,
	returnrequest.PolicyRetail:         commonv1.Policy_POLICY_RETAIL,
}

// policyOfOrder is the stored policy of a return on o: the order's.
func policyOfOrder(o order.Facts) returnrequest.Policy {
	if o.Policy.Name == commonv1.Policy_POLICY_RETAIL {
		return returnrequest.PolicyRetail
	}
	return returnrequest.PolicyTradeAssurance
}

var inspectionToProto = map[returnrequest.InspectionResult]returnsv1.Return_InspectionResult{
	returnrequest.InspectionResultResaleable:    returnsv1.Return_INSPECTION_RESULT_RESALEABLE,
	returnrequest.InspectionResultNotResaleable: returnsv1.Return_INSPECTION_RESULT_NOT_RESALEABLE,
}

func timelineKindName(k returnsv1.TimelineEntry_Kind) string {
	return strings.ToLower(strings.TrimPrefix(k.String(), "KIND_"))
}

// marshalEvidence stores evidence as it was attached, stamped with who attached it and when.
func marshalEvidence(list []*commonv1.Evidence, by auth.Principal, now time.Time) ([][]byte, []*commonv1.Evidence) {
	var out [][]byte
	var stamped []*commonv1.Evidence
	for _, e := range list {
		c := proto.Clone(e).(*commonv1.Evidence)
		c.AddedBy = by.Party()
		c.AddTime = timestamppb.New(now)
		out = append(out, resource.Marshal(c))
		stamped = append(stamped, c)
	}
	return out, stamped
}

func unmarshalEvidence(list [][]byte) ([]*commonv1.Evidence, error) {
	out := make([]*commonv1.Evidence, 0, len(list))
	for _, b := range list {
		e := &commonv1.Evidence{}
		if err := proto.Unmarshal(b, e); err != nil {
			return nil, fmt.Errorf("read evidence: %w", err)
		}
		out = append(out, e)
	}
	return out, nil
}

func lineToProto(l schema.ReturnedLine, currency string) *returnsv1.ReturnLine {
	return &returnsv1.ReturnLine{
		LineIndex: l.LineIndex, ProductId: l.ProductID, Quantity: l.Quantity, ReceivedQuantity: l.Received,
		DamagedQuantity: l.Damaged, MissingQuantity: l.Missing, RefundAmount: resource.Money(l.RefundMinor, currency),
	}
}

// toProto converts a stored return into its API form.
func toProto(r *ent.ReturnRequest) (*returnsv1.Return, error) {
	c := r.Currency
	out := &returnsv1.Return{
		Id: r.ID, Etag: r.Etag, Revision: r.Revision, CreateTime: timestamppb.New(r.CreateTime),
		UpdateTime: timestamppb.New(r.UpdateTime), OrderId: r.OrderID, BuyerAccountId: r.BuyerID,
		SupplierAccountId: r.SupplierID, Policy: policyToProto[r.Policy], State: stateToProto[r.State],
		Kind: kindToProto[r.Kind], Origin: originToProto[r.Origin], WholeOrder: r.WholeOrder,
		Description: r.Description, OrderReceiptTime: timestamppb.New(r.OrderReceiptTime),
		ApproveTime: resource.Timestamp(r.ApproveTime), DeclineReason: returnsv1.Return_DeclineReason(returnsv1.Return_DeclineReason_value[r.DeclineReason]),
		DeclineNote: r.DeclineNote, PartialRefundNote: r.OfferNote, Carrier: r.Carrier, TrackingNumber: r.TrackingNumber,
		ShipTime: resource.Timestamp(r.ShipTime), ReceiveTime: resource.Timestamp(r.ReceiveTime), InspectionNote: r.InspectionNote,
		Refund: &returnsv1.RefundBreakdown{
			GoodsAmount: resource.Money(r.GoodsMinor, c), FreightShare: resource.Money(r.FreightMinor, c),
			InsuranceShare: resource.Money(r.InsuranceMinor, c), ShippingDeduction: resource.Money(r.ShippingDeductionMinor, c),
			CapDeduction: resource.Money(r.CapDeductionMinor, c), Total: resource.Money(r.RefundTotalMinor, c),
		},
		HeldAmount: resource.Money(r.HeldMinor, c), RefundTime: resource.Timestamp(r.RefundTime),
		SourceDisputeId: r.SourceDisputeID, ReceiptDisputeId: r.ReceiptDisputeID, CloseTime: resource.Timestamp(r.CloseTime),
	}
	if r.Reason != nil {
		out.Reason = reasonToProto[*r.Reason]
	}
	// Deadlines are shown only while they apply.
	switch r.State {
	case returnrequest.StateRequested:
		out.SupplierAnswerDeadline = resource.Timestamp(r.SupplierAnswerDeadline)
	case returnrequest.StateApproved:
		out.BuyerShipDeadline = resource.Timestamp(r.ShipDeadline)
	case returnrequest.StateShipped:
		out.SupplierReceiptDeadline = resource.Timestamp(r.ReceiptDeadline)
	}
	if r.ApprovedByRole != "" {
		out.ApprovedBy = &commonv1.Party{Role: auth.RoleFromName(r.ApprovedByRole), AccountId: r.ApprovedByID}
	}
	if r.OfferedRefundMinor > 0 {
		out.PartialRefundOffer = resource.Money(r.OfferedRefundMinor, c)
	}
	if r.State == returnrequest.StateRefunded {
		out.RefundedAmount = resource.Money(r.RefundedMinor, c)
	}
	if r.InspectionResult != nil {
		out.InspectionResult = inspectionToProto[*r.InspectionResult]
	}
	if r.CompensationMinor > 0 {
		out.SupplierCompensationAmount = resource.Money(r.CompensationMinor, c)
		out.SupplierCompensationDeadline = resource.Timestamp(r.CompensationDeadline)
		out.SupplierCompensationTime = resource.Timestamp(r.CompensateTime)
	}
	if len(r.ReturnAddress) > 0 {
		out.ReturnAddress = &commonv1.Address{}
		if err := proto.Unmarshal(r.ReturnAddress, out.ReturnAddress); err != nil {
			return nil, fmt.Errorf("read return address of %s: %w", r.ID, err)
		}
	}
	ev, err := unmarshalEvidence(r.Evidence)
	if err != nil {
		return nil, err
	}
	out.Evidence = ev
	for _, l := range r.Lines {
		out.Lines = append(out.Lines, lineToProto(l, c))
	}
	return out, nil
}
