package payout_test

import (
	"testing"
	"unicode/utf8"

	"connectrpc.com/connect"

	adminv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/admin/v1"
	commonv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/common/v1"
	eventv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/event/v1"
	payoutv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/payout/v1"
	"github.com/tradeassure/tradeassure/server/money"
	"github.com/tradeassure/tradeassure/server/servertest"
)

// TestMultiByteBankAccounts sets bank accounts with multi-byte characters before, in and after their last
// four characters (é, emoji) and checks every response that shows them — UpdateSupplierProfile itself,
// GetAccount, ListAccounts, RequestWithdrawal, GetWithdrawal and the supplier's event feed — succeeds,
// masks by characters and is valid UTF-8. Before, the masks cut é apart and all of these answered INTERNAL.
func TestMultiByteBankAccounts(t *testing.T) {
	cases := []struct{ account, mask, last4 string }{
		{"FR76 é 1234", "*******1234", "1234"},
		{"Aé123", "*é123", "é123"},
		{"DE89 😀😀 9876", "********9876", "9876"},
		{"BANK😀😀😀😀😀", "*****😀😀😀😀", "😀😀😀😀"},
		{"ÅÄÖ", "ÅÄÖ", "ÅÄÖ"},
	}
	servertest.Each(t, func(t *testing.T, e *servertest.Env) {
		m := newMarket(t, e)
		m.completed(taPolicy, 10)
		for _, c := range cases {
			t.Run(c.account, func(t *testing.T) {
				up, err := m.operator.Admin.UpdateSupplierProfile(e.Ctx, connect.NewRequest(&adminv1.UpdateSupplierProfileRequest{
					RequestId: reqID(), AccountId: m.supplier.ID(), Supplier: &adminv1.SupplierProfile{
						TradeAssuranceLimitUsdMinor: 1_000_000_00, OneTouchExport: true, BankAccount: c.account, BankAccountVerified: true}}))
				if err != nil {
					t.Fatalf("update profile: %v", err)
				}
				wantMask := func(where, got string) {
					t.Helper()
					if got != c.mask || !utf8.ValidString(got) {
						t.Fatalf("%s shows %q, want %q", where, got, c.mask)
					}
				}
				wantMask("UpdateSupplierProfile", up.Msg.GetAccount().GetSupplier().GetBankAccount())
				got, err := m.supplier.Admin.GetAccount(e.Ctx, connect.NewRequest(&adminv1.GetAccountRequest{}))
				if err != nil {
					t.Fatalf("GetAccount: %v", err)
				}
				wantMask("GetAccount", got.Msg.GetAccount().GetSupplier().GetBankAccount())
				list, err := m.operator.Admin.ListAccounts(e.Ctx, connect.NewRequest(&adminv1.ListAccountsRequest{Role: commonv1.Role_ROLE_SUPPLIER}))
				if err != nil {
					t.Fatalf("ListAccounts: %v", err)
				}
				for _, a := range list.Msg.GetAccounts() {
					if a.GetId() == m.supplier.ID() {
						wantMask("ListAccounts", a.GetSupplier().GetBankAccount())
					}
				}
				w, err := m.withdraw(m.supplier, 1_00)
				if err != nil {
					t.Fatalf("RequestWithdrawal: %v", err)
				}
				if got := w.GetBankAccount().GetAccountNumberLast4(); got != c.last4 {
					t.Fatalf("withdrawal shows %q, want %q", got, c.last4)
				}
				gw, err := m.supplier.Payouts.GetWithdrawal(e.Ctx, connect.NewRequest(&payoutv1.GetWithdrawalRequest{Id: w.GetId()}))
				if err != nil || gw.Msg.GetWithdrawal().GetBankAccount().GetAccountNumberLast4() != c.last4 {
					t.Fatalf("GetWithdrawal: %v %v", gw, err)
				}
				if _, err := m.supplier.Events.ListEvents(e.Ctx, connect.NewRequest(&eventv1.ListEventsRequest{SubjectId: w.GetId()})); err != nil {
					t.Fatalf("ListEvents: %v", err)
				}
			})
		}
	})
}

// TestStoredBankAccountNotUTF8 stores a bank account whose bytes are not UTF-8, as another tool writing
// to a SQLite database could (Postgres refuses such text), and checks every read and a withdrawal still
// answer, with the bad bytes shown as U+FFFD.
func TestStoredBankAccountNotUTF8(t *testing.T) {
	e := servertest.New(t, servertest.Options{Engine: "sqlite"})
	m := newMarket(t, e)
	m.completed(taPolicy, 10)
	if err := e.Store.Client.Account.UpdateOneID(m.supplier.ID()).SetBankAccount("DE89\xff\xfe123\xc3").Exec(e.Ctx); err != nil {
		t.Fatal(err)
	}
	got, err := m.supplier.Admin.GetAccount(e.Ctx, connect.NewRequest(&adminv1.GetAccountRequest{}))
	if err != nil {
		t.Fatalf("GetAccount: %v", err)
	}
	if s := got.Msg.GetAccount().GetSupplier().GetBankAccount(); s != "******123\uFFFD" {
		t.Fatalf("GetAccount shows %q", s)
	}
	if _, err := m.operator.Admin.ListAccounts(e.Ctx, connect.NewRequest(&adminv1.ListAccountsRequest{})); err != nil {
		t.Fatalf("ListAccounts: %v", err)
	}
	w, err := m.withdraw(m.supplier, 1_00)
	if err != nil {
		t.Fatalf("RequestWithdrawal: %v", err)
	}
	if s := w.GetBankAccount().GetAccountNumberLast4(); s != "123\uFFFD" {
		t.Fatalf("withdrawal shows %q", s)
	}
}

// TestWithdrawalAmountBound checks a withdrawal just inside and just outside money.Max: above it the
// request is refused as too large (a withdrawal is one bank wire), not for the balance.
func TestWithdrawalAmountBound(t *testing.T) {
	servertest.Each(t, func(t *testing.T, e *servertest.Env) {
		m := newMarket(t, e)
		m.completed(taPolicy, 1)
		_, err := m.withdraw(m.supplier, money.Max+1)
		if servertest.Detail(err).GetReason() != commonv1.ErrorReason_ERROR_REASON_INVALID_FIELD { // the schema may refuse it first
			servertest.WantError(t, err, connect.CodeInvalidArgument, commonv1.ErrorReason_ERROR_REASON_AMOUNT_TOO_LARGE)
		}
		_, err = m.withdraw(m.supplier, money.Max)
		servertest.WantError(t, err, connect.CodeFailedPrecondition, commonv1.ErrorReason_ERROR_REASON_INSUFFICIENT_BALANCE)
	})
}
