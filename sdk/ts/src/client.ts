import type { MessageInitShape } from "@bufbuild/protobuf";
import {
  createClient as createServiceClient,
  type CallOptions,
  type Client,
  type Interceptor,
  type Transport,
} from "@connectrpc/connect";
import { AdminService } from "./gen/tradeassure/admin/v1/admin_service_pb.js";
import type { CaseStep } from "./gen/tradeassure/case/v1/case_pb.js";
import { CaseService, type ListCaseTimelineRequestSchema } from "./gen/tradeassure/case/v1/case_service_pb.js";
import type { Complaint } from "./gen/tradeassure/complaint/v1/complaint_pb.js";
import { ComplaintService, type ListComplaintsRequestSchema } from "./gen/tradeassure/complaint/v1/complaint_service_pb.js";
import type { Dispute } from "./gen/tradeassure/dispute/v1/dispute_pb.js";
import { DisputeService, type ListDisputesRequestSchema } from "./gen/tradeassure/dispute/v1/dispute_service_pb.js";
import type { Event } from "./gen/tradeassure/event/v1/event_pb.js";
import {
  EventService,
  type ListEventsRequestSchema,
  type WatchEventsRequestSchema,
} from "./gen/tradeassure/event/v1/event_service_pb.js";
import type { Order } from "./gen/tradeassure/order/v1/order_pb.js";
import { OrderService, type ListOrdersRequestSchema } from "./gen/tradeassure/order/v1/order_service_pb.js";
import { PayoutService } from "./gen/tradeassure/payout/v1/payout_service_pb.js";
import { PolicyService } from "./gen/tradeassure/policy/v1/policy_service_pb.js";
import type { Return } from "./gen/tradeassure/returns/v1/return_pb.js";
import { ReturnService, type ListReturnsRequestSchema } from "./gen/tradeassure/returns/v1/return_service_pb.js";
import { WebhookService } from "./gen/tradeassure/webhook/v1/webhook_service_pb.js";
import {
  authInterceptor,
  defaultRetryPolicy,
  newRequestId,
  requestIdRetryInterceptor,
  type RetryPolicy,
} from "./interceptors.js";
import { allEvents, follow, paginate, type FollowOptions } from "./pages.js";

/**
 * The wire protocol. "connect" (the default) and "grpc-web" work everywhere, browsers included; "grpc"
 * needs HTTP/2 and so Node: import createClient from "@tradeassure/sdk/node" for it.
 */
export type TransportKind = "connect" | "grpc-web" | "grpc";

/** Options of createClient. */
export interface ClientOptions {
  /** The wire protocol; default "connect". */
  transport?: TransportKind;
  /** The retry policy, or false for a single attempt per call. Unset fields keep their defaults. */
  retry?: Partial<RetryPolicy> | false;
  /** Makes the request ids of mutating calls that left request_id empty; default {@link newRequestId}. */
  requestId?: () => string;
  /** More interceptors; they run inside the retry loop, so they see every attempt. */
  interceptors?: Interceptor[];
  /** A timeout for every unary call, in milliseconds (a call option overrides it). */
  timeoutMs?: number;
  /** Send binary protobuf instead of JSON with the Connect protocol; default false (readable in devtools). */
  useBinaryFormat?: boolean;
  /** The fetch implementation of browser transports; default globalThis.fetch. */
  fetch?: typeof globalThis.fetch;
}

/** Clients of every tradeassure service acting as one API key, with iterators over paged lists. */
export interface TradeassureClient {
  /** Drafts, pays, ships and completes assured orders. */
  readonly orders: Client<typeof OrderService>;
  /** Handles buyers' returns and the suppliers' and warehouse's answers. */
  readonly returns: Client<typeof ReturnService>;
  /** Runs disputes: negotiation, escalation and the arbiter's ruling. */
  readonly disputes: Client<typeof DisputeService>;
  /** Handles complaints between the parties and their penalties. */
  readonly complaints: Client<typeof ComplaintService>;
  /** Shows balances and statements and runs withdrawals. */
  readonly payouts: Client<typeof PayoutService>;
  /** The change feed. */
  readonly events: Client<typeof EventService>;
  /** Accounts and keys, who the caller is, and the development-mode clock. */
  readonly admin: Client<typeof AdminService>;
  /** The caller's webhook endpoints, their deliveries, replays and secrets; verifyWebhook checks deliveries. */
  readonly webhooks: Client<typeof WebhookService>;
  /** An order's case timeline: revisions, payments, returns, disputes, complaints and money in time order. */
  readonly cases: Client<typeof CaseService>;
  /** The policy sets and exchange-rate tables as versioned data: read by anyone, published by operators. */
  readonly policies: Client<typeof PolicyService>;
  /** The transport every client uses. */
  readonly transport: Transport;
  /** The protocol the transport speaks. */
  readonly protocol: TransportKind;
  /** Every order the caller may see, newest first, following next_page_token; in the basic view (no policyParameters) unless request.view says OrderView.FULL. */
  allOrders(request?: MessageInitShape<typeof ListOrdersRequestSchema>, options?: CallOptions): AsyncGenerator<Order>;
  /** Every return the caller may see, newest first. */
  allReturns(request?: MessageInitShape<typeof ListReturnsRequestSchema>, options?: CallOptions): AsyncGenerator<Return>;
  /** Every dispute the caller may see, newest first (arbiters: state ESCALATED is their queue). */
  allDisputes(request?: MessageInitShape<typeof ListDisputesRequestSchema>, options?: CallOptions): AsyncGenerator<Dispute>;
  /** Every complaint the caller may see, newest first. */
  allComplaints(request?: MessageInitShape<typeof ListComplaintsRequestSchema>, options?: CallOptions): AsyncGenerator<Complaint>;
  /** Every step of an order's case (request.orderId), oldest first. */
  allCaseSteps(request: MessageInitShape<typeof ListCaseTimelineRequestSchema>, options?: CallOptions): AsyncGenerator<CaseStep>;
  /** The events after request.afterId that exist now, oldest first; ends when the feed has no more. */
  allEvents(request?: MessageInitShape<typeof ListEventsRequestSchema>, options?: CallOptions): AsyncGenerator<Event>;
  /**
   * Every event after request.afterId and then each new one, skipping heartbeats and reconnecting after
   * the last event on a broken stream, until options.signal aborts.
   */
  follow(request?: MessageInitShape<typeof WatchEventsRequestSchema>, options?: FollowOptions): AsyncGenerator<Event>;
}

/** Makes a transport for a protocol; the browser and Node entry points each have one. */
export type TransportFactory = (
  kind: TransportKind,
  baseUrl: string,
  interceptors: Interceptor[],
  options: ClientOptions,
) => Transport;

/** Resolves the retry option against the defaults. */
export function retryPolicy(option: ClientOptions["retry"]): RetryPolicy {
  if (option === false) {
    return { ...defaultRetryPolicy, maxAttempts: 1 };
  }
  return { ...defaultRetryPolicy, ...(option ?? {}) };
}

/** Builds the clients over a transport made by factory; the entry points' createClient call it. */
export function buildClient(
  baseUrl: string,
  apiKey: string,
  options: ClientOptions,
  factory: TransportFactory,
): TradeassureClient {
  const kind = options.transport ?? "connect";
  const policy = retryPolicy(options.retry);
  const interceptors: Interceptor[] = [
    requestIdRetryInterceptor(policy, options.requestId ?? newRequestId),
    authInterceptor(apiKey),
    ...(options.interceptors ?? []),
  ];
  const transport = factory(kind, baseUrl.replace(/\/+$/, ""), interceptors, options);
  const orders = createServiceClient(OrderService, transport);
  const returns = createServiceClient(ReturnService, transport);
  const disputes = createServiceClient(DisputeService, transport);
  const complaints = createServiceClient(ComplaintService, transport);
  const events = createServiceClient(EventService, transport);
  const cases = createServiceClient(CaseService, transport);
  return {
    orders,
    returns,
    disputes,
    complaints,
    payouts: createServiceClient(PayoutService, transport),
    events,
    admin: createServiceClient(AdminService, transport),
    webhooks: createServiceClient(WebhookService, transport),
    cases,
    policies: createServiceClient(PolicyService, transport),
    transport,
    protocol: kind,
    allOrders: (request = {}, callOptions) =>
      paginate((r, o) => orders.listOrders(r, o), request, (res) => res.orders, callOptions),
    allReturns: (request = {}, callOptions) =>
      paginate((r, o) => returns.listReturns(r, o), request, (res) => res.returns, callOptions),
    allDisputes: (request = {}, callOptions) =>
      paginate((r, o) => disputes.listDisputes(r, o), request, (res) => res.disputes, callOptions),
    allComplaints: (request = {}, callOptions) =>
      paginate((r, o) => complaints.listComplaints(r, o), request, (res) => res.complaints, callOptions),
    allCaseSteps: (request, callOptions) =>
      paginate((r, o) => cases.listCaseTimeline(r, o), request, (res) => res.steps, callOptions),
    allEvents: (request = {}, callOptions) => allEvents(events, request, callOptions),
    follow: (request = {}, followOptions) => follow(events, request, { retry: policy, ...followOptions }),
  };
}
