package obs_test

import (
	"context"
	"log/slog"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"connectrpc.com/connect"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	commonv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/common/v1"
	orderv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/order/v1"
	"github.com/tradeassure/tradeassure/server/obs"
	"github.com/tradeassure/tradeassure/server/obs/reqlog"
	"github.com/tradeassure/tradeassure/server/servertest"
)

// TestMetrics checks /metrics exposes, after calls, the per-procedure count, latency and code (OTel RPC
// names), the in-flight gauge, the gate's refusals, the deadline backlog and runs, the feed head, the
// connection pool and the ledger reconciliation, on each engine.
func TestMetrics(t *testing.T) {
	for _, engine := range servertest.Engines() {
		t.Run(engine, func(t *testing.T) {
			e := servertest.New(t, servertest.Options{Engine: engine})
			buyer, supplier := e.Buyer("US"), e.Supplier(1_000_000_00, false)
			product := e.Product(supplier, "Widget", 5_00, "USD")
			id := createOrder(t, e, supplier, buyer, product)
			for range 3 {
				if _, err := buyer.Orders.GetOrder(e.Ctx, connect.NewRequest(&orderv1.GetOrderRequest{OrderId: id})); err != nil {
					t.Fatal(err)
				}
			}
			_, err := buyer.Orders.GetOrder(e.Ctx, connect.NewRequest(&orderv1.GetOrderRequest{OrderId: "ord_missing"}))
			servertest.WantError(t, err, connect.CodeNotFound, commonv1.ErrorReason_ERROR_REASON_NOT_FOUND)
			_, err = e.Clients("ta_wrong").Orders.ListOrders(e.Ctx, connect.NewRequest(&orderv1.ListOrdersRequest{}))
			servertest.WantError(t, err, connect.CodeUnauthenticated, commonv1.ErrorReason_ERROR_REASON_UNAUTHENTICATED)
			// A delivered order's receipt deadline: in the backlog once the clock has passed it.
			e.DeliverOrder(buyer, supplier, e.Staff(commonv1.Role_ROLE_OPERATOR), id)
			e.Clock.Set(e.Clock.Now().Add(60 * 24 * time.Hour))
			if _, err := e.Server.Obs.Reconcile(e.Ctx); err != nil {
				t.Fatal(err)
			}

			status, body, _ := get(t, e, "/metrics")
			if status != http.StatusOK {
				t.Fatalf("GET /metrics: %d %s", status, body)
			}
			for _, want := range []string{
				`rpc_server_call_duration_seconds_count\{rpc_method="tradeassure.order.v1.OrderService/GetOrder",rpc_response_status_code="OK",rpc_system_name="connectrpc"\} 3`,
				`rpc_server_call_duration_seconds_bucket\{rpc_method="tradeassure.order.v1.OrderService/GetOrder",rpc_response_status_code="OK",rpc_system_name="connectrpc",le="\+Inf"\} 3`,
				`rpc_server_call_duration_seconds_count\{error_type="NOT_FOUND",rpc_method="tradeassure.order.v1.OrderService/GetOrder",rpc_response_status_code="NOT_FOUND",rpc_system_name="connectrpc"\} 1`,
				`rpc_server_call_duration_seconds_count\{rpc_method="tradeassure.order.v1.OrderService/CreateOrder",.*\} 1`,
				`http_server_active_requests 1`, // this scrape
				`tradeassure_rpc_server_refused_total\{rpc_connect_rpc_error_code="unauthenticated"\} 1`,
				`tradeassure_deadline_due\{deadline_kind="[a-z_.]+"\} [1-9]`,
				`tradeassure_deadline_lag_seconds\{deadline_kind="[a-z_.]+"\} [1-9]`,
				`tradeassure_events_head [1-9]`,
				`db_client_connection_count\{db_client_connection_pool_name="[a-z0-9]+",db_client_connection_state="used"\} \d`,
				`db_client_connection_max\{.*\} \d+`,
				`tradeassure_ledger_reconciled(_ratio)? 1`,
				`go_goroutines \d+`,
			} {
				if !regexp.MustCompile(`(?m)^` + want).MatchString(body) {
					t.Errorf("/metrics lacks %s", want)
				}
			}
			if t.Failed() {
				t.Log(body)
			}
			// Running the deadlines counts them per kind and outcome.
			if _, err := e.Server.Engine.RunDue(e.Ctx); err != nil {
				t.Fatal(err)
			}
			_, body, _ = get(t, e, "/metrics")
			if want := `(?m)^tradeassure_deadline_runs_total\{deadline_kind="[a-z_.]+",deadline_outcome="applied"\} [1-9]`; !regexp.MustCompile(want).MatchString(body) {
				t.Errorf("/metrics lacks %s:\n%s", want, body)
			}
		})
	}
}

// TestTracing checks, with an in-memory exporter, that each call makes one trace whose server span is named
// after the procedure, with the transactions of a write as its children, in every protocol and engine.
func TestTracing(t *testing.T) {
	for _, engine := range servertest.Engines() {
		for _, proto := range servertest.Protocols {
			t.Run(engine+"/"+proto, func(t *testing.T) {
				rec := tracetest.NewSpanRecorder()
				tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
				e := servertest.New(t, servertest.Options{Engine: engine, Protocol: proto, Observability: obs.Config{TracerProvider: tp}})
				buyer, supplier := e.Buyer("US"), e.Supplier(1_000_000_00, false)
				product := e.Product(supplier, "Widget", 5_00, "USD")
				before := len(rec.Ended())
				id := createOrder(t, e, supplier, buyer, product)
				if _, err := buyer.Orders.GetOrder(e.Ctx, connect.NewRequest(&orderv1.GetOrderRequest{OrderId: id})); err != nil {
					t.Fatal(err)
				}
				spans := rec.Ended()[before:]
				traces := map[trace.TraceID][]sdktrace.ReadOnlySpan{}
				for _, s := range spans {
					traces[s.SpanContext().TraceID()] = append(traces[s.SpanContext().TraceID()], s)
				}
				if len(traces) != 2 {
					t.Fatalf("%d traces for 2 calls: %v", len(traces), names(spans))
				}
				for _, want := range []string{"tradeassure.order.v1.OrderService/CreateOrder", "tradeassure.order.v1.OrderService/GetOrder"} {
					var server sdktrace.ReadOnlySpan
					for _, s := range spans {
						if s.Name() == want && s.SpanKind() == trace.SpanKindServer {
							server = s
						}
					}
					if server == nil {
						t.Fatalf("no server span %s among %v", want, names(spans))
					}
					tr := traces[server.SpanContext().TraceID()]
					if want == "tradeassure.order.v1.OrderService/CreateOrder" {
						tx := 0
						for _, s := range tr {
							if s.Name() == "db.transaction" && s.Parent().SpanID() == server.SpanContext().SpanID() {
								tx++
							}
						}
						if tx == 0 {
							t.Errorf("CreateOrder has no db.transaction child span: %v", names(tr))
						}
					}
				}
			})
		}
	}
}

// TestDeadlineSpans checks a deadline run makes a span of its own named after its kind, with its outcome.
func TestDeadlineSpans(t *testing.T) {
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	e := servertest.New(t, servertest.Options{Observability: obs.Config{TracerProvider: tp}})
	buyer, supplier := e.Buyer("US"), e.Supplier(1_000_000_00, false)
	id := createOrder(t, e, supplier, buyer, e.Product(supplier, "Widget", 5_00, "USD"))
	e.DeliverOrder(buyer, supplier, e.Staff(commonv1.Role_ROLE_OPERATOR), id)
	e.Clock.Set(e.Clock.Now().Add(60 * 24 * time.Hour))
	before := len(rec.Ended())
	if n, err := e.Server.Engine.RunDue(e.Ctx); err != nil || n == 0 {
		t.Fatalf("run deadlines: %d, %v", n, err)
	}
	found := false
	for _, s := range rec.Ended()[before:] {
		if strings.HasPrefix(s.Name(), "deadline ") {
			for _, a := range s.Attributes() {
				if a.Key == "deadline.outcome" && a.Value.AsString() == "applied" {
					found = true
				}
			}
		}
	}
	if !found {
		t.Fatalf("no applied deadline span: %v", names(rec.Ended()[before:]))
	}
}

func names(spans []sdktrace.ReadOnlySpan) []string {
	var out []string
	for _, s := range spans {
		out = append(out, s.Name())
	}
	return out
}

// TestAccessLog checks every response carries X-Request-Id (a sane incoming one kept, anything else
// replaced), and the access log has exactly one line per request with that id, the procedure, code,
// principal and peer, and never the key.
func TestAccessLog(t *testing.T) {
	for _, engine := range servertest.Engines() {
		for _, proto := range servertest.Protocols {
			t.Run(engine+"/"+proto, func(t *testing.T) {
				lines := &logLines{}
				log := slog.New(reqlog.NewHandler(slog.NewJSONHandler(lines, &slog.HandlerOptions{Level: slog.LevelInfo})))
				e := servertest.New(t, servertest.Options{Engine: engine, Protocol: proto, Log: log})
				buyer := e.Buyer("US")
				long := strings.Repeat("a", reqlog.MaxIDLength)
				cases := []struct {
					name, incoming string
					key            string
					keep           bool
					code           string
				}{
					{"no id", "", buyer.Key, false, "ok"},
					{"sane id", "req-123_abc.DEF:9", buyer.Key, true, "ok"},
					{"id at the length limit", long, buyer.Key, true, "ok"},
					{"id over the length limit", long + "a", buyer.Key, false, "ok"},
					{"id with a space", "a b", buyer.Key, false, "ok"},
					{"id with a quote", `a"b`, buyer.Key, false, "ok"},
					{"bad key", "bad-key-call", "ta_not_a_key", true, "unauthenticated"},
				}
				for _, c := range cases {
					t.Run(c.name, func(t *testing.T) {
						req := connect.NewRequest(&orderv1.ListOrdersRequest{})
						if c.incoming != "" {
							req.Header()[reqlog.Header] = []string{c.incoming}
						}
						var header http.Header
						resp, err := e.Clients(c.key).Orders.ListOrders(e.Ctx, req)
						if err != nil {
							header = err.(*connect.Error).Meta()
						} else {
							header = resp.Header()
						}
						id := header.Get(reqlog.Header)
						if !reqlog.SaneID(id) {
							t.Fatalf("response X-Request-Id %q is not sane", id)
						}
						if (id == c.incoming) != c.keep {
							t.Fatalf("incoming %q, response %q; keep %v", c.incoming, id, c.keep)
						}
						var mine []map[string]any
						servertest.WaitFor(t, "access log line", func() bool {
							mine = nil
							for _, r := range lines.records(t, "request") {
								if r["request_id"] == id {
									mine = append(mine, r)
								}
							}
							return len(mine) > 0
						}, func() int { return len(lines.text()) })
						if len(mine) != 1 {
							t.Fatalf("%d access-log lines for request %s: %v", len(mine), id, mine)
						}
						r := mine[0]
						if r["procedure"] != "/tradeassure.order.v1.OrderService/ListOrders" || r["code"] != c.code || r["level"] != "INFO" ||
							r["peer"] == "" || r["duration_ms"] == nil {
							t.Fatalf("access-log line: %v", r)
						}
						if c.code == "ok" && (r["role"] != "buyer" || r["account_id"] != buyer.ID()) {
							t.Fatalf("access-log line lacks the principal: %v", r)
						}
					})
				}
				if strings.Contains(lines.text(), buyer.Key) || strings.Contains(lines.text(), "ta_not_a_key") {
					t.Fatal("the log holds an API key")
				}
				if fails := lines.records(t, "authentication failed"); len(fails) != 1 || fails[0]["request_id"] != "bad-key-call" {
					t.Fatalf("failed authentication log: %v", fails)
				}
			})
		}
	}
}

// TestReadyz checks /healthz and /readyz: ready once the deadline worker runs, not ready before, and not
// ready (nor the internal error's reference missing) once the database is gone.
func TestReadyz(t *testing.T) {
	for _, engine := range servertest.Engines() {
		t.Run(engine, func(t *testing.T) {
			e := servertest.New(t, servertest.Options{Engine: engine})
			buyer := e.Buyer("US")
			if status, body, _ := get(t, e, "/healthz"); status != http.StatusOK {
				t.Fatalf("/healthz: %d %s", status, body)
			}
			if status, body, _ := get(t, e, "/readyz"); status != http.StatusServiceUnavailable || !strings.Contains(body, `"deadline_worker":"not running`) {
				t.Fatalf("/readyz without a worker: %d %s", status, body)
			}
			ctx, cancel := context.WithCancel(e.Ctx)
			done := make(chan struct{})
			go func() { defer close(done); e.Server.Engine.Run(ctx, 10*time.Millisecond) }()
			t.Cleanup(func() { cancel(); <-done })
			servertest.WaitFor(t, "ready", func() bool {
				status, _, _ := get(t, e, "/readyz")
				return status == http.StatusOK
			}, func() int { return 0 })
			status, body, _ := get(t, e, "/readyz")
			if !strings.Contains(body, `"database":"ok"`) || !strings.Contains(body, `"migrations":"ok"`) || status != http.StatusOK {
				t.Fatalf("/readyz: %d %s", status, body)
			}

			e.Store.DB.Close()
			// Probes share a result for up to a second (health.readyFor), so the failure may take that long.
			servertest.WaitFor(t, "not ready without a database", func() bool {
				status, _, _ := get(t, e, "/readyz")
				return status == http.StatusServiceUnavailable
			}, func() int { return 0 })
			status, body, _ = get(t, e, "/readyz")
			if status != http.StatusServiceUnavailable || strings.Contains(body, `"database":"ok"`) {
				t.Fatalf("/readyz without a database: %d %s", status, body)
			}
			if status, _, _ := get(t, e, "/healthz"); status != http.StatusOK {
				t.Fatalf("/healthz without a database: %d", status)
			}
			// A call now fails inside; the client sees the request id as the reference, never the cause.
			_, err := buyer.Orders.ListOrders(e.Ctx, connect.NewRequest(&orderv1.ListOrdersRequest{}))
			servertest.WantError(t, err, connect.CodeInternal, commonv1.ErrorReason_ERROR_REASON_INTERNAL)
			id := err.(*connect.Error).Meta().Get(reqlog.Header)
			if id == "" || !strings.Contains(err.Error(), "internal error, reference "+id) || strings.Contains(err.Error(), "closed") {
				t.Fatalf("internal error %q, request id %q", err, id)
			}
		})
	}
}
