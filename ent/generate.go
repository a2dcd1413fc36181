// Package ent holds the storage schema (ent/schema, hand-written) and the code ent generates from it.
package ent

//go:generate go tool ent generate --feature sql/versioned-migration,sql/lock,sql/upsert,sql/execquery,intercept --template ./template ./schema
