// Package bounds holds the bounds on what a client may send and enforces the ones the schema cannot say.
//
// The schema (proto/) bounds every string, repeated field, 64-bit integer, amount and timestamp a request
// can carry with protovalidate rules; the constants below are the same numbers for Go code (the domain's
// overflow-checked money arithmetic, package money, bounds every amount by MaxAmountMinor), and the
// package's tests check that the schema and the constants agree. Validator enforces, for every string and
// timestamp of every request, the rules no annotation can state — no control characters, well-formed
// timestamps — by walking every message, so they cannot be forgotten on a new field.
package bounds

import "time"

// Character budgets of the string classes in the schema. Each string field belongs to one class; the
// numbers are far above what a real client sends and low enough that no request can grow large through
// one field. Keys (ids, request ids, etags, page tokens) are also bounded in bytes, because they are
// compared and stored byte for byte (a request id is stored in a column of RequestIDLen bytes).
const (
	// IDLen bounds a resource or account id ("ord_" and a UUID is 40 characters), in characters and bytes.
	IDLen = 64
	// LedgerKeyLen bounds a ledger account id or transfer cause id, which embed an owner's id.
	LedgerKeyLen = 128
	// RequestIDLen bounds an idempotency key, in characters and bytes.
	RequestIDLen = 128
	// EtagLen bounds an entity tag, in characters and bytes.
	EtagLen = 64
	// PageTokenLen bounds a page token, in characters and bytes.
	PageTokenLen = 2000
	// EventCursorLen bounds an event id used as a cursor: the digits of an int64.
	EventCursorLen = 19
	// EmailLen bounds an email address (the longest a mail path allows).
	EmailLen = 254
	// NameLen bounds a name or a one-line label: a display name, product name, carrier or recipient.
	NameLen = 200
	// ReferenceLen bounds an external reference: a tracking number, bank account or reference, card token.
	ReferenceLen = 128
	// URILen bounds the address of an evidence file.
	URILen = 2048
	// TextLen bounds free text a person writes: a note, a description, a reason.
	TextLen = 4000
	// LongTextLen bounds the longer statements: complaint descriptions and statements, rulings and
	// decisions, the note of an agreed refund.
	LongTextLen = 8000
)

// Bounds of repeated fields.
const (
	// MaxOrderLines is the most lines an order has; a line index is below it.
	MaxOrderLines = 200
	// MaxEvidence is the most evidence items one request attaches.
	MaxEvidence = 20
)

// Bounds of amounts and quantities. Every amount a client sends is at most MaxAmountMinor minor units
// (100 billion USD) and at least zero, and every quantity at most MaxLineQuantity, so that a product of a
// quantity and a unit price, or a sum of an order's amounts, can be checked for overflow against a bound
// that int64 arithmetic reaches only far above it.
const (
	// MaxAmountMinor is the largest amount, in minor units, of any money field in a request (1e13).
	MaxAmountMinor int64 = 10_000_000_000_000
	// MaxLineQuantity is the largest quantity of an order line, a returned or disputed line, or a count of
	// received units.
	MaxLineQuantity int64 = 1_000_000
)

// The window of every timestamp a client sends: on or after MinTime and before MaxTime. It is far inside
// what RFC 3339 and proto JSON can print (years 0001–9999), so a stored time, and any deadline the service
// derives from it, always serialises.
var (
	MinTime = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)
	MaxTime = time.Date(2200, 1, 1, 0, 0, 0, 0, time.UTC)
)
