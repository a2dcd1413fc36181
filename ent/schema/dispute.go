package schema

import (
	"entgo.io/ent"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
)

// Dispute holds a buyer's claim on a paid order (or a card chargeback), from the negotiation between the
// parties through the platform's arbitration to the refund. The offers and the arbiter's evidence requests
// are rows of their own, because they are listed as a history; the evidence is a serialized protobuf
// message, always read whole with the dispute.
type Dispute struct{ ent.Schema }

// Mixin of the Dispute.
func (Dispute) Mixin() []ent.Mixin { return []ent.Mixin{IDMixin{}, TimeMixin{}, RevisionMixin{}} }

// Fields of the Dispute.
func (Dispute) Fields() []ent.Field {
	return []ent.Field{
		field.String("order_id").NotEmpty().Immutable(),
		field.String("buyer_id").NotEmpty().Immutable(),
		field.String("supplier_id").NotEmpty().Immutable(),
		// policy is copied from the order, so the dispute keeps the rules the order was created under.
		field.Enum("policy").Values("trade_assurance", "retail").Immutable(),
		field.Enum("kind").Values("standard", "chargeback").Immutable(),
		// payment_id names the card payment a chargeback disputes.
		field.String("payment_id").Default("").Immutable(),
		// state does not include suspension: a suspended dispute keeps its state, so that resuming returns
		// it to where it was (see suspended).
		field.Enum("state").Values("open", "negotiating", "escalated", "settled", "ruled", "withdrawn"),
		field.Enum("reason_class").Values("logistics", "product").Immutable(),
		field.Enum("reason").Values(
			"not_shipped_on_time", "no_tracking_updates", "stuck_in_transit", "held_by_customs",
			"returned_to_sender", "delivered_to_wrong_address", "lost",
			"not_as_described", "quality_problem", "quantity_short", "damaged", "counterfeit",
			"wrong_item", "missing_parts",
		).Immutable(),
		field.String("statement").Default(""),
		// evidence is a serialized tradeassure.common.v1.EvidenceList: what either party attached to the
		// dispute itself, outside offers and evidence requests.
		field.Bytes("evidence").Optional(),
		field.Enum("requested_resolution").Values("full_refund", "partial_refund", "return_and_refund").
			Immutable(),
		field.Int64("requested_refund_minor").Immutable(),
		// currency is the order's; every amount of the dispute and its offers is in it.
		field.String("currency").MaxLen(3).Immutable(),
		// escrow_held is set while the dispute holds the order's escrow, so the hold is released exactly
		// once.
		field.Bool("escrow_held").Default(false),

		// Negotiation.
		field.Time("supplier_response_deadline").Optional().Nillable(),
		field.Time("supplier_response_time").Optional().Nillable(),
		// latest_offer_id names the open offer that the other party may accept to settle.
		field.String("latest_offer_id").Default(""),

		// Escalation.
		field.Time("escalation_allowed_time").Optional().Nillable(),
		field.Time("auto_escalate_time").Optional().Nillable(),
		field.Time("escalate_time").Optional().Nillable(),
		field.String("escalated_by_role").Default(""),
		field.String("arbiter_id").Default(""),

		// Suspension. The deadlines stop while suspended (the Deadline rows keep the time left).
		field.Bool("suspended").Default(false),
		field.Enum("suspension_kind").Values("private_settlement", "court_proceedings",
			"police_proceedings").Optional().Nillable(),
		// private_settlement_requested_by is the party that asked first to settle privately; the dispute is
		// suspended only when the other party asks too.
		field.Enum("private_settlement_requested_by").Values("buyer", "supplier").Optional().Nillable(),
		field.Time("suspend_time").Optional().Nillable(),
		field.Time("resume_time").Optional().Nillable(),

		// Outcome.
		field.Enum("resolution").Values("full_refund", "partial_refund", "return_and_refund", "no_refund").
			Optional().Nillable(),
		field.Enum("responsibility").Values("supplier", "buyer", "logistics", "none").Optional().Nillable(),
		field.Int64("refund_minor").Default(0),
		// refund_source says where the refund came from: the order's escrow, or, when the escrow was already
		// released, the platform, which recovers it from the supplier's balance.
		field.Enum("refund_source").Values("escrow", "supplier_balance").Optional().Nillable(),
		// inspection_fee_minor is the third-party inspection fee the buyer prepaid; the supplier reimburses
		// it when found responsible.
		field.Int64("inspection_fee_minor").Default(0),
		field.String("ruling_note").Default(""),
		// return_id names the return a return-and-refund resolution started.
		field.String("return_id").Default(""),
		// close_time is when the dispute was settled, ruled or withdrawn.
		field.Time("close_time").Optional().Nillable(),
	}
}

// Indexes of the Dispute.
func (Dispute) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("buyer_id", "id"),
		index.Fields("supplier_id", "id"),
		index.Fields("buyer_id", "state", "id"),
		index.Fields("supplier_id", "state", "id"),
		index.Fields("order_id", "id"),
		// The arbiters' queue is the escalated disputes; each arbiter lists its own.
		index.Fields("state", "id"),
		index.Fields("arbiter_id", "state", "id"),
	}
}

// DisputeOffer holds one proposal in a dispute's negotiation, kept as history: who proposed what, and
// whether the other party accepted or declined it.
type DisputeOffer struct{ ent.Schema }

// Mixin of the DisputeOffer.
func (DisputeOffer) Mixin() []ent.Mixin { return []ent.Mixin{IDMixin{}, TimeMixin{}} }

// Fields of the DisputeOffer.
func (DisputeOffer) Fields() []ent.Field {
	return []ent.Field{
		field.String("dispute_id").NotEmpty().Immutable(),
		field.Enum("proposer_role").Values("buyer", "supplier").Immutable(),
		field.String("proposer_id").NotEmpty().Immutable(),
		field.Enum("resolution").Values("full_refund", "partial_refund", "return_and_refund", "no_refund").
			Immutable(),
		field.Int64("refund_minor").Default(0).Immutable(),
		field.String("currency").MaxLen(3).Immutable(),
		field.String("note").Default("").Immutable(),
		// evidence is a serialized tradeassure.common.v1.EvidenceList supporting the offer.
		field.Bytes("evidence").Optional().Immutable(),
		// state: an open offer is superseded by the next offer, and lapses when the dispute ends otherwise
		// (escalated, ruled, withdrawn).
		field.Enum("state").Values("open", "accepted", "declined", "superseded", "lapsed").Default("open"),
		field.Time("answer_time").Optional().Nillable(),
	}
}

// Indexes of the DisputeOffer.
func (DisputeOffer) Indexes() []ent.Index {
	return []ent.Index{index.Fields("dispute_id", "id")}
}

// DisputeEvidenceRequest holds the arbiter's request that one party upload evidence by a due time; evidence
// not uploaded in time counts against that party.
type DisputeEvidenceRequest struct{ ent.Schema }

// Mixin of the DisputeEvidenceRequest.
func (DisputeEvidenceRequest) Mixin() []ent.Mixin { return []ent.Mixin{IDMixin{}, TimeMixin{}} }

// Fields of the DisputeEvidenceRequest.
func (DisputeEvidenceRequest) Fields() []ent.Field {
	return []ent.Field{
		field.String("dispute_id").NotEmpty().Immutable(),
		field.String("arbiter_id").NotEmpty().Immutable(),
		field.Enum("party_role").Values("buyer", "supplier").Immutable(),
		field.String("party_id").NotEmpty().Immutable(),
		field.String("description").NotEmpty().Immutable(),
		field.Time("due_time").Immutable(),
		field.Enum("state").Values("open", "fulfilled", "missed").Default("open"),
		field.Time("fulfill_time").Optional().Nillable(),
		// evidence is a serialized tradeassure.common.v1.EvidenceList: what the party uploaded in answer.
		field.Bytes("evidence").Optional(),
	}
}

// Indexes of the DisputeEvidenceRequest.
func (DisputeEvidenceRequest) Indexes() []ent.Index {
	return []ent.Index{index.Fields("dispute_id", "id")}
}
