package dispute

import (
	"context"
	"fmt"

	"connectrpc.com/connect"

	"github.com/tradeassure/tradeassure/ent"
	entdispute "github.com/tradeassure/tradeassure/ent/dispute"
	commonv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/common/v1"
	disputev1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/dispute/v1"
	"github.com/tradeassure/tradeassure/server/apierr"
	"github.com/tradeassure/tradeassure/server/auth"
	"github.com/tradeassure/tradeassure/server/order"
)

// GetSupplierMetrics returns a supplier's dispute figures, computed from its orders and disputes.
func (s *Service) GetSupplierMetrics(ctx context.Context, req *connect.Request[disputev1.GetSupplierMetricsRequest]) (*connect.Response[disputev1.GetSupplierMetricsResponse], error) {
	p := auth.FromContext(ctx)
	id := req.Msg.GetSupplierAccountId()
	switch p.Role {
	case commonv1.Role_ROLE_ARBITER, commonv1.Role_ROLE_OPERATOR:
	case commonv1.Role_ROLE_SUPPLIER:
		if p.AccountID != id {
			return nil, apierr.NotFound("supplier", id)
		}
	default:
		return nil, apierr.RoleNotAllowed("read supplier metrics", p.Role)
	}
	c := s.store.Client
	a, err := c.Account.Get(ctx, id)
	if ent.IsNotFound(err) || (err == nil && a.Role.String() != "supplier") {
		return nil, apierr.NotFound("supplier", id)
	}
	if err != nil {
		return nil, fmt.Errorf("read supplier %s: %w", id, err)
	}
	count := func(what string, q interface {
		Count(context.Context) (int, error)
	}) (int64, error) {
		n, err := q.Count(ctx)
		if err != nil {
			return 0, fmt.Errorf("count %s of supplier %s: %w", what, id, err)
		}
		return int64(n), nil
	}
	m := &disputev1.SupplierMetrics{SupplierAccountId: id, ComputeTime: ts(s.clock.Now())}
	mine := entdispute.SupplierID(id)
	for _, f := range []struct {
		what string
		q    interface {
			Count(context.Context) (int, error)
		}
		to *int64
	}{
		{"orders", order.PaidOrdersOf(c, id), &m.OrderCount},
		{"disputes", c.Dispute.Query().Where(mine), &m.DisputeCount},
		{"seller-responsible disputes", c.Dispute.Query().Where(mine,
			entdispute.Responsibility(disputev1.Dispute_RESPONSIBILITY_SUPPLIER.String())), &m.SellerResponsibilityCount},
		{"escalated disputes", c.Dispute.Query().Where(mine, entdispute.Escalated(true)), &m.EscalatedCount},
		{"open disputes", c.Dispute.Query().Where(mine, entdispute.OpenOrderIDNotNil()), &m.OpenDisputeCount},
		{"chargebacks", c.Dispute.Query().Where(mine, entdispute.KindEQ(entdispute.KindChargeback)), &m.ChargebackCount},
	} {
		if *f.to, err = count(f.what, f.q); err != nil {
			return nil, err
		}
	}
	if m.OrderCount > 0 {
		m.DisputeRate = min(1, float64(m.DisputeCount)/float64(m.OrderCount))
		m.SellerResponsibilityRate = min(1, float64(m.SellerResponsibilityCount)/float64(m.OrderCount))
	}
	if m.DisputeCount > 0 {
		m.EscalatedShare = float64(m.EscalatedCount) / float64(m.DisputeCount)
	}
	return connect.NewResponse(&disputev1.GetSupplierMetricsResponse{Metrics: m}), nil
}
