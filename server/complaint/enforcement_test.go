package complaint_test

import (
	"testing"
	"time"

	"connectrpc.com/connect"

	adminv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/admin/v1"
	commonv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/common/v1"
	complaintv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/complaint/v1"
	orderv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/order/v1"
	"github.com/tradeassure/tradeassure/server/servertest"
)

// TestRestrictionEnforced restricts a buyer for a false transaction: the Orders service refuses it to
// request, accept or pay orders with ACCOUNT_RESTRICTED until the restriction ends; one second before the
// end it is still restricted, one second after its standing is active again (the deadline ran) and it is
// served again.
func TestRestrictionEnforced(t *testing.T) {
	servertest.Each(t, func(t *testing.T, e *servertest.Env) {
		m := newMarket(t, e)
		pending := m.awaiting(commonv1.Policy_POLICY_TRADE_ASSURANCE)
		draft := m.draft(commonv1.Policy_POLICY_TRADE_ASSURANCE)
		cp := m.file(m.supplier, m.cancelled(commonv1.Policy_POLICY_TRADE_ASSURANCE), complaintv1.Complaint_TYPE_FALSE_TRANSACTION)
		until := e.Clock.Now().Add(30 * day)
		if _, err := m.decide(cp, complaintv1.Decision_OUTCOME_UPHELD, credit(25), restriction(until)); err != nil {
			t.Fatal(err)
		}
		st := m.standing(m.buyer)
		if st.GetState() != complaintv1.AccountStanding_STATE_RESTRICTED || st.GetCreditScore() != 75 ||
			!st.GetRestrictedUntil().AsTime().Equal(until) || len(st.GetUpheldComplaints()) != 1 {
			t.Fatalf("standing = %v", st)
		}
		adminView := func() *adminv1.Account {
			t.Helper()
			resp, err := m.operator.Admin.GetAccount(e.Ctx, connect.NewRequest(&adminv1.GetAccountRequest{AccountId: m.buyer.ID()}))
			if err != nil {
				t.Fatalf("admin get account: %v", err)
			}
			return resp.Msg.GetAccount()
		}
		wantEvent(t, eventTypes(t, e, m.buyer, m.buyer.ID()), "account.standing_changed")
		if a := adminView(); a.GetStanding() != adminv1.Account_STANDING_RESTRICTED || !a.GetRestrictedUntil().AsTime().Equal(until) || a.GetCreditScore() != 75 {
			t.Fatalf("admin view = %v", a)
		}
		refused := func() {
			t.Helper()
			_, err := m.buyer.Orders.AcceptOrder(e.Ctx, connect.NewRequest(&orderv1.AcceptOrderRequest{OrderId: draft.GetId()}))
			servertest.WantError(t, err, connect.CodePermissionDenied, commonv1.ErrorReason_ERROR_REASON_ACCOUNT_RESTRICTED)
			if got := servertest.Detail(err).GetMetadata()["restricted_until"]; got != until.Format(time.RFC3339) {
				t.Fatalf("restricted_until = %q", got)
			}
			_, err = m.buyer.Orders.PayOrder(e.Ctx, connect.NewRequest(&orderv1.PayOrderRequest{
				OrderId: pending.GetId(), Method: orderv1.PaymentMethod_PAYMENT_METHOD_CARD, CardToken: "tok_4242"}))
			servertest.WantError(t, err, connect.CodePermissionDenied, commonv1.ErrorReason_ERROR_REASON_ACCOUNT_RESTRICTED)
			_, err = m.buyer.Orders.CreateOrder(e.Ctx, connect.NewRequest(&orderv1.CreateOrderRequest{
				Policy: commonv1.Policy_POLICY_TRADE_ASSURANCE, SupplierId: m.supplier.ID(), Terms: m.terms(1)}))
			servertest.WantError(t, err, connect.CodePermissionDenied, commonv1.ErrorReason_ERROR_REASON_ACCOUNT_RESTRICTED)
			// Reading stays possible.
			if _, err := m.buyer.Orders.GetOrder(e.Ctx, connect.NewRequest(&orderv1.GetOrderRequest{OrderId: pending.GetId()})); err != nil {
				t.Fatalf("a restricted buyer cannot read: %v", err)
			}
		}
		refused()
		e.SetTime(until.Add(-time.Second))
		refused()
		if st := m.standing(m.buyer); st.GetState() != complaintv1.AccountStanding_STATE_RESTRICTED {
			t.Fatalf("one second before the end: %v", st.GetState())
		}
		e.Advance(2 * time.Second)
		st = m.standing(m.buyer)
		if st.GetState() != complaintv1.AccountStanding_STATE_ACTIVE || st.GetRestrictedUntil() != nil || st.GetCreditScore() != 75 {
			t.Fatalf("one second after the end: %v", st)
		}
		acct, err := e.Store.Client.Account.Get(e.Ctx, m.buyer.ID())
		if err != nil || acct.Standing != "active" || acct.RestrictedUntil != nil {
			t.Fatalf("stored account after the restriction: %v %v", acct, err)
		}
		wantEvent(t, eventTypes(t, e, m.buyer, m.buyer.ID()), "account.restriction_ended")
		if a := adminView(); a.GetStanding() != adminv1.Account_STANDING_ACTIVE || a.GetRestrictedUntil() != nil {
			t.Fatalf("admin view after the restriction = %v", a)
		}
		if _, err := m.buyer.Orders.PayOrder(e.Ctx, connect.NewRequest(&orderv1.PayOrderRequest{
			OrderId: pending.GetId(), Method: orderv1.PaymentMethod_PAYMENT_METHOD_CARD, CardToken: "tok_4242"})); err != nil {
			t.Fatalf("pay after the restriction: %v", err)
		}
		m.accept(m.draft(commonv1.Policy_POLICY_TRADE_ASSURANCE))
	})
}

// TestRestrictionNeverShortened gives a second, shorter restriction: the first end stands.
func TestRestrictionNeverShortened(t *testing.T) {
	one(t, func(t *testing.T, e *servertest.Env) {
		m := newMarket(t, e)
		long := e.Clock.Now().Add(60 * day)
		// The orders come first: a restricted buyer cannot accept new ones.
		second, third := m.cancelled(commonv1.Policy_POLICY_RETAIL), m.completed(commonv1.Policy_POLICY_RETAIL)
		cp := m.file(m.supplier, m.cancelled(commonv1.Policy_POLICY_RETAIL), complaintv1.Complaint_TYPE_FALSE_TRANSACTION)
		if _, err := m.decide(cp, complaintv1.Decision_OUTCOME_UPHELD, restriction(long)); err != nil {
			t.Fatal(err)
		}
		cp2 := m.file(m.supplier, second, complaintv1.Complaint_TYPE_FALSE_TRANSACTION)
		if _, err := m.decide(cp2, complaintv1.Decision_OUTCOME_UPHELD, restriction(e.Clock.Now().Add(10*day)), credit(100)); err != nil {
			t.Fatal(err)
		}
		e.Advance(11 * day)
		st := m.standing(m.buyer)
		if st.GetState() != complaintv1.AccountStanding_STATE_RESTRICTED || !st.GetRestrictedUntil().AsTime().Equal(long) || st.GetCreditScore() != 0 {
			t.Fatalf("standing = %v", st)
		}
		if len(st.GetUpheldComplaints()) != 2 || st.GetUpheldComplaints()[0].GetComplaintId() != cp2.GetId() {
			t.Fatalf("upheld complaints, newest first = %v", st.GetUpheldComplaints())
		}
		// A further deduction does not take the score below zero.
		cp3 := m.file(m.supplier, third, complaintv1.Complaint_TYPE_TRANSACTION_FRAUD)
		if _, err := m.decide(cp3, complaintv1.Decision_OUTCOME_UPHELD, credit(5)); err != nil {
			t.Fatal(err)
		}
		if st := m.standing(m.buyer); st.GetCreditScore() != 0 {
			t.Fatalf("credit score = %d", st.GetCreditScore())
		}
	})
}

// TestBanReadOnly bans a supplier for fraud: it can read its own data and nothing else, for good.
func TestBanReadOnly(t *testing.T) {
	servertest.Each(t, func(t *testing.T, e *servertest.Env) {
		m := newMarket(t, e)
		paid := m.paid(commonv1.Policy_POLICY_TRADE_ASSURANCE)
		cp := m.file(m.buyer, m.completed(commonv1.Policy_POLICY_TRADE_ASSURANCE), complaintv1.Complaint_TYPE_TRANSACTION_FRAUD)
		if _, err := m.decide(cp, complaintv1.Decision_OUTCOME_UPHELD, credit(50), ban()); err != nil {
			t.Fatal(err)
		}
		st := m.standing(m.supplier)
		if st.GetState() != complaintv1.AccountStanding_STATE_BANNED || st.GetBanTime() == nil || st.GetCreditScore() != 50 {
			t.Fatalf("standing = %v", st)
		}
		_, err := m.supplier.Orders.ShipOrder(e.Ctx, connect.NewRequest(&orderv1.ShipOrderRequest{
			OrderId: paid.GetId(), Carrier: "DHL", TrackingNumber: "X1"}))
		servertest.WantError(t, err, connect.CodePermissionDenied, commonv1.ErrorReason_ERROR_REASON_ACCOUNT_BANNED)
		_, err = m.supplier.Orders.CreateOrder(e.Ctx, connect.NewRequest(&orderv1.CreateOrderRequest{
			Policy: commonv1.Policy_POLICY_TRADE_ASSURANCE, BuyerEmail: m.buyer.Account.Email, Terms: m.terms(1)}))
		servertest.WantError(t, err, connect.CodePermissionDenied, commonv1.ErrorReason_ERROR_REASON_ACCOUNT_BANNED)
		_, err = m.supplier.Complaints.FileComplaint(e.Ctx, connect.NewRequest(fileReq(paid, complaintv1.Complaint_TYPE_TRANSACTION_FRAUD,
			evidence(required[complaintv1.Complaint_TYPE_TRANSACTION_FRAUD]...))))
		servertest.WantError(t, err, connect.CodePermissionDenied, commonv1.ErrorReason_ERROR_REASON_ACCOUNT_BANNED)
		if _, err := m.supplier.Orders.GetOrder(e.Ctx, connect.NewRequest(&orderv1.GetOrderRequest{OrderId: paid.GetId()})); err != nil {
			t.Fatalf("a banned supplier cannot read its order: %v", err)
		}
		if _, err := m.supplier.Complaints.GetComplaint(e.Ctx, connect.NewRequest(&complaintv1.GetComplaintRequest{Id: cp.GetId()})); err != nil {
			t.Fatalf("a banned supplier cannot read the complaint against it: %v", err)
		}
		e.Advance(3650 * day)
		if st := m.standing(m.supplier); st.GetState() != complaintv1.AccountStanding_STATE_BANNED {
			t.Fatalf("ten years later: %v", st.GetState())
		}
	})
}

// TestBanOverridesRestriction bans a restricted buyer: the end of the restriction does not lift the ban.
func TestBanOverridesRestriction(t *testing.T) {
	one(t, func(t *testing.T, e *servertest.Env) {
		m := newMarket(t, e)
		completed := m.completed(commonv1.Policy_POLICY_RETAIL)
		cp := m.file(m.supplier, m.cancelled(commonv1.Policy_POLICY_RETAIL), complaintv1.Complaint_TYPE_FALSE_TRANSACTION)
		if _, err := m.decide(cp, complaintv1.Decision_OUTCOME_UPHELD, restriction(e.Clock.Now().Add(5*day))); err != nil {
			t.Fatal(err)
		}
		cp2 := m.file(m.supplier, completed, complaintv1.Complaint_TYPE_TRANSACTION_FRAUD)
		if _, err := m.decide(cp2, complaintv1.Decision_OUTCOME_UPHELD, ban()); err != nil {
			t.Fatal(err)
		}
		e.Advance(6 * day)
		if st := m.standing(m.buyer); st.GetState() != complaintv1.AccountStanding_STATE_BANNED || st.GetRestrictedUntil() != nil {
			t.Fatalf("standing = %v", st)
		}
	})
}
