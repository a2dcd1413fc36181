package ledger

import (
	"context"
	"fmt"
	"sort"

	"github.com/tradeassure/tradeassure/ent"
	"github.com/tradeassure/tradeassure/ent/ledgeraccount"
	"github.com/tradeassure/tradeassure/ent/ledgerentry"
	"github.com/tradeassure/tradeassure/ent/ledgertransfer"
	"github.com/tradeassure/tradeassure/server/money"
)

// CurrencySum is the sum of every account in one currency.
type CurrencySum struct {
	Currency  string
	Sum       int64
	Accounts  int64
	Transfers int64
}

// EscrowMismatch is a finished order whose escrow is not zero.
type EscrowMismatch struct {
	OrderID   string
	AccountID string
	Currency  string
	Balance   int64
}

// Report is the outcome of Reconcile.
type Report struct {
	Sums     []CurrencySum
	Mismatch []EscrowMismatch
}

// OK reports whether every currency sums to zero and no finished order holds escrow.
func (r Report) OK() bool {
	for _, s := range r.Sums {
		if s.Sum != 0 {
			return false
		}
	}
	return len(r.Mismatch) == 0
}

// Finished is which of the orders ids are finished (closed or cancelled) within tx. The order service owns
// the orders' states (order.Finished); the ledger, which the order service uses, asks through this.
type Finished func(ctx context.Context, tx *ent.Tx, ids []string) ([]string, error)

// Reconcile checks, within tx (which should be one consistent snapshot), that every currency's accounts
// sum to zero and that no order finished says is closed or cancelled has money left in its escrow.
func Reconcile(ctx context.Context, tx *ent.Tx, finished Finished) (Report, error) {
	var rep Report
	var sums []struct {
		Currency string `json:"currency"`
		Sum      int64  `json:"sum"`
		Count    int64  `json:"count"`
	}
	if err := tx.LedgerAccount.Query().GroupBy(ledgeraccount.FieldCurrency).
		Aggregate(ent.As(ent.Sum(ledgeraccount.FieldBalanceMinor), "sum"), ent.Count()).Scan(ctx, &sums); err != nil {
		return rep, fmt.Errorf("reconcile: sum accounts: %w", err)
	}
	var counts []struct {
		Currency string `json:"currency"`
		Count    int64  `json:"count"`
	}
	if err := tx.LedgerTransfer.Query().GroupBy(ledgertransfer.FieldCurrency).Aggregate(ent.Count()).Scan(ctx, &counts); err != nil {
		return rep, fmt.Errorf("reconcile: count transfers: %w", err)
	}
	byCur := map[string]*CurrencySum{}
	for _, s := range sums {
		byCur[s.Currency] = &CurrencySum{Currency: s.Currency, Sum: s.Sum, Accounts: s.Count}
	}
	for _, c := range counts {
		if byCur[c.Currency] == nil {
			byCur[c.Currency] = &CurrencySum{Currency: c.Currency}
		}
		byCur[c.Currency].Transfers = c.Count
	}
	for _, s := range byCur {
		rep.Sums = append(rep.Sums, *s)
	}
	sort.Slice(rep.Sums, func(i, j int) bool { return rep.Sums[i].Currency < rep.Sums[j].Currency })

	// Only escrows that hold money can be wrong, and there are few of them (open orders), so the check
	// reads those and looks up their orders.
	held, err := tx.LedgerAccount.Query().Where(ledgeraccount.KindEQ(OrderEscrow), ledgeraccount.BalanceMinorNEQ(0)).
		Order(ent.Asc(ledgeraccount.FieldID)).All(ctx)
	if err != nil {
		return rep, fmt.Errorf("reconcile: read escrows: %w", err)
	}
	const batch = 500
	for i := 0; i < len(held); i += batch {
		part := held[i:min(i+batch, len(held))]
		ids := make([]string, len(part))
		for j, a := range part {
			ids[j] = a.OwnerID
		}
		ended, err := finished(ctx, tx, ids)
		if err != nil {
			return rep, fmt.Errorf("reconcile: %w", err)
		}
		done := map[string]bool{}
		for _, id := range ended {
			done[id] = true
		}
		for _, a := range part {
			if done[a.OwnerID] {
				rep.Mismatch = append(rep.Mismatch, EscrowMismatch{OrderID: a.OwnerID, AccountID: a.ID, Currency: a.Currency, Balance: a.BalanceMinor})
			}
		}
	}
	return rep, nil
}

// Audit checks the ledger's internal consistency within tx and returns one sentence per problem: every
// transfer's entries sum to zero and add up to its amount, and every account's entries form the gapless
// sequence 1..revision whose amounts add up to the balance and whose last balance_after is the balance.
// It reads every row, so it is for tests and offline checks, not for requests.
func Audit(ctx context.Context, tx *ent.Tx) ([]string, error) {
	var problems []string
	entries, err := tx.LedgerEntry.Query().Order(ent.Asc(ledgerentry.FieldAccountID), ent.Asc(ledgerentry.FieldSeq)).All(ctx)
	if err != nil {
		return nil, fmt.Errorf("audit: read entries: %w", err)
	}
	transfers, err := tx.LedgerTransfer.Query().All(ctx)
	if err != nil {
		return nil, fmt.Errorf("audit: read transfers: %w", err)
	}
	accounts, err := tx.LedgerAccount.Query().All(ctx)
	if err != nil {
		return nil, fmt.Errorf("audit: read accounts: %w", err)
	}
	type agg struct{ sum, positive int64 }
	byTransfer := map[string]*agg{}
	byAccount := map[string][]*ent.LedgerEntry{}
	for _, e := range entries {
		a := byTransfer[e.TransferID]
		if a == nil {
			a = &agg{}
			byTransfer[e.TransferID] = a
		}
		// Each entry is within ±money.Max and a transfer has at most maxLegs of them: these cannot overflow.
		a.sum += e.AmountMinor
		if e.AmountMinor > 0 {
			a.positive += e.AmountMinor
		}
		byAccount[e.AccountID] = append(byAccount[e.AccountID], e)
	}
	for _, t := range transfers {
		a := byTransfer[t.ID]
		switch {
		case a == nil:
			problems = append(problems, fmt.Sprintf("transfer %s (%s %s) has no entries", t.ID, t.CauseKind, t.CauseID))
		case a.sum != 0:
			problems = append(problems, fmt.Sprintf("transfer %s (%s %s) entries sum to %d", t.ID, t.CauseKind, t.CauseID, a.sum))
		case a.positive != t.AmountMinor:
			problems = append(problems, fmt.Sprintf("transfer %s (%s %s) moves %d but records %d", t.ID, t.CauseKind, t.CauseID, a.positive, t.AmountMinor))
		}
	}
	for _, acct := range accounts {
		var sum int64
		es := byAccount[acct.ID]
		for i, e := range es {
			next, ok := money.AddInt64(sum, e.AmountMinor)
			if !ok {
				problems = append(problems, fmt.Sprintf("account %s entry %s takes the balance outside int64", acct.ID, e.ID))
				break
			}
			sum = next
			if e.Seq != int64(i+1) {
				problems = append(problems, fmt.Sprintf("account %s entry %s has seq %d, want %d", acct.ID, e.ID, e.Seq, i+1))
				break
			}
			if e.BalanceAfterMinor != sum {
				problems = append(problems, fmt.Sprintf("account %s entry %s leaves %d, but its entries so far sum to %d", acct.ID, e.ID, e.BalanceAfterMinor, sum))
				break
			}
		}
		if sum != acct.BalanceMinor || int64(len(es)) != acct.Revision {
			problems = append(problems, fmt.Sprintf("account %s has balance %d and revision %d, but %d entries summing to %d",
				acct.ID, acct.BalanceMinor, acct.Revision, len(es), sum))
		}
	}
	return problems, nil
}
