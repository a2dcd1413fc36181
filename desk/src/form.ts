// A form of the order-work screens: labelled inputs each with its rule (a hint) and a slot for what is
// wrong with it — the desk's own check before sending, or the server's field violation after — found by
// the API's field path ("terms.shipping_address.phone"), and one submit that is disabled in flight.
import { h, problem, type Child } from "./ui.js";

export type Input = HTMLInputElement | HTMLSelectElement | HTMLTextAreaElement;

export interface Slot {
  input: Input;
  error: HTMLElement;
  /** The rule in words, shown instead of a validator's pattern message. */
  rule: string;
}

let seq = 0;

export class Form {
  readonly el: HTMLFormElement;
  readonly alert = h("div", { class: "error", role: "alert" });
  private slots = new Map<string, Slot>();

  constructor(name: string, attrs: Record<string, string> = {}) {
    this.el = h("form", { class: "card form", "aria-label": name, novalidate: "", ...attrs });
  }

  /** Makes a labelled control for an API field path; returns its wrapper. */
  control(path: string, text: string, input: Input, rule = "", ...extra: Child[]): HTMLElement {
    const id = "c" + ++seq + "-" + path.replace(/[^a-z0-9]+/gi, "-");
    input.id = id;
    if (!input.getAttribute("name")) input.setAttribute("name", path);
    const hint = h("p", { class: "hint", id: id + "-hint" }, rule);
    const error = h("p", { class: "error field-error", id: id + "-error" });
    input.setAttribute("aria-describedby", `${id}-hint ${id}-error`);
    this.slots.set(path, { input, error, rule });
    return h("div", { class: "control" }, h("label", { for: id }, text), input, hint, error, ...extra);
  }

  /** Forgets a field path (its control was removed). */
  drop(prefix: string): void {
    for (const k of [...this.slots.keys()]) if (k === prefix || k.startsWith(prefix + ".") || k.startsWith(prefix + "[")) this.slots.delete(k);
  }

  slot(path: string): Slot | undefined {
    return this.slots.get(path) ?? this.slots.get(path.replace(/\[\d+\]$/, ""));
  }

  /** Shows what is wrong, by field path; clears every other field. Unknown paths go to the alert. */
  mark(problems: Map<string, string>, loose: string[] = []): void {
    for (const [, s] of this.slots) {
      s.error.textContent = "";
      s.input.removeAttribute("aria-invalid");
    }
    for (const [path, text] of problems) {
      const s = this.slot(path);
      if (s) {
        s.error.textContent = text;
        s.input.setAttribute("aria-invalid", "true");
      } else loose.push(text);
    }
  }

  /** Shows a refusal from the server: its message, each field violation next to its field, the raw reason in small print. */
  refused(err: unknown): void {
    const p = problem(err);
    const byField = new Map<string, string>();
    const loose: string[] = [];
    for (const v of p.fields) {
      const s = this.slot(v.field);
      // A validator's pattern message ("value does not match regex …") says less than the field's rule.
      const text = s && /regex|pattern/i.test(v.description) && s.rule ? s.rule : v.description;
      if (s) byField.set(v.field, text);
      else loose.push(v.description.charAt(0).toUpperCase() + v.description.slice(1));
    }
    this.mark(byField);
    this.alert.replaceChildren(h("p", {}, p.message), ...loose.map((l) => h("p", {}, l)), h("p", { class: "muted" }, `(${p.reason})`));
    const first = [...byField.keys()].map((k) => this.slot(k)?.input).find((x) => x);
    first?.focus();
  }

  /** Runs a submit: the button disabled and saying so while in flight, the alert cleared first. */
  async submit(button: HTMLButtonElement, busy: string, run: () => Promise<void>): Promise<void> {
    const text = button.textContent ?? "";
    button.disabled = true;
    button.textContent = busy;
    this.alert.replaceChildren();
    try {
      await run();
    } catch (e) {
      this.refused(e);
    } finally {
      button.disabled = false;
      button.textContent = text;
    }
  }
}

export function input(attrs: Record<string, string> = {}, value = ""): HTMLInputElement {
  const i = h("input", { type: "text", ...attrs });
  i.value = value;
  return i;
}

export function select(choices: [string, string][], value = ""): HTMLSelectElement {
  const s = h("select", {});
  for (const [v, l] of choices) s.append(h("option", { value: v }, l));
  if (value) s.value = value;
  return s;
}

export function textarea(value = ""): HTMLTextAreaElement {
  const t = h("textarea", { rows: "3" });
  t.value = value;
  return t;
}
