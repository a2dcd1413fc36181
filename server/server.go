// Package server assembles tradeassure: the storage, the services, the interceptors and the deadline
// worker, into one http.Handler that tests and the tradeassured binary share.
package server

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"connectrpc.com/connect"
	"connectrpc.com/grpcreflect"
	"connectrpc.com/validate"

	"github.com/tradeassure/tradeassure/gen/go/tradeassure/admin/v1/adminv1connect"
	"github.com/tradeassure/tradeassure/gen/go/tradeassure/case/v1/casev1connect"
	"github.com/tradeassure/tradeassure/gen/go/tradeassure/complaint/v1/complaintv1connect"
	"github.com/tradeassure/tradeassure/gen/go/tradeassure/dispute/v1/disputev1connect"
	"github.com/tradeassure/tradeassure/gen/go/tradeassure/event/v1/eventv1connect"
	"github.com/tradeassure/tradeassure/gen/go/tradeassure/order/v1/orderv1connect"
	"github.com/tradeassure/tradeassure/gen/go/tradeassure/payout/v1/payoutv1connect"
	"github.com/tradeassure/tradeassure/gen/go/tradeassure/policy/v1/policyv1connect"
	"github.com/tradeassure/tradeassure/gen/go/tradeassure/returns/v1/returnsv1connect"
	"github.com/tradeassure/tradeassure/gen/go/tradeassure/webhook/v1/webhookv1connect"
	"github.com/tradeassure/tradeassure/server/admin"
	"github.com/tradeassure/tradeassure/server/aftersales"
	"github.com/tradeassure/tradeassure/server/apierr"
	"github.com/tradeassure/tradeassure/server/auth"
	"github.com/tradeassure/tradeassure/server/bounds"
	"github.com/tradeassure/tradeassure/server/casefile"
	"github.com/tradeassure/tradeassure/server/clock"
	"github.com/tradeassure/tradeassure/server/complaint"
	"github.com/tradeassure/tradeassure/server/deadline"
	"github.com/tradeassure/tradeassure/server/devmode"
	"github.com/tradeassure/tradeassure/server/dispute"
	"github.com/tradeassure/tradeassure/server/events"
	"github.com/tradeassure/tradeassure/server/health"
	"github.com/tradeassure/tradeassure/server/obs"
	"github.com/tradeassure/tradeassure/server/order"
	"github.com/tradeassure/tradeassure/server/pagination"
	"github.com/tradeassure/tradeassure/server/payout"
	"github.com/tradeassure/tradeassure/server/policies"
	"github.com/tradeassure/tradeassure/server/returns"
	"github.com/tradeassure/tradeassure/server/storage"
	"github.com/tradeassure/tradeassure/server/transport"
	"github.com/tradeassure/tradeassure/server/webhook"
)

// Config configures a server.
type Config struct {
	Store *storage.Store
	Log   *slog.Logger
	// Dev enables development mode: an adjustable clock that operators can move forward.
	Dev bool
	// Clock overrides the time source (tests); nil means the system clock, or the adjustable clock in Dev.
	Clock clock.Clock
	// Cards is the card network; nil means the sandbox network.
	Cards order.CardNetwork
	// Webhooks configures webhook delivery (its Dev field is set from Dev).
	Webhooks webhook.Config
	// Transport is the message size and body time limits and the CORS origins; nil CORSOrigins means
	// any origin ("*") in Dev and none otherwise.
	Transport transport.Config
	// Observability configures metrics and tracing (see package obs).
	Observability obs.Config
	// MetricsElsewhere leaves GET /metrics off Handler: the binary serves Server.Metrics on --metrics-addr.
	MetricsElsewhere bool
	// DeadlineInterval is how often the deadline worker runs (for /readyz: a worker silent for three
	// intervals, and at least 30s, is not running); 0 means 1s.
	DeadlineInterval time.Duration
	// Policies configures the policy catalog (the benchmarks' uncached baseline).
	Policies []policies.Option
}

// Server is an assembled tradeassure.
type Server struct {
	Handler http.Handler
	Engine  *deadline.Engine
	Clock   clock.Clock
	Store   *storage.Store
	// Orders is the order service, which owns every order's escrow (tests move money through it).
	Orders *order.Service
	// Webhooks delivers events to webhook endpoints; run its dispatcher with Webhooks.Run.
	Webhooks *webhook.Webhooks
	// Feed is the event feed every service appends to.
	Feed *events.Feed
	// Obs is the instrumentation; run its ledger check with Obs.RunReconcile.
	Obs *obs.Obs
	// Metrics serves the Prometheus exposition (nil when metrics are off).
	Metrics http.Handler
}

// New assembles the server.
func New(ctx context.Context, cfg Config) (*Server, error) {
	log := cfg.Log
	if log == nil {
		log = slog.Default()
	}
	if _, err := devmode.CheckMode(ctx, cfg.Store, cfg.Dev); err != nil {
		return nil, err
	}
	var dev *clock.Adjustable
	clk := cfg.Clock
	if cfg.Dev {
		var base func() time.Time
		if clk != nil {
			base = clk.Now
		}
		var err error
		if dev, err = clock.NewAdjustable(ctx, cfg.Store, base); err != nil {
			return nil, err
		}
		clk = dev
	}
	if clk == nil {
		clk = clock.System{}
	}
	cards := cfg.Cards
	if cards == nil {
		cards = order.SandboxCards{}
	}
	secret, err := pageSecret(ctx, cfg.Store)
	if err != nil {
		return nil, err
	}
	pager := pagination.New(secret)
	feed := events.NewFeed(cfg.Store.Dialect)
	engine := deadline.New(cfg.Store, clk, log)
	catalog, err := policies.Open(ctx, cfg.Store, cfg.Policies...)
	if err != nil {
		return nil, err
	}
	orders := order.New(cfg.Store, clk, feed, pager, cards, log)
	orders.UsePolicies(catalog)
	orders.Register(engine)
	// The returns and disputes services need each other (server/aftersales): the returns service builds the
	// disputes service with itself as the returns side of the contract.
	var disputes *dispute.Service
	returnSvc := returns.New(cfg.Store, clk, feed, pager, log, orders, func(r aftersales.Returns) aftersales.Disputes {
		disputes = dispute.New(cfg.Store, clk, feed, pager, orders, r)
		return disputes
	})
	returnSvc.Register(engine)
	disputes.Register(engine)
	complaints := complaint.New(cfg.Store, clk, feed, pager, log, orders)
	complaints.Register(engine)
	payouts := payout.New(cfg.Store, clk, feed, pager)
	payouts.Register(engine)
	whCfg := cfg.Webhooks
	whCfg.Dev = cfg.Dev
	hooks, err := webhook.New(ctx, cfg.Store, clk, feed, pager, log, whCfg)
	if err != nil {
		return nil, err
	}

	o, instrumented, err := observe(cfg, log, engine, hooks, clk)
	if err != nil {
		return nil, err
	}

	// Keys are verified from memory; a change to a key or an account reaches every process within the bound.
	authn := auth.NewAuthenticator(cfg.Store.Client, auth.DefaultBound)
	tc := cfg.Transport.WithDefaults()
	if tc.CORSOrigins == nil && cfg.Dev {
		tc.CORSOrigins = []string{"*"}
	}
	// Every request is checked against the schema's rules, and those no annotation can state (no control
	// characters, well-formed timestamps), before a handler sees it (see package bounds).
	validator, err := bounds.NewValidator()
	if err != nil {
		return nil, err
	}
	limit := tc.HandlerOptions()
	opts := connect.WithHandlerOptions(limit, connect.WithInterceptors(append(instrumented, apierr.Interceptor(log), authn.Interceptor(),
		validate.NewInterceptor(validate.WithValidator(validator)))...))

	// Every service is behind the gate, which authenticates before a body is read; health and reflection
	// are public.
	gate := transport.NewGate(authn, tc, log)
	mux := http.NewServeMux()
	serve := func(path string, h http.Handler) {
		if dev != nil {
			h = syncClock(dev, log, h) // after the gate: a call without a key costs no clock read
		}
		mux.Handle(path, gate.Wrap(h))
	}
	serve(orderv1connect.NewOrderServiceHandler(orders, opts))
	serve(eventv1connect.NewEventServiceHandler(events.NewService(cfg.Store.Client, feed), opts))
	serve(adminv1connect.NewAdminServiceHandler(admin.New(cfg.Store, clk, dev, engine, pager), opts))
	serve(returnsv1connect.NewReturnServiceHandler(returnSvc, opts))
	serve(disputev1connect.NewDisputeServiceHandler(disputes, opts))
	serve(complaintv1connect.NewComplaintServiceHandler(complaints, opts))
	serve(payoutv1connect.NewPayoutServiceHandler(payouts, opts))
	serve(webhookv1connect.NewWebhookServiceHandler(hooks.Service(), opts))
	cases := casefile.New(casefile.Parts{Orders: orders, Returns: returnSvc, Disputes: disputes, Complaints: complaints, Ledger: payouts}, pager)
	serve(casev1connect.NewCaseServiceHandler(cases, opts))
	serve(policyv1connect.NewPolicyServiceHandler(policies.NewService(cfg.Store, clk, feed, pager, catalog), opts))

	names := []string{
		orderv1connect.OrderServiceName, returnsv1connect.ReturnServiceName, disputev1connect.DisputeServiceName,
		complaintv1connect.ComplaintServiceName, payoutv1connect.PayoutServiceName, eventv1connect.EventServiceName,
		adminv1connect.AdminServiceName, webhookv1connect.WebhookServiceName, casev1connect.CaseServiceName,
		policyv1connect.PolicyServiceName,
	}
	reflector := grpcreflect.NewStaticReflector(append(names, health.ServiceName)...)
	public := func(path string, h http.Handler) { mux.Handle(path, gate.Public(h)) }
	public(grpcreflect.NewHandlerV1(reflector, limit))
	public(grpcreflect.NewHandlerV1Alpha(reflector, limit))
	public(health.NewHandler(func(ctx context.Context) bool {
		return cfg.Store.DB.PingContext(ctx) == nil
	}, names, limit))
	mountProbes(mux, cfg, engine)
	metrics := o.MetricsHandler()
	if metrics != nil && !cfg.MetricsElsewhere {
		mux.Handle("GET /metrics", metrics)
	}

	handler := transport.PresizeStack(o.Middleware(tc.CORS(tc.BodyDeadline(mux))))
	return &Server{Handler: handler, Engine: engine, Clock: clk, Store: cfg.Store, Orders: orders, Webhooks: hooks, Feed: feed,
		Obs: o, Metrics: metrics}, nil
}

// observe starts the instrumentation: metrics and gauges, spans around transactions and deadline runs,
// and the interceptors that go first on every handler.
func observe(cfg Config, log *slog.Logger, engine *deadline.Engine, hooks *webhook.Webhooks, clk clock.Clock) (*obs.Obs, []connect.Interceptor, error) {
	o, err := obs.New(cfg.Observability, log)
	if err != nil {
		return nil, nil, err
	}
	if err := o.Observe(obs.Sources{Store: cfg.Store, Clock: clk, Webhooks: hooks, Finished: order.Finished}); err != nil {
		return nil, nil, fmt.Errorf("register gauges: %w", err)
	}
	if cfg.Observability.TracerProvider != nil {
		cfg.Store.Tracer = o.Tracer("github.com/tradeassure/tradeassure/server/storage")
	}
	engine.Instrument(o.Tracer("github.com/tradeassure/tradeassure/server/deadline"), o.DeadlineRan)
	interceptors, err := o.Interceptors()
	return o, interceptors, err
}

// mountProbes serves GET /healthz (alive) and GET /readyz (database reachable, every migration applied,
// deadline worker running) for load balancers and Kubernetes.
func mountProbes(mux *http.ServeMux, cfg Config, engine *deadline.Engine) {
	stall := max(3*cfg.DeadlineInterval, 30*time.Second)
	mux.Handle("GET /healthz", health.Live())
	mux.Handle("GET /readyz", health.Ready(
		health.Check{Name: "database", Fn: cfg.Store.DB.PingContext},
		health.Check{Name: "migrations", Fn: func(ctx context.Context) error {
			pending, err := cfg.Store.PendingMigrations(ctx)
			if err == nil && len(pending) > 0 {
				err = fmt.Errorf("%d not applied: %v", len(pending), pending)
			}
			return err
		}},
		health.Check{Name: "deadline_worker", Fn: func(context.Context) error {
			if !engine.Alive(stall) {
				return fmt.Errorf("not running, or no pass finished in %s", stall)
			}
			return nil
		}},
	))
}

// syncClock reads the development clock's offset before each authenticated call to a service, so a
// clock moved by another process on the database is seen at once. A failed read keeps the offset last read.
func syncClock(c *clock.Adjustable, log *slog.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := c.Sync(r.Context()); err != nil {
			log.WarnContext(r.Context(), "read the development clock", "error", err)
		}
		next.ServeHTTP(w, r)
	})
}

// pageSecret returns the page-token signing secret shared by every server process on the database.
func pageSecret(ctx context.Context, store *storage.Store) ([]byte, error) {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	v, err := store.FirstSetting(ctx, "page_token_secret", hex.EncodeToString(b))
	if err != nil {
		return nil, fmt.Errorf("load page token secret: %w", err)
	}
	return hex.DecodeString(v)
}

// Protocols is HTTP/1.1 and cleartext HTTP/2 (h2c), so Connect, gRPC and gRPC-Web share one port.
func Protocols() *http.Protocols {
	p := new(http.Protocols)
	p.SetHTTP1(true)
	p.SetUnencryptedHTTP2(true)
	return p
}
