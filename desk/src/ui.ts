// The desk's shared pieces: DOM helpers, human labels for enums, one mapping from API errors to messages a
// person can act on, and countdowns on the server's clock.
import { asError, ErrorReason, formatMoney, timeLeft, timestampDate, type Timestamp } from "@tradeassure/sdk";

export type Child = Node | string | undefined | null | false;

/** Makes an element with attributes and children; attributes starting with "on" are not allowed. */
export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Record<string, string> = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, v);
  for (const c of children) if (c !== undefined && c !== null && c !== false) el.append(c);
  return el;
}

/** Turns an enum value's name into words: "AWAITING_PAYMENT" → "Awaiting payment". */
function words(name: string): string {
  const s = name.toLowerCase().replace(/_/g, " ");
  return s.charAt(0).toUpperCase() + s.slice(1);
}

/** Names people use where the enum's own words would not do. */
const overrides: Record<string, string> = {
  TT: "T/T (telegraphic transfer)",
  PAY_LATER: "Pay Later",
  WESTERN_UNION: "Western Union",
  E_CHECKING: "e-Checking",
  FCA: "FCA (free carrier)",
  EXW: "EXW (ex works)",
  FOB: "FOB (free on board)",
  CIF: "CIF (cost, insurance and freight)",
  DDP: "DDP (delivered duty paid)",
  DAP: "DAP (delivered at place)",
  CPT: "CPT (carriage paid to)",
  CIP: "CIP (carriage and insurance paid to)",
  CFR: "CFR (cost and freight)",
  FAS: "FAS (free alongside ship)",
};

/**
 * The human label of a generated enum's value: `label(order.Order_State, o.state)` → "Awaiting payment".
 * Protobuf-ES enums are objects mapping names to numbers and numbers back to names.
 */
export function label(e: Record<string | number, string | number>, value: number): string {
  const name = e[value];
  if (typeof name !== "string" || value === 0) return "—";
  return overrides[name] ?? words(name);
}

/** What a failed call means for a person, with the service's raw reason kept for support. */
export interface Problem {
  message: string;
  fields: { field: string; description: string }[];
  reason: string;
}

/** The one mapping from errors to what the desk says. Field violations come first: they say what to fix. */
export function problem(err: unknown): Problem {
  const e = asError(err);
  if (!e) return { message: String(err), fields: [], reason: "" };
  const byReason: Partial<Record<ErrorReason, string>> = {
    [ErrorReason.ETAG_MISMATCH]: "Someone changed this while you were looking at it. The page has been reloaded; check it and try again.",
    [ErrorReason.UNAUTHENTICATED]: "This API key is not valid (or was revoked). Sign in again with a current key.",
    [ErrorReason.NOT_FOUND]: "It no longer exists, or your account may not see it.",
    [ErrorReason.ROLE_NOT_ALLOWED]: "Your role may not do this.",
    [ErrorReason.ACCOUNT_RESTRICTED]: "Your account is restricted from trading: " + e.rawMessage,
    [ErrorReason.ACCOUNT_BANNED]: "Your account is banned and can only read its own data.",
    [ErrorReason.ACCOUNT_FROZEN]: "Your account is frozen; contact the platform.",
    [ErrorReason.PAYMENT_DECLINED]: "The card was declined. Try another card or another payment method.",
    // Drafting and changing orders, and returns (src/drafts.ts, src/orderwork.ts).
    [ErrorReason.UNKNOWN_BUYER]: "No buyer account is bound to this email. Ask the buyer for the email of their account on the platform.",
    [ErrorReason.UNKNOWN_PRODUCT]: "A line names a product you do not list (or one priced in another currency). Choose one of your listed products.",
    [ErrorReason.TRADE_TERM_SHIPPING_MISMATCH]: "FAS, FOB, CFR and CIF are sea and inland-waterway terms: choose sea freight, or another trade term such as FCA.",
    [ErrorReason.INVALID_ADVANCE]: "The advance does not fit the payment terms: it must be more than 0 and less than the total (and, once paid, stay as paid).",
    [ErrorReason.TRADE_ASSURANCE_LIMIT_EXCEEDED]: "The covered amount is above the supplier's trade-assurance limit. Lower the order, or cover only the advance.",
    [ErrorReason.EXPORT_AGENT_REQUIRED]: "Orders above the cap need the one-touch export agent, which this supplier does not have. Lower the total, or ask the platform to enable it.",
    [ErrorReason.PAYMENT_PENDING]: "A payment is being processed: nothing on this order can change until it settles or fails.",
    [ErrorReason.ALREADY_SHIPPED]: "The order has shipped: the logistics provider can no longer change.",
    [ErrorReason.CHANGE_PROPOSAL_CONFLICT]: "A change is already proposed on this order: accept, reject or withdraw it first.",
    [ErrorReason.AMOUNT_EXCEEDS_PAID]: "The change does not keep the money already paid: a paid order keeps its total.",
    [ErrorReason.WINDOW_CLOSED]: "The time for this has passed (the order's window closed).",
    [ErrorReason.EVIDENCE_REQUIRED]: "Attach evidence: quality problems and goods not as described need at least one piece.",
    [ErrorReason.QUANTITY_EXCEEDS_ORDERED]: "More units than were ordered (less earlier returns) were chosen. Lower the quantities.",
    [ErrorReason.REQUEST_ID_REUSED]: "This form was already sent with other values. Reload the page and try again.",
  };
  const fields = e.fieldViolations.map((v) => ({ field: v.field, description: v.description }));
  let message = byReason[e.reason] ?? (e.rawMessage ? e.rawMessage.charAt(0).toUpperCase() + e.rawMessage.slice(1) : "");
  if (!message) {
    message = e.code === 14 /* unavailable */ || e.code === 2 ? "The server cannot be reached. Check your connection and try again." : "Something went wrong.";
  }
  if (fields.length > 0 && e.reason === ErrorReason.INVALID_FIELD) message = "Please correct the highlighted fields.";
  return { message, fields, reason: e.reasonName || e.codeName };
}

/** The server's clock: the offset from this browser's clock, read from AdminService/GetClock. */
export const serverClock = {
  offsetMs: 0,
  now(): Date {
    return new Date(Date.now() + this.offsetMs);
  },
  set(server: Date, sentAt: number, receivedAt: number): void {
    this.offsetMs = server.getTime() - (sentAt + receivedAt) / 2;
  },
};

/** A countdown to a deadline on the server's clock; the page refreshes every [data-deadline] each second. */
export function countdown(at: Timestamp | undefined, what: string): HTMLElement | undefined {
  if (!at) return undefined;
  const el = h("span", { class: "countdown", "data-deadline": String(timestampDate(at).getTime()) });
  el.title = `${what}: ${timestampDate(at).toUTCString()}`;
  paintCountdown(el);
  return h("span", { class: "deadline" }, what + ": ", el);
}

export function paintCountdown(el: HTMLElement): void {
  const t = timeLeft(new Date(Number(el.dataset["deadline"])), serverClock.now());
  el.textContent = t.text;
  el.classList.toggle("overdue", t.passed);
}

export function money(m: Parameters<typeof formatMoney>[0]): string {
  return m ? formatMoney(m) : "—";
}

export function when(t: Timestamp | undefined): string {
  return t ? timestampDate(t).toISOString().replace("T", " ").slice(0, 16) + " UTC" : "—";
}

/** A definition list of label/value pairs, skipping empty values. */
export function facts(pairs: [string, Child][]): HTMLElement {
  const dl = h("dl", { class: "facts" });
  for (const [k, v] of pairs) if (v !== undefined && v !== null && v !== "" && v !== false) dl.append(h("dt", {}, k), h("dd", {}, v));
  return dl;
}
