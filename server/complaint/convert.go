package complaint

import (
	"fmt"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/tradeassure/tradeassure/ent"
	entcomplaint "github.com/tradeassure/tradeassure/ent/complaint"
	commonv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/common/v1"
	complaintv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/complaint/v1"
	"github.com/tradeassure/tradeassure/server/resource"
)

var stateToProto = map[entcomplaint.State]complaintv1.Complaint_State{
	entcomplaint.StateFiled:     complaintv1.Complaint_STATE_FILED,
	entcomplaint.StateUpheld:    complaintv1.Complaint_STATE_UPHELD,
	entcomplaint.StateDismissed: complaintv1.Complaint_STATE_DISMISSED,
	entcomplaint.StateWithdrawn: complaintv1.Complaint_STATE_WITHDRAWN,
}

var stateFromProto = resource.Invert(stateToProto)

var typeToProto = map[entcomplaint.Type]complaintv1.Complaint_Type{
	entcomplaint.TypeFalseTransaction: complaintv1.Complaint_TYPE_FALSE_TRANSACTION,
	entcomplaint.TypeProductQuality:   complaintv1.Complaint_TYPE_PRODUCT_QUALITY,
	entcomplaint.TypeServiceFailure:   complaintv1.Complaint_TYPE_SERVICE_FAILURE,
	entcomplaint.TypeTransactionFraud: complaintv1.Complaint_TYPE_TRANSACTION_FRAUD,
}

var typeFromProto = resource.Invert(typeToProto)

var policyToProto = map[entcomplaint.Policy]commonv1.Policy{
	entcomplaint.PolicyTradeAssurance: commonv1.Policy_POLICY_TRADE_ASSURANCE,
	entcomplaint.PolicyRetail:         commonv1.Policy_POLICY_RETAIL,
}

// policyFromProto is the complaint's copy of an order's policy.
var policyFromProto = resource.Invert(policyToProto)

// roles returns the complainant's and the respondent's roles.
func roles(c *ent.Complaint) (complainant, respondent commonv1.Role) {
	if c.ComplainantRole == entcomplaint.ComplainantRoleBuyer {
		return commonv1.Role_ROLE_BUYER, commonv1.Role_ROLE_SUPPLIER
	}
	return commonv1.Role_ROLE_SUPPLIER, commonv1.Role_ROLE_BUYER
}

// toProto converts a stored complaint.
func toProto(c *ent.Complaint) (*complaintv1.Complaint, error) {
	evidence, err := unmarshalList(c.Evidence, func() *commonv1.Evidence { return &commonv1.Evidence{} })
	if err != nil {
		return nil, fmt.Errorf("read evidence of complaint %s: %w", c.ID, err)
	}
	statements, err := unmarshalList(c.Statements, func() *complaintv1.Statement { return &complaintv1.Statement{} })
	if err != nil {
		return nil, fmt.Errorf("read statements of complaint %s: %w", c.ID, err)
	}
	cr, rr := roles(c)
	out := &complaintv1.Complaint{
		Id: c.ID, Etag: c.Etag, Revision: c.Revision,
		CreateTime: timestamppb.New(c.CreateTime), UpdateTime: timestamppb.New(c.UpdateTime),
		OrderId: c.OrderID, Policy: policyToProto[c.Policy], State: stateToProto[c.State], Type: typeToProto[c.Type],
		Complainant:      &commonv1.Party{Role: cr, AccountId: c.ComplainantID},
		Respondent:       &commonv1.Party{Role: rr, AccountId: c.RespondentID},
		Description:      c.Statement,
		Evidence:         evidence,
		Statements:       statements,
		OrderEndTime:     resource.Timestamp(c.OrderEndTime),
		DecisionDeadline: timestamppb.New(c.DecisionDeadline),
		Overdue:          c.DecisionOverdue,
		WithdrawNote:     c.WithdrawNote,
		CloseTime:        resource.Timestamp(c.CloseTime),
	}
	if c.RefiledFrom != nil {
		out.RefiledFrom = *c.RefiledFrom
	}
	if c.RefiledAs != nil {
		out.RefiledAs = *c.RefiledAs
	}
	if len(c.Outcome) > 0 {
		out.Decision = &complaintv1.Decision{}
		if err := proto.Unmarshal(c.Outcome, out.Decision); err != nil {
			return nil, fmt.Errorf("read decision of complaint %s: %w", c.ID, err)
		}
	}
	return out, nil
}

// marshalList stores messages as the wire form of a message whose field 1 repeats them, so a list is
// appended to by concatenation and read without a wrapper type.
func marshalList[T proto.Message](items []T) []byte {
	var b []byte
	for _, it := range items {
		b = protowire.AppendTag(b, 1, protowire.BytesType)
		b = protowire.AppendBytes(b, resource.Marshal(it))
	}
	return b
}

// unmarshalList reads what marshalList stored.
func unmarshalList[T proto.Message](b []byte, newT func() T) ([]T, error) {
	var out []T
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 || num != 1 || typ != protowire.BytesType {
			return nil, fmt.Errorf("malformed list entry")
		}
		b = b[n:]
		v, n := protowire.ConsumeBytes(b)
		if n < 0 {
			return nil, fmt.Errorf("malformed list entry")
		}
		b = b[n:]
		t := newT()
		if err := proto.Unmarshal(v, t); err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, nil
}
