// What the order-work screens (products, drafts, changes, returns with lines) take from the desk's shell in
// main.ts: the signed-in session and the shell's action bar, toast and reload, passed in rather than
// imported so the shell stays the one entry point.
import { newRequestId, type admin, type TradeassureClient } from "@tradeassure/sdk";

export interface Signed {
  client: TradeassureClient;
  me: admin.Account;
}

export interface Field {
  name: string;
  label: string;
  kind?: "text" | "money" | "select" | "datetime" | "textarea";
  options?: [string, string][];
  value?: string;
  required?: boolean;
  hint?: string;
}

export interface Action {
  label: string;
  /** When set, the action is shown disabled with this reason (for example a deadline not reached yet). */
  unavailable?: string;
  fields?: Field[];
  run(values: Record<string, string>): Promise<unknown>;
}

export interface Kit {
  /** The shell's action bar: a button per action, each opening its form. */
  actions(list: Action[]): HTMLElement;
  /** A toast in the shell's live region. */
  say(message: string, kind?: "ok" | "error"): void;
  /** Reloads the current view. */
  reload(): Promise<void>;
  /** Tells the shell the request id of the write just sent (shown in its confirmation). */
  sent(requestId: string): void;
  table(head: string[], rows: Node[][], empty: string): HTMLElement;
  link(hash: string, text: string): HTMLAnchorElement;
  options(e: Record<string | number, string | number>, skip?: number[]): [string, string][];
  /** Why the account may not trade now, if it may not. */
  restriction(me: admin.Account): string | undefined;
}

/**
 * A request id for one form: the same id while the request is the same (a second click, a retry after the
 * connection dropped), so the server applies it once; a new one when the person changed what is sent.
 */
export function stableRequestId(): (payload: unknown) => string {
  let key = "";
  let id = "";
  return (payload) => {
    const k = JSON.stringify(payload, (_, v: unknown) => (typeof v === "bigint" ? v.toString() : v));
    if (k !== key) {
      key = k;
      id = newRequestId();
    }
    return id;
  };
}
