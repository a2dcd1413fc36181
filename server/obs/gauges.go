package obs

import (
	"context"
	"fmt"
	"sync"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"

	"github.com/tradeassure/tradeassure/ent"
	entdeadline "github.com/tradeassure/tradeassure/ent/deadline"
	entevent "github.com/tradeassure/tradeassure/ent/event"
	"github.com/tradeassure/tradeassure/server/clock"
	"github.com/tradeassure/tradeassure/server/ledger"
	"github.com/tradeassure/tradeassure/server/storage"
	"github.com/tradeassure/tradeassure/server/webhook"
)

// Sources are what the gauges read at scrape time. They read the database, so every process on one
// database reports the same backlog, feed head and webhook queues.
type Sources struct {
	Store *storage.Store
	Clock clock.Clock
	// Webhooks, when set, reports the webhook outbox.
	Webhooks *webhook.Webhooks
	// Finished tells the ledger reconciliation which orders are finished (order.Finished).
	Finished ledger.Finished
}

// scrapeTimeout bounds the database reads of one scrape.
const scrapeTimeout = 5 * time.Second

// Observe registers the gauges read from src at each scrape: the deadline backlog and the lag of the
// oldest due deadline (by kind), the event feed head, the webhook outbox per endpoint, the connection pool
// and the last ledger reconciliation.
func (o *Obs) Observe(src Sources) error {
	o.src = src
	m := o.meter
	var err error
	gauge := func(name, unit, desc string) metric.Float64ObservableGauge {
		g, e := m.Float64ObservableGauge(name, metric.WithUnit(unit), metric.WithDescription(desc))
		if err == nil {
			err = e
		}
		return g
	}
	counter := func(name, unit, desc string) metric.Int64ObservableCounter {
		c, e := m.Int64ObservableCounter(name, metric.WithUnit(unit), metric.WithDescription(desc))
		if err == nil {
			err = e
		}
		return c
	}
	due := gauge("tradeassure.deadline.due", "{deadline}", "Pending deadlines already due (the worker's backlog), by kind.")
	lag := gauge("tradeassure.deadline.lag", "s", "How long the oldest due pending deadline has been due, by kind.")
	head := gauge("tradeassure.events.head", "{event}", "Id of the newest event in the feed.")
	pending := gauge("tradeassure.webhook.pending", "{delivery}", "Webhook deliveries waiting, by endpoint.")
	queueLag := gauge("tradeassure.webhook.lag", "s", "How long the oldest waiting webhook delivery has waited, by endpoint.")
	delivered := counter("tradeassure.webhook.deliveries", "{delivery}", "Finished webhook deliveries, by endpoint and outcome (succeeded, failed).")
	attempts := counter("tradeassure.webhook.failed_attempts", "{attempt}", "Failed webhook delivery attempts, retries included, by endpoint.")
	conns := gauge("db.client.connection.count", "{connection}", "Open database connections, by state (idle, used).")
	maxConns := gauge("db.client.connection.max", "{connection}", "Most open database connections allowed (0: no limit).")
	waits := counter("db.client.connection.waits", "{wait}", "Times a caller waited for a free database connection.")
	waitTime := gauge("db.client.connection.wait_time", "s", "Total time callers waited for a free database connection.")
	reconciled := gauge("tradeassure.ledger.reconciled", "1", "1 when the last ledger reconciliation found every currency balanced and no finished order holding escrow, else 0.")
	reconciledAt := gauge("tradeassure.ledger.reconcile.time", "s", "When the last ledger reconciliation finished (Unix time).")
	reconcileErrs := counter("tradeassure.ledger.reconcile.errors", "{check}", "Ledger reconciliations that could not run.")
	if err != nil {
		return err
	}
	pool := attribute.String("db.client.connection.pool.name", src.Store.Dialect)
	_, err = m.RegisterCallback(func(ctx context.Context, ob metric.Observer) error {
		ctx, cancel := context.WithTimeout(ctx, scrapeTimeout)
		defer cancel()
		st := src.Store.DB.Stats()
		ob.ObserveFloat64(conns, float64(st.Idle), metric.WithAttributes(pool, attribute.String("db.client.connection.state", "idle")))
		ob.ObserveFloat64(conns, float64(st.InUse), metric.WithAttributes(pool, attribute.String("db.client.connection.state", "used")))
		ob.ObserveFloat64(maxConns, float64(st.MaxOpenConnections), metric.WithAttributes(pool))
		ob.ObserveInt64(waits, st.WaitCount, metric.WithAttributes(pool))
		ob.ObserveFloat64(waitTime, st.WaitDuration.Seconds(), metric.WithAttributes(pool))

		if r, ok := o.reconcile.last(); ok {
			v := 0.0
			if r.ok {
				v = 1
			}
			ob.ObserveFloat64(reconciled, v)
			ob.ObserveFloat64(reconciledAt, float64(r.at.Unix()))
		}
		ob.ObserveInt64(reconcileErrs, o.reconcile.errorCount())

		var errs []error
		if err := observeDeadlines(ctx, src, ob, due, lag); err != nil {
			errs = append(errs, err)
		}
		if id, err := src.Store.Client.Event.Query().Order(ent.Desc(entevent.FieldID)).FirstID(ctx); err == nil {
			ob.ObserveFloat64(head, float64(id))
		} else if ent.IsNotFound(err) {
			ob.ObserveFloat64(head, 0)
		} else {
			errs = append(errs, fmt.Errorf("read the feed head: %w", err))
		}
		if src.Webhooks != nil {
			stats, err := src.Webhooks.Stats(ctx)
			if err != nil {
				errs = append(errs, err)
			}
			for _, s := range stats {
				ep := metric.WithAttributes(attribute.String("webhook.endpoint", s.EndpointID))
				ob.ObserveFloat64(pending, float64(s.Pending), ep)
				ob.ObserveFloat64(queueLag, s.QueueLag.Seconds(), ep)
				ob.ObserveInt64(delivered, s.Succeeded, metric.WithAttributes(attribute.String("webhook.endpoint", s.EndpointID), attribute.String("outcome", "succeeded")))
				ob.ObserveInt64(delivered, s.Failed, metric.WithAttributes(attribute.String("webhook.endpoint", s.EndpointID), attribute.String("outcome", "failed")))
				ob.ObserveInt64(attempts, s.FailedAttempts, ep)
			}
		}
		for _, err := range errs {
			o.log.WarnContext(ctx, "read metrics", "error", err)
		}
		return nil
	}, due, lag, head, pending, queueLag, delivered, attempts, conns, maxConns, waits, waitTime, reconciled, reconciledAt, reconcileErrs)
	return err
}

// observeDeadlines reports, per kind, the pending deadlines already due and how long the oldest has been.
func observeDeadlines(ctx context.Context, src Sources, ob metric.Observer, due, lag metric.Float64ObservableGauge) error {
	now := src.Clock.Now()
	var rows []struct {
		Kind  string `json:"kind"`
		Count int    `json:"count"`
	}
	pendingDue := func() *ent.DeadlineQuery {
		return src.Store.Client.Deadline.Query().Where(entdeadline.StateEQ(entdeadline.StatePending), entdeadline.DueTimeLTE(now))
	}
	if err := pendingDue().GroupBy(entdeadline.FieldKind).Aggregate(ent.Count()).Scan(ctx, &rows); err != nil {
		return fmt.Errorf("read the deadline backlog: %w", err)
	}
	for _, r := range rows {
		kind := metric.WithAttributes(attribute.String("deadline.kind", r.Kind))
		ob.ObserveFloat64(due, float64(r.Count), kind)
		// The oldest per kind, by the (state, due_time) index; there are a few dozen kinds at most.
		oldest, err := pendingDue().Where(entdeadline.Kind(r.Kind)).Order(entdeadline.ByDueTime()).First(ctx)
		if err != nil {
			return fmt.Errorf("read the oldest due deadline: %w", err)
		}
		ob.ObserveFloat64(lag, max(0, now.Sub(oldest.DueTime).Seconds()), kind)
	}
	return nil
}

// reconcileState is the outcome of the last reconciliation.
type reconcileState struct {
	mu     sync.Mutex
	done   bool
	ok     bool
	at     time.Time
	errors int64
}

type reconcileResult struct {
	ok bool
	at time.Time
}

func (s *reconcileState) last() (reconcileResult, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return reconcileResult{ok: s.ok, at: s.at}, s.done
}

func (s *reconcileState) errorCount() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.errors
}

// Reconcile checks the ledger once (ledger.Reconcile on a snapshot) and sets the reconciliation gauges; a
// failed balance is logged at error with the currencies and orders at fault.
func (o *Obs) Reconcile(ctx context.Context) (ledger.Report, error) {
	var rep ledger.Report
	err := o.src.Store.Snapshot(ctx, func(tx *ent.Tx) (err error) {
		rep, err = ledger.Reconcile(ctx, tx, o.src.Finished)
		return err
	})
	o.reconcile.mu.Lock()
	defer o.reconcile.mu.Unlock()
	if err != nil {
		o.reconcile.errors++
		return rep, err
	}
	o.reconcile.done, o.reconcile.ok, o.reconcile.at = true, rep.OK(), time.Now()
	if !rep.OK() {
		o.log.ErrorContext(ctx, "ledger reconciliation failed", "sums", rep.Sums, "escrow_mismatches", rep.Mismatch)
	}
	return rep, nil
}

// RunReconcile reconciles the ledger now and then every interval until ctx ends.
func (o *Obs) RunReconcile(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if _, err := o.Reconcile(ctx); err != nil && ctx.Err() == nil {
			o.log.ErrorContext(ctx, "reconcile the ledger", "error", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
