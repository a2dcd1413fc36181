package tradeassure

import (
	"context"
	"errors"
	"iter"
	"time"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	adminv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/admin/v1"
	casev1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/case/v1"
	complaintv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/complaint/v1"
	disputev1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/dispute/v1"
	eventv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/event/v1"
	orderv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/order/v1"
	payoutv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/payout/v1"
	returnsv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/returns/v1"
)

// Paginate iterates over every item of a paged list: it calls list with req, yields the items of the
// response, and calls again with page_token set to the response's next_page_token until that is empty.
// req is not modified (each page is requested with a copy), and its filters and page_size apply to every
// page. A failed call is yielded once as (zero, err) and ends the iteration; breaking out of the loop
// stops fetching. For example:
//
//	for o, err := range tradeassure.Paginate(ctx, c.Orders.ListOrders, &orderv1.ListOrdersRequest{},
//		(*orderv1.ListOrdersResponse).GetOrders) { … }
func Paginate[Req, Res any, T any](ctx context.Context,
	list func(context.Context, *connect.Request[Req]) (*connect.Response[Res], error),
	req *Req, items func(*Res) []T) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		var zero T
		if req == nil {
			req = new(Req)
		}
		page, ok := any(req).(proto.Message)
		if !ok {
			yield(zero, errors.New("tradeassure: Paginate needs a protobuf request"))
			return
		}
		page = proto.Clone(page)
		tokenField := page.ProtoReflect().Descriptor().Fields().ByName("page_token")
		for {
			resp, err := list(ctx, connect.NewRequest(any(page).(*Req)))
			if err != nil {
				yield(zero, wrapError(err))
				return
			}
			for _, it := range items(resp.Msg) {
				if !yield(it, nil) {
					return
				}
			}
			next := nextPageToken(any(resp.Msg))
			if next == "" || tokenField == nil {
				return
			}
			page.ProtoReflect().Set(tokenField, protoreflect.ValueOfString(next))
		}
	}
}

// nextPageToken reads the next_page_token field of a list response.
func nextPageToken(msg any) string {
	m, ok := msg.(proto.Message)
	if !ok {
		return ""
	}
	fd := m.ProtoReflect().Descriptor().Fields().ByName("next_page_token")
	if fd == nil || fd.Kind() != protoreflect.StringKind {
		return ""
	}
	return m.ProtoReflect().Get(fd).String()
}

// AllOrders iterates over the caller's orders, newest first, with req's filter and view (nil means all, in the
// basic view: without each order's policy_parameters; see orderv1.OrderView).
func (c *Client) AllOrders(ctx context.Context, req *orderv1.ListOrdersRequest) iter.Seq2[*orderv1.Order, error] {
	return Paginate(ctx, c.Orders.ListOrders, req, (*orderv1.ListOrdersResponse).GetOrders)
}

// AllProducts iterates over a supplier's products (req.SupplierId; empty means the calling supplier).
func (c *Client) AllProducts(ctx context.Context, req *orderv1.ListProductsRequest) iter.Seq2[*orderv1.Product, error] {
	return Paginate(ctx, c.Orders.ListProducts, req, (*orderv1.ListProductsResponse).GetProducts)
}

// AllPayments iterates over an order's payments, oldest first.
func (c *Client) AllPayments(ctx context.Context, orderID string) iter.Seq2[*orderv1.Payment, error] {
	return Paginate(ctx, c.Orders.ListPayments, &orderv1.ListPaymentsRequest{OrderId: orderID},
		(*orderv1.ListPaymentsResponse).GetPayments)
}

// AllReturns iterates over the returns the caller may see, newest first, with req's filters.
func (c *Client) AllReturns(ctx context.Context, req *returnsv1.ListReturnsRequest) iter.Seq2[*returnsv1.Return, error] {
	return Paginate(ctx, c.Returns.ListReturns, req, (*returnsv1.ListReturnsResponse).GetReturns)
}

// AllDisputes iterates over the disputes the caller may see, newest first, with req's filters. Arbiters
// set State to ESCALATED for their queue.
func (c *Client) AllDisputes(ctx context.Context, req *disputev1.ListDisputesRequest) iter.Seq2[*disputev1.Dispute, error] {
	return Paginate(ctx, c.Disputes.ListDisputes, req, (*disputev1.ListDisputesResponse).GetDisputes)
}

// AllComplaints iterates over the complaints the caller may see, newest first, with req's filters.
func (c *Client) AllComplaints(ctx context.Context, req *complaintv1.ListComplaintsRequest) iter.Seq2[*complaintv1.Complaint, error] {
	return Paginate(ctx, c.Complaints.ListComplaints, req, (*complaintv1.ListComplaintsResponse).GetComplaints)
}

// AllCaseSteps iterates over every step of an order's case (req.OrderId), oldest first: its revisions,
// payments, return and dispute timelines, complaints and ledger transfers, as far as the caller may see them.
func (c *Client) AllCaseSteps(ctx context.Context, req *casev1.ListCaseTimelineRequest) iter.Seq2[*casev1.CaseStep, error] {
	return Paginate(ctx, c.Cases.ListCaseTimeline, req, (*casev1.ListCaseTimelineResponse).GetSteps)
}

// AllWithdrawals iterates over withdrawals with req's filters.
func (c *Client) AllWithdrawals(ctx context.Context, req *payoutv1.ListWithdrawalsRequest) iter.Seq2[*payoutv1.Withdrawal, error] {
	return Paginate(ctx, c.Payouts.ListWithdrawals, req, (*payoutv1.ListWithdrawalsResponse).GetWithdrawals)
}

// AllStatementEntries iterates over the entries of a supplier's statement with req's filters.
func (c *Client) AllStatementEntries(ctx context.Context, req *payoutv1.ListStatementEntriesRequest) iter.Seq2[*payoutv1.StatementEntry, error] {
	return Paginate(ctx, c.Payouts.ListStatementEntries, req, (*payoutv1.ListStatementEntriesResponse).GetEntries)
}

// AllAccounts iterates over accounts (operators only) with req's filter.
func (c *Client) AllAccounts(ctx context.Context, req *adminv1.ListAccountsRequest) iter.Seq2[*adminv1.Account, error] {
	return Paginate(ctx, c.Admin.ListAccounts, req, (*adminv1.ListAccountsResponse).GetAccounts)
}

// AllEvents iterates over the events after req.AfterId that exist now, oldest first, and ends when the
// feed has no more; an ERP catching up on its backlog stores each event's id as its cursor. Use Follow to
// keep receiving new events.
func (c *Client) AllEvents(ctx context.Context, req *eventv1.ListEventsRequest) iter.Seq2[*eventv1.Event, error] {
	return func(yield func(*eventv1.Event, error) bool) {
		page := &eventv1.ListEventsRequest{}
		if req != nil {
			page = proto.CloneOf(req)
		}
		for {
			resp, err := c.Events.ListEvents(ctx, connect.NewRequest(page))
			if err != nil {
				yield(nil, wrapError(err))
				return
			}
			for _, e := range resp.Msg.GetEvents() {
				if !yield(e, nil) {
					return
				}
			}
			if len(resp.Msg.GetEvents()) == 0 || resp.Msg.GetNextAfterId() == page.GetAfterId() {
				return
			}
			page.AfterId = resp.Msg.GetNextAfterId()
		}
	}
}

// Follow streams the events after req.AfterId, then every new one as it is committed, until ctx is
// done (then the iteration just ends). The server's heartbeats (messages without an event) are skipped.
// When the stream breaks (the server restarts, a proxy cuts an idle connection) Follow reconnects after
// the last event it yielded, waiting with backoff, so no event is lost or repeated. An error that another
// attempt cannot fix (a bad key, a bad cursor) is yielded once and ends the iteration.
func (c *Client) Follow(ctx context.Context, req *eventv1.WatchEventsRequest) iter.Seq2[*eventv1.Event, error] {
	return func(yield func(*eventv1.Event, error) bool) {
		cursor := &eventv1.WatchEventsRequest{}
		if req != nil {
			cursor = proto.CloneOf(req)
		}
		policy := c.cfg.retry
		failures := 0
		for ctx.Err() == nil {
			stream, err := c.Events.WatchEvents(ctx, connect.NewRequest(cursor))
			if err == nil {
				for stream.Receive() {
					failures = 0
					if e := stream.Msg().GetEvent(); e != nil {
						cursor.AfterId = e.GetId()
						if !yield(e, nil) {
							_ = stream.Close()
							return
						}
					}
				}
				err = stream.Err()
				_ = stream.Close()
			}
			if ctx.Err() != nil {
				return
			}
			if err != nil && permanent(err) {
				yield(nil, wrapError(err))
				return
			}
			failures++
			wait := max(policy.backoff(min(failures, 16)), retryAfter(err))
			if wait <= 0 {
				wait = 100 * time.Millisecond
			}
			t := time.NewTimer(wait)
			select {
			case <-ctx.Done():
				t.Stop()
				return
			case <-t.C:
			}
		}
	}
}

// permanent reports whether a stream failure cannot be cured by reconnecting.
func permanent(err error) bool {
	switch connect.CodeOf(err) {
	case connect.CodeUnauthenticated, connect.CodePermissionDenied, connect.CodeInvalidArgument,
		connect.CodeNotFound, connect.CodeFailedPrecondition, connect.CodeUnimplemented, connect.CodeCanceled:
		return true
	}
	return false
}
