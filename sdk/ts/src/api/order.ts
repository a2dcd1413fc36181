// The generated messages, enums and service of tradeassure.order.v1 (from gen/ts).
export * from "../gen/tradeassure/order/v1/order_pb.js";
export * from "../gen/tradeassure/order/v1/order_service_pb.js";
