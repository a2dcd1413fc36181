-- Disable the enforcement of foreign-keys constraints
PRAGMA foreign_keys = off;
-- Create "new_orders" table
CREATE TABLE `new_orders` (`id` text NOT NULL, `create_time` datetime NOT NULL, `update_time` datetime NOT NULL, `revision` integer NOT NULL DEFAULT (1), `etag` text NOT NULL, `policy` text NOT NULL, `policy_version` text NOT NULL, `state` text NOT NULL, `supplier_id` text NOT NULL, `buyer_id` text NOT NULL, `buyer_email` text NOT NULL, `currency` text NOT NULL, `terms` blob NOT NULL, `goods_minor` integer NOT NULL, `total_minor` integer NOT NULL, `advance_minor` integer NOT NULL, `paid_minor` integer NOT NULL DEFAULT (0), `refunded_minor` integer NOT NULL DEFAULT (0), `total_usd_minor` integer NOT NULL, `rates_version` text NOT NULL DEFAULT ('2026-11-01'), `covered_minor` integer NOT NULL, `requires_export_agent` bool NOT NULL DEFAULT (false), `awaiting_supplier` bool NOT NULL DEFAULT (false), `buyer_change_request` text NOT NULL DEFAULT (''), `pending_change` blob NULL, `shipment` blob NULL, `cancellation` blob NULL, `payment_pending` bool NOT NULL DEFAULT (false), `escrow_holds` integer NOT NULL DEFAULT (0), `ship_by_time` datetime NOT NULL, `deliver_time` datetime NULL, `complete_time` datetime NULL, `close_time` datetime NULL, `auto_confirm_deadline` datetime NULL, `after_sales_deadline` datetime NULL, PRIMARY KEY (`id`));
-- Copy rows from old table "orders" to new temporary table "new_orders"
INSERT INTO `new_orders` (`id`, `create_time`, `update_time`, `revision`, `etag`, `policy`, `policy_version`, `state`, `supplier_id`, `buyer_id`, `buyer_email`, `currency`, `terms`, `goods_minor`, `total_minor`, `advance_minor`, `paid_minor`, `refunded_minor`, `total_usd_minor`, `covered_minor`, `requires_export_agent`, `awaiting_supplier`, `buyer_change_request`, `pending_change`, `shipment`, `cancellation`, `payment_pending`, `escrow_holds`, `ship_by_time`, `deliver_time`, `complete_time`, `close_time`, `auto_confirm_deadline`, `after_sales_deadline`) SELECT `id`, `create_time`, `update_time`, `revision`, `etag`, `policy`, `policy_version`, `state`, `supplier_id`, `buyer_id`, `buyer_email`, `currency`, `terms`, `goods_minor`, `total_minor`, `advance_minor`, `paid_minor`, `refunded_minor`, `total_usd_minor`, `covered_minor`, `requires_export_agent`, `awaiting_supplier`, `buyer_change_request`, `pending_change`, `shipment`, `cancellation`, `payment_pending`, `escrow_holds`, `ship_by_time`, `deliver_time`, `complete_time`, `close_time`, `auto_confirm_deadline`, `after_sales_deadline` FROM `orders`;
-- Drop "orders" table after copying rows
DROP TABLE `orders`;
-- Rename temporary table "new_orders" to "orders"
ALTER TABLE `new_orders` RENAME TO `orders`;
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
-- Create "policy_sets" table
CREATE TABLE `policy_sets` (`id` text NOT NULL, `revision` integer NOT NULL DEFAULT (1), `etag` text NOT NULL, `programme` text NOT NULL, `derived_from` text NOT NULL DEFAULT (''), `create_time` datetime NOT NULL, PRIMARY KEY (`id`));
-- Create "policy_versions" table
CREATE TABLE `policy_versions` (`id` text NOT NULL, `set_name` text NOT NULL, `programme` text NOT NULL, `version` text NOT NULL, `effective_time` datetime NOT NULL, `parameters` blob NOT NULL, `create_time` datetime NOT NULL, PRIMARY KEY (`id`));
-- Create index "policyversion_programme_version" to table: "policy_versions"
CREATE UNIQUE INDEX `policyversion_programme_version` ON `policy_versions` (`programme`, `version`);
-- Create index "policyversion_set_name_effective_time" to table: "policy_versions"
CREATE INDEX `policyversion_set_name_effective_time` ON `policy_versions` (`set_name`, `effective_time`);
-- Create "rate_tables" table
CREATE TABLE `rate_tables` (`id` text NOT NULL, `effective_time` datetime NOT NULL, `rates` blob NOT NULL, `create_time` datetime NOT NULL, PRIMARY KEY (`id`));
-- Create index "ratetable_effective_time" to table: "rate_tables"
CREATE INDEX `ratetable_effective_time` ON `rate_tables` (`effective_time`);
-- Enable back the enforcement of foreign-keys constraints
PRAGMA foreign_keys = on;
