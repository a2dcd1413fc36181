package transport

import (
	"context"
	"errors"
	"log/slog"
	"math"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"connectrpc.com/connect"
	"golang.org/x/time/rate"

	commonv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/common/v1"
	"github.com/tradeassure/tradeassure/server/apierr"
	"github.com/tradeassure/tradeassure/server/auth"
	"github.com/tradeassure/tradeassure/server/obs/reqlog"
)

// Gate authenticates a request by its API key before anything reads its body, so a caller without a
// valid key can make the server neither read nor decompress a byte of it; it also refuses a body whose
// declared length is already more than a message of MaxMessageBytes takes. It is also where the rate
// limits are, since it is where the principal is known: a key over its rate, and an address with too many
// failed authentications, are refused before the key is looked up or the body read. Refusals are Connect,
// gRPC or gRPC-Web errors, as the request's protocol asks (UNAUTHENTICATED, RESOURCE_EXHAUSTED). The
// principal travels in the request context to the auth interceptor. Public procedures (health,
// reflection) are not behind a Gate but behind Public, which limits them per client address.
type Gate struct {
	Auth   *auth.Authenticator
	Config Config
	Log    *slog.Logger
	errors *connect.ErrorWriter
	// keys, addresses and failures are the token buckets per API key, per client address (calls without
	// a key) and of failed authentications per client address; nil when that limit is off.
	keys, addresses, failures *buckets
	// failureLog bounds the log lines about failed authentications; suppressed counts those left out.
	failureLog *rate.Limiter
	suppressed atomic.Int64
}

// NewGate returns a gate authenticating with a.
func NewGate(a *auth.Authenticator, c Config, log *slog.Logger) *Gate {
	c = c.WithDefaults()
	l := c.Limits
	return &Gate{Auth: a, Config: c, Log: log, errors: connect.NewErrorWriter(),
		keys: newBuckets(l.KeyRate, l.KeyBurst), addresses: newBuckets(l.AddressRate, l.AddressBurst),
		failures: newBuckets(l.AuthFailureRate, l.AuthFailureBurst), failureLog: rate.NewLimiter(1, 10)}
}

// Wrap returns next behind the gate.
func (g *Gate) Wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		now := time.Now()
		addr := g.Config.Limits.ClientAddress(r)
		if wait, empty := g.failures.empty(limitKey(addr), now); empty {
			g.refuse(w, r, apierr.Throttled(commonv1.ErrorReason_ERROR_REASON_AUTH_FAILURES_THROTTLED, wait,
				"too many failed authentications from %s; retry in %s", addr, roundUp(wait)))
			return
		}
		header := r.Header.Get("Authorization")
		p, err := g.Auth.Authenticate(r.Context(), header)
		if connect.CodeOf(err) == connect.CodeUnauthenticated {
			g.failures.take(limitKey(addr), now)
			g.logFailure(r, addr)
		}
		if err == nil {
			reqlog.From(r.Context()).SetPrincipal(auth.RoleName(p.Role), p.AccountID)
			if wait, ok := g.keys.take(keyID(header), now); !ok {
				err = apierr.Throttled(commonv1.ErrorReason_ERROR_REASON_RATE_LIMITED, wait,
					"this API key is over its rate of %g requests a second (burst %d); retry in %s",
					g.Config.Limits.KeyRate, g.Config.Limits.KeyBurst, roundUp(wait))
			}
		}
		if err == nil && r.ContentLength > g.bodyLimit(r) {
			err = apierr.New(connect.CodeResourceExhausted, commonv1.ErrorReason_ERROR_REASON_MESSAGE_TOO_LARGE,
				"the request body is %d bytes, more than a message of at most %d bytes takes (--max-message-bytes)",
				r.ContentLength, g.Config.MaxMessageBytes).With("max_bytes", strconv.FormatInt(g.Config.MaxMessageBytes, 10))
		}
		if err != nil {
			g.refuse(w, r, err)
			return
		}
		ctx := auth.WithRecheck(auth.WithPrincipal(r.Context(), p), func(ctx context.Context) (auth.Principal, error) {
			return g.Auth.Authenticate(ctx, header)
		})
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// Public returns next, a handler anyone may call without a key, limited per client address.
func (g *Gate) Public(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		addr := g.Config.Limits.ClientAddress(r)
		if wait, ok := g.addresses.take(limitKey(addr), time.Now()); !ok {
			g.refuse(w, r, apierr.Throttled(commonv1.ErrorReason_ERROR_REASON_RATE_LIMITED, wait,
				"%s is over its rate of %g calls a second without an API key (burst %d); retry in %s",
				addr, g.Config.Limits.AddressRate, g.Config.Limits.AddressBurst, roundUp(wait)))
			return
		}
		next.ServeHTTP(w, r)
	})
}

// roundUp is a wait as a message says it: up to the whole millisecond, never "0s".
func roundUp(d time.Duration) time.Duration { return apierr.CeilMillis(d) }

// keyID is the bucket name of an Authorization header: a hash, so the limiter holds no key.
func keyID(header string) string {
	_, secret, _ := strings.Cut(strings.TrimSpace(header), " ")
	return auth.Hash(strings.TrimSpace(secret))
}

// logFailure logs a failed authentication, at most about one line a second: a key-guessing loop must not
// flood the log. A line says how many were left out since the last one.
func (g *Gate) logFailure(r *http.Request, addr string) {
	if !g.failureLog.Allow() {
		g.suppressed.Add(1)
		return
	}
	scheme, _, _ := strings.Cut(strings.TrimSpace(r.Header.Get("Authorization")), " ")
	g.Log.WarnContext(r.Context(), "authentication failed", "peer", addr, "procedure", r.URL.Path,
		"scheme", scheme, "suppressed_before", g.suppressed.Swap(0))
}

// envelopePrefix is the flags byte and 4-byte length before each message of gRPC, gRPC-Web and Connect
// streaming.
const envelopePrefix = 5

// bodyLimit is the largest body that can carry one message of MaxMessageBytes, the size the handlers
// bound (connect.WithReadMaxBytes): the message itself for a Connect unary call, the message and its
// envelope prefix for the enveloped protocols. (Every RPC takes one request message.)
func (g *Gate) bodyLimit(r *http.Request) int64 {
	ct := r.Header.Get("Content-Type")
	if strings.HasPrefix(ct, "application/grpc") || strings.HasPrefix(ct, "application/connect+") {
		return g.Config.MaxMessageBytes + envelopePrefix
	}
	return g.Config.MaxMessageBytes
}

// refuse answers err without reading the body. An HTTP/1 connection is closed after the answer, since
// the unread body is still on it.
func (g *Gate) refuse(w http.ResponseWriter, r *http.Request, err error) {
	if r.ProtoMajor == 1 && r.ContentLength != 0 {
		w.Header().Set("Connection", "close")
	}
	var ae *apierr.Error
	if errors.As(err, &ae) && ae.RetryAfter > 0 {
		w.Header().Set("Retry-After", strconv.FormatInt(int64(math.Ceil(ae.RetryAfter.Seconds())), 10))
	}
	ce := apierr.ToConnect(r.Context(), g.Log, r.URL.Path, err)
	reqlog.From(r.Context()).Refuse(r.URL.Path, connect.CodeOf(ce).String())
	_ = g.errors.Write(w, r, ce)
}
