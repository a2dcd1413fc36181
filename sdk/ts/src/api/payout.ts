// The generated messages, enums and service of tradeassure.payout.v1 (from gen/ts).
export * from "../gen/tradeassure/payout/v1/payout_pb.js";
export * from "../gen/tradeassure/payout/v1/payout_service_pb.js";
