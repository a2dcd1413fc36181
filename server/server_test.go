package server_test

import (
	"net/http"
	"testing"

	"connectrpc.com/connect"
	"connectrpc.com/grpcreflect"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	"github.com/tradeassure/tradeassure/server/servertest"
	"github.com/tradeassure/tradeassure/server/transport"
)

// TestHealthAndReflectionNeedNoKey checks grpc.health.v1 answers SERVING and reflection lists every
// service, without an API key, over gRPC.
func TestHealthAndReflectionNeedNoKey(t *testing.T) {
	for _, engine := range servertest.Engines() {
		t.Run(engine, func(t *testing.T) {
			e := servertest.New(t, servertest.Options{Engine: engine})
			health := connect.NewClient[healthpb.HealthCheckRequest, healthpb.HealthCheckResponse](
				e.HTTPClient(), e.HTTP.URL+"/grpc.health.v1.Health/Check", connect.WithGRPC())
			resp, err := health.CallUnary(e.Ctx, connect.NewRequest(&healthpb.HealthCheckRequest{}))
			if err != nil || resp.Msg.GetStatus() != healthpb.HealthCheckResponse_SERVING {
				t.Fatalf("health: %v %v", resp, err)
			}
			if _, err := health.CallUnary(e.Ctx, connect.NewRequest(&healthpb.HealthCheckRequest{Service: "tradeassure.order.v1.OrderService"})); err != nil {
				t.Fatalf("service health: %v", err)
			}
			if _, err := health.CallUnary(e.Ctx, connect.NewRequest(&healthpb.HealthCheckRequest{Service: "nope"})); connect.CodeOf(err) != connect.CodeNotFound {
				t.Fatalf("unknown service: %v", err)
			}
			stream := grpcreflect.NewClient(e.HTTPClient(), e.HTTP.URL).NewStream(e.Ctx)
			defer stream.Close()
			names, err := stream.ListServices()
			if err != nil {
				t.Fatalf("reflection: %v", err)
			}
			want := map[string]bool{
				"tradeassure.order.v1.OrderService": true, "tradeassure.returns.v1.ReturnService": true,
				"tradeassure.dispute.v1.DisputeService": true, "tradeassure.complaint.v1.ComplaintService": true,
				"tradeassure.payout.v1.PayoutService": true, "tradeassure.event.v1.EventService": true,
				"tradeassure.admin.v1.AdminService": true, "grpc.health.v1.Health": true,
			}
			for _, n := range names {
				delete(want, string(n))
			}
			if len(want) != 0 {
				t.Fatalf("reflection lacks %v (lists %v)", want, names)
			}
		})
	}
}

// TestCORSOrigins checks browsers may call the API only from the configured origins: any with --dev
// unless configured, none by default otherwise, the listed ones when configured.
func TestCORSOrigins(t *testing.T) {
	cases := []struct {
		name    string
		opts    servertest.Options
		origin  string
		allowed bool
	}{
		{"production default: none", servertest.Options{}, "https://erp.example", false},
		{"dev default: any", servertest.Options{Dev: true}, "https://erp.example", true},
		{"listed origin", servertest.Options{Transport: transport.Config{CORSOrigins: []string{"https://erp.example", "https://b.example"}}}, "https://erp.example", true},
		{"origin not listed", servertest.Options{Transport: transport.Config{CORSOrigins: []string{"https://erp.example"}}}, "https://evil.example", false},
		{"dev with a list", servertest.Options{Dev: true, Transport: transport.Config{CORSOrigins: []string{"https://erp.example"}}}, "https://evil.example", false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := servertest.New(t, c.opts)
			req, _ := http.NewRequest(http.MethodOptions, e.HTTP.URL+"/tradeassure.order.v1.OrderService/ListOrders", nil)
			req.Header.Set("Origin", c.origin)
			req.Header.Set("Access-Control-Request-Method", "POST")
			req.Header.Set("Access-Control-Request-Headers", "authorization,connect-protocol-version,content-type")
			resp, err := e.HTTPClient().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			got := resp.Header.Get("Access-Control-Allow-Origin")
			if c.allowed && (got == "" || resp.StatusCode >= 300) {
				t.Fatalf("preflight from %s refused: %d %v", c.origin, resp.StatusCode, resp.Header)
			}
			if !c.allowed && got != "" {
				t.Fatalf("preflight from %s allowed: %v", c.origin, resp.Header)
			}
		})
	}
}
