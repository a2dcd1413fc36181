package dispute

import (
	"context"
	"fmt"
	"time"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/tradeassure/tradeassure/ent"
	commonv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/common/v1"
	disputev1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/dispute/v1"
	"github.com/tradeassure/tradeassure/server/apierr"
	"github.com/tradeassure/tradeassure/server/auth"
	"github.com/tradeassure/tradeassure/server/deadline"
	"github.com/tradeassure/tradeassure/server/describe"
	"github.com/tradeassure/tradeassure/server/policy"
	"github.com/tradeassure/tradeassure/server/resource"
)

// scheduleEvidenceDue sets the evidence deadline to the earliest due time of the requests still waiting,
// or drops it when none waits. A suspended dispute keeps its stopped deadline as it is: the due times of its
// requests are stale until it resumes, and a pending deadline would run during the suspension and be
// dropped (or fall due too early); ResumeDispute schedules it again from the restored due times.
func scheduleEvidenceDue(ctx context.Context, tx *ent.Tx, d *disputev1.Dispute, now time.Time) error {
	if d.GetState() == disputev1.Dispute_STATE_SUSPENDED {
		return nil
	}
	var next time.Time
	for _, r := range d.GetEvidenceRequests() {
		if r.GetFulfilled() || r.GetOverdue() {
			continue
		}
		if due := r.GetDueTime().AsTime(); next.IsZero() || due.Before(next) {
			next = due
		}
	}
	if next.IsZero() {
		return deadline.Cancel(ctx, tx, subjectType, d.GetId(), KindEvidenceDue, now)
	}
	return deadline.Schedule(ctx, tx, subjectType, d.GetId(), KindEvidenceDue, next, now)
}

// requestDue reports whether an evidence request waiting for its party has reached its due time at now. A
// suspended dispute's due times are stopped: a request is due then only if it already was when the dispute
// was suspended (it kept no time).
func requestDue(d *disputev1.Dispute, r *disputev1.EvidenceRequest, now time.Time) bool {
	if d.GetState() == disputev1.Dispute_STATE_SUSPENDED {
		return r.RemainingWhenSuspended == nil
	}
	return !now.Before(r.GetDueTime().AsTime())
}

// RequestEvidence asks a party for evidence by a due time.
func (s *Service) RequestEvidence(ctx context.Context, req *connect.Request[disputev1.RequestEvidenceRequest]) (*connect.Response[disputev1.RequestEvidenceResponse], error) {
	return run(ctx, s, req, func(tx *ent.Tx, p auth.Principal, now time.Time) (*disputev1.RequestEvidenceResponse, error) {
		m := req.Msg
		if err := p.RequireRole("request evidence", commonv1.Role_ROLE_ARBITER); err != nil {
			return nil, err
		}
		l, err := load(ctx, tx, p, m.GetId(), m.GetEtag())
		if err != nil {
			return nil, err
		}
		d := l.d
		if err := requestProof.CheckAt(l, now); err != nil {
			return nil, err
		}
		due := m.GetDueTime().AsTime()
		if err := policy.CheckFuture("due_time", "the due time of an evidence request", due, now, l.policySet().EvidenceDueHorizon); err != nil {
			return nil, err
		}
		from := &commonv1.Party{Role: commonv1.Role_ROLE_BUYER, AccountId: d.GetBuyerAccountId()}
		if m.GetFromRole() == commonv1.Role_ROLE_SUPPLIER {
			from = &commonv1.Party{Role: commonv1.Role_ROLE_SUPPLIER, AccountId: d.GetSupplierAccountId()}
		}
		r := &disputev1.EvidenceRequest{
			Id: resource.ID("evr_"), RequestedBy: p.Party(), RequestedFrom: from, Description: m.GetDescription(),
			Kinds: m.GetKinds(), DueTime: m.GetDueTime(), CreateTime: ts(now),
		}
		d.EvidenceRequests = append(d.EvidenceRequests, r)
		if err := scheduleEvidenceDue(ctx, tx, d, now); err != nil {
			return nil, err
		}
		out, err := s.commit(ctx, tx, l, requestProof, p, now, step{
			kind: disputev1.TimelineEntry_KIND_EVIDENCE_REQUESTED, event: "evidence_requested", reqID: r.GetId(),
			fields: []string{"evidence_requests"},
			desc: fmt.Sprintf("An arbiter asked the %s for evidence by %s: %s", auth.RoleName(from.GetRole()),
				due.Format(time.RFC3339), m.GetDescription()),
		})
		if err != nil {
			return nil, err
		}
		return &disputev1.RequestEvidenceResponse{Dispute: out, EvidenceRequestId: r.GetId()}, nil
	})
}

// SubmitEvidence attaches evidence to a dispute that has not ended.
func (s *Service) SubmitEvidence(ctx context.Context, req *connect.Request[disputev1.SubmitEvidenceRequest]) (*connect.Response[disputev1.SubmitEvidenceResponse], error) {
	return run(ctx, s, req, func(tx *ent.Tx, p auth.Principal, now time.Time) (*disputev1.SubmitEvidenceResponse, error) {
		m := req.Msg
		l, err := loadParty(ctx, tx, p, "submit evidence", m.GetId(), m.GetEtag())
		if err != nil {
			return nil, err
		}
		d := l.d
		if err := submitProof.CheckAt(l, now); err != nil {
			return nil, err
		}
		evidence := stamp(m.GetEvidence(), p, now)
		// steps are what happened before the submission in the same commit (a request falling overdue).
		var steps []step
		st := step{kind: disputev1.TimelineEntry_KIND_EVIDENCE_SUBMITTED, event: "evidence_submitted", evidence: evidence,
			fields: []string{"evidence"}, desc: fmt.Sprintf("The %s submitted %d piece(s) of evidence", auth.RoleName(p.Role), len(evidence))}
		if id := m.GetEvidenceRequestId(); id != "" {
			var r *disputev1.EvidenceRequest
			for _, x := range d.GetEvidenceRequests() {
				if x.GetId() == id {
					r = x
				}
			}
			if r == nil {
				return nil, apierr.InvalidWith(commonv1.ErrorReason_ERROR_REASON_NOT_FOUND, "evidence_request_id",
					"dispute %s has no evidence request %s", d.GetId(), id)
			}
			if r.GetRequestedFrom().GetAccountId() != p.AccountID {
				return nil, apierr.Invalid("evidence_request_id", "evidence request %s is addressed to the %s, not to you",
					id, auth.RoleName(r.GetRequestedFrom().GetRole()))
			}
			r.Evidence = append(r.Evidence, evidence...)
			st.reqID = id
			st.fields = []string{"evidence_requests"}
			switch {
			case r.GetOverdue():
				st.desc += fmt.Sprintf(" for request %s after its due time; the request stays overdue", id)
			case !r.GetFulfilled() && requestDue(d, r, now):
				// The due time has passed and only the deadline engine has not marked the request yet: it
				// is overdue and counts against the party exactly as if the engine had run first.
				r.Overdue = true
				st.desc += fmt.Sprintf(" for request %s after its due time; the request is overdue", id)
				steps = append(steps, step{
					kind: disputev1.TimelineEntry_KIND_EVIDENCE_OVERDUE, event: "evidence_overdue", reqID: id,
					fields: []string{"evidence_requests"},
					desc: fmt.Sprintf("The %s did not submit the evidence requested by %s; this counts against it",
						roleWord(r.GetRequestedFrom().GetRole().String()), r.GetDueTime().AsTime().Format(time.RFC3339)),
				})
				if err := scheduleEvidenceDue(ctx, tx, d, now); err != nil {
					return nil, err
				}
			case !r.GetFulfilled():
				r.Fulfilled, r.FulfillTime = true, ts(now)
				st.desc += " fulfilling an arbiter's evidence request"
				if err := scheduleEvidenceDue(ctx, tx, d, now); err != nil {
					return nil, err
				}
			}
		} else {
			d.Evidence = append(d.Evidence, evidence...)
		}
		if fee := m.GetInspectionFee(); fee != nil {
			if p.Role != commonv1.Role_ROLE_BUYER {
				return nil, apierr.Invalid("inspection_fee", "only the buyer prepays a third-party inspection")
			}
			if err := s.setInspection(d, fee, evidence, d.GetPaidAmount().GetCurrency()); err != nil {
				return nil, err
			}
			st.fields = append(st.fields, "inspection")
		}
		out, err := s.commit(ctx, tx, l, submitProof, p, now, append(steps, st)...)
		if err != nil {
			return nil, err
		}
		return &disputev1.SubmitEvidenceResponse{Dispute: out}, nil
	})
}

// RuleDispute is the arbiter's ruling on an escalated dispute.
func (s *Service) RuleDispute(ctx context.Context, req *connect.Request[disputev1.RuleDisputeRequest]) (*connect.Response[disputev1.RuleDisputeResponse], error) {
	return run(ctx, s, req, func(tx *ent.Tx, p auth.Principal, now time.Time) (*disputev1.RuleDisputeResponse, error) {
		m := req.Msg
		if err := p.RequireRole("rule on disputes", commonv1.Role_ROLE_ARBITER); err != nil {
			return nil, err
		}
		l, err := load(ctx, tx, p, m.GetId(), m.GetEtag())
		if err != nil {
			return nil, err
		}
		d := l.d
		if err := ruleOn.CheckAt(l, now); err != nil {
			return nil, err
		}
		var pending []string
		for _, r := range d.GetEvidenceRequests() {
			if !r.GetFulfilled() && !r.GetOverdue() {
				pending = append(pending, r.GetId())
			}
		}
		if len(pending) > 0 {
			return nil, apierr.Precondition(commonv1.ErrorReason_ERROR_REASON_EVIDENCE_REQUESTS_PENDING,
				"%d evidence request(s) are neither fulfilled nor overdue yet; rule after they are", len(pending)).
				With("evidence_request_ids", fmt.Sprint(pending))
		}
		o, err := l.orderOf(ctx, tx)
		if err != nil {
			return nil, err
		}
		amount := m.GetRefundAmount().GetAmountMinor()
		if err := checkAmount("refund_amount", m.GetRefundAmount(), o.Money.Currency, grantable(o), limitGrantable); err != nil {
			return nil, err
		}
		if (amount == 0) != (m.GetResolution() == disputev1.Dispute_RESOLUTION_NO_REFUND) {
			return nil, apierr.Invalid("resolution", "RESOLUTION_NO_REFUND goes with a refund of zero, and only with it")
		}
		ruling := &disputev1.Ruling{
			Arbiter: p.Party(), Resolution: m.GetResolution(), RefundAmount: m.GetRefundAmount(),
			Responsibility: m.GetResponsibility(), Note: m.GetNote(), RuleTime: ts(now),
		}
		d.Ruling = ruling
		steps, err := s.settle(ctx, tx, l, p, now, outcome{
			method: disputev1.Settlement_METHOD_RULING, resolution: m.GetResolution(), amount: amount,
			reimburseInspection: m.GetResponsibility() == disputev1.Dispute_RESPONSIBILITY_SUPPLIER,
		})
		if err != nil {
			return nil, err
		}
		out, err := s.commit(ctx, tx, l, ruleOn, p, now, append([]step{{
			kind: disputev1.TimelineEntry_KIND_RULED, event: "ruled", amount: m.GetRefundAmount(),
			fields: []string{"state", "ruling", "settlement"},
			desc: fmt.Sprintf("An arbiter ruled %s with a refund of %s; responsible: %s. %s", describe.Enum(m.GetResolution()),
				describe.Money(amount, o.Money.Currency), describe.Enum(m.GetResponsibility()), m.GetNote()),
		}}, steps...)...)
		if err != nil {
			return nil, err
		}
		return &disputev1.RuleDisputeResponse{Dispute: out}, nil
	})
}

// remaining is the time left until t at now, as stopped deadlines keep it; nil when t is unset or passed.
func remaining(t interface{ AsTime() time.Time }, set bool, now time.Time) *durationpb.Duration {
	if !set {
		return nil
	}
	left := deadline.Remaining(t.AsTime(), now)
	if left <= 0 {
		return nil
	}
	return durationpb.New(left)
}

// SuspendDispute suspends a dispute for a private settlement or legal proceedings.
func (s *Service) SuspendDispute(ctx context.Context, req *connect.Request[disputev1.SuspendDisputeRequest]) (*connect.Response[disputev1.SuspendDisputeResponse], error) {
	return run(ctx, s, req, func(tx *ent.Tx, p auth.Principal, now time.Time) (*disputev1.SuspendDisputeResponse, error) {
		m := req.Msg
		l, err := loadParty(ctx, tx, p, "suspend disputes", m.GetId(), m.GetEtag())
		if err != nil {
			return nil, err
		}
		d := l.d
		if err := suspend.CheckAt(l, now); err != nil {
			return nil, err
		}
		evidence := stamp(m.GetEvidence(), p, now)
		d.Evidence = append(d.Evidence, evidence...)
		requested := []*commonv1.Party{p.Party()}
		if m.GetReason() == disputev1.Suspension_REASON_LEGAL_PROCEEDINGS {
			if m.GetNote() == "" {
				return nil, apierr.Invalid("note", "name the court or police proceedings, for example the court and case number")
			}
		} else {
			var other *commonv1.Party
			for _, r := range d.GetPrivateSettlementRequests() {
				if r.GetAccountId() == p.AccountID {
					return nil, apierr.Precondition(commonv1.ErrorReason_ERROR_REASON_ALREADY_OPEN,
						"you already asked to settle privately; the dispute is suspended when the other party asks too")
				}
				other = r
			}
			if other == nil {
				d.PrivateSettlementRequests = append(d.PrivateSettlementRequests, p.Party())
				out, err := s.commit(ctx, tx, l, nil, p, now, step{
					kind: disputev1.TimelineEntry_KIND_PRIVATE_SETTLEMENT_REQUESTED, event: "private_settlement_requested",
					evidence: evidence, fields: []string{"private_settlement_requests"},
					desc: fmt.Sprintf("The %s asked to settle privately; the dispute is suspended when the other party asks too. %s",
						auth.RoleName(p.Role), m.GetNote()),
				})
				if err != nil {
					return nil, err
				}
				return &disputev1.SuspendDisputeResponse{Dispute: out}, nil
			}
			requested = []*commonv1.Party{other, p.Party()}
		}
		sus := &disputev1.Suspension{
			Reason: m.GetReason(), RequestedBy: requested, Note: m.GetNote(), SuspendTime: ts(now), ResumeState: d.GetState(),
		}
		if d.GetState() == disputev1.Dispute_STATE_AWAITING_RESPONSE {
			sus.SupplierResponseRemaining = remaining(d.GetSupplierResponseDeadline(), d.SupplierResponseDeadline != nil, now)
		}
		sus.EscalationAllowedRemaining = remaining(d.GetEscalationAllowedTime(), d.EscalationAllowedTime != nil, now)
		if d.GetState() != disputev1.Dispute_STATE_ESCALATED {
			sus.AutoEscalationRemaining = remaining(d.GetAutoEscalationTime(), d.AutoEscalationTime != nil, now)
		}
		for _, r := range d.GetEvidenceRequests() {
			if !r.GetFulfilled() && !r.GetOverdue() {
				r.RemainingWhenSuspended = remaining(r.GetDueTime(), true, now)
			}
		}
		d.Suspension, d.PrivateSettlementRequests = sus, nil
		if err := deadline.Suspend(ctx, tx, subjectType, d.GetId(), now); err != nil {
			return nil, err
		}
		out, err := s.commit(ctx, tx, l, suspend, p, now, step{
			kind: disputev1.TimelineEntry_KIND_SUSPENDED, event: "suspended", evidence: evidence,
			fields: []string{"state", "suspension"},
			desc:   fmt.Sprintf("The dispute is suspended (%s); its deadlines are stopped. %s", describe.Enum(m.GetReason()), m.GetNote()),
		})
		if err != nil {
			return nil, err
		}
		return &disputev1.SuspendDisputeResponse{Dispute: out}, nil
	})
}

// ResumeDispute resumes a suspended dispute with the time its deadlines had left.
func (s *Service) ResumeDispute(ctx context.Context, req *connect.Request[disputev1.ResumeDisputeRequest]) (*connect.Response[disputev1.ResumeDisputeResponse], error) {
	return run(ctx, s, req, func(tx *ent.Tx, p auth.Principal, now time.Time) (*disputev1.ResumeDisputeResponse, error) {
		m := req.Msg
		if err := p.RequireRole("resume disputes", commonv1.Role_ROLE_BUYER, commonv1.Role_ROLE_SUPPLIER, commonv1.Role_ROLE_ARBITER); err != nil {
			return nil, err
		}
		l, err := load(ctx, tx, p, m.GetId(), m.GetEtag())
		if err != nil {
			return nil, err
		}
		d := l.d
		if err := resume.CheckAt(l, now); err != nil {
			return nil, err
		}
		sus := d.GetSuspension()
		restore := func(left interface{ AsDuration() time.Duration }, ok bool) *time.Time {
			if !ok {
				return nil
			}
			t := now.Add(left.AsDuration())
			return &t
		}
		if t := restore(sus.GetSupplierResponseRemaining(), sus.SupplierResponseRemaining != nil); t != nil {
			d.SupplierResponseDeadline = ts(*t)
		}
		if t := restore(sus.GetEscalationAllowedRemaining(), sus.EscalationAllowedRemaining != nil); t != nil {
			d.EscalationAllowedTime = ts(*t)
		}
		if t := restore(sus.GetAutoEscalationRemaining(), sus.AutoEscalationRemaining != nil); t != nil {
			d.AutoEscalationTime = ts(*t)
		}
		for _, r := range d.GetEvidenceRequests() {
			if r.RemainingWhenSuspended != nil {
				r.DueTime, r.RemainingWhenSuspended = ts(now.Add(r.GetRemainingWhenSuspended().AsDuration())), nil
			}
		}
		if err := deadline.Resume(ctx, tx, subjectType, d.GetId(), now); err != nil {
			return nil, err
		}
		out, err := s.commit(ctx, tx, l, resume, p, now, step{
			kind: disputev1.TimelineEntry_KIND_RESUMED, event: "resumed", fields: []string{"state", "suspension"},
			desc: fmt.Sprintf("The %s resumed the dispute; its deadlines run again with the time they had left. %s",
				auth.RoleName(p.Role), m.GetNote()),
		})
		if err != nil {
			return nil, err
		}
		// Requests fulfilled during the suspension no longer set the evidence deadline; it follows the
		// earliest request still waiting, now that the commit has moved the dispute out of SUSPENDED.
		if err := scheduleEvidenceDue(ctx, tx, out, now); err != nil {
			return nil, err
		}
		return &disputev1.ResumeDisputeResponse{Dispute: out}, nil
	})
}
