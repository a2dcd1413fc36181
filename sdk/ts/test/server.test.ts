// End-to-end tests of the SDK against a real tradeassured (--dev, temporary SQLite database), in every
// protocol, through both entry points.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import * as web from "@tradeassure/sdk";
import {
  asError,
  Code,
  common,
  createClient,
  ErrorReason,
  eventPayload,
  isMessage,
  order,
  timestampFromDate,
  type TradeassureClient,
  type TransportKind,
} from "@tradeassure/sdk/node";
import { startDevServer, type DevServer } from "./devserver.js";

let dev: DevServer;
before(async () => {
  dev = await startDevServer();
});
after(async () => {
  await dev?.stop();
});

function key(who: string): string {
  const p = dev.keys[who];
  assert.ok(p, `no dev key for ${who}`);
  return p.api_key;
}

/** Valid terms for quantity of the supplier's first product: FCA by air, full payment. */
function draft(quantity: bigint) {
  const product = dev.keys["supplier"]?.product_ids?.[0] ?? "";
  return {
    policy: common.Policy.TRADE_ASSURANCE,
    buyerEmail: "buyer@acme.example",
    terms: {
      lines: [{ productId: product, quantity }],
      currency: "USD",
      shippingFeeMinor: 150_00n,
      insuranceFeeMinor: 25_00n,
      shippingAddress: {
        recipientName: "Acme Receiving",
        phone: "+1 555 0100",
        country: "US",
        lines: ["1 Main St"],
        city: "Springfield",
        postalCode: "12345",
      },
      tradeTerm: order.TradeTerm.FCA,
      shippingMethod: order.ShippingMethod.AIR,
      paymentTerms: { kind: order.PaymentTerms_Kind.FULL },
      coverageType: order.CoverageType.POST_DELIVERY,
      shipByTime: timestampFromDate(new Date(Date.now() + 14 * 86400_000)),
    },
  };
}

const clients: [string, (baseUrl: string, apiKey: string) => TradeassureClient][] = [
  ...(["connect", "grpc-web", "grpc"] as TransportKind[]).map(
    (t): [string, (b: string, k: string) => TradeassureClient] => [`node ${t}`, (b, k) => createClient(b, k, { transport: t })],
  ),
  ...(["connect", "grpc-web"] as TransportKind[]).map(
    (t): [string, (b: string, k: string) => TradeassureClient] => [`fetch ${t}`, (b, k) => web.createClient(b, k, { transport: t })],
  ),
];

for (const [name, make] of clients) {
  describe(name, () => {
    test("who am I", async () => {
      const ta = make(dev.baseUrl, key("supplier"));
      const res = await ta.admin.getAccount({});
      assert.equal(res.account?.role, common.Role.SUPPLIER);
      assert.equal(res.account?.name, "Shenzhen Bright Electronics");
    });

    test("draft, accept and pay an order; the same request id is applied once", async () => {
      const supplier = make(dev.baseUrl, key("supplier"));
      const buyer = make(dev.baseUrl, key("buyer"));
      const { order: o } = await supplier.orders.createOrder(draft(200n));
      assert.ok(o);
      assert.equal(o.state, order.Order_State.DRAFT);
      assert.equal(o.amounts?.total?.amountMinor, 267500n);
      const accepted = await buyer.orders.acceptOrder({ orderId: o.id, etag: o.etag });
      assert.equal(accepted.order?.state, order.Order_State.AWAITING_PAYMENT);
      const requestId = web.newRequestId();
      const pay = { requestId, orderId: o.id, method: order.PaymentMethod.CARD, cardToken: "tok_4242424242424242" };
      const paid = await buyer.orders.payOrder(pay);
      const again = await buyer.orders.payOrder(pay);
      assert.equal(paid.order?.state, order.Order_State.PAID);
      assert.equal(again.payment?.id, paid.payment?.id, "a repeated request id returns the first payment");
      let payments = 0;
      for await (const _ of web.paginate(buyer.orders.listPayments, { orderId: o.id }, (res) => res.payments)) {
        payments++;
      }
      assert.equal(payments, 1);
    });

    test("a rejected draft has a typed error", async () => {
      const supplier = make(dev.baseUrl, key("supplier"));
      const bad = draft(1n);
      bad.terms.tradeTerm = order.TradeTerm.FOB;
      const err = await supplier.orders.createOrder(bad).then(
        () => undefined,
        (e: unknown) => e,
      );
      const e = asError(err);
      assert.ok(e);
      assert.equal(e.code, Code.InvalidArgument);
      assert.equal(e.reason, ErrorReason.TRADE_TERM_SHIPPING_MISMATCH);
      const noPhone = draft(1n);
      noPhone.terms.shippingAddress.phone = "";
      const v = asError(await supplier.orders.createOrder(noPhone).catch((x: unknown) => x));
      assert.equal(v?.reason, ErrorReason.INVALID_FIELD);
      assert.deepEqual(v?.fieldViolations.map((f) => f.field), ["terms.shipping_address.phone"]);
      const anon = asError(await make(dev.baseUrl, "ta_wrong").orders.listOrders({}).catch((x: unknown) => x));
      assert.equal(anon?.code, Code.Unauthenticated);
      assert.equal(anon?.reasonName, "UNAUTHENTICATED");
    });

    test("pages and the event feed", async () => {
      const supplier = make(dev.baseUrl, key("supplier_small"));
      const product = dev.keys["supplier_small"]?.product_ids?.[0] ?? "";
      const created: string[] = [];
      for (let i = 1n; i <= 3n; i++) {
        const d = draft(i);
        d.terms.lines = [{ productId: product, quantity: i }];
        const { order: o } = await supplier.orders.createOrder(d);
        created.push(o?.id ?? "");
      }
      const listed: string[] = [];
      for await (const o of supplier.allOrders({ pageSize: 2 })) listed.push(o.id);
      assert.deepEqual(listed.slice(0, 3), [...created].reverse());

      // The backlog through ListEvents, then the live feed through WatchEvents.
      const backlog: string[] = [];
      for await (const e of supplier.allEvents({ subjectId: created[0] ?? "", pageSize: 1 })) backlog.push(e.type);
      assert.deepEqual(backlog, ["order.drafted"]);
      const ctl = new AbortController();
      const seen: string[] = [];
      const feed = (async () => {
        for await (const e of supplier.follow({ subjectId: created[2] ?? "" }, { signal: ctl.signal })) {
          const p = eventPayload(e);
          assert.ok(p && isMessage(p, order.OrderSchema));
          seen.push(`${e.type} ${order.Order_State[p.state]}`);
          if (seen.length === 2) ctl.abort();
        }
      })();
      await supplier.orders.cancelOrder({
        orderId: created[2] ?? "",
        reason: order.CancellationReason.SUPPLIER,
        note: "out of stock",
      });
      await feed;
      assert.deepEqual(seen, ["order.drafted DRAFT", "order.cancelled CANCELLED"]);
    });
  });
}

test("the browser entry refuses gRPC with a pointer to the Node entry", () => {
  assert.throws(() => web.createClient("http://localhost:1", "k", { transport: "grpc" }), /sdk\/node/);
});

test("an unreachable server is a typed Unavailable after the retries", async () => {
  const ta = createClient("http://127.0.0.1:1", "k", { retry: { initialBackoffMs: 1, maxBackoffMs: 2 } });
  const e = asError(await ta.orders.getOrder({ orderId: "x" }).catch((x: unknown) => x));
  assert.equal(e?.code, Code.Unavailable);
});
