// The generated messages, enums and service of tradeassure.event.v1 (from gen/ts).
export * from "../gen/tradeassure/event/v1/event_pb.js";
export * from "../gen/tradeassure/event/v1/event_service_pb.js";
