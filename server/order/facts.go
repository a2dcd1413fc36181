package order

import (
	"context"
	"fmt"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/tradeassure/tradeassure/ent"
	entorder "github.com/tradeassure/tradeassure/ent/order"
	commonv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/common/v1"
	orderv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/order/v1"
	"github.com/tradeassure/tradeassure/server/policy"
)

// Facts is what another domain reads of an order, so that it needs no access to the order's tables: its
// parties, its state, the policy it runs under, its terms, its money and its times.
type Facts struct {
	ID, BuyerID, SupplierID string
	// State is the order's stored state name ("draft", "completed", …), as errors show it; Stage is where
	// it stands for the after-sales rules.
	State string
	Stage Stage
	// PolicyName and PolicyVersion are the policy set the order was created under; Policy is that set.
	PolicyName    commonv1.Policy
	PolicyVersion string
	Policy        policy.Set
	Money         Money
	// ShipBy is when the supplier must have shipped; Delivered when the buyer received the goods, or nil.
	ShipBy    time.Time
	Delivered *time.Time
	// End is when the order completed or was cancelled, or nil while it is still running.
	End *time.Time
	// terms are the order's stored terms, decoded by Terms.
	terms []byte
}

// Terms decodes the order's terms: its lines, fees and delivery.
func (f Facts) Terms() (*orderv1.OrderTerms, error) {
	t := &orderv1.OrderTerms{}
	if err := proto.Unmarshal(f.terms, t); err != nil {
		return nil, fmt.Errorf("decode terms of order %s: %w", f.ID, err)
	}
	return t, nil
}

// Drafted reports whether the order is still a draft the buyer has not accepted: no transaction yet.
func (f Facts) Drafted() bool { return f.State == string(entorder.StateDraft) }

// FactsOf is the facts of a stored order.
func FactsOf(o *ent.Order) Facts {
	return Facts{
		ID: o.ID, BuyerID: o.BuyerID, SupplierID: o.SupplierID, State: stateName(o.State), Stage: StageOf(o),
		PolicyName: policyToProto[o.Policy], PolicyVersion: o.PolicyVersion, Policy: PolicyOf(o),
		Money: MoneyOf(o), ShipBy: o.ShipByTime, Delivered: o.DeliverTime, End: endOf(o), terms: o.Terms,
	}
}

// Facts reads the facts of order id within tx (Read), for the services given the order service as an
// interface.
func (s *Service) Facts(ctx context.Context, tx *ent.Tx, id string) (Facts, error) {
	return Read(ctx, tx, id)
}

// Read reads the facts of order id within tx; a missing order is ent's not-found error. Returns, disputes
// and complaints read an order only through it, once per transaction.
func Read(ctx context.Context, tx *ent.Tx, id string) (Facts, error) {
	o, err := get(ctx, tx, id)
	if err != nil {
		return Facts{}, fmt.Errorf("read order %s: %w", id, err)
	}
	return FactsOf(o), nil
}

// endOf is when the order completed or was cancelled, or nil while it is still running.
func endOf(o *ent.Order) *time.Time {
	switch o.State {
	case entorder.StateCompleted, entorder.StateClosed:
		return o.CompleteTime
	case entorder.StateCancelled:
		c := &orderv1.Cancellation{}
		if err := proto.Unmarshal(o.Cancellation, c); err == nil && c.GetCancelTime() != nil {
			t := c.GetCancelTime().AsTime()
			return &t
		}
		t := o.UpdateTime
		return &t
	}
	return nil
}
