package auth

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/types/known/emptypb"
)

// TestInterceptorNeedsTheGate checks the interceptor never authenticates on its own: a call reaching a
// handler without the principal the gate puts in the context is refused UNAUTHENTICATED, even with a
// well-formed bearer header, and one with a principal is let through.
func TestInterceptorNeedsTheGate(t *testing.T) {
	reached := false
	h := connect.NewUnaryHandler("/test.v1.T/Call",
		func(ctx context.Context, _ *connect.Request[emptypb.Empty]) (*connect.Response[emptypb.Empty], error) {
			reached = true
			return connect.NewResponse(&emptypb.Empty{}), nil
		}, connect.WithInterceptors((&Authenticator{}).Interceptor()))
	for _, c := range []struct {
		name      string
		principal bool
		want      connect.Code
	}{
		{"no principal", false, connect.CodeUnauthenticated},
		{"principal from the gate", true, 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			reached = false
			var next http.Handler = h
			if c.principal {
				next = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					h.ServeHTTP(w, r.WithContext(WithPrincipal(r.Context(), Principal{AccountID: "acc_1"})))
				})
			}
			srv := httptest.NewServer(next)
			defer srv.Close()
			client := connect.NewClient[emptypb.Empty, emptypb.Empty](srv.Client(), srv.URL+"/test.v1.T/Call")
			req := connect.NewRequest(&emptypb.Empty{})
			req.Header().Set("Authorization", "Bearer ta_whatever")
			_, err := client.CallUnary(context.Background(), req)
			if got := connect.CodeOf(err); err != nil && got != c.want || err == nil && c.want != 0 {
				t.Fatalf("error %v, want code %v", err, c.want)
			}
			if reached != (c.want == 0) {
				t.Fatalf("handler reached: %v", reached)
			}
		})
	}
}
