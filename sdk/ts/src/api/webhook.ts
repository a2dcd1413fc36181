// The generated messages, enums and service of tradeassure.webhook.v1 (from gen/ts).
export * from "../gen/tradeassure/webhook/v1/webhook_pb.js";
export * from "../gen/tradeassure/webhook/v1/webhook_service_pb.js";
