package idempotency_test

import (
	"fmt"
	"sort"
	"testing"
	"time"

	"github.com/tradeassure/tradeassure/server/idempotency"
	"github.com/tradeassure/tradeassure/server/servertest"
)

// TestSweepKeepsRetention stores request ids around the retention edge and checks Sweep deletes exactly
// those stored more than Retention ago (just outside), keeps the one stored exactly Retention ago and
// the younger ones (just inside), and deletes more than one batch.
func TestSweepKeepsRetention(t *testing.T) {
	for _, engine := range servertest.Engines() {
		t.Run(engine, func(t *testing.T) {
			e := servertest.New(t, servertest.Options{Engine: engine})
			now := e.Clock.Now()
			ages := map[string]time.Duration{
				"just-outside": idempotency.Retention + time.Second,
				"at-edge":      idempotency.Retention,
				"just-inside":  idempotency.Retention - time.Second,
				"fresh":        0,
			}
			for name, age := range ages {
				e.Store.Client.IdempotencyKey.Create().SetPrincipalID("acc_1").SetProcedure("/p").SetRequestID(name).
					SetRequestHash([]byte{1}).SetResponse([]byte{}).SetCreateTime(now.Add(-age)).ExecX(e.Ctx)
			}
			const old = 1500 // more than one sweep batch
			for i := 0; i < old; i++ {
				e.Store.Client.IdempotencyKey.Create().SetPrincipalID("acc_2").SetProcedure("/p").SetRequestID(fmt.Sprint(i)).
					SetRequestHash([]byte{1}).SetResponse([]byte{}).SetCreateTime(now.Add(-40 * 24 * time.Hour)).ExecX(e.Ctx)
			}
			n, err := idempotency.Sweep(e.Ctx, e.Store, now)
			if err != nil {
				t.Fatal(err)
			}
			if n != old+1 {
				t.Fatalf("swept %d, want %d", n, old+1)
			}
			var left []string
			for _, k := range e.Store.Client.IdempotencyKey.Query().AllX(e.Ctx) {
				left = append(left, k.RequestID)
			}
			sort.Strings(left)
			if fmt.Sprint(left) != "[at-edge fresh just-inside]" {
				t.Fatalf("kept %v", left)
			}
		})
	}
}
