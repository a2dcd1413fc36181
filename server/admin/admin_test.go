package admin_test

import (
	"fmt"
	"math"
	"testing"

	"connectrpc.com/connect"

	adminv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/admin/v1"
	commonv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/common/v1"
	"github.com/tradeassure/tradeassure/server/money"
	"github.com/tradeassure/tradeassure/server/servertest"
)

// TestTradeAssuranceLimitBounds checks the trade-assurance limit an operator sets on a supplier, in
// CreateAccount and UpdateSupplierProfile, just inside and just outside both ends: zero (no order can be
// covered) and money.Max are accepted, a negative limit and one above money.Max are refused with a field
// violation, and a refused update leaves the profile as it was.
func TestTradeAssuranceLimitBounds(t *testing.T) {
	const field = "supplier.trade_assurance_limit_usd_minor"
	cases := []struct {
		limit  int64
		reason commonv1.ErrorReason // 0: accepted
	}{
		{0, 0},
		{-1, commonv1.ErrorReason_ERROR_REASON_INVALID_FIELD},
		{math.MinInt64, commonv1.ErrorReason_ERROR_REASON_INVALID_FIELD},
		{money.Max, 0},
		{money.Max + 1, commonv1.ErrorReason_ERROR_REASON_AMOUNT_TOO_LARGE},
	}
	servertest.Each(t, func(t *testing.T, e *servertest.Env) {
		op := e.Staff(commonv1.Role_ROLE_OPERATOR)
		supplier := e.Supplier(100_000_00, true)
		want := func(t *testing.T, err error, reason commonv1.ErrorReason) {
			t.Helper()
			if reason == 0 {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			if reason == commonv1.ErrorReason_ERROR_REASON_AMOUNT_TOO_LARGE && servertest.Detail(err).GetReason() == commonv1.ErrorReason_ERROR_REASON_INVALID_FIELD {
				reason = commonv1.ErrorReason_ERROR_REASON_INVALID_FIELD // the schema may bound it first
			}
			servertest.WantError(t, err, connect.CodeInvalidArgument, reason)
			for _, v := range servertest.Detail(err).GetFieldViolations() {
				if v.GetField() == field {
					return
				}
			}
			t.Fatalf("no violation on %s: %v", field, servertest.Detail(err))
		}
		for i, c := range cases {
			t.Run("update/"+fmt.Sprint(c.limit), func(t *testing.T) {
				_, err := op.Admin.UpdateSupplierProfile(e.Ctx, connect.NewRequest(&adminv1.UpdateSupplierProfileRequest{
					AccountId: supplier.ID(), Supplier: &adminv1.SupplierProfile{TradeAssuranceLimitUsdMinor: c.limit, BankAccount: "CN00TEST"}}))
				want(t, err, c.reason)
				got, err := op.Admin.GetAccount(e.Ctx, connect.NewRequest(&adminv1.GetAccountRequest{AccountId: supplier.ID()}))
				if err != nil {
					t.Fatal(err)
				}
				if l := got.Msg.GetAccount().GetSupplier().GetTradeAssuranceLimitUsdMinor(); c.reason == 0 && l != c.limit || l < 0 || l > money.Max {
					t.Fatalf("limit is %d after setting %d", l, c.limit)
				}
			})
			t.Run("create/"+fmt.Sprint(c.limit), func(t *testing.T) {
				_, err := op.Admin.CreateAccount(e.Ctx, connect.NewRequest(&adminv1.CreateAccountRequest{
					Role: commonv1.Role_ROLE_SUPPLIER, Name: "Supplier", Email: "limit" + fmt.Sprint(i) + "@test.example", Country: "CN",
					Supplier: &adminv1.SupplierProfile{TradeAssuranceLimitUsdMinor: c.limit}}))
				want(t, err, c.reason)
			})
		}
	})
}
