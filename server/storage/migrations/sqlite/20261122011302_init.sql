-- Create "api_keys" table
CREATE TABLE `api_keys` (`id` text NOT NULL, `create_time` datetime NOT NULL, `update_time` datetime NOT NULL, `account_id` text NOT NULL, `name` text NOT NULL DEFAULT (''), `prefix` text NOT NULL, `secret_hash` text NOT NULL, `revoke_time` datetime NULL, PRIMARY KEY (`id`));
-- Create index "api_keys_secret_hash_key" to table: "api_keys"
CREATE UNIQUE INDEX `api_keys_secret_hash_key` ON `api_keys` (`secret_hash`);
-- Create index "apikey_account_id" to table: "api_keys"
CREATE INDEX `apikey_account_id` ON `api_keys` (`account_id`);
-- Create "accounts" table
CREATE TABLE `accounts` (`id` text NOT NULL, `create_time` datetime NOT NULL, `update_time` datetime NOT NULL, `role` text NOT NULL, `name` text NOT NULL, `email` text NOT NULL, `country` text NOT NULL, `credit_score` integer NOT NULL DEFAULT (100), `standing` text NOT NULL DEFAULT ('active'), `restricted_until` datetime NULL, `trade_assurance_limit_usd_minor` integer NOT NULL DEFAULT (0), `one_touch_export` bool NOT NULL DEFAULT (false), `bank_account` text NOT NULL DEFAULT (''), `bank_account_verified` bool NOT NULL DEFAULT (false), `free_return_programme` bool NOT NULL DEFAULT (false), `frozen` bool NOT NULL DEFAULT (false), `sold_not_shipped_count` integer NOT NULL DEFAULT (0), `return_address` blob NULL, PRIMARY KEY (`id`));
-- Create index "accounts_email_key" to table: "accounts"
CREATE UNIQUE INDEX `accounts_email_key` ON `accounts` (`email`);
-- Create index "account_role_id" to table: "accounts"
CREATE INDEX `account_role_id` ON `accounts` (`role`, `id`);
-- Create "complaints" table
CREATE TABLE `complaints` (`id` text NOT NULL, `create_time` datetime NOT NULL, `update_time` datetime NOT NULL, `revision` integer NOT NULL DEFAULT (1), `etag` text NOT NULL, `order_id` text NOT NULL, `policy` text NOT NULL, `policy_version` text NOT NULL, `complainant_id` text NOT NULL, `complainant_role` text NOT NULL, `respondent_id` text NOT NULL, `type` text NOT NULL, `statement` text NOT NULL DEFAULT (''), `evidence` blob NULL, `statements` blob NULL, `order_end_time` datetime NULL, `state` text NOT NULL DEFAULT ('filed'), `decision_deadline` datetime NOT NULL, `decision_overdue` bool NOT NULL DEFAULT (false), `arbiter_id` text NOT NULL DEFAULT (''), `decide_time` datetime NULL, `decision_note` text NOT NULL DEFAULT (''), `outcome` blob NULL, `withdraw_time` datetime NULL, `withdraw_note` text NOT NULL DEFAULT (''), `close_time` datetime NULL, `refiled_from` text NULL, `refiled_as` text NULL, PRIMARY KEY (`id`));
-- Create index "complaint_complainant_id_id" to table: "complaints"
CREATE INDEX `complaint_complainant_id_id` ON `complaints` (`complainant_id`, `id`);
-- Create index "complaint_respondent_id_id" to table: "complaints"
CREATE INDEX `complaint_respondent_id_id` ON `complaints` (`respondent_id`, `id`);
-- Create index "complaint_complainant_id_state_id" to table: "complaints"
CREATE INDEX `complaint_complainant_id_state_id` ON `complaints` (`complainant_id`, `state`, `id`);
-- Create index "complaint_respondent_id_state_id" to table: "complaints"
CREATE INDEX `complaint_respondent_id_state_id` ON `complaints` (`respondent_id`, `state`, `id`);
-- Create index "complaint_order_id_id" to table: "complaints"
CREATE INDEX `complaint_order_id_id` ON `complaints` (`order_id`, `id`);
-- Create index "complaint_state_id" to table: "complaints"
CREATE INDEX `complaint_state_id` ON `complaints` (`state`, `id`);
-- Create index "complaint_state_decision_deadline_id" to table: "complaints"
CREATE INDEX `complaint_state_decision_deadline_id` ON `complaints` (`state`, `decision_deadline`, `id`);
-- Create index "complaint_order_id_complainant_id_type_state" to table: "complaints"
CREATE INDEX `complaint_order_id_complainant_id_type_state` ON `complaints` (`order_id`, `complainant_id`, `type`, `state`);
-- Create index "complaint_refiled_from" to table: "complaints"
CREATE UNIQUE INDEX `complaint_refiled_from` ON `complaints` (`refiled_from`);
-- Create "deadlines" table
CREATE TABLE `deadlines` (`id` text NOT NULL, `subject_type` text NOT NULL, `subject_id` text NOT NULL, `kind` text NOT NULL, `due_time` datetime NOT NULL, `state` text NOT NULL DEFAULT ('pending'), `remaining_seconds` integer NOT NULL DEFAULT (0), `create_time` datetime NOT NULL, `finish_time` datetime NULL, `outcome` text NOT NULL DEFAULT (''), PRIMARY KEY (`id`));
-- Create index "deadline_state_due_time" to table: "deadlines"
CREATE INDEX `deadline_state_due_time` ON `deadlines` (`state`, `due_time`);
-- Create index "deadline_subject_type_subject_id_kind" to table: "deadlines"
CREATE INDEX `deadline_subject_type_subject_id_kind` ON `deadlines` (`subject_type`, `subject_id`, `kind`);
-- Create "disputes" table
CREATE TABLE `disputes` (`id` text NOT NULL, `create_time` datetime NOT NULL, `update_time` datetime NOT NULL, `revision` integer NOT NULL DEFAULT (1), `etag` text NOT NULL, `order_id` text NOT NULL, `buyer_id` text NOT NULL, `supplier_id` text NOT NULL, `policy` text NOT NULL, `policy_version` text NOT NULL, `kind` text NOT NULL, `state` text NOT NULL, `open_order_id` text NULL, `escalated` bool NOT NULL DEFAULT (false), `responsibility` text NOT NULL DEFAULT (''), `related_return_id` text NOT NULL DEFAULT (''), `close_time` datetime NULL, `snapshot` blob NOT NULL, PRIMARY KEY (`id`));
-- Create index "disputes_open_order_id_key" to table: "disputes"
CREATE UNIQUE INDEX `disputes_open_order_id_key` ON `disputes` (`open_order_id`);
-- Create index "dispute_buyer_id_id" to table: "disputes"
CREATE INDEX `dispute_buyer_id_id` ON `disputes` (`buyer_id`, `id`);
-- Create index "dispute_supplier_id_id" to table: "disputes"
CREATE INDEX `dispute_supplier_id_id` ON `disputes` (`supplier_id`, `id`);
-- Create index "dispute_order_id_id" to table: "disputes"
CREATE INDEX `dispute_order_id_id` ON `disputes` (`order_id`, `id`);
-- Create index "dispute_state_id" to table: "disputes"
CREATE INDEX `dispute_state_id` ON `disputes` (`state`, `id`);
-- Create index "dispute_related_return_id" to table: "disputes"
CREATE INDEX `dispute_related_return_id` ON `disputes` (`related_return_id`);
-- Create "events" table
CREATE TABLE `events` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `type` text NOT NULL, `subject_type` text NOT NULL, `subject_id` text NOT NULL, `revision` integer NOT NULL, `time` datetime NOT NULL, `actor_role` text NOT NULL, `actor_id` text NOT NULL DEFAULT (''), `party_ids` text NOT NULL DEFAULT (''), `payload` blob NOT NULL);
-- Create index "event_subject_type_subject_id_id" to table: "events"
CREATE INDEX `event_subject_type_subject_id_id` ON `events` (`subject_type`, `subject_id`, `id`);
-- Create "idempotency_keys" table
CREATE TABLE `idempotency_keys` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `principal_id` text NOT NULL, `procedure` text NOT NULL, `request_id` text NOT NULL, `request_hash` blob NOT NULL, `response` blob NOT NULL, `create_time` datetime NOT NULL);
-- Create index "idempotencykey_principal_id_procedure_request_id" to table: "idempotency_keys"
CREATE UNIQUE INDEX `idempotencykey_principal_id_procedure_request_id` ON `idempotency_keys` (`principal_id`, `procedure`, `request_id`);
-- Create "ledger_accounts" table
CREATE TABLE `ledger_accounts` (`id` text NOT NULL, `create_time` datetime NOT NULL, `update_time` datetime NOT NULL, `kind` text NOT NULL, `owner_id` text NOT NULL DEFAULT (''), `currency` text NOT NULL, `balance_minor` integer NOT NULL DEFAULT (0), `revision` integer NOT NULL DEFAULT (0), PRIMARY KEY (`id`));
-- Create index "ledgeraccount_kind_owner_id_currency" to table: "ledger_accounts"
CREATE UNIQUE INDEX `ledgeraccount_kind_owner_id_currency` ON `ledger_accounts` (`kind`, `owner_id`, `currency`);
-- Create index "ledgeraccount_owner_id_id" to table: "ledger_accounts"
CREATE INDEX `ledgeraccount_owner_id_id` ON `ledger_accounts` (`owner_id`, `id`);
-- Create "ledger_entries" table
CREATE TABLE `ledger_entries` (`id` text NOT NULL, `transfer_id` text NOT NULL, `leg` integer NOT NULL DEFAULT (0), `account_id` text NOT NULL, `account_kind` text NOT NULL DEFAULT (''), `seq` integer NOT NULL DEFAULT (0), `amount_minor` integer NOT NULL, `balance_after_minor` integer NOT NULL, `currency` text NOT NULL, `cause_kind` text NOT NULL, `order_id` text NOT NULL DEFAULT (''), `return_id` text NOT NULL DEFAULT (''), `dispute_id` text NOT NULL DEFAULT (''), `complaint_id` text NOT NULL DEFAULT (''), `withdrawal_id` text NOT NULL DEFAULT (''), `time` datetime NOT NULL, PRIMARY KEY (`id`));
-- Create index "ledgerentry_account_id_seq" to table: "ledger_entries"
CREATE UNIQUE INDEX `ledgerentry_account_id_seq` ON `ledger_entries` (`account_id`, `seq`);
-- Create index "ledgerentry_transfer_id" to table: "ledger_entries"
CREATE INDEX `ledgerentry_transfer_id` ON `ledger_entries` (`transfer_id`);
-- Create "ledger_transfers" table
CREATE TABLE `ledger_transfers` (`id` text NOT NULL, `cause_kind` text NOT NULL, `cause_id` text NOT NULL, `currency` text NOT NULL, `amount_minor` integer NOT NULL, `memo` text NOT NULL DEFAULT (''), `time` datetime NOT NULL, `order_id` text NOT NULL DEFAULT (''), `return_id` text NOT NULL DEFAULT (''), `dispute_id` text NOT NULL DEFAULT (''), `complaint_id` text NOT NULL DEFAULT (''), `withdrawal_id` text NOT NULL DEFAULT (''), PRIMARY KEY (`id`));
-- Create index "ledgertransfer_cause_kind_cause_id" to table: "ledger_transfers"
CREATE UNIQUE INDEX `ledgertransfer_cause_kind_cause_id` ON `ledger_transfers` (`cause_kind`, `cause_id`);
-- Create index "ledgertransfer_order_id_id" to table: "ledger_transfers"
CREATE INDEX `ledgertransfer_order_id_id` ON `ledger_transfers` (`order_id`, `id`);
-- Create index "ledgertransfer_currency_id" to table: "ledger_transfers"
CREATE INDEX `ledgertransfer_currency_id` ON `ledger_transfers` (`currency`, `id`);
-- Create "orders" table
CREATE TABLE `orders` (`id` text NOT NULL, `create_time` datetime NOT NULL, `update_time` datetime NOT NULL, `revision` integer NOT NULL DEFAULT (1), `etag` text NOT NULL, `policy` text NOT NULL, `policy_version` text NOT NULL, `state` text NOT NULL, `supplier_id` text NOT NULL, `buyer_id` text NOT NULL, `buyer_email` text NOT NULL, `currency` text NOT NULL, `terms` blob NOT NULL, `goods_minor` integer NOT NULL, `total_minor` integer NOT NULL, `advance_minor` integer NOT NULL, `paid_minor` integer NOT NULL DEFAULT (0), `refunded_minor` integer NOT NULL DEFAULT (0), `total_usd_minor` integer NOT NULL, `covered_minor` integer NOT NULL, `requires_export_agent` bool NOT NULL DEFAULT (false), `awaiting_supplier` bool NOT NULL DEFAULT (false), `buyer_change_request` text NOT NULL DEFAULT (''), `pending_change` blob NULL, `shipment` blob NULL, `cancellation` blob NULL, `payment_pending` bool NOT NULL DEFAULT (false), `escrow_holds` integer NOT NULL DEFAULT (0), `ship_by_time` datetime NOT NULL, `deliver_time` datetime NULL, `complete_time` datetime NULL, `close_time` datetime NULL, `auto_confirm_deadline` datetime NULL, `after_sales_deadline` datetime NULL, PRIMARY KEY (`id`));
-- Create index "order_buyer_id_id" to table: "orders"
CREATE INDEX `order_buyer_id_id` ON `orders` (`buyer_id`, `id`);
-- Create index "order_supplier_id_id" to table: "orders"
CREATE INDEX `order_supplier_id_id` ON `orders` (`supplier_id`, `id`);
-- Create index "order_buyer_id_state_id" to table: "orders"
CREATE INDEX `order_buyer_id_state_id` ON `orders` (`buyer_id`, `state`, `id`);
-- Create index "order_supplier_id_state_id" to table: "orders"
CREATE INDEX `order_supplier_id_state_id` ON `orders` (`supplier_id`, `state`, `id`);
-- Create index "order_state_id" to table: "orders"
CREATE INDEX `order_state_id` ON `orders` (`state`, `id`);
-- Create "order_revisions" table
CREATE TABLE `order_revisions` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `order_id` text NOT NULL, `revision` integer NOT NULL, `change` text NOT NULL, `actor_role` text NOT NULL, `actor_id` text NOT NULL DEFAULT (''), `time` datetime NOT NULL, `snapshot` blob NOT NULL);
-- Create index "orderrevision_order_id_revision" to table: "order_revisions"
CREATE UNIQUE INDEX `orderrevision_order_id_revision` ON `order_revisions` (`order_id`, `revision`);
-- Create "payments" table
CREATE TABLE `payments` (`id` text NOT NULL, `create_time` datetime NOT NULL, `update_time` datetime NOT NULL, `order_id` text NOT NULL, `method` text NOT NULL, `part` text NOT NULL, `amount_minor` integer NOT NULL, `currency` text NOT NULL, `state` text NOT NULL, `failure_reason` text NOT NULL DEFAULT (''), `finish_time` datetime NULL, `expected_settle_time` datetime NULL, PRIMARY KEY (`id`));
-- Create index "payment_order_id_id" to table: "payments"
CREATE INDEX `payment_order_id_id` ON `payments` (`order_id`, `id`);
-- Create "penalties" table
CREATE TABLE `penalties` (`id` text NOT NULL, `account_id` text NOT NULL, `complaint_id` text NOT NULL, `kind` text NOT NULL, `points` integer NOT NULL DEFAULT (0), `end_time` datetime NULL, `note` text NOT NULL DEFAULT (''), `time` datetime NOT NULL, PRIMARY KEY (`id`));
-- Create index "penalty_account_id_id" to table: "penalties"
CREATE INDEX `penalty_account_id_id` ON `penalties` (`account_id`, `id`);
-- Create index "penalty_complaint_id" to table: "penalties"
CREATE INDEX `penalty_complaint_id` ON `penalties` (`complaint_id`);
-- Create "products" table
CREATE TABLE `products` (`id` text NOT NULL, `create_time` datetime NOT NULL, `update_time` datetime NOT NULL, `supplier_id` text NOT NULL, `name` text NOT NULL, `currency` text NOT NULL, `unit_price_minor` integer NOT NULL, PRIMARY KEY (`id`));
-- Create index "product_supplier_id_id" to table: "products"
CREATE INDEX `product_supplier_id_id` ON `products` (`supplier_id`, `id`);
-- Create "return_requests" table
CREATE TABLE `return_requests` (`id` text NOT NULL, `create_time` datetime NOT NULL, `update_time` datetime NOT NULL, `revision` integer NOT NULL DEFAULT (1), `etag` text NOT NULL, `order_id` text NOT NULL, `buyer_id` text NOT NULL, `supplier_id` text NOT NULL, `policy` text NOT NULL, `policy_version` text NOT NULL, `kind` text NOT NULL, `origin` text NOT NULL, `state` text NOT NULL, `reason` text NULL, `description` text NOT NULL DEFAULT (''), `evidence` json NULL, `lines` json NOT NULL, `whole_order` bool NOT NULL DEFAULT (false), `order_receipt_time` datetime NOT NULL, `source_dispute_id` text NOT NULL DEFAULT (''), `receipt_dispute_id` text NOT NULL DEFAULT (''), `escrow_held` bool NOT NULL DEFAULT (false), `held_minor` integer NOT NULL DEFAULT (0), `supplier_answer_deadline` datetime NULL, `approve_time` datetime NULL, `approved_by_role` text NOT NULL DEFAULT (''), `approved_by_id` text NOT NULL DEFAULT (''), `decline_reason` text NOT NULL DEFAULT (''), `decline_note` text NOT NULL DEFAULT (''), `offered_refund_minor` integer NOT NULL DEFAULT (0), `offer_note` text NOT NULL DEFAULT (''), `return_address` blob NULL, `ship_deadline` datetime NULL, `carrier` text NOT NULL DEFAULT (''), `tracking_number` text NOT NULL DEFAULT (''), `ship_time` datetime NULL, `receipt_deadline` datetime NULL, `receive_time` datetime NULL, `receipt_note` text NOT NULL DEFAULT (''), `inspected_by` text NOT NULL DEFAULT (''), `inspection_result` text NULL, `inspection_note` text NOT NULL DEFAULT (''), `compensation_minor` integer NOT NULL DEFAULT (0), `compensation_deadline` datetime NULL, `compensate_time` datetime NULL, `currency` text NOT NULL, `goods_minor` integer NOT NULL DEFAULT (0), `freight_minor` integer NOT NULL DEFAULT (0), `insurance_minor` integer NOT NULL DEFAULT (0), `shipping_deduction_minor` integer NOT NULL DEFAULT (0), `cap_deduction_minor` integer NOT NULL DEFAULT (0), `refund_total_minor` integer NOT NULL DEFAULT (0), `kept_goods` bool NOT NULL DEFAULT (false), `refunded_minor` integer NOT NULL DEFAULT (0), `refund_time` datetime NULL, `close_time` datetime NULL, PRIMARY KEY (`id`));
-- Create index "returnrequest_buyer_id_id" to table: "return_requests"
CREATE INDEX `returnrequest_buyer_id_id` ON `return_requests` (`buyer_id`, `id`);
-- Create index "returnrequest_supplier_id_id" to table: "return_requests"
CREATE INDEX `returnrequest_supplier_id_id` ON `return_requests` (`supplier_id`, `id`);
-- Create index "returnrequest_buyer_id_state_id" to table: "return_requests"
CREATE INDEX `returnrequest_buyer_id_state_id` ON `return_requests` (`buyer_id`, `state`, `id`);
-- Create index "returnrequest_supplier_id_state_id" to table: "return_requests"
CREATE INDEX `returnrequest_supplier_id_state_id` ON `return_requests` (`supplier_id`, `state`, `id`);
-- Create index "returnrequest_order_id_id" to table: "return_requests"
CREATE INDEX `returnrequest_order_id_id` ON `return_requests` (`order_id`, `id`);
-- Create index "returnrequest_kind_state_id" to table: "return_requests"
CREATE INDEX `returnrequest_kind_state_id` ON `return_requests` (`kind`, `state`, `id`);
-- Create index "returnrequest_state_id" to table: "return_requests"
CREATE INDEX `returnrequest_state_id` ON `return_requests` (`state`, `id`);
-- Create "settings" table
CREATE TABLE `settings` (`id` text NOT NULL, `value` text NOT NULL, PRIMARY KEY (`id`));
-- Create "timeline_entries" table
CREATE TABLE `timeline_entries` (`id` text NOT NULL, `subject_type` text NOT NULL, `subject_id` text NOT NULL, `revision` integer NOT NULL DEFAULT (0), `actor_role` text NOT NULL, `actor_id` text NOT NULL DEFAULT (''), `time` datetime NOT NULL, `kind` text NOT NULL, `description` text NOT NULL DEFAULT (''), `change` blob NULL, PRIMARY KEY (`id`));
-- Create index "timelineentry_subject_type_subject_id_id" to table: "timeline_entries"
CREATE INDEX `timelineentry_subject_type_subject_id_id` ON `timeline_entries` (`subject_type`, `subject_id`, `id`);
-- Create "withdrawals" table
CREATE TABLE `withdrawals` (`id` text NOT NULL, `create_time` datetime NOT NULL, `update_time` datetime NOT NULL, `revision` integer NOT NULL DEFAULT (1), `etag` text NOT NULL, `supplier_id` text NOT NULL, `request_id` text NOT NULL, `amount_minor` integer NOT NULL, `currency` text NOT NULL, `bank_account` text NOT NULL, `holder_name` text NOT NULL DEFAULT (''), `bank_country` text NOT NULL DEFAULT (''), `state` text NOT NULL DEFAULT ('requested'), `bank_reference` text NOT NULL DEFAULT (''), `failure_reason` text NOT NULL DEFAULT (''), `process_time` datetime NULL, `expected_settle_earliest_time` datetime NULL, `expected_settle_time` datetime NULL, `overdue_time` datetime NULL, `finish_time` datetime NULL, `transfer_id` text NOT NULL DEFAULT (''), `reversal_transfer_id` text NOT NULL DEFAULT (''), PRIMARY KEY (`id`));
-- Create index "withdrawal_supplier_id_request_id" to table: "withdrawals"
CREATE UNIQUE INDEX `withdrawal_supplier_id_request_id` ON `withdrawals` (`supplier_id`, `request_id`);
-- Create index "withdrawal_supplier_id_id" to table: "withdrawals"
CREATE INDEX `withdrawal_supplier_id_id` ON `withdrawals` (`supplier_id`, `id`);
-- Create index "withdrawal_supplier_id_state_id" to table: "withdrawals"
CREATE INDEX `withdrawal_supplier_id_state_id` ON `withdrawals` (`supplier_id`, `state`, `id`);
-- Create index "withdrawal_state_id" to table: "withdrawals"
CREATE INDEX `withdrawal_state_id` ON `withdrawals` (`state`, `id`);
