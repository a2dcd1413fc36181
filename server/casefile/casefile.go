// Package casefile serves the case timeline: everything that happened to one order — its revisions, its
// payments, the timelines of its returns and disputes, its complaints and the ledger transfers that moved its
// money — joined into one list in time order.
//
// The case owns no data. It reads each part through the service that owns it, with the caller's principal,
// so each part is shown under that service's visibility rules and in that service's form; a part the
// caller may not see is left out. Ledger transfers are shown to whoever may see the order.
package casefile

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	casev1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/case/v1"
	"github.com/tradeassure/tradeassure/gen/go/tradeassure/case/v1/casev1connect"
	commonv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/common/v1"
	complaintv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/complaint/v1"
	disputev1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/dispute/v1"
	orderv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/order/v1"
	payoutv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/payout/v1"
	returnsv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/returns/v1"
	"github.com/tradeassure/tradeassure/server/apierr"
	"github.com/tradeassure/tradeassure/server/auth"
	"github.com/tradeassure/tradeassure/server/describe"
	"github.com/tradeassure/tradeassure/server/pagination"
)

var _ casev1connect.CaseServiceHandler = (*Service)(nil)

// Orders is what the case reads of the order service.
type Orders interface {
	ListOrderRevisions(context.Context, *connect.Request[orderv1.ListOrderRevisionsRequest]) (*connect.Response[orderv1.ListOrderRevisionsResponse], error)
	ListPayments(context.Context, *connect.Request[orderv1.ListPaymentsRequest]) (*connect.Response[orderv1.ListPaymentsResponse], error)
}

// Returns is what the case reads of the returns service.
type Returns interface {
	ListReturns(context.Context, *connect.Request[returnsv1.ListReturnsRequest]) (*connect.Response[returnsv1.ListReturnsResponse], error)
	ListReturnTimeline(context.Context, *connect.Request[returnsv1.ListReturnTimelineRequest]) (*connect.Response[returnsv1.ListReturnTimelineResponse], error)
}

// Disputes is what the case reads of the dispute service.
type Disputes interface {
	ListDisputes(context.Context, *connect.Request[disputev1.ListDisputesRequest]) (*connect.Response[disputev1.ListDisputesResponse], error)
	ListDisputeTimeline(context.Context, *connect.Request[disputev1.ListDisputeTimelineRequest]) (*connect.Response[disputev1.ListDisputeTimelineResponse], error)
}

// Complaints is what the case reads of the complaint service.
type Complaints interface {
	ListComplaints(context.Context, *connect.Request[complaintv1.ListComplaintsRequest]) (*connect.Response[complaintv1.ListComplaintsResponse], error)
}

// Ledger is what the case reads of the payout service: the ledger transfers, an operator's read. The case
// reads an order's transfers only for a caller it has seen may read the order, and reads them as the
// platform, because parties have no ledger RPC of their own.
type Ledger interface {
	ListTransfers(context.Context, *connect.Request[payoutv1.ListTransfersRequest]) (*connect.Response[payoutv1.ListTransfersResponse], error)
}

// Service is the case service.
type Service struct {
	orders     Orders
	returns    Returns
	disputes   Disputes
	complaints Complaints
	ledger     Ledger
	pager      *pagination.Pager
}

// Parts are the services the case reads.
type Parts struct {
	Orders     Orders
	Returns    Returns
	Disputes   Disputes
	Complaints Complaints
	Ledger     Ledger
}

// New returns the case service.
func New(parts Parts, pager *pagination.Pager) *Service {
	return &Service{orders: parts.Orders, returns: parts.Returns, disputes: parts.Disputes, complaints: parts.Complaints,
		ledger: parts.Ledger, pager: pager}
}

// partRank orders steps of different parts at the same instant: the order's own step first, then what it
// caused, and the money last.
var partRank = map[casev1.CaseStep_Part]int{
	casev1.CaseStep_PART_ORDER: 1, casev1.CaseStep_PART_PAYMENT: 2, casev1.CaseStep_PART_RETURN: 3,
	casev1.CaseStep_PART_DISPUTE: 4, casev1.CaseStep_PART_COMPLAINT: 5, casev1.CaseStep_PART_MONEY: 6,
}

// key is a step's place in the case, for sorting and for page tokens: the time in nanoseconds (fixed
// width, so keys compare as strings), the part's rank, then the id (ids are time-ordered within a part).
func key(s *casev1.CaseStep) string {
	return fmt.Sprintf("%020d/%d/%s", s.GetTime().AsTime().UnixNano(), partRank[s.GetPart()], s.GetId())
}

// ListCaseTimeline lists an order's case, oldest first.
func (s *Service) ListCaseTimeline(ctx context.Context, req *connect.Request[casev1.ListCaseTimelineRequest]) (*connect.Response[casev1.ListCaseTimelineResponse], error) {
	id := req.Msg.GetOrderId()
	filter := pagination.Filter("case-timeline", id)
	size, after, err := s.pager.Start(req.Msg, 50, 500, filter)
	if err != nil {
		return nil, err
	}
	steps, seen, err := s.collect(ctx, id)
	if err != nil {
		return nil, err
	}
	if !seen {
		return nil, apierr.NotFound("order", id)
	}
	keys := make(map[*casev1.CaseStep]string, len(steps))
	for _, st := range steps {
		keys[st] = key(st)
	}
	slices.SortFunc(steps, func(a, b *casev1.CaseStep) int { return cmp.Compare(keys[a], keys[b]) })
	// The first step after the one the previous page ended with (a step is never inserted before it:
	// every part only appends, at the server's present).
	start := len(steps)
	if i := slices.IndexFunc(steps, func(st *casev1.CaseStep) bool { return keys[st] > after }); i >= 0 {
		start = i
	}
	page, next := pagination.Page(s.pager, steps[start:], size, filter, func(st *casev1.CaseStep) string { return keys[st] })
	return connect.NewResponse(&casev1.ListCaseTimelineResponse{Steps: page, NextPageToken: next}), nil
}

// collect reads every part of the order's case the caller may see, and whether it may see any part at all.
func (s *Service) collect(ctx context.Context, orderID string) ([]*casev1.CaseStep, bool, error) {
	var steps []*casev1.CaseStep
	orderSeen, err := s.orderSteps(ctx, orderID, &steps)
	if err != nil {
		return nil, false, err
	}
	seen := orderSeen
	for _, part := range []func(context.Context, string, *[]*casev1.CaseStep) (bool, error){
		s.returnSteps, s.disputeSteps, s.complaintSteps,
	} {
		ok, err := part(ctx, orderID, &steps)
		if err != nil {
			return nil, false, err
		}
		seen = seen || ok
	}
	// The ledger is read as the platform, so only once the caller was shown to see the order itself.
	if orderSeen {
		ts, err := s.orderTransfers(ctx, orderID)
		if err != nil {
			return nil, false, fmt.Errorf("list transfers of order %s: %w", orderID, err)
		}
		for _, t := range ts {
			steps = append(steps, &casev1.CaseStep{
				Id: "money/" + t.GetId(), Time: t.GetCreateTime(), Part: casev1.CaseStep_PART_MONEY, SubjectId: t.GetId(),
				Description: t.GetDescription(), Detail: &casev1.CaseStep_Transfer{Transfer: t},
			})
		}
	}
	return steps, seen, nil
}

// orderTransfers reads every ledger transfer of the order, as an operator would.
func (s *Service) orderTransfers(ctx context.Context, orderID string) ([]*payoutv1.Transfer, error) {
	ctx = auth.WithPrincipal(ctx, auth.Principal{Role: commonv1.Role_ROLE_OPERATOR})
	return all(ctx, func(ctx context.Context, token string) (*connect.Response[payoutv1.ListTransfersResponse], error) {
		return s.ledger.ListTransfers(ctx, connect.NewRequest(&payoutv1.ListTransfersRequest{OrderId: orderID, PageSize: pageSize, PageToken: token}))
	}, (*payoutv1.ListTransfersResponse).GetTransfers)
}

// hidden reports whether err is a part's way of saying the caller may not see it. The parts are called
// directly, so their errors are still the domain's (the interceptor turns them into Connect errors).
func hidden(err error) bool {
	code := connect.CodeOf(err)
	if ae := (*apierr.Error)(nil); errors.As(err, &ae) {
		code = ae.Code
	}
	return code == connect.CodeNotFound || code == connect.CodePermissionDenied
}

// pageSize is how much of a part the case reads per call: the largest page every part allows.
const pageSize = 500

// all reads every page of one list, from the first on.
func all[R any, P interface {
	*R
	GetNextPageToken() string
}, T any](ctx context.Context, list func(ctx context.Context, token string) (*connect.Response[R], error), items func(P) []T) ([]T, error) {
	var out []T
	for token := ""; ; {
		resp, err := list(ctx, token)
		if err != nil {
			return nil, err
		}
		page := P(resp.Msg)
		out = append(out, items(page)...)
		if token = page.GetNextPageToken(); token == "" {
			return out, nil
		}
	}
}

// orderSteps adds the order's revisions and payments, and reports whether the caller may see the order.
// The revisions are the visibility check (they are read under the order's own rules) and carry the order,
// so the order is not read a second time.
func (s *Service) orderSteps(ctx context.Context, orderID string, steps *[]*casev1.CaseStep) (bool, error) {
	revisions, err := all(ctx, func(ctx context.Context, token string) (*connect.Response[orderv1.ListOrderRevisionsResponse], error) {
		return s.orders.ListOrderRevisions(ctx, connect.NewRequest(&orderv1.ListOrderRevisionsRequest{OrderId: orderID, PageSize: pageSize, PageToken: token}))
	}, (*orderv1.ListOrderRevisionsResponse).GetRevisions)
	if hidden(err) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	buyerID := ""
	for _, r := range revisions {
		buyerID = r.GetOrder().GetBuyerId()
		r = proto.CloneOf(r)
		r.Order = nil
		*steps = append(*steps, &casev1.CaseStep{
			Id: fmt.Sprintf("order/%s/%d", orderID, r.GetRevision()), Time: r.GetTime(), Part: casev1.CaseStep_PART_ORDER,
			SubjectId: orderID, Actor: r.GetActor(), Description: describeChange(r.GetChange()),
			Detail: &casev1.CaseStep_OrderRevision{OrderRevision: r},
		})
	}
	payments, err := all(ctx, func(ctx context.Context, token string) (*connect.Response[orderv1.ListPaymentsResponse], error) {
		return s.orders.ListPayments(ctx, connect.NewRequest(&orderv1.ListPaymentsRequest{OrderId: orderID, PageSize: pageSize, PageToken: token}))
	}, (*orderv1.ListPaymentsResponse).GetPayments)
	if err != nil {
		return false, err
	}
	for _, p := range payments {
		amount := describe.Money(p.GetAmount().GetAmountMinor(), p.GetAmount().GetCurrency())
		method := describe.Enum(p.GetMethod())
		add := func(kind casev1.PaymentStep_Kind, what string) {
			st := &casev1.CaseStep{
				Id: fmt.Sprintf("payment/%s/%d", p.GetId(), kind), Part: casev1.CaseStep_PART_PAYMENT, SubjectId: p.GetId(),
				Description: what, Detail: &casev1.CaseStep_Payment{Payment: &casev1.PaymentStep{Kind: kind, Payment: p}},
			}
			if kind == casev1.PaymentStep_KIND_STARTED {
				st.Time, st.Actor = p.GetCreateTime(), &commonv1.Party{Role: commonv1.Role_ROLE_BUYER, AccountId: buyerID}
			} else {
				st.Time = p.GetFinishTime()
			}
			*steps = append(*steps, st)
		}
		add(casev1.PaymentStep_KIND_STARTED, fmt.Sprintf("Paid %s by %s", amount, method))
		switch p.GetState() {
		case orderv1.Payment_STATE_SETTLED:
			add(casev1.PaymentStep_KIND_SETTLED, fmt.Sprintf("Payment of %s settled", amount))
		case orderv1.Payment_STATE_FAILED:
			add(casev1.PaymentStep_KIND_FAILED, fmt.Sprintf("Payment of %s failed: %s", amount, p.GetFailureReason()))
		}
	}
	return true, nil
}

// entry is what the case reads of a return's or a dispute's timeline entry.
type entry interface {
	GetId() string
	GetTime() *timestamppb.Timestamp
	GetActor() *commonv1.Party
	GetDescription() string
}

// timelines adds, as steps of part, the timeline entries of each subject (a return or a dispute of the
// order) the caller may see, and reports whether it may see any; detail sets the step's own form of the
// entry.
func timelines[S interface{ GetId() string }, E entry](ctx context.Context, steps *[]*casev1.CaseStep, part casev1.CaseStep_Part, prefix string,
	subjects func(context.Context) ([]S, error), entries func(ctx context.Context, id string) ([]E, error), detail func(*casev1.CaseStep, E),
) (bool, error) {
	list, err := subjects(ctx)
	if hidden(err) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	for _, sub := range list {
		es, err := entries(ctx, sub.GetId())
		if err != nil {
			return false, err
		}
		for _, e := range es {
			st := &casev1.CaseStep{Id: prefix + e.GetId(), Time: e.GetTime(), Part: part, SubjectId: sub.GetId(),
				Actor: e.GetActor(), Description: e.GetDescription()}
			detail(st, e)
			*steps = append(*steps, st)
		}
	}
	return len(list) > 0, nil
}

// returnSteps adds the timelines of the order's returns the caller may see.
func (s *Service) returnSteps(ctx context.Context, orderID string, steps *[]*casev1.CaseStep) (bool, error) {
	return timelines(ctx, steps, casev1.CaseStep_PART_RETURN, "return/",
		func(ctx context.Context) ([]*returnsv1.Return, error) {
			return all(ctx, func(ctx context.Context, token string) (*connect.Response[returnsv1.ListReturnsResponse], error) {
				return s.returns.ListReturns(ctx, connect.NewRequest(&returnsv1.ListReturnsRequest{OrderId: orderID, PageSize: pageSize, PageToken: token}))
			}, (*returnsv1.ListReturnsResponse).GetReturns)
		},
		func(ctx context.Context, id string) ([]*returnsv1.TimelineEntry, error) {
			return all(ctx, func(ctx context.Context, token string) (*connect.Response[returnsv1.ListReturnTimelineResponse], error) {
				return s.returns.ListReturnTimeline(ctx, connect.NewRequest(&returnsv1.ListReturnTimelineRequest{ReturnId: id, PageSize: pageSize, PageToken: token}))
			}, (*returnsv1.ListReturnTimelineResponse).GetEntries)
		},
		func(st *casev1.CaseStep, e *returnsv1.TimelineEntry) {
			st.Detail = &casev1.CaseStep_ReturnEntry{ReturnEntry: e}
		})
}

// disputeSteps adds the timelines of the order's disputes the caller may see.
func (s *Service) disputeSteps(ctx context.Context, orderID string, steps *[]*casev1.CaseStep) (bool, error) {
	return timelines(ctx, steps, casev1.CaseStep_PART_DISPUTE, "dispute/",
		func(ctx context.Context) ([]*disputev1.Dispute, error) {
			return all(ctx, func(ctx context.Context, token string) (*connect.Response[disputev1.ListDisputesResponse], error) {
				return s.disputes.ListDisputes(ctx, connect.NewRequest(&disputev1.ListDisputesRequest{OrderId: orderID, PageSize: pageSize, PageToken: token}))
			}, (*disputev1.ListDisputesResponse).GetDisputes)
		},
		func(ctx context.Context, id string) ([]*disputev1.TimelineEntry, error) {
			return all(ctx, func(ctx context.Context, token string) (*connect.Response[disputev1.ListDisputeTimelineResponse], error) {
				return s.disputes.ListDisputeTimeline(ctx, connect.NewRequest(&disputev1.ListDisputeTimelineRequest{DisputeId: id, PageSize: pageSize, PageToken: token}))
			}, (*disputev1.ListDisputeTimelineResponse).GetEntries)
		},
		func(st *casev1.CaseStep, e *disputev1.TimelineEntry) {
			st.Detail = &casev1.CaseStep_DisputeEntry{DisputeEntry: e}
		})
}

// complaintSteps adds the steps of the order's complaints the caller may see: filed, each statement,
// decided or withdrawn.
func (s *Service) complaintSteps(ctx context.Context, orderID string, steps *[]*casev1.CaseStep) (bool, error) {
	complaints, err := all(ctx, func(ctx context.Context, token string) (*connect.Response[complaintv1.ListComplaintsResponse], error) {
		return s.complaints.ListComplaints(ctx, connect.NewRequest(&complaintv1.ListComplaintsRequest{OrderId: orderID, PageSize: pageSize, PageToken: token}))
	}, (*complaintv1.ListComplaintsResponse).GetComplaints)
	if hidden(err) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	for _, c := range complaints {
		typ := describe.Enum(c.GetType())
		add := func(n int, st *casev1.ComplaintStep, at *casev1.CaseStep) {
			st.ComplaintId, st.Type = c.GetId(), c.GetType()
			at.Id = fmt.Sprintf("complaint/%s/%d/%d", c.GetId(), st.GetKind(), n)
			at.Part, at.SubjectId = casev1.CaseStep_PART_COMPLAINT, c.GetId()
			at.Detail = &casev1.CaseStep_Complaint{Complaint: st}
			*steps = append(*steps, at)
		}
		add(0, &casev1.ComplaintStep{Kind: casev1.ComplaintStep_KIND_FILED},
			&casev1.CaseStep{Time: c.GetCreateTime(), Actor: c.GetComplainant(), Description: "Complaint filed: " + typ})
		for i, stmt := range c.GetStatements() {
			add(i, &casev1.ComplaintStep{Kind: casev1.ComplaintStep_KIND_STATEMENT_ADDED, Statement: stmt},
				&casev1.CaseStep{Time: stmt.GetCreateTime(), Actor: stmt.GetAuthor(), Description: "Statement added to the complaint"})
		}
		if dec := c.GetDecision(); dec.GetDecideTime() != nil {
			kind, what := casev1.ComplaintStep_KIND_DISMISSED, "Complaint dismissed"
			if dec.GetOutcome() == complaintv1.Decision_OUTCOME_UPHELD {
				kind, what = casev1.ComplaintStep_KIND_UPHELD, fmt.Sprintf("Complaint upheld with %d penalt%s", len(dec.GetPenalties()), plural(len(dec.GetPenalties()), "y", "ies"))
			}
			add(0, &casev1.ComplaintStep{Kind: kind, Decision: dec},
				&casev1.CaseStep{Time: dec.GetDecideTime(), Actor: dec.GetArbiter(), Description: what})
		}
		if c.GetState() == complaintv1.Complaint_STATE_WITHDRAWN && c.GetCloseTime() != nil {
			add(0, &casev1.ComplaintStep{Kind: casev1.ComplaintStep_KIND_WITHDRAWN},
				&casev1.CaseStep{Time: c.GetCloseTime(), Actor: c.GetComplainant(), Description: "Complaint withdrawn"})
		}
	}
	return len(complaints) > 0, nil
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// describeChange turns a revision's change ("order.receipt_confirmed") into a sentence ("Order receipt
// confirmed").
func describeChange(change string) string {
	s := strings.ReplaceAll(strings.ReplaceAll(change, ".", " "), "_", " ")
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
