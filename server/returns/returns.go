// Package returns implements ReturnService: a buyer's request to send back all or part of a delivered order,
// the supplier's answer (approve, decline, partial refund without return), the return shipment, the
// supplier's line-by-line receipt or the platform warehouse's inspection (free-return programme), and the
// refund, with every deadline of docs/rules.md's Returns section applied by the deadline engine. Money moves only
// through order.Escrow (hold, unhold, refund) and ledger.Post (the platform's compensation of a supplier for
// a free return).
package returns

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"connectrpc.com/connect"
	"entgo.io/ent/dialect"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"

	"github.com/tradeassure/tradeassure/ent"
	"github.com/tradeassure/tradeassure/ent/returnrequest"
	commonv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/common/v1"
	returnsv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/returns/v1"
	"github.com/tradeassure/tradeassure/gen/go/tradeassure/returns/v1/returnsv1connect"
	"github.com/tradeassure/tradeassure/server/aftersales"
	"github.com/tradeassure/tradeassure/server/apierr"
	"github.com/tradeassure/tradeassure/server/auth"
	"github.com/tradeassure/tradeassure/server/clock"
	"github.com/tradeassure/tradeassure/server/events"
	"github.com/tradeassure/tradeassure/server/idempotency"
	"github.com/tradeassure/tradeassure/server/order"
	"github.com/tradeassure/tradeassure/server/pagination"
	"github.com/tradeassure/tradeassure/server/policy"
	"github.com/tradeassure/tradeassure/server/resource"
	"github.com/tradeassure/tradeassure/server/storage"
)

var (
	_ returnsv1connect.ReturnServiceHandler = (*Service)(nil)
	_ aftersales.Returns                    = (*Service)(nil)
)

// subjectType names returns in the event feed, the timeline and the deadline engine.
const subjectType = "return"

// Service implements ReturnService.
type Service struct {
	store    *storage.Store
	clock    clock.Clock
	feed     *events.Feed
	pager    *pagination.Pager
	log      *slog.Logger
	escrow   order.Escrow
	disputes aftersales.Disputes
}

// New returns the returns service; Register adds its timers to the engine. escrow is the order service,
// the only way a return touches an order's money. The returns and disputes services need each other
// (aftersales), so New builds the disputes service too: disputes is its constructor, given this service
// as the returns side of the contract (dispute.New), and the service it builds opens a dispute when a
// supplier reports returned goods damaged or missing and has the open disputes the one-case rule looks at.
// Neither service exists without the other.
func New(store *storage.Store, clk clock.Clock, feed *events.Feed, pager *pagination.Pager, log *slog.Logger, escrow order.Escrow,
	disputes func(aftersales.Returns) aftersales.Disputes,
) *Service {
	s := &Service{store: store, clock: clk, feed: feed, pager: pager, log: log, escrow: escrow}
	s.disputes = disputes(s)
	return s
}

// run runs a mutation of the returns service in a transaction, once per request id.
func run[Req any, Resp any, PReq idempotency.Request[Req], PResp idempotency.Response[Resp]](ctx context.Context, s *Service,
	req *connect.Request[Req], fn func(tx *ent.Tx, p auth.Principal, now time.Time) (PResp, error),
) (*connect.Response[Resp], error) {
	return idempotency.Handle[Req, Resp, PReq, PResp](ctx, s.store, s.clock, req, fn)
}

// visible reports whether p may read r: the order's parties, arbiters and operators (read only), and
// warehouse staff for free returns, which go to the platform's warehouse.
func visible(p auth.Principal, r *ent.ReturnRequest) bool {
	switch p.Role {
	case commonv1.Role_ROLE_BUYER:
		return r.BuyerID == p.AccountID
	case commonv1.Role_ROLE_SUPPLIER:
		return r.SupplierID == p.AccountID
	case commonv1.Role_ROLE_WAREHOUSE:
		return r.Kind == returnrequest.KindFreeReturn
	case commonv1.Role_ROLE_OPERATOR, commonv1.Role_ROLE_ARBITER, commonv1.Role_ROLE_SYSTEM:
		return true
	}
	return false
}

// lock reads a return within tx for a change. On Postgres the row is locked until the transaction ends, so
// two changes of one return (a call racing another, or a deadline) run one after the other and the second
// sees what the first did, instead of both acting on money from the same stale read; SQLite transactions
// are exclusive already.
func (s *Service) lock(ctx context.Context, tx *ent.Tx, id string) (*ent.ReturnRequest, error) {
	q := tx.ReturnRequest.Query().Where(returnrequest.ID(id))
	if s.store.Dialect == dialect.Postgres {
		q = q.ForUpdate()
	}
	return q.Only(ctx)
}

// load reads a return the caller may see within tx for a change, checking the etag when one is sent. A
// return the caller may not see looks like one that does not exist.
func (s *Service) load(ctx context.Context, tx *ent.Tx, p auth.Principal, id, etag string) (*ent.ReturnRequest, error) {
	r, err := s.lock(ctx, tx, id)
	if ent.IsNotFound(err) || (err == nil && !visible(p, r)) {
		return nil, apierr.NotFound("return", id)
	}
	if err != nil {
		return nil, fmt.Errorf("load return %s: %w", id, err)
	}
	if etag != "" && etag != r.Etag {
		return nil, apierr.EtagMismatch("return", id, r.Etag)
	}
	return r, nil
}

// requireBuyer fails unless p is the return's buyer; the caller already knows p may see the return.
func requireBuyer(p auth.Principal, r *ent.ReturnRequest, action string) error {
	if p.Role == commonv1.Role_ROLE_BUYER && p.AccountID == r.BuyerID {
		return nil
	}
	return apierr.RoleNotAllowed(action+" (only the order's buyer may)", p.Role)
}

// requireSupplier fails unless p is the return's supplier.
func requireSupplier(p auth.Principal, r *ent.ReturnRequest, action string) error {
	if p.Role == commonv1.Role_ROLE_SUPPLIER && p.AccountID == r.SupplierID {
		return nil
	}
	return apierr.RoleNotAllowed(action+" (only the order's supplier may)", p.Role)
}

func returnPolicy(r *ent.ReturnRequest) policy.Set {
	return policy.MustGet(policyToProto[r.Policy], r.PolicyVersion)
}

// step is one entry of a change for the timeline: what happened, in words, and the state it led to.
type step struct {
	kind        returnsv1.TimelineEntry_Kind
	description string
	// to is the state the step led to; commit sets it for the last step from its transition.
	to       returnrequest.State
	fields   []string
	evidence []*commonv1.Evidence
	amount   int64
}

// change is one committed change of a return: one revision, one event and one or more timeline steps.
type change struct {
	// event is the event type suffix, for example "approved" → "return.approved".
	event string
	actor auth.Principal
	now   time.Time
	steps []step
	// set applies the change's column updates.
	set func(u *ent.ReturnRequestUpdateOne)
}

// commit writes a change of r by the step t as the next revision, guarded by the revision read (a
// concurrent writer makes it fail with ABORTED), appends the event and the timeline entries in the same
// transaction. The step sets the state, the last timeline entry's target and the timers (see
// transition.Machine.Move); t is nil for a change that is no step of the machine (added evidence).
func (s *Service) commit(ctx context.Context, tx *ent.Tx, r *ent.ReturnRequest, t *rule, c change) (*ent.ReturnRequest, *returnsv1.Return, error) {
	next := r.Revision + 1
	u := tx.ReturnRequest.UpdateOneID(r.ID).Where(returnrequest.Revision(r.Revision)).
		SetRevision(next).SetEtag(resource.Etag(r.ID, next)).SetUpdateTime(c.now)
	if c.set != nil {
		c.set(u)
	}
	if t != nil {
		u.SetState(t.To)
		if len(c.steps) > 0 {
			c.steps[len(c.steps)-1].to = t.To
		}
		if err := machine.Move(ctx, tx, r, t.To, u.Mutation(), c.now); err != nil {
			return nil, nil, err
		}
	}
	updated, err := u.Save(ctx)
	if ent.IsNotFound(err) {
		return nil, nil, apierr.EtagMismatch("return", r.ID, "")
	}
	if err != nil {
		return nil, nil, fmt.Errorf("%s return %s: %w", c.event, r.ID, err)
	}
	pb, err := s.record(ctx, tx, r.State, updated, c)
	if err != nil {
		return nil, nil, err
	}
	return updated, pb, nil
}

// record appends the event of a return's latest revision and its timeline entries.
func (s *Service) record(ctx context.Context, tx *ent.Tx, from returnrequest.State, r *ent.ReturnRequest, c change) (*returnsv1.Return, error) {
	pb, err := toProto(r)
	if err != nil {
		return nil, err
	}
	err = s.feed.Append(ctx, tx, events.Event{
		Type: subjectType + "." + c.event, SubjectType: subjectType, SubjectID: r.ID, Revision: r.Revision, Time: c.now,
		Actor: c.actor, Parties: []string{r.BuyerID, r.SupplierID}, Payload: pb,
	})
	if err != nil {
		return nil, err
	}
	state := from
	for _, st := range c.steps {
		to := st.to
		if to == "" {
			to = state
		}
		entry := &returnsv1.TimelineEntry{
			ReturnId: r.ID, Actor: c.actor.Party(), Kind: st.kind, Description: st.description,
			FromState: stateToProto[state], ToState: stateToProto[to], Revision: r.Revision,
			ChangedFields: st.fields, Evidence: st.evidence,
		}
		if st.amount != 0 {
			entry.Amount = resource.Money(st.amount, r.Currency)
		}
		body, err := anypb.New(entry)
		if err != nil {
			return nil, fmt.Errorf("record timeline of return %s: %w", r.ID, err)
		}
		raw, err := proto.Marshal(body)
		if err != nil {
			return nil, fmt.Errorf("record timeline of return %s: %w", r.ID, err)
		}
		err = tx.TimelineEntry.Create().SetID(resource.ID("tle_")).SetSubjectType(subjectType).SetSubjectID(r.ID).
			SetRevision(r.Revision).SetActorRole(auth.RoleName(c.actor.Role)).SetActorID(c.actor.AccountID).
			SetTime(c.now).SetKind(timelineKindName(st.kind)).SetDescription(st.description).SetChange(raw).Exec(ctx)
		if err != nil {
			return nil, fmt.Errorf("record timeline of return %s: %w", r.ID, err)
		}
		state = to
	}
	return pb, nil
}

// unhold ends the return's hold on the order's escrow, once. On a completed order with no other hold the
// order service releases the escrow to the supplier.
func (s *Service) unhold(ctx context.Context, tx *ent.Tx, r *ent.ReturnRequest, actor auth.Principal, now time.Time) error {
	if !r.EscrowHeld {
		return nil
	}
	if err := s.escrow.Unhold(ctx, tx, r.OrderID, actor, now); err != nil {
		return fmt.Errorf("lift the hold of return %s: %w", r.ID, err)
	}
	return nil
}

// refund pays the buyer amount for the return through the order's escrow, capped at what is still
// refundable on the order (the sum of every refund on an order never exceeds what was paid). It returns
// what was refunded; the ledger posts the return's refund at most once however often it is retried.
func (s *Service) refund(ctx context.Context, tx *ent.Tx, r *ent.ReturnRequest, amount int64, actor auth.Principal, now time.Time) (int64, error) {
	res, err := s.escrow.Refund(ctx, tx, order.RefundRequest{
		OrderID: r.OrderID, AmountMinor: amount, UpToRefundable: true, CauseKind: causeReturnRefund, CauseID: r.ID,
		Actor: actor, Now: now, Links: linksOf(r),
	})
	if err != nil {
		return 0, fmt.Errorf("refund return %s: %w", r.ID, err)
	}
	if res.AmountMinor <= 0 {
		return 0, nil
	}
	if !res.Posted {
		// The refund of this return was posted before (a replay); nothing moved now.
		return r.RefundedMinor, nil
	}
	return res.AmountMinor, nil
}
