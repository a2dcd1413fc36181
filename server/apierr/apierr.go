// Package apierr is the one mapping from domain failures to Connect errors. Domain code returns an *Error
// with a Connect code and a machine-readable reason; the interceptor turns it, and any other error, into
// a Connect error carrying a tradeassure.common.v1.ErrorDetail. Internal errors are logged in full and
// returned with a safe message.
package apierr

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"time"

	"buf.build/gen/go/bufbuild/protovalidate/protocolbuffers/go/buf/validate"
	"buf.build/go/protovalidate"
	"connectrpc.com/connect"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/tradeassure/tradeassure/ent"
	commonv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/common/v1"
	"github.com/tradeassure/tradeassure/server/obs/reqlog"
)

// Reason is shorthand for the generated reason enum.
type Reason = commonv1.ErrorReason

// Error is a failure a client can act on.
type Error struct {
	Code       connect.Code
	Reason     Reason
	Message    string
	Metadata   map[string]string
	Violations []*commonv1.FieldViolation
	// RetryAfter, when positive, is how long the client should wait before retrying: it is sent as
	// metadata "retry_after_ms" and as a google.rpc.RetryInfo detail.
	RetryAfter time.Duration
}

// Error returns the message.
func (e *Error) Error() string { return e.Message }

// With adds a metadata fact and returns the error.
func (e *Error) With(key string, value any) *Error {
	if e.Metadata == nil {
		e.Metadata = map[string]string{}
	}
	e.Metadata[key] = fmt.Sprint(value)
	return e
}

// New returns an error with a code, a reason and a message.
func New(code connect.Code, reason Reason, format string, args ...any) *Error {
	return &Error{Code: code, Reason: reason, Message: fmt.Sprintf(format, args...)}
}

// Invalid is bad input in one field.
func Invalid(field, format string, args ...any) *Error {
	msg := fmt.Sprintf(format, args...)
	return &Error{
		Code: connect.CodeInvalidArgument, Reason: commonv1.ErrorReason_ERROR_REASON_INVALID_FIELD,
		Message:    fmt.Sprintf("%s: %s", field, msg),
		Violations: []*commonv1.FieldViolation{{Field: field, Description: msg}},
	}
}

// InvalidWith is bad input with a specific reason, in one field.
func InvalidWith(reason Reason, field, format string, args ...any) *Error {
	e := Invalid(field, format, args...)
	e.Reason = reason
	return e
}

// Precondition is a request that breaks a rule in the current state.
func Precondition(reason Reason, format string, args ...any) *Error {
	return New(connect.CodeFailedPrecondition, reason, format, args...)
}

// NotFound is an object that does not exist or that the caller may not see.
func NotFound(kind, id string) *Error {
	return New(connect.CodeNotFound, commonv1.ErrorReason_ERROR_REASON_NOT_FOUND, "%s %q not found", kind, id).With("id", id)
}

// IllegalState is a transition from the wrong state.
func IllegalState(kind, id, action, state string) *Error {
	return Precondition(commonv1.ErrorReason_ERROR_REASON_ILLEGAL_STATE,
		"cannot %s %s %s: it is %s", action, kind, id, state).With("state", state)
}

// EtagMismatch is a write from a stale read.
func EtagMismatch(kind, id, current string) *Error {
	return New(connect.CodeAborted, commonv1.ErrorReason_ERROR_REASON_ETAG_MISMATCH,
		"%s %s has changed since it was read (etag mismatch); read it again and retry", kind, id).With("current_etag", current)
}

// RoleNotAllowed is a caller whose role may not make the call.
func RoleNotAllowed(action string, role commonv1.Role) *Error {
	return New(connect.CodePermissionDenied, commonv1.ErrorReason_ERROR_REASON_ROLE_NOT_ALLOWED,
		"a %s cannot %s", roleWord(role), action).With("role", roleWord(role))
}

// roleWord is a role as a person would say it ("buyer"), for messages; auth.RoleName is the stored name.
func roleWord(r commonv1.Role) string {
	if r == commonv1.Role_ROLE_UNSPECIFIED || commonv1.Role_name[int32(r)] == "" {
		return "unknown principal"
	}
	return strings.ToLower(strings.TrimPrefix(r.String(), "ROLE_"))
}

// ToConnect converts any error returned by a handler into the Connect error a client receives.
func ToConnect(ctx context.Context, log *slog.Logger, procedure string, err error) error {
	if err == nil {
		return nil
	}
	var e *Error
	if errors.As(err, &e) {
		return build(e)
	}
	var ce *connect.Error
	if errors.As(err, &ce) {
		return withDetail(ce)
	}
	var ve *protovalidate.ValidationError
	if errors.As(err, &ve) {
		return build(fromViolations(ve.ToProto()))
	}
	if errors.Is(err, context.Canceled) {
		return connect.NewError(connect.CodeCanceled, errors.New("the request was cancelled"))
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return connect.NewError(connect.CodeDeadlineExceeded, errors.New("the request ran out of time"))
	}
	if ent.IsNotFound(err) {
		return build(New(connect.CodeNotFound, commonv1.ErrorReason_ERROR_REASON_NOT_FOUND, "not found"))
	}
	// The reference is the request id, which every log line of the request carries (reqlog.Handler), so
	// support can find the failure from what the client saw.
	ref := reqlog.ID(ctx)
	if ref == "" {
		ref = reqlog.NewID()
		log.ErrorContext(ctx, "internal error", "procedure", procedure, "error", err, "reference", ref)
	} else {
		log.ErrorContext(ctx, "internal error", "procedure", procedure, "error", err)
	}
	return build(New(connect.CodeInternal, commonv1.ErrorReason_ERROR_REASON_INTERNAL,
		"internal error, reference %s; it was logged, please retry later", ref).With("reference", ref))
}

// CeilMillis rounds a wait up to a whole millisecond, at least one: a client waiting that long finds the
// token there.
func CeilMillis(d time.Duration) time.Duration {
	return max((d+time.Millisecond-1)/time.Millisecond*time.Millisecond, time.Millisecond)
}

// Throttled is a call refused for its rate, to be retried after wait (rounded up to a millisecond).
func Throttled(reason Reason, wait time.Duration, format string, args ...any) *Error {
	wait = CeilMillis(wait)
	e := New(connect.CodeResourceExhausted, reason, format, args...).With("retry_after_ms", wait.Milliseconds())
	e.RetryAfter = wait
	return e
}

func build(e *Error) *connect.Error {
	ce := connect.NewError(e.Code, errors.New(e.Message))
	if d, err := connect.NewErrorDetail(&commonv1.ErrorDetail{
		Reason: e.Reason, Metadata: e.Metadata, FieldViolations: e.Violations,
	}); err == nil {
		ce.AddDetail(d)
	}
	if e.RetryAfter > 0 {
		if d, err := connect.NewErrorDetail(&errdetails.RetryInfo{RetryDelay: durationpb.New(e.RetryAfter)}); err == nil {
			ce.AddDetail(d)
		}
	}
	return ce
}

// withDetail adds an ErrorDetail to a Connect error produced outside the domain (such as the validation
// interceptor's), so every error a client sees carries a reason.
func withDetail(ce *connect.Error) *connect.Error {
	var violations *validate.Violations
	for _, d := range ce.Details() {
		v, err := d.Value()
		if err != nil {
			continue
		}
		switch v := v.(type) {
		case *commonv1.ErrorDetail:
			return ce
		case *validate.Violations:
			violations = v
		}
	}
	if violations != nil {
		e := fromViolations(violations)
		e.Message = ce.Message()
		out := build(e)
		for _, d := range ce.Details() {
			out.AddDetail(d)
		}
		return out
	}
	reason := commonv1.ErrorReason_ERROR_REASON_UNSPECIFIED
	switch ce.Code() {
	case connect.CodeUnauthenticated:
		reason = commonv1.ErrorReason_ERROR_REASON_UNAUTHENTICATED
	case connect.CodeInvalidArgument:
		reason = commonv1.ErrorReason_ERROR_REASON_INVALID_FIELD
	case connect.CodeNotFound:
		reason = commonv1.ErrorReason_ERROR_REASON_NOT_FOUND
	case connect.CodeInternal:
		reason = commonv1.ErrorReason_ERROR_REASON_INTERNAL
	}
	if reason != commonv1.ErrorReason_ERROR_REASON_UNSPECIFIED {
		if d, err := connect.NewErrorDetail(&commonv1.ErrorDetail{Reason: reason}); err == nil {
			ce.AddDetail(d)
		}
	}
	return ce
}

func fromViolations(vs *validate.Violations) *Error {
	e := &Error{Code: connect.CodeInvalidArgument, Reason: commonv1.ErrorReason_ERROR_REASON_INVALID_FIELD}
	var parts []string
	for _, v := range vs.GetViolations() {
		field := protovalidate.FieldPathString(v.GetField())
		e.Violations = append(e.Violations, &commonv1.FieldViolation{Field: field, Description: v.GetMessage()})
		parts = append(parts, field+": "+v.GetMessage())
	}
	sort.Strings(parts)
	e.Message = "invalid request"
	if len(parts) > 0 {
		e.Message = "invalid request: " + parts[0]
		if len(parts) > 1 {
			e.Message += fmt.Sprintf(" (and %d more)", len(parts)-1)
		}
	}
	return e
}

// Interceptor converts handler errors with ToConnect, for unary and streaming calls.
func Interceptor(log *slog.Logger) connect.Interceptor { return &interceptor{log: log} }

type interceptor struct{ log *slog.Logger }

func (i *interceptor) WrapUnary(next connect.UnaryFunc) connect.UnaryFunc {
	return func(ctx context.Context, req connect.AnyRequest) (connect.AnyResponse, error) {
		resp, err := next(ctx, req)
		if err != nil {
			return nil, ToConnect(ctx, i.log, req.Spec().Procedure, err)
		}
		return resp, nil
	}
}

func (i *interceptor) WrapStreamingClient(next connect.StreamingClientFunc) connect.StreamingClientFunc {
	return next
}

func (i *interceptor) WrapStreamingHandler(next connect.StreamingHandlerFunc) connect.StreamingHandlerFunc {
	return func(ctx context.Context, conn connect.StreamingHandlerConn) error {
		return ToConnect(ctx, i.log, conn.Spec().Procedure, next(ctx, conn))
	}
}
