// Package reqlog is the per-request record every layer of a request writes to: its request id (from a
// sane X-Request-Id header, else generated, and echoed on the response), the principal once the gate has
// authenticated it, and the Connect code once the call has ended. The access log writes the record as one
// line when the request ends, and Handler adds the request id to every other log line of the request. The
// package is small and depends on nothing else of the server, so apierr and transport can use it.
package reqlog

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"sync"
)

// Header is the request id header.
const Header = "X-Request-Id"

// MaxIDLength is the longest incoming request id honoured; a longer one is replaced by a generated id.
const MaxIDLength = 128

// Record is what is known about one request. It is safe for concurrent use (a streaming handler and the
// access log may touch it from different goroutines).
type Record struct {
	ID string

	mu        sync.Mutex
	procedure string
	role      string
	accountID string
	code      string
	refused   bool
}

// SetPrincipal records the authenticated principal's role and account (never its key).
func (r *Record) SetPrincipal(role, accountID string) {
	if r == nil {
		return
	}
	r.mu.Lock()
	r.role, r.accountID = role, accountID
	r.mu.Unlock()
}

// SetOutcome records the procedure and the Connect code ("ok" on success) the call ended with.
func (r *Record) SetOutcome(procedure, code string) {
	if r == nil {
		return
	}
	r.mu.Lock()
	r.procedure, r.code = procedure, code
	r.mu.Unlock()
}

// Refuse records a call refused before it reached a handler (by the gate), with its code.
func (r *Record) Refuse(procedure, code string) {
	if r == nil {
		return
	}
	r.mu.Lock()
	r.procedure, r.code, r.refused = procedure, code, true
	r.mu.Unlock()
}

// Refused reports whether the call was refused before it reached a handler.
func (r *Record) Refused() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.refused
}

// Snapshot returns the procedure, role, account and code recorded so far.
func (r *Record) Snapshot() (procedure, role, accountID, code string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.procedure, r.role, r.accountID, r.code
}

type ctxKey struct{}

// With returns a context carrying r.
func With(ctx context.Context, r *Record) context.Context { return context.WithValue(ctx, ctxKey{}, r) }

// From returns the request's record, or nil outside a request.
func From(ctx context.Context) *Record {
	r, _ := ctx.Value(ctxKey{}).(*Record)
	return r
}

// ID returns the request id of the context, or "" outside a request.
func ID(ctx context.Context) string {
	if r := From(ctx); r != nil {
		return r.ID
	}
	return ""
}

// SaneID reports whether an incoming request id may be used as it is: 1 to MaxIDLength characters of
// letters, digits and "-_.:" only, so it cannot forge log lines or carry anything but an identifier.
func SaneID(id string) bool {
	if id == "" || len(id) > MaxIDLength {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '-', c == '_', c == '.', c == ':':
		default:
			return false
		}
	}
	return true
}

// NewID returns a fresh random request id (32 hex digits).
func NewID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// Handler is a slog.Handler adding the request id of the context to every record logged with one.
type Handler struct{ slog.Handler }

// NewHandler wraps h.
func NewHandler(h slog.Handler) *Handler { return &Handler{h} }

// Handle adds request_id when the context belongs to a request.
func (h *Handler) Handle(ctx context.Context, r slog.Record) error {
	if id := ID(ctx); id != "" {
		r = r.Clone()
		r.AddAttrs(slog.String("request_id", id))
	}
	return h.Handler.Handle(ctx, r)
}

// WithAttrs keeps the wrapper.
func (h *Handler) WithAttrs(as []slog.Attr) slog.Handler { return &Handler{h.Handler.WithAttrs(as)} }

// WithGroup keeps the wrapper.
func (h *Handler) WithGroup(name string) slog.Handler { return &Handler{h.Handler.WithGroup(name)} }
