// A Node script on the tradeassure TypeScript SDK: the supplier drafts an order for the buyer, the
// buyer accepts and pays it by card, and both read it back, with the typed errors and page iterators of
// the SDK. Run it against a development server:
//
//   go run ./server/cmd/tradeassured --dev            # writes dev-keys.json
//   npm --prefix examples/node ci && npm --prefix examples/node run build
//   node examples/node/dist/main.js --url http://localhost:8080 --keys dev-keys.json [--transport grpc]
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import {
  asError,
  common,
  createClient,
  ErrorReason,
  formatMoney,
  order,
  timeLeft,
  timestampFromDate,
  type TransportKind,
} from "@tradeassure/sdk/node";

interface DevKey {
  api_key: string;
  email: string;
  product_ids?: string[];
}

const { values } = parseArgs({
  options: {
    url: { type: "string", default: process.env["TRADEASSURE_URL"] ?? "http://localhost:8080" },
    keys: { type: "string", default: process.env["KEYS"] ?? "dev-keys.json" },
    transport: { type: "string", default: "connect" },
    quantity: { type: "string", default: "120" },
  },
});
const transport = values.transport as TransportKind;
if (!["connect", "grpc-web", "grpc"].includes(transport)) {
  throw new Error(`--transport must be connect, grpc-web or grpc, not ${values.transport}`);
}
const keys = JSON.parse(readFileSync(values.keys, "utf8")) as Record<string, DevKey>;
const supplierKey = keys["supplier"];
const buyerKey = keys["buyer"];
const productId = supplierKey?.product_ids?.[0];
if (!supplierKey || !buyerKey || !productId) {
  throw new Error(`${values.keys} lacks the supplier, its products or the buyer`);
}

const supplier = createClient(values.url, supplierKey.api_key, { transport });
const buyer = createClient(values.url, buyerKey.api_key, { transport });

// The supplier drafts: the buyer is named by the email bound to its account. The SDK gives the call a
// request id, so if the network fails after the server committed, its retry returns the same draft.
const terms = {
  lines: [{ productId, quantity: BigInt(values.quantity) }],
  currency: "USD",
  shippingFeeMinor: 90_00n,
  insuranceFeeMinor: 12_00n,
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
  shipByTime: timestampFromDate(new Date(Date.now() + 10 * 86400_000)),
};
const drafted = await supplier.orders.createOrder({ policy: common.Policy.TRADE_ASSURANCE, buyerEmail: buyerKey.email, terms });
const draft = drafted.order;
if (!draft) throw new Error("CreateOrder returned no order");
console.log(`drafted ${draft.id}: ${order.Order_State[draft.state]}, total ${formatMoney(draft.amounts?.total)}`);

// A mistake comes back as a typed error with a machine-readable reason.
const fob = await supplier.orders
  .createOrder({ policy: common.Policy.TRADE_ASSURANCE, buyerEmail: buyerKey.email, terms: { ...terms, tradeTerm: order.TradeTerm.FOB } })
  .then(() => undefined, asError);
if (fob?.reason === ErrorReason.TRADE_TERM_SHIPPING_MISMATCH) {
  console.log(`FOB by air is refused: ${fob.codeName} ${fob.reasonName}`);
}

// The buyer accepts the terms it read (the etag makes a stale draft fail with ABORTED) and pays by card.
const accepted = await buyer.orders.acceptOrder({ orderId: draft.id, etag: draft.etag });
console.log(`accepted: ${order.Order_State[accepted.order?.state ?? 0]}`);
const paid = await buyer.orders.payOrder({ orderId: draft.id, method: order.PaymentMethod.CARD, cardToken: "tok_4242424242424242" });
console.log(
  `paid ${formatMoney(paid.payment?.amount)} by card: payment ${order.Payment_State[paid.payment?.state ?? 0]}, order ${order.Order_State[paid.order?.state ?? 0]}`,
);
const shipBy = paid.order?.terms?.shipByTime;
if (shipBy) console.log(`the supplier must ship within ${timeLeft(shipBy).text.replace(" left", "")}`);

// Both sides see it; the iterators follow next_page_token.
let awaitingShipment = 0;
for await (const o of supplier.allOrders({ state: order.Order_State.PAID, pageSize: 50 })) {
  if (o.id === draft.id) awaitingShipment++;
}
const history: string[] = [];
for await (const e of buyer.allEvents({ subjectId: draft.id })) history.push(e.type);
console.log(`supplier's paid orders include it: ${awaitingShipment === 1}; events: ${history.join(", ")}`);
