// Package servertest runs a real tradeassure server for tests: the same server.New handler behind real
// HTTP/2 (TLS), on a database of its own (in-memory SQLite, or a fresh Postgres database when
// TRADEASSURE_TEST_POSTGRES names a server), with a clock the test moves, and generated clients for each
// principal in the protocol under test (Connect or gRPC).
package servertest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"sync"
	"testing"
	"time"

	"connectrpc.com/connect"
	_ "github.com/jackc/pgx/v5/stdlib"

	"github.com/tradeassure/tradeassure/ent"
	adminv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/admin/v1"
	"github.com/tradeassure/tradeassure/gen/go/tradeassure/admin/v1/adminv1connect"
	"github.com/tradeassure/tradeassure/gen/go/tradeassure/case/v1/casev1connect"
	commonv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/common/v1"
	"github.com/tradeassure/tradeassure/gen/go/tradeassure/complaint/v1/complaintv1connect"
	"github.com/tradeassure/tradeassure/gen/go/tradeassure/dispute/v1/disputev1connect"
	"github.com/tradeassure/tradeassure/gen/go/tradeassure/event/v1/eventv1connect"
	orderv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/order/v1"
	"github.com/tradeassure/tradeassure/gen/go/tradeassure/order/v1/orderv1connect"
	"github.com/tradeassure/tradeassure/gen/go/tradeassure/payout/v1/payoutv1connect"
	"github.com/tradeassure/tradeassure/gen/go/tradeassure/policy/v1/policyv1connect"
	"github.com/tradeassure/tradeassure/gen/go/tradeassure/returns/v1/returnsv1connect"
	"github.com/tradeassure/tradeassure/gen/go/tradeassure/webhook/v1/webhookv1connect"
	"github.com/tradeassure/tradeassure/server"
	"github.com/tradeassure/tradeassure/server/admin"
	"github.com/tradeassure/tradeassure/server/obs"
	"github.com/tradeassure/tradeassure/server/policies"
	"github.com/tradeassure/tradeassure/server/storage"
	"github.com/tradeassure/tradeassure/server/transport"
	"github.com/tradeassure/tradeassure/server/webhook"
)

// PostgresEnv names the environment variable with an admin DSN of a Postgres server for storage tests.
const PostgresEnv = "TRADEASSURE_TEST_POSTGRES"

// Clock is a clock the test sets.
type Clock struct {
	mu  sync.Mutex
	now time.Time
}

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Set sets the time.
func (c *Clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = t.UTC()
}

// Start is the time every test server starts at: a Wednesday, so business-day arithmetic is visible.
var Start = time.Date(2026, 3, 4, 9, 0, 0, 0, time.UTC)

// Protocols are the wire protocols tests run in.
var Protocols = []string{"connect", "grpc", "grpcweb"}

// Engines are the storage engines tests run on: SQLite always, Postgres when configured.
func Engines() []string {
	if os.Getenv(PostgresEnv) != "" {
		return []string{"sqlite", "postgres"}
	}
	return []string{"sqlite"}
}

// Env is a running test server.
type Env struct {
	T        testing.TB
	Server   *server.Server
	HTTP     *httptest.Server
	Clock    *Clock
	Protocol string
	Store    *storage.Store
	Ctx      context.Context
	// DSN is the database the server runs on.
	DSN string
	// Statements are the statements sent to the database, when Options.RecordStatements is set.
	Statements *storage.Statements
}

// Options configure New.
type Options struct {
	Protocol string // "connect" (default), "grpc" or "grpcweb"
	Engine   string // "sqlite" (default, in memory), "sqlite-file" (WAL file in a temp dir) or "postgres"
	Dev      bool
	// DSN, when set, opens this database instead of a fresh one (a second server on one database).
	DSN string
	// Webhooks configures webhook delivery; a fresh key is made when it has none, and the dispatcher
	// looks for work every 20ms unless told otherwise. The dispatcher runs only after RunWebhooks.
	Webhooks webhook.Config
	// NoWebhookKey runs the server without a webhook key.
	NoWebhookKey bool
	// Transport sets the transport limits and CORS origins (defaults when zero, except the rate limits,
	// which are off unless Transport.Limits sets one: benchmarks and load tests call far faster than a
	// client should).
	Transport transport.Config
	// Observability configures metrics and tracing (metrics on, no spans, when zero).
	Observability obs.Config
	// Log, when set, receives the server's log instead of the test log (warnings and up).
	Log *slog.Logger
	// Policies configures the policy catalog.
	Policies []policies.Option
	// RecordStatements records every statement the server sends to the database in Env.Statements.
	RecordStatements bool
}

// New starts a server on a fresh database. It is closed when the test ends.
func New(t testing.TB, o Options) *Env {
	t.Helper()
	ctx := context.Background()
	dsn := "sqlite://:memory:"
	switch {
	case o.DSN != "":
		dsn = o.DSN
	case o.Engine == "postgres":
		dsn = freshPostgres(t)
	case o.Engine == "sqlite-file":
		dsn = "sqlite://" + t.TempDir() + "/tradeassure.db"
	}
	if o.Webhooks.Keys == nil && !o.NoWebhookKey {
		o.Webhooks.Keys = testKeys
	}
	if o.Webhooks.Interval == 0 {
		o.Webhooks.Interval = 20 * time.Millisecond
	}
	if o.Transport.Limits == (transport.RateLimits{}) {
		o.Transport.Limits = transport.RateLimits{KeyRate: -1, AddressRate: -1, AuthFailureRate: -1}
	}
	store, err := storage.Open(ctx, dsn)
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	var stmts *storage.Statements
	if o.RecordStatements {
		stmts = store.RecordStatements()
	}
	clk := &Clock{now: Start}
	log := o.Log
	if log == nil {
		log = slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
	}
	srv, err := server.New(ctx, server.Config{Store: store, Log: log, Clock: clk, Dev: o.Dev, Webhooks: o.Webhooks, Transport: o.Transport,
		Observability: o.Observability, Policies: o.Policies})
	if err != nil {
		t.Fatalf("new server: %v", err)
	}
	hs := httptest.NewUnstartedServer(srv.Handler)
	hs.EnableHTTP2 = true
	hs.StartTLS()
	t.Cleanup(func() {
		hs.Close()
		store.Close()
	})
	if o.Protocol == "" {
		o.Protocol = "connect"
	}
	return &Env{T: t, Server: srv, HTTP: hs, Clock: clk, Protocol: o.Protocol, Store: store, Ctx: ctx, DSN: dsn, Statements: stmts}
}

// testKeys encrypt webhook secrets in every test server of the process.
var testKeys, _ = webhook.ParseKeys(webhook.NewKey())

// RunWebhooks starts the webhook dispatcher until the test ends.
func (e *Env) RunWebhooks() {
	ctx, cancel := context.WithCancel(e.Ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		e.Server.Webhooks.Run(ctx)
	}()
	e.T.Cleanup(func() {
		cancel()
		<-done
	})
}

type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(string(p))
	return len(p), nil
}

// FreshPostgres creates a Postgres database for the test on the server TRADEASSURE_TEST_POSTGRES names,
// dropped when the test ends, and returns its DSN.
func FreshPostgres(t testing.TB) string { return freshPostgres(t) }

func freshPostgres(t testing.TB) string {
	t.Helper()
	admin := os.Getenv(PostgresEnv)
	db, err := sql.Open("pgx", admin)
	if err != nil {
		t.Fatalf("postgres: %v", err)
	}
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	name := "tatest_" + hex.EncodeToString(b)
	if _, err := db.Exec("CREATE DATABASE " + name); err != nil {
		t.Fatalf("create database: %v", err)
	}
	u, err := url.Parse(admin)
	if err != nil {
		t.Fatalf("postgres dsn: %v", err)
	}
	u.Path = "/" + name
	t.Cleanup(func() {
		_, _ = db.Exec("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)")
		db.Close()
	})
	return u.String()
}

// Advance moves the clock forward by d and runs every deadline that became due, as the worker would.
func (e *Env) Advance(d time.Duration) {
	e.T.Helper()
	e.Clock.Set(e.Clock.Now().Add(d))
	if _, err := e.Server.Engine.RunDue(e.Ctx); err != nil {
		e.T.Fatalf("run deadlines: %v", err)
	}
}

// SetTime moves the clock to t (forward only) and runs due deadlines.
func (e *Env) SetTime(t time.Time) { e.T.Helper(); e.Advance(t.Sub(e.Clock.Now())) }

// Party is an account with clients acting as it.
type Party struct {
	Account    *ent.Account
	Key        string
	Orders     orderv1connect.OrderServiceClient
	Returns    returnsv1connect.ReturnServiceClient
	Disputes   disputev1connect.DisputeServiceClient
	Complaints complaintv1connect.ComplaintServiceClient
	Payouts    payoutv1connect.PayoutServiceClient
	Events     eventv1connect.EventServiceClient
	Admin      adminv1connect.AdminServiceClient
	Webhooks   webhookv1connect.WebhookServiceClient
	Cases      casev1connect.CaseServiceClient
	Policies   policyv1connect.PolicyServiceClient
}

// ID is the party's account id.
func (p *Party) ID() string { return p.Account.ID }

// Clients returns clients for a key (any string, for negative tests).
func (e *Env) Clients(key string) *Party {
	opts := []connect.ClientOption{connect.WithInterceptors(Bearer(key))}
	switch e.Protocol {
	case "grpc":
		opts = append(opts, connect.WithGRPC())
	case "grpcweb":
		opts = append(opts, connect.WithGRPCWeb())
	}
	c := e.HTTP.Client()
	return &Party{
		Key:        key,
		Orders:     orderv1connect.NewOrderServiceClient(c, e.HTTP.URL, opts...),
		Returns:    returnsv1connect.NewReturnServiceClient(c, e.HTTP.URL, opts...),
		Disputes:   disputev1connect.NewDisputeServiceClient(c, e.HTTP.URL, opts...),
		Complaints: complaintv1connect.NewComplaintServiceClient(c, e.HTTP.URL, opts...),
		Payouts:    payoutv1connect.NewPayoutServiceClient(c, e.HTTP.URL, opts...),
		Events:     eventv1connect.NewEventServiceClient(c, e.HTTP.URL, opts...),
		Admin:      adminv1connect.NewAdminServiceClient(c, e.HTTP.URL, opts...),
		Webhooks:   webhookv1connect.NewWebhookServiceClient(c, e.HTTP.URL, opts...),
		Cases:      casev1connect.NewCaseServiceClient(c, e.HTTP.URL, opts...),
		Policies:   policyv1connect.NewPolicyServiceClient(c, e.HTTP.URL, opts...),
	}
}

// Account creates an account and returns clients acting as it.
func (e *Env) Account(a admin.NewAccount) *Party {
	e.T.Helper()
	var acct *ent.Account
	var secret string
	err := e.Store.WithTx(e.Ctx, func(tx *ent.Tx) error {
		var err error
		if acct, err = admin.CreateAccount(e.Ctx, tx, a, e.Clock.Now()); err != nil {
			return err
		}
		_, secret, err = admin.IssueKey(e.Ctx, tx, acct.ID, "test", e.Clock.Now())
		return err
	})
	if err != nil {
		e.T.Fatalf("create account: %v", err)
	}
	p := e.Clients(secret)
	p.Account = acct
	return p
}

var seq struct {
	sync.Mutex
	n int
}

func nextN() int {
	seq.Lock()
	defer seq.Unlock()
	seq.n++
	return seq.n
}

// Buyer creates a buyer in country.
func (e *Env) Buyer(country string) *Party {
	n := nextN()
	return e.Account(admin.NewAccount{Role: commonv1.Role_ROLE_BUYER, Name: fmt.Sprintf("Buyer %d", n),
		Email: fmt.Sprintf("buyer%d@test.example", n), Country: country})
}

// Supplier creates a supplier with a trade-assurance limit (USD cents) and export capability.
func (e *Env) Supplier(limitUSDMinor int64, oneTouch bool) *Party {
	n := nextN()
	return e.Account(admin.NewAccount{Role: commonv1.Role_ROLE_SUPPLIER, Name: fmt.Sprintf("Supplier %d", n),
		Email: fmt.Sprintf("supplier%d@test.example", n), Country: "CN",
		Supplier: &adminv1.SupplierProfile{TradeAssuranceLimitUsdMinor: limitUSDMinor, OneTouchExport: oneTouch,
			BankAccount: "CN00TEST", BankAccountVerified: true}})
}

// Staff creates an arbiter, warehouse or operator.
func (e *Env) Staff(role commonv1.Role) *Party {
	n := nextN()
	return e.Account(admin.NewAccount{Role: role, Name: fmt.Sprintf("Staff %d", n),
		Email: fmt.Sprintf("staff%d@platform.example", n), Country: "SG"})
}

// Product lists a product for a supplier and returns its id.
func (e *Env) Product(s *Party, name string, priceMinor int64, currency string) string {
	e.T.Helper()
	resp, err := s.Orders.CreateProduct(e.Ctx, connect.NewRequest(&orderv1.CreateProductRequest{
		Name: name, UnitPrice: &commonv1.Money{AmountMinor: priceMinor, Currency: currency},
	}))
	if err != nil {
		e.T.Fatalf("create product: %v", err)
	}
	return resp.Msg.GetProduct().GetId()
}

func bearer(key string) connect.UnaryInterceptorFunc {
	return func(next connect.UnaryFunc) connect.UnaryFunc {
		return func(ctx context.Context, req connect.AnyRequest) (connect.AnyResponse, error) {
			if key != "" {
				req.Header().Set("Authorization", "Bearer "+key)
			}
			return next(ctx, req)
		}
	}
}

// Bearer returns a client interceptor sending an API key, for unary and streaming calls.
func Bearer(key string) connect.Interceptor { return bearerInterceptor{key} }

type bearerInterceptor struct{ key string }

func (b bearerInterceptor) WrapUnary(next connect.UnaryFunc) connect.UnaryFunc {
	return bearer(b.key)(next)
}

func (b bearerInterceptor) WrapStreamingClient(next connect.StreamingClientFunc) connect.StreamingClientFunc {
	return func(ctx context.Context, spec connect.Spec) connect.StreamingClientConn {
		conn := next(ctx, spec)
		if b.key != "" {
			conn.RequestHeader().Set("Authorization", "Bearer "+b.key)
		}
		return conn
	}
}

func (b bearerInterceptor) WrapStreamingHandler(next connect.StreamingHandlerFunc) connect.StreamingHandlerFunc {
	return next
}

// HTTPClient is the TLS HTTP/2 client of the test server.
func (e *Env) HTTPClient() *http.Client { return e.HTTP.Client() }

// Each runs fn once for every storage engine and protocol, each on its own server and database.
func Each(t *testing.T, fn func(t *testing.T, e *Env)) {
	for _, engine := range Engines() {
		for _, proto := range Protocols {
			t.Run(engine+"/"+proto, func(t *testing.T) {
				t.Parallel()
				fn(t, New(t, Options{Engine: engine, Protocol: proto}))
			})
		}
	}
}

// Detail returns the ErrorDetail of an error, or nil.
func Detail(err error) *commonv1.ErrorDetail {
	ce := new(connect.Error)
	if !errors.As(err, &ce) {
		return nil
	}
	for _, d := range ce.Details() {
		if v, err := d.Value(); err == nil {
			if ed, ok := v.(*commonv1.ErrorDetail); ok {
				return ed
			}
		}
	}
	return nil
}

// WantError fails the test unless err has the code and reason.
func WantError(t testing.TB, err error, code connect.Code, reason commonv1.ErrorReason) {
	t.Helper()
	if err == nil {
		t.Fatalf("want %v %v, got success", code, reason)
	}
	if got := connect.CodeOf(err); got != code {
		t.Fatalf("want code %v, got %v: %v", code, got, err)
	}
	d := Detail(err)
	if d == nil {
		t.Fatalf("error has no ErrorDetail: %v", err)
	}
	if d.GetReason() != reason {
		t.Fatalf("want reason %v, got %v: %v", reason, d.GetReason(), err)
	}
}

// DeliverOrder takes a drafted order through acceptance and card payment by the buyer, shipment by the
// supplier (DHL, tracking JD1) and delivery recorded by the operator.
func (e *Env) DeliverOrder(buyer, supplier, operator *Party, id string) {
	e.T.Helper()
	steps := []func() error{
		func() error {
			_, err := buyer.Orders.AcceptOrder(e.Ctx, connect.NewRequest(&orderv1.AcceptOrderRequest{OrderId: id}))
			return err
		},
		func() error {
			_, err := buyer.Orders.PayOrder(e.Ctx, connect.NewRequest(&orderv1.PayOrderRequest{OrderId: id,
				Method: orderv1.PaymentMethod_PAYMENT_METHOD_CARD, CardToken: "tok_4242"}))
			return err
		},
		func() error {
			_, err := supplier.Orders.ShipOrder(e.Ctx, connect.NewRequest(&orderv1.ShipOrderRequest{OrderId: id, Carrier: "DHL", TrackingNumber: "JD1"}))
			return err
		},
		func() error {
			_, err := operator.Orders.RecordDelivery(e.Ctx, connect.NewRequest(&orderv1.RecordDeliveryRequest{OrderId: id}))
			return err
		},
	}
	for i, step := range steps {
		if err := step(); err != nil {
			e.T.Fatalf("order %s step %d: %v", id, i, err)
		}
	}
}
