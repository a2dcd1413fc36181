package complaint_test

import (
	"slices"
	"testing"
	"time"

	"connectrpc.com/connect"

	"github.com/tradeassure/tradeassure/ent/ledgeraccount"
	commonv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/common/v1"
	complaintv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/complaint/v1"
	orderv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/order/v1"
	"github.com/tradeassure/tradeassure/server/ledger"
	"github.com/tradeassure/tradeassure/server/servertest"
)

// balance reads a ledger account's balance (zero for one that never moved).
func balance(t *testing.T, e *servertest.Env, kind ledgeraccount.Kind, owner string) int64 {
	t.Helper()
	a, err := e.Store.Client.LedgerAccount.Get(e.Ctx, ledger.AccountID(kind, owner, "USD"))
	if err != nil {
		return 0
	}
	return a.BalanceMinor
}

// TestDecisionDeadline files on a Wednesday and on a Friday: the arbiter's 3 business days end the next
// Monday and the next Wednesday (the weekend does not count); one second before, the complaint is not
// overdue; one second after, it is, the miss is reported as an event and counted in the work queue, and
// the arbiter can still decide.
func TestDecisionDeadline(t *testing.T) {
	servertest.Each(t, func(t *testing.T, e *servertest.Env) {
		m := newMarket(t, e)
		for _, c := range []struct {
			name  string
			file  time.Time
			due   time.Time
			pol   commonv1.Policy
			typ   complaintv1.Complaint_Type
			filer *servertest.Party
		}{
			{"wednesday", servertest.Start, time.Date(2026, 3, 9, 9, 0, 0, 0, time.UTC), commonv1.Policy_POLICY_TRADE_ASSURANCE,
				complaintv1.Complaint_TYPE_PRODUCT_QUALITY, m.buyer},
			{"friday", time.Date(2026, 3, 13, 17, 30, 0, 0, time.UTC), time.Date(2026, 3, 18, 17, 30, 0, 0, time.UTC),
				commonv1.Policy_POLICY_RETAIL, complaintv1.Complaint_TYPE_FALSE_TRANSACTION, m.supplier},
		} {
			t.Run(c.name, func(t *testing.T) {
				e.SetTime(c.file)
				cp := m.file(c.filer, m.completed(c.pol), c.typ)
				if got := cp.GetDecisionDeadline().AsTime(); !got.Equal(c.due) {
					t.Fatalf("decision deadline = %v, want %v", got, c.due)
				}
				e.SetTime(c.due.Add(-time.Second))
				if got := m.get(cp); got.GetOverdue() {
					t.Fatalf("overdue one second before the deadline")
				}
				e.Advance(2 * time.Second)
				got := m.get(cp)
				if !got.GetOverdue() || got.GetState() != complaintv1.Complaint_STATE_FILED {
					t.Fatalf("one second after the deadline: overdue=%v state=%v", got.GetOverdue(), got.GetState())
				}
				wantEvent(t, eventTypes(t, e, m.arbiter, cp.GetId()), "complaint.decision_overdue")
				wantEvent(t, eventTypes(t, e, c.filer, cp.GetId()), "complaint.decision_overdue")
				q, err := m.arbiter.Complaints.ListComplaintQueue(e.Ctx, connect.NewRequest(&complaintv1.ListComplaintQueueRequest{OverdueOnly: true}))
				if err != nil {
					t.Fatal(err)
				}
				if q.Msg.GetOverdueCount() != 1 || len(q.Msg.GetComplaints()) != 1 || q.Msg.GetComplaints()[0].GetId() != cp.GetId() {
					t.Fatalf("overdue queue = %v (count %d)", q.Msg.GetComplaints(), q.Msg.GetOverdueCount())
				}
				decided, err := m.decide(got, complaintv1.Decision_OUTCOME_DISMISSED)
				if err != nil {
					t.Fatalf("decide an overdue complaint: %v", err)
				}
				if !decided.GetOverdue() || decided.GetState() != complaintv1.Complaint_STATE_DISMISSED {
					t.Fatalf("decided = overdue %v state %v", decided.GetOverdue(), decided.GetState())
				}
			})
		}
	})
}

// TestWorkQueue lists filed complaints by decision deadline, soonest first, across pages, and leaves
// decided and withdrawn ones out.
func TestWorkQueue(t *testing.T) {
	one(t, func(t *testing.T, e *servertest.Env) {
		m := newMarket(t, e)
		var want []string
		for i := 0; i < 5; i++ {
			c := m.file(m.buyer, m.paid(commonv1.Policy_POLICY_TRADE_ASSURANCE), complaintv1.Complaint_TYPE_SERVICE_FAILURE)
			want = append(want, c.GetId())
			e.Advance(5 * time.Hour)
		}
		gone := m.file(m.buyer, m.paid(commonv1.Policy_POLICY_RETAIL), complaintv1.Complaint_TYPE_SERVICE_FAILURE)
		if _, err := m.buyer.Complaints.WithdrawComplaint(e.Ctx, connect.NewRequest(&complaintv1.WithdrawComplaintRequest{Id: gone.GetId()})); err != nil {
			t.Fatal(err)
		}
		var got []string
		token := ""
		for {
			resp, err := m.arbiter.Complaints.ListComplaintQueue(e.Ctx, connect.NewRequest(&complaintv1.ListComplaintQueueRequest{PageSize: 2, PageToken: token}))
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range resp.Msg.GetComplaints() {
				got = append(got, c.GetId())
			}
			if token = resp.Msg.GetNextPageToken(); token == "" {
				break
			}
		}
		if !slices.Equal(got, want) {
			t.Fatalf("queue = %v, want %v", got, want)
		}
		_, err := m.arbiter.Complaints.ListComplaintQueue(e.Ctx, connect.NewRequest(&complaintv1.ListComplaintQueueRequest{
			PageSize: 2, PageToken: "bogus", Type: complaintv1.Complaint_TYPE_PRODUCT_QUALITY}))
		servertest.WantError(t, err, connect.CodeInvalidArgument, commonv1.ErrorReason_ERROR_REASON_INVALID_PAGE_TOKEN)
		_, err = m.buyer.Complaints.ListComplaintQueue(e.Ctx, connect.NewRequest(&complaintv1.ListComplaintQueueRequest{}))
		servertest.WantError(t, err, connect.CodePermissionDenied, commonv1.ErrorReason_ERROR_REASON_ROLE_NOT_ALLOWED)
	})
}

// TestOutcomes decides a complaint of every type with every penalty it allows, one it does not allow, and
// no penalty; and dismisses and withdraws.
func TestOutcomes(t *testing.T) {
	one(t, func(t *testing.T, e *servertest.Env) {
		ft, pq := complaintv1.Complaint_TYPE_FALSE_TRANSACTION, complaintv1.Complaint_TYPE_PRODUCT_QUALITY
		sf, tf := complaintv1.Complaint_TYPE_SERVICE_FAILURE, complaintv1.Complaint_TYPE_TRANSACTION_FRAUD
		cases := []struct {
			name      string
			typ       complaintv1.Complaint_Type
			outcome   complaintv1.Decision_Outcome
			penalties []*complaintv1.Penalty
			code      connect.Code
			reason    commonv1.ErrorReason
		}{
			{"false transaction upheld: credit score", ft, complaintv1.Decision_OUTCOME_UPHELD, []*complaintv1.Penalty{credit(10)}, 0, 0},
			{"false transaction upheld: restriction", ft, complaintv1.Decision_OUTCOME_UPHELD, []*complaintv1.Penalty{restriction(servertest.Start.Add(400 * day))}, 0, 0},
			{"false transaction: ban not allowed", ft, complaintv1.Decision_OUTCOME_UPHELD, []*complaintv1.Penalty{ban()}, connect.CodeInvalidArgument, commonv1.ErrorReason_ERROR_REASON_PENALTY_NOT_ALLOWED},
			{"false transaction: compensation not allowed", ft, complaintv1.Decision_OUTCOME_UPHELD, []*complaintv1.Penalty{compensation(100)}, connect.CodeInvalidArgument, commonv1.ErrorReason_ERROR_REASON_PENALTY_NOT_ALLOWED},
			{"product quality upheld: return costs", pq, complaintv1.Decision_OUTCOME_UPHELD, []*complaintv1.Penalty{returnCosts(12_00)}, 0, 0},
			{"product quality upheld: compensation", pq, complaintv1.Decision_OUTCOME_UPHELD, []*complaintv1.Penalty{compensation(30_00)}, 0, 0},
			{"product quality: credit not allowed", pq, complaintv1.Decision_OUTCOME_UPHELD, []*complaintv1.Penalty{credit(5)}, connect.CodeInvalidArgument, commonv1.ErrorReason_ERROR_REASON_PENALTY_NOT_ALLOWED},
			{"product quality: freight not allowed", pq, complaintv1.Decision_OUTCOME_UPHELD, []*complaintv1.Penalty{freight(5_00)}, connect.CodeInvalidArgument, commonv1.ErrorReason_ERROR_REASON_PENALTY_NOT_ALLOWED},
			{"service failure upheld: freight", sf, complaintv1.Decision_OUTCOME_UPHELD, []*complaintv1.Penalty{freight(50_00)}, 0, 0},
			{"service failure upheld: extension", sf, complaintv1.Decision_OUTCOME_UPHELD, []*complaintv1.Penalty{extension(7)}, 0, 0},
			{"service failure: restriction not allowed", sf, complaintv1.Decision_OUTCOME_UPHELD, []*complaintv1.Penalty{restriction(servertest.Start.Add(400 * day))}, connect.CodeInvalidArgument, commonv1.ErrorReason_ERROR_REASON_PENALTY_NOT_ALLOWED},
			{"fraud upheld: credit score", tf, complaintv1.Decision_OUTCOME_UPHELD, []*complaintv1.Penalty{credit(20)}, 0, 0},
			{"fraud: restriction not allowed", tf, complaintv1.Decision_OUTCOME_UPHELD, []*complaintv1.Penalty{restriction(servertest.Start.Add(400 * day))}, connect.CodeInvalidArgument, commonv1.ErrorReason_ERROR_REASON_PENALTY_NOT_ALLOWED},
			{"upheld without a penalty", ft, complaintv1.Decision_OUTCOME_UPHELD, nil, connect.CodeInvalidArgument, commonv1.ErrorReason_ERROR_REASON_INVALID_FIELD},
			{"same penalty twice", ft, complaintv1.Decision_OUTCOME_UPHELD, []*complaintv1.Penalty{credit(1), credit(2)}, connect.CodeInvalidArgument, commonv1.ErrorReason_ERROR_REASON_INVALID_FIELD},
			{"restriction in the past", ft, complaintv1.Decision_OUTCOME_UPHELD, []*complaintv1.Penalty{restriction(servertest.Start.Add(-day))}, connect.CodeInvalidArgument, commonv1.ErrorReason_ERROR_REASON_TIME_OUT_OF_RANGE},
			{"compensation in another currency", pq, complaintv1.Decision_OUTCOME_UPHELD, []*complaintv1.Penalty{{Kind: &complaintv1.Penalty_BuyerCompensation_{
				BuyerCompensation: &complaintv1.Penalty_BuyerCompensation{Amount: &commonv1.Money{AmountMinor: 1, Currency: "EUR"}}}}},
				connect.CodeInvalidArgument, commonv1.ErrorReason_ERROR_REASON_CURRENCY_MISMATCH},
			{"dismissed with a penalty", sf, complaintv1.Decision_OUTCOME_DISMISSED, []*complaintv1.Penalty{freight(1)}, connect.CodeInvalidArgument, commonv1.ErrorReason_ERROR_REASON_INVALID_FIELD},
			{"dismissed", pq, complaintv1.Decision_OUTCOME_DISMISSED, nil, 0, 0},
			{"fraud dismissed", tf, complaintv1.Decision_OUTCOME_DISMISSED, nil, 0, 0},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				// A fresh market per case keeps each respondent's standing and balance to this case.
				m := newMarket(t, e)
				o := m.delivered(commonv1.Policy_POLICY_TRADE_ASSURANCE)
				filer, respondent := m.buyer, m.supplier
				if c.typ == ft {
					filer, respondent = m.supplier, m.buyer
				}
				cp := m.file(filer, o, c.typ)
				before := m.standing(respondent)
				got, err := m.decide(cp, c.outcome, c.penalties...)
				if c.code != 0 {
					servertest.WantError(t, err, c.code, c.reason)
					if after := m.get(cp); after.GetState() != complaintv1.Complaint_STATE_FILED || after.GetRevision() != cp.GetRevision() {
						t.Fatalf("a refused decision changed the complaint: %v", after)
					}
					return
				}
				if err != nil {
					t.Fatalf("decide: %v", err)
				}
				wantState := complaintv1.Complaint_STATE_DISMISSED
				if c.outcome == complaintv1.Decision_OUTCOME_UPHELD {
					wantState = complaintv1.Complaint_STATE_UPHELD
				}
				d := got.GetDecision()
				if got.GetState() != wantState || d.GetArbiter().GetAccountId() != m.arbiter.ID() || d.GetOutcome() != c.outcome ||
					got.GetCloseTime() == nil || len(d.GetPenalties()) != len(c.penalties) {
					t.Fatalf("decided complaint = %v", got)
				}
				wantEvent(t, eventTypes(t, e, filer, cp.GetId()), "complaint."+map[complaintv1.Complaint_State]string{
					complaintv1.Complaint_STATE_UPHELD: "upheld", complaintv1.Complaint_STATE_DISMISSED: "dismissed"}[wantState])
				after := m.standing(respondent)
				if wantState == complaintv1.Complaint_STATE_DISMISSED {
					if after.GetCreditScore() != before.GetCreditScore() || len(after.GetUpheldComplaints()) != 0 {
						t.Fatalf("a dismissal changed the standing: %v", after)
					}
					return
				}
				for _, p := range d.GetPenalties() {
					if p.GetAccountId() != respondent.ID() || p.GetApplyTime() == nil {
						t.Fatalf("penalty %v lacks its account or time", p)
					}
				}
				if len(after.GetUpheldComplaints()) != 1 || after.GetUpheldComplaints()[0].GetComplaintId() != cp.GetId() {
					t.Fatalf("standing record = %v", after.GetUpheldComplaints())
				}
				p := c.penalties[0]
				switch {
				case p.GetCreditScoreDeduction() != nil:
					if after.GetCreditScore() != 100-p.GetCreditScoreDeduction().GetPoints() {
						t.Fatalf("credit score = %d", after.GetCreditScore())
					}
				case p.GetTradingRestriction() != nil:
					if after.GetState() != complaintv1.AccountStanding_STATE_RESTRICTED ||
						!after.GetRestrictedUntil().AsTime().Equal(p.GetTradingRestriction().GetUntil().AsTime()) {
						t.Fatalf("standing = %v", after)
					}
				case p.GetReturnCosts() != nil || p.GetBuyerCompensation() != nil || p.GetSupplierFreight() != nil:
					amount := p.GetReturnCosts().GetAmount().GetAmountMinor() + p.GetBuyerCompensation().GetAmount().GetAmountMinor() +
						p.GetSupplierFreight().GetAmount().GetAmountMinor()
					// The order is not completed, so nothing was released to the supplier: the balance goes negative.
					if got := balance(t, e, ledger.SupplierAvailable, m.supplier.ID()); got != -amount {
						t.Fatalf("supplier available = %d, want %d", got, -amount)
					}
					if got := balance(t, e, ledger.Refunds, m.buyer.ID()); got != amount {
						t.Fatalf("buyer refunds = %d, want %d", got, amount)
					}
				case p.GetDeliveryExtension() != nil:
					want := o.GetAutoConfirmDeadline().AsTime().Add(time.Duration(p.GetDeliveryExtension().GetDays()) * day)
					if got := m.order(o.GetId()); !got.GetAutoConfirmDeadline().AsTime().Equal(want) {
						t.Fatalf("auto-confirm deadline = %v, want %v", got.GetAutoConfirmDeadline().AsTime(), want)
					}
					wantEvent(t, eventTypes(t, e, m.buyer, o.GetId()), "order.delivery_extended")
				}
			})
		}
	})
}

// TestDeliveryExtensionMovesConfirmation checks that an extended order is confirmed automatically at the
// extended deadline, one second before and one second after it, and not at the original one.
func TestDeliveryExtensionMovesConfirmation(t *testing.T) {
	one(t, func(t *testing.T, e *servertest.Env) {
		m := newMarket(t, e)
		o := m.delivered(commonv1.Policy_POLICY_RETAIL)
		cp := m.file(m.buyer, o, complaintv1.Complaint_TYPE_SERVICE_FAILURE)
		if _, err := m.decide(cp, complaintv1.Decision_OUTCOME_UPHELD, extension(10), freight(50_00)); err != nil {
			t.Fatal(err)
		}
		due := o.GetAutoConfirmDeadline().AsTime().Add(10 * day)
		e.SetTime(o.GetAutoConfirmDeadline().AsTime().Add(time.Second))
		e.SetTime(due.Add(-time.Second))
		if got := m.order(o.GetId()); got.GetState() != orderv1.Order_STATE_DELIVERED {
			t.Fatalf("one second before the extended deadline the order is %v", got.GetState())
		}
		e.Advance(2 * time.Second)
		if got := m.order(o.GetId()); got.GetState() != orderv1.Order_STATE_COMPLETED {
			t.Fatalf("one second after the extended deadline the order is %v", got.GetState())
		}
		// On a completed order there is no confirmation left to move: the extension is recorded only.
		o2 := m.completed(commonv1.Policy_POLICY_RETAIL)
		cp2 := m.file(m.buyer, o2, complaintv1.Complaint_TYPE_SERVICE_FAILURE)
		if _, err := m.decide(cp2, complaintv1.Decision_OUTCOME_UPHELD, extension(3)); err != nil {
			t.Fatal(err)
		}
		if got := m.order(o2.GetId()); got.GetRevision() != o2.GetRevision() {
			t.Fatalf("an extension changed a completed order: revision %d → %d", o2.GetRevision(), got.GetRevision())
		}
	})
}

// TestWithdraw withdraws a filed complaint: only the complainant, only while filed; its decision deadline
// no longer fires.
func TestWithdraw(t *testing.T) {
	one(t, func(t *testing.T, e *servertest.Env) {
		m := newMarket(t, e)
		cp := m.file(m.buyer, m.completed(commonv1.Policy_POLICY_TRADE_ASSURANCE), complaintv1.Complaint_TYPE_PRODUCT_QUALITY)
		_, err := m.supplier.Complaints.WithdrawComplaint(e.Ctx, connect.NewRequest(&complaintv1.WithdrawComplaintRequest{Id: cp.GetId()}))
		servertest.WantError(t, err, connect.CodePermissionDenied, commonv1.ErrorReason_ERROR_REASON_ROLE_NOT_ALLOWED)
		_, err = m.buyer.Complaints.WithdrawComplaint(e.Ctx, connect.NewRequest(&complaintv1.WithdrawComplaintRequest{Id: cp.GetId(), Etag: "stale"}))
		servertest.WantError(t, err, connect.CodeAborted, commonv1.ErrorReason_ERROR_REASON_ETAG_MISMATCH)
		resp, err := m.buyer.Complaints.WithdrawComplaint(e.Ctx, connect.NewRequest(&complaintv1.WithdrawComplaintRequest{
			Id: cp.GetId(), Etag: cp.GetEtag(), Note: "settled with the supplier", RequestId: "w1"}))
		if err != nil {
			t.Fatal(err)
		}
		w := resp.Msg.GetComplaint()
		if w.GetState() != complaintv1.Complaint_STATE_WITHDRAWN || w.GetWithdrawNote() != "settled with the supplier" || w.GetCloseTime() == nil {
			t.Fatalf("withdrawn = %v", w)
		}
		// A retry with the same request id returns the first response.
		again, err := m.buyer.Complaints.WithdrawComplaint(e.Ctx, connect.NewRequest(&complaintv1.WithdrawComplaintRequest{
			Id: cp.GetId(), Etag: cp.GetEtag(), Note: "settled with the supplier", RequestId: "w1"}))
		if err != nil || again.Msg.GetComplaint().GetRevision() != w.GetRevision() {
			t.Fatalf("retry: %v, %v", again, err)
		}
		_, err = m.decide(w, complaintv1.Decision_OUTCOME_DISMISSED)
		servertest.WantError(t, err, connect.CodeFailedPrecondition, commonv1.ErrorReason_ERROR_REASON_ILLEGAL_STATE)
		e.Advance(10 * day)
		if got := m.get(cp); got.GetOverdue() {
			t.Fatalf("a withdrawn complaint became overdue")
		}
		// Withdrawn is not decided: the buyer may file again.
		m.file(m.buyer, &orderv1.Order{Id: cp.GetOrderId()}, complaintv1.Complaint_TYPE_PRODUCT_QUALITY)
	})
}
