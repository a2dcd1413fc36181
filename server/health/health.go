// Package health serves grpc.health.v1.Health on top of connect, so grpcurl and load balancers can ask
// whether the server (and each service) is serving.
package health

import (
	"context"
	"errors"
	"net/http"
	"time"

	"connectrpc.com/connect"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
)

// ServiceName is the health service's name.
const ServiceName = "grpc.health.v1.Health"

// NewHandler returns the health service's path and handler. The server is SERVING while ready answers
// true; a service name other than "" and the named services is unknown (NOT_FOUND). opts apply to both
// procedures (the message size limit).
func NewHandler(ready func(context.Context) bool, services []string, opts ...connect.HandlerOption) (string, http.Handler) {
	known := map[string]bool{"": true}
	for _, s := range services {
		known[s] = true
	}
	status := func(ctx context.Context, service string) (healthpb.HealthCheckResponse_ServingStatus, error) {
		if !known[service] {
			return 0, connect.NewError(connect.CodeNotFound, errors.New("unknown service "+service))
		}
		if ready(ctx) {
			return healthpb.HealthCheckResponse_SERVING, nil
		}
		return healthpb.HealthCheckResponse_NOT_SERVING, nil
	}
	check := connect.NewUnaryHandler("/grpc.health.v1.Health/Check",
		func(ctx context.Context, req *connect.Request[healthpb.HealthCheckRequest]) (*connect.Response[healthpb.HealthCheckResponse], error) {
			st, err := status(ctx, req.Msg.GetService())
			if err != nil {
				return nil, err
			}
			return connect.NewResponse(&healthpb.HealthCheckResponse{Status: st}), nil
		}, append(opts, connect.WithIdempotency(connect.IdempotencyNoSideEffects))...)
	watch := connect.NewServerStreamHandler("/grpc.health.v1.Health/Watch",
		func(ctx context.Context, req *connect.Request[healthpb.HealthCheckRequest], stream *connect.ServerStream[healthpb.HealthCheckResponse]) error {
			last := healthpb.HealthCheckResponse_SERVICE_UNKNOWN
			t := time.NewTicker(5 * time.Second)
			defer t.Stop()
			for {
				st, err := status(ctx, req.Msg.GetService())
				if err != nil {
					return err
				}
				if st != last {
					if err := stream.Send(&healthpb.HealthCheckResponse{Status: st}); err != nil {
						return nil
					}
					last = st
				}
				select {
				case <-ctx.Done():
					return nil
				case <-t.C:
				}
			}
		}, opts...)
	mux := http.NewServeMux()
	mux.Handle("/grpc.health.v1.Health/Check", check)
	mux.Handle("/grpc.health.v1.Health/Watch", watch)
	return "/grpc.health.v1.Health/", mux
}
