// verifyWebhook against the Standard Webhooks library's signatures, and against real deliveries from a
// tradeassured in development mode to a receiver on loopback.
import assert from "node:assert/strict";
import { createServer, type IncomingHttpHeaders } from "node:http";
import { after, before, test } from "node:test";
import { Webhook } from "standardwebhooks";
import { create, createClient, event, toJsonString, verifyWebhook, WebhookVerificationError } from "@tradeassure/sdk/node";
import { startDevServer, type DevServer } from "./devserver.js";

const secretA = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const secretB = "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD";
const body = toJsonString(event.EventSchema, create(event.EventSchema, { id: "42", type: "order.paid", subjectType: "order", subjectId: "ord_1" }));

/** Headers signed by the Standard Webhooks library (not by this SDK or the server). */
function signed(at: Date, payload: string, ...secrets: string[]): Record<string, string> {
  return {
    "webhook-id": "42",
    "webhook-timestamp": String(Math.floor(at.getTime() / 1000)),
    "webhook-signature": secrets.map((s) => new Webhook(s).sign("42", at, payload)).join(" "),
  };
}

async function rejects(p: Promise<unknown>, kind: string): Promise<void> {
  await assert.rejects(p, (err: unknown) => err instanceof WebhookVerificationError && err.kind === kind);
}

test("verifyWebhook checks the signature, the tolerance on both sides and every signature sent", async () => {
  const now = new Date(1_780_000_000_000);
  const at = (s: number) => new Date(now.getTime() + s * 1000);
  const ev = await verifyWebhook(secretA, signed(now, body, secretA), body, undefined, now);
  assert.equal(ev.type, "order.paid");
  assert.equal(ev.subjectId, "ord_1");
  await verifyWebhook(secretA, signed(at(-299), body, secretA), new TextEncoder().encode(body), undefined, now);
  await rejects(verifyWebhook(secretA, signed(at(-301), body, secretA), body, undefined, now), "timestamp");
  await verifyWebhook(secretA, signed(at(299), body, secretA), body, undefined, now);
  await rejects(verifyWebhook(secretA, signed(at(301), body, secretA), body, undefined, now), "timestamp");
  await verifyWebhook(secretA, signed(at(-3600), body, secretA), body, 7200, now);
  await rejects(verifyWebhook(secretA, signed(now, body, secretA), body.replace("paid", "closed"), undefined, now), "signature");
  await rejects(verifyWebhook(secretB, signed(now, body, secretA), body, undefined, now), "signature");
  await rejects(verifyWebhook(secretA, { ...signed(now, body, secretA), "webhook-id": "43" }, body, undefined, now), "signature");
  // A rotation: two signatures, either secret verifies.
  const rotated = signed(now, body, secretB, secretA);
  await verifyWebhook(secretA, rotated, body, undefined, now);
  await verifyWebhook(secretB, rotated, body, undefined, now);
  await rejects(verifyWebhook(secretA, { ...rotated, "webhook-signature": "" }, body, undefined, now), "headers");
  await rejects(verifyWebhook(secretA, { ...rotated, "webhook-timestamp": "soon" }, body, undefined, now), "headers");
  await rejects(verifyWebhook(secretA, { ...rotated, "webhook-signature": "v2,abc" }, body, undefined, now), "signature");
  // Fetch Headers work too.
  await verifyWebhook(secretA, new Headers(signed(now, body, secretA)), body, undefined, now);
});

let dev: DevServer;
before(async () => {
  dev = await startDevServer();
});
after(async () => {
  await dev?.stop();
});

test("real deliveries verify, with both secrets during a rotation, and tampering is refused", async () => {
  const got: { headers: IncomingHttpHeaders; body: string }[] = [];
  const rx = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      got.push({ headers: req.headers, body: Buffer.concat(chunks).toString("utf8") });
      res.end("ok");
    });
  });
  await new Promise<void>((ok) => rx.listen(0, "127.0.0.1", ok));
  try {
    const addr = rx.address();
    const port = typeof addr === "object" && addr !== null ? addr.port : 0;
    const ta = createClient(dev.baseUrl, dev.keys["buyer"]?.api_key ?? "");
    const created = await ta.webhooks.createWebhookEndpoint({ url: `http://127.0.0.1:${port}/hooks` });
    const id = created.endpoint?.id ?? "";
    const rotated = await ta.webhooks.rotateWebhookSecret({ id, gracePeriod: { seconds: 3600n } });
    const test1 = await ta.webhooks.sendTestWebhook({ endpointId: id });
    assert.equal(test1.delivery?.attempts[0]?.httpStatus, 200);
    // The rotation's own event (webhook_endpoint.secret_rotated) is delivered to the endpoint too, in the
    // background: pick the test delivery by its webhook-id, whatever arrived around it.
    const d = got.find((g) => g.headers["webhook-id"] === test1.delivery?.webhookId);
    assert.ok(d, `the test delivery arrived (got ${got.map((g) => g.headers["webhook-id"]).join(", ")})`);
    for (const s of [created.secret, rotated.secret]) {
      const ev = await verifyWebhook(s, d.headers, d.body);
      assert.equal(ev.type, "webhook.test");
      assert.equal(ev.subjectId, id);
      // The Standard Webhooks library accepts it as well.
      new Webhook(s).verify(d.body, d.headers as Record<string, string>);
    }
    await rejects(verifyWebhook(created.secret, d.headers, d.body + " "), "signature");
    await rejects(verifyWebhook(created.secret, d.headers, d.body, 300, new Date(Date.now() + 6 * 60_000)), "timestamp");
  } finally {
    rx.close();
  }
});
