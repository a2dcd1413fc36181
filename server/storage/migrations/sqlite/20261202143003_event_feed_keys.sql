-- Disable the enforcement of foreign-keys constraints
PRAGMA foreign_keys = off;
-- Create "new_events" table
CREATE TABLE `new_events` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `type` text NOT NULL, `subject_type` text NOT NULL, `subject_id` text NOT NULL, `revision` integer NOT NULL, `time` datetime NOT NULL, `actor_role` text NOT NULL, `actor_id` text NOT NULL DEFAULT (''), `party_ids` text NOT NULL DEFAULT (''), `payload` blob NOT NULL, `feed_key` integer NOT NULL DEFAULT (0));
-- Copy rows from old table "events" to new temporary table "new_events"
INSERT INTO `new_events` (`id`, `type`, `subject_type`, `subject_id`, `revision`, `time`, `actor_role`, `actor_id`, `party_ids`, `payload`) SELECT `id`, `type`, `subject_type`, `subject_id`, `revision`, `time`, `actor_role`, `actor_id`, `party_ids`, `payload` FROM `events`;
-- Drop "events" table after copying rows
DROP TABLE `events`;
-- Rename temporary table "new_events" to "events"
ALTER TABLE `new_events` RENAME TO `events`;
-- Create index "event_subject_type_subject_id_id" to table: "events"
CREATE INDEX `event_subject_type_subject_id_id` ON `events` (`subject_type`, `subject_id`, `id`);
-- Create index "event_feed_key_id" to table: "events"
CREATE INDEX `event_feed_key_id` ON `events` (`feed_key`, `id`);
-- Create index "idempotencykey_create_time" to table: "idempotency_keys"
CREATE INDEX `idempotencykey_create_time` ON `idempotency_keys` (`create_time`);
-- Create "event_parties" table
CREATE TABLE `event_parties` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `account_id` text NOT NULL, `feed_key` integer NOT NULL DEFAULT (0), `event_id` integer NOT NULL);
-- Create index "eventparty_account_id_feed_key_event_id" to table: "event_parties"
CREATE UNIQUE INDEX `eventparty_account_id_feed_key_event_id` ON `event_parties` (`account_id`, `feed_key`, `event_id`);
-- Backfill "event_parties" from the party lists of the events already stored (" a b ", split on spaces)
WITH RECURSIVE `split` (`event_id`, `rest`, `part`) AS (SELECT `id`, ltrim(`party_ids`), '' FROM `events` UNION ALL SELECT `event_id`, ltrim(substr(`rest`, instr(`rest`, ' '))), substr(`rest`, 1, instr(`rest`, ' ') - 1) FROM `split` WHERE `rest` <> '' AND instr(`rest`, ' ') > 0) INSERT OR IGNORE INTO `event_parties` (`account_id`, `feed_key`, `event_id`) SELECT `part`, 0, `event_id` FROM `split` WHERE `part` <> '';
-- Enable back the enforcement of foreign-keys constraints
PRAGMA foreign_keys = on;
