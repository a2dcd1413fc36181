-- Disable the enforcement of foreign-keys constraints
PRAGMA foreign_keys = off;
-- Create "new_idempotency_keys" table
CREATE TABLE `new_idempotency_keys` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `principal_id` text NOT NULL, `procedure` text NOT NULL, `request_id` text NOT NULL, `request_hash` blob NOT NULL, `response` blob NOT NULL, `response_ref` text NOT NULL DEFAULT (''), `create_time` datetime NOT NULL);
-- Copy rows from old table "idempotency_keys" to new temporary table "new_idempotency_keys"
INSERT INTO `new_idempotency_keys` (`id`, `principal_id`, `procedure`, `request_id`, `request_hash`, `response`, `create_time`) SELECT `id`, `principal_id`, `procedure`, `request_id`, `request_hash`, `response`, `create_time` FROM `idempotency_keys`;
-- Drop "idempotency_keys" table after copying rows
DROP TABLE `idempotency_keys`;
-- Rename temporary table "new_idempotency_keys" to "idempotency_keys"
ALTER TABLE `new_idempotency_keys` RENAME TO `idempotency_keys`;
-- Create index "idempotencykey_principal_id_procedure_request_id" to table: "idempotency_keys"
CREATE UNIQUE INDEX `idempotencykey_principal_id_procedure_request_id` ON `idempotency_keys` (`principal_id`, `procedure`, `request_id`);
-- Create index "idempotencykey_create_time" to table: "idempotency_keys"
CREATE INDEX `idempotencykey_create_time` ON `idempotency_keys` (`create_time`);
-- Enable back the enforcement of foreign-keys constraints
PRAGMA foreign_keys = on;
