package webhook

import (
	"strconv"
	"strings"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/tradeassure/tradeassure/ent"
	"github.com/tradeassure/tradeassure/ent/webhookattempt"
	"github.com/tradeassure/tradeassure/ent/webhookdelivery"
	"github.com/tradeassure/tradeassure/ent/webhookendpoint"
	webhookv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/webhook/v1"
	"github.com/tradeassure/tradeassure/server/resource"
)

// subjectEndpoint is the subject type of endpoint events.
const subjectEndpoint = "webhook_endpoint"

var disabledReasons = map[string]webhookv1.WebhookEndpoint_DisabledReason{
	"by_user": webhookv1.WebhookEndpoint_DISABLED_REASON_BY_USER,
	"gone":    webhookv1.WebhookEndpoint_DISABLED_REASON_GONE,
	"failing": webhookv1.WebhookEndpoint_DISABLED_REASON_FAILING,
}

// queue is an endpoint's pending deliveries now.
type queue struct {
	pending int64
	oldest  *time.Time
}

// endpointToProto converts a stored endpoint; q (nil for none) adds the queue statistics as of now.
func endpointToProto(e *ent.WebhookEndpoint, q *queueAt) *webhookv1.WebhookEndpoint {
	out := &webhookv1.WebhookEndpoint{
		Id: e.ID, AccountId: e.AccountID, Url: e.URL, Description: e.Description, EventTypes: e.EventTypes,
		Enabled: e.Enabled, DisabledReason: disabledReasons[e.DisabledReason], DisableTime: resource.Timestamp(e.DisableTime),
		SecretHint: e.SecretHint, CreateTime: timestamppb.New(e.CreateTime), UpdateTime: timestamppb.New(e.UpdateTime),
		Revision: e.Revision, Etag: e.Etag,
		Stats: &webhookv1.WebhookEndpointStats{
			SucceededDeliveries: e.SucceededDeliveries, FailedDeliveries: e.FailedDeliveries, FailedAttempts: e.FailedAttempts,
			LastSuccessTime: resource.Timestamp(e.LastSuccessTime), LastFailureTime: resource.Timestamp(e.LastFailureTime),
			FailingSince: resource.Timestamp(e.FailingSince), QueueLag: durationpb.New(0),
		},
	}
	if e.Scope == webhookendpoint.ScopePlatform {
		out.Scope = webhookv1.WebhookEndpoint_SCOPE_PLATFORM
	} else {
		out.Scope = webhookv1.WebhookEndpoint_SCOPE_ACCOUNT
	}
	if e.PreviousSecretCipher != "" && e.PreviousSecretExpireTime != nil {
		out.PreviousSecretExpireTime = timestamppb.New(*e.PreviousSecretExpireTime)
	}
	if e.ReplayCreateTime != nil {
		out.Replay = &webhookv1.WebhookReplay{
			AfterEventId: eventID(e.ReplayAfterID), UntilEventId: eventID(e.ReplayUntilID),
			QueuedThroughEventId: eventID(e.ReplayCursorID), QueuedDeliveries: e.ReplayQueued,
			Done: e.ReplayCursorID == e.ReplayUntilID, CreateTime: timestamppb.New(*e.ReplayCreateTime),
		}
	}
	if q != nil {
		out.Stats.PendingDeliveries = q.pending
		if q.oldest != nil && q.now.After(*q.oldest) {
			out.Stats.QueueLag = durationpb.New(q.now.Sub(*q.oldest).Round(time.Millisecond))
		}
	}
	return out
}

// queueAt is an endpoint's queue at a time.
type queueAt struct {
	queue
	now time.Time
}

// deliveryID is a delivery's id in the API.
func deliveryID(id int64) string { return "whd_" + strconv.FormatInt(id, 10) }

// parseDeliveryID reads a delivery id of the API; ok is false for anything else.
func parseDeliveryID(s string) (int64, bool) {
	n, err := strconv.ParseInt(strings.TrimPrefix(s, "whd_"), 10, 64)
	return n, err == nil && n > 0 && strings.HasPrefix(s, "whd_")
}

func eventID(id int64) string {
	if id == 0 {
		return ""
	}
	return strconv.FormatInt(id, 10)
}

var deliveryStates = map[webhookdelivery.State]webhookv1.WebhookDelivery_State{
	webhookdelivery.StatePending:   webhookv1.WebhookDelivery_STATE_PENDING,
	webhookdelivery.StateSucceeded: webhookv1.WebhookDelivery_STATE_SUCCEEDED,
	webhookdelivery.StateFailed:    webhookv1.WebhookDelivery_STATE_FAILED,
}

var triggers = map[string]webhookv1.Trigger{
	"scheduled": webhookv1.Trigger_TRIGGER_SCHEDULED, "redelivery": webhookv1.Trigger_TRIGGER_REDELIVERY,
	"replay": webhookv1.Trigger_TRIGGER_REPLAY, "test": webhookv1.Trigger_TRIGGER_TEST,
}

var outcomes = map[webhookattempt.Outcome]webhookv1.WebhookAttempt_Outcome{
	webhookattempt.OutcomeSucceeded:         webhookv1.WebhookAttempt_OUTCOME_SUCCEEDED,
	webhookattempt.OutcomeHTTPError:         webhookv1.WebhookAttempt_OUTCOME_HTTP_ERROR,
	webhookattempt.OutcomeTimeout:           webhookv1.WebhookAttempt_OUTCOME_TIMEOUT,
	webhookattempt.OutcomeConnectionFailed:  webhookv1.WebhookAttempt_OUTCOME_CONNECTION_FAILED,
	webhookattempt.OutcomeAddressNotAllowed: webhookv1.WebhookAttempt_OUTCOME_ADDRESS_NOT_ALLOWED,
}

// maxAttemptsShown is how many attempts a delivery shows, newest first.
const maxAttemptsShown = 20

// deliveryToProto converts a stored delivery with its attempts, newest first.
func deliveryToProto(d *ent.WebhookDelivery, attempts []*ent.WebhookAttempt) *webhookv1.WebhookDelivery {
	subjectType, subjectID, _ := strings.Cut(d.SubjectKey, "/")
	out := &webhookv1.WebhookDelivery{
		Id: deliveryID(d.ID), EndpointId: d.EndpointID, WebhookId: d.WebhookID, EventType: d.EventType,
		SubjectType: subjectType, SubjectId: subjectID, State: deliveryStates[d.State],
		AttemptCount: int32(d.AttemptCount), CreateTime: timestamppb.New(d.CreateTime), FinishTime: resource.Timestamp(d.FinishTime),
	}
	if d.State == webhookdelivery.StatePending {
		out.NextAttemptTime = timestamppb.New(d.NextAttemptTime)
	}
	for _, a := range attempts {
		if len(out.Attempts) == maxAttemptsShown {
			break
		}
		out.Attempts = append(out.Attempts, &webhookv1.WebhookAttempt{
			Time: timestamppb.New(a.Time), Trigger: triggers[a.Trigger.String()], Outcome: outcomes[a.Outcome],
			HttpStatus: int32(a.HTTPStatus), Latency: durationpb.New(time.Duration(a.LatencyMs) * time.Millisecond),
			Error: a.Error, ResponseBody: a.ResponseBody,
		})
	}
	// A first attempt that succeeded is kept on the row (recordInline): the oldest, so the last shown.
	if len(d.InlineAttempt) > 0 && len(out.Attempts) < maxAttemptsShown {
		a := &webhookv1.WebhookAttempt{}
		if err := proto.Unmarshal(d.InlineAttempt, a); err == nil {
			out.Attempts = append(out.Attempts, a)
		}
	}
	return out
}
