// Drives the browser app in headless Chromium against a real server: a buyer returns goods, the
// supplier declines, the buyer disputes, the supplier rejects with a counter-offer, the buyer escalates,
// the arbiter rules, and the buyer's page shows the refund. Each person has a browser context of their
// own and sees the others' steps arrive live through the event feed.
//
// Run by examples/browser/test.sh under examples/with-dev-server.sh, which exports TRADEASSURE_URL and
// KEYS; the app must be built (npm run build). CHROMIUM names the browser (default /usr/bin/chromium);
// ARTIFACTS the folder for the screenshot (default <repo>/artifacts).
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { mkdirSync, readFileSync } from "node:fs";
import { createServer } from "node:net";
import { dirname, join, resolve } from "node:path";
import { after, before, test } from "node:test";
import { fileURLToPath } from "node:url";
import { chromium, type Browser, type Page } from "playwright-core";
import { common, createClient, order, timestampFromDate, type TradeassureClient } from "@tradeassure/sdk/node";

const here = dirname(fileURLToPath(import.meta.url));
const appDir = resolve(here, "..");
const repo = resolve(appDir, "..", "..");
const server = process.env["TRADEASSURE_URL"] ?? "";
const keysPath = process.env["KEYS"] ?? "";
const artifacts = process.env["ARTIFACTS"] ?? join(repo, "artifacts");

interface DevKey {
  api_key: string;
  email: string;
  product_ids?: string[];
}

let keys: Record<string, DevKey>;
let preview: ChildProcess | undefined;
let appUrl = "";
let browser: Browser | undefined;
let previewLog = "";

function key(who: string): string {
  const k = keys[who]?.api_key;
  assert.ok(k, `no key for ${who} in ${keysPath}`);
  return k;
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
  assert.ok(server && keysPath, "run under examples/with-dev-server.sh (TRADEASSURE_URL and KEYS)");
  keys = JSON.parse(readFileSync(keysPath, "utf8")) as Record<string, DevKey>;
  const port = await freePort();
  preview = spawn(process.execPath, [join(appDir, "node_modules", "vite", "bin", "vite.js"), "preview", "--port", String(port), "--strictPort"], {
    cwd: appDir,
    stdio: ["ignore", "pipe", "pipe"],
  });
  preview.stdout?.on("data", (b: Buffer) => (previewLog += b.toString()));
  preview.stderr?.on("data", (b: Buffer) => (previewLog += b.toString()));
  appUrl = `http://127.0.0.1:${port}`;
  for (let i = 0; ; i++) {
    try {
      if ((await fetch(appUrl)).ok) break;
    } catch {
      // not up yet
    }
    assert.ok(i < 150 && preview.exitCode === null, `vite preview did not start:\n${previewLog}`);
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

/** A delivered retail order (the buyer may escalate once the supplier rejects), made through the SDK. */
async function deliveredOrder(): Promise<string> {
  const supplier: TradeassureClient = createClient(server, key("supplier"));
  const buyer = createClient(server, key("buyer"));
  const operator = createClient(server, key("operator"));
  const product = keys["supplier"]?.product_ids?.[1] ?? "";
  const { order: o } = await supplier.orders.createOrder({
    policy: common.Policy.RETAIL,
    buyerEmail: keys["buyer"]?.email ?? "",
    terms: {
      lines: [{ productId: product, quantity: 10n }],
      currency: "USD",
      shippingFeeMinor: 30_00n,
      shippingAddress: { recipientName: "Acme Receiving", phone: "+1 555 0100", country: "US", lines: ["1 Main St"], city: "Springfield" },
      tradeTerm: order.TradeTerm.DAP,
      shippingMethod: order.ShippingMethod.EXPRESS,
      paymentTerms: { kind: order.PaymentTerms_Kind.FULL },
      coverageType: order.CoverageType.POST_DELIVERY,
      shipByTime: timestampFromDate(new Date(Date.now() + 5 * 86400_000)),
    },
  });
  assert.ok(o);
  await buyer.orders.acceptOrder({ orderId: o.id });
  await buyer.orders.payOrder({ orderId: o.id, method: order.PaymentMethod.CARD, cardToken: "tok_4242424242424242" });
  await supplier.orders.shipOrder({ orderId: o.id, carrier: "UPS", trackingNumber: "1Z999AA10123456784" });
  await operator.orders.recordDelivery({ orderId: o.id });
  return o.id;
}

/** Opens the app in a fresh browser context and signs in. */
async function signIn(who: string, transport: "connect" | "grpc-web" = "connect"): Promise<Page> {
  assert.ok(browser);
  const ctx = await browser.newContext({ viewport: { width: 1280, height: 1000 } });
  const page = await ctx.newPage();
  page.on("pageerror", (e) => console.error(`[${who}] page error: ${e.message}`));
  await page.goto(`${appUrl}/?server=${encodeURIComponent(server)}`);
  await page.fill("input[name=apiKey]", key(who));
  await page.selectOption("select[name=transport]", transport);
  await page.click("[data-action=sign-in]");
  await page.waitForSelector("[data-test=signed-in-as]");
  return page;
}

/** Fills and submits the inline form that a card action opened. */
async function submitForm(page: Page, form: string, fields: Record<string, string>): Promise<void> {
  const f = page.locator(`form[data-form=${form}]`);
  for (const [name, value] of Object.entries(fields)) {
    await f.locator(`[name=${name}]`).fill(value);
  }
  await f.locator("[data-action=submit]").click();
  await f.waitFor({ state: "detached" });
}

test("a return declined, disputed, escalated and ruled, with the refund on the buyer's page", async () => {
  const orderId = await deliveredOrder();
  const buyer = await signIn("buyer");
  const supplier = await signIn("supplier");
  const arbiter = await signIn("arbiter", "grpc-web");
  const expect = async (page: Page, selector: string, text?: string) => {
    const loc = page.locator(selector).first();
    await loc.waitFor({ timeout: 15000 });
    if (text !== undefined) {
      await page.waitForFunction(
        ([sel, t]) => (document.querySelector(sel as string)?.textContent ?? "").includes(t as string),
        [selector, text],
        { timeout: 15000 },
      );
    }
  };

  // The buyer sees the delivered order and asks to return the goods.
  await expect(buyer, `[data-order="${orderId}"] [data-state=DELIVERED]`);
  await buyer.click(`[data-order="${orderId}"] [data-action=request-return]`);
  await submitForm(buyer, "return", { description: "Speakers crackle at any volume", evidence: "https://files.example/crackle.mp4" });
  await expect(buyer, "[data-return] [data-state=REQUESTED]");
  // Deadlines are live countdowns.
  const cd = buyer.locator("[data-return] [data-countdown=supplier-answer]");
  const before = await cd.textContent();
  assert.match(before ?? "", /^23:59:\d\d left$/);
  await buyer.waitForFunction((b) => document.querySelector("[data-return] [data-countdown=supplier-answer]")?.textContent !== b, before, { timeout: 5000 });

  // The supplier declines it; the buyer's page updates by itself from the event feed.
  await supplier.click("[data-return] [data-action=decline-return]");
  await submitForm(supplier, "decline", { note: "The speakers pass our output test." });
  await expect(supplier, "[data-return] [data-state=DECLINED]");
  await expect(buyer, "[data-return] [data-state=DECLINED]");

  // The buyer disputes the declined return, asking for 60.00 USD back.
  await buyer.click("[data-return] [data-action=dispute-return]");
  await submitForm(buyer, "dispute", { amount: "60.00", description: "Crackling speakers, the supplier refuses the return", evidence: "https://files.example/crackle.mp4" });
  await expect(buyer, "[data-dispute] [data-state=AWAITING_RESPONSE]");
  await expect(buyer, "[data-dispute] [data-countdown=supplier-response]", "left");

  // The supplier answers: rejects, offering 20.00 USD with evidence.
  await expect(supplier, "[data-dispute] [data-state=AWAITING_RESPONSE]");
  await supplier.click("[data-dispute] [data-action=reject-dispute]");
  await submitForm(supplier, "respond", { amount: "20.00", note: "Output test attached; we offer 20.00 USD", evidence: "https://files.example/output-test.pdf" });
  await expect(supplier, "[data-dispute] [data-state=NEGOTIATING]");

  // The buyer escalates to the platform.
  await expect(buyer, "[data-dispute] [data-state=NEGOTIATING]");
  await expect(buyer, "[data-dispute] [data-action=accept-offer]", "20.00 USD");
  await buyer.click("[data-dispute] [data-action=escalate]");
  await submitForm(buyer, "escalate", { note: "20.00 USD does not cover a crackling speaker" });
  await expect(buyer, "[data-dispute] [data-state=ESCALATED]");

  // The arbiter (over gRPC-Web) finds the dispute in its queue and rules 45.00 USD against the supplier.
  await expect(arbiter, "[data-dispute] [data-state=ESCALATED]");
  await arbiter.click("[data-dispute] [data-action=rule]");
  await submitForm(arbiter, "rule", { amount: "45.00", note: "The recording shows the defect; 45.00 USD covers a replacement speaker." });
  await expect(arbiter, "[data-dispute] [data-state=RULED]");

  // The buyer's page shows the refund on the dispute and on the order.
  await expect(buyer, "[data-dispute] [data-test=dispute-refund]", "Refunded 45.00 USD");
  await expect(buyer, `[data-order="${orderId}"] [data-test=order-refunded]`, "refunded 45.00 USD");
  mkdirSync(artifacts, { recursive: true });
  const shot = join(artifacts, "browser-dispute-ruled.png");
  await buyer.screenshot({ path: shot, fullPage: true });
  console.log(`screenshot: ${shot}`);
});
