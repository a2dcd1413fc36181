// A supplier's service metrics: the figures of DisputeService/GetSupplierMetrics now, and the dispute rate
// and seller-responsibility rate over time as a chart with the same numbers as a table. The API gives the
// figures as they are now; the desk rebuilds their history from what the caller may read: each paid order
// counted from when it was placed, each dispute from when it was opened, each ruling against the supplier
// from when it was made. The last point is the server's own figures.
import { common, dispute, timestampDate, type Timestamp } from "@tradeassure/sdk";
import { collect, link, table, type Signed } from "./main.js";
import { facts, h, when } from "./ui.js";

interface Point {
  at: number;
  orders: number;
  disputes: number;
  responsible: number;
}

const ms = (t: Timestamp | undefined) => (t ? timestampDate(t).getTime() : 0);
const pct = (n: number) => `${(n * 100).toFixed(1)}%`;
const rate = (n: number, of: number) => (of > 0 ? Math.min(1, n / of) : 0);
const day = (t: number) => new Date(t).toISOString().slice(0, 10);
/** The points' resolution: a day, or an hour or a minute when everything happened within a few of them. */
let bucket = (t: number) => day(t);
const ranges: [number, number][] = [[3 * 86400_000, 10], [3 * 3600_000, 13], [0, 16]];
function resolution(times: number[]): void {
  const span = times.length ? Math.max(...times) - Math.min(...times) : 0;
  const n = ranges.find(([min]) => span >= min)?.[1] ?? 10;
  bucket = (t) => new Date(t).toISOString().slice(0, n).replace("T", " ") + (n === 13 ? ":00" : "");
}

/** The history of the counts: one point per day on which one of them changed, then the server's figures. */
function history(orders: number[], opened: number[], ruled: number[], now: dispute.SupplierMetrics): Point[] {
  resolution([...orders, ...opened, ...ruled, ms(now.computeTime)]);
  const changes = [...orders.map((t) => [t, 0] as const), ...opened.map((t) => [t, 1] as const), ...ruled.map((t) => [t, 2] as const)].sort((a, b) => a[0] - b[0]);
  const points: Point[] = [];
  const cur = { orders: 0, disputes: 0, responsible: 0 };
  for (const [t, what] of changes) {
    if (what === 0) cur.orders++;
    else if (what === 1) cur.disputes++;
    else cur.responsible++;
    const last = points[points.length - 1];
    if (last && bucket(last.at) === bucket(t)) Object.assign(last, { at: t, ...cur });
    else points.push({ at: t, ...cur });
  }
  const end = { at: ms(now.computeTime), orders: Number(now.orderCount), disputes: Number(now.disputeCount), responsible: Number(now.sellerResponsibilityCount) };
  const last = points[points.length - 1];
  if (last && bucket(last.at) === bucket(end.at)) Object.assign(last, end);
  else points.push(end);
  return points;
}

const ns = "http://www.w3.org/2000/svg";
function svg<K extends keyof SVGElementTagNameMap>(tag: K, attrs: Record<string, string | number>, text?: string): SVGElementTagNameMap[K] {
  const el = document.createElementNS(ns, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  if (text !== undefined) el.textContent = text;
  return el;
}

const series = [
  { key: "dispute", name: "Dispute rate", color: "#1d4ed8", dash: "", of: (p: Point) => rate(p.disputes, p.orders) },
  { key: "responsibility", name: "Seller-responsibility rate", color: "#b91c1c", dash: "6 4", of: (p: Point) => rate(p.responsible, p.orders) },
];

/** The two rates over time as a line chart; its text alternative says where each started and ended. */
function chart(points: Point[]): SVGSVGElement {
  const W = 640, H = 280, L = 48, R = 16, T = 36, B = 40;
  const top = Math.max(0.05, ...points.flatMap((p) => series.map((s) => s.of(p))));
  const ymax = Math.min(1, Math.ceil(top * 20) / 20);
  const t0 = points[0]?.at ?? 0;
  const t1 = points[points.length - 1]?.at ?? 0;
  const x = (t: number) => (t1 > t0 ? L + ((t - t0) / (t1 - t0)) * (W - L - R) : (L + W - R) / 2);
  const y = (v: number) => T + (1 - v / ymax) * (H - T - B);
  const first = points[0]!, last = points[points.length - 1]!;
  const el = svg("svg", { viewBox: `0 0 ${W} ${H}`, role: "img", "aria-labelledby": "metrics-chart-title metrics-chart-desc", class: "picture", "data-testid": "metrics-chart" });
  el.append(
    svg("title", { id: "metrics-chart-title" }, "Dispute rate and seller-responsibility rate over time"),
    svg(
      "desc",
      { id: "metrics-chart-desc" },
      series.map((s) => `${s.name}: ${pct(s.of(first))} on ${bucket(first.at)}, ${pct(s.of(last))} on ${bucket(last.at)}`).join("; ") + ". The table below has every point.",
    ),
  );
  for (let i = 0; i <= 4; i++) {
    const v = (ymax * i) / 4;
    el.append(svg("line", { x1: L, x2: W - R, y1: y(v), y2: y(v), stroke: "#d1d5db" }), svg("text", { x: L - 6, y: y(v) + 4, "text-anchor": "end", fill: "#374151" }, pct(v)));
  }
  el.append(
    svg("text", { x: L, y: H - 12, fill: "#374151" }, bucket(t0)),
    svg("text", { x: W - R, y: H - 12, "text-anchor": "end", fill: "#374151" }, bucket(t1)),
  );
  series.forEach((s, i) => {
    el.append(
      // A step line: a rate holds until the next change, then moves at once.
      svg("polyline", { points: points.map((p, j) => `${j ? `${x(p.at)},${y(s.of(points[j - 1]!))} ` : ""}${x(p.at)},${y(s.of(p))}`).join(" "), fill: "none", stroke: s.color, "stroke-width": 2.5, "stroke-dasharray": s.dash, "data-series": s.key }),
    );
    for (const p of points) {
      const dot = svg("circle", { cx: x(p.at), cy: y(s.of(p)), r: 3.5, fill: s.color });
      dot.append(svg("title", {}, `${s.name} on ${bucket(p.at)}: ${pct(s.of(p))}`));
      el.append(dot);
    }
    // The legend, above the plot, so it names each line by colour and dash.
    const lx = L + 8 + i * 230;
    el.append(svg("line", { x1: lx, x2: lx + 24, y1: 14, y2: 14, stroke: s.color, "stroke-width": 2.5, "stroke-dasharray": s.dash }), svg("text", { x: lx + 30, y: 18, fill: "#111827" }, s.name));
  });
  return el;
}

export async function metricsView(s: Signed, id: string): Promise<Node[]> {
  const c = s.client;
  const supplierId = s.me.role === common.Role.SUPPLIER ? s.me.id : id;
  if (!supplierId) return [h("h1", {}, "Service metrics"), h("p", { class: "empty" }, "Open a supplier's account to see its metrics.")];
  const [{ metrics: m }, disputes, orders] = await Promise.all([
    c.disputes.getSupplierMetrics({ supplierAccountId: supplierId }),
    collect(c.allDisputes({ pageSize: 500 })),
    // Arbiters may not read every order; without them the chart has only today's figures.
    collect(c.allOrders({ pageSize: 500 })).catch(() => undefined),
  ]);
  if (!m) throw new Error("metrics missing");
  const mine = disputes.filter((d) => d.supplierAccountId === supplierId);
  const paid = (orders ?? []).filter((o) => o.supplierId === supplierId && (o.amounts?.paid?.amountMinor ?? 0n) > 0n).map((o) => ms(o.createTime));
  const ruled = mine.filter((d) => d.ruling?.responsibility === dispute.Dispute_Responsibility.SUPPLIER).map((d) => ms(d.ruling?.ruleTime));
  const points = history(orders ? paid : [], orders ? mine.map((d) => ms(d.createTime)) : [], orders ? ruled : [], m);
  const rows = points.map((p) => [bucket(p.at), String(p.orders), String(p.disputes), pct(rate(p.disputes, p.orders)), String(p.responsible), pct(rate(p.responsible, p.orders))].map((t) => document.createTextNode(t)));
  const data = table(["When (UTC)", "Paid orders", "Disputes", "Dispute rate", "Ruled against the supplier", "Seller-responsibility rate"], rows, "No figures yet.");
  data.querySelector("table")?.prepend(h("caption", {}, "The chart's figures, one row for each time they changed"));
  data.setAttribute("data-testid", "metrics-table");
  // At phone width the table scrolls sideways; it takes focus so the keyboard can scroll it.
  data.setAttribute("tabindex", "0");
  data.setAttribute("role", "region");
  data.setAttribute("aria-label", "The chart's figures");
  return [
    s.me.role === common.Role.OPERATOR ? h("p", {}, link("#/accounts/" + supplierId, "← Account")) : document.createTextNode(""),
    s.me.role === common.Role.ARBITER ? h("p", {}, link("#/disputes", "← Dispute queue")) : document.createTextNode(""),
    h("h1", {}, "Service metrics"),
    facts([
      ["Paid orders", String(m.orderCount)],
      ["Disputes", String(m.disputeCount)],
      ["Dispute rate", h("span", { "data-testid": "dispute-rate" }, pct(m.disputeRate))],
      ["Ruled against the supplier", String(m.sellerResponsibilityCount)],
      ["Seller-responsibility rate", h("span", { "data-testid": "responsibility-rate" }, pct(m.sellerResponsibilityRate))],
      ["Escalated to the platform", `${m.escalatedCount} (${pct(m.escalatedShare)} of disputes; a high share is penalised harder)`],
      ["Open disputes", String(m.openDisputeCount)],
      ["Chargebacks", String(m.chargebackCount)],
      ["Computed", when(m.computeTime)],
    ]),
    h("h2", {}, "Over time"),
    h("figure", {}, chart(points), h("figcaption", { class: "muted" }, orders ? "Paid orders are counted from when they were placed; the last point is the platform's figures now." : "Only today's figures: this role may not read the supplier's orders.")),
    data,
  ];
}
