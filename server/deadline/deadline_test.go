package deadline_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tradeassure/tradeassure/ent"
	entdeadline "github.com/tradeassure/tradeassure/ent/deadline"
	"github.com/tradeassure/tradeassure/ent/setting"
	"github.com/tradeassure/tradeassure/server/deadline"
	"github.com/tradeassure/tradeassure/server/servertest"
)

func schedule(t *testing.T, e *servertest.Env, subject, kind string, due time.Time) {
	t.Helper()
	err := e.Store.WithTx(e.Ctx, func(tx *ent.Tx) error {
		return deadline.Schedule(e.Ctx, tx, "test", subject, kind, due, e.Clock.Now())
	})
	if err != nil {
		t.Fatal(err)
	}
}

func states(t *testing.T, e *servertest.Env, subject string) map[string]string {
	t.Helper()
	rows, err := e.Store.Client.Deadline.Query().Where(entdeadline.SubjectID(subject)).All(e.Ctx)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, r := range rows {
		out[r.Kind+"/"+r.Outcome] = string(r.State)
	}
	return out
}

// record is a handler's effect: a setting row per applied deadline, so that only committed applications
// count (a handler may run again after its batch is rolled back; see Handler).
func record(ctx context.Context, tx *ent.Tx, d *ent.Deadline) error {
	return tx.Setting.Create().SetID("applied_" + d.SubjectID + "_" + d.ID).SetValue("1").Exec(ctx)
}

// applied counts the committed applications per subject among subjects.
func applied(t *testing.T, e *servertest.Env, subjects ...string) map[string]int {
	t.Helper()
	out := map[string]int{}
	for _, s := range subjects {
		p := "applied_" + s + "_"
		out[s] = e.Store.Client.Setting.Query().Where(setting.IDGT(p), setting.IDLT(p+"~")).CountX(e.Ctx)
	}
	return out
}

// TestEngine checks due deadlines are applied once, not before they are due; stale ones are dropped; a
// failing handler leaves its deadline pending without blocking the others; rescheduling replaces.
func TestEngine(t *testing.T) {
	for _, engine := range servertest.Engines() {
		t.Run(engine, func(t *testing.T) {
			e := servertest.New(t, servertest.Options{Engine: engine})
			eng := deadline.New(e.Store, e.Clock, slog.Default())
			fail := true
			eng.Handle("apply", func(ctx context.Context, tx *ent.Tx, d *ent.Deadline, _ time.Time) error {
				return record(ctx, tx, d)
			})
			eng.Handle("stale", func(context.Context, *ent.Tx, *ent.Deadline, time.Time) error { return deadline.ErrStale })
			eng.Handle("flaky", func(ctx context.Context, tx *ent.Tx, d *ent.Deadline, _ time.Time) error {
				if err := record(ctx, tx, d); err != nil {
					return err
				}
				if fail {
					return errors.New("downstream unavailable")
				}
				return nil
			})
			now := e.Clock.Now()
			schedule(t, e, "a", "apply", now.Add(time.Hour))
			schedule(t, e, "b", "flaky", now.Add(time.Hour))
			schedule(t, e, "c", "stale", now.Add(time.Hour))
			schedule(t, e, "d", "apply", now.Add(time.Hour))
			schedule(t, e, "d", "apply", now.Add(2*time.Hour)) // replaces the first

			e.Clock.Set(now.Add(time.Hour - time.Second))
			if n, err := eng.RunDue(e.Ctx); err != nil || n != 0 {
				t.Fatalf("before due: %d %v", n, err)
			}
			e.Clock.Set(now.Add(time.Hour))
			if _, err := eng.RunDue(e.Ctx); err != nil {
				t.Fatal(err)
			}
			if got := applied(t, e, "a", "b", "d"); got["a"] != 1 || got["b"] != 0 || got["d"] != 0 {
				t.Fatalf("applied = %v", got)
			}
			if s := states(t, e, "c"); s["stale/stale"] != "dropped" {
				t.Fatalf("stale deadline = %v", s)
			}
			if s := states(t, e, "b"); s["flaky/"] != "pending" {
				t.Fatalf("failed deadline = %v", s)
			}
			fail = false
			e.Clock.Set(now.Add(2 * time.Hour))
			if _, err := eng.RunDue(e.Ctx); err != nil {
				t.Fatal(err)
			}
			if _, err := eng.RunDue(e.Ctx); err != nil {
				t.Fatal(err)
			}
			if got := applied(t, e, "a", "b", "d"); got["a"] != 1 || got["b"] != 1 || got["d"] != 1 {
				t.Fatalf("applied = %v", got)
			}
			if s := states(t, e, "d"); s["apply/cancelled"] != "dropped" || s["apply/applied"] != "done" {
				t.Fatalf("rescheduled deadline = %v", s)
			}
		})
	}
}

// TestSuspendResume checks a suspended deadline does not run however late it gets, and that resuming it
// restarts it with the time it had left: due one second before that, not before; due after it, applied once.
func TestSuspendResume(t *testing.T) {
	for _, engine := range servertest.Engines() {
		t.Run(engine, func(t *testing.T) {
			e := servertest.New(t, servertest.Options{Engine: engine})
			eng := deadline.New(e.Store, e.Clock, slog.Default())
			eng.Handle("apply", func(ctx context.Context, tx *ent.Tx, d *ent.Deadline, _ time.Time) error {
				return record(ctx, tx, d)
			})
			start := e.Clock.Now()
			schedule(t, e, "s", "apply", start.Add(10*time.Hour))
			schedule(t, e, "other", "apply", start.Add(10*time.Hour))
			// Suspended with 6 hours (and half a second, rounded up to a second) left.
			e.Clock.Set(start.Add(4*time.Hour - 500*time.Millisecond))
			tx := func(fn func(tx *ent.Tx) error) {
				t.Helper()
				if err := e.Store.WithTx(e.Ctx, fn); err != nil {
					t.Fatal(err)
				}
			}
			tx(func(tx *ent.Tx) error { return deadline.Suspend(e.Ctx, tx, "test", "s", e.Clock.Now()) })
			if s := states(t, e, "s"); s["apply/"] != "suspended" {
				t.Fatalf("suspended deadline = %v", s)
			}
			e.Clock.Set(start.Add(100 * time.Hour))
			if _, err := eng.RunDue(e.Ctx); err != nil {
				t.Fatal(err)
			}
			if got := applied(t, e, "s", "other"); got["s"] != 0 || got["other"] != 1 {
				t.Fatalf("applied while suspended = %v", got)
			}
			resumed := e.Clock.Now()
			tx(func(tx *ent.Tx) error { return deadline.Resume(e.Ctx, tx, "test", "s", resumed) })
			left := 6*time.Hour + time.Second
			e.Clock.Set(resumed.Add(left - time.Second))
			if n, err := eng.RunDue(e.Ctx); err != nil || n != 0 || applied(t, e, "s")["s"] != 0 {
				t.Fatalf("one second before the resumed due time: %d %v", n, err)
			}
			e.Clock.Set(resumed.Add(left))
			if _, err := eng.RunDue(e.Ctx); err != nil {
				t.Fatal(err)
			}
			if _, err := eng.RunDue(e.Ctx); err != nil {
				t.Fatal(err)
			}
			if got := applied(t, e, "s"); got["s"] != 1 {
				t.Fatalf("applied after resume = %v", got)
			}
			if got := deadline.Remaining(start, start.Add(time.Second)); got != 0 {
				t.Fatalf("remaining of a passed deadline = %v", got)
			}
		})
	}
}

// TestBatchIsolatesFailures runs more due deadlines than one batch holds, with one failing and one stale
// among them, each handler writing a row before it answers, on two engines running at once (two
// "processes" on one database). Every good deadline is applied exactly once with its row kept; the
// failing and the stale one leave no row (rolled back alone, not their neighbours); the failing one
// stays pending and is applied alone on a later run once it succeeds.
func TestBatchIsolatesFailures(t *testing.T) {
	for _, engine := range servertest.Engines() {
		if engine == "sqlite" {
			engine = "sqlite-file"
		}
		t.Run(engine, func(t *testing.T) {
			e := servertest.New(t, servertest.Options{Engine: engine})
			var failing atomic.Bool
			failing.Store(true)
			// The handler's effect is a setting row named after the subject, so a rollback shows.
			write := func(ctx context.Context, tx *ent.Tx, d *ent.Deadline) error {
				return tx.Setting.Create().SetID("applied_" + d.SubjectID).SetValue("1").Exec(ctx)
			}
			engines := []*deadline.Engine{deadline.New(e.Store, e.Clock, slog.Default()), deadline.New(e.Store, e.Clock, slog.Default())}
			for _, eng := range engines {
				eng.Handle("apply", func(ctx context.Context, tx *ent.Tx, d *ent.Deadline, _ time.Time) error {
					if err := write(ctx, tx, d); err != nil {
						return err
					}
					switch {
					case d.SubjectID == "s_stale":
						return deadline.ErrStale
					case d.SubjectID == "s_fail" && failing.Load():
						return errors.New("downstream unavailable")
					}
					return nil
				})
			}
			now := e.Clock.Now()
			const n = 430 // more than two batches on either engine
			for i := 0; i < n; i++ {
				schedule(t, e, fmt.Sprintf("s_%03d", i), "apply", now.Add(time.Minute))
			}
			schedule(t, e, "s_fail", "apply", now.Add(time.Minute))
			schedule(t, e, "s_stale", "apply", now.Add(time.Minute))
			e.Clock.Set(now.Add(time.Minute))

			var wg sync.WaitGroup
			counts := make([]int, len(engines))
			for i, eng := range engines {
				wg.Add(1)
				go func() {
					defer wg.Done()
					c, err := eng.RunDue(e.Ctx)
					if err != nil {
						t.Error(err)
					}
					counts[i] = c
				}()
			}
			wg.Wait()
			if counts[0]+counts[1] != n {
				t.Fatalf("applied %v, want %d in all", counts, n)
			}
			rows := e.Store.Client.Setting.Query().Where(setting.IDGTE("applied_"), setting.IDLT("applied`")).CountX(e.Ctx)
			if rows != n {
				t.Fatalf("%d effects kept, want %d (the failing and the stale one rolled back alone)", rows, n)
			}
			if s := states(t, e, "s_fail"); s["apply/"] != "pending" {
				t.Fatalf("failing deadline = %v, want pending", s)
			}
			if s := states(t, e, "s_stale"); s["apply/stale"] != "dropped" {
				t.Fatalf("stale deadline = %v, want dropped", s)
			}
			failing.Store(false)
			if c, err := engines[0].RunDue(e.Ctx); err != nil || c != 1 {
				t.Fatalf("retry: %d %v, want the failing one applied", c, err)
			}
			if s := states(t, e, "s_fail"); s["apply/applied"] != "done" {
				t.Fatalf("retried deadline = %v", s)
			}
		})
	}
}

// TestHandlerCancelsItsOwnKind checks a handler that leaves the state its own timer belongs to (and so
// cancels that timer's kind with others, as a state machine's move does) ends applied, not cancelled,
// while the other kinds it cancels on its subject are dropped and the same kind on another subject is
// untouched, in the optimistic batch and in the one-by-one fallback alike (a stale neighbour forces it).
func TestHandlerCancelsItsOwnKind(t *testing.T) {
	for _, engine := range servertest.Engines() {
		t.Run(engine, func(t *testing.T) {
			e := servertest.New(t, servertest.Options{Engine: engine})
			eng := deadline.New(e.Store, e.Clock, slog.Default())
			eng.Handle("leave", func(ctx context.Context, tx *ent.Tx, d *ent.Deadline, now time.Time) error {
				if d.SubjectID == "stale" {
					return deadline.ErrStale
				}
				if err := deadline.CancelKinds(ctx, tx, "test", d.SubjectID, []string{"leave", "other"}, now); err != nil {
					return err
				}
				return record(ctx, tx, d)
			})
			eng.Handle("other", func(context.Context, *ent.Tx, *ent.Deadline, time.Time) error { return nil })
			now := e.Clock.Now()
			for _, batch := range []struct {
				name     string
				subjects []string
			}{{"optimistic", []string{"a"}}, {"fallback", []string{"b", "stale"}}} {
				for _, s := range batch.subjects {
					schedule(t, e, s, "leave", now.Add(time.Hour))
					schedule(t, e, s, "other", now.Add(48*time.Hour))
				}
				schedule(t, e, "bystander-"+batch.name, "leave", now.Add(24*time.Hour))
				e.Clock.Set(now.Add(time.Hour))
				if _, err := eng.RunDue(e.Ctx); err != nil {
					t.Fatal(err)
				}
				s := batch.subjects[0]
				if got := states(t, e, s); got["leave/applied"] != "done" || got["other/cancelled"] != "dropped" || len(got) != 2 {
					t.Fatalf("%s: deadlines of %s = %v, want the applied one done and the other kind cancelled", batch.name, s, got)
				}
				if got := applied(t, e, s); got[s] != 1 {
					t.Fatalf("%s: applied %v", batch.name, got)
				}
				if got := states(t, e, "bystander-"+batch.name); got["leave/"] != "pending" {
					t.Fatalf("%s: the same kind on another subject = %v, want pending", batch.name, got)
				}
				now = e.Clock.Now()
			}
		})
	}
}

// TestOwnKindCostsNoStatement checks cancelling only the kind being applied (a timer-driven move out of
// the timer's state, as an order's close) sends no statement: the deadline's only update is the sweep's
// mark.
func TestOwnKindCostsNoStatement(t *testing.T) {
	for _, engine := range servertest.Engines() {
		t.Run(engine, func(t *testing.T) {
			e := servertest.New(t, servertest.Options{Engine: engine, RecordStatements: true})
			eng := deadline.New(e.Store, e.Clock, slog.Default())
			eng.Handle("leave", func(ctx context.Context, tx *ent.Tx, d *ent.Deadline, now time.Time) error {
				return deadline.CancelKinds(ctx, tx, "test", d.SubjectID, []string{"leave"}, now)
			})
			now := e.Clock.Now()
			schedule(t, e, "solo", "leave", now.Add(time.Hour))
			e.Clock.Set(now.Add(time.Hour))
			e.Statements.Reset()
			if n, err := eng.RunDue(e.Ctx); err != nil || n != 1 {
				t.Fatalf("run: %d %v", n, err)
			}
			updates := 0
			for _, s := range e.Statements.List() {
				if strings.HasPrefix(s, "UPDATE") && strings.Contains(s, "deadlines") {
					updates++
				}
			}
			if updates != 1 {
				t.Fatalf("%d updates of deadlines, want only the mark:\n%s", updates, strings.Join(e.Statements.List(), "\n"))
			}
			if got := states(t, e, "solo"); got["leave/applied"] != "done" {
				t.Fatalf("deadline = %v", got)
			}
		})
	}
}
