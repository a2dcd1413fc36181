package bounds

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"buf.build/gen/go/bufbuild/protovalidate/protocolbuffers/go/buf/validate"
	"buf.build/go/protovalidate"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// Validator checks a request: the schema's protovalidate rules, then the rules no annotation can state —
// the control-character rule on every string, and well-formed timestamps. It satisfies
// protovalidate.Validator, so the Connect validation interceptor runs it, and a failure is a
// *protovalidate.ValidationError whose violations name the fields, with messages phrased for a person
// ("terms.lines: at most 200 items, got 201").
type Validator struct {
	base protovalidate.Validator
}

var _ protovalidate.Validator = (*Validator)(nil)

// NewValidator returns a validator.
func NewValidator() (*Validator, error) {
	base, err := protovalidate.New()
	if err != nil {
		return nil, fmt.Errorf("new protovalidate validator: %w", err)
	}
	return &Validator{base: base}, nil
}

// Validate checks msg. Schema violations and the walk's violations are reported together.
func (v *Validator) Validate(msg proto.Message, options ...protovalidate.ValidationOption) error {
	var violations []*protovalidate.Violation
	if err := v.base.Validate(msg, options...); err != nil {
		var ve *protovalidate.ValidationError
		if !errors.As(err, &ve) {
			return err
		}
		for _, x := range ve.Violations {
			rephrase(x)
		}
		violations = ve.Violations
	}
	reported := map[string]bool{}
	for _, x := range violations {
		reported[protovalidate.FieldPathString(x.Proto.GetField())] = true
	}
	for _, x := range WalkViolations(msg) {
		// A time outside the schema's window is already reported; say it once.
		if x.Proto.GetRuleId() == TimestampRuleID && reported[protovalidate.FieldPathString(x.Proto.GetField())] {
			continue
		}
		violations = append(violations, x)
	}
	if len(violations) == 0 {
		return nil
	}
	return &protovalidate.ValidationError{Violations: violations}
}

// rephrase replaces protovalidate's default message of the bound rules ("value must contain no more than
// 200 item(s)") with one that reads well after the field path.
func rephrase(v *protovalidate.Violation) {
	if v.Proto == nil {
		return
	}
	var rules *validate.FieldRules
	if v.FieldDescriptor != nil {
		rules, _ = proto.GetExtension(v.FieldDescriptor.Options(), validate.E_Field).(*validate.FieldRules)
	}
	limit, _ := v.RuleValue.Interface().(uint64)
	text, isText := v.FieldValue.Interface().(string)
	list, isList := v.FieldValue.Interface().(protoreflect.List)
	msg := ""
	switch id := v.Proto.GetRuleId(); {
	case id == "string.max_len" && isText:
		msg = fmt.Sprintf("at most %d characters, got %d", limit, utf8.RuneCountInString(text))
	case id == "string.max_bytes" && isText:
		msg = fmt.Sprintf("at most %d bytes in UTF-8, got %d", limit, len(text))
	case id == "string.min_len" && limit == 1:
		msg = "must not be empty"
	case id == "repeated.max_items" && isList:
		msg = fmt.Sprintf("at most %d items, got %d", limit, list.Len())
	case id == "repeated.min_items" && limit == 1:
		msg = "at least one item is required"
	case id == "timestamp.gte_lt" && rules.GetTimestamp() != nil:
		t := rules.GetTimestamp()
		msg = fmt.Sprintf("must be on or after %s and before %s", stamp(t.GetGte()), stamp(t.GetLt()))
	case id == "int64.gte_lte" && rules.GetInt64() != nil:
		r := rules.GetInt64()
		msg = fmt.Sprintf("must be between %s and %s", grouped(r.GetGte()), grouped(r.GetLte()))
	case id == "int64.gt_lte" && rules.GetInt64() != nil:
		r := rules.GetInt64()
		msg = fmt.Sprintf("must be more than %s and at most %s", grouped(r.GetGt()), grouped(r.GetLte()))
	case id == "int32.gte_lt" && rules.GetInt32() != nil:
		r := rules.GetInt32()
		msg = fmt.Sprintf("must be at least %d and less than %d", r.GetGte(), r.GetLt())
	}
	if msg != "" {
		v.Proto.SetMessage(msg)
	}
}

func stamp(ts *timestamppb.Timestamp) string { return ts.AsTime().UTC().Format(time.RFC3339) }

// grouped prints an integer with thousands separators, so that 10000000000000 reads as 10,000,000,000,000.
func grouped(n int64) string {
	s := strconv.FormatInt(n, 10)
	sign := ""
	if strings.HasPrefix(s, "-") {
		sign, s = "-", s[1:]
	}
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return sign + b.String()
}
