package schema

import (
	"entgo.io/ent"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
)

// LedgerAccount holds one account of the double-entry ledger in one currency, with its running balance.
// The sum of the balances of every account in one currency is always zero.
type LedgerAccount struct{ ent.Schema }

// Mixin of the LedgerAccount.
func (LedgerAccount) Mixin() []ent.Mixin { return []ent.Mixin{TimeMixin{}} }

// Fields of the LedgerAccount.
func (LedgerAccount) Fields() []ent.Field {
	return []ent.Field{
		// id is the account's name, "kind:owner:currency" (for example "order_escrow:ord_x:USD"), not a
		// generated id, so a posting addresses its accounts without looking them up first. It is longer than
		// IDMixin allows because it embeds an owner's id.
		field.String("id").NotEmpty().Immutable().MaxLen(128),
		// kind: buyer_funding, refunds and bank_payouts stand for money outside the platform, so their
		// balances are negative or positive mirrors of what came in and went out.
		field.Enum("kind").Values("buyer_funding", "order_escrow", "supplier_pending",
			"supplier_available", "platform_fees", "platform_compensation", "refunds", "bank_payouts").
			Immutable(),
		// owner_id is the order of an escrow account, the supplier of a supplier account, the buyer of a
		// funding account, and empty for the platform's accounts.
		field.String("owner_id").Default("").Immutable(),
		field.String("currency").MaxLen(3).Immutable(),
		// balance_minor may go negative: a supplier's available balance does when a refund is recovered
		// from it after the escrow was released. It changes only by atomic increments within a posting's
		// transaction, so concurrent postings need no etag.
		field.Int64("balance_minor").Default(0),
		// revision counts the entries posted to the account; each entry records the revision it made, so a
		// statement is ordered by it and a lost or doubled update would show as a gap or a duplicate.
		field.Int64("revision").Default(0),
	}
}

// Indexes of the LedgerAccount.
func (LedgerAccount) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("kind", "owner_id", "currency").Unique(),
		index.Fields("owner_id", "id"),
	}
}

// LedgerTransfer holds one balanced posting: entries that sum to zero, moved for one cause. Transfers are
// immutable; a correction is another transfer.
type LedgerTransfer struct{ ent.Schema }

// Mixin of the LedgerTransfer.
func (LedgerTransfer) Mixin() []ent.Mixin { return []ent.Mixin{IDMixin{}} }

// Fields of the LedgerTransfer.
func (LedgerTransfer) Fields() []ent.Field {
	return []ent.Field{
		// cause_kind and cause_id name what the transfer is for, such as ("payment", pay_x),
		// ("escrow_release", ord_x), ("dispute_refund", dsp_x) or ("withdrawal_failure", wdr_x). They are
		// unique together, so a replayed cause cannot post twice.
		field.String("cause_kind").NotEmpty().Immutable(),
		field.String("cause_id").NotEmpty().Immutable(),
		field.String("currency").MaxLen(3).Immutable(),
		// amount_minor is the sum of the transfer's positive entries.
		field.Int64("amount_minor").Positive().Immutable(),
		field.String("memo").Default("").Immutable(),
		field.Time("time").Immutable(),
		// The objects the transfer concerns, for listing an order's or a withdrawal's transfers.
		field.String("order_id").Default("").Immutable(),
		field.String("return_id").Default("").Immutable(),
		field.String("dispute_id").Default("").Immutable(),
		field.String("complaint_id").Default("").Immutable(),
		field.String("withdrawal_id").Default("").Immutable(),
	}
}

// Indexes of the LedgerTransfer.
func (LedgerTransfer) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("cause_kind", "cause_id").Unique(),
		index.Fields("order_id", "id"),
		index.Fields("currency", "id"),
	}
}

// LedgerEntry holds one leg of a transfer: a signed amount on one account and the balance it left. The
// links to the order, return, dispute and withdrawal it concerns are copied onto the entry so that a
// supplier's statement is one indexed scan of its account.
type LedgerEntry struct{ ent.Schema }

// Mixin of the LedgerEntry.
func (LedgerEntry) Mixin() []ent.Mixin { return []ent.Mixin{IDMixin{}} }

// Fields of the LedgerEntry.
func (LedgerEntry) Fields() []ent.Field {
	return []ent.Field{
		field.String("transfer_id").NotEmpty().Immutable(),
		// leg is the entry's position among its transfer's legs as posted; pairing debits with credits in
		// this order shows a multi-leg transfer as from→to movements.
		field.Int("leg").Default(0).Immutable(),
		field.String("account_id").NotEmpty().Immutable(),
		// account_kind is copied from the account, so statements filter by it without a join.
		field.String("account_kind").Default("").Immutable(),
		// seq is the account's revision this entry made: 1, 2, 3, … per account, in commit order.
		field.Int64("seq").Default(0).Immutable(),
		// amount_minor is positive when the account's balance goes up, negative when it goes down.
		field.Int64("amount_minor").Immutable(),
		field.Int64("balance_after_minor").Immutable(),
		field.String("currency").MaxLen(3).Immutable(),
		// cause_kind is copied from the transfer, so a statement line says what it was (a fee, a refund, a
		// payout) without reading the transfer.
		field.String("cause_kind").NotEmpty().Immutable(),
		field.String("order_id").Default("").Immutable(),
		field.String("return_id").Default("").Immutable(),
		field.String("dispute_id").Default("").Immutable(),
		field.String("complaint_id").Default("").Immutable(),
		field.String("withdrawal_id").Default("").Immutable(),
		field.Time("time").Immutable(),
	}
}

// Indexes of the LedgerEntry.
func (LedgerEntry) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("account_id", "seq").Unique(),
		index.Fields("transfer_id"),
	}
}
