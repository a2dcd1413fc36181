package payout

import (
	"fmt"
	"strings"

	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/tradeassure/tradeassure/ent"
	entwithdrawal "github.com/tradeassure/tradeassure/ent/withdrawal"
	payoutv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/payout/v1"
	"github.com/tradeassure/tradeassure/server/ledger"
	"github.com/tradeassure/tradeassure/server/resource"
)

var kindToProto = map[ledger.Kind]payoutv1.LedgerAccount_Kind{
	ledger.BuyerFunding:         payoutv1.LedgerAccount_KIND_BUYER_FUNDING,
	ledger.OrderEscrow:          payoutv1.LedgerAccount_KIND_ORDER_ESCROW,
	ledger.SupplierPending:      payoutv1.LedgerAccount_KIND_SUPPLIER_PENDING,
	ledger.SupplierAvailable:    payoutv1.LedgerAccount_KIND_SUPPLIER_AVAILABLE,
	ledger.PlatformFees:         payoutv1.LedgerAccount_KIND_PLATFORM_FEES,
	ledger.PlatformCompensation: payoutv1.LedgerAccount_KIND_PLATFORM_COMPENSATION,
	ledger.Refunds:              payoutv1.LedgerAccount_KIND_REFUNDS,
	ledger.BankPayouts:          payoutv1.LedgerAccount_KIND_BANK_PAYOUTS,
}

var kindFromProto = func() map[payoutv1.LedgerAccount_Kind]ledger.Kind {
	m := map[payoutv1.LedgerAccount_Kind]ledger.Kind{}
	for k, v := range kindToProto {
		m[v] = k
	}
	return m
}()

var stateToProto = map[entwithdrawal.State]payoutv1.Withdrawal_State{
	entwithdrawal.StateRequested:  payoutv1.Withdrawal_STATE_REQUESTED,
	entwithdrawal.StateProcessing: payoutv1.Withdrawal_STATE_PROCESSING,
	entwithdrawal.StatePaid:       payoutv1.Withdrawal_STATE_PAID,
	entwithdrawal.StateFailed:     payoutv1.Withdrawal_STATE_FAILED,
}

var stateFromProto = func() map[payoutv1.Withdrawal_State]entwithdrawal.State {
	m := map[payoutv1.Withdrawal_State]entwithdrawal.State{}
	for k, v := range stateToProto {
		m[v] = k
	}
	return m
}()

// supplierKind reports whether an account kind is a supplier's balance.
func supplierKind(k ledger.Kind) bool {
	return k == ledger.SupplierAvailable || k == ledger.SupplierPending
}

// causeOf names, for the API, the movement of money from one account kind to another for an internal
// cause. One posting may show as several movements: an escrow release is a release to the supplier and a
// fee to the platform, and a refund that the escrow could not cover is a refund plus a clawback from the
// supplier's balance.
func causeOf(cause string, from, to ledger.Kind) payoutv1.CauseKind {
	switch cause {
	case ledger.CausePayment:
		return payoutv1.CauseKind_CAUSE_KIND_ORDER_PAYMENT
	case ledger.CauseEscrowRelease:
		if to == ledger.PlatformFees {
			return payoutv1.CauseKind_CAUSE_KIND_PLATFORM_FEE
		}
		return payoutv1.CauseKind_CAUSE_KIND_ESCROW_RELEASE
	case ledger.CausePendingRelease:
		return payoutv1.CauseKind_CAUSE_KIND_PENDING_RELEASE
	case ledger.CauseWithdrawal:
		return payoutv1.CauseKind_CAUSE_KIND_WITHDRAWAL
	case ledger.CauseWithdrawalReversal:
		return payoutv1.CauseKind_CAUSE_KIND_WITHDRAWAL_REVERSAL
	case ledger.CauseClawback:
		return payoutv1.CauseKind_CAUSE_KIND_CLAWBACK
	case ledger.CauseFreeReturnComp:
		return payoutv1.CauseKind_CAUSE_KIND_FREE_RETURN_COMPENSATION
	case ledger.CauseComplaintComp, "complaint_penalty":
		return payoutv1.CauseKind_CAUSE_KIND_COMPLAINT_PENALTY
	case ledger.CauseInspectionFee:
		return payoutv1.CauseKind_CAUSE_KIND_INSPECTION_FEE_REIMBURSEMENT
	case ledger.CauseChargeback:
		return payoutv1.CauseKind_CAUSE_KIND_CHARGEBACK
	}
	if strings.Contains(cause, "refund") {
		if supplierKind(from) {
			return payoutv1.CauseKind_CAUSE_KIND_CLAWBACK
		}
		return payoutv1.CauseKind_CAUSE_KIND_REFUND
	}
	return payoutv1.CauseKind_CAUSE_KIND_UNSPECIFIED
}

// entryCause is the cause of one entry as its account's statement shows it.
func entryCause(e *ent.LedgerEntry) payoutv1.CauseKind {
	k := ledger.Kind(e.AccountKind)
	if e.AmountMinor < 0 {
		return causeOf(e.CauseKind, k, "")
	}
	return causeOf(e.CauseKind, "", k)
}

// internalCauses are the stored cause kinds that can show as ck (a superset; callers filter exactly).
func internalCauses(ck payoutv1.CauseKind) []string {
	switch ck {
	case payoutv1.CauseKind_CAUSE_KIND_ORDER_PAYMENT:
		return []string{ledger.CausePayment}
	case payoutv1.CauseKind_CAUSE_KIND_ESCROW_RELEASE, payoutv1.CauseKind_CAUSE_KIND_PLATFORM_FEE:
		return []string{ledger.CauseEscrowRelease}
	case payoutv1.CauseKind_CAUSE_KIND_PENDING_RELEASE:
		return []string{ledger.CausePendingRelease}
	case payoutv1.CauseKind_CAUSE_KIND_WITHDRAWAL:
		return []string{ledger.CauseWithdrawal}
	case payoutv1.CauseKind_CAUSE_KIND_WITHDRAWAL_REVERSAL:
		return []string{ledger.CauseWithdrawalReversal}
	case payoutv1.CauseKind_CAUSE_KIND_FREE_RETURN_COMPENSATION:
		return []string{ledger.CauseFreeReturnComp}
	case payoutv1.CauseKind_CAUSE_KIND_COMPLAINT_PENALTY:
		return []string{ledger.CauseComplaintComp, "complaint_penalty"}
	case payoutv1.CauseKind_CAUSE_KIND_INSPECTION_FEE_REIMBURSEMENT:
		return []string{ledger.CauseInspectionFee}
	case payoutv1.CauseKind_CAUSE_KIND_CHARGEBACK:
		return []string{ledger.CauseChargeback}
	}
	refunds := []string{ledger.CauseCancellationRefund, ledger.CauseDisputeRefund, ledger.CauseReturnRefund, "refund"}
	if ck == payoutv1.CauseKind_CAUSE_KIND_CLAWBACK {
		return append(refunds, ledger.CauseClawback)
	}
	return refunds
}

// movement is one from→to part of a posting, as the API shows transfers.
type movement struct {
	id       string
	from, to *ent.LedgerEntry
	amount   int64
}

// movements splits a posting's entries into from→to movements, pairing debits with credits in the
// order the legs were posted. A two-leg posting is one movement with the posting's id; the parts of a
// larger one are numbered "<id>-1", "<id>-2", ….
func movements(transferID string, entries []*ent.LedgerEntry) []movement {
	var debits, credits []*ent.LedgerEntry
	ordered := append([]*ent.LedgerEntry(nil), entries...)
	for i := 1; i < len(ordered); i++ {
		for j := i; j > 0 && ordered[j].Leg < ordered[j-1].Leg; j-- {
			ordered[j], ordered[j-1] = ordered[j-1], ordered[j]
		}
	}
	for _, e := range ordered {
		if e.AmountMinor < 0 {
			debits = append(debits, e)
		} else {
			credits = append(credits, e)
		}
	}
	var out []movement
	i, j := 0, 0
	var dLeft, cLeft int64
	if len(debits) > 0 {
		dLeft = -debits[0].AmountMinor
	}
	if len(credits) > 0 {
		cLeft = credits[0].AmountMinor
	}
	for i < len(debits) && j < len(credits) {
		n := min(dLeft, cLeft)
		out = append(out, movement{from: debits[i], to: credits[j], amount: n})
		dLeft -= n
		cLeft -= n
		if dLeft == 0 {
			if i++; i < len(debits) {
				dLeft = -debits[i].AmountMinor
			}
		}
		if cLeft == 0 {
			if j++; j < len(credits) {
				cLeft = credits[j].AmountMinor
			}
		}
	}
	for k := range out {
		if len(out) == 1 {
			out[k].id = transferID
		} else {
			out[k].id = fmt.Sprintf("%s-%d", transferID, k+1)
		}
	}
	return out
}

// movementOf returns the id of the movement of a posting that involves entry e.
func movementOf(transferID string, entries []*ent.LedgerEntry, entryID string) string {
	for _, m := range movements(transferID, entries) {
		if m.from.ID == entryID || m.to.ID == entryID {
			return m.id
		}
	}
	return transferID
}

// complaintOf is the complaint a transfer concerns. Complaint penalties posted before transfers carried
// the complaint's id still name it in their cause id ("<complaint id>/<penalty kind>").
func complaintOf(causeKind, causeID, linked string) string {
	if linked != "" || (causeKind != ledger.CauseComplaintComp && causeKind != "complaint_penalty") {
		return linked
	}
	id, _, _ := strings.Cut(causeID, "/")
	return id
}

func transferToProto(t *ent.LedgerTransfer, m movement) *payoutv1.Transfer {
	from, to := ledger.Kind(m.from.AccountKind), ledger.Kind(m.to.AccountKind)
	return &payoutv1.Transfer{
		Id: m.id, CreateTime: timestamppb.New(t.Time),
		Cause: &payoutv1.Cause{Kind: causeOf(t.CauseKind, from, to), Id: t.CauseID, OrderId: t.OrderID, ReturnId: t.ReturnID,
			DisputeId: t.DisputeID, ComplaintId: complaintOf(t.CauseKind, t.CauseID, t.ComplaintID), WithdrawalId: t.WithdrawalID},
		FromAccountId: m.from.AccountID, FromKind: kindToProto[from],
		ToAccountId: m.to.AccountID, ToKind: kindToProto[to],
		Amount: resource.Money(m.amount, t.Currency), Description: t.Memo,
	}
}

func accountToProto(a *ent.LedgerAccount) *payoutv1.LedgerAccount {
	return &payoutv1.LedgerAccount{
		Id: a.ID, Etag: resource.Etag(a.ID, a.Revision), Revision: a.Revision,
		CreateTime: timestamppb.New(a.CreateTime), UpdateTime: timestamppb.New(a.UpdateTime),
		Kind: kindToProto[a.Kind], OwnerId: a.OwnerID, Currency: a.Currency,
		Balance: resource.Money(a.BalanceMinor, a.Currency), External: ledger.External(a.Kind),
	}
}

func withdrawalToProto(w *ent.Withdrawal) *payoutv1.Withdrawal {
	pb := &payoutv1.Withdrawal{
		Id: w.ID, Etag: w.Etag, Revision: w.Revision, CreateTime: timestamppb.New(w.CreateTime),
		UpdateTime: timestamppb.New(w.UpdateTime), SupplierAccountId: w.SupplierID,
		Amount: resource.Money(w.AmountMinor, w.Currency), State: stateToProto[w.State],
		BankAccount: &payoutv1.BankAccount{HolderName: w.HolderName, AccountNumberLast4: resource.AccountLast4(w.BankAccount),
			Country: w.BankCountry},
		ExpectedSettleEarliestTime: resource.Timestamp(w.ExpectedSettleEarliestTime), ExpectedSettleLatestTime: resource.Timestamp(w.ExpectedSettleTime),
		ProcessTime: resource.Timestamp(w.ProcessTime), FailureReason: w.FailureReason, BankReference: w.BankReference,
		TransferId: w.TransferID, ReversalTransferId: w.ReversalTransferID, OverdueTime: resource.Timestamp(w.OverdueTime),
		RequestId: w.RequestID,
	}
	switch w.State {
	case entwithdrawal.StatePaid:
		pb.PaidTime = resource.Timestamp(w.FinishTime)
	case entwithdrawal.StateFailed:
		pb.FailTime = resource.Timestamp(w.FinishTime)
	}
	return pb
}
