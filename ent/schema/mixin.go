// Package schema is the storage schema of tradeassure: one ent schema per stored entity, sharing the
// mixins below. Everything else in ent/ is generated from it by `go generate ./ent`.
package schema

import (
	"entgo.io/ent"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/mixin"
)

// IDMixin gives an entity a string id chosen by the service (a type prefix and a time-ordered UUID), so
// ids sort by creation and pagination can use them as keys.
type IDMixin struct{ mixin.Schema }

// Fields of the IDMixin.
func (IDMixin) Fields() []ent.Field {
	return []ent.Field{
		field.String("id").NotEmpty().Immutable().MaxLen(64),
	}
}

// TimeMixin records when an entity was created and last changed, by the service's clock (which the
// development mode may move), never by the database's.
type TimeMixin struct{ mixin.Schema }

// Fields of the TimeMixin.
func (TimeMixin) Fields() []ent.Field {
	return []ent.Field{
		field.Time("create_time").Immutable(),
		field.Time("update_time"),
	}
}

// RevisionMixin versions an entity: the revision goes up by one on every change, and the etag names the
// revision so that a client writing from a stale read is refused.
type RevisionMixin struct{ mixin.Schema }

// Fields of the RevisionMixin.
func (RevisionMixin) Fields() []ent.Field {
	return []ent.Field{
		field.Int64("revision").Default(1),
		field.String("etag").NotEmpty(),
	}
}
