// Package policies keeps the policy sets and exchange-rate tables in the database and serves them:
// Catalog is the cached lookup every service uses ("the version in force at this time"), Service
// implements PolicyService (read by every principal, published by operators). See docs/policies.md.
package policies

import (
	"context"
	"fmt"
	"sort"
	"sync"
	"time"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/proto"

	"github.com/tradeassure/tradeassure/ent"
	entpolicyset "github.com/tradeassure/tradeassure/ent/policyset"
	"github.com/tradeassure/tradeassure/ent/policyversion"
	"github.com/tradeassure/tradeassure/ent/ratetable"
	"github.com/tradeassure/tradeassure/ent/setting"
	commonv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/common/v1"
	policyv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/policy/v1"
	"github.com/tradeassure/tradeassure/server/apierr"
	"github.com/tradeassure/tradeassure/server/policy"
	"github.com/tradeassure/tradeassure/server/resource"
	"github.com/tradeassure/tradeassure/server/storage"
)

// generationKey is the setting every publication changes, so every process on the database sees, at its
// next check, that its copy is stale.
const generationKey = "policy_generation"

// DefaultInterval is how often a Catalog checks the generation: how long a version another process
// published may take to reach this one.
const DefaultInterval = time.Second

// Catalog is the policy sets, their versions and the rate tables of one database, held in memory. Versions
// never change once published, so the copy is stale only when something was published: a lookup checks the
// generation setting at most once per interval (one primary-key read), and this process's own
// publications reset the copy at once. New orders therefore add no query to read their policy.
type Catalog struct {
	store    *storage.Store
	interval time.Duration
	cached   bool

	mu      sync.Mutex
	epoch   int       // goes up with every Invalidate
	checked time.Time // by the wall clock: the interval is about freshness, not the dev clock
	gen     string
	sets    map[string]*setEntry
	rates   []policy.Rates // by effective time
}

type setEntry struct {
	row      *ent.PolicySet
	versions []policy.Set // by effective time
}

// Option configures a Catalog.
type Option func(*Catalog)

// WithInterval sets how often the catalog checks for publications by other processes.
func WithInterval(d time.Duration) Option { return func(c *Catalog) { c.interval = d } }

// Uncached makes every lookup read the database (the benchmarks' baseline).
func Uncached() Option { return func(c *Catalog) { c.cached = false } }

// Open seeds the shipped sets and rate table into the database if they are not there yet (idempotently, on
// any number of processes starting at once), loads the catalog and registers it as the loader of versions
// other processes publish.
func Open(ctx context.Context, store *storage.Store, opts ...Option) (*Catalog, error) {
	c := &Catalog{store: store, interval: DefaultInterval, cached: true}
	for _, o := range opts {
		o(c)
	}
	if err := seed(ctx, store); err != nil {
		return nil, err
	}
	if err := c.reload(ctx, store.Client); err != nil {
		return nil, err
	}
	policy.AddLoader(c.loadVersion)
	policy.AddRatesLoader(c.loadRates)
	return c, nil
}

// seed stores the shipped versions, each in its own transaction: a concurrent start storing the same row
// makes the insert fail on its key, and the row is there either way.
func seed(ctx context.Context, store *storage.Store) error {
	for _, s := range policy.Sets() {
		err := store.WithTx(ctx, func(tx *ent.Tx) error {
			if ok, err := tx.PolicySet.Query().Where(entpolicyset.ID(s.SetName)).Exist(ctx); err != nil || ok {
				return err
			}
			if err := tx.PolicySet.Create().SetID(s.SetName).SetProgramme(programmeToEnt[s.Name]).
				SetCreateTime(s.EffectiveTime).SetEtag(resource.Etag(s.SetName, 1)).Exec(ctx); err != nil {
				return err
			}
			return insertVersion(ctx, tx, s)
		})
		if err != nil && !ent.IsConstraintError(err) {
			return fmt.Errorf("seed policy set %s: %w", s.SetName, err)
		}
	}
	r := policy.ShippedRates()
	err := store.WithTx(ctx, func(tx *ent.Tx) error {
		if ok, err := tx.RateTable.Query().Where(ratetable.ID(r.Version)).Exist(ctx); err != nil || ok {
			return err
		}
		return insertRates(ctx, tx, r, r.EffectiveTime)
	})
	if err != nil && !ent.IsConstraintError(err) {
		return fmt.Errorf("seed rate table: %w", err)
	}
	return nil
}

var programmeToEnt = map[commonv1.Policy]entpolicyset.Programme{
	commonv1.Policy_POLICY_TRADE_ASSURANCE: entpolicyset.ProgrammeTradeAssurance,
	commonv1.Policy_POLICY_RETAIL:          entpolicyset.ProgrammeRetail,
}

var programmeFromEnt = resource.Invert(programmeToEnt)

func insertVersion(ctx context.Context, tx *ent.Tx, s policy.Set) error {
	b, err := proto.Marshal(s.Parameters())
	if err != nil {
		return err
	}
	return tx.PolicyVersion.Create().SetID(resource.ID("pv_")).SetSetName(s.SetName).
		SetProgramme(policyversion.Programme(programmeToEnt[s.Name])).SetVersion(s.Version).
		SetEffectiveTime(s.EffectiveTime).SetParameters(b).SetCreateTime(s.EffectiveTime).Exec(ctx)
}

func insertRates(ctx context.Context, tx *ent.Tx, r policy.Rates, now time.Time) error {
	return tx.RateTable.Create().SetID(r.Version).SetEffectiveTime(r.EffectiveTime).
		SetRates(resource.Marshal(ratesProto(r, now))).SetCreateTime(now).Exec(ctx)
}

func versionFromRow(row *ent.PolicyVersion) (policy.Set, error) {
	params := &policyv1.PolicyParameters{}
	if err := proto.Unmarshal(row.Parameters, params); err != nil {
		return policy.Set{}, fmt.Errorf("read policy version %s: %w", row.Version, err)
	}
	s := policy.Set{
		Name: programmeFromEnt[entpolicyset.Programme(row.Programme)], SetName: row.SetName,
		Version: row.Version, EffectiveTime: row.EffectiveTime.UTC(),
	}
	return s.WithParameters(params), nil
}

func ratesFromRow(row *ent.RateTable) (policy.Rates, error) {
	t := &policyv1.ExchangeRateTable{}
	if err := proto.Unmarshal(row.Rates, t); err != nil {
		return policy.Rates{}, fmt.Errorf("read rate table %s: %w", row.ID, err)
	}
	r := policy.Rates{Version: row.ID, EffectiveTime: row.EffectiveTime.UTC(), USDMicros: map[string]int64{}}
	for _, x := range t.GetRates() {
		r.USDMicros[x.GetCurrency()] = x.GetUsdMicros()
	}
	return r, nil
}

// load reads every set, version and rate table through q (a transaction's client inside one), and
// registers the versions and tables with the process.
func load(ctx context.Context, q *ent.Client) (string, map[string]*setEntry, []policy.Rates, error) {
	gen, err := generation(ctx, q)
	if err != nil {
		return "", nil, nil, err
	}
	setRows, err := q.PolicySet.Query().All(ctx)
	if err != nil {
		return "", nil, nil, fmt.Errorf("load policy sets: %w", err)
	}
	versionRows, err := q.PolicyVersion.Query().Order(ent.Asc(policyversion.FieldEffectiveTime), ent.Asc(policyversion.FieldID)).All(ctx)
	if err != nil {
		return "", nil, nil, fmt.Errorf("load policy versions: %w", err)
	}
	rateRows, err := q.RateTable.Query().Order(ent.Asc(ratetable.FieldEffectiveTime), ent.Asc(ratetable.FieldCreateTime)).All(ctx)
	if err != nil {
		return "", nil, nil, fmt.Errorf("load rate tables: %w", err)
	}
	sets := map[string]*setEntry{}
	for _, r := range setRows {
		sets[r.ID] = &setEntry{row: r}
	}
	for _, row := range versionRows {
		s, err := versionFromRow(row)
		if err != nil {
			return "", nil, nil, err
		}
		policy.Register(s)
		if e := sets[s.SetName]; e != nil {
			e.versions = append(e.versions, s)
		}
	}
	var rates []policy.Rates
	for _, row := range rateRows {
		r, err := ratesFromRow(row)
		if err != nil {
			return "", nil, nil, err
		}
		policy.RegisterRates(r)
		rates = append(rates, r)
	}
	return gen, sets, rates, nil
}

func generation(ctx context.Context, q *ent.Client) (string, error) {
	g, err := q.Setting.Query().Where(setting.ID(generationKey)).Only(ctx)
	if ent.IsNotFound(err) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("read policy generation: %w", err)
	}
	return g.Value, nil
}

func (c *Catalog) reload(ctx context.Context, q *ent.Client) error {
	_, _, err := c.view(ctx, q)
	return err
}

// view is the copy, brought up to date when the interval has passed and the generation changed. No lock
// is held while the database is read: a caller inside a transaction may hold the only connection another
// caller's read waits for. A reload that raced a publication of this process (Invalidate) is used once but
// not kept.
func (c *Catalog) view(ctx context.Context, q *ent.Client) (map[string]*setEntry, []policy.Rates, error) {
	c.mu.Lock()
	epoch, gen, sets, rates := c.epoch, c.gen, c.sets, c.rates
	if sets != nil && time.Since(c.checked) < c.interval {
		c.mu.Unlock()
		return sets, rates, nil
	}
	c.mu.Unlock()
	checked := time.Now()
	if sets != nil {
		g, err := generation(ctx, q)
		if err != nil {
			return nil, nil, err
		}
		if g == gen {
			c.mu.Lock()
			if c.epoch == epoch {
				c.checked = checked
			}
			c.mu.Unlock()
			return sets, rates, nil
		}
	}
	gen, sets, rates, err := load(ctx, q)
	if err != nil {
		return nil, nil, err
	}
	c.mu.Lock()
	if c.epoch == epoch {
		c.gen, c.sets, c.rates, c.checked = gen, sets, rates, checked
	}
	c.mu.Unlock()
	return sets, rates, nil
}

// Invalidate makes the next lookup reload; a publication calls it once committed.
func (c *Catalog) Invalidate() {
	c.mu.Lock()
	c.epoch++
	c.sets = nil
	c.mu.Unlock()
}

// InForce is the version of the named set in force at t, read through q (the caller's transaction client,
// or the store's). It is NOT_FOUND for an unknown set and FAILED_PRECONDITION before the set's first version.
func (c *Catalog) InForce(ctx context.Context, q *ent.Client, set string, t time.Time) (policy.Set, error) {
	if !c.cached {
		return inForceUncached(ctx, q, set, t)
	}
	sets, _, err := c.view(ctx, q)
	if err != nil {
		return policy.Set{}, err
	}
	e := sets[set]
	if e == nil {
		return policy.Set{}, unknownSet(set)
	}
	return versionAt(set, e.versions, t)
}

func unknownSet(set string) error {
	return apierr.New(connect.CodeNotFound, commonv1.ErrorReason_ERROR_REASON_POLICY_SET_NOT_FOUND,
		"policy set %q not found; ListPolicySets lists them", set).With("set", set)
}

func versionAt(set string, versions []policy.Set, t time.Time) (policy.Set, error) {
	i := sort.Search(len(versions), func(i int) bool { return versions[i].EffectiveTime.After(t) })
	if i == 0 {
		e := apierr.Precondition(commonv1.ErrorReason_ERROR_REASON_TOO_EARLY,
			"policy set %q has no version in force at %s yet", set, t.UTC().Format(time.RFC3339))
		if len(versions) > 0 {
			e = e.With("first_effective_time", versions[0].EffectiveTime.Format(time.RFC3339))
		}
		return policy.Set{}, e
	}
	return versions[i-1], nil
}

func inForceUncached(ctx context.Context, q *ent.Client, set string, t time.Time) (policy.Set, error) {
	row, err := q.PolicyVersion.Query().Where(policyversion.SetName(set), policyversion.EffectiveTimeLTE(t)).
		Order(ent.Desc(policyversion.FieldEffectiveTime), ent.Desc(policyversion.FieldID)).First(ctx)
	if ent.IsNotFound(err) {
		if ok, err := q.PolicySet.Query().Where(entpolicyset.ID(set)).Exist(ctx); err != nil {
			return policy.Set{}, err
		} else if !ok {
			return policy.Set{}, unknownSet(set)
		}
		return versionAt(set, nil, t)
	}
	if err != nil {
		return policy.Set{}, fmt.Errorf("read policy version: %w", err)
	}
	return versionFromRow(row)
}

// RatesAt is the rate table in force at t.
func (c *Catalog) RatesAt(ctx context.Context, q *ent.Client, t time.Time) (policy.Rates, error) {
	if !c.cached {
		row, err := q.RateTable.Query().Where(ratetable.EffectiveTimeLTE(t)).
			Order(ent.Desc(ratetable.FieldEffectiveTime), ent.Desc(ratetable.FieldCreateTime)).First(ctx)
		if err != nil {
			return policy.Rates{}, fmt.Errorf("read rate table: %w", err)
		}
		return ratesFromRow(row)
	}
	_, rates, err := c.view(ctx, q)
	if err != nil {
		return policy.Rates{}, err
	}
	i := sort.Search(len(rates), func(i int) bool { return rates[i].EffectiveTime.After(t) })
	if i == 0 {
		return policy.ShippedRates(), nil
	}
	return rates[i-1], nil
}

// loadVersion finds a version another process published (the registry's loader).
func (c *Catalog) loadVersion(p commonv1.Policy, version string) (policy.Set, bool) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	row, err := c.store.Client.PolicyVersion.Query().
		Where(policyversion.ProgrammeEQ(policyversion.Programme(programmeToEnt[p])), policyversion.Version(version)).Only(ctx)
	if err != nil {
		return policy.Set{}, false
	}
	s, err := versionFromRow(row)
	return s, err == nil
}

// loadRates finds a rate table another process published (the registry's loader).
func (c *Catalog) loadRates(version string) (policy.Rates, bool) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	row, err := c.store.Client.RateTable.Get(ctx, version)
	if err != nil {
		return policy.Rates{}, false
	}
	r, err := ratesFromRow(row)
	return r, err == nil
}

// bump changes the generation within tx, so every process reloads at its next check.
func bump(ctx context.Context, tx *ent.Tx) error {
	return tx.Setting.Create().SetID(generationKey).SetValue(resource.ID("gen_")).
		OnConflictColumns(setting.FieldID).UpdateNewValues().Exec(ctx)
}
