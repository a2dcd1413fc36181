package casefile_test

import (
	"regexp"
	"slices"
	"testing"
	"time"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/types/known/timestamppb"

	adminv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/admin/v1"
	casev1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/case/v1"
	commonv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/common/v1"
	complaintv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/complaint/v1"
	disputev1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/dispute/v1"
	orderv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/order/v1"
	payoutv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/payout/v1"
	returnsv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/returns/v1"
	"github.com/tradeassure/tradeassure/server/admin"
	"github.com/tradeassure/tradeassure/server/servertest"
)

const day = 24 * time.Hour

// market is one test server with every role, a supplier in the free-return programme and a product.
type market struct {
	t                                             *testing.T
	e                                             *servertest.Env
	buyer, other, supplier, operator, arbiter, wh *servertest.Party
	product                                       string
}

func newMarket(t *testing.T, e *servertest.Env) *market {
	m := &market{t: t, e: e}
	m.buyer, m.other = e.Buyer("US"), e.Buyer("US")
	m.supplier = e.Account(admin.NewAccount{Role: commonv1.Role_ROLE_SUPPLIER, Name: "Case Supplier", Email: "case-supplier@test.example",
		Country: "CN", Supplier: &adminv1.SupplierProfile{TradeAssuranceLimitUsdMinor: 100_000_00, OneTouchExport: true,
			BankAccount: "CN00TEST", BankAccountVerified: true, FreeReturnProgramme: true}})
	m.operator = e.Staff(commonv1.Role_ROLE_OPERATOR)
	m.arbiter = e.Staff(commonv1.Role_ROLE_ARBITER)
	m.wh = e.Account(admin.NewAccount{Role: commonv1.Role_ROLE_WAREHOUSE, Name: "Case Warehouse", Email: "case-wh@test.example", Country: "US"})
	m.product = e.Product(m.supplier, "Widget", 10_00, "USD")
	return m
}

func usd(minor int64) *commonv1.Money { return &commonv1.Money{AmountMinor: minor, Currency: "USD"} }

func ev(kind commonv1.EvidenceKind, what string) *commonv1.Evidence {
	return &commonv1.Evidence{Kind: kind, Description: what, Uri: "https://files.example/" + what}
}

func (m *market) must(err error, what string) {
	m.t.Helper()
	if err != nil {
		m.t.Fatalf("%s: %v", what, err)
	}
}

// delivered drafts a retail order of 10 widgets (100.00 + 50.00 shipping + 5.00 insurance), and takes it
// through acceptance, card payment, shipment and delivery.
func (m *market) delivered() *orderv1.Order {
	m.t.Helper()
	e := m.e
	o, err := m.supplier.Orders.CreateOrder(e.Ctx, connect.NewRequest(&orderv1.CreateOrderRequest{
		Policy: commonv1.Policy_POLICY_RETAIL, BuyerEmail: m.buyer.Account.Email, Terms: &orderv1.OrderTerms{
			Lines: []*orderv1.OrderLine{{ProductId: m.product, Quantity: 10}}, Currency: "USD",
			ShippingFeeMinor: 50_00, InsuranceFeeMinor: 5_00,
			ShippingAddress: &commonv1.Address{RecipientName: "Acme Receiving", Phone: "+1 555 0100", Country: "US",
				Lines: []string{"1 Main St"}, City: "Springfield", PostalCode: "12345"},
			TradeTerm: orderv1.TradeTerm_TRADE_TERM_FCA, ShippingMethod: orderv1.ShippingMethod_SHIPPING_METHOD_AIR,
			PaymentTerms: &orderv1.PaymentTerms{Kind: orderv1.PaymentTerms_KIND_FULL},
			CoverageType: orderv1.CoverageType_COVERAGE_TYPE_POST_DELIVERY, ShipByTime: timestamppb.New(e.Clock.Now().Add(14 * day)),
		}}))
	m.must(err, "create order")
	e.DeliverOrder(m.buyer, m.supplier, m.operator, o.Msg.GetOrder().GetId())
	return o.Msg.GetOrder()
}

// disputed is a delivered order whose dispute was negotiated, escalated and ruled, and on which the buyer
// then filed a complaint that was upheld with a penalty that moved money.
func (m *market) disputed() string {
	m.t.Helper()
	e := m.e
	o := m.delivered()
	e.Advance(time.Hour)
	d, err := m.buyer.Disputes.OpenDispute(e.Ctx, connect.NewRequest(&disputev1.OpenDisputeRequest{OrderId: o.GetId(),
		Reason: disputev1.Dispute_REASON_DAMAGED, Description: "the widgets are cracked",
		Requested: &disputev1.OfferTerms{Resolution: disputev1.Dispute_RESOLUTION_FULL_REFUND},
		Evidence:  []*commonv1.Evidence{ev(commonv1.EvidenceKind_EVIDENCE_KIND_PRODUCT_PHOTO, "cracked")}}))
	m.must(err, "open dispute")
	e.Advance(time.Hour)
	_, err = m.supplier.Disputes.RespondToDispute(e.Ctx, connect.NewRequest(&disputev1.RespondToDisputeRequest{
		Id: d.Msg.GetDispute().GetId(), Decision: disputev1.RespondToDisputeRequest_DECISION_REJECT,
		CounterOffer: &disputev1.OfferTerms{Resolution: disputev1.Dispute_RESOLUTION_PARTIAL_REFUND, RefundAmount: usd(10_00)},
		Evidence:     []*commonv1.Evidence{ev(commonv1.EvidenceKind_EVIDENCE_KIND_PRODUCT_PHOTO, "packed-fine")}, Note: "they left intact"}))
	m.must(err, "respond")
	e.Advance(time.Hour)
	_, err = m.buyer.Disputes.EscalateDispute(e.Ctx, connect.NewRequest(&disputev1.EscalateDisputeRequest{Id: d.Msg.GetDispute().GetId(), Note: "no agreement"}))
	m.must(err, "escalate")
	e.Advance(time.Hour)
	_, err = m.arbiter.Disputes.RuleDispute(e.Ctx, connect.NewRequest(&disputev1.RuleDisputeRequest{Id: d.Msg.GetDispute().GetId(),
		Resolution: disputev1.Dispute_RESOLUTION_PARTIAL_REFUND, RefundAmount: usd(40_00),
		Responsibility: disputev1.Dispute_RESPONSIBILITY_SUPPLIER, Note: "the photos show cracks"}))
	m.must(err, "rule")
	e.Advance(time.Hour)
	c, err := m.buyer.Complaints.FileComplaint(e.Ctx, connect.NewRequest(&complaintv1.FileComplaintRequest{OrderId: o.GetId(),
		Type: complaintv1.Complaint_TYPE_SERVICE_FAILURE, Description: "shipped late and badly packed",
		Evidence: []*commonv1.Evidence{ev(commonv1.EvidenceKind_EVIDENCE_KIND_ORDER_RECORD, "order"),
			ev(commonv1.EvidenceKind_EVIDENCE_KIND_LOGISTICS_RECORD, "tracking")}}))
	m.must(err, "file complaint")
	e.Advance(time.Hour)
	_, err = m.arbiter.Complaints.DecideComplaint(e.Ctx, connect.NewRequest(&complaintv1.DecideComplaintRequest{
		Id: c.Msg.GetComplaint().GetId(), Etag: c.Msg.GetComplaint().GetEtag(), Outcome: complaintv1.Decision_OUTCOME_UPHELD,
		Penalties: []*complaintv1.Penalty{{Kind: &complaintv1.Penalty_SupplierFreight_{SupplierFreight: &complaintv1.Penalty_SupplierFreight{Amount: usd(5_00)}}}},
		Note:      "the supplier pays the freight"}))
	m.must(err, "decide complaint")
	return o.GetId()
}

// freeReturn is a delivered retail order with a free return the buyer requested.
func (m *market) freeReturn() string {
	m.t.Helper()
	o := m.delivered()
	m.e.Advance(time.Hour)
	_, err := m.buyer.Returns.CreateReturn(m.e.Ctx, connect.NewRequest(&returnsv1.CreateReturnRequest{OrderId: o.GetId(),
		FreeReturn: true, Reason: returnsv1.Return_REASON_CHANGED_MIND, Description: "not what we expected"}))
	m.must(err, "create free return")
	return o.GetId()
}

// timeline reads the whole case as p, pageSize steps at a time.
func timeline(t *testing.T, e *servertest.Env, p *servertest.Party, orderID string, pageSize int32) ([]*casev1.CaseStep, int, error) {
	t.Helper()
	var out []*casev1.CaseStep
	token, pages := "", 0
	for {
		r, err := p.Cases.ListCaseTimeline(e.Ctx, connect.NewRequest(&casev1.ListCaseTimelineRequest{OrderId: orderID, PageSize: pageSize, PageToken: token}))
		if err != nil {
			return nil, pages, err
		}
		pages++
		out = append(out, r.Msg.GetSteps()...)
		if token = r.Msg.GetNextPageToken(); token == "" {
			return out, pages, nil
		}
		if pages > 1000 {
			t.Fatal("the pages never end")
		}
	}
}

func ids(steps []*casev1.CaseStep) []string {
	out := make([]string, len(steps))
	for i, s := range steps {
		out[i] = s.GetId()
	}
	return out
}

// has reports whether some step of the part matches.
func has(steps []*casev1.CaseStep, part casev1.CaseStep_Part, match func(*casev1.CaseStep) bool) bool {
	return slices.ContainsFunc(steps, func(s *casev1.CaseStep) bool { return s.GetPart() == part && match(s) })
}

// TestCaseTimeline follows an order through payment, shipment, delivery, a negotiated, escalated and ruled
// dispute and an upheld complaint, and checks that its case lists every step in time order, with the money
// each moved, the same for every role that may see the order.
func TestCaseTimeline(t *testing.T) {
	servertest.Each(t, func(t *testing.T, e *servertest.Env) {
		m := newMarket(t, e)
		id := m.disputed()
		steps, _, err := timeline(t, e, m.buyer, id, 0)
		if err != nil {
			t.Fatal(err)
		}
		t.Run("oldest first, each step once and complete", func(t *testing.T) {
			for i := 1; i < len(steps); i++ {
				if steps[i].GetTime().AsTime().Before(steps[i-1].GetTime().AsTime()) {
					t.Fatalf("step %d (%s) is older than step %d (%s)", i, steps[i].GetId(), i-1, steps[i-1].GetId())
				}
			}
			seen := map[string]bool{}
			for _, s := range steps {
				if seen[s.GetId()] {
					t.Fatalf("step %s listed twice", s.GetId())
				}
				seen[s.GetId()] = true
				if s.GetDescription() == "" || s.GetTime() == nil || s.GetDetail() == nil {
					t.Fatalf("step %s lacks a description, a time or a detail: %v", s.GetId(), s)
				}
			}
		})
		t.Run("descriptions are for people", func(t *testing.T) {
			// No enum value names ("FULL_REFUND", "NOT_AS_DESCRIBED") and no minor units ("49400 USD"):
			// every amount is written with its currency's decimals.
			enumName := regexp.MustCompile(`\b[A-Z]{2,}_[A-Z_]{2,}\b`)
			minorUnits := regexp.MustCompile(`(^|[^.\d])\d+ (USD|EUR|GBP|CNY|CAD|AUD|HKD)\b`)
			for _, s := range steps {
				if d := s.GetDescription(); enumName.MatchString(d) || minorUnits.MatchString(d) {
					t.Errorf("step %s describes itself with an enum name or minor units: %q", s.GetId(), d)
				}
			}
		})
		change := func(c string) func(*casev1.CaseStep) bool {
			return func(s *casev1.CaseStep) bool { return s.GetOrderRevision().GetChange() == c }
		}
		disputeKind := func(k disputev1.TimelineEntry_Kind) func(*casev1.CaseStep) bool {
			return func(s *casev1.CaseStep) bool { return s.GetDisputeEntry().GetKind() == k }
		}
		cause := func(k payoutv1.CauseKind) func(*casev1.CaseStep) bool {
			return func(s *casev1.CaseStep) bool { return s.GetTransfer().GetCause().GetKind() == k }
		}
		want := []struct {
			what  string
			part  casev1.CaseStep_Part
			match func(*casev1.CaseStep) bool
		}{
			{"drafted", casev1.CaseStep_PART_ORDER, change("order.drafted")},
			{"accepted", casev1.CaseStep_PART_ORDER, change("order.accepted")},
			{"shipped", casev1.CaseStep_PART_ORDER, change("order.shipped")},
			{"delivered", casev1.CaseStep_PART_ORDER, change("order.delivered")},
			{"payment started", casev1.CaseStep_PART_PAYMENT, func(s *casev1.CaseStep) bool {
				return s.GetPayment().GetKind() == casev1.PaymentStep_KIND_STARTED && s.GetActor().GetAccountId() == m.buyer.ID()
			}},
			{"payment settled", casev1.CaseStep_PART_PAYMENT, func(s *casev1.CaseStep) bool { return s.GetPayment().GetKind() == casev1.PaymentStep_KIND_SETTLED }},
			{"dispute opened", casev1.CaseStep_PART_DISPUTE, disputeKind(disputev1.TimelineEntry_KIND_OPENED)},
			{"counter-offer", casev1.CaseStep_PART_DISPUTE, disputeKind(disputev1.TimelineEntry_KIND_SUPPLIER_REJECTED)},
			{"escalated", casev1.CaseStep_PART_DISPUTE, disputeKind(disputev1.TimelineEntry_KIND_ESCALATED)},
			{"ruled", casev1.CaseStep_PART_DISPUTE, disputeKind(disputev1.TimelineEntry_KIND_RULED)},
			{"complaint filed", casev1.CaseStep_PART_COMPLAINT, func(s *casev1.CaseStep) bool { return s.GetComplaint().GetKind() == casev1.ComplaintStep_KIND_FILED }},
			{"complaint upheld with its penalty", casev1.CaseStep_PART_COMPLAINT, func(s *casev1.CaseStep) bool {
				return s.GetComplaint().GetKind() == casev1.ComplaintStep_KIND_UPHELD && len(s.GetComplaint().GetDecision().GetPenalties()) == 1
			}},
			{"payment money", casev1.CaseStep_PART_MONEY, cause(payoutv1.CauseKind_CAUSE_KIND_ORDER_PAYMENT)},
			{"refund money", casev1.CaseStep_PART_MONEY, func(s *casev1.CaseStep) bool {
				return s.GetTransfer().GetAmount().GetAmountMinor() == 40_00 && s.GetTransfer().GetCause().GetKind() == payoutv1.CauseKind_CAUSE_KIND_REFUND
			}},
			{"penalty money", casev1.CaseStep_PART_MONEY, func(s *casev1.CaseStep) bool {
				return s.GetTransfer().GetCause().GetKind() == payoutv1.CauseKind_CAUSE_KIND_COMPLAINT_PENALTY
			}},
		}
		for _, w := range want {
			t.Run("has "+w.what, func(t *testing.T) {
				if !has(steps, w.part, w.match) {
					t.Errorf("no %s step among %v", w.what, ids(steps))
				}
			})
		}
		// The ruling comes after the escalation, and the complaint after the ruling.
		t.Run("parts in order, revisions without snapshots", func(t *testing.T) {
			at := func(match func(*casev1.CaseStep) bool) int { return slices.IndexFunc(steps, match) }
			if !(at(change("order.drafted")) < at(disputeKind(disputev1.TimelineEntry_KIND_OPENED)) &&
				at(disputeKind(disputev1.TimelineEntry_KIND_ESCALATED)) < at(disputeKind(disputev1.TimelineEntry_KIND_RULED)) &&
				at(disputeKind(disputev1.TimelineEntry_KIND_RULED)) < at(func(s *casev1.CaseStep) bool { return s.GetComplaint() != nil })) {
				t.Fatalf("steps out of order: %v", ids(steps))
			}
			for _, s := range steps {
				if r := s.GetOrderRevision(); r != nil && r.GetOrder() != nil {
					t.Fatalf("revision step %s carries the order snapshot", s.GetId())
				}
			}
		})

		// Every role that may see the order sees the same case.
		for name, p := range map[string]*servertest.Party{"supplier": m.supplier, "operator": m.operator, "arbiter": m.arbiter} {
			t.Run(name+" sees the buyer's case", func(t *testing.T) {
				got, _, err := timeline(t, e, p, id, 0)
				if err != nil {
					t.Fatalf("%s: %v", name, err)
				}
				if !slices.Equal(ids(got), ids(steps)) {
					t.Fatalf("%s sees %v, the buyer %v", name, ids(got), ids(steps))
				}
			})
		}
	})
}

// TestCaseTimelinePaging reads the case one, two and seven steps at a time and checks the pages join into
// the whole, and that tokens are bound to their order.
func TestCaseTimelinePaging(t *testing.T) {
	servertest.Each(t, func(t *testing.T, e *servertest.Env) {
		m := newMarket(t, e)
		id := m.disputed()
		whole, pages, err := timeline(t, e, m.buyer, id, 500)
		if err != nil || pages != 1 {
			t.Fatalf("one page of 500: %d pages, %v", pages, err)
		}
		for _, size := range []int32{1, 2, 7, int32(len(whole)), int32(len(whole)) - 1} {
			got, pages, err := timeline(t, e, m.buyer, id, size)
			if err != nil {
				t.Fatalf("page size %d: %v", size, err)
			}
			if !slices.Equal(ids(got), ids(whole)) {
				t.Fatalf("page size %d gives %v, want %v", size, ids(got), ids(whole))
			}
			if want := (len(whole) + int(size) - 1) / int(size); pages != want {
				t.Fatalf("page size %d: %d pages for %d steps", size, pages, len(whole))
			}
		}
		// Just inside and outside the page-size rules, and a token of another order.
		first, err := m.buyer.Cases.ListCaseTimeline(e.Ctx, connect.NewRequest(&casev1.ListCaseTimelineRequest{OrderId: id, PageSize: 1}))
		if err != nil || len(first.Msg.GetSteps()) != 1 || first.Msg.GetNextPageToken() == "" {
			t.Fatalf("first page: %v, %v", first, err)
		}
		other := m.delivered().GetId()
		_, err = m.buyer.Cases.ListCaseTimeline(e.Ctx, connect.NewRequest(&casev1.ListCaseTimelineRequest{OrderId: other, PageToken: first.Msg.GetNextPageToken()}))
		servertest.WantError(t, err, connect.CodeInvalidArgument, commonv1.ErrorReason_ERROR_REASON_INVALID_PAGE_TOKEN)
		_, err = m.buyer.Cases.ListCaseTimeline(e.Ctx, connect.NewRequest(&casev1.ListCaseTimelineRequest{OrderId: id, PageToken: "not-a-token"}))
		servertest.WantError(t, err, connect.CodeInvalidArgument, commonv1.ErrorReason_ERROR_REASON_INVALID_PAGE_TOKEN)
		big, err := m.buyer.Cases.ListCaseTimeline(e.Ctx, connect.NewRequest(&casev1.ListCaseTimelineRequest{OrderId: id, PageSize: 501}))
		if err != nil || len(big.Msg.GetSteps()) != len(whole) {
			t.Fatalf("page size 501 is read as 500: %v", err)
		}
	})
}

// TestCaseTimelineVisibility checks each role sees only the parts it may see: a stranger and the
// warehouse nothing of a standard order, the warehouse only the free return of an order with one.
func TestCaseTimelineVisibility(t *testing.T) {
	servertest.Each(t, func(t *testing.T, e *servertest.Env) {
		m := newMarket(t, e)
		disputed, returned := m.disputed(), m.freeReturn()
		for name, p := range map[string]*servertest.Party{"another buyer": m.other, "the warehouse": m.wh} {
			t.Run(name, func(t *testing.T) {
				_, _, err := timeline(t, e, p, disputed, 0)
				servertest.WantError(t, err, connect.CodeNotFound, commonv1.ErrorReason_ERROR_REASON_NOT_FOUND)
			})
		}
		_, _, err := timeline(t, e, m.other, returned, 0)
		servertest.WantError(t, err, connect.CodeNotFound, commonv1.ErrorReason_ERROR_REASON_NOT_FOUND)
		wh, _, err := timeline(t, e, m.wh, returned, 0)
		if err != nil {
			t.Fatal(err)
		}
		if len(wh) == 0 {
			t.Fatal("the warehouse sees nothing of the free return")
		}
		for _, s := range wh {
			if s.GetPart() != casev1.CaseStep_PART_RETURN {
				t.Fatalf("the warehouse sees %v step %s", s.GetPart(), s.GetId())
			}
		}
		buyer, _, err := timeline(t, e, m.buyer, returned, 0)
		if err != nil {
			t.Fatal(err)
		}
		if !has(buyer, casev1.CaseStep_PART_RETURN, func(*casev1.CaseStep) bool { return true }) ||
			!has(buyer, casev1.CaseStep_PART_MONEY, func(*casev1.CaseStep) bool { return true }) {
			t.Fatalf("the buyer misses the return or the money: %v", ids(buyer))
		}
		_, _, err = timeline(t, e, m.buyer, "ord_missing", 0)
		servertest.WantError(t, err, connect.CodeNotFound, commonv1.ErrorReason_ERROR_REASON_NOT_FOUND)
		_, _, err = timeline(t, e, e.Clients("not-a-key"), disputed, 0)
		if connect.CodeOf(err) != connect.CodeUnauthenticated {
			t.Fatalf("no key: %v", err)
		}
	})
}

// TestCaseTimelineBadInput checks the request's bounds: just inside and outside each.
func TestCaseTimelineBadInput(t *testing.T) {
	e := servertest.New(t, servertest.Options{})
	m := newMarket(t, e)
	id := m.delivered().GetId()
	for _, c := range []struct {
		name string
		req  *casev1.ListCaseTimelineRequest
		ok   bool
	}{
		{"no order", &casev1.ListCaseTimelineRequest{}, false},
		{"an order id", &casev1.ListCaseTimelineRequest{OrderId: id}, true},
		{"order id of 65 bytes", &casev1.ListCaseTimelineRequest{OrderId: string(slices.Repeat([]byte("x"), 65))}, false},
		{"negative page size", &casev1.ListCaseTimelineRequest{OrderId: id, PageSize: -1}, false},
		{"page size 500", &casev1.ListCaseTimelineRequest{OrderId: id, PageSize: 500}, true},
		{"page size 501, read as 500", &casev1.ListCaseTimelineRequest{OrderId: id, PageSize: 501}, true},
		{"token of 2001 bytes", &casev1.ListCaseTimelineRequest{OrderId: id, PageToken: string(slices.Repeat([]byte("x"), 2001))}, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := m.buyer.Cases.ListCaseTimeline(e.Ctx, connect.NewRequest(c.req))
			if c.ok {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			servertest.WantError(t, err, connect.CodeInvalidArgument, commonv1.ErrorReason_ERROR_REASON_INVALID_FIELD)
		})
	}
	// Inside the bounds, an order id that names no order is NOT_FOUND and a token that is no token of this
	// list (however long, or a page token of one of the lists the case is made of) INVALID_PAGE_TOKEN.
	for _, bad := range []string{string(slices.Repeat([]byte("x"), 64)), "ord_' OR '1'='1", "ord_\u00e9\u4e2d"} {
		_, err := m.buyer.Cases.ListCaseTimeline(e.Ctx, connect.NewRequest(&casev1.ListCaseTimelineRequest{OrderId: bad}))
		servertest.WantError(t, err, connect.CodeNotFound, commonv1.ErrorReason_ERROR_REASON_NOT_FOUND)
	}
	revisions, err := m.buyer.Orders.ListOrderRevisions(e.Ctx, connect.NewRequest(&orderv1.ListOrderRevisionsRequest{OrderId: id, PageSize: 1}))
	if err != nil || revisions.Msg.GetNextPageToken() == "" {
		t.Fatalf("a page of revisions: %v, %v", revisions, err)
	}
	for name, tok := range map[string]string{"token of 2000 bytes": string(slices.Repeat([]byte("x"), 2000)), "revisions token": revisions.Msg.GetNextPageToken()} {
		_, err := m.buyer.Cases.ListCaseTimeline(e.Ctx, connect.NewRequest(&casev1.ListCaseTimelineRequest{OrderId: id, PageToken: tok}))
		t.Run(name, func(t *testing.T) {
			servertest.WantError(t, err, connect.CodeInvalidArgument, commonv1.ErrorReason_ERROR_REASON_INVALID_PAGE_TOKEN)
		})
	}
}
