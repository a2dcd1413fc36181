// Drafting and changing an order's terms: the supplier drafts an order (CreateOrder) and edits a draft
// (UpdateOrder, also its answer to the buyer's RequestDraftChanges); once the buyer accepted, either party
// proposes a change (ProposeOrderChange) that the other accepts or rejects. The drafting rules are checked
// as the person types and explained beside each field before anything is sent — phone number, Incoterm
// against shipping method, advance, ship-by date, the supplier's trade-assurance limit and the cap without
// the one-touch export agent — from the policy version and rate table the server publishes; the server
// still decides, and its field violations are shown next to their fields.
import { common, order, parseMoney, policy, timestampDate, type admin, type MessageInitShape } from "@tradeassure/sdk";
import { Form, input, select, textarea, type Input } from "./form.js";
import { stableRequestId, type Kit, type Signed } from "./kit.js";
import { allProducts } from "./products.js";
import { h, label, money, serverClock } from "./ui.js";

type Terms = MessageInitShape<typeof order.OrderTermsSchema>;

/** The phone rule of common.Address, as the server validates it. */
export const phonePattern = /^\+?[0-9][0-9 ()-]{3,30}$/;
const seaOnly = new Set([order.TradeTerm.FAS, order.TradeTerm.FOB, order.TradeTerm.CFR, order.TradeTerm.CIF]);
const seaMethods = new Set([order.ShippingMethod.SEA, order.ShippingMethod.INLAND_WATERWAY]);

/** What the rules are checked against, read from the server. */
interface Rules {
  products: order.Product[];
  params?: policy.PolicyParameters;
  rates: Map<string, policy.ExchangeRate>;
  /** The supplier's profile, when the caller is the supplier (a buyer does not see the limit). */
  supplier?: admin.SupplierProfile;
}

/** Minor units of a currency in USD minor units at the table's rate, rounded half up as the server does. */
export function toUSD(minor: bigint, cur: string, rates: Map<string, policy.ExchangeRate>): bigint | undefined {
  const r = rates.get(cur);
  if (!r) return undefined;
  const num = minor * r.usdMicros * 100n;
  const den = 10n ** BigInt(r.minorDigits) * 1_000_000n;
  const q = num / den;
  return (num % den) * 2n >= den ? q + 1n : q;
}

export function usd(minor: bigint): string {
  return money({ amountMinor: minor, currency: "USD" });
}

export function days(d?: { seconds: bigint }): number {
  return Number(d?.seconds ?? 0n) / 86400;
}

function amountText(minor: bigint, cur: string): string {
  return money({ amountMinor: minor, currency: cur }).replace(/ [A-Z]{3}$/, "").replace(/,/g, "");
}

async function loadRules(s: Signed, set: string, supplierId: string, ratesVersion = ""): Promise<Rules> {
  const [products, pv, rt] = await Promise.all([
    allProducts(s.client, s.me.role === common.Role.SUPPLIER ? "" : supplierId),
    s.client.policies.getPolicyVersion({ set }),
    s.client.policies.getExchangeRates({ version: ratesVersion }),
  ]);
  const rates = new Map((rt.exchangeRateTable?.rates ?? []).map((r) => [r.currency, r]));
  return { products, params: pv.policyVersion?.parameters, rates, supplier: s.me.role === common.Role.SUPPLIER ? s.me.supplier : undefined };
}

interface LineRow {
  el: HTMLElement;
  product: HTMLSelectElement;
  quantity: HTMLInputElement;
  price: HTMLInputElement;
}

type Mode = { kind: "create" } | { kind: "edit"; o: order.Order } | { kind: "change"; o: order.Order };

/** The terms form for a mode: every control, the rules panel and the submit. */
function termsForm(kit: Kit, s: Signed, mode: Mode, rules: Rules, setName: string): HTMLElement {
  const o = mode.kind === "create" ? undefined : mode.o;
  const t = o?.terms;
  const title = mode.kind === "create" ? "Draft an order" : mode.kind === "edit" ? "Edit the draft" : "Propose a change";
  const f = new Form(title);
  const cur = select([...rules.rates.keys()].sort().map((c) => [c, c]), t?.currency ?? "USD");
  if (mode.kind === "change") cur.disabled = true; // the currency of an accepted order cannot change
  const buyerEmail = input({ type: "email", autocomplete: "off" });
  const policySel = select(
    [
      ["trade-assurance", "Trade assurance (B2B)"],
      ["retail", "Retail"],
    ],
    setName,
  );
  const fee = (m?: bigint) => (m ? amountText(m, t?.currency ?? "USD") : "");
  const shipping = input({ inputmode: "decimal" }, fee(t?.shippingFeeMinor) || "0");
  const insurance = input({ inputmode: "decimal" }, fee(t?.insuranceFeeMinor) || "0");
  const a = t?.shippingAddress;
  const recipient = input({ autocomplete: "off" }, a?.recipientName ?? "");
  const phone = input({ type: "tel", autocomplete: "off" }, a?.phone ?? "");
  const country = input({ maxlength: "2", autocomplete: "off" }, a?.country ?? "US");
  const street = input({ autocomplete: "off" }, a?.lines[0] ?? "");
  const city = input({ autocomplete: "off" }, a?.city ?? "");
  const postal = input({ autocomplete: "off" }, a?.postalCode ?? "");
  const term = select(kit.options(order.TradeTerm), String(t?.tradeTerm ?? order.TradeTerm.FCA));
  const method = select(kit.options(order.ShippingMethod), String(t?.shippingMethod ?? order.ShippingMethod.EXPRESS));
  const provider = input({ autocomplete: "off" }, t?.logisticsProvider ?? "");
  const payKind = select(kit.options(order.PaymentTerms_Kind), String(t?.paymentTerms?.kind ?? order.PaymentTerms_Kind.FULL));
  const advance = input({ inputmode: "decimal" }, fee(t?.paymentTerms?.advanceMinor));
  const coverage = select(kit.options(order.CoverageType), String(t?.coverageType ?? order.CoverageType.POST_DELIVERY));
  const shipByDefault = new Date(serverClock.now().getTime() + 14 * 86400_000).toISOString().slice(0, 10);
  const shipBy = input({ type: "date" }, t?.shipByTime ? timestampDate(t.shipByTime).toISOString().slice(0, 10) : shipByDefault);
  const remark = textarea(t?.remark ?? "");
  const note = textarea();
  const summary = h("div", { class: "rules", "data-testid": "draft-rules", "aria-live": "polite" });
  const send = h("button", { type: "submit" }, mode.kind === "create" ? "Send the draft to the buyer" : mode.kind === "edit" ? "Send the edited draft" : "Propose the change");
  const requestId = stableRequestId();

  // ---- lines
  const lines: LineRow[] = [];
  const linesBox = h("fieldset", { class: "lines" }, h("legend", {}, "Goods"));
  const productChoices = (): [string, string][] =>
    rules.products.filter((p) => p.unitPrice?.currency === cur.value).map((p) => [p.id, `${p.name} (${money(p.unitPrice)})`]);
  const addLine = (productId = "", quantity = "1", price = "") => {
    const product = select([["", "Choose a product"], ...productChoices()], productId);
    const qty = input({ inputmode: "numeric" }, quantity);
    const unit = input({ inputmode: "decimal" }, price);
    const row: LineRow = { el: h("div", { class: "line" }), product, quantity: qty, price: unit };
    lines.push(row);
    renumber();
    for (const i of [product, qty, unit]) i.addEventListener("input", () => check());
  };
  const renumber = () => {
    f.drop("terms.lines");
    linesBox.replaceChildren(h("legend", {}, "Goods"));
    lines.forEach((r, i) => {
      const remove = h("button", { type: "button", class: "secondary" }, `Remove line ${i + 1}`);
      remove.addEventListener("click", () => {
        lines.splice(i, 1);
        renumber();
        check();
      });
      r.el.replaceChildren(
        f.control(`terms.lines[${i}].product_id`, `Line ${i + 1}: product`, r.product, "One of your listed products, priced in the order's currency."),
        f.control(`terms.lines[${i}].quantity`, `Line ${i + 1}: quantity`, r.quantity, "A whole number above zero."),
        f.control(`terms.lines[${i}].unit_price_minor`, `Line ${i + 1}: unit price (empty: the listed price)`, r.price, ""),
        lines.length > 1 ? remove : "",
      );
      linesBox.append(r.el);
    });
    const more = h("button", { type: "button", class: "secondary" }, "Add a line");
    more.addEventListener("click", () => {
      addLine();
      check();
      lines[lines.length - 1]?.product.focus();
    });
    linesBox.append(more);
  };
  for (const l of t?.lines ?? []) addLine(l.productId, String(l.quantity), fee(l.unitPriceMinor));
  if (lines.length === 0) addLine();
  if (rules.products.length === 0 && mode.kind === "create")
    linesBox.prepend(h("p", { class: "why" }, "You have no listed products yet: ", kit.link("#/products", "list a product"), " first."));

  // ---- the terms as they would be sent, and the rules checked on them
  const parse = (i: HTMLInputElement) => (i.value.trim() === "" ? 0n : parseMoney(i.value, cur.value));
  const terms = (): { terms: Terms; problems: Map<string, string>; notes: string[] } => {
    const problems = new Map<string, string>();
    const notes: string[] = [];
    const c = cur.value;
    let goods = 0n;
    const ls = lines.map((r, i) => {
      const p = rules.products.find((x) => x.id === r.product.value);
      const q = /^\d+$/.test(r.quantity.value.trim()) ? BigInt(r.quantity.value.trim()) : 0n;
      const price = parse(r.price);
      if (!r.product.value) problems.set(`terms.lines[${i}].product_id`, "Choose a product.");
      if (q <= 0n || q > 1_000_000n) problems.set(`terms.lines[${i}].quantity`, "Enter a whole number from 1 to 1,000,000.");
      if (price === undefined) problems.set(`terms.lines[${i}].unit_price_minor`, `Enter a price like 12.50 (${c}), or leave it empty for the listed price.`);
      const unit = price || p?.unitPrice?.amountMinor || 0n;
      goods += unit * q;
      return { productId: r.product.value, quantity: q, unitPriceMinor: price ?? 0n };
    });
    if (ls.length === 0) problems.set("terms.lines", "An order needs at least one line.");
    const ship = parse(shipping);
    const ins = parse(insurance);
    if (ship === undefined) problems.set("terms.shipping_fee_minor", `Enter an amount like 25.00 (${c}); 0 for free shipping.`);
    if (ins === undefined) problems.set("terms.insurance_fee_minor", `Enter an amount like 5.00 (${c}), or 0.`);
    const total = goods + (ship ?? 0n) + (ins ?? 0n);
    if (!recipient.value.trim()) problems.set("terms.shipping_address.recipient_name", "Enter who receives the goods.");
    if (!phonePattern.test(phone.value.trim()))
      problems.set("terms.shipping_address.phone", phone.value.trim() ? "This is not a phone number in international format: digits, spaces, ( ) and -, optionally starting with +, like +1 415 555 0100." : "Enter the recipient's phone number: carriers cannot deliver without it.");
    if (!/^[A-Z]{2}$/.test(country.value.trim())) problems.set("terms.shipping_address.country", "Enter the two-letter country code, like US or DE.");
    if (!street.value.trim()) problems.set("terms.shipping_address.lines", "Enter the street address.");
    const tt = Number(term.value) as order.TradeTerm;
    const sm = Number(method.value) as order.ShippingMethod;
    if (seaOnly.has(tt) && !seaMethods.has(sm))
      problems.set("terms.trade_term", `${label(order.TradeTerm, tt)} is a sea and inland-waterway term: with ${label(order.ShippingMethod, sm).toLowerCase()} use FCA, CPT, CIP, DAP, DPU, DDP or EXW, or ship by sea.`);
    const kind = Number(payKind.value) as order.PaymentTerms_Kind;
    let adv = 0n;
    if (kind === order.PaymentTerms_Kind.ADVANCE_BALANCE) {
      const v = parse(advance);
      if (v === undefined || v <= 0n || v >= total) problems.set("terms.payment_terms.advance_minor", `The advance must be more than 0 and less than the total (${money({ amountMinor: total, currency: c })}).`);
      else adv = v;
    }
    const shipByMs = Date.parse(shipBy.value + "T12:00:00Z");
    const horizon = days(rules.params?.shipByHorizon);
    if (Number.isNaN(shipByMs) || shipByMs <= serverClock.now().getTime()) problems.set("terms.ship_by_time", "The ship-by date must be in the future.");
    else if (horizon > 0 && shipByMs > serverClock.now().getTime() + horizon * 86400_000) problems.set("terms.ship_by_time", `The ship-by date may be at most ${horizon} days ahead.`);
    // The limits, in USD at the platform's rate table.
    const totalUSD = toUSD(total, c, rules.rates);
    const cov = Number(coverage.value) === order.CoverageType.PRE_SHIPMENT && adv > 0n ? adv : total;
    const covUSD = toUSD(cov, c, rules.rates);
    const cap = rules.params?.noExportAgentCapUsdMinor ?? 0n;
    notes.push(`Total ${money({ amountMinor: total, currency: c })}${c !== "USD" && totalUSD !== undefined ? ` (${usd(totalUSD)} at the platform's rate)` : ""}; trade assurance covers ${money({ amountMinor: cov, currency: c })} (${label(order.CoverageType, Number(coverage.value)).toLowerCase()}).`);
    if (rules.supplier && covUSD !== undefined) {
      const limit = rules.supplier.tradeAssuranceLimitUsdMinor;
      if (covUSD > limit) problems.set("terms.coverage_type", `The covered amount (${usd(covUSD)}) is above your trade-assurance limit of ${usd(limit)}: lower the order, or cover only the advance (pre-shipment).`);
      else notes.push(`Your trade-assurance limit: ${usd(limit)}.`);
    } else if (!rules.supplier) notes.push("The supplier's trade-assurance limit is checked by the server when you send.");
    if (cap > 0n && totalUSD !== undefined) {
      if (totalUSD > cap && rules.supplier && !rules.supplier.oneTouchExport)
        problems.set("terms", `Orders above ${usd(cap)} need the one-touch export agent, which your account does not have: keep the total at or below ${usd(cap)}, or ask the platform to enable it.`);
      else if (totalUSD > cap) notes.push(`Above ${usd(cap)}: the order ships through the platform's one-touch export agent.`);
      else notes.push(`At most ${usd(cap)} without the one-touch export agent: this order is within it.`);
    }
    // Money already paid stays as it is: a paid order keeps its total, an advance-paid one its advance.
    const paid = o?.amounts?.paid;
    if (mode.kind === "change" && paid) {
      if (o?.state === order.Order_State.PAID) {
        if (total !== paid.amountMinor) problems.set("terms", `The order is paid in full: the changed total must stay at ${money(paid)} (it would be ${money({ amountMinor: total, currency: c })}).`);
        else notes.push(`Paid in full: the total stays at ${money(paid)}.`);
      } else if (o?.state === order.Order_State.ADVANCE_PAID && (kind !== order.PaymentTerms_Kind.ADVANCE_BALANCE || adv !== paid.amountMinor))
        problems.set("terms.payment_terms.advance_minor", `The advance of ${money(paid)} has been paid: keep an advance and balance with an advance of exactly that.`);
      else if (total < paid.amountMinor) problems.set("terms", `The new total cannot be below what was already paid (${money(paid)}).`);
    }
    return {
      terms: {
        lines: ls,
        currency: c,
        shippingFeeMinor: ship ?? 0n,
        insuranceFeeMinor: ins ?? 0n,
        shippingAddress: { recipientName: recipient.value.trim(), phone: phone.value.trim(), country: country.value.trim(), lines: street.value.trim() ? [street.value.trim()] : [], city: city.value.trim(), postalCode: postal.value.trim() },
        tradeTerm: tt,
        shippingMethod: sm,
        logisticsProvider: provider.value.trim(),
        paymentTerms: { kind, advanceMinor: adv },
        coverageType: Number(coverage.value),
        shipByTime: { seconds: BigInt(Math.floor((Number.isNaN(shipByMs) ? 0 : shipByMs) / 1000)), nanos: 0 },
        remark: remark.value.trim(),
      },
      problems,
      notes,
    };
  };
  // A field's problem shows once the person has been at the field (or tried to send); the summary counts them all.
  const touched = new Set<EventTarget>();
  let tried = false;
  const check = () => {
    const { problems, notes } = terms();
    const shown = new Map([...problems].filter(([k]) => tried || k === "terms" || (f.slot(k) && touched.has(f.slot(k)!.input))));
    f.mark(shown, []);
    const termsProblem = problems.get("terms");
    summary.replaceChildren(
      h("h3", {}, problems.size ? `Before sending: ${problems.size} rule${problems.size === 1 ? " is" : "s are"} not met` : "Every drafting rule is met"),
      h("ul", {}, ...notes.map((n) => h("li", {}, n)), termsProblem ? h("li", { class: "error" }, termsProblem) : ""),
    );
    summary.classList.toggle("bad", problems.size > 0);
    return problems;
  };

  const controls: HTMLElement[] = [];
  if (mode.kind === "create") {
    controls.push(
      f.control("buyer_email", "Buyer's email", buyerEmail, "The email bound to the buyer's account on the platform; the draft goes to that buyer."),
      f.control("policy_set", "Policy", policySel, "Trade assurance for B2B orders, retail for consumer orders; the order keeps the version in force today."),
    );
  }
  controls.push(
    f.control("terms.currency", "Currency", cur, mode.kind === "change" ? "The currency of an accepted order cannot change." : "Every amount of the order is in it; its products must be priced in it."),
    linesBox,
    f.control("terms.shipping_fee_minor", "Shipping fee", shipping, "0 for free shipping."),
    f.control("terms.insurance_fee_minor", "Insurance fee", insurance, ""),
    h(
      "fieldset",
      {},
      h("legend", {}, "Ship to"),
      f.control("terms.shipping_address.recipient_name", "Recipient", recipient, ""),
      f.control("terms.shipping_address.phone", "Phone", phone, "Required: carriers cannot deliver without it. International format, like +1 415 555 0100."),
      f.control("terms.shipping_address.lines", "Street address", street, ""),
      f.control("terms.shipping_address.city", "City", city, ""),
      f.control("terms.shipping_address.postal_code", "Postal code", postal, ""),
      f.control("terms.shipping_address.country", "Country code", country, "Two letters (ISO 3166-1), like US."),
    ),
    f.control("terms.trade_term", "Trade term (Incoterms 2020)", term, "FAS, FOB, CFR and CIF apply only to sea or inland-waterway freight; FCA is the usual term for multimodal transport."),
    f.control("terms.shipping_method", "Shipping method", method, ""),
    f.control("terms.logistics_provider", "Logistics provider", provider, "The carrier or forwarder; the buyer may change it until shipment."),
    f.control("terms.payment_terms.kind", "Payment terms", payKind, ""),
    f.control("terms.payment_terms.advance_minor", "Advance (for an advance and balance)", advance, "More than 0 and less than the total; paid before the balance."),
    f.control("terms.coverage_type", "Trade-assurance coverage", coverage, "Pre-shipment protects the advance; post-delivery the whole order, up to the supplier's trade-assurance limit."),
    f.control("terms.ship_by_time", "Ship by", shipBy, `The promised shipping date${rules.params?.shipByHorizon ? `, at most ${days(rules.params.shipByHorizon)} days ahead` : ""}; if it passes unshipped the buyer may cancel with a full refund.`),
    f.control("terms.remark", "Remark", remark, ""),
  );
  if (mode.kind === "change") controls.push(f.control("note", "Why (for the other party)", note, ""));
  f.el.append(h("h1", {}, title), ...controls, summary, f.alert, send);
  f.el.addEventListener("input", (ev) => {
    if (ev.target) touched.add(ev.target);
    check();
  });
  f.el.addEventListener("change", (ev) => {
    if (ev.target) touched.add(ev.target);
    if (ev.target === cur) for (const r of lines) {
      const keep = r.product.value;
      r.product.replaceChildren(...[["", "Choose a product"] as [string, string], ...productChoices()].map(([v, l]) => h("option", { value: v }, l)));
      r.product.value = keep;
    }
    check();
  });
  check();

  f.el.addEventListener("submit", (ev) => {
    ev.preventDefault();
    const { terms: tm, problems } = terms();
    tried = true;
    check();
    if (problems.size > 0) {
      f.alert.replaceChildren(h("p", {}, "Correct the fields marked above before sending."));
      const first = [...problems.keys()].map((k) => f.slot(k)?.input).find((x): x is Input => !!x);
      first?.focus();
      return;
    }
    void f.submit(send, "Sending…", async () => {
      let id = "";
      if (mode.kind === "create") {
        const req = { buyerEmail: buyerEmail.value.trim(), policySet: policySel.value, terms: tm };
        const rid = requestId(req);
        kit.sent(rid);
        const r = await s.client.orders.createOrder({ ...req, requestId: rid });
        id = r.order?.id ?? "";
        kit.say(`Draft sent to the buyer. Request id ${rid}.`);
      } else if (mode.kind === "edit") {
        const req = { orderId: mode.o.id, etag: mode.o.etag, terms: tm };
        const rid = requestId(req);
        kit.sent(rid);
        await s.client.orders.updateOrder({ ...req, requestId: rid });
        id = mode.o.id;
        kit.say(`Edited draft sent to the buyer. Request id ${rid}.`);
      } else {
        const req = { orderId: mode.o.id, etag: mode.o.etag, terms: tm, note: note.value.trim() };
        const rid = requestId(req);
        kit.sent(rid);
        await s.client.orders.proposeOrderChange({ ...req, requestId: rid });
        id = mode.o.id;
        kit.say(`Change proposed; it takes effect when the other party accepts. Request id ${rid}.`);
      }
      location.hash = "#/orders/" + id;
    });
  });
  return f.el;
}

/** #/drafts: a new draft; #/drafts/<order id>: edit a draft (the supplier's answer to requested changes). */
export async function draftView(kit: Kit, s: Signed, id: string): Promise<Node[]> {
  if (s.me.role !== common.Role.SUPPLIER) return [h("h1", {}, "Drafts"), h("p", { class: "why" }, "Only the supplier drafts and edits an order; as a buyer, request changes on the order's page.")];
  const back = h("p", {}, kit.link(id ? "#/orders/" + id : "#/orders", id ? "← The order" : "← Orders"));
  const why = kit.restriction(s.me);
  if (!id) {
    if (why) return [back, h("h1", {}, "Draft an order"), h("p", { class: "why" }, "You cannot draft orders now: " + why)];
    const rules = await loadRules(s, "trade-assurance", "");
    return [back, termsForm(kit, s, { kind: "create" }, rules, "trade-assurance")];
  }
  const { order: o } = await s.client.orders.getOrder({ orderId: id });
  if (!o) throw new Error("order missing");
  if (o.state !== order.Order_State.DRAFT)
    return [back, h("h1", {}, "Edit the draft"), h("p", { class: "why" }, `This order is ${label(order.Order_State, o.state).toLowerCase()}, no longer a draft: propose a change on its page instead.`)];
  const rules = await loadRules(s, o.policySet || "trade-assurance", o.supplierId, "");
  rules.params = o.policyParameters ?? rules.params;
  const asked = o.buyerChangeRequest ? [h("p", { class: "card", "data-testid": "buyer-change-request" }, h("strong", {}, "The buyer asks: "), o.buyerChangeRequest)] : [];
  return [back, ...asked, termsForm(kit, s, { kind: "edit", o }, rules, o.policySet)];
}

/** #/changes/<order id>: propose a change to an accepted order that has not shipped. */
export async function changeView(kit: Kit, s: Signed, id: string): Promise<Node[]> {
  const { order: o } = await s.client.orders.getOrder({ orderId: id });
  if (!o) throw new Error("order missing");
  const back = h("p", {}, kit.link("#/orders/" + id, "← The order"));
  const why = changeUnavailable(o);
  if (why) return [back, h("h1", {}, "Propose a change"), h("p", { class: "why" }, why)];
  const rules = await loadRules(s, o.policySet || "trade-assurance", o.supplierId, o.ratesVersion);
  rules.params = o.policyParameters ?? rules.params;
  return [back, termsForm(kit, s, { kind: "change", o }, rules, o.policySet)];
}

/** Why a change cannot be proposed on the order now, if it cannot. */
export function changeUnavailable(o: order.Order): string | undefined {
  const S = order.Order_State;
  if (o.state === S.DRAFT) return "this order is still a draft: the supplier edits it, the buyer requests changes.";
  if (![S.AWAITING_PAYMENT, S.ADVANCE_PAID, S.PAID].includes(o.state)) return `an order that is ${label(S, o.state).toLowerCase()} can no longer change.`;
  if (o.paymentPending) return "a payment is being processed; nothing can change until it settles or fails.";
  if (o.pendingChange) return "a change is already proposed; it must be accepted, rejected or withdrawn first.";
  return undefined;
}
