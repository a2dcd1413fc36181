// Package complaint implements ComplaintService. Its behaviour lands with its own issue; until then every call answers
// UNIMPLEMENTED.
package complaint

import (
	"github.com/tradeassure/tradeassure/gen/go/tradeassure/complaint/v1/complaintv1connect"
	"github.com/tradeassure/tradeassure/server/deps"
)

var _ complaintv1connect.ComplaintServiceHandler = (*Service)(nil)

// Service implements ComplaintService.
type Service struct {
	complaintv1connect.UnimplementedComplaintServiceHandler
	deps deps.Deps
}

// New returns the service.
func New(d deps.Deps) *Service { return &Service{deps: d} }
