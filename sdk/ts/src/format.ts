import { timestampDate, type Timestamp } from "@bufbuild/protobuf/wkt";
import type { Money } from "./gen/tradeassure/common/v1/common_pb.js";

/** Returns how many minor units a currency's major unit has (2 for USD, 0 for JPY). */
export function minorDigits(currency: string): number {
  try {
    return new Intl.NumberFormat("en", { style: "currency", currency }).resolvedOptions().maximumFractionDigits ?? 2;
  } catch {
    return 2;
  }
}

/**
 * Formats money for people, exactly (no floating point): `formatMoney({amountMinor: 267500n, currency:
 * "USD"})` is "2,675.00 USD". Undefined money is "—".
 */
export function formatMoney(m: Pick<Money, "amountMinor" | "currency"> | undefined): string {
  if (m === undefined) {
    return "—";
  }
  const digits = minorDigits(m.currency);
  const minor = BigInt(m.amountMinor);
  const negative = minor < 0n;
  const abs = negative ? -minor : minor;
  const scale = 10n ** BigInt(digits);
  const major = (abs / scale).toString().replace(/\B(?=(\d{3})+(?!\d))/g, ",");
  const fraction = digits > 0 ? "." + (abs % scale).toString().padStart(digits, "0") : "";
  return `${negative ? "-" : ""}${major}${fraction} ${m.currency}`;
}

/**
 * Parses an amount a person typed ("12.50", "1,200") into minor units of a currency; undefined when it is
 * not a non-negative amount with at most the currency's digits.
 */
export function parseMoney(text: string, currency: string): bigint | undefined {
  const digits = minorDigits(currency);
  const t = text.trim().replace(/,/g, "");
  const m = /^(\d+)(?:\.(\d*))?$/.exec(t);
  if (m === null || (m[2] ?? "").length > digits) {
    return undefined;
  }
  return BigInt(m[1] ?? "0") * 10n ** BigInt(digits) + BigInt((m[2] ?? "").padEnd(digits, "0") || "0");
}

/** The time left until a deadline. */
export interface TimeLeft {
  /** Milliseconds until the deadline; negative once it passed. */
  readonly ms: number;
  /** True once the deadline passed. */
  readonly passed: boolean;
  /** For people: "2d 03:04:05 left", "03:04:05 left", or "passed 1d 02:00:00 ago". */
  readonly text: string;
}

/** Returns the time left until a deadline timestamp, at now (default the local clock). */
export function timeLeft(deadline: Timestamp | Date, now: Date = new Date()): TimeLeft {
  const at = deadline instanceof Date ? deadline : timestampDate(deadline);
  const ms = at.getTime() - now.getTime();
  const abs = Math.abs(ms);
  const s = Math.floor(abs / 1000);
  const days = Math.floor(s / 86400);
  const hms = [Math.floor((s % 86400) / 3600), Math.floor((s % 3600) / 60), s % 60]
    .map((n) => String(n).padStart(2, "0"))
    .join(":");
  const span = (days > 0 ? `${days}d ` : "") + hms;
  return { ms, passed: ms <= 0, text: ms > 0 ? `${span} left` : `passed ${span} ago` };
}
