// Command tradeassured is the tradeassure server: Connect, gRPC and gRPC-Web on one port, SQLite by
// default and Postgres with --db postgres://…. "tradeassured admin …" manages accounts and keys offline.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/tradeassure/tradeassure/ent"
	adminv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/admin/v1"
	commonv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/common/v1"
	"github.com/tradeassure/tradeassure/server"
	"github.com/tradeassure/tradeassure/server/admin"
	"github.com/tradeassure/tradeassure/server/devseed"
	"github.com/tradeassure/tradeassure/server/idempotency"
	"github.com/tradeassure/tradeassure/server/listen"
	"github.com/tradeassure/tradeassure/server/obs/reqlog"
	"github.com/tradeassure/tradeassure/server/storage"
	"github.com/tradeassure/tradeassure/server/transport"
	"github.com/tradeassure/tradeassure/server/webhook"
)

func main() {
	if len(os.Args) > 1 && (os.Args[1] == "--version" || os.Args[1] == "-version" || os.Args[1] == "version") {
		fmt.Println("tradeassured", version())
		return
	}
	if len(os.Args) > 1 && os.Args[1] == "admin" {
		if err := adminCommand(os.Args[2:]); err != nil {
			fmt.Fprintln(os.Stderr, "tradeassured admin:", err)
			os.Exit(1)
		}
		return
	}
	if err := serve(os.Args[1:]); errors.Is(err, flag.ErrHelp) {
		return
	} else if err != nil {
		fmt.Fprintln(os.Stderr, "tradeassured:", err)
		os.Exit(1)
	}
}

// env returns the environment variable's value, or def.
func env(name, def string) string {
	if v, ok := os.LookupEnv(name); ok {
		return v
	}
	return def
}

// envParsed returns the environment variable parsed by parse, or def when it is unset; a malformed value
// is recorded in *errp (the first one only).
func envParsed[T any](errp *error, name string, def T, parse func(string) (T, error)) T {
	v, ok := os.LookupEnv(name)
	if !ok {
		return def
	}
	x, err := parse(v)
	if err != nil && *errp == nil {
		*errp = fmt.Errorf("%s: %w", name, err)
	}
	return x
}

// envInt returns the environment variable as an integer, or def; a malformed value is recorded in *errp.
func envInt(errp *error, name string, def int64) int64 {
	return envParsed(errp, name, def, func(v string) (int64, error) { return strconv.ParseInt(v, 10, 64) })
}

// envDuration returns the environment variable as a duration ("30s"), or def; a malformed value is
// recorded in *errp.
func envDuration(errp *error, name string, def time.Duration) time.Duration {
	return envParsed(errp, name, def, time.ParseDuration)
}

func envBool(name string) bool {
	b, _ := strconv.ParseBool(os.Getenv(name))
	return b
}

func serve(args []string) error {
	fs := flag.NewFlagSet("tradeassured", flag.ContinueOnError)
	addr := fs.String("addr", env("TRADEASSURE_ADDR", "localhost:8080"), "listen address (env TRADEASSURE_ADDR)")
	dsn := fs.String("db", env("TRADEASSURE_DB", "sqlite://tradeassure.db"), "database: sqlite://path or postgres://… (env TRADEASSURE_DB)")
	level := fs.String("log-level", env("TRADEASSURE_LOG_LEVEL", "info"), "debug, info, warn or error (env TRADEASSURE_LOG_LEVEL)")
	dev := fs.Bool("dev", envBool("TRADEASSURE_DEV"), "development mode: seed a demo marketplace, write dev-keys.json, allow moving the clock (env TRADEASSURE_DEV)")
	demo := fs.Bool("demo", true, "with --dev: fill a fresh demo marketplace with orders in every state, returns, disputes, a complaint, a balance and a withdrawal (--demo=false leaves it empty)")
	tick := fs.Duration("deadline-interval", time.Second, "how often the deadline worker looks for due deadlines")
	whKey := fs.String("webhook-key", env("TRADEASSURE_WEBHOOK_KEY", ""), "base64 32-byte keys encrypting webhook secrets, comma-separated, the first encrypts (env TRADEASSURE_WEBHOOK_KEY); --dev without one generates webhook.key beside the database")
	whTimeout := fs.Duration("webhook-timeout", 10*time.Second, "timeout of one webhook delivery attempt")
	whInterval := fs.Duration("webhook-interval", time.Second, "how often the webhook dispatcher looks for due deliveries and for endpoint changes by other processes")
	whConc := fs.Int("webhook-concurrency", 64, "how many webhook deliveries one process sends at once")
	whEPConc := fs.Int("webhook-endpoint-concurrency", 0, "how many of them may go to one endpoint at once (0: half of --webhook-concurrency)")
	whRetention := fs.Duration("webhook-retention", webhook.DefaultRetention, "how long a finished webhook delivery and its attempts are kept")
	var envErr error
	maxMsg := fs.Int64("max-message-bytes", envInt(&envErr, "TRADEASSURE_MAX_MESSAGE_BYTES", transport.DefaultMaxMessageBytes),
		"largest request message read, after decompression; larger ones get RESOURCE_EXHAUSTED (env TRADEASSURE_MAX_MESSAGE_BYTES)")
	headerTimeout := fs.Duration("read-header-timeout", envDuration(&envErr, "TRADEASSURE_READ_HEADER_TIMEOUT", transport.DefaultReadHeaderTimeout),
		"time a client has to send a request's headers (env TRADEASSURE_READ_HEADER_TIMEOUT)")
	bodyTimeout := fs.Duration("body-timeout", envDuration(&envErr, "TRADEASSURE_BODY_TIMEOUT", transport.DefaultBodyTimeout),
		"time a client has to send a request's body, from the start of the request; server streams are not cut (env TRADEASSURE_BODY_TIMEOUT)")
	idleTimeout := fs.Duration("idle-timeout", envDuration(&envErr, "TRADEASSURE_IDLE_TIMEOUT", transport.DefaultIdleTimeout),
		"time a keep-alive connection may wait for its next request (env TRADEASSURE_IDLE_TIMEOUT)")
	corsOrigins := fs.String("cors-origins", env("TRADEASSURE_CORS_ORIGINS", ""),
		"comma-separated browser origins allowed to call the API, or * for any; default * with --dev, none otherwise (env TRADEASSURE_CORS_ORIGINS)")
	ops := addOpsFlags(fs, &envErr)
	fs.Usage = func() { usage(fs) }
	if envErr != nil {
		return envErr
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *maxMsg <= 0 || *headerTimeout <= 0 || *bodyTimeout <= 0 || *idleTimeout <= 0 {
		return errors.New("--max-message-bytes, --read-header-timeout, --body-timeout and --idle-timeout must be positive")
	}
	limits, err := ops.limits()
	if err != nil {
		return err
	}
	tc := transport.Config{MaxMessageBytes: *maxMsg, ReadHeaderTimeout: *headerTimeout, BodyTimeout: *bodyTimeout,
		IdleTimeout: *idleTimeout, CORSOrigins: transport.ParseOrigins(*corsOrigins), Limits: limits}
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(*level)); err != nil {
		return fmt.Errorf("--log-level: %w", err)
	}
	// Every line logged in a request carries its request id.
	log := slog.New(reqlog.NewHandler(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: lvl})))
	slog.SetDefault(log)

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	observability, stopTracing, err := tracing(ctx, log)
	if err != nil {
		return err
	}
	defer stopTracing()

	store, err := storage.Open(ctx, *dsn)
	if err != nil {
		return err
	}
	defer store.Close()
	keyList := *whKey
	if keyList == "" && *dev {
		if keyList, err = devWebhookKey(*dsn); err != nil {
			return err
		}
	}
	keys, err := webhook.ParseKeys(keyList)
	if err != nil {
		return fmt.Errorf("--webhook-key: %w", err)
	}
	srv, err := server.New(ctx, server.Config{Store: store, Log: log, Dev: *dev, Transport: tc,
		Webhooks: webhook.Config{Keys: keys, Timeout: *whTimeout, Interval: *whInterval,
			Concurrency: *whConc, EndpointConcurrency: *whEPConc, Retention: *whRetention},
		Observability: observability, MetricsElsewhere: *ops.metricsAddr != "", DeadlineInterval: *tick})
	if err != nil {
		return err
	}
	if *dev {
		if err := writeDevKeys(ctx, store, srv, *dsn, *demo); err != nil {
			return err
		}
	}
	lc := ops.listen(*addr)
	if lc.TLS() {
		if _, err := lc.TLSConfig(); err != nil {
			return err
		}
	}
	httpSrv := tc.HTTPServer(srv.Handler, lc.Protocols())
	workerCtx, stopWorker := context.WithCancel(context.Background())
	if *ops.metricsAddr != "" && srv.Metrics != nil {
		if err := serveMetrics(workerCtx, *ops.metricsAddr, srv.Metrics, log); err != nil {
			stopWorker()
			return err
		}
	}
	if *ops.reconcile > 0 {
		go srv.Obs.RunReconcile(workerCtx, *ops.reconcile)
	}
	workerDone := make(chan struct{})
	hooksDone := make(chan struct{})
	go func() {
		defer close(workerDone)
		srv.Engine.Run(workerCtx, *tick)
	}()
	go func() {
		defer close(hooksDone)
		srv.Webhooks.Run(workerCtx)
	}()
	sweepDone := make(chan struct{})
	go func() {
		defer close(sweepDone)
		idempotency.RunSweep(workerCtx, store, srv.Clock, log, time.Hour)
	}()
	errc := make(chan error, 1)
	go func() {
		errc <- listen.Serve(httpSrv, lc, func(a net.Addr) {
			log.Info("tradeassured listening", "addr", a.String(), "tls", lc.TLS(), "db", storage.RedactDSN(*dsn), "dev", *dev,
				"version", version())
		})
	}()

	select {
	case err := <-errc:
		stopWorker()
		<-workerDone
		<-hooksDone
		<-sweepDone
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	err = httpSrv.Shutdown(shutdownCtx)
	stopWorker()
	<-workerDone
	<-hooksDone
	<-sweepDone
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	return err
}

// devDir is where development mode keeps its files: beside a SQLite database file, else the working
// directory.
func devDir(dsn string) string {
	if p, ok := strings.CutPrefix(dsn, "sqlite://"); ok && !strings.Contains(p, "memory") {
		return filepath.Dir(strings.SplitN(strings.TrimPrefix(p, "file:"), "?", 2)[0])
	}
	return "."
}

// devWebhookKey returns the webhook key of development mode: webhook.key beside the database, made on
// first use. Production passes its key with --webhook-key instead.
func devWebhookKey(dsn string) (string, error) {
	path := filepath.Join(devDir(dsn), "webhook.key")
	if b, err := os.ReadFile(path); err == nil {
		return strings.TrimSpace(string(b)), nil
	} else if !errors.Is(err, os.ErrNotExist) {
		return "", fmt.Errorf("read %s: %w", path, err)
	}
	key := webhook.NewKey()
	if err := os.WriteFile(path, []byte(key+"\n"), 0o600); err != nil {
		return "", fmt.Errorf("write %s: %w", path, err)
	}
	return key, nil
}

func writeDevKeys(ctx context.Context, store *storage.Store, srv *server.Server, dsn string, demo bool) error {
	keys, err := devseed.Seed(ctx, store, srv.Clock.Now())
	if err != nil {
		return err
	}
	if demo {
		ids, err := devseed.Demo(ctx, srv.Handler, keys, srv.Clock.Now)
		if err != nil {
			return err
		}
		if ids != nil {
			fmt.Printf("Development mode: demo history seeded (%d orders).\n", len(ids))
		}
	}
	path := filepath.Join(devDir(dsn), "dev-keys.json")
	body, _ := json.MarshalIndent(keys, "", "  ")
	if err := os.WriteFile(path, append(body, '\n'), 0o600); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	fmt.Println("Development mode: demo marketplace ready. API keys (also in " + path + "):")
	for _, k := range devseed.Order() {
		p := keys[k]
		fmt.Printf("  %-15s %-10s %s  %s\n", k, p.Role, p.AccountID, p.APIKey)
	}
	return nil
}

// adminCommand creates accounts and keys directly in the database, for bootstrapping the first operator.
func adminCommand(args []string) error {
	if len(args) > 0 && args[0] == "rewrap-webhook-secrets" {
		return rewrapCommand(args[1:])
	}
	if len(args) > 0 {
		if c, ok := adminSubcommands[args[0]]; ok {
			return c.run(args[1:])
		}
	}
	if len(args) == 0 || args[0] != "create-account" {
		return errors.New("usage: " + adminUsage())
	}
	fs := flag.NewFlagSet("create-account", flag.ContinueOnError)
	dsn := fs.String("db", env("TRADEASSURE_DB", "sqlite://tradeassure.db"), "database")
	role := fs.String("role", "", "buyer, supplier, arbiter, warehouse or operator")
	name := fs.String("name", "", "display name")
	email := fs.String("email", "", "verified email")
	country := fs.String("country", "US", "ISO 3166-1 alpha-2 country")
	limit := fs.Int64("limit-usd", 0, "supplier trade-assurance limit in whole USD")
	oneTouch := fs.Bool("one-touch", false, "supplier has the one-touch export agent")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	r, ok := commonv1.Role_value["ROLE_"+strings.ToUpper(*role)]
	if !ok || *name == "" || *email == "" {
		return errors.New("--role (buyer, supplier, arbiter, warehouse, operator), --name and --email are required")
	}
	ctx := context.Background()
	store, err := storage.Open(ctx, *dsn)
	if err != nil {
		return err
	}
	defer store.Close()
	now := time.Now().UTC()
	var acctID, secret string
	err = store.WithTx(ctx, func(tx *ent.Tx) error {
		na := admin.NewAccount{Role: commonv1.Role(r), Name: *name, Email: *email, Country: *country}
		if na.Role == commonv1.Role_ROLE_SUPPLIER {
			na.Supplier = &adminv1.SupplierProfile{TradeAssuranceLimitUsdMinor: *limit * 100, OneTouchExport: *oneTouch}
		}
		a, err := admin.CreateAccount(ctx, tx, na, now)
		if err != nil {
			return err
		}
		_, secret, err = admin.IssueKey(ctx, tx, a.ID, "admin-cli", now)
		acctID = a.ID
		return err
	})
	if err != nil {
		return err
	}
	fmt.Printf("account_id: %s\napi_key:    %s\n", acctID, secret)
	return nil
}

// rewrapCommand re-encrypts every webhook secret with the first --webhook-key, after a key rotation.
func rewrapCommand(args []string) error {
	fs := flag.NewFlagSet("rewrap-webhook-secrets", flag.ContinueOnError)
	dsn := fs.String("db", env("TRADEASSURE_DB", "sqlite://tradeassure.db"), "database")
	list := fs.String("webhook-key", env("TRADEASSURE_WEBHOOK_KEY", ""), "the new key first, then the old keys, comma-separated")
	if err := fs.Parse(args); err != nil {
		return err
	}
	keys, err := webhook.ParseKeys(*list)
	if err != nil {
		return fmt.Errorf("--webhook-key: %w", err)
	}
	ctx := context.Background()
	store, err := storage.Open(ctx, *dsn)
	if err != nil {
		return err
	}
	defer store.Close()
	n, err := webhook.Rewrap(ctx, store, keys)
	if err != nil {
		return err
	}
	fmt.Printf("re-encrypted the secrets of %d webhook endpoints with the first key\n", n)
	return nil
}
