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
		// request_id is the supplier's idempotency key; unique per supplier, so a request is executed at most
		// once even when two retries race.
		field.String("request_id").NotEmpty().Immutable().MaxLen(128),
		field.Int64("amount_minor").Positive().Immutable(),
		field.String("currency").MaxLen(3).Immutable(),
		// bank_account is the supplier's verified bank account when the request was made; a later change of
		// the account does not redirect a withdrawal under way. holder_name and bank_country go with it.
		field.String("bank_account").NotEmpty().Immutable(),
		field.String("holder_name").Default("").Immutable(),
		field.String("bank_country").Default("").Immutable(),
		field.Enum("state").Values("requested", "processing", "paid", "failed").Default("requested"),
		// bank_reference is the bank's reference for the wire, once it was sent.
		field.String("bank_reference").Default(""),
		field.String("failure_reason").Default(""),
		field.Time("process_time").Optional().Nillable(),
		field.Time("expected_settle_earliest_time").Optional().Nillable(),
		// expected_settle_time is the latest the money is expected at the bank; when it passes unconfirmed
		// the withdrawal is marked overdue.
		field.Time("expected_settle_time").Optional().Nillable(),
		field.Time("overdue_time").Optional().Nillable(),
		// finish_time is when the withdrawal was paid or failed.
		field.Time("finish_time").Optional().Nillable(),
		field.String("transfer_id").Default(""),
		field.String("reversal_transfer_id").Default(""),
	}
}

// Indexes of the Withdrawal.
func (Withdrawal) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("supplier_id", "request_id").Unique(),
		index.Fields("supplier_id", "id"),
		index.Fields("supplier_id", "state", "id"),
		index.Fields("state", "id"),
	}
}
