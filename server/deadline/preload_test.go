package deadline_test

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tradeassure/tradeassure/ent"
	"github.com/tradeassure/tradeassure/ent/setting"
	"github.com/tradeassure/tradeassure/server/deadline"
	"github.com/tradeassure/tradeassure/server/servertest"
	"github.com/tradeassure/tradeassure/server/storage"
)

// TestPreload checks the sweep's reading ahead of subjects (Engine.Preload). The subjects are versioned
// rows that handlers write back only at the version they read, as an order's changes are written at its
// revision. In one batch: x's handler also changes y, whose own deadline comes after it, so y's
// preloaded copy is out of date; w has two deadlines, so it is not read ahead; a kind without a handler
// follows them. Every handler applies exactly once (y's stale copy fails its write, and the batch is
// applied again one by one, reading anew), the handler-less deadline is dropped, and a loader that fails
// only costs the reading ahead.
func TestPreload(t *testing.T) {
	for _, engine := range servertest.Engines() {
		t.Run(engine, func(t *testing.T) {
			e := servertest.New(t, servertest.Options{Engine: engine})
			version := func(ctx context.Context, q *ent.SettingClient, id string) int {
				n, _ := strconv.Atoi(q.GetX(ctx, "subj_"+id).Value)
				return n
			}
			// bump writes subject id back at version v+1, failing when it is no longer at v.
			bump := func(ctx context.Context, tx *ent.Tx, id string, v int) error {
				n, err := tx.Setting.Update().Where(setting.ID("subj_"+id), setting.Value(strconv.Itoa(v))).
					SetValue(strconv.Itoa(v + 1)).Save(ctx)
				if err == nil && n == 0 {
					err = errors.New("subject " + id + " changed since it was read")
				}
				return err
			}
			var (
				asked      [][]string // the ids each loader call was given
				loaderFail bool
				preloaded  = map[string]int{} // deadlines that found their subject read ahead, by subject
			)
			eng := deadline.New(e.Store, e.Clock, slog.Default())
			eng.Preload("test", func(ctx context.Context, tx *ent.Tx, ids []string) (map[string]any, error) {
				asked = append(asked, slices.Sorted(slices.Values(ids)))
				if loaderFail {
					return nil, errors.New("loader unavailable")
				}
				out := map[string]any{}
				for _, id := range ids {
					out[id] = version(ctx, tx.Setting, id)
				}
				return out, nil
			})
			read := func(ctx context.Context, tx *ent.Tx, id string) int {
				if v, ok := deadline.Preloaded[int](ctx, "test", id); ok {
					preloaded[id]++
					return v
				}
				return version(ctx, tx.Setting, id)
			}
			handle := func(ctx context.Context, tx *ent.Tx, d *ent.Deadline, _ time.Time) error {
				if err := bump(ctx, tx, d.SubjectID, read(ctx, tx, d.SubjectID)); err != nil {
					return err
				}
				if d.Kind == "cascade" { // x's consequence changes y too
					return bump(ctx, tx, "y", version(ctx, tx.Setting, "y"))
				}
				return nil
			}
			eng.Handle("cascade", handle)
			eng.Handle("bump", handle)
			eng.Handle("bump2", handle)

			now := e.Clock.Now()
			for _, id := range []string{"w", "x", "y", "z", "v"} {
				e.Store.Client.Setting.Create().SetID("subj_" + id).SetValue("0").ExecX(e.Ctx)
			}
			// Due one second apart, in this order.
			for i, d := range []struct{ subject, kind string }{
				{"x", "cascade"}, {"w", "bump"}, {"y", "bump"}, {"w", "bump2"}, {"z", "bump"}, {"z", "orphan"},
			} {
				schedule(t, e, d.subject, d.kind, now.Add(time.Hour+time.Duration(i)*time.Second))
			}
			e.Clock.Set(now.Add(time.Hour + time.Minute))
			if n, err := eng.RunDue(e.Ctx); err != nil || n != 5 {
				t.Fatalf("sweep: %d applied, %v; want 5", n, err)
			}
			if want := [][]string{{"x", "y", "z"}}; !slices.EqualFunc(asked, want, slices.Equal[[]string]) {
				t.Fatalf("loader asked for %v, want %v (w has two deadlines; the orphan has no handler)", asked, want)
			}
			for id, want := range map[string]int{"x": 1, "y": 2, "w": 2, "z": 1} {
				if got := version(e.Ctx, e.Store.Client.Setting, id); got != want {
					t.Fatalf("subject %s at version %d, want %d (each of its deadlines applied once)", id, got, want)
				}
			}
			if preloaded["x"] != 1 || preloaded["y"] != 1 || preloaded["w"] != 0 {
				t.Fatalf("read ahead: %v; want x and y once (the first attempt), w never", preloaded)
			}
			if s := states(t, e, "z"); s["orphan/no handler"] != "dropped" || s["bump/applied"] != "done" {
				t.Fatalf("z's deadlines = %v, want the orphan dropped and the bump applied", s)
			}

			// A failing loader: the batch is applied one by one, each handler reading its own subject.
			loaderFail = true
			schedule(t, e, "v", "bump", e.Clock.Now().Add(time.Hour))
			schedule(t, e, "x", "bump", e.Clock.Now().Add(time.Hour))
			e.Clock.Set(e.Clock.Now().Add(time.Hour))
			if n, err := eng.RunDue(e.Ctx); err != nil || n != 2 {
				t.Fatalf("sweep with a failing loader: %d applied, %v; want 2", n, err)
			}
			if v, x := version(e.Ctx, e.Store.Client.Setting, "v"), version(e.Ctx, e.Store.Client.Setting, "x"); v != 1 || x != 2 {
				t.Fatalf("after the failing loader: v at %d, x at %d; want 1 and 2", v, x)
			}
		})
	}
}

// TestDeferredRowsFailTogether checks the rows a batch's handlers leave to the batch's end
// (storage.Defer): they are inserted together once every handler has applied; when that insert fails
// (here two handlers' rows collide), the batch is applied again one by one, each handler inserting its
// own rows, so that only the colliding one fails and stays pending while its neighbours apply.
func TestDeferredRowsFailTogether(t *testing.T) {
	for _, engine := range servertest.Engines() {
		t.Run(engine, func(t *testing.T) {
			e := servertest.New(t, servertest.Options{Engine: engine, RecordStatements: true})
			eng := deadline.New(e.Store, e.Clock, slog.Default())
			deferred := 0
			eng.Defers("effect")
			eng.Handle("effect", func(ctx context.Context, tx *ent.Tx, d *ent.Deadline, _ time.Time) error {
				id := "applied_" + d.SubjectID + "_" + d.ID
				if d.SubjectID == "twin" || d.SubjectID == "twin2" {
					id = "applied_twins" // the two twins' effects collide
				}
				if storage.Defer(ctx, setting.Table, setting.Columns, id, "1") {
					deferred++
					return nil
				}
				return tx.Setting.Create().SetID(id).SetValue("1").Exec(ctx)
			})
			now := e.Clock.Now()
			for _, s := range []string{"a", "twin", "b", "twin2", "c"} {
				schedule(t, e, s, "effect", now.Add(time.Hour))
			}
			e.Clock.Set(now.Add(time.Hour))
			e.Statements.Reset()
			if n, err := eng.RunDue(e.Ctx); err != nil || n != 4 {
				t.Fatalf("sweep: %d applied, %v; want 4 (the second twin fails)", n, err)
			}
			if deferred != 5 {
				t.Fatalf("%d rows deferred, want the five of the first attempt", deferred)
			}
			if got := applied(t, e, "a", "b", "c"); got["a"] != 1 || got["b"] != 1 || got["c"] != 1 {
				t.Fatalf("applied = %v, want each neighbour once", got)
			}
			if n := e.Store.Client.Setting.Query().Where(setting.ID("applied_twins")).CountX(e.Ctx); n != 1 {
				t.Fatalf("%d twin effects, want one", n)
			}
			pending := 0
			for _, s := range []string{"twin", "twin2"} {
				if states(t, e, s)["effect/"] == "pending" {
					pending++
				}
			}
			if pending != 1 {
				t.Fatalf("%d twins pending, want exactly one", pending)
			}
			inserts := 0
			for _, s := range e.Statements.List() {
				if strings.HasPrefix(s, "INSERT") && strings.Contains(s, "settings") && strings.Count(s, "), (") == 4 {
					inserts++
				}
			}
			if inserts != 1 {
				t.Fatalf("%d multi-row inserts of the five deferred rows, want the one that failed:\n%s", inserts,
					strings.Join(e.Statements.List(), "\n"))
			}
		})
	}
}

// TestDeferredBeforeOtherKinds checks where a batch sends what its deferring handlers (Defers) left to
// it: before the handler of a kind that does not defer, which therefore reads it and writes its own
// rows at once, and at the batch's end; the functions left to run after the rows (storage.DeferAfter)
// run once the rows they refer to are written.
func TestDeferredBeforeOtherKinds(t *testing.T) {
	for _, engine := range servertest.Engines() {
		t.Run(engine, func(t *testing.T) {
			e := servertest.New(t, servertest.Options{Engine: engine})
			eng := deadline.New(e.Store, e.Clock, slog.Default())
			eng.Defers("deferring")
			afterSaw := map[string]int{}
			eng.Handle("deferring", func(ctx context.Context, tx *ent.Tx, d *ent.Deadline, _ time.Time) error {
				id := "applied_" + d.SubjectID + "_" + d.ID
				if !storage.Defer(ctx, setting.Table, setting.Columns, id, "1") {
					return tx.Setting.Create().SetID(id).SetValue("1").Exec(ctx)
				}
				storage.DeferAfter(ctx, func(ctx context.Context) error {
					afterSaw[d.SubjectID] = tx.Setting.Query().Where(setting.ID(id)).CountX(ctx)
					return nil
				})
				return nil
			})
			var seen int
			deferringInReader := true
			eng.Handle("reading", func(ctx context.Context, tx *ent.Tx, d *ent.Deadline, _ time.Time) error {
				deferringInReader = storage.Deferring(ctx)
				seen = tx.Setting.Query().Where(setting.IDGT("applied_"), setting.IDLT("applied_~")).CountX(ctx)
				return tx.Setting.Create().SetID("applied_" + d.SubjectID + "_" + d.ID).SetValue("1").Exec(ctx)
			})
			now := e.Clock.Now()
			for _, s := range []struct{ subject, kind string }{{"a", "deferring"}, {"b", "deferring"}, {"r", "reading"}, {"c", "deferring"}} {
				schedule(t, e, s.subject, s.kind, now.Add(time.Hour))
			}
			e.Clock.Set(now.Add(time.Hour))
			if n, err := eng.RunDue(e.Ctx); err != nil || n != 4 {
				t.Fatalf("sweep: %d applied, %v; want 4", n, err)
			}
			if seen != 2 || deferringInReader {
				t.Fatalf("the reading handler saw %d rows (deferring: %v), want the 2 deferred before it, written", seen, deferringInReader)
			}
			if got := applied(t, e, "a", "b", "r", "c"); got["a"] != 1 || got["b"] != 1 || got["r"] != 1 || got["c"] != 1 {
				t.Fatalf("applied = %v, want each once", got)
			}
			if afterSaw["a"] != 1 || afterSaw["b"] != 1 || afterSaw["c"] != 1 {
				t.Fatalf("the functions run after the rows saw %v, want each its own row", afterSaw)
			}
		})
	}
}
