package payout_test

import (
	"testing"

	"connectrpc.com/connect"

	commonv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/common/v1"
	orderv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/order/v1"
	payoutv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/payout/v1"
	"github.com/tradeassure/tradeassure/server/ledger"
	"github.com/tradeassure/tradeassure/server/servertest"
)

// TestStatementAndLedger checks a supplier's statement (every entry with its cause and the balance after
// it, paged and filtered), its balance (available, withdrawing, in escrow), the operators' platform
// accounts, transfers and reconciliation, and who may read what.
func TestStatementAndLedger(t *testing.T) {
	servertest.Each(t, func(t *testing.T, e *servertest.Env) {
		m := newMarket(t, e)
		ctx := e.Ctx
		a := m.completed(taPolicy, 10)     // 155.00: +151.90, fee 3.10
		b := m.completed(retailPolicy, 5)  // 105.00: +102.90, fee 2.10
		open := m.paid(taPolicy, 2)        // 75.00 in escrow
		m.refund(b.GetId(), 5_00, "dsp_1") // clawback of 5.00 after release
		w := must(m.withdraw(m.supplier, 200_00))(t)

		t.Run("balance", func(t *testing.T) {
			bal := m.balance(m.supplier)
			servertest.CheckFields(t, "balance",
				servertest.Field{Name: "available", Got: bal.GetAvailable().GetAmountMinor(), Want: int64(151_90 + 102_90 - 5_00 - 200_00)},
				servertest.Field{Name: "withdrawing", Got: bal.GetWithdrawing().GetAmountMinor(), Want: int64(200_00)},
				servertest.Field{Name: "in_escrow", Got: bal.GetInEscrow().GetAmountMinor(), Want: int64(75_00)},
				servertest.Field{Name: "pending", Got: bal.GetPending().GetAmountMinor(), Want: int64(0)})
		})

		all := must(m.supplier.Payouts.ListStatementEntries(ctx, connect.NewRequest(&payoutv1.ListStatementEntriesRequest{
			SupplierAccountId: m.supplier.ID()})))(t).Msg.GetEntries()
		t.Run("statement", func(t *testing.T) {
			want := []struct {
				kind   payoutv1.CauseKind
				amount int64
				order  string
			}{
				{payoutv1.CauseKind_CAUSE_KIND_ESCROW_RELEASE, 151_90, a.GetId()},
				{payoutv1.CauseKind_CAUSE_KIND_ESCROW_RELEASE, 102_90, b.GetId()},
				{payoutv1.CauseKind_CAUSE_KIND_CLAWBACK, -5_00, b.GetId()},
				{payoutv1.CauseKind_CAUSE_KIND_WITHDRAWAL, -200_00, ""},
			}
			if len(all) != len(want) {
				t.Fatalf("statement has %d entries, want %d: %v", len(all), len(want), all)
			}
			var running int64
			for i, w := range want {
				got := all[i]
				running += w.amount
				if got.GetCause().GetKind() != w.kind || got.GetAmount().GetAmountMinor() != w.amount ||
					got.GetCause().GetOrderId() != w.order || got.GetBalanceAfter().GetAmountMinor() != running ||
					got.GetDescription() == "" || got.GetTransferId() == "" {
					t.Fatalf("entry %d = %v, want %+v (balance %d)", i, got, w, running)
				}
			}
			if all[2].GetCause().GetDisputeId() != "dsp_1" || all[3].GetCause().GetWithdrawalId() != w.GetId() {
				t.Fatalf("links: %v, %v", all[2].GetCause(), all[3].GetCause())
			}
			if all[3].GetTransferId() != w.GetTransferId() {
				t.Fatalf("withdrawal entry's transfer %s, withdrawal's %s", all[3].GetTransferId(), w.GetTransferId())
			}
		})
		t.Run("statement paging and filters", func(t *testing.T) {
			var paged []*payoutv1.StatementEntry
			tok := ""
			for {
				page := must(m.operator.Payouts.ListStatementEntries(ctx, connect.NewRequest(&payoutv1.ListStatementEntriesRequest{
					SupplierAccountId: m.supplier.ID(), PageSize: 3, PageToken: tok})))(t).Msg
				paged = append(paged, page.GetEntries()...)
				if tok = page.GetNextPageToken(); tok == "" {
					break
				}
			}
			if len(paged) != len(all) {
				t.Fatalf("paged %d entries, want %d", len(paged), len(all))
			}
			claw := must(m.supplier.Payouts.ListStatementEntries(ctx, connect.NewRequest(&payoutv1.ListStatementEntriesRequest{
				SupplierAccountId: m.supplier.ID(), CauseKind: payoutv1.CauseKind_CAUSE_KIND_CLAWBACK})))(t).Msg.GetEntries()
			if len(claw) != 1 || claw[0].GetId() != all[2].GetId() {
				t.Fatalf("clawbacks = %v", claw)
			}
			byOrder := must(m.supplier.Payouts.ListStatementEntries(ctx, connect.NewRequest(&payoutv1.ListStatementEntriesRequest{
				SupplierAccountId: m.supplier.ID(), OrderId: b.GetId()})))(t).Msg.GetEntries()
			if len(byOrder) != 2 {
				t.Fatalf("entries of order b = %v", byOrder)
			}
			_, err := m.supplier.Payouts.ListStatementEntries(ctx, connect.NewRequest(&payoutv1.ListStatementEntriesRequest{
				SupplierAccountId: m.supplier.ID(), PageSize: 3, PageToken: "garbage"}))
			servertest.WantError(t, err, connect.CodeInvalidArgument, commonv1.ErrorReason_ERROR_REASON_INVALID_PAGE_TOKEN)
			_, err = m.supplier.Payouts.ListStatementEntries(ctx, connect.NewRequest(&payoutv1.ListStatementEntriesRequest{
				SupplierAccountId: m.supplier.ID(), PageSize: -1}))
			servertest.WantError(t, err, connect.CodeInvalidArgument, commonv1.ErrorReason_ERROR_REASON_INVALID_FIELD)
		})

		// Who may read: the supplier itself and operators; another supplier sees NOT_FOUND, a buyer is refused.
		t.Run("who may read", func(t *testing.T) {
			other := e.Supplier(100_00, false)
			_, err := other.Payouts.GetBalance(ctx, connect.NewRequest(&payoutv1.GetBalanceRequest{SupplierAccountId: m.supplier.ID()}))
			servertest.WantError(t, err, connect.CodeNotFound, commonv1.ErrorReason_ERROR_REASON_NOT_FOUND)
			_, err = other.Payouts.ListStatementEntries(ctx, connect.NewRequest(&payoutv1.ListStatementEntriesRequest{SupplierAccountId: m.supplier.ID()}))
			servertest.WantError(t, err, connect.CodeNotFound, commonv1.ErrorReason_ERROR_REASON_NOT_FOUND)
			_, err = m.buyer.Payouts.GetBalance(ctx, connect.NewRequest(&payoutv1.GetBalanceRequest{SupplierAccountId: m.supplier.ID()}))
			servertest.WantError(t, err, connect.CodePermissionDenied, commonv1.ErrorReason_ERROR_REASON_ROLE_NOT_ALLOWED)
			_, err = m.operator.Payouts.GetBalance(ctx, connect.NewRequest(&payoutv1.GetBalanceRequest{SupplierAccountId: m.buyer.ID()}))
			servertest.WantError(t, err, connect.CodeNotFound, commonv1.ErrorReason_ERROR_REASON_NOT_FOUND)
			for name, call := range map[string]func() error{
				"platform accounts": func() error {
					_, err := m.supplier.Payouts.GetPlatformAccounts(ctx, connect.NewRequest(&payoutv1.GetPlatformAccountsRequest{}))
					return err
				},
				"ledger accounts": func() error {
					_, err := m.supplier.Payouts.ListLedgerAccounts(ctx, connect.NewRequest(&payoutv1.ListLedgerAccountsRequest{}))
					return err
				},
				"transfers": func() error {
					_, err := m.supplier.Payouts.ListTransfers(ctx, connect.NewRequest(&payoutv1.ListTransfersRequest{}))
					return err
				},
				"reconcile": func() error {
					_, err := m.buyer.Payouts.Reconcile(ctx, connect.NewRequest(&payoutv1.ReconcileRequest{}))
					return err
				},
			} {
				t.Run(name, func(t *testing.T) {
					servertest.WantError(t, call(), connect.CodePermissionDenied, commonv1.ErrorReason_ERROR_REASON_ROLE_NOT_ALLOWED)
				})
			}
		})

		// The operators' view: the platform's fees, the transfers of an order as from→to movements, and the
		// reconciliation.
		t.Run("operator view", func(t *testing.T) {
			pa := must(m.operator.Payouts.GetPlatformAccounts(ctx, connect.NewRequest(&payoutv1.GetPlatformAccountsRequest{Currency: "USD"})))(t).Msg
			if len(pa.GetFeeAccounts()) != 1 || pa.GetFeeAccounts()[0].GetBalance().GetAmountMinor() != 3_10+2_10 {
				t.Fatalf("platform accounts = %v", pa)
			}
			trs := must(m.operator.Payouts.ListTransfers(ctx, connect.NewRequest(&payoutv1.ListTransfersRequest{OrderId: a.GetId()})))(t).Msg.GetTransfers()
			if len(trs) != 3 {
				t.Fatalf("transfers of order a = %v", trs)
			}
			kinds := []payoutv1.CauseKind{trs[0].GetCause().GetKind(), trs[1].GetCause().GetKind(), trs[2].GetCause().GetKind()}
			if kinds[0] != payoutv1.CauseKind_CAUSE_KIND_ORDER_PAYMENT || kinds[1] != payoutv1.CauseKind_CAUSE_KIND_ESCROW_RELEASE ||
				kinds[2] != payoutv1.CauseKind_CAUSE_KIND_PLATFORM_FEE || trs[2].GetAmount().GetAmountMinor() != 3_10 ||
				trs[2].GetToKind() != payoutv1.LedgerAccount_KIND_PLATFORM_FEES || trs[1].GetFromKind() != payoutv1.LedgerAccount_KIND_ORDER_ESCROW {
				t.Fatalf("transfers of order a = %v", trs)
			}
			var count int
			tok := ""
			for {
				page := must(m.operator.Payouts.ListTransfers(ctx, connect.NewRequest(&payoutv1.ListTransfersRequest{PageSize: 2, PageToken: tok})))(t).Msg
				count += len(page.GetTransfers())
				if tok = page.GetNextPageToken(); tok == "" {
					break
				}
			}
			// Payments a, b, open; releases a, b (two movements each); the refund; the withdrawal.
			if count != 3+4+1+1 {
				t.Fatalf("paged %d transfers", count)
			}
			escrowAcct := ledger.AccountID(ledger.OrderEscrow, open.GetId(), "USD")
			byAcct := must(m.operator.Payouts.ListTransfers(ctx, connect.NewRequest(&payoutv1.ListTransfersRequest{AccountId: escrowAcct})))(t).Msg.GetTransfers()
			if len(byAcct) != 1 || byAcct[0].GetToAccountId() != escrowAcct || byAcct[0].GetAmount().GetAmountMinor() != 75_00 {
				t.Fatalf("transfers of %s = %v", escrowAcct, byAcct)
			}
			accts := must(m.operator.Payouts.ListLedgerAccounts(ctx, connect.NewRequest(&payoutv1.ListLedgerAccountsRequest{
				Kind: payoutv1.LedgerAccount_KIND_ORDER_ESCROW})))(t).Msg.GetAccounts()
			if len(accts) != 3 {
				t.Fatalf("escrow accounts = %v", accts)
			}
			r := m.reconcile()
			if len(r.GetCurrencySums()) != 1 || r.GetCurrencySums()[0].GetTransferCount() != 7 || !r.GetCurrencySums()[0].GetBalanced() {
				t.Fatalf("reconcile = %v", r)
			}
		})

		// The open order is cancelled: its escrow goes back to the buyer, and a cancelled order's escrow is
		// zero.
		t.Run("cancellation empties the escrow", func(t *testing.T) {
			must(m.buyer.Orders.CancelOrder(ctx, connect.NewRequest(&orderv1.CancelOrderRequest{
				OrderId: open.GetId(), Reason: orderv1.CancellationReason_CANCELLATION_REASON_BUYER})))(t)
			if got := m.balance(m.supplier).GetInEscrow().GetAmountMinor(); got != 0 {
				t.Fatalf("in escrow after cancellation = %d", got)
			}
			m.reconcile()
		})
		audit(t, e)
	})
}

// TestReconcileFindsMismatches checks that reconciliation reports a closed order that still holds escrow
// (written directly into the database, as a bug would).
func TestReconcileFindsMismatches(t *testing.T) {
	e := servertest.New(t, servertest.Options{})
	m := newMarket(t, e)
	o := m.paid(taPolicy, 1)
	must(struct{}{}, e.Store.Client.Order.UpdateOneID(o.GetId()).SetState("closed").Exec(e.Ctx))(t)
	r := must(m.operator.Payouts.Reconcile(e.Ctx, connect.NewRequest(&payoutv1.ReconcileRequest{})))(t).Msg
	if r.GetOk() || len(r.GetEscrowMismatches()) != 1 || r.GetEscrowMismatches()[0].GetOrderId() != o.GetId() ||
		r.GetEscrowMismatches()[0].GetBalance().GetAmountMinor() != 65_00 {
		t.Fatalf("reconcile = %v", r)
	}
	must(struct{}{}, e.Store.Client.LedgerAccount.Create().SetID(ledger.AccountID(ledger.PlatformFees, "", "EUR")).
		SetKind(ledger.PlatformFees).SetCurrency("EUR").SetBalanceMinor(7).
		SetCreateTime(e.Clock.Now()).SetUpdateTime(e.Clock.Now()).Exec(e.Ctx))(t)
	r = must(m.operator.Payouts.Reconcile(e.Ctx, connect.NewRequest(&payoutv1.ReconcileRequest{})))(t).Msg
	if r.GetOk() || len(r.GetCurrencySums()) != 2 || r.GetCurrencySums()[0].GetCurrency() != "EUR" ||
		r.GetCurrencySums()[0].GetBalanced() || r.GetCurrencySums()[0].GetSum().GetAmountMinor() != 7 ||
		!r.GetCurrencySums()[1].GetBalanced() {
		t.Fatalf("reconcile = %v", r)
	}
}
