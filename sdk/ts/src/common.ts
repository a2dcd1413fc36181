// The parts of the SDK shared by the browser and Node entry points.
export { Code, ConnectError } from "@connectrpc/connect";
export type { CallOptions, Client, Interceptor, Transport } from "@connectrpc/connect";
export { create, clone, isMessage, toJson, fromJson, toJsonString } from "@bufbuild/protobuf";
export type { MessageInitShape, MessageShape } from "@bufbuild/protobuf";
export { timestampDate, timestampFromDate, timestampNow, type Timestamp } from "@bufbuild/protobuf/wkt";

export * as admin from "./api/admin.js";
export * as common from "./api/common.js";
export * as complaint from "./api/complaint.js";
export * as dispute from "./api/dispute.js";
export * as event from "./api/event.js";
export * as order from "./api/order.js";
export * as payout from "./api/payout.js";
export * as policy from "./api/policy.js";
export * as returns from "./api/returns.js";
export * as webhook from "./api/webhook.js";
// "case" is a reserved word, so the case timeline's namespace is "cases".
export * as cases from "./api/case.js";
export { ErrorReason } from "./gen/tradeassure/common/v1/common_pb.js";

export { asError, codeToName, isNetworkFailure, reasonOf, TradeassureError, type FieldViolation } from "./errors.js";
export {
  authInterceptor,
  backoffMs,
  defaultRetryPolicy,
  isRetryable,
  newRequestId,
  requestIdRetryInterceptor,
  retryAfterMs,
  type RetryPolicy,
} from "./interceptors.js";
export { allEvents, follow, paginate, type FollowOptions } from "./pages.js";
export { buildClient, retryPolicy, type ClientOptions, type TradeassureClient, type TransportFactory, type TransportKind } from "./client.js";
export { formatMoney, minorDigits, parseMoney, timeLeft, type TimeLeft } from "./format.js";
export { eventPayload, registry } from "./payload.js";
export {
  DEFAULT_WEBHOOK_TOLERANCE_SECONDS,
  verifyWebhook,
  WebhookVerificationError,
  type WebhookErrorKind,
  type WebhookHeaders,
} from "./webhook.js";
