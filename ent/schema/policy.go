package schema

import (
	"entgo.io/ent"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
)

// PolicySet holds a named after-sales policy set; its versions are PolicyVersion rows. The id is the set's
// name ("trade-assurance").
type PolicySet struct{ ent.Schema }

// Mixin of the PolicySet.
func (PolicySet) Mixin() []ent.Mixin { return []ent.Mixin{IDMixin{}, RevisionMixin{}} }

// Fields of the PolicySet.
func (PolicySet) Fields() []ent.Field {
	return []ent.Field{
		// programme is the rule book the set follows where rules are not numbers, inherited on derivation.
		field.Enum("programme").Values("trade_assurance", "retail").Immutable(),
		field.String("derived_from").Default("").Immutable(),
		field.Time("create_time").Immutable(),
	}
}

// PolicyVersion holds one published, immutable version of a policy set. Its version id is unique per
// programme (orders store the programme and the version id), and it is made of the effective date and a
// digest of the content, so two databases never hold different versions under one id.
type PolicyVersion struct{ ent.Schema }

// Mixin of the PolicyVersion.
func (PolicyVersion) Mixin() []ent.Mixin { return []ent.Mixin{IDMixin{}} }

// Fields of the PolicyVersion.
func (PolicyVersion) Fields() []ent.Field {
	return []ent.Field{
		field.String("set_name").NotEmpty().Immutable(),
		field.Enum("programme").Values("trade_assurance", "retail").Immutable(),
		field.String("version").NotEmpty().MaxLen(64).Immutable(),
		field.Time("effective_time").Immutable(),
		// parameters is a serialized tradeassure.policy.v1.PolicyParameters.
		field.Bytes("parameters").Immutable(),
		field.Time("create_time").Immutable(),
	}
}

// Indexes of the PolicyVersion.
func (PolicyVersion) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("programme", "version").Unique(),
		index.Fields("set_name", "effective_time"),
	}
}

// RateTable holds one published, immutable version of the exchange-rate table; the id is its version.
type RateTable struct{ ent.Schema }

// Mixin of the RateTable.
func (RateTable) Mixin() []ent.Mixin { return []ent.Mixin{IDMixin{}} }

// Fields of the RateTable.
func (RateTable) Fields() []ent.Field {
	return []ent.Field{
		field.Time("effective_time").Immutable(),
		// rates is a serialized tradeassure.policy.v1.ExchangeRateTable holding only its rates.
		field.Bytes("rates").Immutable(),
		field.Time("create_time").Immutable(),
	}
}

// Indexes of the RateTable.
func (RateTable) Indexes() []ent.Index {
	return []ent.Index{index.Fields("effective_time")}
}
