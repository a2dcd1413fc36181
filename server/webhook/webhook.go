// Package webhook delivers events to partners' HTTPS endpoints, signed per the Standard Webhooks
// specification (v1), and implements WebhookService to manage the endpoints.
//
// Delivery is a transactional outbox: when an event is appended to the feed, a delivery row for every
// matching endpoint is written in the same transaction (Outbox, through events.Feed.SetOutbox), so a
// rolled-back change sends nothing and a committed one is never lost. Each server process runs a
// dispatcher that claims due deliveries by leasing them (FOR UPDATE SKIP LOCKED on Postgres), sends them
// with a timeout, and records every attempt; failures are retried with exponential backoff and jitter for
// about three days, by the service clock. A later event of a subject waits while an earlier one of the
// same subject is pending for the endpoint. Delivery is at least once: receivers deduplicate by the
// webhook-id header, which is the event id.
package webhook

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"entgo.io/ent/dialect"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/tradeassure/tradeassure/ent"
	"github.com/tradeassure/tradeassure/ent/webhookendpoint"
	"github.com/tradeassure/tradeassure/server/clock"
	"github.com/tradeassure/tradeassure/server/events"
	"github.com/tradeassure/tradeassure/server/pagination"
	"github.com/tradeassure/tradeassure/server/storage"
)

// Config configures webhooks.
type Config struct {
	// Keys encrypt the signing secrets at rest; without them endpoints cannot be created.
	Keys *KeyRing
	// Dev allows http:// URLs and loopback or private addresses (development mode).
	Dev bool
	// Timeout bounds each attempt: connecting, TLS, and the answer's headers and first 1 KiB. Default 10s.
	Timeout time.Duration
	// Interval is how often the dispatcher looks for due deliveries and endpoint changes made by other
	// processes when nothing wakes it sooner. Default 1s.
	Interval time.Duration
	// Concurrency is how many deliveries one process sends at once. Default 64.
	Concurrency int
	// EndpointConcurrency is how many of them may go to one endpoint at once, so that a slow endpoint
	// leaves workers to the others. Default half of Concurrency (32), at least 1.
	EndpointConcurrency int
	// Retention is how long a finished delivery and its attempts are kept after it finished, by the
	// service clock. Default 30 days.
	Retention time.Duration
	// Resolver resolves endpoint hosts; nil means net.DefaultResolver.
	Resolver Resolver
}

// Webhooks is the webhook machinery of one server process: the outbox, the dispatcher and the service.
type Webhooks struct {
	store    *storage.Store
	clock    clock.Clock
	feed     *events.Feed
	pager    *pagination.Pager
	log      *slog.Logger
	cfg      Config
	postgres bool
	reg      *registry
	guard    guard
	client   *http.Client
	wake     chan struct{}
	secrets  sync.Map // sealed secret → HMAC key
	// endpoints are the endpoints the dispatcher prepares deliveries for.
	endpoints endpointCache
	// clockSynced is when the dispatcher last read the development clock (see syncClock).
	clockSynced atomic.Int64 // unix nanoseconds
	// commits is set when a commit queued deliveries since the dispatcher's last turn.
	commits atomic.Bool
	// replayDue asks the dispatcher to queue more of a replay at its next turn.
	replayDue atomic.Bool
	// prunedAt and prunedClock are when the last pruning ran, by the real and the service clock.
	pruneMu     sync.Mutex
	prunedAt    time.Time
	prunedClock time.Time
}

// New sets up webhooks and installs the outbox on the feed. It fails when the database holds endpoints
// whose secrets the configured keys cannot decrypt, so a missing or wrong key is found at start.
func New(ctx context.Context, store *storage.Store, clk clock.Clock, feed *events.Feed, pager *pagination.Pager, log *slog.Logger, cfg Config) (*Webhooks, error) {
	if cfg.Timeout <= 0 {
		cfg.Timeout = 10 * time.Second
	}
	if cfg.Interval <= 0 {
		cfg.Interval = time.Second
	}
	if cfg.Concurrency <= 0 {
		cfg.Concurrency = 64
	}
	if cfg.EndpointConcurrency <= 0 {
		cfg.EndpointConcurrency = max(1, cfg.Concurrency/2)
	}
	if cfg.Retention <= 0 {
		cfg.Retention = DefaultRetention
	}
	if cfg.Resolver == nil {
		cfg.Resolver = net.DefaultResolver
	}
	w := &Webhooks{
		store: store, clock: clk, feed: feed, pager: pager, log: log, cfg: cfg,
		postgres: store.Dialect == dialect.Postgres, reg: newRegistry(),
		guard: guard{dev: cfg.Dev, resolver: cfg.Resolver}, wake: make(chan struct{}, 1),
	}
	dialer := &net.Dialer{Timeout: cfg.Timeout, KeepAlive: 30 * time.Second, Control: w.guard.control}
	w.client = &http.Client{
		Transport: &http.Transport{
			// Never through a proxy: the dial-time address check must see the receiver's address.
			Proxy:                 nil,
			DialContext:           w.guard.dial(dialer),
			ForceAttemptHTTP2:     true,
			TLSHandshakeTimeout:   cfg.Timeout,
			ResponseHeaderTimeout: cfg.Timeout,
			MaxIdleConns:          256,
			MaxIdleConnsPerHost:   cfg.Concurrency,
			IdleConnTimeout:       90 * time.Second,
		},
		// Redirects are not followed: a 3xx is a failed attempt.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	if err := w.checkKeys(ctx); err != nil {
		return nil, err
	}
	if err := w.reg.load(ctx, store.Client); err != nil {
		return nil, err
	}
	feed.SetOutbox(outbox{reg: w.reg, kick: w.queued})
	return w, nil
}

// checkKeys fails when stored secrets cannot be decrypted with the configured keys.
func (w *Webhooks) checkKeys(ctx context.Context) error {
	e, err := w.store.Client.WebhookEndpoint.Query().Order(ent.Desc(webhookendpoint.FieldUpdateTime)).First(ctx)
	if ent.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("check webhook key: %w", err)
	}
	if w.cfg.Keys == nil {
		return errors.New("the database has webhook endpoints but no webhook key is configured: set --webhook-key (TRADEASSURE_WEBHOOK_KEY) to the key their secrets were encrypted with")
	}
	if _, err := w.cfg.Keys.open(e.ID, e.SecretCipher); err != nil {
		return fmt.Errorf("check webhook key: endpoint %s: %w; set --webhook-key (TRADEASSURE_WEBHOOK_KEY) to include the key the secrets were encrypted with", e.ID, err)
	}
	return nil
}

// queued wakes the dispatcher for deliveries a commit queued.
func (w *Webhooks) queued() {
	w.commits.Store(true)
	w.kick()
}

// kick wakes the dispatcher.
func (w *Webhooks) kick() {
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

// Version is the version of the endpoint configuration this process has loaded (it changes with every
// endpoint change, in any process).
func (w *Webhooks) Version() string { return w.reg.Version() }

// Run dispatches deliveries until ctx ends: it claims due deliveries, sends them, records the outcomes,
// queues replays, and keeps the copy of the endpoints current. In-flight deliveries finish first.
func (w *Webhooks) Run(ctx context.Context) {
	var wg sync.WaitGroup
	if w.postgres {
		wg.Add(1)
		go func() { defer wg.Done(); w.listen(ctx) }()
	}
	d := newDispatcher(w)
	d.run(ctx)
	wg.Wait()
}

// refresh reloads the copy of the endpoints when another process changed them.
func (w *Webhooks) refresh(ctx context.Context) {
	version := ""
	if s, err := w.store.Client.Setting.Get(ctx, versionKey); err == nil {
		version = s.Value
	} else if !ent.IsNotFound(err) {
		if ctx.Err() == nil {
			w.log.WarnContext(ctx, "check webhook endpoints", "error", err)
		}
		return
	}
	if w.reg.current(version) {
		return
	}
	if err := w.reg.load(ctx, w.store.Client); err != nil {
		if ctx.Err() == nil {
			w.log.WarnContext(ctx, "reload webhook endpoints", "error", err)
		}
		return
	}
	w.log.DebugContext(ctx, "webhook endpoints reloaded", "version", w.reg.Version(), "endpoints", w.reg.size())
}

// listen reloads the copy of the endpoints as soon as another process announces a change on Postgres. A
// broken connection is reopened; the periodic check covers the gap.
func (w *Webhooks) listen(ctx context.Context) {
	for ctx.Err() == nil {
		err := w.listenOnce(ctx)
		if ctx.Err() != nil {
			return
		}
		w.log.WarnContext(ctx, "listen for webhook endpoint changes", "error", err)
		select {
		case <-ctx.Done():
			return
		case <-time.After(time.Second):
		}
	}
}

func (w *Webhooks) listenOnce(ctx context.Context) error {
	conn, err := w.store.DB.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	return conn.Raw(func(dc any) error {
		c, ok := dc.(*stdlib.Conn)
		if !ok {
			return fmt.Errorf("unexpected Postgres driver %T", dc)
		}
		pg := c.Conn()
		if _, err := pg.Exec(ctx, "LISTEN "+notifyChannel); err != nil {
			return err
		}
		// Changes made before LISTEN took effect are picked up here.
		w.refresh(ctx)
		for {
			if _, err := pg.WaitForNotification(ctx); err != nil {
				// The connection is in an unknown state after an interrupted wait; do not return it to the pool.
				_ = pg.Close(context.Background())
				return err
			}
			w.refresh(ctx)
		}
	})
}
