// The generated messages, enums and service of tradeassure.policy.v1 (from gen/ts).
export * from "../gen/tradeassure/policy/v1/policy_pb.js";
export * from "../gen/tradeassure/policy/v1/policy_service_pb.js";
