package dispute

import (
	"context"
	"fmt"
	"time"

	"connectrpc.com/connect"

	"github.com/tradeassure/tradeassure/ent"
	commonv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/common/v1"
	disputev1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/dispute/v1"
	"github.com/tradeassure/tradeassure/server/apierr"
	"github.com/tradeassure/tradeassure/server/auth"
	"github.com/tradeassure/tradeassure/server/describe"
	"github.com/tradeassure/tradeassure/server/resource"
)

// loadParty loads a dispute as one of its two parties (others get NOT_FOUND, other roles PERMISSION_DENIED).
func loadParty(ctx context.Context, tx *ent.Tx, p auth.Principal, action, id, etag string) (*loaded, error) {
	if err := p.RequireRole(action, commonv1.Role_ROLE_BUYER, commonv1.Role_ROLE_SUPPLIER); err != nil {
		return nil, err
	}
	return load(ctx, tx, p, id, etag)
}

// RespondToDispute is the supplier's answer to the opened dispute.
func (s *Service) RespondToDispute(ctx context.Context, req *connect.Request[disputev1.RespondToDisputeRequest]) (*connect.Response[disputev1.RespondToDisputeResponse], error) {
	return run(ctx, s, req, func(tx *ent.Tx, p auth.Principal, now time.Time) (*disputev1.RespondToDisputeResponse, error) {
		m := req.Msg
		if err := p.RequireRole("respond to disputes", commonv1.Role_ROLE_SUPPLIER); err != nil {
			return nil, err
		}
		l, err := load(ctx, tx, p, m.GetId(), m.GetEtag())
		if err != nil {
			return nil, err
		}
		d := l.d
		if err := accept.CheckAt(l, now); err != nil { // accept, reject and contest run from the same state
			return nil, err
		}
		evidence := stamp(m.GetEvidence(), p, now)
		d.SupplierResponseTime = ts(now)
		opening := openOffer(d)
		if m.GetDecision() == disputev1.RespondToDisputeRequest_DECISION_ACCEPT {
			d.SupplierResponse = disputev1.Dispute_SUPPLIER_RESPONSE_ACCEPTED
			d.Evidence = append(d.Evidence, evidence...)
			o, err := l.orderOf(ctx, tx)
			if err != nil {
				return nil, err
			}
			// Another refund since the dispute opened may have lowered what is left to refund. The supplier
			// accepting is an agreement, so the coverage does not cap it.
			oc := outcome{method: disputev1.Settlement_METHOD_SUPPLIER_ACCEPTED, resolution: d.GetRequestedResolution(),
				amount: min(d.GetRequestedRefundAmount().GetAmountMinor(), agreeable(o))}
			if oc.amount <= 0 {
				oc.amount, oc.resolution = 0, disputev1.Dispute_RESOLUTION_NO_REFUND
			}
			if opening != nil {
				opening.State, opening.CloseTime = disputev1.Offer_STATE_ACCEPTED, ts(now)
				oc.offerID = opening.GetId()
			}
			steps, err := s.settle(ctx, tx, l, p, now, oc)
			if err != nil {
				return nil, err
			}
			out, err := s.commit(ctx, tx, l, accept, p, now, append([]step{{
				kind: disputev1.TimelineEntry_KIND_SUPPLIER_ACCEPTED, event: "supplier_accepted", evidence: evidence,
				offerID: oc.offerID, amount: resource.Money(oc.amount, o.Money.Currency), fields: []string{"state", "supplier_response", "settlement"},
				desc: "The supplier accepted the buyer's request: " + m.GetNote(),
			}}, steps...)...)
			if err != nil {
				return nil, err
			}
			return &disputev1.RespondToDisputeResponse{Dispute: out}, nil
		}
		if len(evidence) == 0 {
			return nil, apierr.InvalidWith(commonv1.ErrorReason_ERROR_REASON_EVIDENCE_REQUIRED, "evidence",
				"rejecting a dispute needs at least one piece of evidence")
		}
		d.SupplierResponse = disputev1.Dispute_SUPPLIER_RESPONSE_REJECTED
		st := step{kind: disputev1.TimelineEntry_KIND_SUPPLIER_REJECTED, event: "supplier_rejected", evidence: evidence,
			fields: []string{"state", "supplier_response", "offers"}}
		t := reject
		if d.GetKind() == disputev1.Dispute_KIND_CHARGEBACK {
			// A contested chargeback goes to the arbiter; there is nobody to negotiate with.
			d.Evidence = append(d.Evidence, evidence...)
			t, d.EscalatedBy, d.EscalateTime = contest, p.Party(), ts(now)
			st.desc = "The supplier contested the chargeback with evidence; an arbiter decides: " + m.GetNote()
		} else {
			if m.GetCounterOffer() == nil {
				return nil, apierr.Invalid("counter_offer", "rejecting a dispute needs a counter-offer")
			}
			o, err := l.orderOf(ctx, tx)
			if err != nil {
				return nil, err
			}
			amount, err := offerAmount("counter_offer", m.GetCounterOffer(), o, d.GetLines())
			if err != nil {
				return nil, err
			}
			if opening != nil {
				opening.State, opening.CloseTime = disputev1.Offer_STATE_DECLINED, ts(now)
			}
			offer := &disputev1.Offer{
				Id: resource.ID("ofr_"), Proposer: p.Party(), Resolution: m.GetCounterOffer().GetResolution(),
				RefundAmount: resource.Money(amount, o.Money.Currency), Note: m.GetCounterOffer().GetNote(), Evidence: evidence,
				State: disputev1.Offer_STATE_OPEN, CreateTime: ts(now),
			}
			d.Offers = append(d.Offers, offer)
			if d.EscalationAllowedTime == nil {
				// Retail: the buyer may escalate once the supplier has rejected.
				d.EscalationAllowedTime = ts(now)
			}
			st.offerID, st.amount = offer.GetId(), offer.GetRefundAmount()
			st.desc = fmt.Sprintf("The supplier rejected the buyer's request and offered %s of %s: %s",
				describe.Enum(offer.GetResolution()), describe.Money(amount, o.Money.Currency), m.GetNote())
		}
		out, err := s.commit(ctx, tx, l, t, p, now, st)
		if err != nil {
			return nil, err
		}
		return &disputev1.RespondToDisputeResponse{Dispute: out}, nil
	})
}

// MakeOffer proposes terms.
func (s *Service) MakeOffer(ctx context.Context, req *connect.Request[disputev1.MakeOfferRequest]) (*connect.Response[disputev1.MakeOfferResponse], error) {
	return run(ctx, s, req, func(tx *ent.Tx, p auth.Principal, now time.Time) (*disputev1.MakeOfferResponse, error) {
		m := req.Msg
		l, err := loadParty(ctx, tx, p, "make offers", m.GetId(), m.GetEtag())
		if err != nil {
			return nil, err
		}
		d := l.d
		if err := makeOffer.CheckAt(l, now); err != nil {
			return nil, err
		}
		o, err := l.orderOf(ctx, tx)
		if err != nil {
			return nil, err
		}
		amount, err := offerAmount("terms", m.GetTerms(), o, d.GetLines())
		if err != nil {
			return nil, err
		}
		for _, prev := range d.GetOffers() {
			if prev.GetState() != disputev1.Offer_STATE_OPEN {
				continue
			}
			prev.CloseTime = ts(now)
			if prev.GetProposer().GetAccountId() == p.AccountID {
				prev.State = disputev1.Offer_STATE_SUPERSEDED
			} else {
				prev.State = disputev1.Offer_STATE_DECLINED
			}
		}
		evidence := stamp(m.GetEvidence(), p, now)
		offer := &disputev1.Offer{
			Id: resource.ID("ofr_"), Proposer: p.Party(), Resolution: m.GetTerms().GetResolution(), RefundAmount: resource.Money(amount, o.Money.Currency),
			Note: m.GetTerms().GetNote(), Evidence: evidence, State: disputev1.Offer_STATE_OPEN, CreateTime: ts(now),
		}
		d.Offers = append(d.Offers, offer)
		out, err := s.commit(ctx, tx, l, makeOffer, p, now, step{
			kind: disputev1.TimelineEntry_KIND_OFFER_MADE, event: "offer_made", offerID: offer.GetId(), evidence: evidence,
			amount: offer.GetRefundAmount(), fields: []string{"offers"},
			desc: fmt.Sprintf("The %s offered %s of %s", auth.RoleName(p.Role), describe.Enum(offer.GetResolution()),
				describe.Money(amount, o.Money.Currency)),
		})
		if err != nil {
			return nil, err
		}
		return &disputev1.MakeOfferResponse{Dispute: out, OfferId: offer.GetId()}, nil
	})
}

// AcceptOffer accepts the other side's latest open offer, which settles the dispute.
func (s *Service) AcceptOffer(ctx context.Context, req *connect.Request[disputev1.AcceptOfferRequest]) (*connect.Response[disputev1.AcceptOfferResponse], error) {
	return run(ctx, s, req, func(tx *ent.Tx, p auth.Principal, now time.Time) (*disputev1.AcceptOfferResponse, error) {
		m := req.Msg
		l, err := loadParty(ctx, tx, p, "accept offers", m.GetId(), m.GetEtag())
		if err != nil {
			return nil, err
		}
		d := l.d
		if err := acceptOffer.CheckAt(l, now); err != nil {
			return nil, err
		}
		offer, err := theirOffer(d, p, m.GetOfferId())
		if err != nil {
			return nil, err
		}
		o, err := l.orderOf(ctx, tx)
		if err != nil {
			return nil, err
		}
		// Other refunds since the offer was made may have lowered what is left to refund. Accepting an offer
		// is the parties' agreement (one made or accepted by the supplier), which the coverage does not cap.
		if err := checkAmount("offer.refund_amount", offer.GetRefundAmount(), o.Money.Currency, agreeable(o), limitAgreeable); err != nil {
			return nil, err
		}
		offer.State, offer.CloseTime = disputev1.Offer_STATE_ACCEPTED, ts(now)
		steps, err := s.settle(ctx, tx, l, p, now, outcome{
			method: disputev1.Settlement_METHOD_OFFER_ACCEPTED, resolution: offer.GetResolution(),
			amount: offer.GetRefundAmount().GetAmountMinor(), offerID: offer.GetId(),
		})
		if err != nil {
			return nil, err
		}
		out, err := s.commit(ctx, tx, l, acceptOffer, p, now, append([]step{{
			kind: disputev1.TimelineEntry_KIND_OFFER_ACCEPTED, event: "offer_accepted", offerID: offer.GetId(),
			amount: offer.GetRefundAmount(), fields: []string{"state", "offers", "settlement"},
			desc: fmt.Sprintf("The %s accepted the offer of %s of %s; the dispute is settled", auth.RoleName(p.Role),
				describe.Enum(offer.GetResolution()), describe.Money(offer.GetRefundAmount().GetAmountMinor(), o.Money.Currency)),
		}}, steps...)...)
		if err != nil {
			return nil, err
		}
		return &disputev1.AcceptOfferResponse{Dispute: out}, nil
	})
}

// DeclineOffer declines the other side's latest open offer.
func (s *Service) DeclineOffer(ctx context.Context, req *connect.Request[disputev1.DeclineOfferRequest]) (*connect.Response[disputev1.DeclineOfferResponse], error) {
	return run(ctx, s, req, func(tx *ent.Tx, p auth.Principal, now time.Time) (*disputev1.DeclineOfferResponse, error) {
		m := req.Msg
		l, err := loadParty(ctx, tx, p, "decline offers", m.GetId(), m.GetEtag())
		if err != nil {
			return nil, err
		}
		d := l.d
		if err := declineOffer.CheckAt(l, now); err != nil {
			return nil, err
		}
		offer, err := theirOffer(d, p, m.GetOfferId())
		if err != nil {
			return nil, err
		}
		offer.State, offer.CloseTime = disputev1.Offer_STATE_DECLINED, ts(now)
		out, err := s.commit(ctx, tx, l, declineOffer, p, now, step{
			kind: disputev1.TimelineEntry_KIND_OFFER_DECLINED, event: "offer_declined", offerID: offer.GetId(),
			fields: []string{"offers"}, desc: fmt.Sprintf("The %s declined the offer: %s", auth.RoleName(p.Role), m.GetNote()),
		})
		if err != nil {
			return nil, err
		}
		return &disputev1.DeclineOfferResponse{Dispute: out}, nil
	})
}

// escalate records who moved a dispute to the platform; the commit's transition (escalateStep,
// autoEscalate) leaves its state, which stops the response and escalation timers.
func escalate(d *disputev1.Dispute, by auth.Principal, now time.Time) {
	d.EscalatedBy, d.EscalateTime = by.Party(), ts(now)
}

// EscalateDispute asks the platform to step in.
func (s *Service) EscalateDispute(ctx context.Context, req *connect.Request[disputev1.EscalateDisputeRequest]) (*connect.Response[disputev1.EscalateDisputeResponse], error) {
	return run(ctx, s, req, func(tx *ent.Tx, p auth.Principal, now time.Time) (*disputev1.EscalateDisputeResponse, error) {
		m := req.Msg
		l, err := loadParty(ctx, tx, p, "escalate disputes", m.GetId(), m.GetEtag())
		if err != nil {
			return nil, err
		}
		d := l.d
		if err := escalateStep.CheckAt(l, now); err != nil {
			return nil, err
		}
		if err := mayEscalate(d, p.Role, now); err != nil {
			return nil, err
		}
		evidence := stamp(m.GetEvidence(), p, now)
		d.Evidence = append(d.Evidence, evidence...)
		escalate(d, p, now)
		out, err := s.commit(ctx, tx, l, escalateStep, p, now, step{
			kind: disputev1.TimelineEntry_KIND_ESCALATED, event: "escalated", evidence: evidence,
			fields: []string{"state", "escalated_by", "escalate_time"},
			desc:   fmt.Sprintf("The %s escalated the dispute to the platform: %s", auth.RoleName(p.Role), m.GetNote()),
		})
		if err != nil {
			return nil, err
		}
		return &disputev1.EscalateDisputeResponse{Dispute: out}, nil
	})
}

// mayEscalate is the escalation gate (rules.go): the supplier may escalate once it rejected the buyer's
// request, the buyer from its escalation time (set at opening under a policy with one, else when the
// supplier rejects); either is refused with TOO_EARLY before.
func mayEscalate(d *disputev1.Dispute, role commonv1.Role, now time.Time) error {
	switch {
	case role == commonv1.Role_ROLE_SUPPLIER && d.GetSupplierResponse() != disputev1.Dispute_SUPPLIER_RESPONSE_REJECTED:
		return apierr.Precondition(commonv1.ErrorReason_ERROR_REASON_TOO_EARLY,
			"the supplier may escalate only after rejecting the buyer's request; respond to the dispute first")
	case role == commonv1.Role_ROLE_BUYER && d.EscalationAllowedTime == nil:
		return apierr.Precondition(commonv1.ErrorReason_ERROR_REASON_TOO_EARLY,
			"the platform steps in only once negotiation failed: the buyer may escalate after the supplier rejects the request")
	case role == commonv1.Role_ROLE_BUYER && now.Before(d.GetEscalationAllowedTime().AsTime()):
		at := d.GetEscalationAllowedTime().AsTime().Format(time.RFC3339)
		return apierr.Precondition(commonv1.ErrorReason_ERROR_REASON_TOO_EARLY,
			"the buyer may escalate this dispute from %s (day 4)", at).With("escalation_allowed_time", at)
	}
	return nil
}

// WithdrawDispute withdraws the buyer's dispute.
func (s *Service) WithdrawDispute(ctx context.Context, req *connect.Request[disputev1.WithdrawDisputeRequest]) (*connect.Response[disputev1.WithdrawDisputeResponse], error) {
	return run(ctx, s, req, func(tx *ent.Tx, p auth.Principal, now time.Time) (*disputev1.WithdrawDisputeResponse, error) {
		m := req.Msg
		if err := p.RequireRole("withdraw disputes", commonv1.Role_ROLE_BUYER); err != nil {
			return nil, err
		}
		l, err := load(ctx, tx, p, m.GetId(), m.GetEtag())
		if err != nil {
			return nil, err
		}
		d := l.d
		if d.GetKind() != disputev1.Dispute_KIND_STANDARD {
			return nil, apierr.IllegalState("dispute", d.GetId(), "withdraw", d.GetKind().String())
		}
		if err := withdraw.CheckAt(l, now); err != nil {
			return nil, err
		}
		if err := s.end(ctx, tx, l, p, now, true); err != nil {
			return nil, err
		}
		out, err := s.commit(ctx, tx, l, withdraw, p, now, step{
			kind: disputev1.TimelineEntry_KIND_WITHDRAWN, event: "withdrawn", fields: []string{"state"},
			desc: "The buyer withdrew the dispute: " + m.GetNote(),
		})
		if err != nil {
			return nil, err
		}
		return &disputev1.WithdrawDisputeResponse{Dispute: out}, nil
	})
}
