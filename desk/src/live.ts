// Live updates from the event feed. After sign-in the desk asks for the head of the caller's feed
// (EventService/GetFeedHead), so nothing that happened before is read, and follows it from there with
// WatchEvents (server streaming over Connect-Web; the SDK's follow reconnects after the last event seen
// when the stream drops, so no event is lost or repeated). If the server or a proxy cannot stream, it
// polls ListEvents from the same cursor instead. Each event that concerns the screen shown refreshes it
// — unless the person is filling in a form there, in which case the screen says it changed and offers a
// refresh. Signing out stops it.
import { asError, Code, eventPayload, type event, type TradeassureClient } from "@tradeassure/sdk";
import { h } from "./ui.js";
import "./tools.css";

let stop: AbortController | undefined;
const POLL_MS = 3000;

/** The part of a route an event concerns: its section and, on a detail page, the object's id. */
function concerns(ev: event.Event, hash: string): boolean {
  const [, section = "", rawId = ""] = hash.split("?")[0]!.split("/");
  const id = decodeURIComponent(rawId);
  const kinds: Record<string, string[]> = {
    orders: ["order", "return", "dispute", "complaint"],
    returns: ["return"],
    disputes: ["dispute"],
    complaints: ["complaint"],
    money: ["withdrawal", "order", "return", "dispute", "complaint"],
    ledger: ["order", "return", "dispute", "complaint", "withdrawal"],
    accounts: ["account"],
    metrics: ["dispute", "order"],
  };
  if (!(kinds[section] ?? []).includes(ev.subjectType)) return false;
  if (!id) return true;
  if (section === "metrics" || section === "accounts") return true;
  if (ev.subjectId === id) return true;
  // An order's page shows its returns, disputes and complaints in the case timeline.
  const payload = eventPayload(ev) as { orderId?: string } | undefined;
  return section === "orders" && payload?.orderId === id;
}

function paint(status: HTMLElement, text: string, state: "live" | "reconnecting" | "offline" | "polling" | "stopped"): void {
  status.textContent = text;
  status.dataset["state"] = state;
}

/**
 * Follows the caller's feed from now on until unfollow() (sign-out). refresh re-renders the current screen;
 * busy says whether the person is in the middle of something there (an open form) so it is not replaced.
 */
export function followFeed(client: TradeassureClient, status: HTMLElement, refresh: () => Promise<void>, busy: () => boolean): void {
  unfollow();
  const ctl = new AbortController();
  stop = ctl;
  const signal = ctl.signal;
  let pending = false;
  let running = Promise.resolve();
  // Events come in bursts (one change often appends several); the screen is refreshed once per burst, after
  // the refresh in progress, if any.
  const changed = () => {
    if (pending || signal.aborted) return;
    pending = true;
    running = running.then(async () => {
      await new Promise((r) => setTimeout(r, 100));
      pending = false;
      if (signal.aborted) return;
      if (busy()) return notice(refresh);
      await refresh().catch(() => undefined);
    });
  };
  const seen = (ev: event.Event) => {
    if (concerns(ev, location.hash)) changed();
  };
  void (async () => {
    paint(status, "Connecting to live updates…", "reconnecting");
    let head = "";
    for (let attempt = 0; !signal.aborted; attempt++) {
      try {
        head = (await client.events.getFeedHead({}, { signal })).headId;
        break;
      } catch (err) {
        if (signal.aborted) return;
        if (asError(err)?.code === Code.Unauthenticated) return paint(status, "Live updates stopped: sign in again.", "stopped");
        paint(status, "Live updates: reconnecting…", "reconnecting");
        await new Promise((r) => setTimeout(r, Math.min(30_000, 500 * 2 ** attempt)));
      }
    }
    let cursor = head;
    // Each connection has its own controller: going offline (a phone changing networks) closes it, and
    // coming back online opens a new one after the last event seen, so what happened meanwhile arrives.
    let streaming = true;
    while (!signal.aborted && streaming) {
      if (!navigator.onLine) {
        paint(status, "Offline: live updates resume when the connection is back", "offline");
        await new Promise<void>((ok) => {
          window.addEventListener("online", () => ok(), { once: true });
          signal.addEventListener("abort", () => ok(), { once: true });
        });
        continue;
      }
      const conn = new AbortController();
      const cut = () => conn.abort();
      window.addEventListener("offline", cut);
      signal.addEventListener("abort", cut);
      try {
        for await (const ev of client.follow(
          { afterId: cursor },
          {
            signal: conn.signal,
            onHeartbeat: () => paint(status, "Live", "live"),
            onReconnect: () => paint(status, "Live updates: reconnecting…", "reconnecting"),
          },
        )) {
          cursor = ev.id;
          paint(status, "Live", "live");
          seen(ev);
        }
      } catch (err) {
        if (signal.aborted) return;
        const e = asError(err);
        if (e?.code === Code.Unauthenticated) return paint(status, "Live updates stopped: sign in again.", "stopped");
        if (e?.code !== Code.Unimplemented) return paint(status, "Live updates stopped: use Refresh.", "stopped");
        streaming = false;
      } finally {
        window.removeEventListener("offline", cut);
        signal.removeEventListener("abort", cut);
      }
    }
    if (signal.aborted) return;
    // The stream is not available here: poll from the cursor.
    paint(status, "Live (checking every few seconds)", "polling");
    while (!signal.aborted) {
      try {
        for await (const ev of client.allEvents({ afterId: cursor }, { signal })) {
          cursor = ev.id;
          seen(ev);
        }
        paint(status, "Live (checking every few seconds)", "polling");
      } catch {
        if (signal.aborted) return;
        paint(status, "Live updates: reconnecting…", "reconnecting");
      }
      await new Promise((r) => setTimeout(r, POLL_MS));
    }
  })();
}

/** Stops following the feed (sign-out, or a new sign-in). */
export function unfollow(): void {
  stop?.abort();
  stop = undefined;
}

function notice(refresh: () => Promise<void>): void {
  const section = document.querySelector("#app section");
  if (!section || section.querySelector("[data-testid=changed]")) return;
  const b = h("button", { type: "button" }, "Show the changes");
  b.addEventListener("click", () => void refresh());
  section.prepend(h("p", { class: "card changed", role: "status", "data-testid": "changed" }, "This changed while you were looking at it. ", b));
}
