package schema

import (
	"entgo.io/ent"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
)

// Order holds an assured order. The terms and the small sub-records (shipment, cancellation, open change
// proposal) are stored as serialized protobuf messages: they are always read and written whole with the
// order, while the columns that lists filter or sort on, and the amounts, are plain columns.
type Order struct{ ent.Schema }

// Mixin of the Order.
func (Order) Mixin() []ent.Mixin { return []ent.Mixin{IDMixin{}, TimeMixin{}, RevisionMixin{}} }

// Fields of the Order.
func (Order) Fields() []ent.Field {
	return []ent.Field{
		field.Enum("policy").Values("trade_assurance", "retail").Immutable(),
		field.String("policy_version").NotEmpty().Immutable(),
		field.Enum("state").Values("draft", "awaiting_payment", "advance_paid", "paid", "shipped",
			"delivered", "completed", "closed", "cancelled"),
		field.String("supplier_id").NotEmpty().Immutable(),
		field.String("buyer_id").NotEmpty().Immutable(),
		field.String("buyer_email").NotEmpty(),
		field.String("currency").MaxLen(3),
		field.Bytes("terms"),
		field.Int64("goods_minor"),
		field.Int64("total_minor"),
		field.Int64("advance_minor"),
		field.Int64("paid_minor").Default(0),
		field.Int64("refunded_minor").Default(0),
		field.Int64("total_usd_minor"),
		// rates_version is the exchange-rate table total_usd_minor and the limit checks were computed with.
		field.String("rates_version").Default("2026-11-01"),
		field.Int64("covered_minor"),
		field.Bool("requires_export_agent").Default(false),
		field.Bool("awaiting_supplier").Default(false),
		field.String("buyer_change_request").Default(""),
		field.Bytes("pending_change").Optional(),
		field.Bytes("shipment").Optional(),
		field.Bytes("cancellation").Optional(),
		field.Bool("payment_pending").Default(false),
		field.Int("escrow_holds").Default(0),
		field.Time("ship_by_time"),
		field.Time("deliver_time").Optional().Nillable(),
		field.Time("complete_time").Optional().Nillable(),
		field.Time("close_time").Optional().Nillable(),
		field.Time("auto_confirm_deadline").Optional().Nillable(),
		field.Time("after_sales_deadline").Optional().Nillable(),
	}
}

// Indexes of the Order.
func (Order) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("buyer_id", "id"),
		index.Fields("supplier_id", "id"),
		index.Fields("buyer_id", "state", "id"),
		index.Fields("supplier_id", "state", "id"),
		index.Fields("state", "id"),
	}
}

// OrderRevision holds one version of an order, for its revision history.
type OrderRevision struct{ ent.Schema }

// Fields of the OrderRevision.
func (OrderRevision) Fields() []ent.Field {
	return []ent.Field{
		field.String("order_id").NotEmpty().Immutable(),
		field.Int64("revision").Immutable(),
		field.String("change").NotEmpty().Immutable(),
		field.String("actor_role").Immutable(),
		field.String("actor_id").Default("").Immutable(),
		field.Time("time").Immutable(),
		// snapshot is the serialized tradeassure.order.v1.Order after the change.
		field.Bytes("snapshot").Immutable(),
	}
}

// Indexes of the OrderRevision.
func (OrderRevision) Indexes() []ent.Index {
	return []ent.Index{index.Fields("order_id", "revision").Unique()}
}

// Payment holds money a buyer sent toward an order.
type Payment struct{ ent.Schema }

// Mixin of the Payment.
func (Payment) Mixin() []ent.Mixin { return []ent.Mixin{IDMixin{}, TimeMixin{}} }

// Fields of the Payment.
func (Payment) Fields() []ent.Field {
	return []ent.Field{
		field.String("order_id").NotEmpty().Immutable(),
		field.Enum("method").Values("card", "tt", "online_bank_transfer", "pay_later", "western_union",
			"e_checking").Immutable(),
		field.Enum("part").Values("full", "advance", "balance").Immutable(),
		field.Int64("amount_minor").Positive().Immutable(),
		field.String("currency").MaxLen(3).Immutable(),
		field.Enum("state").Values("pending", "settled", "failed"),
		field.String("failure_reason").Default(""),
		field.Time("finish_time").Optional().Nillable(),
		field.Time("expected_settle_time").Optional().Nillable(),
	}
}

// Indexes of the Payment.
func (Payment) Indexes() []ent.Index {
	return []ent.Index{index.Fields("order_id", "id")}
}
