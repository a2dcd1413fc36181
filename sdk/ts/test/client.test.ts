// Unit tests of the SDK's conveniences against in-memory fakes of the services.
import assert from "node:assert/strict";
import { test } from "node:test";
import { Code, ConnectError, createRouterTransport, type ConnectRouter } from "@connectrpc/connect";
import { toBinary } from "@bufbuild/protobuf";
import {
  admin,
  asError,
  buildClient,
  common,
  create,
  ErrorReason,
  event,
  formatMoney,
  order,
  parseMoney,
  timeLeft,
  type ClientOptions,
  type TradeassureClient,
} from "@tradeassure/sdk";

const fast: ClientOptions = { retry: { initialBackoffMs: 1, maxBackoffMs: 5 } };

/** A client whose transport is an in-memory router serving fakes. */
function fakeClient(routes: (r: ConnectRouter) => void, options: ClientOptions = fast, apiKey = "ta_test"): TradeassureClient {
  return buildClient("https://in-memory", apiKey, options, (_kind, _baseUrl, interceptors) =>
    createRouterTransport(routes, { transport: { interceptors } }),
  );
}

const unavailable = () => new ConnectError("overloaded", Code.Unavailable);

test("a mutation gets a request id that is reused on retry, and the caller's message is untouched", async () => {
  const seen: string[] = [];
  const auth: string[] = [];
  let failures = 2;
  const ta = fakeClient((r) =>
    r.service(order.OrderService, {
      createOrder(req, ctx) {
        seen.push(req.requestId);
        auth.push(ctx.requestHeader.get("Authorization") ?? "");
        if (failures-- > 0) throw unavailable();
        return { order: { id: "ord_1" } };
      },
    }),
  );
  const req = create(order.CreateOrderRequestSchema, { buyerEmail: "buyer@acme.example" });
  const res = await ta.orders.createOrder(req);
  assert.equal(res.order?.id, "ord_1");
  assert.equal(seen.length, 3);
  assert.match(seen[0] ?? "", /^sdk-[0-9a-f]{32}$/);
  assert.deepEqual(new Set(seen).size, 1, `one id on every attempt: ${seen.join(",")}`);
  assert.equal(req.requestId, "");
  assert.deepEqual(auth, ["Bearer ta_test", "Bearer ta_test", "Bearer ta_test"]);
  await ta.orders.createOrder(req);
  assert.notEqual(seen[3], seen[0], "a new call gets a new id");
});

test("a request id the caller chose is kept", async () => {
  const seen: string[] = [];
  let failures = 1;
  const ta = fakeClient((r) =>
    r.service(order.OrderService, {
      acceptOrder(req) {
        seen.push(req.requestId);
        if (failures-- > 0) throw unavailable();
        return { order: { id: req.orderId } };
      },
    }),
  );
  await ta.orders.acceptOrder({ requestId: "erp-42", orderId: "ord_1" });
  assert.deepEqual(seen, ["erp-42", "erp-42"]);
});

test("an etag conflict, bad input and a failed precondition are not retried", async () => {
  for (const code of [Code.Aborted, Code.InvalidArgument, Code.FailedPrecondition]) {
    let calls = 0;
    const ta = fakeClient((r) =>
      r.service(order.OrderService, {
        acceptOrder() {
          calls++;
          throw new ConnectError("no", code);
        },
      }),
    );
    await assert.rejects(ta.orders.acceptOrder({ orderId: "ord_1" }), (e: unknown) => asError(e)?.code === code);
    assert.equal(calls, 1, Code[code]);
  }
});

test("reads are retried up to maxAttempts; retry: false makes one attempt", async () => {
  let calls = 0;
  const routes = (r: ConnectRouter) =>
    r.service(order.OrderService, {
      getOrder() {
        calls++;
        throw unavailable();
      },
    });
  await assert.rejects(fakeClient(routes).orders.getOrder({ orderId: "x" }), (e: unknown) => asError(e)?.code === Code.Unavailable);
  assert.equal(calls, 4);
  calls = 0;
  await assert.rejects(fakeClient(routes, { retry: false }).orders.getOrder({ orderId: "x" }));
  assert.equal(calls, 1);
});

test("a mutation without a request_id field is never retried", async () => {
  let calls = 0;
  const ta = fakeClient((r) =>
    r.service(admin.AdminService, {
      advanceClock() {
        calls++;
        throw unavailable();
      },
    }),
  );
  await assert.rejects(ta.admin.advanceClock({ seconds: 60n }));
  assert.equal(calls, 1);
});

test("allOrders follows next_page_token and stops when the loop breaks", async () => {
  const pages: Record<string, { ids: string[]; next: string }> = {
    "": { ids: ["a", "b"], next: "t1" },
    t1: { ids: ["c", "d"], next: "t2" },
    t2: { ids: ["e"], next: "" },
  };
  const tokens: string[] = [];
  const ta = fakeClient((r) =>
    r.service(order.OrderService, {
      listOrders(req) {
        tokens.push(req.pageToken);
        const p = pages[req.pageToken];
        if (!p) throw new ConnectError("bad token", Code.InvalidArgument);
        return { orders: p.ids.map((id) => ({ id })), nextPageToken: p.next };
      },
    }),
  );
  const ids: string[] = [];
  for await (const o of ta.allOrders({ pageSize: 2 })) ids.push(o.id);
  assert.deepEqual(ids, ["a", "b", "c", "d", "e"]);
  assert.deepEqual(tokens, ["", "t1", "t2"]);
  tokens.length = 0;
  for await (const o of ta.allOrders({ pageSize: 2 })) if (o.id === "b") break;
  assert.deepEqual(tokens, [""]);
});

test("follow skips heartbeats and resumes after the last event", async () => {
  const cursors: string[] = [];
  const scripts: { ids: string[]; end: ConnectError | null }[] = [
    { ids: ["", "1", "2"], end: unavailable() },
    { ids: ["", "3"], end: new ConnectError("proxy reset", Code.Internal) },
    { ids: ["", "", "4"], end: null },
  ];
  const ta = fakeClient((r) =>
    r.service(event.EventService, {
      async *watchEvents(req, ctx) {
        cursors.push(req.afterId);
        const s = scripts.shift() ?? { ids: [], end: null };
        for (const id of s.ids) {
          yield id === "" ? {} : { event: { id, type: "order.drafted" } };
        }
        if (s.end) throw s.end;
        await new Promise<void>((ok) => ctx.signal.addEventListener("abort", () => ok()));
      },
    }),
  );
  const got: string[] = [];
  let heartbeats = 0;
  for await (const e of ta.follow({ afterId: "0" }, { onHeartbeat: () => heartbeats++ })) {
    got.push(e.id);
    if (got.length === 4) break;
  }
  assert.deepEqual(got, ["1", "2", "3", "4"]);
  assert.deepEqual(cursors, ["0", "2", "3"]);
  assert.equal(heartbeats, 4);
});

test("follow throws a permanent failure", async () => {
  const ta = fakeClient((r) =>
    r.service(event.EventService, {
      // eslint-disable-next-line require-yield
      async *watchEvents() {
        throw new ConnectError("no key", Code.Unauthenticated);
      },
    }),
  );
  await assert.rejects(
    (async () => {
      for await (const _ of ta.follow()) {
        // nothing arrives
      }
    })(),
    (e: unknown) => asError(e)?.code === Code.Unauthenticated,
  );
});

test("asError reads the reason, metadata and field violations", () => {
  const detail = create(common.ErrorDetailSchema, {
    reason: ErrorReason.TRADE_ASSURANCE_LIMIT_EXCEEDED,
    metadata: { limit_usd_minor: "500000", covered_usd_minor: "750000" },
    fieldViolations: [{ field: "terms.lines", description: "too much" }],
  });
  // Details arrive serialized, as a client receives them.
  const received = new ConnectError("the covered amount exceeds the limit", Code.FailedPrecondition);
  received.details = [{ type: common.ErrorDetailSchema.typeName, value: toBinary(common.ErrorDetailSchema, detail) }];
  const e = asError(received);
  assert.ok(e);
  assert.equal(e.reason, ErrorReason.TRADE_ASSURANCE_LIMIT_EXCEEDED);
  assert.equal(e.reasonName, "TRADE_ASSURANCE_LIMIT_EXCEEDED");
  assert.equal(e.metadata["limit_usd_minor"], "500000");
  assert.deepEqual(e.fieldViolations, [{ field: "terms.lines", description: "too much" }]);
  assert.equal(
    e.message,
    "failed_precondition TRADE_ASSURANCE_LIMIT_EXCEEDED: the covered amount exceeds the limit (terms.lines: too much; covered_usd_minor=750000; limit_usd_minor=500000)",
  );
  assert.equal(asError(new TypeError("fetch failed"))?.code, Code.Unavailable);
  assert.equal(asError(undefined), undefined);
});

test("money and deadlines read well", () => {
  assert.equal(formatMoney({ amountMinor: 267500n, currency: "USD" }), "2,675.00 USD");
  assert.equal(formatMoney({ amountMinor: -5n, currency: "USD" }), "-0.05 USD");
  assert.equal(formatMoney({ amountMinor: 1200n, currency: "JPY" }), "1,200 JPY");
  assert.equal(parseMoney("12.5", "USD"), 1250n);
  assert.equal(parseMoney("1,200", "USD"), 120000n);
  assert.equal(parseMoney("1.234", "USD"), undefined);
  const now = new Date("2026-03-04T09:00:00Z");
  assert.equal(timeLeft(new Date("2026-03-06T12:04:05Z"), now).text, "2d 03:04:05 left");
  assert.equal(timeLeft(new Date("2026-03-04T08:00:00Z"), now).text, "passed 01:00:00 ago");
});


test("a rate-limited call is retried after the server's hint, not the shorter backoff; a hint beyond maxRetryAfterMs is thrown at once", async () => {
  const throttled = (ms: number) => {
    const err = new ConnectError("over its rate", Code.ResourceExhausted);
    const detail = create(common.ErrorDetailSchema, { reason: ErrorReason.RATE_LIMITED, metadata: { retry_after_ms: String(ms) } });
    err.details = [{ type: common.ErrorDetailSchema.typeName, value: toBinary(common.ErrorDetailSchema, detail) }];
    return err;
  };
  const times: number[] = [];
  let hintMs = 60;
  const routes = (r: ConnectRouter) =>
    r.service(order.OrderService, {
      getOrder() {
        times.push(performance.now());
        if (times.length === 1) {
          throw throttled(hintMs);
        }
        return create(order.GetOrderResponseSchema, {});
      },
    });
  await fakeClient(routes).orders.getOrder({ orderId: "x" });
  assert.equal(times.length, 2);
  assert.ok(times[1]! - times[0]! >= hintMs - 1, `retried after ${times[1]! - times[0]!}ms, hint ${hintMs}ms`);

  times.length = 0;
  hintMs = 3_600_000;
  await assert.rejects(fakeClient(routes).orders.getOrder({ orderId: "x" }), (e: unknown) => asError(e)?.reason === ErrorReason.RATE_LIMITED);
  assert.equal(times.length, 1);
});
