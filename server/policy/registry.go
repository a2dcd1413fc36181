package policy

import (
	"fmt"
	"sync"

	commonv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/common/v1"
	policyv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/policy/v1"
)

// Loader finds a version this process has not seen, in a database; it reports false when it has none.
type Loader func(p commonv1.Policy, version string) (Set, bool)

type key struct {
	p       commonv1.Policy
	version string
}

// registry is every policy version this process knows. Versions are immutable and their ids unique per
// content, so an entry never goes stale and one registry serves every database the process opens.
var registry = struct {
	sync.RWMutex
	sets    map[key]Set
	params  map[key]*policyv1.PolicyParameters
	rates   map[string]Rates
	loaders []Loader
	// rateLoaders find rate tables another process published.
	rateLoaders []func(version string) (Rates, bool)
}{sets: map[key]Set{}, params: map[key]*policyv1.PolicyParameters{}, rates: map[string]Rates{}}

func init() {
	for _, s := range Sets() {
		Register(s)
	}
	RegisterRates(shippedRates)
}

// Register makes a version known to this process.
func Register(s Set) {
	params := s.Parameters()
	registry.Lock()
	registry.sets[key{s.Name, s.Version}] = s
	registry.params[key{s.Name, s.Version}] = params
	registry.Unlock()
}

// Known is a version this process knows with its numbers in their API form, built once when the version
// was registered (Set.Parameters walks the set by reflection). The message is shared by every caller and
// every response that carries it: it must never be modified.
type Known struct {
	Set
	Params *policyv1.PolicyParameters
}

// MustKnow is MustGet with the version's shared parameters message.
func MustKnow(p commonv1.Policy, v string) Known {
	s := MustGet(p, v)
	registry.RLock()
	params := registry.params[key{p, v}]
	registry.RUnlock()
	return Known{Set: s, Params: params}
}

// RegisterRates makes a rate table known to this process.
func RegisterRates(r Rates) {
	registry.Lock()
	registry.rates[r.Version] = r
	registry.Unlock()
}

// AddLoader adds a way to find versions another server process published (server/policies adds one per
// database it serves).
func AddLoader(l Loader) {
	registry.Lock()
	registry.loaders = append(registry.loaders, l)
	registry.Unlock()
}

func lookup(p commonv1.Policy, v string) (Set, bool) {
	registry.RLock()
	s, ok := registry.sets[key{p, v}]
	loaders := registry.loaders
	registry.RUnlock()
	if ok {
		return s, true
	}
	for _, l := range loaders {
		if s, ok := l(p, v); ok {
			Register(s)
			return s, true
		}
	}
	return Set{}, false
}

// AddRatesLoader adds a way to find rate tables another server process published.
func AddRatesLoader(l func(version string) (Rates, bool)) {
	registry.Lock()
	registry.rateLoaders = append(registry.rateLoaders, l)
	registry.Unlock()
}

// LookupRates returns a rate table by its version: the shipped one, one this process registered, or one a
// registered loader finds.
func LookupRates(version string) (Rates, error) {
	registry.RLock()
	r, ok := registry.rates[version]
	loaders := registry.rateLoaders
	registry.RUnlock()
	if ok {
		return r, nil
	}
	for _, l := range loaders {
		if r, ok := l(version); ok {
			RegisterRates(r)
			return r, nil
		}
	}
	return Rates{}, fmt.Errorf("no exchange-rate table %q", version)
}
