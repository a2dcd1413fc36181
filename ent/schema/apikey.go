package schema

import (
	"entgo.io/ent"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
)

// APIKey holds a credential of an account. Only the SHA-256 of the secret is stored.
type APIKey struct{ ent.Schema }

// Mixin of the APIKey.
func (APIKey) Mixin() []ent.Mixin { return []ent.Mixin{IDMixin{}, TimeMixin{}} }

// Fields of the APIKey.
func (APIKey) Fields() []ent.Field {
	return []ent.Field{
		field.String("account_id").NotEmpty(),
		field.String("name").Default(""),
		field.String("prefix").NotEmpty(),
		field.String("secret_hash").NotEmpty().Unique().Sensitive(),
		field.Time("revoke_time").Optional().Nillable(),
	}
}

// Indexes of the APIKey.
func (APIKey) Indexes() []ent.Index {
	return []ent.Index{index.Fields("account_id")}
}
