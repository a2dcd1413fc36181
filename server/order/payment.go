package order

import (
	"context"
	"fmt"
	"strings"
	"time"

	"connectrpc.com/connect"

	"github.com/tradeassure/tradeassure/ent"
	entorder "github.com/tradeassure/tradeassure/ent/order"
	entpayment "github.com/tradeassure/tradeassure/ent/payment"
	commonv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/common/v1"
	orderv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/order/v1"
	"github.com/tradeassure/tradeassure/server/apierr"
	"github.com/tradeassure/tradeassure/server/auth"
	"github.com/tradeassure/tradeassure/server/money"
	"github.com/tradeassure/tradeassure/server/pagination"
	"github.com/tradeassure/tradeassure/server/policy"
	"github.com/tradeassure/tradeassure/server/resource"
)

// CardNetwork charges cards. Charge returns a decline reason, or "" when the charge went through.
type CardNetwork interface {
	Charge(ctx context.Context, token string, amountMinor int64, currency string) (declined string, err error)
}

// SandboxCards is the card network of development and tests: it approves every token except those ending
// in "0002", which it declines like the common test card 4000 0000 0000 0002.
type SandboxCards struct{}

// Charge approves or declines by the token's last digits.
func (SandboxCards) Charge(_ context.Context, token string, _ int64, _ string) (string, error) {
	if strings.HasSuffix(token, "0002") {
		return "card declined by the issuer", nil
	}
	return "", nil
}

// due returns the part a payment now pays and its amount.
func due(o *ent.Order) (entpayment.Part, int64) {
	switch {
	case o.AdvanceMinor == 0:
		return entpayment.PartFull, o.TotalMinor
	case o.State == entorder.StateAwaitingPayment:
		return entpayment.PartAdvance, o.AdvanceMinor
	default:
		return entpayment.PartBalance, o.TotalMinor - o.AdvanceMinor
	}
}

// checkStoredAmounts refuses to take money for an order whose stored amounts are not what its terms add up
// to within the platform's bounds. Orders drafted before amounts were checked may hold totals that wrapped
// around int64 (a huge quantity × price stored as a small or negative total); none of them can be paid.
// Once it passes, 0 ≤ advance < total ≤ money.Max, so the amounts due cannot overflow.
func checkStoredAmounts(o *ent.Order) error {
	if !storedAmountsValid(o) {
		return money.StoredTooLarge("order %s holds amounts outside what the platform handles (it was drafted before amounts were checked); "+
			"it cannot be paid: cancel it and draft it again", o.ID).With("order_id", o.ID)
	}
	return nil
}

func storedAmountsValid(o *ent.Order) bool {
	terms := orderTerms(o)
	var goods int64
	for _, l := range terms.GetLines() {
		line, ok := money.Mul(l.GetQuantity(), l.GetUnitPriceMinor())
		if !ok || line <= 0 {
			return false
		}
		if goods, ok = money.Add(goods, line); !ok {
			return false
		}
	}
	total, ok := money.Add(goods, terms.GetShippingFeeMinor(), terms.GetInsuranceFeeMinor())
	return ok && goods == o.GoodsMinor && total == o.TotalMinor && o.AdvanceMinor >= 0 && o.AdvanceMinor < total
}

// checkMethod applies the method's constraints to a payment by buyer.
func checkMethod(method orderv1.PaymentMethod, amountMinor int64, currency string, buyer *ent.Account, pol policy.Set, rates policy.Rates) error {
	amountUSD, err := rates.ToUSDMinor(amountMinor, currency)
	if err != nil {
		return apierr.Invalid("order", "%v", err)
	}
	refuse := func(format string, args ...any) error {
		return apierr.Precondition(commonv1.ErrorReason_ERROR_REASON_PAYMENT_METHOD_NOT_ALLOWED, format, args...).
			With("method", method.String()).With("amount_usd_minor", amountUSD)
	}
	switch method {
	case orderv1.PaymentMethod_PAYMENT_METHOD_CARD:
		if amountUSD > pol.CardCapUSDMinor {
			return refuse("card payments are for small amounts only: %s USD is above the card cap of %s USD; pay by T/T or online bank transfer",
				usd(amountUSD), usd(pol.CardCapUSDMinor))
		}
	case orderv1.PaymentMethod_PAYMENT_METHOD_PAY_LATER:
		if amountUSD > pol.PayLaterCapUSDMinor {
			return refuse("Pay Later covers up to %s USD; %s USD is above it", usd(pol.PayLaterCapUSDMinor), usd(amountUSD))
		}
	case orderv1.PaymentMethod_PAYMENT_METHOD_WESTERN_UNION:
		if buyer.Country != "US" {
			return refuse("Western Union is for US buyers only; this buyer is in %s", buyer.Country)
		}
		if amountUSD >= pol.WesternUnionLimitUSDMinor {
			return refuse("Western Union payments must be under %s USD; %s USD is not", usd(pol.WesternUnionLimitUSDMinor), usd(amountUSD))
		}
	case orderv1.PaymentMethod_PAYMENT_METHOD_E_CHECKING:
		if buyer.Country != "US" {
			return refuse("e-Checking is for US buyers only; this buyer is in %s", buyer.Country)
		}
		if currency != "USD" {
			return refuse("e-Checking is in USD only; this order is in %s", currency)
		}
	}
	return nil
}

// settlesAtOnce reports whether a method settles when made; the others stay pending until the bank confirms.
func settlesAtOnce(m orderv1.PaymentMethod) bool {
	return m == orderv1.PaymentMethod_PAYMENT_METHOD_CARD || m == orderv1.PaymentMethod_PAYMENT_METHOD_PAY_LATER
}

// PayOrder pays the next part due.
func (s *Service) PayOrder(ctx context.Context, req *connect.Request[orderv1.PayOrderRequest]) (*connect.Response[orderv1.PayOrderResponse], error) {
	return run(ctx, s, req, func(tx *ent.Tx, p auth.Principal, now time.Time) (*orderv1.PayOrderResponse, error) {
		o, err := load(ctx, tx, p, req.Msg.GetOrderId(), "")
		if err != nil {
			return nil, err
		}
		if err := p.RequireRole("pay an order", commonv1.Role_ROLE_BUYER); err != nil {
			return nil, err
		}
		if err := p.RequireTrading("pay orders", now); err != nil {
			return nil, err
		}
		if err := payOrder.CheckAt(o, now); err != nil {
			return nil, err
		}
		if o.PaymentPending {
			return nil, errPaymentPending(o.ID)
		}
		if err := checkStoredAmounts(o); err != nil {
			return nil, err
		}
		part, amount := due(o)
		method := req.Msg.GetMethod()
		pol := PolicyOf(o)
		if err := checkMethod(method, amount, o.Currency, p.Account, pol, RatesOf(o)); err != nil {
			return nil, err
		}
		pay := tx.Payment.Create().SetID(resource.ID("pay_")).SetOrderID(o.ID).SetMethod(methodFromProto[method]).
			SetPart(part).SetAmountMinor(amount).SetCurrency(o.Currency).SetCreateTime(now).SetUpdateTime(now)
		var declined string
		switch {
		case method == orderv1.PaymentMethod_PAYMENT_METHOD_CARD:
			if req.Msg.GetCardToken() == "" {
				return nil, apierr.Invalid("card_token", "a card payment needs the card token from the payment network")
			}
			if declined, err = s.cards.Charge(ctx, req.Msg.GetCardToken(), amount, o.Currency); err != nil {
				return nil, fmt.Errorf("charge card: %w", err)
			}
		case !settlesAtOnce(method):
			wait := pol.BankTransferSettle
			if method == orderv1.PaymentMethod_PAYMENT_METHOD_TT {
				wait = pol.TTExpectedSettle
			}
			pay.SetExpectedSettleTime(now.Add(wait))
		}
		switch {
		case declined != "":
			// A declined card leaves the order as it was; the buyer can simply pay again.
			row, err := pay.SetState(entpayment.StateFailed).SetFailureReason(declined).SetFinishTime(now).Save(ctx)
			if err != nil {
				return nil, fmt.Errorf("record payment: %w", err)
			}
			pb, err := toProto(o)
			if err != nil {
				return nil, err
			}
			return &orderv1.PayOrderResponse{Payment: paymentToProto(row), Order: pb}, nil
		case settlesAtOnce(method):
			row, err := pay.SetState(entpayment.StateSettled).SetFinishTime(now).Save(ctx)
			if err != nil {
				return nil, fmt.Errorf("record payment: %w", err)
			}
			pb, err := s.settle(ctx, tx, o, row, p, now)
			if err != nil {
				return nil, err
			}
			return &orderv1.PayOrderResponse{Payment: paymentToProto(row), Order: pb}, nil
		default:
			row, err := pay.SetState(entpayment.StatePending).Save(ctx)
			if err != nil {
				return nil, fmt.Errorf("record payment: %w", err)
			}
			pb, err := s.commit(ctx, tx, o, change{event: "payment_pending", actor: p, now: now, set: func(u *ent.OrderMutation) {
				u.SetPaymentPending(true)
			}})
			if err != nil {
				return nil, err
			}
			return &orderv1.PayOrderResponse{Payment: paymentToProto(row), Order: pb}, nil
		}
	})
}

// settle moves a settled payment's amount into the order: the advance makes it ADVANCE_PAID, the full
// amount or the balance makes it PAID.
func (s *Service) settle(ctx context.Context, tx *ent.Tx, o *ent.Order, pay *ent.Payment, actor auth.Principal, now time.Time) (*orderv1.Order, error) {
	if err := postPayment(ctx, tx, o, pay.ID, pay.AmountMinor, now); err != nil {
		return nil, err
	}
	paid, ok := money.Add(o.PaidMinor, pay.AmountMinor)
	if !ok || paid > o.TotalMinor {
		return nil, money.StoredTooLarge("payment %s of %d would bring order %s to %d paid, more than its total %d",
			pay.ID, pay.AmountMinor, o.ID, paid, o.TotalMinor)
	}
	step, event := paidInFull, "paid"
	if pay.Part == entpayment.PartAdvance {
		step, event = advancePaid, "advance_paid"
	}
	return s.commit(ctx, tx, o, change{event: event, actor: actor, now: now, step: step, set: func(u *ent.OrderMutation) {
		u.SetPaidMinor(paid)
		u.SetPaymentPending(false)
	}})
}

// loadPending reads a pending payment and its order for an operator.
func loadPending(ctx context.Context, tx *ent.Tx, p auth.Principal, id, action string) (*ent.Payment, *ent.Order, error) {
	if err := p.RequireRole(action+" (banks confirm through operators or a bank integration)", commonv1.Role_ROLE_OPERATOR); err != nil {
		return nil, nil, err
	}
	pay, err := tx.Payment.Get(ctx, id)
	if ent.IsNotFound(err) {
		return nil, nil, apierr.NotFound("payment", id)
	}
	if err != nil {
		return nil, nil, err
	}
	if pay.State != entpayment.StatePending {
		return nil, nil, apierr.IllegalState("payment", id, action, string(pay.State))
	}
	o, err := get(ctx, tx, pay.OrderID)
	if err != nil {
		return nil, nil, err
	}
	return pay, o, nil
}

// ConfirmPayment settles a pending payment.
func (s *Service) ConfirmPayment(ctx context.Context, req *connect.Request[orderv1.ConfirmPaymentRequest]) (*connect.Response[orderv1.ConfirmPaymentResponse], error) {
	return run(ctx, s, req, func(tx *ent.Tx, p auth.Principal, now time.Time) (*orderv1.ConfirmPaymentResponse, error) {
		pay, o, err := loadPending(ctx, tx, p, req.Msg.GetPaymentId(), "confirm a payment")
		if err != nil {
			return nil, err
		}
		pay, err = tx.Payment.UpdateOne(pay).SetState(entpayment.StateSettled).SetFinishTime(now).SetUpdateTime(now).Save(ctx)
		if err != nil {
			return nil, fmt.Errorf("confirm payment: %w", err)
		}
		var pb *orderv1.Order
		if o.State == entorder.StateCancelled {
			// Cancellation waits for pending payments, so this cannot happen; refuse rather than take money.
			return nil, apierr.IllegalState("order", o.ID, "take a payment for", string(o.State))
		}
		if pb, err = s.settle(ctx, tx, o, pay, p, now); err != nil {
			return nil, err
		}
		return &orderv1.ConfirmPaymentResponse{Payment: paymentToProto(pay), Order: pb}, nil
	})
}

// FailPayment records that a pending payment failed; the part can be paid again.
func (s *Service) FailPayment(ctx context.Context, req *connect.Request[orderv1.FailPaymentRequest]) (*connect.Response[orderv1.FailPaymentResponse], error) {
	return run(ctx, s, req, func(tx *ent.Tx, p auth.Principal, now time.Time) (*orderv1.FailPaymentResponse, error) {
		pay, o, err := loadPending(ctx, tx, p, req.Msg.GetPaymentId(), "fail a payment")
		if err != nil {
			return nil, err
		}
		pay, err = tx.Payment.UpdateOne(pay).SetState(entpayment.StateFailed).SetFailureReason(req.Msg.GetReason()).
			SetFinishTime(now).SetUpdateTime(now).Save(ctx)
		if err != nil {
			return nil, fmt.Errorf("fail payment: %w", err)
		}
		pb, err := s.commit(ctx, tx, o, change{event: "payment_failed", actor: p, now: now, set: func(u *ent.OrderMutation) {
			u.SetPaymentPending(false)
		}})
		if err != nil {
			return nil, err
		}
		return &orderv1.FailPaymentResponse{Payment: paymentToProto(pay), Order: pb}, nil
	})
}

// ListPayments lists an order's payments, oldest first.
func (s *Service) ListPayments(ctx context.Context, req *connect.Request[orderv1.ListPaymentsRequest]) (*connect.Response[orderv1.ListPaymentsResponse], error) {
	o, err := s.read(ctx, req.Msg.GetOrderId())
	if err != nil {
		return nil, err
	}
	filter := pagination.Filter("payments", o.ID)
	size, after, err := s.pager.Start(req.Msg, 50, 500, filter)
	if err != nil {
		return nil, err
	}
	q := s.store.Client.Payment.Query().Where(entpayment.OrderID(o.ID))
	if after != "" {
		q = q.Where(entpayment.IDGT(after))
	}
	rows, err := q.Order(ent.Asc(entpayment.FieldID)).Limit(size + 1).All(ctx)
	if err != nil {
		return nil, fmt.Errorf("list payments: %w", err)
	}
	out := &orderv1.ListPaymentsResponse{}
	rows, out.NextPageToken = pagination.Page(s.pager, rows, size, filter, func(r *ent.Payment) string { return r.ID })
	for _, r := range rows {
		out.Payments = append(out.Payments, paymentToProto(r))
	}
	return connect.NewResponse(out), nil
}
