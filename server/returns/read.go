package returns

import (
	"context"
	"fmt"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/tradeassure/tradeassure/ent"
	"github.com/tradeassure/tradeassure/ent/returnrequest"
	"github.com/tradeassure/tradeassure/ent/timelineentry"
	commonv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/common/v1"
	returnsv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/returns/v1"
	"github.com/tradeassure/tradeassure/server/apierr"
	"github.com/tradeassure/tradeassure/server/auth"
	"github.com/tradeassure/tradeassure/server/pagination"
)

// read loads a return the caller may see, outside a transaction.
func (s *Service) read(ctx context.Context, id string) (*ent.ReturnRequest, error) {
	r, err := s.store.Client.ReturnRequest.Get(ctx, id)
	if ent.IsNotFound(err) || (err == nil && !visible(auth.FromContext(ctx), r)) {
		return nil, apierr.NotFound("return", id)
	}
	if err != nil {
		return nil, fmt.Errorf("read return %s: %w", id, err)
	}
	return r, nil
}

// GetReturn returns one return.
func (s *Service) GetReturn(ctx context.Context, req *connect.Request[returnsv1.GetReturnRequest]) (*connect.Response[returnsv1.GetReturnResponse], error) {
	r, err := s.read(ctx, req.Msg.GetId())
	if err != nil {
		return nil, err
	}
	pb, err := toProto(r)
	if err != nil {
		return nil, err
	}
	return connect.NewResponse(&returnsv1.GetReturnResponse{Return: pb}), nil
}

// ListReturns lists the returns the caller may see, newest first.
func (s *Service) ListReturns(ctx context.Context, req *connect.Request[returnsv1.ListReturnsRequest]) (*connect.Response[returnsv1.ListReturnsResponse], error) {
	p := auth.FromContext(ctx)
	m := req.Msg
	filter := pagination.Filter("returns", p.AccountID, "|", m.GetOrderId(), "|", m.GetState(), "|", m.GetKind(), "|",
		m.GetBuyerAccountId(), "|", m.GetSupplierAccountId())
	size, after, err := s.pager.Start(m, 50, 500, filter)
	if err != nil {
		return nil, err
	}
	q := s.store.Client.ReturnRequest.Query()
	switch p.Role {
	case commonv1.Role_ROLE_BUYER:
		q = q.Where(returnrequest.BuyerID(p.AccountID))
	case commonv1.Role_ROLE_SUPPLIER:
		q = q.Where(returnrequest.SupplierID(p.AccountID))
	case commonv1.Role_ROLE_WAREHOUSE:
		q = q.Where(returnrequest.KindEQ(returnrequest.KindFreeReturn))
	case commonv1.Role_ROLE_OPERATOR, commonv1.Role_ROLE_ARBITER:
	default:
		return connect.NewResponse(&returnsv1.ListReturnsResponse{}), nil
	}
	if v := m.GetOrderId(); v != "" {
		q = q.Where(returnrequest.OrderID(v))
	}
	if v := m.GetState(); v != returnsv1.Return_STATE_UNSPECIFIED {
		q = q.Where(returnrequest.StateEQ(stateFromProto[v]))
	}
	if v := m.GetKind(); v != returnsv1.Return_KIND_UNSPECIFIED {
		q = q.Where(returnrequest.KindEQ(kindFromProto[v]))
	}
	if v := m.GetBuyerAccountId(); v != "" {
		q = q.Where(returnrequest.BuyerID(v))
	}
	if v := m.GetSupplierAccountId(); v != "" {
		q = q.Where(returnrequest.SupplierID(v))
	}
	if after != "" {
		q = q.Where(returnrequest.IDLT(after))
	}
	rows, err := q.Order(ent.Desc(returnrequest.FieldID)).Limit(size + 1).All(ctx)
	if err != nil {
		return nil, fmt.Errorf("list returns: %w", err)
	}
	out := &returnsv1.ListReturnsResponse{}
	rows, out.NextPageToken = pagination.Page(s.pager, rows, size, filter, func(r *ent.ReturnRequest) string { return r.ID })
	for _, r := range rows {
		pb, err := toProto(r)
		if err != nil {
			return nil, err
		}
		out.Returns = append(out.Returns, pb)
	}
	return connect.NewResponse(out), nil
}

// ListReturnTimeline lists what happened to a return, oldest first.
func (s *Service) ListReturnTimeline(ctx context.Context, req *connect.Request[returnsv1.ListReturnTimelineRequest]) (*connect.Response[returnsv1.ListReturnTimelineResponse], error) {
	r, err := s.read(ctx, req.Msg.GetReturnId())
	if err != nil {
		return nil, err
	}
	filter := pagination.Filter("return-timeline", r.ID)
	size, after, err := s.pager.Start(req.Msg, 50, 500, filter)
	if err != nil {
		return nil, err
	}
	q := s.store.Client.TimelineEntry.Query().Where(timelineentry.SubjectType(subjectType), timelineentry.SubjectID(r.ID))
	if after != "" {
		q = q.Where(timelineentry.IDGT(after))
	}
	rows, err := q.Order(ent.Asc(timelineentry.FieldID)).Limit(size + 1).All(ctx)
	if err != nil {
		return nil, fmt.Errorf("list timeline of return %s: %w", r.ID, err)
	}
	out := &returnsv1.ListReturnTimelineResponse{}
	rows, out.NextPageToken = pagination.Page(s.pager, rows, size, filter, func(t *ent.TimelineEntry) string { return t.ID })
	for _, t := range rows {
		entry := &returnsv1.TimelineEntry{}
		body := &anypb.Any{}
		if err := proto.Unmarshal(t.Change, body); err != nil {
			return nil, fmt.Errorf("read timeline entry %s: %w", t.ID, err)
		}
		if err := body.UnmarshalTo(entry); err != nil {
			return nil, fmt.Errorf("read timeline entry %s: %w", t.ID, err)
		}
		entry.Id = t.ID
		entry.Time = timestamppb.New(t.Time)
		out.Entries = append(out.Entries, entry)
	}
	return connect.NewResponse(out), nil
}
