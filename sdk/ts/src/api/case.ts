// The generated messages, enums and service of tradeassure.case.v1 (from gen/ts): an order's case timeline.
export * from "../gen/tradeassure/case/v1/case_pb.js";
export * from "../gen/tradeassure/case/v1/case_service_pb.js";
