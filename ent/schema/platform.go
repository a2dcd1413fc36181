package schema

import (
	"entgo.io/ent"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
)

// Event holds one entry of the change feed. Its id is a database sequence. The feed's order is
// (feed_key, id): on SQLite, whose writers are serialized, feed_key is 0 and ids increase in commit order;
// on Postgres, feed_key is the appending transaction's id (pg_current_xact_id), raised to the subject's
// previous event's key, and readers stop below the oldest running transaction (see package events).
type Event struct{ ent.Schema }

// Fields of the Event.
func (Event) Fields() []ent.Field {
	return []ent.Field{
		field.Int64("id").Positive().Immutable(),
		field.String("type").NotEmpty().Immutable(),
		field.String("subject_type").NotEmpty().Immutable(),
		field.String("subject_id").NotEmpty().Immutable(),
		field.Int64("revision").Immutable(),
		field.Time("time").Immutable(),
		field.String("actor_role").Immutable(),
		field.String("actor_id").Default("").Immutable(),
		// party_ids lists the accounts allowed to see the event, space separated with a leading and
		// trailing space (" a b "), so visibility is one LIKE on an indexed-by-id scan.
		field.String("party_ids").Default("").Immutable(),
		// payload is a serialized google.protobuf.Any holding the subject after the change.
		field.Bytes("payload").Immutable(),
		// feed_key orders the feed before id (see Event).
		field.Int64("feed_key").Default(0).Immutable(),
	}
}

// Indexes of the Event.
func (Event) Indexes() []ent.Index {
	return []ent.Index{index.Fields("subject_type", "subject_id", "id"), index.Fields("feed_key", "id")}
}

// EventParty is one account allowed to see one event (besides operators): the party feed's index, so a
// party's page is a range of its own rows in feed order, however many events others have.
type EventParty struct{ ent.Schema }

// Fields of the EventParty.
func (EventParty) Fields() []ent.Field {
	return []ent.Field{
		field.String("account_id").NotEmpty().Immutable(),
		field.Int64("feed_key").Default(0).Immutable(),
		field.Int64("event_id").Immutable(),
	}
}

// Indexes of the EventParty.
func (EventParty) Indexes() []ent.Index {
	return []ent.Index{index.Fields("account_id", "feed_key", "event_id").Unique()}
}

// IdempotencyKey holds the first response to a mutating request that carried a request id, written in the
// same transaction as the request's effect, so that a retry returns it and never applies the effect twice.
type IdempotencyKey struct{ ent.Schema }

// Fields of the IdempotencyKey.
func (IdempotencyKey) Fields() []ent.Field {
	return []ent.Field{
		field.String("principal_id").Immutable(),
		field.String("procedure").NotEmpty().Immutable(),
		field.String("request_id").NotEmpty().Immutable(),
		// request_hash is the SHA-256 of the serialized request, to refuse the same id with another payload.
		field.Bytes("request_hash").Immutable(),
		// response is written last in the transaction that claimed the row first (see package idempotency).
		field.Bytes("response"),
		// response_ref, when not empty, names where the response's one message is stored already (an order
		// revision's snapshot), and response is empty: the response is rebuilt from it (see package
		// idempotency).
		field.String("response_ref").Default(""),
		field.Time("create_time").Immutable(),
	}
}

// Indexes of the IdempotencyKey.
func (IdempotencyKey) Indexes() []ent.Index {
	// create_time serves the retention sweep (idempotency.Sweep).
	return []ent.Index{index.Fields("principal_id", "procedure", "request_id").Unique(), index.Fields("create_time")}
}

// Deadline holds a durable timer: a consequence due on a subject at a time. A worker claims due rows and
// applies the consequence in the same transaction that marks the row done.
type Deadline struct{ ent.Schema }

// Mixin of the Deadline.
func (Deadline) Mixin() []ent.Mixin { return []ent.Mixin{IDMixin{}} }

// Fields of the Deadline.
func (Deadline) Fields() []ent.Field {
	return []ent.Field{
		field.String("subject_type").NotEmpty().Immutable(),
		field.String("subject_id").NotEmpty().Immutable(),
		field.String("kind").NotEmpty().Immutable(),
		field.Time("due_time"),
		field.Enum("state").Values("pending", "done", "dropped", "suspended").Default("pending"),
		// remaining_seconds keeps the time left while the deadline is suspended (a suspended dispute).
		field.Int64("remaining_seconds").Default(0),
		field.Time("create_time").Immutable(),
		field.Time("finish_time").Optional().Nillable(),
		field.String("outcome").Default(""),
	}
}

// Indexes of the Deadline.
func (Deadline) Indexes() []ent.Index {
	return []ent.Index{
		// The sweep's claim reads pending deadlines in (due time, id) order: with the id in the index, a
		// batch is read from it in order, not sorted out of every deadline due at the same time.
		index.Fields("state", "due_time", "id"),
		index.Fields("subject_type", "subject_id", "kind"),
	}
}

// Setting holds one server-wide value, such as the development clock's offset, so that it survives a
// restart and is shared by every server process on the database.
type Setting struct{ ent.Schema }

// Fields of the Setting.
func (Setting) Fields() []ent.Field {
	return []ent.Field{
		field.String("id").NotEmpty().Immutable(),
		field.String("value"),
	}
}
