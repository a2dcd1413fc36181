// Package complaint implements ComplaintService: one party of an order files a complaint against the
// other, with the evidence its type requires; an arbiter decides it within three business days (a deadline
// the service tracks and reports when missed), upholding it with penalties that take effect at once
// (credit score, trading restriction, permanent ban, money through the ledger, a longer delivery time) or
// dismissing it; the complainant may withdraw it first, and refile a dismissed one once with new evidence.
// It also keeps every account's standing, which every service enforces: a restriction through
// auth.Principal.RequireTrading (no new orders), a ban through the auth interceptor (reads only); a
// restricted account keeps its after-sales rights on the orders it has (auth.Principal.RequireAfterSales).
package complaint

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"connectrpc.com/connect"

	"github.com/tradeassure/tradeassure/ent"
	entcomplaint "github.com/tradeassure/tradeassure/ent/complaint"
	"github.com/tradeassure/tradeassure/ent/predicate"
	commonv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/common/v1"
	complaintv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/complaint/v1"
	"github.com/tradeassure/tradeassure/gen/go/tradeassure/complaint/v1/complaintv1connect"
	"github.com/tradeassure/tradeassure/server/apierr"
	"github.com/tradeassure/tradeassure/server/auth"
	"github.com/tradeassure/tradeassure/server/clock"
	"github.com/tradeassure/tradeassure/server/deadline"
	"github.com/tradeassure/tradeassure/server/events"
	"github.com/tradeassure/tradeassure/server/idempotency"
	"github.com/tradeassure/tradeassure/server/order"
	"github.com/tradeassure/tradeassure/server/pagination"
	"github.com/tradeassure/tradeassure/server/resource"
	"github.com/tradeassure/tradeassure/server/storage"
)

var _ complaintv1connect.ComplaintServiceHandler = (*Service)(nil)

// Deadline kinds of complaints and standings.
const (
	// KindDecisionDue marks a filed complaint overdue when the arbiter has not decided it in time.
	KindDecisionDue = "complaint.decision_due"
	// KindRestrictionEnd returns a restricted account to active standing when its restriction ends. Its
	// subject is the account.
	KindRestrictionEnd = "account.restriction_end"
)

// Orders is what complaints do to orders beyond reading them: an upheld service-failure complaint extends
// the delivery time. *order.Service implements it.
type Orders interface {
	// Facts reads what a complaint needs of an order within tx; a missing order is ent's not-found error.
	Facts(ctx context.Context, tx *ent.Tx, orderID string) (order.Facts, error)
	// ExtendDelivery moves the automatic receipt confirmation of a delivered order later by by, within tx,
	// and reports whether the order had one to move.
	ExtendDelivery(ctx context.Context, tx *ent.Tx, orderID string, by time.Duration, actor auth.Principal, now time.Time) (bool, error)
}

// Service implements ComplaintService.
type Service struct {
	store  *storage.Store
	clock  clock.Clock
	feed   *events.Feed
	pager  *pagination.Pager
	log    *slog.Logger
	orders Orders
}

// New returns the complaint service; Register adds its deadlines to the engine.
func New(store *storage.Store, clk clock.Clock, feed *events.Feed, pager *pagination.Pager, log *slog.Logger, orders Orders) *Service {
	return &Service{store: store, clock: clk, feed: feed, pager: pager, log: log, orders: orders}
}

// Register adds the complaint's decision timer (rules.go) and the end of trading restrictions to the engine.
func (s *Service) Register(e *deadline.Engine) {
	decisionTimer.Handle(e, func(ctx context.Context, tx *ent.Tx, id string) (*ent.Complaint, error) {
		return tx.Complaint.Get(ctx, id)
	}, s.decisionDue)
	e.Handle(KindRestrictionEnd, s.restrictionEnd)
}

// run runs a mutation of the complaint service in a transaction, once per request id.
func run[Req any, Resp any, PReq idempotency.Request[Req], PResp idempotency.Response[Resp]](ctx context.Context, s *Service,
	req *connect.Request[Req], fn func(tx *ent.Tx, p auth.Principal, now time.Time) (PResp, error),
) (*connect.Response[Resp], error) {
	return idempotency.Handle[Req, Resp, PReq, PResp](ctx, s.store, s.clock, req, fn)
}

// readers are the roles that may read complaints at all; buyers and suppliers only their own.
var readers = []commonv1.Role{commonv1.Role_ROLE_BUYER, commonv1.Role_ROLE_SUPPLIER, commonv1.Role_ROLE_ARBITER, commonv1.Role_ROLE_OPERATOR}

// visible reports whether p may see c: its two parties, arbiters, operators and the platform itself.
func visible(p auth.Principal, c *ent.Complaint) bool {
	switch p.Role {
	case commonv1.Role_ROLE_BUYER, commonv1.Role_ROLE_SUPPLIER:
		return c.ComplainantID == p.AccountID || c.RespondentID == p.AccountID
	case commonv1.Role_ROLE_ARBITER, commonv1.Role_ROLE_OPERATOR, commonv1.Role_ROLE_SYSTEM:
		return true
	}
	return false
}

// load reads a complaint the caller may see within tx, checking the etag when one is sent.
func load(ctx context.Context, tx *ent.Tx, p auth.Principal, id, etag string) (*ent.Complaint, error) {
	if err := p.RequireRole("read complaints", readers...); err != nil {
		return nil, err
	}
	c, err := tx.Complaint.Get(ctx, id)
	if ent.IsNotFound(err) || (err == nil && !visible(p, c)) {
		return nil, apierr.NotFound("complaint", id)
	}
	if err != nil {
		return nil, fmt.Errorf("load complaint %s: %w", id, err)
	}
	if etag != "" && etag != c.Etag {
		return nil, apierr.EtagMismatch("complaint", id, c.Etag)
	}
	return c, nil
}

// change is one committed change of a complaint.
type change struct {
	// event is the event type suffix, for example "withdrawn" → "complaint.withdrawn".
	event string
	actor auth.Principal
	now   time.Time
	set   func(u *ent.ComplaintUpdateOne)
}

// commit writes a change of c by the step t as the next revision, guarded by the revision read (a
// concurrent writer makes it fail with ABORTED), and appends the event. The step sets the state and the
// timers (transition.Machine.Move).
func (s *Service) commit(ctx context.Context, tx *ent.Tx, c *ent.Complaint, t *rule, ch change) (*complaintv1.Complaint, error) {
	next := c.Revision + 1
	// One UPDATE that returns the updated row (storage.UpdateAtRevision), not UpdateOne's UPDATE and SELECT.
	u := tx.Complaint.UpdateOneID(c.ID).
		SetRevision(next).SetEtag(resource.Etag(c.ID, next)).SetUpdateTime(ch.now).SetState(t.To)
	if ch.set != nil {
		ch.set(u)
	}
	if err := machine.Move(ctx, tx, c, t.To, u.Mutation(), ch.now); err != nil {
		return nil, err
	}
	updated, found, err := storage.UpdateAtRevision[ent.Complaint](ctx, tx, s.store.Dialect, entcomplaint.Table,
		entcomplaint.Columns, u.Check, u.Mutation(), c.ID, c.Revision)
	if err != nil {
		return nil, fmt.Errorf("%s complaint %s: %w", ch.event, c.ID, err)
	}
	if !found {
		return nil, apierr.EtagMismatch("complaint", c.ID, "")
	}
	return s.record(ctx, tx, updated, ch)
}

// record appends the event of a complaint's latest revision.
func (s *Service) record(ctx context.Context, tx *ent.Tx, c *ent.Complaint, ch change) (*complaintv1.Complaint, error) {
	pb, err := toProto(c)
	if err != nil {
		return nil, err
	}
	err = s.feed.Append(ctx, tx, events.Event{
		Type: "complaint." + ch.event, SubjectType: "complaint", SubjectID: c.ID, Revision: c.Revision, Time: ch.now,
		Actor: ch.actor, Parties: []string{c.ComplainantID, c.RespondentID}, Payload: pb,
	})
	if err != nil {
		return nil, err
	}
	return pb, nil
}

// GetComplaint returns one complaint.
func (s *Service) GetComplaint(ctx context.Context, req *connect.Request[complaintv1.GetComplaintRequest]) (*connect.Response[complaintv1.GetComplaintResponse], error) {
	p := auth.FromContext(ctx)
	if err := p.RequireRole("read complaints", readers...); err != nil {
		return nil, err
	}
	id := req.Msg.GetId()
	c, err := s.store.Client.Complaint.Get(ctx, id)
	if ent.IsNotFound(err) || (err == nil && !visible(p, c)) {
		return nil, apierr.NotFound("complaint", id)
	}
	if err != nil {
		return nil, fmt.Errorf("read complaint %s: %w", id, err)
	}
	pb, err := toProto(c)
	if err != nil {
		return nil, err
	}
	return connect.NewResponse(&complaintv1.GetComplaintResponse{Complaint: pb}), nil
}

// ListComplaints lists the complaints the caller may see, newest first.
func (s *Service) ListComplaints(ctx context.Context, req *connect.Request[complaintv1.ListComplaintsRequest]) (*connect.Response[complaintv1.ListComplaintsResponse], error) {
	p := auth.FromContext(ctx)
	if err := p.RequireRole("list complaints", readers...); err != nil {
		return nil, err
	}
	m := req.Msg
	filter := pagination.Filter("complaints", p.AccountID, m.GetOrderId(), m.GetState(), m.GetType(),
		m.GetComplainantAccountId(), m.GetRespondentAccountId())
	size, after, err := s.pager.Start(m, 50, 500, filter)
	if err != nil {
		return nil, err
	}
	var preds []predicate.Complaint
	if p.Is(commonv1.Role_ROLE_BUYER, commonv1.Role_ROLE_SUPPLIER) {
		preds = append(preds, entcomplaint.Or(entcomplaint.ComplainantID(p.AccountID), entcomplaint.RespondentID(p.AccountID)))
	}
	if v := m.GetOrderId(); v != "" {
		preds = append(preds, entcomplaint.OrderID(v))
	}
	if v := m.GetState(); v != complaintv1.Complaint_STATE_UNSPECIFIED {
		preds = append(preds, entcomplaint.StateEQ(stateFromProto[v]))
	}
	if v := m.GetType(); v != complaintv1.Complaint_TYPE_UNSPECIFIED {
		preds = append(preds, entcomplaint.TypeEQ(typeFromProto[v]))
	}
	if v := m.GetComplainantAccountId(); v != "" {
		preds = append(preds, entcomplaint.ComplainantID(v))
	}
	if v := m.GetRespondentAccountId(); v != "" {
		preds = append(preds, entcomplaint.RespondentID(v))
	}
	if after != "" {
		preds = append(preds, entcomplaint.IDLT(after))
	}
	rows, err := s.store.Client.Complaint.Query().Where(preds...).Order(ent.Desc(entcomplaint.FieldID)).Limit(size + 1).All(ctx)
	if err != nil {
		return nil, fmt.Errorf("list complaints: %w", err)
	}
	out := &complaintv1.ListComplaintsResponse{}
	rows, out.NextPageToken = pagination.Page(s.pager, rows, size, filter, func(c *ent.Complaint) string { return c.ID })
	for _, c := range rows {
		pb, err := toProto(c)
		if err != nil {
			return nil, err
		}
		out.Complaints = append(out.Complaints, pb)
	}
	return connect.NewResponse(out), nil
}

// queueKey is the keyset key of the work queue: the decision deadline, then the id.
func queueKey(c *ent.Complaint) string {
	return c.DecisionDeadline.UTC().Format(time.RFC3339Nano) + " " + c.ID
}

// ListComplaintQueue is the arbiters' work queue: filed complaints by decision deadline, soonest first.
func (s *Service) ListComplaintQueue(ctx context.Context, req *connect.Request[complaintv1.ListComplaintQueueRequest]) (*connect.Response[complaintv1.ListComplaintQueueResponse], error) {
	p := auth.FromContext(ctx)
	if err := p.RequireRole("read the complaint work queue", commonv1.Role_ROLE_ARBITER); err != nil {
		return nil, err
	}
	m := req.Msg
	filter := pagination.Filter("complaint-queue", m.GetType(), m.GetOverdueOnly())
	size, after, err := s.pager.Start(m, 50, 500, filter)
	if err != nil {
		return nil, err
	}
	preds := []predicate.Complaint{entcomplaint.StateEQ(entcomplaint.StateFiled)}
	if v := m.GetType(); v != complaintv1.Complaint_TYPE_UNSPECIFIED {
		preds = append(preds, entcomplaint.TypeEQ(typeFromProto[v]))
	}
	if m.GetOverdueOnly() {
		preds = append(preds, entcomplaint.DecisionOverdue(true))
	}
	page := preds
	if after != "" {
		at, id, ok := cutKey(after)
		if !ok {
			return nil, apierr.New(connect.CodeInvalidArgument, commonv1.ErrorReason_ERROR_REASON_INVALID_PAGE_TOKEN,
				"page_token is not valid for this query; start again without a page token")
		}
		page = append(page[:len(page):len(page)], entcomplaint.Or(entcomplaint.DecisionDeadlineGT(at),
			entcomplaint.And(entcomplaint.DecisionDeadlineEQ(at), entcomplaint.IDGT(id))))
	}
	rows, err := s.store.Client.Complaint.Query().Where(page...).
		Order(ent.Asc(entcomplaint.FieldDecisionDeadline), ent.Asc(entcomplaint.FieldID)).Limit(size + 1).All(ctx)
	if err != nil {
		return nil, fmt.Errorf("list the complaint queue: %w", err)
	}
	overdue, err := s.store.Client.Complaint.Query().
		Where(entcomplaint.StateEQ(entcomplaint.StateFiled), entcomplaint.DecisionOverdue(true)).Count(ctx)
	if err != nil {
		return nil, fmt.Errorf("count overdue complaints: %w", err)
	}
	out := &complaintv1.ListComplaintQueueResponse{OverdueCount: int64(overdue)}
	rows, out.NextPageToken = pagination.Page(s.pager, rows, size, filter, queueKey)
	for _, c := range rows {
		pb, err := toProto(c)
		if err != nil {
			return nil, err
		}
		out.Complaints = append(out.Complaints, pb)
	}
	return connect.NewResponse(out), nil
}

// cutKey splits a queue key.
func cutKey(key string) (time.Time, string, bool) {
	for i := 0; i < len(key); i++ {
		if key[i] == ' ' {
			at, err := time.Parse(time.RFC3339Nano, key[:i])
			return at, key[i+1:], err == nil
		}
	}
	return time.Time{}, "", false
}
