// Drives the desk in headless Chromium against a real development server with the demo history (DEMO=1
// under ../examples/with-dev-server.sh, which exports TRADEASSURE_URL and KEYS; see harness.ts). Each
// person has a browser context of their own and works only through the page, as they would; the SDK is
// used only to find the demo's objects. Every wait is on a condition, never a fixed time. Each test saves
// a screenshot of its final screen in ARTIFACTS (default <repo>/artifacts), and the main screens are
// checked with axe-core for accessibility, at desktop and phone width.
import assert from "node:assert/strict";
import { test } from "node:test";
import { complaint, dispute, order, payout, returns } from "@tradeassure/sdk/node";
import { accessible, act, appUrl, browser, go, pay, screenshot, sdk, server, signIn, stateIs, timeout } from "./harness.js";

/** The id of the first demo order of the buyer in a state (and without a pending payment). */
async function demoOrder(state: order.Order_State): Promise<string> {
  const { orders } = await sdk("buyer").orders.listOrders({ state, pageSize: 100 });
  const o = orders.find((x) => !x.paymentPending);
  assert.ok(o, `the demo has no ${order.Order_State[state]} order`);
  return o.id;
}

test("sign-in is accessible and a bad key gets a message a person can act on", async () => {
  assert.ok(browser);
  const page = await (await browser.newContext()).newPage();
  await page.goto(`${appUrl}/?server=${encodeURIComponent(server)}`);
  await accessible(page, "sign-in");
  await page.getByLabel("API key").fill("ta_not_a_real_key");
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByRole("alert").getByText("Sign in again with a current key").waitFor({ timeout });
});

test("a buyer pays by card, the supplier ships, the operator records delivery, the buyer confirms", async () => {
  const id = await demoOrder(order.Order_State.AWAITING_PAYMENT);
  const buyer = await signIn("buyer");
  await accessible(buyer, "buyer's orders");
  await buyer.getByRole("link", { name: id.slice(-8) }).click();
  await buyer.waitForSelector("section[aria-busy=false]");
  await accessible(buyer, "order detail");
  // Beside the deadline, the numbers of the policy version the order was created under.
  const terms = (await buyer.getByTestId("policy-terms").textContent()) ?? "";
  if (!/^returns within \d+ days of receipt; auto-confirm \d+ days after delivery; .*platform fee 2%$/.test(terms))
    throw new Error(`policy terms shown: ${terms}`);
  await pay(buyer, "Card", "tok_visa_4242");
  await stateIs(buyer, "order-state", "Paid");

  const supplier = await signIn("supplier");
  await go(supplier, "#/orders/" + id);
  await act(supplier, "Ship order", { "Tracking number": "JD014600001" });
  await stateIs(supplier, "order-state", "Shipped");

  const operator = await signIn("operator");
  await go(operator, "#/orders/" + id);
  await act(operator, "Record delivery");
  await stateIs(operator, "order-state", "Delivered");

  await go(buyer, "#/orders/" + id);
  await act(buyer, "Confirm receipt");
  await stateIs(buyer, "order-state", "Completed");
  // The case timeline shows the payment, the shipment and the money released to the supplier.
  const timeline = buyer.getByTestId("case-timeline");
  for (const text of ["Order shipped", "Order receipt confirmed", "Paid"]) await timeline.getByText(text).first().waitFor();
  await buyer.getByRole("img", { name: /Case timeline: \d+ steps/ }).waitFor();
  // The revision history, taken from the same case, lists every change from the draft to the receipt.
  for (const change of ["Drafted", "Paid", "Shipped", "Receipt confirmed"])
    await buyer.getByRole("cell", { name: change, exact: true }).waitFor({ timeout });
  await screenshot(buyer, "card-paid-shipped-confirmed");
});

test("a buyer accepts and pays by T/T; an operator confirms the transfer", async () => {
  const id = await demoOrder(order.Order_State.DRAFT);
  const buyer = await signIn("buyer");
  await go(buyer, "#/orders/" + id);
  await act(buyer, "Accept order");
  await stateIs(buyer, "order-state", "Awaiting payment");
  await pay(buyer, "T/T (telegraphic transfer)");
  await buyer.getByText("a payment awaits confirmation by the platform").waitFor();
  // Paying twice is not offered while the transfer awaits confirmation.
  assert.equal(await buyer.getByRole("link", { name: "Pay", exact: true }).count(), 0);

  const operator = await signIn("operator");
  await go(operator, "#/orders/" + id);
  const confirm = operator.getByRole("button", { name: /^Confirm T\/T \(telegraphic transfer\) payment of/ });
  const label = (await confirm.textContent()) ?? "";
  await act(operator, label);
  await stateIs(operator, "order-state", "Paid");
  await screenshot(operator, "tt-confirmed");
});

test("a free return is received and inspected by the warehouse", async () => {
  const { returns: inbox } = await sdk("warehouse").returns.listReturns({ state: returns.Return_State.SHIPPED });
  const ret = inbox[0];
  assert.ok(ret, "the demo has no free return on its way");
  const wh = await signIn("warehouse", true);
  await wh.getByRole("link", { name: ret.id.slice(-8) }).click();
  await wh.waitForSelector("section[aria-busy=false]");
  await accessible(wh, "warehouse return at phone width");
  await act(wh, "Record inspection", { Note: "All sealed" }, { Result: "Resaleable" });
  await wh.getByText("Resaleable").first().waitFor();
  await screenshot(wh, "free-return-inspected");
});

test("a complaint upheld with a trading restriction; the restricted buyer sees why it cannot accept", async () => {
  const { orders } = await sdk("supplier").orders.listOrders({ state: order.Order_State.COMPLETED, pageSize: 100 });
  const about = orders[orders.length - 1];
  assert.ok(about);
  const supplier = await signIn("supplier");
  await go(supplier, "#/orders/" + about.id);
  await act(supplier, "File a complaint", { "What happened": "The buyer confirmed an order that was never placed with us." }, { Type: "False transaction" });

  const arbiter = await signIn("arbiter");
  const { complaints } = await sdk("arbiter").complaints.listComplaints({ state: complaint.Complaint_State.FILED, type: complaint.Complaint_Type.FALSE_TRANSACTION });
  const filed = complaints[0];
  assert.ok(filed);
  await go(arbiter, "#/complaints");
  await arbiter.getByRole("link", { name: filed.id.slice(-8) }).click();
  await arbiter.waitForSelector("section[aria-busy=false]");
  const { now } = await sdk("operator").admin.getClock({});
  const until = new Date(Number(now?.seconds ?? 0n) * 1000 + 30 * 86400_000).toISOString().slice(0, 10);
  await act(arbiter, "Uphold", { "Points, amount": until, Reasons: "The chat log shows no order was placed." }, { Penalty: "Trading restriction (until a date)" });
  await stateIs(arbiter, "complaint-state", "Upheld");

  const draft = await demoOrder(order.Order_State.DRAFT);
  const buyer = await signIn("buyer");
  await buyer.getByTestId("standing").getByText("Restricted until").waitFor();
  await go(buyer, "#/orders/" + draft);
  const accept = buyer.getByRole("button", { name: "Accept order" });
  assert.equal(await accept.isDisabled(), true);
  await buyer.getByText(/Accept order: your account is restricted from trading until/).waitFor();
  await screenshot(buyer, "restricted-buyer");
});

test("a supplier withdraws; an operator processes and confirms the payout", async () => {
  const supplier = await signIn("supplier");
  await go(supplier, "#/money");
  await accessible(supplier, "balance");
  await act(supplier, "Withdraw", { "Amount (USD)": "25.00" });
  await supplier.getByTestId("withdrawal").getByText("25.00").first().waitFor();

  const { withdrawals } = await sdk("operator").payouts.listWithdrawals({ state: payout.Withdrawal_State.REQUESTED });
  assert.ok(withdrawals.length >= 1);
  const operator = await signIn("operator");
  await go(operator, "#/money");
  const card = operator.getByTestId("withdrawal").filter({ hasText: "25.00" });
  const process = card.getByRole("button", { name: /^Process / });
  const processLabel = (await process.textContent()) ?? "";
  await process.click();
  await card.getByRole("button", { name: processLabel }).last().click();
  await operator.locator("#toast").getByText(`${processLabel}: done`).waitFor();
  const confirm = operator.getByTestId("withdrawal").filter({ hasText: "25.00" }).getByRole("button", { name: /^Confirm paid / });
  const confirmLabel = (await confirm.textContent()) ?? "";
  await confirm.click();
  await operator.getByTestId("withdrawal").filter({ hasText: "25.00" }).getByRole("button", { name: confirmLabel }).last().click();
  await operator.locator("#toast").getByText(`${confirmLabel}: done`).waitFor();
  await operator.getByTestId("withdrawal").filter({ hasText: "25.00" }).getByText("Paid").waitFor();
  await screenshot(operator, "withdrawal-paid");
});

test("a dispute negotiated, escalated once the server's clock allows it, and ruled", async () => {
  const { disputes } = await sdk("supplier").disputes.listDisputes({ state: dispute.Dispute_State.AWAITING_RESPONSE });
  const d = disputes[0];
  assert.ok(d, "the demo has no dispute awaiting the supplier");
  const supplier = await signIn("supplier");
  await go(supplier, "#/disputes/" + d.id);
  await act(supplier, "Reject with a counter-offer", { "Partial refund you offer": "50.00", Why: "Two screens cracked, not four." });
  await stateIs(supplier, "dispute-state", "Negotiating");

  const buyer = await signIn("buyer");
  await go(buyer, "#/disputes/" + d.id);
  await accessible(buyer, "dispute detail");
  // Trade assurance allows escalation from day 4: the button is there, disabled, with the reason.
  const escalate = buyer.getByRole("button", { name: "Escalate to the platform" });
  assert.equal(await escalate.isDisabled(), true);
  await buyer.getByText(/Escalate to the platform: possible from/).waitFor();
  await act(buyer, "Make an offer", { "Partial refund": "150.00", Note: "Four screens are cracked." });

  // An operator moves the development clock; the buyer's page reads the server's clock again.
  const operator = await signIn("operator");
  await go(operator, "#/clock");
  await act(operator, "Move the clock forward", { Days: "4" });
  await go(buyer, "#/disputes/" + d.id);
  await act(buyer, "Escalate to the platform", { "Why the platform should decide": "We cannot agree on the number of cracked screens." });
  await stateIs(buyer, "dispute-state", "Escalated");

  const arbiter = await signIn("arbiter");
  await go(arbiter, "#/disputes");
  await arbiter.getByRole("link", { name: d.id.slice(-8) }).click();
  await arbiter.waitForSelector("section[aria-busy=false]");
  await arbiter.getByText("cracked-screens.jpg").waitFor();
  await act(arbiter, "Rule", { "Refund (USD)": "100.00", Reasons: "The photos show three cracked screens." }, { Resolution: "Partial refund", Responsible: "Supplier" });
  await stateIs(arbiter, "dispute-state", "Ruled");
  await go(buyer, "#/orders/" + d.orderId);
  await buyer.getByTestId("case-timeline").getByText(/ruled|Ruled/).first().waitFor();
  await screenshot(buyer, "dispute-ruled");
});
