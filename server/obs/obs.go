// Package obs is what an operator sees of a running server: Prometheus metrics on /metrics (OpenTelemetry
// metrics through its Prometheus exporter, named after the OpenTelemetry RPC and database semantic
// conventions where one exists), OpenTelemetry traces (connectrpc.com/otelconnect, off unless the OTEL_*
// environment configures an exporter), and one structured access-log line per request with its request id.
//
// OpenTelemetry was chosen over the Prometheus client alone because otelconnect gives per-RPC metrics and
// spans named per the RPC conventions for every Connect, gRPC and gRPC-Web call from one interceptor, and
// the same SDK exports traces by OTLP; its Prometheus exporter keeps the scrape format operators expect.
package obs

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"connectrpc.com/connect"
	"connectrpc.com/otelconnect"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"go.opentelemetry.io/otel/attribute"
	otelprom "go.opentelemetry.io/otel/exporters/prometheus"
	"go.opentelemetry.io/otel/metric"
	noopmetric "go.opentelemetry.io/otel/metric/noop"
	"go.opentelemetry.io/otel/propagation"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/trace"
	nooptrace "go.opentelemetry.io/otel/trace/noop"

	"github.com/tradeassure/tradeassure/server/obs/reqlog"
)

// Config configures the instrumentation.
type Config struct {
	// NoMetrics turns the metrics off (benchmarks measure their cost with it); /metrics then answers 404.
	NoMetrics bool
	// TracerProvider receives the spans; nil means none are made. The binary passes TracerProviderFromEnv's.
	TracerProvider trace.TracerProvider
}

// Obs is the instrumentation of one server.
type Obs struct {
	log      *slog.Logger
	registry *prometheus.Registry
	meters   metric.MeterProvider
	meter    metric.Meter
	tracers  trace.TracerProvider
	// provider is the SDK meter provider when metrics are on, shut down by Close.
	provider *sdkmetric.MeterProvider

	active    metric.Int64UpDownCounter
	refused   metric.Int64Counter
	deadline  metric.Int64Counter
	reconcile reconcileState
	// src is what the gauges and the reconciliation read (Observe).
	src Sources
}

// New returns the instrumentation; log receives the access log.
func New(cfg Config, log *slog.Logger) (*Obs, error) {
	o := &Obs{log: log, tracers: cfg.TracerProvider, meters: noopmetric.NewMeterProvider()}
	if o.tracers == nil {
		o.tracers = nooptrace.NewTracerProvider()
	}
	if !cfg.NoMetrics {
		o.registry = prometheus.NewRegistry()
		o.registry.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
		exp, err := otelprom.New(otelprom.WithRegisterer(o.registry), otelprom.WithoutScopeInfo())
		if err != nil {
			return nil, fmt.Errorf("start the prometheus exporter: %w", err)
		}
		o.provider = sdkmetric.NewMeterProvider(sdkmetric.WithReader(exp))
		o.meters = o.provider
	}
	o.meter = o.meters.Meter("github.com/tradeassure/tradeassure/server")
	var err error
	o.active, err = o.meter.Int64UpDownCounter("http.server.active_requests", metric.WithUnit("{request}"),
		metric.WithDescription("Requests being served."))
	if err != nil {
		return nil, err
	}
	o.refused, err = o.meter.Int64Counter("tradeassure.rpc.server.refused", metric.WithUnit("{request}"),
		metric.WithDescription("Calls refused before reaching a handler (authentication, rate limits, size), by code."))
	if err != nil {
		return nil, err
	}
	o.deadline, err = o.meter.Int64Counter("tradeassure.deadline.runs", metric.WithUnit("{deadline}"),
		metric.WithDescription("Deadlines run by this process, by kind and outcome (applied, stale, no handler, failed)."))
	if err != nil {
		return nil, err
	}
	return o, nil
}

// Close flushes and stops the metrics.
func (o *Obs) Close(ctx context.Context) error {
	if o.provider != nil {
		return o.provider.Shutdown(ctx)
	}
	return nil
}

// Tracer returns a tracer of the server's provider.
func (o *Obs) Tracer(name string) trace.Tracer { return o.tracers.Tracer(name) }

// DeadlineRan counts one deadline run (the deadline engine's observer).
func (o *Obs) DeadlineRan(kind, outcome string) {
	o.deadline.Add(context.Background(), 1, metric.WithAttributes(attribute.String("deadline.kind", kind),
		attribute.String("deadline.outcome", outcome)))
}

// Interceptors are the Connect interceptors of every handler: otelconnect's metrics and spans, and the
// outcome recorder of the access log. They go first, so they see the code a client sees.
func (o *Obs) Interceptors() ([]connect.Interceptor, error) {
	otel, err := otelconnect.NewInterceptor(otelconnect.WithMeterProvider(o.meters), otelconnect.WithTracerProvider(o.tracers),
		otelconnect.WithPropagator(propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{})))
	if err != nil {
		return nil, fmt.Errorf("start otelconnect: %w", err)
	}
	return []connect.Interceptor{otel, outcome{}}, nil
}

// outcome records the procedure and code of each call for the access log.
type outcome struct{}

func (outcome) WrapUnary(next connect.UnaryFunc) connect.UnaryFunc {
	return func(ctx context.Context, req connect.AnyRequest) (connect.AnyResponse, error) {
		resp, err := next(ctx, req)
		reqlog.From(ctx).SetOutcome(req.Spec().Procedure, codeName(err))
		return resp, err
	}
}

func (outcome) WrapStreamingClient(next connect.StreamingClientFunc) connect.StreamingClientFunc {
	return next
}

func (outcome) WrapStreamingHandler(next connect.StreamingHandlerFunc) connect.StreamingHandlerFunc {
	return func(ctx context.Context, conn connect.StreamingHandlerConn) error {
		err := next(ctx, conn)
		reqlog.From(ctx).SetOutcome(conn.Spec().Procedure, codeName(err))
		return err
	}
}

func codeName(err error) string {
	if err == nil {
		return "ok"
	}
	return connect.CodeOf(err).String()
}

// MetricsHandler serves the Prometheus exposition; nil when metrics are off. Anyone may call it and its
// gauges query the database, so it runs one scrape at a time: another arriving meanwhile gets 503 at once
// (collections are serialised anyway, so it would only queue behind the first).
func (o *Obs) MetricsHandler() http.Handler {
	if o.registry == nil {
		return nil
	}
	return promhttp.HandlerFor(o.registry, promhttp.HandlerOpts{ErrorLog: slog.NewLogLogger(o.log.Handler(), slog.LevelWarn),
		MaxRequestsInFlight: 1})
}

// Middleware gives each request its id (a sane incoming X-Request-Id, else a new one), echoes it on the
// response, counts the request in flight and writes the access-log line when it ends: procedure, principal
// role and account (never the key), Connect code, HTTP status, duration, request id, trace id and peer.
func (o *Obs) Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		id := r.Header.Get(reqlog.Header)
		if !reqlog.SaneID(id) {
			id = reqlog.NewID()
		}
		rec := &reqlog.Record{ID: id}
		w.Header().Set(reqlog.Header, id)
		ctx := reqlog.With(r.Context(), rec)
		o.active.Add(ctx, 1)
		sw := &statusWriter{ResponseWriter: w}
		defer func() {
			o.active.Add(ctx, -1)
			o.logRequest(ctx, r, rec, sw.status, time.Since(start))
		}()
		next.ServeHTTP(sw, r.WithContext(ctx))
	})
}

func (o *Obs) logRequest(ctx context.Context, r *http.Request, rec *reqlog.Record, status int, took time.Duration) {
	procedure, role, account, code := rec.Snapshot()
	if rec.Refused() {
		o.refused.Add(ctx, 1, metric.WithAttributes(attribute.String("rpc.connect_rpc.error_code", code)))
	}
	if status == 0 {
		status = http.StatusOK
	}
	if code == "" && strings.Count(r.URL.Path, "/") == 2 && isRPC(r) {
		// Refused before an interceptor saw it (the gate) or not routed to a procedure.
		code = connect.CodeUnimplemented.String()
		if status != http.StatusNotFound {
			code = "unknown"
		}
	}
	if procedure == "" {
		procedure = r.URL.Path
	}
	attrs := []slog.Attr{
		slog.String("request_id", rec.ID), slog.String("procedure", procedure), slog.String("method", r.Method),
		slog.String("protocol", protocolOf(r)), slog.String("code", code), slog.Int("http_status", status),
		slog.Float64("duration_ms", float64(took.Microseconds())/1000), slog.String("peer", r.RemoteAddr),
	}
	if role != "" {
		attrs = append(attrs, slog.String("role", role), slog.String("account_id", account))
	}
	if sc := trace.SpanContextFromContext(ctx); sc.IsValid() {
		attrs = append(attrs, slog.String("trace_id", sc.TraceID().String()))
	}
	// The record's id is an attribute here, not from the context (reqlog.Handler), so it is there once.
	o.log.LogAttrs(context.WithoutCancel(reqlog.With(ctx, nil)), slog.LevelInfo, "request", attrs...)
}

func isRPC(r *http.Request) bool { return r.Method == http.MethodPost || r.Method == http.MethodGet }

// protocolOf names the wire protocol of a request from its content type.
func protocolOf(r *http.Request) string {
	ct := r.Header.Get("Content-Type")
	switch {
	case strings.HasPrefix(ct, "application/grpc-web"):
		return "grpc_web"
	case strings.HasPrefix(ct, "application/grpc"):
		return "grpc"
	case strings.HasPrefix(ct, "application/connect+"), strings.HasPrefix(ct, "application/proto"),
		strings.HasPrefix(ct, "application/json"), r.URL.Query().Has("connect"):
		return "connect_rpc"
	}
	return "http"
}

// statusWriter records the status of a response. It unwraps, so http.ResponseController (flushes, read
// deadlines, full duplex) reaches the connection.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// Flush sends what is buffered (server streams).
func (w *statusWriter) Flush() {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	_ = http.NewResponseController(w.ResponseWriter).Flush()
}

// Unwrap returns the wrapped writer.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
