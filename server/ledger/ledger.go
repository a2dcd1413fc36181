// Package ledger is the only way money moves: balanced double-entry transfers between accounts, in
// integer minor units of one currency, immutable, each linked to its cause and unique per cause, so a
// replay cannot post twice. The sum of every account's balance in one currency is always zero.
//
// A transfer is stored as one row (unique per cause kind and cause id) and one entry per leg. Each entry
// records the balance it left and the account's revision it made (1, 2, 3, … per account), so an account's
// history is a gapless sequence whose last balance is the account's balance. Legs are applied in account
// order, so two postings touching the same accounts always lock them in the same order and cannot deadlock
// each other on Postgres.
package ledger

import (
	"context"
	"errors"
	"fmt"
	"math"
	"regexp"
	"sort"
	"time"

	"entgo.io/ent/dialect"
	entsql "entgo.io/ent/dialect/sql"
	"github.com/google/uuid"

	"github.com/tradeassure/tradeassure/ent"
	"github.com/tradeassure/tradeassure/ent/ledgeraccount"
	"github.com/tradeassure/tradeassure/ent/ledgerentry"
	"github.com/tradeassure/tradeassure/ent/ledgertransfer"
	"github.com/tradeassure/tradeassure/server/money"
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

// External reports whether an account kind stands for money outside the platform.
func External(k Kind) bool { return k == BuyerFunding || k == Refunds || k == BankPayouts }

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
	CauseWithdrawal         = "withdrawal"          // supplier available → bank payouts; withdrawal id
	CauseWithdrawalReversal = "withdrawal_reversal" // bank payouts → supplier available; withdrawal id
	CauseChargeback         = "chargeback"          // escrow/supplier → refunds; dispute id
	CauseClawback           = "clawback"            // supplier available → platform compensation
	CausePendingRelease     = "pending_release"     // supplier pending → supplier available
)

// ErrOverdraft is returned (wrapped) by Post when a leg marked NoOverdraft would leave its account below
// zero; nothing is written.
var ErrOverdraft = errors.New("the balance is too low")

// ErrCauseConflict is returned (wrapped) by Post when a cause that was posted before is posted again with
// other legs (other accounts, amounts or currency): a replay must repeat the first posting exactly, so a
// caller that computes a different transfer for the same cause is a fault to surface, not to absorb.
var ErrCauseConflict = errors.New("the cause was posted before with other legs")

// AccountID is the name of an account: "kind:owner:currency".
func AccountID(kind Kind, owner, currency string) string {
	return fmt.Sprintf("%s:%s:%s", kind, owner, currency)
}

// Leg is one side of a transfer: a signed amount on an account (positive raises the balance).
type Leg struct {
	Kind   Kind
	Owner  string
	Amount int64
	// NoOverdraft makes the posting fail with ErrOverdraft, atomically with the update, when this leg
	// would leave the account's balance below zero (a withdrawal must not overdraw, even racing a clawback).
	NoOverdraft bool
}

// Links are the objects a transfer concerns, copied onto the transfer and every entry for statements.
type Links struct {
	OrderID, ReturnID, DisputeID, WithdrawalID, ComplaintID string
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

// Result is what Post did.
type Result struct {
	// Posted is false when the cause had already posted (a replay, or a racing duplicate that committed
	// first); nothing was written then.
	Posted bool
	// TransferID is the id of the cause's transfer: the new one, or the one posted before.
	TransferID string
}

var currencyCode = regexp.MustCompile(`^[A-Z]{3}$`)

// Post writes t within tx. It returns false, and writes nothing, when the cause has already posted. Legs
// must be non-zero and sum to zero.
func Post(ctx context.Context, tx *ent.Tx, t Transfer) (bool, error) {
	r, err := PostResult(ctx, tx, t)
	return r.Posted, err
}

// PostResult is Post returning the transfer's id as well.
//
// The uniqueness of the cause is decided by the database, not by a read before the write: the transfer
// row is inserted with ON CONFLICT DO NOTHING on (cause kind, cause id), so two transactions racing to post
// the same cause cannot both post it — on Postgres the second insert waits for the first transaction and,
// when it commits, inserts nothing; on SQLite writers are serialized.
func PostResult(ctx context.Context, tx *ent.Tx, t Transfer) (Result, error) {
	if err := check(t); err != nil {
		return Result{}, err
	}
	var positive int64
	for _, l := range t.Legs {
		if l.Amount > 0 {
			positive += l.Amount // check bounded every leg by money.Max, so a few of them cannot overflow
		}
	}
	id := "trf_" + uuid.Must(uuid.NewV7()).String()
	// DoNothing reports "no rows" on some drivers when it skips the insert; the read below decides.
	_ = tx.LedgerTransfer.Create().SetID(id).SetCauseKind(t.CauseKind).SetCauseID(t.CauseID).
		SetCurrency(t.Currency).SetAmountMinor(positive).SetMemo(t.Memo).SetTime(t.Time).
		SetOrderID(t.Links.OrderID).SetReturnID(t.Links.ReturnID).SetDisputeID(t.Links.DisputeID).
		SetComplaintID(t.Links.ComplaintID).SetWithdrawalID(t.Links.WithdrawalID).
		OnConflictColumns(ledgertransfer.FieldCauseKind, ledgertransfer.FieldCauseID).DoNothing().Exec(ctx)
	var dia string
	got, err := tx.LedgerTransfer.Query().Where(ledgertransfer.CauseKind(t.CauseKind), ledgertransfer.CauseID(t.CauseID),
		func(s *entsql.Selector) { dia = s.Dialect() }).Only(ctx)
	if err != nil {
		return Result{}, fmt.Errorf("post %s %s: %w", t.CauseKind, t.CauseID, err)
	}
	if got.ID != id {
		if err := sameLegs(ctx, tx, got, t); err != nil {
			return Result{}, err
		}
		return Result{Posted: false, TransferID: got.ID}, nil
	}
	if err := lockFeed(ctx, tx, dia); err != nil {
		return Result{}, fmt.Errorf("post %s %s: %w", t.CauseKind, t.CauseID, err)
	}
	// Apply the legs in account order (a consistent lock order), keeping each leg's posted position.
	order := make([]int, len(t.Legs))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool {
		la, lb := t.Legs[order[a]], t.Legs[order[b]]
		return AccountID(la.Kind, la.Owner, t.Currency) < AccountID(lb.Kind, lb.Owner, t.Currency)
	})
	entries := make([]*ent.LedgerEntryCreate, 0, len(t.Legs))
	for _, i := range order {
		l := t.Legs[i]
		acct := AccountID(l.Kind, l.Owner, t.Currency)
		bal, rev, err := apply(ctx, tx, dia, t, l, acct)
		if err != nil {
			return Result{}, err
		}
		entries = append(entries, tx.LedgerEntry.Create().SetID("ent_"+uuid.Must(uuid.NewV7()).String()).SetTransferID(id).SetLeg(i).
			SetAccountID(acct).SetAccountKind(string(l.Kind)).SetSeq(rev).
			SetAmountMinor(l.Amount).SetBalanceAfterMinor(bal).SetCurrency(t.Currency).
			SetCauseKind(t.CauseKind).SetOrderID(t.Links.OrderID).SetReturnID(t.Links.ReturnID).
			SetDisputeID(t.Links.DisputeID).SetComplaintID(t.Links.ComplaintID).SetWithdrawalID(t.Links.WithdrawalID).
			SetTime(t.Time))
	}
	if err := tx.LedgerEntry.CreateBulk(entries...).Exec(ctx); err != nil {
		return Result{}, fmt.Errorf("post %s %s: entries: %w", t.CauseKind, t.CauseID, err)
	}
	return Result{Posted: true, TransferID: id}, nil
}

// sameLegs fails with ErrCauseConflict unless t has the legs of the transfer posted before for its cause.
func sameLegs(ctx context.Context, tx *ent.Tx, posted *ent.LedgerTransfer, t Transfer) error {
	conflict := func(what string) error {
		return fmt.Errorf("post %s %s again: %s: %w", t.CauseKind, t.CauseID, what, ErrCauseConflict)
	}
	if posted.Currency != t.Currency {
		return conflict(fmt.Sprintf("currency %s, posted in %s", t.Currency, posted.Currency))
	}
	entries, err := tx.LedgerEntry.Query().Where(ledgerentry.TransferID(posted.ID)).Order(ent.Asc(ledgerentry.FieldLeg)).All(ctx)
	if err != nil {
		return fmt.Errorf("post %s %s again: read the posted legs: %w", t.CauseKind, t.CauseID, err)
	}
	if len(entries) != len(t.Legs) {
		return conflict(fmt.Sprintf("%d legs, posted with %d", len(t.Legs), len(entries)))
	}
	for i, e := range entries {
		l := t.Legs[i]
		if acct := AccountID(l.Kind, l.Owner, t.Currency); e.AccountID != acct || e.AmountMinor != l.Amount {
			return conflict(fmt.Sprintf("leg %d is %d on %s, posted as %d on %s", i, l.Amount, acct, e.AmountMinor, e.AccountID))
		}
	}
	return nil
}

// feedLock is the Postgres advisory lock every posting takes first and holds until commit. (Its name and
// number are those of the event feed's former global lock; the feed no longer takes it.)
const feedLock = 7355609

// lockFeed takes the ledger's lock on Postgres before any balance is touched, so that transactions that
// move money never deadlock on the balances they update in different orders (a release touches the
// escrow, the supplier and the platform's fees account; a refund the escrow and the buyer). It serializes
// money-moving transactions only: appending an event takes no lock (see package events). SQLite
// serializes writers anyway.
func lockFeed(ctx context.Context, tx *ent.Tx, dia string) error {
	if dia != dialect.Postgres {
		return nil
	}
	if _, err := tx.ExecContext(ctx, "SELECT pg_advisory_xact_lock($1)", feedLock); err != nil {
		return fmt.Errorf("lock the event feed: %w", err)
	}
	return nil
}

// LockFeed takes, within tx, the lock Post takes before touching balances (see lockFeed). A transaction
// that will post and also reads or locks other rows first (a withdrawal checks the balance it will
// debit) calls it at its start, so it keeps the same lock order as every posting.
func LockFeed(ctx context.Context, tx *ent.Tx) error {
	var dia string
	if _, err := tx.LedgerTransfer.Query().Where(func(s *entsql.Selector) {
		dia = s.Dialect()
		s.Where(entsql.False())
	}).Exist(ctx); err != nil {
		return fmt.Errorf("lock the event feed: %w", err)
	}
	return lockFeed(ctx, tx, dia)
}

// maxLegs bounds the legs of one transfer; with every leg within ±money.Max their sums cannot overflow.
const maxLegs = 16

// check refuses a malformed transfer before anything is written.
func check(t Transfer) error {
	if t.CauseKind == "" || t.CauseID == "" {
		return fmt.Errorf("post: a transfer needs a cause kind and a cause id (got %q, %q)", t.CauseKind, t.CauseID)
	}
	if !currencyCode.MatchString(t.Currency) {
		return fmt.Errorf("post %s %s: currency %q is not an ISO-4217 code", t.CauseKind, t.CauseID, t.Currency)
	}
	if t.Time.IsZero() {
		return fmt.Errorf("post %s %s: no time", t.CauseKind, t.CauseID)
	}
	if len(t.Legs) < 2 {
		return fmt.Errorf("post %s %s: a transfer needs at least two legs", t.CauseKind, t.CauseID)
	}
	if len(t.Legs) > maxLegs {
		return fmt.Errorf("post %s %s: %d legs, at most %d", t.CauseKind, t.CauseID, len(t.Legs), maxLegs)
	}
	var sum int64
	seen := map[string]bool{}
	for _, l := range t.Legs {
		if l.Amount == 0 {
			return fmt.Errorf("post %s %s: a leg of zero", t.CauseKind, t.CauseID)
		}
		if !money.Within(l.Amount) {
			return fmt.Errorf("post %s %s: %w", t.CauseKind, t.CauseID,
				money.StoredTooLarge("a transfer of %d minor units is more than the platform moves at once", l.Amount))
		}
		if !ledgeraccountKindValid(l.Kind) {
			return fmt.Errorf("post %s %s: unknown account kind %q", t.CauseKind, t.CauseID, l.Kind)
		}
		acct := AccountID(l.Kind, l.Owner, t.Currency)
		if seen[acct] {
			return fmt.Errorf("post %s %s: two legs on account %s", t.CauseKind, t.CauseID, acct)
		}
		seen[acct] = true
		sum += l.Amount
	}
	if sum != 0 {
		return fmt.Errorf("post %s %s: legs sum to %d, not zero", t.CauseKind, t.CauseID, sum)
	}
	return nil
}

func ledgeraccountKindValid(k Kind) bool { return ledgeraccount.KindValidator(k) == nil }

// apply adds a leg's amount to its account, opening the account at its first transfer, and returns the
// balance it left and the account's new revision. The increment is one UPDATE … RETURNING, so concurrent
// postings never lose one another's amounts and the balance returned is the one this leg made; a
// NoOverdraft leg adds the balance condition to that same UPDATE.
func apply(ctx context.Context, tx *ent.Tx, dia string, t Transfer, l Leg, acct string) (int64, int64, error) {
	update := func() (bal, rev int64, found bool, err error) {
		where := entsql.EQ(ledgeraccount.FieldID, acct)
		if l.NoOverdraft && l.Amount < 0 {
			where = entsql.And(where, entsql.GTE(ledgeraccount.FieldBalanceMinor, -l.Amount))
		}
		// The balance must stay within int64: the database would fail the update (Postgres) or turn the
		// balance into a float (SQLite). The bound is computed here, where it cannot overflow.
		if l.Amount > 0 {
			where = entsql.And(where, entsql.LTE(ledgeraccount.FieldBalanceMinor, math.MaxInt64-l.Amount))
		} else {
			where = entsql.And(where, entsql.GTE(ledgeraccount.FieldBalanceMinor, math.MinInt64-l.Amount))
		}
		q, args := entsql.Dialect(dia).Update(ledgeraccount.Table).
			Add(ledgeraccount.FieldBalanceMinor, l.Amount).Add(ledgeraccount.FieldRevision, 1).
			Set(ledgeraccount.FieldUpdateTime, t.Time).Where(where).
			Returning(ledgeraccount.FieldBalanceMinor, ledgeraccount.FieldRevision).Query()
		rows, err := tx.QueryContext(ctx, q, args...)
		if err != nil {
			return 0, 0, false, err
		}
		defer rows.Close()
		if rows.Next() {
			found = true
			if err := rows.Scan(&bal, &rev); err != nil {
				return 0, 0, false, err
			}
		}
		return bal, rev, found, rows.Err()
	}
	bal, rev, found, err := update()
	if err == nil && !found {
		if err := tx.LedgerAccount.Create().SetID(acct).SetKind(l.Kind).SetOwnerID(l.Owner).SetCurrency(t.Currency).
			SetCreateTime(t.Time).SetUpdateTime(t.Time).OnConflictColumns(ledgeraccount.FieldID).Ignore().Exec(ctx); err != nil {
			return 0, 0, fmt.Errorf("post %s %s: open %s: %w", t.CauseKind, t.CauseID, acct, err)
		}
		bal, rev, found, err = update()
	}
	if err != nil {
		return 0, 0, fmt.Errorf("post %s %s: update %s: %w", t.CauseKind, t.CauseID, acct, err)
	}
	if !found {
		cur, err := tx.LedgerAccount.Get(ctx, acct)
		if err != nil {
			return 0, 0, fmt.Errorf("post %s %s: read %s: %w", t.CauseKind, t.CauseID, acct, err)
		}
		if _, ok := money.AddInt64(cur.BalanceMinor, l.Amount); !ok {
			return 0, 0, fmt.Errorf("post %s %s: %w", t.CauseKind, t.CauseID, money.BalanceTooLarge(acct))
		}
		return 0, 0, fmt.Errorf("post %s %s: %s cannot pay %d: %w", t.CauseKind, t.CauseID, acct, -l.Amount, ErrOverdraft)
	}
	return bal, rev, nil
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
