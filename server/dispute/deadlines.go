package dispute

import (
	"context"
	"fmt"
	"time"

	"github.com/tradeassure/tradeassure/ent"
	disputev1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/dispute/v1"
	"github.com/tradeassure/tradeassure/server/auth"
	"github.com/tradeassure/tradeassure/server/deadline"
	"github.com/tradeassure/tradeassure/server/describe"
	"github.com/tradeassure/tradeassure/server/resource"
)

// loadDue reads the dispute of a due deadline.
func loadDue(ctx context.Context, tx *ent.Tx, id string) (*loaded, error) {
	l, err := load(ctx, tx, auth.System, id, "")
	if err != nil {
		return nil, fmt.Errorf("load dispute %s of a deadline: %w", id, err)
	}
	return l, nil
}

// Register adds the dispute's deadlines to the engine: the two timers of rules.go, which run only when
// Ready, and the evidence deadline (an explicit exception, see rules.go).
func (s *Service) Register(e *deadline.Engine) {
	responseTimer.Handle(e, loadDue, s.autoGrant)
	escalationTimer.Handle(e, loadDue, s.autoEscalate)
	e.Handle(KindEvidenceDue, s.evidenceDue)
}

// autoGrant grants the buyer's request (or the chargeback) when the supplier did not respond in time.
func (s *Service) autoGrant(ctx context.Context, tx *ent.Tx, l *loaded, now time.Time) error {
	d := l.d
	d.SupplierResponse, d.SupplierResponseTime = disputev1.Dispute_SUPPLIER_RESPONSE_TIMED_OUT, ts(now)
	oc := outcome{method: disputev1.Settlement_METHOD_AUTO_GRANTED, resolution: d.GetRequestedResolution(),
		amount: d.GetRequestedRefundAmount().GetAmountMinor()}
	if o := openOffer(d); o != nil && d.GetKind() == disputev1.Dispute_KIND_STANDARD {
		o.State, o.CloseTime = disputev1.Offer_STATE_ACCEPTED, ts(now)
		oc.offerID = o.GetId()
	}
	// What is left to refund may have shrunk since the dispute opened (another refund); grant what is left,
	// within the coverage: an automatic grant is the platform's, not the supplier's agreement.
	o, err := l.orderOf(ctx, tx)
	if err != nil {
		return err
	}
	oc.amount = min(oc.amount, grantable(o))
	if oc.amount <= 0 {
		oc.amount, oc.resolution = 0, disputev1.Dispute_RESOLUTION_NO_REFUND
	}
	steps, err := s.settle(ctx, tx, l, auth.System, now, oc)
	if err != nil {
		return err
	}
	_, err = s.commit(ctx, tx, l, autoGrant, auth.System, now, append([]step{{
		kind: disputev1.TimelineEntry_KIND_AUTO_GRANTED, event: "auto_granted", offerID: oc.offerID,
		amount: resource.Money(oc.amount, o.Money.Currency), fields: []string{"state", "supplier_response", "settlement"},
		desc: fmt.Sprintf("The supplier did not respond by %s; the buyer's request (%s of %s) was granted automatically",
			d.GetSupplierResponseDeadline().AsTime().Format(time.RFC3339), describe.Enum(oc.resolution), describe.Money(oc.amount, o.Money.Currency)),
	}}, steps...)...)
	return err
}

// autoEscalate escalates a trade-assurance dispute still negotiating on day 8.
func (s *Service) autoEscalate(ctx context.Context, tx *ent.Tx, l *loaded, now time.Time) error {
	d := l.d
	escalate(d, auth.System, now)
	_, err := s.commit(ctx, tx, l, autoEscalate, auth.System, now, step{
		kind: disputev1.TimelineEntry_KIND_AUTO_ESCALATED, event: "auto_escalated",
		fields: []string{"state", "escalated_by", "escalate_time"},
		desc:   "Escalated to the platform automatically on day 8: the parties had not settled",
	})
	return err
}

// evidenceDue marks the arbiter's evidence requests overdue whose due time passed unfulfilled; each then
// counts against its party.
func (s *Service) evidenceDue(ctx context.Context, tx *ent.Tx, dl *ent.Deadline, now time.Time) error {
	l, err := loadDue(ctx, tx, dl.SubjectID)
	if err != nil {
		return err
	}
	d := l.d
	if terminal(d.GetState()) || d.GetState() == disputev1.Dispute_STATE_SUSPENDED {
		return deadline.ErrStale
	}
	var steps []step
	for _, r := range d.GetEvidenceRequests() {
		if r.GetFulfilled() || r.GetOverdue() || now.Before(r.GetDueTime().AsTime()) {
			continue
		}
		r.Overdue = true
		steps = append(steps, step{
			kind: disputev1.TimelineEntry_KIND_EVIDENCE_OVERDUE, event: "evidence_overdue", reqID: r.GetId(),
			fields: []string{"evidence_requests"},
			desc: fmt.Sprintf("The %s did not submit the evidence requested by %s; this counts against it",
				roleWord(r.GetRequestedFrom().GetRole().String()), r.GetDueTime().AsTime().Format(time.RFC3339)),
		})
	}
	if len(steps) == 0 {
		return deadline.ErrStale
	}
	if err := scheduleEvidenceDue(ctx, tx, d, now); err != nil {
		return err
	}
	_, err = s.commit(ctx, tx, l, nil, auth.System, now, steps...)
	return err
}

func roleWord(role string) string {
	if role == "ROLE_SUPPLIER" {
		return "supplier"
	}
	return "buyer"
}
