import type { MessageInitShape } from "@bufbuild/protobuf";
import { Code, ConnectError, type CallOptions, type Client } from "@connectrpc/connect";
import type { Event } from "./gen/tradeassure/event/v1/event_pb.js";
import type {
  EventService,
  ListEventsRequestSchema,
  WatchEventsRequestSchema,
} from "./gen/tradeassure/event/v1/event_service_pb.js";
import { asError, isNetworkFailure } from "./errors.js";
import { backoffMs, defaultRetryPolicy, retryAfterMs, sleep, type RetryPolicy } from "./interceptors.js";

/**
 * Iterates over every item of a paged list: calls list with the request, yields the items of the
 * response, and calls again with pageToken set to the response's nextPageToken until that is empty. The
 * request's filters and pageSize apply to every page; the request object is not modified. A failed call
 * is thrown from the iteration; breaking out of the loop stops fetching.
 *
 * @example
 * for await (const p of paginate(client.orders.listPayments, { orderId }, (res) => res.payments)) { … }
 */
export async function* paginate<Req extends { pageToken?: string }, Res extends { nextPageToken: string }, T>(
  list: (request: Req, options?: CallOptions) => Promise<Res>,
  request: NoInfer<Req>,
  items: (response: Res) => readonly T[],
  options?: CallOptions,
): AsyncGenerator<T> {
  let page: Req = { ...request };
  for (;;) {
    const res = await list(page, options);
    yield* items(res);
    if (res.nextPageToken === "") {
      return;
    }
    page = { ...page, pageToken: res.nextPageToken };
  }
}

/** Iterates over the events after request.afterId that exist now, oldest first. */
export async function* allEvents(
  events: Client<typeof EventService>,
  request: MessageInitShape<typeof ListEventsRequestSchema>,
  options?: CallOptions,
): AsyncGenerator<Event> {
  let afterId = request.afterId ?? "";
  for (;;) {
    const res = await events.listEvents({ ...request, afterId }, options);
    yield* res.events;
    if (res.events.length === 0 || res.nextAfterId === afterId) {
      return;
    }
    afterId = res.nextAfterId;
  }
}

/** Options of follow. */
export interface FollowOptions {
  /** Stops following; the iteration then ends without an error. */
  signal?: AbortSignal;
  /** The backoff between reconnections; default the client's retry policy. */
  retry?: RetryPolicy;
  /** Called with each heartbeat (a message without an event), for example to show the feed is alive. */
  onHeartbeat?: () => void;
  /** Called with the failure before each reconnection. */
  onReconnect?: (err: unknown) => void;
}

/** Codes that another connection cannot cure. */
const permanentCodes = new Set<Code>([
  Code.Unauthenticated,
  Code.PermissionDenied,
  Code.InvalidArgument,
  Code.NotFound,
  Code.FailedPrecondition,
  Code.Unimplemented,
]);

/**
 * Streams the events after request.afterId, then every new one as it is committed. Heartbeats are
 * skipped; when the stream breaks (the server restarts, a proxy cuts an idle connection) it reconnects
 * after the last event yielded, with backoff, so no event is lost or repeated. A failure another attempt
 * cannot fix (a bad key, a bad cursor) is thrown as a TradeassureError. Aborting options.signal, or
 * breaking out of the loop, closes the stream.
 */
export async function* follow(
  events: Client<typeof EventService>,
  request: MessageInitShape<typeof WatchEventsRequestSchema>,
  options: FollowOptions = {},
): AsyncGenerator<Event> {
  const policy = options.retry ?? defaultRetryPolicy;
  const cursor = { ...request, afterId: request.afterId ?? "" };
  let failures = 0;
  let hint = 0;
  while (!options.signal?.aborted) {
    // Each connection has its own controller, so leaving the loop closes the stream at once.
    const ctl = new AbortController();
    const stop = () => ctl.abort();
    options.signal?.addEventListener("abort", stop, { once: true });
    try {
      for await (const res of events.watchEvents(cursor, { signal: ctl.signal })) {
        failures = 0;
        if (res.event === undefined) {
          options.onHeartbeat?.();
          continue;
        }
        cursor.afterId = res.event.id;
        yield res.event;
      }
    } catch (err) {
      if (options.signal?.aborted) {
        return;
      }
      hint = retryAfterMs(err);
      const code = err instanceof ConnectError ? err.code : undefined;
      if (code !== undefined && permanentCodes.has(code) && !isNetworkFailure(err)) {
        throw asError(err);
      }
      options.onReconnect?.(err);
    } finally {
      options.signal?.removeEventListener("abort", stop);
      ctl.abort();
    }
    failures++;
    await sleep(Math.max(backoffMs(policy, Math.min(failures, 16)), 50, hint), options.signal);
    hint = 0;
  }
}
