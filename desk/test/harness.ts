// The desk's test harness: a `vite preview` of the built desk and headless Chromium (Debian's
// /usr/bin/chromium, or CHROMIUM) against the development server of ../examples/with-dev-server.sh
// (TRADEASSURE_URL and KEYS), and the steps the tests take through the page, as a person would: sign in,
// open a screen, take an action, check accessibility with axe-core, save a screenshot in ARTIFACTS
// (default <repo>/artifacts). Every wait is on a condition, never a fixed time.
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { mkdirSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { createServer } from "node:net";
import { dirname, join, resolve } from "node:path";
import { after, before } from "node:test";
import { fileURLToPath } from "node:url";
import { chromium, type Browser, type Page } from "playwright-core";
import { common, createClient, order } from "@tradeassure/sdk/node";

const here = dirname(fileURLToPath(import.meta.url));
const appDir = resolve(here, "..");
const repo = resolve(appDir, "..");
export const server = process.env["TRADEASSURE_URL"] ?? "";
const keysPath = process.env["KEYS"] ?? "";
const artifacts = process.env["ARTIFACTS"] ?? join(repo, "artifacts");
const axePath = createRequire(import.meta.url).resolve("axe-core/axe.min.js");
export const timeout = 20_000;

export let keys: Record<string, { api_key: string; account_id: string }>;
let preview: ChildProcess | undefined;
export let appUrl = "";
export let browser: Browser | undefined;

export function key(who: string): string {
  const k = keys[who]?.api_key;
  assert.ok(k, `no key for ${who} in ${keysPath}`);
  return k;
}

/** A buyer account of a test's own, made by the operator through the API, with a key and a client. */
export async function newBuyer(name: string, country: string) {
  const op = sdk("operator");
  const tag = `${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 6)}`;
  const { account } = await op.admin.createAccount({ role: common.Role.BUYER, name, email: `desk-buyer-${tag}@example.com`, country });
  assert.ok(account);
  const { secret } = await op.admin.createApiKey({ accountId: account.id, name: `desk test: ${name}` });
  return { account, secret, client: createClient(server, secret) };
}

/** Valid USD order terms for a test's order: a product's line, FCA by air, paid in full, shipped within 14 days of now. */
export function usdTerms(productId: string, quantity: bigint, now: { seconds: bigint }, shippingFeeMinor = 0n) {
  return {
    lines: [{ productId, quantity }],
    currency: "USD",
    shippingFeeMinor,
    shippingAddress: { recipientName: "Desk Test Receiving", phone: "+1 217 555 0100", country: "US", lines: ["1200 Commerce Way"], city: "Springfield", postalCode: "62701" },
    tradeTerm: order.TradeTerm.FCA,
    shippingMethod: order.ShippingMethod.AIR,
    paymentTerms: { kind: order.PaymentTerms_Kind.FULL },
    coverageType: order.CoverageType.POST_DELIVERY,
    shipByTime: { seconds: now.seconds + 14n * 86400n, nanos: 0 },
  };
}

export function sdk(who: string) {
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
export async function signIn(who: string, phone = false): Promise<Page> {
  return signInWith(key(who), who, phone);
}

/** Opens the desk in a fresh browser context and signs in with an API key. */
export async function signInWith(apiKey: string, who: string, phone = false): Promise<Page> {
  assert.ok(browser);
  const ctx = await browser.newContext({ viewport: phone ? { width: 390, height: 844 } : { width: 1280, height: 900 } });
  const page = await ctx.newPage();
  page.setDefaultTimeout(timeout);
  page.on("pageerror", (e) => console.error(`[${who}] page error: ${e.message}`));
  await page.goto(`${appUrl}/?server=${encodeURIComponent(server)}`);
  await page.getByLabel("API key").fill(apiKey);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByTestId("who").waitFor();
  return page;
}

/** Opens a screen by its address, as a bookmarked link would (the tab keeps its sign-in), and waits until it has loaded. */
export async function go(page: Page, hash: string): Promise<void> {
  const target = `${appUrl}/?server=${encodeURIComponent(server)}${hash}`;
  // Going to the address already shown would only move within the page; load it again instead.
  if (page.url() === target) await page.reload();
  else await page.goto(target);
  await page.getByTestId("who").waitFor();
  await page.waitForSelector("section[aria-busy=false]");
}

/** Clicks an action, fills its form by label and submits it, and waits for the view to reload. */
export async function act(page: Page, action: string, fields: Record<string, string> = {}, selects: Record<string, string> = {}): Promise<void> {
  await page.getByRole("group", { name: "Actions" }).getByRole("button", { name: action, exact: true }).click();
  const form = page.getByRole("form", { name: action });
  for (const [name, value] of Object.entries(fields)) await form.getByLabel(name, { exact: false }).fill(value);
  for (const [name, value] of Object.entries(selects)) await form.getByLabel(name, { exact: false }).selectOption({ label: value });
  await form.getByRole("button", { name: Object.keys(fields).length || Object.keys(selects).length ? action : `Confirm: ${action}` }).click();
  await page.locator("#toast").getByText(`${action}: done`).waitFor();
}

/** Pays the open order from its page: the "Pay" link, a method by its label (with a card token for card), the submit; waits for the order page again. */
export async function pay(page: Page, method: string, cardToken = ""): Promise<void> {
  await page.getByRole("link", { name: "Pay", exact: true }).click();
  const form = page.getByRole("form", { name: "Pay the order" });
  await form.getByLabel(method, { exact: true }).check();
  if (cardToken) await form.getByLabel("Card token").fill(cardToken);
  await form.getByRole("button", { name: new RegExp(`^Pay .* by ${method.replace(/[()/]/g, "\\$&")}$`) }).click();
  await page.waitForFunction(() => location.hash.startsWith("#/orders/"));
  await page.waitForSelector("section[aria-busy=false] [data-testid=order-state]");
}

export async function stateIs(page: Page, testId: string, want: string): Promise<void> {
  await page.waitForFunction(([id, w]) => document.querySelector(`[data-testid=${id}]`)?.textContent === w, [testId, want], { timeout });
}

/** Fails on any axe-core violation of WCAG 2 A/AA on the current screen. */
export async function accessible(page: Page, what: string): Promise<void> {
  await page.addScriptTag({ path: axePath });
  const violations = await page.evaluate(async () => {
    const axe = (window as unknown as { axe: { run: (ctx: Document, o: object) => Promise<{ violations: { id: string; help: string; nodes: { target: string[] }[] }[] }> } }).axe;
    const r = await axe.run(document, { runOnly: { type: "tag", values: ["wcag2a", "wcag2aa"] } });
    return r.violations.map((v) => `${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(" ")).join(", ")})`);
  });
  assert.deepEqual(violations, [], `${what}: accessibility violations`);
}

export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(artifacts, { recursive: true });
  const path = join(artifacts, `desk-${name}.png`);
  await page.screenshot({ path, fullPage: true });
  console.log(`screenshot: ${path}`);
}


/** Waits for a condition; when it does not come, fails with what the page's alerts say instead. */
export async function explain<T>(page: Page, waiting: Promise<T>): Promise<T> {
  try {
    return await waiting;
  } catch (e) {
    const alerts = await page.locator("[role=alert], #toast").allInnerTexts().catch(() => []);
    throw new Error(`${(e as Error).message}\nthe page says: ${alerts.filter((a) => a.trim()).join(" | ") || "(nothing)"}`);
  }
}
