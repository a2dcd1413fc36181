package tradeassure

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"connectrpc.com/connect"

	commonv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/common/v1"
)

// Error is a failed call, with what the service says about it: the code, the message for people, and
// the machine-readable reason, metadata and field violations of its tradeassure.common.v1.ErrorDetail.
// Switch on Reason, not on the message.
type Error struct {
	// Code is the Connect (gRPC) status code, for example connect.CodeFailedPrecondition.
	Code connect.Code
	// Message is the service's explanation, for people.
	Message string
	// Reason is the machine-readable reason; ERROR_REASON_UNSPECIFIED when the error did not come from the
	// service (for example a network failure).
	Reason commonv1.ErrorReason
	// Metadata holds facts about the failure, for example {"limit_usd_minor": "500000"}.
	Metadata map[string]string
	// FieldViolations names the input fields that were wrong.
	FieldViolations []FieldViolation

	err *connect.Error
}

// FieldViolation is one input field that was wrong and why.
type FieldViolation struct {
	// Field is the field path, for example "terms.shipping_address.phone".
	Field string
	// Description says what is wrong.
	Description string
}

// AsError returns the tradeassure error in err's chain, converting a *connect.Error; ok is false when err
// is nil or was not a call failure.
func AsError(err error) (e *Error, ok bool) {
	if err == nil {
		return nil, false
	}
	if e, ok := errAs[*Error](err); ok {
		return e, true
	}
	ce, ok := errAs[*connect.Error](err)
	if !ok {
		return nil, false
	}
	return fromConnect(ce), true
}

// ReasonOf returns the machine-readable reason of err, or ERROR_REASON_UNSPECIFIED.
func ReasonOf(err error) commonv1.ErrorReason {
	if e, ok := AsError(err); ok {
		return e.Reason
	}
	return commonv1.ErrorReason_ERROR_REASON_UNSPECIFIED
}

// fromConnect reads the ErrorDetail of a Connect error.
func fromConnect(ce *connect.Error) *Error {
	e := &Error{Code: ce.Code(), Message: ce.Message(), err: ce}
	for _, d := range ce.Details() {
		v, err := d.Value()
		if err != nil {
			continue
		}
		if ed, ok := v.(*commonv1.ErrorDetail); ok {
			e.Reason = ed.GetReason()
			if len(ed.GetMetadata()) > 0 {
				e.Metadata = maps.Clone(ed.GetMetadata())
			}
			for _, fv := range ed.GetFieldViolations() {
				e.FieldViolations = append(e.FieldViolations, FieldViolation{Field: fv.GetField(), Description: fv.GetDescription()})
			}
			break
		}
	}
	return e
}

// wrapError turns a call failure into an *Error (which unwraps to the *connect.Error, so connect.CodeOf
// and errors.As keep working); other errors pass unchanged.
func wrapError(err error) error {
	if e, ok := AsError(err); ok {
		return e
	}
	return err
}

// Error reads, for example:
//
//	invalid_argument TRADE_TERM_SHIPPING_MISMATCH: FOB is for sea freight (terms.trade_term: not with AIR)
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.Code.String())
	if e.Reason != commonv1.ErrorReason_ERROR_REASON_UNSPECIFIED {
		b.WriteString(" ")
		b.WriteString(ReasonName(e.Reason))
	}
	if e.Message != "" {
		b.WriteString(": ")
		b.WriteString(e.Message)
	}
	var extra []string
	for _, fv := range e.FieldViolations {
		extra = append(extra, fv.Field+": "+fv.Description)
	}
	for _, k := range slices.Sorted(maps.Keys(e.Metadata)) {
		extra = append(extra, k+"="+e.Metadata[k])
	}
	if len(extra) > 0 {
		fmt.Fprintf(&b, " (%s)", strings.Join(extra, "; "))
	}
	return b.String()
}

// Unwrap returns the underlying *connect.Error.
func (e *Error) Unwrap() error {
	if e.err == nil {
		return nil
	}
	return e.err
}

// Is reports whether target is an *Error with the same code and reason, so that
// errors.Is(err, &tradeassure.Error{Code: connect.CodeAborted, Reason: …}) works.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	if !ok {
		return false
	}
	return (t.Code == 0 || t.Code == e.Code) && (t.Reason == 0 || t.Reason == e.Reason)
}

// ReasonName returns a reason's name without the ERROR_REASON_ prefix, for example "ETAG_MISMATCH".
func ReasonName(r commonv1.ErrorReason) string {
	return strings.TrimPrefix(r.String(), "ERROR_REASON_")
}
