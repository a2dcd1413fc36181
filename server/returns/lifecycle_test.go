package returns_test

import (
	"testing"

	"connectrpc.com/connect"

	commonv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/common/v1"
	disputev1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/dispute/v1"
	returnsv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/returns/v1"
	"github.com/tradeassure/tradeassure/server/servertest"
)

// TestReceiptDispute checks a supplier's line-level receipt report: the quantities must add up, damaged or
// missing units need evidence and a note and open a dispute about the returned goods, and the arbiter's
// ruling on that dispute decides the refund.
func TestReceiptDispute(t *testing.T) {
	servertest.Each(t, func(t *testing.T, e *servertest.Env) {
		m := newMarket(t, e)
		o := m.deliveredWith(m.supplier, ta, m.terms(line(m.widget, 4), line(m.gadget, 3)))
		r := m.shipped(o.GetId())
		rec := func(i int32, received, damaged, missing int64) *returnsv1.LineReceipt {
			return &returnsv1.LineReceipt{Line: &returnsv1.LineReceipt_LineIndex{LineIndex: i}, ReceivedQuantity: received, DamagedQuantity: damaged, MissingQuantity: missing}
		}
		for _, c := range []struct {
			name   string
			req    *returnsv1.ConfirmReturnReceiptRequest
			reason commonv1.ErrorReason
		}{
			{"quantities do not add up", &returnsv1.ConfirmReturnReceiptRequest{Id: r.GetId(), Lines: []*returnsv1.LineReceipt{rec(0, 3, 0, 0), rec(1, 3, 0, 0)}},
				commonv1.ErrorReason_ERROR_REASON_INVALID_FIELD},
			{"a returned line is not reported", &returnsv1.ConfirmReturnReceiptRequest{Id: r.GetId(), Lines: []*returnsv1.LineReceipt{rec(0, 4, 0, 0)}},
				commonv1.ErrorReason_ERROR_REASON_INVALID_FIELD},
			{"damage without evidence", &returnsv1.ConfirmReturnReceiptRequest{Id: r.GetId(), Note: "cracked", Lines: []*returnsv1.LineReceipt{rec(0, 3, 1, 0), rec(1, 3, 0, 0)}},
				commonv1.ErrorReason_ERROR_REASON_EVIDENCE_REQUIRED},
			{"damage without a note", &returnsv1.ConfirmReturnReceiptRequest{Id: r.GetId(), Evidence: photo, Lines: []*returnsv1.LineReceipt{rec(0, 3, 1, 0), rec(1, 3, 0, 0)}},
				commonv1.ErrorReason_ERROR_REASON_INVALID_FIELD},
		} {
			_, err := m.supplier.Returns.ConfirmReturnReceipt(e.Ctx, connect.NewRequest(c.req))
			if err == nil {
				t.Fatalf("%s: accepted", c.name)
			}
			servertest.WantError(t, err, connect.CodeInvalidArgument, c.reason)
		}
		_, err := m.buyer.Returns.ConfirmReturnReceipt(e.Ctx, connect.NewRequest(&returnsv1.ConfirmReturnReceiptRequest{Id: r.GetId()}))
		servertest.WantError(t, err, connect.CodePermissionDenied, commonv1.ErrorReason_ERROR_REASON_ROLE_NOT_ALLOWED)

		resp, err := m.supplier.Returns.ConfirmReturnReceipt(e.Ctx, connect.NewRequest(&returnsv1.ConfirmReturnReceiptRequest{Id: r.GetId(),
			Note: "one widget cracked, one gadget missing", Evidence: photo, Lines: []*returnsv1.LineReceipt{rec(0, 3, 1, 0), rec(1, 2, 0, 1)}}))
		if err != nil {
			t.Fatal(err)
		}
		d := resp.Msg.GetReturn()
		wantState(t, d, returnsv1.Return_STATE_DISPUTED)
		if d.GetReceiptDisputeId() == "" || d.GetLines()[0].GetDamagedQuantity() != 1 || d.GetLines()[1].GetMissingQuantity() != 1 ||
			d.GetLines()[1].GetReceivedQuantity() != 2 || d.GetReceiveTime() == nil {
			t.Fatalf("disputed = %v", d)
		}
		if !m.order(o.GetId()).GetEscrowHeld() {
			t.Fatal("a disputed return must keep the hold")
		}
		disp, err := m.arbiter.Disputes.GetDispute(e.Ctx, connect.NewRequest(&disputev1.GetDisputeRequest{Id: d.GetReceiptDisputeId()}))
		if err != nil {
			t.Fatalf("the dispute about the returned goods: %v", err)
		}
		rule, err := m.arbiter.Disputes.RuleDispute(e.Ctx, connect.NewRequest(&disputev1.RuleDisputeRequest{Id: disp.Msg.GetDispute().GetId(),
			Resolution: disputev1.Dispute_RESOLUTION_PARTIAL_REFUND, RefundAmount: &commonv1.Money{AmountMinor: 40_00, Currency: "USD"},
			Responsibility: disputev1.Dispute_RESPONSIBILITY_BUYER, Note: "the damage happened in the return shipment"}))
		if err != nil {
			t.Fatalf("rule: %v", err)
		}
		_ = rule
		done := m.get(r.GetId())
		wantState(t, done, returnsv1.Return_STATE_REFUNDED)
		if amount(done.GetRefundedAmount()) != 40_00 || amount(m.order(o.GetId()).GetRefunded()) != 40_00 {
			t.Fatalf("after the ruling: refunded %v, order %v", done.GetRefundedAmount(), m.order(o.GetId()).GetRefunded())
		}
		if m.order(o.GetId()).GetEscrowHeld() {
			t.Fatal("the hold outlived the return and its dispute")
		}
		sumZero(t, e)
	})
}

// TestListTimelineCancelEvidence checks who sees which returns in lists, paging, the timeline, evidence
// added later, and the buyer's cancellation.
func TestListTimelineCancelEvidence(t *testing.T) {
	servertest.Each(t, func(t *testing.T, e *servertest.Env) {
		m := newMarket(t, e)
		o := m.delivered(retail)
		var ids []string
		for range 3 {
			ids = append(ids, m.create(withLines(request(o.GetId()), sel(0, 1))).GetId())
		}
		free := m.create(&returnsv1.CreateReturnRequest{OrderId: o.GetId(), Reason: returnsv1.Return_REASON_NO_REASON, FreeReturn: true, Lines: []*returnsv1.LineSelector{sel(0, 1)}})
		list := func(p *servertest.Party, req *returnsv1.ListReturnsRequest) *returnsv1.ListReturnsResponse {
			t.Helper()
			resp, err := p.Returns.ListReturns(e.Ctx, connect.NewRequest(req))
			if err != nil {
				t.Fatalf("list: %v", err)
			}
			return resp.Msg
		}
		t.Run("pages and filters", func(t *testing.T) {
			page := list(m.buyer, &returnsv1.ListReturnsRequest{PageSize: 2, Kind: returnsv1.Return_KIND_STANDARD})
			if len(page.GetReturns()) != 2 || page.GetNextPageToken() == "" || page.GetReturns()[0].GetId() != ids[2] {
				t.Fatalf("first page %v", page)
			}
			next := list(m.buyer, &returnsv1.ListReturnsRequest{PageSize: 2, Kind: returnsv1.Return_KIND_STANDARD, PageToken: page.GetNextPageToken()})
			if len(next.GetReturns()) != 1 || next.GetNextPageToken() != "" || next.GetReturns()[0].GetId() != ids[0] {
				t.Fatalf("second page %v", next)
			}
			_, err := m.buyer.Returns.ListReturns(e.Ctx, connect.NewRequest(&returnsv1.ListReturnsRequest{PageSize: 2, PageToken: page.GetNextPageToken()}))
			servertest.WantError(t, err, connect.CodeInvalidArgument, commonv1.ErrorReason_ERROR_REASON_INVALID_PAGE_TOKEN)
			_, err = m.buyer.Returns.ListReturns(e.Ctx, connect.NewRequest(&returnsv1.ListReturnsRequest{PageSize: -1}))
			servertest.WantError(t, err, connect.CodeInvalidArgument, commonv1.ErrorReason_ERROR_REASON_INVALID_FIELD)
			for _, c := range []struct {
				who  *servertest.Party
				req  *returnsv1.ListReturnsRequest
				want int
			}{
				{m.supplier, &returnsv1.ListReturnsRequest{OrderId: o.GetId()}, 4},
				{m.other, &returnsv1.ListReturnsRequest{}, 0},
				{m.plain, &returnsv1.ListReturnsRequest{}, 0},
				{m.warehouse, &returnsv1.ListReturnsRequest{OrderId: o.GetId()}, 1},
				{m.arbiter, &returnsv1.ListReturnsRequest{BuyerAccountId: m.buyer.ID()}, 4},
				{m.arbiter, &returnsv1.ListReturnsRequest{SupplierAccountId: m.plain.ID()}, 0},
				{m.buyer, &returnsv1.ListReturnsRequest{State: returnsv1.Return_STATE_APPROVED}, 1},
			} {
				if got := list(c.who, c.req).GetReturns(); len(got) != c.want {
					t.Fatalf("%s lists %d returns for %v, want %d", c.who.Account.Name, len(got), c.req, c.want)
				}
			}
			if got := list(m.warehouse, &returnsv1.ListReturnsRequest{}).GetReturns(); len(got) != 1 || got[0].GetId() != free.GetId() {
				t.Fatalf("warehouse list %v", got)
			}
		})

		add := &returnsv1.AddReturnEvidenceRequest{Id: ids[0], Evidence: photo}
		t.Run("evidence by either party, not by others", func(t *testing.T) {
			for _, p := range []*servertest.Party{m.buyer, m.supplier} {
				if _, err := p.Returns.AddReturnEvidence(e.Ctx, connect.NewRequest(add)); err != nil {
					t.Fatalf("add evidence: %v", err)
				}
			}
			_, err := m.arbiter.Returns.AddReturnEvidence(e.Ctx, connect.NewRequest(add))
			servertest.WantError(t, err, connect.CodePermissionDenied, commonv1.ErrorReason_ERROR_REASON_ROLE_NOT_ALLOWED)
			if got := m.get(ids[0]); len(got.GetEvidence()) != 3 {
				t.Fatalf("evidence: %d pieces, want the request's and one from each party (3)", len(got.GetEvidence()))
			}
		})

		t.Run("the buyer cancels before shipping; nothing happens after", func(t *testing.T) {
			_, err := m.supplier.Returns.CancelReturn(e.Ctx, connect.NewRequest(&returnsv1.CancelReturnRequest{Id: ids[0]}))
			servertest.WantError(t, err, connect.CodePermissionDenied, commonv1.ErrorReason_ERROR_REASON_ROLE_NOT_ALLOWED)
			m.approve(m.get(ids[0]))
			c, err := m.buyer.Returns.CancelReturn(e.Ctx, connect.NewRequest(&returnsv1.CancelReturnRequest{Id: ids[0], Note: "found a local repairer"}))
			if err != nil {
				t.Fatal(err)
			}
			wantState(t, c.Msg.GetReturn(), returnsv1.Return_STATE_CANCELLED)
			_, err = m.buyer.Returns.ShipReturn(e.Ctx, connect.NewRequest(&returnsv1.ShipReturnRequest{Id: ids[0], Carrier: "UPS", TrackingNumber: "1Z"}))
			servertest.WantError(t, err, connect.CodeFailedPrecondition, commonv1.ErrorReason_ERROR_REASON_ILLEGAL_STATE)
			_, err = m.buyer.Returns.AddReturnEvidence(e.Ctx, connect.NewRequest(add))
			servertest.WantError(t, err, connect.CodeFailedPrecondition, commonv1.ErrorReason_ERROR_REASON_ILLEGAL_STATE)
		})

		t.Run("the timeline tells the story, oldest first, in pages", func(t *testing.T) {
			r := m.confirm(m.shipBack(m.approve(m.get(ids[1]))))
			want := []returnsv1.TimelineEntry_Kind{returnsv1.TimelineEntry_KIND_CREATED, returnsv1.TimelineEntry_KIND_APPROVED,
				returnsv1.TimelineEntry_KIND_SHIPPED, returnsv1.TimelineEntry_KIND_RECEIPT_CONFIRMED}
			var got []*returnsv1.TimelineEntry
			tok := ""
			for {
				resp, err := m.supplier.Returns.ListReturnTimeline(e.Ctx, connect.NewRequest(&returnsv1.ListReturnTimelineRequest{ReturnId: r.GetId(), PageSize: 3, PageToken: tok}))
				if err != nil {
					t.Fatal(err)
				}
				got = append(got, resp.Msg.GetEntries()...)
				if tok = resp.Msg.GetNextPageToken(); tok == "" {
					break
				}
			}
			if len(got) != len(want) {
				t.Fatalf("timeline has %d entries, want %d: %v", len(got), len(want), got)
			}
			for i, k := range want {
				switch {
				case got[i].GetKind() != k:
					t.Errorf("timeline entry %d: kind %v, want %v", i, got[i].GetKind(), k)
				case got[i].GetDescription() == "":
					t.Errorf("timeline entry %d (%v): no description", i, k)
				case got[i].GetTime() == nil:
					t.Errorf("timeline entry %d (%v): no time", i, k)
				}
			}
			last := got[len(got)-1]
			if last.GetToState() != returnsv1.Return_STATE_REFUNDED {
				t.Errorf("last entry: to_state %v, want REFUNDED", last.GetToState())
			}
			if amount(last.GetAmount()) != amount(r.GetRefundedAmount()) {
				t.Errorf("last entry: amount %v, want the refunded amount %v", last.GetAmount(), r.GetRefundedAmount())
			}
			if last.GetRevision() != r.GetRevision() {
				t.Errorf("last entry: revision %d, want the return's %d", last.GetRevision(), r.GetRevision())
			}
			_, err := m.other.Returns.ListReturnTimeline(e.Ctx, connect.NewRequest(&returnsv1.ListReturnTimelineRequest{ReturnId: r.GetId()}))
			servertest.WantError(t, err, connect.CodeNotFound, commonv1.ErrorReason_ERROR_REASON_NOT_FOUND)
		})
	})
}

// TestReturnForDispute checks the return a dispute's return-and-refund starts: APPROVED at once, addressed to
// the supplier's registered return address, refunding the dispute's agreed amount when the supplier
// confirms the goods came back.
func TestReturnForDispute(t *testing.T) {
	servertest.Each(t, func(t *testing.T, e *servertest.Env) {
		m := newMarket(t, e)
		o := m.delivered(ta)
		open, err := m.buyer.Disputes.OpenDispute(e.Ctx, connect.NewRequest(&disputev1.OpenDisputeRequest{OrderId: o.GetId(),
			Reason: disputev1.Dispute_REASON_QUALITY_PROBLEM, Description: "the finish peels off", Evidence: photo,
			Requested: &disputev1.OfferTerms{Resolution: disputev1.Dispute_RESOLUTION_RETURN_AND_REFUND,
				RefundAmount: &commonv1.Money{AmountMinor: 120_00, Currency: "USD"}}}))
		if err != nil {
			t.Fatalf("open dispute: %v", err)
		}
		acc, err := m.supplier.Disputes.RespondToDispute(e.Ctx, connect.NewRequest(&disputev1.RespondToDisputeRequest{
			Id: open.Msg.GetDispute().GetId(), Decision: disputev1.RespondToDisputeRequest_DECISION_ACCEPT}))
		if err != nil {
			t.Fatalf("accept dispute: %v", err)
		}
		id := acc.Msg.GetDispute().GetReturnId()
		agreed := amount(acc.Msg.GetDispute().GetSettlement().GetRefundAmount())
		if id == "" || agreed <= 0 {
			t.Fatalf("no return started: %v", acc.Msg.GetDispute())
		}
		r := m.get(id)
		wantState(t, r, returnsv1.Return_STATE_APPROVED)
		if r.GetOrigin() != returnsv1.Return_ORIGIN_DISPUTE || r.GetSourceDisputeId() != open.Msg.GetDispute().GetId() ||
			r.GetReturnAddress().GetRecipientName() != supplierAddr.GetRecipientName() || amount(r.GetRefund().GetTotal()) != agreed ||
			!r.GetWholeOrder() || r.GetBuyerShipDeadline() == nil {
			t.Fatalf("return for dispute = %v", r)
		}
		if !m.order(o.GetId()).GetEscrowHeld() {
			t.Fatal("the return for the dispute does not hold the escrow")
		}
		done := m.confirm(m.shipBack(r))
		if amount(done.GetRefundedAmount()) != agreed || amount(m.order(o.GetId()).GetRefunded()) != agreed {
			t.Fatalf("refunded %v, order %v", done.GetRefundedAmount(), m.order(o.GetId()).GetRefunded())
		}
		sumZero(t, e)
	})
}
