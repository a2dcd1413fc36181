package complaint

import (
	"context"
	"fmt"
	"time"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/tradeassure/tradeassure/ent"
	"github.com/tradeassure/tradeassure/ent/account"
	entcomplaint "github.com/tradeassure/tradeassure/ent/complaint"
	"github.com/tradeassure/tradeassure/ent/penalty"
	commonv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/common/v1"
	complaintv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/complaint/v1"
	"github.com/tradeassure/tradeassure/server/auth"
	"github.com/tradeassure/tradeassure/server/deadline"
	"github.com/tradeassure/tradeassure/server/events"
)

// stateOf is an account's standing at now: a restriction that has ended counts as active even before the
// deadline that clears it has run, exactly as auth.Principal.RequireTrading enforces it.
func stateOf(a *ent.Account, now time.Time) complaintv1.AccountStanding_State {
	switch {
	case a.Standing == account.StandingBanned:
		return complaintv1.AccountStanding_STATE_BANNED
	case a.Standing == account.StandingRestricted && a.RestrictedUntil != nil && now.Before(*a.RestrictedUntil):
		return complaintv1.AccountStanding_STATE_RESTRICTED
	}
	return complaintv1.AccountStanding_STATE_ACTIVE
}

// standingReader is the part of a client or transaction a standing is read from.
type standingReader struct {
	accounts   *ent.AccountClient
	complaints *ent.ComplaintClient
	penalties  *ent.PenaltyClient
}

// standing reads an account's standing at now, or nil when the account does not exist or does not trade.
func (r standingReader) standing(ctx context.Context, id string, now time.Time) (*complaintv1.AccountStanding, error) {
	a, err := r.accounts.Get(ctx, id)
	if ent.IsNotFound(err) || (err == nil && a.Role != account.RoleBuyer && a.Role != account.RoleSupplier) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read account %s: %w", id, err)
	}
	out := &complaintv1.AccountStanding{
		AccountId: a.ID, Role: auth.RoleFromName(a.Role.String()), CreditScore: int32(a.CreditScore),
		State: stateOf(a, now), UpdateTime: timestamppb.New(a.UpdateTime),
	}
	switch out.State {
	case complaintv1.AccountStanding_STATE_RESTRICTED:
		out.RestrictedUntil = timestamppb.New(*a.RestrictedUntil)
	case complaintv1.AccountStanding_STATE_BANNED:
		ban, err := r.penalties.Query().Where(penalty.AccountID(a.ID), penalty.KindEQ(penalty.KindBan)).
			Order(ent.Asc(penalty.FieldTime), ent.Asc(penalty.FieldID)).First(ctx)
		if err != nil && !ent.IsNotFound(err) {
			return nil, fmt.Errorf("read ban of %s: %w", a.ID, err)
		}
		if ban != nil {
			out.BanTime = timestamppb.New(ban.Time)
		}
	}
	upheld, err := r.complaints.Query().Where(entcomplaint.RespondentID(a.ID), entcomplaint.StateEQ(entcomplaint.StateUpheld)).
		Order(ent.Desc(entcomplaint.FieldDecideTime), ent.Desc(entcomplaint.FieldID)).All(ctx)
	if err != nil {
		return nil, fmt.Errorf("read upheld complaints of %s: %w", a.ID, err)
	}
	for _, c := range upheld {
		pb, err := toProto(c)
		if err != nil {
			return nil, err
		}
		out.UpheldComplaints = append(out.UpheldComplaints, &complaintv1.StandingRecord{
			ComplaintId: c.ID, OrderId: c.OrderID, Type: pb.GetType(), Penalties: pb.GetDecision().GetPenalties(),
			DecideTime: pb.GetDecision().GetDecideTime(),
		})
	}
	return out, nil
}

// GetStanding returns an account's credit score, standing and upheld complaints.
func (s *Service) GetStanding(ctx context.Context, req *connect.Request[complaintv1.GetStandingRequest]) (*connect.Response[complaintv1.GetStandingResponse], error) {
	p := auth.FromContext(ctx)
	if err := p.RequireRole("read an account's standing", readers...); err != nil {
		return nil, err
	}
	id := req.Msg.GetAccountId()
	// A buyer or supplier sees only its own standing; another account looks like one that does not exist.
	if p.Is(commonv1.Role_ROLE_BUYER, commonv1.Role_ROLE_SUPPLIER) && id != p.AccountID {
		return nil, errNotTrading(id)
	}
	c := s.store.Client
	st, err := standingReader{c.Account, c.Complaint, c.Penalty}.standing(ctx, id, s.clock.Now())
	if err != nil {
		return nil, err
	}
	if st == nil {
		return nil, errNotTrading(id)
	}
	return connect.NewResponse(&complaintv1.GetStandingResponse{Standing: st}), nil
}

// recordStanding appends "account.<what>" with the account's standing, for the account itself (and
// operators) to follow.
func (s *Service) recordStanding(ctx context.Context, tx *ent.Tx, accountID, what string, actor auth.Principal, now time.Time) error {
	st, err := standingReader{tx.Account, tx.Complaint, tx.Penalty}.standing(ctx, accountID, now)
	if err != nil || st == nil {
		return err
	}
	return s.feed.Append(ctx, tx, events.Event{
		Type: "account." + what, SubjectType: "account", SubjectID: accountID, Time: now, Actor: actor,
		Parties: []string{accountID}, Payload: st,
	})
}

// decisionDue marks a complaint still waiting for its decision overdue and reports it.
func (s *Service) decisionDue(ctx context.Context, tx *ent.Tx, c *ent.Complaint, now time.Time) error {
	if c.DecisionOverdue {
		return deadline.ErrStale
	}
	_, err := s.commit(ctx, tx, c, markOverdue, change{event: "decision_overdue", actor: auth.System, now: now, set: func(u *ent.ComplaintUpdateOne) {
		u.SetDecisionOverdue(true)
	}})
	return err
}

// restrictionEnd returns a restricted account to active standing once its restriction has ended.
func (s *Service) restrictionEnd(ctx context.Context, tx *ent.Tx, d *ent.Deadline, now time.Time) error {
	a, err := tx.Account.Get(ctx, d.SubjectID)
	if err != nil {
		return err
	}
	if a.Standing != account.StandingRestricted || a.RestrictedUntil == nil || now.Before(*a.RestrictedUntil) {
		return deadline.ErrStale
	}
	// The update re-checks the restriction, so one extended concurrently is not lifted.
	n, err := tx.Account.Update().Where(account.ID(a.ID), account.StandingEQ(account.StandingRestricted),
		account.RestrictedUntilLTE(now)).SetStanding(account.StandingActive).ClearRestrictedUntil().SetUpdateTime(now).Save(ctx)
	if err != nil {
		return fmt.Errorf("end restriction of %s: %w", a.ID, err)
	}
	if n == 0 {
		return deadline.ErrStale
	}
	return s.recordStanding(ctx, tx, a.ID, "restriction_ended", auth.System, now)
}
