package schema

import (
	"entgo.io/ent"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
)

// Account holds a principal: a buyer, supplier, arbiter, warehouse or operator.
type Account struct{ ent.Schema }

// Mixin of the Account.
func (Account) Mixin() []ent.Mixin { return []ent.Mixin{IDMixin{}, TimeMixin{}} }

// Fields of the Account.
func (Account) Fields() []ent.Field {
	return []ent.Field{
		field.Enum("role").Values("buyer", "supplier", "arbiter", "warehouse", "operator"),
		field.String("name").NotEmpty(),
		field.String("email").NotEmpty().Unique(),
		field.String("country").MaxLen(2),
		field.Int("credit_score").Default(100),
		field.Enum("standing").Values("active", "restricted", "banned").Default("active"),
		field.Time("restricted_until").Optional().Nillable(),
		field.Int64("trade_assurance_limit_usd_minor").Default(0),
		field.Bool("one_touch_export").Default(false),
		field.String("bank_account").Default(""),
		field.Bool("bank_account_verified").Default(false),
		field.Bool("free_return_programme").Default(false),
		field.Bool("frozen").Default(false),
		field.Int("sold_not_shipped_count").Default(0),
		// return_address is a serialized tradeassure.common.v1.Address.
		field.Bytes("return_address").Optional(),
	}
}

// Indexes of the Account.
func (Account) Indexes() []ent.Index {
	return []ent.Index{index.Fields("role", "id")}
}
