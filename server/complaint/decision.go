package complaint

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"connectrpc.com/connect"
	"entgo.io/ent/dialect"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/tradeassure/tradeassure/ent"
	"github.com/tradeassure/tradeassure/ent/account"
	entcomplaint "github.com/tradeassure/tradeassure/ent/complaint"
	"github.com/tradeassure/tradeassure/ent/penalty"
	commonv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/common/v1"
	complaintv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/complaint/v1"
	"github.com/tradeassure/tradeassure/server/apierr"
	"github.com/tradeassure/tradeassure/server/auth"
	"github.com/tradeassure/tradeassure/server/deadline"
	"github.com/tradeassure/tradeassure/server/ledger"
	"github.com/tradeassure/tradeassure/server/money"
	"github.com/tradeassure/tradeassure/server/order"
	"github.com/tradeassure/tradeassure/server/policy"
	"github.com/tradeassure/tradeassure/server/resource"
)

// penaltyKind names a penalty's kind as in the API, for messages and metadata.
func penaltyKind(p *complaintv1.Penalty) string {
	if p.GetKind() == nil {
		return ""
	}
	return string(p.ProtoReflect().WhichOneof(p.ProtoReflect().Descriptor().Oneofs().ByName("kind")).Name())
}

// allowedPenalties are the penalties each complaint type allows (docs/rules.md, Complaints: outcomes).
var allowedPenalties = map[entcomplaint.Type][]string{
	entcomplaint.TypeFalseTransaction: {"credit_score_deduction", "trading_restriction"},
	entcomplaint.TypeProductQuality:   {"return_costs", "buyer_compensation"},
	entcomplaint.TypeServiceFailure:   {"supplier_freight", "delivery_extension"},
	entcomplaint.TypeTransactionFraud: {"credit_score_deduction", "permanent_ban"},
}

// checkPenalties refuses a decision whose penalties do not fit the outcome and the complaint's type.
func checkPenalties(c *ent.Complaint, o order.Facts, outcome complaintv1.Decision_Outcome, penalties []*complaintv1.Penalty, now time.Time) error {
	if outcome == complaintv1.Decision_OUTCOME_DISMISSED {
		if len(penalties) > 0 {
			return apierr.Invalid("penalties", "a dismissed complaint takes no penalties")
		}
		return nil
	}
	allowed := allowedPenalties[c.Type]
	if len(penalties) == 0 {
		return apierr.Invalid("penalties", "an upheld %s complaint needs at least one penalty: %s", typeName(c.Type), strings.Join(allowed, ", "))
	}
	seen := map[string]bool{}
	for i, p := range penalties {
		field := fmt.Sprintf("penalties[%d]", i)
		kind := penaltyKind(p)
		if !slices.Contains(allowed, kind) {
			return apierr.InvalidWith(commonv1.ErrorReason_ERROR_REASON_PENALTY_NOT_ALLOWED, field,
				"a %s complaint allows only these penalties: %s; %s is not one of them", typeName(c.Type), strings.Join(allowed, ", "), kind).
				With("allowed_penalties", strings.Join(allowed, ",")).With("penalty", kind)
		}
		if seen[kind] {
			return apierr.Invalid(field, "%s is given twice; give each penalty once", kind)
		}
		seen[kind] = true
		if until := p.GetTradingRestriction().GetUntil(); until != nil {
			if err := policy.CheckFuture(field+".trading_restriction.until", "the end of a trading restriction", until.AsTime(), now,
				o.Policy.TradingRestrictionHorizon); err != nil {
				return err
			}
		}
		if m := moneyOf(p); m != nil && m.GetCurrency() != o.Money.Currency {
			return apierr.InvalidWith(commonv1.ErrorReason_ERROR_REASON_CURRENCY_MISMATCH, field,
				"the %s must be in the order's currency %s, not %s", kind, o.Money.Currency, m.GetCurrency())
		}
		if m := moneyOf(p); m != nil && m.GetAmountMinor() > money.Max {
			return money.TooLarge(field+"."+kind+".amount.amount_minor", "a %s of %d is too large", kind, m.GetAmountMinor())
		}
	}
	return nil
}

// moneyOf is the amount of a money penalty, or nil.
func moneyOf(p *complaintv1.Penalty) *commonv1.Money {
	switch {
	case p.GetReturnCosts() != nil:
		return p.GetReturnCosts().GetAmount()
	case p.GetBuyerCompensation() != nil:
		return p.GetBuyerCompensation().GetAmount()
	case p.GetSupplierFreight() != nil:
		return p.GetSupplierFreight().GetAmount()
	}
	return nil
}

// DecideComplaint is an arbiter's decision on a filed complaint.
func (s *Service) DecideComplaint(ctx context.Context, req *connect.Request[complaintv1.DecideComplaintRequest]) (*connect.Response[complaintv1.DecideComplaintResponse], error) {
	return run(ctx, s, req, func(tx *ent.Tx, p auth.Principal, now time.Time) (*complaintv1.DecideComplaintResponse, error) {
		if err := p.RequireRole("decide complaints (arbiters decide them)", commonv1.Role_ROLE_ARBITER); err != nil {
			return nil, err
		}
		m := req.Msg
		c, err := load(ctx, tx, p, m.GetId(), m.GetEtag())
		if err != nil {
			return nil, err
		}
		if err := uphold.CheckAt(c, now); err != nil {
			return nil, err
		}
		o, err := s.orders.Facts(ctx, tx, c.OrderID)
		if err != nil {
			return nil, err
		}
		if err := checkPenalties(c, o, m.GetOutcome(), m.GetPenalties(), now); err != nil {
			return nil, err
		}
		decision := &complaintv1.Decision{
			Arbiter: p.Party(), Outcome: m.GetOutcome(), Note: m.GetNote(), DecideTime: timestamppb.New(now),
		}
		standingChanged := false
		for _, in := range m.GetPenalties() {
			pen := proto.Clone(in).(*complaintv1.Penalty)
			pen.AccountId, pen.ApplyTime = c.RespondentID, timestamppb.New(now)
			changed, err := s.apply(ctx, tx, c, o, pen, p, now)
			if err != nil {
				return nil, err
			}
			standingChanged = standingChanged || changed
			decision.Penalties = append(decision.Penalties, pen)
		}
		step, event := dismiss, "dismissed"
		if m.GetOutcome() == complaintv1.Decision_OUTCOME_UPHELD {
			step, event = uphold, "upheld"
		}
		pb, err := s.commit(ctx, tx, c, step, change{event: event, actor: p, now: now, set: func(u *ent.ComplaintUpdateOne) {
			u.SetArbiterID(p.AccountID).SetDecideTime(now).SetDecisionNote(m.GetNote()).
				SetOutcome(resource.Marshal(decision)).SetCloseTime(now)
		}})
		if err != nil {
			return nil, err
		}
		if standingChanged {
			if err := s.recordStanding(ctx, tx, c.RespondentID, "standing_changed", p, now); err != nil {
				return nil, err
			}
		}
		return &complaintv1.DecideComplaintResponse{Complaint: pb}, nil
	})
}

// apply makes one penalty take effect within the decision's transaction, and reports whether it changed
// the respondent's account (score or standing).
func (s *Service) apply(ctx context.Context, tx *ent.Tx, c *ent.Complaint, o order.Facts, pen *complaintv1.Penalty, actor auth.Principal, now time.Time) (bool, error) {
	switch k := pen.GetKind().(type) {
	case *complaintv1.Penalty_CreditScoreDeduction_:
		// The deduction is one atomic update, so concurrent decisions against one account all count; the
		// row stays locked until commit, so the clamp at zero sees the final score.
		points := int(k.CreditScoreDeduction.GetPoints())
		a, err := tx.Account.UpdateOneID(c.RespondentID).AddCreditScore(-points).SetUpdateTime(now).Save(ctx)
		if err != nil {
			return false, fmt.Errorf("deduct credit score of %s: %w", c.RespondentID, err)
		}
		if a.CreditScore < 0 {
			if err := tx.Account.UpdateOneID(a.ID).SetCreditScore(0).Exec(ctx); err != nil {
				return false, fmt.Errorf("deduct credit score of %s: %w", a.ID, err)
			}
		}
		return true, s.penaltyRow(ctx, tx, c, penalty.KindCreditDeduction, points, nil, now)
	case *complaintv1.Penalty_TradingRestriction_:
		return true, s.restrict(ctx, tx, c, k.TradingRestriction.GetUntil().AsTime().UTC(), now)
	case *complaintv1.Penalty_PermanentBan_:
		if err := tx.Account.UpdateOneID(c.RespondentID).SetStanding(account.StandingBanned).ClearRestrictedUntil().
			SetUpdateTime(now).Exec(ctx); err != nil {
			return false, fmt.Errorf("ban %s: %w", c.RespondentID, err)
		}
		// A ban outlasts any restriction; the end of one must not make the account active again.
		if err := deadline.Cancel(ctx, tx, "account", c.RespondentID, KindRestrictionEnd, now); err != nil {
			return false, err
		}
		return true, s.penaltyRow(ctx, tx, c, penalty.KindBan, 0, nil, now)
	case *complaintv1.Penalty_ReturnCosts_, *complaintv1.Penalty_BuyerCompensation_, *complaintv1.Penalty_SupplierFreight_:
		return false, s.compensate(ctx, tx, c, o, penaltyKind(pen), moneyOf(pen).GetAmountMinor(), now)
	case *complaintv1.Penalty_DeliveryExtension_:
		by := time.Duration(k.DeliveryExtension.GetDays()) * 24 * time.Hour
		if _, err := s.orders.ExtendDelivery(ctx, tx, o.ID, by, actor, now); err != nil {
			return false, err
		}
		return false, nil
	}
	return false, fmt.Errorf("apply penalty of complaint %s: unknown kind %T", c.ID, pen.GetKind())
}

// restrict restricts the respondent's trading until a time. A later restriction extends an earlier one and
// never shortens it; a banned account stays banned.
func (s *Service) restrict(ctx context.Context, tx *ent.Tx, c *ent.Complaint, until, now time.Time) error {
	// The account is locked while its restriction is compared and extended, so two concurrent
	// restrictions cannot shorten each other (SQLite write transactions are exclusive already).
	q := tx.Account.Query().Where(account.ID(c.RespondentID))
	if s.store.Dialect == dialect.Postgres {
		q = q.ForUpdate()
	}
	a, err := q.Only(ctx)
	if err != nil {
		return fmt.Errorf("restrict %s: %w", c.RespondentID, err)
	}
	if err := s.penaltyRow(ctx, tx, c, penalty.KindTradingRestriction, 0, &until, now); err != nil {
		return err
	}
	if a.Standing == account.StandingBanned {
		return nil
	}
	if a.Standing == account.StandingRestricted && a.RestrictedUntil != nil && a.RestrictedUntil.After(until) {
		until = *a.RestrictedUntil
	}
	if err := tx.Account.UpdateOneID(a.ID).SetStanding(account.StandingRestricted).SetRestrictedUntil(until).
		SetUpdateTime(now).Exec(ctx); err != nil {
		return fmt.Errorf("restrict %s: %w", a.ID, err)
	}
	return deadline.Schedule(ctx, tx, "account", a.ID, KindRestrictionEnd, until, now)
}

// penaltyRow records an account penalty as part of the account's record.
func (s *Service) penaltyRow(ctx context.Context, tx *ent.Tx, c *ent.Complaint, kind penalty.Kind, points int, end *time.Time, now time.Time) error {
	err := tx.Penalty.Create().SetID(resource.ID("pen_")).SetAccountID(c.RespondentID).SetComplaintID(c.ID).SetKind(kind).
		SetPoints(points).SetNillableEndTime(end).SetTime(now).Exec(ctx)
	if err != nil {
		return fmt.Errorf("record %s penalty of complaint %s: %w", kind, c.ID, err)
	}
	return nil
}

// compensate moves a money penalty from the supplier's available balance (which may go negative and is
// then netted from later payouts) to the buyer.
func (s *Service) compensate(ctx context.Context, tx *ent.Tx, c *ent.Complaint, o order.Facts, kind string, amount int64, now time.Time) error {
	_, err := ledger.Post(ctx, tx, ledger.Transfer{
		CauseKind: ledger.CauseComplaintComp, CauseID: c.ID + "/" + kind, Currency: o.Money.Currency, Time: now,
		Memo: fmt.Sprintf("%s ordered by complaint %s", strings.ReplaceAll(kind, "_", " "), c.ID),
		// The complaint is linked, so the supplier's statement entry and the transfer name it.
		Links: ledger.Links{OrderID: o.ID, ComplaintID: c.ID},
		Legs: []ledger.Leg{
			{Kind: ledger.SupplierAvailable, Owner: o.SupplierID, Amount: -amount},
			{Kind: ledger.Refunds, Owner: o.BuyerID, Amount: amount},
		},
	})
	return err
}

// errNotTrading is the refusal of a standing request for an account that does not trade.
func errNotTrading(id string) error {
	return apierr.New(connect.CodeNotFound, commonv1.ErrorReason_ERROR_REASON_NOT_FOUND,
		"account %q not found among buyers and suppliers", id).With("id", id)
}
