package transport_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/proto"

	commonv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/common/v1"
	orderv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/order/v1"
	"github.com/tradeassure/tradeassure/gen/go/tradeassure/order/v1/orderv1connect"
	"github.com/tradeassure/tradeassure/server/servertest"
	"github.com/tradeassure/tradeassure/server/transport"
)

// watchedBody records whether anything read it.
type watchedBody struct {
	read atomic.Bool
	r    *bytes.Reader
}

func (b *watchedBody) Read(p []byte) (int, error) { b.read.Store(true); return b.r.Read(p) }
func (b *watchedBody) Close() error               { return nil }

// TestGateRefusesBeforeReadingBody checks a call without a valid key, or with a declared body over the
// limit, is refused before a byte of its body is read, in each protocol; a public procedure and a call
// with a key are let through.
func TestGateRefusesBeforeReadingBody(t *testing.T) {
	for _, engine := range servertest.Engines() {
		t.Run(engine, func(t *testing.T) {
			e := servertest.New(t, servertest.Options{Engine: engine, Transport: transport.Config{MaxMessageBytes: 1000}})
			buyer := e.Buyer("US")
			cases := []struct {
				name, path, contentType, auth string
				size                          int
				wantStatus                    int
				wantRead                      bool
			}{
				{"connect, no key", "/tradeassure.order.v1.OrderService/ListOrders", "application/proto", "", 10, 401, false},
				{"connect, bad key", "/tradeassure.order.v1.OrderService/ListOrders", "application/json", "Bearer ta_nope", 10, 401, false},
				{"connect, other scheme", "/tradeassure.order.v1.OrderService/ListOrders", "application/json", "Basic " + buyer.Key, 10, 401, false},
				{"grpc, no key", "/tradeassure.order.v1.OrderService/ListOrders", "application/grpc", "", 10, 200, false},
				{"grpc-web, no key", "/tradeassure.order.v1.OrderService/ListOrders", "application/grpc-web+proto", "", 10, 200, false},
				{"connect, key, body over the limit", "/tradeassure.order.v1.OrderService/ListOrders", "application/proto", "Bearer " + buyer.Key, 1001, 429, false},
				{"connect, key, body at the limit", "/tradeassure.order.v1.OrderService/ListOrders", "application/proto", "Bearer " + buyer.Key, 1000, 400, true},
				{"health, no key", "/grpc.health.v1.Health/Check", "application/proto", "", 0, 200, true},
			}
			for _, c := range cases {
				t.Run(c.name, func(t *testing.T) {
					body := &watchedBody{r: bytes.NewReader(bytes.Repeat([]byte{0xff}, c.size))}
					req := httptest.NewRequest(http.MethodPost, c.path, body)
					req.ContentLength = int64(c.size)
					req.Header.Set("Content-Type", c.contentType)
					if c.auth != "" {
						req.Header.Set("Authorization", c.auth)
					}
					rec := httptest.NewRecorder()
					e.Server.Handler.ServeHTTP(rec, req)
					if rec.Code != c.wantStatus {
						t.Fatalf("status %d, want %d: %s %v", rec.Code, c.wantStatus, rec.Body, rec.Header())
					}
					if body.read.Load() != c.wantRead {
						t.Fatalf("body read: %v, want %v", body.read.Load(), c.wantRead)
					}
					if strings.HasPrefix(c.contentType, "application/grpc") {
						if got := rec.Header().Get("Grpc-Status") + rec.Body.String(); !strings.Contains(got, "16") {
							t.Fatalf("grpc status: %q %v", got, rec.Header())
						}
					}
				})
			}
		})
	}
}

// TestBearerSchemeAnyCase checks the Bearer scheme is matched in any case (RFC 9110), through the
// generated clients in every protocol, and a missing key answers UNAUTHENTICATED with its reason.
func TestBearerSchemeAnyCase(t *testing.T) {
	servertest.Each(t, func(t *testing.T, e *servertest.Env) {
		buyer := e.Buyer("US")
		for _, scheme := range []string{"Bearer", "bearer", "BEARER", "bEaReR"} {
			c := orderv1connect.NewOrderServiceClient(e.HTTPClient(), e.HTTP.URL, protocol(e), connect.WithInterceptors(header(scheme+" "+buyer.Key)))
			if _, err := c.ListOrders(e.Ctx, connect.NewRequest(&orderv1.ListOrdersRequest{})); err != nil {
				t.Fatalf("%s: %v", scheme, err)
			}
		}
		for _, h := range []string{"", "Bearer", "Bearer ", "Bearerta_x", "Token " + buyer.Key, "Bearer " + buyer.Key + "x"} {
			c := orderv1connect.NewOrderServiceClient(e.HTTPClient(), e.HTTP.URL, protocol(e), connect.WithInterceptors(header(h)))
			_, err := c.ListOrders(e.Ctx, connect.NewRequest(&orderv1.ListOrdersRequest{}))
			servertest.WantError(t, err, connect.CodeUnauthenticated, commonv1.ErrorReason_ERROR_REASON_UNAUTHENTICATED)
		}
	})
}

func protocol(e *servertest.Env) connect.ClientOption {
	switch e.Protocol {
	case "grpc":
		return connect.WithGRPC()
	case "grpcweb":
		return connect.WithGRPCWeb()
	}
	return connect.WithProtoJSON()
}

func header(v string) connect.UnaryInterceptorFunc {
	return func(next connect.UnaryFunc) connect.UnaryFunc {
		return func(ctx context.Context, req connect.AnyRequest) (connect.AnyResponse, error) {
			if v != "" {
				req.Header().Set("Authorization", v)
			}
			return next(ctx, req)
		}
	}
}

// TestMessageSizeLimit checks the limit is on the message, in every protocol: a message of exactly
// MaxMessageBytes is read and decoded (here answered with anything but RESOURCE_EXHAUSTED), one byte
// more is refused with RESOURCE_EXHAUSTED before its body is read, whether the message travels as the
// whole body (Connect) or in a 5-byte envelope (gRPC, gRPC-Web).
func TestMessageSizeLimit(t *testing.T) {
	const limit = 1000
	for _, engine := range servertest.Engines() {
		t.Run(engine, func(t *testing.T) {
			e := servertest.New(t, servertest.Options{Engine: engine, Transport: transport.Config{MaxMessageBytes: limit}})
			buyer := e.Buyer("US")
			for _, c := range []struct {
				contentType string
				envelope    bool
			}{
				{"application/proto", false},
				{"application/grpc", true},
				{"application/grpc+proto", true},
				{"application/grpc-web+proto", true},
			} {
				for _, size := range []int{limit, limit + 1} {
					t.Run(fmt.Sprintf("%s/%d", c.contentType, size), func(t *testing.T) {
						msg := messageOfSize(t, size)
						if c.envelope {
							head := make([]byte, 5)
							binary.BigEndian.PutUint32(head[1:], uint32(len(msg)))
							msg = append(head, msg...)
						}
						body := &watchedBody{r: bytes.NewReader(msg)}
						req := httptest.NewRequest(http.MethodPost, "/tradeassure.order.v1.OrderService/ListOrders", body)
						req.ContentLength = int64(len(msg))
						req.Header.Set("Content-Type", c.contentType)
						req.Header.Set("Authorization", "Bearer "+buyer.Key)
						rec := httptest.NewRecorder()
						e.Server.Handler.ServeHTTP(rec, req)
						exhausted := answerCode(rec, c.envelope) == connect.CodeResourceExhausted
						if over := size > limit; exhausted != over || body.read.Load() == over {
							t.Fatalf("message of %d bytes: RESOURCE_EXHAUSTED %v, body read %v; want %v, %v (status %d %v %s)",
								size, exhausted, body.read.Load(), over, !over, rec.Code, rec.Result().Trailer, rec.Body)
						}
					})
				}
			}
		})
	}
}

// messageOfSize returns a ListOrdersRequest encoded in exactly n bytes.
func messageOfSize(t *testing.T, n int) []byte {
	t.Helper()
	for l := n; l > 0; l-- {
		b, err := proto.Marshal(&orderv1.ListOrdersRequest{PageToken: strings.Repeat("x", l)})
		if err != nil {
			t.Fatal(err)
		}
		if len(b) == n {
			return b
		}
	}
	t.Fatalf("no message of %d bytes", n)
	return nil
}

// answerCode is the Connect code of an answer: the HTTP status of a Connect unary answer, the
// grpc-status (header, trailer or, for gRPC-Web, the trailer frame in the body) of an enveloped one.
func answerCode(rec *httptest.ResponseRecorder, envelope bool) connect.Code {
	if !envelope {
		if rec.Code == http.StatusTooManyRequests {
			return connect.CodeResourceExhausted
		}
		return connect.CodeUnknown
	}
	status := rec.Result().Trailer.Get("Grpc-Status")
	if status == "" {
		status = rec.Header().Get("Grpc-Status")
	}
	if status == "" {
		if _, after, ok := strings.Cut(rec.Body.String(), "grpc-status:"); ok {
			status, _, _ = strings.Cut(strings.TrimSpace(after), "\r\n")
		}
	}
	if status == "8" {
		return connect.CodeResourceExhausted
	}
	return connect.CodeUnknown
}
