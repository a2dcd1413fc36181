// Package ledger is the only way money moves: balanced double-entry transfers between accounts, in
// integer minor units of one currency, immutable, each linked to its cause and unique per cause, so a
// replay cannot post twice. The sum of every account's balance in one currency is always zero.
package ledger

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/tradeassure/tradeassure/ent"
	"github.com/tradeassure/tradeassure/ent/ledgeraccount"
	"github.com/tradeassure/tradeassure/ent/ledgertransfer"
)

// Kind is a kind of ledger account.
type Kind = ledgeraccount.Kind

// The account kinds. Buyer funding, refunds and bank payouts stand for money outside the platform.
const (
	BuyerFunding         = ledgeraccount.KindBuyerFunding
	OrderEscrow          = ledgeraccount.KindOrderEscrow
	SupplierPending      = ledgeraccount.KindSupplierPending
	SupplierAvailable    = ledgeraccount.KindSupplierAvailable
	PlatformFees         = ledgeraccount.KindPlatformFees
	PlatformCompensation = ledgeraccount.KindPlatformCompensation
	Refunds              = ledgeraccount.KindRefunds
	BankPayouts          = ledgeraccount.KindBankPayouts
)

// Cause kinds name what a transfer is for; (cause kind, cause id) posts at most once.
const (
	CausePayment            = "payment"             // buyer funding → order escrow; cause id: payment id
	CauseCancellationRefund = "cancellation_refund" // order escrow → refunds; cause id: order id
	CauseEscrowRelease      = "escrow_release"      // order escrow → supplier available + platform fees; order id
	CauseDisputeRefund      = "dispute_refund"      // escrow/supplier → refunds; dispute id
	CauseReturnRefund       = "return_refund"       // escrow/supplier → refunds; return id
	CauseFreeReturnComp     = "free_return_compensation"
	CauseComplaintComp      = "complaint_compensation"
	CauseInspectionFee      = "inspection_fee_reimbursement"
	CauseWithdrawal         = "withdrawal"
	CauseWithdrawalReversal = "withdrawal_reversal"
)

// AccountID is the name of an account: "kind:owner:currency".
func AccountID(kind Kind, owner, currency string) string {
	return fmt.Sprintf("%s:%s:%s", kind, owner, currency)
}

// Leg is one side of a transfer: a signed amount on an account (positive raises the balance).
type Leg struct {
	Kind   Kind
	Owner  string
	Amount int64
}

// Links are the objects a transfer concerns, copied onto every entry for statements.
type Links struct {
	OrderID, ReturnID, DisputeID, WithdrawalID string
}

// Transfer is one balanced posting.
type Transfer struct {
	CauseKind string
	CauseID   string
	Currency  string
	Memo      string
	Legs      []Leg
	Links     Links
	Time      time.Time
}

// Post writes t within tx. It returns false, and writes nothing, when the cause has already posted. Legs
// must be non-zero and sum to zero.
func Post(ctx context.Context, tx *ent.Tx, t Transfer) (bool, error) {
	var sum, positive int64
	for _, l := range t.Legs {
		if l.Amount == 0 {
			return false, fmt.Errorf("post %s %s: a leg of zero", t.CauseKind, t.CauseID)
		}
		sum += l.Amount
		if l.Amount > 0 {
			positive += l.Amount
		}
	}
	if sum != 0 || len(t.Legs) < 2 {
		return false, fmt.Errorf("post %s %s: legs sum to %d, not zero", t.CauseKind, t.CauseID, sum)
	}
	exists, err := tx.LedgerTransfer.Query().Where(ledgertransfer.CauseKind(t.CauseKind), ledgertransfer.CauseID(t.CauseID)).Exist(ctx)
	if err != nil {
		return false, fmt.Errorf("post %s %s: %w", t.CauseKind, t.CauseID, err)
	}
	if exists {
		return false, nil
	}
	id := "trf_" + uuid.Must(uuid.NewV7()).String()
	if err := tx.LedgerTransfer.Create().SetID(id).SetCauseKind(t.CauseKind).SetCauseID(t.CauseID).
		SetCurrency(t.Currency).SetAmountMinor(positive).SetMemo(t.Memo).SetTime(t.Time).Exec(ctx); err != nil {
		return false, fmt.Errorf("post %s %s: %w", t.CauseKind, t.CauseID, err)
	}
	for _, l := range t.Legs {
		acct := AccountID(l.Kind, l.Owner, t.Currency)
		if err := tx.LedgerAccount.Create().SetID(acct).SetKind(l.Kind).SetOwnerID(l.Owner).SetCurrency(t.Currency).
			SetCreateTime(t.Time).SetUpdateTime(t.Time).OnConflictColumns(ledgeraccount.FieldID).Ignore().Exec(ctx); err != nil {
			return false, fmt.Errorf("post %s %s: open %s: %w", t.CauseKind, t.CauseID, acct, err)
		}
		a, err := tx.LedgerAccount.UpdateOneID(acct).AddBalanceMinor(l.Amount).SetUpdateTime(t.Time).Save(ctx)
		if err != nil {
			return false, fmt.Errorf("post %s %s: update %s: %w", t.CauseKind, t.CauseID, acct, err)
		}
		if err := tx.LedgerEntry.Create().SetID("ent_" + uuid.Must(uuid.NewV7()).String()).SetTransferID(id).
			SetAccountID(acct).SetAmountMinor(l.Amount).SetBalanceAfterMinor(a.BalanceMinor).SetCurrency(t.Currency).
			SetCauseKind(t.CauseKind).SetOrderID(t.Links.OrderID).SetReturnID(t.Links.ReturnID).
			SetDisputeID(t.Links.DisputeID).SetWithdrawalID(t.Links.WithdrawalID).SetTime(t.Time).Exec(ctx); err != nil {
			return false, fmt.Errorf("post %s %s: entry: %w", t.CauseKind, t.CauseID, err)
		}
	}
	return true, nil
}

// Balance returns an account's balance (zero for an account that never moved).
func Balance(ctx context.Context, tx *ent.Tx, kind Kind, owner, currency string) (int64, error) {
	a, err := tx.LedgerAccount.Get(ctx, AccountID(kind, owner, currency))
	if ent.IsNotFound(err) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("read balance: %w", err)
	}
	return a.BalanceMinor, nil
}

// Fee is the platform's fee on an amount, in basis points, rounded down.
func Fee(amount, basisPoints int64) int64 { return amount * basisPoints / 10_000 }
