package payout_test

import (
	"fmt"
	"math/rand/v2"
	"os"
	"sort"
	"strconv"
	"sync"
	"testing"
	"time"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/tradeassure/tradeassure/ent"
	"github.com/tradeassure/tradeassure/ent/ledgerentry"
	"github.com/tradeassure/tradeassure/ent/ledgertransfer"
	entorder "github.com/tradeassure/tradeassure/ent/order"
	entwithdrawal "github.com/tradeassure/tradeassure/ent/withdrawal"
	commonv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/common/v1"
	orderv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/order/v1"
	payoutv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/payout/v1"
	"github.com/tradeassure/tradeassure/server/auth"
	"github.com/tradeassure/tradeassure/server/ledger"
	"github.com/tradeassure/tradeassure/server/order"
	"github.com/tradeassure/tradeassure/server/servertest"
)

// TestLedgerProperties drives thousands of random operations through the real server — orders drafted,
// accepted, paid by card and by T/T (confirmed or failed by the bank), cancelled, shipped, delivered,
// completed by the buyer or by the clock, held and unheld, refunded through the order service's escrow as
// returns and disputes do (replaying causes), and withdrawals requested with random retries of the same
// request ids and in racing bursts beside releases and clawbacks, processed, paid and failed — and then
// checks the ledger's properties: every currency sums to zero, no finished order holds escrow, no cause
// posted twice, no withdrawal overdrew the available balance, every retry got the first answer, and every
// supplier's statement adds up to its balance.
//
// The operations come from a seed, printed when the test fails; rerun one with PAYOUT_PROPERTY_SEED=<seed>.
// PAYOUT_PROPERTY_OPS sets the number of operations per engine (default 4000).
func TestLedgerProperties(t *testing.T) {
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv("PAYOUT_PROPERTY_SEED"); s != "" {
		var err error
		if seed, err = strconv.ParseUint(s, 10, 64); err != nil {
			t.Fatalf("PAYOUT_PROPERTY_SEED: %v", err)
		}
	}
	ops := 4000
	if s := os.Getenv("PAYOUT_PROPERTY_OPS"); s != "" {
		ops, _ = strconv.Atoi(s)
	}
	for _, engine := range servertest.Engines() {
		t.Run(engine, func(t *testing.T) {
			t.Parallel()
			t.Cleanup(func() {
				if t.Failed() {
					t.Logf("reproduce with: PAYOUT_PROPERTY_SEED=%d go test -run 'TestLedgerProperties/%s' ./server/payout/", seed, engine)
				}
			})
			e := servertest.New(t, servertest.Options{Engine: engine})
			start := time.Now()
			w := newWorld(t, e, seed)
			w.run(ops)
			w.settle()
			w.check()
			t.Logf("seed %d: %d operations, %d orders, %d withdrawals, %d refunds in %v; outcomes %v",
				seed, ops, len(w.orders), len(w.withdrawals), w.refunds, time.Since(start).Round(time.Millisecond), w.outcomes)
		})
	}
}

// trackedOrder is what the test knows of an order.
type trackedOrder struct {
	id       string
	buyer    *servertest.Party
	supplier *servertest.Party
	state    orderv1.Order_State
	pending  string // a T/T payment waiting for the bank
	holds    int
	paid     int64
	refunded int64
	causes   []string // refund causes already posted, for replays
}

// world is the marketplace of a property run.
type world struct {
	t         *testing.T
	e         *servertest.Env
	rng       *rand.Rand
	operator  *servertest.Party
	buyers    []*servertest.Party
	suppliers []*servertest.Party
	products  map[string]string // supplier id → product
	currency  map[string]string // supplier id → currency
	orders    []*trackedOrder

	mu          sync.Mutex
	withdrawals map[string]*payoutv1.Withdrawal // id → as first acknowledged
	byRequest   map[string]string               // supplier/request id → withdrawal id
	requests    []wreq                          // requests acknowledged, for retries
	refunds     int
	outcomes    map[string]int
}

type wreq struct {
	supplier *servertest.Party
	req      *payoutv1.RequestWithdrawalRequest
}

func newWorld(t *testing.T, e *servertest.Env, seed uint64) *world {
	w := &world{t: t, e: e, rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)), products: map[string]string{},
		currency: map[string]string{}, withdrawals: map[string]*payoutv1.Withdrawal{}, byRequest: map[string]string{},
		outcomes: map[string]int{}}
	w.operator = e.Staff(commonv1.Role_ROLE_OPERATOR)
	for range 3 {
		w.buyers = append(w.buyers, e.Buyer("US"))
	}
	for i, cur := range []string{"USD", "USD", "EUR"} {
		s := e.Supplier(1_000_000_00, true)
		w.suppliers = append(w.suppliers, s)
		w.currency[s.ID()] = cur
		w.products[s.ID()] = e.Product(s, fmt.Sprintf("Part %d", i), int64(5_00+i*3_33), cur)
	}
	return w
}

func (w *world) count(outcome string) {
	w.mu.Lock()
	w.outcomes[outcome]++
	w.mu.Unlock()
}

// tolerate accepts the refusals a random operation may meet (a stale view of an order's state, an amount
// above the balance) and fails the test on anything else.
func (w *world) tolerate(op string, err error, codes ...connect.Code) bool {
	w.t.Helper()
	if err == nil {
		w.count(op + ":ok")
		return true
	}
	for _, c := range codes {
		if connect.CodeOf(err) == c {
			w.count(op + ":" + c.String())
			return false
		}
	}
	// Errorf, not Fatalf: bursts call this from their own goroutines; run stops at the first failure.
	w.t.Errorf("%s: unexpected error: %v", op, err)
	return false
}

func (w *world) pick(n int) int { return w.rng.IntN(n) }

// orderIn picks a tracked order in one of the states, or nil.
func (w *world) orderIn(states ...orderv1.Order_State) *trackedOrder {
	var c []*trackedOrder
	for _, o := range w.orders {
		for _, s := range states {
			if o.state == s {
				c = append(c, o)
				break
			}
		}
	}
	if len(c) == 0 {
		return nil
	}
	return c[w.pick(len(c))]
}

func (w *world) refresh(o *trackedOrder) {
	r, err := w.operator.Orders.GetOrder(w.e.Ctx, connect.NewRequest(&orderv1.GetOrderRequest{OrderId: o.id}))
	if err != nil {
		w.t.Fatalf("get order %s: %v", o.id, err)
	}
	w.absorb(o, r.Msg.GetOrder())
}

func (w *world) absorb(o *trackedOrder, pb *orderv1.Order) {
	o.state = pb.GetState()
	o.paid = pb.GetAmounts().GetPaid().GetAmountMinor()
	o.refunded = pb.GetRefunded().GetAmountMinor()
}

func (w *world) run(n int) {
	for i := 0; i < n && !w.t.Failed(); i++ {
		switch r := w.pick(100); {
		case r < 12:
			w.draft()
		case r < 24:
			w.pay()
		case r < 28:
			w.bank()
		case r < 31:
			w.cancel()
		case r < 40:
			w.ship()
		case r < 45:
			w.deliver()
		case r < 52:
			w.confirm()
		case r < 55:
			w.hold()
		case r < 62:
			w.refund()
		case r < 72:
			w.withdraw()
		case r < 76:
			w.retry()
		case r < 84:
			w.operate()
		case r < 88:
			w.burst()
		default:
			w.jump()
		}
	}
}

func (w *world) draft() {
	b := w.buyers[w.pick(len(w.buyers))]
	s := w.suppliers[w.pick(len(w.suppliers))]
	terms := &orderv1.OrderTerms{
		Lines:    []*orderv1.OrderLine{{ProductId: w.products[s.ID()], Quantity: int64(1 + w.pick(40))}},
		Currency: w.currency[s.ID()], ShippingFeeMinor: int64(w.pick(3000)), InsuranceFeeMinor: int64(w.pick(500)),
		ShippingAddress: &commonv1.Address{RecipientName: "R", Phone: "+1 555 0100", Country: "US", Lines: []string{"1 Main St"},
			City: "Springfield", PostalCode: "12345"},
		TradeTerm: orderv1.TradeTerm_TRADE_TERM_FCA, ShippingMethod: orderv1.ShippingMethod_SHIPPING_METHOD_AIR,
		PaymentTerms: &orderv1.PaymentTerms{Kind: orderv1.PaymentTerms_KIND_FULL},
		CoverageType: orderv1.CoverageType_COVERAGE_TYPE_POST_DELIVERY,
		ShipByTime:   timestampIn(w.e.Clock.Now(), 20*day),
	}
	pol := taPolicy
	if w.pick(2) == 0 {
		pol = retailPolicy
	}
	ctx := w.e.Ctx
	r, err := s.Orders.CreateOrder(ctx, connect.NewRequest(&orderv1.CreateOrderRequest{Policy: pol, BuyerEmail: b.Account.Email, Terms: terms}))
	if !w.tolerate("draft", err) {
		return
	}
	a, err := b.Orders.AcceptOrder(ctx, connect.NewRequest(&orderv1.AcceptOrderRequest{OrderId: r.Msg.GetOrder().GetId()}))
	if !w.tolerate("accept", err) {
		return
	}
	o := &trackedOrder{id: a.Msg.GetOrder().GetId(), buyer: b, supplier: s}
	w.absorb(o, a.Msg.GetOrder())
	w.orders = append(w.orders, o)
}

func (w *world) pay() {
	o := w.orderIn(orderv1.Order_STATE_AWAITING_PAYMENT)
	if o == nil || o.pending != "" {
		return
	}
	req := &orderv1.PayOrderRequest{OrderId: o.id, Method: orderv1.PaymentMethod_PAYMENT_METHOD_CARD, CardToken: "tok_4242"}
	switch w.pick(4) {
	case 0:
		req.Method, req.CardToken = orderv1.PaymentMethod_PAYMENT_METHOD_TT, ""
	case 1:
		req.CardToken = "tok_0002" // declined; the buyer can pay again
	}
	r, err := o.buyer.Orders.PayOrder(w.e.Ctx, connect.NewRequest(req))
	if !w.tolerate("pay", err, connect.CodeFailedPrecondition) {
		w.refresh(o)
		return
	}
	w.absorb(o, r.Msg.GetOrder())
	if r.Msg.GetPayment().GetState() == orderv1.Payment_STATE_PENDING {
		o.pending = r.Msg.GetPayment().GetId()
	}
}

// bank confirms or fails a pending T/T payment.
func (w *world) bank() {
	var c []*trackedOrder
	for _, o := range w.orders {
		if o.pending != "" {
			c = append(c, o)
		}
	}
	if len(c) == 0 {
		return
	}
	o := c[w.pick(len(c))]
	ctx := w.e.Ctx
	if w.pick(4) == 0 {
		r, err := w.operator.Orders.FailPayment(ctx, connect.NewRequest(&orderv1.FailPaymentRequest{PaymentId: o.pending, Reason: "returned by the bank"}))
		if w.tolerate("tt-fail", err) {
			w.absorb(o, r.Msg.GetOrder())
		}
	} else {
		r, err := w.operator.Orders.ConfirmPayment(ctx, connect.NewRequest(&orderv1.ConfirmPaymentRequest{PaymentId: o.pending}))
		if w.tolerate("tt-confirm", err) {
			w.absorb(o, r.Msg.GetOrder())
		}
	}
	o.pending = ""
}

func (w *world) cancel() {
	o := w.orderIn(orderv1.Order_STATE_AWAITING_PAYMENT, orderv1.Order_STATE_PAID)
	if o == nil || o.pending != "" || o.holds > 0 {
		return
	}
	r, err := o.buyer.Orders.CancelOrder(w.e.Ctx, connect.NewRequest(&orderv1.CancelOrderRequest{
		OrderId: o.id, Reason: orderv1.CancellationReason_CANCELLATION_REASON_BUYER}))
	if w.tolerate("cancel", err, connect.CodeFailedPrecondition) {
		w.absorb(o, r.Msg.GetOrder())
	} else {
		w.refresh(o)
	}
}

func (w *world) ship() {
	o := w.orderIn(orderv1.Order_STATE_PAID)
	if o == nil {
		return
	}
	r, err := o.supplier.Orders.ShipOrder(w.e.Ctx, connect.NewRequest(&orderv1.ShipOrderRequest{OrderId: o.id, Carrier: "DHL", TrackingNumber: "T1"}))
	if w.tolerate("ship", err, connect.CodeFailedPrecondition) {
		w.absorb(o, r.Msg.GetOrder())
	} else {
		w.refresh(o)
	}
}

func (w *world) deliver() {
	o := w.orderIn(orderv1.Order_STATE_SHIPPED)
	if o == nil {
		return
	}
	r, err := w.operator.Orders.RecordDelivery(w.e.Ctx, connect.NewRequest(&orderv1.RecordDeliveryRequest{OrderId: o.id}))
	if w.tolerate("deliver", err, connect.CodeFailedPrecondition) {
		w.absorb(o, r.Msg.GetOrder())
	} else {
		w.refresh(o)
	}
}

func (w *world) confirm() {
	o := w.orderIn(orderv1.Order_STATE_SHIPPED, orderv1.Order_STATE_DELIVERED)
	if o == nil {
		return
	}
	r, err := o.buyer.Orders.ConfirmReceipt(w.e.Ctx, connect.NewRequest(&orderv1.ConfirmReceiptRequest{OrderId: o.id}))
	if w.tolerate("confirm", err, connect.CodeFailedPrecondition) {
		w.absorb(o, r.Msg.GetOrder())
	} else {
		w.refresh(o)
	}
}

// hold puts a hold on, or takes one off, an order's escrow, as an opened or ended dispute or return does.
func (w *world) hold() {
	o := w.orderIn(orderv1.Order_STATE_SHIPPED, orderv1.Order_STATE_DELIVERED, orderv1.Order_STATE_COMPLETED)
	if o == nil {
		return
	}
	if o.holds > 0 && (o.state == orderv1.Order_STATE_COMPLETED || w.pick(2) == 0) {
		w.unhold(o)
		return
	}
	if o.state == orderv1.Order_STATE_COMPLETED {
		return
	}
	err := w.e.Store.WithTx(w.e.Ctx, func(tx *ent.Tx) error {
		return w.e.Server.Orders.Hold(w.e.Ctx, tx, o.id, auth.System, w.e.Clock.Now())
	})
	if w.tolerate("hold", err) {
		o.holds++
	}
}

func (w *world) unhold(o *trackedOrder) {
	err := w.e.Store.WithTx(w.e.Ctx, func(tx *ent.Tx) error {
		return w.e.Server.Orders.Unhold(w.e.Ctx, tx, o.id, auth.System, w.e.Clock.Now())
	})
	if w.tolerate("unhold", err) {
		o.holds--
	}
	w.refresh(o)
}

// refund pays a buyer back through the order service's escrow for a new cause, or replays an old cause,
// which must not move money again.
func (w *world) refund() {
	o := w.orderIn(orderv1.Order_STATE_PAID, orderv1.Order_STATE_SHIPPED, orderv1.Order_STATE_DELIVERED,
		orderv1.Order_STATE_COMPLETED, orderv1.Order_STATE_CLOSED)
	if o == nil {
		return
	}
	replay := len(o.causes) > 0 && w.pick(4) == 0
	left := o.paid - o.refunded
	if left <= 0 && !replay {
		return
	}
	cause := fmt.Sprintf("dsp_%s_%d", o.id, len(o.causes))
	amount := int64(1)
	if left > 0 {
		amount = 1 + w.rng.Int64N(left)
	}
	if replay {
		cause = o.causes[w.pick(len(o.causes))]
	}
	var res order.RefundResult
	err := w.e.Store.WithTx(w.e.Ctx, func(tx *ent.Tx) (err error) {
		res, err = w.e.Server.Orders.Refund(w.e.Ctx, tx, order.RefundRequest{
			OrderID: o.id, AmountMinor: amount, CauseKind: ledger.CauseDisputeRefund, CauseID: cause,
			Links: ledger.Links{DisputeID: cause}, Actor: auth.System, Now: w.e.Clock.Now(),
		})
		return err
	})
	if replay {
		if err == nil && res.Posted {
			w.t.Fatalf("replayed refund cause %s posted again", cause)
		}
		w.count("refund-replay")
		return
	}
	if w.tolerate("refund", err) {
		w.refunds++
		o.causes = append(o.causes, cause)
		w.absorb(o, res.Order)
	}
}

// ack records an acknowledged withdrawal request and checks a retry got the first withdrawal.
func (w *world) ack(s *servertest.Party, req *payoutv1.RequestWithdrawalRequest, got *payoutv1.Withdrawal) {
	w.mu.Lock()
	defer w.mu.Unlock()
	key := s.ID() + "/" + req.GetRequestId()
	if id, ok := w.byRequest[key]; ok {
		if id != got.GetId() {
			w.t.Errorf("request %s executed twice: %s and %s", key, id, got.GetId())
		}
		first := w.withdrawals[id]
		if first.GetEtag() != got.GetEtag() || first.GetAmount().GetAmountMinor() != got.GetAmount().GetAmountMinor() {
			w.t.Errorf("retry of %s answered %v, first %v", key, got, first)
		}
		return
	}
	w.byRequest[key] = got.GetId()
	w.withdrawals[got.GetId()] = got
	w.requests = append(w.requests, wreq{s, req})
}

// available reads a supplier's available balance in its currency.
func (w *world) available(s *servertest.Party) int64 {
	r, err := s.Payouts.GetBalance(w.e.Ctx, connect.NewRequest(&payoutv1.GetBalanceRequest{SupplierAccountId: s.ID()}))
	if err != nil {
		w.t.Fatalf("balance: %v", err)
	}
	for _, b := range r.Msg.GetBalance().GetBalances() {
		if b.GetCurrency() == w.currency[s.ID()] {
			return b.GetAvailable().GetAmountMinor()
		}
	}
	return 0
}

func (w *world) withdrawReq(s *servertest.Party) *payoutv1.RequestWithdrawalRequest {
	avail := w.available(s)
	amount := int64(1 + w.pick(50_00))
	switch {
	case avail > 0 && w.pick(3) > 0:
		amount = 1 + w.rng.Int64N(avail)
	case avail > 0 && w.pick(2) == 0:
		amount = avail + 1 // above the balance: refused
	}
	return &payoutv1.RequestWithdrawalRequest{RequestId: fmt.Sprintf("w-%d", reqSeq.Add(1)),
		Amount: &commonv1.Money{AmountMinor: amount, Currency: w.currency[s.ID()]}}
}

func (w *world) withdraw() {
	s := w.suppliers[w.pick(len(w.suppliers))]
	req := w.withdrawReq(s)
	r, err := s.Payouts.RequestWithdrawal(w.e.Ctx, connect.NewRequest(req))
	if w.tolerate("withdraw", err, connect.CodeFailedPrecondition) {
		w.ack(s, req, r.Msg.GetWithdrawal())
	}
}

// retry sends an acknowledged request again: it must return the same withdrawal and move nothing.
func (w *world) retry() {
	if len(w.requests) == 0 {
		return
	}
	q := w.requests[w.pick(len(w.requests))]
	r, err := q.supplier.Payouts.RequestWithdrawal(w.e.Ctx, connect.NewRequest(q.req))
	if !w.tolerate("retry", err) {
		return
	}
	w.ack(q.supplier, q.req, r.Msg.GetWithdrawal())
}

// operate moves a random open withdrawal on: sent, paid or failed (with a retried fail).
func (w *world) operate() {
	ctx := w.e.Ctx
	r, err := w.operator.Payouts.ListWithdrawals(ctx, connect.NewRequest(&payoutv1.ListWithdrawalsRequest{PageSize: 20,
		State: []payoutv1.Withdrawal_State{payoutv1.Withdrawal_STATE_REQUESTED, payoutv1.Withdrawal_STATE_PROCESSING}[w.pick(2)]}))
	if err != nil {
		w.t.Fatalf("list withdrawals: %v", err)
	}
	ws := r.Msg.GetWithdrawals()
	if len(ws) == 0 {
		return
	}
	wd := ws[w.pick(len(ws))]
	switch {
	case w.pick(4) == 0:
		req := &payoutv1.FailWithdrawalRequest{RequestId: "fail-" + wd.GetId(), Id: wd.GetId(), Etag: wd.GetEtag(), FailureReason: "rejected"}
		for range 1 + w.pick(2) {
			_, err := w.operator.Payouts.FailWithdrawal(ctx, connect.NewRequest(req))
			w.tolerate("fail", err)
		}
	case wd.GetState() == payoutv1.Withdrawal_STATE_REQUESTED:
		_, err := w.operator.Payouts.ProcessWithdrawal(ctx, connect.NewRequest(&payoutv1.ProcessWithdrawalRequest{Id: wd.GetId(), BankReference: "REF"}))
		w.tolerate("process", err)
	default:
		_, err := w.operator.Payouts.ConfirmWithdrawal(ctx, connect.NewRequest(&payoutv1.ConfirmWithdrawalRequest{Id: wd.GetId(), Etag: wd.GetEtag()}))
		w.tolerate("paid", err)
	}
}

// burst races, for one supplier, several copies of one withdrawal request, other withdrawals, a release
// (the buyer confirming receipt of one of its orders) and a clawback (a refund of a released order).
func (w *world) burst() {
	s := w.suppliers[w.pick(len(w.suppliers))]
	same := w.withdrawReq(s)
	var others []*payoutv1.RequestWithdrawalRequest
	for range 1 + w.pick(3) {
		others = append(others, w.withdrawReq(s))
	}
	var release, claw *trackedOrder
	for _, o := range w.orders {
		if o.supplier != s {
			continue
		}
		if release == nil && (o.state == orderv1.Order_STATE_SHIPPED || o.state == orderv1.Order_STATE_DELIVERED) {
			release = o
		}
		if claw == nil && o.state == orderv1.Order_STATE_COMPLETED && o.paid-o.refunded > 0 && o != release {
			claw = o
		}
	}
	ctx := w.e.Ctx
	var wg sync.WaitGroup
	send := func(req *payoutv1.RequestWithdrawalRequest) {
		defer wg.Done()
		r, err := s.Payouts.RequestWithdrawal(ctx, connect.NewRequest(req))
		if w.tolerate("burst-withdraw", err, connect.CodeFailedPrecondition) {
			w.ack(s, req, r.Msg.GetWithdrawal())
		}
	}
	copies := 2 + w.pick(3)
	for range copies {
		wg.Add(1)
		go send(same)
	}
	for _, q := range others {
		wg.Add(1)
		go send(q)
	}
	var released *orderv1.Order
	if release != nil {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r, err := release.buyer.Orders.ConfirmReceipt(ctx, connect.NewRequest(&orderv1.ConfirmReceiptRequest{OrderId: release.id}))
			if w.tolerate("burst-release", err, connect.CodeFailedPrecondition, connect.CodeAborted) {
				released = r.Msg.GetOrder()
			}
		}()
	}
	var clawed *orderv1.Order
	cause := ""
	if claw != nil {
		cause = fmt.Sprintf("dsp_%s_%d", claw.id, len(claw.causes))
		amount := 1 + w.rng.Int64N(claw.paid-claw.refunded)
		wg.Add(1)
		go func() {
			defer wg.Done()
			var res order.RefundResult
			err := w.e.Store.WithTx(ctx, func(tx *ent.Tx) (err error) {
				res, err = w.e.Server.Orders.Refund(ctx, tx, order.RefundRequest{
					OrderID: claw.id, AmountMinor: amount, CauseKind: ledger.CauseDisputeRefund, CauseID: cause,
					Links: ledger.Links{DisputeID: cause}, Actor: auth.System, Now: w.e.Clock.Now(),
				})
				return err
			})
			if w.tolerate("burst-clawback", err, connect.CodeAborted) {
				clawed = res.Order
			}
		}()
	}
	wg.Wait()
	if release != nil {
		if released != nil {
			w.absorb(release, released)
		} else {
			w.refresh(release)
		}
	}
	if claw != nil {
		if clawed != nil {
			w.refunds++
			claw.causes = append(claw.causes, cause)
			w.absorb(claw, clawed)
		} else {
			w.refresh(claw)
		}
	}
}

// jump moves the clock: automatic receipt confirmations, closes and overdue withdrawals happen.
func (w *world) jump() {
	d := []time.Duration{time.Hour, day, 3 * day, 8 * day, 16 * day, 31 * day}[w.pick(6)]
	w.e.Advance(d)
	w.count("jump")
	for _, o := range w.orders {
		switch o.state {
		case orderv1.Order_STATE_DELIVERED, orderv1.Order_STATE_COMPLETED:
			w.refresh(o)
		}
	}
}

// settle ends what is open: pending payments answered, holds lifted, orders delivered and confirmed, and
// the clock moved past every after-sales window, so every order that can close does.
func (w *world) settle() {
	for _, o := range w.orders {
		if o.pending != "" {
			_, err := w.operator.Orders.ConfirmPayment(w.e.Ctx, connect.NewRequest(&orderv1.ConfirmPaymentRequest{PaymentId: o.pending}))
			w.tolerate("tt-confirm", err)
			o.pending = ""
		}
		for o.holds > 0 {
			w.unhold(o)
		}
		w.refresh(o)
		if o.state == orderv1.Order_STATE_SHIPPED {
			_, err := o.buyer.Orders.ConfirmReceipt(w.e.Ctx, connect.NewRequest(&orderv1.ConfirmReceiptRequest{OrderId: o.id}))
			w.tolerate("confirm", err)
		}
	}
	w.e.Advance(40 * day)
	w.e.Advance(40 * day)
}

// check verifies the ledger's properties.
func (w *world) check() {
	t, e, ctx := w.t, w.e, w.e.Ctx
	op := w.operator

	// Every currency sums to zero, and no closed or cancelled order holds escrow.
	rec, err := op.Payouts.Reconcile(ctx, connect.NewRequest(&payoutv1.ReconcileRequest{}))
	if err != nil {
		t.Fatal(err)
	}
	if !rec.Msg.GetOk() {
		t.Fatalf("reconciliation: %v", rec.Msg)
	}
	closed := 0
	for _, o := range w.orders {
		w.refresh(o)
		if o.state == orderv1.Order_STATE_CLOSED || o.state == orderv1.Order_STATE_CANCELLED {
			closed++
		}
		if o.refunded > o.paid {
			t.Errorf("order %s refunded %d of %d paid", o.id, o.refunded, o.paid)
		}
	}
	n, err := e.Store.Client.Order.Query().Where(entorder.StateIn(entorder.StateClosed, entorder.StateCancelled)).Count(ctx)
	if err != nil || n != closed {
		t.Fatalf("closed orders: %d in the database, %d seen (%v)", n, closed, err)
	}
	audit(t, e)

	// No cause posted twice.
	var dup []struct {
		CauseKind string `json:"cause_kind"`
		CauseID   string `json:"cause_id"`
		Count     int    `json:"count"`
	}
	if err := e.Store.Client.LedgerTransfer.Query().GroupBy(ledgertransfer.FieldCauseKind, ledgertransfer.FieldCauseID).
		Aggregate(ent.Count()).Scan(ctx, &dup); err != nil {
		t.Fatal(err)
	}
	for _, d := range dup {
		if d.Count != 1 {
			t.Errorf("cause %s %s posted %d times", d.CauseKind, d.CauseID, d.Count)
		}
	}

	// Every withdrawal moved its amount out once, and back once exactly when it failed; none overdrew the
	// available balance; every acknowledged request is in the database as acknowledged.
	all, err := e.Store.Client.Withdrawal.Query().All(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != len(w.withdrawals) {
		t.Errorf("%d withdrawals stored, %d acknowledged", len(all), len(w.withdrawals))
	}
	for _, wd := range all {
		ack, ok := w.withdrawals[wd.ID]
		if !ok || ack.GetAmount().GetAmountMinor() != wd.AmountMinor {
			t.Errorf("withdrawal %s (%d) was not acknowledged as stored", wd.ID, wd.AmountMinor)
		}
		out, err := e.Store.Client.LedgerEntry.Query().Where(ledgerentry.WithdrawalID(wd.ID),
			ledgerentry.AccountID(ledger.AccountID(ledger.SupplierAvailable, wd.SupplierID, wd.Currency))).All(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var moved int64
		reversals := 0
		for _, en := range out {
			moved += en.AmountMinor
			if en.CauseKind == ledger.CauseWithdrawal && en.BalanceAfterMinor < 0 {
				t.Errorf("withdrawal %s left the available balance at %d", wd.ID, en.BalanceAfterMinor)
			}
			if en.CauseKind == ledger.CauseWithdrawalReversal {
				reversals++
			}
		}
		failed := wd.State == entwithdrawal.StateFailed
		switch {
		case failed && (moved != 0 || reversals != 1 || len(out) != 2):
			t.Errorf("failed withdrawal %s: %d entries, net %d", wd.ID, len(out), moved)
		case !failed && (moved != -wd.AmountMinor || len(out) != 1):
			t.Errorf("withdrawal %s: %d entries, net %d, want -%d", wd.ID, len(out), moved, wd.AmountMinor)
		}
	}

	// Each supplier's statement, read through the API page by page, adds up to its balance.
	for _, s := range w.suppliers {
		bal, err := s.Payouts.GetBalance(ctx, connect.NewRequest(&payoutv1.GetBalanceRequest{SupplierAccountId: s.ID()}))
		if err != nil {
			t.Fatal(err)
		}
		type key struct {
			kind payoutv1.LedgerAccount_Kind
			cur  string
		}
		sums, last := map[key]int64{}, map[key]int64{}
		tok, entries := "", 0
		for {
			page, err := s.Payouts.ListStatementEntries(ctx, connect.NewRequest(&payoutv1.ListStatementEntriesRequest{
				SupplierAccountId: s.ID(), PageSize: 97, PageToken: tok}))
			if err != nil {
				t.Fatal(err)
			}
			for _, en := range page.Msg.GetEntries() {
				k := key{en.GetAccountKind(), en.GetAmount().GetCurrency()}
				sums[k] += en.GetAmount().GetAmountMinor()
				if sums[k] != en.GetBalanceAfter().GetAmountMinor() {
					t.Errorf("supplier %s entry %s leaves %d; the statement so far sums to %d", s.ID(), en.GetId(),
						en.GetBalanceAfter().GetAmountMinor(), sums[k])
				}
				if en.GetCause().GetKind() == payoutv1.CauseKind_CAUSE_KIND_UNSPECIFIED {
					t.Errorf("entry %s has no cause", en.GetId())
				}
				last[k] = en.GetBalanceAfter().GetAmountMinor()
				entries++
			}
			if tok = page.Msg.GetNextPageToken(); tok == "" {
				break
			}
		}
		for _, b := range bal.Msg.GetBalance().GetBalances() {
			ka := key{payoutv1.LedgerAccount_KIND_SUPPLIER_AVAILABLE, b.GetCurrency()}
			kp := key{payoutv1.LedgerAccount_KIND_SUPPLIER_PENDING, b.GetCurrency()}
			if sums[ka] != b.GetAvailable().GetAmountMinor() || sums[kp] != b.GetPending().GetAmountMinor() {
				t.Errorf("supplier %s %s: statement sums to %d available, %d pending; balance is %v",
					s.ID(), b.GetCurrency(), sums[ka], sums[kp], b)
			}
			var open int64
			for _, wd := range all {
				if wd.SupplierID == s.ID() && wd.Currency == b.GetCurrency() &&
					(wd.State == entwithdrawal.StateRequested || wd.State == entwithdrawal.StateProcessing) {
					open += wd.AmountMinor
				}
			}
			if b.GetWithdrawing().GetAmountMinor() != open {
				t.Errorf("supplier %s withdrawing %d, open withdrawals %d", s.ID(), b.GetWithdrawing().GetAmountMinor(), open)
			}
		}
		t.Logf("supplier %s: %d statement entries, balance %v", s.ID(), entries, bal.Msg.GetBalance().GetBalances())
	}
	var names []string
	for k := range w.outcomes {
		names = append(names, k)
	}
	sort.Strings(names)
	if w.outcomes["burst-withdraw:ok"] == 0 || w.outcomes["retry:ok"] == 0 || w.outcomes["refund:ok"] == 0 {
		t.Logf("outcomes: %v", names)
	}
}

func timestampIn(now time.Time, d time.Duration) *timestamppb.Timestamp {
	return timestamppb.New(now.Add(d))
}
