// The generated messages, enums and service of tradeassure.common.v1 (from gen/ts).
export * from "../gen/tradeassure/common/v1/common_pb.js";
