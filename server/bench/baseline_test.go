package bench

import (
	"context"
	"crypto/sha256"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/tradeassure/tradeassure/ent"
	entevent "github.com/tradeassure/tradeassure/ent/event"
	entorder "github.com/tradeassure/tradeassure/ent/order"
	eventv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/event/v1"
	"github.com/tradeassure/tradeassure/gen/go/tradeassure/event/v1/eventv1connect"
	orderv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/order/v1"
	"github.com/tradeassure/tradeassure/gen/go/tradeassure/order/v1/orderv1connect"
	"github.com/tradeassure/tradeassure/server/events"
	"github.com/tradeassure/tradeassure/server/resource"
	"github.com/tradeassure/tradeassure/server/storage"
	"github.com/tradeassure/tradeassure/server/transport"
)

// bare is the baseline: plain connect-go handlers on the same generated types, over a database opened by
// the same storage.Open (same engine, schema and pool settings), doing the least work each call needs and
// nothing else: no authentication, no validation, no interceptors, no ownership checks.
//
//   - CreateOrder: one transaction inserting the order, an idempotency row and an event row.
//   - GetOrder: one primary-key read, converted to the API type.
//   - ListOrders: one keyset page of the buyer's orders, newest first.
//   - ListEvents: one keyset page of the feed by primary key (what an indexed party feed costs at best).
type bare struct {
	orderv1connect.UnimplementedOrderServiceHandler
	eventv1connect.UnimplementedEventServiceHandler
	store    *storage.Store
	supplier string
	buyer    string
}

func (b *bare) CreateOrder(ctx context.Context, req *connect.Request[orderv1.CreateOrderRequest]) (*connect.Response[orderv1.CreateOrderResponse], error) {
	terms, err := proto.Marshal(req.Msg.GetTerms())
	if err != nil {
		return nil, err
	}
	reqBytes, _ := proto.Marshal(req.Msg)
	hash := sha256.Sum256(reqBytes)
	now := timestamppb.Now().AsTime()
	id := resource.ID("ord_")
	var out *orderv1.Order
	err = b.store.WithTx(ctx, func(tx *ent.Tx) error {
		o, err := tx.Order.Create().SetID(id).SetPolicy(entorder.PolicyRetail).SetPolicyVersion("2026-11-01").
			SetState(entorder.StateDraft).SetSupplierID(b.supplier).SetBuyerID(b.buyer).SetBuyerEmail(req.Msg.GetBuyerEmail()).
			SetCurrency("USD").SetTerms(terms).SetGoodsMinor(100_00).SetTotalMinor(150_00).SetAdvanceMinor(0).
			SetTotalUsdMinor(150_00).SetCoveredMinor(150_00).SetShipByTime(req.Msg.GetTerms().GetShipByTime().AsTime()).
			SetEtag(resource.Etag(id, 1)).SetCreateTime(now).SetUpdateTime(now).Save(ctx)
		if err != nil {
			return err
		}
		if out, err = bareOrder(o); err != nil {
			return err
		}
		payload, err := anypb.New(out)
		if err != nil {
			return err
		}
		body, _ := proto.Marshal(payload)
		if err := tx.Event.Create().SetType("order.drafted").SetSubjectType("order").SetSubjectID(id).SetRevision(1).
			SetTime(now).SetActorRole("supplier").SetActorID(b.supplier).SetPayload(body).Exec(ctx); err != nil {
			return err
		}
		resp, _ := proto.Marshal(&orderv1.CreateOrderResponse{Order: out})
		return tx.IdempotencyKey.Create().SetPrincipalID(b.supplier).SetProcedure("CreateOrder").
			SetRequestID(req.Msg.GetRequestId()).SetRequestHash(hash[:]).SetResponse(resp).SetCreateTime(now).Exec(ctx)
	})
	if err != nil {
		return nil, fmt.Errorf("create order: %w", err)
	}
	return connect.NewResponse(&orderv1.CreateOrderResponse{Order: out}), nil
}

func (b *bare) GetOrder(ctx context.Context, req *connect.Request[orderv1.GetOrderRequest]) (*connect.Response[orderv1.GetOrderResponse], error) {
	o, err := b.store.Client.Order.Get(ctx, req.Msg.GetOrderId())
	if err != nil {
		return nil, connect.NewError(connect.CodeNotFound, err)
	}
	pb, err := bareOrder(o)
	if err != nil {
		return nil, err
	}
	return connect.NewResponse(&orderv1.GetOrderResponse{Order: pb}), nil
}

func (b *bare) ListOrders(ctx context.Context, req *connect.Request[orderv1.ListOrdersRequest]) (*connect.Response[orderv1.ListOrdersResponse], error) {
	q := b.store.Client.Order.Query().Where(entorder.BuyerID(b.buyer))
	if after := req.Msg.GetPageToken(); after != "" {
		q = q.Where(entorder.IDLT(after))
	}
	size := int(req.Msg.GetPageSize())
	rows, err := q.Order(ent.Desc(entorder.FieldID)).Limit(size + 1).All(ctx)
	if err != nil {
		return nil, err
	}
	out := &orderv1.ListOrdersResponse{}
	if len(rows) > size {
		rows = rows[:size]
		out.NextPageToken = rows[size-1].ID
	}
	for _, o := range rows {
		pb, err := bareOrder(o)
		if err != nil {
			return nil, err
		}
		out.Orders = append(out.Orders, pb)
	}
	return connect.NewResponse(out), nil
}

func (b *bare) ListEvents(ctx context.Context, req *connect.Request[eventv1.ListEventsRequest]) (*connect.Response[eventv1.ListEventsResponse], error) {
	var after int64
	if s := req.Msg.GetAfterId(); s != "" {
		after, _ = strconv.ParseInt(s, 10, 64)
	}
	rows, err := b.store.Client.Event.Query().Where(entevent.IDGT(after)).Order(ent.Asc(entevent.FieldID)).Limit(100).All(ctx)
	if err != nil {
		return nil, err
	}
	out := &eventv1.ListEventsResponse{}
	for _, r := range rows {
		e, err := events.ToProto(r)
		if err != nil {
			return nil, err
		}
		out.Events = append(out.Events, e)
		out.NextAfterId = e.Id
	}
	return connect.NewResponse(out), nil
}

// bareOrder converts the columns a client reads most, and the terms.
func bareOrder(o *ent.Order) (*orderv1.Order, error) {
	terms := &orderv1.OrderTerms{}
	if err := proto.Unmarshal(o.Terms, terms); err != nil {
		return nil, err
	}
	return &orderv1.Order{Id: o.ID, PolicyVersion: o.PolicyVersion, State: orderv1.Order_STATE_DRAFT, SupplierId: o.SupplierID,
		BuyerId: o.BuyerID, BuyerEmail: o.BuyerEmail, Terms: terms, Revision: o.Revision, Etag: o.Etag,
		Amounts:    &orderv1.OrderAmounts{Goods: resource.Money(o.GoodsMinor, o.Currency), Total: resource.Money(o.TotalMinor, o.Currency)},
		CreateTime: timestamppb.New(o.CreateTime), UpdateTime: timestamppb.New(o.UpdateTime)}, nil
}

// serveBare serves the baseline behind the same kind of server the real one runs behind in the benchmark
// (httptest, HTTP/2 over TLS), with the same handler options (message size limit, compression threshold).
func serveBare(b *bare) *httptest.Server {
	opts := transport.Config{}.HandlerOptions()
	mux := http.NewServeMux()
	mux.Handle(orderv1connect.NewOrderServiceHandler(b, opts))
	mux.Handle(eventv1connect.NewEventServiceHandler(b, opts))
	hs := httptest.NewUnstartedServer(mux)
	hs.EnableHTTP2 = true
	hs.StartTLS()
	return hs
}
