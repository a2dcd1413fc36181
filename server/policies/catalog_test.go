package policies_test

import (
	"errors"
	"sync"
	"testing"
	"time"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/types/known/durationpb"

	commonv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/common/v1"
	policyv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/policy/v1"
	"github.com/tradeassure/tradeassure/server/apierr"
	"github.com/tradeassure/tradeassure/server/policies"
	"github.com/tradeassure/tradeassure/server/policy"
	"github.com/tradeassure/tradeassure/server/servertest"
)

// TestSeedIsIdempotent opens the catalog again, several times at once, on a database its server already
// seeded: the shipped sets and rate table are there once each.
func TestSeedIsIdempotent(t *testing.T) {
	for _, engine := range servertest.Engines() {
		t.Run(engine, func(t *testing.T) {
			e := servertest.New(t, servertest.Options{Engine: engine})
			var wg sync.WaitGroup
			errs := make([]error, 4)
			for i := range errs {
				wg.Add(1)
				go func() { defer wg.Done(); _, errs[i] = policies.Open(e.Ctx, e.Store) }()
			}
			wg.Wait()
			for _, err := range errs {
				if err != nil {
					t.Fatalf("open: %v", err)
				}
			}
			if n := e.Store.Client.PolicySet.Query().CountX(e.Ctx); n != 2 {
				t.Fatalf("%d policy sets, want 2", n)
			}
			if n := e.Store.Client.PolicyVersion.Query().CountX(e.Ctx); n != 2 {
				t.Fatalf("%d policy versions, want 2", n)
			}
			if n := e.Store.Client.RateTable.Query().CountX(e.Ctx); n != 1 {
				t.Fatalf("%d rate tables, want 1", n)
			}
		})
	}
}

// TestOtherProcessSeesPublication: a catalog on the same database (as in another server process) sees a
// version published through the server once its interval has passed, and not before.
func TestOtherProcessSeesPublication(t *testing.T) {
	for _, engine := range servertest.Engines() {
		t.Run(engine, func(t *testing.T) {
			e := servertest.New(t, servertest.Options{Engine: engine})
			other, err := policies.Open(e.Ctx, e.Store, policies.WithInterval(time.Hour))
			if err != nil {
				t.Fatal(err)
			}
			fresh, err := policies.Open(e.Ctx, e.Store, policies.WithInterval(0))
			if err != nil {
				t.Fatal(err)
			}
			op := e.Staff(commonv1.Role_ROLE_OPERATOR)
			p := policy.MustGet(commonv1.Policy_POLICY_TRADE_ASSURANCE, policy.Current).Parameters()
			p.ReturnWindow = durationpb.New(10 * day)
			r, err := op.Policies.PublishPolicyVersion(e.Ctx, connect.NewRequest(&policyv1.PublishPolicyVersionRequest{Set: policy.TradeAssurance, Parameters: p}))
			if err != nil {
				t.Fatal(err)
			}
			now := e.Clock.Now()
			if v, err := other.InForce(e.Ctx, e.Store.Client, policy.TradeAssurance, now); err != nil || v.Version != policy.Current {
				t.Fatalf("within its interval: %s %v, want the version it had", v.Version, err)
			}
			v, err := fresh.InForce(e.Ctx, e.Store.Client, policy.TradeAssurance, now)
			if err != nil || v.Version != r.Msg.GetPolicyVersion().GetVersion() || v.ReturnWindow != 10*day {
				t.Fatalf("after its interval: %s %v", v.Version, err)
			}
			uncached, err := policies.Open(e.Ctx, e.Store, policies.Uncached())
			if err != nil {
				t.Fatal(err)
			}
			if u, err := uncached.InForce(e.Ctx, e.Store.Client, policy.TradeAssurance, now); err != nil || u.Version != v.Version {
				t.Fatalf("uncached: %s %v", u.Version, err)
			}
			if _, err := fresh.InForce(e.Ctx, e.Store.Client, "no-such-set", now); !isNotFound(err) {
				t.Fatalf("unknown set: %v", err)
			}
		})
	}
}

func isNotFound(err error) bool {
	var e *apierr.Error
	return errors.As(err, &e) && e.Code == connect.CodeNotFound
}
