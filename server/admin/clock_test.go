package admin_test

import (
	"math"
	"testing"
	"time"

	"connectrpc.com/connect"

	adminv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/admin/v1"
	commonv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/common/v1"
	"github.com/tradeassure/tradeassure/server/clock"
	"github.com/tradeassure/tradeassure/server/servertest"
)

// TestAdvanceClockBounds checks one move is at most 400 days and all moves together at most
// clock.MaxOffset: just inside moves, just outside answers INVALID_ARGUMENT, and nothing overflows.
func TestAdvanceClockBounds(t *testing.T) {
	for _, engine := range servertest.Engines() {
		t.Run(engine, func(t *testing.T) {
			e := servertest.New(t, servertest.Options{Engine: engine, Dev: true})
			op := e.Staff(commonv1.Role_ROLE_OPERATOR)
			advance := func(seconds int64) (*adminv1.AdvanceClockResponse, error) {
				resp, err := op.Admin.AdvanceClock(e.Ctx, connect.NewRequest(&adminv1.AdvanceClockRequest{Seconds: seconds}))
				if err != nil {
					return nil, err
				}
				return resp.Msg, nil
			}
			for _, s := range []int64{0, -1, 34560001, math.MaxInt64, math.MinInt64} {
				_, err := advance(s)
				servertest.WantError(t, err, connect.CodeInvalidArgument, commonv1.ErrorReason_ERROR_REASON_INVALID_FIELD)
			}
			const step = 34560000 // 400 days, the most one move may take
			maxSeconds := int64(clock.MaxOffset / time.Second)
			moved := int64(0)
			for moved+step <= maxSeconds {
				if _, err := advance(step); err != nil {
					t.Fatalf("after %d s: %v", moved, err)
				}
				moved += step
			}
			last, err := advance(maxSeconds - moved) // just inside
			if err != nil {
				t.Fatalf("up to the limit: %v", err)
			}
			if got, want := last.GetNow().AsTime(), servertest.Start.Add(clock.MaxOffset); !got.Equal(want) {
				t.Fatalf("clock at %v, want %v", got, want)
			}
			_, err = advance(1) // just outside
			servertest.WantError(t, err, connect.CodeInvalidArgument, commonv1.ErrorReason_ERROR_REASON_TIME_OUT_OF_RANGE)
			if got, want := servertest.Detail(err).GetMetadata()["latest"], servertest.Start.Add(clock.MaxOffset).Format(time.RFC3339); got != want {
				t.Fatalf("latest %q, want %q", got, want)
			}
			now, err := op.Admin.GetClock(e.Ctx, connect.NewRequest(&adminv1.GetClockRequest{}))
			if err != nil || !now.Msg.GetNow().AsTime().Equal(last.GetNow().AsTime()) {
				t.Fatalf("a refused move changed the clock: %v %v", now.Msg.GetNow().AsTime(), err)
			}
		})
	}
}
