// The generated messages, enums and service of tradeassure.dispute.v1 (from gen/ts).
export * from "../gen/tradeassure/dispute/v1/dispute_pb.js";
export * from "../gen/tradeassure/dispute/v1/dispute_service_pb.js";
