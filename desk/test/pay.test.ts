// The buyer's payment in the browser, against a real development server: every method offered with its rule
// before submitting, Western Union shown disabled with the reason on an order over its limit, a payment by
// online bank transfer that stays pending until the operator confirms it, and the order then paid. A buyer
// and an order of their own (made through the API) keep this test apart from the others. Every wait is on
// a condition; the final screens are saved.
import assert from "node:assert/strict";
import { test } from "node:test";
import { common, createClient, order } from "@tradeassure/sdk/node";
import { accessible, act, explain, go, screenshot, sdk, server, signIn, signInWith, stateIs } from "./harness.js";

test("a buyer pays by online bank transfer with each method's rule shown first; the operator confirms it", async () => {
  const op = sdk("operator");
  const { account: buyerAccount } = await op.admin.createAccount({ role: common.Role.BUYER, name: "Pay Test Buyer Inc", email: `pay-${Date.now().toString(36)}@example.com`, country: "US" });
  assert.ok(buyerAccount);
  const { secret } = await op.admin.createApiKey({ accountId: buyerAccount.id, name: "desk pay test" });
  const s = sdk("supplier");
  const b = createClient(server, secret);
  const [{ products }, { now }] = await Promise.all([s.orders.listProducts({}), s.admin.getClock({})]);
  const product = products.find((p) => p.unitPrice?.currency === "USD");
  assert.ok(product?.unitPrice && now);
  // Enough units to be over Western Union's limit but within the card cap and the cap without an export agent.
  const quantity = 3_000_00n / product.unitPrice.amountMinor + 1n;
  const { order: o } = await s.orders.createOrder({
    policy: common.Policy.TRADE_ASSURANCE,
    buyerEmail: buyerAccount.email,
    terms: {
      lines: [{ productId: product.id, quantity }],
      currency: "USD",
      shippingAddress: { recipientName: "Pay Test Receiving", phone: "+1 217 555 0100", country: "US", lines: ["1200 Commerce Way"], city: "Springfield", postalCode: "62701" },
      tradeTerm: order.TradeTerm.FCA,
      shippingMethod: order.ShippingMethod.AIR,
      paymentTerms: { kind: order.PaymentTerms_Kind.FULL },
      coverageType: order.CoverageType.POST_DELIVERY,
      shipByTime: { seconds: now.seconds + 14n * 86400n, nanos: 0 },
    },
  });
  assert.ok(o);
  await b.orders.acceptOrder({ orderId: o.id, etag: o.etag });

  const buyer = await signInWith(secret, "pay buyer");
  await go(buyer, "#/orders/" + o.id);
  await stateIs(buyer, "order-state", "Awaiting payment");
  await buyer.getByRole("link", { name: "Pay", exact: true }).click();
  const form = buyer.getByRole("form", { name: "Pay the order" });
  await form.waitFor();
  // Every method, each with its rule, before anything is sent.
  for (const m of ["CARD", "TT", "ONLINE_BANK_TRANSFER", "PAY_LATER", "WESTERN_UNION", "E_CHECKING"]) await form.getByTestId("method-" + m).waitFor();
  const wu = form.getByTestId("method-WESTERN_UNION");
  await wu.getByText(/Not available: Western Union payments must be under 2,500\.00 USD/).waitFor();
  assert.equal(await wu.getByRole("radio").isDisabled(), true);
  await form.getByTestId("method-CARD").getByText(/up to 10,000\.00 USD/).waitFor();
  assert.equal(await form.getByTestId("method-CARD").getByRole("radio").isDisabled(), false);
  assert.equal(await form.getByTestId("method-E_CHECKING").getByRole("radio").isDisabled(), false);
  await form.getByTestId("method-ONLINE_BANK_TRANSFER").getByText(/stays pending until the bank confirms/).waitFor();
  await form.getByTestId("method-PAY_LATER").getByText(/Settles at once/).waitFor();
  // The card token is asked for only when paying by card.
  assert.equal(await form.getByLabel("Card token").isVisible(), false);
  await form.getByLabel("Card", { exact: true }).check();
  await form.getByLabel("Card token").waitFor();
  await accessible(buyer, "payment form");
  await screenshot(buyer, "pay-methods");

  await form.getByLabel("Online bank transfer").check();
  await form.getByRole("button", { name: /^Pay .* by Online bank transfer$/ }).click();
  await explain(buyer, buyer.getByText("a payment awaits confirmation by the platform").waitFor());
  await stateIs(buyer, "order-state", "Awaiting payment");
  assert.equal(await buyer.getByRole("link", { name: "Pay", exact: true }).count(), 0);

  const operator = await signIn("operator");
  await go(operator, "#/orders/" + o.id);
  const confirm = operator.getByRole("button", { name: /^Confirm Online bank transfer payment of/ });
  await act(operator, (await confirm.textContent()) ?? "");
  await stateIs(operator, "order-state", "Paid");

  await go(buyer, "#/orders/" + o.id);
  await stateIs(buyer, "order-state", "Paid");
  await screenshot(buyer, "pay-bank-transfer-confirmed");
});
