// Package aftersales holds the hand-offs between the returns and disputes services, which each need the
// other (a dispute's return-and-refund starts a return; a supplier's dispute about returned goods opens a
// dispute; that dispute's end settles the return) but must not import each other. server.New wires each
// service into the other through these interfaces.
package aftersales

import (
	"context"
	"time"

	"github.com/tradeassure/tradeassure/ent"
	commonv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/common/v1"
	"github.com/tradeassure/tradeassure/server/auth"
)

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
