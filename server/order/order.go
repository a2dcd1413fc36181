// Package order implements OrderService: drafting assured orders, payments into escrow, the lifecycle from
// DRAFT to CLOSED, modification by agreement, and the order deadlines (automatic receipt confirmation and
// the end of the after-sales window).
package order

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"connectrpc.com/connect"
	entsql "entgo.io/ent/dialect/sql"

	"github.com/tradeassure/tradeassure/ent"
	"github.com/tradeassure/tradeassure/ent/account"
	entorder "github.com/tradeassure/tradeassure/ent/order"
	"github.com/tradeassure/tradeassure/ent/orderrevision"
	commonv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/common/v1"
	orderv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/order/v1"
	"github.com/tradeassure/tradeassure/gen/go/tradeassure/order/v1/orderv1connect"
	"github.com/tradeassure/tradeassure/server/apierr"
	"github.com/tradeassure/tradeassure/server/auth"
	"github.com/tradeassure/tradeassure/server/clock"
	"github.com/tradeassure/tradeassure/server/email"
	"github.com/tradeassure/tradeassure/server/events"
	"github.com/tradeassure/tradeassure/server/idempotency"
	"github.com/tradeassure/tradeassure/server/money"
	"github.com/tradeassure/tradeassure/server/pagination"
	"github.com/tradeassure/tradeassure/server/policies"
	"github.com/tradeassure/tradeassure/server/policy"
	"github.com/tradeassure/tradeassure/server/resource"
	"github.com/tradeassure/tradeassure/server/storage"
)

var _ orderv1connect.OrderServiceHandler = (*Service)(nil)

// Deadline kinds of orders.
const (
	// KindAutoConfirm completes a delivered order whose buyer has not confirmed receipt in time.
	KindAutoConfirm = "order.auto_confirm"
	// KindClose closes a completed order when its after-sales window ends.
	KindClose = "order.close"
)

// Service implements OrderService.
type Service struct {
	store *storage.Store
	clock clock.Clock
	feed  *events.Feed
	pager *pagination.Pager
	cards CardNetwork
	log   *slog.Logger
	// policies is the policy sets and rate tables new orders are bound to.
	policies *policies.Catalog
}

// UsePolicies sets the catalog new orders take their policy version and rate table from.
func (s *Service) UsePolicies(c *policies.Catalog) { s.policies = c }

// New returns the order service.
func New(store *storage.Store, clk clock.Clock, feed *events.Feed, pager *pagination.Pager, cards CardNetwork, log *slog.Logger) *Service {
	return &Service{store: store, clock: clk, feed: feed, pager: pager, cards: cards, log: log}
}

// run runs a mutation of the order service in a transaction, once per request id.
func run[Req any, Resp any, PReq idempotency.Request[Req], PResp idempotency.Response[Resp]](ctx context.Context, s *Service,
	req *connect.Request[Req], fn func(tx *ent.Tx, p auth.Principal, now time.Time) (PResp, error),
) (*connect.Response[Resp], error) {
	return idempotency.Handle[Req, Resp, PReq, PResp](ctx, s.store, s.clock, req, fn)
}

// visible reports whether p may see o.
func visible(p auth.Principal, o *ent.Order) bool {
	switch p.Role {
	case commonv1.Role_ROLE_BUYER:
		return o.BuyerID == p.AccountID
	case commonv1.Role_ROLE_SUPPLIER:
		return o.SupplierID == p.AccountID
	case commonv1.Role_ROLE_OPERATOR, commonv1.Role_ROLE_ARBITER, commonv1.Role_ROLE_SYSTEM:
		return true
	}
	return false
}

// load reads an order the caller may see, checking the etag when one is sent.
func load(ctx context.Context, tx *ent.Tx, p auth.Principal, id, etag string) (*ent.Order, error) {
	o, err := get(ctx, tx, id)
	if ent.IsNotFound(err) || (err == nil && !visible(p, o)) {
		return nil, apierr.NotFound("order", id)
	}
	if err != nil {
		return nil, fmt.Errorf("load order %s: %w", id, err)
	}
	if etag != "" && etag != o.Etag {
		return nil, apierr.EtagMismatch("order", id, o.Etag)
	}
	return o, nil
}

// change is one committed change of an order.
type change struct {
	// event is the event type suffix, for example "accepted" → "order.accepted".
	event string
	actor auth.Principal
	now   time.Time
	// set applies the change's column updates.
	set func(u *ent.OrderMutation)
	// step is the transition the change makes (rules.go), nil for one that is none; it sets the state and
	// the timers. entered is when the new state was entered when that is not now (a reported delivery).
	step    *rule
	entered time.Time
}

// commit writes a change of o as the next revision, guarded by the revision read (a concurrent writer
// makes it fail with ABORTED), records the revision history and appends the event.
func (s *Service) commit(ctx context.Context, tx *ent.Tx, o *ent.Order, c change) (*orderv1.Order, error) {
	_, pb, err := s.commitEntity(ctx, tx, o, c)
	return pb, err
}

// commitEntity is commit returning the stored order, and as commit does, the order as the API shows it
// (the message its revision snapshot was made of, so that it is not converted twice).
func (s *Service) commitEntity(ctx context.Context, tx *ent.Tx, o *ent.Order, c change) (*ent.Order, *orderv1.Order, error) {
	next := o.Revision + 1
	// An update of the row at its revision that returns the updated row (storage.UpdateAtRevision), not
	// ent's UpdateOne, which reads the row back with a second statement, a SELECT it builds anew each time.
	u := tx.Order.Update().SetRevision(next).SetEtag(resource.Etag(o.ID, next)).SetUpdateTime(c.now)
	if c.set != nil {
		c.set(u.Mutation())
	}
	if c.step != nil && !c.step.Stays {
		entered := c.entered
		if entered.IsZero() {
			entered = c.now
		}
		u.SetState(c.step.To)
		if err := machine.MoveAt(ctx, tx, o, c.step.To, u.Mutation(), entered, c.now); err != nil {
			return nil, nil, err
		}
	}
	// In a batch that defers its writes (the deadline sweep's), the update is sent with the batch's others.
	updated, found, err := storage.DeferUpdateAtRevision[ent.Order](ctx, s.store.Dialect, entorder.Table, u.Check, u.Mutation(),
		o, o.ID, o.Revision)
	if err == nil && !found {
		updated, found, err = storage.UpdateAtRevision[ent.Order](ctx, tx, s.store.Dialect, entorder.Table, entorder.Columns,
			u.Check, u.Mutation(), o.ID, o.Revision)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("%s order %s: %w", c.event, o.ID, err)
	}
	if !found {
		return nil, nil, apierr.EtagMismatch("order", o.ID, "")
	}
	pb, err := s.record(ctx, tx, updated, c)
	if err != nil {
		return nil, nil, err
	}
	return updated, pb, nil
}

// revisionColumns are the columns of an order's revision history entry; insertRevision is its INSERT,
// built once.
var (
	revisionColumns = []string{orderrevision.FieldOrderID, orderrevision.FieldRevision, orderrevision.FieldChange,
		orderrevision.FieldActorRole, orderrevision.FieldActorID, orderrevision.FieldTime, orderrevision.FieldSnapshot}
	insertRevision = storage.InsertInto(orderrevision.Table, revisionColumns...)
)

// record writes the revision history entry and the event of an order's latest revision.
func (s *Service) record(ctx context.Context, tx *ent.Tx, o *ent.Order, c change) (*orderv1.Order, error) {
	pb, err := toProto(o)
	if err != nil {
		return nil, err
	}
	typ := "order." + c.event
	role := auth.RoleName(c.actor.Role)
	snapshot := resource.Marshal(pb)
	// Held back on Postgres until the event's statement, which carries it (storage.Later).
	// Or collected for the end of a batch (storage.Defer: the deadline sweep's), as nothing reads it before.
	values := []any{o.ID, o.Revision, typ, role, c.actor.AccountID, c.now, snapshot}
	if !storage.Defer(ctx, orderrevision.Table, revisionColumns, values...) {
		if _, err := tx.ExecContext(storage.Later(ctx), insertRevision, values...); err != nil {
			return nil, fmt.Errorf("record revision of order %s: %w", o.ID, err)
		}
	}
	idempotency.StoredOrderRevision(tx, o.ID, o.Revision, snapshot)
	err = s.feed.Append(ctx, tx, events.Event{
		Type: typ, SubjectType: "order", SubjectID: o.ID, Revision: o.Revision, Time: c.now,
		Actor: c.actor, Parties: []string{o.BuyerID, o.SupplierID}, Payload: pb, Encoded: snapshot,
	})
	if err != nil {
		return nil, err
	}
	return pb, nil
}

func stateName(s entorder.State) string { return string(s) }

// PolicyOf is the policy set (and version) a stored order runs under: the one place it is read, by the
// order's timers and by the returns and disputes about it.
func PolicyOf(o *ent.Order) policy.Set {
	return policy.MustGet(policyToProto[o.Policy], o.PolicyVersion)
}

// RatesOf is the exchange-rate table a stored order's limit checks convert with: the one in force when it
// was created, kept for its whole life like its policy version.
func RatesOf(o *ent.Order) policy.Rates {
	r, err := policy.LookupRates(o.RatesVersion)
	if err != nil {
		panic(fmt.Sprintf("order %s: %v", o.ID, err))
	}
	return r
}

// setNames are the shipped sets named by the policy enum of CreateOrder.
var setNames = map[commonv1.Policy]string{
	commonv1.Policy_POLICY_TRADE_ASSURANCE: policy.TradeAssurance,
	commonv1.Policy_POLICY_RETAIL:          policy.Retail,
}

// bind is the policy version and the rate table a new order takes: those in force now, for good.
func (s *Service) bind(ctx context.Context, tx *ent.Tx, req *orderv1.CreateOrderRequest, now time.Time) (policy.Set, policy.Rates, error) {
	name := req.GetPolicySet()
	if name == "" {
		if name = setNames[req.GetPolicy()]; name == "" {
			return policy.Set{}, policy.Rates{}, apierr.Invalid("policy",
				"name the policy: policy_set (for example \"trade-assurance\") or policy POLICY_TRADE_ASSURANCE or POLICY_RETAIL")
		}
	}
	if s.policies == nil {
		pol, err := policy.Get(req.GetPolicy(), policy.Current)
		return pol, policy.Rates{}, err
	}
	pol, err := s.policies.InForce(ctx, tx.Client(), name, now)
	if err != nil {
		if e := (*apierr.Error)(nil); errors.As(err, &e) && e.Code == connect.CodeNotFound {
			return pol, policy.Rates{}, apierr.InvalidWith(e.Reason, "policy_set", "%s", e.Message)
		}
		return pol, policy.Rates{}, err
	}
	rates, err := s.policies.RatesAt(ctx, tx.Client(), now)
	return pol, rates, err
}

// CreateProduct lists a product for the calling supplier.
func (s *Service) CreateProduct(ctx context.Context, req *connect.Request[orderv1.CreateProductRequest]) (*connect.Response[orderv1.CreateProductResponse], error) {
	return run(ctx, s, req, func(tx *ent.Tx, p auth.Principal, now time.Time) (*orderv1.CreateProductResponse, error) {
		if err := p.RequireRole("list products", commonv1.Role_ROLE_SUPPLIER); err != nil {
			return nil, err
		}
		price := req.Msg.GetUnitPrice()
		if price.GetAmountMinor() <= 0 {
			return nil, apierr.Invalid("unit_price.amount_minor", "must be more than zero")
		}
		if price.GetAmountMinor() > money.Max {
			return nil, money.TooLarge("unit_price.amount_minor", "a unit price of %d is too large", price.GetAmountMinor())
		}
		if !policy.Supported(price.GetCurrency()) {
			return nil, apierr.InvalidWith(commonv1.ErrorReason_ERROR_REASON_UNSUPPORTED_CURRENCY, "unit_price.currency",
				"%q is not a currency the platform has a rate for", price.GetCurrency())
		}
		prod, err := tx.Product.Create().SetID(resource.ID("prd_")).SetSupplierID(p.AccountID).SetName(req.Msg.GetName()).
			SetCurrency(price.GetCurrency()).SetUnitPriceMinor(price.GetAmountMinor()).
			SetCreateTime(now).SetUpdateTime(now).Save(ctx)
		if err != nil {
			return nil, fmt.Errorf("create product: %w", err)
		}
		return &orderv1.CreateProductResponse{Product: productToProto(prod)}, nil
	})
}

// CreateOrder drafts an order.
func (s *Service) CreateOrder(ctx context.Context, req *connect.Request[orderv1.CreateOrderRequest]) (*connect.Response[orderv1.CreateOrderResponse], error) {
	// The effect's first statement reads the parties, and carries the request id's claim on Postgres; its
	// event is written last, with the stored response, and read by nothing before COMMIT.
	ctx = events.AppendAtCommit(ctx)
	return run(idempotency.ClaimWithFirstStatement(ctx), s, req, func(tx *ent.Tx, p auth.Principal, now time.Time) (*orderv1.CreateOrderResponse, error) {
		if err := p.RequireRole("draft orders", commonv1.Role_ROLE_SUPPLIER, commonv1.Role_ROLE_BUYER); err != nil {
			return nil, err
		}
		if err := p.RequireTrading("create orders", now); err != nil {
			return nil, err
		}
		var self, supplier, buyer *ent.Account
		awaitingSupplier := false
		if p.Role == commonv1.Role_ROLE_SUPPLIER {
			address := email.Normalize(req.Msg.GetBuyerEmail())
			if address == "" {
				return nil, unknownBuyer(req.Msg.GetBuyerEmail())
			}
			me, other, err := readParties(ctx, tx, p, partiesByEmail(), address)
			if err != nil {
				return nil, err
			}
			if other == nil || other.Role != account.RoleBuyer {
				return nil, unknownBuyer(req.Msg.GetBuyerEmail())
			}
			self, supplier, buyer = me, me, other
		} else {
			if req.Msg.GetSupplierId() == "" {
				return nil, apierr.Invalid("supplier_id", "a buyer requesting a draft must name the supplier")
			}
			if e := req.Msg.GetBuyerEmail(); e != "" && !email.Equal(e, p.Account.Email) {
				return nil, apierr.InvalidWith(commonv1.ErrorReason_ERROR_REASON_UNKNOWN_BUYER, "buyer_email",
					"a buyer can only request a draft for its own email")
			}
			me, other, err := readParties(ctx, tx, p, partiesByID(), req.Msg.GetSupplierId())
			if err != nil {
				return nil, err
			}
			if other == nil || other.Role != account.RoleSupplier {
				return nil, apierr.InvalidWith(commonv1.ErrorReason_ERROR_REASON_NOT_FOUND, "supplier_id", "supplier %q does not exist", req.Msg.GetSupplierId())
			}
			self, buyer, supplier = me, me, other
			awaitingSupplier = true
		}
		// The caller's standing as it is now: authentication may have given an account up to auth.DefaultBound old.
		p.Account = self
		if err := p.RequireTrading("create orders", now); err != nil {
			return nil, err
		}
		pol, rates, err := s.bind(ctx, tx, req.Msg, now)
		if err != nil {
			return nil, err
		}
		terms := req.Msg.GetTerms()
		a, err := checkTerms(ctx, tx, terms, supplier, pol, rates, now)
		if err != nil {
			return nil, err
		}
		id := resource.ID("ord_")
		create := tx.Order.Create().SetID(id).SetPolicy(policyFromProto[pol.Name]).SetPolicyVersion(pol.Version).SetRatesVersion(rates.ID()).
			SetState(entorder.StateDraft).SetSupplierID(supplier.ID).SetBuyerID(buyer.ID).SetBuyerEmail(buyer.Email).
			SetCurrency(terms.GetCurrency()).SetTerms(resource.Marshal(terms)).
			SetGoodsMinor(a.goods).SetTotalMinor(a.total).SetAdvanceMinor(a.advance).SetTotalUsdMinor(a.totalUSD).
			SetCoveredMinor(a.covered).SetRequiresExportAgent(a.requiresExportAgent).SetAwaitingSupplier(awaitingSupplier).
			SetShipByTime(terms.GetShipByTime().AsTime()).
			SetRevision(1).SetEtag(resource.Etag(id, 1)).SetCreateTime(now).SetUpdateTime(now)
		// The insert is a statement written once (storage.InsertCreated), not one ent builds anew for
		// every order; nothing reads its result, so on Postgres it is held back (storage.Later).
		if err := create.Prepare(); err != nil {
			return nil, fmt.Errorf("create order: %w", err)
		}
		o, inserted, err := storage.InsertCreated[ent.Order](storage.Later(ctx), tx, entorder.Table, id, create.Mutation())
		if err == nil && !inserted {
			o, err = create.Save(storage.Later(ctx))
		}
		if err != nil {
			return nil, fmt.Errorf("create order: %w", err)
		}
		pb, err := s.record(ctx, tx, o, change{event: "drafted", actor: p, now: now})
		if err != nil {
			return nil, err
		}
		return &orderv1.CreateOrderResponse{Order: pb}, nil
	})
}

// readParties reads, in one statement, the caller's own account as it is now and the other party of a new
// order (found by query, partiesByEmail or partiesByID, as other; nil when there is none). One round trip
// instead of two: the caller's account from authentication may be up to auth.DefaultBound old, and the
// limit and standing checks of a new order must see the current one.
func readParties(ctx context.Context, tx *ent.Tx, p auth.Principal, query, other string) (self, counterparty *ent.Account, err error) {
	// It reads no row a held-back write makes (storage.Absorbing): it may carry a held request id claim.
	rows, err := storage.ScanRows[ent.Account](storage.Absorbing(ctx), tx, query, account.Columns, p.AccountID, other)
	if err != nil {
		return nil, nil, fmt.Errorf("read the parties: %w", err)
	}
	for _, a := range rows {
		if a.ID == p.AccountID {
			self = a
		} else {
			counterparty = a
		}
	}
	if self == nil {
		return nil, nil, apierr.New(connect.CodeUnauthenticated, commonv1.ErrorReason_ERROR_REASON_UNAUTHENTICATED,
			"the calling account no longer exists")
	}
	return self, counterparty, nil
}

// partiesByEmail and partiesByID are readParties' statements, the caller's account and another by its
// email or its id, built once (storage.SelectWhere) rather than by ent on every CreateOrder: the accounts'
// columns quoted and qualified anew cost a few kilobytes of garbage a call.
var (
	partiesByEmail = sync.OnceValue(func() string { return partiesBy(account.FieldEmail) })
	partiesByID    = sync.OnceValue(func() string { return partiesBy(account.FieldID) })
)

func partiesBy(column string) string {
	return storage.SelectWhere(account.Table, account.Columns, func(t *entsql.SelectTable) *entsql.Predicate {
		return entsql.Or(entsql.EQ(t.C(account.FieldID), ""), entsql.EQ(t.C(column), ""))
	}, 3)
}

func unknownBuyer(address string) error {
	if email.Normalize(address) == "" {
		return apierr.InvalidWith(commonv1.ErrorReason_ERROR_REASON_UNKNOWN_BUYER, "buyer_email",
			"name the buyer by the email bound to the buyer's account")
	}
	return apierr.InvalidWith(commonv1.ErrorReason_ERROR_REASON_UNKNOWN_BUYER, "buyer_email",
		"no buyer account is bound to %q", address)
}

// read loads an order the caller may see, outside a transaction.
func (s *Service) read(ctx context.Context, id string) (*ent.Order, error) {
	o, found, err := s.getOrder(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("read order %s: %w", id, err)
	}
	if !found || !visible(auth.FromContext(ctx), o) {
		return nil, apierr.NotFound("order", id)
	}
	return o, nil
}

// GetOrder returns one order.
func (s *Service) GetOrder(ctx context.Context, req *connect.Request[orderv1.GetOrderRequest]) (*connect.Response[orderv1.GetOrderResponse], error) {
	o, err := s.read(ctx, req.Msg.GetOrderId())
	if err != nil {
		return nil, err
	}
	pb, err := toProto(o)
	if err != nil {
		return nil, err
	}
	return connect.NewResponse(&orderv1.GetOrderResponse{Order: pb}), nil
}

// ListOrders lists the caller's orders, newest first, in the view asked for (basic by default).
func (s *Service) ListOrders(ctx context.Context, req *connect.Request[orderv1.ListOrdersRequest]) (*connect.Response[orderv1.ListOrdersResponse], error) {
	p := auth.FromContext(ctx)
	filter := pagination.Filter("orders", p.AccountID, req.Msg.GetState())
	size, after, err := s.pager.Start(req.Msg, 50, 500, filter)
	if err != nil {
		return nil, err
	}
	q := s.store.Client.Order.Query()
	switch p.Role {
	case commonv1.Role_ROLE_BUYER:
		q = q.Where(entorder.BuyerID(p.AccountID))
	case commonv1.Role_ROLE_SUPPLIER:
		q = q.Where(entorder.SupplierID(p.AccountID))
	case commonv1.Role_ROLE_OPERATOR, commonv1.Role_ROLE_ARBITER:
	default:
		return connect.NewResponse(&orderv1.ListOrdersResponse{}), nil
	}
	if st := req.Msg.GetState(); st != orderv1.Order_STATE_UNSPECIFIED {
		q = q.Where(entorder.StateEQ(stateFromProto[st]))
	}
	if after != "" {
		q = q.Where(entorder.IDLT(after))
	}
	rows, err := q.Order(ent.Desc(entorder.FieldID)).Limit(size + 1).All(ctx)
	if err != nil {
		return nil, fmt.Errorf("list orders: %w", err)
	}
	out := &orderv1.ListOrdersResponse{}
	rows, out.NextPageToken = pagination.Page(s.pager, rows, size, filter, func(o *ent.Order) string { return o.ID })
	full := req.Msg.GetView() == orderv1.OrderView_ORDER_VIEW_FULL
	for _, o := range rows {
		pb, err := toProto(o)
		if err != nil {
			return nil, err
		}
		if !full {
			// The basic view: a page's orders mostly share one policy version, whose parameters would
			// otherwise be sent, and decoded by the client, once per order (a quarter of each order's bytes).
			pb.PolicyParameters = nil
		}
		out.Orders = append(out.Orders, pb)
	}
	return connect.NewResponse(out), nil
}
