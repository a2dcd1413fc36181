package transport

import (
	"log/slog"
	"net/http"
	"strconv"
	"strings"

	"connectrpc.com/connect"

	commonv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/common/v1"
	"github.com/tradeassure/tradeassure/server/apierr"
	"github.com/tradeassure/tradeassure/server/auth"
)

// Gate authenticates a request by its API key before anything reads its body, so a caller without a
// valid key can make the server neither read nor decompress a byte of it; it also refuses a body whose
// declared length is already more than a message of MaxMessageBytes takes. Refusals are Connect, gRPC
// or gRPC-Web errors, as the request's protocol asks (UNAUTHENTICATED, RESOURCE_EXHAUSTED). The
// principal travels in the request context to the auth interceptor. Public procedures (health,
// reflection) are not behind a Gate.
type Gate struct {
	Auth   *auth.Authenticator
	Config Config
	Log    *slog.Logger
	errors *connect.ErrorWriter
}

// NewGate returns a gate authenticating with a.
func NewGate(a *auth.Authenticator, c Config, log *slog.Logger) *Gate {
	return &Gate{Auth: a, Config: c.WithDefaults(), Log: log, errors: connect.NewErrorWriter()}
}

// Wrap returns next behind the gate.
func (g *Gate) Wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, err := g.Auth.Authenticate(r.Context(), r.Header.Get("Authorization"))
		if err == nil && r.ContentLength > g.bodyLimit(r) {
			err = apierr.New(connect.CodeResourceExhausted, commonv1.ErrorReason_ERROR_REASON_MESSAGE_TOO_LARGE,
				"the request body is %d bytes, more than a message of at most %d bytes takes (--max-message-bytes)",
				r.ContentLength, g.Config.MaxMessageBytes).With("max_bytes", strconv.FormatInt(g.Config.MaxMessageBytes, 10))
		}
		if err != nil {
			g.refuse(w, r, err)
			return
		}
		next.ServeHTTP(w, r.WithContext(auth.WithPrincipal(r.Context(), p)))
	})
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
	_ = g.errors.Write(w, r, apierr.ToConnect(r.Context(), g.Log, r.URL.Path, err))
}
