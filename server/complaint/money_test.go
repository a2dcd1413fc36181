package complaint_test

import (
	"strings"
	"testing"
	"time"

	"connectrpc.com/connect"

	"github.com/tradeassure/tradeassure/ent"
	commonv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/common/v1"
	complaintv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/complaint/v1"
	payoutv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/payout/v1"
	"github.com/tradeassure/tradeassure/server/ledger"
	"github.com/tradeassure/tradeassure/server/money"
	"github.com/tradeassure/tradeassure/server/servertest"
)

// TestPenaltyEntriesLinkTheComplaint upholds a product-quality complaint with return costs and buyer
// compensation, and a service-failure one with freight: every penalty transfer names its complaint, so the
// supplier's statement entries and the transfers link to it. A penalty posted before transfers carried the
// complaint (its cause id still names it) shows the complaint too.
func TestPenaltyEntriesLinkTheComplaint(t *testing.T) {
	servertest.Each(t, func(t *testing.T, e *servertest.Env) {
		m := newMarket(t, e)
		pq := m.file(m.buyer, m.completed(commonv1.Policy_POLICY_TRADE_ASSURANCE), complaintv1.Complaint_TYPE_PRODUCT_QUALITY)
		if _, err := m.decide(pq, complaintv1.Decision_OUTCOME_UPHELD, returnCosts(12_00), compensation(30_00)); err != nil {
			t.Fatal(err)
		}
		sfOrder := m.completed(commonv1.Policy_POLICY_TRADE_ASSURANCE)
		sf := m.file(m.buyer, sfOrder, complaintv1.Complaint_TYPE_SERVICE_FAILURE)
		if _, err := m.decide(sf, complaintv1.Decision_OUTCOME_UPHELD, freight(50_00)); err != nil {
			t.Fatal(err)
		}
		// An entry as an older server posted it: without the complaint on the transfer.
		legacy := "cmp_legacy0001"
		if err := e.Store.WithTx(e.Ctx, func(tx *ent.Tx) error {
			_, err := ledger.Post(e.Ctx, tx, ledger.Transfer{
				CauseKind: ledger.CauseComplaintComp, CauseID: legacy + "/buyer_compensation", Currency: "USD", Time: e.Clock.Now(),
				Memo: "buyer compensation ordered by complaint " + legacy, Links: ledger.Links{OrderID: sfOrder.GetId()},
				Legs: []ledger.Leg{
					{Kind: ledger.SupplierAvailable, Owner: m.supplier.ID(), Amount: -1_00},
					{Kind: ledger.Refunds, Owner: m.buyer.ID(), Amount: 1_00},
				},
			})
			return err
		}); err != nil {
			t.Fatal(err)
		}

		st, err := m.supplier.Payouts.ListStatementEntries(e.Ctx, connect.NewRequest(&payoutv1.ListStatementEntriesRequest{
			SupplierAccountId: m.supplier.ID(), CauseKind: payoutv1.CauseKind_CAUSE_KIND_COMPLAINT_PENALTY}))
		if err != nil {
			t.Fatal(err)
		}
		want := map[string]int64{pq.GetId() + "/return_costs": -12_00, pq.GetId() + "/buyer_compensation": -30_00,
			sf.GetId() + "/supplier_freight": -50_00, legacy + "/buyer_compensation": -1_00}
		if len(st.Msg.GetEntries()) != len(want) {
			t.Fatalf("%d penalty entries, want %d: %v", len(st.Msg.GetEntries()), len(want), st.Msg.GetEntries())
		}
		for _, en := range st.Msg.GetEntries() {
			c := en.GetCause()
			amount, ok := want[c.GetId()]
			complaint, _, _ := strings.Cut(c.GetId(), "/")
			if !ok || en.GetAmount().GetAmountMinor() != amount || c.GetComplaintId() != complaint ||
				!strings.Contains(en.GetDescription(), complaint) {
				t.Fatalf("entry %v: cause %v, description %q", en.GetAmount(), c, en.GetDescription())
			}
		}
		tr, err := m.operator.Payouts.ListTransfers(e.Ctx, connect.NewRequest(&payoutv1.ListTransfersRequest{
			CauseKind: payoutv1.CauseKind_CAUSE_KIND_COMPLAINT_PENALTY}))
		if err != nil {
			t.Fatal(err)
		}
		if len(tr.Msg.GetTransfers()) != len(want) {
			t.Fatalf("%d penalty transfers, want %d", len(tr.Msg.GetTransfers()), len(want))
		}
		for _, x := range tr.Msg.GetTransfers() {
			if complaint, _, _ := strings.Cut(x.GetCause().GetId(), "/"); x.GetCause().GetComplaintId() != complaint {
				t.Fatalf("transfer %s links complaint %q", x.GetId(), x.GetCause().GetComplaintId())
			}
		}
	})
}

// TestPenaltyBounds checks a money penalty just inside and just outside money.Max (it is taken from the
// supplier's balance), and a trading restriction just inside and just outside the policy's three-year
// horizon (a longer one is a ban).
func TestPenaltyBounds(t *testing.T) {
	one(t, func(t *testing.T, e *servertest.Env) {
		horizon := 3 * 365 * day
		for _, c := range []struct {
			name    string
			typ     complaintv1.Complaint_Type
			penalty func(now time.Time) *complaintv1.Penalty
			reason  commonv1.ErrorReason
		}{
			{"compensation at the bound", complaintv1.Complaint_TYPE_PRODUCT_QUALITY, func(time.Time) *complaintv1.Penalty { return compensation(money.Max) }, 0},
			{"compensation over the bound", complaintv1.Complaint_TYPE_PRODUCT_QUALITY, func(time.Time) *complaintv1.Penalty { return compensation(money.Max + 1) },
				commonv1.ErrorReason_ERROR_REASON_AMOUNT_TOO_LARGE},
			{"freight over the bound", complaintv1.Complaint_TYPE_SERVICE_FAILURE, func(time.Time) *complaintv1.Penalty { return freight(money.Max + 1) },
				commonv1.ErrorReason_ERROR_REASON_AMOUNT_TOO_LARGE},
			{"restriction at the horizon", complaintv1.Complaint_TYPE_FALSE_TRANSACTION, func(now time.Time) *complaintv1.Penalty { return restriction(now.Add(horizon)) }, 0},
			{"restriction a second past the horizon", complaintv1.Complaint_TYPE_FALSE_TRANSACTION,
				func(now time.Time) *complaintv1.Penalty { return restriction(now.Add(horizon + time.Second)) }, commonv1.ErrorReason_ERROR_REASON_TIME_OUT_OF_RANGE},
			{"restriction until year 10000", complaintv1.Complaint_TYPE_FALSE_TRANSACTION,
				func(time.Time) *complaintv1.Penalty { return restriction(time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)) },
				commonv1.ErrorReason_ERROR_REASON_TIME_OUT_OF_RANGE},
		} {
			t.Run(c.name, func(t *testing.T) {
				m := newMarket(t, e)
				o := m.completed(commonv1.Policy_POLICY_TRADE_ASSURANCE)
				filer := m.buyer
				if c.typ == complaintv1.Complaint_TYPE_FALSE_TRANSACTION {
					filer = m.supplier
				}
				cp := m.file(filer, o, c.typ)
				_, err := m.decide(cp, complaintv1.Decision_OUTCOME_UPHELD, c.penalty(e.Clock.Now()))
				switch {
				case c.reason == 0 && err != nil:
					t.Fatalf("refused: %v", err)
				case c.reason == 0:
				case servertest.Detail(err).GetReason() == commonv1.ErrorReason_ERROR_REASON_INVALID_FIELD && c.reason == commonv1.ErrorReason_ERROR_REASON_AMOUNT_TOO_LARGE:
					// The schema bounds input amounts too; either way the decision is refused as bad input.
					servertest.WantError(t, err, connect.CodeInvalidArgument, commonv1.ErrorReason_ERROR_REASON_INVALID_FIELD)
				default:
					servertest.WantError(t, err, connect.CodeInvalidArgument, c.reason)
					if after := m.get(cp); after.GetState() != complaintv1.Complaint_STATE_FILED {
						t.Fatalf("a refused decision changed the complaint: %v", after.GetState())
					}
				}
			})
		}
	})
}
