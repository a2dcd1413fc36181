package payout

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"connectrpc.com/connect"

	"github.com/tradeassure/tradeassure/ent"
	"github.com/tradeassure/tradeassure/ent/ledgeraccount"
	entwithdrawal "github.com/tradeassure/tradeassure/ent/withdrawal"
	commonv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/common/v1"
	payoutv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/payout/v1"
	"github.com/tradeassure/tradeassure/server/apierr"
	"github.com/tradeassure/tradeassure/server/auth"
	"github.com/tradeassure/tradeassure/server/deadline"
	"github.com/tradeassure/tradeassure/server/events"
	"github.com/tradeassure/tradeassure/server/ledger"
	"github.com/tradeassure/tradeassure/server/money"
	"github.com/tradeassure/tradeassure/server/pagination"
	"github.com/tradeassure/tradeassure/server/policy"
	"github.com/tradeassure/tradeassure/server/resource"
	"github.com/tradeassure/tradeassure/server/storage"
)

const day = 24 * time.Hour

// Wires take 3 to 7 calendar days in both policy sets.
const (
	settleEarliest = 3 * day
	settleLatest   = 7 * day
)

// KindOverdue is the deadline of a withdrawal that the bank has not confirmed by its latest expected
// settle time. A wire can take longer than promised and a returned wire is reported days later, so the
// service does not assume the money arrived (nor that it failed): it marks the withdrawal overdue and tells
// operators through the event feed to chase the bank, and the withdrawal stays open until an operator
// confirms or fails it. The money is already out of the available balance, so nothing is at risk while it
// waits.
const KindOverdue = "withdrawal.overdue"

// Register adds the withdrawal deadline to the engine.
func (s *Service) Register(e *deadline.Engine) { e.Handle(KindOverdue, s.overdue) }

// wchange is one committed change of a withdrawal.
type wchange struct {
	event string
	actor auth.Principal
	now   time.Time
	set   func(u *ent.WithdrawalUpdateOne)
}

// commit writes a change of w as its next revision, guarded by the revision read, and appends its event.
func (s *Service) commit(ctx context.Context, tx *ent.Tx, w *ent.Withdrawal, c wchange) (*ent.Withdrawal, error) {
	next := w.Revision + 1
	// One UPDATE that returns the updated row (storage.UpdateAtRevision), not UpdateOne's UPDATE and SELECT.
	u := tx.Withdrawal.UpdateOneID(w.ID).
		SetRevision(next).SetEtag(resource.Etag(w.ID, next)).SetUpdateTime(c.now)
	if c.set != nil {
		c.set(u)
	}
	updated, found, err := storage.UpdateAtRevision[ent.Withdrawal](ctx, tx, s.store.Dialect, entwithdrawal.Table,
		entwithdrawal.Columns, u.Check, u.Mutation(), w.ID, w.Revision)
	if err != nil {
		return nil, fmt.Errorf("%s withdrawal %s: %w", c.event, w.ID, err)
	}
	if !found {
		return nil, apierr.EtagMismatch("withdrawal", w.ID, "")
	}
	return updated, s.record(ctx, tx, updated, c)
}

// record appends the event of a withdrawal's latest revision; the supplier sees it in its feed.
func (s *Service) record(ctx context.Context, tx *ent.Tx, w *ent.Withdrawal, c wchange) error {
	return s.feed.Append(ctx, tx, events.Event{
		Type: "withdrawal." + c.event, SubjectType: "withdrawal", SubjectID: w.ID, Revision: w.Revision, Time: c.now,
		Actor: c.actor, Parties: []string{w.SupplierID}, Payload: withdrawalToProto(w),
	})
}

// RequestWithdrawal takes an amount from the supplier's available balance for its verified bank account.
func (s *Service) RequestWithdrawal(ctx context.Context, req *connect.Request[payoutv1.RequestWithdrawalRequest]) (*connect.Response[payoutv1.RequestWithdrawalResponse], error) {
	return run(ctx, s, req, func(tx *ent.Tx, p auth.Principal, now time.Time) (*payoutv1.RequestWithdrawalResponse, error) {
		if err := p.RequireRole("withdraw (only a supplier withdraws its own balance)", commonv1.Role_ROLE_SUPPLIER); err != nil {
			return nil, err
		}
		amount, cur := req.Msg.GetAmount().GetAmountMinor(), req.Msg.GetAmount().GetCurrency()
		if !policy.Supported(cur) {
			return nil, apierr.InvalidWith(commonv1.ErrorReason_ERROR_REASON_UNSUPPORTED_CURRENCY, "amount.currency",
				"%q is not a currency the platform pays out in", cur)
		}
		if amount > money.Max {
			return nil, money.TooLarge("amount.amount_minor", "a withdrawal of %d is too large; withdraw it in several parts", amount)
		}
		if err := s.lockFeed(ctx, tx); err != nil {
			return nil, err
		}
		// A retry racing the first execution of the same request waited on the lock above and finds the
		// first one's withdrawal; it returns it, and storing its response then collides with the first
		// one's idempotency key, so the caller gets the first response.
		prior, err := tx.Withdrawal.Query().Where(entwithdrawal.SupplierID(p.AccountID), entwithdrawal.RequestID(req.Msg.GetRequestId())).Only(ctx)
		if err == nil {
			return &payoutv1.RequestWithdrawalResponse{Withdrawal: withdrawalToProto(prior)}, nil
		}
		if !ent.IsNotFound(err) {
			return nil, fmt.Errorf("look up withdrawal request: %w", err)
		}
		// The account as it is now, not as it was when the call was authenticated: a freeze wins.
		sup, err := tx.Account.Get(ctx, p.AccountID)
		if err != nil {
			return nil, fmt.Errorf("read supplier: %w", err)
		}
		switch {
		case sup.Standing == "banned":
			return nil, apierr.New(connect.CodePermissionDenied, commonv1.ErrorReason_ERROR_REASON_ACCOUNT_BANNED,
				"your account is banned and can only read its own data; it cannot withdraw")
		case sup.Frozen:
			return nil, apierr.Precondition(commonv1.ErrorReason_ERROR_REASON_ACCOUNT_FROZEN,
				"your account is frozen; no withdrawal is possible until the platform unfreezes it")
		case strings.TrimSpace(sup.BankAccount) == "" || !sup.BankAccountVerified:
			return nil, apierr.Precondition(commonv1.ErrorReason_ERROR_REASON_BANK_ACCOUNT_NOT_VERIFIED,
				"your payout bank account is missing or not verified yet; withdrawals go only to a verified account")
		}
		balances, err := tx.LedgerAccount.Query().Where(ledgeraccount.OwnerID(sup.ID), ledgeraccount.KindEQ(ledger.SupplierAvailable)).All(ctx)
		if err != nil {
			return nil, fmt.Errorf("read balances: %w", err)
		}
		var available int64
		for _, b := range balances {
			// A negative balance in any currency is money the supplier owes the platform (a clawback);
			// it is netted from later releases and nothing is paid out until it is.
			if b.BalanceMinor < 0 {
				return nil, apierr.Precondition(commonv1.ErrorReason_ERROR_REASON_INSUFFICIENT_BALANCE,
					"your available %s balance is negative (%d); no withdrawal is possible until later releases cover it",
					b.Currency, b.BalanceMinor).With("currency", b.Currency).With("balance_minor", b.BalanceMinor)
			}
			if b.Currency == cur {
				available = b.BalanceMinor
			}
		}
		if amount > available {
			return nil, insufficient(cur, amount, available)
		}
		id := resource.ID("wdr_")
		earliest, latest := now.Add(settleEarliest), now.Add(settleLatest)
		w, err := tx.Withdrawal.Create().SetID(id).SetSupplierID(sup.ID).SetRequestID(req.Msg.GetRequestId()).
			SetAmountMinor(amount).SetCurrency(cur).SetBankAccount(sup.BankAccount).SetHolderName(sup.Name).
			SetBankCountry(bankCountry(sup)).SetExpectedSettleEarliestTime(earliest).SetExpectedSettleTime(latest).
			SetRevision(1).SetEtag(resource.Etag(id, 1)).SetCreateTime(now).SetUpdateTime(now).Save(ctx)
		if err != nil {
			return nil, fmt.Errorf("create withdrawal: %w", err)
		}
		posted, err := ledger.PostResult(ctx, tx, ledger.Transfer{
			CauseKind: ledger.CauseWithdrawal, CauseID: id, Currency: cur, Time: now,
			Memo: "withdrawal to the supplier's bank account", Links: ledger.Links{WithdrawalID: id},
			Legs: []ledger.Leg{
				{Kind: ledger.SupplierAvailable, Owner: sup.ID, Amount: -amount, NoOverdraft: true},
				{Kind: ledger.BankPayouts, Owner: sup.ID, Amount: amount},
			},
		})
		if errors.Is(err, ledger.ErrOverdraft) {
			return nil, insufficient(cur, amount, available)
		}
		if err != nil {
			return nil, err
		}
		if w, err = tx.Withdrawal.UpdateOne(w).SetTransferID(posted.TransferID).Save(ctx); err != nil {
			return nil, fmt.Errorf("create withdrawal: %w", err)
		}
		if err := deadline.Schedule(ctx, tx, "withdrawal", id, KindOverdue, latest, now); err != nil {
			return nil, err
		}
		if err := s.record(ctx, tx, w, wchange{event: "requested", actor: p, now: now}); err != nil {
			return nil, err
		}
		return &payoutv1.RequestWithdrawalResponse{Withdrawal: withdrawalToProto(w)}, nil
	})
}

func insufficient(cur string, amount, available int64) error {
	return apierr.Precondition(commonv1.ErrorReason_ERROR_REASON_INSUFFICIENT_BALANCE,
		"you asked to withdraw %d %s minor units but your available %s balance is %d", amount, cur, cur, available).
		With("currency", cur).With("available_minor", available).With("requested_minor", amount)
}

// bankCountry is the bank's country: an IBAN starts with it, otherwise the supplier's country.
func bankCountry(a *ent.Account) string {
	acct := strings.ToUpper(strings.TrimSpace(a.BankAccount))
	if len(acct) >= 4 && acct[0] >= 'A' && acct[0] <= 'Z' && acct[1] >= 'A' && acct[1] <= 'Z' && acct[2] >= '0' && acct[2] <= '9' {
		return acct[:2]
	}
	return a.Country
}

// visible reports whether p may see w.
func visible(p auth.Principal, w *ent.Withdrawal) bool {
	return p.Role == commonv1.Role_ROLE_OPERATOR || (p.Role == commonv1.Role_ROLE_SUPPLIER && p.AccountID == w.SupplierID)
}

// GetWithdrawal returns one withdrawal.
func (s *Service) GetWithdrawal(ctx context.Context, req *connect.Request[payoutv1.GetWithdrawalRequest]) (*connect.Response[payoutv1.GetWithdrawalResponse], error) {
	p := auth.FromContext(ctx)
	w, err := s.store.Client.Withdrawal.Get(ctx, req.Msg.GetId())
	if ent.IsNotFound(err) || (err == nil && !visible(p, w)) {
		return nil, apierr.NotFound("withdrawal", req.Msg.GetId())
	}
	if err != nil {
		return nil, fmt.Errorf("read withdrawal %s: %w", req.Msg.GetId(), err)
	}
	return connect.NewResponse(&payoutv1.GetWithdrawalResponse{Withdrawal: withdrawalToProto(w)}), nil
}

// ListWithdrawals lists withdrawals, newest first.
func (s *Service) ListWithdrawals(ctx context.Context, req *connect.Request[payoutv1.ListWithdrawalsRequest]) (*connect.Response[payoutv1.ListWithdrawalsResponse], error) {
	p := auth.FromContext(ctx)
	m := req.Msg
	if err := p.RequireRole("list withdrawals", commonv1.Role_ROLE_SUPPLIER, commonv1.Role_ROLE_OPERATOR); err != nil {
		return nil, err
	}
	supplier := m.GetSupplierAccountId()
	if p.Role == commonv1.Role_ROLE_SUPPLIER {
		if supplier != "" && supplier != p.AccountID {
			return nil, apierr.NotFound("supplier", supplier)
		}
		supplier = p.AccountID
	}
	filter := pagination.Filter("withdrawals", p.AccountID, supplier, m.GetState(), m.GetOverdueOnly())
	size, after, err := s.pager.Start(m, 50, 500, filter)
	if err != nil {
		return nil, err
	}
	q := s.store.Client.Withdrawal.Query()
	if supplier != "" {
		q = q.Where(entwithdrawal.SupplierID(supplier))
	}
	if st := m.GetState(); st != payoutv1.Withdrawal_STATE_UNSPECIFIED {
		q = q.Where(entwithdrawal.StateEQ(stateFromProto[st]))
	}
	if m.GetOverdueOnly() {
		q = q.Where(entwithdrawal.OverdueTimeNotNil(),
			entwithdrawal.StateIn(machine.OpenStates()...))
	}
	if after != "" {
		q = q.Where(entwithdrawal.IDLT(after))
	}
	rows, err := q.Order(ent.Desc(entwithdrawal.FieldID)).Limit(size + 1).All(ctx)
	if err != nil {
		return nil, fmt.Errorf("list withdrawals: %w", err)
	}
	out := &payoutv1.ListWithdrawalsResponse{}
	rows, out.NextPageToken = pagination.Page(s.pager, rows, size, filter, func(w *ent.Withdrawal) string { return w.ID })
	for _, w := range rows {
		out.Withdrawals = append(out.Withdrawals, withdrawalToProto(w))
	}
	return connect.NewResponse(out), nil
}

// loadForOperator starts an operator's transition of a withdrawal: it checks the role, takes the locks in
// the service's order (the withdrawal's deadline rows first, as the deadline worker holds them, then the
// event feed), and reads the withdrawal as it is now, checking the etag.
func (s *Service) loadForOperator(ctx context.Context, tx *ent.Tx, p auth.Principal, id, etag, action string, now time.Time) (*ent.Withdrawal, error) {
	if err := p.RequireRole(action+" (banks report through operators or a bank integration)", commonv1.Role_ROLE_OPERATOR); err != nil {
		return nil, err
	}
	if err := deadline.Cancel(ctx, tx, "withdrawal", id, KindOverdue, now); err != nil {
		return nil, err
	}
	if err := s.lockFeed(ctx, tx); err != nil {
		return nil, err
	}
	w, err := tx.Withdrawal.Get(ctx, id)
	if ent.IsNotFound(err) {
		return nil, apierr.NotFound("withdrawal", id)
	}
	if err != nil {
		return nil, fmt.Errorf("read withdrawal %s: %w", id, err)
	}
	if etag != "" && etag != w.Etag {
		return nil, apierr.EtagMismatch("withdrawal", id, w.Etag)
	}
	return w, nil
}

// ProcessWithdrawal records that the wire was sent.
func (s *Service) ProcessWithdrawal(ctx context.Context, req *connect.Request[payoutv1.ProcessWithdrawalRequest]) (*connect.Response[payoutv1.ProcessWithdrawalResponse], error) {
	return run(ctx, s, req, func(tx *ent.Tx, p auth.Principal, now time.Time) (*payoutv1.ProcessWithdrawalResponse, error) {
		w, err := s.loadForOperator(ctx, tx, p, req.Msg.GetId(), req.Msg.GetEtag(), "send the wire of a withdrawal", now)
		if err != nil {
			return nil, err
		}
		if err := process.Check(w); err != nil {
			return nil, err
		}
		latest := now.Add(settleLatest)
		if err := deadline.Schedule(ctx, tx, "withdrawal", w.ID, KindOverdue, latest, now); err != nil {
			return nil, err
		}
		w, err = s.commit(ctx, tx, w, wchange{event: "processing", actor: p, now: now, set: func(u *ent.WithdrawalUpdateOne) {
			u.SetState(process.To).SetProcessTime(now).SetBankReference(req.Msg.GetBankReference()).
				SetExpectedSettleEarliestTime(now.Add(settleEarliest)).SetExpectedSettleTime(latest).ClearOverdueTime()
		}})
		if err != nil {
			return nil, err
		}
		return &payoutv1.ProcessWithdrawalResponse{Withdrawal: withdrawalToProto(w)}, nil
	})
}

// ConfirmWithdrawal records the bank's payment.
func (s *Service) ConfirmWithdrawal(ctx context.Context, req *connect.Request[payoutv1.ConfirmWithdrawalRequest]) (*connect.Response[payoutv1.ConfirmWithdrawalResponse], error) {
	return run(ctx, s, req, func(tx *ent.Tx, p auth.Principal, now time.Time) (*payoutv1.ConfirmWithdrawalResponse, error) {
		w, err := s.loadForOperator(ctx, tx, p, req.Msg.GetId(), req.Msg.GetEtag(), "confirm a withdrawal", now)
		if err != nil {
			return nil, err
		}
		if w.State == entwithdrawal.StateRequested {
			return nil, apierr.IllegalState("withdrawal", w.ID, "confirm (record that the wire was sent first: ProcessWithdrawal)", string(w.State))
		}
		if err := confirm.Check(w); err != nil {
			return nil, err
		}
		ref := req.Msg.GetBankReference()
		if ref == "" {
			ref = w.BankReference
		}
		if ref == "" {
			return nil, apierr.Invalid("bank_reference", "the bank's reference for the wire is required to confirm it (it was not given when the wire was sent)")
		}
		w, err = s.commit(ctx, tx, w, wchange{event: "paid", actor: p, now: now, set: func(u *ent.WithdrawalUpdateOne) {
			u.SetState(confirm.To).SetFinishTime(now).SetBankReference(ref)
		}})
		if err != nil {
			return nil, err
		}
		return &payoutv1.ConfirmWithdrawalResponse{Withdrawal: withdrawalToProto(w)}, nil
	})
}

// FailWithdrawal records a failed payment and returns the amount to the available balance.
func (s *Service) FailWithdrawal(ctx context.Context, req *connect.Request[payoutv1.FailWithdrawalRequest]) (*connect.Response[payoutv1.FailWithdrawalResponse], error) {
	return run(ctx, s, req, func(tx *ent.Tx, p auth.Principal, now time.Time) (*payoutv1.FailWithdrawalResponse, error) {
		w, err := s.loadForOperator(ctx, tx, p, req.Msg.GetId(), req.Msg.GetEtag(), "fail a withdrawal", now)
		if err != nil {
			return nil, err
		}
		if err := fail.Check(w); err != nil {
			return nil, err
		}
		posted, err := ledger.PostResult(ctx, tx, ledger.Transfer{
			CauseKind: ledger.CauseWithdrawalReversal, CauseID: w.ID, Currency: w.Currency, Time: now,
			Memo: "failed withdrawal returned to the available balance", Links: ledger.Links{WithdrawalID: w.ID},
			Legs: []ledger.Leg{
				{Kind: ledger.BankPayouts, Owner: w.SupplierID, Amount: -w.AmountMinor},
				{Kind: ledger.SupplierAvailable, Owner: w.SupplierID, Amount: w.AmountMinor},
			},
		})
		if err != nil {
			return nil, err
		}
		w, err = s.commit(ctx, tx, w, wchange{event: "failed", actor: p, now: now, set: func(u *ent.WithdrawalUpdateOne) {
			u.SetState(fail.To).SetFinishTime(now).SetFailureReason(req.Msg.GetFailureReason()).
				SetReversalTransferID(posted.TransferID)
		}})
		if err != nil {
			return nil, err
		}
		return &payoutv1.FailWithdrawalResponse{Withdrawal: withdrawalToProto(w)}, nil
	})
}

// overdueReady is the overdue timer's stale check: the withdrawal is still open, not marked overdue yet,
// and its latest expected settle time has come.
func overdueReady(w *ent.Withdrawal, now time.Time) bool {
	return markOverdue.Possible(w) && w.OverdueTime == nil && w.ExpectedSettleTime != nil && !now.Before(*w.ExpectedSettleTime)
}

// overdue marks an open withdrawal that passed its latest expected settle time without confirmation.
func (s *Service) overdue(ctx context.Context, tx *ent.Tx, d *ent.Deadline, now time.Time) error {
	if err := s.lockFeed(ctx, tx); err != nil {
		return err
	}
	w, err := tx.Withdrawal.Get(ctx, d.SubjectID)
	if ent.IsNotFound(err) {
		return deadline.ErrStale
	}
	if err != nil {
		return fmt.Errorf("read withdrawal %s: %w", d.SubjectID, err)
	}
	if !overdueReady(w, now) {
		return deadline.ErrStale
	}
	_, err = s.commit(ctx, tx, w, wchange{event: "overdue", actor: auth.System, now: now, set: func(u *ent.WithdrawalUpdateOne) {
		u.SetOverdueTime(now)
	}})
	return err
}
