package payout

import (
	"testing"

	"github.com/tradeassure/tradeassure/ent"
	payoutv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/payout/v1"
	"github.com/tradeassure/tradeassure/server/ledger"
)

// TestCauseOf checks how every stored cause shows in the API, by the accounts money moved between.
func TestCauseOf(t *testing.T) {
	tests := []struct {
		cause    string
		from, to ledger.Kind
		want     payoutv1.CauseKind
	}{
		{ledger.CausePayment, ledger.BuyerFunding, ledger.OrderEscrow, payoutv1.CauseKind_CAUSE_KIND_ORDER_PAYMENT},
		{ledger.CauseEscrowRelease, ledger.OrderEscrow, ledger.SupplierAvailable, payoutv1.CauseKind_CAUSE_KIND_ESCROW_RELEASE},
		{ledger.CauseEscrowRelease, ledger.OrderEscrow, ledger.PlatformFees, payoutv1.CauseKind_CAUSE_KIND_PLATFORM_FEE},
		{ledger.CausePendingRelease, ledger.SupplierPending, ledger.SupplierAvailable, payoutv1.CauseKind_CAUSE_KIND_PENDING_RELEASE},
		{ledger.CauseCancellationRefund, ledger.OrderEscrow, ledger.Refunds, payoutv1.CauseKind_CAUSE_KIND_REFUND},
		{ledger.CauseDisputeRefund, ledger.OrderEscrow, ledger.Refunds, payoutv1.CauseKind_CAUSE_KIND_REFUND},
		{ledger.CauseDisputeRefund, ledger.SupplierAvailable, ledger.Refunds, payoutv1.CauseKind_CAUSE_KIND_CLAWBACK},
		{ledger.CauseReturnRefund, ledger.SupplierAvailable, ledger.Refunds, payoutv1.CauseKind_CAUSE_KIND_CLAWBACK},
		{ledger.CauseClawback, ledger.SupplierAvailable, ledger.PlatformCompensation, payoutv1.CauseKind_CAUSE_KIND_CLAWBACK},
		{ledger.CauseFreeReturnComp, ledger.PlatformCompensation, ledger.SupplierAvailable, payoutv1.CauseKind_CAUSE_KIND_FREE_RETURN_COMPENSATION},
		{ledger.CauseComplaintComp, ledger.SupplierAvailable, ledger.Refunds, payoutv1.CauseKind_CAUSE_KIND_COMPLAINT_PENALTY},
		{ledger.CauseInspectionFee, ledger.SupplierAvailable, ledger.Refunds, payoutv1.CauseKind_CAUSE_KIND_INSPECTION_FEE_REIMBURSEMENT},
		{ledger.CauseChargeback, ledger.OrderEscrow, ledger.Refunds, payoutv1.CauseKind_CAUSE_KIND_CHARGEBACK},
		{ledger.CauseWithdrawal, ledger.SupplierAvailable, ledger.BankPayouts, payoutv1.CauseKind_CAUSE_KIND_WITHDRAWAL},
		{ledger.CauseWithdrawalReversal, ledger.BankPayouts, ledger.SupplierAvailable, payoutv1.CauseKind_CAUSE_KIND_WITHDRAWAL_REVERSAL},
	}
	for _, tc := range tests {
		if got := causeOf(tc.cause, tc.from, tc.to); got != tc.want {
			t.Errorf("causeOf(%s, %s → %s) = %v, want %v", tc.cause, tc.from, tc.to, got, tc.want)
		}
		for _, ck := range []payoutv1.CauseKind{tc.want} {
			found := false
			for _, c := range internalCauses(ck) {
				found = found || c == tc.cause
			}
			if !found {
				t.Errorf("internalCauses(%v) misses %s", ck, tc.cause)
			}
		}
	}
}

// TestMovements checks how postings over more than two accounts show as from→to transfers.
func TestMovements(t *testing.T) {
	leg := func(id string, n int, kind ledger.Kind, amount int64) *ent.LedgerEntry {
		return &ent.LedgerEntry{ID: id, Leg: n, AccountID: string(kind), AccountKind: string(kind), AmountMinor: amount}
	}
	// A release: escrow 100 → supplier 98 + fees 2 (entries stored in account order, not leg order).
	release := []*ent.LedgerEntry{leg("f", 2, ledger.PlatformFees, 2), leg("e", 0, ledger.OrderEscrow, -100), leg("s", 1, ledger.SupplierAvailable, 98)}
	ms := movements("trf_1", release)
	if len(ms) != 2 || ms[0].id != "trf_1-1" || ms[0].to.ID != "s" || ms[0].amount != 98 ||
		ms[1].id != "trf_1-2" || ms[1].to.ID != "f" || ms[1].amount != 2 || ms[1].from.ID != "e" {
		t.Fatalf("release = %+v", ms)
	}
	if got := movementOf("trf_1", release, "f"); got != "trf_1-2" {
		t.Fatalf("movement of the fee = %s", got)
	}
	// A refund partly from escrow, partly clawed back: refunds +50 ← escrow 30 + supplier 20.
	refund := []*ent.LedgerEntry{leg("r", 0, ledger.Refunds, 50), leg("e", 1, ledger.OrderEscrow, -30), leg("s", 2, ledger.SupplierAvailable, -20)}
	ms = movements("trf_2", refund)
	if len(ms) != 2 || ms[0].from.ID != "e" || ms[0].amount != 30 || ms[1].from.ID != "s" || ms[1].amount != 20 {
		t.Fatalf("refund = %+v", ms)
	}
	// Two legs are one transfer with the posting's id.
	ms = movements("trf_3", []*ent.LedgerEntry{leg("a", 0, ledger.BuyerFunding, -7), leg("b", 1, ledger.OrderEscrow, 7)})
	if len(ms) != 1 || ms[0].id != "trf_3" || ms[0].amount != 7 {
		t.Fatalf("payment = %+v", ms)
	}
}
