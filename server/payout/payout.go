// Package payout implements PayoutService: suppliers' balances and statements, withdrawals to their
// verified bank accounts (REQUESTED → PROCESSING → PAID or FAILED, with the overdue deadline), and the
// operators' view of the ledger with its reconciliation. Money moves only through server/ledger.
package payout

import (
	"context"
	"errors"
	"fmt"
	"time"

	"connectrpc.com/connect"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/tradeassure/tradeassure/ent"
	"github.com/tradeassure/tradeassure/ent/account"
	commonv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/common/v1"
	"github.com/tradeassure/tradeassure/gen/go/tradeassure/payout/v1/payoutv1connect"
	"github.com/tradeassure/tradeassure/server/apierr"
	"github.com/tradeassure/tradeassure/server/auth"
	"github.com/tradeassure/tradeassure/server/clock"
	"github.com/tradeassure/tradeassure/server/events"
	"github.com/tradeassure/tradeassure/server/idempotency"
	"github.com/tradeassure/tradeassure/server/ledger"
	"github.com/tradeassure/tradeassure/server/pagination"
	"github.com/tradeassure/tradeassure/server/storage"
)

var _ payoutv1connect.PayoutServiceHandler = (*Service)(nil)

// Service implements PayoutService.
type Service struct {
	store *storage.Store
	clock clock.Clock
	feed  *events.Feed
	pager *pagination.Pager
}

// New returns the payout service; Register adds its deadline to the engine.
func New(store *storage.Store, clk clock.Clock, feed *events.Feed, pager *pagination.Pager) *Service {
	return &Service{store: store, clock: clk, feed: feed, pager: pager}
}

// lockFeed takes the lock every posting takes before touching balances (ledger.LockFeed: the event
// feed's, on Postgres). Payout mutations take it first, before reading a balance or a withdrawal, so they
// keep the lock order of every other money-moving transaction and see the latest committed state.
func (s *Service) lockFeed(ctx context.Context, tx *ent.Tx) error {
	return ledger.LockFeed(ctx, tx)
}

// run runs a mutation in one transaction, once per request id. A transaction that Postgres picked as a
// deadlock victim, or that failed to serialize, did nothing, so it is run again (a few times).
func run[Req any, Resp any, PReq idempotency.Request[Req], PResp idempotency.Response[Resp]](ctx context.Context, s *Service,
	req *connect.Request[Req], fn func(tx *ent.Tx, p auth.Principal, now time.Time) (PResp, error),
) (*connect.Response[Resp], error) {
	for attempt := 0; ; attempt++ {
		resp, err := idempotency.Handle[Req, Resp, PReq, PResp](ctx, s.store, s.clock, req, fn)
		if err != nil && retryable(err) && attempt < 4 {
			continue
		}
		return resp, err
	}
}

// retryable reports whether err is a Postgres deadlock or serialization failure.
func retryable(err error) bool {
	var pg *pgconn.PgError
	return errors.As(err, &pg) && (pg.Code == "40P01" || pg.Code == "40001")
}

// supplierFor resolves whose balance a call may read: a supplier reads only its own (another supplier's
// id looks NOT_FOUND), an operator reads any supplier's; other roles may not.
func supplierFor(ctx context.Context, client *ent.Client, p auth.Principal, id, action string) (*ent.Account, error) {
	if err := p.RequireRole(action, commonv1.Role_ROLE_SUPPLIER, commonv1.Role_ROLE_OPERATOR); err != nil {
		return nil, err
	}
	if p.Role == commonv1.Role_ROLE_SUPPLIER && id != p.AccountID {
		return nil, apierr.NotFound("supplier", id)
	}
	a, err := client.Account.Query().Where(account.ID(id), account.RoleEQ(account.RoleSupplier)).Only(ctx)
	if ent.IsNotFound(err) {
		return nil, apierr.NotFound("supplier", id)
	}
	if err != nil {
		return nil, fmt.Errorf("read supplier %s: %w", id, err)
	}
	return a, nil
}
