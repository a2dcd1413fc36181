// Package payout implements PayoutService. Its behaviour lands with its own issue; until then every call answers
// UNIMPLEMENTED.
package payout

import (
	"github.com/tradeassure/tradeassure/gen/go/tradeassure/payout/v1/payoutv1connect"
	"github.com/tradeassure/tradeassure/server/deps"
)

var _ payoutv1connect.PayoutServiceHandler = (*Service)(nil)

// Service implements PayoutService.
type Service struct {
	payoutv1connect.UnimplementedPayoutServiceHandler
	deps deps.Deps
}

// New returns the service.
func New(d deps.Deps) *Service { return &Service{deps: d} }
