package schema

import (
	"entgo.io/ent"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
)

// Complaint holds one party's complaint against the other about a transaction, decided by an arbiter. The
// evidence and the outcome are stored as serialized protobuf messages, always read whole with the
// complaint; the penalties the outcome imposes on accounts are also rows of their own (Penalty), because
// the service checks them on every call.
type Complaint struct{ ent.Schema }

// Mixin of the Complaint.
func (Complaint) Mixin() []ent.Mixin { return []ent.Mixin{IDMixin{}, TimeMixin{}, RevisionMixin{}} }

// Fields of the Complaint.
func (Complaint) Fields() []ent.Field {
	return []ent.Field{
		field.String("order_id").NotEmpty().Immutable(),
		// policy and policy_version are copied from the order, so a later policy change never applies to it.
		field.Enum("policy").Values("trade_assurance", "retail").Immutable(),
		field.String("policy_version").NotEmpty().Immutable(),
		field.String("complainant_id").NotEmpty().Immutable(),
		field.Enum("complainant_role").Values("buyer", "supplier").Immutable(),
		field.String("respondent_id").NotEmpty().Immutable(),
		field.Enum("type").Values("false_transaction", "product_quality", "service_failure",
			"transaction_fraud").Immutable(),
		field.String("statement").Default(""),
		// evidence is the serialized evidence, oldest first: the wire form of a message whose field 1 is a
		// repeated tradeassure.common.v1.Evidence.
		field.Bytes("evidence").Optional(),
		// statements are the parties' later statements, in the same form with tradeassure.complaint.v1.Statement.
		field.Bytes("statements").Optional(),
		// order_end_time is when the order completed or was cancelled, as of filing (the window's start).
		field.Time("order_end_time").Optional().Nillable().Immutable(),
		field.Enum("state").Values("filed", "upheld", "dismissed", "withdrawn").Default("filed"),
		field.Time("decision_deadline"),
		// decision_overdue is set when the decision deadline passed without a decision, so the miss is
		// reported and stays visible after the decision.
		field.Bool("decision_overdue").Default(false),
		field.String("arbiter_id").Default(""),
		field.Time("decide_time").Optional().Nillable(),
		field.String("decision_note").Default(""),
		// outcome is a serialized tradeassure.complaint.v1.Decision: the arbiter's decision with the penalties
		// and remedies (return costs, compensation, freight, extended delivery time) of an upheld complaint.
		field.Bytes("outcome").Optional(),
		field.Time("withdraw_time").Optional().Nillable(),
		field.String("withdraw_note").Default(""),
		field.Time("close_time").Optional().Nillable(),
		// refiled_from names the dismissed complaint this one files again with new evidence. It is unique,
		// so a dismissed complaint is refiled at most once.
		field.String("refiled_from").Optional().Nillable().Immutable(),
		// refiled_as names the complaint that refiled this dismissed one.
		field.String("refiled_as").Optional().Nillable(),
	}
}

// Indexes of the Complaint.
func (Complaint) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("complainant_id", "id"),
		index.Fields("respondent_id", "id"),
		index.Fields("complainant_id", "state", "id"),
		index.Fields("respondent_id", "state", "id"),
		index.Fields("order_id", "id"),
		index.Fields("state", "id"),
		// The arbiters' work queue: filed complaints by decision deadline.
		index.Fields("state", "decision_deadline", "id"),
		index.Fields("order_id", "complainant_id", "type", "state"),
		index.Fields("refiled_from").Unique(),
	}
}

// Penalty holds one penalty imposed on an account by an upheld complaint. Penalties take effect at once: the
// service applies them to the account's credit score and standing in the same transaction, and keeps them
// here as the account's record.
type Penalty struct{ ent.Schema }

// Mixin of the Penalty.
func (Penalty) Mixin() []ent.Mixin { return []ent.Mixin{IDMixin{}} }

// Fields of the Penalty.
func (Penalty) Fields() []ent.Field {
	return []ent.Field{
		field.String("account_id").NotEmpty().Immutable(),
		field.String("complaint_id").NotEmpty().Immutable(),
		field.Enum("kind").Values("credit_deduction", "trading_restriction", "ban").Immutable(),
		// points is how much a credit deduction takes off the credit score.
		field.Int("points").Default(0).Immutable(),
		// end_time is when a trading restriction ends; a ban has none.
		field.Time("end_time").Optional().Nillable().Immutable(),
		field.String("note").Default("").Immutable(),
		field.Time("time").Immutable(),
	}
}

// Indexes of the Penalty.
func (Penalty) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("account_id", "id"),
		index.Fields("complaint_id"),
	}
}
