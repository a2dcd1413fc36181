// Package aftersales is the contract between the returns and disputes services, which each need the other
// (a dispute's return-and-refund starts a return; a supplier's dispute about returned goods opens a
// dispute; that dispute's end settles the return; an order has one case at a time) but must not import
// each other. Returns is what the disputes service may ask of returns, Disputes what the returns service
// may ask of disputes. returns.New builds the disputes service with itself as its Returns, so each is
// constructed with the other and neither is ever without it.
package aftersales

import (
	"context"
	"fmt"
	"time"

	"github.com/tradeassure/tradeassure/ent"
	commonv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/common/v1"
	"github.com/tradeassure/tradeassure/server/apierr"
	"github.com/tradeassure/tradeassure/server/auth"
)

// Returns is the returns service as the disputes service uses it.
type Returns interface {
	ReturnStarter
	ReturnDisputeResolver
	Cases
}

// Disputes is the disputes service as the returns service uses it.
type Disputes interface {
	DisputeOpener
	Cases
}

// Cases finds an order's open after-sales case of one kind: a return or a dispute still running, by the
// open states of its service's transition table.
type Cases interface {
	// CaseKind names the kind of case ("return", "dispute").
	CaseKind() string
	// OpenCase is the id of an open case of the order within tx, or "".
	OpenCase(ctx context.Context, tx *ent.Tx, orderID string) (string, error)
}

// OneCase is the one-case-per-order rule: an order has one after-sales case at a time, so a return and a
// dispute cannot claim the same goods or money (a dispute that needs the goods back starts its own return,
// and a supplier's report about returned goods opens its own dispute; neither goes through this check).
// It refuses to start a case while other has one open on the order; then says what can be done once it
// ends ("a return can be requested").
func OneCase(ctx context.Context, tx *ent.Tx, orderID string, other Cases, then string) error {
	id, err := other.OpenCase(ctx, tx, orderID)
	if err != nil {
		return fmt.Errorf("look for open %ss of order %s: %w", other.CaseKind(), orderID, err)
	}
	if id == "" {
		return nil
	}
	return apierr.Precondition(commonv1.ErrorReason_ERROR_REASON_ALREADY_OPEN,
		"%s %s of order %s is still open; %s once it ends", other.CaseKind(), id, orderID, then).
		With(other.CaseKind()+"_id", id)
}

// ReturnForDispute is a return started by a dispute settled or ruled as "return and refund".
type ReturnForDispute struct {
	OrderID   string
	DisputeID string
	// RefundMinor is the refund agreed in the dispute, paid when the supplier confirms the goods came back
	// (or automatically when it does not answer in time).
	RefundMinor int64
	Actor       auth.Principal
	Now         time.Time
}

// ReturnStarter starts returns on behalf of disputes. The returns service implements it.
type ReturnStarter interface {
	StartReturnForDispute(ctx context.Context, tx *ent.Tx, r ReturnForDispute) (returnID string, err error)
}

// ReturnedGoodsDispute is a supplier's dispute about goods that came back damaged or short.
type ReturnedGoodsDispute struct {
	OrderID    string
	ReturnID   string
	SupplierID string
	// ClaimMinor is how much of the return's refund the supplier contests.
	ClaimMinor int64
	Statement  string
	Evidence   []*commonv1.Evidence
	Now        time.Time
}

// DisputeOpener opens disputes on behalf of returns. The disputes service implements it.
type DisputeOpener interface {
	OpenReturnedGoodsDispute(ctx context.Context, tx *ent.Tx, d ReturnedGoodsDispute) (disputeID string, err error)
}

// ReturnDisputeOutcome is how a dispute about returned goods ended.
type ReturnDisputeOutcome struct {
	ReturnID  string
	DisputeID string
	// RefundMinor is what the buyer is refunded for the return after the ruling.
	RefundMinor int64
	Actor       auth.Principal
	Now         time.Time
}

// ReturnDisputeResolver settles a return when the dispute about its goods ends. The returns service
// implements it.
type ReturnDisputeResolver interface {
	ResolveReturnDispute(ctx context.Context, tx *ent.Tx, o ReturnDisputeOutcome) error
}
