// The buyer's and supplier's work on one order beyond paying and shipping: requested changes to a draft
// and the supplier's edit, the logistics provider before shipment, change proposals on an accepted order
// (propose, accept, reject or withdraw), and returns of chosen lines and quantities with evidence — plus a
// return's lines and evidence and adding more. Each action is offered only when the order's state, the
// caller's role and the order's deadlines allow it on the server's clock; the server still decides.
import { common, order, returns, timestampDate } from "@tradeassure/sdk";
import "./orderwork.css";
import { changeUnavailable } from "./drafts.js";
import { stableRequestId, type Action, type Kit, type Signed } from "./kit.js";
import { facts, h, label, money, serverClock, when } from "./ui.js";

const Role = common.Role;
const S = order.Order_State;

function goods(o: order.Order, t = o.terms): string {
  return (t?.lines ?? []).map((l) => `${l.quantity} × ${l.productName || l.productId} at ${money({ amountMinor: l.unitPriceMinor, currency: t?.currency ?? "USD" })}`).join("; ");
}

/** A write with a request id that stays the same while its request does (a retry is applied once). */
function once<T>(kit: Kit, send: (requestId: string) => Promise<T>, payload: () => unknown): () => Promise<T> {
  const id = stableRequestId();
  return () => {
    const rid = id(payload());
    kit.sent(rid);
    return send(rid);
  };
}

/** The nav link styled as a button, for an action that has its own screen. */
function go(hash: string, text: string): HTMLAnchorElement {
  return h("a", { href: hash, class: "button" }, text);
}

/** When the return window of a delivered or completed order closes, if it has a receipt. */
export function returnWindowEnd(o: order.Order): Date | undefined {
  if (!o.deliverTime || !o.policyParameters?.returnWindow) return undefined;
  return new Date(timestampDate(o.deliverTime).getTime() + Number(o.policyParameters.returnWindow.seconds) * 1000);
}

/** What the order page adds for order work: actions for the shell's bar, and the sections to show. */
export async function orderWork(kit: Kit, s: Signed, o: order.Order): Promise<{ actions: Action[]; links: HTMLElement[]; nodes: Node[] }> {
  const c = s.client;
  const role = s.me.role;
  const acts: Action[] = [];
  const links: HTMLElement[] = [];
  const nodes: Node[] = [];
  const party = role === Role.BUYER || role === Role.SUPPLIER;

  // A draft: the buyer asks for changes; the supplier edits and re-sends.
  if (o.state === S.DRAFT && role === Role.BUYER) {
    let note = "";
    acts.push({
      label: "Request changes",
      fields: [{ name: "note", label: "What should the supplier change?", kind: "textarea", required: true }],
      run: (v) => ((note = v["note"] ?? ""), send()),
    });
    const send = once(kit, (requestId) => c.orders.requestDraftChanges({ requestId, orderId: o.id, etag: o.etag, note }), () => [o.etag, note]);
  }
  if (o.state === S.DRAFT && role === Role.SUPPLIER) links.push(go("#/drafts/" + o.id, o.buyerChangeRequest ? "Answer: edit the draft" : "Edit the draft"));
  if (o.state === S.DRAFT && o.buyerChangeRequest)
    nodes.push(h("section", { class: "card", "data-testid": "buyer-change-request" }, h("h2", {}, "The buyer asked for changes"), h("p", {}, o.buyerChangeRequest)));

  // The logistics provider: the buyer's, only before shipment, never while a payment is processed.
  if (role === Role.BUYER && [S.DRAFT, S.AWAITING_PAYMENT, S.ADVANCE_PAID, S.PAID].includes(o.state)) {
    let provider = "";
    const send = once(kit, (requestId) => c.orders.changeLogisticsProvider({ requestId, orderId: o.id, etag: o.etag, logisticsProvider: provider }), () => [o.etag, provider]);
    acts.push({
      label: "Change logistics provider",
      unavailable: o.paymentPending ? "a payment is being processed; nothing can change until it settles or fails." : undefined,
      fields: [{ name: "provider", label: "New logistics provider", value: o.terms?.logisticsProvider ?? "", required: true, hint: "Possible until the order ships, never after." }],
      run: (v) => ((provider = v["provider"] ?? ""), send()),
    });
  }

  // Change proposals on an accepted order that has not shipped.
  const p = o.pendingChange;
  if (party && p) {
    const mine = p.proposedBy?.role === role;
    nodes.push(
      h(
        "section",
        { class: "card", "data-testid": "pending-change" },
        h("h2", {}, `Change proposed by the ${label(Role, p.proposedBy?.role ?? 0).toLowerCase()}`),
        facts([
          ["Goods now", goods(o)],
          ["Proposed goods", goods(o, p.terms)],
          ["Proposed fees", p.terms ? `shipping ${money({ amountMinor: p.terms.shippingFeeMinor, currency: p.terms.currency })}, insurance ${money({ amountMinor: p.terms.insuranceFeeMinor, currency: p.terms.currency })}` : ""],
          ["Trade term", p.terms ? `${label(order.TradeTerm, p.terms.tradeTerm)} by ${label(order.ShippingMethod, p.terms.shippingMethod).toLowerCase()}` : ""],
          ["Ship by", p.terms?.shipByTime ? when(p.terms.shipByTime) : ""],
          ["Why", p.note],
          ["Proposed", when(p.proposeTime)],
        ]),
      ),
    );
    let why = "";
    const reject = once(kit, (requestId) => c.orders.rejectOrderChange({ requestId, orderId: o.id, etag: o.etag, proposalId: p.id, note: why }), () => [o.etag, why]);
    if (!mine) {
      const accept = once(kit, (requestId) => c.orders.acceptOrderChange({ requestId, orderId: o.id, etag: o.etag, proposalId: p.id }), () => o.etag);
      acts.push({ label: "Accept the change", unavailable: o.paymentPending ? "a payment is being processed." : undefined, run: () => accept() });
      acts.push({ label: "Reject the change", fields: [{ name: "note", label: "Why not", kind: "textarea" }], run: (v) => ((why = v["note"] ?? ""), reject()) });
    } else acts.push({ label: "Withdraw the proposal", run: () => reject() });
  }
  if (party && !changeUnavailable(o)) links.push(go("#/changes/" + o.id, "Propose a change"));

  // A return of chosen lines and quantities, with evidence, within the return window.
  if (role === Role.BUYER && (o.state === S.DELIVERED || o.state === S.COMPLETED)) {
    const end = returnWindowEnd(o);
    const closed = end && end.getTime() <= serverClock.now().getTime();
    const lines = o.terms?.lines ?? [];
    // What earlier returns took, as the server counts it: open returns, and refunded ones whose goods went back.
    const taken = new Map<number, bigint>();
    const { returns: earlier } = await c.returns.listReturns({ orderId: o.id, pageSize: 500 });
    for (const r of earlier)
      if (!ended.has(r.state) && (r.state !== returns.Return_State.REFUNDED || !r.partialRefundOffer?.amountMinor))
        for (const l of r.lines) taken.set(l.lineIndex, (taken.get(l.lineIndex) ?? 0n) + l.quantity);
    const left = lines.map((l, i) => (l.quantity - (taken.get(i) ?? 0n) > 0n ? l.quantity - (taken.get(i) ?? 0n) : 0n));
    let req: Parameters<typeof c.returns.createReturn>[0] = { orderId: o.id };
    const send = once(kit, (requestId) => c.returns.createReturn({ ...req, requestId }), () => req);
    acts.push({
      label: "Request a return",
      unavailable: o.escrowHeld
        ? "an open return or dispute already holds this order; an order has one after-sales case at a time."
        : closed
          ? `the return window closed at ${when({ $typeName: "google.protobuf.Timestamp", seconds: BigInt(Math.floor(end.getTime() / 1000)), nanos: 0 })}.`
          : left.every((q) => q === 0n)
            ? "every unit of this order has been returned already."
            : undefined,
      fields: [
        ...lines.map((l, i) => ({
          name: `qty${i}`,
          label: `Quantity of ${l.productName || l.productId} to return (of ${left[i]})`,
          value: String(left[i]),
          hint: `0 keeps the whole line. Ordered ${l.quantity}${taken.get(i) ? `; ${taken.get(i)} already returned or being returned` : ""}.`,
        })),
        { name: "reason", label: "Reason", kind: "select" as const, options: kit.options(returns.Return_Reason, [0, returns.Return_Reason.NO_REASON]) },
        { name: "description", label: "What is wrong", kind: "textarea" as const, required: true },
        { name: "photo", label: "Photo link (evidence)", value: "https://files.example/photo.jpg", hint: "Quality problems and goods not as described need evidence." },
        { name: "record", label: "Second evidence link (optional)", value: "" },
      ],
      run: async (v) => {
        const chosen: { lineIndex: number; quantity: bigint }[] = [];
        lines.forEach((l, i) => {
          const q = (v[`qty${i}`] ?? "").trim();
          if (!/^\d+$/.test(q)) throw new Error(`Enter a whole number of units for ${l.productName || l.productId}, from 0 to ${l.quantity}.`);
          if (BigInt(q) > (left[i] ?? 0n)) throw new Error(`At most ${left[i]} units of ${l.productName || l.productId} can be returned.`);
          if (BigInt(q) > 0n) chosen.push({ lineIndex: i, quantity: BigInt(q) });
        });
        if (chosen.length === 0) throw new Error("Choose at least one unit to return.");
        const whole = chosen.length === lines.length && chosen.every((x) => x.quantity === lines[x.lineIndex]?.quantity);
        const evidence = [
          ...(v["photo"] ? [{ kind: common.EvidenceKind.PRODUCT_PHOTO, uri: v["photo"], description: "photo of the goods" }] : []),
          ...(v["record"] ? [{ kind: common.EvidenceKind.OTHER, uri: v["record"], description: "more evidence" }] : []),
        ];
        req = {
          orderId: o.id,
          reason: Number(v["reason"]),
          description: v["description"] ?? "",
          evidence,
          lines: whole ? [] : chosen.map((x) => ({ line: { case: "lineIndex" as const, value: x.lineIndex }, quantity: x.quantity })),
        };
        const r = await send();
        if (r.return) location.hash = "#/returns/" + r.return.id;
      },
    });
    if (end && !closed && !o.escrowHeld) nodes.push(h("p", { class: "muted" }, `Returns may be requested until ${when({ $typeName: "google.protobuf.Timestamp", seconds: BigInt(Math.floor(end.getTime() / 1000)), nanos: 0 })}.`));
  }
  return { actions: acts, links, nodes };
}

const ended: Set<returns.Return_State> = new Set([
  returns.Return_State.REFUNDED,
  returns.Return_State.DECLINED,
  returns.Return_State.PARTIAL_REFUND_REJECTED,
  returns.Return_State.LAPSED,
  returns.Return_State.REJECTED,
  returns.Return_State.CANCELLED,
]);

/** What the return page adds: its lines and evidence, and adding evidence while it is open. */
export function returnWork(kit: Kit, s: Signed, r: returns.Return, o?: order.Order): { actions: Action[]; nodes: Node[] } {
  const acts: Action[] = [];
  const role = s.me.role;
  if ((role === Role.BUYER || role === Role.SUPPLIER) && !ended.has(r.state)) {
    let ev: { kind: number; uri: string; description: string } = { kind: 0, uri: "", description: "" };
    const send = once(kit, (requestId) => s.client.returns.addReturnEvidence({ requestId, id: r.id, etag: r.etag, evidence: [ev] }), () => [r.etag, ev]);
    acts.push({
      label: "Add evidence",
      fields: [
        { name: "kind", label: "Kind", kind: "select", options: kit.options(common.EvidenceKind) },
        { name: "uri", label: "Link to the file", required: true, value: "https://files.example/" },
        { name: "description", label: "What it shows", kind: "textarea" },
      ],
      run: (v) => ((ev = { kind: Number(v["kind"]), uri: v["uri"] ?? "", description: v["description"] ?? "" }), send()),
    });
  }
  const cur = r.refund?.total?.currency ?? o?.terms?.currency ?? "USD";
  const lines = kit.table(
    ["Line", "Returned", "Received", "Refund"],
    r.lines.map((l) => {
      const ol = o?.terms?.lines[l.lineIndex];
      return [
        document.createTextNode(ol ? `${l.lineIndex + 1}. ${ol.productName || ol.productId}` : `${l.lineIndex + 1}. ${l.productId}`),
        document.createTextNode(ol ? `${l.quantity} of ${ol.quantity}` : String(l.quantity)),
        document.createTextNode(l.receivedQuantity || l.damagedQuantity || l.missingQuantity ? `${l.receivedQuantity} received, ${l.damagedQuantity} damaged, ${l.missingQuantity} missing` : "—"),
        document.createTextNode(money(l.refundAmount ?? { amountMinor: 0n, currency: cur })),
      ];
    }),
    "No lines.",
  );
  const evidence = h("ul", { "data-testid": "return-evidence" });
  for (const e of r.evidence)
    evidence.append(h("li", {}, `${label(common.EvidenceKind, e.kind)}: `, h("a", { href: e.uri, rel: "noopener" }, e.description || e.uri), e.addedBy ? ` (by the ${label(Role, e.addedBy.role).toLowerCase()}, ${when(e.addTime)})` : ""));
  return {
    actions: acts,
    nodes: [
      h("h2", {}, r.wholeOrder ? "Lines (the whole order)" : "Lines returned"),
      lines,
      h("h2", {}, "Evidence"),
      r.evidence.length ? evidence : h("p", { class: "empty" }, "No evidence."),
    ],
  };
}
