-- Create "webhook_attempts" table
CREATE TABLE `webhook_attempts` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `delivery_id` integer NOT NULL, `endpoint_id` text NOT NULL, `time` datetime NOT NULL, `trigger` text NOT NULL, `outcome` text NOT NULL, `http_status` integer NOT NULL DEFAULT (0), `latency_ms` integer NOT NULL DEFAULT (0), `error` text NOT NULL DEFAULT (''), `response_body` text NOT NULL DEFAULT (''));
-- Create index "webhookattempt_delivery_id_id" to table: "webhook_attempts"
CREATE INDEX `webhookattempt_delivery_id_id` ON `webhook_attempts` (`delivery_id`, `id`);
-- Create index "webhookattempt_endpoint_id" to table: "webhook_attempts"
CREATE INDEX `webhookattempt_endpoint_id` ON `webhook_attempts` (`endpoint_id`);
-- Create "webhook_deliveries" table
CREATE TABLE `webhook_deliveries` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `endpoint_id` text NOT NULL, `event_id` integer NULL, `webhook_id` text NOT NULL, `event_type` text NOT NULL, `subject_key` text NOT NULL, `seq` integer NOT NULL, `state` text NOT NULL DEFAULT ('pending'), `trigger` text NOT NULL DEFAULT ('scheduled'), `attempt_count` integer NOT NULL DEFAULT (0), `retries` integer NOT NULL DEFAULT (0), `next_attempt_time` datetime NOT NULL, `lease_token` text NOT NULL DEFAULT (''), `lease_expire_time` datetime NULL, `create_time` datetime NOT NULL, `finish_time` datetime NULL, `payload` blob NULL);
-- Create index "webhookdelivery_endpoint_id_subject_key_seq" to table: "webhook_deliveries"
CREATE UNIQUE INDEX `webhookdelivery_endpoint_id_subject_key_seq` ON `webhook_deliveries` (`endpoint_id`, `subject_key`, `seq`);
-- Create index "webhookdelivery_state_next_attempt_time" to table: "webhook_deliveries"
CREATE INDEX `webhookdelivery_state_next_attempt_time` ON `webhook_deliveries` (`state`, `next_attempt_time`);
-- Create index "webhookdelivery_endpoint_id_id" to table: "webhook_deliveries"
CREATE INDEX `webhookdelivery_endpoint_id_id` ON `webhook_deliveries` (`endpoint_id`, `id`);
-- Create "webhook_endpoints" table
CREATE TABLE `webhook_endpoints` (`id` text NOT NULL, `create_time` datetime NOT NULL, `update_time` datetime NOT NULL, `revision` integer NOT NULL DEFAULT (1), `etag` text NOT NULL, `scope` text NOT NULL, `account_id` text NOT NULL DEFAULT (''), `owner_role` text NOT NULL, `url` text NOT NULL, `description` text NOT NULL DEFAULT (''), `event_types` json NULL, `enabled` bool NOT NULL DEFAULT (true), `disabled_reason` text NOT NULL DEFAULT (''), `disable_time` datetime NULL, `secret_cipher` text NOT NULL, `secret_hint` text NOT NULL DEFAULT (''), `previous_secret_cipher` text NOT NULL DEFAULT (''), `previous_secret_expire_time` datetime NULL, `succeeded_deliveries` integer NOT NULL DEFAULT (0), `failed_deliveries` integer NOT NULL DEFAULT (0), `failed_attempts` integer NOT NULL DEFAULT (0), `last_success_time` datetime NULL, `last_failure_time` datetime NULL, `failing_since` datetime NULL, `replay_after_id` integer NOT NULL DEFAULT (0), `replay_until_id` integer NOT NULL DEFAULT (0), `replay_cursor_id` integer NOT NULL DEFAULT (0), `replay_queued` integer NOT NULL DEFAULT (0), `replay_create_time` datetime NULL, PRIMARY KEY (`id`));
-- Create index "webhookendpoint_account_id_id" to table: "webhook_endpoints"
CREATE INDEX `webhookendpoint_account_id_id` ON `webhook_endpoints` (`account_id`, `id`);
-- Create index "webhookendpoint_enabled" to table: "webhook_endpoints"
CREATE INDEX `webhookendpoint_enabled` ON `webhook_endpoints` (`enabled`);
