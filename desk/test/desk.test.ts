// Drives the desk in headless Chromium against a real development server with the demo history (DEMO=1
// under ../examples/with-dev-server.sh, which exports TRADEASSURE_URL and KEYS). Each person has a
// browser context of their own and works only through the page, as they would; the SDK is used only to
// find the demo's objects. Every wait is on a condition, never a fixed time. Each test saves a screenshot
// of its final screen in ARTIFACTS (default <repo>/artifacts), and the main screens are checked with
// axe-core for accessibility, at desktop and phone width.
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { mkdirSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { createServer } from "node:net";
import { dirname, join, resolve } from "node:path";
import { after, before, test } from "node:test";
import { fileURLToPath } from "node:url";
import { chromium, type Browser, type Page } from "playwright-core";
import { complaint, createClient, dispute, order, payout, returns } from "@tradeassure/sdk/node";

const here = dirname(fileURLToPath(import.meta.url));
const appDir = resolve(here, "..");
const repo = resolve(appDir, "..");
const server = process.env["TRADEASSURE_URL"] ?? "";
const keysPath = process.env["KEYS"] ?? "";
const artifacts = process.env["ARTIFACTS"] ?? join(repo, "artifacts");
const axePath = createRequire(import.meta.url).resolve("axe-core/axe.min.js");
const timeout = 20_000;

let keys: Record<string, { api_key: string; account_id: string }>;
let preview: ChildProcess | undefined;
let appUrl = "";
let browser: Browser | undefined;

function key(who: string): string {
  const k = keys[who]?.api_key;
  assert.ok(k, `no key for ${who} in ${keysPath}`);
  return k;
}

function sdk(who: string) {
  return createClient(server, key(who));
}

function freePort(): Promise<number> {
  return new Promise((ok, fail) => {
    const srv = createServer();
    srv.once("error", fail);
    srv.listen(0, "127.0.0.1", () => {
      const a = srv.address();
      const port = typeof a === "object" && a !== null ? a.port : 0;
      srv.close(() => ok(port));
    });
  });
}

before(async () => {
  assert.ok(server && keysPath, "run under examples/with-dev-server.sh with DEMO=1 (TRADEASSURE_URL and KEYS)");
  keys = JSON.parse(readFileSync(keysPath, "utf8")) as typeof keys;
  const port = await freePort();
  let log = "";
  preview = spawn(process.execPath, [join(appDir, "node_modules", "vite", "bin", "vite.js"), "preview", "--port", String(port), "--strictPort"], {
    cwd: appDir,
    stdio: ["ignore", "pipe", "pipe"],
  });
  preview.stdout?.on("data", (b: Buffer) => (log += b.toString()));
  preview.stderr?.on("data", (b: Buffer) => (log += b.toString()));
  appUrl = `http://127.0.0.1:${port}`;
  for (let i = 0; ; i++) {
    try {
      if ((await fetch(appUrl)).ok) break;
    } catch {
      // not up yet
    }
    assert.ok(i < 300 && preview.exitCode === null, `vite preview did not start:\n${log}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  browser = await chromium.launch({
    executablePath: process.env["CHROMIUM"] ?? "/usr/bin/chromium",
    args: ["--no-sandbox", "--headless", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
  });
});

after(async () => {
  await browser?.close();
  preview?.kill();
});

/** Opens the desk in a fresh browser context and signs in with the role's key. */
async function signIn(who: string, phone = false): Promise<Page> {
  assert.ok(browser);
  const ctx = await browser.newContext({ viewport: phone ? { width: 390, height: 844 } : { width: 1280, height: 900 } });
  const page = await ctx.newPage();
  page.setDefaultTimeout(timeout);
  page.on("pageerror", (e) => console.error(`[${who}] page error: ${e.message}`));
  await page.goto(`${appUrl}/?server=${encodeURIComponent(server)}`);
  await page.getByLabel("API key").fill(key(who));
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByTestId("who").waitFor();
  return page;
}

/** Opens a screen by its address, as a bookmarked link would (the tab keeps its sign-in), and waits until it has loaded. */
async function go(page: Page, hash: string): Promise<void> {
  const target = `${appUrl}/?server=${encodeURIComponent(server)}${hash}`;
  // Going to the address already shown would only move within the page; load it again instead.
  if (page.url() === target) await page.reload();
  else await page.goto(target);
  await page.getByTestId("who").waitFor();
  await page.waitForSelector("section[aria-busy=false]");
}

/** Clicks an action, fills its form by label and submits it, and waits for the view to reload. */
async function act(page: Page, action: string, fields: Record<string, string> = {}, selects: Record<string, string> = {}): Promise<void> {
  await page.getByRole("group", { name: "Actions" }).getByRole("button", { name: action, exact: true }).click();
  const form = page.getByRole("form", { name: action });
  for (const [name, value] of Object.entries(fields)) await form.getByLabel(name, { exact: false }).fill(value);
  for (const [name, value] of Object.entries(selects)) await form.getByLabel(name, { exact: false }).selectOption({ label: value });
  await form.getByRole("button", { name: Object.keys(fields).length || Object.keys(selects).length ? action : `Confirm: ${action}` }).click();
  await page.locator("#toast").getByText(`${action}: done`).waitFor();
}

async function stateIs(page: Page, testId: string, want: string): Promise<void> {
  await page.waitForFunction(([id, w]) => document.querySelector(`[data-testid=${id}]`)?.textContent === w, [testId, want], { timeout });
}

/** Fails on any axe-core violation of WCAG 2 A/AA on the current screen. */
async function accessible(page: Page, what: string): Promise<void> {
  await page.addScriptTag({ path: axePath });
  const violations = await page.evaluate(async () => {
    const axe = (window as unknown as { axe: { run: (ctx: Document, o: object) => Promise<{ violations: { id: string; help: string; nodes: { target: string[] }[] }[] }> } }).axe;
    const r = await axe.run(document, { runOnly: { type: "tag", values: ["wcag2a", "wcag2aa"] } });
    return r.violations.map((v) => `${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(" ")).join(", ")})`);
  });
  assert.deepEqual(violations, [], `${what}: accessibility violations`);
}

async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(artifacts, { recursive: true });
  const path = join(artifacts, `desk-${name}.png`);
  await page.screenshot({ path, fullPage: true });
  console.log(`screenshot: ${path}`);
}

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
  await act(buyer, "Pay by card", { "Card token": "tok_visa_4242" });
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
  for (const change of ["order.drafted", "order.paid", "order.shipped", "order.receipt_confirmed"])
    await buyer.getByRole("cell", { name: change, exact: true }).waitFor({ timeout });
  await screenshot(buyer, "card-paid-shipped-confirmed");
});

test("a buyer accepts and pays by T/T; an operator confirms the transfer", async () => {
  const id = await demoOrder(order.Order_State.DRAFT);
  const buyer = await signIn("buyer");
  await go(buyer, "#/orders/" + id);
  await act(buyer, "Accept order");
  await stateIs(buyer, "order-state", "Awaiting payment");
  await act(buyer, "Pay by T/T");
  await buyer.getByText("a payment awaits confirmation by the platform").waitFor();
  // Paying twice is not offered while the transfer awaits confirmation.
  assert.equal(await buyer.getByRole("button", { name: "Pay by T/T" }).count(), 0);

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
