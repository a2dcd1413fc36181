package order

import (
	"context"
	"fmt"
	"time"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/tradeassure/tradeassure/ent"
	entorder "github.com/tradeassure/tradeassure/ent/order"
	"github.com/tradeassure/tradeassure/ent/orderrevision"
	"github.com/tradeassure/tradeassure/ent/product"
	commonv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/common/v1"
	orderv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/order/v1"
	"github.com/tradeassure/tradeassure/server/apierr"
	"github.com/tradeassure/tradeassure/server/auth"
	"github.com/tradeassure/tradeassure/server/pagination"
	"github.com/tradeassure/tradeassure/server/resource"
)

// setTerms stores new terms and their amounts.
func setTerms(u *ent.OrderMutation, terms *orderv1.OrderTerms, a amounts) {
	u.SetTerms(resource.Marshal(terms))
	u.SetGoodsMinor(a.goods)
	u.SetTotalMinor(a.total)
	u.SetAdvanceMinor(a.advance)
	u.SetTotalUsdMinor(a.totalUSD)
	u.SetCoveredMinor(a.covered)
	u.SetRequiresExportAgent(a.requiresExportAgent)
	u.SetShipByTime(terms.GetShipByTime().AsTime())
}

func orderTerms(o *ent.Order) *orderv1.OrderTerms {
	t := &orderv1.OrderTerms{}
	if err := proto.Unmarshal(o.Terms, t); err != nil {
		panic(fmt.Sprintf("order %s has unreadable terms: %v", o.ID, err))
	}
	return t
}

// UpdateOrder replaces the terms of a draft and re-sends it to the buyer.
func (s *Service) UpdateOrder(ctx context.Context, req *connect.Request[orderv1.UpdateOrderRequest]) (*connect.Response[orderv1.UpdateOrderResponse], error) {
	return run(ctx, s, req, func(tx *ent.Tx, p auth.Principal, now time.Time) (*orderv1.UpdateOrderResponse, error) {
		o, err := load(ctx, tx, p, req.Msg.GetOrderId(), req.Msg.GetEtag())
		if err != nil {
			return nil, err
		}
		if err := p.RequireRole("edit a draft (the buyer may request changes instead)", commonv1.Role_ROLE_SUPPLIER); err != nil {
			return nil, err
		}
		if err := editDraft.CheckAt(o, now); err != nil {
			return nil, err
		}
		terms := req.Msg.GetTerms()
		a, err := checkTerms(ctx, tx, terms, p.Account, PolicyOf(o), RatesOf(o), now)
		if err != nil {
			return nil, err
		}
		pb, err := s.commit(ctx, tx, o, change{event: "draft_updated", actor: p, now: now, set: func(u *ent.OrderMutation) {
			setTerms(u, terms, a)
			u.SetAwaitingSupplier(false)
			u.SetBuyerChangeRequest("")
		}})
		if err != nil {
			return nil, err
		}
		return &orderv1.UpdateOrderResponse{Order: pb}, nil
	})
}

// RequestDraftChanges records the buyer's request for changes to a draft.
func (s *Service) RequestDraftChanges(ctx context.Context, req *connect.Request[orderv1.RequestDraftChangesRequest]) (*connect.Response[orderv1.RequestDraftChangesResponse], error) {
	return run(ctx, s, req, func(tx *ent.Tx, p auth.Principal, now time.Time) (*orderv1.RequestDraftChangesResponse, error) {
		o, err := load(ctx, tx, p, req.Msg.GetOrderId(), req.Msg.GetEtag())
		if err != nil {
			return nil, err
		}
		if err := p.RequireRole("request changes to a draft", commonv1.Role_ROLE_BUYER); err != nil {
			return nil, err
		}
		if err := requestChanges.CheckAt(o, now); err != nil {
			return nil, err
		}
		pb, err := s.commit(ctx, tx, o, change{event: "changes_requested", actor: p, now: now, set: func(u *ent.OrderMutation) {
			u.SetBuyerChangeRequest(req.Msg.GetNote())
		}})
		if err != nil {
			return nil, err
		}
		return &orderv1.RequestDraftChangesResponse{Order: pb}, nil
	})
}

// AcceptOrder is the buyer accepting a draft's terms.
func (s *Service) AcceptOrder(ctx context.Context, req *connect.Request[orderv1.AcceptOrderRequest]) (*connect.Response[orderv1.AcceptOrderResponse], error) {
	return run(ctx, s, req, func(tx *ent.Tx, p auth.Principal, now time.Time) (*orderv1.AcceptOrderResponse, error) {
		o, err := load(ctx, tx, p, req.Msg.GetOrderId(), req.Msg.GetEtag())
		if err != nil {
			return nil, err
		}
		if err := p.RequireRole("accept an order", commonv1.Role_ROLE_BUYER); err != nil {
			return nil, err
		}
		if err := p.RequireTrading("accept orders", now); err != nil {
			return nil, err
		}
		if err := acceptOrder.CheckAt(o, now); err != nil {
			return nil, err
		}
		if o.AwaitingSupplier {
			return nil, apierr.Precondition(commonv1.ErrorReason_ERROR_REASON_ILLEGAL_STATE,
				"order %s is a requested draft the supplier has not completed yet", o.ID)
		}
		// The supplier's limit or export capability may have changed since the draft was written.
		supplier, err := tx.Account.Get(ctx, o.SupplierID)
		if err != nil {
			return nil, err
		}
		terms := orderTerms(o)
		if _, err := checkTerms(ctx, tx, terms, supplier, PolicyOf(o), RatesOf(o), now); err != nil {
			return nil, err
		}
		pb, err := s.commit(ctx, tx, o, change{event: "accepted", actor: p, now: now, step: acceptOrder, set: func(u *ent.OrderMutation) {
			u.SetBuyerChangeRequest("")
		}})
		if err != nil {
			return nil, err
		}
		return &orderv1.AcceptOrderResponse{Order: pb}, nil
	})
}

// isParty reports whether p is the order's buyer or supplier.
func isParty(p auth.Principal, o *ent.Order) bool {
	return (p.Role == commonv1.Role_ROLE_BUYER && o.BuyerID == p.AccountID) ||
		(p.Role == commonv1.Role_ROLE_SUPPLIER && o.SupplierID == p.AccountID)
}

// ProposeOrderChange proposes new terms for a confirmed order that has not shipped.
func (s *Service) ProposeOrderChange(ctx context.Context, req *connect.Request[orderv1.ProposeOrderChangeRequest]) (*connect.Response[orderv1.ProposeOrderChangeResponse], error) {
	return run(ctx, s, req, func(tx *ent.Tx, p auth.Principal, now time.Time) (*orderv1.ProposeOrderChangeResponse, error) {
		o, err := load(ctx, tx, p, req.Msg.GetOrderId(), req.Msg.GetEtag())
		if err != nil {
			return nil, err
		}
		if !isParty(p, o) {
			return nil, apierr.RoleNotAllowed("propose changes to an order it is not a party to", p.Role)
		}
		if o.State == entorder.StateDraft {
			return nil, apierr.IllegalState("order", o.ID, "propose a change to (edit the draft, or request changes to it)", "draft")
		}
		if err := proposeChange.CheckAt(o, now); err != nil {
			return nil, err
		}
		if o.PaymentPending {
			return nil, errPaymentPending(o.ID)
		}
		if len(o.PendingChange) > 0 {
			return nil, apierr.Precondition(commonv1.ErrorReason_ERROR_REASON_CHANGE_PROPOSAL_CONFLICT,
				"order %s already has an open change proposal; accept, reject or withdraw it first", o.ID)
		}
		terms := req.Msg.GetTerms()
		if _, err := s.checkChange(ctx, tx, o, terms, now); err != nil {
			return nil, err
		}
		prop := &orderv1.ChangeProposal{
			Id: resource.ID("chg_"), ProposedBy: p.Party(), Terms: terms, Note: req.Msg.GetNote(), ProposeTime: timestamppb.New(now),
		}
		pb, err := s.commit(ctx, tx, o, change{event: "change_proposed", actor: p, now: now, set: func(u *ent.OrderMutation) {
			u.SetPendingChange(resource.Marshal(prop))
		}})
		if err != nil {
			return nil, err
		}
		return &orderv1.ProposeOrderChangeResponse{Order: pb}, nil
	})
}

// checkChange applies the drafting rules to changed terms of a confirmed order, plus the rules that protect
// money already paid.
func (s *Service) checkChange(ctx context.Context, tx *ent.Tx, o *ent.Order, terms *orderv1.OrderTerms, now time.Time) (amounts, error) {
	if terms.GetCurrency() != o.Currency {
		return amounts{}, apierr.InvalidWith(commonv1.ErrorReason_ERROR_REASON_CURRENCY_MISMATCH, "terms.currency",
			"the currency of a confirmed order cannot change from %s", o.Currency)
	}
	supplier, err := tx.Account.Get(ctx, o.SupplierID)
	if err != nil {
		return amounts{}, err
	}
	a, err := checkTerms(ctx, tx, terms, supplier, PolicyOf(o), RatesOf(o), now)
	if err != nil {
		return a, err
	}
	switch o.State {
	case entorder.StateAdvancePaid:
		if terms.GetPaymentTerms().GetKind() != orderv1.PaymentTerms_KIND_ADVANCE_BALANCE || a.advance != o.PaidMinor {
			return a, apierr.InvalidWith(commonv1.ErrorReason_ERROR_REASON_INVALID_ADVANCE, "terms.payment_terms",
				"the advance of %d has been paid; the payment terms must keep an advance of exactly that", o.PaidMinor)
		}
	case entorder.StatePaid:
		if a.total != o.PaidMinor {
			return a, apierr.InvalidWith(commonv1.ErrorReason_ERROR_REASON_AMOUNT_EXCEEDS_PAID, "terms",
				"order %s is paid in full (%d); a change must keep the total at what was paid", o.ID, o.PaidMinor)
		}
	}
	return a, nil
}

// pendingChange returns the open proposal, checking it is the one named.
func pendingChange(o *ent.Order, id string) (*orderv1.ChangeProposal, error) {
	if len(o.PendingChange) == 0 {
		return nil, apierr.Precondition(commonv1.ErrorReason_ERROR_REASON_CHANGE_PROPOSAL_CONFLICT,
			"order %s has no open change proposal", o.ID)
	}
	prop := &orderv1.ChangeProposal{}
	if err := proto.Unmarshal(o.PendingChange, prop); err != nil {
		return nil, err
	}
	if prop.GetId() != id {
		return nil, apierr.Precondition(commonv1.ErrorReason_ERROR_REASON_CHANGE_PROPOSAL_CONFLICT,
			"proposal %s is not the open proposal of order %s (that is %s)", id, o.ID, prop.GetId()).With("open_proposal_id", prop.GetId())
	}
	return prop, nil
}

// AcceptOrderChange applies the open proposal, accepted by the other party.
func (s *Service) AcceptOrderChange(ctx context.Context, req *connect.Request[orderv1.AcceptOrderChangeRequest]) (*connect.Response[orderv1.AcceptOrderChangeResponse], error) {
	return run(ctx, s, req, func(tx *ent.Tx, p auth.Principal, now time.Time) (*orderv1.AcceptOrderChangeResponse, error) {
		o, err := load(ctx, tx, p, req.Msg.GetOrderId(), req.Msg.GetEtag())
		if err != nil {
			return nil, err
		}
		if !isParty(p, o) {
			return nil, apierr.RoleNotAllowed("accept changes to an order it is not a party to", p.Role)
		}
		if err := acceptChange.CheckAt(o, now); err != nil {
			return nil, err
		}
		if o.PaymentPending {
			return nil, errPaymentPending(o.ID)
		}
		prop, err := pendingChange(o, req.Msg.GetProposalId())
		if err != nil {
			return nil, err
		}
		if prop.GetProposedBy().GetAccountId() == p.AccountID {
			return nil, apierr.New(connect.CodePermissionDenied, commonv1.ErrorReason_ERROR_REASON_OWN_PROPOSAL,
				"a party cannot accept its own proposal; the other party must")
		}
		a, err := s.checkChange(ctx, tx, o, prop.GetTerms(), now)
		if err != nil {
			return nil, err
		}
		pb, err := s.commit(ctx, tx, o, change{event: "change_accepted", actor: p, now: now, set: func(u *ent.OrderMutation) {
			setTerms(u, prop.GetTerms(), a)
			u.ClearPendingChange()
		}})
		if err != nil {
			return nil, err
		}
		return &orderv1.AcceptOrderChangeResponse{Order: pb}, nil
	})
}

// RejectOrderChange declines (other party) or withdraws (proposer) the open proposal.
func (s *Service) RejectOrderChange(ctx context.Context, req *connect.Request[orderv1.RejectOrderChangeRequest]) (*connect.Response[orderv1.RejectOrderChangeResponse], error) {
	return run(ctx, s, req, func(tx *ent.Tx, p auth.Principal, now time.Time) (*orderv1.RejectOrderChangeResponse, error) {
		o, err := load(ctx, tx, p, req.Msg.GetOrderId(), req.Msg.GetEtag())
		if err != nil {
			return nil, err
		}
		if !isParty(p, o) {
			return nil, apierr.RoleNotAllowed("reject changes to an order it is not a party to", p.Role)
		}
		prop, err := pendingChange(o, req.Msg.GetProposalId())
		if err != nil {
			return nil, err
		}
		ev := "change_rejected"
		if prop.GetProposedBy().GetAccountId() == p.AccountID {
			ev = "change_withdrawn"
		}
		pb, err := s.commit(ctx, tx, o, change{event: ev, actor: p, now: now, set: func(u *ent.OrderMutation) {
			u.ClearPendingChange()
		}})
		if err != nil {
			return nil, err
		}
		return &orderv1.RejectOrderChangeResponse{Order: pb}, nil
	})
}

// ChangeLogisticsProvider changes the logistics provider before shipment (buyer only).
func (s *Service) ChangeLogisticsProvider(ctx context.Context, req *connect.Request[orderv1.ChangeLogisticsProviderRequest]) (*connect.Response[orderv1.ChangeLogisticsProviderResponse], error) {
	return run(ctx, s, req, func(tx *ent.Tx, p auth.Principal, now time.Time) (*orderv1.ChangeLogisticsProviderResponse, error) {
		o, err := load(ctx, tx, p, req.Msg.GetOrderId(), req.Msg.GetEtag())
		if err != nil {
			return nil, err
		}
		if err := p.RequireRole("change the logistics provider", commonv1.Role_ROLE_BUYER); err != nil {
			return nil, err
		}
		if err := changeLogistics.CheckAt(o, now); err != nil {
			if o.State != entorder.StateCancelled {
				return nil, apierr.Precondition(commonv1.ErrorReason_ERROR_REASON_ALREADY_SHIPPED,
					"order %s has shipped; the logistics provider can only change before shipment", o.ID).With("state", stateName(o.State))
			}
			return nil, err
		}
		if o.PaymentPending {
			return nil, errPaymentPending(o.ID)
		}
		terms := orderTerms(o)
		terms.LogisticsProvider = req.Msg.GetLogisticsProvider()
		pb, err := s.commit(ctx, tx, o, change{event: "logistics_changed", actor: p, now: now, set: func(u *ent.OrderMutation) {
			u.SetTerms(resource.Marshal(terms))
		}})
		if err != nil {
			return nil, err
		}
		return &orderv1.ChangeLogisticsProviderResponse{Order: pb}, nil
	})
}

// CancelOrder cancels an order before shipment and refunds everything paid.
func (s *Service) CancelOrder(ctx context.Context, req *connect.Request[orderv1.CancelOrderRequest]) (*connect.Response[orderv1.CancelOrderResponse], error) {
	return run(ctx, s, req, func(tx *ent.Tx, p auth.Principal, now time.Time) (*orderv1.CancelOrderResponse, error) {
		o, err := load(ctx, tx, p, req.Msg.GetOrderId(), req.Msg.GetEtag())
		if err != nil {
			return nil, err
		}
		if !isParty(p, o) {
			return nil, apierr.RoleNotAllowed("cancel an order it is not a party to", p.Role)
		}
		if err := cancelOrder.CheckAt(o, now); err != nil {
			return nil, err
		}
		if o.PaymentPending {
			return nil, errPaymentPending(o.ID)
		}
		reason := req.Msg.GetReason()
		switch {
		case p.Role == commonv1.Role_ROLE_SUPPLIER && reason != orderv1.CancellationReason_CANCELLATION_REASON_SUPPLIER:
			return nil, apierr.InvalidWith(commonv1.ErrorReason_ERROR_REASON_CANCELLATION_NOT_ALLOWED, "reason",
				"a supplier's cancellation is always for a supplier reason (it counts as sold-not-shipped)")
		case p.Role == commonv1.Role_ROLE_BUYER && reason == orderv1.CancellationReason_CANCELLATION_REASON_SUPPLIER &&
			!now.After(o.ShipByTime):
			return nil, apierr.Precondition(commonv1.ErrorReason_ERROR_REASON_CANCELLATION_NOT_ALLOWED,
				"a buyer may cancel for a supplier reason only after the ship-by time %s; cancel for your own reason instead",
				o.ShipByTime.UTC().Format(time.RFC3339)).With("ship_by_time", o.ShipByTime.UTC().Format(time.RFC3339))
		}
		canc := &orderv1.Cancellation{
			Reason: reason, CancelledBy: p.Party(), Note: req.Msg.GetNote(), CancelTime: timestamppb.New(now),
			Refund: resource.Money(o.PaidMinor, o.Currency),
		}
		supplierReason := reason == orderv1.CancellationReason_CANCELLATION_REASON_SUPPLIER
		if supplierReason && o.State != entorder.StateDraft {
			if err := s.countSoldNotShipped(ctx, tx, o, now); err != nil {
				return nil, err
			}
		}
		refund, err := refundAll(ctx, tx, o, now)
		if err != nil {
			return nil, err
		}
		canc.Refund = resource.Money(refund, o.Currency)
		pb, err := s.commit(ctx, tx, o, change{event: "cancelled", actor: p, now: now, step: cancelOrder, set: func(u *ent.OrderMutation) {
			u.SetCancellation(resource.Marshal(canc))
			u.ClearPendingChange()
			u.AddRefundedMinor(refund)
		}})
		if err != nil {
			return nil, err
		}
		return &orderv1.CancelOrderResponse{Order: pb}, nil
	})
}

// countSoldNotShipped adds a supplier-reason cancellation to the supplier's metrics and freezes the
// account when the count reaches the policy's threshold.
func (s *Service) countSoldNotShipped(ctx context.Context, tx *ent.Tx, o *ent.Order, now time.Time) error {
	sup, err := tx.Account.UpdateOneID(o.SupplierID).AddSoldNotShippedCount(1).SetUpdateTime(now).Save(ctx)
	if err != nil {
		return fmt.Errorf("count sold-not-shipped: %w", err)
	}
	if limit := PolicyOf(o).SoldNotShippedFreeze; limit > 0 && sup.SoldNotShippedCount >= limit && !sup.Frozen {
		if err := tx.Account.UpdateOneID(o.SupplierID).SetFrozen(true).Exec(ctx); err != nil {
			return fmt.Errorf("freeze supplier: %w", err)
		}
	}
	return nil
}

// ShipOrder records the hand-over to the carrier.
func (s *Service) ShipOrder(ctx context.Context, req *connect.Request[orderv1.ShipOrderRequest]) (*connect.Response[orderv1.ShipOrderResponse], error) {
	return run(ctx, s, req, func(tx *ent.Tx, p auth.Principal, now time.Time) (*orderv1.ShipOrderResponse, error) {
		o, err := load(ctx, tx, p, req.Msg.GetOrderId(), req.Msg.GetEtag())
		if err != nil {
			return nil, err
		}
		if err := p.RequireRole("ship an order", commonv1.Role_ROLE_SUPPLIER); err != nil {
			return nil, err
		}
		if err := shipOrder.CheckAt(o, now); err != nil {
			return nil, err
		}
		ship := &orderv1.Shipment{
			Carrier: req.Msg.GetCarrier(), TrackingNumber: req.Msg.GetTrackingNumber(), ShipTime: timestamppb.New(now),
			ViaExportAgent: o.RequiresExportAgent,
		}
		pb, err := s.commit(ctx, tx, o, change{event: "shipped", actor: p, now: now, step: shipOrder, set: func(u *ent.OrderMutation) {
			u.SetShipment(resource.Marshal(ship))
			u.ClearPendingChange()
		}})
		if err != nil {
			return nil, err
		}
		return &orderv1.ShipOrderResponse{Order: pb}, nil
	})
}

// RecordDelivery records delivery from the carrier's tracking and starts the automatic confirmation deadline.
func (s *Service) RecordDelivery(ctx context.Context, req *connect.Request[orderv1.RecordDeliveryRequest]) (*connect.Response[orderv1.RecordDeliveryResponse], error) {
	return run(ctx, s, req, func(tx *ent.Tx, p auth.Principal, now time.Time) (*orderv1.RecordDeliveryResponse, error) {
		if err := p.RequireRole("record a delivery (carrier tracking is reported by operators or a logistics integration)", commonv1.Role_ROLE_OPERATOR); err != nil {
			return nil, err
		}
		o, err := load(ctx, tx, p, req.Msg.GetOrderId(), "")
		if err != nil {
			return nil, err
		}
		if err := deliverOrder.CheckAt(o, now); err != nil {
			return nil, err
		}
		at := now
		if req.Msg.GetDeliverTime() != nil {
			at = req.Msg.GetDeliverTime().AsTime()
			ship := &orderv1.Shipment{}
			_ = proto.Unmarshal(o.Shipment, ship)
			if at.After(now) {
				return nil, apierr.Invalid("deliver_time", "must not be in the future")
			}
			if at.Before(ship.GetShipTime().AsTime()) {
				return nil, apierr.Invalid("deliver_time", "must not be before the shipment at %s", ship.GetShipTime().AsTime().Format(time.RFC3339))
			}
		}
		pb, err := s.commit(ctx, tx, o, change{event: "delivered", actor: p, now: now, step: deliverOrder, entered: at, set: func(u *ent.OrderMutation) {
			u.SetDeliverTime(at)
		}})
		if err != nil {
			return nil, err
		}
		return &orderv1.RecordDeliveryResponse{Order: pb}, nil
	})
}

// ConfirmReceipt is the buyer confirming receipt.
func (s *Service) ConfirmReceipt(ctx context.Context, req *connect.Request[orderv1.ConfirmReceiptRequest]) (*connect.Response[orderv1.ConfirmReceiptResponse], error) {
	return run(ctx, s, req, func(tx *ent.Tx, p auth.Principal, now time.Time) (*orderv1.ConfirmReceiptResponse, error) {
		o, err := load(ctx, tx, p, req.Msg.GetOrderId(), req.Msg.GetEtag())
		if err != nil {
			return nil, err
		}
		if err := p.RequireRole("confirm receipt", commonv1.Role_ROLE_BUYER); err != nil {
			return nil, err
		}
		if err := confirmReceipt.CheckAt(o, now); err != nil {
			return nil, err
		}
		pb, err := s.complete(ctx, tx, o, confirmReceipt, p, now, "receipt_confirmed")
		if err != nil {
			return nil, err
		}
		return &orderv1.ConfirmReceiptResponse{Order: pb}, nil
	})
}

// complete moves a shipped or delivered order to COMPLETED by t (the buyer's confirmation or the automatic
// one), which starts its after-sales window, and releases the escrow to the supplier unless a dispute or
// return holds it.
func (s *Service) complete(ctx context.Context, tx *ent.Tx, o *ent.Order, t *rule, actor auth.Principal, now time.Time, event string) (*orderv1.Order, error) {
	updated, pb, err := s.commitEntity(ctx, tx, o, change{event: event, actor: actor, now: now, step: t, set: func(u *ent.OrderMutation) {
		u.SetCompleteTime(now)
		if o.DeliverTime == nil {
			u.SetDeliverTime(now)
		}
	}})
	if err != nil {
		return nil, err
	}
	// Funds under a dispute or return hold stay in escrow until the hold ends.
	if updated.EscrowHolds == 0 {
		if err := release(ctx, tx, updated, now); err != nil {
			return nil, err
		}
	}
	return pb, nil
}

// ListOrderRevisions lists an order's revision history, oldest first.
func (s *Service) ListOrderRevisions(ctx context.Context, req *connect.Request[orderv1.ListOrderRevisionsRequest]) (*connect.Response[orderv1.ListOrderRevisionsResponse], error) {
	o, err := s.read(ctx, req.Msg.GetOrderId())
	if err != nil {
		return nil, err
	}
	filter := pagination.Filter("revisions", o.ID)
	size, after, err := s.pager.Start(req.Msg, 50, 500, filter)
	if err != nil {
		return nil, err
	}
	q := s.store.Client.OrderRevision.Query().Where(orderrevision.OrderID(o.ID))
	if after != "" {
		var n int64
		fmt.Sscan(after, &n)
		q = q.Where(orderrevision.RevisionGT(n))
	}
	rows, err := q.Order(ent.Asc(orderrevision.FieldRevision)).Limit(size + 1).All(ctx)
	if err != nil {
		return nil, fmt.Errorf("list revisions: %w", err)
	}
	out := &orderv1.ListOrderRevisionsResponse{}
	rows, out.NextPageToken = pagination.Page(s.pager, rows, size, filter, func(r *ent.OrderRevision) string { return fmt.Sprint(r.Revision) })
	for _, r := range rows {
		snap := &orderv1.Order{}
		if err := proto.Unmarshal(r.Snapshot, snap); err != nil {
			return nil, err
		}
		out.Revisions = append(out.Revisions, &orderv1.Revision{
			Revision: r.Revision, Change: r.Change, Actor: &commonv1.Party{Role: auth.RoleFromName(r.ActorRole), AccountId: r.ActorID},
			Time: timestamppb.New(r.Time), Order: snap,
		})
	}
	return connect.NewResponse(out), nil
}

// ListProducts lists a supplier's products.
func (s *Service) ListProducts(ctx context.Context, req *connect.Request[orderv1.ListProductsRequest]) (*connect.Response[orderv1.ListProductsResponse], error) {
	p := auth.FromContext(ctx)
	supplierID := req.Msg.GetSupplierId()
	if supplierID == "" {
		if p.Role != commonv1.Role_ROLE_SUPPLIER {
			return nil, apierr.Invalid("supplier_id", "name the supplier whose products to list")
		}
		supplierID = p.AccountID
	}
	filter := pagination.Filter("products", supplierID)
	size, after, err := s.pager.Start(req.Msg, 50, 500, filter)
	if err != nil {
		return nil, err
	}
	q := s.store.Client.Product.Query().Where(product.SupplierID(supplierID))
	if after != "" {
		q = q.Where(product.IDGT(after))
	}
	rows, err := q.Order(ent.Asc(product.FieldID)).Limit(size + 1).All(ctx)
	if err != nil {
		return nil, fmt.Errorf("list products: %w", err)
	}
	out := &orderv1.ListProductsResponse{}
	rows, out.NextPageToken = pagination.Page(s.pager, rows, size, filter, func(r *ent.Product) string { return r.ID })
	for _, r := range rows {
		out.Products = append(out.Products, productToProto(r))
	}
	return connect.NewResponse(out), nil
}
