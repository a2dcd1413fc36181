// The generated messages, enums and service of tradeassure.returns.v1 (from gen/ts).
export * from "../gen/tradeassure/returns/v1/return_pb.js";
export * from "../gen/tradeassure/returns/v1/return_service_pb.js";
