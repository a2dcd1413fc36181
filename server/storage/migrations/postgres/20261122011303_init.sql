-- Create "api_keys" table
CREATE TABLE "api_keys" ("id" character varying NOT NULL, "create_time" timestamptz NOT NULL, "update_time" timestamptz NOT NULL, "account_id" character varying NOT NULL, "name" character varying NOT NULL DEFAULT '', "prefix" character varying NOT NULL, "secret_hash" character varying NOT NULL, "revoke_time" timestamptz NULL, PRIMARY KEY ("id"));
-- Create index "api_keys_secret_hash_key" to table: "api_keys"
CREATE UNIQUE INDEX "api_keys_secret_hash_key" ON "api_keys" ("secret_hash");
-- Create index "apikey_account_id" to table: "api_keys"
CREATE INDEX "apikey_account_id" ON "api_keys" ("account_id");
-- Create "accounts" table
CREATE TABLE "accounts" ("id" character varying NOT NULL, "create_time" timestamptz NOT NULL, "update_time" timestamptz NOT NULL, "role" character varying NOT NULL, "name" character varying NOT NULL, "email" character varying NOT NULL, "country" character varying NOT NULL, "credit_score" bigint NOT NULL DEFAULT 100, "standing" character varying NOT NULL DEFAULT 'active', "restricted_until" timestamptz NULL, "trade_assurance_limit_usd_minor" bigint NOT NULL DEFAULT 0, "one_touch_export" boolean NOT NULL DEFAULT false, "bank_account" character varying NOT NULL DEFAULT '', "bank_account_verified" boolean NOT NULL DEFAULT false, "free_return_programme" boolean NOT NULL DEFAULT false, "frozen" boolean NOT NULL DEFAULT false, "sold_not_shipped_count" bigint NOT NULL DEFAULT 0, "return_address" bytea NULL, PRIMARY KEY ("id"));
-- Create index "account_role_id" to table: "accounts"
CREATE INDEX "account_role_id" ON "accounts" ("role", "id");
-- Create index "accounts_email_key" to table: "accounts"
CREATE UNIQUE INDEX "accounts_email_key" ON "accounts" ("email");
-- Create "complaints" table
CREATE TABLE "complaints" ("id" character varying NOT NULL, "create_time" timestamptz NOT NULL, "update_time" timestamptz NOT NULL, "revision" bigint NOT NULL DEFAULT 1, "etag" character varying NOT NULL, "order_id" character varying NOT NULL, "policy" character varying NOT NULL, "policy_version" character varying NOT NULL, "complainant_id" character varying NOT NULL, "complainant_role" character varying NOT NULL, "respondent_id" character varying NOT NULL, "type" character varying NOT NULL, "statement" character varying NOT NULL DEFAULT '', "evidence" bytea NULL, "statements" bytea NULL, "order_end_time" timestamptz NULL, "state" character varying NOT NULL DEFAULT 'filed', "decision_deadline" timestamptz NOT NULL, "decision_overdue" boolean NOT NULL DEFAULT false, "arbiter_id" character varying NOT NULL DEFAULT '', "decide_time" timestamptz NULL, "decision_note" character varying NOT NULL DEFAULT '', "outcome" bytea NULL, "withdraw_time" timestamptz NULL, "withdraw_note" character varying NOT NULL DEFAULT '', "close_time" timestamptz NULL, "refiled_from" character varying NULL, "refiled_as" character varying NULL, PRIMARY KEY ("id"));
-- Create index "complaint_complainant_id_id" to table: "complaints"
CREATE INDEX "complaint_complainant_id_id" ON "complaints" ("complainant_id", "id");
-- Create index "complaint_complainant_id_state_id" to table: "complaints"
CREATE INDEX "complaint_complainant_id_state_id" ON "complaints" ("complainant_id", "state", "id");
-- Create index "complaint_order_id_complainant_id_type_state" to table: "complaints"
CREATE INDEX "complaint_order_id_complainant_id_type_state" ON "complaints" ("order_id", "complainant_id", "type", "state");
-- Create index "complaint_order_id_id" to table: "complaints"
CREATE INDEX "complaint_order_id_id" ON "complaints" ("order_id", "id");
-- Create index "complaint_refiled_from" to table: "complaints"
CREATE UNIQUE INDEX "complaint_refiled_from" ON "complaints" ("refiled_from");
-- Create index "complaint_respondent_id_id" to table: "complaints"
CREATE INDEX "complaint_respondent_id_id" ON "complaints" ("respondent_id", "id");
-- Create index "complaint_respondent_id_state_id" to table: "complaints"
CREATE INDEX "complaint_respondent_id_state_id" ON "complaints" ("respondent_id", "state", "id");
-- Create index "complaint_state_decision_deadline_id" to table: "complaints"
CREATE INDEX "complaint_state_decision_deadline_id" ON "complaints" ("state", "decision_deadline", "id");
-- Create index "complaint_state_id" to table: "complaints"
CREATE INDEX "complaint_state_id" ON "complaints" ("state", "id");
-- Create "deadlines" table
CREATE TABLE "deadlines" ("id" character varying NOT NULL, "subject_type" character varying NOT NULL, "subject_id" character varying NOT NULL, "kind" character varying NOT NULL, "due_time" timestamptz NOT NULL, "state" character varying NOT NULL DEFAULT 'pending', "remaining_seconds" bigint NOT NULL DEFAULT 0, "create_time" timestamptz NOT NULL, "finish_time" timestamptz NULL, "outcome" character varying NOT NULL DEFAULT '', PRIMARY KEY ("id"));
-- Create index "deadline_state_due_time" to table: "deadlines"
CREATE INDEX "deadline_state_due_time" ON "deadlines" ("state", "due_time");
-- Create index "deadline_subject_type_subject_id_kind" to table: "deadlines"
CREATE INDEX "deadline_subject_type_subject_id_kind" ON "deadlines" ("subject_type", "subject_id", "kind");
-- Create "disputes" table
CREATE TABLE "disputes" ("id" character varying NOT NULL, "create_time" timestamptz NOT NULL, "update_time" timestamptz NOT NULL, "revision" bigint NOT NULL DEFAULT 1, "etag" character varying NOT NULL, "order_id" character varying NOT NULL, "buyer_id" character varying NOT NULL, "supplier_id" character varying NOT NULL, "policy" character varying NOT NULL, "policy_version" character varying NOT NULL, "kind" character varying NOT NULL, "state" character varying NOT NULL, "open_order_id" character varying NULL, "escalated" boolean NOT NULL DEFAULT false, "responsibility" character varying NOT NULL DEFAULT '', "related_return_id" character varying NOT NULL DEFAULT '', "close_time" timestamptz NULL, "snapshot" bytea NOT NULL, PRIMARY KEY ("id"));
-- Create index "dispute_buyer_id_id" to table: "disputes"
CREATE INDEX "dispute_buyer_id_id" ON "disputes" ("buyer_id", "id");
-- Create index "dispute_order_id_id" to table: "disputes"
CREATE INDEX "dispute_order_id_id" ON "disputes" ("order_id", "id");
-- Create index "dispute_related_return_id" to table: "disputes"
CREATE INDEX "dispute_related_return_id" ON "disputes" ("related_return_id");
-- Create index "dispute_state_id" to table: "disputes"
CREATE INDEX "dispute_state_id" ON "disputes" ("state", "id");
-- Create index "dispute_supplier_id_id" to table: "disputes"
CREATE INDEX "dispute_supplier_id_id" ON "disputes" ("supplier_id", "id");
-- Create index "disputes_open_order_id_key" to table: "disputes"
CREATE UNIQUE INDEX "disputes_open_order_id_key" ON "disputes" ("open_order_id");
-- Create "events" table
CREATE TABLE "events" ("id" bigint NOT NULL GENERATED BY DEFAULT AS IDENTITY, "type" character varying NOT NULL, "subject_type" character varying NOT NULL, "subject_id" character varying NOT NULL, "revision" bigint NOT NULL, "time" timestamptz NOT NULL, "actor_role" character varying NOT NULL, "actor_id" character varying NOT NULL DEFAULT '', "party_ids" character varying NOT NULL DEFAULT '', "payload" bytea NOT NULL, PRIMARY KEY ("id"));
-- Create index "event_subject_type_subject_id_id" to table: "events"
CREATE INDEX "event_subject_type_subject_id_id" ON "events" ("subject_type", "subject_id", "id");
-- Create "idempotency_keys" table
CREATE TABLE "idempotency_keys" ("id" bigint NOT NULL GENERATED BY DEFAULT AS IDENTITY, "principal_id" character varying NOT NULL, "procedure" character varying NOT NULL, "request_id" character varying NOT NULL, "request_hash" bytea NOT NULL, "response" bytea NOT NULL, "create_time" timestamptz NOT NULL, PRIMARY KEY ("id"));
-- Create index "idempotencykey_principal_id_procedure_request_id" to table: "idempotency_keys"
CREATE UNIQUE INDEX "idempotencykey_principal_id_procedure_request_id" ON "idempotency_keys" ("principal_id", "procedure", "request_id");
-- Create "ledger_accounts" table
CREATE TABLE "ledger_accounts" ("id" character varying NOT NULL, "create_time" timestamptz NOT NULL, "update_time" timestamptz NOT NULL, "kind" character varying NOT NULL, "owner_id" character varying NOT NULL DEFAULT '', "currency" character varying NOT NULL, "balance_minor" bigint NOT NULL DEFAULT 0, "revision" bigint NOT NULL DEFAULT 0, PRIMARY KEY ("id"));
-- Create index "ledgeraccount_kind_owner_id_currency" to table: "ledger_accounts"
CREATE UNIQUE INDEX "ledgeraccount_kind_owner_id_currency" ON "ledger_accounts" ("kind", "owner_id", "currency");
-- Create index "ledgeraccount_owner_id_id" to table: "ledger_accounts"
CREATE INDEX "ledgeraccount_owner_id_id" ON "ledger_accounts" ("owner_id", "id");
-- Create "ledger_entries" table
CREATE TABLE "ledger_entries" ("id" character varying NOT NULL, "transfer_id" character varying NOT NULL, "leg" bigint NOT NULL DEFAULT 0, "account_id" character varying NOT NULL, "account_kind" character varying NOT NULL DEFAULT '', "seq" bigint NOT NULL DEFAULT 0, "amount_minor" bigint NOT NULL, "balance_after_minor" bigint NOT NULL, "currency" character varying NOT NULL, "cause_kind" character varying NOT NULL, "order_id" character varying NOT NULL DEFAULT '', "return_id" character varying NOT NULL DEFAULT '', "dispute_id" character varying NOT NULL DEFAULT '', "complaint_id" character varying NOT NULL DEFAULT '', "withdrawal_id" character varying NOT NULL DEFAULT '', "time" timestamptz NOT NULL, PRIMARY KEY ("id"));
-- Create index "ledgerentry_account_id_seq" to table: "ledger_entries"
CREATE UNIQUE INDEX "ledgerentry_account_id_seq" ON "ledger_entries" ("account_id", "seq");
-- Create index "ledgerentry_transfer_id" to table: "ledger_entries"
CREATE INDEX "ledgerentry_transfer_id" ON "ledger_entries" ("transfer_id");
-- Create "ledger_transfers" table
CREATE TABLE "ledger_transfers" ("id" character varying NOT NULL, "cause_kind" character varying NOT NULL, "cause_id" character varying NOT NULL, "currency" character varying NOT NULL, "amount_minor" bigint NOT NULL, "memo" character varying NOT NULL DEFAULT '', "time" timestamptz NOT NULL, "order_id" character varying NOT NULL DEFAULT '', "return_id" character varying NOT NULL DEFAULT '', "dispute_id" character varying NOT NULL DEFAULT '', "complaint_id" character varying NOT NULL DEFAULT '', "withdrawal_id" character varying NOT NULL DEFAULT '', PRIMARY KEY ("id"));
-- Create index "ledgertransfer_cause_kind_cause_id" to table: "ledger_transfers"
CREATE UNIQUE INDEX "ledgertransfer_cause_kind_cause_id" ON "ledger_transfers" ("cause_kind", "cause_id");
-- Create index "ledgertransfer_currency_id" to table: "ledger_transfers"
CREATE INDEX "ledgertransfer_currency_id" ON "ledger_transfers" ("currency", "id");
-- Create index "ledgertransfer_order_id_id" to table: "ledger_transfers"
CREATE INDEX "ledgertransfer_order_id_id" ON "ledger_transfers" ("order_id", "id");
-- Create "orders" table
CREATE TABLE "orders" ("id" character varying NOT NULL, "create_time" timestamptz NOT NULL, "update_time" timestamptz NOT NULL, "revision" bigint NOT NULL DEFAULT 1, "etag" character varying NOT NULL, "policy" character varying NOT NULL, "policy_version" character varying NOT NULL, "state" character varying NOT NULL, "supplier_id" character varying NOT NULL, "buyer_id" character varying NOT NULL, "buyer_email" character varying NOT NULL, "currency" character varying NOT NULL, "terms" bytea NOT NULL, "goods_minor" bigint NOT NULL, "total_minor" bigint NOT NULL, "advance_minor" bigint NOT NULL, "paid_minor" bigint NOT NULL DEFAULT 0, "refunded_minor" bigint NOT NULL DEFAULT 0, "total_usd_minor" bigint NOT NULL, "covered_minor" bigint NOT NULL, "requires_export_agent" boolean NOT NULL DEFAULT false, "awaiting_supplier" boolean NOT NULL DEFAULT false, "buyer_change_request" character varying NOT NULL DEFAULT '', "pending_change" bytea NULL, "shipment" bytea NULL, "cancellation" bytea NULL, "payment_pending" boolean NOT NULL DEFAULT false, "escrow_holds" bigint NOT NULL DEFAULT 0, "ship_by_time" timestamptz NOT NULL, "deliver_time" timestamptz NULL, "complete_time" timestamptz NULL, "close_time" timestamptz NULL, "auto_confirm_deadline" timestamptz NULL, "after_sales_deadline" timestamptz NULL, PRIMARY KEY ("id"));
-- Create index "order_buyer_id_id" to table: "orders"
CREATE INDEX "order_buyer_id_id" ON "orders" ("buyer_id", "id");
-- Create index "order_buyer_id_state_id" to table: "orders"
CREATE INDEX "order_buyer_id_state_id" ON "orders" ("buyer_id", "state", "id");
-- Create index "order_state_id" to table: "orders"
CREATE INDEX "order_state_id" ON "orders" ("state", "id");
-- Create index "order_supplier_id_id" to table: "orders"
CREATE INDEX "order_supplier_id_id" ON "orders" ("supplier_id", "id");
-- Create index "order_supplier_id_state_id" to table: "orders"
CREATE INDEX "order_supplier_id_state_id" ON "orders" ("supplier_id", "state", "id");
-- Create "order_revisions" table
CREATE TABLE "order_revisions" ("id" bigint NOT NULL GENERATED BY DEFAULT AS IDENTITY, "order_id" character varying NOT NULL, "revision" bigint NOT NULL, "change" character varying NOT NULL, "actor_role" character varying NOT NULL, "actor_id" character varying NOT NULL DEFAULT '', "time" timestamptz NOT NULL, "snapshot" bytea NOT NULL, PRIMARY KEY ("id"));
-- Create index "orderrevision_order_id_revision" to table: "order_revisions"
CREATE UNIQUE INDEX "orderrevision_order_id_revision" ON "order_revisions" ("order_id", "revision");
-- Create "payments" table
CREATE TABLE "payments" ("id" character varying NOT NULL, "create_time" timestamptz NOT NULL, "update_time" timestamptz NOT NULL, "order_id" character varying NOT NULL, "method" character varying NOT NULL, "part" character varying NOT NULL, "amount_minor" bigint NOT NULL, "currency" character varying NOT NULL, "state" character varying NOT NULL, "failure_reason" character varying NOT NULL DEFAULT '', "finish_time" timestamptz NULL, "expected_settle_time" timestamptz NULL, PRIMARY KEY ("id"));
-- Create index "payment_order_id_id" to table: "payments"
CREATE INDEX "payment_order_id_id" ON "payments" ("order_id", "id");
-- Create "penalties" table
CREATE TABLE "penalties" ("id" character varying NOT NULL, "account_id" character varying NOT NULL, "complaint_id" character varying NOT NULL, "kind" character varying NOT NULL, "points" bigint NOT NULL DEFAULT 0, "end_time" timestamptz NULL, "note" character varying NOT NULL DEFAULT '', "time" timestamptz NOT NULL, PRIMARY KEY ("id"));
-- Create index "penalty_account_id_id" to table: "penalties"
CREATE INDEX "penalty_account_id_id" ON "penalties" ("account_id", "id");
-- Create index "penalty_complaint_id" to table: "penalties"
CREATE INDEX "penalty_complaint_id" ON "penalties" ("complaint_id");
-- Create "products" table
CREATE TABLE "products" ("id" character varying NOT NULL, "create_time" timestamptz NOT NULL, "update_time" timestamptz NOT NULL, "supplier_id" character varying NOT NULL, "name" character varying NOT NULL, "currency" character varying NOT NULL, "unit_price_minor" bigint NOT NULL, PRIMARY KEY ("id"));
-- Create index "product_supplier_id_id" to table: "products"
CREATE INDEX "product_supplier_id_id" ON "products" ("supplier_id", "id");
-- Create "return_requests" table
CREATE TABLE "return_requests" ("id" character varying NOT NULL, "create_time" timestamptz NOT NULL, "update_time" timestamptz NOT NULL, "revision" bigint NOT NULL DEFAULT 1, "etag" character varying NOT NULL, "order_id" character varying NOT NULL, "buyer_id" character varying NOT NULL, "supplier_id" character varying NOT NULL, "policy" character varying NOT NULL, "policy_version" character varying NOT NULL, "kind" character varying NOT NULL, "origin" character varying NOT NULL, "state" character varying NOT NULL, "reason" character varying NULL, "description" character varying NOT NULL DEFAULT '', "evidence" jsonb NULL, "lines" jsonb NOT NULL, "whole_order" boolean NOT NULL DEFAULT false, "order_receipt_time" timestamptz NOT NULL, "source_dispute_id" character varying NOT NULL DEFAULT '', "receipt_dispute_id" character varying NOT NULL DEFAULT '', "escrow_held" boolean NOT NULL DEFAULT false, "held_minor" bigint NOT NULL DEFAULT 0, "supplier_answer_deadline" timestamptz NULL, "approve_time" timestamptz NULL, "approved_by_role" character varying NOT NULL DEFAULT '', "approved_by_id" character varying NOT NULL DEFAULT '', "decline_reason" character varying NOT NULL DEFAULT '', "decline_note" character varying NOT NULL DEFAULT '', "offered_refund_minor" bigint NOT NULL DEFAULT 0, "offer_note" character varying NOT NULL DEFAULT '', "return_address" bytea NULL, "ship_deadline" timestamptz NULL, "carrier" character varying NOT NULL DEFAULT '', "tracking_number" character varying NOT NULL DEFAULT '', "ship_time" timestamptz NULL, "receipt_deadline" timestamptz NULL, "receive_time" timestamptz NULL, "receipt_note" character varying NOT NULL DEFAULT '', "inspected_by" character varying NOT NULL DEFAULT '', "inspection_result" character varying NULL, "inspection_note" character varying NOT NULL DEFAULT '', "compensation_minor" bigint NOT NULL DEFAULT 0, "compensation_deadline" timestamptz NULL, "compensate_time" timestamptz NULL, "currency" character varying NOT NULL, "goods_minor" bigint NOT NULL DEFAULT 0, "freight_minor" bigint NOT NULL DEFAULT 0, "insurance_minor" bigint NOT NULL DEFAULT 0, "shipping_deduction_minor" bigint NOT NULL DEFAULT 0, "cap_deduction_minor" bigint NOT NULL DEFAULT 0, "refund_total_minor" bigint NOT NULL DEFAULT 0, "kept_goods" boolean NOT NULL DEFAULT false, "refunded_minor" bigint NOT NULL DEFAULT 0, "refund_time" timestamptz NULL, "close_time" timestamptz NULL, PRIMARY KEY ("id"));
-- Create index "returnrequest_buyer_id_id" to table: "return_requests"
CREATE INDEX "returnrequest_buyer_id_id" ON "return_requests" ("buyer_id", "id");
-- Create index "returnrequest_buyer_id_state_id" to table: "return_requests"
CREATE INDEX "returnrequest_buyer_id_state_id" ON "return_requests" ("buyer_id", "state", "id");
-- Create index "returnrequest_kind_state_id" to table: "return_requests"
CREATE INDEX "returnrequest_kind_state_id" ON "return_requests" ("kind", "state", "id");
-- Create index "returnrequest_order_id_id" to table: "return_requests"
CREATE INDEX "returnrequest_order_id_id" ON "return_requests" ("order_id", "id");
-- Create index "returnrequest_state_id" to table: "return_requests"
CREATE INDEX "returnrequest_state_id" ON "return_requests" ("state", "id");
-- Create index "returnrequest_supplier_id_id" to table: "return_requests"
CREATE INDEX "returnrequest_supplier_id_id" ON "return_requests" ("supplier_id", "id");
-- Create index "returnrequest_supplier_id_state_id" to table: "return_requests"
CREATE INDEX "returnrequest_supplier_id_state_id" ON "return_requests" ("supplier_id", "state", "id");
-- Create "settings" table
CREATE TABLE "settings" ("id" character varying NOT NULL, "value" character varying NOT NULL, PRIMARY KEY ("id"));
-- Create "timeline_entries" table
CREATE TABLE "timeline_entries" ("id" character varying NOT NULL, "subject_type" character varying NOT NULL, "subject_id" character varying NOT NULL, "revision" bigint NOT NULL DEFAULT 0, "actor_role" character varying NOT NULL, "actor_id" character varying NOT NULL DEFAULT '', "time" timestamptz NOT NULL, "kind" character varying NOT NULL, "description" character varying NOT NULL DEFAULT '', "change" bytea NULL, PRIMARY KEY ("id"));
-- Create index "timelineentry_subject_type_subject_id_id" to table: "timeline_entries"
CREATE INDEX "timelineentry_subject_type_subject_id_id" ON "timeline_entries" ("subject_type", "subject_id", "id");
-- Create "withdrawals" table
CREATE TABLE "withdrawals" ("id" character varying NOT NULL, "create_time" timestamptz NOT NULL, "update_time" timestamptz NOT NULL, "revision" bigint NOT NULL DEFAULT 1, "etag" character varying NOT NULL, "supplier_id" character varying NOT NULL, "request_id" character varying NOT NULL, "amount_minor" bigint NOT NULL, "currency" character varying NOT NULL, "bank_account" character varying NOT NULL, "holder_name" character varying NOT NULL DEFAULT '', "bank_country" character varying NOT NULL DEFAULT '', "state" character varying NOT NULL DEFAULT 'requested', "bank_reference" character varying NOT NULL DEFAULT '', "failure_reason" character varying NOT NULL DEFAULT '', "process_time" timestamptz NULL, "expected_settle_earliest_time" timestamptz NULL, "expected_settle_time" timestamptz NULL, "overdue_time" timestamptz NULL, "finish_time" timestamptz NULL, "transfer_id" character varying NOT NULL DEFAULT '', "reversal_transfer_id" character varying NOT NULL DEFAULT '', PRIMARY KEY ("id"));
-- Create index "withdrawal_state_id" to table: "withdrawals"
CREATE INDEX "withdrawal_state_id" ON "withdrawals" ("state", "id");
-- Create index "withdrawal_supplier_id_id" to table: "withdrawals"
CREATE INDEX "withdrawal_supplier_id_id" ON "withdrawals" ("supplier_id", "id");
-- Create index "withdrawal_supplier_id_request_id" to table: "withdrawals"
CREATE UNIQUE INDEX "withdrawal_supplier_id_request_id" ON "withdrawals" ("supplier_id", "request_id");
-- Create index "withdrawal_supplier_id_state_id" to table: "withdrawals"
CREATE INDEX "withdrawal_supplier_id_state_id" ON "withdrawals" ("supplier_id", "state", "id");
