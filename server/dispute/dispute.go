// Package dispute implements DisputeService: a buyer's dispute over a paid order (or a card chargeback, or a
// supplier's report about returned goods), the negotiation between the parties with offers kept as a
// history, escalation to the platform, the arbiter's evidence requests and ruling, suspension, and the
// dispute deadlines (automatic grant when the supplier does not answer, automatic escalation on day 8
// under trade assurance, overdue evidence requests), which the deadline engine applies.
package dispute

import (
	"context"
	"fmt"
	"time"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/tradeassure/tradeassure/ent"
	entdispute "github.com/tradeassure/tradeassure/ent/dispute"
	"github.com/tradeassure/tradeassure/ent/timelineentry"
	commonv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/common/v1"
	disputev1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/dispute/v1"
	"github.com/tradeassure/tradeassure/gen/go/tradeassure/dispute/v1/disputev1connect"
	"github.com/tradeassure/tradeassure/server/aftersales"
	"github.com/tradeassure/tradeassure/server/apierr"
	"github.com/tradeassure/tradeassure/server/auth"
	"github.com/tradeassure/tradeassure/server/clock"
	"github.com/tradeassure/tradeassure/server/events"
	"github.com/tradeassure/tradeassure/server/idempotency"
	"github.com/tradeassure/tradeassure/server/ledger"
	"github.com/tradeassure/tradeassure/server/order"
	"github.com/tradeassure/tradeassure/server/pagination"
	"github.com/tradeassure/tradeassure/server/resource"
	"github.com/tradeassure/tradeassure/server/storage"
)

var (
	_ disputev1connect.DisputeServiceHandler = (*Service)(nil)
	_ aftersales.Disputes                    = (*Service)(nil)
)

// Deadline kinds of disputes; every one has the dispute as its subject.
const (
	// KindResponse grants the buyer's request (or the chargeback) when the supplier has not answered.
	KindResponse = "dispute.supplier_response"
	// KindAutoEscalate escalates a trade-assurance dispute still negotiating on day 8.
	KindAutoEscalate = "dispute.auto_escalate"
	// KindEvidenceDue marks the arbiter's evidence requests overdue when their due time passes unfulfilled.
	KindEvidenceDue = "dispute.evidence_due"
)

const subjectType = "dispute"

// Service implements DisputeService.
type Service struct {
	store   *storage.Store
	clock   clock.Clock
	feed    *events.Feed
	pager   *pagination.Pager
	escrow  order.Escrow
	returns aftersales.Returns
}

// New returns the dispute service; Register adds its deadlines to the engine. escrow is the order
// service, the only way the dispute moves an order's money. returns is the returns service as the
// aftersales contract gives it: it starts the returns of return-and-refund outcomes, settles a return when
// the dispute about its goods ends, and has the open returns the one-case rule looks at. The two services
// need each other, so the returns service builds this one (returns.New), passing itself.
func New(store *storage.Store, clk clock.Clock, feed *events.Feed, pager *pagination.Pager, escrow order.Escrow, returns aftersales.Returns) *Service {
	return &Service{store: store, clock: clk, feed: feed, pager: pager, escrow: escrow, returns: returns}
}

// CaseKind names disputes in the one-case-per-order rule.
func (s *Service) CaseKind() string { return subjectType }

// OpenCase is the open dispute of the order, or "" (open_order_id is set while a dispute is open, see
// commit).
func (s *Service) OpenCase(ctx context.Context, tx *ent.Tx, orderID string) (string, error) {
	d, err := tx.Dispute.Query().Where(entdispute.OpenOrderID(orderID)).First(ctx)
	if ent.IsNotFound(err) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	return d.ID, nil
}

// run runs a mutation in one transaction, once per request id.
func run[Req any, Resp any, PReq idempotency.Request[Req], PResp idempotency.Response[Resp]](ctx context.Context, s *Service,
	req *connect.Request[Req], fn func(tx *ent.Tx, p auth.Principal, now time.Time) (PResp, error),
) (*connect.Response[Resp], error) {
	return idempotency.Handle[Req, Resp, PReq, PResp](ctx, s.store, s.clock, req, fn)
}

func ts(t time.Time) *timestamppb.Timestamp { return timestamppb.New(t) }

// visible reports whether p may see the dispute: its two parties, arbiters and operators.
func visible(p auth.Principal, r *ent.Dispute) bool {
	switch p.Role {
	case commonv1.Role_ROLE_BUYER:
		return r.BuyerID == p.AccountID
	case commonv1.Role_ROLE_SUPPLIER:
		return r.SupplierID == p.AccountID
	case commonv1.Role_ROLE_ARBITER, commonv1.Role_ROLE_OPERATOR, commonv1.Role_ROLE_SYSTEM:
		return true
	}
	return false
}

// loaded is a stored dispute with its decoded snapshot.
type loaded struct {
	row *ent.Dispute
	d   *disputev1.Dispute
	// version is the policy version of a dispute being created (row is nil), copied from its order.
	version string
	// from is the state as loaded, before the caller changes d.
	from disputev1.Dispute_State
	// ord is the dispute's order as read in this transaction (orderOf), or nil.
	ord *order.Facts
}

// orderOf is the dispute's order, read once per transaction: the checks of a step and the amounts its
// commit shows use the same read. A step that moves the order's money forgets it (settle).
func (l *loaded) orderOf(ctx context.Context, tx *ent.Tx) (order.Facts, error) {
	if l.ord != nil {
		return *l.ord, nil
	}
	o, err := order.Read(ctx, tx, l.d.GetOrderId())
	if err != nil {
		return order.Facts{}, fmt.Errorf("read the order of dispute %s: %w", l.d.GetId(), err)
	}
	l.ord = &o
	return o, nil
}

// forgetOrder drops the order read, after a change to its money.
func (l *loaded) forgetOrder() { l.ord = nil }

func decode(r *ent.Dispute) (*disputev1.Dispute, error) {
	d := &disputev1.Dispute{}
	if err := proto.Unmarshal(r.Snapshot, d); err != nil {
		return nil, fmt.Errorf("decode dispute %s: %w", r.ID, err)
	}
	return d, nil
}

// load reads a dispute the caller may see within tx, checking the etag when one is sent.
func load(ctx context.Context, tx *ent.Tx, p auth.Principal, id, etag string) (*loaded, error) {
	r, err := tx.Dispute.Get(ctx, id)
	if ent.IsNotFound(err) || (err == nil && !visible(p, r)) {
		return nil, apierr.NotFound("dispute", id)
	}
	if err != nil {
		return nil, fmt.Errorf("load dispute %s: %w", id, err)
	}
	if etag != "" && etag != r.Etag {
		return nil, apierr.EtagMismatch("dispute", id, r.Etag)
	}
	d, err := decode(r)
	if err != nil {
		return nil, err
	}
	return &loaded{row: r, d: d, from: d.GetState()}, nil
}

var stateNames = map[disputev1.Dispute_State]entdispute.State{
	disputev1.Dispute_STATE_AWAITING_RESPONSE: entdispute.StateAwaitingResponse,
	disputev1.Dispute_STATE_NEGOTIATING:       entdispute.StateNegotiating,
	disputev1.Dispute_STATE_ESCALATED:         entdispute.StateEscalated,
	disputev1.Dispute_STATE_SUSPENDED:         entdispute.StateSuspended,
	disputev1.Dispute_STATE_SETTLED:           entdispute.StateSettled,
	disputev1.Dispute_STATE_RULED:             entdispute.StateRuled,
	disputev1.Dispute_STATE_WITHDRAWN:         entdispute.StateWithdrawn,
}

var kindNames = map[disputev1.Dispute_Kind]entdispute.Kind{
	disputev1.Dispute_KIND_STANDARD:       entdispute.KindStandard,
	disputev1.Dispute_KIND_CHARGEBACK:     entdispute.KindChargeback,
	disputev1.Dispute_KIND_RETURNED_GOODS: entdispute.KindReturnedGoods,
}

// terminal reports whether a dispute in st has ended: no transition leaves st (rules.go).
func terminal(st disputev1.Dispute_State) bool { return !machine.Open(st) }

func stateName(st disputev1.Dispute_State) string { return string(stateNames[st]) }

// step is one thing that happened in a commit: a timeline entry and, for the first step, the event.
type step struct {
	kind  disputev1.TimelineEntry_Kind
	event string // the event type suffix, for example "opened" → "dispute.opened"
	desc  string
	// fields are the paths of the fields the step changed.
	fields   []string
	offerID  string
	reqID    string
	evidence []*commonv1.Evidence
	amount   *commonv1.Money
}

// commit writes l.d, changed by the transition t, as the next revision of l (l.row is nil for a new
// dispute), guarded by the revision read, and records its timeline entries and one event (the first
// step's) in the same transaction. t sets the dispute's state and the timeline's target: its To, the state
// it was in for a step that stays, and for resume the state the dispute was suspended in (the suspension
// ends with it). t is nil only for a change no transition of rules.go names, which keeps the state (an
// evidence request falling overdue, the first of two private-settlement requests).
func (s *Service) commit(ctx context.Context, tx *ent.Tx, l *loaded, t *rule, actor auth.Principal,
	now time.Time, steps ...step,
) (*disputev1.Dispute, error) {
	d := l.d
	from, to := l.from, l.from
	switch {
	case t == resume:
		to, d.Suspension = d.GetSuspension().GetResumeState(), nil
	case t != nil && !t.Stays:
		to = t.To
	}
	d.State = to
	var rev int64 = 1
	if l.row != nil {
		rev = l.row.Revision + 1
		// Entering or leaving a state starts or stops its timers (rules.go); a new dispute's were
		// started when it was opened (startClocks).
		if err := machine.Move(ctx, tx, l, to, d, now); err != nil {
			return nil, err
		}
	}
	if err := refreshAmounts(ctx, tx, l); err != nil {
		return nil, err
	}
	d.Revision, d.Etag, d.UpdateTime = rev, resource.Etag(d.GetId(), rev), ts(now)
	if d.CreateTime == nil {
		d.CreateTime = ts(now)
	}
	snap, err := proto.Marshal(d)
	if err != nil {
		return nil, fmt.Errorf("encode dispute %s: %w", d.GetId(), err)
	}
	var openOrder *string
	if !terminal(d.GetState()) {
		openOrder = &d.OrderId
	}
	var closeTime *time.Time
	if d.CloseTime != nil {
		t := d.GetCloseTime().AsTime()
		closeTime = &t
	}
	responsibility := ""
	if r := d.GetRuling(); r != nil {
		responsibility = r.GetResponsibility().String()
	}
	if l.row == nil {
		err = tx.Dispute.Create().SetID(d.GetId()).SetOrderID(d.GetOrderId()).SetBuyerID(d.GetBuyerAccountId()).
			SetSupplierID(d.GetSupplierAccountId()).SetPolicy(policyName(d.GetPolicy())).
			SetPolicyVersion(l.version).SetKind(kindNames[d.GetKind()]).SetState(stateNames[d.GetState()]).
			SetNillableOpenOrderID(openOrder).SetEscalated(d.EscalateTime != nil).SetResponsibility(responsibility).
			SetRelatedReturnID(d.GetRelatedReturnId()).SetNillableCloseTime(closeTime).SetSnapshot(snap).
			SetRevision(rev).SetEtag(d.GetEtag()).SetCreateTime(now).SetUpdateTime(now).Exec(ctx)
		if ent.IsConstraintError(err) {
			return nil, alreadyOpen(d.GetOrderId())
		}
	} else {
		u := tx.Dispute.UpdateOneID(d.GetId()).Where(entdispute.Revision(l.row.Revision)).
			SetState(stateNames[d.GetState()]).SetEscalated(d.EscalateTime != nil).SetResponsibility(responsibility).
			SetNillableCloseTime(closeTime).SetSnapshot(snap).SetRevision(rev).SetEtag(d.GetEtag()).SetUpdateTime(now)
		if openOrder == nil {
			u.ClearOpenOrderID()
		}
		err = u.Exec(ctx)
		if ent.IsNotFound(err) {
			return nil, apierr.EtagMismatch("dispute", d.GetId(), "")
		}
	}
	if err != nil {
		return nil, fmt.Errorf("save dispute %s: %w", d.GetId(), err)
	}
	for i, st := range steps {
		entry := &disputev1.TimelineEntry{
			Id: resource.ID("tle_"), DisputeId: d.GetId(), Time: ts(now), Actor: actor.Party(), Kind: st.kind,
			Description: st.desc, FromState: from, ToState: to, Revision: rev, ChangedFields: st.fields,
			OfferId: st.offerID, EvidenceRequestId: st.reqID, Evidence: st.evidence, Amount: st.amount,
		}
		b, err := proto.Marshal(entry)
		if err != nil {
			return nil, fmt.Errorf("encode timeline entry: %w", err)
		}
		if err := tx.TimelineEntry.Create().SetID(entry.GetId()).SetSubjectType(subjectType).SetSubjectID(d.GetId()).
			SetRevision(rev).SetActorRole(auth.RoleName(actor.Role)).SetActorID(actor.AccountID).SetTime(now).
			SetKind(st.kind.String()).SetDescription(st.desc).SetChange(b).Exec(ctx); err != nil {
			return nil, fmt.Errorf("record timeline of dispute %s: %w", d.GetId(), err)
		}
		if i == 0 {
			if err := s.feed.Append(ctx, tx, events.Event{
				Type: "dispute." + st.event, SubjectType: subjectType, SubjectID: d.GetId(), Revision: rev, Time: now,
				Actor: actor, Parties: []string{d.GetBuyerAccountId(), d.GetSupplierAccountId()}, Payload: d,
			}); err != nil {
				return nil, err
			}
		}
		// Later steps of the same commit describe the same change; the state before them is the new one.
		from = to
	}
	return d, nil
}

// refreshAmounts sets the output-only amounts of l's dispute from its order as it stands in tx.
func refreshAmounts(ctx context.Context, tx *ent.Tx, l *loaded) error {
	d := l.d
	o, err := l.orderOf(ctx, tx)
	if err != nil {
		return err
	}
	money := o.Money
	d.PaidAmount = resource.Money(money.Refundable(), money.Currency)
	d.RefundableAmount = resource.Money(money.Grantable(), money.Currency)
	if terminal(d.GetState()) {
		d.HeldAmount = resource.Money(0, money.Currency)
		return nil
	}
	held, err := ledger.Balance(ctx, tx, ledger.OrderEscrow, o.ID, money.Currency)
	if err != nil {
		return err
	}
	d.HeldAmount = resource.Money(held, money.Currency)
	return nil
}

// grantable is the most the platform itself may refund on o (order.Money.Grantable): the dispute's
// refundable_amount.
func grantable(o order.Facts) int64 { return o.Money.Grantable() }

// agreeable is the most the parties may agree to refund on o (order.Money.Refundable): the dispute's
// paid_amount. Coverage caps what the platform grants, not what the parties agree, so a refund the supplier
// itself offers or accepts may go up to what was paid (docs/rules.md, Disputes).
func agreeable(o order.Facts) int64 { return o.Money.Refundable() }

// The limits checkAmount names in its refusal.
const (
	limitGrantable = "what the platform may grant on this order: what was paid, less refunds, within the trade-assurance coverage"
	limitAgreeable = "what the parties may agree on this order: what was paid, less refunds"
)

func policyName(p commonv1.Policy) entdispute.Policy {
	if p == commonv1.Policy_POLICY_RETAIL {
		return entdispute.PolicyRetail
	}
	return entdispute.PolicyTradeAssurance
}

func alreadyOpen(orderID string) error {
	return apierr.Precondition(commonv1.ErrorReason_ERROR_REASON_ALREADY_OPEN,
		"order %s already has an open dispute; add to that one instead", orderID).With("order_id", orderID)
}

// GetDispute returns one dispute.
func (s *Service) GetDispute(ctx context.Context, req *connect.Request[disputev1.GetDisputeRequest]) (*connect.Response[disputev1.GetDisputeResponse], error) {
	p := auth.FromContext(ctx)
	r, err := s.store.Client.Dispute.Get(ctx, req.Msg.GetId())
	if ent.IsNotFound(err) || (err == nil && !visible(p, r)) {
		return nil, apierr.NotFound("dispute", req.Msg.GetId())
	}
	if err != nil {
		return nil, fmt.Errorf("read dispute %s: %w", req.Msg.GetId(), err)
	}
	d, err := decode(r)
	if err != nil {
		return nil, err
	}
	return connect.NewResponse(&disputev1.GetDisputeResponse{Dispute: d}), nil
}

// ListDisputes lists the disputes the caller may see, newest first.
func (s *Service) ListDisputes(ctx context.Context, req *connect.Request[disputev1.ListDisputesRequest]) (*connect.Response[disputev1.ListDisputesResponse], error) {
	p := auth.FromContext(ctx)
	m := req.Msg
	filter := pagination.Filter("disputes", p.AccountID, m.GetOrderId(), m.GetState(), m.GetKind(),
		m.GetBuyerAccountId(), m.GetSupplierAccountId())
	size, after, err := s.pager.Start(m, 50, 500, filter)
	if err != nil {
		return nil, err
	}
	q := s.store.Client.Dispute.Query()
	switch p.Role {
	case commonv1.Role_ROLE_BUYER:
		q = q.Where(entdispute.BuyerID(p.AccountID))
	case commonv1.Role_ROLE_SUPPLIER:
		q = q.Where(entdispute.SupplierID(p.AccountID))
	case commonv1.Role_ROLE_ARBITER, commonv1.Role_ROLE_OPERATOR:
	default:
		return connect.NewResponse(&disputev1.ListDisputesResponse{}), nil
	}
	if v := m.GetOrderId(); v != "" {
		q = q.Where(entdispute.OrderID(v))
	}
	if v := m.GetState(); v != disputev1.Dispute_STATE_UNSPECIFIED {
		q = q.Where(entdispute.StateEQ(stateNames[v]))
	}
	if v := m.GetKind(); v != disputev1.Dispute_KIND_UNSPECIFIED {
		q = q.Where(entdispute.KindEQ(kindNames[v]))
	}
	if v := m.GetBuyerAccountId(); v != "" {
		q = q.Where(entdispute.BuyerID(v))
	}
	if v := m.GetSupplierAccountId(); v != "" {
		q = q.Where(entdispute.SupplierID(v))
	}
	if after != "" {
		q = q.Where(entdispute.IDLT(after))
	}
	rows, err := q.Order(ent.Desc(entdispute.FieldID)).Limit(size + 1).All(ctx)
	if err != nil {
		return nil, fmt.Errorf("list disputes: %w", err)
	}
	out := &disputev1.ListDisputesResponse{}
	rows, out.NextPageToken = pagination.Page(s.pager, rows, size, filter, func(r *ent.Dispute) string { return r.ID })
	for _, r := range rows {
		d, err := decode(r)
		if err != nil {
			return nil, err
		}
		out.Disputes = append(out.Disputes, d)
	}
	return connect.NewResponse(out), nil
}

// ListDisputeTimeline lists a dispute's timeline, oldest first.
func (s *Service) ListDisputeTimeline(ctx context.Context, req *connect.Request[disputev1.ListDisputeTimelineRequest]) (*connect.Response[disputev1.ListDisputeTimelineResponse], error) {
	p := auth.FromContext(ctx)
	id := req.Msg.GetDisputeId()
	r, err := s.store.Client.Dispute.Get(ctx, id)
	if ent.IsNotFound(err) || (err == nil && !visible(p, r)) {
		return nil, apierr.NotFound("dispute", id)
	}
	if err != nil {
		return nil, fmt.Errorf("read dispute %s: %w", id, err)
	}
	filter := pagination.Filter("dispute-timeline", id)
	size, after, err := s.pager.Start(req.Msg, 50, 500, filter)
	if err != nil {
		return nil, err
	}
	q := s.store.Client.TimelineEntry.Query().Where(timelineentry.SubjectType(subjectType), timelineentry.SubjectID(id))
	if after != "" {
		q = q.Where(timelineentry.IDGT(after))
	}
	rows, err := q.Order(ent.Asc(timelineentry.FieldID)).Limit(size + 1).All(ctx)
	if err != nil {
		return nil, fmt.Errorf("list timeline of dispute %s: %w", id, err)
	}
	out := &disputev1.ListDisputeTimelineResponse{}
	rows, out.NextPageToken = pagination.Page(s.pager, rows, size, filter, func(r *ent.TimelineEntry) string { return r.ID })
	for _, r := range rows {
		e := &disputev1.TimelineEntry{}
		if err := proto.Unmarshal(r.Change, e); err != nil {
			return nil, fmt.Errorf("decode timeline entry %s: %w", r.ID, err)
		}
		out.Entries = append(out.Entries, e)
	}
	return connect.NewResponse(out), nil
}
