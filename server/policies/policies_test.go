package policies_test

import (
	"testing"
	"time"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	adminv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/admin/v1"
	commonv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/common/v1"
	disputev1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/dispute/v1"
	eventv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/event/v1"
	orderv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/order/v1"
	policyv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/policy/v1"
	returnsv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/returns/v1"
	"github.com/tradeassure/tradeassure/server/policies"
	"github.com/tradeassure/tradeassure/server/policy"
	"github.com/tradeassure/tradeassure/server/servertest"
)

const day = 24 * time.Hour

// market is one test server with a buyer, a supplier with one-touch export, one without, and an operator.
type market struct {
	t                 *testing.T
	e                 *servertest.Env
	buyer, supplier   *servertest.Party
	local, operator   *servertest.Party // local: a supplier without one-touch export
	widget, eurGadget string            // 10.00 USD; 4,629.62 EUR (4,999.99 USD at the shipped rate)
}

func newMarket(t *testing.T, e *servertest.Env) *market {
	m := &market{t: t, e: e, buyer: e.Buyer("US"), supplier: e.Supplier(1_000_000_00, true),
		local: e.Supplier(1_000_000_00, false), operator: e.Staff(commonv1.Role_ROLE_OPERATOR)}
	m.widget = e.Product(m.supplier, "Widget", 10_00, "USD")
	m.eurGadget = e.Product(m.local, "Gadget", 4_629_62, "EUR")
	return m
}

func (m *market) terms(product, currency string) *orderv1.OrderTerms {
	return servertest.Terms(product, currency, 1, m.e.Clock.Now().Add(14*day))
}

func (m *market) create(s *servertest.Party, req *orderv1.CreateOrderRequest) (*orderv1.Order, error) {
	resp, err := s.Orders.CreateOrder(m.e.Ctx, connect.NewRequest(req))
	if err != nil {
		return nil, err
	}
	return resp.Msg.GetOrder(), nil
}

func (m *market) order(set string) *orderv1.Order {
	m.t.Helper()
	o, err := m.create(m.supplier, &orderv1.CreateOrderRequest{PolicySet: set, BuyerEmail: m.buyer.Account.Email, Terms: m.terms(m.widget, "USD")})
	if err != nil {
		m.t.Fatalf("create order under %s: %v", set, err)
	}
	return o
}

func (m *market) get(id string) *orderv1.Order {
	m.t.Helper()
	r, err := m.buyer.Orders.GetOrder(m.e.Ctx, connect.NewRequest(&orderv1.GetOrderRequest{OrderId: id}))
	if err != nil {
		m.t.Fatalf("get order %s: %v", id, err)
	}
	return r.Msg.GetOrder()
}

// params is the parameters of set in force now.
func (m *market) params(set string) *policyv1.PolicyParameters {
	m.t.Helper()
	r, err := m.buyer.Policies.GetPolicyVersion(m.e.Ctx, connect.NewRequest(&policyv1.GetPolicyVersionRequest{Set: set}))
	if err != nil {
		m.t.Fatalf("get %s: %v", set, err)
	}
	return r.Msg.GetPolicyVersion().GetParameters()
}

func (m *market) publish(set string, p *policyv1.PolicyParameters, at *timestamppb.Timestamp) *policyv1.PolicyVersion {
	m.t.Helper()
	r, err := m.operator.Policies.PublishPolicyVersion(m.e.Ctx, connect.NewRequest(&policyv1.PublishPolicyVersionRequest{
		RequestId: "publish-" + set + time.Now().String(), Set: set, Parameters: p, EffectiveTime: at}))
	if err != nil {
		m.t.Fatalf("publish %s: %v", set, err)
	}
	return r.Msg.GetPolicyVersion()
}

func (m *market) returnAt(o *orderv1.Order) error {
	_, err := m.buyer.Returns.CreateReturn(m.e.Ctx, connect.NewRequest(&returnsv1.CreateReturnRequest{
		OrderId: o.GetId(), Reason: returnsv1.Return_REASON_QUALITY_PROBLEM, Description: "the finish peels off",
		Evidence: []*commonv1.Evidence{{Kind: commonv1.EvidenceKind_EVIDENCE_KIND_PRODUCT_PHOTO, Uri: "https://files.example/p.jpg", Description: "peeling"}}}))
	return err
}

// TestPublishedReturnWindowBindsNewOrdersOnly publishes a trade-assurance version with a 10-day return
// window: orders drafted before keep 7 days, orders drafted after get 10, each checked just inside and
// just outside its window.
func TestPublishedReturnWindowBindsNewOrdersOnly(t *testing.T) {
	servertest.Each(t, func(t *testing.T, e *servertest.Env) {
		m := newMarket(t, e)
		before := []*orderv1.Order{m.order(policy.TradeAssurance), m.order(policy.TradeAssurance)}
		p := m.params(policy.TradeAssurance)
		if got := p.GetReturnWindow().AsDuration(); got != 7*day {
			t.Fatalf("shipped return window = %s", got)
		}
		p.ReturnWindow = durationpb.New(10 * day)
		v := m.publish(policy.TradeAssurance, p, nil)
		after := []*orderv1.Order{m.order(policy.TradeAssurance), m.order(policy.TradeAssurance)}
		for _, o := range before {
			if o.GetPolicyVersion() != policy.Current || m.get(o.GetId()).GetPolicyParameters().GetReturnWindow().AsDuration() != 7*day {
				t.Fatalf("order before the publication: version %s, window %s", o.GetPolicyVersion(), m.get(o.GetId()).GetPolicyParameters().GetReturnWindow().AsDuration())
			}
		}
		for _, o := range after {
			if o.GetPolicyVersion() != v.GetVersion() || o.GetPolicySet() != policy.TradeAssurance ||
				o.GetPolicyParameters().GetReturnWindow().AsDuration() != 10*day {
				t.Fatalf("order after the publication: %s %s, window %s", o.GetPolicySet(), o.GetPolicyVersion(), o.GetPolicyParameters().GetReturnWindow().AsDuration())
			}
		}
		delivered := e.Clock.Now()
		for _, o := range append(append([]*orderv1.Order{}, before...), after...) {
			e.DeliverOrder(m.buyer, m.supplier, m.operator, o.GetId())
		}
		for _, c := range []struct {
			name string
			at   time.Duration
			o    *orderv1.Order
			ok   bool
		}{
			{"7-day order just inside", 7*day - time.Minute, before[0], true},
			{"7-day order just outside", 7*day + time.Minute, before[1], false},
			{"10-day order just inside", 10*day - time.Minute, after[0], true},
			{"10-day order just outside", 10*day + time.Minute, after[1], false},
		} {
			e.SetTime(delivered.Add(c.at))
			err := m.returnAt(c.o)
			if c.ok && err != nil {
				t.Fatalf("%s: %v", c.name, err)
			}
			if !c.ok {
				servertest.WantError(t, err, connect.CodeFailedPrecondition, commonv1.ErrorReason_ERROR_REASON_WINDOW_CLOSED)
			}
		}
	})
}

// TestDerivedSetWholeLife creates a set from retail with its own windows and runs an order under it from
// draft to a dispute granted when the supplier does not answer in the derived set's time.
func TestDerivedSetWholeLife(t *testing.T) {
	servertest.Each(t, func(t *testing.T, e *servertest.Env) {
		m := newMarket(t, e)
		p := m.params(policy.Retail)
		p.DisputeResponse = durationpb.New(2 * day)
		p.AutoConfirmAfterDelivery = durationpb.New(20 * day)
		r, err := m.operator.Policies.CreatePolicySet(e.Ctx, connect.NewRequest(&policyv1.CreatePolicySetRequest{
			RequestId: "wholesale", Name: "wholesale-eu", FromSet: policy.Retail, Parameters: p}))
		if err != nil {
			t.Fatalf("create set: %v", err)
		}
		if s := r.Msg.GetPolicySet(); s.GetProgramme() != commonv1.Policy_POLICY_RETAIL || s.GetDerivedFrom() != policy.Retail {
			t.Fatalf("set = %v", s)
		}
		if _, err := m.operator.Policies.CreatePolicySet(e.Ctx, connect.NewRequest(&policyv1.CreatePolicySetRequest{
			Name: "wholesale-eu", FromSet: policy.Retail})); connect.CodeOf(err) != connect.CodeAlreadyExists {
			t.Fatalf("a second set of the same name: %v", err)
		}
		o := m.order("wholesale-eu")
		if o.GetPolicy() != commonv1.Policy_POLICY_RETAIL || o.GetPolicySet() != "wholesale-eu" ||
			o.GetPolicyVersion() != r.Msg.GetPolicyVersion().GetVersion() || !proto.Equal(o.GetPolicyParameters(), p) {
			t.Fatalf("order = %s %s %s", o.GetPolicy(), o.GetPolicySet(), o.GetPolicyVersion())
		}
		// A newer version of the derived set does not touch the order.
		p2 := proto.Clone(p).(*policyv1.PolicyParameters)
		p2.DisputeResponse = durationpb.New(9 * day)
		m.publish("wholesale-eu", p2, nil)
		e.DeliverOrder(m.buyer, m.supplier, m.operator, o.GetId())
		delivered := e.Clock.Now()
		if got := m.get(o.GetId()); got.GetAutoConfirmDeadline().AsTime().Sub(delivered) != 20*day {
			t.Fatalf("auto-confirm deadline %s after delivery, want 20 days", got.GetAutoConfirmDeadline().AsTime().Sub(delivered))
		}
		if _, err := m.buyer.Orders.ConfirmReceipt(e.Ctx, connect.NewRequest(&orderv1.ConfirmReceiptRequest{OrderId: o.GetId()})); err != nil {
			t.Fatalf("confirm receipt: %v", err)
		}
		d, err := m.buyer.Disputes.OpenDispute(e.Ctx, connect.NewRequest(&disputev1.OpenDisputeRequest{
			OrderId: o.GetId(), Reason: disputev1.Dispute_REASON_QUALITY_PROBLEM, Description: "cracked",
			Requested: &disputev1.OfferTerms{Resolution: disputev1.Dispute_RESOLUTION_PARTIAL_REFUND, RefundAmount: &commonv1.Money{AmountMinor: 5_00, Currency: "USD"}},
			Evidence:  []*commonv1.Evidence{{Kind: commonv1.EvidenceKind_EVIDENCE_KIND_PRODUCT_PHOTO, Uri: "https://files.example/c.jpg", Description: "cracked"}}}))
		if err != nil {
			t.Fatalf("open dispute: %v", err)
		}
		opened := e.Clock.Now()
		get := func() *disputev1.Dispute {
			r, err := m.buyer.Disputes.GetDispute(e.Ctx, connect.NewRequest(&disputev1.GetDisputeRequest{Id: d.Msg.GetDispute().GetId()}))
			if err != nil {
				t.Fatalf("get dispute: %v", err)
			}
			return r.Msg.GetDispute()
		}
		e.SetTime(opened.Add(2*day - time.Minute))
		if s := get().GetState(); s != disputev1.Dispute_STATE_AWAITING_RESPONSE {
			t.Fatalf("just before the derived set's 2 days: %s", s)
		}
		e.SetTime(opened.Add(2*day + time.Minute))
		if s := get().GetState(); s != disputev1.Dispute_STATE_SETTLED {
			t.Fatalf("just after the derived set's 2 days: %s, want settled (granted)", s)
		}
		// Operators see the set's creation and publication in the feed.
		ev, err := m.operator.Events.ListEvents(e.Ctx, connect.NewRequest(&eventv1.ListEventsRequest{PageSize: 500}))
		if err != nil {
			t.Fatalf("list events: %v", err)
		}
		seen := map[string]bool{}
		for _, x := range ev.Msg.GetEvents() {
			seen[x.GetType()] = true
		}
		if !seen["policy_set.created"] || !seen["policy.published"] {
			t.Fatalf("operator's feed lacks the policy events: %v", seen)
		}
	})
}

// TestInvalidParametersWriteNothing refuses bad parameters with a field violation for each and stores nothing.
func TestInvalidParametersWriteNothing(t *testing.T) {
	servertest.Each(t, func(t *testing.T, e *servertest.Env) {
		m := newMarket(t, e)
		base := m.params(policy.TradeAssurance)
		mutate := func(f func(p *policyv1.PolicyParameters)) *policyv1.PolicyParameters {
			p := proto.Clone(base).(*policyv1.PolicyParameters)
			f(p)
			return p
		}
		cases := []struct {
			name   string
			p      *policyv1.PolicyParameters
			at     *timestamppb.Timestamp
			fields []string
		}{
			{"zero return window", mutate(func(p *policyv1.PolicyParameters) { p.ReturnWindow = durationpb.New(0) }), nil, []string{"parameters.return_window"}},
			{"negative answer time", mutate(func(p *policyv1.PolicyParameters) { p.ReturnAnswer = durationpb.New(-day) }), nil, []string{"parameters.return_answer"}},
			{"missing duration", mutate(func(p *policyv1.PolicyParameters) { p.DisputeWindow = nil }), nil, []string{"parameters.dispute_window"}},
			{"just past 3650 days", mutate(func(p *policyv1.PolicyParameters) { p.ChargebackWindow = durationpb.New(3650*day + time.Second) }), nil, []string{"parameters.chargeback_window"}},
			{"fee above 100%", mutate(func(p *policyv1.PolicyParameters) { p.PlatformFeeBasisPoints = 10_001 }), nil, []string{"parameters.platform_fee_basis_points"}},
			{"negative cap and fee", mutate(func(p *policyv1.PolicyParameters) {
				p.CardCapUsdMinor = -1
				p.PlatformFeeBasisPoints = -1
			}), nil, []string{"parameters.card_cap_usd_minor", "parameters.platform_fee_basis_points"}},
			{"zero business days", mutate(func(p *policyv1.PolicyParameters) { p.ComplaintDecisionBusinessDays = 0 }), nil, []string{"parameters.complaint_decision_business_days"}},
			{"effective just past the grace", base, timestamppb.New(e.Clock.Now().Add(-policies.PastGrace - time.Microsecond)), []string{"effective_time"}},
		}
		for _, c := range cases {
			_, err := m.operator.Policies.PublishPolicyVersion(e.Ctx, connect.NewRequest(&policyv1.PublishPolicyVersionRequest{
				Set: policy.TradeAssurance, Parameters: c.p, EffectiveTime: c.at}))
			if connect.CodeOf(err) != connect.CodeInvalidArgument {
				t.Fatalf("%s: %v", c.name, err)
			}
			var got []string
			for _, v := range servertest.Detail(err).GetFieldViolations() {
				got = append(got, v.GetField())
			}
			if len(got) != len(c.fields) {
				t.Fatalf("%s: violations %v, want %v", c.name, got, c.fields)
			}
			for i := range got {
				if got[i] != c.fields[i] {
					t.Fatalf("%s: violations %v, want %v", c.name, got, c.fields)
				}
			}
		}
		// An effective time within the grace means now (a client's own now arrives a little late).
		now := e.Clock.Now()
		graced, err := m.operator.Policies.PublishPolicyVersion(e.Ctx, connect.NewRequest(&policyv1.PublishPolicyVersionRequest{
			Set: policy.Retail, Parameters: m.params(policy.Retail), EffectiveTime: timestamppb.New(now.Add(-policies.PastGrace))}))
		if err != nil {
			t.Fatalf("effective at the edge of the grace: %v", err)
		}
		if got := graced.Msg.GetPolicyVersion().GetEffectiveTime().AsTime(); !got.Equal(now.Truncate(time.Microsecond)) {
			t.Fatalf("effective at the edge of the grace: in force from %s, want now (%s)", got, now)
		}
		// Just inside the bounds is accepted: a fee of 100%, a cap of 0, 3650 days.
		ok := mutate(func(p *policyv1.PolicyParameters) {
			p.PlatformFeeBasisPoints, p.CardCapUsdMinor = 10_000, 0
			p.ChargebackWindow = durationpb.New(3650 * day)
		})
		_, err = m.operator.Policies.PublishPolicyVersion(e.Ctx, connect.NewRequest(&policyv1.PublishPolicyVersionRequest{
			Set: policy.TradeAssurance, Parameters: ok, EffectiveTime: timestamppb.New(e.Clock.Now().Add(day))}))
		if err != nil {
			t.Fatalf("parameters at their bounds: %v", err)
		}
		l, err := m.operator.Policies.ListPolicyVersions(e.Ctx, connect.NewRequest(&policyv1.ListPolicyVersionsRequest{Set: policy.TradeAssurance}))
		if err != nil || len(l.Msg.GetPolicyVersions()) != 2 {
			t.Fatalf("versions after the refusals: %d, %v; want the shipped one and the valid one", len(l.Msg.GetPolicyVersions()), err)
		}
		_, err = m.operator.Policies.PublishExchangeRates(e.Ctx, connect.NewRequest(&policyv1.PublishExchangeRatesRequest{
			Rates: []*policyv1.ExchangeRate{{Currency: "USD", UsdMicros: 1_000_000}, {Currency: "EUR", UsdMicros: 0}}}))
		servertest.WantError(t, err, connect.CodeInvalidArgument, commonv1.ErrorReason_ERROR_REASON_INVALID_FIELD)
		_, err = m.operator.Policies.PublishExchangeRates(e.Ctx, connect.NewRequest(&policyv1.PublishExchangeRatesRequest{
			Rates: shippedRates(1_080_000)[:0:0]}))
		servertest.WantError(t, err, connect.CodeInvalidArgument, commonv1.ErrorReason_ERROR_REASON_INVALID_FIELD)
		usd := shippedRates(1_080_000)
		for _, r := range usd {
			if r.GetCurrency() == "USD" {
				r.UsdMicros = 2_000_000
			}
		}
		_, err = m.operator.Policies.PublishExchangeRates(e.Ctx, connect.NewRequest(&policyv1.PublishExchangeRatesRequest{Rates: usd}))
		servertest.WantError(t, err, connect.CodeInvalidArgument, commonv1.ErrorReason_ERROR_REASON_POLICY_PARAMETER_INVALID)
		_, err = m.operator.Policies.PublishExchangeRates(e.Ctx, connect.NewRequest(&policyv1.PublishExchangeRatesRequest{
			Rates: append(shippedRates(1_080_000), &policyv1.ExchangeRate{Currency: "XAU", UsdMicros: 1})}))
		servertest.WantError(t, err, connect.CodeInvalidArgument, commonv1.ErrorReason_ERROR_REASON_UNSUPPORTED_CURRENCY)
		_, err = m.operator.Policies.PublishExchangeRates(e.Ctx, connect.NewRequest(&policyv1.PublishExchangeRatesRequest{
			Rates: []*policyv1.ExchangeRate{{Currency: "USD", UsdMicros: 1_000_000}}}))
		servertest.WantError(t, err, connect.CodeInvalidArgument, commonv1.ErrorReason_ERROR_REASON_RATE_TABLE_INCOMPLETE)
		rl, err := m.operator.Policies.ListExchangeRateTables(e.Ctx, connect.NewRequest(&policyv1.ListExchangeRateTablesRequest{}))
		if err != nil || len(rl.Msg.GetExchangeRateTables()) != 1 {
			t.Fatalf("rate tables after the refusals: %d, %v", len(rl.Msg.GetExchangeRateTables()), err)
		}
	})
}

// TestOnlyOperatorsPublish refuses every write to buyers and suppliers, who may still read.
func TestOnlyOperatorsPublish(t *testing.T) {
	servertest.Each(t, func(t *testing.T, e *servertest.Env) {
		m := newMarket(t, e)
		p := m.params(policy.Retail)
		for _, who := range []*servertest.Party{m.buyer, m.supplier} {
			_, err := who.Policies.PublishPolicyVersion(e.Ctx, connect.NewRequest(&policyv1.PublishPolicyVersionRequest{Set: policy.Retail, Parameters: p}))
			servertest.WantError(t, err, connect.CodePermissionDenied, commonv1.ErrorReason_ERROR_REASON_ROLE_NOT_ALLOWED)
			_, err = who.Policies.CreatePolicySet(e.Ctx, connect.NewRequest(&policyv1.CreatePolicySetRequest{Name: "mine", FromSet: policy.Retail}))
			servertest.WantError(t, err, connect.CodePermissionDenied, commonv1.ErrorReason_ERROR_REASON_ROLE_NOT_ALLOWED)
			_, err = who.Policies.PublishExchangeRates(e.Ctx, connect.NewRequest(&policyv1.PublishExchangeRatesRequest{Rates: []*policyv1.ExchangeRate{{Currency: "USD", UsdMicros: 1}}}))
			servertest.WantError(t, err, connect.CodePermissionDenied, commonv1.ErrorReason_ERROR_REASON_ROLE_NOT_ALLOWED)
			if l, err := who.Policies.ListPolicySets(e.Ctx, connect.NewRequest(&policyv1.ListPolicySetsRequest{})); err != nil || len(l.Msg.GetPolicySets()) != 2 {
				t.Fatalf("list sets: %v %v", l, err)
			}
		}
	})
}

// shippedRates is the shipped table with EUR at eur micro-USD.
func shippedRates(eur int64) []*policyv1.ExchangeRate {
	var out []*policyv1.ExchangeRate
	for _, c := range policy.Currencies() {
		v := policy.ShippedRates().USDMicros[c]
		if c == "EUR" {
			v = eur
		}
		out = append(out, &policyv1.ExchangeRate{Currency: c, UsdMicros: v})
	}
	return out
}

// TestRateChangeMovesTheCapForLaterOrders: 4,629.62 EUR is 4,999.99 USD at the shipped 1.08, inside the
// 5,000 USD cap for a supplier without one-touch export; at 1.10 it is 5,092.58 USD, outside. An order
// drafted before the new table keeps its conversion (also when accepted after it); one drafted after is
// refused. A table effective tomorrow is not used today.
func TestRateChangeMovesTheCapForLaterOrders(t *testing.T) {
	servertest.Each(t, func(t *testing.T, e *servertest.Env) {
		m := newMarket(t, e)
		draft := func() (*orderv1.Order, error) {
			return m.create(m.local, &orderv1.CreateOrderRequest{Policy: commonv1.Policy_POLICY_TRADE_ASSURANCE,
				BuyerEmail: m.buyer.Account.Email, Terms: m.terms(m.eurGadget, "EUR")})
		}
		early, err := draft()
		if err != nil || early.GetAmounts().GetTotalUsdMinor() != 4_999_99 || early.GetRatesVersion() != policy.Current {
			t.Fatalf("order at the shipped rate: %v %v", early, err)
		}
		r, err := m.operator.Policies.PublishExchangeRates(e.Ctx, connect.NewRequest(&policyv1.PublishExchangeRatesRequest{
			Rates: shippedRates(1_100_000), EffectiveTime: timestamppb.New(e.Clock.Now().Add(day))}))
		if err != nil {
			t.Fatalf("publish rates: %v", err)
		}
		if o, err := draft(); err != nil || o.GetRatesVersion() != policy.Current {
			t.Fatalf("order before the new table's effective time: %v %v", o, err)
		}
		e.Advance(day)
		_, err = draft()
		servertest.WantError(t, err, connect.CodeFailedPrecondition, commonv1.ErrorReason_ERROR_REASON_EXPORT_AGENT_REQUIRED)
		if _, err := m.buyer.Orders.AcceptOrder(e.Ctx, connect.NewRequest(&orderv1.AcceptOrderRequest{OrderId: early.GetId()})); err != nil {
			t.Fatalf("accept the order drafted before the new table: %v", err)
		}
		g, err := m.buyer.Policies.GetExchangeRates(e.Ctx, connect.NewRequest(&policyv1.GetExchangeRatesRequest{}))
		if err != nil || g.Msg.GetExchangeRateTable().GetVersion() != r.Msg.GetExchangeRateTable().GetVersion() {
			t.Fatalf("rates in force: %v %v", g, err)
		}
		// At 1.08 USD the product fits again for orders drafted after a third table.
		e.Advance(time.Minute)
		if _, err := m.operator.Policies.PublishExchangeRates(e.Ctx, connect.NewRequest(&policyv1.PublishExchangeRatesRequest{
			Rates: shippedRates(1_080_000)})); err != nil {
			t.Fatalf("publish rates: %v", err)
		}
		if o, err := draft(); err != nil || o.GetAmounts().GetTotalUsdMinor() != 4_999_99 {
			t.Fatalf("order under the third table: %v %v", o, err)
		}
	})
}

// TestFutureVersionWaitsForItsTime: a version effective tomorrow is not used today, and is from tomorrow.
func TestFutureVersionWaitsForItsTime(t *testing.T) {
	servertest.Each(t, func(t *testing.T, e *servertest.Env) {
		m := newMarket(t, e)
		p := m.params(policy.Retail)
		p.ReturnWindow = durationpb.New(20 * day)
		at := e.Clock.Now().Add(day).Truncate(time.Second)
		v := m.publish(policy.Retail, p, timestamppb.New(at))
		e.SetTime(at.Add(-time.Second))
		if o := m.order(policy.Retail); o.GetPolicyVersion() != policy.Current {
			t.Fatalf("a second before: version %s", o.GetPolicyVersion())
		}
		e.SetTime(at)
		if o := m.order(policy.Retail); o.GetPolicyVersion() != v.GetVersion() || o.GetPolicyParameters().GetReturnWindow().AsDuration() != 20*day {
			t.Fatalf("at the effective time: version %s", o.GetPolicyVersion())
		}
	})
}

// TestDevClockCrossesEffectiveTime: on a --dev server, a version effective in an hour is not used until
// an operator moves the development clock past it.
func TestDevClockCrossesEffectiveTime(t *testing.T) {
	for _, engine := range servertest.Engines() {
		t.Run(engine, func(t *testing.T) {
			e := servertest.New(t, servertest.Options{Engine: engine, Dev: true})
			m := newMarket(t, e)
			clk, err := m.operator.Admin.GetClock(e.Ctx, connect.NewRequest(&adminv1.GetClockRequest{}))
			if err != nil {
				t.Fatal(err)
			}
			p := m.params(policy.TradeAssurance)
			p.ReturnWindow = durationpb.New(10 * day)
			v := m.publish(policy.TradeAssurance, p, timestamppb.New(clk.Msg.GetNow().AsTime().Add(time.Hour)))
			advance := func(seconds int64) {
				if _, err := m.operator.Admin.AdvanceClock(e.Ctx, connect.NewRequest(&adminv1.AdvanceClockRequest{Seconds: seconds})); err != nil {
					t.Fatal(err)
				}
			}
			advance(3599)
			if o := m.order(policy.TradeAssurance); o.GetPolicyVersion() != policy.Current {
				t.Fatalf("a second before its time: %s", o.GetPolicyVersion())
			}
			advance(2)
			if o := m.order(policy.TradeAssurance); o.GetPolicyVersion() != v.GetVersion() {
				t.Fatalf("a second after its time: %s, want %s", o.GetPolicyVersion(), v.GetVersion())
			}
		})
	}
}

// TestPublishRetriesEtagsAndFeed: a retry with the same request id publishes once; a stale etag is
// ABORTED; operators see the publication in the feed, buyers do not.
func TestPublishRetriesEtagsAndFeed(t *testing.T) {
	servertest.Each(t, func(t *testing.T, e *servertest.Env) {
		m := newMarket(t, e)
		sets, err := m.operator.Policies.ListPolicySets(e.Ctx, connect.NewRequest(&policyv1.ListPolicySetsRequest{PageSize: 1}))
		if err != nil || len(sets.Msg.GetPolicySets()) != 1 || sets.Msg.GetNextPageToken() == "" {
			t.Fatalf("first page: %v %v", sets, err)
		}
		retail := sets.Msg.GetPolicySets()[0]
		p := m.params(policy.Retail)
		p.ReturnShip = durationpb.New(12 * day)
		req := &policyv1.PublishPolicyVersionRequest{RequestId: "once", Set: policy.Retail, Etag: retail.GetEtag(), Parameters: p}
		var versions []string
		for range 2 {
			r, err := m.operator.Policies.PublishPolicyVersion(e.Ctx, connect.NewRequest(req))
			if err != nil {
				t.Fatalf("publish: %v", err)
			}
			versions = append(versions, r.Msg.GetPolicyVersion().GetVersion())
		}
		if versions[0] != versions[1] {
			t.Fatalf("a retry published again: %v", versions)
		}
		l, err := m.operator.Policies.ListPolicyVersions(e.Ctx, connect.NewRequest(&policyv1.ListPolicyVersionsRequest{Set: policy.Retail}))
		if err != nil || len(l.Msg.GetPolicyVersions()) != 2 {
			t.Fatalf("versions: %v %v", l, err)
		}
		stale := proto.Clone(req).(*policyv1.PublishPolicyVersionRequest)
		stale.RequestId = ""
		_, err = m.operator.Policies.PublishPolicyVersion(e.Ctx, connect.NewRequest(stale))
		servertest.WantError(t, err, connect.CodeAborted, commonv1.ErrorReason_ERROR_REASON_ETAG_MISMATCH)
		count := func(who *servertest.Party) int {
			ev, err := who.Events.ListEvents(e.Ctx, connect.NewRequest(&eventv1.ListEventsRequest{PageSize: 500}))
			if err != nil {
				t.Fatalf("list events: %v", err)
			}
			n := 0
			for _, x := range ev.Msg.GetEvents() {
				if x.GetType() == "policy.published" {
					n++
				}
			}
			return n
		}
		if got := count(m.operator); got != 1 {
			t.Fatalf("operator sees %d policy.published events, want 1", got)
		}
		if got := count(m.buyer); got != 0 {
			t.Fatalf("a buyer sees %d policy events", got)
		}
	})
}
