// Evidence on a dispute: the arbiter asks one party for evidence by a due time (RequestEvidence), the party
// asked answers it (SubmitEvidence with the request's id), either party may add evidence while the dispute
// runs, and the dispute's history (ListDisputeTimeline) shows each request, submission and overdue mark.
import { common, dispute, timestampDate, timestampFromDate, type TradeassureClient } from "@tradeassure/sdk";
import { future, link, options, table, type Action, type Signed } from "./main.js";
import { countdown, h, label, serverClock, when } from "./ui.js";

const Role = common.Role;
const D = dispute.Dispute_State;
const ended = new Set<number>([D.SETTLED, D.RULED, D.WITHDRAWN]);

function localInput(d: Date): string {
  // A datetime-local value in the browser's zone, as the input shows it.
  const off = d.getTimezoneOffset() * 60_000;
  return new Date(d.getTime() - off).toISOString().slice(0, 16);
}

function evidenceFields(kinds: number[]): NonNullable<Action["fields"]> {
  const all = options(common.EvidenceKind);
  return [
    { name: "kind", label: "Kind of evidence", kind: "select", options: kinds.length ? all.filter(([v]) => kinds.includes(Number(v))).concat(all.filter(([v]) => !kinds.includes(Number(v)))) : all },
    { name: "uri", label: "Link to the file", value: "https://files.example/evidence.pdf", required: true, hint: "Where the platform can fetch it (https)." },
    { name: "description", label: "What it shows", kind: "textarea", required: true },
  ];
}

function evidence(v: Record<string, string>): common.Evidence[] {
  return [{ $typeName: "tradeassure.common.v1.Evidence", kind: Number(v["kind"]), uri: v["uri"] ?? "", description: v["description"] ?? "", sha256: "" } as common.Evidence];
}

/** The evidence actions the caller may take on the dispute now. */
export function evidenceActions(s: Signed, d: dispute.Dispute): Action[] {
  const c: TradeassureClient = s.client;
  const role = s.me.role;
  const acts: Action[] = [];
  if (role === Role.ARBITER && d.state === D.ESCALATED) {
    const due = new Date(serverClock.now().getTime() + 2 * 86400_000);
    acts.push({
      label: "Request evidence",
      fields: [
        {
          name: "from",
          label: "From",
          kind: "select",
          options: [
            [String(Role.SUPPLIER), "The supplier"],
            [String(Role.BUYER), "The buyer"],
          ],
        },
        { name: "description", label: "What is wanted", kind: "textarea", required: true },
        { name: "kind", label: "Kind of evidence", kind: "select", options: [["0", "Any kind"], ...options(common.EvidenceKind)] },
        { name: "due", label: "Due (your time zone)", kind: "datetime", value: localInput(due), required: true, hint: "Evidence not submitted by then counts against that party." },
      ],
      run: (v) => {
        const at = new Date(v["due"] ?? "");
        if (Number.isNaN(at.getTime())) throw new Error("Enter when the evidence is due.");
        if (at.getTime() <= serverClock.now().getTime()) throw new Error("The due time must be in the future (on the server's clock).");
        return c.disputes.requestEvidence({
          id: d.id,
          etag: d.etag,
          fromRole: Number(v["from"]),
          description: v["description"] ?? "",
          kinds: Number(v["kind"]) ? [Number(v["kind"])] : [],
          dueTime: timestampFromDate(at),
        });
      },
    });
  }
  const party = (role === Role.BUYER && d.buyerAccountId === s.me.id) || (role === Role.SUPPLIER && d.supplierAccountId === s.me.id);
  if (party && !ended.has(d.state)) {
    for (const [i, r] of d.evidenceRequests.entries()) {
      if (r.fulfilled || r.requestedFrom?.role !== role) continue;
      acts.push({
        label: `Answer evidence request ${i + 1}`,
        fields: evidenceFields(r.kinds),
        run: (v) => c.disputes.submitEvidence({ id: d.id, etag: d.etag, evidence: evidence(v), evidenceRequestId: r.id }),
      });
    }
    acts.push({
      label: "Add evidence",
      fields: evidenceFields([]),
      run: (v) => c.disputes.submitEvidence({ id: d.id, etag: d.etag, evidence: evidence(v) }),
    });
  }
  return acts;
}

function status(r: dispute.EvidenceRequest): HTMLElement {
  if (r.fulfilled) return h("span", { class: "state", "data-testid": "evidence-request-state" }, `Submitted ${when(r.fulfillTime)}`);
  if (r.overdue || !future(r.dueTime)) return h("span", { class: "badge bad", "data-testid": "evidence-request-state" }, "Overdue: counts against this party");
  return h("span", { "data-testid": "evidence-request-state" }, "Waiting ", countdown(r.dueTime, "Due") ?? "");
}

/** The service's sentences name enum values ("REASON_QUALITY_PROBLEM"); the history shows them as words. */
function readable(text: string): string {
  return text.replace(/\b(?:REASON|RESOLUTION|RESPONSIBILITY|STATE|KIND)_([A-Z_]+)\b/g, (_, name: string) => name.toLowerCase().replace(/_/g, " "));
}

/** The dispute's evidence requests and its history, as sections of the dispute's page. */
export async function evidenceSections(s: Signed, d: dispute.Dispute): Promise<Node[]> {
  const c = s.client;
  const entries: dispute.TimelineEntry[] = [];
  for (let pageToken = ""; ; ) {
    const r = await c.disputes.listDisputeTimeline({ disputeId: d.id, pageSize: 200, pageToken });
    entries.push(...r.entries);
    if (!(pageToken = r.nextPageToken)) break;
  }
  const requests = table(
    ["#", "Asked of", "What", "Kinds", "Status", "Evidence"],
    d.evidenceRequests.map((r, i) => {
      const files = h("ul", { class: "plain" });
      for (const e of r.evidence) files.append(h("li", {}, h("a", { href: e.uri, rel: "noopener" }, e.description || e.uri)));
      return [
        document.createTextNode(String(i + 1)),
        document.createTextNode(r.requestedFrom ? label(Role, r.requestedFrom.role) : "—"),
        document.createTextNode(r.description),
        document.createTextNode(r.kinds.map((k) => label(common.EvidenceKind, k)).join(", ") || "any"),
        status(r),
        r.evidence.length ? files : document.createTextNode("—"),
      ];
    }),
    "The arbiter has not asked for evidence.",
  );
  const history = h("ol", { class: "timeline", "data-testid": "dispute-history" });
  for (const e of entries) {
    const files = e.evidence.length === 1 ? "1 file" : e.evidence.length ? `${e.evidence.length} files` : "";
    history.append(
      h(
        "li",
        { style: "--part:#b45309" },
        h("span", { class: "part" }, label(dispute.TimelineEntry_Kind, e.kind)),
        h("time", { datetime: e.time ? timestampDate(e.time).toISOString() : "" }, when(e.time)),
        h("span", {}, readable(e.description) + (files ? ` (evidence: ${files})` : "")),
        e.actor?.role ? h("span", { class: "muted" }, ` by ${label(Role, e.actor.role)}`) : undefined,
      ),
    );
  }
  const staff = s.me.role === Role.ARBITER || s.me.role === Role.OPERATOR;
  return [
    staff ? h("p", {}, link("#/metrics/" + d.supplierAccountId, "The supplier's service metrics")) : document.createTextNode(""),
    h("h2", {}, "Evidence requests"),
    requests,
    h("h2", {}, "History"),
    entries.length ? history : h("p", { class: "empty" }, "Nothing recorded yet."),
  ];
}
