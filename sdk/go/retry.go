package tradeassure

import (
	"context"
	"errors"
	"math/rand/v2"
	"reflect"
	"slices"
	"strconv"
	"time"

	"connectrpc.com/connect"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	commonv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/common/v1"
)

// RetryPolicy says when and how often a failed call is tried again. Only calls that are safe to repeat
// are retried: reads (marked NO_SIDE_EFFECTS in the schema) and mutations that carry a request id (the
// server returns the first response to a repeated id and never applies the effect twice). A mutation
// without a request_id field, such as AdminService.AdvanceClock, is never retried.
type RetryPolicy struct {
	// MaxAttempts is the most attempts of one call, the first included; 1 turns retries off.
	MaxAttempts int
	// InitialBackoff is the wait before the second attempt, before jitter.
	InitialBackoff time.Duration
	// MaxBackoff caps the wait between attempts.
	MaxBackoff time.Duration
	// Multiplier grows the wait after each attempt.
	Multiplier float64
	// Codes are the transient codes worth another attempt. ABORTED is deliberately not among the
	// defaults: the service uses it for a stale etag, which a retry with the same etag cannot fix.
	Codes []connect.Code
	// MaxRetryAfter is the longest server hint honoured: a failure that asks the client to wait longer
	// (a rate limit's google.rpc.RetryInfo, "retry_after_ms" or Retry-After) is returned at once instead.
	// Zero means 30 seconds.
	MaxRetryAfter time.Duration
}

// DefaultRetryPolicy is 4 attempts, waiting about 100 ms, 200 ms and 400 ms (each between half and all of
// that, at random), on Unavailable, ResourceExhausted and DeadlineExceeded.
func DefaultRetryPolicy() RetryPolicy {
	return RetryPolicy{
		MaxAttempts:    4,
		InitialBackoff: 100 * time.Millisecond,
		MaxBackoff:     3 * time.Second,
		Multiplier:     2,
		Codes:          []connect.Code{connect.CodeUnavailable, connect.CodeResourceExhausted, connect.CodeDeadlineExceeded},
	}
}

// backoff returns the wait after the attempt-th failed attempt (1-based): the exponential step, less a
// random part of up to half of it, so that many clients failing together do not retry together.
func (p RetryPolicy) backoff(attempt int) time.Duration {
	d := float64(p.InitialBackoff)
	mult := p.Multiplier
	if mult < 1 {
		mult = 1
	}
	for i := 1; i < attempt; i++ {
		d *= mult
		if p.MaxBackoff > 0 && d > float64(p.MaxBackoff) {
			d = float64(p.MaxBackoff)
			break
		}
	}
	if p.MaxBackoff > 0 && d > float64(p.MaxBackoff) {
		d = float64(p.MaxBackoff)
	}
	if d <= 0 {
		return 0
	}
	return time.Duration(d/2 + rand.Float64()*d/2)
}

// retryAfter is the wait the server asked for in err: its google.rpc.RetryInfo detail, else the
// ErrorDetail metadata "retry_after_ms", else a Retry-After header in seconds; 0 when it asked nothing.
func retryAfter(err error) time.Duration {
	var ce *connect.Error
	if !errors.As(err, &ce) {
		return 0
	}
	var hint time.Duration
	for _, d := range ce.Details() {
		v, derr := d.Value()
		if derr != nil {
			continue
		}
		switch v := v.(type) {
		case *errdetails.RetryInfo:
			return v.GetRetryDelay().AsDuration()
		case *commonv1.ErrorDetail:
			if ms, perr := strconv.ParseInt(v.GetMetadata()["retry_after_ms"], 10, 64); perr == nil && ms > 0 {
				hint = time.Duration(ms) * time.Millisecond
			}
		}
	}
	if hint > 0 {
		return hint
	}
	if s, perr := strconv.ParseInt(ce.Meta().Get("Retry-After"), 10, 64); perr == nil && s > 0 {
		return time.Duration(s) * time.Second
	}
	return 0
}

// wait is the pause after the attempt-th failure with err: the backoff, or the server's hint when that
// is longer; ok is false when the hint is beyond MaxRetryAfter or beyond the context's deadline, so
// retrying is pointless.
func (p RetryPolicy) wait(ctx context.Context, attempt int, err error) (d time.Duration, ok bool) {
	d = p.backoff(attempt)
	hint := retryAfter(err)
	if hint <= 0 {
		return d, true
	}
	limit := p.MaxRetryAfter
	if limit <= 0 {
		limit = 30 * time.Second
	}
	if hint > limit {
		return 0, false
	}
	if dl, has := ctx.Deadline(); has && time.Until(dl) < hint {
		return 0, false
	}
	return max(d, hint), true
}

// retryable reports whether err has one of the policy's transient codes.
func (p RetryPolicy) retryable(err error) bool {
	return slices.Contains(p.Codes, connect.CodeOf(err))
}

// NewRequestID returns a fresh request id, as the SDK makes them. Store one with a pending operation to
// retry it safely even from another process: the server applies a request id at most once.
func NewRequestID() string { return randomRequestID() }

// requestIDField is the idempotency key's field name in every mutating request.
const requestIDField protoreflect.Name = "request_id"

// sdkInterceptor fills in request ids and retries transient failures.
type sdkInterceptor struct{ cfg *config }

// WrapUnary gives a mutating request without a request id one, then calls next, again on a transient
// failure when the call is safe to repeat, with the same request (and so the same id) every time.
func (s *sdkInterceptor) WrapUnary(next connect.UnaryFunc) connect.UnaryFunc {
	return func(ctx context.Context, req connect.AnyRequest) (connect.AnyResponse, error) {
		spec := req.Spec()
		safe := spec.IdempotencyLevel == connect.IdempotencyNoSideEffects || spec.IdempotencyLevel == connect.IdempotencyIdempotent
		if msg, ok := req.Any().(proto.Message); ok && !safe {
			if fd := requestIDDescriptor(msg); fd != nil {
				if msg.ProtoReflect().Get(fd).String() == "" {
					restore := withRequestID(req, msg, fd, s.cfg.newRequestID())
					defer restore()
				}
				safe = true
			}
		}
		policy := s.cfg.retry
		for attempt := 1; ; attempt++ {
			resp, err := next(ctx, req)
			if err == nil {
				return resp, nil
			}
			if !safe || attempt >= policy.MaxAttempts || !policy.retryable(err) || ctx.Err() != nil {
				return nil, wrapError(err)
			}
			pause, ok := policy.wait(ctx, attempt, err)
			if !ok {
				return nil, wrapError(err)
			}
			t := time.NewTimer(pause)
			select {
			case <-ctx.Done():
				t.Stop()
				return nil, wrapError(err)
			case <-t.C:
			}
		}
	}
}

// WrapStreamingClient leaves streams alone: a stream is resumed by its caller (see Client.Follow), which
// knows where it left off.
func (s *sdkInterceptor) WrapStreamingClient(next connect.StreamingClientFunc) connect.StreamingClientFunc {
	return next
}

// WrapStreamingHandler is not used on clients.
func (s *sdkInterceptor) WrapStreamingHandler(next connect.StreamingHandlerFunc) connect.StreamingHandlerFunc {
	return next
}

// requestIDDescriptor returns the request_id string field of msg, or nil.
func requestIDDescriptor(msg proto.Message) protoreflect.FieldDescriptor {
	fd := msg.ProtoReflect().Descriptor().Fields().ByName(requestIDField)
	if fd == nil || fd.Kind() != protoreflect.StringKind || fd.Cardinality() == protoreflect.Repeated {
		return nil
	}
	return fd
}

// withRequestID makes req carry a copy of msg with the request id set, leaving the caller's message as it
// was (so a message reused as a template for several calls never shares an id between them). It returns
// a function that puts the caller's message back into req.
func withRequestID(req connect.AnyRequest, msg proto.Message, fd protoreflect.FieldDescriptor, id string) (restore func()) {
	clone := proto.Clone(msg)
	clone.ProtoReflect().Set(fd, protoreflect.ValueOfString(id))
	// The request is a *connect.Request[T] whose exported Msg field holds the message.
	if v := reflect.ValueOf(req); v.Kind() == reflect.Pointer && !v.IsNil() && v.Elem().Kind() == reflect.Struct {
		f := v.Elem().FieldByName("Msg")
		cv := reflect.ValueOf(clone)
		if f.IsValid() && f.CanSet() && cv.Type().AssignableTo(f.Type()) {
			old := reflect.ValueOf(f.Interface())
			f.Set(cv)
			return func() { f.Set(old) }
		}
	}
	// Another request type: set the id on the caller's message for the duration of the call.
	msg.ProtoReflect().Set(fd, protoreflect.ValueOfString(id))
	return func() { msg.ProtoReflect().Clear(fd) }
}

// headerInterceptor sends the API key and the user agent with every call.
type headerInterceptor struct {
	apiKey    string
	userAgent string
}

// WrapUnary sets the headers of a unary call.
func (h headerInterceptor) WrapUnary(next connect.UnaryFunc) connect.UnaryFunc {
	return func(ctx context.Context, req connect.AnyRequest) (connect.AnyResponse, error) {
		h.set(req.Header())
		return next(ctx, req)
	}
}

// WrapStreamingClient sets the headers of a stream.
func (h headerInterceptor) WrapStreamingClient(next connect.StreamingClientFunc) connect.StreamingClientFunc {
	return func(ctx context.Context, spec connect.Spec) connect.StreamingClientConn {
		conn := next(ctx, spec)
		h.set(conn.RequestHeader())
		return conn
	}
}

// WrapStreamingHandler is not used on clients.
func (h headerInterceptor) WrapStreamingHandler(next connect.StreamingHandlerFunc) connect.StreamingHandlerFunc {
	return next
}

func (h headerInterceptor) set(hdr interface{ Set(string, string) }) {
	if h.apiKey != "" {
		hdr.Set("Authorization", "Bearer "+h.apiKey)
	}
	if h.userAgent != "" {
		hdr.Set("User-Agent", h.userAgent)
	}
}

// errAs is errors.As for a target type, returning the match.
func errAs[T error](err error) (T, bool) {
	var t T
	ok := errors.As(err, &t)
	return t, ok
}
