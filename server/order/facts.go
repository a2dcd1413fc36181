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
// parties, its state, the policy it runs under, its money and when it ended.
type Facts struct {
	ID, BuyerID, SupplierID string
	// State is the order's stored state name ("draft", "completed", …), as errors show it.
	State string
	// PolicyName and PolicyVersion are the policy set the order was created under; Policy is that set.
	PolicyName    commonv1.Policy
	PolicyVersion string
	Policy        policy.Set
	Money         Money
	// End is when the order completed or was cancelled, or nil while it is still running.
	End *time.Time
}

// Drafted reports whether the order is still a draft the buyer has not accepted: no transaction yet.
func (f Facts) Drafted() bool { return f.State == string(entorder.StateDraft) }

// FactsOf is the facts of a stored order.
func FactsOf(o *ent.Order) Facts {
	return Facts{
		ID: o.ID, BuyerID: o.BuyerID, SupplierID: o.SupplierID, State: stateName(o.State),
		PolicyName: policyToProto[o.Policy], PolicyVersion: o.PolicyVersion, Policy: PolicyOf(o),
		Money: MoneyOf(o), End: endOf(o),
	}
}

// Facts reads the facts of order id within tx; a missing order is ent's not-found error.
func (s *Service) Facts(ctx context.Context, tx *ent.Tx, id string) (Facts, error) {
	o, err := tx.Order.Get(ctx, id)
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
