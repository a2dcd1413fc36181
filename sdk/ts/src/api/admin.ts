// The generated messages, enums and service of tradeassure.admin.v1 (from gen/ts).
export * from "../gen/tradeassure/admin/v1/account_pb.js";
export * from "../gen/tradeassure/admin/v1/admin_service_pb.js";
