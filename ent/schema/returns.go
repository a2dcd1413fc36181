package schema

import (
	"entgo.io/ent"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
)

// ReturnRequest holds a buyer's request to send back all or part of an order for a refund, from the
// request through the supplier's answer, the return shipment and its receipt to the refund. It is not
// named Return because ent generates a package per entity and `return` is a Go keyword. The chosen lines,
// the evidence, the return address and the receipt are stored as serialized protobuf messages: they are
// always read and written whole with the return, while the columns that lists filter or sort on, the
// deadlines and the amounts are plain columns.
type ReturnRequest struct{ ent.Schema }

// Mixin of the ReturnRequest.
func (ReturnRequest) Mixin() []ent.Mixin {
	return []ent.Mixin{IDMixin{}, TimeMixin{}, RevisionMixin{}}
}

// Fields of the ReturnRequest.
func (ReturnRequest) Fields() []ent.Field {
	return []ent.Field{
		field.String("order_id").NotEmpty().Immutable(),
		field.String("buyer_id").NotEmpty().Immutable(),
		field.String("supplier_id").NotEmpty().Immutable(),
		// policy is copied from the order, so the return keeps the rules the order was created under.
		field.Enum("policy").Values("trade_assurance", "retail").Immutable(),
		// kind says whether the goods go back to the supplier or, in the free-return programme, to the
		// platform's local warehouse.
		field.Enum("kind").Values("standard", "free_return").Immutable(),
		field.Enum("state").Values("requested", "approved", "declined", "partial_refund_offered",
			"shipped", "received", "disputed", "refunded", "lapsed", "rejected", "cancelled"),
		// reason separates the objective reasons from the subjective ones, which the supplier may decline or
		// answer with a partial refund; no_reason is only allowed for free returns.
		field.Enum("reason").Values("quality_problem", "not_as_described", "colour_not_as_expected",
			"size_not_as_expected", "look_not_as_expected", "changed_mind", "did_not_read_description",
			"no_reason").Immutable(),
		field.String("statement").Default(""),
		// evidence is a serialized tradeassure.common.v1.EvidenceList.
		field.Bytes("evidence").Optional(),
		// lines is a serialized tradeassure.returns.v1.ReturnLines: the order lines and quantities sent
		// back, or every line when the whole order is returned.
		field.Bytes("lines").Immutable(),
		// whole_order is set when the buyer returns the whole order, which changes how the refund counts
		// freight and insurance.
		field.Bool("whole_order").Default(false).Immutable(),
		// dispute_id names the dispute that started this return (a return-and-refund resolution) or that the
		// supplier raised about the returned goods.
		field.String("dispute_id").Default(""),
		// escrow_held is set while the return holds the order's escrow, so the hold is released exactly once.
		field.Bool("escrow_held").Default(false),

		// The supplier's answer.
		field.Time("supplier_answer_deadline").Optional().Nillable(),
		field.Time("answer_time").Optional().Nillable(),
		field.String("decline_reason").Default(""),
		// offered_refund_minor is the partial refund without return the supplier offered instead.
		field.Int64("offered_refund_minor").Default(0),
		// return_address is a serialized tradeassure.common.v1.Address: where the buyer ships the goods,
		// the supplier's (by default its registered one) or the platform warehouse's.
		field.Bytes("return_address").Optional(),

		// The return shipment.
		field.Time("ship_deadline").Optional().Nillable(),
		field.String("tracking_carrier").Default(""),
		field.String("tracking_number").Default(""),
		field.Time("ship_time").Optional().Nillable(),
		field.Time("receipt_deadline").Optional().Nillable(),
		field.Time("receive_time").Optional().Nillable(),
		// receipt is a serialized tradeassure.returns.v1.ReturnReceipt: the quantities received, damaged
		// and missing per line, as the supplier or the warehouse recorded them.
		field.Bytes("receipt").Optional(),

		// The free-return warehouse's inspection and the platform's compensation of the supplier.
		field.String("warehouse_id").Default(""),
		field.Enum("inspection_result").Values("resellable", "not_resellable").Optional().Nillable(),
		field.String("inspection_note").Default(""),
		field.Time("inspect_time").Optional().Nillable(),
		field.Int64("compensation_minor").Default(0),
		field.Time("compensation_due_time").Optional().Nillable(),
		field.Time("compensate_time").Optional().Nillable(),

		// The refund, in the order's currency.
		field.String("currency").MaxLen(3).Immutable(),
		field.Int64("refund_minor").Default(0),
		field.Time("refund_time").Optional().Nillable(),
		// close_time is when the return reached a final state (refunded, declined, lapsed, rejected,
		// cancelled).
		field.Time("close_time").Optional().Nillable(),
	}
}

// Indexes of the ReturnRequest.
func (ReturnRequest) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("buyer_id", "id"),
		index.Fields("supplier_id", "id"),
		index.Fields("buyer_id", "state", "id"),
		index.Fields("supplier_id", "state", "id"),
		index.Fields("order_id", "id"),
		// The warehouse works through free returns by state.
		index.Fields("kind", "state", "id"),
		index.Fields("state", "id"),
	}
}
