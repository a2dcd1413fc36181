package payout

import (
	"context"
	"fmt"
	"sort"
	"strconv"

	"connectrpc.com/connect"
	entsql "entgo.io/ent/dialect/sql"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/tradeassure/tradeassure/ent"
	"github.com/tradeassure/tradeassure/ent/ledgeraccount"
	"github.com/tradeassure/tradeassure/ent/ledgerentry"
	"github.com/tradeassure/tradeassure/ent/ledgertransfer"
	"github.com/tradeassure/tradeassure/ent/predicate"
	entwithdrawal "github.com/tradeassure/tradeassure/ent/withdrawal"
	commonv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/common/v1"
	payoutv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/payout/v1"
	"github.com/tradeassure/tradeassure/server/apierr"
	"github.com/tradeassure/tradeassure/server/auth"
	"github.com/tradeassure/tradeassure/server/ledger"
	"github.com/tradeassure/tradeassure/server/money"
	"github.com/tradeassure/tradeassure/server/order"
	"github.com/tradeassure/tradeassure/server/pagination"
	"github.com/tradeassure/tradeassure/server/resource"
)

// GetBalance returns a supplier's balances per currency.
func (s *Service) GetBalance(ctx context.Context, req *connect.Request[payoutv1.GetBalanceRequest]) (*connect.Response[payoutv1.GetBalanceResponse], error) {
	p := auth.FromContext(ctx)
	sup, err := supplierFor(ctx, s.store.Client, p, req.Msg.GetSupplierAccountId(), "read a supplier's balance")
	if err != nil {
		return nil, err
	}
	now := s.clock.Now()
	var out *payoutv1.SupplierBalance
	// One snapshot, so available, withdrawing and in escrow agree with one another.
	err = s.snapshot(ctx, func(tx *ent.Tx) error {
		out, err = balanceOf(ctx, tx, sup)
		return err
	})
	if err != nil {
		return nil, err
	}
	out.ReadTime = timestamppb.New(now)
	return connect.NewResponse(&payoutv1.GetBalanceResponse{Balance: out}), nil
}

// balanceOf reads a supplier's available, pending, withdrawing and in-escrow amounts per currency.
func balanceOf(ctx context.Context, tx *ent.Tx, sup *ent.Account) (*payoutv1.SupplierBalance, error) {
	byCur := map[string]*payoutv1.CurrencyBalance{}
	get := func(cur string) *payoutv1.CurrencyBalance {
		b := byCur[cur]
		if b == nil {
			b = &payoutv1.CurrencyBalance{Currency: cur, Available: resource.Money(0, cur), Pending: resource.Money(0, cur),
				Withdrawing: resource.Money(0, cur), InEscrow: resource.Money(0, cur)}
			byCur[cur] = b
		}
		return b
	}
	accts, err := tx.LedgerAccount.Query().Where(ledgeraccount.OwnerID(sup.ID),
		ledgeraccount.KindIn(ledger.SupplierAvailable, ledger.SupplierPending)).All(ctx)
	if err != nil {
		return nil, fmt.Errorf("read balances of %s: %w", sup.ID, err)
	}
	for _, a := range accts {
		b := get(a.Currency)
		if a.Kind == ledger.SupplierAvailable {
			b.Available.AmountMinor = a.BalanceMinor
		} else {
			b.Pending.AmountMinor = a.BalanceMinor
		}
	}
	open, err := tx.Withdrawal.Query().Where(entwithdrawal.SupplierID(sup.ID),
		entwithdrawal.StateIn(entwithdrawal.StateRequested, entwithdrawal.StateProcessing)).All(ctx)
	if err != nil {
		return nil, fmt.Errorf("read withdrawals of %s: %w", sup.ID, err)
	}
	add := func(m *commonv1.Money, amount int64) error {
		sum, ok := money.AddInt64(m.AmountMinor, amount)
		if !ok {
			return money.StoredTooLarge("the %s balances of supplier %s add up to more than the platform can show", m.Currency, sup.ID)
		}
		m.AmountMinor = sum
		return nil
	}
	for _, w := range open {
		if err := add(get(w.Currency).Withdrawing, w.AmountMinor); err != nil {
			return nil, err
		}
	}
	// Escrow is zero for finished and released orders, so only escrows holding money are read.
	escrows, err := tx.LedgerAccount.Query().Where(ledgeraccount.KindEQ(ledger.OrderEscrow), ledgeraccount.BalanceMinorNEQ(0),
		func(sel *entsql.Selector) {
			sel.Where(entsql.In(sel.C(ledgeraccount.FieldOwnerID), order.IDsOfSupplier(sup.ID)))
		}).All(ctx)
	if err != nil {
		return nil, fmt.Errorf("read escrow of %s: %w", sup.ID, err)
	}
	for _, a := range escrows {
		if err := add(get(a.Currency).InEscrow, a.BalanceMinor); err != nil {
			return nil, err
		}
	}
	out := &payoutv1.SupplierBalance{SupplierAccountId: sup.ID, Frozen: sup.Frozen}
	for _, b := range byCur {
		out.Balances = append(out.Balances, b)
	}
	sort.Slice(out.Balances, func(i, j int) bool { return out.Balances[i].Currency < out.Balances[j].Currency })
	return out, nil
}

// ListStatementEntries lists the entries of a supplier's available and pending balances, oldest first.
func (s *Service) ListStatementEntries(ctx context.Context, req *connect.Request[payoutv1.ListStatementEntriesRequest]) (*connect.Response[payoutv1.ListStatementEntriesResponse], error) {
	p := auth.FromContext(ctx)
	m := req.Msg
	sup, err := supplierFor(ctx, s.store.Client, p, m.GetSupplierAccountId(), "read a supplier's statement")
	if err != nil {
		return nil, err
	}
	if m.GetStartTime() != nil && m.GetEndTime() != nil && !m.GetEndTime().AsTime().After(m.GetStartTime().AsTime()) {
		return nil, apierr.Invalid("end_time", "must be after start_time")
	}
	filter := pagination.Filter("statement", sup.ID, m.GetCurrency(), m.GetAccountKind(), m.GetCauseKind(), m.GetOrderId(),
		m.GetStartTime().AsTime().UnixNano(), m.GetEndTime().AsTime().UnixNano(), m.GetStartTime() != nil, m.GetEndTime() != nil)
	size, after, err := s.pager.Start(m, 50, 500, filter)
	if err != nil {
		return nil, err
	}
	kinds := []ledger.Kind{ledger.SupplierAvailable, ledger.SupplierPending}
	if k := m.GetAccountKind(); k != payoutv1.LedgerAccount_KIND_UNSPECIFIED {
		kinds = []ledger.Kind{kindFromProto[k]}
	}
	var accts []string
	for _, k := range kinds {
		q := s.store.Client.LedgerAccount.Query().Where(ledgeraccount.OwnerID(sup.ID), ledgeraccount.KindEQ(k))
		if c := m.GetCurrency(); c != "" {
			q = q.Where(ledgeraccount.Currency(c))
		}
		ids, err := q.IDs(ctx)
		if err != nil {
			return nil, fmt.Errorf("read accounts of %s: %w", sup.ID, err)
		}
		accts = append(accts, ids...)
	}
	out := &payoutv1.ListStatementEntriesResponse{}
	if len(accts) == 0 {
		return connect.NewResponse(out), nil
	}
	preds := []predicate.LedgerEntry{ledgerentry.AccountIDIn(accts...)}
	if o := m.GetOrderId(); o != "" {
		preds = append(preds, ledgerentry.OrderID(o))
	}
	if t := m.GetStartTime(); t != nil {
		preds = append(preds, ledgerentry.TimeGTE(t.AsTime()))
	}
	if t := m.GetEndTime(); t != nil {
		preds = append(preds, ledgerentry.TimeLT(t.AsTime()))
	}
	if ck := m.GetCauseKind(); ck != payoutv1.CauseKind_CAUSE_KIND_UNSPECIFIED {
		preds = append(preds, ledgerentry.CauseKindIn(internalCauses(ck)...))
	}
	if after != "" {
		preds = append(preds, ledgerentry.IDGT(after))
	}
	// A cause kind filter is applied to the entries as shown (a refund's supplier leg is a clawback), so
	// the query may return entries that are dropped; it reads on until the page is full.
	var rows []*ent.LedgerEntry
	cursor := preds
	for {
		batch, err := s.store.Client.LedgerEntry.Query().Where(cursor...).Order(ent.Asc(ledgerentry.FieldID)).Limit(size + 1).All(ctx)
		if err != nil {
			return nil, fmt.Errorf("list statement of %s: %w", sup.ID, err)
		}
		for _, e := range batch {
			if ck := m.GetCauseKind(); ck != payoutv1.CauseKind_CAUSE_KIND_UNSPECIFIED && entryCause(e) != ck {
				continue
			}
			rows = append(rows, e)
		}
		if len(rows) > size || len(batch) <= size {
			break
		}
		cursor = append(append([]predicate.LedgerEntry{}, preds...), ledgerentry.IDGT(batch[len(batch)-1].ID))
	}
	rows, out.NextPageToken = pagination.Page(s.pager, rows, size, filter, func(e *ent.LedgerEntry) string { return e.ID })
	transfers, legs, err := transfersOf(ctx, s.store.Client, rows)
	if err != nil {
		return nil, err
	}
	for _, e := range rows {
		se := statementEntry(sup.ID, e, transfers[e.TransferID])
		se.TransferId = movementOf(e.TransferID, legs[e.TransferID], e.ID)
		out.Entries = append(out.Entries, se)
	}
	return connect.NewResponse(out), nil
}

// transfersOf reads the transfers of entries and all their legs, by transfer id.
func transfersOf(ctx context.Context, client *ent.Client, entries []*ent.LedgerEntry) (map[string]*ent.LedgerTransfer, map[string][]*ent.LedgerEntry, error) {
	ids := make([]string, 0, len(entries))
	for _, e := range entries {
		ids = append(ids, e.TransferID)
	}
	out := map[string]*ent.LedgerTransfer{}
	legs := map[string][]*ent.LedgerEntry{}
	if len(ids) == 0 {
		return out, legs, nil
	}
	ts, err := client.LedgerTransfer.Query().Where(ledgertransfer.IDIn(ids...)).All(ctx)
	if err != nil {
		return nil, nil, fmt.Errorf("read transfers: %w", err)
	}
	for _, t := range ts {
		out[t.ID] = t
	}
	es, err := client.LedgerEntry.Query().Where(ledgerentry.TransferIDIn(ids...)).All(ctx)
	if err != nil {
		return nil, nil, fmt.Errorf("read transfer legs: %w", err)
	}
	for _, e := range es {
		legs[e.TransferID] = append(legs[e.TransferID], e)
	}
	return out, legs, nil
}

// statementEntry shows one supplier entry.
func statementEntry(supplierID string, e *ent.LedgerEntry, t *ent.LedgerTransfer) *payoutv1.StatementEntry {
	causeID, memo := "", ""
	if t != nil {
		causeID, memo = t.CauseID, t.Memo
	}
	kind := payoutv1.LedgerAccount_KIND_SUPPLIER_AVAILABLE
	if e.AccountKind == string(ledger.SupplierPending) {
		kind = payoutv1.LedgerAccount_KIND_SUPPLIER_PENDING
	}
	ck := entryCause(e)
	if e.ComplaintID == "" {
		copied := *e
		copied.ComplaintID = complaintOf(e.CauseKind, causeID, "")
		e = &copied
	}
	return &payoutv1.StatementEntry{
		Id: e.ID, TransferId: e.TransferID, SupplierAccountId: supplierID, AccountKind: kind,
		Amount: resource.Money(e.AmountMinor, e.Currency), BalanceAfter: resource.Money(e.BalanceAfterMinor, e.Currency),
		Cause: &payoutv1.Cause{Kind: ck, Id: causeID, OrderId: e.OrderID, ReturnId: e.ReturnID, DisputeId: e.DisputeID,
			ComplaintId: e.ComplaintID, WithdrawalId: e.WithdrawalID},
		Description: describe(ck, e, memo), CreateTime: timestamppb.New(e.Time),
	}
}

// describe is a statement line a person can read.
func describe(ck payoutv1.CauseKind, e *ent.LedgerEntry, memo string) string {
	amount := strconv.FormatInt(abs(e.AmountMinor), 10) + " " + e.Currency + " minor units"
	switch ck {
	case payoutv1.CauseKind_CAUSE_KIND_ESCROW_RELEASE:
		return fmt.Sprintf("Release of order %s less the platform fee: %s", e.OrderID, amount)
	case payoutv1.CauseKind_CAUSE_KIND_PENDING_RELEASE:
		return "Delayed funds became available: " + amount
	case payoutv1.CauseKind_CAUSE_KIND_CLAWBACK:
		return fmt.Sprintf("Refund to the buyer of order %s recovered from your balance%s: %s", e.OrderID, about(e), amount)
	case payoutv1.CauseKind_CAUSE_KIND_FREE_RETURN_COMPENSATION:
		return fmt.Sprintf("Platform compensation for free return %s of order %s: %s", e.ReturnID, e.OrderID, amount)
	case payoutv1.CauseKind_CAUSE_KIND_INSPECTION_FEE_REIMBURSEMENT:
		return fmt.Sprintf("Inspection fee reimbursed to the buyer%s: %s", about(e), amount)
	case payoutv1.CauseKind_CAUSE_KIND_COMPLAINT_PENALTY:
		if e.ComplaintID == "" && memo != "" {
			return "Complaint penalty: " + memo + ": " + amount
		}
		return fmt.Sprintf("Penalty of upheld complaint %s: %s", e.ComplaintID, amount)
	case payoutv1.CauseKind_CAUSE_KIND_CHARGEBACK:
		return fmt.Sprintf("Card chargeback on order %s: %s", e.OrderID, amount)
	case payoutv1.CauseKind_CAUSE_KIND_WITHDRAWAL:
		return fmt.Sprintf("Withdrawal %s to your bank account: %s", e.WithdrawalID, amount)
	case payoutv1.CauseKind_CAUSE_KIND_WITHDRAWAL_REVERSAL:
		return fmt.Sprintf("Withdrawal %s failed; the amount is back in your balance: %s", e.WithdrawalID, amount)
	}
	if memo != "" {
		return memo + ": " + amount
	}
	return e.CauseKind + ": " + amount
}

func about(e *ent.LedgerEntry) string {
	switch {
	case e.DisputeID != "":
		return " (dispute " + e.DisputeID + ")"
	case e.ReturnID != "":
		return " (return " + e.ReturnID + ")"
	case e.ComplaintID != "":
		return " (complaint " + e.ComplaintID + ")"
	}
	return ""
}

func abs(n int64) int64 {
	if n < 0 {
		return -n
	}
	return n
}
