-- Drop index "deadline_state_due_time" from table: "deadlines"
DROP INDEX "deadline_state_due_time";
-- Create index "deadline_state_due_time_id" to table: "deadlines"
CREATE INDEX "deadline_state_due_time_id" ON "deadlines" ("state", "due_time", "id");
