package server_test

import (
	"net/http"
	"testing"

	"connectrpc.com/connect"
	"connectrpc.com/grpcreflect"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	"github.com/tradeassure/tradeassure/server/servertest"
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

// TestCORSPreflight checks a browser on another origin may call the API with its key.
func TestCORSPreflight(t *testing.T) {
	e := servertest.New(t, servertest.Options{})
	req, _ := http.NewRequest(http.MethodOptions, e.HTTP.URL+"/tradeassure.order.v1.OrderService/ListOrders", nil)
	req.Header.Set("Origin", "https://erp.example")
	req.Header.Set("Access-Control-Request-Method", "POST")
	req.Header.Set("Access-Control-Request-Headers", "authorization,connect-protocol-version,content-type")
	resp, err := e.HTTPClient().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.Header.Get("Access-Control-Allow-Origin") == "" || resp.StatusCode >= 300 {
		t.Fatalf("preflight: %d %v", resp.StatusCode, resp.Header)
	}
}
