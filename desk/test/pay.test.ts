// The buyer's payment in the browser, against a real development server: every method offered with its rule
// before submitting, Western Union enabled just under its limit and disabled with the reason at it and for a non-US buyer (e-Checking too), a payment by
// online bank transfer that stays pending until the operator confirms it, and the order then paid. A buyer
// and an order of their own (made through the API) keep this test apart from the others. Every wait is on
// a condition; the final screens are saved.
import assert from "node:assert/strict";
import { test } from "node:test";
import { common } from "@tradeassure/sdk/node";
import { accessible, act, explain, go, newBuyer as ownBuyer, screenshot, sdk, signIn, signInWith, stateIs, usdTerms } from "./harness.js";

// The keys are read in the harness's before hook, so the clients are made when a test runs.
const op = () => sdk("operator");
const supplier = () => sdk("supplier");

/** A buyer of this test's own, in a country. */
const newBuyer = (country: string) => ownBuyer(`Pay Test Buyer ${country}`, country);

/** An accepted USD order of exactly totalMinor (goods of a listed product, the rest as shipping), awaiting payment. */
async function newOrder(buyer: Awaited<ReturnType<typeof newBuyer>>, totalMinor: bigint): Promise<string> {
  const [{ products }, { now }] = await Promise.all([supplier().orders.listProducts({}), supplier().admin.getClock({})]);
  const product = products.find((p) => p.unitPrice?.currency === "USD");
  assert.ok(product?.unitPrice && now);
  const quantity = totalMinor / product.unitPrice.amountMinor;
  const { order: o } = await supplier().orders.createOrder({
    policy: common.Policy.TRADE_ASSURANCE,
    buyerEmail: buyer.account.email,
    terms: usdTerms(product.id, quantity, now, totalMinor - quantity * product.unitPrice.amountMinor),
  });
  assert.ok(o);
  assert.equal(o.amounts?.total?.amountMinor, totalMinor);
  await buyer.client.orders.acceptOrder({ orderId: o.id, etag: o.etag });
  return o.id;
}

test("Western Union just under and at its limit, and for a non-US buyer; e-Checking for a non-US buyer", async () => {
  const us = await newBuyer("US");
  const de = await newBuyer("DE");
  const cases: { name: string; buyer: typeof us; total: bigint; refused: Record<string, RegExp | undefined> }[] = [
    { name: "US, 2,499.99 USD", buyer: us, total: 2_499_99n, refused: { WESTERN_UNION: undefined, E_CHECKING: undefined, CARD: undefined } },
    { name: "US, 2,500.00 USD", buyer: us, total: 2_500_00n, refused: { WESTERN_UNION: /must be under 2,500\.00 USD; 2,500\.00 USD is not/, E_CHECKING: undefined } },
    { name: "DE, 100.00 USD", buyer: de, total: 100_00n, refused: { WESTERN_UNION: /for US buyers only; your account is in DE/, E_CHECKING: /for US buyers only; your account is in DE/, CARD: undefined } },
  ];
  for (const c of cases) {
    const id = await newOrder(c.buyer, c.total);
    const page = await signInWith(c.buyer.secret, "pay " + c.name);
    await go(page, "#/pay/" + id);
    const form = page.getByRole("form", { name: "Pay the order" });
    await form.waitFor();
    for (const [m, why] of Object.entries(c.refused)) {
      const row = form.getByTestId("method-" + m);
      assert.equal(await row.getByRole("radio").isDisabled(), !!why, `${c.name}: ${m} disabled`);
      if (why) await row.getByText(why).waitFor();
      else assert.equal(await row.locator(".why").count(), 0, `${c.name}: ${m} has no reason`);
    }
    await page.close();
  }
});

test("a buyer pays by online bank transfer with each method's rule shown first; the operator confirms it", async () => {
  const b = await newBuyer("US");
  const secret = b.secret;
  // Over Western Union's limit but within the card cap and the cap without an export agent.
  const o = { id: await newOrder(b, 3_012_50n) };

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
