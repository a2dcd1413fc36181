// The generated messages, enums and service of tradeassure.complaint.v1 (from gen/ts).
export * from "../gen/tradeassure/complaint/v1/complaint_pb.js";
export * from "../gen/tradeassure/complaint/v1/complaint_service_pb.js";
