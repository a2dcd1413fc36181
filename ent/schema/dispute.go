package schema

import (
	"entgo.io/ent"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
)

// Dispute holds a buyer's claim on a paid order (or a card chargeback, or a supplier's report about
// returned goods), from the negotiation between the parties through the platform's arbitration to the
// refund. The whole dispute as the API shows it, with its history of offers and evidence requests, is one
// serialized tradeassure.dispute.v1.Dispute in snapshot, always read and written whole with the row; the
// columns beside it are copies of the fields that lists, uniqueness and the supplier metrics query on.
type Dispute struct{ ent.Schema }

// Mixin of the Dispute.
func (Dispute) Mixin() []ent.Mixin { return []ent.Mixin{IDMixin{}, TimeMixin{}, RevisionMixin{}} }

// Fields of the Dispute.
func (Dispute) Fields() []ent.Field {
	return []ent.Field{
		field.String("order_id").NotEmpty().Immutable(),
		field.String("buyer_id").NotEmpty().Immutable(),
		field.String("supplier_id").NotEmpty().Immutable(),
		// policy and policy_version are copied from the order, so the dispute keeps the rules the order was
		// created under.
		field.Enum("policy").Values("trade_assurance", "retail").Immutable(),
		field.String("policy_version").NotEmpty().Immutable(),
		field.Enum("kind").Values("standard", "chargeback", "returned_goods").Immutable(),
		field.Enum("state").Values("awaiting_response", "negotiating", "escalated", "suspended", "settled",
			"ruled", "withdrawn"),
		// open_order_id is the order id while the dispute is open and null once it ended: its unique index
		// keeps at most one open dispute per order, also between concurrent server processes.
		field.String("open_order_id").Optional().Nillable().Unique(),
		// escalated is set once the dispute reached the platform (supplier metrics).
		field.Bool("escalated").Default(false),
		// responsibility is the ruling's finding ("" until ruled).
		field.String("responsibility").Default(""),
		field.String("related_return_id").Default(""),
		field.Time("close_time").Optional().Nillable(),
		// snapshot is the serialized tradeassure.dispute.v1.Dispute of this revision.
		field.Bytes("snapshot"),
	}
}

// Indexes of the Dispute.
func (Dispute) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("buyer_id", "id"),
		index.Fields("supplier_id", "id"),
		index.Fields("order_id", "id"),
		// The arbiters' queue is the escalated disputes.
		index.Fields("state", "id"),
		index.Fields("related_return_id"),
	}
}
