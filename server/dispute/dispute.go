// Package dispute implements DisputeService. Its behaviour lands with its own issue; until then every call answers
// UNIMPLEMENTED.
package dispute

import (
	"github.com/tradeassure/tradeassure/gen/go/tradeassure/dispute/v1/disputev1connect"
	"github.com/tradeassure/tradeassure/server/deps"
)

var _ disputev1connect.DisputeServiceHandler = (*Service)(nil)

// Service implements DisputeService.
type Service struct {
	disputev1connect.UnimplementedDisputeServiceHandler
	deps deps.Deps
}

// New returns the service.
func New(d deps.Deps) *Service { return &Service{deps: d} }
