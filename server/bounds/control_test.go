package bounds_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	adminv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/admin/v1"
	commonv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/common/v1"
	complaintv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/complaint/v1"
	disputev1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/dispute/v1"
	eventv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/event/v1"
	orderv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/order/v1"
	payoutv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/payout/v1"
	returnsv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/returns/v1"
	"github.com/tradeassure/tradeassure/server/servertest"
)

// rpc is a valid request and the call that sends it.
type rpc struct {
	req  proto.Message
	send func(context.Context, proto.Message) error
}

// inject returns a copy of base with the string at f set to s (creating the messages on the way, and
// using the first element of repeated fields).
func inject(base proto.Message, f fieldRef, s string) proto.Message {
	msg := proto.Clone(base)
	cur := msg.ProtoReflect()
	for _, fd := range f.path[:len(f.path)-1] {
		if fd.IsList() {
			list := cur.Mutable(fd).List()
			if list.Len() == 0 {
				list.AppendMutable()
			}
			cur = list.Get(0).Message()
		} else {
			cur = cur.Mutable(fd).Message()
		}
	}
	fd := f.field()
	if fd.IsList() {
		list := cur.Mutable(fd).List()
		if list.Len() == 0 {
			list.Append(protoreflect.ValueOfString(s))
		} else {
			list.Set(0, protoreflect.ValueOfString(s))
		}
	} else {
		cur.Set(fd, protoreflect.ValueOfString(s))
	}
	return msg
}

// requests are valid requests of about twenty RPCs of every service, from every role, covering request
// ids, ids, etags, names, emails, addresses, evidence, notes, card tokens, tracking numbers, page tokens
// and event filters.
func requests(m *market, order *orderv1.Order) map[string]rpc {
	evidence := []*commonv1.Evidence{{Kind: commonv1.EvidenceKind_EVIDENCE_KIND_PRODUCT_PHOTO,
		Description: "Photo of the box", Uri: "https://files.example/box.jpg"}}
	sup, buy, op := m.supplier, m.buyer, m.operator
	return map[string]rpc{
		"CreateProduct": {&orderv1.CreateProductRequest{RequestId: "req-1", Name: "Widget",
			UnitPrice: &commonv1.Money{AmountMinor: 100, Currency: "USD"}}, call(sup.Orders.CreateProduct)},
		"ListProducts": {&orderv1.ListProductsRequest{SupplierId: sup.ID()}, call(buy.Orders.ListProducts)},
		"CreateOrder": {&orderv1.CreateOrderRequest{RequestId: "req-2", Policy: commonv1.Policy_POLICY_TRADE_ASSURANCE,
			BuyerEmail: buy.Account.Email, Terms: m.terms(m.e.Clock.Now().Add(14 * 24 * time.Hour))}, call(sup.Orders.CreateOrder)},
		"GetOrder":   {&orderv1.GetOrderRequest{OrderId: order.GetId()}, call(buy.Orders.GetOrder)},
		"ListOrders": {&orderv1.ListOrdersRequest{}, call(buy.Orders.ListOrders)},
		"UpdateOrder": {&orderv1.UpdateOrderRequest{RequestId: "req-3", OrderId: order.GetId(), Etag: order.GetEtag(),
			Terms: m.terms(m.e.Clock.Now().Add(20 * 24 * time.Hour))}, call(sup.Orders.UpdateOrder)},
		"RequestDraftChanges": {&orderv1.RequestDraftChangesRequest{RequestId: "req-4", OrderId: order.GetId(),
			Etag: order.GetEtag(), Note: "Please ship by sea."}, call(buy.Orders.RequestDraftChanges)},
		"AcceptOrder": {&orderv1.AcceptOrderRequest{RequestId: "req-5", OrderId: order.GetId(), Etag: order.GetEtag()},
			call(buy.Orders.AcceptOrder)},
		"PayOrder": {&orderv1.PayOrderRequest{RequestId: "req-6", OrderId: order.GetId(),
			Method: orderv1.PaymentMethod_PAYMENT_METHOD_CARD, CardToken: "tok_4242"}, call(buy.Orders.PayOrder)},
		"ShipOrder": {&orderv1.ShipOrderRequest{RequestId: "req-7", OrderId: order.GetId(), Etag: order.GetEtag(),
			Carrier: "DHL", TrackingNumber: "JD0001"}, call(sup.Orders.ShipOrder)},
		"CancelOrder": {&orderv1.CancelOrderRequest{RequestId: "req-8", OrderId: order.GetId(),
			Reason: orderv1.CancellationReason_CANCELLATION_REASON_BUYER, Note: "Changed plans"}, call(buy.Orders.CancelOrder)},
		"ListEvents": {&eventv1.ListEventsRequest{AfterId: "1", SubjectType: "order", SubjectId: order.GetId()},
			call(op.Events.ListEvents)},
		"WatchEvents": {&eventv1.WatchEventsRequest{AfterId: "1", SubjectType: "order", SubjectId: order.GetId()},
			func(ctx context.Context, msg proto.Message) error {
				stream, err := op.Events.WatchEvents(ctx, connect.NewRequest(msg.(*eventv1.WatchEventsRequest)))
				if err != nil {
					return err
				}
				defer stream.Close()
				// An accepted watch starts with a heartbeat at once; a refused one ends with the error.
				if stream.Receive() {
					return nil
				}
				return stream.Err()
			}},
		"CreateAccount": {&adminv1.CreateAccountRequest{RequestId: "req-9", Role: commonv1.Role_ROLE_SUPPLIER,
			Name: "New Supplier", Email: "new@supplier.example", Country: "CN",
			Supplier: &adminv1.SupplierProfile{BankAccount: "CN00 1234", ReturnAddress: m.address()}}, call(op.Admin.CreateAccount)},
		"GetAccount": {&adminv1.GetAccountRequest{AccountId: buy.ID()}, call(op.Admin.GetAccount)},
		"UpdateSupplierProfile": {&adminv1.UpdateSupplierProfileRequest{RequestId: "req-10", AccountId: sup.ID(),
			Supplier: &adminv1.SupplierProfile{TradeAssuranceLimitUsdMinor: 100_000_00, BankAccount: "CN00 1234",
				BankAccountVerified: true, ReturnAddress: m.address()}}, call(op.Admin.UpdateSupplierProfile)},
		"CreateApiKey": {&adminv1.CreateApiKeyRequest{RequestId: "req-11", AccountId: buy.ID(), Name: "ERP"},
			call(op.Admin.CreateApiKey)},
		"OpenDispute": {&disputev1.OpenDisputeRequest{RequestId: "req-12", OrderId: order.GetId(),
			Reason: disputev1.Dispute_REASON_QUALITY_PROBLEM, Description: "Broken on arrival",
			Requested: &disputev1.OfferTerms{Resolution: disputev1.Dispute_RESOLUTION_FULL_REFUND, Note: "Refund please"},
			Lines:     []*disputev1.DisputedLine{{Line: &disputev1.DisputedLine_ProductId{ProductId: m.product}, Quantity: 1}},
			Evidence:  evidence}, call(buy.Disputes.OpenDispute)},
		"CreateReturn": {&returnsv1.CreateReturnRequest{RequestId: "req-13", OrderId: order.GetId(),
			Lines:  []*returnsv1.LineSelector{{Line: &returnsv1.LineSelector_ProductId{ProductId: m.product}, Quantity: 1}},
			Reason: returnsv1.Return_REASON_DAMAGED, Description: "Dented", Evidence: evidence}, call(buy.Returns.CreateReturn)},
		"FileComplaint": {&complaintv1.FileComplaintRequest{RequestId: "req-14", OrderId: order.GetId(),
			Type: complaintv1.Complaint_TYPE_PRODUCT_QUALITY, Description: "Not as listed", Evidence: evidence},
			call(buy.Complaints.FileComplaint)},
		"RequestWithdrawal": {&payoutv1.RequestWithdrawalRequest{RequestId: "req-15",
			Amount: &commonv1.Money{AmountMinor: 100, Currency: "USD"}}, call(sup.Payouts.RequestWithdrawal)},
		"ListTransfers": {&payoutv1.ListTransfersRequest{AccountId: "order_escrow:" + order.GetId() + ":USD",
			CauseId: order.GetId(), OrderId: order.GetId()}, call(op.Payouts.ListTransfers)},
	}
}

// TestControlCharactersAreRefusedEverywhere sends a NUL byte, and other control characters, in every
// string field of about twenty RPCs through the generated clients, on every engine in the Connect and
// gRPC protocols: every call is INVALID_ARGUMENT with a field violation naming the field, never INTERNAL,
// and nothing is written. (Postgres cannot store NUL in text; before the rule it answered INTERNAL.)
func TestControlCharactersAreRefusedEverywhere(t *testing.T) {
	v := newValidator(t)
	fields := requestFields(t)
	for _, engine := range servertest.Engines() {
		for _, protocol := range []string{"connect", "grpc"} {
			t.Run(engine+"/"+protocol, func(t *testing.T) {
				e := servertest.New(t, servertest.Options{Engine: engine, Protocol: protocol})
				m := newMarket(t, e)
				order := m.draft(m.terms(e.Clock.Now().Add(14 * 24 * time.Hour)))
				before := rowCounts(t, e)
				calls := 0
				for name, r := range requests(m, order) {
					if err := v.Validate(r.req); err != nil {
						t.Fatalf("%s: the base request is not valid: %v", name, err)
					}
					root := r.req.ProtoReflect().Descriptor().FullName()
					for _, f := range fields {
						if f.root.Descriptor().FullName() != root || f.field().Kind() != protoreflect.StringKind {
							continue
						}
						for _, bad := range []string{"x\x00y", "\x00", "x\x1b[31my", "x\u0085y"} {
							calls++
							err := r.send(e.Ctx, inject(r.req, f, bad))
							wantInvalidField(t, err, leafPath(f), name+" with "+strings.TrimSpace(leafPath(f))+"="+bad)
						}
					}
				}
				if calls < 400 {
					t.Errorf("made %d calls; want every string field of every request", calls)
				}
				after := rowCounts(t, e)
				for table, n := range after {
					if before[table] != n {
						t.Errorf("table %s has %d rows after the refused calls, %d before", table, n, before[table])
					}
				}
			})
		}
	}
}
