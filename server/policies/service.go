package policies

import (
	"context"
	"fmt"
	"sort"
	"time"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/tradeassure/tradeassure/ent"
	entpolicyset "github.com/tradeassure/tradeassure/ent/policyset"
	"github.com/tradeassure/tradeassure/ent/policyversion"
	"github.com/tradeassure/tradeassure/ent/ratetable"
	commonv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/common/v1"
	policyv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/policy/v1"
	"github.com/tradeassure/tradeassure/gen/go/tradeassure/policy/v1/policyv1connect"
	"github.com/tradeassure/tradeassure/server/apierr"
	"github.com/tradeassure/tradeassure/server/auth"
	"github.com/tradeassure/tradeassure/server/clock"
	"github.com/tradeassure/tradeassure/server/events"
	"github.com/tradeassure/tradeassure/server/idempotency"
	"github.com/tradeassure/tradeassure/server/pagination"
	"github.com/tradeassure/tradeassure/server/policy"
	"github.com/tradeassure/tradeassure/server/resource"
	"github.com/tradeassure/tradeassure/server/storage"
)

var _ policyv1connect.PolicyServiceHandler = (*Service)(nil)

// EffectiveHorizon is how far ahead a version may be published to come into force.
const EffectiveHorizon = 400 * 24 * time.Hour

// maxUSDMicros bounds a published rate: a million US dollars per unit.
const maxUSDMicros = 1_000_000_000_000

// Service implements PolicyService.
type Service struct {
	store   *storage.Store
	clock   clock.Clock
	feed    *events.Feed
	pager   *pagination.Pager
	catalog *Catalog
}

// NewService returns the policy service over catalog.
func NewService(store *storage.Store, clk clock.Clock, feed *events.Feed, pager *pagination.Pager, catalog *Catalog) *Service {
	return &Service{store: store, clock: clk, feed: feed, pager: pager, catalog: catalog}
}

func setToProto(row *ent.PolicySet, current string) *policyv1.PolicySet {
	return &policyv1.PolicySet{
		Name: row.ID, Programme: programmeFromEnt[row.Programme], DerivedFrom: row.DerivedFrom, CurrentVersion: current,
		CreateTime: timestamppb.New(row.CreateTime), Revision: row.Revision, Etag: row.Etag,
	}
}

// VersionToProto is a version in its API form.
func VersionToProto(s policy.Set, published time.Time) *policyv1.PolicyVersion {
	return &policyv1.PolicyVersion{
		Set: s.SetName, Programme: s.Name, Version: s.Version, EffectiveTime: timestamppb.New(s.EffectiveTime),
		CreateTime: timestamppb.New(published), Parameters: s.Parameters(), Etag: resource.Etag(s.SetName+"/"+s.Version, 1),
	}
}

func ratesProto(r policy.Rates, published time.Time) *policyv1.ExchangeRateTable {
	out := &policyv1.ExchangeRateTable{
		Version: r.Version, EffectiveTime: timestamppb.New(r.EffectiveTime), CreateTime: timestamppb.New(published),
		Etag: resource.Etag("rates/"+r.Version, 1),
	}
	cs := make([]string, 0, len(r.USDMicros))
	for c := range r.USDMicros {
		cs = append(cs, c)
	}
	sort.Strings(cs)
	for _, c := range cs {
		out.Rates = append(out.Rates, &policyv1.ExchangeRate{Currency: c, UsdMicros: r.USDMicros[c], MinorDigits: int32(policy.MinorDigits(c))})
	}
	return out
}

func run[Req any, Resp any, PReq idempotency.Request[Req], PResp idempotency.Response[Resp]](ctx context.Context, s *Service,
	req *connect.Request[Req], fn func(tx *ent.Tx, p auth.Principal, now time.Time) (PResp, error),
) (*connect.Response[Resp], error) {
	resp, err := idempotency.Handle[Req, Resp, PReq, PResp](ctx, s.store, s.clock, req, func(tx *ent.Tx, p auth.Principal, now time.Time) (PResp, error) {
		if err := p.RequireRole("publish policies and rates", commonv1.Role_ROLE_OPERATOR); err != nil {
			return nil, err
		}
		return fn(tx, p, now)
	})
	if err == nil {
		s.catalog.Invalidate()
	}
	return resp, err
}

// ListPolicySets lists the sets by name.
func (s *Service) ListPolicySets(ctx context.Context, req *connect.Request[policyv1.ListPolicySetsRequest]) (*connect.Response[policyv1.ListPolicySetsResponse], error) {
	filter := pagination.Filter("policy_sets")
	size, after, err := s.pager.Start(req.Msg, 50, 500, filter)
	if err != nil {
		return nil, err
	}
	q := s.store.Client.PolicySet.Query()
	if after != "" {
		q = q.Where(entpolicyset.IDGT(after))
	}
	rows, err := q.Order(ent.Asc(entpolicyset.FieldID)).Limit(size + 1).All(ctx)
	if err != nil {
		return nil, fmt.Errorf("list policy sets: %w", err)
	}
	now := s.clock.Now()
	out := &policyv1.ListPolicySetsResponse{}
	rows, out.NextPageToken = pagination.Page(s.pager, rows, size, filter, func(r *ent.PolicySet) string { return r.ID })
	for _, r := range rows {
		current := ""
		if v, err := s.catalog.InForce(ctx, s.store.Client, r.ID, now); err == nil {
			current = v.Version
		}
		out.PolicySets = append(out.PolicySets, setToProto(r, current))
	}
	return connect.NewResponse(out), nil
}

// ListPolicyVersions lists a set's versions, oldest published first.
func (s *Service) ListPolicyVersions(ctx context.Context, req *connect.Request[policyv1.ListPolicyVersionsRequest]) (*connect.Response[policyv1.ListPolicyVersionsResponse], error) {
	set := req.Msg.GetSet()
	filter := pagination.Filter("policy_versions", set)
	size, after, err := s.pager.Start(req.Msg, 50, 500, filter)
	if err != nil {
		return nil, err
	}
	if ok, err := s.store.Client.PolicySet.Query().Where(entpolicyset.ID(set)).Exist(ctx); err != nil {
		return nil, err
	} else if !ok {
		return nil, unknownSet(set)
	}
	q := s.store.Client.PolicyVersion.Query().Where(policyversion.SetName(set))
	if after != "" {
		q = q.Where(policyversion.IDGT(after))
	}
	rows, err := q.Order(ent.Asc(policyversion.FieldID)).Limit(size + 1).All(ctx)
	if err != nil {
		return nil, fmt.Errorf("list policy versions: %w", err)
	}
	out := &policyv1.ListPolicyVersionsResponse{}
	rows, out.NextPageToken = pagination.Page(s.pager, rows, size, filter, func(r *ent.PolicyVersion) string { return r.ID })
	for _, r := range rows {
		v, err := versionFromRow(r)
		if err != nil {
			return nil, err
		}
		out.PolicyVersions = append(out.PolicyVersions, VersionToProto(v, r.CreateTime))
	}
	return connect.NewResponse(out), nil
}

// GetPolicyVersion returns the version named, or the one in force at a time.
func (s *Service) GetPolicyVersion(ctx context.Context, req *connect.Request[policyv1.GetPolicyVersionRequest]) (*connect.Response[policyv1.GetPolicyVersionResponse], error) {
	set, version := req.Msg.GetSet(), req.Msg.GetVersion()
	if version == "" {
		v, err := s.catalog.InForce(ctx, s.store.Client, set, s.at(req.Msg.GetInForceTime()))
		if err != nil {
			return nil, err
		}
		version = v.Version
	}
	row, err := s.store.Client.PolicyVersion.Query().Where(policyversion.SetName(set), policyversion.Version(version)).Only(ctx)
	if ent.IsNotFound(err) {
		return nil, apierr.NotFound("policy version", set+"/"+version)
	}
	if err != nil {
		return nil, err
	}
	v, err := versionFromRow(row)
	if err != nil {
		return nil, err
	}
	return connect.NewResponse(&policyv1.GetPolicyVersionResponse{PolicyVersion: VersionToProto(v, row.CreateTime)}), nil
}

// at is the time a read asks about: the one given, or now.
func (s *Service) at(ts *timestamppb.Timestamp) time.Time {
	if ts == nil {
		return s.clock.Now()
	}
	return ts.AsTime()
}

// PastGrace is how far in the past an effective time may be and still mean "now": a client that sends its
// own clock's now (or one a little behind the server's) gets now, not a refusal. Nothing comes into force
// before the publication, so no order's past changes.
const PastGrace = time.Minute

// checkEffective refuses an effective time in the past (beyond PastGrace) or beyond the horizon; unset, or
// within PastGrace of now, means now.
func checkEffective(ts *timestamppb.Timestamp, now time.Time) (time.Time, error) {
	if ts == nil {
		return now.Truncate(time.Microsecond), nil
	}
	t := ts.AsTime()
	if t.Before(now.Add(-PastGrace)) {
		return t, apierr.InvalidWith(commonv1.ErrorReason_ERROR_REASON_TIME_OUT_OF_RANGE, "effective_time",
			"a version comes into force now or later, never in the past (now is %s); leave it unset for now",
			now.UTC().Format(time.RFC3339)).With("earliest", now.UTC().Format(time.RFC3339))
	}
	if t.Before(now) {
		return now.Truncate(time.Microsecond), nil
	}
	if err := policy.CheckFuture("effective_time", "the effective time", t, now.Add(-time.Nanosecond), EffectiveHorizon); err != nil {
		return t, err
	}
	return t.Truncate(time.Microsecond), nil
}

// invalidParams refuses parameters out of bounds, naming every field at fault.
func invalidParams(p *policyv1.PolicyParameters) error {
	vs := policy.Check("parameters.", p)
	if len(vs) == 0 {
		return nil
	}
	e := apierr.InvalidWith(commonv1.ErrorReason_ERROR_REASON_POLICY_PARAMETER_INVALID, vs[0].Field, "%s", vs[0].Description)
	for _, v := range vs[1:] {
		e.Violations = append(e.Violations, &commonv1.FieldViolation{Field: v.Field, Description: v.Description})
	}
	if len(vs) > 1 {
		e.Message = fmt.Sprintf("%d policy parameters are out of bounds; the first: %s", len(vs), e.Message)
	}
	return e
}

// publish stores version v of set row within tx, moves the set's revision and tells everyone.
func (s *Service) publish(ctx context.Context, tx *ent.Tx, p auth.Principal, row *ent.PolicySet, v policy.Set, now time.Time, typ string) (*policyv1.PolicySetChanged, error) {
	if err := insertVersion(ctx, tx, v, now); err != nil {
		if ent.IsConstraintError(err) {
			return nil, apierr.New(connect.CodeAlreadyExists, commonv1.ErrorReason_ERROR_REASON_POLICY_VERSION_EXISTS,
				"policy set %q already has this version (%s)", v.SetName, v.Version)
		}
		return nil, fmt.Errorf("publish policy version: %w", err)
	}
	if typ != "policy_set.created" {
		var err error
		rev := row.Revision + 1
		// Conditional on the revision read: a concurrent publication that committed first (which the etag
		// check, a read, cannot see in read-committed) makes this one ABORTED, not a second revision r+1.
		row, err = tx.PolicySet.UpdateOne(row).Where(entpolicyset.Revision(row.Revision)).
			SetRevision(rev).SetEtag(resource.Etag(row.ID, rev)).Save(ctx)
		if ent.IsNotFound(err) {
			return nil, apierr.EtagMismatch("policy set", v.SetName, "")
		}
		if err != nil {
			return nil, fmt.Errorf("publish policy version: %w", err)
		}
	}
	if err := bump(ctx, tx); err != nil {
		return nil, err
	}
	current := ""
	if !v.EffectiveTime.After(now) {
		current = v.Version
	}
	out := &policyv1.PolicySetChanged{PolicySet: setToProto(row, current), PolicyVersion: VersionToProto(v, now)}
	if err := s.feed.Append(ctx, tx, events.Event{
		Type: typ, SubjectType: "policy_set", SubjectID: row.ID, Revision: row.Revision, Time: now, Actor: p, Payload: out,
	}); err != nil {
		return nil, err
	}
	return out, nil
}

// PublishPolicyVersion publishes a new version of a set.
func (s *Service) PublishPolicyVersion(ctx context.Context, req *connect.Request[policyv1.PublishPolicyVersionRequest]) (*connect.Response[policyv1.PublishPolicyVersionResponse], error) {
	return run(ctx, s, req, func(tx *ent.Tx, p auth.Principal, now time.Time) (*policyv1.PublishPolicyVersionResponse, error) {
		m := req.Msg
		row, err := tx.PolicySet.Get(ctx, m.GetSet())
		if ent.IsNotFound(err) {
			return nil, unknownSet(m.GetSet())
		}
		if err != nil {
			return nil, err
		}
		if m.GetEtag() != "" && m.GetEtag() != row.Etag {
			return nil, apierr.New(connect.CodeAborted, commonv1.ErrorReason_ERROR_REASON_ETAG_MISMATCH,
				"policy set %q changed since it was read (another version was published); read it again", row.ID).With("etag", row.Etag)
		}
		if err := invalidParams(m.GetParameters()); err != nil {
			return nil, err
		}
		at, err := checkEffective(m.GetEffectiveTime(), now)
		if err != nil {
			return nil, err
		}
		prog := programmeFromEnt[row.Programme]
		v := policy.Set{Name: prog, SetName: row.ID, EffectiveTime: at,
			Version: policy.VersionID(row.ID, prog, at, m.GetParameters())}.WithParameters(m.GetParameters())
		out, err := s.publish(ctx, tx, p, row, v, now, "policy.published")
		if err != nil {
			return nil, err
		}
		return &policyv1.PublishPolicyVersionResponse{PolicyVersion: out.GetPolicyVersion()}, nil
	})
}

// CreatePolicySet creates a set from another.
func (s *Service) CreatePolicySet(ctx context.Context, req *connect.Request[policyv1.CreatePolicySetRequest]) (*connect.Response[policyv1.CreatePolicySetResponse], error) {
	return run(ctx, s, req, func(tx *ent.Tx, p auth.Principal, now time.Time) (*policyv1.CreatePolicySetResponse, error) {
		m := req.Msg
		from, err := tx.PolicySet.Get(ctx, m.GetFromSet())
		if ent.IsNotFound(err) {
			return nil, apierr.InvalidWith(commonv1.ErrorReason_ERROR_REASON_POLICY_SET_NOT_FOUND, "from_set",
				"policy set %q not found; ListPolicySets lists them", m.GetFromSet())
		}
		if err != nil {
			return nil, err
		}
		if ok, err := tx.PolicySet.Query().Where(entpolicyset.ID(m.GetName())).Exist(ctx); err != nil {
			return nil, err
		} else if ok {
			return nil, apierr.New(connect.CodeAlreadyExists, commonv1.ErrorReason_ERROR_REASON_POLICY_SET_EXISTS,
				"a policy set named %q already exists; publish a version of it instead", m.GetName()).With("set", m.GetName())
		}
		params := m.GetParameters()
		if params == nil {
			src, err := s.catalog.InForce(ctx, tx.Client(), from.ID, now)
			if err != nil {
				return nil, err
			}
			params = src.Parameters()
		}
		if err := invalidParams(params); err != nil {
			return nil, err
		}
		at, err := checkEffective(m.GetEffectiveTime(), now)
		if err != nil {
			return nil, err
		}
		row, err := tx.PolicySet.Create().SetID(m.GetName()).SetProgramme(from.Programme).SetDerivedFrom(from.ID).
			SetCreateTime(now).SetEtag(resource.Etag(m.GetName(), 1)).Save(ctx)
		if ent.IsConstraintError(err) {
			// Created by a concurrent request since the check above.
			return nil, apierr.New(connect.CodeAlreadyExists, commonv1.ErrorReason_ERROR_REASON_POLICY_SET_EXISTS,
				"a policy set named %q already exists; publish a version of it instead", m.GetName()).With("set", m.GetName())
		}
		if err != nil {
			return nil, fmt.Errorf("create policy set: %w", err)
		}
		prog := programmeFromEnt[row.Programme]
		v := policy.Set{Name: prog, SetName: row.ID, EffectiveTime: at,
			Version: policy.VersionID(row.ID, prog, at, params)}.WithParameters(params)
		out, err := s.publish(ctx, tx, p, row, v, now, "policy_set.created")
		if err != nil {
			return nil, err
		}
		return &policyv1.CreatePolicySetResponse{PolicySet: out.GetPolicySet(), PolicyVersion: out.GetPolicyVersion()}, nil
	})
}

// ListExchangeRateTables lists the rate tables, oldest published first.
func (s *Service) ListExchangeRateTables(ctx context.Context, req *connect.Request[policyv1.ListExchangeRateTablesRequest]) (*connect.Response[policyv1.ListExchangeRateTablesResponse], error) {
	filter := pagination.Filter("rate_tables")
	size, after, err := s.pager.Start(req.Msg, 50, 500, filter)
	if err != nil {
		return nil, err
	}
	q := s.store.Client.RateTable.Query()
	if after != "" {
		q = q.Where(ratetable.IDGT(after))
	}
	rows, err := q.Order(ent.Asc(ratetable.FieldID)).Limit(size + 1).All(ctx)
	if err != nil {
		return nil, fmt.Errorf("list rate tables: %w", err)
	}
	out := &policyv1.ListExchangeRateTablesResponse{}
	rows, out.NextPageToken = pagination.Page(s.pager, rows, size, filter, func(r *ent.RateTable) string { return r.ID })
	for _, row := range rows {
		r, err := ratesFromRow(row)
		if err != nil {
			return nil, err
		}
		out.ExchangeRateTables = append(out.ExchangeRateTables, ratesProto(r, row.CreateTime))
	}
	return connect.NewResponse(out), nil
}

// GetExchangeRates returns the table named, or the one in force at a time.
func (s *Service) GetExchangeRates(ctx context.Context, req *connect.Request[policyv1.GetExchangeRatesRequest]) (*connect.Response[policyv1.GetExchangeRatesResponse], error) {
	version := req.Msg.GetVersion()
	if version == "" {
		r, err := s.catalog.RatesAt(ctx, s.store.Client, s.at(req.Msg.GetInForceTime()))
		if err != nil {
			return nil, err
		}
		version = r.Version
	}
	row, err := s.store.Client.RateTable.Get(ctx, version)
	if ent.IsNotFound(err) {
		return nil, apierr.NotFound("exchange rate table", version)
	}
	if err != nil {
		return nil, err
	}
	r, err := ratesFromRow(row)
	if err != nil {
		return nil, err
	}
	return connect.NewResponse(&policyv1.GetExchangeRatesResponse{ExchangeRateTable: ratesProto(r, row.CreateTime)}), nil
}

// checkRates refuses a table that misses a currency the platform trades in, names another, or has a rate
// out of bounds, naming every field at fault.
func checkRates(rates []*policyv1.ExchangeRate) (map[string]int64, error) {
	out := map[string]int64{}
	var e *apierr.Error
	bad := func(reason commonv1.ErrorReason, field, format string, args ...any) {
		if e == nil {
			e = apierr.InvalidWith(reason, field, format, args...)
			return
		}
		e.Violations = append(e.Violations, &commonv1.FieldViolation{Field: field, Description: fmt.Sprintf(format, args...)})
	}
	for i, r := range rates {
		field := fmt.Sprintf("rates[%d]", i)
		switch c := r.GetCurrency(); {
		case !policy.Supported(c):
			bad(commonv1.ErrorReason_ERROR_REASON_UNSUPPORTED_CURRENCY, field+".currency", "%q is not a currency the platform trades in (%v)", c, policy.Currencies())
		case out[c] != 0:
			bad(commonv1.ErrorReason_ERROR_REASON_POLICY_PARAMETER_INVALID, field+".currency", "%s is given twice", c)
		case r.GetUsdMicros() <= 0 || r.GetUsdMicros() > maxUSDMicros:
			bad(commonv1.ErrorReason_ERROR_REASON_POLICY_PARAMETER_INVALID, field+".usd_micros", "must be from 1 to %d micro-USD per unit; got %d", int64(maxUSDMicros), r.GetUsdMicros())
		case c == "USD" && r.GetUsdMicros() != 1_000_000:
			bad(commonv1.ErrorReason_ERROR_REASON_POLICY_PARAMETER_INVALID, field+".usd_micros", "USD is 1000000 micro-USD by definition; got %d", r.GetUsdMicros())
		default:
			out[c] = r.GetUsdMicros()
		}
	}
	if e == nil {
		for _, c := range policy.Currencies() {
			if _, ok := out[c]; !ok {
				return nil, apierr.InvalidWith(commonv1.ErrorReason_ERROR_REASON_RATE_TABLE_INCOMPLETE, "rates",
					"the table has no rate for %s; give one for every currency the platform trades in (%v)", c, policy.Currencies()).With("currency", c)
			}
		}
		return out, nil
	}
	return nil, e
}

// PublishExchangeRates publishes a rate table.
func (s *Service) PublishExchangeRates(ctx context.Context, req *connect.Request[policyv1.PublishExchangeRatesRequest]) (*connect.Response[policyv1.PublishExchangeRatesResponse], error) {
	return run(ctx, s, req, func(tx *ent.Tx, p auth.Principal, now time.Time) (*policyv1.PublishExchangeRatesResponse, error) {
		m := req.Msg
		// The generation row's lock serializes publications (on Postgres a concurrent one waits here until
		// this commits), so the etag is checked against the database, not the cache, after it is taken.
		if err := bump(ctx, tx); err != nil {
			return nil, err
		}
		if m.GetEtag() != "" {
			cur, err := ratesAtDB(ctx, tx.Client(), now)
			if err != nil {
				return nil, err
			}
			if want := ratesProto(cur, now).GetEtag(); want != m.GetEtag() {
				return nil, apierr.New(connect.CodeAborted, commonv1.ErrorReason_ERROR_REASON_ETAG_MISMATCH,
					"the rate table in force changed since it was read; read it again").With("etag", want)
			}
		}
		rates, err := checkRates(m.GetRates())
		if err != nil {
			return nil, err
		}
		at, err := checkEffective(m.GetEffectiveTime(), now)
		if err != nil {
			return nil, err
		}
		r := policy.Rates{Version: policy.RatesID(at, rates), EffectiveTime: at, USDMicros: rates}
		if err := insertRates(ctx, tx, r, now); err != nil {
			if ent.IsConstraintError(err) {
				return nil, apierr.New(connect.CodeAlreadyExists, commonv1.ErrorReason_ERROR_REASON_POLICY_VERSION_EXISTS,
					"this rate table is already published (%s)", r.Version)
			}
			return nil, fmt.Errorf("publish rate table: %w", err)
		}
		out := ratesProto(r, now)
		if err := s.feed.Append(ctx, tx, events.Event{
			Type: "rates.published", SubjectType: "exchange_rates", SubjectID: r.Version, Revision: 1, Time: now, Actor: p, Payload: out,
		}); err != nil {
			return nil, err
		}
		return &policyv1.PublishExchangeRatesResponse{ExchangeRateTable: out}, nil
	})
}
