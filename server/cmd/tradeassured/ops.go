package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"runtime/debug"
	"strconv"
	"time"

	"github.com/tradeassure/tradeassure/server/listen"
	"github.com/tradeassure/tradeassure/server/obs"
	"github.com/tradeassure/tradeassure/server/transport"
)

// opsFlags are the production flags: TLS, metrics, rate limits and the ledger check.
type opsFlags struct {
	tlsCert, tlsKey, metricsAddr   *string
	keyRate, addrRate, failRate    *float64
	keyBurst, addrBurst, failBurst *int
	trustXFF                       *bool
	reconcile                      *time.Duration
}

func envFloat(errp *error, name string, def float64) float64 {
	return envParsed(errp, name, def, func(v string) (float64, error) { return strconv.ParseFloat(v, 64) })
}

func envIntValue(errp *error, name string, def int) int {
	return int(envInt(errp, name, int64(def)))
}

func addOpsFlags(fs *flag.FlagSet, errp *error) *opsFlags {
	return &opsFlags{
		tlsCert: fs.String("tls-cert", env("TRADEASSURE_TLS_CERT", ""), "PEM certificate (chain) file: serve HTTPS only, HTTP/2 by ALPN with HTTP/1.1 fallback; re-read when it changes (env TRADEASSURE_TLS_CERT)"),
		tlsKey:  fs.String("tls-key", env("TRADEASSURE_TLS_KEY", ""), "PEM private key of --tls-cert (env TRADEASSURE_TLS_KEY)"),
		metricsAddr: fs.String("metrics-addr", env("TRADEASSURE_METRICS_ADDR", ""),
			"serve GET /metrics on this address (cleartext) instead of the API port (env TRADEASSURE_METRICS_ADDR)"),
		keyRate: fs.Float64("rate-limit", envFloat(errp, "TRADEASSURE_RATE_LIMIT", transport.DefaultKeyRate),
			"requests a second allowed per API key, refilling its burst; 0 turns the limit off (env TRADEASSURE_RATE_LIMIT)"),
		keyBurst: fs.Int("rate-burst", envIntValue(errp, "TRADEASSURE_RATE_BURST", transport.DefaultKeyBurst),
			"requests an API key may make at once (env TRADEASSURE_RATE_BURST)"),
		addrRate: fs.Float64("unauth-rate-limit", envFloat(errp, "TRADEASSURE_UNAUTH_RATE_LIMIT", transport.DefaultAddressRate),
			"calls a second allowed per client address without an API key (health, reflection); 0 turns it off (env TRADEASSURE_UNAUTH_RATE_LIMIT)"),
		addrBurst: fs.Int("unauth-rate-burst", envIntValue(errp, "TRADEASSURE_UNAUTH_RATE_BURST", transport.DefaultAddressBurst),
			"calls without a key a client address may make at once (env TRADEASSURE_UNAUTH_RATE_BURST)"),
		failRate: fs.Float64("auth-failure-rate", envFloat(errp, "TRADEASSURE_AUTH_FAILURE_RATE", transport.DefaultAuthFailureRate),
			"failed authentications a second allowed per client address; past its burst every call from it is refused until it refills; 0 turns it off (env TRADEASSURE_AUTH_FAILURE_RATE)"),
		failBurst: fs.Int("auth-failure-burst", envIntValue(errp, "TRADEASSURE_AUTH_FAILURE_BURST", transport.DefaultAuthFailureBurst),
			"failed authentications a client address may make at once (env TRADEASSURE_AUTH_FAILURE_BURST)"),
		trustXFF: fs.Bool("trust-forwarded-for", envBool("TRADEASSURE_TRUST_FORWARDED_FOR"),
			"take the client address for rate limits from the last X-Forwarded-For entry (only behind a proxy that sets it) (env TRADEASSURE_TRUST_FORWARDED_FOR)"),
		reconcile: fs.Duration("reconcile-interval", envDuration(errp, "TRADEASSURE_RECONCILE_INTERVAL", 5*time.Minute),
			"how often the ledger is reconciled for the tradeassure_ledger_reconciled gauge; 0 never (env TRADEASSURE_RECONCILE_INTERVAL)"),
	}
}

// limits are the rate limits the flags set (a 0 rate turns a limit off).
func (o *opsFlags) limits() (transport.RateLimits, error) {
	if *o.keyRate < 0 || *o.addrRate < 0 || *o.failRate < 0 || *o.keyBurst <= 0 || *o.addrBurst <= 0 || *o.failBurst <= 0 {
		return transport.RateLimits{}, errors.New("rate limits must not be negative and bursts must be positive")
	}
	off := func(r float64) float64 {
		if r == 0 {
			return -1
		}
		return r
	}
	return transport.RateLimits{KeyRate: off(*o.keyRate), KeyBurst: *o.keyBurst, AddressRate: off(*o.addrRate), AddressBurst: *o.addrBurst,
		AuthFailureRate: off(*o.failRate), AuthFailureBurst: *o.failBurst, TrustForwardedFor: *o.trustXFF}, nil
}

func (o *opsFlags) listen(addr string) listen.Config {
	return listen.Config{Addr: addr, CertFile: *o.tlsCert, KeyFile: *o.tlsKey}
}

// tracing starts the tracer provider the OTEL_* environment configures; the returned stop flushes it.
func tracing(ctx context.Context, log *slog.Logger) (obs.Config, func(), error) {
	tp, err := obs.TracerProviderFromEnv(ctx, version())
	if err != nil || tp == nil {
		return obs.Config{}, func() {}, err
	}
	log.Info("tracing on: exporting spans by OTLP")
	return obs.Config{TracerProvider: tp}, func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = tp.Shutdown(ctx)
	}, nil
}

// serveMetrics serves h on addr until ctx ends, for --metrics-addr.
func serveMetrics(ctx context.Context, addr string, h http.Handler, log *slog.Logger) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("--metrics-addr: %w", err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", h)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		<-ctx.Done()
		_ = srv.Close()
	}()
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("serve metrics", "error", err)
		}
	}()
	log.Info("metrics listening", "addr", ln.Addr().String())
	return nil
}

// commit is the VCS commit, set with -ldflags "-X main.commit=…" by make (bin/tradeassured) for builds
// where Go's own VCS stamping is off (-buildvcs=false) or cannot see the repository; the stamp wins.
var commit string

// version is the module version and VCS commit the binary was built from.
func version() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "unknown"
	}
	v := bi.Main.Version
	rev, modified := commit, ""
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			if s.Value == "true" {
				modified = "+dirty"
			}
		}
	}
	if rev != "" {
		v += " (commit " + rev + modified + ")"
	}
	return v
}
