// Package deadline is the durable timer engine every service shares. A deadline is a row (subject, kind,
// due time). A worker claims due rows and applies each one's consequence in the same transaction that
// marks the row done; the handler first re-checks that the consequence is still possible, and a stale
// deadline is dropped, never applied. On Postgres, rows are claimed with FOR UPDATE SKIP LOCKED, so
// several server processes on one database never apply a deadline twice; on SQLite, write transactions
// are exclusive.
package deadline

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync/atomic"
	"time"

	"entgo.io/ent/dialect"
	entsql "entgo.io/ent/dialect/sql"
	"github.com/google/uuid"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"

	"github.com/tradeassure/tradeassure/ent"
	entdeadline "github.com/tradeassure/tradeassure/ent/deadline"
	"github.com/tradeassure/tradeassure/server/clock"
	"github.com/tradeassure/tradeassure/server/storage"
)

// ErrStale is returned by a handler when its consequence is no longer possible; the deadline is dropped.
var ErrStale = errors.New("deadline is stale")

// Handler applies the consequence of a due deadline within tx, at time now. Its effects must be in tx
// only: a sweep may roll a handler's work back and run it again (when a neighbour in its batch fails or
// is stale), so work outside the database would happen twice; what commits is applied exactly once.
type Handler func(ctx context.Context, tx *ent.Tx, d *ent.Deadline, now time.Time) error

// Engine runs due deadlines.
type Engine struct {
	store    *storage.Store
	clock    clock.Clock
	log      *slog.Logger
	handlers map[string]Handler
	loaders  map[string]Loader // by subject type (Preload)
	defers   map[string]bool   // kinds whose handlers' writes a batch may defer (Defers)
	// tracer spans each deadline run; observe is told each run's kind and outcome (see Instrument).
	tracer  trace.Tracer
	observe func(kind, outcome string)
	// running is whether Run is looping; heartbeat is when its last pass began or ended (Unix nanos).
	running   atomic.Bool
	heartbeat atomic.Int64
}

// Instrument sets the tracer of the spans around deadline runs and a function told the kind and outcome
// ("applied", "stale", "no handler", "failed") of each run, for metrics.
func (e *Engine) Instrument(tracer trace.Tracer, observe func(kind, outcome string)) {
	e.tracer, e.observe = tracer, observe
}

// Alive reports whether Run is looping and its last pass began or ended within stall (the worker is not
// stuck), for readiness checks.
func (e *Engine) Alive(stall time.Duration) bool {
	return e.running.Load() && time.Since(time.Unix(0, e.heartbeat.Load())) <= stall
}

// New returns an engine with no handlers.
func New(store *storage.Store, clk clock.Clock, log *slog.Logger) *Engine {
	return &Engine{store: store, clock: clk, log: log, handlers: map[string]Handler{},
		loaders: map[string]Loader{}, defers: map[string]bool{}, tracer: noop.NewTracerProvider().Tracer(""), observe: func(string, string) {}}
}

// Handle registers the handler of a deadline kind.
func (e *Engine) Handle(kind string, h Handler) { e.handlers[kind] = h }

// Defers declares that the handlers of kinds change only their own subject, at the revision they read it
// at, and otherwise read nothing that another handler of these kinds writes: the sweep's whole-batch
// attempt runs them under one storage.Deferred, so that the writes they leave to it (their subjects'
// updates, events, revision entries) are sent for the whole run of them at once. Before any other kind's
// handler the collected writes are sent, so that it reads them.
func (e *Engine) Defers(kinds ...string) {
	for _, k := range kinds {
		e.defers[k] = true
	}
}

// Schedule sets the deadline of kind on a subject to due, within tx, replacing any pending one of the
// same kind.
func Schedule(ctx context.Context, tx *ent.Tx, subjectType, subjectID, kind string, due, now time.Time) error {
	if err := Cancel(ctx, tx, subjectType, subjectID, kind, now); err != nil {
		return err
	}
	err := tx.Deadline.Create().SetID("dl_" + uuid.Must(uuid.NewV7()).String()).
		SetSubjectType(subjectType).SetSubjectID(subjectID).SetKind(kind).
		SetDueTime(due).SetCreateTime(now).Exec(ctx)
	if err != nil {
		return fmt.Errorf("schedule %s deadline of %s %s: %w", kind, subjectType, subjectID, err)
	}
	return nil
}

// Cancel drops the pending deadline of kind on a subject, within tx.
func Cancel(ctx context.Context, tx *ent.Tx, subjectType, subjectID, kind string, now time.Time) error {
	return CancelKinds(ctx, tx, subjectType, subjectID, []string{kind}, now)
}

// CancelKinds drops the pending (or suspended) deadlines of the kinds on a subject, within tx, in one
// statement.
func CancelKinds(ctx context.Context, tx *ent.Tx, subjectType, subjectID string, kinds []string, now time.Time) error {
	if d, ok := ctx.Value(applyingKey{}).(*ent.Deadline); ok && d.SubjectType == subjectType && d.SubjectID == subjectID &&
		slices.Contains(kinds, d.Kind) {
		// The deadline being applied is the only pending one of its kind on its subject (Schedule replaces),
		// and the sweep marks it done in this transaction: nothing is left to cancel of its kind.
		kinds = slices.DeleteFunc(slices.Clone(kinds), func(k string) bool { return k == d.Kind })
	}
	if len(kinds) == 0 {
		return nil
	}
	_, err := tx.Deadline.Update().Where(
		entdeadline.SubjectType(subjectType), entdeadline.SubjectID(subjectID), entdeadline.KindIn(kinds...),
		entdeadline.StateIn(entdeadline.StatePending, entdeadline.StateSuspended),
	).SetState(entdeadline.StateDropped).SetFinishTime(now).SetOutcome("cancelled").Save(ctx)
	if err != nil {
		return fmt.Errorf("cancel %v deadlines of %s %s: %w", kinds, subjectType, subjectID, err)
	}
	return nil
}

// applyingKey is the context key of the deadline a handler is applying.
type applyingKey struct{}

// batchSize is how many due deadlines one transaction claims and applies. On SQLite the batch holds the
// one write lock, so it stays small enough that API writes waiting behind it wait little: a batch of 200
// order timers, whose writes are sent together (Defers), holds it about 10 ms on the project machine
// (the sweep applies 18,000–19,000 a second there; batches of 100 gave 15,500–18,400 in the same
// alternation, docs/benchmarks.md). On Postgres a batch locks only its own deadlines and subjects.
const batchSize = 200

// outcome is what became of one claimed deadline.
type outcome struct {
	state   entdeadline.State
	outcome string
	err     error      // the handler's failure: the deadline stays pending
	span    trace.Span // the deadline's run, ended once its transaction has committed or failed
}

// RunDue applies every deadline due by now and returns how many it applied (stale ones are dropped and
// not counted). Due deadlines are claimed batchSize at a time (on Postgres with FOR UPDATE SKIP LOCKED,
// so processes claim disjoint batches) and applied in one transaction, each handler re-checking its own
// deadline (applyBatch): a failing or stale one is rolled back alone, never its neighbours, and the batch
// is then marked in one statement per outcome. A deadline whose handler fails is left pending for the
// next run.
func (e *Engine) RunDue(ctx context.Context) (int, error) {
	// Another process may have moved the development clock.
	if err := clock.Sync(ctx, e.clock); err != nil {
		return 0, err
	}
	applied := 0
	var failed []string
	for {
		now := e.clock.Now()
		var (
			claimed  []*ent.Deadline
			outcomes []outcome
		)
		err := e.store.WithTx(ctx, func(tx *ent.Tx) error {
			q := tx.Deadline.Query().Where(
				entdeadline.StateEQ(entdeadline.StatePending), entdeadline.DueTimeLTE(now),
			).Order(entdeadline.ByDueTime(), entdeadline.ByID()).Limit(batchSize)
			if len(failed) > 0 {
				q = q.Where(entdeadline.IDNotIn(failed...))
			}
			if e.store.Dialect == dialect.Postgres {
				q = q.ForUpdate(entsql.WithLockAction(entsql.SkipLocked))
			}
			var err error
			if claimed, err = q.All(ctx); err != nil {
				return fmt.Errorf("claim deadlines: %w", err)
			}
			if outcomes, err = e.applyBatch(ctx, tx, claimed, now); err != nil {
				return err
			}
			return mark(ctx, tx, claimed, outcomes, now)
		})
		for i, o := range outcomes {
			if o.span == nil {
				continue
			}
			name := o.outcome
			if o.err != nil || err != nil {
				name = "failed"
				o.span.RecordError(errors.Join(o.err, err))
				o.span.SetStatus(codes.Error, "deadline failed")
			}
			o.span.SetAttributes(attribute.String("deadline.outcome", name))
			o.span.End()
			e.observe(claimed[i].Kind, name)
		}
		if err != nil {
			return applied, err
		}
		if len(claimed) == 0 {
			return applied, nil
		}
		for i, o := range outcomes {
			d := claimed[i]
			switch {
			case o.err != nil:
				e.log.ErrorContext(ctx, "deadline failed; it stays pending", "deadline", d.ID,
					"kind", d.Kind, "subject", d.SubjectID, "error", o.err)
				failed = append(failed, d.ID)
			case o.state == entdeadline.StateDone:
				applied++
				e.log.DebugContext(ctx, "deadline applied", "deadline", d.ID, "kind", d.Kind, "subject", d.SubjectID)
			}
		}
	}
}

// applyBatch applies the claimed deadlines within tx. It first runs every handler one after another
// inside one savepoint, which is all a batch needs when each of them applies (two statements per
// deadline fewer than a savepoint each), with the subjects read ahead (Preload) and the writes of the
// handlers that defer them (Defers) sent together (storage.Deferred). If any is stale or fails, or a
// deferred write fails, the attempt is rolled back as a whole and the batch is applied again deadline by
// deadline, each in its own savepoint (apply), so that only the stale or failing one is rolled back; the
// claimed rows stay locked throughout. The error is a savepoint's own (the transaction is lost).
func (e *Engine) applyBatch(ctx context.Context, tx *ent.Tx, claimed []*ent.Deadline, now time.Time) ([]outcome, error) {
	if len(claimed) == 0 {
		return nil, nil
	}
	outcomes := make([]outcome, len(claimed))
	ctxs := make([]context.Context, len(claimed))
	for i, d := range claimed {
		var span trace.Span
		ctxs[i], span = e.tracer.Start(context.WithValue(ctx, applyingKey{}, d), "deadline "+d.Kind, trace.WithNewRoot(),
			trace.WithAttributes(attribute.String("deadline.id", d.ID), attribute.String("deadline.subject", d.SubjectID)))
		outcomes[i] = outcome{state: entdeadline.StateDone, outcome: "applied", span: span}
	}
	if _, err := tx.ExecContext(ctx, "SAVEPOINT deadlines"); err != nil {
		return outcomes, fmt.Errorf("apply %d deadlines: %w", len(claimed), err)
	}
	for i, d := range claimed {
		if _, ok := e.handlers[d.Kind]; !ok {
			outcomes[i].state, outcomes[i].outcome = entdeadline.StateDropped, "no handler"
		}
	}
	whole := true
	subjects, err := e.preload(ctx, tx, claimed)
	if err != nil {
		// Not the transaction's failure: the deadlines are applied one by one below, reading their own.
		e.log.WarnContext(ctx, "deadline subjects not read ahead", "error", err)
		whole = false
	}
	// The writes the deferring handlers (Defers) leave to the batch are sent together: before the next
	// handler of another kind, and at the batch's end.
	rows := &storage.Deferred{}
	flush := func() {
		err := rows.Flush(ctx, tx)
		switch {
		case errors.Is(err, storage.ErrMoved):
			// A subject read ahead had changed (as a stale copy makes any handler fail): applied one by
			// one below, each reading its own.
			e.log.DebugContext(ctx, "deadline batch applied one by one", "reason", err)
			whole = false
		case err != nil:
			// Applied one by one below, each writing its own rows, so that a failing one stays alone.
			e.log.WarnContext(ctx, "deadline batch's writes not sent together", "error", err)
			whole = false
		}
	}
	for i, d := range claimed {
		h, ok := e.handlers[d.Kind]
		if !whole || !ok {
			continue
		}
		hctx := context.WithValue(ctxs[i], preloadedKey{}, subjects)
		if e.defers[d.Kind] {
			hctx = storage.WithDeferred(hctx, rows)
		} else if flush(); !whole {
			break
		}
		if err := h(hctx, tx, d, now); err != nil {
			whole = false
		}
	}
	if whole {
		flush()
	}
	end := "RELEASE SAVEPOINT deadlines"
	if !whole {
		end = "ROLLBACK TO SAVEPOINT deadlines"
	}
	if _, err := tx.ExecContext(ctx, end); err != nil {
		return outcomes, fmt.Errorf("apply %d deadlines: %w", len(claimed), err)
	}
	if whole {
		return outcomes, nil
	}
	if _, err := tx.ExecContext(ctx, "RELEASE SAVEPOINT deadlines"); err != nil {
		return outcomes, fmt.Errorf("apply %d deadlines: %w", len(claimed), err)
	}
	for i, d := range claimed {
		if h, ok := e.handlers[d.Kind]; ok {
			if err := apply(ctxs[i], tx, h, d, now, &outcomes[i]); err != nil {
				return outcomes, err
			}
		}
	}
	return outcomes, nil
}

// apply runs one claimed deadline's handler h within tx, in a savepoint that is released when it applies
// and rolled back when it is stale or fails, and records in o (which says applied until then) what
// became of it. The error is the savepoint's own (the transaction is lost).
func apply(ctx context.Context, tx *ent.Tx, h Handler, d *ent.Deadline, now time.Time, o *outcome) error {
	if _, err := tx.ExecContext(ctx, "SAVEPOINT deadline"); err != nil {
		o.err = err
		return fmt.Errorf("apply deadline %s: %w", d.ID, err)
	}
	end := "RELEASE SAVEPOINT deadline"
	if err := h(ctx, tx, d, now); errors.Is(err, ErrStale) {
		o.state, o.outcome, end = entdeadline.StateDropped, "stale", "ROLLBACK TO SAVEPOINT deadline"
	} else if err != nil {
		o.err, end = err, "ROLLBACK TO SAVEPOINT deadline"
	}
	if _, err := tx.ExecContext(ctx, end); err != nil {
		o.err = err
		return fmt.Errorf("apply deadline %s: %w", d.ID, err)
	}
	if end != "RELEASE SAVEPOINT deadline" {
		if _, err := tx.ExecContext(ctx, "RELEASE SAVEPOINT deadline"); err != nil {
			o.err = err
			return fmt.Errorf("apply deadline %s: %w", d.ID, err)
		}
	}
	return nil
}

// mark records the outcomes of a batch, one statement per outcome; failed deadlines stay pending.
func mark(ctx context.Context, tx *ent.Tx, claimed []*ent.Deadline, outcomes []outcome, now time.Time) error {
	type key struct {
		state   entdeadline.State
		outcome string
	}
	groups := map[key][]string{}
	var order []key
	for i, o := range outcomes {
		if o.err != nil {
			continue
		}
		k := key{o.state, o.outcome}
		if _, ok := groups[k]; !ok {
			order = append(order, k)
		}
		groups[k] = append(groups[k], claimed[i].ID)
	}
	for _, k := range order {
		if err := tx.Deadline.Update().Where(entdeadline.IDIn(groups[k]...)).
			SetState(k.state).SetFinishTime(now).SetOutcome(k.outcome).Exec(ctx); err != nil {
			return fmt.Errorf("mark %d deadlines %s: %w", len(groups[k]), k.outcome, err)
		}
	}
	return nil
}

// Run applies due deadlines every interval until ctx ends.
func (e *Engine) Run(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	e.running.Store(true)
	defer e.running.Store(false)
	for {
		e.heartbeat.Store(time.Now().UnixNano())
		if _, err := e.RunDue(ctx); err != nil && ctx.Err() == nil {
			e.log.ErrorContext(ctx, "run deadlines", "error", err)
		}
		e.heartbeat.Store(time.Now().UnixNano())
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Remaining is the time left until due at now, in whole seconds rounded up (never negative): what a
// suspended deadline keeps, so that a resumed deadline never falls due earlier than it would have.
func Remaining(due, now time.Time) time.Duration {
	left := due.Sub(now)
	if left <= 0 {
		return 0
	}
	return (left + time.Second - 1).Truncate(time.Second)
}

// Suspend stops every pending deadline of a subject, within tx: each keeps the time it had left (see
// Remaining) and is not run until Resume.
func Suspend(ctx context.Context, tx *ent.Tx, subjectType, subjectID string, now time.Time) error {
	rows, err := tx.Deadline.Query().Where(entdeadline.SubjectType(subjectType), entdeadline.SubjectID(subjectID),
		entdeadline.StateEQ(entdeadline.StatePending)).All(ctx)
	if err != nil {
		return fmt.Errorf("suspend deadlines of %s %s: %w", subjectType, subjectID, err)
	}
	for _, d := range rows {
		left := int64(Remaining(d.DueTime, now) / time.Second)
		if err := tx.Deadline.UpdateOneID(d.ID).SetState(entdeadline.StateSuspended).SetRemainingSeconds(left).
			Exec(ctx); err != nil {
			return fmt.Errorf("suspend deadline %s: %w", d.ID, err)
		}
	}
	return nil
}

// Resume restarts every suspended deadline of a subject, within tx, due at now plus the time it had left.
func Resume(ctx context.Context, tx *ent.Tx, subjectType, subjectID string, now time.Time) error {
	rows, err := tx.Deadline.Query().Where(entdeadline.SubjectType(subjectType), entdeadline.SubjectID(subjectID),
		entdeadline.StateEQ(entdeadline.StateSuspended)).All(ctx)
	if err != nil {
		return fmt.Errorf("resume deadlines of %s %s: %w", subjectType, subjectID, err)
	}
	for _, d := range rows {
		due := now.Add(time.Duration(d.RemainingSeconds) * time.Second)
		if err := tx.Deadline.UpdateOneID(d.ID).SetState(entdeadline.StatePending).SetDueTime(due).
			SetRemainingSeconds(0).Exec(ctx); err != nil {
			return fmt.Errorf("resume deadline %s: %w", d.ID, err)
		}
	}
	return nil
}
