// Package email holds the one way the service compares email addresses. Accounts store their email in
// this form, and every lookup or comparison normalises the address it was given the same way, so a buyer
// named as "Jane.Doe@Example.com" is the account registered as "jane.doe@example.com" and a second account
// that differs only in case is refused as taken.
package email

import "strings"

// Normalize is an address as accounts store it: surrounding white space removed and lower-cased.
// Lower-casing the local part too is a deliberate choice: the platform treats addresses that differ only in
// case as one (as nearly every mail provider does), rather than let two accounts look alike.
func Normalize(address string) string { return strings.ToLower(strings.TrimSpace(address)) }

// Equal reports whether two addresses are the same once normalised.
func Equal(a, b string) bool { return Normalize(a) == Normalize(b) }
