// The operator's tools, evidence requests, the supplier's metrics chart and live updates, driven in headless
// Chromium against the development server with the demo history (see harness.ts). The SDK is used only
// to find or prepare the objects a test is about; everything a person does goes through the page.
import assert from "node:assert/strict";
import { test } from "node:test";
import { common, dispute, order } from "@tradeassure/sdk/node";
import { accessible, act, go, newBuyer, screenshot, sdk, signIn, signInWith, stateIs, timeout, usdTerms } from "./harness.js";

test("an operator creates an account and issues a key that works; once revoked it stops working", async () => {
  const operator = await signIn("operator");
  await go(operator, "#/accounts");
  await operator.getByRole("cell", { name: /Demo Buyer|buyer/i }).first().waitFor();
  const email = `new-buyer-${Date.now()}@example.com`;
  await act(operator, "Create an account", { Name: "Harbour Retail", Email: email, Country: "GB" }, { Role: "Buyer" });
  await operator.getByRole("heading", { name: /Harbour Retail/ }).waitFor();
  await operator.waitForSelector("section[aria-busy=false]");
  await act(operator, "Issue an API key", { "Key label": "till" });
  // The write carried a request id (the SDK's, reused on a retry), shown with the confirmation.
  assert.match((await operator.locator("#toast").textContent()) ?? "", /Issue an API key: done\. Request id [0-9a-z-]{8,}\./);
  const secret = await operator.getByTestId("api-key-secret").inputValue();
  assert.match(secret, /\S{16,}/);
  await accessible(operator, "account with a new key");

  // The key works: its owner signs in with it and sees its (empty) orders.
  const buyer = await signInWith(secret, "new buyer");
  await buyer.getByTestId("who").getByText("Harbour Retail · Buyer").waitFor();
  await buyer.getByText("No orders here yet.").waitFor();

  // Revoked, it no longer does: the same tab, reloaded, is sent back to sign in with the reason.
  await operator.getByRole("group", { name: "Actions" }).getByRole("button", { name: "Revoke a key", exact: true }).click();
  const form = operator.getByRole("form", { name: "Revoke a key" });
  await form.getByRole("button", { name: "Revoke a key" }).click();
  await operator.locator("#toast").getByText("Revoke a key: done").waitFor();
  await operator.getByTestId("key-state").getByText(/^Revoked/).waitFor();
  assert.equal(await operator.getByTestId("api-key-secret").count(), 0, "the secret is gone once the key is revoked");
  await buyer.reload();
  await buyer.getByRole("alert").getByText("Sign in again with a current key").waitFor({ timeout });
  await screenshot(operator, "operator-key-revoked");
});

test("an operator changes a supplier's limit and freezes it", async () => {
  const supplierId = (await sdk("supplier").admin.getAccount({})).account?.id ?? "";
  const other = (await sdk("operator").admin.listAccounts({ role: common.Role.SUPPLIER })).accounts.find((a) => a.id !== supplierId);
  assert.ok(other, "the demo has a second supplier");
  const operator = await signIn("operator", true);
  await go(operator, "#/accounts/" + other.id);
  await act(operator, "Change the limit", { "Trade-assurance limit (USD)": "12345.00" });
  await operator.getByTestId("ta-limit").getByText("12,345.00").waitFor();
  const freeze = other.supplier?.frozen ? "Unfreeze" : "Freeze";
  await act(operator, freeze);
  await operator.getByTestId("frozen").getByText(other.supplier?.frozen ? "no" : "yes").waitFor();
  // Put it back, so the rest of the demo is as it was.
  await act(operator, other.supplier?.frozen ? "Freeze" : "Unfreeze");
  await accessible(operator, "supplier account at phone width");
  await screenshot(operator, "operator-supplier-profile");
});

test("reconciliation shows the ledger balanced, with the platform's accounts and the transfers", async () => {
  const operator = await signIn("operator");
  await go(operator, "#/ledger");
  await operator.getByTestId("reconcile").getByText(/^Balanced/).waitFor();
  await operator.getByRole("cell", { name: "USD", exact: true }).first().waitFor();
  await operator.getByTestId("transfers").getByRole("row").nth(1).waitFor();
  await operator.getByRole("cell", { name: "Order escrow", exact: true }).first().waitFor();
  await accessible(operator, "reconciliation");
  await screenshot(operator, "reconciliation");
});

test("an arbiter requests evidence on an escalated dispute and the supplier submits it", async () => {
  const { disputes } = await sdk("arbiter").disputes.listDisputes({ state: dispute.Dispute_State.ESCALATED });
  const d = disputes.find((x) => x.evidenceRequests.every((r) => r.fulfilled || r.overdue));
  assert.ok(d, "the demo has an escalated dispute");
  const arbiter = await signIn("arbiter");
  await go(arbiter, "#/disputes/" + d.id);
  await act(arbiter, "Request evidence", { "What is wanted": "The factory's test report for the returned speakers." }, { From: "The supplier", "Kind of evidence": "Inspection report" });
  await arbiter.getByTestId("evidence-request-state").last().getByText(/^Waiting/).waitFor();
  // The arbiter cannot rule while the request is open.
  assert.equal(await arbiter.getByRole("button", { name: "Rule", exact: true }).isDisabled(), true);
  await arbiter.getByText(/Rule: waiting for the evidence requested/).waitFor();
  await arbiter.getByTestId("dispute-history").getByText("Evidence requested").first().waitFor();

  const n = (await sdk("supplier").disputes.getDispute({ id: d.id })).dispute?.evidenceRequests.length ?? 0;
  const supplier = await signIn("supplier");
  await go(supplier, "#/disputes/" + d.id);
  await accessible(supplier, "dispute with an evidence request");
  await act(supplier, `Answer evidence request ${n}`, { "Link to the file": "https://files.example/lab-report.pdf", "What it shows": "Lab report: 2 of 20 speakers crackle." });
  await supplier.getByTestId("evidence-request-state").last().getByText(/^Submitted/).waitFor();
  await supplier.getByTestId("dispute-history").getByText("Evidence submitted").first().waitFor();

  await go(arbiter, "#/disputes/" + d.id);
  await arbiter.getByRole("link", { name: "Lab report: 2 of 20 speakers crackle." }).first().waitFor();
  assert.equal(await arbiter.getByRole("button", { name: "Rule", exact: true }).isDisabled(), false);
  await screenshot(arbiter, "evidence-submitted");
});

test("the supplier's dispute and responsibility rates over time: a chart with its table", async () => {
  const me = (await sdk("supplier").admin.getAccount({})).account;
  const { metrics } = await sdk("supplier").disputes.getSupplierMetrics({ supplierAccountId: me?.id ?? "" });
  assert.ok(metrics);
  const supplier = await signIn("supplier", true);
  await go(supplier, "#/metrics");
  await supplier.getByRole("img", { name: /Dispute rate and seller-responsibility rate over time/ }).waitFor();
  const want = `${(metrics.disputeRate * 100).toFixed(1)}%`;
  assert.equal(await supplier.getByTestId("dispute-rate").textContent(), want);
  // The table carries the chart's numbers; its last row is the server's figures now.
  const rows = supplier.getByTestId("metrics-table").locator("tbody tr");
  assert.ok((await rows.count()) >= 1);
  assert.equal(await rows.last().locator("td").nth(3).textContent(), want);
  assert.equal(await supplier.locator("[data-testid=metrics-chart] polyline").count(), 2);
  await accessible(supplier, "metrics at phone width");
  await screenshot(supplier, "supplier-metrics");
});

test("live: the supplier ships and the buyer's open order page updates without a reload", async () => {
  // A paid order of its own, so no other test's steps matter.
  // A buyer of its own too: another test restricts the demo buyer.
  const { account: buyerAccount, secret, client: b } = await newBuyer("Live Buyer", "US");
  const s = sdk("supplier");
  const [{ products }, { now }] = await Promise.all([s.orders.listProducts({}), s.admin.getClock({})]);
  const product = products[0];
  assert.ok(product && now);
  const { order: o } = await s.orders.createOrder({
    policy: common.Policy.TRADE_ASSURANCE,
    buyerEmail: buyerAccount.email,
    terms: usdTerms(product.id, 2n, now),
  });
  assert.ok(o);
  const accepted = (await b.orders.acceptOrder({ orderId: o.id, etag: o.etag })).order;
  await b.orders.payOrder({ orderId: o.id, method: order.PaymentMethod.CARD, cardToken: "tok_visa_4242" });
  assert.ok(accepted);

  const buyer = await signInWith(secret, "live buyer");
  await go(buyer, "#/orders/" + o.id);
  await stateIs(buyer, "order-state", "Paid");
  // The feed is followed from its head once the stream is up (the server's first heartbeat).
  await buyer.waitForSelector("[data-testid=live][data-state=live]");
  await buyer.evaluate(() => ((window as unknown as { notReloaded: boolean }).notReloaded = true));

  const supplier = await signIn("supplier");
  await go(supplier, "#/orders/" + o.id);
  await act(supplier, "Ship order", { "Tracking number": "LIVE00014" });
  await stateIs(buyer, "order-state", "Shipped");
  await buyer.getByText(/LIVE00014/).first().waitFor();

  // The connection drops (the browser goes offline) and the delivery is recorded meanwhile: back online,
  // the desk follows on from the last event it saw, so the change made while it was away still arrives.
  await buyer.context().setOffline(true);
  await buyer.waitForSelector("[data-testid=live][data-state=offline]");
  await sdk("operator").orders.recordDelivery({ orderId: o.id });
  await buyer.context().setOffline(false);
  await stateIs(buyer, "order-state", "Delivered");
  assert.equal(await buyer.evaluate(() => (window as unknown as { notReloaded?: boolean }).notReloaded), true, "the page was not reloaded");
  await screenshot(buyer, "live-update");

  // Signing out stops following the feed.
  await buyer.getByRole("button", { name: "Sign out" }).click();
  await buyer.getByRole("heading", { name: "Sign in to the desk" }).waitFor();
  assert.equal(await buyer.getByTestId("live").count(), 0);
});
