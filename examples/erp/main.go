// Command erp is an example partner ERP built on the Go SDK (sdk/go). It keeps a local copy of the
// orders its API key can see in sync by following the event feed from a stored cursor, and reacts to
// return and dispute events: it logs each one with the deadline that now runs, marks the order as held,
// and, with --approve-returns, approves return requests as the supplier.
//
// Run it against a development server:
//
//	go run ./server/cmd/tradeassured --dev &
//	go run ./examples/erp --addr http://localhost:8080 --key "$(jq -r .supplier.api_key dev-keys.json)"
//
// With --once it processes the backlog (ListEvents, page by page) and exits; without, it follows the
// WatchEvents stream until interrupted, resuming after the last event if the connection breaks. Either
// way the cursor and the orders are saved to --state after every event, so a restart never processes an
// event twice or misses one.
//
// With --webhook-listen it receives webhooks instead of following the stream: it catches up from the
// feed, then serves deliveries of an endpoint created for it (WebhookService/CreateWebhookEndpoint with
// the URL it listens on), verifying each with the endpoint's secret (--webhook-secret) and applying an
// event once however often it arrives (it remembers the webhook-ids it applied):
//
//	go run ./examples/erp --addr http://localhost:8080 --key "$KEY" --webhook-listen 127.0.0.1:9090 --webhook-secret "$SECRET"
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	cfg := config{}
	flag.StringVar(&cfg.Addr, "addr", envOr("TRADEASSURE_URL", "http://localhost:8080"), "server base URL (env TRADEASSURE_URL)")
	flag.StringVar(&cfg.Key, "key", os.Getenv("TRADEASSURE_API_KEY"), "API key (env TRADEASSURE_API_KEY)")
	flag.StringVar(&cfg.Protocol, "protocol", "connect", "wire protocol: connect, grpc or grpc-web")
	flag.StringVar(&cfg.StatePath, "state", "erp-state.json", "file holding the cursor and the local copy of the orders")
	flag.BoolVar(&cfg.Once, "once", false, "process the backlog of events, then exit")
	flag.BoolVar(&cfg.ApproveReturns, "approve-returns", false, "as a supplier, approve every return request that arrives")
	flag.StringVar(&cfg.WebhookListen, "webhook-listen", "", "receive webhooks on this address (for example 127.0.0.1:9090) instead of following the stream")
	flag.StringVar(&cfg.WebhookSecret, "webhook-secret", os.Getenv("TRADEASSURE_WEBHOOK_SECRET"), "the endpoint's signing secret, whsec_… (env TRADEASSURE_WEBHOOK_SECRET)")
	flag.Parse()
	if cfg.Key == "" {
		fmt.Fprintln(os.Stderr, "erp: --key (or TRADEASSURE_API_KEY) is required")
		os.Exit(2)
	}
	if cfg.WebhookListen != "" && cfg.WebhookSecret == "" {
		fmt.Fprintln(os.Stderr, "erp: --webhook-listen needs --webhook-secret (or TRADEASSURE_WEBHOOK_SECRET)")
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, cfg, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "erp:", err)
		os.Exit(1)
	}
}

// config is what the flags set.
type config struct {
	Addr           string
	Key            string
	Protocol       string
	StatePath      string
	Once           bool
	ApproveReturns bool
	// WebhookListen is the address to receive webhooks on; empty follows the stream.
	WebhookListen string
	// WebhookSecret is the endpoint's signing secret.
	WebhookSecret string
	// HTTPClient overrides the SDK's default HTTP client (tests use the test server's TLS client).
	HTTPClient *http.Client
	// Listener overrides WebhookListen (tests listen on a free port).
	Listener net.Listener
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

// run syncs until the backlog is done (Once) or ctx ends, writing a line per event to out.
func run(ctx context.Context, cfg config, out io.Writer) error {
	e, err := newERP(ctx, cfg, out)
	if err != nil {
		return err
	}
	if cfg.Once {
		return e.catchUp(ctx)
	}
	if cfg.WebhookListen != "" || cfg.Listener != nil {
		return e.serveWebhooks(ctx)
	}
	return e.follow(ctx)
}
