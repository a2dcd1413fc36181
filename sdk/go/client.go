// Package tradeassure is the Go client SDK of tradeassure: a small hand-written layer over the generated
// Connect clients in gen/go that adds what every caller needs.
//
//   - One constructor, [New], gives clients for every service (Orders, Returns, Disputes, Complaints,
//     Payouts, Events, Admin, Webhooks and Cases), all sending the API key.
//   - The wire protocol is Connect by default; gRPC (over h2c for http:// URLs) and gRPC-Web are options.
//   - Mutating calls whose request has a request_id field get one generated when the caller left it
//     empty, and a retried call sends the same id again, so the server applies the effect once.
//   - Calls that are safe to repeat (reads, and mutations carrying a request id) are retried with
//     exponential backoff and jitter when the failure is transient (Unavailable, ResourceExhausted,
//     DeadlineExceeded).
//   - Paged lists are Go iterators that follow next_page_token ([Paginate], [Client.AllOrders], …), and
//     the event feed can be followed with automatic resumption ([Client.Follow]).
//   - Errors carry the service's machine-readable reason, metadata and field violations ([AsError]).
//   - Webhook receivers check a delivery's Standard Webhooks signature and get its event with
//     [VerifyWebhook].
//
// The generated message types stay the vocabulary: import them from
// github.com/tradeassure/tradeassure/gen/go/tradeassure/<domain>/v1.
package tradeassure

import (
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"strings"
	"time"

	"connectrpc.com/connect"

	"github.com/tradeassure/tradeassure/gen/go/tradeassure/admin/v1/adminv1connect"
	"github.com/tradeassure/tradeassure/gen/go/tradeassure/case/v1/casev1connect"
	"github.com/tradeassure/tradeassure/gen/go/tradeassure/complaint/v1/complaintv1connect"
	"github.com/tradeassure/tradeassure/gen/go/tradeassure/dispute/v1/disputev1connect"
	"github.com/tradeassure/tradeassure/gen/go/tradeassure/event/v1/eventv1connect"
	"github.com/tradeassure/tradeassure/gen/go/tradeassure/order/v1/orderv1connect"
	"github.com/tradeassure/tradeassure/gen/go/tradeassure/payout/v1/payoutv1connect"
	"github.com/tradeassure/tradeassure/gen/go/tradeassure/policy/v1/policyv1connect"
	"github.com/tradeassure/tradeassure/gen/go/tradeassure/returns/v1/returnsv1connect"
	"github.com/tradeassure/tradeassure/gen/go/tradeassure/webhook/v1/webhookv1connect"
)

// Protocol is the wire protocol the clients speak. The server answers all three on one port.
type Protocol int

const (
	// ProtocolConnect is the Connect protocol over HTTP/1.1 or HTTP/2; the default. Its errors and
	// unary calls are plain HTTP, which makes it the easiest to debug.
	ProtocolConnect Protocol = iota
	// ProtocolGRPC is gRPC. It needs HTTP/2: over https it is negotiated, over http the default
	// HTTP client speaks cleartext HTTP/2 (h2c) with prior knowledge.
	ProtocolGRPC
	// ProtocolGRPCWeb is gRPC-Web, the protocol of browser gRPC clients and many proxies.
	ProtocolGRPCWeb
)

// String returns the protocol's name: "connect", "grpc" or "grpcweb".
func (p Protocol) String() string {
	switch p {
	case ProtocolGRPC:
		return "grpc"
	case ProtocolGRPCWeb:
		return "grpcweb"
	default:
		return "connect"
	}
}

// ParseProtocol returns the protocol named "connect", "grpc", "grpcweb" or "grpc-web".
func ParseProtocol(name string) (Protocol, bool) {
	switch strings.ToLower(name) {
	case "", "connect":
		return ProtocolConnect, true
	case "grpc":
		return ProtocolGRPC, true
	case "grpcweb", "grpc-web":
		return ProtocolGRPCWeb, true
	}
	return ProtocolConnect, false
}

// Client holds a client of every tradeassure service, each acting as the principal of one API key.
// It is safe for concurrent use.
type Client struct {
	// Orders drafts, pays, ships and completes assured orders.
	Orders orderv1connect.OrderServiceClient
	// Returns handles buyers' returns and the suppliers' and warehouse's answers.
	Returns returnsv1connect.ReturnServiceClient
	// Disputes runs disputes: negotiation, escalation and the arbiter's ruling.
	Disputes disputev1connect.DisputeServiceClient
	// Complaints handles complaints between the parties and their penalties.
	Complaints complaintv1connect.ComplaintServiceClient
	// Payouts shows balances and statements and runs withdrawals.
	Payouts payoutv1connect.PayoutServiceClient
	// Events is the change feed.
	Events eventv1connect.EventServiceClient
	// Admin manages accounts and keys, tells the caller who it is, and moves the clock in development mode.
	Admin adminv1connect.AdminServiceClient
	// Webhooks manages the caller's webhook endpoints; [VerifyWebhook] checks what they receive.
	Webhooks webhookv1connect.WebhookServiceClient
	// Cases lists an order's case timeline: revisions, payments, returns, disputes, complaints and money.
	Cases casev1connect.CaseServiceClient
	// Policies reads the policy sets and exchange-rate tables, and publishes new versions (operators).
	Policies policyv1connect.PolicyServiceClient

	cfg config
}

// config is what the options set.
type config struct {
	protocol     Protocol
	httpClient   connect.HTTPClient
	retry        RetryPolicy
	newRequestID func() string
	interceptors []connect.Interceptor
	userAgent    string
}

// Option configures [New].
type Option func(*config)

// WithProtocol chooses the wire protocol; the default is [ProtocolConnect].
func WithProtocol(p Protocol) Option { return func(c *config) { c.protocol = p } }

// WithHTTPClient sets the HTTP client, for example one with a custom TLS configuration or proxy. For gRPC
// over a plaintext http:// URL it must speak h2c; see [H2CClient].
func WithHTTPClient(hc connect.HTTPClient) Option { return func(c *config) { c.httpClient = hc } }

// WithRetry replaces the retry policy; see [DefaultRetryPolicy].
func WithRetry(p RetryPolicy) Option { return func(c *config) { c.retry = p } }

// WithoutRetries turns retries off: every call is attempted once.
func WithoutRetries() Option { return func(c *config) { c.retry.MaxAttempts = 1 } }

// WithRequestIDs sets the function that makes request ids for mutating calls that left request_id
// empty; the default makes 128-bit random hex ids prefixed "sdk-".
func WithRequestIDs(newID func() string) Option { return func(c *config) { c.newRequestID = newID } }

// WithInterceptors adds Connect interceptors. They run inside the SDK's retry loop, so they see every
// attempt, each with the API key and the request id already set.
func WithInterceptors(i ...connect.Interceptor) Option {
	return func(c *config) { c.interceptors = append(c.interceptors, i...) }
}

// WithUserAgent sets the User-Agent header sent with every call.
func WithUserAgent(ua string) Option { return func(c *config) { c.userAgent = ua } }

// New returns clients for the server at baseURL (for example "http://localhost:8080") acting as the
// principal of apiKey. An empty apiKey sends no Authorization header, which only reflection and health
// checks accept.
func New(baseURL, apiKey string, opts ...Option) *Client {
	cfg := config{retry: DefaultRetryPolicy(), newRequestID: randomRequestID, userAgent: "tradeassure-sdk-go/1"}
	for _, o := range opts {
		o(&cfg)
	}
	if cfg.httpClient == nil {
		cfg.httpClient = defaultHTTPClient(cfg.protocol, baseURL)
	}
	if cfg.retry.MaxAttempts < 1 {
		cfg.retry.MaxAttempts = 1
	}
	// The SDK's own interceptor is outermost so that its retry loop repeats the caller's interceptors and
	// the header-setting below on every attempt.
	chain := append([]connect.Interceptor{&sdkInterceptor{cfg: &cfg}, headerInterceptor{apiKey: apiKey, userAgent: cfg.userAgent}},
		cfg.interceptors...)
	copts := []connect.ClientOption{connect.WithInterceptors(chain...)}
	switch cfg.protocol {
	case ProtocolGRPC:
		copts = append(copts, connect.WithGRPC())
	case ProtocolGRPCWeb:
		copts = append(copts, connect.WithGRPCWeb())
	}
	hc := cfg.httpClient
	return &Client{
		Orders:     orderv1connect.NewOrderServiceClient(hc, baseURL, copts...),
		Returns:    returnsv1connect.NewReturnServiceClient(hc, baseURL, copts...),
		Disputes:   disputev1connect.NewDisputeServiceClient(hc, baseURL, copts...),
		Complaints: complaintv1connect.NewComplaintServiceClient(hc, baseURL, copts...),
		Payouts:    payoutv1connect.NewPayoutServiceClient(hc, baseURL, copts...),
		Events:     eventv1connect.NewEventServiceClient(hc, baseURL, copts...),
		Admin:      adminv1connect.NewAdminServiceClient(hc, baseURL, copts...),
		Webhooks:   webhookv1connect.NewWebhookServiceClient(hc, baseURL, copts...),
		Cases:      casev1connect.NewCaseServiceClient(hc, baseURL, copts...),
		Policies:   policyv1connect.NewPolicyServiceClient(hc, baseURL, copts...),
		cfg:        cfg,
	}
}

// Protocol returns the wire protocol the client speaks.
func (c *Client) Protocol() Protocol { return c.cfg.protocol }

// H2CClient returns an HTTP client that speaks HTTP/2 only: cleartext HTTP/2 with prior knowledge (h2c)
// for http:// URLs and negotiated HTTP/2 for https:// URLs. gRPC over plaintext needs it.
func H2CClient() *http.Client {
	p := new(http.Protocols)
	p.SetUnencryptedHTTP2(true)
	p.SetHTTP2(true)
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.Protocols = p
	return &http.Client{Transport: t}
}

// defaultHTTPClient returns the client New uses when none is given: h2c for gRPC over http://, and the
// standard transport (HTTP/1.1, or HTTP/2 negotiated over TLS) otherwise. Neither sets an overall timeout,
// which would cut long-lived event streams; unary calls are bounded by the caller's context.
func defaultHTTPClient(p Protocol, baseURL string) *http.Client {
	if p == ProtocolGRPC && strings.HasPrefix(strings.ToLower(baseURL), "http://") {
		return H2CClient()
	}
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.ResponseHeaderTimeout = 0
	t.IdleConnTimeout = 90 * time.Second
	return &http.Client{Transport: t}
}

// randomRequestID returns "sdk-" and 32 random hex digits.
func randomRequestID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return "sdk-" + hex.EncodeToString(b)
}
