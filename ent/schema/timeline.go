package schema

import (
	"entgo.io/ent"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
)

// TimelineEntry holds one step in the history of a return or a dispute (or any later subject): who did
// what, and when, as the parties and the arbiter see it. Unlike the change feed's events it is written for
// people and is never pruned.
type TimelineEntry struct{ ent.Schema }

// Mixin of the TimelineEntry.
func (TimelineEntry) Mixin() []ent.Mixin { return []ent.Mixin{IDMixin{}} }

// Fields of the TimelineEntry.
func (TimelineEntry) Fields() []ent.Field {
	return []ent.Field{
		// subject_type names the subject's kind, such as "return" or "dispute".
		field.String("subject_type").NotEmpty().Immutable(),
		field.String("subject_id").NotEmpty().Immutable(),
		// revision is the subject's revision after the step, to match the entry with the change feed.
		field.Int64("revision").Default(0).Immutable(),
		field.String("actor_role").Immutable(),
		field.String("actor_id").Default("").Immutable(),
		field.Time("time").Immutable(),
		// kind names the step, such as "requested", "offer_made" or "deadline_passed".
		field.String("kind").NotEmpty().Immutable(),
		field.String("description").Default("").Immutable(),
		// change is a serialized google.protobuf.Any holding what the step recorded (an offer, a ruling, a
		// tracking number), empty when the kind and description say it all.
		field.Bytes("change").Optional().Immutable(),
	}
}

// Indexes of the TimelineEntry.
func (TimelineEntry) Indexes() []ent.Index {
	return []ent.Index{index.Fields("subject_type", "subject_id", "id")}
}
