package webhook

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode"

	"connectrpc.com/connect"
	"github.com/google/uuid"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/tradeassure/tradeassure/ent"
	entevent "github.com/tradeassure/tradeassure/ent/event"
	"github.com/tradeassure/tradeassure/ent/webhookattempt"
	"github.com/tradeassure/tradeassure/ent/webhookdelivery"
	"github.com/tradeassure/tradeassure/ent/webhookendpoint"
	commonv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/common/v1"
	eventv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/event/v1"
	webhookv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/webhook/v1"
	"github.com/tradeassure/tradeassure/gen/go/tradeassure/webhook/v1/webhookv1connect"
	"github.com/tradeassure/tradeassure/server/apierr"
	"github.com/tradeassure/tradeassure/server/auth"
	"github.com/tradeassure/tradeassure/server/idempotency"
	"github.com/tradeassure/tradeassure/server/pagination"
	"github.com/tradeassure/tradeassure/server/resource"
)

var _ webhookv1connect.WebhookServiceHandler = (*Service)(nil)

// MaxEndpoints is how many endpoints one account, or the platform, may have.
const MaxEndpoints = 20

// DefaultGracePeriod is how long a rotated secret keeps signing when the request does not say.
const DefaultGracePeriod = 24 * time.Hour

// knownSubjects are the subject types events have; an event-type filter must name one of them.
var knownSubjects = map[string]bool{
	"order": true, "return": true, "dispute": true, "complaint": true, "withdrawal": true, "account": true,
	subjectEndpoint: true,
}

// Service implements WebhookService.
type Service struct{ w *Webhooks }

// Service returns the WebhookService handler.
func (w *Webhooks) Service() *Service { return &Service{w: w} }

// managers are the roles that have endpoints.
var managers = []commonv1.Role{commonv1.Role_ROLE_BUYER, commonv1.Role_ROLE_SUPPLIER, commonv1.Role_ROLE_OPERATOR}

// visible reports whether p may see and manage an endpoint: its account's owner, or any operator.
func visible(p auth.Principal, e *ent.WebhookEndpoint) bool {
	if p.Role == commonv1.Role_ROLE_OPERATOR {
		return true
	}
	return e.Scope == webhookendpoint.ScopeAccount && e.AccountID == p.AccountID && p.AccountID != ""
}

// load reads an endpoint p may see, checking the etag when one is sent.
func load(ctx context.Context, c *ent.Client, p auth.Principal, id, etag string) (*ent.WebhookEndpoint, error) {
	if err := p.RequireRole("manage webhook endpoints", managers...); err != nil {
		return nil, err
	}
	e, err := c.WebhookEndpoint.Get(ctx, id)
	if ent.IsNotFound(err) || (err == nil && !visible(p, e)) {
		return nil, apierr.NotFound("webhook endpoint", id)
	}
	if err != nil {
		return nil, fmt.Errorf("load webhook endpoint %s: %w", id, err)
	}
	if etag != "" && etag != e.Etag {
		return nil, apierr.EtagMismatch("webhook endpoint", id, e.Etag)
	}
	return e, nil
}

func run[Req any, Resp any, PReq idempotency.Request[Req], PResp idempotency.Response[Resp]](ctx context.Context, s *Service,
	req *connect.Request[Req], fn func(tx *ent.Tx, p auth.Principal, now time.Time) (PResp, error),
) (*connect.Response[Resp], error) {
	return idempotency.Handle[Req, Resp, PReq, PResp](ctx, s.w.store, s.w.clock, req, fn)
}

// checkTypes refuses filters naming an unknown subject (protovalidate checks their form).
func checkTypes(field string, types []string) error {
	for i, t := range types {
		subject, _, _ := strings.Cut(t, ".")
		if t != "*" && !knownSubjects[subject] {
			return apierr.Invalid(fmt.Sprintf("%s[%d]", field, i), "%q names no known subject; use one of order, return, dispute, complaint, withdrawal, account, webhook_endpoint, or \"*\"", t)
		}
	}
	return nil
}

func checkDescription(field, s string) error {
	if strings.ContainsFunc(s, unicode.IsControl) {
		return apierr.Invalid(field, "must not contain control characters")
	}
	return nil
}

func (s *Service) requireKeys() error {
	if s.w.cfg.Keys == nil {
		return apierr.Precondition(commonv1.ErrorReason_ERROR_REASON_WEBHOOK_KEY_MISSING,
			"webhooks are not configured on this server: it needs a key to encrypt signing secrets (--webhook-key or TRADEASSURE_WEBHOOK_KEY)")
	}
	return nil
}

// unseal turns the sealed secret a stored response carries into the secret, so that the secret is
// never stored in clear, not even in the idempotency record that replays the response.
func (s *Service) unseal(endpointID, sealed string) (string, error) {
	secret, err := s.w.cfg.Keys.open(endpointID, sealed)
	if err != nil {
		return "", apierr.Precondition(commonv1.ErrorReason_ERROR_REASON_WEBHOOK_KEY_MISSING,
			"the secret of this request can no longer be shown (its key was removed); rotate the secret instead")
	}
	return secret, nil
}

// lockOwner serializes endpoint creation per owner on Postgres, so the endpoint limit holds under
// concurrency (SQLite write transactions are serial already).
func (s *Service) lockOwner(ctx context.Context, tx *ent.Tx, owner string) error {
	if !s.w.postgres {
		return nil
	}
	_, err := tx.ExecContext(ctx, "SELECT pg_advisory_xact_lock(7355610, hashtext($1))", owner)
	return err
}

// CreateWebhookEndpoint creates an endpoint.
func (s *Service) CreateWebhookEndpoint(ctx context.Context, req *connect.Request[webhookv1.CreateWebhookEndpointRequest]) (*connect.Response[webhookv1.CreateWebhookEndpointResponse], error) {
	p := auth.FromContext(ctx)
	if err := p.RequireRole("create webhook endpoints", managers...); err != nil {
		return nil, err
	}
	if err := s.requireKeys(); err != nil {
		return nil, err
	}
	m := req.Msg
	url, err := s.w.guard.check(ctx, m.GetUrl())
	if err != nil {
		return nil, err
	}
	if err := checkTypes("event_types", m.GetEventTypes()); err != nil {
		return nil, err
	}
	if err := checkDescription("description", m.GetDescription()); err != nil {
		return nil, err
	}
	resp, err := run(ctx, s, req, func(tx *ent.Tx, p auth.Principal, now time.Time) (*webhookv1.CreateWebhookEndpointResponse, error) {
		scope, account, role := webhookendpoint.ScopeAccount, p.AccountID, auth.RoleName(p.Role)
		if p.Role == commonv1.Role_ROLE_OPERATOR {
			scope, account, role = webhookendpoint.ScopePlatform, "", "operator"
		}
		if err := s.lockOwner(ctx, tx, account); err != nil {
			return nil, err
		}
		n, err := tx.WebhookEndpoint.Query().Where(webhookendpoint.AccountID(account)).Count(ctx)
		if err != nil {
			return nil, err
		}
		if n >= MaxEndpoints {
			return nil, apierr.Precondition(commonv1.ErrorReason_ERROR_REASON_WEBHOOK_ENDPOINT_LIMIT,
				"at most %d webhook endpoints are allowed; delete one first", MaxEndpoints).With("limit", MaxEndpoints)
		}
		id, secret := resource.ID("whe_"), newSecret()
		sealed := s.w.cfg.Keys.seal(id, secret)
		c := tx.WebhookEndpoint.Create().SetID(id).SetScope(scope).SetAccountID(account).SetOwnerRole(role).
			SetURL(url).SetDescription(m.GetDescription()).SetEventTypes(m.GetEventTypes()).SetEnabled(!m.GetDisabled()).
			SetSecretCipher(sealed).SetSecretHint(hint(secret)).SetCreateTime(now).SetUpdateTime(now).SetEtag(resource.Etag(id, 1))
		if m.GetDisabled() {
			c.SetDisabledReason("by_user").SetDisableTime(now)
		}
		e, err := c.Save(ctx)
		if err != nil {
			return nil, fmt.Errorf("create webhook endpoint: %w", err)
		}
		if err := s.w.bumpVersion(ctx, tx); err != nil {
			return nil, err
		}
		if err := s.w.appendEndpointEvent(ctx, tx, e, "created", p, now); err != nil {
			return nil, err
		}
		return &webhookv1.CreateWebhookEndpointResponse{Endpoint: endpointToProto(e, &queueAt{now: now}), Secret: sealed}, nil
	})
	if err != nil {
		return nil, err
	}
	if resp.Msg.Secret, err = s.unseal(resp.Msg.GetEndpoint().GetId(), resp.Msg.GetSecret()); err != nil {
		return nil, err
	}
	return resp, nil
}

// withQueues converts endpoints with their queue statistics.
func (s *Service) withQueues(ctx context.Context, eps ...*ent.WebhookEndpoint) ([]*webhookv1.WebhookEndpoint, error) {
	ids := make([]string, len(eps))
	for i, e := range eps {
		ids[i] = e.ID
	}
	qs, err := s.w.queues(ctx, ids)
	if err != nil {
		return nil, err
	}
	now := s.w.clock.Now()
	out := make([]*webhookv1.WebhookEndpoint, len(eps))
	for i, e := range eps {
		out[i] = endpointToProto(e, &queueAt{queue: qs[e.ID], now: now})
	}
	return out, nil
}

// GetWebhookEndpoint returns an endpoint.
func (s *Service) GetWebhookEndpoint(ctx context.Context, req *connect.Request[webhookv1.GetWebhookEndpointRequest]) (*connect.Response[webhookv1.GetWebhookEndpointResponse], error) {
	e, err := load(ctx, s.w.store.Client, auth.FromContext(ctx), req.Msg.GetId(), "")
	if err != nil {
		return nil, err
	}
	out, err := s.withQueues(ctx, e)
	if err != nil {
		return nil, err
	}
	return connect.NewResponse(&webhookv1.GetWebhookEndpointResponse{Endpoint: out[0]}), nil
}

// ListWebhookEndpoints lists endpoints, oldest first.
func (s *Service) ListWebhookEndpoints(ctx context.Context, req *connect.Request[webhookv1.ListWebhookEndpointsRequest]) (*connect.Response[webhookv1.ListWebhookEndpointsResponse], error) {
	p := auth.FromContext(ctx)
	if err := p.RequireRole("list webhook endpoints", managers...); err != nil {
		return nil, err
	}
	account := req.Msg.GetAccountId()
	if p.Role != commonv1.Role_ROLE_OPERATOR {
		if account != "" && account != p.AccountID {
			return nil, apierr.RoleNotAllowed("list other accounts' webhook endpoints", p.Role)
		}
		account = p.AccountID
	}
	filter := pagination.Filter("webhook_endpoints", p.AccountID, account)
	size, after, err := s.w.pager.Start(req.Msg, 50, 100, filter)
	if err != nil {
		return nil, err
	}
	q := s.w.store.Client.WebhookEndpoint.Query()
	switch account {
	case "":
	case "platform":
		q = q.Where(webhookendpoint.ScopeEQ(webhookendpoint.ScopePlatform))
	default:
		q = q.Where(webhookendpoint.AccountID(account))
	}
	if after != "" {
		q = q.Where(webhookendpoint.IDGT(after))
	}
	rows, err := q.Order(ent.Asc(webhookendpoint.FieldID)).Limit(size + 1).All(ctx)
	if err != nil {
		return nil, fmt.Errorf("list webhook endpoints: %w", err)
	}
	out := &webhookv1.ListWebhookEndpointsResponse{}
	rows, out.NextPageToken = pagination.Page(s.w.pager, rows, size, filter, func(e *ent.WebhookEndpoint) string { return e.ID })
	if out.Endpoints, err = s.withQueues(ctx, rows...); err != nil {
		return nil, err
	}
	return connect.NewResponse(out), nil
}

// change commits a settings change of an endpoint as its next revision, guarded by the revision read,
// records the change for every process's copy of the endpoints and appends the event.
func (s *Service) change(ctx context.Context, tx *ent.Tx, e *ent.WebhookEndpoint, what string, p auth.Principal, now time.Time,
	set func(u *ent.WebhookEndpointUpdateOne),
) (*ent.WebhookEndpoint, error) {
	next := e.Revision + 1
	u := tx.WebhookEndpoint.UpdateOneID(e.ID).Where(webhookendpoint.Revision(e.Revision)).
		SetRevision(next).SetEtag(resource.Etag(e.ID, next)).SetUpdateTime(now)
	set(u)
	updated, err := u.Save(ctx)
	if ent.IsNotFound(err) {
		return nil, apierr.EtagMismatch("webhook endpoint", e.ID, "")
	}
	if err != nil {
		return nil, fmt.Errorf("%s webhook endpoint %s: %w", what, e.ID, err)
	}
	if err := s.w.bumpVersion(ctx, tx); err != nil {
		return nil, err
	}
	if err := s.w.appendEndpointEvent(ctx, tx, updated, what, p, now); err != nil {
		return nil, err
	}
	return updated, nil
}

// UpdateWebhookEndpoint changes the fields that are set.
func (s *Service) UpdateWebhookEndpoint(ctx context.Context, req *connect.Request[webhookv1.UpdateWebhookEndpointRequest]) (*connect.Response[webhookv1.UpdateWebhookEndpointResponse], error) {
	m := req.Msg
	var url string
	if m.Url != nil {
		var err error
		if url, err = s.w.guard.check(ctx, m.GetUrl()); err != nil {
			return nil, err
		}
	}
	if m.EventTypes != nil {
		if err := checkTypes("event_types.types", m.GetEventTypes().GetTypes()); err != nil {
			return nil, err
		}
	}
	if err := checkDescription("description", m.GetDescription()); err != nil {
		return nil, err
	}
	return run(ctx, s, req, func(tx *ent.Tx, p auth.Principal, now time.Time) (*webhookv1.UpdateWebhookEndpointResponse, error) {
		e, err := load(ctx, tx.Client(), p, m.GetId(), m.GetEtag())
		if err != nil {
			return nil, err
		}
		if m.Url == nil && m.EventTypes == nil && m.Enabled == nil && m.Description == nil {
			return &webhookv1.UpdateWebhookEndpointResponse{Endpoint: endpointToProto(e, nil)}, nil
		}
		e, err = s.change(ctx, tx, e, "updated", p, now, func(u *ent.WebhookEndpointUpdateOne) {
			if m.Url != nil {
				u.SetURL(url)
			}
			if m.EventTypes != nil {
				u.SetEventTypes(m.GetEventTypes().GetTypes())
			}
			if m.Description != nil {
				u.SetDescription(m.GetDescription())
			}
			switch {
			case m.Enabled == nil:
			case m.GetEnabled() && !e.Enabled:
				// A fresh start: the failure streak that may have disabled it is forgotten.
				u.SetEnabled(true).SetDisabledReason("").ClearDisableTime().ClearFailingSince()
			case !m.GetEnabled() && e.Enabled:
				u.SetEnabled(false).SetDisabledReason("by_user").SetDisableTime(now)
			}
		})
		if err != nil {
			return nil, err
		}
		return &webhookv1.UpdateWebhookEndpointResponse{Endpoint: endpointToProto(e, nil)}, nil
	})
}

// DeleteWebhookEndpoint deletes an endpoint with its deliveries and attempts.
func (s *Service) DeleteWebhookEndpoint(ctx context.Context, req *connect.Request[webhookv1.DeleteWebhookEndpointRequest]) (*connect.Response[webhookv1.DeleteWebhookEndpointResponse], error) {
	return run(ctx, s, req, func(tx *ent.Tx, p auth.Principal, now time.Time) (*webhookv1.DeleteWebhookEndpointResponse, error) {
		e, err := load(ctx, tx.Client(), p, req.Msg.GetId(), req.Msg.GetEtag())
		if err != nil {
			return nil, err
		}
		if _, err := tx.WebhookAttempt.Delete().Where(webhookattempt.EndpointID(e.ID)).Exec(ctx); err != nil {
			return nil, fmt.Errorf("delete webhook endpoint %s: %w", e.ID, err)
		}
		if _, err := tx.WebhookDelivery.Delete().Where(webhookdelivery.EndpointID(e.ID)).Exec(ctx); err != nil {
			return nil, fmt.Errorf("delete webhook endpoint %s: %w", e.ID, err)
		}
		n, err := tx.WebhookEndpoint.Delete().Where(webhookendpoint.ID(e.ID), webhookendpoint.Revision(e.Revision)).Exec(ctx)
		if err != nil {
			return nil, fmt.Errorf("delete webhook endpoint %s: %w", e.ID, err)
		}
		if n == 0 {
			return nil, apierr.EtagMismatch("webhook endpoint", e.ID, "")
		}
		if err := s.w.bumpVersion(ctx, tx); err != nil {
			return nil, err
		}
		e.Enabled = false
		if err := s.w.appendEndpointEvent(ctx, tx, e, "deleted", p, now); err != nil {
			return nil, err
		}
		return &webhookv1.DeleteWebhookEndpointResponse{Endpoint: endpointToProto(e, nil)}, nil
	})
}

// RotateWebhookSecret replaces an endpoint's secret, keeping the old one for the grace period.
func (s *Service) RotateWebhookSecret(ctx context.Context, req *connect.Request[webhookv1.RotateWebhookSecretRequest]) (*connect.Response[webhookv1.RotateWebhookSecretResponse], error) {
	if err := s.requireKeys(); err != nil {
		return nil, err
	}
	grace := DefaultGracePeriod
	if g := req.Msg.GetGracePeriod(); g != nil {
		grace = g.AsDuration().Truncate(time.Second)
	}
	resp, err := run(ctx, s, req, func(tx *ent.Tx, p auth.Principal, now time.Time) (*webhookv1.RotateWebhookSecretResponse, error) {
		e, err := load(ctx, tx.Client(), p, req.Msg.GetId(), req.Msg.GetEtag())
		if err != nil {
			return nil, err
		}
		secret := newSecret()
		sealed := s.w.cfg.Keys.seal(e.ID, secret)
		e, err = s.change(ctx, tx, e, "secret_rotated", p, now, func(u *ent.WebhookEndpointUpdateOne) {
			u.SetSecretCipher(sealed).SetSecretHint(hint(secret))
			if grace > 0 {
				u.SetPreviousSecretCipher(e.SecretCipher).SetPreviousSecretExpireTime(now.Add(grace))
			} else {
				u.SetPreviousSecretCipher("").ClearPreviousSecretExpireTime()
			}
		})
		if err != nil {
			return nil, err
		}
		return &webhookv1.RotateWebhookSecretResponse{Endpoint: endpointToProto(e, nil), Secret: sealed}, nil
	})
	if err != nil {
		return nil, err
	}
	if resp.Msg.Secret, err = s.unseal(resp.Msg.GetEndpoint().GetId(), resp.Msg.GetSecret()); err != nil {
		return nil, err
	}
	return resp, nil
}

// ListWebhookDeliveries lists an endpoint's deliveries, newest first.
func (s *Service) ListWebhookDeliveries(ctx context.Context, req *connect.Request[webhookv1.ListWebhookDeliveriesRequest]) (*connect.Response[webhookv1.ListWebhookDeliveriesResponse], error) {
	p := auth.FromContext(ctx)
	m := req.Msg
	e, err := load(ctx, s.w.store.Client, p, m.GetEndpointId(), "")
	if err != nil {
		return nil, err
	}
	filter := pagination.Filter("webhook_deliveries", p.AccountID, e.ID, m.GetState(), m.GetWebhookId())
	size, afterKey, err := s.w.pager.Start(m, 50, 200, filter)
	if err != nil {
		return nil, err
	}
	after, _ := strconv.ParseInt(afterKey, 10, 64)
	q := s.w.store.Client.WebhookDelivery.Query().Where(webhookdelivery.EndpointID(e.ID))
	for st, pb := range deliveryStates {
		if pb == m.GetState() {
			q = q.Where(webhookdelivery.StateEQ(st))
		}
	}
	if m.GetWebhookId() != "" {
		q = q.Where(webhookdelivery.WebhookID(m.GetWebhookId()))
	}
	if after > 0 {
		q = q.Where(webhookdelivery.IDLT(after))
	}
	rows, err := q.Order(ent.Desc(webhookdelivery.FieldID)).Limit(size + 1).All(ctx)
	if err != nil {
		return nil, fmt.Errorf("list webhook deliveries: %w", err)
	}
	out := &webhookv1.ListWebhookDeliveriesResponse{}
	rows, out.NextPageToken = pagination.Page(s.w.pager, rows, size, filter, func(d *ent.WebhookDelivery) string { return strconv.FormatInt(d.ID, 10) })
	if out.Deliveries, err = s.w.deliveries(ctx, s.w.store.Client, rows...); err != nil {
		return nil, err
	}
	return connect.NewResponse(out), nil
}

// deliveries converts stored deliveries with their latest attempts.
func (w *Webhooks) deliveries(ctx context.Context, c *ent.Client, rows ...*ent.WebhookDelivery) ([]*webhookv1.WebhookDelivery, error) {
	ids := make([]int64, len(rows))
	for i, d := range rows {
		ids[i] = d.ID
	}
	attempts, err := c.WebhookAttempt.Query().Where(webhookattempt.DeliveryIDIn(ids...)).
		Order(ent.Desc(webhookattempt.FieldID)).All(ctx)
	if err != nil {
		return nil, fmt.Errorf("list webhook attempts: %w", err)
	}
	byDelivery := map[int64][]*ent.WebhookAttempt{}
	for _, a := range attempts {
		byDelivery[a.DeliveryID] = append(byDelivery[a.DeliveryID], a)
	}
	out := make([]*webhookv1.WebhookDelivery, len(rows))
	for i, d := range rows {
		out[i] = deliveryToProto(d, byDelivery[d.ID])
	}
	return out, nil
}

// loadDelivery reads a delivery of an endpoint p may see.
func loadDelivery(ctx context.Context, c *ent.Client, p auth.Principal, id string) (*ent.WebhookDelivery, *ent.WebhookEndpoint, error) {
	if err := p.RequireRole("manage webhook endpoints", managers...); err != nil {
		return nil, nil, err
	}
	n, ok := parseDeliveryID(id)
	if !ok {
		return nil, nil, apierr.NotFound("webhook delivery", id)
	}
	d, err := c.WebhookDelivery.Get(ctx, n)
	if ent.IsNotFound(err) {
		return nil, nil, apierr.NotFound("webhook delivery", id)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("load webhook delivery %s: %w", id, err)
	}
	e, err := load(ctx, c, p, d.EndpointID, "")
	if err != nil {
		return nil, nil, apierr.NotFound("webhook delivery", id)
	}
	return d, e, nil
}

func requireEnabled(e *ent.WebhookEndpoint) error {
	if e.Enabled {
		return nil
	}
	return apierr.Precondition(commonv1.ErrorReason_ERROR_REASON_WEBHOOK_ENDPOINT_DISABLED,
		"webhook endpoint %s is disabled; enable it with UpdateWebhookEndpoint first", e.ID).With("disabled_reason", e.DisabledReason)
}

// RedeliverWebhook queues a delivery again now.
func (s *Service) RedeliverWebhook(ctx context.Context, req *connect.Request[webhookv1.RedeliverWebhookRequest]) (*connect.Response[webhookv1.RedeliverWebhookResponse], error) {
	resp, err := run(ctx, s, req, func(tx *ent.Tx, p auth.Principal, now time.Time) (*webhookv1.RedeliverWebhookResponse, error) {
		d, e, err := loadDelivery(ctx, tx.Client(), p, req.Msg.GetDeliveryId())
		if err != nil {
			return nil, err
		}
		if err := requireEnabled(e); err != nil {
			return nil, err
		}
		// A delivery being sent right now keeps its lease's expiry, so it is not sent twice at once, and is
		// sent again after that attempt (see saveOutcome).
		d, err = tx.WebhookDelivery.UpdateOne(d).SetState(webhookdelivery.StatePending).SetTrigger(webhookdelivery.TriggerRedelivery).
			SetNextAttemptTime(now).SetRetries(0).ClearFinishTime().SetLeaseToken("").Save(ctx)
		if err != nil {
			return nil, fmt.Errorf("redeliver %d: %w", d.ID, err)
		}
		out, err := s.w.deliveries(ctx, tx.Client(), d)
		if err != nil {
			return nil, err
		}
		return &webhookv1.RedeliverWebhookResponse{Delivery: out[0]}, nil
	})
	if err == nil {
		s.w.kick()
	}
	return resp, err
}

// ReplayWebhookEvents queues every event after a cursor for an endpoint, in the background.
func (s *Service) ReplayWebhookEvents(ctx context.Context, req *connect.Request[webhookv1.ReplayWebhookEventsRequest]) (*connect.Response[webhookv1.ReplayWebhookEventsResponse], error) {
	var after int64
	if a := req.Msg.GetAfterEventId(); a != "" {
		var err error
		if after, err = strconv.ParseInt(a, 10, 64); err != nil {
			return nil, apierr.Invalid("after_event_id", "must be an event id")
		}
	}
	resp, err := run(ctx, s, req, func(tx *ent.Tx, p auth.Principal, now time.Time) (*webhookv1.ReplayWebhookEventsResponse, error) {
		e, err := load(ctx, tx.Client(), p, req.Msg.GetEndpointId(), "")
		if err != nil {
			return nil, err
		}
		if err := requireEnabled(e); err != nil {
			return nil, err
		}
		if e.ReplayCreateTime != nil && e.ReplayCursorID < e.ReplayUntilID {
			return nil, apierr.Precondition(commonv1.ErrorReason_ERROR_REASON_WEBHOOK_REPLAY_IN_PROGRESS,
				"a replay of webhook endpoint %s is still being queued (through event %d of %d); wait for it to finish",
				e.ID, e.ReplayCursorID, e.ReplayUntilID)
		}
		until := after
		if last, err := tx.Event.Query().Order(ent.Desc(entevent.FieldID)).First(ctx); err == nil {
			until = max(after, last.ID)
		} else if !ent.IsNotFound(err) {
			return nil, err
		}
		e, err = tx.WebhookEndpoint.UpdateOne(e).SetReplayAfterID(after).SetReplayUntilID(until).SetReplayCursorID(after).
			SetReplayQueued(0).SetReplayCreateTime(now).Save(ctx)
		if err != nil {
			return nil, fmt.Errorf("replay to webhook endpoint %s: %w", e.ID, err)
		}
		return &webhookv1.ReplayWebhookEventsResponse{Endpoint: endpointToProto(e, nil)}, nil
	})
	if err == nil {
		s.w.kickReplay()
	}
	return resp, err
}

// SendTestWebhook sends a webhook.test event to an endpoint now and returns the outcome.
func (s *Service) SendTestWebhook(ctx context.Context, req *connect.Request[webhookv1.SendTestWebhookRequest]) (*connect.Response[webhookv1.SendTestWebhookResponse], error) {
	resp, err := run(ctx, s, req, func(tx *ent.Tx, p auth.Principal, now time.Time) (*webhookv1.SendTestWebhookResponse, error) {
		e, err := load(ctx, tx.Client(), p, req.Msg.GetEndpointId(), "")
		if err != nil {
			return nil, err
		}
		id := "test_" + uuid.Must(uuid.NewV7()).String()
		payload, err := anypb.New(endpointToProto(e, nil))
		if err != nil {
			return nil, err
		}
		ev := &eventv1.Event{Id: id, Type: "webhook.test", SubjectType: subjectEndpoint, SubjectId: e.ID, Revision: e.Revision,
			Time: timestamppb.New(now), Actor: p.Party(), Payload: payload}
		body, err := proto.Marshal(ev)
		if err != nil {
			return nil, err
		}
		// Due only once a lease would have run out: a worker sends it if this call dies before it does.
		d, err := tx.WebhookDelivery.Create().SetEndpointID(e.ID).SetWebhookID(id).
			SetEventType(ev.Type).SetSubjectKey("test/" + id).SetSeq(0).SetTrigger(webhookdelivery.TriggerTest).
			SetNextAttemptTime(now.Add(s.w.lease())).SetCreateTime(now).SetPayload(body).Save(ctx)
		if err != nil {
			return nil, fmt.Errorf("queue test webhook: %w", err)
		}
		return &webhookv1.SendTestWebhookResponse{Delivery: deliveryToProto(d, nil)}, nil
	})
	if err != nil {
		return nil, err
	}
	id, _ := parseDeliveryID(resp.Msg.GetDelivery().GetId())
	jobs, err := s.w.claim(ctx, 1, nil, id)
	if err != nil {
		return nil, err
	}
	for _, j := range jobs {
		if err := s.w.record(ctx, []result{s.w.send(ctx, j)}); err != nil {
			return nil, err
		}
	}
	d, err := s.w.store.Client.WebhookDelivery.Get(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("read test webhook %d: %w", id, err)
	}
	out, err := s.w.deliveries(ctx, s.w.store.Client, d)
	if err != nil {
		return nil, err
	}
	return connect.NewResponse(&webhookv1.SendTestWebhookResponse{Delivery: out[0]}), nil
}
