import { fromJsonString } from "@bufbuild/protobuf";
import { EventSchema, type Event } from "./gen/tradeassure/event/v1/event_pb.js";
import { registry } from "./payload.js";

/** How far (in seconds) a delivery's webhook-timestamp may be from now when no tolerance is given. */
export const DEFAULT_WEBHOOK_TOLERANCE_SECONDS = 300;

/** Why verifyWebhook refused a delivery; a receiver answers 400 or 401 and the server retries. */
export type WebhookErrorKind = "headers" | "timestamp" | "signature" | "body" | "secret";

/** A delivery that did not verify. */
export class WebhookVerificationError extends Error {
  override readonly name = "WebhookVerificationError";
  constructor(
    readonly kind: WebhookErrorKind,
    message: string,
  ) {
    super(`tradeassure: ${message}`);
  }
}

/** The request headers: a fetch Headers object, or Node's IncomingHttpHeaders (lower-case names). */
export type WebhookHeaders = Headers | Record<string, string | string[] | undefined>;

function header(headers: WebhookHeaders, name: string): string {
  if (typeof (headers as Headers).get === "function") {
    return (headers as Headers).get(name) ?? "";
  }
  const rec = headers as Record<string, string | string[] | undefined>;
  const v = rec[name] ?? rec[Object.keys(rec).find((k) => k.toLowerCase() === name) ?? ""];
  return Array.isArray(v) ? (v[0] ?? "") : (v ?? "");
}

function fromBase64(s: string): Uint8Array {
  const bin = atob(s);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

/** Compares in time that depends only on the lengths, not on where the bytes differ. */
function equalConstantTime(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= (a[i] ?? 0) ^ (b[i] ?? 0);
  return diff === 0;
}

/**
 * Verifies a webhook delivery per the Standard Webhooks specification and returns the event it
 * carries: one of the v1 signatures in webhook-signature must be the HMAC-SHA256, under the secret
 * ("whsec_…"), of "<webhook-id>.<webhook-timestamp>.<body>" (compared in constant time), and the
 * timestamp must be within toleranceSeconds of now (default 5 minutes). During a secret rotation the
 * server sends one signature per secret, so either secret verifies.
 *
 * Pass the raw body exactly as received (a string or the bytes), before any JSON parsing. Deliveries
 * are at least once: deduplicate by the event id, which is the webhook-id. Uses Web Crypto, so it
 * works in Node 20+, browsers, Deno and edge runtimes.
 *
 * @throws WebhookVerificationError
 */
export async function verifyWebhook(
  secret: string,
  headers: WebhookHeaders,
  body: string | Uint8Array,
  toleranceSeconds: number = DEFAULT_WEBHOOK_TOLERANCE_SECONDS,
  now: Date = new Date(),
): Promise<Event> {
  let key: Uint8Array;
  try {
    key = fromBase64(secret.startsWith("whsec_") ? secret.slice("whsec_".length) : secret);
  } catch {
    throw new WebhookVerificationError("secret", "the webhook secret is not a whsec_ secret");
  }
  if (key.length === 0) throw new WebhookVerificationError("secret", "the webhook secret is empty");
  const id = header(headers, "webhook-id");
  const ts = header(headers, "webhook-timestamp");
  const signatures = header(headers, "webhook-signature");
  if (id === "" || ts === "" || signatures === "" || !/^[0-9]{1,15}$/.test(ts)) {
    throw new WebhookVerificationError("headers", "webhook headers missing or malformed");
  }
  const tolerance = toleranceSeconds > 0 ? toleranceSeconds : DEFAULT_WEBHOOK_TOLERANCE_SECONDS;
  const skew = Math.floor(now.getTime() / 1000) - Number(ts);
  if (skew > tolerance || -skew > tolerance) {
    throw new WebhookVerificationError("timestamp", `webhook timestamp ${ts} is outside the tolerance of ${tolerance}s`);
  }
  const bytes = typeof body === "string" ? new TextEncoder().encode(body) : body;
  const prefix = new TextEncoder().encode(`${id}.${ts}.`);
  const signed = new Uint8Array(prefix.length + bytes.length);
  signed.set(prefix);
  signed.set(bytes, prefix.length);
  const hmac = await globalThis.crypto.subtle.importKey("raw", key as BufferSource, { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  const expected = new Uint8Array(await globalThis.crypto.subtle.sign("HMAC", hmac, signed as BufferSource));
  let ok = false;
  for (const part of signatures.split(" ")) {
    const comma = part.indexOf(",");
    if (comma < 0 || part.slice(0, comma) !== "v1") continue;
    let got: Uint8Array;
    try {
      got = fromBase64(part.slice(comma + 1));
    } catch {
      continue;
    }
    // Every signature is compared, so timing tells nothing about which one matched.
    if (equalConstantTime(got, expected)) ok = true;
  }
  if (!ok) throw new WebhookVerificationError("signature", "webhook signature does not match");
  let event: Event;
  try {
    event = fromJsonString(EventSchema, new TextDecoder().decode(bytes), { registry, ignoreUnknownFields: true });
  } catch (err) {
    throw new WebhookVerificationError("body", `webhook body is not an event: ${String(err)}`);
  }
  if (event.id !== id) throw new WebhookVerificationError("body", `webhook-id ${id} does not match the event id ${event.id}`);
  return event;
}
