package payout

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/tradeassure/tradeassure/ent"
	"github.com/tradeassure/tradeassure/ent/ledgeraccount"
	"github.com/tradeassure/tradeassure/ent/ledgerentry"
	"github.com/tradeassure/tradeassure/ent/ledgertransfer"
	"github.com/tradeassure/tradeassure/ent/predicate"
	commonv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/common/v1"
	payoutv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/payout/v1"
	"github.com/tradeassure/tradeassure/server/apierr"
	"github.com/tradeassure/tradeassure/server/auth"
	"github.com/tradeassure/tradeassure/server/ledger"
	"github.com/tradeassure/tradeassure/server/order"
	"github.com/tradeassure/tradeassure/server/pagination"
	"github.com/tradeassure/tradeassure/server/resource"
)

func requireOperator(ctx context.Context, action string) error {
	return auth.FromContext(ctx).RequireRole(action, commonv1.Role_ROLE_OPERATOR)
}

// GetPlatformAccounts returns the platform's fee and compensation accounts.
func (s *Service) GetPlatformAccounts(ctx context.Context, req *connect.Request[payoutv1.GetPlatformAccountsRequest]) (*connect.Response[payoutv1.GetPlatformAccountsResponse], error) {
	if err := requireOperator(ctx, "read the platform's accounts"); err != nil {
		return nil, err
	}
	q := s.store.Client.LedgerAccount.Query().Where(ledgeraccount.KindIn(ledger.PlatformFees, ledger.PlatformCompensation))
	if c := req.Msg.GetCurrency(); c != "" {
		q = q.Where(ledgeraccount.Currency(c))
	}
	rows, err := q.Order(ent.Asc(ledgeraccount.FieldCurrency), ent.Asc(ledgeraccount.FieldID)).All(ctx)
	if err != nil {
		return nil, fmt.Errorf("read platform accounts: %w", err)
	}
	out := &payoutv1.GetPlatformAccountsResponse{}
	for _, a := range rows {
		if a.Kind == ledger.PlatformFees {
			out.FeeAccounts = append(out.FeeAccounts, accountToProto(a))
		} else {
			out.CompensationAccounts = append(out.CompensationAccounts, accountToProto(a))
		}
	}
	return connect.NewResponse(out), nil
}

// ListLedgerAccounts lists ledger accounts by id.
func (s *Service) ListLedgerAccounts(ctx context.Context, req *connect.Request[payoutv1.ListLedgerAccountsRequest]) (*connect.Response[payoutv1.ListLedgerAccountsResponse], error) {
	if err := requireOperator(ctx, "list ledger accounts"); err != nil {
		return nil, err
	}
	m := req.Msg
	filter := pagination.Filter("accounts", m.GetKind(), "|", m.GetOwnerId(), "|", m.GetCurrency())
	size, after, err := s.pager.Start(m, 50, 500, filter)
	if err != nil {
		return nil, err
	}
	q := s.store.Client.LedgerAccount.Query()
	if k := m.GetKind(); k != payoutv1.LedgerAccount_Kind(0) {
		q = q.Where(ledgeraccount.KindEQ(kindFromProto[k]))
	}
	if o := m.GetOwnerId(); o != "" {
		q = q.Where(ledgeraccount.OwnerID(o))
	}
	if c := m.GetCurrency(); c != "" {
		q = q.Where(ledgeraccount.Currency(c))
	}
	if after != "" {
		q = q.Where(ledgeraccount.IDGT(after))
	}
	rows, err := q.Order(ent.Asc(ledgeraccount.FieldID)).Limit(size + 1).All(ctx)
	if err != nil {
		return nil, fmt.Errorf("list ledger accounts: %w", err)
	}
	out := &payoutv1.ListLedgerAccountsResponse{}
	rows, out.NextPageToken = pagination.Page(s.pager, rows, size, filter, func(a *ent.LedgerAccount) string { return a.ID })
	for _, a := range rows {
		out.Accounts = append(out.Accounts, accountToProto(a))
	}
	return connect.NewResponse(out), nil
}

// shown is one movement on a ListTransfers page, with its place for the page token.
type shown struct {
	pb  *payoutv1.Transfer
	key string
}

// ListTransfers lists transfers (as from→to movements), oldest first.
func (s *Service) ListTransfers(ctx context.Context, req *connect.Request[payoutv1.ListTransfersRequest]) (*connect.Response[payoutv1.ListTransfersResponse], error) {
	if err := requireOperator(ctx, "list ledger transfers"); err != nil {
		return nil, err
	}
	m := req.Msg
	filter := pagination.Filter("transfers", m.GetAccountId(), "|", m.GetCauseKind(), "|", m.GetCauseId(), "|", m.GetOrderId())
	size, after, err := s.pager.Start(m, 50, 500, filter)
	if err != nil {
		return nil, err
	}
	// The key is "<posting id>/<movement index>": a page may end inside a multi-leg posting.
	afterID, afterN := after, -1
	if i := strings.LastIndex(after, "/"); i >= 0 {
		afterID = after[:i]
		if afterN, err = strconv.Atoi(after[i+1:]); err != nil {
			return nil, apierr.New(connect.CodeInvalidArgument, commonv1.ErrorReason_ERROR_REASON_INVALID_PAGE_TOKEN, "page_token is not valid")
		}
	}
	client := s.store.Client
	var items []shown
	cursor := afterID
	first := true
	for len(items) <= size {
		ids, more, err := s.postingIDs(ctx, m, cursor, first, size+2)
		if err != nil {
			return nil, err
		}
		first = false
		if len(ids) == 0 {
			break
		}
		ts, err := client.LedgerTransfer.Query().Where(ledgertransfer.IDIn(ids...)).Order(ent.Asc(ledgertransfer.FieldID)).All(ctx)
		if err != nil {
			return nil, fmt.Errorf("list transfers: %w", err)
		}
		es, err := client.LedgerEntry.Query().Where(ledgerentry.TransferIDIn(ids...)).All(ctx)
		if err != nil {
			return nil, fmt.Errorf("list transfers: %w", err)
		}
		legs := map[string][]*ent.LedgerEntry{}
		for _, e := range es {
			legs[e.TransferID] = append(legs[e.TransferID], e)
		}
		for _, t := range ts {
			for n, mv := range movements(t.ID, legs[t.ID]) {
				if (t.ID == afterID && n <= afterN) || (m.GetCauseId() != "" && t.CauseID != m.GetCauseId()) {
					continue
				}
				pb := transferToProto(t, mv)
				if a := m.GetAccountId(); a != "" && pb.GetFromAccountId() != a && pb.GetToAccountId() != a {
					continue
				}
				if ck := m.GetCauseKind(); ck != payoutv1.CauseKind_CAUSE_KIND_UNSPECIFIED && pb.GetCause().GetKind() != ck {
					continue
				}
				items = append(items, shown{pb: pb, key: t.ID + "/" + strconv.Itoa(n)})
			}
		}
		cursor = ids[len(ids)-1]
		if !more {
			break
		}
	}
	out := &payoutv1.ListTransfersResponse{}
	items, out.NextPageToken = pagination.Page(s.pager, items, size, filter, func(x shown) string { return x.key })
	for _, x := range items {
		out.Transfers = append(out.Transfers, x.pb)
	}
	return connect.NewResponse(out), nil
}

// postingIDs returns up to limit ids of postings matching the request's filters, from cursor on (inclusive
// on the first read, which may resume inside a posting), and whether there may be more.
func (s *Service) postingIDs(ctx context.Context, m *payoutv1.ListTransfersRequest, cursor string, inclusive bool, limit int) ([]string, bool, error) {
	client := s.store.Client
	if a := m.GetAccountId(); a != "" {
		q := client.LedgerEntry.Query().Where(ledgerentry.AccountID(a))
		if o := m.GetOrderId(); o != "" {
			q = q.Where(ledgerentry.OrderID(o))
		}
		if ck := m.GetCauseKind(); ck != payoutv1.CauseKind_CAUSE_KIND_UNSPECIFIED {
			q = q.Where(ledgerentry.CauseKindIn(internalCauses(ck)...))
		}
		if cursor != "" {
			if inclusive {
				q = q.Where(ledgerentry.TransferIDGTE(cursor))
			} else {
				q = q.Where(ledgerentry.TransferIDGT(cursor))
			}
		}
		ids, err := q.Order(ent.Asc(ledgerentry.FieldTransferID)).Limit(limit).Select(ledgerentry.FieldTransferID).Strings(ctx)
		if err != nil {
			return nil, false, fmt.Errorf("list transfers of %s: %w", a, err)
		}
		return ids, len(ids) == limit, nil
	}
	var preds []predicate.LedgerTransfer
	if c := m.GetCauseId(); c != "" {
		preds = append(preds, ledgertransfer.CauseID(c))
	}
	if o := m.GetOrderId(); o != "" {
		preds = append(preds, ledgertransfer.OrderID(o))
	}
	if ck := m.GetCauseKind(); ck != payoutv1.CauseKind_CAUSE_KIND_UNSPECIFIED {
		preds = append(preds, ledgertransfer.CauseKindIn(internalCauses(ck)...))
	}
	if cursor != "" {
		if inclusive {
			preds = append(preds, ledgertransfer.IDGTE(cursor))
		} else {
			preds = append(preds, ledgertransfer.IDGT(cursor))
		}
	}
	ids, err := client.LedgerTransfer.Query().Where(preds...).Order(ent.Asc(ledgertransfer.FieldID)).Limit(limit).IDs(ctx)
	if err != nil {
		return nil, false, fmt.Errorf("list transfers: %w", err)
	}
	return ids, len(ids) == limit, nil
}

// Reconcile checks that every currency sums to zero and that no finished order holds escrow.
func (s *Service) Reconcile(ctx context.Context, req *connect.Request[payoutv1.ReconcileRequest]) (*connect.Response[payoutv1.ReconcileResponse], error) {
	if err := requireOperator(ctx, "reconcile the ledger"); err != nil {
		return nil, err
	}
	now := s.clock.Now()
	var rep ledger.Report
	if err := s.snapshot(ctx, func(tx *ent.Tx) (err error) {
		rep, err = ledger.Reconcile(ctx, tx, order.Finished)
		return err
	}); err != nil {
		return nil, err
	}
	out := &payoutv1.ReconcileResponse{Ok: rep.OK(), CheckTime: timestamppb.New(now)}
	for _, c := range rep.Sums {
		out.CurrencySums = append(out.CurrencySums, &payoutv1.CurrencySum{Currency: c.Currency, Sum: resource.Money(c.Sum, c.Currency),
			AccountCount: c.Accounts, TransferCount: c.Transfers, Balanced: c.Sum == 0})
	}
	for _, mm := range rep.Mismatch {
		out.EscrowMismatches = append(out.EscrowMismatches, &payoutv1.EscrowMismatch{OrderId: mm.OrderID, AccountId: mm.AccountID,
			Balance: resource.Money(mm.Balance, mm.Currency)})
	}
	return connect.NewResponse(out), nil
}

// snapshot runs fn in a transaction that sees one consistent state: a read-only repeatable-read
// transaction on Postgres; on SQLite every transaction is one (writers are serialized).
func (s *Service) snapshot(ctx context.Context, fn func(tx *ent.Tx) error) error {
	return s.store.Snapshot(ctx, fn)
}
