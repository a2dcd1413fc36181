package policies_test

import (
	"sync"
	"testing"
	"time"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	commonv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/common/v1"
	policyv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/policy/v1"
	"github.com/tradeassure/tradeassure/server/policy"
	"github.com/tradeassure/tradeassure/server/servertest"
)

// racers is how many operators write at once in the tests below.
const racers = 6

// race runs fn racers times at once and returns the errors, in no order.
func race(fn func(i int) error) []error {
	errs := make([]error, racers)
	var wg sync.WaitGroup
	for i := range racers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = fn(i)
		}()
	}
	wg.Wait()
	return errs
}

// oneWins wants exactly one nil error and every other one code with reason.
func oneWins(t *testing.T, what string, errs []error, code connect.Code, reason commonv1.ErrorReason) {
	t.Helper()
	won := 0
	for _, err := range errs {
		if err == nil {
			won++
			continue
		}
		servertest.WantError(t, err, code, reason)
	}
	if won != 1 {
		t.Fatalf("%s: %d of %d concurrent writes succeeded, want 1", what, won, racers)
	}
}

// TestConcurrentPublishesWithOneEtag: operators who all read the same etag publish at once; one version
// lands, the others are ABORTED (not all of them, as a check-then-write in read-committed allowed), and the
// set's revision moves once per version.
func TestConcurrentPublishesWithOneEtag(t *testing.T) {
	servertest.Each(t, func(t *testing.T, e *servertest.Env) {
		m := newMarket(t, e)
		set, err := m.operator.Policies.ListPolicySets(e.Ctx, connect.NewRequest(&policyv1.ListPolicySetsRequest{}))
		if err != nil {
			t.Fatal(err)
		}
		var retail *policyv1.PolicySet
		for _, s := range set.Msg.GetPolicySets() {
			if s.GetName() == policy.Retail {
				retail = s
			}
		}
		base := m.params(policy.Retail)
		errs := race(func(i int) error {
			p := m.params(policy.Retail)
			p.ReturnWindow = durationpb.New(base.GetReturnWindow().AsDuration() + day*time.Duration(i+1))
			_, err := m.operator.Policies.PublishPolicyVersion(e.Ctx, connect.NewRequest(&policyv1.PublishPolicyVersionRequest{
				Set: policy.Retail, Etag: retail.GetEtag(), Parameters: p}))
			return err
		})
		oneWins(t, "publish with one etag", errs, connect.CodeAborted, commonv1.ErrorReason_ERROR_REASON_ETAG_MISMATCH)
		l, err := m.operator.Policies.ListPolicyVersions(e.Ctx, connect.NewRequest(&policyv1.ListPolicyVersionsRequest{Set: policy.Retail}))
		if err != nil || len(l.Msg.GetPolicyVersions()) != 2 {
			t.Fatalf("versions after the race: %d, %v; want the shipped one and the winner", len(l.Msg.GetPolicyVersions()), err)
		}
		// Without an etag every publication lands and the revision counts each one.
		errs = race(func(i int) error {
			p := m.params(policy.Retail)
			p.ReturnShip = durationpb.New(day * time.Duration(20+i))
			_, err := m.operator.Policies.PublishPolicyVersion(e.Ctx, connect.NewRequest(&policyv1.PublishPolicyVersionRequest{
				Set: policy.Retail, Parameters: p}))
			return err
		})
		landed := 0
		for _, err := range errs {
			if err == nil {
				landed++
			} else {
				servertest.WantError(t, err, connect.CodeAborted, commonv1.ErrorReason_ERROR_REASON_ETAG_MISMATCH)
			}
		}
		set, err = m.operator.Policies.ListPolicySets(e.Ctx, connect.NewRequest(&policyv1.ListPolicySetsRequest{}))
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range set.Msg.GetPolicySets() {
			if s.GetName() == policy.Retail && s.GetRevision() != retail.GetRevision()+1+int64(landed) {
				t.Fatalf("revision %d after %d publications from %d", s.GetRevision(), 1+landed, retail.GetRevision())
			}
		}
	})
}

// TestConcurrentCreatesOfOneName: operators create the same set at once; one does, the others are told it
// exists (ALREADY_EXISTS, never INTERNAL from the key). Without request ids: a request id's retry on the
// key's conflict hid it.
func TestConcurrentCreatesOfOneName(t *testing.T) {
	servertest.Each(t, func(t *testing.T, e *servertest.Env) {
		m := newMarket(t, e)
		errs := race(func(i int) error {
			_, err := m.operator.Policies.CreatePolicySet(e.Ctx, connect.NewRequest(&policyv1.CreatePolicySetRequest{
				Name: "wholesale-eu", FromSet: policy.Retail}))
			return err
		})
		oneWins(t, "create one name", errs, connect.CodeAlreadyExists, commonv1.ErrorReason_ERROR_REASON_POLICY_SET_EXISTS)
	})
}

// TestConcurrentRatePublishesWithOneEtag: operators who read the same table in force publish at once with
// its etag; one table lands, the others are ABORTED.
func TestConcurrentRatePublishesWithOneEtag(t *testing.T) {
	servertest.Each(t, func(t *testing.T, e *servertest.Env) {
		m := newMarket(t, e)
		cur, err := m.operator.Policies.GetExchangeRates(e.Ctx, connect.NewRequest(&policyv1.GetExchangeRatesRequest{}))
		if err != nil {
			t.Fatal(err)
		}
		errs := race(func(i int) error {
			_, err := m.operator.Policies.PublishExchangeRates(e.Ctx, connect.NewRequest(&policyv1.PublishExchangeRatesRequest{
				Etag: cur.Msg.GetExchangeRateTable().GetEtag(), Rates: shippedRates(1_090_000 + int64(i))}))
			return err
		})
		oneWins(t, "publish rates with one etag", errs, connect.CodeAborted, commonv1.ErrorReason_ERROR_REASON_ETAG_MISMATCH)
		l, err := m.operator.Policies.ListExchangeRateTables(e.Ctx, connect.NewRequest(&policyv1.ListExchangeRateTablesRequest{}))
		if err != nil || len(l.Msg.GetExchangeRateTables()) != 2 {
			t.Fatalf("rate tables after the race: %d, %v", len(l.Msg.GetExchangeRateTables()), err)
		}
	})
}

// TestScheduledVersionKeepsItsPublishTime: a version published now to come into force tomorrow reads back
// (get and list) with the create time it was published at, as the publish response said, not tomorrow.
func TestScheduledVersionKeepsItsPublishTime(t *testing.T) {
	servertest.Each(t, func(t *testing.T, e *servertest.Env) {
		m := newMarket(t, e)
		p := m.params(policy.Retail)
		p.ReturnWindow = durationpb.New(21 * day)
		v := m.publish(policy.Retail, p, timestamppb.New(e.Clock.Now().Add(day)))
		g, err := m.buyer.Policies.GetPolicyVersion(e.Ctx, connect.NewRequest(&policyv1.GetPolicyVersionRequest{Set: policy.Retail, Version: v.GetVersion()}))
		if err != nil {
			t.Fatal(err)
		}
		if got, want := g.Msg.GetPolicyVersion().GetCreateTime().AsTime(), v.GetCreateTime().AsTime(); !got.Equal(want) || got.After(e.Clock.Now()) {
			t.Fatalf("create time read back %s, published at %s (now %s)", got, want, e.Clock.Now())
		}
	})
}
