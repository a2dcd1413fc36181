import { createRegistry, type Message } from "@bufbuild/protobuf";
import { anyUnpack } from "@bufbuild/protobuf/wkt";
import { file_tradeassure_admin_v1_account } from "./gen/tradeassure/admin/v1/account_pb.js";
import { file_tradeassure_complaint_v1_complaint } from "./gen/tradeassure/complaint/v1/complaint_pb.js";
import { file_tradeassure_dispute_v1_dispute } from "./gen/tradeassure/dispute/v1/dispute_pb.js";
import type { Event } from "./gen/tradeassure/event/v1/event_pb.js";
import { file_tradeassure_order_v1_order } from "./gen/tradeassure/order/v1/order_pb.js";
import { file_tradeassure_payout_v1_payout } from "./gen/tradeassure/payout/v1/payout_pb.js";
import { file_tradeassure_policy_v1_policy } from "./gen/tradeassure/policy/v1/policy_pb.js";
import { file_tradeassure_policy_v1_policy_service } from "./gen/tradeassure/policy/v1/policy_service_pb.js";
import { file_tradeassure_returns_v1_return } from "./gen/tradeassure/returns/v1/return_pb.js";
import { file_tradeassure_webhook_v1_webhook } from "./gen/tradeassure/webhook/v1/webhook_pb.js";

/** Every resource message of the API, for unpacking event payloads (google.protobuf.Any). */
export const registry = createRegistry(
  file_tradeassure_order_v1_order,
  file_tradeassure_returns_v1_return,
  file_tradeassure_dispute_v1_dispute,
  file_tradeassure_complaint_v1_complaint,
  file_tradeassure_payout_v1_payout,
  file_tradeassure_admin_v1_account,
  file_tradeassure_webhook_v1_webhook,
  file_tradeassure_policy_v1_policy,
  file_tradeassure_policy_v1_policy_service,
);

/**
 * Returns an event's payload, the object as it was after the change (an Order, Return, Dispute, …);
 * check it with `isMessage(p, OrderSchema)`. Undefined when there is none or its type is unknown.
 */
export function eventPayload(event: Pick<Event, "payload">): Message | undefined {
  return event.payload === undefined ? undefined : anyUnpack(event.payload, registry);
}
