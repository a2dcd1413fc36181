// The supplier's products (OrderService/ListProducts, CreateProduct): the listed items order lines
// reference. A product needs a name and a unit price above zero.
import { order, parseMoney, type TradeassureClient } from "@tradeassure/sdk";
import { Form, input, select } from "./form.js";
import { stableRequestId, type Kit, type Signed } from "./kit.js";
import { h, money, when } from "./ui.js";

/** Every product of a supplier (the calling supplier when supplierId is empty), following the pages. */
export async function allProducts(client: TradeassureClient, supplierId = ""): Promise<order.Product[]> {
  const out: order.Product[] = [];
  let pageToken = "";
  do {
    const r = await client.orders.listProducts({ supplierId, pageSize: 500, pageToken });
    out.push(...r.products);
    pageToken = r.nextPageToken;
  } while (pageToken);
  return out;
}

export async function productsView(kit: Kit, s: Signed): Promise<Node[]> {
  const products = await allProducts(s.client);
  const rows = products.map((p) => [
    document.createTextNode(p.name),
    document.createTextNode(money(p.unitPrice)),
    document.createTextNode(when(p.createTime)),
    h("code", {}, p.id),
  ]);
  return [
    h("h1", {}, "Products"),
    h("p", {}, "Order lines name your listed products. ", kit.link("#/drafts", "Draft an order"), " once the products are listed."),
    createForm(kit, s),
    h("h2", {}, `Listed (${products.length})`),
    kit.table(["Name", "Unit price", "Listed", "Id"], rows, "No products listed yet: list the first one above."),
  ];
}

const currencies: [string, string][] = ["USD", "EUR", "GBP", "CNY", "JPY"].map((c) => [c, c]);

function createForm(kit: Kit, s: Signed): HTMLElement {
  const f = new Form("List a product");
  const name = input({ autocomplete: "off", required: "" });
  const price = input({ inputmode: "decimal", required: "" });
  const currency = select(currencies, "USD");
  const send = h("button", { type: "submit" }, "List the product");
  const id = stableRequestId();
  f.el.append(
    h("h2", {}, "List a product"),
    f.control("name", "Product name", name, "What the buyer sees on the order; up to 200 characters."),
    f.control("unit_price", "Unit price", price, "More than zero, in the currency below; an order line may give another price."),
    f.control("unit_price.currency", "Currency", currency, "An order is in one currency: its products must be priced in it."),
    f.alert,
    send,
  );
  f.el.addEventListener("submit", (ev) => {
    ev.preventDefault();
    const problems = new Map<string, string>();
    const minor = parseMoney(price.value, currency.value);
    if (!name.value.trim()) problems.set("name", "Enter the product's name.");
    if (minor === undefined || minor <= 0n) problems.set("unit_price", `Enter a price above zero, like 12.50 (${currency.value}).`);
    f.mark(problems);
    if (problems.size > 0) return;
    void f.submit(send, "Listing…", async () => {
      const req = { name: name.value.trim(), unitPrice: { amountMinor: minor ?? 0n, currency: currency.value } };
      const requestId = id(req);
      kit.sent(requestId);
      const r = await s.client.orders.createProduct({ ...req, requestId });
      kit.say(`Listed ${r.product?.name ?? "the product"} at ${money(r.product?.unitPrice)}. Request id ${requestId}.`);
      await kit.reload();
    });
  });
  return f.el;
}
