// The buyer's payment of an order (#/pay/<order id>): every method the API offers, each with its rule in
// words before anything is sent — the card cap, T/T's days in transit, Pay Later's cap, Western Union for
// US buyers under its limit, e-Checking for US buyers in USD — and what happens next (settles at once, or
// stays pending until the bank confirms and an operator records it). Methods the rules forbid for this
// order and buyer are shown disabled with the reason, from the policy parameters and rate table the order
// was created under, converted to USD as the server does; the server still decides, and its refusal is
// shown through the desk's error mapping.
import { common, order, type policy } from "@tradeassure/sdk";
import { days, toUSD, usd } from "./drafts.js";
import { Form, input } from "./form.js";
import { stableRequestId, type Kit, type Signed } from "./kit.js";
import { h, label, money } from "./ui.js";

const M = order.PaymentMethod;

interface Method {
  method: order.PaymentMethod;
  /** The rule and what happens next, in words. */
  rule: string;
  /** Why the rules forbid it for this order and buyer, if they do. */
  refused?: string;
}

/** The part a payment pays now, as the server's due(): the advance first, then the balance. */
export function due(o: order.Order): common.Money | undefined {
  const a = o.amounts;
  if (!a?.advance?.amountMinor) return a?.total;
  return o.state === order.Order_State.AWAITING_PAYMENT ? a.advance : a.balance;
}

/** Each method with its rule and, when the rules forbid it, why. */
export function methods(amount: common.Money, country: string, p: policy.PolicyParameters | undefined, rates: Map<string, policy.ExchangeRate>): Method[] {
  const cur = amount.currency;
  const inUSD = toUSD(amount.amountMinor, cur, rates);
  const shown = cur === "USD" || inUSD === undefined ? money(amount) : `${money(amount)} (${usd(inUSD)})`;
  const noRate = inUSD === undefined ? `the platform has no exchange rate for ${cur}` : undefined;
  const card = p?.cardCapUsdMinor ?? 0n;
  const later = p?.payLaterCapUsdMinor ?? 0n;
  const wu = p?.westernUnionLimitUsdMinor ?? 0n;
  const tt = days(p?.ttExpectedSettle);
  const bank = days(p?.bankTransferSettle);
  const pending = "the order stays pending until the bank confirms the money and the platform records it; nothing on the order can change meanwhile";
  const us = (name: string) => (country !== "US" ? `${name} is for US buyers only; your account is in ${country || "an unknown country"}.` : undefined);
  return [
    {
      method: M.CARD,
      rule: `Settles at once. For small amounts only: up to ${usd(card)}. A declined card can simply be tried again.`,
      refused: noRate ?? (inUSD! > card ? `${shown} is above the card cap of ${usd(card)}; pay by T/T or online bank transfer.` : undefined),
    },
    { method: M.TT, rule: `A bank wire: usually ${tt > 3 ? `3–${tt}` : tt} days to arrive, sometimes within 24 hours; ${pending}.` },
    { method: M.ONLINE_BANK_TRANSFER, rule: `Expected within ${bank} ${bank === 1 ? "day" : "days"}; ${pending}.` },
    {
      method: M.PAY_LATER,
      rule: `Settles at once through a third-party credit line of up to ${usd(later)}; you repay the credit provider later.`,
      refused: noRate ?? (inUSD! > later ? `${shown} is above the Pay Later cap of ${usd(later)}.` : undefined),
    },
    {
      method: M.WESTERN_UNION,
      rule: `US buyers only, under ${usd(wu)}; ${pending}.`,
      refused: us("Western Union") ?? noRate ?? (inUSD! >= wu ? `Western Union payments must be under ${usd(wu)}; ${shown} is not.` : undefined),
    },
    {
      method: M.E_CHECKING,
      rule: `US buyers only, in USD only; ${pending}.`,
      refused: us("e-Checking") ?? (cur !== "USD" ? `e-Checking is in USD only; this order is in ${cur}.` : undefined),
    },
  ];
}

/** Why the order cannot be paid now, if it cannot. */
function unpayable(s: Signed, o: order.Order): string | undefined {
  const S = order.Order_State;
  if (s.me.role !== common.Role.BUYER) return "only the buyer pays an order.";
  if (o.state !== S.AWAITING_PAYMENT && o.state !== S.ADVANCE_PAID) return `an order that is ${label(S, o.state).toLowerCase()} has nothing to pay.`;
  if (o.paymentPending) return "a payment is being processed; wait until it settles or fails.";
  return undefined;
}

/** The order page's "Pay" link for the buyer (or why the account may not pay now), or undefined when there is nothing to pay. */
export function payLink(s: Signed, o: order.Order, restricted?: string): HTMLElement | undefined {
  if (unpayable(s, o)) return undefined;
  if (restricted) return h("span", { class: "why" }, "Pay: not available — " + restricted);
  return h("a", { href: "#/pay/" + o.id, class: "button" }, "Pay");
}

/** #/pay/<order id>: the payment form. */
export async function payView(kit: Kit, s: Signed, id: string): Promise<Node[]> {
  const { order: o } = await s.client.orders.getOrder({ orderId: id });
  if (!o) throw new Error("order missing");
  const back = h("p", {}, kit.link("#/orders/" + id, "← The order"));
  const why = unpayable(s, o) ?? kit.restriction(s.me);
  const amount = due(o);
  if (why || !amount) return [back, h("h1", {}, "Pay"), h("p", { class: "why" }, "You cannot pay this order now: " + (why ?? "nothing is due."))];
  const rt = await s.client.policies.getExchangeRates({ version: o.ratesVersion });
  const rates = new Map((rt.exchangeRateTable?.rates ?? []).map((r) => [r.currency, r]));
  let params = o.policyParameters;
  if (!params) params = (await s.client.policies.getPolicyVersion({ set: o.policySet, version: o.policyVersion })).policyVersion?.parameters;
  const list = methods(amount, s.me.country, params, rates);
  const part = o.amounts?.advance?.amountMinor ? (o.state === order.Order_State.AWAITING_PAYMENT ? "the advance" : "the balance") : "the order";

  const f = new Form("Pay the order");
  const box = h("fieldset", { class: "methods", "data-testid": "pay-methods" }, h("legend", {}, `How to pay ${part}: ${money(amount)}`));
  const radios: HTMLInputElement[] = [];
  for (const m of list) {
    const rid = `pay-${m.method}`;
    const radio = h("input", { type: "radio", name: "method", value: String(m.method), id: rid, "aria-describedby": rid + "-rule" + (m.refused ? ` ${rid}-why` : "") });
    radio.disabled = !!m.refused;
    radios.push(radio);
    box.append(
      h(
        "div",
        { class: "method" + (m.refused ? " refused" : ""), "data-testid": "method-" + order.PaymentMethod[m.method] },
        radio,
        h("label", { for: rid }, label(M, m.method)),
        h("p", { class: "hint", id: rid + "-rule" }, m.rule),
        m.refused ? h("p", { class: "why", id: rid + "-why" }, "Not available: " + m.refused) : undefined,
      ),
    );
  }
  const token = input({ autocomplete: "off" }, "tok_visa_4242");
  const tokenRow = f.control("card_token", "Card token", token, "From the payment network; the sandbox declines tokens ending in 0002.");
  const send = h("button", { type: "submit" }, "Pay");
  const chosen = () => radios.find((r) => r.checked);
  const update = () => {
    const r = chosen();
    tokenRow.hidden = Number(r?.value) !== M.CARD;
    send.disabled = !r;
    send.textContent = r ? `Pay ${money(amount)} by ${label(M, Number(r.value))}` : "Choose a method";
  };
  for (const r of radios) r.addEventListener("change", update);
  update();
  let requestId = stableRequestId();
  f.el.append(box, tokenRow, f.alert, h("p", {}, send));
  f.el.addEventListener("submit", (ev) => {
    ev.preventDefault();
    const r = chosen();
    if (!r) return;
    const method = Number(r.value) as order.PaymentMethod;
    void f.submit(send, "Paying…", async () => {
      const req = { orderId: o.id, method, cardToken: method === M.CARD ? token.value.trim() : "" };
      const rid = requestId(req);
      kit.sent(rid);
      const res = await s.client.orders.payOrder({ ...req, requestId: rid });
      const st = res.payment?.state;
      if (st === order.Payment_State.FAILED) {
        // A declined card leaves the order as it was; trying again is a new payment with a new request id.
        requestId = stableRequestId();
        f.alert.replaceChildren(h("p", {}, `The card was declined (${res.payment?.failureReason}). Try another card or another payment method.`));
        return;
      }
      kit.say(
        st === order.Payment_State.PENDING
          ? `Payment sent by ${label(M, method)}; it is pending until the bank confirms it. Request id ${rid}.`
          : `Paid ${money(amount)} by ${label(M, method)}. Request id ${rid}.`,
      );
      location.hash = "#/orders/" + o.id;
    });
  });
  return [back, h("h1", {}, "Pay"), f.el];
}
