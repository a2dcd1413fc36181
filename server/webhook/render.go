package webhook

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sync"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"

	commonv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/common/v1"
	eventv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/event/v1"
	orderv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/order/v1"
)

// renderEvent writes an event in proto-JSON: what protojson.Marshal(ev) writes, up to the order of the
// payload's fields and whitespace (both insignificant in JSON; the signature covers the bytes as sent).
// Rendering is most of what a delivery costs in CPU, and the largest part of an order is its policy
// version's parameters, the same for every order of that version: they are rendered once per version
// (versions are immutable) and spliced into the payload, which protojson renders without them.
func renderEvent(ev *eventv1.Event) ([]byte, error) {
	payload := ev.GetPayload()
	if payload == nil {
		return protojson.Marshal(ev)
	}
	msg, err := anypb.UnmarshalNew(payload, proto.UnmarshalOptions{})
	if err != nil {
		return nil, fmt.Errorf("render event %s: %w", ev.GetId(), err)
	}
	var params []byte
	if o, ok := msg.(*orderv1.Order); ok && o.GetPolicyParameters() != nil {
		if params, err = policyJSON(o); err != nil {
			return nil, err
		}
		o.PolicyParameters = nil
	}
	inner, err := protojson.Marshal(msg)
	if err != nil {
		return nil, err
	}
	outer, err := protojson.Marshal(&eventv1.Event{Id: ev.GetId(), Type: ev.GetType(), SubjectType: ev.GetSubjectType(),
		SubjectId: ev.GetSubjectId(), Revision: ev.GetRevision(), Time: ev.GetTime(), Actor: ev.GetActor()})
	if err != nil {
		return nil, err
	}
	typeURL, err := json.Marshal(payload.GetTypeUrl())
	if err != nil {
		return nil, err
	}
	outer, inner = bytes.TrimSpace(outer), bytes.TrimSpace(inner)
	fields := bytes.TrimSpace(inner[1 : len(inner)-1]) // protojson writes an object: {…}
	var b bytes.Buffer
	b.Grow(len(outer) + len(inner) + len(params) + len(typeURL) + 40)
	b.Write(outer[:len(outer)-1])
	if len(bytes.TrimSpace(outer[1:len(outer)-1])) > 0 {
		b.WriteByte(',')
	}
	b.WriteString(`"payload":{"@type":`)
	b.Write(typeURL)
	if len(fields) > 0 {
		b.WriteByte(',')
		b.Write(fields)
	}
	if params != nil {
		b.WriteString(`,"policyParameters":`)
		b.Write(params)
	}
	b.WriteString("}}")
	return b.Bytes(), nil
}

// policyKey names one policy version.
type policyKey struct {
	policy       commonv1.Policy
	set, version string
}

// policyJSONs are the rendered parameters of the policy versions met so far, by version.
var policyJSONs sync.Map

// policyJSON is the proto-JSON of an order's policy parameters, rendered once per policy version.
func policyJSON(o *orderv1.Order) ([]byte, error) {
	k := policyKey{o.GetPolicy(), o.GetPolicySet(), o.GetPolicyVersion()}
	if v, ok := policyJSONs.Load(k); ok {
		return v.([]byte), nil
	}
	b, err := protojson.Marshal(o.GetPolicyParameters())
	if err != nil {
		return nil, err
	}
	b = bytes.TrimSpace(b)
	policyJSONs.Store(k, b)
	return b, nil
}
