-- Modify "idempotency_keys" table
ALTER TABLE "idempotency_keys" ADD COLUMN "response_ref" character varying NOT NULL DEFAULT '';
