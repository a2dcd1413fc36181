import { clone, ScalarType, type DescField, type DescMessage, type Message } from "@bufbuild/protobuf";
import { MethodOptions_IdempotencyLevel } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError, type Interceptor, type UnaryRequest } from "@connectrpc/connect";
import { asError, isNetworkFailure } from "./errors.js";

/**
 * When and how often a failed call is tried again. Only calls that are safe to repeat are retried:
 * reads (marked NO_SIDE_EFFECTS in the schema) and mutations that carry a request id (the server returns
 * the first response to a repeated id and never applies the effect twice). A mutation without a
 * request_id field, such as AdminService.AdvanceClock, is never retried.
 */
export interface RetryPolicy {
  /** The most attempts of one call, the first included; 1 turns retries off. Default 4. */
  maxAttempts: number;
  /** The wait before the second attempt, before jitter, in milliseconds. Default 100. */
  initialBackoffMs: number;
  /** The cap on the wait between attempts, in milliseconds. Default 3000. */
  maxBackoffMs: number;
  /** How the wait grows after each attempt. Default 2. */
  multiplier: number;
  /**
   * The transient codes worth another attempt. Default Unavailable, ResourceExhausted and
   * DeadlineExceeded; network failures count as Unavailable. Aborted is deliberately not a default: the
   * service uses it for a stale etag, which the same request cannot fix.
   */
  codes: readonly Code[];
  /**
   * The longest server hint honoured, in milliseconds: a failure asking the client to wait longer (a rate
   * limit's "retry_after_ms" or Retry-After) is thrown at once instead. Default 30000.
   */
  maxRetryAfterMs?: number;
}

/** The default retry policy: 4 attempts about 100, 200 and 400 ms apart. */
export const defaultRetryPolicy: Readonly<RetryPolicy> = Object.freeze({
  maxAttempts: 4,
  initialBackoffMs: 100,
  maxBackoffMs: 3000,
  multiplier: 2,
  codes: Object.freeze([Code.Unavailable, Code.ResourceExhausted, Code.DeadlineExceeded]),
});

/** Returns a new request id: "sdk-" and 32 random hex digits. */
export function newRequestId(): string {
  const bytes = new Uint8Array(16);
  globalThis.crypto.getRandomValues(bytes);
  return "sdk-" + Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** The wait after the attempt-th failed attempt (1-based): the exponential step less up to half of it at random. */
export function backoffMs(policy: RetryPolicy, attempt: number): number {
  let d = policy.initialBackoffMs * Math.pow(Math.max(policy.multiplier, 1), Math.max(attempt - 1, 0));
  d = Math.min(d, policy.maxBackoffMs);
  return d <= 0 ? 0 : d / 2 + (Math.random() * d) / 2;
}

/**
 * The wait the server asked for, in milliseconds: the ErrorDetail metadata "retry_after_ms" (sent with
 * RESOURCE_EXHAUSTED by the rate limits, beside a google.rpc.RetryInfo), else a Retry-After header in
 * seconds; 0 when it asked nothing.
 */
export function retryAfterMs(err: unknown): number {
  if (!(err instanceof ConnectError)) {
    return 0;
  }
  const ms = Number(asError(err)?.metadata["retry_after_ms"] ?? "");
  if (Number.isFinite(ms) && ms > 0) {
    return ms;
  }
  const s = Number(err.metadata.get("retry-after") ?? "");
  return Number.isFinite(s) && s > 0 ? s * 1000 : 0;
}

/**
 * The wait after the attempt-th failure with err: the backoff, or the server's hint when longer; undefined
 * when the hint is beyond maxRetryAfterMs, so retrying is pointless.
 */
export function retryWaitMs(policy: RetryPolicy, attempt: number, err: unknown): number | undefined {
  const hint = retryAfterMs(err);
  if (hint > (policy.maxRetryAfterMs ?? 30000)) {
    return undefined;
  }
  return Math.max(backoffMs(policy, attempt), hint);
}

/** Returns an interceptor that sends the API key (and nothing when it is empty). */
export function authInterceptor(apiKey: string): Interceptor {
  return (next) => async (req) => {
    if (apiKey !== "") {
      req.header.set("Authorization", "Bearer " + apiKey);
    }
    return next(req);
  };
}

/** Returns the request_id string field of a request message type, if it has one. */
function requestIdField(desc: DescMessage): DescField | undefined {
  const f = desc.fields.find((f) => f.name === "request_id");
  return f !== undefined && f.fieldKind === "scalar" && f.scalar === ScalarType.STRING ? f : undefined;
}

/** Reports whether a failure is worth another attempt under the policy. */
export function isRetryable(policy: RetryPolicy, err: unknown): boolean {
  if (isNetworkFailure(err)) {
    return policy.codes.includes(Code.Unavailable);
  }
  return err instanceof ConnectError && policy.codes.includes(err.code);
}

/**
 * Returns the interceptor that gives a mutating request without a request id one (leaving the caller's
 * message untouched), and retries a failed call that is safe to repeat, with the very same request, so
 * the same id, on every attempt.
 */
export function requestIdRetryInterceptor(policy: RetryPolicy, makeId: () => string = newRequestId): Interceptor {
  return (next) => async (req) => {
    if (req.stream) {
      // A stream is resumed by its caller (see follow()), which knows where it left off.
      return next(req);
    }
    let call: UnaryRequest = req;
    let safe = req.method.idempotency === MethodOptions_IdempotencyLevel.NO_SIDE_EFFECTS ||
      req.method.idempotency === MethodOptions_IdempotencyLevel.IDEMPOTENT;
    const field = safe ? undefined : requestIdField(req.method.input);
    if (field !== undefined) {
      const msg = req.message as Message & Record<string, unknown>;
      if (msg[field.localName] === "" || msg[field.localName] === undefined) {
        const copy = clone(req.method.input, req.message) as Message & Record<string, unknown>;
        copy[field.localName] = makeId();
        call = { ...req, message: copy };
      }
      safe = true;
    }
    for (let attempt = 1; ; attempt++) {
      try {
        return await next(call);
      } catch (err) {
        if (!safe || attempt >= policy.maxAttempts || !isRetryable(policy, err) || call.signal.aborted) {
          throw err;
        }
        const wait = retryWaitMs(policy, attempt, err);
        if (wait === undefined) {
          throw err;
        }
        await sleep(wait, call.signal);
        if (call.signal.aborted) {
          throw err;
        }
      }
    }
  };
}

/** Waits ms milliseconds, or until the signal aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) {
      resolve();
      return;
    }
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener("abort", done, { once: true });
  });
}
