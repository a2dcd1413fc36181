package schema

import (
	"entgo.io/ent"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
)

// WebhookEndpoint holds an address that receives signed events: an account's (buyer or supplier) or the
// platform's (created by an operator). Its signing secrets are stored encrypted with the server's webhook
// key; its statistics change without a new revision.
type WebhookEndpoint struct{ ent.Schema }

// Mixin of the WebhookEndpoint.
func (WebhookEndpoint) Mixin() []ent.Mixin {
	return []ent.Mixin{IDMixin{}, TimeMixin{}, RevisionMixin{}}
}

// Fields of the WebhookEndpoint.
func (WebhookEndpoint) Fields() []ent.Field {
	return []ent.Field{
		field.Enum("scope").Values("account", "platform").Immutable(),
		// account_id is the owning account of an account endpoint, empty for a platform endpoint.
		field.String("account_id").Default("").Immutable(),
		// owner_role is the owning account's role ("buyer", "supplier") or "operator" for the platform,
		// so the feed's visibility rule applies without loading the account.
		field.String("owner_role").Immutable(),
		// url and description are bounded by the API (2,000 and 500 characters).
		field.String("url").NotEmpty(),
		field.String("description").Default(""),
		// event_types are the filters ("order.paid", "dispute.*", "*"); empty means every event.
		field.Strings("event_types").Optional(),
		field.Bool("enabled").Default(true),
		// disabled_reason is "", "by_user", "gone" or "failing".
		field.String("disabled_reason").Default(""),
		field.Time("disable_time").Optional().Nillable(),
		// secret_cipher is the current signing secret encrypted with the server's webhook key
		// ("<key id>:<base64 nonce and ciphertext>"), bound to the endpoint id.
		field.String("secret_cipher").NotEmpty().Sensitive(),
		field.String("secret_hint").Default(""),
		// previous_secret_cipher still signs until previous_secret_expire_time, after a rotation.
		field.String("previous_secret_cipher").Default("").Sensitive(),
		field.Time("previous_secret_expire_time").Optional().Nillable(),
		field.Int64("succeeded_deliveries").Default(0),
		field.Int64("failed_deliveries").Default(0),
		field.Int64("failed_attempts").Default(0),
		field.Time("last_success_time").Optional().Nillable(),
		field.Time("last_failure_time").Optional().Nillable(),
		// failing_since is the time of the first failed attempt since the last success.
		field.Time("failing_since").Optional().Nillable(),
		// The replay asked for last: events after replay_after_id through replay_until_id, queued so far
		// through replay_cursor_id. It is in progress while the cursor is short of the end.
		field.Int64("replay_after_id").Default(0),
		field.Int64("replay_until_id").Default(0),
		field.Int64("replay_cursor_id").Default(0),
		field.Int64("replay_queued").Default(0),
		field.Time("replay_create_time").Optional().Nillable(),
	}
}

// Indexes of the WebhookEndpoint.
func (WebhookEndpoint) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("account_id", "id"),
		index.Fields("enabled"),
	}
}

// WebhookDelivery holds one event to send to one endpoint: the outbox row, written in the transaction that
// appends the event, and then its progress. A worker claims a due row by leasing it (on Postgres with FOR
// UPDATE SKIP LOCKED), sends it, and records the outcome; a later event of the same subject waits while
// an earlier one is pending.
type WebhookDelivery struct{ ent.Schema }

// Fields of the WebhookDelivery.
func (WebhookDelivery) Fields() []ent.Field {
	return []ent.Field{
		// id is a database sequence (the API shows "whd_<id>"): every matching event inserts a row in its
		// own transaction, and an integer key is the cheapest to insert (the row id itself on SQLite).
		field.Int64("id").Positive().Immutable(),
		field.String("endpoint_id").NotEmpty().Immutable(),
		// event_id is the feed event delivered; absent for a test event.
		field.Int64("event_id").Optional().Nillable().Immutable(),
		// webhook_id is the webhook-id header: the event id, or "test_…".
		field.String("webhook_id").NotEmpty().Immutable(),
		field.String("event_type").Immutable(),
		// subject_key is "<subject type>/<subject id>": deliveries of one key to one endpoint go in event
		// order.
		field.String("subject_key").Immutable(),
		// seq orders the deliveries of one subject key: the event id (0 for tests).
		field.Int64("seq").Immutable(),
		field.Enum("state").Values("pending", "succeeded", "failed").Default("pending"),
		// trigger is why the next attempt is made: scheduled, redelivery, replay or test.
		field.Enum("trigger").Values("scheduled", "redelivery", "replay", "test").Default("scheduled"),
		field.Int("attempt_count").Default(0),
		// retries counts the failed attempts since the delivery was queued, redelivered or replayed; it
		// picks the next backoff and when to give up.
		field.Int("retries").Default(0),
		// next_attempt_time is when the delivery is due, by the service clock (which --dev may move).
		field.Time("next_attempt_time"),
		// lease_token and lease_expire_time mark a claimed delivery; the lease runs on the machines' real
		// clocks, so moving the development clock never lets two workers send one delivery at once.
		field.String("lease_token").Default(""),
		field.Time("lease_expire_time").Optional().Nillable(),
		field.Time("create_time").Immutable(),
		field.Time("finish_time").Optional().Nillable(),
		// payload is the serialized tradeassure.event.v1.Event of a test delivery (feed events are read
		// from the feed).
		field.Bytes("payload").Optional().Immutable(),
		// inline_attempt is the delivery's first attempt when it succeeded (the common case), as a
		// serialized tradeassure.webhook.v1.WebhookAttempt, recorded with the outcome in one UPDATE instead
		// of a webhook_attempts row; every other attempt has its row.
		field.Bytes("inline_attempt").Optional(),
	}
}

// Indexes of the WebhookDelivery.
func (WebhookDelivery) Indexes() []ent.Index {
	return []ent.Index{
		// Few indexes, since every matching event inserts a row in its transaction: one event per endpoint
		// and the per-subject order check (also replay's upsert key), the claim, and the endpoint's list.
		index.Fields("endpoint_id", "subject_key", "seq").Unique(),
		index.Fields("state", "next_attempt_time"),
		index.Fields("endpoint_id", "id"),
	}
}

// WebhookAttempt holds one HTTP request of a delivery and its outcome, as shown to the endpoint's owner:
// the error is a sanitized summary, never a server error.
type WebhookAttempt struct{ ent.Schema }

// Fields of the WebhookAttempt.
func (WebhookAttempt) Fields() []ent.Field {
	return []ent.Field{
		field.Int64("delivery_id").Immutable(),
		field.String("endpoint_id").NotEmpty().Immutable(),
		field.Time("time").Immutable(),
		field.Enum("trigger").Values("scheduled", "redelivery", "replay", "test").Immutable(),
		field.Enum("outcome").Values("succeeded", "http_error", "timeout", "connection_failed", "address_not_allowed").Immutable(),
		field.Int("http_status").Default(0).Immutable(),
		field.Int64("latency_ms").Default(0).Immutable(),
		field.String("error").Default("").Immutable(),
		field.String("response_body").Default("").Immutable(),
	}
}

// Indexes of the WebhookAttempt.
func (WebhookAttempt) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("delivery_id", "id"),
		index.Fields("endpoint_id"),
	}
}
