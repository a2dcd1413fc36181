// The after-sales desk: a buyer, a supplier and an arbiter each sign in with their API key, see their
// orders, returns and disputes, and carry a return and a dispute through to a ruling. Every call goes
// through the TypeScript SDK over Connect-Web (or gRPC-Web); the page follows the event feed
// (WatchEvents) to update itself live, and shows every deadline as a countdown.
import {
  admin,
  asError,
  common,
  createClient,
  dispute,
  formatMoney,
  order,
  parseMoney,
  returns,
  timeLeft,
  timestampDate,
  type Timestamp,
  type TradeassureClient,
} from "@tradeassure/sdk";

type WebTransport = "connect" | "grpc-web";

/** What sign-in stores, per browser tab. */
interface Session {
  baseUrl: string;
  apiKey: string;
  transport: WebTransport;
}

/** A signed-in principal. */
interface Signed {
  session: Session;
  client: TradeassureClient;
  account: admin.Account;
}

/** What the page shows, loaded from the services. */
interface View {
  orders: order.Order[];
  returns: returns.Return[];
  disputes: dispute.Dispute[];
}

const SESSION_KEY = "tradeassure.session";
const app = document.querySelector<HTMLElement>("#app")!;
const who = document.querySelector<HTMLElement>("#who")!;
const toasts = document.querySelector<HTMLElement>("#toast")!;
let current: Signed | undefined;
let feed: AbortController | undefined;
let refreshQueued = false;
let stale = false;

// ---- DOM helpers -------------------------------------------------------------------------------------

type Child = Node | string | undefined | null | false;

/** Makes an element with attributes (data-*, class, …) and children. */
function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Record<string, string> = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, v);
  for (const c of children) {
    if (c === undefined || c === null || c === false) continue;
    el.append(c);
  }
  return el;
}

function button(label: string, action: string, onClick: () => void, secondary = false): HTMLButtonElement {
  const b = h("button", { type: "button", "data-action": action, ...(secondary ? { class: "secondary" } : {}) }, label);
  b.addEventListener("click", onClick);
  return b;
}

/** A live countdown to a deadline; the ticker below updates its text every second. */
function countdown(label: string, ts: Timestamp | undefined, name: string): HTMLElement | undefined {
  if (ts === undefined) return undefined;
  const at = timestampDate(ts);
  const el = h("span", { class: "countdown", "data-deadline": at.toISOString(), "data-countdown": name, title: at.toISOString() });
  paintCountdown(el);
  return h("div", {}, `${label}: `, el, h("span", { class: "muted" }, ` (${at.toUTCString()})`));
}

function paintCountdown(el: HTMLElement): void {
  const t = timeLeft(new Date(el.dataset["deadline"] ?? ""));
  el.textContent = t.text;
  el.classList.toggle("passed", t.passed);
}

setInterval(() => document.querySelectorAll<HTMLElement>(".countdown").forEach(paintCountdown), 1000);

function toast(text: string, error = false): void {
  const t = h("div", error ? { class: "error" } : {}, text);
  toasts.append(t);
  setTimeout(() => t.remove(), error ? 8000 : 3000);
}

/** The short form of an id for people: "ord_…1a2b3c". */
function short(id: string): string {
  return id.length > 14 ? `${id.slice(0, 4)}…${id.slice(-6)}` : id;
}

function stateBadge(name: string, done: boolean, open: boolean): HTMLElement {
  return h("span", { class: `state ${done ? "done" : open ? "open" : ""}`, "data-state": name }, name);
}

/** The inline form being submitted; act() closes it when its call succeeds. */
let submitting: HTMLFormElement | undefined;

/**
 * Runs a call and reports its outcome. When the call came from an inline form, the form closes on
 * success and stays open, with the error shown, on failure. Then the page refreshes.
 */
async function act(what: string, call: () => Promise<unknown>): Promise<void> {
  const form = submitting;
  submitting = undefined;
  form?.querySelectorAll("button").forEach((b) => (b.disabled = true));
  try {
    await call();
    toast(`${what}: done`);
    form?.remove();
  } catch (err) {
    const e = asError(err);
    toast(`${what} failed: ${e?.message ?? String(err)}`, true);
    form?.querySelectorAll("button").forEach((b) => (b.disabled = false));
  }
  stale = false;
  await refresh();
}

/**
 * An inline form under a card: fields are [name, label, element]. While any form is open, live updates
 * wait so that nobody's typing is wiped; submitting or cancelling refreshes.
 */
function inlineForm(
  host: HTMLElement,
  name: string,
  fields: [string, HTMLElement][],
  submitLabel: string,
  onSubmit: (data: FormData) => Promise<void>,
): void {
  host.querySelector("form.inline")?.remove();
  const form = h("form", { class: "inline", "data-form": name });
  for (const [label, el] of fields) form.append(h("label", {}, label, el));
  form.append(h("button", { type: "submit", "data-action": "submit" }, submitLabel));
  form.append(
    button("Cancel", "cancel", () => {
      form.remove();
      if (stale) void refresh();
    }, true),
  );
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    submitting = form;
    void onSubmit(new FormData(form)).finally(() => {
      if (submitting === form) submitting = undefined;
    });
  });
  host.append(form);
  form.querySelector<HTMLElement>("input, select, textarea")?.focus();
}

function input(name: string, attrs: Record<string, string> = {}): HTMLInputElement {
  return h("input", { name, ...attrs });
}

/** A select over a protobuf enum, without its UNSPECIFIED value and any excluded values. */
function enumSelect(name: string, e: Record<string, string | number>, exclude: number[] = [], selected?: number): HTMLSelectElement {
  const s = h("select", { name });
  for (const [k, v] of Object.entries(e)) {
    if (typeof v !== "number" || v === 0 || exclude.includes(v)) continue;
    const o = h("option", { value: String(v) }, k);
    if (v === selected) o.selected = true;
    s.append(o);
  }
  return s;
}

function str(data: FormData, name: string): string {
  const v = data.get(name);
  return typeof v === "string" ? v.trim() : "";
}

function num(data: FormData, name: string): number {
  return Number(str(data, name));
}

/** Reads an amount field in a currency, or throws a message for people. */
function amount(data: FormData, name: string, currency: string): common.Money {
  const minor = parseMoney(str(data, name), currency);
  if (minor === undefined) throw new Error(`${name}: enter an amount like 12.50`);
  return { $typeName: "tradeassure.common.v1.Money", amountMinor: minor, currency };
}

/** Evidence from a URL field, when given. */
function evidence(data: FormData, kind: common.EvidenceKind, description: string): common.Evidence[] {
  const uri = str(data, "evidence");
  return uri ? [{ $typeName: "tradeassure.common.v1.Evidence", kind, uri, description, sha256: "" }] : [];
}

// ---- sign-in -----------------------------------------------------------------------------------------

function defaultServer(): string {
  return new URLSearchParams(location.search).get("server") ?? import.meta.env["VITE_TRADEASSURE_URL"] ?? "http://localhost:8080";
}

function renderSignIn(message = ""): void {
  feed?.abort();
  current = undefined;
  who.replaceChildren();
  const form = h(
    "form",
    { id: "signin" },
    h("p", {}, "Sign in with the API key of a buyer, a supplier or an arbiter (for a --dev server, see dev-keys.json)."),
    h("label", {}, "Server", input("server", { value: defaultServer(), required: "" })),
    h("label", {}, "API key", input("apiKey", { type: "password", autocomplete: "off", required: "" })),
    h(
      "label",
      {},
      "Protocol",
      (() => {
        const s = h("select", { name: "transport" }, h("option", { value: "connect" }, "Connect"), h("option", { value: "grpc-web" }, "gRPC-Web"));
        return s;
      })(),
    ),
    h("button", { type: "submit", "data-action": "sign-in" }, "Sign in"),
    message ? h("p", { class: "muted", "data-test": "signin-error" }, message) : undefined,
  );
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    const data = new FormData(form);
    const transport = str(data, "transport") === "grpc-web" ? "grpc-web" : "connect";
    void signIn({ baseUrl: str(data, "server"), apiKey: str(data, "apiKey"), transport });
  });
  app.replaceChildren(h("section", {}, h("h2", {}, "Sign in"), form));
}

async function signIn(session: Session): Promise<void> {
  const client = createClient(session.baseUrl, session.apiKey, { transport: session.transport, timeoutMs: 15000 });
  try {
    const res = await client.admin.getAccount({});
    if (!res.account) throw new Error("the server did not say who this key is");
    current = { session, client, account: res.account };
    sessionStorage.setItem(SESSION_KEY, JSON.stringify(session));
  } catch (err) {
    sessionStorage.removeItem(SESSION_KEY);
    renderSignIn(`Sign-in failed: ${asError(err)?.message ?? String(err)}`);
    return;
  }
  const role = common.Role[current.account.role] ?? "UNKNOWN";
  who.replaceChildren(
    h("span", { "data-test": "signed-in-as" }, `${current.account.name} (${role.toLowerCase()})`),
    h("span", { class: "live", id: "live" }, " ○ connecting"),
    button("Sign out", "sign-out", () => {
      sessionStorage.removeItem(SESSION_KEY);
      renderSignIn();
    }, true),
  );
  followFeed(current);
  await refresh();
}

/** Follows the caller's event feed from now on and refreshes the page on every event. */
function followFeed(s: Signed): void {
  feed?.abort();
  const ctl = new AbortController();
  feed = ctl;
  const live = () => document.querySelector<HTMLElement>("#live");
  void (async () => {
    // Start after the newest event: the page loads the current state itself.
    let after = "";
    for await (const e of s.client.allEvents({ pageSize: 1000 }, { signal: ctl.signal })) after = e.id;
    for await (const e of s.client.follow(
      { afterId: after },
      {
        signal: ctl.signal,
        onHeartbeat: () => live()?.replaceChildren(" ● live"),
        onReconnect: () => live()?.replaceChildren(" ○ reconnecting"),
      },
    )) {
      live()?.replaceChildren(` ● ${e.type}`);
      scheduleRefresh();
    }
  })().catch((err: unknown) => {
    if (!ctl.signal.aborted) live()?.replaceChildren(` ○ feed stopped: ${asError(err)?.message ?? String(err)}`);
  });
}

function scheduleRefresh(): void {
  if (app.querySelector("form.inline")) {
    stale = true;
    return;
  }
  if (refreshQueued) return;
  refreshQueued = true;
  setTimeout(() => {
    refreshQueued = false;
    void refresh();
  }, 150);
}

// ---- loading and rendering ---------------------------------------------------------------------------

async function collect<T>(it: AsyncIterable<T>, max = 100): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) {
    out.push(x);
    if (out.length >= max) break;
  }
  return out;
}

async function load(s: Signed): Promise<View> {
  const role = s.account.role;
  if (role === common.Role.ARBITER || role === common.Role.OPERATOR) {
    // The arbiter's queue is the escalated disputes; the rest is shown for context.
    const [queue, all] = await Promise.all([
      collect(s.client.allDisputes({ state: dispute.Dispute_State.ESCALATED })),
      collect(s.client.allDisputes({})),
    ]);
    const ids = new Set(queue.map((d) => d.id));
    return { orders: [], returns: [], disputes: [...queue, ...all.filter((d) => !ids.has(d.id))] };
  }
  const [orders, rets, disputes] = await Promise.all([
    collect(s.client.allOrders({})),
    collect(s.client.allReturns({})),
    collect(s.client.allDisputes({})),
  ]);
  return { orders, returns: rets, disputes };
}

async function refresh(): Promise<void> {
  const s = current;
  if (!s) return;
  let view: View;
  try {
    view = await load(s);
  } catch (err) {
    toast(`Loading failed: ${asError(err)?.message ?? String(err)}`, true);
    return;
  }
  if (current !== s) return;
  const role = s.account.role;
  const sections: HTMLElement[] = [];
  // Returns that already have a dispute about them offer no second one.
  const disputed = new Set(view.disputes.map((d) => d.relatedReturnId).filter((id) => id !== ""));
  if (role === common.Role.BUYER || role === common.Role.SUPPLIER) {
    sections.push(h("section", { id: "orders" }, h("h2", {}, `Orders (${view.orders.length})`), ...view.orders.map((o) => orderCard(s, o))));
    sections.push(h("section", { id: "returns" }, h("h2", {}, `Returns (${view.returns.length})`), ...view.returns.map((r) => returnCard(s, r, disputed))));
  }
  const title = role === common.Role.ARBITER ? "Disputes — escalated first" : "Disputes";
  sections.push(h("section", { id: "disputes" }, h("h2", {}, `${title} (${view.disputes.length})`), ...view.disputes.map((d) => disputeCard(s, d))));
  if (!app.querySelector("form.inline")) app.replaceChildren(...sections);
  else stale = true;
}

// ---- orders ------------------------------------------------------------------------------------------

function orderCard(s: Signed, o: order.Order): HTMLElement {
  const st = order.Order_State[o.state] ?? "?";
  const done = o.state === order.Order_State.COMPLETED || o.state === order.Order_State.CLOSED;
  const card = h(
    "div",
    { class: "card", "data-order": o.id },
    h("h3", {}, `Order ${short(o.id)} `, stateBadge(st, done, o.escrowHeld)),
    h(
      "div",
      {},
      `${o.terms?.lines.map((l) => `${l.quantity} × ${l.productName}`).join(", ") ?? ""} — total ${formatMoney(o.amounts?.total)}, paid ${formatMoney(o.amounts?.paid)}`,
      o.refunded && o.refunded.amountMinor !== 0n ? h("span", { class: "refund", "data-test": "order-refunded" }, ` — refunded ${formatMoney(o.refunded)}`) : undefined,
      o.escrowHeld ? h("span", { class: "muted" }, " — escrow held by a return or dispute") : undefined,
    ),
    o.state < order.Order_State.SHIPPED && o.state !== order.Order_State.CANCELLED ? countdown("Ship by", o.terms?.shipByTime, "ship-by") : undefined,
    o.state === order.Order_State.DELIVERED ? countdown("Receipt confirmed automatically", o.autoConfirmDeadline, "auto-confirm") : undefined,
    o.state === order.Order_State.COMPLETED ? countdown("After-sales window closes", o.afterSalesDeadline, "after-sales") : undefined,
  );
  if (s.account.role === common.Role.BUYER) {
    const actions = h("div", { class: "actions" });
    if (o.state === order.Order_State.DELIVERED || o.state === order.Order_State.COMPLETED) {
      actions.append(button("Request a return", "request-return", () => returnForm(s, card, o)));
    }
    if (o.state >= order.Order_State.PAID && o.state <= order.Order_State.COMPLETED) {
      actions.append(button("Open a dispute", "open-dispute", () => disputeForm(s, card, o.id, o.terms?.currency ?? "USD", "")));
    }
    if (o.state === order.Order_State.SHIPPED || o.state === order.Order_State.DELIVERED) {
      actions.append(
        button("Confirm receipt", "confirm-receipt", () =>
          void act("Confirm receipt", () => s.client.orders.confirmReceipt({ orderId: o.id, etag: o.etag })), true),
      );
    }
    if (actions.childElementCount > 0) card.append(actions);
  }
  return card;
}

function returnForm(s: Signed, card: HTMLElement, o: order.Order): void {
  inlineForm(
    card,
    "return",
    [
      ["Reason", enumSelect("reason", returns.Return_Reason, [returns.Return_Reason.NO_REASON], returns.Return_Reason.QUALITY_PROBLEM)],
      ["What is wrong", input("description", { size: "30", required: "" })],
      ["Evidence (photo URL)", input("evidence", { type: "url", size: "30", placeholder: "https://…" })],
    ],
    "Request return",
    async (data) =>
      act("Request return", () =>
        s.client.returns.createReturn({
          orderId: o.id,
          reason: num(data, "reason"),
          description: str(data, "description"),
          evidence: evidence(data, common.EvidenceKind.PRODUCT_PHOTO, str(data, "description")),
        }),
      ),
  );
}

// ---- returns -----------------------------------------------------------------------------------------

const openReturnStates = new Set([
  returns.Return_State.REQUESTED,
  returns.Return_State.PARTIAL_REFUND_OFFERED,
  returns.Return_State.APPROVED,
  returns.Return_State.SHIPPED,
  returns.Return_State.DISPUTED,
]);

function returnCard(s: Signed, r: returns.Return, disputed: ReadonlySet<string>): HTMLElement {
  const st = returns.Return_State[r.state] ?? "?";
  const open = openReturnStates.has(r.state);
  const currency = r.refund?.total?.currency ?? r.heldAmount?.currency ?? "USD";
  const card = h(
    "div",
    { class: "card", "data-return": r.id },
    h("h3", {}, `Return ${short(r.id)} on order ${short(r.orderId)} `, stateBadge(st, r.state === returns.Return_State.REFUNDED, open)),
    h(
      "div",
      {},
      `${returns.Return_Reason[r.reason] ?? ""}: ${r.description} — refund if it completes ${formatMoney(r.refund?.total)}`,
      r.refundedAmount ? h("span", { class: "refund", "data-test": "return-refunded" }, ` — refunded ${formatMoney(r.refundedAmount)}`) : undefined,
    ),
    r.declineNote ? h("div", { class: "muted" }, `Declined (${returns.Return_DeclineReason[r.declineReason] ?? ""}): ${r.declineNote}`) : undefined,
    r.partialRefundOffer ? h("div", {}, `Partial refund offered: ${formatMoney(r.partialRefundOffer)} ${r.partialRefundNote}`) : undefined,
    r.state === returns.Return_State.REQUESTED ? countdown("Supplier answers within", r.supplierAnswerDeadline, "supplier-answer") : undefined,
    r.state === returns.Return_State.APPROVED ? countdown("Buyer ships back within", r.buyerShipDeadline, "buyer-ship") : undefined,
    r.state === returns.Return_State.APPROVED && r.returnAddress
      ? h("div", { class: "muted" }, `Return to: ${r.returnAddress.recipientName}, ${r.returnAddress.lines.join(", ")}, ${r.returnAddress.city} ${r.returnAddress.country}`)
      : undefined,
    r.state === returns.Return_State.SHIPPED ? countdown("Supplier confirms receipt within", r.supplierReceiptDeadline, "supplier-receipt") : undefined,
  );
  const actions = h("div", { class: "actions" });
  const role = s.account.role;
  const etag = r.etag;
  if (role === common.Role.SUPPLIER && r.state === returns.Return_State.REQUESTED) {
    actions.append(
      button("Approve", "approve-return", () => void act("Approve return", () => s.client.returns.approveReturn({ id: r.id, etag }))),
      button("Decline", "decline-return", () =>
        inlineForm(card, "decline", [
          ["Why", enumSelect("reason", returns.Return_DeclineReason, [], returns.Return_DeclineReason.GOODS_AS_DESCRIBED)],
          ["Note to the buyer", input("note", { size: "30", required: "" })],
        ], "Decline return", async (data) =>
          act("Decline return", () => s.client.returns.declineReturn({ id: r.id, etag, reason: num(data, "reason"), note: str(data, "note") })),
        ), true),
      button("Offer partial refund", "offer-partial-refund", () =>
        inlineForm(card, "partial", [
          [`Amount (${currency})`, input("amount", { size: "8", required: "" })],
          ["Note", input("note", { size: "30" })],
        ], "Offer", async (data) =>
          act("Offer partial refund", async () =>
            s.client.returns.offerPartialRefund({ id: r.id, etag, amount: amount(data, "amount", currency), note: str(data, "note") })),
        ), true),
    );
  }
  if (role === common.Role.BUYER && r.state === returns.Return_State.PARTIAL_REFUND_OFFERED) {
    actions.append(
      button("Accept partial refund", "accept-partial-refund", () => void act("Accept partial refund", () => s.client.returns.acceptPartialRefund({ id: r.id, etag }))),
      button("Reject", "reject-partial-refund", () => void act("Reject partial refund", () => s.client.returns.rejectPartialRefund({ id: r.id, etag })), true),
    );
  }
  if (role === common.Role.BUYER && r.state === returns.Return_State.APPROVED) {
    actions.append(
      button("Enter return shipment", "ship-return", () =>
        inlineForm(card, "ship", [
          ["Carrier", input("carrier", { size: "10", required: "", value: "DHL" })],
          ["Tracking number", input("tracking", { size: "16", required: "" })],
        ], "Shipped", async (data) =>
          act("Ship return", () => s.client.returns.shipReturn({ id: r.id, etag, carrier: str(data, "carrier"), trackingNumber: str(data, "tracking") })),
        )),
    );
  }
  if (role === common.Role.SUPPLIER && r.state === returns.Return_State.SHIPPED && r.kind === returns.Return_Kind.STANDARD) {
    actions.append(
      button("Confirm receipt (all arrived in good order)", "confirm-return-receipt", () =>
        void act("Confirm return receipt", () => s.client.returns.confirmReturnReceipt({ id: r.id, etag }))),
    );
  }
  if (role === common.Role.BUYER && (r.state === returns.Return_State.REQUESTED || r.state === returns.Return_State.APPROVED || r.state === returns.Return_State.PARTIAL_REFUND_OFFERED)) {
    actions.append(button("Cancel return", "cancel-return", () => void act("Cancel return", () => s.client.returns.cancelReturn({ id: r.id, etag })), true));
  }
  if (role === common.Role.BUYER && (r.state === returns.Return_State.DECLINED || r.state === returns.Return_State.PARTIAL_REFUND_REJECTED) && !disputed.has(r.id)) {
    actions.append(button("Open a dispute about it", "dispute-return", () => disputeForm(s, card, r.orderId, currency, r.id)));
  }
  if (actions.childElementCount > 0) card.append(actions);
  return card;
}

// ---- disputes ----------------------------------------------------------------------------------------

function disputeForm(s: Signed, card: HTMLElement, orderId: string, currency: string, relatedReturnId: string): void {
  inlineForm(
    card,
    "dispute",
    [
      ["Reason", enumSelect("reason", dispute.Dispute_Reason, [], dispute.Dispute_Reason.NOT_AS_DESCRIBED)],
      ["You ask for", enumSelect("resolution", dispute.Dispute_Resolution, [dispute.Dispute_Resolution.NO_REFUND], dispute.Dispute_Resolution.PARTIAL_REFUND)],
      [`Amount (${currency}, partial refund)`, input("amount", { size: "8" })],
      ["What happened", input("description", { size: "30", required: "" })],
      ["Evidence (URL)", input("evidence", { type: "url", size: "30", placeholder: "https://…" })],
    ],
    "Open dispute",
    async (data) =>
      act("Open dispute", async () => {
        const resolution = num(data, "resolution");
        const refund = resolution === dispute.Dispute_Resolution.PARTIAL_REFUND ? amount(data, "amount", currency) : undefined;
        return s.client.disputes.openDispute({
          orderId,
          reason: num(data, "reason"),
          description: str(data, "description"),
          requested: { resolution, refundAmount: refund },
          evidence: evidence(data, common.EvidenceKind.PRODUCT_PHOTO, str(data, "description")),
          relatedReturnId,
        });
      }),
  );
}

const terminalDisputeStates = new Set([dispute.Dispute_State.SETTLED, dispute.Dispute_State.RULED, dispute.Dispute_State.WITHDRAWN]);

function offerLine(o: dispute.Offer): HTMLElement {
  return h(
    "li",
    { "data-offer": o.id },
    `${(common.Role[o.proposer?.role ?? 0] ?? "").toLowerCase()} proposes ${dispute.Dispute_Resolution[o.resolution] ?? ""} ${formatMoney(o.refundAmount)} — ${dispute.Offer_State[o.state] ?? ""}`,
    o.note ? h("span", { class: "muted" }, ` “${o.note}”`) : undefined,
  );
}

function disputeCard(s: Signed, d: dispute.Dispute): HTMLElement {
  const st = dispute.Dispute_State[d.state] ?? "?";
  const ended = terminalDisputeStates.has(d.state);
  const currency = d.refundableAmount?.currency ?? d.paidAmount?.currency ?? "USD";
  const role = s.account.role;
  const etag = d.etag;
  const card = h(
    "div",
    { class: "card", "data-dispute": d.id },
    h("h3", {}, `Dispute ${short(d.id)} on order ${short(d.orderId)} `, stateBadge(st, ended, !ended)),
    h(
      "div",
      {},
      `${dispute.Dispute_Reason[d.reason] ?? dispute.Dispute_Kind[d.kind] ?? ""}: ${d.description} — asks ${dispute.Dispute_Resolution[d.requestedResolution] ?? ""} ${formatMoney(d.requestedRefundAmount)}; refundable up to ${formatMoney(d.refundableAmount)}`,
    ),
    d.relatedReturnId ? h("div", { class: "muted" }, `About return ${short(d.relatedReturnId)}`) : undefined,
    d.state === dispute.Dispute_State.AWAITING_RESPONSE ? countdown("Supplier responds within", d.supplierResponseDeadline, "supplier-response") : undefined,
    d.state === dispute.Dispute_State.NEGOTIATING && d.escalationAllowedTime && timeLeft(d.escalationAllowedTime).ms > 0
      ? countdown("Buyer may escalate in", d.escalationAllowedTime, "escalation-allowed")
      : undefined,
    d.state === dispute.Dispute_State.NEGOTIATING ? countdown("Escalates by itself in", d.autoEscalationTime, "auto-escalation") : undefined,
    d.offers.length > 0 ? h("ul", { class: "offers" }, ...d.offers.map(offerLine)) : undefined,
    ...d.evidenceRequests.filter((r) => !r.fulfilled && !r.overdue).map((r) => countdown(`Evidence due from the ${(common.Role[r.requestedFrom?.role ?? 0] ?? "").toLowerCase()}`, r.dueTime, "evidence-due")),
    d.ruling
      ? h("div", {}, `Ruling: ${dispute.Dispute_Resolution[d.ruling.resolution] ?? ""}, responsible ${dispute.Dispute_Responsibility[d.ruling.responsibility] ?? ""} — “${d.ruling.note}”`)
      : undefined,
    d.settlement
      ? h(
          "div",
          {},
          h("span", { class: "refund", "data-test": "dispute-refund" }, `Refunded ${formatMoney(d.settlement.refundAmount)}`),
          h("span", { class: "muted" }, ` (${dispute.Settlement_Method[d.settlement.method] ?? ""}, from ${dispute.Settlement_RefundSource[d.settlement.refundSource] ?? ""})`),
        )
      : undefined,
  );
  const actions = h("div", { class: "actions" });
  const party = role === common.Role.BUYER || role === common.Role.SUPPLIER;
  if (role === common.Role.SUPPLIER && d.state === dispute.Dispute_State.AWAITING_RESPONSE) {
    actions.append(
      button("Accept the request", "accept-dispute", () =>
        void act("Accept dispute", () => s.client.disputes.respondToDispute({ id: d.id, etag, decision: dispute.RespondToDisputeRequest_Decision.ACCEPT }))),
      button("Reject with a counter-offer", "reject-dispute", () =>
        inlineForm(card, "respond", [
          [`Counter-offer (${currency})`, input("amount", { size: "8", required: "" })],
          ["Note", input("note", { size: "30", required: "" })],
          ["Evidence (URL)", input("evidence", { type: "url", size: "30", required: "" })],
        ], "Reject", async (data) =>
          act("Reject dispute", async () =>
            s.client.disputes.respondToDispute({
              id: d.id,
              etag,
              decision: dispute.RespondToDisputeRequest_Decision.REJECT,
              counterOffer: { resolution: dispute.Dispute_Resolution.PARTIAL_REFUND, refundAmount: amount(data, "amount", currency), note: str(data, "note") },
              evidence: evidence(data, common.EvidenceKind.OTHER, str(data, "note")),
              note: str(data, "note"),
            })),
        ), true),
    );
  }
  if (party && (d.state === dispute.Dispute_State.NEGOTIATING || d.state === dispute.Dispute_State.ESCALATED)) {
    const theirs = [...d.offers].reverse().find((o) => o.state === dispute.Offer_State.OPEN && o.proposer?.role !== role);
    if (theirs) {
      actions.append(
        button(`Accept their offer (${formatMoney(theirs.refundAmount)})`, "accept-offer", () =>
          void act("Accept offer", () => s.client.disputes.acceptOffer({ id: d.id, etag, offerId: theirs.id }))),
      );
    }
    actions.append(
      button("Make an offer", "make-offer", () =>
        inlineForm(card, "offer", [
          [`Refund (${currency})`, input("amount", { size: "8", required: "" })],
          ["Note", input("note", { size: "30" })],
        ], "Offer", async (data) =>
          act("Make offer", async () =>
            s.client.disputes.makeOffer({
              id: d.id,
              etag,
              terms: { resolution: dispute.Dispute_Resolution.PARTIAL_REFUND, refundAmount: amount(data, "amount", currency), note: str(data, "note") },
            })),
        ), true),
    );
  }
  if (party && d.state === dispute.Dispute_State.NEGOTIATING) {
    actions.append(
      button("Escalate to the platform", "escalate", () =>
        inlineForm(card, "escalate", [["Why negotiation failed", input("note", { size: "40", required: "" })]], "Escalate", async (data) =>
          act("Escalate", () => s.client.disputes.escalateDispute({ id: d.id, etag, note: str(data, "note") })),
        )),
    );
  }
  if (role === common.Role.BUYER && !ended && d.kind === dispute.Dispute_Kind.STANDARD) {
    actions.append(button("Withdraw", "withdraw-dispute", () => void act("Withdraw dispute", () => s.client.disputes.withdrawDispute({ id: d.id, etag })), true));
  }
  if (role === common.Role.ARBITER && d.state === dispute.Dispute_State.ESCALATED) {
    actions.append(
      button("Rule", "rule", () =>
        inlineForm(card, "rule", [
          ["Resolution", enumSelect("resolution", dispute.Dispute_Resolution, [], dispute.Dispute_Resolution.PARTIAL_REFUND)],
          [`Refund (${currency}, up to ${formatMoney(d.refundableAmount)})`, input("amount", { size: "8", required: "" })],
          ["Responsible", enumSelect("responsibility", dispute.Dispute_Responsibility, [], dispute.Dispute_Responsibility.SUPPLIER)],
          ["Reasons, shown to both parties", input("note", { size: "40", required: "" })],
        ], "Rule", async (data) =>
          act("Rule", async () =>
            s.client.disputes.ruleDispute({
              id: d.id,
              etag,
              resolution: num(data, "resolution"),
              refundAmount: amount(data, "amount", currency),
              responsibility: num(data, "responsibility"),
              note: str(data, "note"),
            })),
        )),
    );
  }
  if (actions.childElementCount > 0) card.append(actions);
  return card;
}

// ---- start -------------------------------------------------------------------------------------------

const saved = sessionStorage.getItem(SESSION_KEY);
if (saved) {
  void signIn(JSON.parse(saved) as Session);
} else {
  renderSignIn();
}
