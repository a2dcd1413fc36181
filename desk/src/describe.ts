// What the desk says about a case step or a statement line: a sentence built from the step's own record
// with the desk's one label and money mapping (`label` and `money` in ui.ts), never the service's raw
// enum names (NOT_AS_DESCRIBED) or bare minor units (6000 USD for 60.00 USD). Where the record does not
// carry what the sentence needs (a return's or dispute's own words), the service's sentence is used with
// every enum name, bare minor-unit amount and RFC 3339 time in it rewritten through the same mapping.
import { cases, common, complaint, dispute, order, payout, returns } from "@tradeassure/sdk";
import { label, money, when } from "./ui.js";

type EnumObject = Record<string | number, string | number>;

/** Every enum whose value names the service writes into its sentences, with the prefix protobuf strips. */
const enums: [EnumObject, string][] = [
  [dispute.Dispute_Reason, "REASON_"],
  [dispute.Dispute_Resolution, "RESOLUTION_"],
  [dispute.Dispute_Responsibility, "RESPONSIBILITY_"],
  [dispute.Dispute_State, "STATE_"],
  [returns.Return_Reason, "REASON_"],
  [returns.Return_DeclineReason, "DECLINE_REASON_"],
  [returns.Return_InspectionResult, "INSPECTION_RESULT_"],
  [returns.Return_State, "STATE_"],
  [returns.Return_Kind, "KIND_"],
  [order.Order_State, "STATE_"],
  [order.PaymentMethod, "PAYMENT_METHOD_"],
  [order.TradeTerm, "TRADE_TERM_"],
  [order.ShippingMethod, "SHIPPING_METHOD_"],
  [complaint.Complaint_Type, "TYPE_"],
  [payout.CauseKind, "CAUSE_KIND_"],
  [common.EvidenceKind, "EVIDENCE_KIND_"],
];

let words: Map<string, string> | undefined;

/** The human label of every enum value name the service may write, with and without its prefix. */
function enumWords(): Map<string, string> {
  if (words) return words;
  words = new Map();
  for (const [e, prefix] of enums)
    for (const [name, v] of Object.entries(e)) {
      if (typeof v !== "number" || v === 0) continue;
      const l = label(e, v);
      if (!words.has(prefix + name)) words.set(prefix + name, l);
      // A bare name shared by two enums keeps the first label; both read the same in words.
      if (!words.has(name)) words.set(name, l);
    }
  return words;
}

/** ISO currency codes a bare minor-unit amount may carry. */
const currency = /^[A-Z]{3}$/;

/**
 * Rewrites the service's sentence for people: enum names become labels ("NOT_AS_DESCRIBED" → "Not as
 * described"), a bare integer amount before a currency code is minor units ("6000 USD" → "60.00 USD"),
 * and RFC 3339 times are written like every other time in the desk.
 */
export function humanize(text: string): string {
  const dict = enumWords();
  return text
    .replace(/\b\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?Z\b/g, (t) => when({ $typeName: "google.protobuf.Timestamp", seconds: BigInt(Math.floor(Date.parse(t) / 1000)), nanos: 0 }))
    .replace(/(?<![\d.,])(\d+) ([A-Z]{3})\b/g, (all, n: string, cur: string) =>
      currency.test(cur) && !dict.has(cur) ? money({ amountMinor: BigInt(n), currency: cur }) : all,
    )
    .replace(/\b[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+\b|\b[A-Z]{4,}\b/g, (tok) => {
      const l = dict.get(tok);
      return l === undefined ? tok : l.charAt(0).toLowerCase() + l.slice(1);
    });
}

const paymentKind: Record<number, string> = {
  [cases.PaymentStep_Kind.STARTED]: "Paid",
  [cases.PaymentStep_Kind.SETTLED]: "Payment settled:",
  [cases.PaymentStep_Kind.FAILED]: "Payment failed:",
};

/** A movement on the ledger in words: why, how much, from which account to which. */
export function describeTransfer(t: payout.Transfer): string {
  const why = t.cause ? label(payout.CauseKind, t.cause.kind) : "Money moved";
  return `${why}: ${money(t.amount)} from ${label(payout.LedgerAccount_Kind, t.fromKind).toLowerCase()} to ${label(payout.LedgerAccount_Kind, t.toKind).toLowerCase()}`;
}

/** A case step in words, from its record. */
export function describeStep(s: cases.CaseStep): string {
  const d = s.detail;
  switch (d.case) {
    case "payment": {
      const p = d.value.payment;
      if (!p) break;
      const what = `${paymentKind[d.value.kind] ?? "Payment"} ${money(p.amount)} by ${label(order.PaymentMethod, p.method)}`;
      return p.failureReason && d.value.kind === cases.PaymentStep_Kind.FAILED ? `${what} (${humanize(p.failureReason)})` : what;
    }
    case "transfer":
      return describeTransfer(d.value);
    case "returnEntry":
    case "disputeEntry": {
      const e = d.value;
      const text = humanize(e.description || label(d.case === "returnEntry" ? returns.TimelineEntry_Kind : dispute.TimelineEntry_Kind, e.kind));
      // The money the entry moved, when its sentence does not already say it.
      return e.amount?.amountMinor && !text.includes(money(e.amount)) ? `${text} (${money(e.amount)})` : text;
    }
    case "complaint": {
      const c = d.value;
      const type = label(complaint.Complaint_Type, c.type).toLowerCase();
      if (c.kind === cases.ComplaintStep_Kind.FILED) return `Complaint filed: ${type}`;
      if (c.kind === cases.ComplaintStep_Kind.UPHELD) return `Complaint (${type}) upheld with ${c.decision?.penalties.length ?? 0} penalt${c.decision?.penalties.length === 1 ? "y" : "ies"}`;
      return `${label(cases.ComplaintStep_Kind, c.kind)}: complaint (${type})`;
    }
    case "orderRevision":
      return humanize(s.description || changeLabel(d.value.change));
  }
  return humanize(s.description);
}

/** An order revision's change ("order.change_accepted") in words ("Change accepted"). */
export function changeLabel(change: string): string {
  const w = change.replace(/^order\./, "").replace(/_/g, " ");
  return w.charAt(0).toUpperCase() + w.slice(1);
}

/** A statement line in words, from its cause and amount. */
export function describeStatement(e: payout.StatementEntry): string {
  const why = e.cause ? label(payout.CauseKind, e.cause.kind) : "";
  return why ? `${why}: ${money(e.amount)} (${label(payout.LedgerAccount_Kind, e.accountKind).toLowerCase()} balance)` : humanize(e.description);
}
