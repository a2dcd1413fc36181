// Package returns implements ReturnService. Its behaviour lands with its own issue; until then every call answers
// UNIMPLEMENTED.
package returns

import (
	"github.com/tradeassure/tradeassure/gen/go/tradeassure/returns/v1/returnsv1connect"
	"github.com/tradeassure/tradeassure/server/deps"
)

var _ returnsv1connect.ReturnServiceHandler = (*Service)(nil)

// Service implements ReturnService.
type Service struct {
	returnsv1connect.UnimplementedReturnServiceHandler
	deps deps.Deps
}

// New returns the service.
func New(d deps.Deps) *Service { return &Service{deps: d} }
