package order

import (
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/tradeassure/tradeassure/ent"
	entorder "github.com/tradeassure/tradeassure/ent/order"
	entpayment "github.com/tradeassure/tradeassure/ent/payment"
	commonv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/common/v1"
	orderv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/order/v1"
	"github.com/tradeassure/tradeassure/server/policy"
	"github.com/tradeassure/tradeassure/server/resource"
)

var stateToProto = map[entorder.State]orderv1.Order_State{
	entorder.StateDraft:           orderv1.Order_STATE_DRAFT,
	entorder.StateAwaitingPayment: orderv1.Order_STATE_AWAITING_PAYMENT,
	entorder.StateAdvancePaid:     orderv1.Order_STATE_ADVANCE_PAID,
	entorder.StatePaid:            orderv1.Order_STATE_PAID,
	entorder.StateShipped:         orderv1.Order_STATE_SHIPPED,
	entorder.StateDelivered:       orderv1.Order_STATE_DELIVERED,
	entorder.StateCompleted:       orderv1.Order_STATE_COMPLETED,
	entorder.StateClosed:          orderv1.Order_STATE_CLOSED,
	entorder.StateCancelled:       orderv1.Order_STATE_CANCELLED,
}

var stateFromProto = func() map[orderv1.Order_State]entorder.State {
	m := map[orderv1.Order_State]entorder.State{}
	for k, v := range stateToProto {
		m[v] = k
	}
	return m
}()

var policyToProto = map[entorder.Policy]commonv1.Policy{
	entorder.PolicyTradeAssurance: commonv1.Policy_POLICY_TRADE_ASSURANCE,
	entorder.PolicyRetail:         commonv1.Policy_POLICY_RETAIL,
}

var policyFromProto = map[commonv1.Policy]entorder.Policy{
	commonv1.Policy_POLICY_TRADE_ASSURANCE: entorder.PolicyTradeAssurance,
	commonv1.Policy_POLICY_RETAIL:          entorder.PolicyRetail,
}

var methodFromProto = map[orderv1.PaymentMethod]entpayment.Method{
	orderv1.PaymentMethod_PAYMENT_METHOD_CARD:                 entpayment.MethodCard,
	orderv1.PaymentMethod_PAYMENT_METHOD_TT:                   entpayment.MethodTt,
	orderv1.PaymentMethod_PAYMENT_METHOD_ONLINE_BANK_TRANSFER: entpayment.MethodOnlineBankTransfer,
	orderv1.PaymentMethod_PAYMENT_METHOD_PAY_LATER:            entpayment.MethodPayLater,
	orderv1.PaymentMethod_PAYMENT_METHOD_WESTERN_UNION:        entpayment.MethodWesternUnion,
	orderv1.PaymentMethod_PAYMENT_METHOD_E_CHECKING:           entpayment.MethodEChecking,
}

var methodToProto = func() map[entpayment.Method]orderv1.PaymentMethod {
	m := map[entpayment.Method]orderv1.PaymentMethod{}
	for k, v := range methodFromProto {
		m[v] = k
	}
	return m
}()

var partToProto = map[entpayment.Part]orderv1.Payment_Part{
	entpayment.PartFull:    orderv1.Payment_PART_FULL,
	entpayment.PartAdvance: orderv1.Payment_PART_ADVANCE,
	entpayment.PartBalance: orderv1.Payment_PART_BALANCE,
}

var paymentStateToProto = map[entpayment.State]orderv1.Payment_State{
	entpayment.StatePending: orderv1.Payment_STATE_PENDING,
	entpayment.StateSettled: orderv1.Payment_STATE_SETTLED,
	entpayment.StateFailed:  orderv1.Payment_STATE_FAILED,
}

// toProto converts a stored order into its API form.
func toProto(o *ent.Order) (*orderv1.Order, error) {
	terms := &orderv1.OrderTerms{}
	if err := proto.Unmarshal(o.Terms, terms); err != nil {
		return nil, err
	}
	known := policy.MustKnow(policyToProto[o.Policy], o.PolicyVersion)
	out := &orderv1.Order{
		Id: o.ID, Policy: policyToProto[o.Policy], PolicyVersion: o.PolicyVersion,
		PolicySet: known.SetName, PolicyParameters: known.Params, RatesVersion: o.RatesVersion, State: stateToProto[o.State],
		SupplierId: o.SupplierID, BuyerId: o.BuyerID, BuyerEmail: o.BuyerEmail, Terms: terms,
		Amounts: &orderv1.OrderAmounts{
			Goods:         resource.Money(o.GoodsMinor, o.Currency),
			Shipping:      resource.Money(terms.GetShippingFeeMinor(), o.Currency),
			Insurance:     resource.Money(terms.GetInsuranceFeeMinor(), o.Currency),
			Total:         resource.Money(o.TotalMinor, o.Currency),
			Advance:       resource.Money(o.AdvanceMinor, o.Currency),
			Balance:       resource.Money(o.TotalMinor-o.AdvanceMinor, o.Currency),
			Paid:          resource.Money(o.PaidMinor, o.Currency),
			TotalUsdMinor: o.TotalUsdMinor,
		},
		CoveredAmount:       resource.Money(o.CoveredMinor, o.Currency),
		RequiresExportAgent: o.RequiresExportAgent,
		AwaitingSupplier:    o.AwaitingSupplier,
		BuyerChangeRequest:  o.BuyerChangeRequest,
		PaymentPending:      o.PaymentPending,
		EscrowHeld:          o.EscrowHolds > 0,
		DeliverTime:         resource.Timestamp(o.DeliverTime),
		CompleteTime:        resource.Timestamp(o.CompleteTime),
		CloseTime:           resource.Timestamp(o.CloseTime),
		AutoConfirmDeadline: resource.Timestamp(o.AutoConfirmDeadline),
		AfterSalesDeadline:  resource.Timestamp(o.AfterSalesDeadline),
		Revision:            o.Revision,
		Etag:                o.Etag,
		CreateTime:          timestamppb.New(o.CreateTime),
		UpdateTime:          timestamppb.New(o.UpdateTime),
		Refunded:            resource.Money(o.RefundedMinor, o.Currency),
	}
	if len(o.PendingChange) > 0 {
		out.PendingChange = &orderv1.ChangeProposal{}
		if err := proto.Unmarshal(o.PendingChange, out.PendingChange); err != nil {
			return nil, err
		}
	}
	if len(o.Shipment) > 0 {
		out.Shipment = &orderv1.Shipment{}
		if err := proto.Unmarshal(o.Shipment, out.Shipment); err != nil {
			return nil, err
		}
	}
	if len(o.Cancellation) > 0 {
		out.Cancellation = &orderv1.Cancellation{}
		if err := proto.Unmarshal(o.Cancellation, out.Cancellation); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func paymentToProto(p *ent.Payment) *orderv1.Payment {
	return &orderv1.Payment{
		Id: p.ID, OrderId: p.OrderID, Method: methodToProto[p.Method], Part: partToProto[p.Part],
		Amount: resource.Money(p.AmountMinor, p.Currency), State: paymentStateToProto[p.State],
		FailureReason: p.FailureReason, CreateTime: timestamppb.New(p.CreateTime),
		FinishTime: resource.Timestamp(p.FinishTime), ExpectedSettleTime: resource.Timestamp(p.ExpectedSettleTime),
	}
}

func productToProto(p *ent.Product) *orderv1.Product {
	return &orderv1.Product{
		Id: p.ID, SupplierId: p.SupplierID, Name: p.Name, UnitPrice: resource.Money(p.UnitPriceMinor, p.Currency),
		CreateTime: timestamppb.New(p.CreateTime),
	}
}
