-- Modify "orders" table
ALTER TABLE "orders" ADD COLUMN "rates_version" character varying NOT NULL DEFAULT '2026-11-01';
-- Create "policy_sets" table
CREATE TABLE "policy_sets" ("id" character varying NOT NULL, "revision" bigint NOT NULL DEFAULT 1, "etag" character varying NOT NULL, "programme" character varying NOT NULL, "derived_from" character varying NOT NULL DEFAULT '', "create_time" timestamptz NOT NULL, PRIMARY KEY ("id"));
-- Create "policy_versions" table
CREATE TABLE "policy_versions" ("id" character varying NOT NULL, "set_name" character varying NOT NULL, "programme" character varying NOT NULL, "version" character varying NOT NULL, "effective_time" timestamptz NOT NULL, "parameters" bytea NOT NULL, "create_time" timestamptz NOT NULL, PRIMARY KEY ("id"));
-- Create index "policyversion_programme_version" to table: "policy_versions"
CREATE UNIQUE INDEX "policyversion_programme_version" ON "policy_versions" ("programme", "version");
-- Create index "policyversion_set_name_effective_time" to table: "policy_versions"
CREATE INDEX "policyversion_set_name_effective_time" ON "policy_versions" ("set_name", "effective_time");
-- Create "rate_tables" table
CREATE TABLE "rate_tables" ("id" character varying NOT NULL, "effective_time" timestamptz NOT NULL, "rates" bytea NOT NULL, "create_time" timestamptz NOT NULL, PRIMARY KEY ("id"));
-- Create index "ratetable_effective_time" to table: "rate_tables"
CREATE INDEX "ratetable_effective_time" ON "rate_tables" ("effective_time");
