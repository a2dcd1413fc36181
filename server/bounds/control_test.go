package bounds_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
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
	"github.com/tradeassure/tradeassure/gen/go/tradeassure/order/v1/orderv1connect"
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

// exampleIDs are the ids and times the example requests refer to.
type exampleIDs struct {
	supplier, buyer, buyerEmail, product, order, etag string
	shipBy                                            time.Time
}

// examples are valid requests of about twenty RPCs of every service, covering request ids, ids, etags,
// names, emails, addresses, evidence, notes, card tokens, tracking numbers, page tokens and event filters.
// The end-to-end tests send them; the fuzz corpus starts from them.
func examples(x exampleIDs) []proto.Message {
	evidence := []*commonv1.Evidence{{Kind: commonv1.EvidenceKind_EVIDENCE_KIND_PRODUCT_PHOTO,
		Description: "Photo of the box", Uri: "https://files.example/box.jpg"}}
	address := exampleAddress()
	terms := func(shipBy time.Time) *orderv1.OrderTerms { return exampleTerms(x.product, shipBy) }
	return []proto.Message{
		&orderv1.CreateProductRequest{RequestId: "req-1", Name: "Widget", UnitPrice: &commonv1.Money{AmountMinor: 100, Currency: "USD"}},
		&orderv1.ListProductsRequest{SupplierId: x.supplier},
		&orderv1.CreateOrderRequest{RequestId: "req-2", Policy: commonv1.Policy_POLICY_TRADE_ASSURANCE,
			BuyerEmail: x.buyerEmail, Terms: terms(x.shipBy)},
		&orderv1.GetOrderRequest{OrderId: x.order},
		&orderv1.ListOrdersRequest{},
		&orderv1.UpdateOrderRequest{RequestId: "req-3", OrderId: x.order, Etag: x.etag, Terms: terms(x.shipBy.Add(6 * 24 * time.Hour))},
		&orderv1.RequestDraftChangesRequest{RequestId: "req-4", OrderId: x.order, Etag: x.etag, Note: "Please ship by sea."},
		&orderv1.AcceptOrderRequest{RequestId: "req-5", OrderId: x.order, Etag: x.etag},
		&orderv1.PayOrderRequest{RequestId: "req-6", OrderId: x.order, Method: orderv1.PaymentMethod_PAYMENT_METHOD_CARD, CardToken: "tok_4242"},
		&orderv1.ShipOrderRequest{RequestId: "req-7", OrderId: x.order, Etag: x.etag, Carrier: "DHL", TrackingNumber: "JD0001"},
		&orderv1.CancelOrderRequest{RequestId: "req-8", OrderId: x.order, Reason: orderv1.CancellationReason_CANCELLATION_REASON_BUYER,
			Note: "Changed plans"},
		&eventv1.ListEventsRequest{AfterId: "1", SubjectType: "order", SubjectId: x.order},
		&eventv1.WatchEventsRequest{AfterId: "1", SubjectType: "order", SubjectId: x.order},
		&adminv1.CreateAccountRequest{RequestId: "req-9", Role: commonv1.Role_ROLE_SUPPLIER, Name: "New Supplier",
			Email: "new@supplier.example", Country: "CN", Supplier: &adminv1.SupplierProfile{BankAccount: "CN00 1234", ReturnAddress: address}},
		&adminv1.GetAccountRequest{AccountId: x.buyer},
		&adminv1.UpdateSupplierProfileRequest{RequestId: "req-10", AccountId: x.supplier, Supplier: &adminv1.SupplierProfile{
			TradeAssuranceLimitUsdMinor: 100_000_00, BankAccount: "CN00 1234", BankAccountVerified: true, ReturnAddress: address}},
		&adminv1.CreateApiKeyRequest{RequestId: "req-11", AccountId: x.buyer, Name: "ERP"},
		&disputev1.OpenDisputeRequest{RequestId: "req-12", OrderId: x.order, Reason: disputev1.Dispute_REASON_QUALITY_PROBLEM,
			Description: "Broken on arrival",
			Requested:   &disputev1.OfferTerms{Resolution: disputev1.Dispute_RESOLUTION_FULL_REFUND, Note: "Refund please"},
			Lines:       []*disputev1.DisputedLine{{Line: &disputev1.DisputedLine_ProductId{ProductId: x.product}, Quantity: 1}},
			Evidence:    evidence},
		&returnsv1.CreateReturnRequest{RequestId: "req-13", OrderId: x.order,
			Lines:  []*returnsv1.LineSelector{{Line: &returnsv1.LineSelector_ProductId{ProductId: x.product}, Quantity: 1}},
			Reason: returnsv1.Return_REASON_DAMAGED, Description: "Dented", Evidence: evidence},
		&complaintv1.FileComplaintRequest{RequestId: "req-14", OrderId: x.order, Type: complaintv1.Complaint_TYPE_PRODUCT_QUALITY,
			Description: "Not as listed", Evidence: evidence},
		&payoutv1.RequestWithdrawalRequest{RequestId: "req-15", Amount: &commonv1.Money{AmountMinor: 100, Currency: "USD"}},
		&payoutv1.ListTransfersRequest{AccountId: "order_escrow:" + x.order + ":USD", CauseId: x.order, OrderId: x.order},
	}
}

// requests pairs the examples with the clients that send them, as the market's parties.
func requests(m *market, order *orderv1.Order) map[string]rpc {
	sup, buy, op := m.supplier, m.buyer, m.operator
	send := map[string]func(context.Context, proto.Message) error{
		"CreateProduct": call(sup.Orders.CreateProduct), "ListProducts": call(buy.Orders.ListProducts),
		"CreateOrder": call(sup.Orders.CreateOrder), "GetOrder": call(buy.Orders.GetOrder),
		"ListOrders": call(buy.Orders.ListOrders), "UpdateOrder": call(sup.Orders.UpdateOrder),
		"RequestDraftChanges": call(buy.Orders.RequestDraftChanges), "AcceptOrder": call(buy.Orders.AcceptOrder),
		"PayOrder": call(buy.Orders.PayOrder), "ShipOrder": call(sup.Orders.ShipOrder),
		"CancelOrder": call(buy.Orders.CancelOrder), "ListEvents": call(op.Events.ListEvents),
		"WatchEvents": func(ctx context.Context, msg proto.Message) error {
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
		},
		"CreateAccount": call(op.Admin.CreateAccount), "GetAccount": call(op.Admin.GetAccount),
		"UpdateSupplierProfile": call(op.Admin.UpdateSupplierProfile), "CreateApiKey": call(op.Admin.CreateApiKey),
		"OpenDispute": call(buy.Disputes.OpenDispute), "CreateReturn": call(buy.Returns.CreateReturn),
		"FileComplaint": call(buy.Complaints.FileComplaint), "RequestWithdrawal": call(sup.Payouts.RequestWithdrawal),
		"ListTransfers": call(op.Payouts.ListTransfers),
	}
	out := map[string]rpc{}
	for _, req := range examples(exampleIDs{supplier: sup.ID(), buyer: buy.ID(), buyerEmail: buy.Account.Email,
		product: m.product, order: order.GetId(), etag: order.GetEtag(), shipBy: m.e.Clock.Now().Add(14 * 24 * time.Hour)}) {
		name := strings.TrimSuffix(string(req.ProtoReflect().Descriptor().Name()), "Request")
		if send[name] == nil {
			panic("no client for " + name)
		}
		out[name] = rpc{req: req, send: send[name]}
	}
	return out
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

// TestInvalidUTF8IsRefused sends strings that are not UTF-8, in binary and in JSON, as raw HTTP: the
// codecs refuse them with INVALID_ARGUMENT before validation, on every engine.
func TestInvalidUTF8IsRefused(t *testing.T) {
	for _, engine := range servertest.Engines() {
		t.Run(engine, func(t *testing.T) {
			e := servertest.New(t, servertest.Options{Engine: engine})
			m := newMarket(t, e)
			for _, c := range []struct {
				contentType string
				body        []byte
			}{
				{"application/proto", []byte{0x0a, 0x03, 'o', 0xff, 'd'}}, // GetOrderRequest{order_id: "o\xffd"}
				{"application/json", []byte("{\"orderId\": \"o\xffd\"}")},
			} {
				req, err := http.NewRequestWithContext(e.Ctx, http.MethodPost,
					e.HTTP.URL+orderv1connect.OrderServiceGetOrderProcedure, bytes.NewReader(c.body))
				if err != nil {
					t.Fatal(err)
				}
				req.Header.Set("Content-Type", c.contentType)
				req.Header.Set("Authorization", "Bearer "+m.buyer.Key)
				resp, err := e.HTTPClient().Do(req)
				if err != nil {
					t.Fatal(err)
				}
				var body struct {
					Code string `json:"code"`
				}
				err = json.NewDecoder(resp.Body).Decode(&body)
				resp.Body.Close()
				if err != nil || resp.StatusCode != http.StatusBadRequest || body.Code != "invalid_argument" {
					t.Errorf("%s: HTTP %d, code %q (%v), want 400 invalid_argument", c.contentType, resp.StatusCode, body.Code, err)
				}
			}
		})
	}
}
