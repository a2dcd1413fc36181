package payout_test

import (
	"testing"
	"time"

	"connectrpc.com/connect"

	commonv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/common/v1"
	eventv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/event/v1"
	payoutv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/payout/v1"
	"github.com/tradeassure/tradeassure/server/servertest"
)

// TestRequestWithdrawalRules checks every rule of a withdrawal request: the amount is at most the
// available balance, nothing while the balance is negative, the account frozen or its bank account
// unverified, suppliers only, and bad input refused, each writing nothing.
func TestRequestWithdrawalRules(t *testing.T) {
	servertest.Each(t, func(t *testing.T, e *servertest.Env) {
		m := newMarket(t, e)
		m.completed(taPolicy, 10) // 155.00 less 3.10 fee = 151.90 available
		const avail = 151_90
		if got := m.balance(m.supplier).GetAvailable().GetAmountMinor(); got != avail {
			t.Fatalf("available = %d, want %d", got, avail)
		}
		other := e.Supplier(100_00, false)
		frozen := e.Supplier(100_00, false)
		unverified := e.Supplier(100_00, false)
		must(struct{}{}, e.Store.Client.Account.UpdateOneID(frozen.ID()).SetFrozen(true).Exec(e.Ctx))(t)
		must(struct{}{}, e.Store.Client.Account.UpdateOneID(unverified.ID()).SetBankAccountVerified(false).Exec(e.Ctx))(t)
		tests := []struct {
			name   string
			who    *servertest.Party
			req    *payoutv1.RequestWithdrawalRequest
			code   connect.Code
			reason commonv1.ErrorReason
		}{
			{"above the available balance", m.supplier, &payoutv1.RequestWithdrawalRequest{RequestId: "a", Amount: usd(avail + 1)},
				connect.CodeFailedPrecondition, commonv1.ErrorReason_ERROR_REASON_INSUFFICIENT_BALANCE},
			{"a currency never held", m.supplier, &payoutv1.RequestWithdrawalRequest{RequestId: "b", Amount: &commonv1.Money{AmountMinor: 1, Currency: "EUR"}},
				connect.CodeFailedPrecondition, commonv1.ErrorReason_ERROR_REASON_INSUFFICIENT_BALANCE},
			{"an unsupported currency", m.supplier, &payoutv1.RequestWithdrawalRequest{RequestId: "c", Amount: &commonv1.Money{AmountMinor: 1, Currency: "XYZ"}},
				connect.CodeInvalidArgument, commonv1.ErrorReason_ERROR_REASON_UNSUPPORTED_CURRENCY},
			{"no balance at all", other, &payoutv1.RequestWithdrawalRequest{RequestId: "d", Amount: usd(1)},
				connect.CodeFailedPrecondition, commonv1.ErrorReason_ERROR_REASON_INSUFFICIENT_BALANCE},
			{"a frozen account", frozen, &payoutv1.RequestWithdrawalRequest{RequestId: "e", Amount: usd(1)},
				connect.CodeFailedPrecondition, commonv1.ErrorReason_ERROR_REASON_ACCOUNT_FROZEN},
			{"an unverified bank account", unverified, &payoutv1.RequestWithdrawalRequest{RequestId: "f", Amount: usd(1)},
				connect.CodeFailedPrecondition, commonv1.ErrorReason_ERROR_REASON_BANK_ACCOUNT_NOT_VERIFIED},
			{"a buyer", m.buyer, &payoutv1.RequestWithdrawalRequest{RequestId: "g", Amount: usd(1)},
				connect.CodePermissionDenied, commonv1.ErrorReason_ERROR_REASON_ROLE_NOT_ALLOWED},
			{"an operator", m.operator, &payoutv1.RequestWithdrawalRequest{RequestId: "h", Amount: usd(1)},
				connect.CodePermissionDenied, commonv1.ErrorReason_ERROR_REASON_ROLE_NOT_ALLOWED},
			{"no request id", m.supplier, &payoutv1.RequestWithdrawalRequest{Amount: usd(1)},
				connect.CodeInvalidArgument, commonv1.ErrorReason_ERROR_REASON_INVALID_FIELD},
			{"a zero amount", m.supplier, &payoutv1.RequestWithdrawalRequest{RequestId: "i", Amount: usd(0)},
				connect.CodeInvalidArgument, commonv1.ErrorReason_ERROR_REASON_INVALID_FIELD},
			{"no amount", m.supplier, &payoutv1.RequestWithdrawalRequest{RequestId: "j"},
				connect.CodeInvalidArgument, commonv1.ErrorReason_ERROR_REASON_INVALID_FIELD},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				_, err := tc.who.Payouts.RequestWithdrawal(e.Ctx, connect.NewRequest(tc.req))
				servertest.WantError(t, err, tc.code, tc.reason)
			})
		}
		if n := must(e.Store.Client.Withdrawal.Query().Count(e.Ctx))(t); n != 0 {
			t.Fatalf("refused requests wrote %d withdrawals", n)
		}
		if got := m.balance(m.supplier).GetAvailable().GetAmountMinor(); got != avail {
			t.Fatalf("available after refusals = %d, want %d", got, avail)
		}

		// The whole balance can be withdrawn, once per request id however often it is retried.
		req := &payoutv1.RequestWithdrawalRequest{RequestId: "all", Amount: usd(avail)}
		w1 := must(m.supplier.Payouts.RequestWithdrawal(e.Ctx, connect.NewRequest(req)))(t).Msg.GetWithdrawal()
		w2 := must(m.supplier.Payouts.RequestWithdrawal(e.Ctx, connect.NewRequest(req)))(t).Msg.GetWithdrawal()
		if w1.GetId() != w2.GetId() || w1.GetState() != payoutv1.Withdrawal_STATE_REQUESTED || w1.GetTransferId() == "" {
			t.Fatalf("retry gave %v, first %v", w2, w1)
		}
		if w1.GetBankAccount().GetAccountNumberLast4() != "TEST" || w1.GetBankAccount().GetCountry() != "CN" {
			t.Fatalf("bank account = %v", w1.GetBankAccount())
		}
		if got := w1.GetExpectedSettleLatestTime().AsTime().Sub(w1.GetCreateTime().AsTime()); got != 7*day {
			t.Fatalf("latest settle after %v", got)
		}
		b := m.balance(m.supplier)
		if b.GetAvailable().GetAmountMinor() != 0 || b.GetWithdrawing().GetAmountMinor() != avail {
			t.Fatalf("balance after withdrawal = %v", b)
		}
		_, err := m.supplier.Payouts.RequestWithdrawal(e.Ctx, connect.NewRequest(&payoutv1.RequestWithdrawalRequest{RequestId: "all", Amount: usd(1)}))
		servertest.WantError(t, err, connect.CodeInvalidArgument, commonv1.ErrorReason_ERROR_REASON_REQUEST_ID_REUSED)
		_, err = m.withdraw(m.supplier, 1)
		servertest.WantError(t, err, connect.CodeFailedPrecondition, commonv1.ErrorReason_ERROR_REASON_INSUFFICIENT_BALANCE)

		// A clawback larger than the balance makes it negative, and nothing can be withdrawn until a later
		// release covers the deficit.
		o := m.completed(taPolicy, 5) // 105.00 less 2.10 = 102.90
		res := m.refund(o.GetId(), 105_00, "dsp_neg")
		if res.FromSupplierMinor != 105_00 {
			t.Fatalf("refund after release took %d from the supplier", res.FromSupplierMinor)
		}
		if got := m.balance(m.supplier).GetAvailable().GetAmountMinor(); got != -2_10 {
			t.Fatalf("available after clawback = %d", got)
		}
		_, err = m.withdraw(m.supplier, 1)
		servertest.WantError(t, err, connect.CodeFailedPrecondition, commonv1.ErrorReason_ERROR_REASON_INSUFFICIENT_BALANCE)
		m.completed(taPolicy, 1) // 65.00 less 1.30 = 63.70, netted: 61.60
		if got := m.balance(m.supplier).GetAvailable().GetAmountMinor(); got != 61_60 {
			t.Fatalf("available after netting = %d", got)
		}
		must(m.withdraw(m.supplier, 61_60))(m.t)
		m.reconcile()
		audit(t, e)
	})
}

// TestWithdrawalLifecycle drives withdrawals through PROCESSING to PAID and FAILED, with the operator-only,
// state, etag and visibility rules, and checks a failure returns the money exactly once.
func TestWithdrawalLifecycle(t *testing.T) {
	servertest.Each(t, func(t *testing.T, e *servertest.Env) {
		m := newMarket(t, e)
		m.completed(retailPolicy, 20) // 255.00 less 5.10 = 249.90
		ctx := e.Ctx
		w := must(m.withdraw(m.supplier, 100_00))(t)
		other := e.Supplier(100_00, false)

		// Visibility: the supplier and operators see it; another supplier and a buyer do not.
		servertest.Step(t, "who sees it", func(t *testing.T) {
			must(m.supplier.Payouts.GetWithdrawal(ctx, connect.NewRequest(&payoutv1.GetWithdrawalRequest{Id: w.GetId()})))(t)
			must(m.operator.Payouts.GetWithdrawal(ctx, connect.NewRequest(&payoutv1.GetWithdrawalRequest{Id: w.GetId()})))(t)
			for _, p := range []*servertest.Party{other, m.buyer} {
				_, err := p.Payouts.GetWithdrawal(ctx, connect.NewRequest(&payoutv1.GetWithdrawalRequest{Id: w.GetId()}))
				servertest.WantError(t, err, connect.CodeNotFound, commonv1.ErrorReason_ERROR_REASON_NOT_FOUND)
			}
			if l := must(other.Payouts.ListWithdrawals(ctx, connect.NewRequest(&payoutv1.ListWithdrawalsRequest{})))(t).Msg; len(l.GetWithdrawals()) != 0 {
				t.Fatalf("another supplier lists %v", l)
			}
			_, err := other.Payouts.ListWithdrawals(ctx, connect.NewRequest(&payoutv1.ListWithdrawalsRequest{SupplierAccountId: m.supplier.ID()}))
			servertest.WantError(t, err, connect.CodeNotFound, commonv1.ErrorReason_ERROR_REASON_NOT_FOUND)
			_, err = m.buyer.Payouts.ListWithdrawals(ctx, connect.NewRequest(&payoutv1.ListWithdrawalsRequest{}))
			servertest.WantError(t, err, connect.CodePermissionDenied, commonv1.ErrorReason_ERROR_REASON_ROLE_NOT_ALLOWED)
		})

		// Only operators move a withdrawal, from the right state, with a current etag.
		servertest.Step(t, "who moves it", func(t *testing.T) {
			_, err := m.supplier.Payouts.ProcessWithdrawal(ctx, connect.NewRequest(&payoutv1.ProcessWithdrawalRequest{Id: w.GetId()}))
			servertest.WantError(t, err, connect.CodePermissionDenied, commonv1.ErrorReason_ERROR_REASON_ROLE_NOT_ALLOWED)
			_, err = m.operator.Payouts.ConfirmWithdrawal(ctx, connect.NewRequest(&payoutv1.ConfirmWithdrawalRequest{Id: w.GetId(), BankReference: "X"}))
			servertest.WantError(t, err, connect.CodeFailedPrecondition, commonv1.ErrorReason_ERROR_REASON_ILLEGAL_STATE)
			_, err = m.operator.Payouts.ProcessWithdrawal(ctx, connect.NewRequest(&payoutv1.ProcessWithdrawalRequest{Id: w.GetId(), Etag: "stale"}))
			servertest.WantError(t, err, connect.CodeAborted, commonv1.ErrorReason_ERROR_REASON_ETAG_MISMATCH)
			_, err = m.operator.Payouts.ProcessWithdrawal(ctx, connect.NewRequest(&payoutv1.ProcessWithdrawalRequest{Id: "wdr_nope"}))
			servertest.WantError(t, err, connect.CodeNotFound, commonv1.ErrorReason_ERROR_REASON_NOT_FOUND)
		})

		servertest.Step(t, "processed then paid", func(t *testing.T) {
			e.Advance(2 * day)
			pw := must(m.operator.Payouts.ProcessWithdrawal(ctx, connect.NewRequest(&payoutv1.ProcessWithdrawalRequest{
				Id: w.GetId(), Etag: w.GetEtag(), RequestId: "p1"})))(t).Msg.GetWithdrawal()
			servertest.CheckFields(t, "processed",
				servertest.Field{Name: "state", Got: pw.GetState(), Want: payoutv1.Withdrawal_STATE_PROCESSING},
				servertest.Field{Name: "process_time set", Got: pw.GetProcessTime() != nil, Want: true},
				servertest.Field{Name: "expected_settle_earliest_time", Got: pw.GetExpectedSettleEarliestTime().AsTime(), Want: e.Clock.Now().Add(3 * day)},
				servertest.Field{Name: "expected_settle_latest_time", Got: pw.GetExpectedSettleLatestTime().AsTime(), Want: e.Clock.Now().Add(7 * day)})
			_, err := m.operator.Payouts.ConfirmWithdrawal(ctx, connect.NewRequest(&payoutv1.ConfirmWithdrawalRequest{Id: w.GetId()}))
			servertest.WantError(t, err, connect.CodeInvalidArgument, commonv1.ErrorReason_ERROR_REASON_INVALID_FIELD)
			paid := must(m.operator.Payouts.ConfirmWithdrawal(ctx, connect.NewRequest(&payoutv1.ConfirmWithdrawalRequest{
				Id: w.GetId(), Etag: pw.GetEtag(), BankReference: "WIRE-1"})))(t).Msg.GetWithdrawal()
			servertest.CheckFields(t, "paid",
				servertest.Field{Name: "state", Got: paid.GetState(), Want: payoutv1.Withdrawal_STATE_PAID},
				servertest.Field{Name: "paid_time set", Got: paid.GetPaidTime() != nil, Want: true},
				servertest.Field{Name: "bank_reference", Got: paid.GetBankReference(), Want: "WIRE-1"})
			_, err = m.operator.Payouts.FailWithdrawal(ctx, connect.NewRequest(&payoutv1.FailWithdrawalRequest{Id: w.GetId(), FailureReason: "late"}))
			servertest.WantError(t, err, connect.CodeFailedPrecondition, commonv1.ErrorReason_ERROR_REASON_ILLEGAL_STATE)
		})

		// A failure returns the amount once, however often it is retried.
		var f *payoutv1.Withdrawal
		servertest.Step(t, "a failure returns the amount once", func(t *testing.T) {
			f = must(m.withdraw(m.supplier, 49_90))(t)
			if got := m.balance(m.supplier).GetAvailable().GetAmountMinor(); got != 100_00 {
				t.Fatalf("available = %d", got)
			}
			freq := &payoutv1.FailWithdrawalRequest{RequestId: "f1", Id: f.GetId(), FailureReason: "account closed"}
			f1 := must(m.operator.Payouts.FailWithdrawal(ctx, connect.NewRequest(freq)))(t).Msg.GetWithdrawal()
			f2 := must(m.operator.Payouts.FailWithdrawal(ctx, connect.NewRequest(freq)))(t).Msg.GetWithdrawal()
			if f1.GetState() != payoutv1.Withdrawal_STATE_FAILED || f1.GetReversalTransferId() == "" || f2.GetEtag() != f1.GetEtag() {
				t.Fatalf("failed = %v, retry %v", f1, f2)
			}
			b := m.balance(m.supplier)
			servertest.CheckFields(t, "balance after failure",
				servertest.Field{Name: "available", Got: b.GetAvailable().GetAmountMinor(), Want: int64(149_90)},
				servertest.Field{Name: "withdrawing", Got: b.GetWithdrawing().GetAmountMinor(), Want: int64(0)})
		})

		servertest.Step(t, "list pages and filters", func(t *testing.T) {
			list := must(m.supplier.Payouts.ListWithdrawals(ctx, connect.NewRequest(&payoutv1.ListWithdrawalsRequest{PageSize: 1})))(t).Msg
			if len(list.GetWithdrawals()) != 1 || list.GetWithdrawals()[0].GetId() != f.GetId() || list.GetNextPageToken() == "" {
				t.Fatalf("first page = %v", list)
			}
			list = must(m.supplier.Payouts.ListWithdrawals(ctx, connect.NewRequest(&payoutv1.ListWithdrawalsRequest{PageSize: 1, PageToken: list.GetNextPageToken()})))(t).Msg
			if len(list.GetWithdrawals()) != 1 || list.GetWithdrawals()[0].GetId() != w.GetId() || list.GetNextPageToken() != "" {
				t.Fatalf("second page = %v", list)
			}
			paidOnly := must(m.operator.Payouts.ListWithdrawals(ctx, connect.NewRequest(&payoutv1.ListWithdrawalsRequest{
				State: payoutv1.Withdrawal_STATE_PAID})))(t).Msg
			if len(paidOnly.GetWithdrawals()) != 1 || paidOnly.GetWithdrawals()[0].GetId() != w.GetId() {
				t.Fatalf("paid withdrawals = %v", paidOnly)
			}
			_, err := m.supplier.Payouts.ListWithdrawals(ctx, connect.NewRequest(&payoutv1.ListWithdrawalsRequest{PageToken: list.GetNextPageToken() + "x"}))
			if err == nil {
				t.Fatal("a tampered page token was accepted")
			}
		})
		m.reconcile()
		audit(t, e)
	})
}

// TestWithdrawalOverdue checks the deadline at the latest expected settle time, one second before and one
// second after, for a withdrawal never sent and for one sent later (the deadline moves with the wire).
func TestWithdrawalOverdue(t *testing.T) {
	servertest.Each(t, func(t *testing.T, e *servertest.Env) {
		m := newMarket(t, e)
		m.completed(taPolicy, 10)
		ctx := e.Ctx
		a := must(m.withdraw(m.supplier, 50_00))(t)
		b := must(m.withdraw(m.supplier, 50_00))(t)
		get := func(id string) *payoutv1.Withdrawal {
			return must(m.operator.Payouts.GetWithdrawal(ctx, connect.NewRequest(&payoutv1.GetWithdrawalRequest{Id: id})))(t).Msg.GetWithdrawal()
		}
		e.Advance(1 * day)
		pb := must(m.operator.Payouts.ProcessWithdrawal(ctx, connect.NewRequest(&payoutv1.ProcessWithdrawalRequest{Id: b.GetId(), BankReference: "W2"})))(t).Msg.GetWithdrawal()
		e.SetTime(a.GetExpectedSettleLatestTime().AsTime().Add(-time.Second))
		if get(a.GetId()).GetOverdueTime() != nil {
			t.Fatal("overdue one second early")
		}
		e.Advance(2 * time.Second)
		ga := get(a.GetId())
		if ga.GetOverdueTime() == nil || ga.GetState() != payoutv1.Withdrawal_STATE_REQUESTED {
			t.Fatalf("a second late: %v", ga)
		}
		if get(b.GetId()).GetOverdueTime() != nil {
			t.Fatal("the processed withdrawal is overdue at the request's deadline")
		}
		e.SetTime(pb.GetExpectedSettleLatestTime().AsTime().Add(-time.Second))
		if get(b.GetId()).GetOverdueTime() != nil {
			t.Fatal("processed withdrawal overdue one second early")
		}
		e.Advance(2 * time.Second)
		gb := get(b.GetId())
		if gb.GetOverdueTime() == nil || gb.GetState() != payoutv1.Withdrawal_STATE_PROCESSING {
			t.Fatalf("processed withdrawal a second late: %v", gb)
		}
		over := must(m.operator.Payouts.ListWithdrawals(ctx, connect.NewRequest(&payoutv1.ListWithdrawalsRequest{OverdueOnly: true})))(t).Msg
		if len(over.GetWithdrawals()) != 2 {
			t.Fatalf("overdue list = %v", over)
		}
		// Overdue is a flag for operators, not a settlement: the withdrawal can still be paid or failed.
		must(m.operator.Payouts.ConfirmWithdrawal(ctx, connect.NewRequest(&payoutv1.ConfirmWithdrawalRequest{Id: b.GetId()})))(t)
		must(m.operator.Payouts.FailWithdrawal(ctx, connect.NewRequest(&payoutv1.FailWithdrawalRequest{Id: a.GetId(), FailureReason: "returned"})))(t)
		if got := m.balance(m.supplier).GetAvailable().GetAmountMinor(); got != 151_90-50_00 {
			t.Fatalf("available = %d", got)
		}
		evs := must(m.supplier.Events.ListEvents(ctx, connect.NewRequest(eventsOf(a.GetId()))))(t).Msg
		var types []string
		for _, ev := range evs.GetEvents() {
			types = append(types, ev.GetType())
		}
		want := []string{"withdrawal.requested", "withdrawal.overdue", "withdrawal.failed"}
		if len(types) != len(want) {
			t.Fatalf("events = %v, want %v", types, want)
		}
		for i := range want {
			if types[i] != want[i] {
				t.Fatalf("events = %v, want %v", types, want)
			}
		}
	})
}

func eventsOf(subjectID string) *eventv1.ListEventsRequest {
	return &eventv1.ListEventsRequest{SubjectType: "withdrawal", SubjectId: subjectID}
}
