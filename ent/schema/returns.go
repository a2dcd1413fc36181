package schema

import (
	"entgo.io/ent"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
)

// ReturnRequest holds a buyer's request to send back all or part of an order for a refund, from the
// request through the supplier's answer, the return shipment and its receipt to the refund. It is not
// named Return because ent generates a package per entity and `return` is a Go keyword. The chosen lines
// and the evidence are stored as JSON and the return address as a serialized protobuf message: they are
// always read and written whole with the return, while the columns that lists filter or sort on, the
// deadlines and the amounts are plain columns.
type ReturnRequest struct{ ent.Schema }

// ReturnedLine is one order line in a return: what was sent back and, after receipt, what arrived. The
// amounts are fixed when the return is created, so later returns on the same order cannot change them.
type ReturnedLine struct {
	LineIndex int32  `json:"line_index"`
	ProductID string `json:"product_id"`
	Quantity  int64  `json:"quantity"`
	// GoodsMinor is unit price × quantity; FreightMinor and InsuranceMinor are the line's shares of the
	// order's shipping and insurance fees.
	GoodsMinor     int64 `json:"goods_minor"`
	FreightMinor   int64 `json:"freight_minor"`
	InsuranceMinor int64 `json:"insurance_minor"`
	// RefundMinor is what the line refunds: goods + shares, less the freight share when shipping is not
	// refunded.
	RefundMinor int64 `json:"refund_minor"`
	Received    int64 `json:"received"`
	Damaged     int64 `json:"damaged"`
	Missing     int64 `json:"missing"`
}

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
		// policy and policy_version are copied from the order, so the return keeps the rules the order was
		// created under.
		field.Enum("policy").Values("trade_assurance", "retail").Immutable(),
		field.String("policy_version").NotEmpty().Immutable(),
		// kind says whether the goods go back to the supplier or, in the free-return programme, to the
		// platform's local warehouse.
		field.Enum("kind").Values("standard", "free_return").Immutable(),
		// origin says whether the buyer asked for the return or a dispute's return-and-refund started it.
		field.Enum("origin").Values("buyer_request", "dispute").Immutable(),
		field.Enum("state").Values("requested", "partial_refund_offered", "approved", "shipped", "disputed",
			"refunded", "declined", "partial_refund_rejected", "lapsed", "rejected", "cancelled"),
		// reason separates the objective reasons from the subjective ones, which the supplier may decline or
		// answer with a partial refund; no_reason is only allowed for free returns. A return started by a
		// dispute has none: the dispute holds the reason.
		field.Enum("reason").Values("quality_problem", "not_as_described", "damaged", "wrong_item",
			"quantity_short", "colour_not_as_expected", "size_not_as_expected", "look_not_as_expected",
			"changed_mind", "did_not_read_description", "no_reason").Optional().Nillable().Immutable(),
		field.String("description").Default(""),
		// evidence holds each piece as a serialized tradeassure.common.v1.Evidence, oldest first.
		field.JSON("evidence", [][]byte{}).Optional(),
		// lines are the order lines and quantities sent back (every line when the whole order is returned)
		// with their amounts and, after receipt, what arrived.
		field.JSON("lines", []ReturnedLine{}),
		// whole_order is set when the buyer returns the whole order.
		field.Bool("whole_order").Default(false).Immutable(),
		// order_receipt_time is when the buyer received the order; the request window counts from it.
		field.Time("order_receipt_time").Immutable(),
		// source_dispute_id names the dispute whose return-and-refund started this return.
		field.String("source_dispute_id").Default("").Immutable(),
		// receipt_dispute_id names the dispute the supplier raised about the returned goods.
		field.String("receipt_dispute_id").Default(""),
		// escrow_held is set while the return holds the order's escrow, so the hold is released exactly once.
		field.Bool("escrow_held").Default(false),
		field.Int64("held_minor").Default(0),

		// The supplier's answer.
		field.Time("supplier_answer_deadline").Optional().Nillable(),
		field.Time("approve_time").Optional().Nillable(),
		field.String("approved_by_role").Default(""),
		field.String("approved_by_id").Default(""),
		field.String("decline_reason").Default(""),
		field.String("decline_note").Default(""),
		// offered_refund_minor is the partial refund without return the supplier offered instead.
		field.Int64("offered_refund_minor").Default(0),
		field.String("offer_note").Default(""),
		// return_address is a serialized tradeassure.common.v1.Address: where the buyer ships the goods,
		// the supplier's (by default its registered one) or the platform warehouse's.
		field.Bytes("return_address").Optional(),

		// The return shipment.
		field.Time("ship_deadline").Optional().Nillable(),
		field.String("carrier").Default(""),
		field.String("tracking_number").Default(""),
		field.Time("ship_time").Optional().Nillable(),
		field.Time("receipt_deadline").Optional().Nillable(),
		field.Time("receive_time").Optional().Nillable(),
		field.String("receipt_note").Default(""),

		// The free-return warehouse's inspection and the platform's compensation of the supplier.
		field.String("inspected_by").Default(""),
		field.Enum("inspection_result").Values("resaleable", "not_resaleable").Optional().Nillable(),
		field.String("inspection_note").Default(""),
		field.Int64("compensation_minor").Default(0),
		field.Time("compensation_deadline").Optional().Nillable(),
		field.Time("compensate_time").Optional().Nillable(),

		// The refund breakdown, in the order's currency (see RefundBreakdown in the API).
		field.String("currency").MaxLen(3).Immutable(),
		field.Int64("goods_minor").Default(0),
		field.Int64("freight_minor").Default(0),
		field.Int64("insurance_minor").Default(0),
		field.Int64("shipping_deduction_minor").Default(0),
		field.Int64("cap_deduction_minor").Default(0),
		field.Int64("refund_total_minor").Default(0),
		// kept_goods is set when the buyer accepted a partial refund and kept the goods: those units were
		// not returned and may still be returned later (the refund cap still applies).
		field.Bool("kept_goods").Default(false),
		field.Int64("refunded_minor").Default(0),
		field.Time("refund_time").Optional().Nillable(),
		// close_time is when the return reached a final state.
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
