-- Add column "inline_attempt" to table: "webhook_deliveries"
ALTER TABLE `webhook_deliveries` ADD COLUMN `inline_attempt` blob NULL;
