import { Code, ConnectError } from "@connectrpc/connect";
import { ErrorDetailSchema, ErrorReason } from "./gen/tradeassure/common/v1/common_pb.js";

/** One input field that was wrong and why. */
export interface FieldViolation {
  /** The field path, for example "terms.shipping_address.phone". */
  readonly field: string;
  /** What is wrong, for a person. */
  readonly description: string;
}

/**
 * A failed call with what the service says about it: the code, the message for people, and the
 * machine-readable reason, metadata and field violations of its `tradeassure.common.v1.ErrorDetail`.
 * Switch on `reason`, not on the message. Get one with {@link asError}.
 */
export class TradeassureError extends Error {
  /** The Connect (gRPC) status code. */
  readonly code: Code;
  /** The code's name in snake case, for example "failed_precondition". */
  readonly codeName: string;
  /** The service's explanation, for people. */
  readonly rawMessage: string;
  /** The machine-readable reason; `ErrorReason.UNSPECIFIED` when the failure did not come from the service. */
  readonly reason: ErrorReason;
  /** The reason's name, for example "ETAG_MISMATCH"; empty when unspecified. */
  readonly reasonName: string;
  /** Facts about the failure, for example `{ limit_usd_minor: "500000" }`. */
  readonly metadata: Readonly<Record<string, string>>;
  /** The input fields that were wrong. */
  readonly fieldViolations: readonly FieldViolation[];
  /** The underlying Connect error. */
  override readonly cause: ConnectError;

  constructor(err: ConnectError) {
    const [detail] = err.findDetails(ErrorDetailSchema);
    const reason = detail?.reason ?? ErrorReason.UNSPECIFIED;
    const reasonName = reason === ErrorReason.UNSPECIFIED ? "" : (ErrorReason[reason] ?? String(reason));
    const metadata: Record<string, string> = { ...(detail?.metadata ?? {}) };
    const fieldViolations = (detail?.fieldViolations ?? []).map((v) => ({ field: v.field, description: v.description }));
    const codeName = codeToName(err.code);
    let text = codeName + (reasonName ? " " + reasonName : "") + (err.rawMessage ? ": " + err.rawMessage : "");
    const extra = [
      ...fieldViolations.map((v) => `${v.field}: ${v.description}`),
      ...Object.keys(metadata)
        .sort()
        .map((k) => `${k}=${metadata[k]}`),
    ];
    if (extra.length > 0) {
      text += ` (${extra.join("; ")})`;
    }
    super(text, { cause: err });
    this.name = "TradeassureError";
    this.code = err.code;
    this.codeName = codeName;
    this.rawMessage = err.rawMessage;
    this.reason = reason;
    this.reasonName = reasonName;
    this.metadata = metadata;
    this.fieldViolations = fieldViolations;
    this.cause = err;
  }
}

/**
 * Returns the typed error for anything a client call threw: a `ConnectError` (with or without an
 * ErrorDetail), a `TradeassureError`, or a network failure (code `unknown` or `unavailable`). Returns
 * undefined for undefined and null.
 */
export function asError(err: unknown): TradeassureError | undefined {
  if (err === undefined || err === null) {
    return undefined;
  }
  if (err instanceof TradeassureError) {
    return err;
  }
  return new TradeassureError(ConnectError.from(err, isNetworkFailure(err) ? Code.Unavailable : Code.Unknown));
}

/** Returns the machine-readable reason of a failure, or `ErrorReason.UNSPECIFIED`. */
export function reasonOf(err: unknown): ErrorReason {
  return asError(err)?.reason ?? ErrorReason.UNSPECIFIED;
}

/** Returns a code's name in snake case, as the Connect protocol spells it: "invalid_argument". */
export function codeToName(code: Code): string {
  const name = Code[code];
  if (name === undefined) {
    return String(code);
  }
  return name.replace(/([a-z])([A-Z])/g, "$1_$2").toLowerCase();
}

/**
 * Reports whether err is a failure to reach the server at all (fetch's TypeError, a refused or reset
 * connection), which is as transient as an Unavailable answer.
 */
export function isNetworkFailure(err: unknown): boolean {
  let e: unknown = err;
  for (let depth = 0; depth < 4 && e instanceof Error; depth++) {
    if (e instanceof ConnectError && e.code !== Code.Unknown && e.code !== Code.Internal) {
      return false;
    }
    if (e instanceof TypeError) {
      return true;
    }
    const code = (e as { code?: unknown }).code;
    if (typeof code === "string" && /^(ECONNREFUSED|ECONNRESET|EPIPE|ETIMEDOUT|EHOSTUNREACH|ENOTFOUND|UND_ERR_SOCKET)$/.test(code)) {
      return true;
    }
    e = e.cause;
  }
  return false;
}
