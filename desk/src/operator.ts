// The operator's tools: accounts (create, the supplier profile with its limit, export capability, bank
// account and freeze, and the standing complaints gave), API keys (issue, the secret shown once, revoke) and
// the ledger's reconciliation with the platform's accounts, every ledger account and the transfers.
import { admin, common, parseMoney, payout, type TradeassureClient } from "@tradeassure/sdk";
import { actions, link, options, table, type Action, type Signed } from "./main.js";
import { facts, h, label, money, when } from "./ui.js";

const Role = common.Role;

/** A key issued on this page, shown until the operator leaves the account: the secret is never shown again. */
interface Issued {
  accountId: string;
  key: admin.ApiKey;
  secret: string;
}
let issued: Issued | undefined;
/** The keys issued (and revoked) in this tab, by account: the API has no list of keys, only their ids. */
const keysOf = new Map<string, admin.ApiKey[]>();

function remember(k: admin.ApiKey): void {
  const list = keysOf.get(k.accountId) ?? [];
  const i = list.findIndex((x) => x.id === k.id);
  if (i >= 0) list[i] = k;
  else list.push(k);
  keysOf.set(k.accountId, list);
}

window.addEventListener("hashchange", () => {
  if (issued && !location.hash.startsWith("#/accounts/" + issued.accountId)) issued = undefined;
});

function standing(a: admin.Account): string {
  if (a.standing === admin.Account_Standing.RESTRICTED) return `Restricted until ${when(a.restrictedUntil)}`;
  return label(admin.Account_Standing, a.standing);
}

function usdMinor(text: string): bigint {
  const m = parseMoney(text, "USD");
  if (m === undefined) throw new Error("Enter the limit as an amount in USD, like 50000.00.");
  return m;
}

function yesNo(v: boolean): string {
  return v ? "yes" : "no";
}

const countries = /^[A-Z]{2}$/;

// ---- accounts --------------------------------------------------------------------------------------------

export async function accountList(s: Signed): Promise<Node[]> {
  const c = s.client;
  const q = new URLSearchParams(location.hash.split("?")[1] ?? "");
  const role = Number(q.get("role") ?? "0");
  const { accounts, nextPageToken } = await c.admin.listAccounts({ pageSize: 200, role });
  const filter = h("select", { id: "account-role", "aria-label": "Filter by role" }, h("option", { value: "0" }, "Every role"));
  for (const [v, l] of options(Role, [0, Role.SYSTEM])) filter.append(h("option", { value: v }, l));
  filter.value = String(role);
  filter.addEventListener("change", () => (location.hash = "#/accounts" + (filter.value !== "0" ? "?role=" + filter.value : "")));
  const rows = accounts.map((a) => [
    link("#/accounts/" + a.id, a.name || a.id),
    document.createTextNode(label(Role, a.role)),
    document.createTextNode(a.email || "—"),
    document.createTextNode(a.country || "—"),
    h("span", { class: a.standing === admin.Account_Standing.ACTIVE ? "state" : "badge warn" }, standing(a)),
    document.createTextNode(a.supplier ? `${money({ amountMinor: a.supplier.tradeAssuranceLimitUsdMinor, currency: "USD" })}${a.supplier.frozen ? " · frozen" : ""}` : "—"),
  ]);
  return [
    h("h1", {}, "Accounts"),
    h("div", { class: "filters" }, filter),
    actions([createAccount(c)]),
    table(["Account", "Role", "Email", "Country", "Standing", "Trade-assurance limit"], rows, "No accounts with this role."),
    nextPageToken ? h("p", { class: "muted" }, `Showing the first ${accounts.length}; filter by role to narrow the list.`) : undefined,
  ].filter((x): x is HTMLElement => !!x);
}

function createAccount(c: TradeassureClient): Action {
  return {
    label: "Create an account",
    fields: [
      { name: "role", label: "Role", kind: "select", options: options(Role, [0, Role.SYSTEM]) },
      { name: "name", label: "Name", required: true },
      { name: "email", label: "Email", required: true, hint: "Verified; buyers are named on orders by it. Must not be taken." },
      { name: "country", label: "Country (two letters, e.g. US)", value: "US", required: true },
      { name: "limit", label: "Trade-assurance limit in USD (suppliers)", kind: "money", value: "50000.00", hint: "The most an order may be covered for." },
      {
        name: "export",
        label: "One-touch export (suppliers)",
        kind: "select",
        options: [
          ["no", "Disabled (no order above 5,000 USD)"],
          ["yes", "Enabled"],
        ],
      },
    ],
    run: async (v) => {
      const role = Number(v["role"]);
      const country = (v["country"] ?? "").toUpperCase();
      if (!countries.test(country)) throw new Error("Enter the country as two capital letters, like US or DE.");
      const supplier =
        role === Role.SUPPLIER
          ? { tradeAssuranceLimitUsdMinor: usdMinor(v["limit"] || "0"), oneTouchExport: v["export"] === "yes" }
          : undefined;
      const { account } = await c.admin.createAccount({ role, name: v["name"] ?? "", email: v["email"] ?? "", country, supplier });
      if (account) location.hash = "#/accounts/" + account.id;
    },
  };
}

export async function accountDetail(s: Signed, id: string): Promise<Node[]> {
  const c = s.client;
  const { account: a } = await c.admin.getAccount({ accountId: id });
  if (!a) throw new Error("account missing");
  const acts: Action[] = [];
  const p = a.supplier;
  if (a.role === Role.SUPPLIER && p) {
    const update = (label: string, change: (q: admin.SupplierProfile) => void, fields: Action["fields"] = []): Action => ({
      label,
      fields,
      run: async (v) => {
        const next = { ...p } as admin.SupplierProfile;
        if (v["limit"] !== undefined) next.tradeAssuranceLimitUsdMinor = usdMinor(v["limit"]);
        if (v["bank"] !== undefined) next.bankAccount = v["bank"];
        change(next);
        await c.admin.updateSupplierProfile({ accountId: a.id, supplier: next });
      },
    });
    acts.push(
      update("Change the limit", () => {}, [
        {
          name: "limit",
          label: "Trade-assurance limit (USD)",
          kind: "money",
          value: (Number(p.tradeAssuranceLimitUsdMinor) / 100).toFixed(2),
          required: true,
          hint: "Set from the supplier's history; no order may be covered for more.",
        },
      ]),
      update(p.oneTouchExport ? "Disable one-touch export" : "Enable one-touch export", (q) => (q.oneTouchExport = !p.oneTouchExport)),
      update(p.frozen ? "Unfreeze" : "Freeze", (q) => (q.frozen = !p.frozen)),
      update(p.bankAccountVerified ? "Mark bank account unverified" : "Mark bank account verified", (q) => (q.bankAccountVerified = !p.bankAccountVerified)),
    );
  }
  acts.push({
    label: "Issue an API key",
    fields: [{ name: "name", label: "Key label", value: "desk", hint: "The secret is shown once, right after it is issued." }],
    run: async (v) => {
      const r = await c.admin.createApiKey({ accountId: a.id, name: v["name"] ?? "" });
      if (r.apiKey) {
        remember(r.apiKey);
        issued = { accountId: a.id, key: r.apiKey, secret: r.secret };
      }
    },
  });
  const keys = keysOf.get(a.id) ?? [];
  acts.push({
    label: "Revoke a key",
    fields: [
      keys.some((k) => !k.revokeTime)
        ? { name: "key", label: "Key", kind: "select", options: keys.filter((k) => !k.revokeTime).map((k) => [k.id, `${k.name || "key"} (${k.prefix}…)`]) }
        : { name: "key", label: "Key id", required: true, hint: "The id shown when the key was issued (ak_…)." },
    ],
    run: async (v) => {
      const r = await c.admin.revokeApiKey({ apiKeyId: v["key"] ?? "" });
      if (r.apiKey) remember(r.apiKey);
      if (issued?.key.id === r.apiKey?.id) issued = undefined;
    },
  });
  const out: Node[] = [
    h("p", {}, link("#/accounts", "← Accounts")),
    h("h1", {}, `${a.name} `, h("span", { class: "state", "data-testid": "account-role" }, label(Role, a.role))),
  ];
  if (issued?.accountId === a.id) {
    const secret = h("input", { id: "secret", readonly: "", value: issued.secret, "data-testid": "api-key-secret", "aria-describedby": "secret-hint" });
    // Focus goes to the secret, selected, so it can be copied at once by keyboard.
    setTimeout(() => {
      secret.focus();
      secret.select();
    }, 0);
    out.push(
      h(
        "div",
        { class: "card secret", role: "region", "aria-labelledby": "secret-title" },
        h("h2", { id: "secret-title" }, `New API key ${issued.key.prefix}…`),
        h("label", { for: "secret" }, "Secret"),
        secret,
        h("p", { class: "hint", id: "secret-hint" }, `Key id ${issued.key.id}. Copy the secret now: it is not stored and cannot be shown again.`),
      ),
    );
  }
  out.push(
    facts([
      ["Account id", a.id],
      ["Email", a.email],
      ["Country", a.country],
      ["Standing", h("span", { "data-testid": "account-standing" }, standing(a))],
      ["Credit score", a.role === Role.BUYER ? String(a.creditScore) : ""],
      ["Created", when(a.createTime)],
      ["Trade-assurance limit", p ? h("span", { "data-testid": "ta-limit" }, money({ amountMinor: p.tradeAssuranceLimitUsdMinor, currency: "USD" })) : ""],
      ["One-touch export", p ? h("span", { "data-testid": "one-touch" }, p.oneTouchExport ? "enabled" : "disabled (no order above 5,000 USD)") : ""],
      ["Frozen", p ? h("span", { "data-testid": "frozen" }, yesNo(p.frozen)) : ""],
      ["Bank account", p ? `${p.bankAccount || "—"} (${p.bankAccountVerified ? "verified" : "not verified"})` : ""],
      ["Free-return programme", p ? yesNo(p.freeReturnProgramme) : ""],
      ["Sold, not shipped", p ? String(p.soldNotShippedCount) : ""],
      ["Service metrics", a.role === Role.SUPPLIER ? link("#/metrics/" + a.id, "Dispute and responsibility rates over time") : ""],
    ]),
    a.standing !== admin.Account_Standing.ACTIVE
      ? h("p", { class: "muted" }, "Standing changes only through complaint penalties (the complaint queue), so it is shown here, not edited.")
      : document.createTextNode(""),
    actions(acts),
    h("h2", {}, "API keys issued here"),
    table(
      ["Key", "Label", "Id", "Issued", "State"],
      keys.map((k) => [
        document.createTextNode(k.prefix + "…"),
        document.createTextNode(k.name || "—"),
        document.createTextNode(k.id),
        document.createTextNode(when(k.createTime)),
        h("span", { "data-testid": "key-state" }, k.revokeTime ? `Revoked ${when(k.revokeTime)}` : "Active"),
      ]),
      "No keys issued from this page. (The platform lists no keys: a key is known by the id shown when it was issued.)",
    ),
  );
  return out;
}

// ---- reconciliation --------------------------------------------------------------------------------------

const Kind = payout.LedgerAccount_Kind;

function owner(a: { kind: payout.LedgerAccount_Kind; ownerId: string }, names: Map<string, string>): Node {
  if (!a.ownerId) return document.createTextNode("the platform");
  if (a.kind === Kind.ORDER_ESCROW) return link("#/orders/" + a.ownerId, "order " + a.ownerId.slice(-8));
  return link("#/accounts/" + a.ownerId, names.get(a.ownerId) ?? a.ownerId.slice(-8));
}

export async function ledgerView(s: Signed): Promise<Node[]> {
  const c = s.client;
  const q = new URLSearchParams(location.hash.split("?")[1] ?? "");
  const kind = Number(q.get("kind") ?? "0");
  const [rec, platform, ledger, people] = await Promise.all([
    c.payouts.reconcile({}),
    c.payouts.getPlatformAccounts({}),
    c.payouts.listLedgerAccounts({ pageSize: 200, kind }),
    c.admin.listAccounts({ pageSize: 500 }),
  ]);
  const names = new Map(people.accounts.map((a) => [a.id, a.name]));
  const verdict = rec.ok
    ? h("p", { class: "badge ok", "data-testid": "reconcile" }, `Balanced: every currency sums to zero and no closed order holds escrow (checked ${when(rec.checkTime)}).`)
    : h("p", { class: "badge bad", "data-testid": "reconcile" }, `Out of balance (checked ${when(rec.checkTime)}): see below.`);
  const sums = table(
    ["Currency", "Sum of all accounts", "Accounts", "Transfers", "Balanced"],
    rec.currencySums.map((x) => [x.currency, money(x.sum), String(x.accountCount), String(x.transferCount), x.balanced ? "yes" : "NO"].map((t) => document.createTextNode(t))),
    "No money has moved yet.",
  );
  const mismatches = rec.escrowMismatches.length
    ? table(
        ["Closed order", "Escrow account", "Left in escrow"],
        rec.escrowMismatches.map((m) => [link("#/orders/" + m.orderId, m.orderId), document.createTextNode(m.accountId), document.createTextNode(money(m.balance))]),
        "",
      )
    : h("p", { class: "empty" }, "No closed order holds escrow.");
  const platformRows = [...platform.feeAccounts, ...platform.compensationAccounts].map((a) => [
    document.createTextNode(label(Kind, a.kind)),
    document.createTextNode(a.currency),
    document.createTextNode(money(a.balance)),
    document.createTextNode(when(a.updateTime)),
  ]);
  const filter = h("select", { id: "ledger-kind", "aria-label": "Filter accounts by kind" }, h("option", { value: "0" }, "Every kind"));
  for (const [v, l] of options(Kind)) filter.append(h("option", { value: v }, l));
  filter.value = String(kind);
  filter.addEventListener("change", () => (location.hash = "#/ledger" + (filter.value !== "0" ? "?kind=" + filter.value : "")));
  const accounts = table(
    ["Kind", "Whose", "Currency", "Balance", "Transfers", "Last change"],
    ledger.accounts.map((a) => [
      document.createTextNode(label(Kind, a.kind) + (a.external ? " (outside the platform)" : "")),
      owner(a, names),
      document.createTextNode(a.currency),
      document.createTextNode(money(a.balance)),
      document.createTextNode(String(a.revision)),
      document.createTextNode(when(a.updateTime)),
    ]),
    "No ledger accounts of this kind.",
  );
  return [
    h("h1", {}, "Reconciliation"),
    verdict,
    h("p", { class: "muted" }, "Money moves only as balanced transfers, so the balances of every account in one currency add up to zero; money outside the platform (buyers' funding, refunds, bank payouts) shows as external counterweights."),
    h("h2", {}, "Per currency"),
    sums,
    h("h2", {}, "Closed orders with escrow left"),
    mismatches,
    h("h2", {}, "The platform's accounts"),
    table(["Account", "Currency", "Balance", "Last change"], platformRows, "The platform holds nothing yet."),
    h("h2", {}, "Ledger accounts"),
    h("div", { class: "filters" }, filter),
    accounts,
    ledger.nextPageToken ? h("p", { class: "muted" }, `The first ${ledger.accounts.length} accounts; filter by kind to see the others.`) : document.createTextNode(""),
    h("h2", {}, "Transfers, oldest first"),
    await transfers(c),
  ];
}

/** The transfers, a page at a time ("Show more" reads the next page). */
async function transfers(c: TradeassureClient): Promise<Node> {
  const box = h("div", { "data-testid": "transfers" });
  const body = h("tbody");
  const t = h(
    "table",
    {},
    h("thead", {}, h("tr", {}, ...["When", "What", "From", "To", "Amount", "Cause"].map((x) => h("th", { scope: "col" }, x)))),
    body,
  );
  const more = h("button", { type: "button", class: "secondary" }, "Show more transfers");
  let token = "";
  const load = async () => {
    more.disabled = true;
    more.textContent = "Loading…";
    const r = await c.payouts.listTransfers({ pageSize: 50, pageToken: token });
    for (const x of r.transfers)
      body.append(
        h(
          "tr",
          {},
          h("td", {}, when(x.createTime)),
          h("td", {}, x.description),
          h("td", {}, label(Kind, x.fromKind)),
          h("td", {}, label(Kind, x.toKind)),
          h("td", {}, money(x.amount)),
          h("td", {}, x.cause?.orderId ? link("#/orders/" + x.cause.orderId, label(payout.CauseKind, x.cause.kind)) : label(payout.CauseKind, x.cause?.kind ?? 0)),
        ),
      );
    token = r.nextPageToken;
    more.disabled = false;
    more.textContent = "Show more transfers";
    more.hidden = !token;
  };
  more.addEventListener("click", () => void load().catch(() => ((more.disabled = false), (more.textContent = "Show more transfers (failed; try again)"))));
  await load();
  if (body.childElementCount === 0) box.append(h("p", { class: "empty" }, "No transfers yet."));
  else box.append(h("div", { class: "scroll" }, t), more);
  return box;
}
