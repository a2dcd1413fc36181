package schema

import (
	"entgo.io/ent"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
)

// Withdrawal holds a supplier's request to pay out its available balance to its verified bank account. The
// money leaves the balance when the request is accepted and comes back if the bank transfer fails.
type Withdrawal struct{ ent.Schema }

// Mixin of the Withdrawal.
func (Withdrawal) Mixin() []ent.Mixin { return []ent.Mixin{IDMixin{}, TimeMixin{}, RevisionMixin{}} }

// Fields of the Withdrawal.
func (Withdrawal) Fields() []ent.Field {
	return []ent.Field{
		field.String("supplier_id").NotEmpty().Immutable(),
		field.Int64("amount_minor").Positive().Immutable(),
		field.String("currency").MaxLen(3).Immutable(),
		// bank_account is the supplier's verified bank account when the request was made; a later change of
		// the account does not redirect a withdrawal under way.
		field.String("bank_account").NotEmpty().Immutable(),
		field.Enum("state").Values("requested", "processing", "paid", "failed").Default("requested"),
		// bank_reference is the bank's reference for the wire, once it was sent.
		field.String("bank_reference").Default(""),
		field.String("failure_reason").Default(""),
		field.Time("process_time").Optional().Nillable(),
		field.Time("expected_settle_time").Optional().Nillable(),
		// finish_time is when the withdrawal was paid or failed.
		field.Time("finish_time").Optional().Nillable(),
	}
}

// Indexes of the Withdrawal.
func (Withdrawal) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("supplier_id", "id"),
		index.Fields("supplier_id", "state", "id"),
		// The payout worker picks requested and processing withdrawals.
		index.Fields("state", "id"),
	}
}
