// The after-sales desk: buyers, suppliers, arbiters, warehouse staff and operators each sign in with their
// API key and do their work — orders, payments, shipments, returns, disputes, complaints, balances and
// withdrawals — through the TypeScript SDK over Connect-Web. An action is offered only when the resource,
// the role and the server's clock allow it; the server still decides, and a refusal is shown as a message
// a person can act on.
import {
  admin,
  cases,
  common,
  complaint,
  createClient,
  dispute,
  newRequestId,
  order,
  parseMoney,
  payout,
  returns,
  timestampDate,
  type Timestamp,
  type TradeassureClient,
} from "@tradeassure/sdk";
import { changeLabel, describeStatement, describeStep } from "./describe.js";
import { changeView, draftView } from "./drafts.js";
import type { Action, Kit } from "./kit.js";
import { orderWork, returnWork } from "./orderwork.js";
import { payLink, payView } from "./pay.js";
import { productsView } from "./products.js";
import { countdown, facts, h, label, money, paintCountdown, problem, serverClock, when, type Child } from "./ui.js";
import { evidenceActions, evidenceSections } from "./evidence.js";
import { followFeed, unfollow } from "./live.js";
import { metricsView } from "./metrics.js";
import { accountDetail, accountList, ledgerView } from "./operator.js";

interface Session {
  baseUrl: string;
  apiKey: string;
}

export interface Signed {
  session: Session;
  client: TradeassureClient;
  me: admin.Account;
}

const SESSION_KEY = "tradeassure.desk.session";
const app = document.querySelector<HTMLElement>("#app")!;
const who = document.querySelector<HTMLElement>("#who")!;
const toast = document.querySelector<HTMLElement>("#toast")!;
const Role = common.Role;
let current: Signed | undefined;
let lastRequestId = "";

// ---- sign-in ---------------------------------------------------------------------------------------------

function defaultServer(): string {
  return new URLSearchParams(location.search).get("server") ?? "http://localhost:8080";
}

async function signIn(session: Session): Promise<void> {
  const client = createClient(session.baseUrl, session.apiKey, {
    requestId: () => (lastRequestId = newRequestId()),
  });
  const sent = Date.now();
  const [{ account }, clock] = await Promise.all([client.admin.getAccount({}), client.admin.getClock({})]);
  if (!account) throw new Error("the server did not say who this key belongs to");
  if (clock.now) serverClock.set(timestampDate(clock.now), sent, Date.now());
  current = { session, client, me: account };
  sessionStorage.setItem(SESSION_KEY, JSON.stringify(session));
  const live = h("span", { class: "live", role: "status", "data-testid": "live" });
  who.replaceChildren(
    h("span", { "data-testid": "who" }, `${account.name} · ${label(Role, account.role)}`),
    standingBadge(account) ?? "",
    live,
    button("Sign out", () => {
      unfollow();
      sessionStorage.removeItem(SESSION_KEY);
      current = undefined;
      who.replaceChildren();
      location.hash = "";
      showSignIn();
    }),
  );
  followFeed(client, live, () => route(true), () => !!app.querySelector("section form.form"));
  if (!location.hash || location.hash === "#") location.hash = home(account.role);
  else await route();
}

function standingBadge(a: admin.Account): HTMLElement | undefined {
  if (a.standing === admin.Account_Standing.RESTRICTED && a.restrictedUntil)
    return h("span", { class: "badge warn", "data-testid": "standing" }, `Restricted until ${when(a.restrictedUntil)}`);
  if (a.standing === admin.Account_Standing.BANNED) return h("span", { class: "badge bad", "data-testid": "standing" }, "Banned");
  return undefined;
}

function showSignIn(message = ""): void {
  const server = h("input", { id: "server", name: "server", type: "url", required: "", value: defaultServer(), autocomplete: "url" });
  const key = h("input", { id: "key", name: "key", type: "password", required: "", autocomplete: "current-password", placeholder: "ta_…" });
  const err = h("p", { class: "error", role: "alert" }, message);
  const submit = h("button", { type: "submit" }, "Sign in");
  const form = h(
    "form",
    { class: "card signin", "aria-labelledby": "signin-title" },
    h("h1", { id: "signin-title" }, "Sign in to the desk"),
    h("p", {}, "Use the API key of your account. With a development server (--dev) the keys of every role are in dev-keys.json."),
    h("label", { for: "server" }, "Server"),
    server,
    h("label", { for: "key" }, "API key"),
    key,
    err,
    submit,
  );
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    submit.disabled = true;
    submit.textContent = "Signing in…";
    err.textContent = "";
    signIn({ baseUrl: server.value.trim(), apiKey: key.value.trim() }).catch((e: unknown) => {
      err.textContent = problem(e).message;
      submit.disabled = false;
      submit.textContent = "Sign in";
    });
  });
  app.replaceChildren(form);
  key.focus();
}

// ---- routing ---------------------------------------------------------------------------------------------

interface Tab {
  hash: string;
  label: string;
}

function tabs(role: common.Role): Tab[] {
  switch (role) {
    case Role.BUYER:
      return [
        { hash: "#/orders", label: "Orders" },
        { hash: "#/returns", label: "Returns" },
        { hash: "#/disputes", label: "Disputes" },
        { hash: "#/complaints", label: "Complaints" },
      ];
    case Role.SUPPLIER:
      return [
        { hash: "#/orders", label: "Orders" },
        { hash: "#/products", label: "Products" },
        { hash: "#/drafts", label: "New draft" },
        { hash: "#/returns", label: "Returns" },
        { hash: "#/disputes", label: "Disputes" },
        { hash: "#/complaints", label: "Complaints" },
        { hash: "#/money", label: "Balance" },
        { hash: "#/metrics", label: "Metrics" },
      ];
    case Role.ARBITER:
      return [
        { hash: "#/disputes", label: "Dispute queue" },
        { hash: "#/complaints", label: "Complaint queue" },
        { hash: "#/orders", label: "Orders" },
      ];
    case Role.WAREHOUSE:
      return [{ hash: "#/returns", label: "Free-return inbox" }];
    case Role.OPERATOR:
      return [
        { hash: "#/orders", label: "Orders" },
        { hash: "#/accounts", label: "Accounts" },
        { hash: "#/ledger", label: "Reconciliation" },
        { hash: "#/money", label: "Withdrawals" },
        { hash: "#/clock", label: "Clock" },
      ];
    default:
      return [];
  }
}

function home(role: common.Role): string {
  return tabs(role)[0]?.hash ?? "#/orders";
}

let routing = 0;
/** Shows the screen of the address; quiet (a live update) keeps the current screen until the new one is ready. */
async function route(quiet = false): Promise<void> {
  const s = current;
  if (!s) return;
  // Only the newest call shows its screen (a live refresh may still be loading when the person moves on).
  const mine = ++routing;
  const [, section = "", id = ""] = location.hash.split("?")[0]!.split("/");
  const nav = h("nav", { "aria-label": "Sections" });
  for (const t of tabs(s.me.role)) {
    const a = h("a", { href: t.hash }, t.label);
    if (t.hash === "#/" + section) a.setAttribute("aria-current", "page");
    nav.append(a);
  }
  nav.append(button("Refresh", () => void route(), { class: "secondary" }));
  const old = quiet ? app.querySelector("section") : null;
  const body = h("section", { "aria-busy": "true" }, h("p", { class: "loading" }, "Loading…"));
  if (old) old.setAttribute("aria-busy", "true");
  else app.replaceChildren(nav, body);
  try {
    const views: Record<string, (s: Signed, id: string) => Promise<Node[]>> = {
      orders: id ? orderDetail : orderList,
      returns: id ? returnDetail : returnList,
      disputes: id ? disputeDetail : disputeList,
      complaints: id ? complaintDetail : complaintList,
      money: moneyView,
      clock: clockView,
      accounts: id ? accountDetail : accountList,
      ledger: ledgerView,
      metrics: metricsView,
      products: (s) => productsView(kit, s),
      drafts: (s, id) => draftView(kit, s, id),
      changes: (s, id) => changeView(kit, s, id),
      pay: (s, id) => payView(kit, s, id),
    };
    const view = views[section] ?? orderList;
    const nodes = await view(s, decodeURIComponent(id));
    if (mine !== routing) return;
    // A live refresh does not replace a screen on which the person opened a form while it loaded.
    if (old && old.querySelector("form.form")) {
      old.setAttribute("aria-busy", "false");
      return;
    }
    body.replaceChildren(...nodes);
    if (old) app.replaceChildren(nav, body);
  } catch (e) {
    if (mine !== routing) return;
    const p = problem(e);
    body.replaceChildren(h("p", { class: "error", role: "alert" }, p.message), h("p", { class: "muted" }, p.reason));
    if (old) app.replaceChildren(nav, body);
  }
  body.setAttribute("aria-busy", "false");
}

window.addEventListener("hashchange", () => void route());

/** What the order-work screens (products.ts, drafts.ts, orderwork.ts) use of the shell. */
const kit: Kit = {
  actions: (list) => actions(list),
  say: (m, kind) => say(m, kind),
  reload: () => route(),
  sent: (id) => void (lastRequestId = id),
  table: (head, rows, empty) => table(head, rows, empty),
  link: (hash, text) => link(hash, text),
  options: (e, skip) => options(e, skip),
  restriction: (me) => restriction(me),
};

// ---- actions ---------------------------------------------------------------------------------------------

// The action shapes are kit.ts's, shared with the order-work screens.
export type { Action, Field } from "./kit.js";

export function button(text: string, onClick: () => void, attrs: Record<string, string> = {}): HTMLButtonElement {
  const b = h("button", { type: "button", ...attrs }, text);
  b.addEventListener("click", onClick);
  return b;
}

export function say(message: string, kind: "ok" | "error" = "ok"): void {
  toast.replaceChildren(h("p", { class: kind }, message));
}

/** Renders the actions the caller may take now; each opens a form (or runs at once) and reloads the view. */
export function actions(list: Action[]): HTMLElement {
  const box = h("div", { class: "actions" });
  if (list.length === 0) {
    box.append(h("p", { class: "muted" }, "Nothing to do here now."));
    return box;
  }
  const bar = h("div", { class: "bar", role: "group", "aria-label": "Actions" });
  const panel = h("div", { class: "panel" });
  for (const a of list) {
    const b = button(a.label, () => open(a, panel, b));
    if (a.unavailable) {
      b.disabled = true;
      b.setAttribute("aria-describedby", "why-" + slug(a.label));
      panel.append(h("p", { class: "why", id: "why-" + slug(a.label) }, `${a.label}: ${a.unavailable}`));
    }
    bar.append(b);
  }
  box.append(bar, panel);
  return box;
}

function slug(s: string): string {
  return s.toLowerCase().replace(/[^a-z0-9]+/g, "-");
}

function open(a: Action, panel: HTMLElement, trigger: HTMLButtonElement): void {
  const form = h("form", { class: "card form", "aria-label": a.label });
  const inputs = new Map<string, HTMLInputElement | HTMLSelectElement | HTMLTextAreaElement>();
  for (const f of a.fields ?? []) {
    const id = "f-" + slug(a.label) + "-" + f.name;
    let input: HTMLInputElement | HTMLSelectElement | HTMLTextAreaElement;
    if (f.kind === "select") {
      input = h("select", { id, name: f.name });
      for (const [v, l] of f.options ?? []) input.append(h("option", { value: v }, l));
      if (f.value) input.value = f.value;
    } else if (f.kind === "textarea") {
      input = h("textarea", { id, name: f.name, rows: "3" });
      input.value = f.value ?? "";
    } else {
      input = h("input", { id, name: f.name, type: f.kind === "datetime" ? "datetime-local" : "text", value: f.value ?? "" });
      if (f.kind === "money") input.setAttribute("inputmode", "decimal");
    }
    if (f.required) input.setAttribute("required", "");
    inputs.set(f.name, input);
    const hintId = id + "-hint";
    input.setAttribute("aria-describedby", hintId);
    form.append(h("label", { for: id }, f.label), input, h("p", { class: "hint", id: hintId }, f.hint ?? ""));
  }
  const submit = h("button", { type: "submit" }, a.fields?.length ? a.label : `Confirm: ${a.label}`);
  const err = h("div", { class: "error", role: "alert" });
  form.append(err, submit, button("Cancel", () => { form.remove(); trigger.focus(); }, { class: "secondary" }));
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    const values: Record<string, string> = {};
    for (const [k, i] of inputs) values[k] = i.value.trim();
    submit.disabled = true;
    trigger.disabled = true;
    submit.textContent = "Working…";
    err.replaceChildren();
    a.run(values)
      .then(async () => {
        say(`${a.label}: done. Request id ${lastRequestId}.`);
        await route();
      })
      .catch(async (e: unknown) => {
        const p = problem(e);
        err.replaceChildren(h("p", {}, p.message), h("p", { class: "muted" }, `(${p.reason})`));
        for (const v of p.fields) {
          const input = inputs.get(v.field.split(".").pop() ?? "") ?? inputs.get(v.field);
          if (input) {
            input.setAttribute("aria-invalid", "true");
            const hint = document.getElementById(input.id + "-hint");
            if (hint) hint.textContent = v.description;
          } else err.append(h("p", {}, `${v.field}: ${v.description}`));
        }
        submit.disabled = false;
        trigger.disabled = false;
        submit.textContent = a.fields?.length ? a.label : `Confirm: ${a.label}`;
        if (p.reason === "ETAG_MISMATCH") await route();
      });
  });
  panel.querySelectorAll("form").forEach((f) => f.remove());
  panel.append(form);
  (form.querySelector("input, select, textarea, button") as HTMLElement | null)?.focus();
}

export function usd(values: Record<string, string>, field: string, currency: string): common.Money | undefined {
  const text = values[field] ?? "";
  if (!text) return undefined;
  const minor = parseMoney(text, currency);
  if (minor === undefined) throw new Error(`Enter an amount like 12.50 in ${currency}.`);
  return { $typeName: "tradeassure.common.v1.Money", amountMinor: minor, currency };
}

export function options(e: Record<string | number, string | number>, skip: number[] = [0]): [string, string][] {
  return Object.values(e)
    .filter((v): v is number => typeof v === "number" && !skip.includes(v))
    .map((v) => [String(v), label(e, v)]);
}

export function future(t: Timestamp | undefined): boolean {
  return !!t && timestampDate(t).getTime() > serverClock.now().getTime();
}

function restriction(me: admin.Account): string | undefined {
  if (me.standing === admin.Account_Standing.BANNED) return "your account is banned and can only read its own data.";
  if (me.standing === admin.Account_Standing.RESTRICTED && future(me.restrictedUntil))
    return `your account is restricted from trading until ${when(me.restrictedUntil)} (an upheld complaint). After-sales rights on your orders remain.`;
  return undefined;
}

// ---- orders ----------------------------------------------------------------------------------------------

export function table(head: string[], rows: Node[][], empty: string): HTMLElement {
  if (rows.length === 0) return h("p", { class: "empty" }, empty);
  const t = h("table", {}, h("thead", {}, h("tr", {}, ...head.map((c) => h("th", { scope: "col" }, c)))));
  const body = h("tbody");
  for (const r of rows) body.append(h("tr", {}, ...r.map((c) => h("td", {}, c))));
  t.append(body);
  // Wide tables scroll sideways at phone width; the region takes focus so the keyboard can scroll it.
  return h("div", { class: "scroll", tabindex: "0", role: "region", "aria-label": "Scrollable table" }, t);
}

export function link(hash: string, text: string): HTMLAnchorElement {
  return h("a", { href: hash }, text);
}

async function orderList(s: Signed): Promise<Node[]> {
  const state = new URLSearchParams(location.hash.split("?")[1] ?? "").get("state");
  const { orders } = await s.client.orders.listOrders({ pageSize: 100, state: state ? Number(state) : 0 });
  const filter = h("select", { id: "order-state", "aria-label": "Filter by state" }, h("option", { value: "" }, "Every state"));
  for (const [v, l] of options(order.Order_State)) filter.append(h("option", { value: v }, l));
  filter.value = state ?? "";
  filter.addEventListener("change", () => (location.hash = "#/orders" + (filter.value ? "?state=" + filter.value : "")));
  const rows = orders.map((o) => [
    link("#/orders/" + o.id, o.id.slice(-8)),
    h("span", { class: "state" }, label(order.Order_State, o.state)),
    document.createTextNode(money(o.amounts?.total)),
    document.createTextNode((o.terms?.lines ?? []).map((l) => `${l.quantity} × ${l.productName || l.productId}`).join(", ")),
    nextDeadline(o) ?? document.createTextNode("—"),
  ]);
  return [h("h1", {}, "Orders"), h("div", { class: "filters" }, filter), table(["Order", "State", "Total", "Goods", "Next deadline"], rows, "No orders here yet.")];
}

/** The order's own policy numbers behind its deadlines: those of the version it was created under. */
function policyTerms(o: order.Order): HTMLElement | undefined {
  const p = o.policyParameters;
  if (!p) return undefined;
  const days = (d?: { seconds: bigint }) => {
    const n = Number(d?.seconds ?? 0n) / 86400;
    return n === 1 ? "1 day" : `${n} days`;
  };
  const terms = [
    `returns within ${days(p.returnWindow)} of receipt`,
    `auto-confirm ${days(p.autoConfirmAfterDelivery)} after delivery`,
    `disputes within ${days(p.disputeWindow)} of completion`,
    `supplier answers a dispute within ${days(p.disputeResponse)}`,
    `platform fee ${Number(p.platformFeeBasisPoints) / 100}%`,
  ];
  return h("span", { "data-testid": "policy-terms" }, terms.join("; "));
}

function nextDeadline(o: order.Order): HTMLElement | undefined {
  if (o.state === order.Order_State.PAID || o.state === order.Order_State.ADVANCE_PAID) return countdown(o.terms?.shipByTime, "Ship by");
  if (o.state === order.Order_State.DELIVERED || o.state === order.Order_State.SHIPPED) return countdown(o.autoConfirmDeadline, "Auto-confirm");
  if (o.state === order.Order_State.COMPLETED) return countdown(o.afterSalesDeadline, "After-sales");
  return undefined;
}

async function orderDetail(s: Signed, id: string): Promise<Node[]> {
  const c = s.client;
  const [{ order: o }, steps] = await Promise.all([c.orders.getOrder({ orderId: id }), collect(c.allCaseSteps({ orderId: id }))]);
  if (!o) throw new Error("order missing");
  // The case already holds every revision and payment (each payment step carries the payment as it is
  // now), so they are not read again.
  const revisions = steps.flatMap((st) => (st.detail.case === "orderRevision" ? [st.detail.value] : []));
  const payments = new Map<string, order.Payment>();
  for (const st of steps) if (st.detail.case === "payment" && st.detail.value.payment) payments.set(st.detail.value.payment.id, st.detail.value.payment);
  const t = o.terms;
  const role = s.me.role;
  const acts: Action[] = [];
  const trading = restriction(s.me);
  const S = order.Order_State;
  if (role === Role.BUYER && o.state === S.DRAFT)
    acts.push({ label: "Accept order", unavailable: trading, run: () => c.orders.acceptOrder({ orderId: o.id, etag: o.etag }) });
  if (role === Role.BUYER && (o.state === S.SHIPPED || o.state === S.DELIVERED))
    acts.push({ label: "Confirm receipt", run: () => c.orders.confirmReceipt({ orderId: o.id, etag: o.etag }) });
  if (role === Role.BUYER && (o.state === S.DELIVERED || o.state === S.COMPLETED)) {
    acts.push({
      label: "Open a dispute",
      fields: [
        { name: "reason", label: "Reason", kind: "select", options: options(dispute.Dispute_Reason) },
        { name: "resolution", label: "What you ask for", kind: "select", options: options(dispute.Dispute_Resolution) },
        { name: "amount", label: `Refund amount (${o.amounts?.total?.currency ?? "USD"}, for a partial refund)`, kind: "money" },
        { name: "description", label: "What happened", kind: "textarea", required: true },
        { name: "photo", label: "Photo link (evidence)", value: "https://files.example/photo.jpg" },
      ],
      run: (v) =>
        c.disputes.openDispute({
          orderId: o.id,
          reason: Number(v["reason"]),
          description: v["description"] ?? "",
          requested: { resolution: Number(v["resolution"]), refundAmount: usd(v, "amount", o.amounts?.total?.currency ?? "USD") },
          evidence: v["photo"] ? [{ kind: common.EvidenceKind.PRODUCT_PHOTO, uri: v["photo"], description: "photo" }] : [],
        }),
    });
  }
  if ((role === Role.BUYER || role === Role.SUPPLIER) && o.state !== S.DRAFT)
    acts.push({
      label: "File a complaint",
      fields: [
        { name: "type", label: "Type", kind: "select", options: options(complaint.Complaint_Type) },
        { name: "description", label: "What happened", kind: "textarea", required: true },
        { name: "order_record", label: "Order record link", value: "https://files.example/order.pdf" },
        { name: "second", label: "Second evidence link (logistics record or chat log)", value: "https://files.example/tracking.pdf" },
      ],
      run: (v) =>
        c.complaints.fileComplaint({
          orderId: o.id,
          type: Number(v["type"]),
          description: v["description"] ?? "",
          evidence: [
            { kind: common.EvidenceKind.ORDER_RECORD, uri: v["order_record"] ?? "", description: "order record" },
            {
              kind: Number(v["type"]) === complaint.Complaint_Type.FALSE_TRANSACTION ? common.EvidenceKind.CHAT_LOG : common.EvidenceKind.LOGISTICS_RECORD,
              uri: v["second"] ?? "",
              description: "second record",
            },
          ],
        }),
    });
  if (role === Role.SUPPLIER && (o.state === S.PAID || o.state === S.ADVANCE_PAID))
    acts.push({
      label: "Ship order",
      fields: [
        { name: "carrier", label: "Carrier", value: "DHL Express", required: true },
        { name: "tracking", label: "Tracking number", required: true },
      ],
      run: (v) => c.orders.shipOrder({ orderId: o.id, etag: o.etag, carrier: v["carrier"] ?? "", trackingNumber: v["tracking"] ?? "" }),
    });
  const work = await orderWork(kit, s, o);
  acts.push(...work.actions);
  const pay = payLink(s, o, trading); // every payment method, with its rules, on #/pay/<order id> (pay.ts)
  if (pay) work.links.unshift(pay);
  if (role === Role.OPERATOR) {
    for (const p of [...payments.values()].filter((p) => p.state === order.Payment_State.PENDING))
      acts.push({ label: `Confirm ${label(order.PaymentMethod, p.method)} payment of ${money(p.amount)}`, run: () => c.orders.confirmPayment({ paymentId: p.id }) });
    if (o.state === S.SHIPPED) acts.push({ label: "Record delivery", run: () => c.orders.recordDelivery({ orderId: o.id }) });
  }
  return [
    h("p", {}, link("#/orders", "← Orders")),
    h("h1", {}, `Order ${o.id.slice(-8)} `, h("span", { class: "state", "data-testid": "order-state" }, label(S, o.state))),
    facts([
      ["Policy", `${o.policySet || label(common.Policy, o.policy)} ${o.policyVersion}`],
      ["Goods", (t?.lines ?? []).map((l) => `${l.quantity} × ${l.productName || l.productId} at ${money({ amountMinor: l.unitPriceMinor, currency: t?.currency ?? "USD" })}`).join("; ")],
      ["Goods total", money(o.amounts?.goods)],
      ["Shipping", money(o.amounts?.shipping)],
      ["Insurance", money(o.amounts?.insurance)],
      ["Total", money(o.amounts?.total)],
      ["Paid", money(o.amounts?.paid)],
      ["Refunded", o.refunded?.amountMinor ? money(o.refunded) : ""],
      ["Trade term", t ? label(order.TradeTerm, t.tradeTerm) : ""],
      ["Shipping method", t ? label(order.ShippingMethod, t.shippingMethod) : ""],
      ["Ship to", t?.shippingAddress ? `${t.shippingAddress.recipientName}, ${t.shippingAddress.city}, ${t.shippingAddress.country}` : ""],
      ["Shipment", o.shipment?.trackingNumber ? `${o.shipment.carrier} ${o.shipment.trackingNumber}, shipped ${when(o.shipment.shipTime)}` : ""],
      ["Payment", o.paymentPending ? "a payment awaits confirmation by the platform" : ""],
      ["Deadline", nextDeadline(o)],
      ["Logistics provider", t?.logisticsProvider],
      ["Policy terms", policyTerms(o)],
    ]),
    actions(acts),
    ...(work.links.length ? [h("p", { class: "bar" }, ...work.links)] : []),
    ...work.nodes,
    h("h2", {}, "Case timeline"),
    timelinePicture(steps),
    timelineList(steps),
    h("h2", {}, "Revision history"),
    table(
      ["Revision", "Change", "By", "When"],
      revisions.map((r) => [
        document.createTextNode(String(r.revision)),
        h("span", { title: r.change }, changeLabel(r.change)),
        document.createTextNode(r.actor ? label(Role, r.actor.role) : "—"),
        document.createTextNode(when(r.time)),
      ]),
      "No revisions.",
    ),
  ];
}

export async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

const partColor: Record<number, string> = { 1: "#1d4ed8", 2: "#047857", 3: "#b45309", 4: "#b91c1c", 5: "#7c3aed", 6: "#374151" };

/** The case as a picture: one lane per part, a dot per step along the time axis. */
function timelinePicture(steps: cases.CaseStep[]): Node {
  if (steps.length === 0) return h("p", { class: "empty" }, "Nothing has happened yet.");
  const ns = "http://www.w3.org/2000/svg";
  const lanes = [1, 2, 3, 4, 5, 6];
  const times = steps.map((s) => (s.time ? timestampDate(s.time).getTime() : 0));
  const t0 = Math.min(...times);
  const span = Math.max(1, Math.max(...times) - t0);
  const W = 640, L = 110, laneH = 22;
  const svg = document.createElementNS(ns, "svg");
  svg.setAttribute("viewBox", `0 0 ${W} ${lanes.length * laneH + 10}`);
  svg.setAttribute("role", "img");
  const counts = lanes.map((p) => `${steps.filter((s) => s.part === p).length} ${label(cases.CaseStep_Part, p).toLowerCase()}`);
  svg.setAttribute("aria-label", `Case timeline: ${steps.length} steps (${counts.join(", ")})`);
  svg.classList.add("picture");
  lanes.forEach((p, i) => {
    const y = i * laneH + 15;
    const text = document.createElementNS(ns, "text");
    text.setAttribute("x", "0");
    text.setAttribute("y", String(y + 4));
    text.textContent = label(cases.CaseStep_Part, p);
    const line = document.createElementNS(ns, "line");
    for (const [k, v] of [["x1", L], ["x2", W - 8], ["y1", y], ["y2", y]] as const) line.setAttribute(k, String(v));
    line.setAttribute("stroke", "#d1d5db");
    svg.append(text, line);
  });
  steps.forEach((s, i) => {
    const lane = lanes.indexOf(s.part);
    const dot = document.createElementNS(ns, "circle");
    dot.setAttribute("cx", String(L + ((times[i]! - t0) / span) * (W - L - 16)));
    dot.setAttribute("cy", String(lane * laneH + 15));
    dot.setAttribute("r", "5");
    dot.setAttribute("fill", partColor[s.part] ?? "#000");
    const title = document.createElementNS(ns, "title");
    title.textContent = `${when(s.time)}: ${describeStep(s)}`;
    dot.append(title);
    svg.append(dot);
  });
  return h("figure", {}, svg, h("figcaption", { class: "muted" }, `From ${when(steps[0]?.time)} to ${when(steps[steps.length - 1]?.time)}`));
}

function timelineList(steps: cases.CaseStep[]): Node {
  const ol = h("ol", { class: "timeline", "data-testid": "case-timeline" });
  for (const s of steps) {
    ol.append(
      h(
        "li",
        { style: `--part:${partColor[s.part] ?? "#000"}` },
        h("span", { class: "part" }, label(cases.CaseStep_Part, s.part)),
        h("time", {}, when(s.time)),
        h("span", {}, describeStep(s)),
        s.actor?.role ? h("span", { class: "muted" }, ` by ${label(Role, s.actor.role)}`) : undefined,
      ),
    );
  }
  return ol;
}

// ---- returns ---------------------------------------------------------------------------------------------

async function returnList(s: Signed): Promise<Node[]> {
  const { returns: rs } = await s.client.returns.listReturns({ pageSize: 100 });
  const rows = rs.map((r) => [
    link("#/returns/" + r.id, r.id.slice(-8)),
    h("span", { class: "state" }, label(returns.Return_State, r.state)),
    document.createTextNode(label(returns.Return_Kind, r.kind)),
    document.createTextNode(label(returns.Return_Reason, r.reason)),
    countdown(r.supplierAnswerDeadline ?? r.buyerShipDeadline ?? r.supplierReceiptDeadline, "Due") ?? document.createTextNode("—"),
  ]);
  const title = s.me.role === Role.WAREHOUSE ? "Free-return inbox" : "Returns";
  return [h("h1", {}, title), table(["Return", "State", "Kind", "Reason", "Due"], rows, "No returns.")];
}

async function returnDetail(s: Signed, id: string): Promise<Node[]> {
  const c = s.client;
  const { return: r } = await c.returns.getReturn({ id });
  if (!r) throw new Error("return missing");
  // The order names the returned lines; warehouse staff may not read it.
  const o = s.me.role === Role.WAREHOUSE ? undefined : (await c.orders.getOrder({ orderId: r.orderId })).order;
  const work = returnWork(kit, s, r, o);
  const R = returns.Return_State;
  const role = s.me.role;
  const acts: Action[] = [];
  const free = r.kind === returns.Return_Kind.FREE_RETURN;
  if (role === Role.SUPPLIER && r.state === R.REQUESTED) {
    acts.push({
      label: "Approve return",
      fields: [{ name: "note", label: "Note to the buyer", kind: "textarea" }],
      run: (v) => c.returns.approveReturn({ id: r.id, etag: r.etag, note: v["note"] ?? "" }),
    });
    acts.push({
      label: "Decline return",
      fields: [
        { name: "reason", label: "Reason", kind: "select", options: options(returns.Return_DeclineReason) },
        { name: "note", label: "Explanation", kind: "textarea", required: true },
      ],
      run: (v) => c.returns.declineReturn({ id: r.id, etag: r.etag, reason: Number(v["reason"]), note: v["note"] ?? "" }),
    });
    acts.push({
      label: "Offer a partial refund",
      fields: [
        { name: "amount", label: `Amount (${r.refund?.total?.currency ?? "USD"})`, kind: "money", required: true },
        { name: "note", label: "Note", kind: "textarea" },
      ],
      run: (v) => c.returns.offerPartialRefund({ id: r.id, etag: r.etag, amount: usd(v, "amount", r.refund?.total?.currency ?? "USD"), note: v["note"] ?? "" }),
    });
  }
  if (role === Role.BUYER && r.state === R.APPROVED)
    acts.push({
      label: "Ship the return",
      fields: [
        { name: "carrier", label: "Carrier", value: "UPS", required: true },
        { name: "tracking", label: "Tracking number", required: true },
      ],
      run: (v) => c.returns.shipReturn({ id: r.id, etag: r.etag, carrier: v["carrier"] ?? "", trackingNumber: v["tracking"] ?? "" }),
    });
  // A free return goes to the platform's warehouse, which inspects it on arrival; a standard one to the
  // supplier, who confirms receipt.
  if (r.state === R.SHIPPED && !free && role === Role.SUPPLIER)
    acts.push({ label: "Confirm receipt of the goods", fields: [{ name: "note", label: "Note", kind: "textarea" }], run: (v) => c.returns.confirmReturnReceipt({ id: r.id, etag: r.etag, note: v["note"] ?? "" }) });
  if (free && role === Role.WAREHOUSE && r.state === R.SHIPPED)
    acts.push({
      label: "Record inspection",
      fields: [
        { name: "result", label: "Result", kind: "select", options: options(returns.Return_InspectionResult) },
        { name: "note", label: "Note", kind: "textarea" },
      ],
      run: (v) => c.returns.inspectReturn({ id: r.id, etag: r.etag, result: Number(v["result"]), note: v["note"] ?? "" }),
    });
  return [
    h("p", {}, link("#/returns", "← Returns")),
    h("h1", {}, `Return ${r.id.slice(-8)} `, h("span", { class: "state", "data-testid": "return-state" }, label(R, r.state))),
    facts([
      ["Order", role === Role.WAREHOUSE ? r.orderId : link("#/orders/" + r.orderId, r.orderId)],
      ["Kind", label(returns.Return_Kind, r.kind)],
      ["Reason", label(returns.Return_Reason, r.reason)],
      ["Description", r.description],
      ["Refund", money(r.refund?.total)],
      ["Supplier answers", countdown(r.state === R.REQUESTED ? r.supplierAnswerDeadline : undefined, "Due")],
      ["Buyer ships", countdown(r.state === R.APPROVED ? r.buyerShipDeadline : undefined, "Due")],
      ["Shipment", r.trackingNumber ? `${r.carrier} ${r.trackingNumber}` : ""],
      ["Received", r.receiveTime ? when(r.receiveTime) : ""],
      ["Inspection", r.inspectionResult ? label(returns.Return_InspectionResult, r.inspectionResult) : ""],
      ["Refunded", r.refundedAmount?.amountMinor ? money(r.refundedAmount) : ""],
    ]),
    actions([...acts, ...work.actions]),
    ...work.nodes,
  ];
}

// ---- disputes --------------------------------------------------------------------------------------------

function disputeDue(d: dispute.Dispute): Timestamp | undefined {
  if (d.state === dispute.Dispute_State.AWAITING_RESPONSE) return d.supplierResponseDeadline;
  if (d.state === dispute.Dispute_State.NEGOTIATING) return d.autoEscalationTime;
  return d.evidenceRequests.find((e) => e.dueTime)?.dueTime ?? d.escalateTime;
}

async function disputeList(s: Signed): Promise<Node[]> {
  const arbiter = s.me.role === Role.ARBITER;
  const { disputes: ds } = await s.client.disputes.listDisputes({ pageSize: 100, state: arbiter ? dispute.Dispute_State.ESCALATED : 0 });
  const due = (d: dispute.Dispute) => (disputeDue(d) ? timestampDate(disputeDue(d)!).getTime() : Infinity);
  if (arbiter) ds.sort((a, b) => due(a) - due(b));
  const rows = ds.map((d) => [
    link("#/disputes/" + d.id, d.id.slice(-8)),
    h("span", { class: "state" }, label(dispute.Dispute_State, d.state)),
    document.createTextNode(label(dispute.Dispute_Reason, d.reason)),
    document.createTextNode(money(d.refundableAmount)),
    countdown(disputeDue(d), arbiter ? "Escalated" : "Due") ?? document.createTextNode("—"),
  ]);
  return [h("h1", {}, arbiter ? "Escalated disputes, oldest first" : "Disputes"), table(["Dispute", "State", "Reason", "Refundable", "Due"], rows, "No disputes.")];
}

async function disputeDetail(s: Signed, id: string): Promise<Node[]> {
  const c = s.client;
  const { dispute: d } = await c.disputes.getDispute({ id });
  if (!d) throw new Error("dispute missing");
  const D = dispute.Dispute_State;
  const role = s.me.role;
  const cur = d.refundableAmount?.currency ?? "USD";
  const acts: Action[] = [];
  const party = role === Role.BUYER || role === Role.SUPPLIER;
  const open = d.offers.filter((o) => o.state === dispute.Offer_State.OPEN && o.proposer?.role !== role);
  if (role === Role.SUPPLIER && d.state === D.AWAITING_RESPONSE) {
    acts.push({ label: "Accept the request", run: () => c.disputes.respondToDispute({ id: d.id, etag: d.etag, decision: dispute.RespondToDisputeRequest_Decision.ACCEPT }) });
    acts.push({
      label: "Reject with a counter-offer",
      fields: [
        { name: "amount", label: `Partial refund you offer (${cur})`, kind: "money", required: true },
        { name: "note", label: "Why", kind: "textarea", required: true },
        { name: "evidence", label: "Evidence link", value: "https://files.example/qc-report.pdf" },
      ],
      run: (v) =>
        c.disputes.respondToDispute({
          id: d.id,
          etag: d.etag,
          decision: dispute.RespondToDisputeRequest_Decision.REJECT,
          counterOffer: { resolution: dispute.Dispute_Resolution.PARTIAL_REFUND, refundAmount: usd(v, "amount", cur) },
          note: v["note"] ?? "",
          evidence: v["evidence"] ? [{ kind: common.EvidenceKind.INSPECTION_REPORT, uri: v["evidence"], description: "evidence" }] : [],
        }),
    });
  }
  if (party && (d.state === D.NEGOTIATING || d.state === D.ESCALATED)) {
    for (const o of open) acts.push({ label: `Accept offer of ${money(o.refundAmount)}`, run: () => c.disputes.acceptOffer({ id: d.id, etag: d.etag, offerId: o.id }) });
    acts.push({
      label: "Make an offer",
      fields: [
        { name: "amount", label: `Partial refund (${cur})`, kind: "money", required: true },
        { name: "note", label: "Note", kind: "textarea" },
      ],
      run: (v) => c.disputes.makeOffer({ id: d.id, etag: d.etag, terms: { resolution: dispute.Dispute_Resolution.PARTIAL_REFUND, refundAmount: usd(v, "amount", cur), note: v["note"] ?? "" } }),
    });
  }
  if (party && d.state === D.NEGOTIATING)
    acts.push({
      label: "Escalate to the platform",
      unavailable: future(d.escalationAllowedTime) ? `possible from ${when(d.escalationAllowedTime)}.` : undefined,
      fields: [{ name: "note", label: "Why the platform should decide", kind: "textarea", required: true }],
      run: (v) => c.disputes.escalateDispute({ id: d.id, etag: d.etag, note: v["note"] ?? "" }),
    });
  acts.push(...evidenceActions(s, d));
  if (role === Role.ARBITER && d.state === D.ESCALATED)
    acts.push({
      label: "Rule",
      unavailable: waitingForEvidence(d),
      fields: [
        { name: "resolution", label: "Resolution", kind: "select", options: options(dispute.Dispute_Resolution) },
        { name: "amount", label: `Refund (${cur}), at most ${money(d.refundableAmount)}`, kind: "money" },
        { name: "responsibility", label: "Responsible", kind: "select", options: options(dispute.Dispute_Responsibility) },
        { name: "note", label: "Reasons", kind: "textarea", required: true },
      ],
      run: (v) =>
        c.disputes.ruleDispute({
          id: d.id,
          etag: d.etag,
          resolution: Number(v["resolution"]),
          refundAmount: usd(v, "amount", cur),
          responsibility: Number(v["responsibility"]),
          note: v["note"] ?? "",
        }),
    });
  const offers = table(
    ["Offer by", "Resolution", "Amount", "State", "When"],
    d.offers.map((o) => [
      document.createTextNode(o.proposer ? label(Role, o.proposer.role) : "—"),
      document.createTextNode(label(dispute.Dispute_Resolution, o.resolution)),
      document.createTextNode(money(o.refundAmount)),
      document.createTextNode(label(dispute.Offer_State, o.state)),
      document.createTextNode(when(o.createTime)),
    ]),
    "No offers yet.",
  );
  const evidence = h("ul", {});
  for (const e of d.evidence) evidence.append(h("li", {}, `${label(common.EvidenceKind, e.kind)}: `, h("a", { href: e.uri, rel: "noopener" }, e.description || e.uri)));
  return [
    h("p", {}, link("#/disputes", "← Disputes")),
    h("h1", {}, `Dispute ${d.id.slice(-8)} `, h("span", { class: "state", "data-testid": "dispute-state" }, label(D, d.state))),
    facts([
      ["Order", link("#/orders/" + d.orderId, d.orderId)],
      ["Reason", label(dispute.Dispute_Reason, d.reason)],
      ["Description", d.description],
      ["Asked for", `${label(dispute.Dispute_Resolution, d.requestedResolution)} ${d.requestedRefundAmount ? money(d.requestedRefundAmount) : ""}`],
      ["Refundable", money(d.refundableAmount)],
      ["Supplier answers", d.state === D.AWAITING_RESPONSE ? countdown(d.supplierResponseDeadline, "Due") : ""],
      ["Escalation", d.state === D.NEGOTIATING ? countdown(d.autoEscalationTime, "Automatic escalation") : ""],
      ["Ruling", d.ruling ? `${label(dispute.Dispute_Resolution, d.ruling.resolution)} ${money(d.ruling.refundAmount)}` : ""],
    ]),
    actions(acts),
    h("h2", {}, "Offers"),
    offers,
    h("h2", {}, "Evidence"),
    d.evidence.length ? evidence : h("p", { class: "empty" }, "No evidence."),
    ...(await evidenceSections(s, d)),
  ];
}

/** Why the arbiter cannot rule yet: an evidence request still open and not overdue. */
function waitingForEvidence(d: dispute.Dispute): string | undefined {
  const open = d.evidenceRequests.filter((r) => !r.fulfilled && !r.overdue && future(r.dueTime));
  return open.length ? `waiting for the evidence requested (due ${open.map((r) => when(r.dueTime)).join(", ")}).` : undefined;
}

// ---- complaints ------------------------------------------------------------------------------------------

async function complaintList(s: Signed): Promise<Node[]> {
  const arbiter = s.me.role === Role.ARBITER;
  const cs = arbiter ? (await s.client.complaints.listComplaintQueue({})).complaints : (await s.client.complaints.listComplaints({ pageSize: 100 })).complaints;
  const rows = cs.map((x) => [
    link("#/complaints/" + x.id, x.id.slice(-8)),
    h("span", { class: "state" }, label(complaint.Complaint_State, x.state)),
    document.createTextNode(label(complaint.Complaint_Type, x.type)),
    x.state === complaint.Complaint_State.FILED ? (countdown(x.decisionDeadline, "Decision due") ?? document.createTextNode("—")) : document.createTextNode("—"),
  ]);
  return [h("h1", {}, arbiter ? "Complaints to decide, by due time" : "Complaints"), table(["Complaint", "State", "Type", "Due"], rows, "No complaints.")];
}

async function complaintDetail(s: Signed, id: string): Promise<Node[]> {
  const c = s.client;
  const { complaint: x } = await c.complaints.getComplaint({ id });
  if (!x) throw new Error("complaint missing");
  const acts: Action[] = [];
  if (s.me.role === Role.ARBITER && x.state === complaint.Complaint_State.FILED) {
    acts.push({ label: "Dismiss", fields: [{ name: "note", label: "Reasons", kind: "textarea", required: true }], run: (v) => c.complaints.decideComplaint({ id: x.id, etag: x.etag, outcome: complaint.Decision_Outcome.DISMISSED, note: v["note"] ?? "" }) });
    acts.push({
      label: "Uphold",
      fields: [
        { name: "penalty", label: "Penalty", kind: "select", options: penaltyOptions(x.type) },
        { name: "value", label: "Points, amount (USD) or restriction end (YYYY-MM-DD)", required: true },
        { name: "note", label: "Reasons", kind: "textarea", required: true },
      ],
      run: (v) => c.complaints.decideComplaint({ id: x.id, etag: x.etag, outcome: complaint.Decision_Outcome.UPHELD, penalties: [penalty(v)], note: v["note"] ?? "" }),
    });
  }
  return [
    h("p", {}, link("#/complaints", "← Complaints")),
    h("h1", {}, `Complaint ${x.id.slice(-8)} `, h("span", { class: "state", "data-testid": "complaint-state" }, label(complaint.Complaint_State, x.state))),
    facts([
      ["Order", link("#/orders/" + x.orderId, x.orderId)],
      ["Type", label(complaint.Complaint_Type, x.type)],
      ["By", x.complainant ? label(Role, x.complainant.role) : ""],
      ["Description", x.description],
      ["Decision due", x.state === complaint.Complaint_State.FILED ? countdown(x.decisionDeadline, "Due") : ""],
      ["Decision", x.decision ? `${label(complaint.Decision_Outcome, x.decision.outcome)}: ${x.decision.note}` : ""],
    ]),
    actions(acts),
  ];
}

const penaltyKinds: Record<number, string[]> = {
  [complaint.Complaint_Type.FALSE_TRANSACTION]: ["creditScoreDeduction", "tradingRestriction"],
  [complaint.Complaint_Type.PRODUCT_QUALITY]: ["returnCosts", "buyerCompensation"],
  [complaint.Complaint_Type.SERVICE_FAILURE]: ["supplierFreight"],
  [complaint.Complaint_Type.TRANSACTION_FRAUD]: ["creditScoreDeduction", "permanentBan"],
};
const penaltyLabels: Record<string, string> = {
  creditScoreDeduction: "Credit score deduction (points)",
  tradingRestriction: "Trading restriction (until a date)",
  returnCosts: "Return costs (amount)",
  buyerCompensation: "Buyer compensation (amount)",
  supplierFreight: "Supplier pays freight (amount)",
  permanentBan: "Permanent ban",
};

function penaltyOptions(t: complaint.Complaint_Type): [string, string][] {
  return (penaltyKinds[t] ?? []).map((k) => [k, penaltyLabels[k] ?? k]);
}

function penalty(v: Record<string, string>): complaint.Penalty {
  const value = v["value"] ?? "";
  const amount = () => ({ amount: usd(v, "value", "USD") });
  const kind = v["penalty"] ?? "";
  const P = (k: complaint.Penalty["kind"]) => ({ $typeName: "tradeassure.complaint.v1.Penalty", kind: k }) as complaint.Penalty;
  switch (kind) {
    case "creditScoreDeduction":
      return P({ case: kind, value: { $typeName: "tradeassure.complaint.v1.Penalty.CreditScoreDeduction", points: Number(value) } });
    case "tradingRestriction":
      return P({ case: kind, value: { $typeName: "tradeassure.complaint.v1.Penalty.TradingRestriction", until: { $typeName: "google.protobuf.Timestamp", seconds: BigInt(Math.floor(Date.parse(value + "T00:00:00Z") / 1000)), nanos: 0 } } });
    case "returnCosts":
      return P({ case: kind, value: { $typeName: "tradeassure.complaint.v1.Penalty.ReturnCosts", ...amount() } });
    case "buyerCompensation":
      return P({ case: kind, value: { $typeName: "tradeassure.complaint.v1.Penalty.BuyerCompensation", ...amount() } });
    case "supplierFreight":
      return P({ case: kind, value: { $typeName: "tradeassure.complaint.v1.Penalty.SupplierFreight", ...amount() } });
    default:
      return P({ case: "permanentBan", value: { $typeName: "tradeassure.complaint.v1.Penalty.PermanentBan" } });
  }
}

// ---- money -----------------------------------------------------------------------------------------------

async function moneyView(s: Signed): Promise<Node[]> {
  const c = s.client;
  const supplier = s.me.role === Role.SUPPLIER;
  const { withdrawals } = await c.payouts.listWithdrawals({ pageSize: 100 });
  const out: Node[] = [];
  if (supplier) {
    const { balance } = await c.payouts.getBalance({ supplierAccountId: s.me.id });
    const { entries } = await c.payouts.listStatementEntries({ supplierAccountId: s.me.id, pageSize: 100 });
    out.push(
      h("h1", {}, "Balance"),
      table(
        ["Currency", "Available", "Pending", "Withdrawing", "In escrow"],
        (balance?.balances ?? []).map((b) => [b.currency, money(b.available), money(b.pending), money(b.withdrawing), money(b.inEscrow)].map((x) => h("span", { "data-testid": "balance-" + b.currency }, x))),
        "No balance yet.",
      ),
      actions([
        {
          label: "Withdraw",
          fields: [{ name: "amount", label: "Amount (USD)", kind: "money", required: true, hint: "Up to the available balance; paid to your verified bank account." }],
          run: (v) => c.payouts.requestWithdrawal({ requestId: newRequestId(), amount: usd(v, "amount", "USD") }),
        },
      ]),
      h("h2", {}, "Statement"),
      table(
        ["When", "What", "Amount", "Balance after", "Cause"],
        entries.map((e) => [
          document.createTextNode(when(e.createTime)),
          document.createTextNode(describeStatement(e)),
          document.createTextNode(money(e.amount)),
          document.createTextNode(money(e.balanceAfter)),
          e.cause?.orderId ? link("#/orders/" + e.cause.orderId, label(payout.CauseKind, e.cause.kind)) : document.createTextNode(e.cause ? label(payout.CauseKind, e.cause.kind) : "—"),
        ]),
        "No entries yet.",
      ),
    );
  }
  out.push(h(supplier ? "h2" : "h1", {}, "Withdrawals"));
  const W = payout.Withdrawal_State;
  for (const w of withdrawals) {
    const acts: Action[] = [];
    if (s.me.role === Role.OPERATOR && w.state === W.REQUESTED)
      acts.push({ label: `Process ${money(w.amount)}`, fields: [{ name: "ref", label: "Bank reference", value: "BANK-" + w.id.slice(-6), required: true }], run: (v) => c.payouts.processWithdrawal({ id: w.id, etag: w.etag, bankReference: v["ref"] ?? "" }) });
    if (s.me.role === Role.OPERATOR && w.state === W.PROCESSING)
      acts.push({ label: `Confirm paid ${money(w.amount)}`, fields: [{ name: "ref", label: "Bank reference", value: w.bankReference, required: true }], run: (v) => c.payouts.confirmWithdrawal({ id: w.id, etag: w.etag, bankReference: v["ref"] ?? "" }) });
    out.push(
      h(
        "article",
        { class: "card", "data-testid": "withdrawal" },
        h("h3", {}, `${money(w.amount)} `, h("span", { class: "state" }, label(W, w.state))),
        facts([
          ["Requested", when(w.createTime)],
          ["Expected", w.state === W.PROCESSING ? countdown(w.expectedSettleLatestTime, "Settles") : ""],
          ["Bank reference", w.bankReference],
        ]),
        acts.length ? actions(acts) : undefined,
      ),
    );
  }
  if (withdrawals.length === 0) out.push(h("p", { class: "empty" }, "No withdrawals."));
  return out;
}

// ---- clock (operators, development mode) -----------------------------------------------------------------

async function clockView(s: Signed): Promise<Node[]> {
  const c = s.client;
  const { now, adjustable } = await c.admin.getClock({});
  const acts: Action[] = [];
  if (adjustable)
    acts.push({
      label: "Move the clock forward",
      fields: [{ name: "days", label: "Days", value: "1", required: true }],
      run: async (v) => {
        await c.admin.advanceClock({ seconds: BigInt(Math.round(Number(v["days"]) * 86400)) });
        const sent = Date.now();
        const r = await c.admin.getClock({});
        if (r.now) serverClock.set(timestampDate(r.now), sent, Date.now());
      },
    });
  return [
    h("h1", {}, "Clock"),
    facts([
      ["Server time", h("span", { "data-testid": "server-time" }, when(now))],
      ["Adjustable", adjustable ? "yes (development mode)" : "no"],
    ]),
    actions(acts),
  ];
}

// ---- start -----------------------------------------------------------------------------------------------

setInterval(() => document.querySelectorAll<HTMLElement>("[data-deadline]").forEach(paintCountdown), 1000);

const saved = sessionStorage.getItem(SESSION_KEY);
if (saved) {
  signIn(JSON.parse(saved) as Session).catch((e: unknown) => showSignIn(problem(e).message));
} else {
  showSignIn();
}
